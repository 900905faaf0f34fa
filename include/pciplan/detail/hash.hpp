// pciplan — detail/hash.hpp: FNV-1a, the hash of names in pciplan's open-addressing tables.
//
// The planner's check for unique request names and the libvirt adapter's table of
// device names both hash with it.
#ifndef PCIPLAN_DETAIL_HASH_HPP
#define PCIPLAN_DETAIL_HASH_HPP

#include <pciplan/detail/config.hpp>

#include <cstdint>
#include <string_view>

namespace pciplan::inline v0::detail {

/// The 64-bit FNV-1a hash of `text`.
[[nodiscard]] constexpr std::uint64_t fnv1a(std::string_view text) noexcept {
  std::uint64_t h = 1469598103934665603ull;
  for (const char ch : text) h = (h ^ static_cast<unsigned char>(ch)) * 1099511628211ull;
  return h;
}

}  // namespace pciplan::inline v0::detail

#endif  // PCIPLAN_DETAIL_HASH_HPP
