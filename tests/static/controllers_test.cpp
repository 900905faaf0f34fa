// The eleven controller kinds: laws over all of them, and every trait value checked
// against RULES.md L1.2 (table), L1.3 (numbering), L1.4 (bus names) and
// Q0–Q36.
#include <catch2/catch.hpp>

#include "../support/support.hpp"

#include <string_view>

using namespace pciplan;

TEMPLATE_LIST_TEST_CASE("controller laws: complete, consistent traits", "[controllers][laws]", controller_kind_list) {
  using traits = controller_traits<TestType>;
  constexpr controller_descriptor d = descriptor_of<TestType>;
  STATIC_REQUIRE(ControllerKind<TestType>);
  STATIC_REQUIRE(!traits::model.empty());
  STATIC_REQUIRE(d.slots.first <= d.slots.last);
  STATIC_REQUIRE(d.slots.last <= max_slot);
  STATIC_REQUIRE(d.bus_numbers >= 1);
  // a bus takes only kinds, never properties; every kind takes something
  STATIC_REQUIRE((d.accepts - connect::kinds).empty());
  STATIC_REQUIRE(!d.accepts.empty());
  // roots plug into nothing and carry no QEMU device except the PHB; others need exactly one kind of slot
  if constexpr (is_root_v<TestType>) {
    STATIC_REQUIRE(d.connects_as.empty());
    STATIC_REQUIRE(!d.root_bus.empty());
  } else {
    constexpr connect_set kind = d.connects_as & connect::kinds;
    STATIC_REQUIRE(!name_of(kind).empty());  // exactly one kind bit
    STATIC_REQUIRE((d.connects_as - connect::kinds - connect::aggregate_slot).empty());
    STATIC_REQUIRE(!d.qemu_devices.empty());
    STATIC_REQUIRE(d.root_bus.empty());
    // the kind's own name is the name libvirt gives its connect kind (RULES.md L5 error text)
    STATIC_REQUIRE(name_of(kind) == d.model);
  }
  // numbering attributes belong to the roles that have them (RULES.md L1.3)
  STATIC_REQUIRE(d.numbered_by.has(numbering::chassis) == (d.role == controller_role::port));
  STATIC_REQUIRE(d.numbered_by.has(numbering::port) == (d.role == controller_role::port));
  STATIC_REQUIRE(d.numbered_by.has(numbering::bus_nr) == (d.role == controller_role::expander));
  STATIC_REQUIRE(d.numbered_by.has(numbering::target_index) == (d.role == controller_role::extra_root));
  // a hot-pluggable bus with an SHPC cannot use slot 0 (RULES.md Q14)
  STATIC_REQUIRE((!d.shpc || d.slots.first == 1));
}

TEST_CASE("RULES.md L1.2: the libvirt model name of each kind", "[controllers][facts]") {
  STATIC_REQUIRE(controller_traits<pci_root>::model == "pci-root");
  STATIC_REQUIRE(controller_traits<pcie_root>::model == "pcie-root");
  STATIC_REQUIRE(controller_traits<pci_bridge>::model == "pci-bridge");
  STATIC_REQUIRE(controller_traits<dmi_to_pci_bridge>::model == "dmi-to-pci-bridge");
  STATIC_REQUIRE(controller_traits<pcie_root_port>::model == "pcie-root-port");
  STATIC_REQUIRE(controller_traits<pcie_switch_upstream_port>::model == "pcie-switch-upstream-port");
  STATIC_REQUIRE(controller_traits<pcie_switch_downstream_port>::model == "pcie-switch-downstream-port");
  STATIC_REQUIRE(controller_traits<pci_expander_bus>::model == "pci-expander-bus");
  STATIC_REQUIRE(controller_traits<pcie_expander_bus>::model == "pcie-expander-bus");
  STATIC_REQUIRE(controller_traits<pcie_to_pci_bridge>::model == "pcie-to-pci-bridge");
  // the pseries PHB is libvirt's pci-root with modelName spapr-pci-host-bridge
  STATIC_REQUIRE(controller_traits<spapr_pci_host_bridge>::model == "pci-root");
}

