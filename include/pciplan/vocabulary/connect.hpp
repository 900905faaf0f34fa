// pciplan — vocabulary/connect.hpp: connect kinds, what a slot accepts and what a device needs.
//
// One bit set serves two roles (the model libvirt calls "connect flags"):
//  - on a bus: which kinds may be plugged into its slots;
//  - on a device or controller: which kind of slot it needs.
// The bit positions follow libvirt's virDomainPCIConnectFlags, so numbers printed
// by either tool can be compared.
#ifndef PCIPLAN_VOCABULARY_CONNECT_HPP
#define PCIPLAN_VOCABULARY_CONNECT_HPP

#include <pciplan/detail/config.hpp>

#include <cstdint>
#include <ostream>
#include <string_view>

namespace pciplan::inline v0 {

/// A set of connect kinds and properties. Structural: usable as a template argument.
struct connect_set {
  std::uint32_t bits = 0;  ///< one bit per kind or property (see the connect namespace)

  /// Whether no bit is set.
  [[nodiscard]] constexpr bool empty() const noexcept { return bits == 0; }
  /// Whether every bit of `other` is set here.
  [[nodiscard]] constexpr bool contains(connect_set other) const noexcept { return (bits & other.bits) == other.bits; }
  /// Whether at least one bit of `other` is set here.
  [[nodiscard]] constexpr bool intersects(connect_set other) const noexcept { return (bits & other.bits) != 0; }

