// Fixed layouts checked at compile time: guest addresses and bus numbers (compared
// with the layouts verified in real QEMU/SeaBIOS, RULES.md O3).
#include <catch2/catch.hpp>

#include "../support/support.hpp"

using namespace pciplan;

TEST_CASE("RULES.md O3: q35, three root ports at 00:02.0-2 give buses 1, 2, 3", "[fixed_layout][oracle]") {
  constexpr auto l = make_fixed_layout<machines::q35>(
      place<pcie_root_port, "rp1">(on_root, at<2, 0>), place<pcie_root_port, "rp2">(on_root, at<2, 1>),
      place<pcie_root_port, "rp3">(on_root, at<2, 2>), place<models::virtio_net, "net">(on<"rp1">),
      place<models::virtio_blk, "blk">(on<"rp2">), place<models::virtio_scsi, "scsi">(on<"rp3">));
  STATIC_REQUIRE(l.at("net").guest_address == pci_address{0, 1, 0, 0});
  STATIC_REQUIRE(l.at("blk").guest_address == pci_address{0, 2, 0, 0});
  STATIC_REQUIRE(l.at("scsi").guest_address == pci_address{0, 3, 0, 0});
  STATIC_REQUIRE(l.at("rp1").multifunction);
  STATIC_REQUIRE_FALSE(l.at("rp2").multifunction);
  STATIC_REQUIRE(l.at("rp3").guest_bus == bus_number{3});
  STATIC_REQUIRE(l.root_bus() == "pcie.0");
}

TEST_CASE("RULES.md O3: q35 switch, root port -> upstream -> 4 downstream ports", "[fixed_layout][oracle]") {
  constexpr auto l = make_fixed_layout<machines::q35>(
      place<pcie_root_port, "rp1">(on_root, at<2>), place<pcie_switch_upstream_port, "up1">(on<"rp1">),
      place<pcie_switch_downstream_port, "dp0">(on<"up1">, at<0>),
      place<pcie_switch_downstream_port, "dp1">(on<"up1">, at<1>),
      place<pcie_switch_downstream_port, "dp2">(on<"up1">, at<2>),
      place<pcie_switch_downstream_port, "dp3">(on<"up1">, at<3>), place<models::virtio_net, "d0">(on<"dp0">),
      place<models::virtio_net, "d1">(on<"dp1">), place<models::virtio_net, "d2">(on<"dp2">),
      place<models::virtio_net, "d3">(on<"dp3">));
  // "rp1 [01-06], up1 [02-06], dp0-3 at 02:00-03.0, devices 03-06:00.0"
  STATIC_REQUIRE(l.at("rp1").guest_bus == bus_number{1});
  STATIC_REQUIRE(l.at("up1").guest_bus == bus_number{2});
  STATIC_REQUIRE(l.at("dp0").guest_address == pci_address{0, 2, 0, 0});
  STATIC_REQUIRE(l.at("dp3").guest_address == pci_address{0, 2, 3, 0});
  STATIC_REQUIRE(l.at("d0").guest_address == pci_address{0, 3, 0, 0});
  STATIC_REQUIRE(l.at("d3").guest_address == pci_address{0, 6, 0, 0});
}

TEST_CASE("RULES.md O3: q35 root port -> pcie-pci-bridge -> e1000 at slot 1 is 02:01.0", "[fixed_layout][oracle]") {
  constexpr auto l = make_fixed_layout<machines::q35>(place<pcie_root_port, "rp1">(on_root, at<2>),
                                                      place<pcie_to_pci_bridge, "br">(on<"rp1">),
                                                      place<models::e1000, "nic">(on<"br">, at<1>));
  STATIC_REQUIRE(l.at("nic").guest_address == pci_address{0, 2, 1, 0});
}

TEST_CASE("RULES.md O3: q35 pxb-pcie bus_nr=64 -> root port -> virtio-net at 41:00.0", "[fixed_layout][oracle]") {
  constexpr auto l = make_fixed_layout<machines::q35>(place<pcie_expander_bus, "pxb1">(on_root, at<5>, bus_nr<64>),
                                                      place<pcie_root_port, "rp10">(on<"pxb1">, at<0>),
                                                      place<models::virtio_net, "net">(on<"rp10">));
  STATIC_REQUIRE(l.at("pxb1").guest_address == pci_address{0, 0, 5, 0});
  STATIC_REQUIRE(l.at("rp10").guest_address == pci_address{0, 0x40, 0, 0});
  STATIC_REQUIRE(l.at("rp10").guest_bus == bus_number{0x41});
  STATIC_REQUIRE(l.at("net").guest_address == pci_address{0, 0x41, 0, 0});
}

TEST_CASE("RULES.md O3: i440fx pci-bridge at 00:03.0 with devices at 01:01.0 and 01:02.0", "[fixed_layout][oracle]") {
  constexpr auto l = make_fixed_layout<machines::pc>(
      place<pci_bridge, "br">(on_root, at<3>), place<models::e1000, "nic">(on<"br">, at<1>),
      place<models::virtio_net, "net">(on<"br">, at<2>), place<models::virtio_blk, "blk">(on_root, at<4>));
  STATIC_REQUIRE(l.at("nic").guest_address == pci_address{0, 1, 1, 0});
  STATIC_REQUIRE(l.at("net").guest_address == pci_address{0, 1, 2, 0});
  STATIC_REQUIRE(l.at("blk").guest_address == pci_address{0, 0, 4, 0});
  STATIC_REQUIRE(l.root_bus() == "pci.0");
}