TEST_CASE("RULES.md L1.2: the QEMU device(s) of each kind, preferred first", "[controllers][facts]") {
  STATIC_REQUIRE(descriptor_of<pci_root>.qemu_devices.empty());
  STATIC_REQUIRE(descriptor_of<pcie_root>.qemu_devices.empty());
  STATIC_REQUIRE(descriptor_of<pci_bridge>.qemu_device() == "pci-bridge");
  STATIC_REQUIRE(descriptor_of<dmi_to_pci_bridge>.qemu_device() == "i82801b11-bridge");
  STATIC_REQUIRE(descriptor_of<pcie_root_port>.qemu_devices.size() == 2);
  STATIC_REQUIRE(descriptor_of<pcie_root_port>.qemu_devices[0] == "pcie-root-port");
  STATIC_REQUIRE(descriptor_of<pcie_root_port>.qemu_devices[1] == "ioh3420");
  STATIC_REQUIRE(descriptor_of<pcie_switch_upstream_port>.qemu_device() == "x3130-upstream");
  STATIC_REQUIRE(descriptor_of<pcie_switch_downstream_port>.qemu_device() == "xio3130-downstream");
  STATIC_REQUIRE(descriptor_of<pci_expander_bus>.qemu_device() == "pxb");
  STATIC_REQUIRE(descriptor_of<pcie_expander_bus>.qemu_device() == "pxb-pcie");
  STATIC_REQUIRE(descriptor_of<pcie_to_pci_bridge>.qemu_device() == "pcie-pci-bridge");
  STATIC_REQUIRE(descriptor_of<spapr_pci_host_bridge>.qemu_device() == "spapr-pci-host-bridge");
}

TEST_CASE("RULES.md L1.2: what each kind's bus accepts (Downstream accepts)", "[controllers][facts]") {
  STATIC_REQUIRE(descriptor_of<pci_root>.accepts == (connect::pci_endpoint | connect::pci_bridge | connect::pci_expander_bus));
  STATIC_REQUIRE(descriptor_of<pcie_root>.accepts ==
                 (connect::pcie_endpoint | connect::pcie_root_port | connect::dmi_to_pci_bridge | connect::pcie_expander_bus));
  STATIC_REQUIRE(descriptor_of<pci_bridge>.accepts == (connect::pci_endpoint | connect::pci_bridge));
  STATIC_REQUIRE(descriptor_of<dmi_to_pci_bridge>.accepts == (connect::pci_endpoint | connect::pci_bridge));
  STATIC_REQUIRE(descriptor_of<pcie_root_port>.accepts ==
                 (connect::pcie_endpoint | connect::pcie_switch_upstream_port | connect::pcie_to_pci_bridge));
  STATIC_REQUIRE(descriptor_of<pcie_switch_upstream_port>.accepts == connect::pcie_switch_downstream_port);
  STATIC_REQUIRE(descriptor_of<pcie_switch_downstream_port>.accepts ==
                 (connect::pcie_endpoint | connect::pcie_switch_upstream_port | connect::pcie_to_pci_bridge));
  STATIC_REQUIRE(descriptor_of<pci_expander_bus>.accepts == (connect::pci_endpoint | connect::pci_bridge));
  STATIC_REQUIRE(descriptor_of<pcie_expander_bus>.accepts == (connect::pcie_root_port | connect::dmi_to_pci_bridge));
  STATIC_REQUIRE(descriptor_of<pcie_to_pci_bridge>.accepts == (connect::pci_endpoint | connect::pci_bridge));
  // RULES.md L2.6: a PHB is a pci-root; the pxb is an i440fx-only device (L2.1), so not on a PHB
  STATIC_REQUIRE(descriptor_of<spapr_pci_host_bridge>.accepts == (connect::pci_endpoint | connect::pci_bridge));
}

