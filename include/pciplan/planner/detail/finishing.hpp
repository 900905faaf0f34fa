// pciplan — planner/detail/finishing.hpp: the last step of both policies — multifunction
// marks, libvirt's numbering defaults, the guest bus numbers firmware gives (through
// topology_view's one firmware numbering), the guest addresses, and the finished plan.
#ifndef PCIPLAN_PLANNER_DETAIL_FINISHING_HPP
#define PCIPLAN_PLANNER_DETAIL_FINISHING_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/detail/vectors.hpp>
#include <pciplan/kinds/controller_kinds.hpp>
#include <pciplan/kinds/machine_dispatch.hpp>
#include <pciplan/kinds/machine_types.hpp>
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
#include <type_traits>
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

/// libvirt's numbering defaults for anything not set (RULES.md L4.6): the
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

/// Guest bus numbers as firmware assigns them (topology_view::number_buses): each
/// controller stores its bus number, at most 255, and its PCI domain. A controller
/// firmware does not reach keeps what it had; an expander away from a root bus gets
/// only its domain. When a hierarchy overflows, the plan warns (bus_numbers).
template <MachineType M>
constexpr void number_guest_buses(planning<M>& p) {
  const topology_view view(p.controllers);
  const bus_numbering numbers = view.number_buses();
  for (std::size_t i = 0; i != p.controllers.size(); ++i) {
    controller& c = p.controllers[i];
    if (numbers.numbered[i] != 0) {
      c.guest_bus = bus_number{static_cast<std::uint8_t>(std::min(numbers.bus[i], 255u))};
      c.domain = numbers.domain[i];
    } else if (const std::size_t up = view.parent_of(i); up != no_position && numbers.numbered[up] != 0) {
      c.domain = numbers.domain[i];
    }
  }
  if (numbers.overflow) {
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
  topology_plan out(std::move(p.controllers), std::move(p.placements), std::move(p.warnings));
  out.machine = machine_name_of<M>;
  out.built_in = std::span<const reserved_function>(machine_traits<M>::reserved);
  // a run-time plan outlives the requests' names; in constant evaluation they are the
  // caller's literals (static_plan keeps them)
  if (!std::is_constant_evaluated()) out.own_text();
  return out;
}

}  // namespace pciplan::inline v0::detail

#endif  // PCIPLAN_PLANNER_DETAIL_FINISHING_HPP
