// pciplan — detail/numbers.hpp: reading and writing the numbers of addresses and
// attributes, once for every reader and writer.
//
// Three spellings of numbers meet in PCI planning, and each reader says which it takes:
//  - `number_syntax::c`: C's base 0, what libvirt's XML attributes accept (9.0 and 11.3
//    alike): `0x1f` hexadecimal, a leading `0` octal (`010` is 8), else decimal;
//  - `number_syntax::decimal`: decimal digits only, a leading 0 too (libvirt's
//    controller `index`: `010` is 10, `0x3` is no number, in 9.0 and 11.3 alike);
//  - `number_syntax::decimal_or_hex`: decimal, or hexadecimal after `0x` (QEMU's
//    integer properties as pciplan's validator reads them);
//  - `number_syntax::hex`: hexadecimal digits after an optional `0x` (QEMU's `addr`
//    parts);
//  - `number_syntax::bare_hex`: hexadecimal digits only (the fields of `0000:00:1f.2`).
// Sizes (`16G`, `512M`, `32GiB`) are such a number with a K/M/G/T suffix: parse_size.
// Hexadecimal output is lower case and zero-padded, into any text that has push_back.
#ifndef PCIPLAN_DETAIL_NUMBERS_HPP
#define PCIPLAN_DETAIL_NUMBERS_HPP

#include <pciplan/detail/config.hpp>

#include <cstdint>
#include <optional>
#include <string_view>

namespace pciplan::inline v0::detail {

/// The value of one hexadecimal digit, or -1.
[[nodiscard]] constexpr int hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// How a number is spelled (see the top of this header).
enum class number_syntax : unsigned char { c, decimal, decimal_or_hex, hex, bare_hex };

/// `text` as a number of `syntax`, at most `max_digits` digits after any prefix;
/// nullopt when it is not one (empty, a stray character, too many digits, beyond 64 bits).
[[nodiscard]] constexpr std::optional<std::uint64_t> parse_number(std::string_view text, number_syntax syntax,
                                                                  std::size_t max_digits = 16) noexcept {
  const bool hex = syntax == number_syntax::hex || syntax == number_syntax::bare_hex;
  unsigned base = hex ? 16 : 10;
  const bool has_0x = syntax != number_syntax::bare_hex && syntax != number_syntax::decimal && text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
  if (has_0x) {
    base = 16;
    text.remove_prefix(2);
  } else if (syntax == number_syntax::c && text.size() > 1 && text[0] == '0') {
    base = 8;
    text.remove_prefix(1);
  }
  if (text.empty() || text.size() > max_digits) return std::nullopt;
  std::uint64_t value = 0;
  for (const char c : text) {
    const int d = hex_digit(c);
    if (d < 0 || static_cast<unsigned>(d) >= base) return std::nullopt;
    if (value > (~std::uint64_t{0} - static_cast<unsigned>(d)) / base) return std::nullopt;
    value = value * base + static_cast<unsigned>(d);
  }
  return value;
}

/// A size as its text spells it: `16G` is number 16, shift 30 (bytes = number << shift).
struct size_text {
  std::uint64_t number = 0;  ///< the number before any suffix
  unsigned shift = 0;        ///< 0, or 10/20/30/40 for a K, M, G or T suffix
};

/// `text` as a size: a number of `syntax` (at most `max_digits` digits), then optionally
/// K, M, G or T (KiB to TiB, either case), and with `binary_suffix` also KiB, MiB, GiB or
/// TiB. nullopt when it is none. The caller bounds number << shift to what it accepts.
[[nodiscard]] constexpr std::optional<size_text> parse_size(std::string_view text, number_syntax syntax,
                                                            std::size_t max_digits = 19,
                                                            bool binary_suffix = false) noexcept {
  size_text out{};
  const bool binary = binary_suffix && text.size() > 2 && (text.ends_with("iB") || text.ends_with("ib"));
  if (binary) text.remove_suffix(2);
  if (!text.empty()) {
    switch (text.back()) {
      case 'k': case 'K': out.shift = 10; break;
      case 'm': case 'M': out.shift = 20; break;
      case 'g': case 'G': out.shift = 30; break;
      case 't': case 'T': out.shift = 40; break;
      default: break;
    }
  }
  if (binary && out.shift == 0) return std::nullopt;  // "iB" after no K/M/G/T
  if (out.shift != 0) text.remove_suffix(1);
  const std::optional<std::uint64_t> n = parse_number(text, syntax, max_digits);
  if (!n) return std::nullopt;
  out.number = *n;
  return out;
}

/// Appends `value` in lower-case hexadecimal, zero-padded to `width` digits, to `out`
/// (std::string, bounded_text, or anything else with push_back(char)).
template <class Text>
constexpr void append_hex(Text& out, std::uint64_t value, unsigned width = 1) {
  char digits[16]{};
  unsigned n = 0;
  do {
    digits[n++] = "0123456789abcdef"[value & 0xFu];
    value >>= 4;
  } while (value != 0 && n < 16);
  for (unsigned i = n; i < width; ++i) out.push_back('0');
  while (n != 0) out.push_back(digits[--n]);
}

/// Appends `value` in decimal to `out` (anything with push_back(char)).
template <class Text>
constexpr void append_decimal(Text& out, std::uint64_t value) {
  char digits[20]{};
  unsigned n = 0;
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  while (n != 0) out.push_back(digits[--n]);
}

/// Appends a size in bytes with QEMU's binary suffix when it divides evenly: `16G`,
/// `2M`, `4K`, `100` (what QEMU's size properties take; parse_size reads it back).
template <class Text>
constexpr void append_size(Text& out, std::uint64_t bytes) {
  char suffix = 0;
  if (bytes != 0) {
    for (const char s : {'K', 'M', 'G', 'T'}) {
      if (bytes % 1024 != 0) break;
      bytes /= 1024;
      suffix = s;
    }
  }
  append_decimal(out, bytes);
  if (suffix != 0) out.push_back(suffix);
}

}  // namespace pciplan::inline v0::detail

#endif  // PCIPLAN_DETAIL_NUMBERS_HPP
