// pciplan — planner/detail/libvirt_units.hpp: what the libvirt policy places, in
// libvirt's order — the address-less controllers in libvirt's controller-list order,
// then the PCI devices class by class (planner/libvirt_order.hpp) — and which devices
// follow the domain's virtio-mmio devices.
#ifndef PCIPLAN_PLANNER_DETAIL_LIBVIRT_UNITS_HPP
#define PCIPLAN_PLANNER_DETAIL_LIBVIRT_UNITS_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/kinds/device_kinds.hpp>
#include <pciplan/kinds/machine_types.hpp>
#include <pciplan/planner/detail/planning_state.hpp>
#include <pciplan/planner/libvirt_order.hpp>
#include <pciplan/topology/controller.hpp>
#include <pciplan/topology/topology_plan.hpp>
#include <pciplan/topology/topology_view.hpp>

#include <algorithm>
#include <cstddef>
#include <string_view>
#include <vector>

namespace pciplan::inline v0::detail {

/// Whether libvirt moves an address-less device to virtio-mmio once a device of the
/// domain uses it (RULES.md L2.4): virtio disks, NICs, videos and inputs, SCSI and
/// virtio-serial controllers (any model), SCSI host devices (vhost-scsi), balloons, rngs,
/// virtio-mem/pmem and cryptos; not filesystems, sound, PCI host devices or vsock.
[[nodiscard]] constexpr bool libvirt_follows_mmio(const device_descriptor& d) noexcept {
  const std::string_view element = d.libvirt.element;
  const std::string_view model = d.libvirt.model;
  if (element == "disk" || element == "input" || element == "memballoon" || element == "rng" ||
      element == "memory" || element == "crypto") {
    return true;
  }
  if (element == "video") return model == "virtio";
  if (element == "hostdev") return model == "scsi_host";
  if (element == "interface") return model == "virtio" || model == "virtio-transitional" || model == "virtio-non-transitional";
  if (element != "controller") return false;
  for (std::string_view m : {"virtio-scsi", "virtio-serial", "virtio-transitional", "virtio-non-transitional",
                             "lsilogic", "lsisas1068", "lsisas1078", "vmpvscsi", "am53c974", "dc390"}) {
    if (model == m) return true;
  }
  return false;
}

/// An item to place in libvirt's order: a request, or a given address-less controller.
struct unit {
  bool is_controller = false;
  std::size_t index = 0;  ///< request index, or position in `controllers`
  int rank = 0;           ///< libvirt class rank (libvirt_class_rank); 1 for controllers
  std::size_t position = 0;
};

/// Appends the address-less controllers in libvirt's controller-list order: the order
/// the caller gave them (the libvirt reader keeps libvirt's order), and each controller
/// libvirt adds inserted before the first one with a higher index, as libvirt inserts it.
template <MachineType M>
constexpr void append_controller_units(const planning<M>& p, std::vector<unit>& order) {
  std::vector<std::size_t> list;  // positions in p.controllers
  unsigned highest = 0;           // the highest index in `list`
  for (const controller& g : p.given) {
    const std::size_t k = p.position_of(g.index);
    if (k == no_position || g.kind->is_root()) continue;
    list.push_back(k);
    highest = std::max<unsigned>(highest, g.index.value);
  }
  for (std::size_t k = 0; k != p.controllers.size(); ++k) {
    const controller& c = p.controllers[k];
    if (!c.added || c.kind->is_root()) continue;
    // above every index in the list (the usual case), the scan would end at the end
    const std::size_t at = highest < c.index.value ? list.size()
                                                   : libvirt_insert_position(list.size(), [&](std::size_t j) {
                                                       return p.controllers[list[j]].index > c.index;
                                                     });
    list.insert(list.begin() + static_cast<std::ptrdiff_t>(at), k);
    highest = std::max<unsigned>(highest, c.index.value);
  }
  for (std::size_t k : list) {
    if (!p.controllers[k].has_address) order.push_back(unit{true, k, 1, k});
  }
}

/// Appends the requests that go on PCI, by libvirt's class rank, equal ranks in input
/// order.
template <MachineType M>
constexpr void append_device_units(const planning<M>& p, std::vector<unit>& order) {
  const std::size_t first_device = order.size();
  for (std::size_t i = 0; i != p.requests.size(); ++i) {
    if (p.routes[i].kind != placement_kind::pci) continue;
    order.push_back(unit{false, i, libvirt_class_rank(p.requests[i].device.libvirt.element), i});
  }
  // stable: equal ranks keep the input order (std::stable_sort is not constexpr)
  std::sort(order.begin() + static_cast<std::ptrdiff_t>(first_device), order.end(),
            [](const unit& a, const unit& b) { return a.rank != b.rank ? a.rank < b.rank : a.position < b.position; });
}

}  // namespace pciplan::inline v0::detail

#endif  // PCIPLAN_PLANNER_DETAIL_LIBVIRT_UNITS_HPP
