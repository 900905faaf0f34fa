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
  constexpr bounded_text() noexcept = default;
  constexpr bounded_text(std::string_view s) noexcept { append(s); }  // NOLINT: implicit on purpose

  constexpr bounded_text& append(char c) noexcept {
    if (size_ < Capacity) {
      chars_[size_++] = c;
    } else {
      truncated_ = true;
      for (std::size_t i = Capacity >= 3 ? Capacity - 3 : 0; i < Capacity; ++i) chars_[i] = '.';
    }
    return *this;
  }
  constexpr bounded_text& append(std::string_view s) noexcept {
    for (char c : s) append(c);
    return *this;
  }
  /// Lower-case hexadecimal, zero-padded to `width` digits.
  constexpr bounded_text& append_hex(std::uint64_t v, unsigned width = 1) noexcept {
    detail::append_hex(*this, v, width);
    return *this;
  }
  constexpr bounded_text& append_decimal(std::uint64_t v) noexcept {
    detail::append_decimal(*this, v);
    return *this;
  }
  /// One character (so that the detail number writers can write here).
  constexpr void push_back(char c) noexcept { append(c); }

  [[nodiscard]] constexpr std::string_view view() const noexcept { return {chars_, size_}; }
  [[nodiscard]] constexpr std::size_t size() const noexcept { return size_; }
  [[nodiscard]] constexpr bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] constexpr bool truncated() const noexcept { return truncated_; }
  [[nodiscard]] static constexpr std::size_t capacity() noexcept { return Capacity; }
  [[nodiscard]] std::string str() const { return std::string(view()); }

  friend constexpr bool operator==(const bounded_text& a, const bounded_text& b) noexcept {
    return a.view() == b.view();
  }
  friend constexpr bool operator==(const bounded_text& a, std::string_view b) noexcept {
    return a.view() == b;
  }
  friend std::ostream& operator<<(std::ostream& os, const bounded_text& t) { return os << t.view(); }

 private:
  char chars_[Capacity]{};
  std::size_t size_ = 0;
  bool truncated_ = false;
};

}  // namespace pciplan::inline v0

#endif  // PCIPLAN_VOCABULARY_TEXT_HPP
