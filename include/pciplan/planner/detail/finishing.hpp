// pciplan — planner/detail/finishing.hpp: the last step of both policies — multifunction
// marks, libvirt's numbering defaults, the guest bus numbers firmware gives, the guest
// addresses, and the finished plan.
#ifndef PCIPLAN_PLANNER_DETAIL_FINISHING_HPP
#define PCIPLAN_PLANNER_DETAIL_FINISHING_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/detail/vectors.hpp>
#include <pciplan/kinds/controller_kinds.hpp>
#include <pciplan/planner/detail/planning_state.hpp>
#include <pciplan/topology/controller.hpp>
#include <pciplan/topology/request.hpp>
#include <pciplan/topology/topology_plan.hpp>
#include <pciplan/topology/topology_view.hpp>
#include <pciplan/vocabulary/address.hpp>
#include <pciplan/vocabulary/error.hpp>
#include <pciplan/vocabulary/numbering.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace pciplan::inline v0::detail {

/// multifunction='on' for function 0 of every slot whose other functions are used
/// (unless a controller says off).
template <MachineType M>
constexpr void mark_multifunction(planning<M>& p) {
  // a bit per (bus, slot): some function other than 0 is used there
  std::size_t buses = 0;
  for (const controller& c : p.controllers) buses = std::max<std::size_t>(buses, c.index.value + 1u);
  std::vector<std::uint32_t> shared = filled(buses, 0u);
  bool any = false;
  const auto mark = [&](const controller_address& a) {
    if (a.function != 0 && a.bus.value < buses) {
      shared[a.bus.value] |= 1u << a.slot;
      any = true;
    }
  };
  const auto is_shared = [&](const controller_address& a) {
    return a.bus.value < buses && ((shared[a.bus.value] >> a.slot) & 1u) != 0;
  };
  for (const placement& pl : p.placements) {
    if (pl.kind == placement_kind::pci) mark(pl.libvirt_address);
  }
  for (const controller& c : p.controllers) {
    if (c.has_address) mark(c.libvirt_address);
  }
  if (!any) return;
  for (placement& pl : p.placements) {
    if (pl.kind == placement_kind::pci && pl.libvirt_address.function == 0 && is_shared(pl.libvirt_address)) {
      pl.multifunction = true;
    }
  }
  for (controller& c : p.controllers) {
    if (c.has_address && c.libvirt_address.function == 0 && c.multifunction != toggle::off && is_shared(c.libvirt_address)) {
      c.multifunction = toggle::on;
    }
  }
}

/// libvirt's numbering defaults for anything not set (libvirt-rules.md §4.6): the
/// model name, chassisNr = index, chassis = index, port = slot*8+function (root port)
/// or slot (downstream port), targetIndex = lowest unused (pseries). busNr is the
/// policy's business.
template <MachineType M>
constexpr bool number_controllers(planning<M>& p) {
  for (controller& c : p.controllers) {
    const controller_descriptor& k = *c.kind;
    if (c.model_name.empty()) c.model_name = k.qemu_device();
    if (k.numbered_by.has(numbering::chassis_nr) && c.chassis_nr < 0) c.chassis_nr = c.index.value;
    if (k.numbered_by.has(numbering::chassis) && c.chassis < 0) c.chassis = c.index.value;
    if (k.numbered_by.has(numbering::port) && c.port < 0) {
      c.port = is_kind<pcie_switch_downstream_port>(&k) ? c.libvirt_address.slot
                                                        : c.libvirt_address.slot * 8 + c.libvirt_address.function;
    }
    if (k.numbered_by.has(numbering::target_index) && c.target_index < 0) {
      if (c.index.value == 0) {
        c.target_index = 0;
      } else {
        int t = 1;
        for (; t <= 31; ++t) {
          bool taken = false;
          for (const controller& o : p.controllers) taken = taken || (same_kind(*o.kind, *c.kind) && o.target_index == t);
          if (!taken) break;
        }
        if (t > 31) return p.fail(errc::numbering_exhausted, c, "finds no free PHB target index (1 to 31)");
        c.target_index = t;
      }
    }
    // chassis/chassisNr/port beyond 255 (large pciplan plans): fold into range
    if (c.chassis > 255) c.chassis = c.chassis % 256;
    if (c.chassis_nr > 255) c.chassis_nr = 1 + (c.chassis_nr - 1) % 255;
  }
  return true;
}

