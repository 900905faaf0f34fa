// pciplan — vocabulary/fixed_string.hpp: a string usable as a template argument.
#ifndef PCIPLAN_VOCABULARY_FIXED_STRING_HPP
#define PCIPLAN_VOCABULARY_FIXED_STRING_HPP

#include <pciplan/detail/config.hpp>

#include <cstddef>
#include <string_view>

namespace pciplan::inline v0 {

/// A string of N characters stored by value, so it is a structural type and can be a
/// template argument: `place<pcie_root_port, "rp1">(…)`.
template <std::size_t N>
struct fixed_string {
  char chars[N + 1]{};  ///< the characters and a terminating NUL

  /// A copy of a string literal of N characters.
  constexpr fixed_string(const char (&text)[N + 1]) noexcept {  // NOLINT: implicit on purpose
    for (std::size_t i = 0; i != N + 1; ++i) chars[i] = text[i];
  }
  [[nodiscard]] constexpr std::string_view view() const noexcept { return {chars, N}; }  ///< The N characters.
  [[nodiscard]] static constexpr std::size_t size() noexcept { return N; }  ///< N, the number of characters.
};

/// Deduces N from a string literal: its length without the NUL.
template <std::size_t M>
fixed_string(const char (&)[M]) -> fixed_string<M - 1>;

/// Equal when the characters are equal (strings of different lengths never are).
template <std::size_t A, std::size_t B>
constexpr bool operator==(const fixed_string<A>& a, const fixed_string<B>& b) noexcept {
  return a.view() == b.view();
}

}  // namespace pciplan::inline v0

#endif  // PCIPLAN_VOCABULARY_FIXED_STRING_HPP
