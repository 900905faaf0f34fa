// pciplan — planner/hotplug.hpp: a running guest — devices hot-added only where QEMU takes
// them now, and devices detached.
//
//   result<topology_plan> started = plan<machines::q35>(devices);  // the guest as it was started
//   const request more[] = {{"nvme1", models::nvme{}, numa_node{1}}};
//   result<topology_plan> now = hot_add<machines::q35>(*started, more);
//   if (!now) std::cerr << now.error() << '\n';  // "nvme1: has no free hot-pluggable slot on its NUMA node …"
//   for (const monitor_command& c : monitor_commands(*started, *now)) qmp.send(c.qmp);  // emit/monitor.hpp
//   result<topology_plan> later = hot_remove(*now, std::array<std::string_view, 1>{"nvme1"});
//
// A hot-add is the cold plan of the new definition — everything already in the guest
// pinned where it is, the new requests added — with two more rules: the new devices
// need a hot-pluggable slot, and nothing may be added (no controller, no spare). So a
// device gets in the running guest exactly the address the next cold plan gives it
// (names like enp3s0 survive a reboot), or the hot-add is refused and nothing changes.
// pciplan never hot-adds controllers: QEMU refuses a root port on pcie.0 ("Bus 'pcie.0'
// does not support hotplugging") and a switch's downstream ports on a hot-added
// upstream port; on pc it takes a hot-added pci-bridge, but the next cold plan would put
// the device somewhere else. Spare ports (plan_options::spare_ports,
// spare_ports_per_node) are what hot-adds use.
#ifndef PCIPLAN_PLANNER_HOTPLUG_HPP
#define PCIPLAN_PLANNER_HOTPLUG_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/kinds/machine_dispatch.hpp>
#include <pciplan/kinds/machine_types.hpp>
#include <pciplan/planner/detail/planning_state.hpp>
#include <pciplan/planner/planner.hpp>
#include <pciplan/planner/policies.hpp>
#include <pciplan/topology/controller.hpp>
#include <pciplan/topology/request.hpp>
#include <pciplan/topology/topology_plan.hpp>
#include <pciplan/topology/topology_view.hpp>
#include <pciplan/vocabulary/error.hpp>

#include <concepts>
#include <cstddef>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace pciplan::inline v0 {

/// A request for every placement of `plan`, pinned where the plan put it (the PCI
/// address; virtio-mmio for a virtio-mmio device), with the BARs its request gave, in
/// placement order: what `plan` needs
/// to plan the same guest again when the original requests are gone (a plan read back
/// with from_json). Their names point into `plan`: keep it alive while they are used.
[[nodiscard]] constexpr std::vector<request> requests_of(const topology_plan& plan) {
  std::vector<request> out;
  out.reserve(plan.placements.size());
  for (const placement& p : plan.placements) {
    request& r = out.emplace_back(p.name, p.device);
    r.bars = p.bars;  // the BARs its request gave, if any
    if (p.kind == placement_kind::pci) {
      r.fixed = address_kind::full;
      r.libvirt_address = p.libvirt_address;
    } else if (p.kind == placement_kind::mmio) {
      r.via = transport::mmio;
    }
  }
  return out;
}

namespace detail {

/// Whether every device that `live` marks in `plan` can be hot-added as the plan says:
/// PCI, on a bus that takes hot-plugged devices, in a slot whose functions are all new,
/// below no controller the plan added. The error names the first one that cannot.
constexpr std::optional<error> check_hot_adds(const topology_plan& plan, std::span<const request> requests,
                                              std::span<const unsigned char> live) {
  const topology_view view(plan.controllers);
  for (const placement& p : plan.placements) {
    if (p.request >= live.size() || live[p.request] == 0) continue;
    if (p.kind != placement_kind::pci) {
      return plan_error(errc::not_hotpluggable, p.name,
                        "would reach the guest without PCI (virtio-mmio or channel I/O), and pciplan hot-adds PCI "
                        "devices only");
    }
    if (!qemu_hot_pluggable(p.device.qemu_device)) {
      return plan_error(errc::not_hotpluggable, p.name,
                        "is a device QEMU does not hot-plug (display adapters, the chipset's USB and IDE functions, "
                        "IOMMUs and acpi-erst are cold-plugged only)");
    }
    if (p.device.qemu_device.starts_with("virtio-balloon")) {
      for (const placement& q : plan.placements) {
        if (&q != &p && q.device.qemu_device.starts_with("virtio-balloon")) {
          return plan_error(errc::not_hotpluggable, p.name,
                            "is a second memory balloon, and QEMU takes one balloon per guest");
        }
      }
    }
    // below a controller this plan added: there was no slot for it in the running guest
    for (std::size_t at = view.position_of(p.libvirt_address.bus); at != no_position; at = view.parent_of(at)) {
      if (plan.controllers[at].added) {
        return plan_error(errc::no_free_slot, p.name, requests[p.request].numa >= 0 ? no_live_slot_on_node : no_live_slot);
      }
    }
    const controller* bus = view.find(p.libvirt_address.bus);
    if (bus == nullptr || bus->kind == nullptr || !bus_hotpluggable(*bus->kind, bus->hotplug)) {
      return plan_error(errc::not_hotpluggable, p.name,
                        "would go on a bus that does not take hot-plugged devices (a root bus, an expander bus, "
                        "a bridge or port with hotplug off)");
    }
    for (const placement& q : plan.placements) {
      if (same_slot(q, p) && (q.request >= live.size() || live[q.request] == 0)) {
        return plan_error(errc::not_hotpluggable, p.name,
                          "would share a slot with a device the running guest already has, and a running slot takes "
                          "no new functions");
      }
    }
  }
  // a controller added for no new device: a device already there had no place
  for (const controller& c : plan.controllers) {
    if (c.added) {
      return plan_error(errc::invalid_request, "running guest",
                        "is not complete: planning the devices it has already adds controllers (give every device "
                        "its address and every controller, as the running guest has them)");
    }
  }
  return std::nullopt;
}

}  // namespace detail

