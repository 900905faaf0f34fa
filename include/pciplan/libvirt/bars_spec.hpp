// pciplan — libvirt/bars_spec.hpp: BARs as pciplan's metadata and the `pciplan` tool write them.
//
//   bars="mem32:16M,pref64:32G,pref64:32M"        <pciplan:device>: a passthrough GPU's BARs
//   hotplug-budget="mem32:16M,pref64:64G"         <pciplan:plan>: what a hot-plugged device may need
//   pciplan plan --hotplug-budget pref64:64G …    the same on the command line
//
// A list of `space:size` entries separated by commas, one BAR each: the space is io,
// mem32, mem64, pref32 or pref64 (bar_space), the size a number of bytes, or a number
// with K, M, G or T (KiB, MiB, GiB, TiB; either case). A size that is not a power of two
// is rounded up, as hardware decodes it (device_bars).
#ifndef PCIPLAN_LIBVIRT_BARS_SPEC_HPP
#define PCIPLAN_LIBVIRT_BARS_SPEC_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/detail/numbers.hpp>
#include <pciplan/vocabulary/bars.hpp>
#include <pciplan/vocabulary/error.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace pciplan::inline v0::libvirt {

namespace detail {

/// `text` without the blanks around it.
[[nodiscard]] constexpr std::string_view trim_blanks(std::string_view text) noexcept {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

/// The error for a bad entry of a BAR list.
[[nodiscard]] constexpr error bad_bar_entry(std::string_view entry, std::string_view reason) noexcept {
  error e{};
  e.code = errc::attribute_value;
  e.topic = "BAR entry";
  e.reason = reason;
  e.subject = entry;
  return e;
}

}  // namespace detail

/// The largest BAR an entry may give (2^62 bytes, 4 EiB).
inline constexpr std::uint64_t largest_bar_in_spec = std::uint64_t{1} << 62;

/// Reads a BAR list (see the top of this header) into device_bars (`given` set). The
/// error (errc::attribute_value) names the entry and what is wrong with it, e.g.
/// "BAR entry 'memx:16M': the space must be io, mem32, mem64, pref32 or pref64".
[[nodiscard]] constexpr result<device_bars> parse_bars(std::string_view spec) noexcept {
  using detail::bad_bar_entry;
  device_bars out{};
  out.given = true;
  const std::string_view whole = spec;
  if (detail::trim_blanks(spec).empty()) {
    error e = bad_bar_entry(spec, "the list is empty (give space:size entries separated by commas, e.g. pref64:32G)");
    e.topic = "BAR list";
    return e;
  }
  while (true) {
    const std::size_t comma = spec.find(',');
    const std::string_view entry = detail::trim_blanks(spec.substr(0, comma));
    if (entry.empty()) {
      error e = bad_bar_entry(whole, "an entry is empty (two commas, or a comma at an end)");
      e.topic = "BAR list";
      return e;
    }
    const std::size_t colon = entry.find(':');
    if (colon == std::string_view::npos) {
      return bad_bar_entry(entry, "an entry is space:size, e.g. pref64:32G");
    }
    const auto space = bar_space_named(detail::trim_blanks(entry.substr(0, colon)));
    if (!space) return bad_bar_entry(entry, "the space must be io, mem32, mem64, pref32 or pref64");
    const auto size = pciplan::detail::parse_size(detail::trim_blanks(entry.substr(colon + 1)),
                                                  pciplan::detail::number_syntax::decimal, 19, true);
    if (!size) {
      return bad_bar_entry(entry, "the size must be a number of bytes, or a number with K, M, G or T (e.g. 16M)");
    }
    if (size->number == 0) return bad_bar_entry(entry, "the size must be more than 0");
    if (size->number > (largest_bar_in_spec >> size->shift)) return bad_bar_entry(entry, "the size is more than 4 EiB");
    out.add(*space, size->number << size->shift);
    if (comma == std::string_view::npos) return out;
    spec.remove_prefix(comma + 1);
  }
}

}  // namespace pciplan::inline v0::libvirt

#endif  // PCIPLAN_LIBVIRT_BARS_SPEC_HPP