TEST_CASE("RULES.md L1.2: what each kind plugs into (Plugs into)", "[controllers][facts]") {
  STATIC_REQUIRE(same(parents_of<pci_root>(), hana::tuple_t<>));
  STATIC_REQUIRE(same(parents_of<pcie_root>(), hana::tuple_t<>));
  STATIC_REQUIRE(same(parents_of<spapr_pci_host_bridge>(), hana::tuple_t<>));
  STATIC_REQUIRE(same(parents_of<pci_bridge>(), hana::tuple_t<pci_root, spapr_pci_host_bridge, pci_bridge,
                                                              dmi_to_pci_bridge, pci_expander_bus, pcie_to_pci_bridge>));
  STATIC_REQUIRE(same(parents_of<dmi_to_pci_bridge>(), hana::tuple_t<pcie_root, pcie_expander_bus>));
  STATIC_REQUIRE(same(parents_of<pcie_root_port>(), hana::tuple_t<pcie_root, pcie_expander_bus>));
  STATIC_REQUIRE(same(parents_of<pcie_switch_upstream_port>(),
                      hana::tuple_t<pcie_root_port, pcie_switch_downstream_port>));
  STATIC_REQUIRE(same(parents_of<pcie_switch_downstream_port>(), hana::tuple_t<pcie_switch_upstream_port>));
  STATIC_REQUIRE(same(parents_of<pci_expander_bus>(), hana::tuple_t<pci_root>));
  STATIC_REQUIRE(same(parents_of<pcie_expander_bus>(), hana::tuple_t<pcie_root>));
  STATIC_REQUIRE(same(parents_of<pcie_to_pci_bridge>(), hana::tuple_t<pcie_root_port, pcie_switch_downstream_port>));
}

TEST_CASE("RULES.md L1.2: usable slots of each kind's bus (Slots)", "[controllers][facts]") {
  STATIC_REQUIRE(descriptor_of<pci_root>.slots == slot_range{1, 31});
  STATIC_REQUIRE(descriptor_of<pcie_root>.slots == slot_range{1, 31});
  STATIC_REQUIRE(descriptor_of<pci_bridge>.slots == slot_range{1, 31});  // slot 0 = SHPC
  STATIC_REQUIRE(descriptor_of<dmi_to_pci_bridge>.slots == slot_range{0, 31});
  STATIC_REQUIRE(descriptor_of<pcie_root_port>.slots == slot_range{0, 0});
  STATIC_REQUIRE(descriptor_of<pcie_switch_upstream_port>.slots == slot_range{0, 31});
  STATIC_REQUIRE(descriptor_of<pcie_switch_downstream_port>.slots == slot_range{0, 0});
  STATIC_REQUIRE(descriptor_of<pci_expander_bus>.slots == slot_range{0, 31});
  STATIC_REQUIRE(descriptor_of<pcie_expander_bus>.slots == slot_range{0, 31});
  STATIC_REQUIRE(descriptor_of<pcie_to_pci_bridge>.slots == slot_range{1, 31});  // slot 0 = SHPC
  STATIC_REQUIRE(descriptor_of<spapr_pci_host_bridge>.slots == slot_range{1, 31});  // RULES.md L2.6
}

TEST_CASE("RULES.md L1.2/L1.3: hotplug of each kind's bus, and whether hotplug='off' may be set",
          "[controllers][facts]") {
  STATIC_REQUIRE(descriptor_of<pci_root>.hotplug == hotplug_support::switchable);  // since 7.9.0
  STATIC_REQUIRE(descriptor_of<pcie_root>.hotplug == hotplug_support::none);
  STATIC_REQUIRE(descriptor_of<pci_bridge>.hotplug == hotplug_support::always);
  STATIC_REQUIRE(descriptor_of<dmi_to_pci_bridge>.hotplug == hotplug_support::none);
  STATIC_REQUIRE(descriptor_of<pcie_root_port>.hotplug == hotplug_support::switchable);  // since 6.3.0
  STATIC_REQUIRE(descriptor_of<pcie_switch_upstream_port>.hotplug == hotplug_support::none);
  STATIC_REQUIRE(descriptor_of<pcie_switch_downstream_port>.hotplug == hotplug_support::switchable);
  STATIC_REQUIRE(descriptor_of<pci_expander_bus>.hotplug == hotplug_support::always);
  STATIC_REQUIRE(descriptor_of<pcie_expander_bus>.hotplug == hotplug_support::none);
  STATIC_REQUIRE(descriptor_of<pcie_to_pci_bridge>.hotplug == hotplug_support::always);
  STATIC_REQUIRE(descriptor_of<spapr_pci_host_bridge>.hotplug == hotplug_support::always);  // RULES.md L2.6
}