/// Guest bus numbers as firmware assigns them: each root bus (and each pseries PHB,
/// a PCI domain of its own) first, depth first in devfn order, every bridge or port
/// taking the next number; then each expander bus from its busNr.
template <MachineType M>
constexpr void number_guest_buses(planning<M>& p) {
  std::vector<controller>& controllers = p.controllers;
  bool overflow = false;
  const std::size_t n = controllers.size();
  // children of each controller, sorted by devfn (a flat list with offsets)
  // controllers in devfn order (a counting sort: devfn < 256); filling the child lists
  // in that order keeps each list in devfn order
  std::vector<std::size_t> start = filled(std::size_t{257}, std::size_t{0});
  for (const controller& c : controllers) ++start[c.libvirt_address.devfn() + 1u];
  for (std::size_t d = 0; d != 256; ++d) start[d + 1] += start[d];
  std::vector<std::size_t> order = filled(n, std::size_t{0});
  for (std::size_t i = 0; i != n; ++i) order[start[controllers[i].libvirt_address.devfn()]++] = i;
  // children of each controller in devfn order, as one list with offsets
  std::vector<std::size_t> parent_of = filled(n, n);
  std::vector<std::size_t> count = filled(n + 1, std::size_t{0});
  for (std::size_t k = 0; k != n; ++k) {
    const controller& c = controllers[k];
    if (!c.has_address) continue;
    const std::size_t parent = p.position_of(c.libvirt_address.bus);
    if (parent == no_position) continue;
    parent_of[k] = parent;
    ++count[parent + 1];
  }
  for (std::size_t q = 0; q != n; ++q) count[q + 1] += count[q];
  std::vector<std::size_t> kids = filled(count[n], std::size_t{0});
  std::vector<std::size_t> fill = count;
  for (std::size_t k : order) {
    if (parent_of[k] != n) kids[fill[parent_of[k]]++] = k;
  }
  const auto children = [&](std::size_t q) {
    return std::span<const std::size_t>(kids.data() + count[q], count[q + 1] - count[q]);
  };
  unsigned next = 0;
  unsigned limit = 256;  // the first bus number the current hierarchy may not reach
  std::uint16_t domain = 0;
  const auto walk = [&](auto&& self, std::size_t at, unsigned bus) -> void {
    for (std::size_t k : children(at)) {
      controller& c = controllers[k];
      c.domain = domain;
      if (c.kind->role == controller_role::expander) continue;
      const unsigned mine = next++;
      if (mine >= limit) overflow = true;
      c.guest_bus = bus_number{static_cast<std::uint8_t>(mine > 255 ? 255 : mine)};
      self(self, k, mine);
    }
    (void)bus;
  };
  for (std::size_t i = 0; i != n; ++i) {
    controller& r = controllers[i];
    if (!r.kind->is_root()) continue;
    domain = static_cast<std::uint16_t>(r.kind->role == controller_role::extra_root && r.target_index > 0
                                            ? r.target_index
                                            : 0);
    r.domain = domain;
    r.guest_bus = bus_number{0};
    // expanders on this root, by busNr: each range ends where the next begins
    std::vector<std::size_t> expanders;
    for (std::size_t k : children(i)) {
      if (controllers[k].kind->role == controller_role::expander) expanders.push_back(k);
    }
    std::sort(expanders.begin(), expanders.end(),
              [&](std::size_t a, std::size_t b) { return controllers[a].bus_nr < controllers[b].bus_nr; });
    next = 1;
    limit = expanders.empty() ? 256u : static_cast<unsigned>(std::max(controllers[expanders.front()].bus_nr, 1));
    walk(walk, i, 0);
    for (std::size_t e = 0; e != expanders.size(); ++e) {
      controller& x = controllers[expanders[e]];
      const unsigned own = static_cast<unsigned>(x.bus_nr < 0 ? 0 : x.bus_nr) + x.kind->bus_numbers - 1u;
      limit = e + 1 < expanders.size() ? static_cast<unsigned>(controllers[expanders[e + 1]].bus_nr) : 256u;
      if (own >= limit) overflow = true;
      x.guest_bus = bus_number{static_cast<std::uint8_t>(own > 255 ? 255 : own)};
      next = own + 1;
      walk(walk, expanders[e], own);
    }
  }
  if (overflow) {
    p.warn(warning_code::bus_numbers,
           "the busNr range of an expander bus cannot hold every bus below it (or the main hierarchy "
           "reaches into it); firmware leaves some buses unnumbered",
           0);
  }
}

/// Guest addresses of the placements, from the controllers' bus numbers.
template <MachineType M>
constexpr void fill_guest_addresses(planning<M>& p) {
  for (placement& pl : p.placements) {
    if (pl.kind != placement_kind::pci) continue;
    const controller* c = p.find(pl.libvirt_address.bus);
    if (c == nullptr) continue;
    // field by field: the slot and function are already valid, and g++ turns a
    // temporary address here into a stalled store-to-load copy
    pl.guest_address.domain = c->domain;
    pl.guest_address.bus = c->guest_bus;
    pl.guest_address.slot = pl.libvirt_address.slot;
    pl.guest_address.function = pl.libvirt_address.function;
  }
}

/// The finished plan, or the failure recorded on the way.
template <MachineType M>
[[nodiscard]] constexpr result<topology_plan> finish(planning<M>& p) {
  if (p.failed()) return p.failure();
  mark_multifunction(p);
  if (!number_controllers(p)) return p.failure();
  number_guest_buses(p);
  fill_guest_addresses(p);
  // a domain-only request holds whichever way the policy searched
  for (const placement& pl : p.placements) {
    const request& r = p.requests[pl.request];
    if (r.fixed == address_kind::domain && pl.kind == placement_kind::pci && pl.guest_address.domain != r.libvirt_address.domain) {
      p.fail(errc::no_free_slot, r.name, "names a PCI domain that has no free slot left for it");
      return p.failure();
    }
  }
  return topology_plan{std::move(p.controllers), std::move(p.placements), std::move(p.warnings)};
}

}  // namespace pciplan::inline v0::detail

#endif  // PCIPLAN_PLANNER_DETAIL_FINISHING_HPP