TEST_CASE("RULES.md O2: a legacy pxb's devices land at bus_nr + 1, behind its internal bridge",
          "[fixed_layout][oracle]") {
  constexpr auto l = make_fixed_layout<machines::pc>(place<pci_expander_bus, "pxb">(on_root, at<3>, bus_nr<0x20>),
                                                     place<models::e1000, "nic">(on<"pxb">, at<1>),
                                                     place<pci_bridge, "br">(on<"pxb">, at<2>),
                                                     place<models::e1000, "nic2">(on<"br">, at<1>));
  STATIC_REQUIRE(l.at("pxb").guest_bus == bus_number{0x21});
  STATIC_REQUIRE(l.at("nic").guest_address == pci_address{0, 0x21, 1, 0});
  STATIC_REQUIRE(l.at("br").guest_bus == bus_number{0x22});
  STATIC_REQUIRE(l.at("nic2").guest_address == pci_address{0, 0x22, 1, 0});
}

TEST_CASE("firmware numbering is depth first in devfn order, whatever the declaration order", "[fixed_layout]") {
  constexpr auto l = make_fixed_layout<machines::q35>(
      place<pcie_root_port, "late">(on_root, at<3>), place<pcie_root_port, "early">(on_root, at<2>),
      place<pcie_to_pci_bridge, "br">(on<"early">), place<pci_bridge, "nested">(on<"br">, at<5>));
  STATIC_REQUIRE(l.at("early").guest_bus == bus_number{1});
  STATIC_REQUIRE(l.at("br").guest_bus == bus_number{2});
  STATIC_REQUIRE(l.at("nested").guest_bus == bus_number{3});
  STATIC_REQUIRE(l.at("late").guest_bus == bus_number{4});
}

TEST_CASE("given addresses follow libvirt's relaxed rules (RULES.md L1.1 rule 2, L4.10)", "[fixed_layout]") {
  // q35-pci-force-address: PCI device on a root port, PCIe device on a dmi-to-pci-bridge
  constexpr auto l = make_fixed_layout<machines::q35>(
      place<pcie_root_port, "rp1">(on_root, at<2>), place<models::e1000, "nic">(on<"rp1">),
      place<dmi_to_pci_bridge, "dmi">(on_root, at<0x1e>), place<models::e1000e, "nic2">(on<"dmi">, at<0>),
      // an endpoint written on pcie.0 is an integrated endpoint, allowed
      place<models::virtio_net, "onroot">(on<"pcie.0">, at<4>),
      // multifunction endpoints with explicit functions
      place<models::virtio_net, "mf0">(on_root, at<6, 0>), place<models::virtio_net, "mf1">(on_root, at<6, 1>),
      // integrated endpoint on the root bus
      place<models::virtio_iommu, "iommu">(on_root, at<7>));
  STATIC_REQUIRE(l.at("nic").guest_address == pci_address{0, 1, 0, 0});
  STATIC_REQUIRE(l.at("nic2").guest_address == pci_address{0, 2, 0, 0});
  STATIC_REQUIRE(l.at("mf0").multifunction);
  STATIC_REQUIRE_FALSE(l.at("mf1").multifunction);
  STATIC_REQUIRE(l.at("onroot").parent == "pcie.0");
  STATIC_REQUIRE(l.contains("iommu"));
  STATIC_REQUIRE_FALSE(l.contains("nothing"));
}

TEST_CASE("entries carry names, QEMU devices, libvirt models and parents", "[fixed_layout]") {
  constexpr auto l = make_fixed_layout<machines::aarch64_virt>(place<pcie_root_port, "rp">(on_root, at<1>),
                                                               place<models::virtio_gpu, "gpu">(on<"rp">));
  STATIC_REQUIRE(l.size() == 2);
  STATIC_REQUIRE(l.at("rp").qemu_device == "pcie-root-port");
  STATIC_REQUIRE(l.at("rp").libvirt_model == "pcie-root-port");
  STATIC_REQUIRE(l.at("rp").controller);
  STATIC_REQUIRE(l.at("rp").parent_index == -1);
  STATIC_REQUIRE(l.at("gpu").qemu_device == "virtio-gpu-pci");
  STATIC_REQUIRE(l.at("gpu").parent == "rp");
  STATIC_REQUIRE(l.at("gpu").parent_index == 0);
  STATIC_REQUIRE_FALSE(l.at("gpu").controller);
}

TEST_CASE("pseries and s390x layouts on their PCI roots", "[fixed_layout]") {
  constexpr auto p = make_fixed_layout<machines::pseries>(place<models::virtio_net, "net">(on_root, at<1>),
                                                          place<pci_bridge, "br">(on_root, at<2>),
                                                          place<models::e1000, "nic">(on<"br">, at<1>));
  STATIC_REQUIRE(p.at("nic").guest_address == pci_address{0, 1, 1, 0});
  constexpr auto z = make_fixed_layout<machines::s390x_ccw>(place<models::vfio_pci, "hostdev">(on_root, at<1>));
  STATIC_REQUIRE(z.at("hostdev").guest_address == pci_address{0, 0, 1, 0});
}
