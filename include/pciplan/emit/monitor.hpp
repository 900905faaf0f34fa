// pciplan — emit/monitor.hpp: the QEMU monitor commands that turn one plan of a running
// guest into the next: device_del for devices it no longer has, device_add for new ones.
//
//   result<topology_plan> now = hot_add<machines::q35>(running, more);   // planner/hotplug.hpp
//   for (const monitor_command& c : monitor_commands(running, *now)) {
//     qmp.send(c.qmp);   // {"execute":"device_add","arguments":{"driver":"virtio-net-pci","id":"net1","bus":"pci.5","addr":"0x0"}}
//     // or, in the human monitor: c.hmp   device_add virtio-net-pci,id=net1,bus=pci.5,addr=0x0
//   }
//
// As with qemu_arguments, only the addressing part is written: a device's backend
// (netdev=, drive=, …) must exist (netdev_add, blockdev-add) and be added to the
// command by the caller.
#ifndef PCIPLAN_EMIT_MONITOR_HPP
#define PCIPLAN_EMIT_MONITOR_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/detail/report.hpp>
#include <pciplan/emit/detail/emit_text.hpp>
#include <pciplan/emit/qemu.hpp>
#include <pciplan/topology/topology_plan.hpp>
#include <pciplan/topology/topology_view.hpp>

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace pciplan::inline v0 {

/// What a monitor command does.
enum class monitor_action : unsigned char {
  device_del,  ///< unplug a device (QMP `device_del`, HMP `device_del ID`)
  device_add,  ///< plug a device in (QMP `device_add`, HMP `device_add DRIVER,…`)
};

/// One command for QEMU's monitor, in both of its languages.
struct monitor_command {
  monitor_action action = monitor_action::device_add;  ///< what it does
  std::string name;  ///< the device's id: its placement's name
  /// The QMP command, one line of JSON:
  /// `{"execute":"device_add","arguments":{"driver":…,"id":…,"bus":…,"addr":…}}`.
  std::string qmp;
  /// The human monitor (HMP) command: `device_add virtio-net-pci,id=net1,bus=pci.5,addr=0x0`.
  std::string hmp;
};

/// The monitor commands that change the running guest `before` into `after` (two plans
/// of the same guest: `after` from hot_add or hot_remove of `before`): first a
/// `device_del` for each device of `before` that `after` does not have, in placement
/// order; then a `device_add` for each device of `after` that `before` does not have —
/// in placement order, except that within a slot function 0 comes last (QEMU shows a
/// hot-added slot to the guest when its function 0 arrives). Devices are matched by
/// name. Precondition: both plans can be built (`qemu_can_build()`); otherwise
/// std::invalid_argument.
[[nodiscard]] PCIPLAN_DETAIL_INLINE std::vector<monitor_command> monitor_commands(const topology_plan& before,
                                                                                  const topology_plan& after);

#if PCIPLAN_DETAIL_BODIES
PCIPLAN_DETAIL_INLINE std::vector<monitor_command> monitor_commands(const topology_plan& before,
                                                                    const topology_plan& after) {
  detail::expects(before.qemu_can_build() && after.qemu_can_build(),
                  "pciplan::monitor_commands: a plan is a libvirt answer that QEMU cannot build (its warning says why)");
  const auto has = [](const topology_plan& plan, std::string_view name) {
    return std::any_of(plan.placements.begin(), plan.placements.end(),
                       [&](const placement& p) { return p.name == name; });
  };
  std::vector<monitor_command> out;
  for (const placement& p : before.placements) {
    if (has(after, p.name) || before.is_built_in(p)) continue;
    monitor_command& c = out.emplace_back();
    c.action = monitor_action::device_del;
    c.name = std::string(p.name);
    c.qmp = "{\"execute\":\"device_del\",\"arguments\":{\"id\":";
    detail::append_json_string(c.qmp, p.name);
    c.qmp += "}}";
    c.hmp = "device_del " + c.name;
  }
  std::vector<const placement*> added;
  for (const placement& p : after.placements) {
    if (!has(before, p.name) && !after.is_built_in(p)) added.push_back(&p);
  }
  // within a slot, function 0 last: a slot's devices go when its last one would, in
  // placement order, function 0 after the others
  struct keyed {
    std::size_t last_of_slot;
    bool function0;
    std::size_t order;
    const placement* p;
  };
  std::vector<keyed> keys;
  for (std::size_t i = 0; i != added.size(); ++i) {
    std::size_t last = i;
    for (std::size_t j = i + 1; j != added.size(); ++j) {
      if (same_slot(*added[i], *added[j])) last = j;
    }
    for (std::size_t j = 0; j != i; ++j) {
      if (same_slot(*added[i], *added[j])) last = std::max(last, keys[j].last_of_slot);
    }
    const bool f0 = added[i]->kind == placement_kind::pci && added[i]->libvirt_address.function == 0;
    keys.push_back(keyed{last, f0, i, added[i]});
  }
  std::sort(keys.begin(), keys.end(), [](const keyed& a, const keyed& b) {
    if (a.last_of_slot != b.last_of_slot) return a.last_of_slot < b.last_of_slot;
    if (a.function0 != b.function0) return !a.function0;
    return a.order < b.order;
  });
  for (std::size_t i = 0; i != keys.size(); ++i) added[i] = keys[i].p;
  const topology_view view(after.controllers);
  for (const placement* p : added) {
    monitor_command& c = out.emplace_back();
    c.action = monitor_action::device_add;
    c.name = std::string(p->name);
    // the -device argument's JSON object is device_add's arguments; its classic form is HMP's
    const std::string json = detail::placement_argument(view, *p, qemu_syntax::json);
    const std::string classic = detail::placement_argument(view, *p, qemu_syntax::classic);
    constexpr std::string_view option = "-device ";
    c.qmp = "{\"execute\":\"device_add\",\"arguments\":" + json.substr(option.size()) + "}";
    c.hmp = "device_add " + classic.substr(option.size());
  }
  return out;
}
#endif

}  // namespace pciplan::inline v0

#endif  // PCIPLAN_EMIT_MONITOR_HPP
