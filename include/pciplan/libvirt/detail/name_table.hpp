// pciplan — libvirt/detail/name_table.hpp: the devices' names and aliases, found by name in constant time.
//
// An open-addressing hash table (FNV-1a, linear probing, at most half full) from a name
// to a device number. It holds views: the names live elsewhere (the domain state's
// `names`), for as long as the table is used.
#ifndef PCIPLAN_LIBVIRT_DETAIL_NAME_TABLE_HPP
#define PCIPLAN_LIBVIRT_DETAIL_NAME_TABLE_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/detail/hash.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace pciplan::inline v0::libvirt::detail {

class name_table {
 public:
  /// The device named `name`, or nullptr.
  [[nodiscard]] const std::size_t* find(std::string_view name) const noexcept {
    if (slots_.empty()) return nullptr;
    for (std::size_t at = hash(name) & (slots_.size() - 1);; at = (at + 1) & (slots_.size() - 1)) {
      const slot& s = slots_[at];
      if (!s.used) return nullptr;
      if (s.name == name) return &s.device;
    }
  }
  /// Adds `name` (a view that must stay valid) for `device`; false when it is there already.
  bool insert(std::string_view name, std::size_t device) {
    if (2 * (count_ + 1) > slots_.size()) grow();
    for (std::size_t at = hash(name) & (slots_.size() - 1);; at = (at + 1) & (slots_.size() - 1)) {
      slot& s = slots_[at];
      if (!s.used) {
        s = slot{name, device, true};
        ++count_;
        return true;
      }
      if (s.name == name) return false;
    }
  }

 private:
  struct slot {
    std::string_view name;
    std::size_t device = 0;
    bool used = false;
  };
  std::vector<slot> slots_;  // a power of two in size
  std::size_t count_ = 0;

  [[nodiscard]] static std::size_t hash(std::string_view name) noexcept {
    const std::uint64_t h = pciplan::detail::fnv1a(name);
    return static_cast<std::size_t>(h ^ (h >> 32));
  }
  void grow() {
    std::vector<slot> old(slots_.empty() ? 64 : 2 * slots_.size());
    old.swap(slots_);
    count_ = 0;
    for (const slot& s : old) {
      if (s.used) insert(s.name, s.device);
    }
  }
};

}  // namespace pciplan::inline v0::libvirt::detail

#endif  // PCIPLAN_LIBVIRT_DETAIL_NAME_TABLE_HPP
