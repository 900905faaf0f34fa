// pciplan — planner/libvirt_order.hpp: the order in which libvirt takes devices, for
// the libvirt policy and for the libvirt adapter, which keeps libvirt's lists.
//
// libvirt assigns addresses class by class (filesystems, network interfaces, sound,
// controllers, disks, …), collects the addresses a domain gives in another class order
// (disks, network interfaces, sound, host devices, videos, controllers, …), and within a list kept in index order it inserts a new item
// before the first one whose key is higher (libvirt's backward scan over the list comes
// to that), so an item added later with a lower index still comes first.
#ifndef PCIPLAN_PLANNER_LIBVIRT_ORDER_HPP
#define PCIPLAN_PLANNER_LIBVIRT_ORDER_HPP

#include <pciplan/detail/config.hpp>

#include <cstddef>
#include <iterator>
#include <string_view>

namespace pciplan::inline v0 {

/// libvirt's placement rank of a device class, by its element name: 2 for
/// `filesystem`, 3 for `interface`, … 20 for `pstore`, 21 for anything else. PCI
/// controllers without an address come before all of them (rank 1).
[[nodiscard]] constexpr int libvirt_class_rank(std::string_view element) noexcept {
  constexpr std::string_view order[] = {"filesystem", "interface", "sound",   "controller", "disk",
                                        "hostdev",    "memballoon", "rng",    "watchdog",   "video",
                                        "shmem",      "input",      "serial", "iommu",      "vsock",
                                        "memory",     "crypto",     "panic",  "pstore"};
  for (std::size_t i = 0; i != std::size(order); ++i) {
    if (order[i] == element) return static_cast<int>(i) + 2;
  }
  return 21;  // unknown classes go last
}

/// libvirt's rank of a device class, by its element name, in the order it visits devices
/// (virDomainDeviceInfoIterate) — the order in which its dry run collects the addresses
/// a domain gives, growing the buses as it goes: 0 for `disk`, 1 for `interface`, 2 for
/// `sound`, 3 for `hostdev`, 4 for `video`, 5 for `controller`, … 24 for anything else.
[[nodiscard]] constexpr int libvirt_visit_rank(std::string_view element) noexcept {
  constexpr std::string_view order[] = {"disk",    "interface", "sound",      "hostdev", "video",  "controller",
                                        "smartcard", "serial",  "parallel",   "channel", "console", "input",
                                        "filesystem", "watchdog", "memballoon", "rng",    "nvram",  "hub",
                                        "shmem",   "tpm",       "panic",      "memory",  "redirdev", "iommu",
                                        "vsock",   "crypto",    "pstore"};
  for (std::size_t i = 0; i != std::size(order); ++i) {
    if (order[i] == element) return static_cast<int>(i);
  }
  return static_cast<int>(std::size(order));
}

/// Where libvirt inserts a new item into a list of `size` items kept in key order: the
/// position of the first item for which `higher(position)` says its key is higher than
/// the new item's, or `size` (the end) when there is none.
template <class Higher>
[[nodiscard]] constexpr std::size_t libvirt_insert_position(std::size_t size, Higher higher) {
  for (std::size_t at = 0; at != size; ++at) {
    if (higher(at)) return at;
  }
  return size;
}

/// The same for a list that shares its storage with others (libvirt's controllers of
/// all types in one list): only the positions where `member(position)` holds count;
/// the new item goes before the first member with a higher key, else right after the
/// last member, else at the end.
template <class Member, class Higher>
[[nodiscard]] constexpr std::size_t libvirt_insert_position(std::size_t size, Member member, Higher higher) {
  std::size_t after_last = size;
  for (std::size_t at = 0; at != size; ++at) {
    if (!member(at)) continue;
    if (higher(at)) return at;
    after_last = at + 1;
  }
  return after_last;
}

}  // namespace pciplan::inline v0

#endif  // PCIPLAN_PLANNER_LIBVIRT_ORDER_HPP