/// The form of hot_add for callers that keep their own requests (the libvirt adapter):
/// plans `requests` on the running guest's `controllers`, where the requests that `live`
/// marks (one entry per request, 1 = hot-added now) are new and every other one is in
/// the guest already, where its pinned address says. Each new device needs a slot QEMU
/// can hot-plug now, and nothing may be added (see the top of this header). The
/// controllers keep their `added` flag; the placements are in request order.
template <MachineType M, PlanningPolicy Policy = policies::pciplan>
[[nodiscard]] PCIPLAN_DETAIL_RUN_TIME_CONSTEXPR result<topology_plan> plan_live(std::span<const request> requests,
                                                        std::span<const unsigned char> live, plan_options options,
                                                        std::span<const controller> controllers) {
  options.spare_ports = 0;
  options.spare_ports_per_node = 0;
  options.hotplug_budget = {};  // a running guest's ports keep the windows firmware gave them at boot
  std::vector<controller> given(controllers.begin(), controllers.end());
  for (controller& c : given) c.added = false;
  std::vector<request> all(requests.begin(), requests.end());
  for (std::size_t i = 0; i != all.size(); ++i) {
    if (i < live.size() && live[i] != 0) all[i].hotplug_need = hotplug::required;
  }
  detail::planning<M> state{};
  state.requests = all;
  state.given = given;
  state.options = options;
  state.live = live;
  result<topology_plan> r = detail::run_plan<M, Policy>(state);
  if (!r) return r;
  if (const std::optional<error> e = detail::check_hot_adds(*r, all, live)) return *e;
  for (controller& c : r->controllers) {
    for (const controller& old : controllers) {
      if (old.index == c.index) c.added = old.added;
    }
  }
  return r;
}

/// The running guest `running` (a plan of machine M) with the devices of `added`
/// hot-added: each in a slot QEMU can hot-plug now, at the address the cold plan of the
/// new definition gives it (see the top of this header). The new placements come after
/// the running guest's, in the order of `added`; `monitor_commands(running, result)`
/// gives the QMP and HMP commands. An error names the first device that cannot be
/// hot-added and why (no free hot-pluggable slot — on its NUMA node —, a bus that does
/// not take hot-plugged devices, a slot already in use, no PCI, a device type QEMU
/// cold-plugs only, a second memory balloon); `running` is unchanged either way. `options` are the cold plan's (NUMA node count, chipset rule); spares are
/// never added.
template <MachineType M, PlanningPolicy Policy = policies::pciplan>
[[nodiscard]] PCIPLAN_DETAIL_RUN_TIME_CONSTEXPR result<topology_plan> hot_add(const topology_plan& running, std::span<const request> added,
                                                      const plan_options& options = {}) {
  if (!running.machine.empty() && running.machine != machine_name_of<M>) {
    return detail::plan_error(errc::invalid_request, running.machine,
                              "is the machine type of the running plan, and the hot-add names another one");
  }
  std::vector<request> all = requests_of(running);
  std::vector<unsigned char> live(all.size(), 0);
  all.insert(all.end(), added.begin(), added.end());
  live.resize(all.size(), 1);
  return plan_live<M, Policy>(all, live, options, running.controllers);
}

