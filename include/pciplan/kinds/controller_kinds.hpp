// pciplan — kinds/controller_kinds.hpp: the eleven PCI controller kinds as types, their traits,
// and the ControllerKind concept.
//
// A controller kind is an empty tag type; everything known about it lives in one
// customisation point, `controller_traits<Kind>`. Users add a kind by specialising
// `controller_traits` for their own tag (see ControllerKind for what is required),
// never by editing these. Facts: RULES.md L1.2 (what plugs where, slots,
// hotplug, QEMU devices), L1.3 (numbering attributes), L1.4 (root bus names),
// RULES.md Q13, Q14, Q17.
#ifndef PCIPLAN_KINDS_CONTROLLER_KINDS_HPP
#define PCIPLAN_KINDS_CONTROLLER_KINDS_HPP

#include <pciplan/vocabulary/connect.hpp>
#include <pciplan/detail/config.hpp>
#include <pciplan/vocabulary/numbering.hpp>

#include <array>
#include <concepts>
#include <cstdint>
#include <span>
#include <string_view>
#include <type_traits>

namespace pciplan::inline v0 {

/// The customisation point: specialise for each controller kind.
template <class Kind>
struct controller_traits;

/// What a controller is, structurally.
enum class controller_role : unsigned char {
  root,        ///< the machine's root bus (pci-root, pcie-root): implicit, index 0, no address
  extra_root,  ///< a further root bus in its own PCI domain (pseries PHB)
  bridge,      ///< a PCI-PCI bridge: pci-bridge, dmi-to-pci-bridge, pcie-to-pci-bridge
  port,        ///< one-slot PCIe port: pcie-root-port, pcie-switch-downstream-port
  switch_upstream,  ///< the upstream side of a PCIe switch; its bus takes downstream ports
  expander,    ///< an extra root bus hung off the main root: pxb, pxb-pcie
};

/// Whether the slots of a controller's bus support hot(un)plug.
enum class hotplug_support : unsigned char {
  none,        ///< never (root complexes, DMI bridge, switch upstream port, pxb-pcie)
  always,      ///< always on (pci-bridge, pcie-to-pci-bridge via SHPC; pxb)
  switchable,  ///< on by default, and `hotplug='off'` may turn it off (root and downstream ports, pci-root)
};

/// The inclusive range of usable slots on a bus.
struct slot_range {
  std::uint8_t first = 0;  ///< lowest usable slot number (0-31)
  std::uint8_t last = 0;   ///< highest usable slot number, inclusive (0-31)
  /// Whether `slot` lies within the range.
  [[nodiscard]] constexpr bool contains(unsigned slot) const noexcept { return slot >= first && slot <= last; }
  /// The number of slots in the range.
  [[nodiscard]] constexpr unsigned count() const noexcept { return last + 1u - first; }
  /// Compares all members.
  friend constexpr bool operator==(slot_range, slot_range) = default;
};

// ---- the eleven kinds ------------------------------------------------------------
struct pci_root {};                     ///< conventional PCI root bus (pc, pseries PHB 0, s390x zPCI)
struct pcie_root {};                    ///< PCI Express root complex (q35, virt machines)
struct pci_bridge {};                   ///< PCI-PCI bridge with SHPC hotplug
struct dmi_to_pci_bridge {};            ///< Intel i82801b11 DMI-to-PCI bridge: PCI bus on a PCIe root
struct pcie_root_port {};               ///< PCIe root port: one hot-pluggable PCIe slot
struct pcie_switch_upstream_port {};    ///< PCIe switch, upstream side
struct pcie_switch_downstream_port {};  ///< PCIe switch, downstream side: one hot-pluggable slot
struct pci_expander_bus {};             ///< pxb: extra PCI root bus (NUMA affinity), i440fx only
struct pcie_expander_bus {};            ///< pxb-pcie: extra PCIe root bus (NUMA affinity)
struct pcie_to_pci_bridge {};           ///< generic PCIe-to-PCI bridge with SHPC hotplug
struct spapr_pci_host_bridge {};        ///< pseries PHB: a further root bus, a PCI domain of its own

template <>
struct controller_traits<pci_root> {
  static constexpr std::string_view model = "pci-root";
  static constexpr std::array<std::string_view, 0> qemu_devices{};  // implicit in the machine
  static constexpr std::string_view root_bus = "pci.0";
  static constexpr controller_role role = controller_role::root;
  static constexpr connect_set connects_as{};
  static constexpr connect_set accepts = connect::pci_endpoint | connect::pci_bridge | connect::pci_expander_bus;
  static constexpr slot_range slots{1, 31};
  static constexpr hotplug_support hotplug = hotplug_support::switchable;
  static constexpr bool auto_assign = true;
  static constexpr std::uint8_t bus_numbers = 1;
  static constexpr numbering_set numbered_by{};
  static constexpr bool numa_node = false;
  static constexpr bool shpc = false;
};

template <>
struct controller_traits<pcie_root> {
  static constexpr std::string_view model = "pcie-root";
  static constexpr std::array<std::string_view, 0> qemu_devices{};
  static constexpr std::string_view root_bus = "pcie.0";
  static constexpr controller_role role = controller_role::root;
  static constexpr connect_set connects_as{};
  static constexpr connect_set accepts =
      connect::pcie_endpoint | connect::pcie_root_port | connect::dmi_to_pci_bridge | connect::pcie_expander_bus;
  static constexpr slot_range slots{1, 31};
  static constexpr hotplug_support hotplug = hotplug_support::none;
  static constexpr bool auto_assign = false;
  static constexpr std::uint8_t bus_numbers = 1;
  static constexpr numbering_set numbered_by{};
  static constexpr bool numa_node = false;
  static constexpr bool shpc = false;
};

template <>
struct controller_traits<pci_bridge> {
  static constexpr std::string_view model = "pci-bridge";
  static constexpr std::array<std::string_view, 1> qemu_devices{"pci-bridge"};
  static constexpr std::string_view root_bus{};
  static constexpr controller_role role = controller_role::bridge;
  static constexpr connect_set connects_as = connect::pci_bridge;
  static constexpr connect_set accepts = connect::pci_endpoint | connect::pci_bridge;
  static constexpr slot_range slots{1, 31};  // slot 0 belongs to the SHPC
  static constexpr hotplug_support hotplug = hotplug_support::always;
  static constexpr bool auto_assign = true;
  static constexpr std::uint8_t bus_numbers = 1;
  static constexpr numbering_set numbered_by = only(numbering::chassis_nr);
  static constexpr bool numa_node = false;
  static constexpr bool shpc = true;
};

template <>
struct controller_traits<dmi_to_pci_bridge> {
  static constexpr std::string_view model = "dmi-to-pci-bridge";
  static constexpr std::array<std::string_view, 1> qemu_devices{"i82801b11-bridge"};
  static constexpr std::string_view root_bus{};
  static constexpr controller_role role = controller_role::bridge;
  static constexpr connect_set connects_as = connect::dmi_to_pci_bridge;
  static constexpr connect_set accepts = connect::pci_endpoint | connect::pci_bridge;
  static constexpr slot_range slots{0, 31};
  static constexpr hotplug_support hotplug = hotplug_support::none;
  static constexpr bool auto_assign = false;
  static constexpr std::uint8_t bus_numbers = 1;
  static constexpr numbering_set numbered_by{};
  static constexpr bool numa_node = false;
  static constexpr bool shpc = false;
};

template <>
struct controller_traits<pcie_root_port> {
  static constexpr std::string_view model = "pcie-root-port";
  static constexpr std::array<std::string_view, 2> qemu_devices{"pcie-root-port", "ioh3420"};
  static constexpr std::string_view root_bus{};
  static constexpr controller_role role = controller_role::port;
  // Root ports may share a slot, one per function (libvirt packs 8 per slot).
  static constexpr connect_set connects_as = connect::pcie_root_port | connect::aggregate_slot;
  static constexpr connect_set accepts =
      connect::pcie_endpoint | connect::pcie_switch_upstream_port | connect::pcie_to_pci_bridge;
  static constexpr slot_range slots{0, 0};
  static constexpr hotplug_support hotplug = hotplug_support::switchable;
  static constexpr bool auto_assign = true;
  static constexpr std::uint8_t bus_numbers = 1;
  static constexpr numbering_set numbered_by = numbering::chassis | numbering::port;
  static constexpr bool numa_node = false;
  static constexpr bool shpc = false;
};

template <>
struct controller_traits<pcie_switch_upstream_port> {
  static constexpr std::string_view model = "pcie-switch-upstream-port";
  static constexpr std::array<std::string_view, 1> qemu_devices{"x3130-upstream"};
  static constexpr std::string_view root_bus{};
  static constexpr controller_role role = controller_role::switch_upstream;
  static constexpr connect_set connects_as = connect::pcie_switch_upstream_port;
  static constexpr connect_set accepts = connect::pcie_switch_downstream_port;
  static constexpr slot_range slots{0, 31};
  static constexpr hotplug_support hotplug = hotplug_support::none;
  static constexpr bool auto_assign = false;
  static constexpr std::uint8_t bus_numbers = 1;
  static constexpr numbering_set numbered_by{};
  static constexpr bool numa_node = false;
  static constexpr bool shpc = false;
};

template <>
struct controller_traits<pcie_switch_downstream_port> {
  static constexpr std::string_view model = "pcie-switch-downstream-port";
  static constexpr std::array<std::string_view, 1> qemu_devices{"xio3130-downstream"};
  static constexpr std::string_view root_bus{};
  static constexpr controller_role role = controller_role::port;
  static constexpr connect_set connects_as = connect::pcie_switch_downstream_port;
  static constexpr connect_set accepts =
      connect::pcie_endpoint | connect::pcie_switch_upstream_port | connect::pcie_to_pci_bridge;
  static constexpr slot_range slots{0, 0};
  static constexpr hotplug_support hotplug = hotplug_support::switchable;
  static constexpr bool auto_assign = true;
  static constexpr std::uint8_t bus_numbers = 1;
  static constexpr numbering_set numbered_by = numbering::chassis | numbering::port;
  static constexpr bool numa_node = false;
  static constexpr bool shpc = false;
};

template <>
struct controller_traits<pci_expander_bus> {
  static constexpr std::string_view model = "pci-expander-bus";
  static constexpr std::array<std::string_view, 1> qemu_devices{"pxb"};
  static constexpr std::string_view root_bus{};
  static constexpr controller_role role = controller_role::expander;
  static constexpr connect_set connects_as = connect::pci_expander_bus;
  static constexpr connect_set accepts = connect::pci_endpoint | connect::pci_bridge;
  static constexpr slot_range slots{0, 31};
  static constexpr hotplug_support hotplug = hotplug_support::always;
  static constexpr bool auto_assign = true;
  // its own root bus (bus_nr) plus the internal bridge whose bus the devices use (bus_nr + 1)
  static constexpr std::uint8_t bus_numbers = 2;
  static constexpr numbering_set numbered_by = only(numbering::bus_nr);
  static constexpr bool numa_node = true;
  static constexpr bool shpc = false;
};

template <>
struct controller_traits<pcie_expander_bus> {
  static constexpr std::string_view model = "pcie-expander-bus";
  static constexpr std::array<std::string_view, 1> qemu_devices{"pxb-pcie"};
  static constexpr std::string_view root_bus{};
  static constexpr controller_role role = controller_role::expander;
  static constexpr connect_set connects_as = connect::pcie_expander_bus;
  static constexpr connect_set accepts = connect::pcie_root_port | connect::dmi_to_pci_bridge;
  static constexpr slot_range slots{0, 31};
  static constexpr hotplug_support hotplug = hotplug_support::none;
  static constexpr bool auto_assign = false;
  static constexpr std::uint8_t bus_numbers = 1;
  static constexpr numbering_set numbered_by = only(numbering::bus_nr);
  static constexpr bool numa_node = true;
  static constexpr bool shpc = false;
};

template <>
struct controller_traits<pcie_to_pci_bridge> {
  static constexpr std::string_view model = "pcie-to-pci-bridge";
  static constexpr std::array<std::string_view, 1> qemu_devices{"pcie-pci-bridge"};
  static constexpr std::string_view root_bus{};
  static constexpr controller_role role = controller_role::bridge;
  static constexpr connect_set connects_as = connect::pcie_to_pci_bridge;
  static constexpr connect_set accepts = connect::pci_endpoint | connect::pci_bridge;
  static constexpr slot_range slots{1, 31};  // slot 0 belongs to the SHPC
  static constexpr hotplug_support hotplug = hotplug_support::always;
  static constexpr bool auto_assign = true;
  static constexpr std::uint8_t bus_numbers = 1;
  static constexpr numbering_set numbered_by{};
  static constexpr bool numa_node = false;
  static constexpr bool shpc = true;
};

template <>
struct controller_traits<spapr_pci_host_bridge> {
  static constexpr std::string_view model = "pci-root";  // libvirt: model='pci-root', modelName below
  static constexpr std::array<std::string_view, 1> qemu_devices{"spapr-pci-host-bridge"};
  static constexpr std::string_view root_bus = "pci.0";  // of the default PHB; others are `<id>.0`
  static constexpr controller_role role = controller_role::extra_root;
  static constexpr connect_set connects_as{};
  static constexpr connect_set accepts = connect::pci_endpoint | connect::pci_bridge;
  static constexpr slot_range slots{1, 31};
  static constexpr hotplug_support hotplug = hotplug_support::always;
  static constexpr bool auto_assign = true;
  static constexpr std::uint8_t bus_numbers = 1;  // bus 0 of its own PCI domain
  static constexpr numbering_set numbered_by = only(numbering::target_index);
  static constexpr bool numa_node = true;  // except the default PHB (index 0)
  static constexpr bool shpc = false;
};

// ---- the concept ------------------------------------------------------------------
namespace detail {
template <class T, class U>
concept exactly = std::same_as<std::remove_cvref_t<T>, U>;
}  // namespace detail

/// controller_traits<C> names the libvirt model and the QEMU devices.
template <class C>
concept HasControllerNames = requires {
  { controller_traits<C>::model } -> detail::exactly<std::string_view>;
  { controller_traits<C>::root_bus } -> detail::exactly<std::string_view>;
  std::span<const std::string_view>(controller_traits<C>::qemu_devices);
};

/// controller_traits<C> says where the kind plugs in and what its bus takes.
template <class C>
concept HasConnectKinds = requires {
  { controller_traits<C>::role } -> detail::exactly<controller_role>;
  { controller_traits<C>::connects_as } -> detail::exactly<connect_set>;
  { controller_traits<C>::accepts } -> detail::exactly<connect_set>;
};

/// controller_traits<C> describes its bus: slots, hotplug, auto-assignment, bus numbers.
template <class C>
concept HasBusShape = requires {
  { controller_traits<C>::slots } -> detail::exactly<slot_range>;
  { controller_traits<C>::hotplug } -> detail::exactly<hotplug_support>;
  { controller_traits<C>::auto_assign } -> detail::exactly<bool>;
  { controller_traits<C>::bus_numbers } -> detail::exactly<std::uint8_t>;
  { controller_traits<C>::shpc } -> detail::exactly<bool>;
  requires controller_traits<C>::slots.first <= controller_traits<C>::slots.last;
  requires controller_traits<C>::slots.last <= 31;
  requires controller_traits<C>::bus_numbers >= 1;
};

/// controller_traits<C> lists its numbering attributes and NUMA capability.
template <class C>
concept HasNumbering = requires {
  { controller_traits<C>::numbered_by } -> detail::exactly<numbering_set>;
  { controller_traits<C>::numa_node } -> detail::exactly<bool>;
};

/// @brief A controller kind: a type with a complete `controller_traits` specialisation.
///
/// Required members of controller_traits<C> (all static constexpr):
///  - `model` (string_view): libvirt's model name; `root_bus` (string_view): the QEMU
///    bus name of a root ("pcie.0"), empty for other kinds;
///  - `qemu_devices`: array of string_view, preferred QEMU device first (may be empty);
///  - `role` (controller_role); `connects_as` (connect_set): the slot kind it needs,
///    empty for roots; `accepts` (connect_set): what its bus takes;
///  - `slots` (slot_range, within 0-31); `hotplug` (hotplug_support);
///    `auto_assign` (bool): endpoints may be placed on it automatically;
///    `bus_numbers` (uint8_t, at least 1): guest bus numbers it consumes; `shpc` (bool);
///  - `numbered_by` (numbering_set); `numa_node` (bool).
/// Models: pci_root, pcie_root, pci_bridge, dmi_to_pci_bridge, pcie_root_port,
/// pcie_switch_upstream_port, pcie_switch_downstream_port, pci_expander_bus,
/// pcie_expander_bus, pcie_to_pci_bridge, spapr_pci_host_bridge.
template <class C>
concept ControllerKind = HasControllerNames<C> && HasConnectKinds<C> && HasBusShape<C> && HasNumbering<C>;

// ---- value-level description ------------------------------------------------------

/// Everything controller_traits says, as one value, for run-time code and constexpr
/// loops over kinds.
struct controller_descriptor {
  std::string_view model{};                          ///< libvirt's controller model name
  std::span<const std::string_view> qemu_devices{};  ///< QEMU device names, preferred first; may be empty
  std::string_view root_bus{};                       ///< QEMU bus name of a root ("pcie.0"); empty for other kinds
  controller_role role = controller_role::bridge;    ///< what the controller is, structurally
  connect_set connects_as{};                         ///< the slot kind it needs; empty for roots
  connect_set accepts{};                             ///< what its bus takes
  slot_range slots{};                                ///< the usable slots on its bus
  hotplug_support hotplug = hotplug_support::none;   ///< whether its bus slots support hotplug
  bool auto_assign = false;                          ///< endpoints may be placed on its bus automatically
  std::uint8_t bus_numbers = 1;                      ///< how many guest bus numbers it consumes (at least 1)
  numbering_set numbered_by{};                       ///< the numbering attributes it carries
  bool numa_node = false;                            ///< whether it may be given a NUMA node
  bool shpc = false;                                 ///< whether it has an SHPC hotplug controller

