// pciplan — vocabulary/text.hpp: bounded text that works in constant evaluation.
//
// std::string cannot live in a constant expression on clang 14 with libstdc++ 12,
// so formatted output (addresses, error context) is written into a fixed-capacity
// buffer. Appending beyond the capacity truncates and marks the text with "..."
// (three dots), never overflows.
#ifndef PCIPLAN_VOCABULARY_TEXT_HPP
#define PCIPLAN_VOCABULARY_TEXT_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/detail/numbers.hpp>

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

namespace pciplan::inline v0 {

/// Up to `Capacity` characters, stored inline. Literal type: usable in constexpr code.
template <std::size_t Capacity>
class bounded_text {
 public:
  /// An empty text.
  constexpr bounded_text() noexcept = default;
  /// A copy of `s`, truncated when it is longer than the capacity.
  constexpr bounded_text(std::string_view s) noexcept { append(s); }  // NOLINT: implicit on purpose

  /// Appends one character; when the text is full, marks it truncated instead.
  constexpr bounded_text& append(char c) noexcept {
    if (size_ < Capacity) {
      chars_[size_++] = c;
    } else {
      truncated_ = true;
      for (std::size_t i = Capacity >= 3 ? Capacity - 3 : 0; i < Capacity; ++i) chars_[i] = '.';
    }
    return *this;
  }
  /// Appends every character of `s`, as far as there is room.
  constexpr bounded_text& append(std::string_view s) noexcept {
    for (char c : s) append(c);
    return *this;
  }
  /// Lower-case hexadecimal, zero-padded to `width` digits.
  constexpr bounded_text& append_hex(std::uint64_t v, unsigned width = 1) noexcept {
    detail::append_hex(*this, v, width);
    return *this;
  }
  /// Decimal, without padding.
  constexpr bounded_text& append_decimal(std::uint64_t v) noexcept {
    detail::append_decimal(*this, v);
    return *this;
  }
  /// One character (so that the detail number writers can write here).
  constexpr void push_back(char c) noexcept { append(c); }

  [[nodiscard]] constexpr std::string_view view() const noexcept { return {chars_, size_}; }  ///< The characters.
  [[nodiscard]] constexpr std::size_t size() const noexcept { return size_; }  ///< How many characters it holds.
  [[nodiscard]] constexpr bool empty() const noexcept { return size_ == 0; }  ///< Whether it holds no character.
  /// Whether something did not fit (the text then ends with "...").
  [[nodiscard]] constexpr bool truncated() const noexcept { return truncated_; }
  /// The most characters it can hold: `Capacity`.
  [[nodiscard]] static constexpr std::size_t capacity() noexcept { return Capacity; }
  [[nodiscard]] std::string str() const { return std::string(view()); }  ///< The characters as a std::string.

  /// Equal when the characters are equal.
  friend constexpr bool operator==(const bounded_text& a, const bounded_text& b) noexcept {
    return a.view() == b.view();
  }
  /// Equal when the characters are those of `b`.
  friend constexpr bool operator==(const bounded_text& a, std::string_view b) noexcept {
    return a.view() == b;
  }
  /// Writes the characters.
  friend std::ostream& operator<<(std::ostream& os, const bounded_text& t) { return os << t.view(); }

 private:
  char chars_[Capacity]{};
  std::size_t size_ = 0;
  bool truncated_ = false;
};

}  // namespace pciplan::inline v0

#endif  // PCIPLAN_VOCABULARY_TEXT_HPP