TEST_CASE("RULES.md L1.1/L1.2: where endpoints may be placed automatically (Auto-assign)",
          "[controllers][facts]") {
  STATIC_REQUIRE(descriptor_of<pci_root>.auto_assign);
  STATIC_REQUIRE_FALSE(descriptor_of<pcie_root>.auto_assign);
  STATIC_REQUIRE(descriptor_of<pci_bridge>.auto_assign);
  STATIC_REQUIRE_FALSE(descriptor_of<dmi_to_pci_bridge>.auto_assign);
  STATIC_REQUIRE(descriptor_of<pcie_root_port>.auto_assign);
  STATIC_REQUIRE_FALSE(descriptor_of<pcie_switch_upstream_port>.auto_assign);
  STATIC_REQUIRE(descriptor_of<pcie_switch_downstream_port>.auto_assign);
  STATIC_REQUIRE(descriptor_of<pci_expander_bus>.auto_assign);
  STATIC_REQUIRE_FALSE(descriptor_of<pcie_expander_bus>.auto_assign);
  STATIC_REQUIRE(descriptor_of<pcie_to_pci_bridge>.auto_assign);
  STATIC_REQUIRE(descriptor_of<spapr_pci_host_bridge>.auto_assign);
}

TEST_CASE("RULES.md L1.2/L4.6 and Q17: bus numbers each kind consumes", "[controllers][facts]") {
  // every root port, switch port, bridge and expander consumes one bus number; pxb also
  // one for its internal bridge ("+1 bus number for its internal bridge")
  STATIC_REQUIRE(descriptor_of<pci_expander_bus>.bus_numbers == 2);
  STATIC_REQUIRE(descriptor_of<pcie_expander_bus>.bus_numbers == 1);
  STATIC_REQUIRE(descriptor_of<pcie_root_port>.bus_numbers == 1);
  STATIC_REQUIRE(descriptor_of<pcie_switch_upstream_port>.bus_numbers == 1);
  STATIC_REQUIRE(descriptor_of<pcie_switch_downstream_port>.bus_numbers == 1);
  STATIC_REQUIRE(descriptor_of<pci_bridge>.bus_numbers == 1);
  STATIC_REQUIRE(descriptor_of<dmi_to_pci_bridge>.bus_numbers == 1);
  STATIC_REQUIRE(descriptor_of<pcie_to_pci_bridge>.bus_numbers == 1);
  STATIC_REQUIRE(descriptor_of<pci_root>.bus_numbers == 1);
  STATIC_REQUIRE(descriptor_of<pcie_root>.bus_numbers == 1);
  STATIC_REQUIRE(descriptor_of<spapr_pci_host_bridge>.bus_numbers == 1);
}

TEST_CASE("RULES.md L4.5: only pcie-root-port aggregates into multifunction slots", "[controllers][facts]") {
  STATIC_REQUIRE(descriptor_of<pcie_root_port>.connects_as.contains(connect::aggregate_slot));
  STATIC_REQUIRE_FALSE(descriptor_of<pcie_switch_downstream_port>.connects_as.intersects(connect::aggregate_slot));
  STATIC_REQUIRE_FALSE(descriptor_of<pci_bridge>.connects_as.intersects(connect::aggregate_slot));
}

