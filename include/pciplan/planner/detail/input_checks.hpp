// pciplan — planner/detail/input_checks.hpp: the steps that check what the caller gave —
// requests, multifunction groups, controllers and their numbering attributes, the
// addresses given (with the one sentence per bus_table::check_given result), and that
// every controller hangs below a root.
#ifndef PCIPLAN_PLANNER_DETAIL_INPUT_CHECKS_HPP
#define PCIPLAN_PLANNER_DETAIL_INPUT_CHECKS_HPP

#include <pciplan/detail/hash.hpp>
#include <pciplan/detail/config.hpp>
#include <pciplan/detail/vectors.hpp>
#include <pciplan/kinds/compatibility.hpp>
#include <pciplan/kinds/controller_kinds.hpp>
#include <pciplan/kinds/kind_lists.hpp>
#include <pciplan/kinds/machine_types.hpp>
#include <pciplan/planner/detail/bus_table.hpp>
#include <pciplan/planner/detail/planning_state.hpp>
#include <pciplan/topology/controller.hpp>
#include <pciplan/topology/request.hpp>
#include <pciplan/vocabulary/address.hpp>
#include <pciplan/vocabulary/error.hpp>
#include <pciplan/vocabulary/numbering.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace pciplan::inline v0::detail {

/// Multifunction groups: one function each, function 0 present, fixed addresses agree.
template <MachineType M>
constexpr bool check_groups(planning<M>& p) {
  const std::span<const request> requests = p.requests;
  std::vector<std::size_t> members;
  for (std::size_t i = 0; i != requests.size(); ++i) {
    if (requests[i].multifunction != 0) members.push_back(i);
  }
  std::sort(members.begin(), members.end(), [&](std::size_t a, std::size_t b) {
    return requests[a].multifunction != requests[b].multifunction
               ? requests[a].multifunction < requests[b].multifunction
               : a < b;
  });
  for (std::size_t g = 0; g < members.size();) {
    std::size_t e = g;
    unsigned functions = 0;
    const request& first = requests[members[g]];
    while (e < members.size() && requests[members[e]].multifunction == first.multifunction) {
      const request& r = requests[members[e]];
      if ((functions >> r.function) & 1u) {
        return p.fail(errc::multifunction_conflict, r.name,
                      "shares its function with another member of its multifunction group");
      }
      functions |= 1u << r.function;
      if (r.fixed != first.fixed || r.numa != first.numa || r.isolation != first.isolation ||
          (r.fixed == address_kind::full &&
           (r.libvirt_address.bus != first.libvirt_address.bus || r.libvirt_address.slot != first.libvirt_address.slot ||
            r.libvirt_address.function != r.function))) {
        return p.fail(errc::multifunction_conflict, r.name,
                      "disagrees with its multifunction group on address, NUMA node or isolation group");
      }
      ++e;
    }
    if ((functions & 1u) == 0) {
      if (!p.reproduce_libvirt) {
        return p.fail(errc::multifunction_conflict, first.name,
                      "its multifunction group has no function 0, without which guests do not find the others");
      }
      p.warn(warning_code::no_function0,
             "a multifunction group has no function 0 (as libvirt places a lone ich9-ehci1 at function 7); "
             "guests do not find the functions of such a slot",
             static_cast<unsigned>(e - g));
    }
    g = e;
  }
  return true;
}

