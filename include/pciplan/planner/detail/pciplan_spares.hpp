// pciplan — planner/detail/pciplan_spares.hpp: the pciplan policy's spare ports — empty
// hot-pluggable PCIe ports (PCIe machines) or conventional slots (the others) added after
// every device, up to plan_options::spare_ports, as far as they fit.
#ifndef PCIPLAN_PLANNER_DETAIL_PCIPLAN_SPARES_HPP
#define PCIPLAN_PLANNER_DETAIL_PCIPLAN_SPARES_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/kinds/controller_kinds.hpp>
#include <pciplan/planner/detail/bus_table.hpp>
#include <pciplan/planner/detail/pciplan_growth.hpp>
#include <pciplan/topology/topology_plan.hpp>
#include <pciplan/vocabulary/connect.hpp>

namespace pciplan::inline v0::detail {

/// Adds spares until `have` reaches `want`; false (perhaps with a failure recorded) when
/// no more fit. `have` counts the spares there are.
template <MachineType M, class Policy>
constexpr bool grow_spares(pciplan_growth<M, Policy>& g, unsigned want, unsigned& have) {
  const bus_table& table = g.table;
  if constexpr (pciplan_growth<M, Policy>::pcie) {
    for (const controller& c : g.state.controllers) {
      const bus_state& b = table.buses[c.index.value];
      if (c.kind->role == controller_role::port && b.zone == -1 && b.group == 0 && b.empty != 0 &&
          b.flags.contains(pciplan_growth<M, Policy>::port_need)) {
        ++have;
      }
    }
    for (; have < want; ++have) {
      if (g.new_port(-1, "spare port", 0) < 0) return false;
    }
  } else {
    for (const auto& c : table.classes) {
      if (c.group == 0 && c.zone == -1 &&
          fits(connect::pci_endpoint | connect::auto_assign | connect::hotpluggable, c.flags, c.index0)) {
        have += c.free_slots;
      }
    }
    while (have < want) {
      const slot_choice b = g.table.find(connect::pci_bridge, 0, -1, -1);
      if (!b.found) {
        if constexpr (pciplan_growth<M, Policy>::pseries) {
          if (g.add_phb(-1, "spare slots") < 0) return false;
          have += descriptor_of<spapr_pci_host_bridge>.slots.count();
          continue;
        }
        return false;
      }
      if (g.add(descriptor_of<pci_bridge>, slot_choice{true, b.bus, b.slot, 0}, -1, "spare slots") < 0) return false;
      have += descriptor_of<pci_bridge>.slots.count() - 1;
    }
  }
  return true;
}

/// Empty hot-pluggable ports (PCIe machines) or slots (others) up to `spare_ports`.
/// Spares are best effort: when no more fit, the plan stands with a warning.
template <MachineType M, class Policy>
constexpr void add_spares(pciplan_growth<M, Policy>& g) {
  const unsigned want = g.state.options.spare_ports;
  if (want == 0) return;
  unsigned have = 0;
  if (!g.state.attempt([&] { return grow_spares(g, want, have); })) {
    g.state.warn(warning_code::spares_short,
                 "fewer spare hot-pluggable ports or slots fit than were asked for (no slot or bus number left)", have);
  }
}

}  // namespace pciplan::inline v0::detail

#endif  // PCIPLAN_PLANNER_DETAIL_PCIPLAN_SPARES_HPP