TEST_CASE("RULES.md L1.3: numbering attributes each kind carries, and their ranges", "[controllers][facts]") {
  STATIC_REQUIRE(descriptor_of<pci_bridge>.numbered_by == only(numbering::chassis_nr));
  STATIC_REQUIRE(descriptor_of<pcie_root_port>.numbered_by == (numbering::chassis | numbering::port));
  STATIC_REQUIRE(descriptor_of<pcie_switch_downstream_port>.numbered_by == (numbering::chassis | numbering::port));
  STATIC_REQUIRE(descriptor_of<pci_expander_bus>.numbered_by == only(numbering::bus_nr));
  STATIC_REQUIRE(descriptor_of<pcie_expander_bus>.numbered_by == only(numbering::bus_nr));
  STATIC_REQUIRE(descriptor_of<spapr_pci_host_bridge>.numbered_by == only(numbering::target_index));
  STATIC_REQUIRE(descriptor_of<pci_root>.numbered_by.empty());
  STATIC_REQUIRE(descriptor_of<pcie_root>.numbered_by.empty());
  STATIC_REQUIRE(descriptor_of<dmi_to_pci_bridge>.numbered_by.empty());
  STATIC_REQUIRE(descriptor_of<pcie_switch_upstream_port>.numbered_by.empty());
  STATIC_REQUIRE(descriptor_of<pcie_to_pci_bridge>.numbered_by.empty());
  // ranges (RULES.md L1.3, L5 "out of range - must be …")
  STATIC_REQUIRE(range_of(numbering::chassis_nr) == value_range{1, 255});
  STATIC_REQUIRE(range_of(numbering::chassis) == value_range{0, 255});
  STATIC_REQUIRE(range_of(numbering::port) == value_range{0, 255});
  STATIC_REQUIRE(range_of(numbering::bus_nr) == value_range{1, 254});
  STATIC_REQUIRE(range_of(numbering::target_index) == value_range{0, 30});
  // names on both sides
  STATIC_REQUIRE(libvirt_name_of(numbering::chassis_nr) == "chassisNr");
  STATIC_REQUIRE(qemu_name_of(numbering::chassis_nr) == "chassis_nr");
  STATIC_REQUIRE(libvirt_name_of(numbering::bus_nr) == "busNr");
  STATIC_REQUIRE(qemu_name_of(numbering::bus_nr) == "bus_nr");
  STATIC_REQUIRE(libvirt_name_of(numbering::target_index) == "index");
}

TEST_CASE("RULES.md L1.3: NUMA node only on expanders and PHBs", "[controllers][facts]") {
  STATIC_REQUIRE(descriptor_of<pci_expander_bus>.numa_node);
  STATIC_REQUIRE(descriptor_of<pcie_expander_bus>.numa_node);
  STATIC_REQUIRE(descriptor_of<spapr_pci_host_bridge>.numa_node);
  STATIC_REQUIRE_FALSE(descriptor_of<pci_root>.numa_node);  // "can't be associated with a NUMA node"
  STATIC_REQUIRE_FALSE(descriptor_of<pcie_root>.numa_node);
  STATIC_REQUIRE_FALSE(descriptor_of<pcie_root_port>.numa_node);
}

TEST_CASE("RULES.md L1.4: root bus names on the QEMU command line", "[controllers][facts]") {
  STATIC_REQUIRE(controller_traits<pcie_root>::root_bus == "pcie.0");
  STATIC_REQUIRE(controller_traits<pci_root>::root_bus == "pci.0");
  STATIC_REQUIRE(controller_traits<spapr_pci_host_bridge>::root_bus == "pci.0");
}

TEST_CASE("RULES.md Q13/Q14: pci-bridge and pcie-pci-bridge have an SHPC", "[controllers][facts]") {
  STATIC_REQUIRE(descriptor_of<pci_bridge>.shpc);
  STATIC_REQUIRE(descriptor_of<pcie_to_pci_bridge>.shpc);
  STATIC_REQUIRE_FALSE(descriptor_of<dmi_to_pci_bridge>.shpc);
  STATIC_REQUIRE_FALSE(descriptor_of<pci_expander_bus>.shpc);
}

TEST_CASE("controller roles", "[controllers]") {
  STATIC_REQUIRE(descriptor_of<pci_root>.role == controller_role::root);
  STATIC_REQUIRE(descriptor_of<pcie_root>.role == controller_role::root);
  STATIC_REQUIRE(descriptor_of<spapr_pci_host_bridge>.role == controller_role::extra_root);
  STATIC_REQUIRE(descriptor_of<pcie_switch_upstream_port>.role == controller_role::switch_upstream);
  STATIC_REQUIRE(descriptor_of<pcie_root_port>.role == controller_role::port);
  STATIC_REQUIRE(descriptor_of<pcie_switch_downstream_port>.role == controller_role::port);
  STATIC_REQUIRE(descriptor_of<pci_expander_bus>.role == controller_role::expander);
  STATIC_REQUIRE(descriptor_of<pcie_expander_bus>.role == controller_role::expander);
  STATIC_REQUIRE(descriptor_of<pci_bridge>.role == controller_role::bridge);
  STATIC_REQUIRE(descriptor_of<dmi_to_pci_bridge>.role == controller_role::bridge);
  STATIC_REQUIRE(descriptor_of<pcie_to_pci_bridge>.role == controller_role::bridge);
}