  /// The bits set in `a` or `b`.
  friend constexpr connect_set operator|(connect_set a, connect_set b) noexcept { return {a.bits | b.bits}; }
  /// The bits set in both `a` and `b`.
  friend constexpr connect_set operator&(connect_set a, connect_set b) noexcept { return {a.bits & b.bits}; }
  /// The bits of `a` that are not set in `b`.
  friend constexpr connect_set operator-(connect_set a, connect_set b) noexcept { return {a.bits & ~b.bits}; }
  /// Equal when the same bits are set.
  friend constexpr bool operator==(connect_set, connect_set) = default;
};

/// The connect kinds and properties. Bits 0-3 are properties, bits 4-13 are kinds.
namespace connect {
/// On a bus: endpoints may be placed here automatically. On a device: the device is
/// an endpoint that may only be placed automatically on such a bus.
inline constexpr connect_set auto_assign{1u << 0};
/// On a bus: its slots support hot(un)plug. On a device: it needs a hot-pluggable slot.
inline constexpr connect_set hotpluggable{1u << 1};
/// On a device: a root-complex integrated endpoint; it must sit on the root bus (bus 0).
inline constexpr connect_set integrated{1u << 2};
/// On a device: several such devices may share one slot, one per function
/// (multifunction aggregation; libvirt sets it for pcie-root-port only).
inline constexpr connect_set aggregate_slot{1u << 3};

inline constexpr connect_set pci_endpoint{1u << 4};          ///< conventional PCI endpoint
inline constexpr connect_set pcie_endpoint{1u << 5};         ///< PCI Express endpoint
inline constexpr connect_set pcie_root_port{1u << 6};        ///< pcie-root-port
inline constexpr connect_set pcie_switch_upstream_port{1u << 7};    ///< pcie-switch-upstream-port
inline constexpr connect_set pcie_switch_downstream_port{1u << 8};  ///< pcie-switch-downstream-port
inline constexpr connect_set dmi_to_pci_bridge{1u << 9};     ///< dmi-to-pci-bridge
inline constexpr connect_set pci_expander_bus{1u << 10};     ///< pci-expander-bus (pxb)
inline constexpr connect_set pcie_expander_bus{1u << 11};    ///< pcie-expander-bus (pxb-pcie)
inline constexpr connect_set pci_bridge{1u << 12};           ///< pci-bridge
inline constexpr connect_set pcie_to_pci_bridge{1u << 13};   ///< pcie-to-pci-bridge

/// All kind bits (bits 4-13), without the properties.
inline constexpr connect_set kinds{0x3ff0u};
/// The two endpoint kinds.
inline constexpr connect_set endpoints = pci_endpoint | pcie_endpoint;
/// The kinds that are controllers.
inline constexpr connect_set controllers = kinds - endpoints;
}  // namespace connect

/// The name of one kind bit, as libvirt's error messages name what a slot must accept
/// ("standard PCI device", "PCI Express device", "pcie-root-port", …). Empty when `k`
/// is not exactly one kind.
[[nodiscard]] constexpr std::string_view name_of(connect_set k) noexcept {
  if (k == connect::pci_endpoint) return "standard PCI device";
  if (k == connect::pcie_endpoint) return "PCI Express device";
  if (k == connect::pcie_root_port) return "pcie-root-port";
  if (k == connect::pcie_switch_upstream_port) return "pcie-switch-upstream-port";
  if (k == connect::pcie_switch_downstream_port) return "pcie-switch-downstream-port";
  if (k == connect::dmi_to_pci_bridge) return "dmi-to-pci-bridge";
  if (k == connect::pci_expander_bus) return "pci-expander-bus";
  if (k == connect::pcie_expander_bus) return "pcie-expander-bus";
  if (k == connect::pci_bridge) return "pci-bridge";
  if (k == connect::pcie_to_pci_bridge) return "pcie-to-pci-bridge";
  return {};
}

/// Where the address being checked came from. libvirt relaxes its checks for an
/// address the user wrote, and so does pciplan.
enum class address_origin : unsigned char {
  planned,  ///< chosen by the planner: strict rules
  given,    ///< written by the user: PCI and PCIe endpoints may use each other's slots
};

/// Whether something that needs `need` may occupy a slot of a bus that accepts `bus`.
/// `root_bus` says whether the bus is the machine's root bus (bus 0).
///
/// The rules (RULES.md L1.1, virDomainPCIAddressFlagsCompatible):
///  1. an integrated endpoint fits only the root bus, and there the root bus also
///     accepts conventional PCI and automatic placement for it;
///  2. for a given address, a bus that takes either endpoint kind takes both, and a
///     pci-bridge fits wherever a conventional PCI endpoint fits;
///  3. for a planned address, an auto-assigned endpoint needs an auto-assign bus;
///  4. a device that needs hotplug needs a hot-pluggable bus;
///  5. finally at least one kind must be shared.
[[nodiscard]] constexpr bool fits(connect_set need, connect_set bus, bool root_bus,
                                  address_origin origin = address_origin::planned) noexcept {
  if (need.intersects(connect::integrated)) {
    if (!root_bus) return false;
    bus = bus | connect::pci_endpoint | connect::auto_assign;
  }
  if (origin == address_origin::given) {
    if (bus.intersects(connect::endpoints)) bus = bus | connect::endpoints;
    if (bus.intersects(connect::pci_endpoint)) bus = bus | connect::pci_bridge;
  } else if (need.intersects(connect::auto_assign) && !bus.intersects(connect::auto_assign)) {
    return false;
  }
  if (need.intersects(connect::hotpluggable) && !bus.intersects(connect::hotpluggable)) return false;
  return (need & bus).intersects(connect::kinds);
}

/// Prints the properties and kinds in the set, joined by '|'; "none" for an empty set.
inline std::ostream& operator<<(std::ostream& os, connect_set s) {
  constexpr std::string_view property_names[] = {"auto-assign", "hotpluggable", "integrated", "aggregate-slot"};
  bool first = true;
  for (unsigned bit = 0; bit != 14; ++bit) {
    const connect_set one{1u << bit};
    if (!s.intersects(one)) continue;
    os << (first ? "" : "|") << (bit < 4 ? property_names[bit] : name_of(one));
    first = false;
  }
  return first ? os << "none" : os;
}

}  // namespace pciplan::inline v0

#endif  // PCIPLAN_VOCABULARY_CONNECT_HPP
