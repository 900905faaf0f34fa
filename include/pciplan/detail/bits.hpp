// pciplan — detail/bits.hpp: counting the bits of a slot mask.
//
// std::popcount compiles to a call into the compiler's runtime library unless the
// target enables the POPCNT instruction, which a header-only library cannot ask for;
// the planner counts slot masks often enough for the call to show. This count is a
// handful of inline integer operations on any target, and constexpr.
#ifndef PCIPLAN_DETAIL_BITS_HPP
#define PCIPLAN_DETAIL_BITS_HPP

#include <pciplan/detail/config.hpp>

#include <cstdint>

namespace pciplan::inline v0::detail {

/// The number of set bits of `x` (a mask of 32 slots or 8 functions).
[[nodiscard]] constexpr unsigned bit_count(std::uint32_t x) noexcept {
  x = x - ((x >> 1) & 0x55555555u);
  x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
  x = (x + (x >> 4)) & 0x0f0f0f0fu;
  return (x * 0x01010101u) >> 24;
}

}  // namespace pciplan::inline v0::detail

#endif  // PCIPLAN_DETAIL_BITS_HPP