/// The requests: unique names, constraints that agree with each other and the machine,
/// multifunction groups. Sizes the per-request state.
template <MachineType M>
constexpr bool check_requests(planning<M>& p) {
  const std::span<const request> requests = p.requests;
  const std::size_t n = requests.size();
  p.placements.assign(n, placement{});
  p.routes.assign(n, request_route{});
  refill(p.done, n, static_cast<unsigned char>(0));
  // unique names: an open-addressing hash set of request indexes (detail/hash.hpp)
  std::size_t capacity = 16;
  while (capacity < 2 * n) capacity *= 2;
  std::vector<std::size_t> table = filled(capacity, n);  // n: empty
  for (std::size_t i = 0; i != n; ++i) {
    const std::uint64_t h = fnv1a(requests[i].name);
    for (std::size_t at = h & (capacity - 1);; at = (at + 1) & (capacity - 1)) {
      if (table[at] == n) {
        table[at] = i;
        break;
      }
      if (requests[table[at]].name == requests[i].name) {
        return p.fail(errc::duplicate_name, requests[i].name, "two requests have this name");
      }
    }
  }
  for (std::size_t i = 0; i != n; ++i) {
    const request& r = requests[i];
    p.placements[i].request = i;
    p.placements[i].name = r.name;
    p.placements[i].device = r.device;
    p.placements[i].bars = r.bars;
    if (r.name.empty()) return p.fail(errc::invalid_request, "(unnamed)", "every request needs a name");
    if (r.link == link_need::pcie && r.device.link == link_kind::conventional) {
      return p.fail(errc::invalid_request, r.name, "asks for a PCI Express slot, but the device is conventional PCI only");
    }
    if (r.numa >= 0) {
      if (p.options.numa_nodes != 0 && static_cast<unsigned>(r.numa) >= p.options.numa_nodes) {
        return p.fail(errc::invalid_request, r.name, "names a NUMA node the guest does not have");
      }
    }
    if (r.multifunction != 0 && r.function > max_function) {
      return p.fail(errc::multifunction_conflict, r.name, "its multifunction group function must be 0 to 7");
    }
    if (r.via == transport::mmio && r.fixed != address_kind::none) {
      return p.fail(errc::invalid_request, r.name, "asks for virtio-mmio and for a PCI address at once");
    }
    // (libvirt keeps such an address where it put one itself: the libvirt policy warns)
    if (r.via == transport::mmio && r.device.mmio_device.empty() && !p.reproduce_libvirt) {
      return p.fail(errc::invalid_request, r.name, "asks for virtio-mmio, but the device has no virtio-mmio variant");
    }
    if (r.fixed == address_kind::domain && r.libvirt_address.domain != 0 && !machine_traits<M>::multiple_roots) {
      return p.fail(errc::no_such_bus, r.name, "names a PCI domain other than 0, and this machine type has only domain 0");
    }
    if (r.fixed == address_kind::full || r.fixed == address_kind::bus) {
      if (r.libvirt_address.bus.value > p.max_index) {
        return p.fail(errc::controller_index_exhausted, r.name, "its address names a controller index above the limit");
      }
    }
  }
  return check_groups(p);
}

/// Whether a kind may appear on machine M (built-in kinds: AvailableOn; user kinds are
/// trusted).
template <MachineType M>
[[nodiscard]] constexpr bool available_on(const controller_descriptor& kind) noexcept {
  constexpr auto flags = availability<M>(controller_kinds);
  for (std::size_t i = 0; i != builtin_descriptors.size(); ++i) {
    if (same_kind(*builtin_descriptors[i], kind)) return flags[i];
  }
  return true;
}

/// The numbering attributes a controller was given: ones its kind takes, in range.
template <MachineType M>
constexpr bool check_numbering(planning<M>& p, const controller& c) {
  const auto in = [](int v, numbering n) { return v < 0 || range_of(n).contains(static_cast<unsigned>(v)); };
  const numbering_set has = c.kind->numbered_by;
  if ((c.chassis >= 0 && !has.has(numbering::chassis)) || (c.port >= 0 && !has.has(numbering::port)) ||
      (c.chassis_nr >= 0 && !has.has(numbering::chassis_nr)) || (c.bus_nr >= 0 && !has.has(numbering::bus_nr)) ||
      (c.target_index >= 0 && !has.has(numbering::target_index))) {
    return p.fail(errc::invalid_controller, c, "has a numbering attribute its kind does not take");
  }
  if (!in(c.chassis, numbering::chassis) || !in(c.port, numbering::port) || !in(c.chassis_nr, numbering::chassis_nr) ||
      !in(c.bus_nr, numbering::bus_nr) || !in(c.target_index, numbering::target_index)) {
    return p.fail(errc::numbering_out_of_range, c, "has a numbering attribute out of its range");
  }
  return true;
}

