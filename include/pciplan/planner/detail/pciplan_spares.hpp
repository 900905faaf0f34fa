// pciplan — planner/detail/pciplan_spares.hpp: the pciplan policy's spare ports — empty
// hot-pluggable PCIe ports (PCIe machines) or conventional slots (the others) added after
// every device, up to plan_options::spare_ports in the main hierarchy and
// spare_ports_per_node (or node_spare_ports) on each NUMA node, as far as they fit.
#ifndef PCIPLAN_PLANNER_DETAIL_PCIPLAN_SPARES_HPP
#define PCIPLAN_PLANNER_DETAIL_PCIPLAN_SPARES_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/kinds/controller_kinds.hpp>
#include <pciplan/planner/detail/bus_table.hpp>
#include <pciplan/planner/detail/pciplan_bus_ranges.hpp>
#include <pciplan/planner/detail/pciplan_growth.hpp>
#include <pciplan/topology/topology_plan.hpp>
#include <pciplan/vocabulary/connect.hpp>
#include <pciplan/planner/detail/planning_state.hpp>

#include <cstddef>
#include <span>

namespace pciplan::inline v0::detail {

/// Empty hot-pluggable PCI slots of isolation group 0 in `zone` (a slot of a bus that
/// takes conventional hot-pluggable devices, not the root bus's).
template <MachineType M, class Policy>
[[nodiscard]] constexpr unsigned spare_slots_in(const pciplan_growth<M, Policy>& g, int zone) noexcept {
  unsigned n = 0;
  for (const auto& c : g.table.classes) {
    if (c.group == 0 && c.zone == zone &&
        fits(connect::pci_endpoint | connect::auto_assign | connect::hotpluggable, c.flags, c.index0)) {
      n += c.free_slots;
    }
  }
  return n;
}

/// Adds spares in `zone` (-1: the main hierarchy, else a NUMA node's) until `have`
/// reaches `want`; false (perhaps with a failure recorded) when no more fit. `have`
/// counts the spares there are.
template <MachineType M, class Policy>
constexpr bool grow_spares(pciplan_growth<M, Policy>& g, int zone, unsigned want, unsigned& have) {
  const bus_table& table = g.table;
  if constexpr (pciplan_growth<M, Policy>::pcie) {
    for (const controller& c : g.state.controllers) {
      const bus_state& b = table.buses[c.index.value];
      if (c.kind->role == controller_role::port && b.zone == zone && b.group == 0 && b.empty != 0 &&
          b.flags.contains(pciplan_growth<M, Policy>::port_need)) {
        ++have;
      }
    }
    for (; have < want; ++have) {
      // a port may come with a switch: up to 3 buses, which the busNr ranges must hold
      if (!room_for_buses(g, zone, 3) || g.new_port(zone, "spare port", 0) < 0) return false;
    }
  } else {
    have += spare_slots_in(g, zone);
    while (have < want) {
      const slot_choice b = g.table.find(connect::pci_bridge, 0, -1, zone);
      if (!b.found) {
        if constexpr (pciplan_growth<M, Policy>::pseries) {
          if (zone < 0) {
            if (g.add_phb(-1, "spare slots") < 0) return false;
            have += descriptor_of<spapr_pci_host_bridge>.slots.count();
            continue;
          }
        }
        return false;
      }
      if (!room_for_buses(g, zone, descriptor_of<pci_bridge>.bus_numbers) ||
          g.add(descriptor_of<pci_bridge>, slot_choice{true, b.bus, b.slot, 0}, zone, "spare slots") < 0) {
        return false;
      }
      have = spare_slots_in(g, zone);  // a bridge on a bus without hotplug (a pxb) adds all its slots
    }
  }
  return true;
}

/// Empty hot-pluggable ports (PCIe machines) or slots (others): `spare_ports` in the
/// main hierarchy, then `spare_ports_per_node` (or the node's own count) on every NUMA
/// node with an expander. Spares are best effort: when no more fit, the plan stands with
/// a warning.
template <MachineType M, class Policy>
constexpr bool add_spares(pciplan_growth<M, Policy>& g) {
  planning<M>& p = g.state;
  bool short_of_spares = false;
  unsigned have = 0;
  const unsigned want = p.options.spare_ports;
  if (want != 0 && !p.attempt([&] { return grow_spares(g, -1, want, have); })) short_of_spares = true;
  // nodes given a count of their own get their expander
  const std::span<const int> own = p.options.node_spare_ports;
  for (std::size_t node = 0; node != own.size(); ++node) {
    if (own[node] <= 0) continue;
    if (p.options.numa_nodes != 0 && node >= p.options.numa_nodes) {
      return p.fail(errc::invalid_request, "spare ports",
                    "are asked for on a NUMA node the guest does not have (node_spare_ports is longer than numa_nodes)");
    }
    if (!p.attempt([&] { return g.zone_for(static_cast<int>(node), "spare ports") >= 0; })) short_of_spares = true;
  }
  for (std::size_t z = 0; z != g.zones.size(); ++z) {
    const auto node = static_cast<std::size_t>(g.zones[z].numa);
    const unsigned zone_want = node < own.size() && own[node] >= 0 ? static_cast<unsigned>(own[node])
                                                                   : p.options.spare_ports_per_node;
    unsigned zone_have = 0;
    if (zone_want != 0 && !p.attempt([&] { return grow_spares(g, static_cast<int>(z), zone_want, zone_have); })) {
      short_of_spares = true;
    }
    have += zone_have;
  }
  if (short_of_spares) {
    p.warn(warning_code::spares_short,
           "fewer spare hot-pluggable ports or slots fit than were asked for (no slot or bus number left)", have);
  }
  return true;
}

}  // namespace pciplan::inline v0::detail

#endif  // PCIPLAN_PLANNER_DETAIL_PCIPLAN_SPARES_HPP
