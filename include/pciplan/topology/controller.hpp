// pciplan — topology/controller.hpp: one controller instance in a guest, as the planner's
// input (controllers the guest already has) and output (with those it added).
#ifndef PCIPLAN_TOPOLOGY_CONTROLLER_HPP
#define PCIPLAN_TOPOLOGY_CONTROLLER_HPP

#include <pciplan/vocabulary/address.hpp>
#include <pciplan/kinds/controller_kinds.hpp>
#include <pciplan/detail/config.hpp>
#include <pciplan/kinds/kind_lists.hpp>

#include <boost/hana/unpack.hpp>

#include <array>
#include <cstdint>
#include <string_view>

namespace pciplan::inline v0 {

/// An on/off setting that may also be left to the default.
enum class toggle : unsigned char { unset, on, off };

/// The windows QEMU asks firmware to reserve below a pcie-root-port or pci-bridge (its
/// io-reserve, mem-reserve, pref32-reserve and pref64-reserve properties, in bytes), so
/// that devices hot-plugged later find room: firmware sizes each window at least this
/// large. 0: not set (a window is never smaller than its devices need anyway).
struct window_reserves {
  std::uint64_t io = 0;      ///< io-reserve
  std::uint64_t mem = 0;     ///< mem-reserve: 32-bit, non-prefetchable
  std::uint64_t pref32 = 0;  ///< pref32-reserve (QEMU refuses it with pref64)
  std::uint64_t pref64 = 0;  ///< pref64-reserve
  /// Whether none is set.
  [[nodiscard]] constexpr bool empty() const noexcept { return io == 0 && mem == 0 && pref32 == 0 && pref64 == 0; }
  /// Equal when all members are equal.
  friend constexpr bool operator==(const window_reserves&, const window_reserves&) = default;
};

/// One controller: its kind, its index (libvirt's index, which names its bus), where it
/// sits, and its numbering attributes. A value of -1 means "not set; the planner picks".
struct controller {
  controller_index index{};       ///< libvirt's index; devices on its bus name it as their `bus`
  const controller_descriptor* kind = nullptr;  ///< its kind; nullptr: not set
  std::string_view model_name{};  ///< the QEMU device; empty: the kind's default
  /// its QEMU id when the user named it (libvirt ``<alias name='ua-…'/>``); empty: `pci.<index>`
  std::string_view qemu_id{};
  bool has_address = false;       ///< `address` is given (roots have none)
  controller_address libvirt_address{};   ///< its slot: bus = the parent's controller index
  int chassis = -1;               ///< QEMU `chassis` (root and downstream ports); -1: not set
  int port = -1;                  ///< QEMU `port` (root and downstream ports); -1: not set
  int chassis_nr = -1;            ///< QEMU `chassis_nr` (pci-bridge); -1: not set
  int bus_nr = -1;                ///< QEMU `bus_nr`, the first guest bus number (expander buses); -1: not set
  int target_index = -1;          ///< the PHB number, QEMU `index` (pseries PHBs); -1: not set
  int numa_node = -1;             ///< the guest NUMA node an expander bus or PHB is bound to; -1: none
  toggle hotplug = toggle::unset;        ///< `hotplug='off'` / QEMU `hotplug=off`
  toggle multifunction = toggle::unset;  ///< on its own address, function 0 of a shared slot
  bool io_reserve_zero = false;          ///< QEMU `io-reserve=0` on a pcie-root-port
  window_reserves reserves{};            ///< windows reserved for hot-plug (pcie-root-port, pci-bridge)
  bool added = false;                    ///< added by the planner
  // Filled in by the planner:
  std::uint16_t domain = 0;  ///< the guest PCI domain of its bus
  bus_number guest_bus{};          ///< the guest bus number of the bus it provides (firmware numbering)

  /// The QEMU device to emit: `model_name`, or the kind's default.
  [[nodiscard]] constexpr std::string_view qemu_device() const noexcept {
    return model_name.empty() && kind != nullptr ? kind->qemu_device() : model_name;
  }
  /// A copy at `where` (bus = the parent's controller index).
  [[nodiscard]] constexpr controller at(controller_address where) const noexcept {
    controller c = *this;
    c.has_address = true;
    c.libvirt_address = where;
    return c;
  }
  /// Equal when all members are equal.
  friend constexpr bool operator==(const controller&, const controller&) = default;
};

/// Whether QEMU 7.2 takes a hot-plugged device on the bus a controller of `kind` provides,
/// with its `hotplug` setting: the kind supports hotplug, `hotplug='off'` did not turn it
/// off, and it is not a pci-expander-bus (libvirt counts a pxb's slots as hot-pluggable,
/// QEMU refuses: "Bus 'pci.1' does not support hotplugging"). Conservative on q35, whose
/// ACPI bridge hotplug also takes devices behind a dmi-to-pci-bridge or a switch
/// upstream port: those buses count as not hot-pluggable, as libvirt counts them.
[[nodiscard]] constexpr bool bus_hotpluggable(const controller_descriptor& kind, toggle hotplug) noexcept {
  return kind.hotpluggable() && hotplug != toggle::off && !same_kind(kind, descriptor_of<pci_expander_bus>);
}

/// A controller of kind K with index `index` and nothing else decided.
template <ControllerKind K>
constexpr controller make_controller(unsigned index) {
  controller c{};
  c.index = controller_index{static_cast<std::uint16_t>(index)};
  c.kind = &descriptor_of<K>;
  return c;
}

namespace detail {
inline constexpr auto builtin_descriptors = boost::hana::unpack(controller_kinds, [](auto... t) {
  return std::array<const controller_descriptor*, sizeof...(t)>{&descriptor_of<typename decltype(t)::type>...};
});
}  // namespace detail

/// The built-in kind with this libvirt model name; of several (libvirt's pci-root is
/// also pseries' further PHB), the one whose QEMU device is `model_name`, else the first
/// that is not a further root. nullptr if none.
[[nodiscard]] constexpr const controller_descriptor* find_controller_kind(std::string_view model,
                                                                          std::string_view model_name = {}) noexcept {
  const controller_descriptor* first = nullptr;
  for (const controller_descriptor* d : detail::builtin_descriptors) {
    if (d->model != model) continue;
    if (!model_name.empty() && d->qemu_device() == model_name) return d;
    if (first == nullptr && d->role != controller_role::extra_root) first = d;
  }
  return first;
}

}  // namespace pciplan::inline v0

#endif  // PCIPLAN_TOPOLOGY_CONTROLLER_HPP