  /// The QEMU device pciplan emits by default (empty for implicit roots).
  [[nodiscard]] constexpr std::string_view qemu_device() const noexcept {
    return qemu_devices.empty() ? std::string_view{} : qemu_devices.front();
  }
  /// Whether this is a root bus (root or extra_root).
  [[nodiscard]] constexpr bool is_root() const noexcept {
    return role == controller_role::root || role == controller_role::extra_root;
  }
  /// Whether its bus slots support hotplug at all (anything but hotplug_support::none).
  [[nodiscard]] constexpr bool hotpluggable() const noexcept { return hotplug != hotplug_support::none; }
  /// What the bus offers, as connect flags: `accepts` plus auto_assign and
  /// hotpluggable where they hold (the "bus" side of `fits`).
  [[nodiscard]] constexpr connect_set bus_flags() const noexcept {
    return accepts | (auto_assign ? connect::auto_assign : connect_set{}) |
           (hotpluggable() ? connect::hotpluggable : connect_set{});
  }
};

/// The controller_descriptor of controller kind C.
template <ControllerKind C>
inline constexpr controller_descriptor descriptor_of{
    controller_traits<C>::model,       controller_traits<C>::qemu_devices, controller_traits<C>::root_bus,
    controller_traits<C>::role,        controller_traits<C>::connects_as,  controller_traits<C>::accepts,
    controller_traits<C>::slots,       controller_traits<C>::hotplug,      controller_traits<C>::auto_assign,
    controller_traits<C>::bus_numbers, controller_traits<C>::numbered_by,  controller_traits<C>::numa_node,
    controller_traits<C>::shpc};

/// Whether two descriptors describe the same kind: the same role, libvirt model and QEMU
/// device. Compared by content, so a copy of a descriptor still names its kind.
[[nodiscard]] constexpr bool same_kind(const controller_descriptor& a, const controller_descriptor& b) noexcept {
  if (&a == &b) return true;
  return a.role == b.role && a.model == b.model && a.qemu_device() == b.qemu_device();
}

/// Whether `d` describes controller kind K.
template <ControllerKind K>
[[nodiscard]] constexpr bool is_kind(const controller_descriptor* d) noexcept {
  return d != nullptr && same_kind(*d, descriptor_of<K>);
}

/// The root kinds (root and extra_root).
template <ControllerKind C>
inline constexpr bool is_root_v = descriptor_of<C>.is_root();

}  // namespace pciplan::inline v0

#endif  // PCIPLAN_KINDS_CONTROLLER_KINDS_HPP
