// pciplan — kinds/queries.hpp: compile-time questions over the lists of kinds, answered
// with Boost.Hana.
//
//   carriers_of<connect::pci_endpoint>()         // kinds whose bus takes a PCI endpoint
//   parents_of<pcie_root_port>()                 // tuple_t<pcie_root, pcie_expander_bus>
//   shortest_chain<models::e1000, machines::q35>()
//       == hana::just(hana::tuple_t<pcie_root_port, pcie_to_pci_bridge>)
//   shortest_chain<models::e1000e, machines::pc>() == hana::just(hana::tuple_t<>)
//
// Each query takes the list of controller kinds to consider; by default the eleven
// built-in ones (`controller_kinds`), so user-defined kinds can be added.
#ifndef PCIPLAN_KINDS_QUERIES_HPP
#define PCIPLAN_KINDS_QUERIES_HPP

#include <pciplan/kinds/compatibility.hpp>
#include <pciplan/vocabulary/connect.hpp>
#include <pciplan/kinds/controller_kinds.hpp>
#include <pciplan/detail/config.hpp>
#include <pciplan/kinds/device_kinds.hpp>
#include <pciplan/kinds/kind_lists.hpp>
#include <pciplan/kinds/machine_types.hpp>

#include <boost/hana/at.hpp>
#include <boost/hana/bool.hpp>
#include <boost/hana/filter.hpp>
#include <boost/hana/optional.hpp>
#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>

#include <array>
#include <cstddef>
#include <type_traits>
#include <utility>
#include <vector>

namespace pciplan::inline v0 {

/// The kinds in `kinds` whose bus accepts at least one kind in `Kind` (e.g.
/// connect::pci_endpoint, connect::pcie_root_port), as a `hana::tuple_t<…>`.
template <connect_set Kind, class Kinds = decltype(controller_kinds)>
constexpr auto carriers_of(Kinds kinds = controller_kinds) {
  return boost::hana::filter(kinds, [](auto t) {
    return boost::hana::bool_c<descriptor_of<typename decltype(t)::type>.accepts.intersects(Kind & connect::kinds)>;
  });
}

/// The kinds in `kinds` whose bus controller kind C plugs into (PluggableInto).
template <ControllerKind C, class Kinds = decltype(controller_kinds)>
constexpr auto parents_of(Kinds kinds = controller_kinds) {
  return boost::hana::filter(kinds, [](auto t) {
    return boost::hana::bool_c<PluggableInto<C, typename decltype(t)::type>>;
  });
}

/// The kinds in `kinds` that may appear in a layout of machine M (AvailableOn).
template <MachineType M, class Kinds = decltype(controller_kinds)>
constexpr auto available_kinds(Kinds kinds = controller_kinds) {
  return boost::hana::filter(kinds, [](auto t) {
    return boost::hana::bool_c<AvailableOn<typename decltype(t)::type, M>>;
  });
}

/// The kinds in `kinds` on which device D is placed automatically on machine M.
template <DeviceKind D, MachineType M, class Kinds = decltype(controller_kinds)>
constexpr auto auto_carriers_of(Kinds kinds = controller_kinds) {
  return boost::hana::filter(kinds, [](auto t) {
    return boost::hana::bool_c<AutoPlaceable<D, typename decltype(t)::type, M>>;
  });
}

/// The longest chain `shortest_chain` looks at.
inline constexpr std::size_t max_chain_length = 4;

namespace detail {

struct chain_search {
  bool found = false;
  std::size_t length = 0;
  std::array<std::size_t, max_chain_length> kinds{};  // indexes into the kind list
  unsigned hotpluggable = 0;                           // how many buses of the chain can hotplug
};

template <DeviceKind D, MachineType M, class Kinds>
constexpr chain_search find_chain(Kinds kinds) {
  chain_search best{};
  if constexpr (has_pci_v<M>) {
    constexpr auto d = descriptors(Kinds{});
    const auto available = availability<M>(kinds);
    constexpr controller_descriptor root = descriptor_of<root_of<M>>;
    constexpr connect_set need = connect_of<D, M>;
    const auto tip = [&](const chain_search& c) -> const controller_descriptor& {
      return c.length == 0 ? root : d[c.kinds[c.length - 1]];
    };
    std::vector<chain_search> level{chain_search{}};
    for (std::size_t depth = 0; depth <= max_chain_length && !level.empty(); ++depth) {
      // Does the device fit the end of any chain of this length? Prefer the chain with
      // the most hot-pluggable buses, then the first in list order.
      for (const auto& c : level) {
        const bool on_root = c.length == 0;
        if (fits(need, tip(c).bus_flags(), on_root) && (!best.found || c.hotpluggable > best.hotpluggable)) {
          best = c;
          best.found = true;
        }
      }
      if (best.found || depth == max_chain_length) break;
      std::vector<chain_search> next;
      for (const auto& c : level) {
        for (std::size_t k = 0; k != d.size(); ++k) {
          if (!available[k] || !plugs(d[k], tip(c))) continue;
          bool repeated = false;
          for (std::size_t i = 0; i != c.length; ++i) repeated = repeated || c.kinds[i] == k;
          if (repeated) continue;
          chain_search longer = c;
          longer.kinds[longer.length++] = k;
          longer.hotpluggable += d[k].hotpluggable() ? 1u : 0u;
          next.push_back(longer);
        }
      }
      level = std::move(next);
    }
  }
  return best;
}

}  // namespace detail

/// The shortest chain of controller kinds that connects device D to machine M's root
/// bus so that D can be placed on the last one automatically, as
/// `hana::just(hana::tuple_t<First, …, Last>)` (the root itself not included), or
/// `hana::nothing` when no chain of at most `max_chain_length` kinds exists (or M has no
/// PCI). Among chains of equal length the one with more hot-pluggable buses wins
/// (pcie-root-port + pcie-to-pci-bridge before dmi-to-pci-bridge + pci-bridge), then
/// the earlier one in `kinds`.
template <DeviceKind D, MachineType M, class Kinds = decltype(controller_kinds)>
constexpr auto shortest_chain(Kinds kinds = controller_kinds) {
  namespace hana = boost::hana;
  constexpr detail::chain_search found = detail::find_chain<D, M>(Kinds{});
  if constexpr (!found.found) {
    return hana::nothing;
  } else {
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
      return hana::just(hana::make_tuple(hana::at_c<found.kinds[I]>(kinds)...));
    }(std::make_index_sequence<found.length>{});
  }
}

}  // namespace pciplan::inline v0

#endif  // PCIPLAN_KINDS_QUERIES_HPP
