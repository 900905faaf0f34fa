// pciplan — kinds/compatibility.hpp: slot compatibility as concepts.
//
//   static_assert(pciplan::PluggableInto<pcie_root_port, pcie_root>);
//   static_assert(!pciplan::PluggableInto<pcie_root_port, pci_bridge>);
//   static_assert(pciplan::SlotCompatible<models::e1000, pcie_to_pci_bridge, machines::q35>);
//
// All of them derive from the traits (what a kind connects as, what a bus accepts),
// through the one rule function `fits` (connect.hpp); nothing is listed twice.
#ifndef PCIPLAN_KINDS_COMPATIBILITY_HPP
#define PCIPLAN_KINDS_COMPATIBILITY_HPP

#include <pciplan/vocabulary/connect.hpp>
#include <pciplan/kinds/controller_kinds.hpp>
#include <pciplan/detail/config.hpp>
#include <pciplan/kinds/device_kinds.hpp>
#include <pciplan/kinds/kind_lists.hpp>
#include <pciplan/kinds/machine_types.hpp>

#include <boost/hana/contains.hpp>
#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>
#include <boost/hana/unpack.hpp>

#include <array>
#include <concepts>
#include <cstddef>
#include <type_traits>

namespace pciplan::inline v0 {

namespace detail {

/// A controller described by `child` may occupy a slot of the bus of `parent`.
constexpr bool plugs(const controller_descriptor& child, const controller_descriptor& parent) noexcept {
  return !child.is_root() && fits(child.connects_as, parent.bus_flags(), parent.is_root());
}

/// The descriptors of a Hana tuple of controller kinds, in order.
template <class Kinds>
constexpr auto descriptors(Kinds kinds) {
  return boost::hana::unpack(kinds, [](auto... t) {
    return std::array<controller_descriptor, sizeof...(t)>{descriptor_of<typename decltype(t)::type>...};
  });
}

/// For each kind in `Kinds`: may it appear in a layout of machine M? Roots: only M's
/// own root. Expanders: only those M allows. Others: when they plug into something
/// that may appear (a fixed point over the list).
template <MachineType M, class Kinds>
constexpr auto availability(Kinds kinds) {
  namespace hana = boost::hana;
  constexpr auto d = descriptors(Kinds{});
  constexpr std::size_t n = d.size();
  const auto is_root = hana::unpack(
      kinds, [](auto... t) { return std::array<bool, n>{std::is_same_v<typename decltype(t)::type, root_of<M>>...}; });
  const auto expander_allowed = hana::unpack(kinds, [](auto... t) {
    return std::array<bool, n>{decltype(hana::contains(machine_traits<M>::expanders, t))::value...};
  });
  std::array<bool, n> available{};
  if constexpr (!has_pci_v<M>) {
    return available;
  } else {
    for (std::size_t i = 0; i != n; ++i) available[i] = is_root[i];
    for (bool changed = true; changed;) {
      changed = false;
      for (std::size_t i = 0; i != n; ++i) {
        if (available[i] || d[i].is_root()) continue;
        if (d[i].role == controller_role::expander && !expander_allowed[i]) continue;
        for (std::size_t j = 0; j != n; ++j) {
          if (available[j] && plugs(d[i], d[j])) {
            available[i] = true;
            changed = true;
            break;
          }
        }
      }
    }
    return available;
  }
}

template <ControllerKind C, MachineType M>
constexpr bool available_on() noexcept {
  namespace hana = boost::hana;
  if constexpr (!has_pci_v<M>) {
    return false;
  } else if constexpr (is_root_v<C>) {
    return std::is_same_v<C, root_of<M>>;
  } else if constexpr (descriptor_of<C>.role == controller_role::expander) {
    return decltype(hana::contains(machine_traits<M>::expanders, hana::type_c<C>))::value;
  } else {
    // Relative to the built-in kinds: C may appear when it plugs into one that may.
    constexpr auto d = descriptors(controller_kinds);
    constexpr auto available = availability<M>(controller_kinds);
    for (std::size_t j = 0; j != d.size(); ++j) {
      if (available[j] && plugs(descriptor_of<C>, d[j])) return true;
    }
    return false;
  }
}

}  // namespace detail

/// @brief `Child` may be plugged into a slot of the bus that `Parent` provides.
///
/// Both are controller kinds; roots plug into nothing. Derived from
/// `controller_traits<Child>::connects_as` and `controller_traits<Parent>::accepts`
/// (RULES.md L1.2). Satisfied e.g. by <pcie_root_port, pcie_root>,
/// <pcie_switch_downstream_port, pcie_switch_upstream_port>; not by
/// <pcie_root_port, pci_bridge> or <pcie_expander_bus, pci_root>.
template <class Child, class Parent>
concept PluggableInto =
    ControllerKind<Child> && ControllerKind<Parent> && detail::plugs(descriptor_of<Child>, descriptor_of<Parent>);

/// @brief Controller kind `C` can be part of a layout of machine `M`.
///
/// The machine's own root; an expander the machine allows (pxb on pc, pxb-pcie on q35
/// and aarch64 virt, RULES.md L2.1); any other kind that plugs into a kind
/// that is available. Satisfied by <pcie_root_port, machines::q35>; not by
/// <pcie_expander_bus, machines::pc> or <pcie_root_port, machines::pc>.
template <class C, class M>
concept AvailableOn = ControllerKind<C> && MachineType<M> && detail::available_on<C, M>();

/// @brief Device `D` may occupy a slot of a `C` bus on machine `M`.
///
/// D's connect kind on M (connect_of) is one that C's bus accepts; an integrated
/// endpoint only on M's root bus. Automatic placement is not required: a PCIe device
/// on pcie-root (an integrated endpoint) is compatible. Satisfied by
/// <models::virtio_net, pcie_root_port, machines::q35>,
/// <models::e1000, pcie_to_pci_bridge, machines::q35>; not by
/// <models::e1000, pcie_root_port, machines::q35>.
template <class D, class C, class M>
concept SlotCompatible = DeviceKind<D> && ControllerKind<C> && MachineType<M> && AvailableOn<C, M> &&
                         fits(connect_of<D, M> - connect::auto_assign, descriptor_of<C>.bus_flags(),
                              std::is_same_v<C, root_of<M>>);

/// @brief Device `D` may be *placed automatically* on a `C` bus on machine `M`:
/// SlotCompatible, and C's bus allows automatic placement of endpoints (pcie-root,
/// dmi-to-pci-bridge and the switch upstream port do not; RULES.md L1.1).
template <class D, class C, class M>
concept AutoPlaceable =
    SlotCompatible<D, C, M> && fits(connect_of<D, M>, descriptor_of<C>.bus_flags(), std::is_same_v<C, root_of<M>>);

}  // namespace pciplan::inline v0

#endif  // PCIPLAN_KINDS_COMPATIBILITY_HPP
