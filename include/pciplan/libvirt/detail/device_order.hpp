// pciplan — libvirt/detail/device_order.hpp: the order libvirt keeps devices in (who gets the lower slot).
//
// libvirt assigns addresses class by class (libvirt_class_rank), and within a class in
// the order of its lists: controllers as libvirt inserts them (grouped by type, by
// index, a USB2 master before its companions), virtio disks by the number of their
// name (vda, vdb, …), the hostdevs of `<interface type='hostdev'>` before `<hostdev>`
// elements, everything else in document order. The insertions follow libvirt's rule
// (planner/libvirt_order.hpp): before the first item with a higher key.
#ifndef PCIPLAN_LIBVIRT_DETAIL_DEVICE_ORDER_HPP
#define PCIPLAN_LIBVIRT_DETAIL_DEVICE_ORDER_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/planner/libvirt_order.hpp>
#include <pciplan/libvirt/detail/domain_state.hpp>

#include <algorithm>
#include <cstddef>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace pciplan::inline v0::libvirt::detail {

/// libvirt's number of a disk name: the letters after the prefix (hd, sd, vd, xvd,
/// ubd) in base 26 with "a" = 0, "z" = 25, "aa" = 26; -1 when the name has none.
[[nodiscard]] constexpr long disk_number(std::string_view dev) noexcept {
  for (std::string_view prefix : {"xvd", "ubd", "hd", "sd", "vd"}) {
    if (dev.substr(0, prefix.size()) == prefix) {
      dev.remove_prefix(prefix.size());
      break;
    }
  }
  long n = 0;
  std::size_t i = 0;
  for (; i < dev.size() && i < 6 && dev[i] >= 'a' && dev[i] <= 'z'; ++i) {
    n = (n + (i == 0 ? 0 : 1)) * 26 + (dev[i] - 'a');
  }
  return i == 0 ? -1 : n;
}

/// Positions in `devices` of the devices for which `in_list` holds, in the order libvirt's
/// list of them ends up in when it inserts them one by one in document order: each at
/// `libvirt_insert_position` with `member(o, d)` (whether the listed `o` is in `d`'s
/// part of the list) and `higher(o, d)` (whether `o` comes after `d`).
template <class InList, class Member, class Higher>
[[nodiscard]] std::vector<std::size_t> libvirt_list(const std::vector<pending_device>& devices, InList in_list,
                                                    Member member, Higher higher) {
  std::vector<std::size_t> list;
  for (std::size_t i = 0; i != devices.size(); ++i) {
    const pending_device& d = devices[i];
    if (!in_list(d)) continue;
    const std::size_t at = libvirt_insert_position(
        list.size(), [&](std::size_t k) { return member(devices[list[k]], d); },
        [&](std::size_t k) { return higher(devices[list[k]], d); });
    list.insert(list.begin() + static_cast<std::ptrdiff_t>(at), i);
  }
  return list;
}

/// Sorts `s.devices` into libvirt's order (see the top of this header).
inline void order_like_libvirt(domain_state& s) {
  const std::vector<pending_device>& devices = s.devices;
  // controllers: one list for all types, each type a part of it. Before the first of
  // its type with a higher index, or with the same index when it is a USB2 master and
  // that one a companion; one without an index (yet) right after the last of its type
  const std::vector<std::size_t> controllers = libvirt_list(
      devices, [](const pending_device& d) { return d.element == "controller"; },
      [](const pending_device& o, const pending_device& d) {
        return !d.appended && o.controller_type == d.controller_type;
      },
      [](const pending_device& o, const pending_device& d) {
        if (d.parsed_index < 0) return false;
        return o.parsed_index > d.parsed_index || (!d.companion && o.companion && o.parsed_index == d.parsed_index);
      });
  // virtio disks: before the first disk with a higher number
  const std::vector<std::size_t> disks = libvirt_list(
      devices, [](const pending_device& d) { return d.element == "disk"; },
      [](const pending_device&, const pending_device&) { return true; },
      [](const pending_device& o, const pending_device& d) { return o.disk_number > d.disk_number; });
  // the class, the place within it, the document order
  std::vector<std::tuple<int, std::size_t, std::size_t>> keys(devices.size());
  for (std::size_t i = 0; i != devices.size(); ++i) {
    const pending_device& d = devices[i];
    keys[i] = std::tuple(libvirt_class_rank(d.element), d.from_interface ? 0 : 1, i);
  }
  for (std::size_t k = 0; k != controllers.size(); ++k) std::get<1>(keys[controllers[k]]) = k;
  for (std::size_t k = 0; k != disks.size(); ++k) std::get<1>(keys[disks[k]]) = k;
  std::sort(keys.begin(), keys.end());
  std::vector<pending_device> sorted;
  sorted.reserve(devices.size());
  for (const auto& key : keys) sorted.push_back(std::move(s.devices[std::get<2>(key)]));
  s.devices = std::move(sorted);
}

}  // namespace pciplan::inline v0::libvirt::detail

#endif  // PCIPLAN_LIBVIRT_DETAIL_DEVICE_ORDER_HPP
