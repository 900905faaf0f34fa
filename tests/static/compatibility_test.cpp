// Slot compatibility as concepts: PluggableInto, AvailableOn, SlotCompatible,
// AutoPlaceable; plus negative tests the mp-units way (a dependent concept).
#include <catch2/catch.hpp>

#include "../support/support.hpp"

using namespace pciplan;

TEST_CASE("PluggableInto: the examples from the issue and DESIGN.md", "[compatibility]") {
  STATIC_REQUIRE(PluggableInto<pcie_root_port, pcie_root>);
  STATIC_REQUIRE_FALSE(PluggableInto<pcie_root_port, pci_bridge>);
  STATIC_REQUIRE(PluggableInto<pcie_switch_downstream_port, pcie_switch_upstream_port>);
  STATIC_REQUIRE_FALSE(PluggableInto<pcie_switch_downstream_port, pcie_root_port>);  // no upstream port
  STATIC_REQUIRE_FALSE(PluggableInto<pcie_expander_bus, pci_root>);                 // pxb-pcie on pc's root
  STATIC_REQUIRE_FALSE(PluggableInto<pci_expander_bus, pcie_root>);                 // pxb on q35's root
  STATIC_REQUIRE(PluggableInto<pcie_to_pci_bridge, pcie_root_port>);
  STATIC_REQUIRE_FALSE(PluggableInto<pcie_to_pci_bridge, pcie_root>);
  STATIC_REQUIRE_FALSE(PluggableInto<pcie_root, pcie_root>);  // roots plug into nothing
  STATIC_REQUIRE_FALSE(PluggableInto<int, pcie_root>);        // not a controller kind
}

TEST_CASE("AvailableOn: RULES.md L2.1 machine restrictions", "[compatibility][facts]") {
  STATIC_REQUIRE(same(available_kinds<machines::pc>(),
                      hana::tuple_t<pci_root, pci_bridge, pci_expander_bus>));
  STATIC_REQUIRE(same(available_kinds<machines::q35>(),
                      hana::tuple_t<pcie_root, pci_bridge, dmi_to_pci_bridge, pcie_root_port,
                                    pcie_switch_upstream_port, pcie_switch_downstream_port, pcie_expander_bus,
                                    pcie_to_pci_bridge>));
  STATIC_REQUIRE(same(available_kinds<machines::aarch64_virt>(), available_kinds<machines::q35>()));
  STATIC_REQUIRE(same(available_kinds<machines::riscv64_virt>(),
                      hana::tuple_t<pcie_root, pci_bridge, dmi_to_pci_bridge, pcie_root_port,
                                    pcie_switch_upstream_port, pcie_switch_downstream_port, pcie_to_pci_bridge>));
  STATIC_REQUIRE(same(available_kinds<machines::pseries>(), hana::tuple_t<spapr_pci_host_bridge, pci_bridge>));
  STATIC_REQUIRE(same(available_kinds<machines::s390x_ccw>(), hana::tuple_t<pci_root, pci_bridge>));
  STATIC_REQUIRE(same(available_kinds<machines::microvm>(), hana::tuple_t<>));
  STATIC_REQUIRE_FALSE(AvailableOn<pcie_expander_bus, machines::pc>);
  STATIC_REQUIRE_FALSE(AvailableOn<pci_expander_bus, machines::q35>);
  STATIC_REQUIRE_FALSE(AvailableOn<pcie_root_port, machines::pc>);
  STATIC_REQUIRE_FALSE(AvailableOn<pci_root, machines::q35>);  // "must be model='pcie-root'"
}

TEST_CASE("SlotCompatible and AutoPlaceable: devices on buses", "[compatibility]") {
  using q35 = machines::q35;
  STATIC_REQUIRE(SlotCompatible<models::virtio_net, pcie_root_port, q35>);
  STATIC_REQUIRE(SlotCompatible<models::e1000, pcie_to_pci_bridge, q35>);
  STATIC_REQUIRE_FALSE(SlotCompatible<models::e1000, pcie_root_port, q35>);
  // a PCIe endpoint on pcie.0 is compatible (an integrated endpoint), but never auto-placed there
  STATIC_REQUIRE(SlotCompatible<models::virtio_net, pcie_root, q35>);
  STATIC_REQUIRE_FALSE(AutoPlaceable<models::virtio_net, pcie_root, q35>);
  STATIC_REQUIRE(AutoPlaceable<models::virtio_net, pcie_root_port, q35>);
  // dmi-to-pci-bridge takes PCI devices, but libvirt never auto-places endpoints on it
  STATIC_REQUIRE(SlotCompatible<models::e1000, dmi_to_pci_bridge, q35>);
  STATIC_REQUIRE_FALSE(AutoPlaceable<models::e1000, dmi_to_pci_bridge, q35>);
  // integrated endpoints: the machine's root bus only
  STATIC_REQUIRE(AutoPlaceable<models::virtio_iommu, pcie_root, q35>);
  STATIC_REQUIRE_FALSE(SlotCompatible<models::virtio_iommu, pcie_root_port, q35>);
  STATIC_REQUIRE(AutoPlaceable<models::pvpanic_pci, pci_root, machines::pc>);
  // on pc everything is PCI: a PCIe device sits directly on pci-root
  STATIC_REQUIRE(AutoPlaceable<models::e1000e, pci_root, machines::pc>);
  // a kind the machine does not have is compatible with nothing
  STATIC_REQUIRE_FALSE(SlotCompatible<models::e1000e, pcie_root_port, machines::pc>);
  STATIC_REQUIRE_FALSE(SlotCompatible<models::virtio_net, pcie_root_port, machines::microvm>);
}

namespace {
// Negative compile tests: asked through a dependent concept, so an invalid use reports
// false instead of a hard error (STYLE.md R13).
template <class C, class P>
concept pluggable_check = requires { requires PluggableInto<C, P>; };
template <class D, class C, class M>
concept compatible_check = requires { requires SlotCompatible<D, C, M>; };
}  // namespace

TEST_CASE("the concepts reject non-kinds instead of failing hard", "[compatibility]") {
  STATIC_REQUIRE_FALSE(pluggable_check<int, pcie_root>);
  STATIC_REQUIRE_FALSE(pluggable_check<pcie_root_port, models::virtio_net>);
  STATIC_REQUIRE_FALSE(compatible_check<pcie_root_port, pcie_root_port, machines::q35>);
  STATIC_REQUIRE_FALSE(compatible_check<models::virtio_net, models::virtio_net, machines::q35>);
  STATIC_REQUIRE_FALSE(compatible_check<models::virtio_net, pcie_root_port, int>);
  STATIC_REQUIRE(compatible_check<models::virtio_net, pcie_root_port, machines::q35>);
}

TEMPLATE_LIST_TEST_CASE("PluggableInto agrees with connects_as and accepts for every pair", "[compatibility][laws]",
                        controller_kind_list) {
  hana::for_each(controller_kinds, [](auto p) {
    using P = typename decltype(p)::type;
    constexpr bool expected = !is_root_v<TestType> && descriptor_of<P>.accepts.intersects(
                                                           descriptor_of<TestType>.connects_as & connect::kinds);
    CHECK(PluggableInto<TestType, P> == expected);
  });
}
