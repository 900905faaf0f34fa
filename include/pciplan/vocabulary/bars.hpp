// pciplan — vocabulary/bars.hpp: the memory a device decodes — its BARs, summed by the
// window firmware puts them in.
//
//   request{"gpu0", models::vfio_pci{}, device_bars{}.mem32(16_MiB).pref64(32_GiB).pref64(32_MiB)}
//   device_bars{}.io(32).mem32(4_KiB).pref64(16_KiB)       // virtio-net-pci's BARs on pc
//
// PCI firmware sizes a bridge's three windows from the BARs below it: I/O; memory, which
// is 32-bit and not prefetchable (it takes 64-bit non-prefetchable BARs and expansion ROMs
// too); prefetchable memory, 64-bit when every BAR in it is. A BAR is a power of two and
// naturally aligned, so what a window needs from a device is, per space, the sum of its
// BARs and the largest one: placed largest first, BARs of power-of-two sizes leave no gaps.
#ifndef PCIPLAN_VOCABULARY_BARS_HPP
#define PCIPLAN_VOCABULARY_BARS_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/detail/numbers.hpp>

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace pciplan::inline v0 {

/// The windows a BAR can be placed in, as firmware sorts BARs into bridge windows.
enum class bar_space : unsigned char {
  io,      ///< I/O ports
  mem32,   ///< 32-bit memory, not prefetchable (and expansion ROMs)
  mem64,   ///< 64-bit memory, not prefetchable: in a bridge's 32-bit window; on a root bus it may go above 4 GiB
  pref32,  ///< prefetchable memory that decodes only 32-bit addresses (e.g. VGA's frame buffer)
  pref64,  ///< 64-bit prefetchable memory: may be placed above 4 GiB
};
/// How many bar_space values there are.
inline constexpr std::size_t bar_space_count = 5;

/// A space's name ("io", "mem32", "mem64", "pref32", "pref64").
[[nodiscard]] constexpr std::string_view name_of(bar_space s) noexcept {
  switch (s) {
    case bar_space::io: return "io";
    case bar_space::mem32: return "mem32";
    case bar_space::mem64: return "mem64";
    case bar_space::pref32: return "pref32";
    case bar_space::pref64: return "pref64";
  }
  return "unknown";
}

/// The space a name (name_of(bar_space)) names; nullopt when it names none.
[[nodiscard]] constexpr std::optional<bar_space> bar_space_named(std::string_view name) noexcept {
  for (std::size_t k = 0; k != bar_space_count; ++k) {
    if (name_of(static_cast<bar_space>(k)) == name) return static_cast<bar_space>(k);
  }
  return std::nullopt;
}

/// A byte size as QEMU's size properties spell it: a number (decimal, or hexadecimal
/// after 0x) with an optional K, M, G or T suffix in either case —
/// "16G", "512m", "0x800", "4096". nullopt when it is none, or more than 4 EiB (2^62).
[[nodiscard]] constexpr std::optional<std::uint64_t> parse_byte_size(std::string_view text) noexcept {
  const std::optional<detail::size_text> n = detail::parse_size(text, detail::number_syntax::decimal_or_hex, 19);
  if (!n || n->number > (std::uint64_t{1} << (62 - n->shift))) return std::nullopt;
  return n->number << n->shift;
}

/// Byte sizes as QEMU spells them: 4_KiB, 32_GiB (`using namespace pciplan::literals`).
namespace literals {
/// n KiB in bytes.
consteval std::uint64_t operator""_KiB(unsigned long long n) { return n << 10; }
/// n MiB in bytes.
consteval std::uint64_t operator""_MiB(unsigned long long n) { return n << 20; }
/// n GiB in bytes.
consteval std::uint64_t operator""_GiB(unsigned long long n) { return n << 30; }
/// n TiB in bytes.
consteval std::uint64_t operator""_TiB(unsigned long long n) { return n << 40; }
}  // namespace literals

/// What a set of BARs takes in one space: the sum of the BARs' sizes and the largest
/// BAR (which is the alignment the set needs).
struct bar_sum {
  std::uint64_t size = 0;     ///< bytes, the sum of the BARs (each a power of two)
  std::uint64_t largest = 0;  ///< the largest BAR, in bytes; 0 when there is none

  /// Adds a BAR (or a set) of `bytes`, needing alignment `align`.
  constexpr void add(std::uint64_t bytes, std::uint64_t align) noexcept {
    size += bytes;
    if (align > largest) largest = align;
  }
  /// Whether no BAR is counted.
  [[nodiscard]] constexpr bool empty() const noexcept { return size == 0; }
  /// Compares both members.
  friend constexpr bool operator==(const bar_sum&, const bar_sum&) = default;
};

/// The BARs of one device, per space, as they take room in windows. Built with the adders:
/// each adds one BAR, its size rounded up to a power of two as hardware decodes it, and a
/// memory BAR smaller than a 4 KiB page counted as a page (firmware gives every memory
/// BAR a page of its own, so that a page maps one device). `given` says the caller built
/// it; a request without it takes the catalogue's BARs for its device
/// (kinds/device_bars.hpp).
struct device_bars {
  std::array<bar_sum, bar_space_count> space{};  ///< by bar_space
  bool given = false;                            ///< set by the adders

  /// The smallest room a memory BAR takes.
  static constexpr std::uint64_t page = 4096;

  /// Adds a BAR of `bytes` (0 adds nothing) in `s`.
  constexpr device_bars& add(bar_space s, std::uint64_t bytes) noexcept {
    given = true;
    if (bytes == 0) return *this;
    std::uint64_t b = std::bit_ceil(bytes);
    if (s != bar_space::io && b < page) b = page;
    space[static_cast<std::size_t>(s)].add(b, b);
    return *this;
  }
  /// Adds an I/O BAR.
  constexpr device_bars& io(std::uint64_t bytes) noexcept { return add(bar_space::io, bytes); }
  /// Adds a 32-bit non-prefetchable memory BAR, or an expansion ROM.
  constexpr device_bars& mem32(std::uint64_t bytes) noexcept { return add(bar_space::mem32, bytes); }
  /// Adds a 64-bit non-prefetchable memory BAR.
  constexpr device_bars& mem64(std::uint64_t bytes) noexcept { return add(bar_space::mem64, bytes); }
  /// Adds a prefetchable memory BAR that decodes only 32-bit addresses.
  constexpr device_bars& pref32(std::uint64_t bytes) noexcept { return add(bar_space::pref32, bytes); }
  /// Adds a 64-bit prefetchable memory BAR.
  constexpr device_bars& pref64(std::uint64_t bytes) noexcept { return add(bar_space::pref64, bytes); }

  /// What space `s` takes.
  [[nodiscard]] constexpr const bar_sum& operator[](bar_space s) const noexcept {
    return space[static_cast<std::size_t>(s)];
  }
  /// Whether no BAR is counted in any space.
  [[nodiscard]] constexpr bool empty() const noexcept {
    for (const bar_sum& s : space) {
      if (!s.empty()) return false;
    }
    return true;
  }
  /// Compares every member.
  friend constexpr bool operator==(const device_bars&, const device_bars&) = default;
};

}  // namespace pciplan::inline v0

#endif  // PCIPLAN_VOCABULARY_BARS_HPP
