// pciplan — planner/detail/pciplan_bus_ranges.hpp: the busNr partition of the pciplan
// policy's expander buses — each pxb or pxb-pcie without a busNr gets a range of bus
// numbers from the top of its domain's 256, sized for the buses below it, and the main
// hierarchy must fit below the lowest range (firmware numbers it from 0 up).
#ifndef PCIPLAN_PLANNER_DETAIL_PCIPLAN_BUS_RANGES_HPP
#define PCIPLAN_PLANNER_DETAIL_PCIPLAN_BUS_RANGES_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/detail/vectors.hpp>
#include <pciplan/kinds/controller_kinds.hpp>
#include <pciplan/planner/detail/pciplan_growth.hpp>
#include <pciplan/planner/detail/planning_state.hpp>
#include <pciplan/topology/controller.hpp>
#include <pciplan/topology/topology_view.hpp>
#include <pciplan/vocabulary/error.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace pciplan::inline v0::detail {

/// Whether busNr values `busnr` (one per expander in `xs`, positions in the controller
/// list) give each expander room for the `size` buses below it and leave the main
/// hierarchy of domain 0 room below the lowest.
template <MachineType M, class Policy>
[[nodiscard]] constexpr bool partitions_fit(const pciplan_growth<M, Policy>& g, const std::vector<std::size_t>& xs,
                                            const std::vector<int>& busnr, const std::vector<unsigned>& size,
                                            unsigned extra_main) {
  const planning<M>& state = g.state;
  // per domain: main buses [0, main) below the lowest busNr; each range up to the next
  std::vector<std::size_t> by;
  for (std::size_t i = 0; i != xs.size(); ++i) by.push_back(i);
  std::sort(by.begin(), by.end(), [&](std::size_t a, std::size_t b) { return busnr[a] < busnr[b]; });
  unsigned main = extra_main;
  for (const controller& c : state.controllers) {
    if (g.domain_of(c.index.value) != 0) continue;
    bool below_expander = false;
    unsigned at = c.index.value;
    for (std::size_t hops = 0; hops != state.controllers.size(); ++hops) {
      const controller* x = state.find(controller_index{static_cast<std::uint16_t>(at)});
      if (x == nullptr || x->kind->is_root()) break;
      if (x->kind->role == controller_role::expander) {
        below_expander = true;
        break;
      }
      at = x->libvirt_address.bus.value;
    }
    if (!below_expander) main += c.kind->bus_numbers;
  }
  if (main > static_cast<unsigned>(busnr[by.front()])) return false;
  for (std::size_t i = 0; i != by.size(); ++i) {
    const int end = i + 1 < by.size() ? busnr[by[i + 1]] : 256;
    if (busnr[by[i]] + static_cast<int>(size[xs[by[i]]]) > end) return false;
  }
  return true;
}

/// A busNr for every expander (`busnr`, by position in `xs`, the expanders' positions in
/// the controller list): ranges from the top of the domain's bus numbers, each rounded
/// up to a multiple of 8 to leave room to grow (falling back to exact sizes when that
/// does not fit), all below any busNr already given, such that every range holds its
/// subtree and the main hierarchy fits below the lowest. `extra` more buses are counted
/// in `zone` (-1: the main hierarchy), to ask whether one more port would still fit.
/// False when there is no such partition.
template <MachineType M, class Policy>
[[nodiscard]] constexpr bool find_partition(const pciplan_growth<M, Policy>& g, std::vector<std::size_t>& xs,
                                            std::vector<int>& busnr, int zone = -1, unsigned extra = 0) {
  const planning<M>& state = g.state;
  xs.clear();
  for (std::size_t k = 0; k != state.controllers.size(); ++k) {
    if (state.controllers[k].kind->role == controller_role::expander) xs.push_back(k);
  }
  if (xs.empty()) return true;
  // buses below each controller (itself included)
  const std::size_t n = state.controllers.size();
  std::vector<unsigned> size = filled(n, 0u);
  for (std::size_t k = 0; k != n; ++k) size[k] = state.controllers[k].kind->bus_numbers;
  for (std::size_t k = 0; k != n; ++k) {
    const controller& c = state.controllers[k];
    if (c.kind->is_root() || c.kind->role == controller_role::expander) continue;
    // add to every expander above it
    unsigned at = c.libvirt_address.bus.value;
    for (std::size_t hops = 0; hops != n; ++hops) {
      const std::size_t pos = state.position_of(controller_index{static_cast<std::uint16_t>(at)});
      if (pos == no_position) break;
      const controller& up = state.controllers[pos];
      if (up.kind->role == controller_role::expander) {
        size[pos] += c.kind->bus_numbers;
        break;
      }
      if (up.kind->is_root()) break;
      at = up.libvirt_address.bus.value;
    }
  }
  unsigned extra_main = 0;
  if (zone < 0) {
    extra_main = extra;
  } else {
    const std::size_t host = state.position_of(controller_index{static_cast<std::uint16_t>(g.host_of(zone))});
    if (host != no_position && state.controllers[host].kind->role == controller_role::expander) size[host] += extra;
  }
  for (unsigned round = 8; round >= 1; round = round == 8 ? 1 : 0) {
    busnr = filled(xs.size(), -1);
    int limit = 256;
    for (std::size_t x = 0; x != xs.size(); ++x) {
      const int given = state.controllers[xs[x]].bus_nr;
      if (given >= 0 && given < limit) limit = given;
    }
    bool ok = true;
    for (std::size_t x = 0; x != xs.size() && ok; ++x) {
      const controller& c = state.controllers[xs[x]];
      if (c.bus_nr >= 0) {
        busnr[x] = c.bus_nr;
        continue;
      }
      const int want = static_cast<int>((size[xs[x]] + round - 1) / round * round);
      if (limit - want < 1) ok = false;
      else busnr[x] = limit -= want;
    }
    if (ok && partitions_fit(g, xs, busnr, size, extra_main)) return true;
    if (round == 1) break;
  }
  return false;
}

/// Whether `extra` more buses in `zone` (-1: the main hierarchy) still leave a busNr
/// partition (find_partition): spares are added only while they do.
template <MachineType M, class Policy>
[[nodiscard]] constexpr bool room_for_buses(const pciplan_growth<M, Policy>& g, int zone, unsigned extra) {
  std::vector<std::size_t> xs;
  std::vector<int> busnr;
  return find_partition(g, xs, busnr, zone, extra);
}

/// busNr for expanders without one (find_partition); an error when there is no partition.
template <MachineType M, class Policy>
constexpr bool partition_expanders(pciplan_growth<M, Policy>& g) {
  planning<M>& state = g.state;
  std::vector<std::size_t> xs;
  std::vector<int> busnr;
  if (find_partition(g, xs, busnr)) {
    for (std::size_t x = 0; x != xs.size(); ++x) state.controllers[xs[x]].bus_nr = busnr[x];
    return true;
  }
  return state.fail(errc::bus_numbers_exhausted, state.controllers[xs.front()],
                    "finds no busNr range that holds every bus below each expander and the main hierarchy below them");
}

}  // namespace pciplan::inline v0::detail

#endif  // PCIPLAN_PLANNER_DETAIL_PCIPLAN_BUS_RANGES_HPP