/// The same for a plan whose machine type and policy are known only at run time: the
/// plan's own (`running.machine`, a built-in machine type; `running.policy`). Every
/// built-in machine type is instantiated (for one machine type, name it: hot_add<M>).
template <std::same_as<topology_plan> Plan>
[[nodiscard]] result<topology_plan> hot_add(const Plan& running, std::span<const request> added,
                                            const plan_options& options = {}) {
  const std::optional<machine_id> m = machine_named(running.machine);
  if (!m) {
    return detail::plan_error(errc::unknown_machine, running.machine,
                              "is not a built-in machine type; call hot_add<Machine>(…) for it");
  }
  return with_machine(*m, [&](auto machine) {
    using M = decltype(machine);
    if (running.policy == policy_family::libvirt) return hot_add<M, policies::libvirt>(running, added, options);
    return hot_add<M, policies::pciplan>(running, added, options);
  });
}

/// The running guest `running` without the devices named in `names`: their slots are
/// free for the next hot-add, and nothing else changes (the remaining placements keep
/// their addresses and order; their `request` numbers count them from 0 again). An error,
/// with `running` unchanged, when a name is not in the plan or names a device that
/// cannot be unplugged: a device of the machine itself (q35's SATA), one that is not on
/// PCI, a type QEMU cold-plugs only (qemu_cold_plug_only), one on a bus without
/// hot-plug, or one that shares its slot with a device that stays (QEMU unplugs a whole
/// slot).
[[nodiscard]] inline result<topology_plan> hot_remove(const topology_plan& running, std::span<const std::string_view> names) {
  const topology_view view(running.controllers);
  std::vector<unsigned char> gone(running.placements.size(), 0);
  for (const std::string_view name : names) {
    bool found = false;
    for (std::size_t i = 0; i != running.placements.size(); ++i) {
      if (running.placements[i].name != name) continue;
      found = true;
      gone[i] = 1;
    }
    if (!found) return detail::plan_error(errc::invalid_request, name, "is not a device of the running guest");
  }
  for (std::size_t i = 0; i != running.placements.size(); ++i) {
    if (gone[i] == 0) continue;
    const placement& p = running.placements[i];
    if (running.is_built_in(p)) {
      return detail::plan_error(errc::not_hotpluggable, p.name, "is part of the machine itself and cannot be unplugged");
    }
    if (p.kind != placement_kind::pci) {
      return detail::plan_error(errc::not_hotpluggable, p.name,
                                "is not on PCI (virtio-mmio or channel I/O), and pciplan unplugs PCI devices only");
    }
    if (!qemu_hot_pluggable(p.device.qemu_device)) {
      return detail::plan_error(errc::not_hotpluggable, p.name,
                                "is a device QEMU does not unplug (display adapters, the chipset's USB and IDE "
                                "functions, IOMMUs and acpi-erst are cold-plugged only)");
    }
    const controller* bus = view.find(p.libvirt_address.bus);
    if (bus == nullptr || bus->kind == nullptr || !bus_hotpluggable(*bus->kind, bus->hotplug)) {
      return detail::plan_error(errc::not_hotpluggable, p.name,
                                "is on a bus that does not take hot-plugged devices, so it cannot be unplugged either");
    }
    for (std::size_t j = 0; j != running.placements.size(); ++j) {
      const placement& q = running.placements[j];
      if (gone[j] == 0 && same_slot(q, p)) {
        return detail::plan_error(errc::not_hotpluggable, p.name,
                                  "shares its slot with a device that stays, and QEMU unplugs a whole slot (detach "
                                  "every function of the slot together)");
      }
    }
  }
  topology_plan out = running;
  std::vector<placement> kept;
  kept.reserve(out.placements.size());
  for (std::size_t i = 0; i != out.placements.size(); ++i) {
    if (gone[i] != 0) continue;
    kept.push_back(out.placements[i]);
    kept.back().request = kept.size() - 1;
  }
  out.placements = std::move(kept);
  return out;
}

}  // namespace pciplan::inline v0

// plan_live<M, Policy> for both built-in policies (see PCIPLAN_DETAIL_PLAN_INSTANCES).
#define PCIPLAN_DETAIL_PLAN_LIVE_INSTANCES(EXTERN, M)                                                          \
  EXTERN template pciplan::result<pciplan::topology_plan> pciplan::plan_live<M, pciplan::policies::pciplan>(   \
      std::span<const pciplan::request>, std::span<const unsigned char>, pciplan::plan_options,                \
      std::span<const pciplan::controller>);                                                                   \
  EXTERN template pciplan::result<pciplan::topology_plan> pciplan::plan_live<M, pciplan::policies::libvirt>(   \
      std::span<const pciplan::request>, std::span<const unsigned char>, pciplan::plan_options,                \
      std::span<const pciplan::controller>);

#ifdef PCIPLAN_COMPILED
PCIPLAN_DETAIL_EXTERN_EACH_MACHINE(PCIPLAN_DETAIL_PLAN_LIVE_INSTANCES)
#endif

#endif  // PCIPLAN_PLANNER_HOTPLUG_HPP
