// Users add their own controller and device kinds by specialising the traits.
#include <catch2/catch.hpp>

#include "../support/support.hpp"

namespace vendor {
struct vendor_root_port {};  // a root port model of some other QEMU build
struct fpga {};              // a PCIe accelerator
struct half_done {};         // traits that forgot members
}  // namespace vendor

template <>
struct pciplan::controller_traits<vendor::vendor_root_port> : pciplan::controller_traits<pciplan::pcie_root_port> {
  static constexpr std::array<std::string_view, 1> qemu_devices{"vendor-root-port"};
};

template <>
struct pciplan::device_traits<vendor::fpga> : pciplan::endpoint_traits<pciplan::link_kind::express> {
  static constexpr std::string_view qemu_device = "vendor-fpga";
  static constexpr pciplan::libvirt_model libvirt{"hostdev", "vfio"};
};

template <>
struct pciplan::device_traits<vendor::half_done> {
  static constexpr std::string_view qemu_device = "half-done";
};

using namespace pciplan;

TEST_CASE("a user-defined controller kind is a ControllerKind and plugs where its traits say", "[user_kinds]") {
  STATIC_REQUIRE(ControllerKind<vendor::vendor_root_port>);
  STATIC_REQUIRE(PluggableInto<vendor::vendor_root_port, pcie_root>);
  STATIC_REQUIRE(PluggableInto<pcie_switch_upstream_port, vendor::vendor_root_port>);
  STATIC_REQUIRE(AvailableOn<vendor::vendor_root_port, machines::q35>);
  STATIC_REQUIRE_FALSE(AvailableOn<vendor::vendor_root_port, machines::pc>);
  STATIC_REQUIRE(descriptor_of<vendor::vendor_root_port>.qemu_device() == "vendor-root-port");
}

TEST_CASE("a user-defined device kind is a DeviceKind and fits PCIe slots", "[user_kinds]") {
  STATIC_REQUIRE(DeviceKind<vendor::fpga>);
  STATIC_REQUIRE(SlotCompatible<vendor::fpga, pcie_root_port, machines::q35>);
  STATIC_REQUIRE(SlotCompatible<vendor::fpga, vendor::vendor_root_port, machines::q35>);
  STATIC_REQUIRE_FALSE(DeviceKind<vendor::half_done>);
  STATIC_REQUIRE_FALSE(ControllerKind<vendor::half_done>);
  STATIC_REQUIRE_FALSE(ControllerKind<int>);
  STATIC_REQUIRE_FALSE(MachineType<vendor::fpga>);
}

TEST_CASE("user kinds join the Hana queries and fixed layouts", "[user_kinds]") {
  constexpr auto kinds = hana::tuple_t<pcie_root, vendor::vendor_root_port, pcie_to_pci_bridge>;
  STATIC_REQUIRE(same(shortest_chain<vendor::fpga, machines::q35>(kinds), hana::just(hana::tuple_t<vendor::vendor_root_port>)));
  STATIC_REQUIRE(same(shortest_chain<models::e1000, machines::q35>(kinds),
                      hana::just(hana::tuple_t<vendor::vendor_root_port, pcie_to_pci_bridge>)));
  constexpr auto l = make_fixed_layout<machines::q35>(place<vendor::vendor_root_port, "vrp">(on_root, at<3>),
                                                      place<vendor::fpga, "accel">(on<"vrp">));
  STATIC_REQUIRE(l.at("accel").guest_address == pci_address{0, 1, 0, 0});
  STATIC_REQUIRE(l.at("vrp").qemu_device == "vendor-root-port");
  STATIC_REQUIRE(l.at("accel").qemu_device == "vendor-fpga");
}