/// The given controllers, sorted by index, checked, indexed; the machine's root added
/// when it is missing.
template <MachineType M>
constexpr bool check_controllers(planning<M>& p) {
  if constexpr (!has_pci_v<M>) {
    if (!p.given.empty()) {
      return p.fail(errc::invalid_controller, p.given.front(), "is a PCI controller, and the machine type has no PCI");
    }
    return true;
  } else {
    using root = root_of<M>;
    std::vector<controller>& controllers = p.controllers;
    controllers.assign(p.given.begin(), p.given.end());
    std::sort(controllers.begin(), controllers.end(),
              [](const controller& a, const controller& b) { return a.index < b.index; });
    for (std::size_t i = 0; i != controllers.size(); ++i) {
      controller& c = controllers[i];
      c.added = false;
      if (c.kind == nullptr) return p.fail(errc::invalid_controller, c, "has no kind");
      if (i > 0 && controllers[i - 1].index == c.index) {
        return p.fail(errc::invalid_controller, c, "has the same index as another controller");
      }
      if (c.index.value > p.max_index) return p.fail(errc::controller_index_exhausted, c, "has an index above the limit");
      const bool root_kind = c.kind->is_root();
      if (c.index.value == 0) {
        if (!is_kind<root>(c.kind)) {
          return p.fail(errc::invalid_controller, c, "must be the root bus of the machine type (index 0 is the root)");
        }
      } else if (root_kind && !(machine_traits<M>::multiple_roots && is_kind<root>(c.kind))) {
        return p.fail(errc::invalid_controller, c, "is a root bus, which only index 0 may be on this machine");
      }
      if (root_kind && c.has_address) return p.fail(errc::invalid_controller, c, "is a root bus and cannot have an address");
      if (c.numa_node >= 0) {
        if (!c.kind->numa_node || (c.kind->is_root() && c.index.value == 0)) {
          return p.fail(errc::invalid_controller, c, "cannot be bound to a NUMA node");
        }
        if (p.options.numa_nodes != 0 && static_cast<unsigned>(c.numa_node) >= p.options.numa_nodes) {
          return p.fail(errc::invalid_controller, c, "names a NUMA node the guest does not have");
        }
      }
      if (!check_numbering(p, c)) return false;
      if (!available_on<M>(*c.kind)) return p.fail(errc::invalid_controller, c, "is a kind this machine type does not have");
    }
    if (controllers.empty() || controllers.front().index.value != 0) {
      controller r = make_controller<root>(0);
      r.added = true;
      controllers.insert(controllers.begin(), r);
    }
    p.index_controllers();
    return true;
  }
}

/// Fails with the sentence for what bus_table::check_given found wrong with an address
/// the caller gave (`problem`, not errc::none): the one table from those answers to
/// sentences. Each sentence is a literal at its `fail`, so that static_plan's
/// diagnostic shows it.
template <MachineType M>
constexpr bool fail_given_address(planning<M>& p, errc problem, const subject& who) {
  switch (problem) {
    case errc::no_such_bus: return p.fail(errc::no_such_bus, who, "has an address on a bus (controller index) that does not exist");
    case errc::incompatible_bus: return p.fail(errc::incompatible_bus, who, "has an address on a bus that does not take it");
    case errc::slot_not_usable: return p.fail(errc::slot_not_usable, who, "has an address on a slot its bus does not have");
    case errc::address_in_use: return p.fail(errc::address_in_use, who, "has an address that is already in use");
    default: return p.fail(errc::function_out_of_range, who, "has an address with a function above 7");
  }
}

/// Reserves an address the caller gave (relaxed rules: bus_table::check_given), or fails
/// with the sentence for what is wrong with it.
template <MachineType M>
constexpr bool reserve_given(planning<M>& p, bus_table& t, controller_address a, connect_set need, unsigned group,
                             const subject& who) {
  const errc problem = t.check_given(a.bus.value, a.slot, a.function, need);
  if (problem != errc::none) return fail_given_address(p, problem, who);
  t.reserve(a.bus.value, a.slot, a.function, need, group, true);
  return true;
}

/// Whether every controller hangs below a root. libvirt places an address-less switch
/// upstream port given with its downstream ports on one of those ports, below itself:
/// a loop QEMU cannot build. With reproduce_libvirt the plan keeps it and warns
/// (unbuildable, counting the controllers on loops); otherwise it is refused.
template <MachineType M>
constexpr bool check_attached(planning<M>& p) {
  unsigned on_loops = 0;
  for (const controller& c : p.controllers) {
    const controller* x = &c;
    for (std::size_t hops = 0; !x->kind->is_root() && x->has_address; ++hops) {
      if (hops > p.controllers.size()) {  // x is on a loop now (c may only lead to it)
        if (!p.reproduce_libvirt) {
          return p.fail(errc::invalid_controller, *x,
                        "is on a loop of controllers, each on the bus of another (libvirt places address-less "
                        "switch ports so), which QEMU cannot build: give the address-less ones an address");
        }
        // c is on the loop when walking on from it comes back to it
        const controller* y = p.find(c.libvirt_address.bus);
        for (std::size_t k = 0; y != nullptr && y != &c && k <= p.controllers.size() && !y->kind->is_root() &&
                                y->has_address;
             ++k) {
          y = p.find(y->libvirt_address.bus);
        }
        if (y == &c) ++on_loops;
        break;
      }
      x = p.find(x->libvirt_address.bus);
      if (x == nullptr) break;
    }
  }
  if (on_loops != 0) {
    p.warn(warning_code::unbuildable,
           "libvirt places address-less switch ports on a bus below themselves: a loop of controllers, each on "
           "the bus of another, which QEMU cannot build (give the address-less ones an address)",
           on_loops);
  }
  return true;
}

}  // namespace pciplan::inline v0::detail

#endif  // PCIPLAN_PLANNER_DETAIL_INPUT_CHECKS_HPP
