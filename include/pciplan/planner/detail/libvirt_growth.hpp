// pciplan — planner/detail/libvirt_growth.hpp: how libvirt's dry run grows the bus table
// when a device finds no slot or names a bus that does not exist yet (RULES.md L4.3):
// a pci-bridge, a new PHB on pseries, the pcie-root-port + pcie-to-pci-bridge prefix on a
// pure PCIe machine, or a pcie-root-port.
#ifndef PCIPLAN_PLANNER_DETAIL_LIBVIRT_GROWTH_HPP
#define PCIPLAN_PLANNER_DETAIL_LIBVIRT_GROWTH_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/detail/vectors.hpp>
#include <pciplan/kinds/controller_kinds.hpp>
#include <pciplan/kinds/machine_types.hpp>
#include <pciplan/planner/detail/bus_table.hpp>
#include <pciplan/planner/detail/planning_state.hpp>
#include <pciplan/vocabulary/error.hpp>

#include <cstddef>
#include <vector>

namespace pciplan::inline v0::detail {

/// Adds buses to the dry run's table so that `target` exists, with models chosen from
/// the device's flags (virDomainPCIAddressSetGrow), and records each new bus's model in
/// `dry_kinds` (by index). Returns the bus the device should use, or -1 after recording
/// the failure in `p`.
template <class Policy, MachineType M>
constexpr long libvirt_grow(planning<M>& p, bus_table& t, std::vector<const controller_descriptor*>& dry_kinds,
                            connect_set need, std::size_t target, const subject& who) {
  constexpr bool pseries = machine_traits<M>::multiple_roots;
  if (target < t.size()) return static_cast<long>(target);
  std::size_t add = target - t.size() + 1;
  const controller_descriptor* model = nullptr;
  const controller_descriptor* prefix_first = nullptr;
  const controller_descriptor* prefix_second = nullptr;
  if (need.intersects(connect::pci_endpoint)) {
    if constexpr (pseries) {
      model = &descriptor_of<spapr_pci_host_bridge>;
    } else {
      model = &descriptor_of<pci_bridge>;
      bool bridge_slot_exists = false;
      for (const auto& b : t.buses) bridge_slot_exists = bridge_slot_exists || (b.kind != nullptr && b.flags.intersects(connect::pci_bridge));
      if (!bridge_slot_exists) {
        // a pure PCIe guest: the first new buses connect conventional PCI to it. When
        // only one bus was asked for, the device's bus moves one up behind them; when
        // a fixed address names a bus further away, the prefix fills the gap before it
        if constexpr (Policy::pcie_to_pci_bridge) {
          prefix_first = &descriptor_of<pcie_root_port>;
          prefix_second = &descriptor_of<pcie_to_pci_bridge>;
        } else {
          prefix_first = &descriptor_of<dmi_to_pci_bridge>;
        }
        if (add == 1) {
          ++add;
          ++target;
        }
      }
    }
  } else if (need.intersects(connect::pcie_endpoint | connect::pcie_switch_upstream_port)) {
    model = &descriptor_of<pcie_root_port>;
  } else {
    const connect_set kind = need & connect::controllers;
    if (kind.intersects(connect::pci_bridge) || kind.intersects(connect::pci_expander_bus)) {
      p.fail(errc::no_free_slot, who,
              "needs a conventional PCI slot, none is free, and libvirt does not add one for a PCI controller");
    } else {
      p.fail(errc::no_free_slot, who,
              "needs a PCI Express slot on a root bus, none is free, and libvirt does not add root buses");
    }
    return -1;
  }
  const std::size_t base = t.size();
  if (base + add - 1 > Policy::max_index) {
    p.fail(errc::controller_index_exhausted, who, "needs a new bus, but every controller index is in use");
    return -1;
  }
  grow_to(dry_kinds, base + add, static_cast<const controller_descriptor*>(nullptr));
  std::size_t i = base;
  if (is_kind<pcie_root_port>(prefix_first)) {
    // a root port that takes only the pcie-to-pci-bridge, so the spare-port search cannot use it
    t.define(i, *prefix_first, true, -1, 0, false, connect::pcie_to_pci_bridge);
    dry_kinds[i++] = prefix_first;
    t.define(i, *prefix_second, true);
    dry_kinds[i++] = prefix_second;
  } else if (prefix_first != nullptr) {
    t.define(i, *prefix_first, false);
    dry_kinds[i++] = prefix_first;
  }
  for (; i < base + add; ++i) {
    t.define(i, *model, true);
    dry_kinds[i] = model;
  }
  return static_cast<long>(target);
}

}  // namespace pciplan::inline v0::detail

#endif  // PCIPLAN_PLANNER_DETAIL_LIBVIRT_GROWTH_HPP
