// Compile-time queries with Boost.Hana over the kind lists.
#include <catch2/catch.hpp>

#include "../support/support.hpp"

using namespace pciplan;

TEST_CASE("carriers_of: which controller kinds can carry a connect kind", "[queries]") {
  STATIC_REQUIRE(same(carriers_of<connect::pci_endpoint>(),
                      hana::tuple_t<pci_root, spapr_pci_host_bridge, pci_bridge, dmi_to_pci_bridge, pci_expander_bus,
                                    pcie_to_pci_bridge>));
  STATIC_REQUIRE(same(carriers_of<connect::pcie_endpoint>(),
                      hana::tuple_t<pcie_root, pcie_root_port, pcie_switch_downstream_port>));
  STATIC_REQUIRE(same(carriers_of<connect::pcie_root_port>(), hana::tuple_t<pcie_root, pcie_expander_bus>));
  STATIC_REQUIRE(same(carriers_of<connect::pcie_switch_downstream_port>(), hana::tuple_t<pcie_switch_upstream_port>));
  STATIC_REQUIRE(same(carriers_of<connect::pcie_expander_bus>(), hana::tuple_t<pcie_root>));
  // properties are not kinds: nothing "carries" auto-assign
  STATIC_REQUIRE(same(carriers_of<connect::auto_assign>(), hana::tuple_t<>));
  // a narrower list can be passed
  STATIC_REQUIRE(same(carriers_of<connect::pci_endpoint>(hana::tuple_t<pcie_root, pci_bridge>),
                      hana::tuple_t<pci_bridge>));
}

TEST_CASE("auto_carriers_of: where a device is placed automatically on a machine", "[queries]") {
  STATIC_REQUIRE(same(auto_carriers_of<models::virtio_net, machines::q35>(),
                      hana::tuple_t<pcie_root_port, pcie_switch_downstream_port>));
  STATIC_REQUIRE(same(auto_carriers_of<models::e1000, machines::q35>(), hana::tuple_t<pci_bridge, pcie_to_pci_bridge>));
  STATIC_REQUIRE(same(auto_carriers_of<models::virtio_net, machines::pc>(),
                      hana::tuple_t<pci_root, pci_bridge, pci_expander_bus>));
  STATIC_REQUIRE(same(auto_carriers_of<models::virtio_iommu, machines::q35>(), hana::tuple_t<pcie_root>));
}

TEST_CASE("shortest_chain: the issue's examples (q35 + conventional PCI, pc + PCIe)", "[queries]") {
  // q35 + conventional PCI device -> pcie-root-port -> pcie-to-pci-bridge (RULES.md L2.3, L4.3)
  STATIC_REQUIRE(same(shortest_chain<models::e1000, machines::q35>(),
                      hana::just(hana::tuple_t<pcie_root_port, pcie_to_pci_bridge>)));
  // pc + PCIe device -> directly on pci-root (RULES.md L3.1: no pcie-root, so PCI flags)
  STATIC_REQUIRE(same(shortest_chain<models::e1000e, machines::pc>(), hana::just(hana::tuple_t<>)));
}

TEST_CASE("shortest_chain on every machine", "[queries]") {
  // PCIe endpoints behind one root port on PCIe machines (RULES.md L1.1: pcie-root lacks auto-assign)
  STATIC_REQUIRE(same(shortest_chain<models::virtio_net, machines::q35>(), hana::just(hana::tuple_t<pcie_root_port>)));
  STATIC_REQUIRE(same(shortest_chain<models::virtio_blk, machines::aarch64_virt>(),
                      hana::just(hana::tuple_t<pcie_root_port>)));
  STATIC_REQUIRE(same(shortest_chain<models::nvme, machines::riscv64_virt>(), hana::just(hana::tuple_t<pcie_root_port>)));
  STATIC_REQUIRE(same(shortest_chain<models::pci_serial, machines::aarch64_virt>(),
                      hana::just(hana::tuple_t<pcie_root_port, pcie_to_pci_bridge>)));  // aarch64-traditional-pci
  STATIC_REQUIRE(same(shortest_chain<models::e1000, machines::loongarch64_virt>(),
                      hana::just(hana::tuple_t<pcie_root_port, pcie_to_pci_bridge>)));
  // conventional PCI machines: directly on the root
  STATIC_REQUIRE(same(shortest_chain<models::e1000, machines::pc>(), hana::just(hana::tuple_t<>)));
  STATIC_REQUIRE(same(shortest_chain<models::virtio_net, machines::pseries>(), hana::just(hana::tuple_t<>)));
  STATIC_REQUIRE(same(shortest_chain<models::vfio_pci, machines::s390x_ccw>(), hana::just(hana::tuple_t<>)));
  // integrated endpoints: on the root bus or nowhere
  STATIC_REQUIRE(same(shortest_chain<models::virtio_iommu, machines::q35>(), hana::just(hana::tuple_t<>)));
  // no PCI at all
  STATIC_REQUIRE(same(shortest_chain<models::virtio_net, machines::microvm>(), hana::nothing));
}

TEST_CASE("shortest_chain prefers hot-pluggable buses, then list order", "[queries]") {
  // without pcie-to-pci-bridge the chain falls back to dmi-to-pci-bridge + pci-bridge (RULES.md L4.3)
  constexpr auto without_pcie_pci =
      hana::tuple_t<pcie_root, pci_bridge, dmi_to_pci_bridge, pcie_root_port, pcie_switch_upstream_port,
                    pcie_switch_downstream_port, pcie_expander_bus>;
  STATIC_REQUIRE(same(shortest_chain<models::e1000, machines::q35>(without_pcie_pci),
                      hana::just(hana::tuple_t<dmi_to_pci_bridge, pci_bridge>)));
  // with only switch parts and no root port the device is unreachable within the limit
  constexpr auto no_root_port = hana::tuple_t<pcie_switch_upstream_port, pcie_switch_downstream_port>;
  STATIC_REQUIRE(same(shortest_chain<models::virtio_net, machines::q35>(no_root_port), hana::nothing));
}
