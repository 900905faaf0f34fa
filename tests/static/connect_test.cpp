// The one compatibility rule, fits(), checked rule by rule against RULES.md L1.1.
#include <catch2/catch.hpp>

#include "../support/support.hpp"

using namespace pciplan;

namespace {
constexpr connect_set pci_dev = connect::pci_endpoint | connect::auto_assign;
constexpr connect_set pcie_dev = connect::pcie_endpoint | connect::auto_assign;
constexpr connect_set root_port_bus = descriptor_of<pcie_root_port>.bus_flags();
constexpr connect_set pcie_root_bus = descriptor_of<pcie_root>.bus_flags();
constexpr connect_set pci_bridge_bus = descriptor_of<pci_bridge>.bus_flags();
constexpr connect_set dmi_bus = descriptor_of<dmi_to_pci_bridge>.bus_flags();
}  // namespace

TEST_CASE("RULES.md L1.1: connect bits follow virDomainPCIConnectFlags", "[connect][facts]") {
  STATIC_REQUIRE(connect::auto_assign.bits == 1u << 0);
  STATIC_REQUIRE(connect::hotpluggable.bits == 1u << 1);
  STATIC_REQUIRE(connect::integrated.bits == 1u << 2);
  STATIC_REQUIRE(connect::aggregate_slot.bits == 1u << 3);
  STATIC_REQUIRE(connect::pci_endpoint.bits == 1u << 4);
  STATIC_REQUIRE(connect::pcie_endpoint.bits == 1u << 5);
  STATIC_REQUIRE(connect::pcie_root_port.bits == 1u << 6);
  STATIC_REQUIRE(connect::pcie_switch_upstream_port.bits == 1u << 7);
  STATIC_REQUIRE(connect::pcie_switch_downstream_port.bits == 1u << 8);
  STATIC_REQUIRE(connect::dmi_to_pci_bridge.bits == 1u << 9);
  STATIC_REQUIRE(connect::pci_expander_bus.bits == 1u << 10);
  STATIC_REQUIRE(connect::pcie_expander_bus.bits == 1u << 11);
  STATIC_REQUIRE(connect::pci_bridge.bits == 1u << 12);
  STATIC_REQUIRE(connect::pcie_to_pci_bridge.bits == 1u << 13);
  STATIC_REQUIRE(connect::kinds.bits == 0x3ff0u);  // TYPES_MASK: bits 4-13
  STATIC_REQUIRE(connect::endpoints == (connect::pci_endpoint | connect::pcie_endpoint));
}

TEST_CASE("RULES.md L5: kind names as libvirt's 'requires a controller that accepts a …'", "[connect][facts]") {
  STATIC_REQUIRE(name_of(connect::pci_endpoint) == "standard PCI device");
  STATIC_REQUIRE(name_of(connect::pcie_endpoint) == "PCI Express device");
  STATIC_REQUIRE(name_of(connect::pcie_to_pci_bridge) == "pcie-to-pci-bridge");
  STATIC_REQUIRE(name_of(connect::pci_endpoint | connect::pcie_endpoint).empty());
  STATIC_REQUIRE(name_of(connect::auto_assign).empty());
}

TEST_CASE("RULES.md L1.1 rule 1: an integrated endpoint fits only the root bus, which then takes it",
          "[connect][rules]") {
  constexpr connect_set iommu = pcie_dev | connect::integrated;
  constexpr connect_set pvpanic = pci_dev | connect::integrated;
  STATIC_REQUIRE(fits(iommu, pcie_root_bus, true));
  STATIC_REQUIRE(fits(pvpanic, pcie_root_bus, true));  // PCI device, bus 0 accepts it anyway
  STATIC_REQUIRE_FALSE(fits(iommu, root_port_bus, false));
  STATIC_REQUIRE_FALSE(fits(pvpanic, pci_bridge_bus, false));
}

TEST_CASE("RULES.md L1.1 rule 2: a given address may mix PCI and PCIe endpoints; a pci-bridge goes "
          "where a PCI device may",
          "[connect][rules]") {
  STATIC_REQUIRE_FALSE(fits(pci_dev, root_port_bus, false));
  STATIC_REQUIRE(fits(pci_dev - connect::auto_assign, root_port_bus, false, address_origin::given));
  STATIC_REQUIRE(fits(pcie_dev - connect::auto_assign, dmi_bus, false, address_origin::given));
  STATIC_REQUIRE_FALSE(fits(connect::pci_bridge, root_port_bus, false));
  STATIC_REQUIRE(fits(connect::pci_bridge, root_port_bus, false, address_origin::given));
  // mixing is between endpoints only: a root port still does not take a pci-bridge on pcie-root
  STATIC_REQUIRE_FALSE(fits(connect::pci_bridge, descriptor_of<pcie_expander_bus>.bus_flags(), false,
                            address_origin::given));
}

TEST_CASE("RULES.md L1.1 rule 3: an auto-assigned endpoint needs an auto-assign bus", "[connect][rules]") {
  STATIC_REQUIRE_FALSE(fits(pcie_dev, pcie_root_bus, true));  // keeps endpoints off pcie.0
  STATIC_REQUIRE(fits(pcie_dev - connect::auto_assign, pcie_root_bus, true));
  STATIC_REQUIRE(fits(pcie_dev, pcie_root_bus, true, address_origin::given));
  STATIC_REQUIRE_FALSE(fits(pci_dev, dmi_bus, false));
  STATIC_REQUIRE(fits(pcie_dev, root_port_bus, false));
}

TEST_CASE("RULES.md L1.1 rule 4: a device that needs hotplug needs a hot-pluggable bus", "[connect][rules]") {
  STATIC_REQUIRE_FALSE(fits(pci_dev | connect::hotpluggable, dmi_bus, false, address_origin::given));
  STATIC_REQUIRE(fits(pci_dev | connect::hotpluggable, pci_bridge_bus, false));
  STATIC_REQUIRE(fits(pcie_dev | connect::hotpluggable, root_port_bus, false));
  STATIC_REQUIRE_FALSE(fits(pcie_dev | connect::hotpluggable, pcie_root_bus, true, address_origin::given));
}

TEST_CASE("RULES.md L1.1 rule 5: at least one kind must be shared", "[connect][rules]") {
  STATIC_REQUIRE_FALSE(fits(connect::pcie_root_port, pci_bridge_bus, false));
  STATIC_REQUIRE(fits(connect::pcie_root_port, pcie_root_bus, true));
  STATIC_REQUIRE_FALSE(fits(connect_set{}, pci_bridge_bus, false));  // a device that uses no PCI fits nowhere
}

TEST_CASE("connect_set algebra", "[connect]") {
  constexpr connect_set a = connect::pci_endpoint | connect::auto_assign;
  STATIC_REQUIRE(a.contains(connect::auto_assign));
  STATIC_REQUIRE_FALSE(a.contains(connect::auto_assign | connect::integrated));
  STATIC_REQUIRE(a.intersects(connect::endpoints));
  STATIC_REQUIRE((a - connect::auto_assign) == connect::pci_endpoint);
  STATIC_REQUIRE((a & connect::kinds) == connect::pci_endpoint);
  STATIC_REQUIRE(connect_set{}.empty());
}
