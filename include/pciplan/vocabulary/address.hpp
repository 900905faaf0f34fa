// pciplan — vocabulary/address.hpp: PCI addresses, guest bus numbers and controller indexes.
//
// Two numbers are easy to confuse and are kept apart by type:
//  - `bus_number`: the guest's bus number, as firmware assigns it and lspci shows it;
//  - `controller_index`: libvirt's `bus='…'` attribute, the index of the controller
//    whose bus it is. It is *not* a guest bus number (a pxb with busNr 254 has guest
//    bus 0xfe but might be controller index 1).
// `pci_address` carries a bus_number; `controller_address` carries a controller_index.
// Both parse and format the `0000:00:1f.2` form and libvirt's attribute form.
#ifndef PCIPLAN_VOCABULARY_ADDRESS_HPP
#define PCIPLAN_VOCABULARY_ADDRESS_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/detail/numbers.hpp>
#include <pciplan/detail/report.hpp>
#include <pciplan/vocabulary/error.hpp>
#include <pciplan/vocabulary/text.hpp>

#include <compare>
#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

namespace pciplan::inline v0 {

/// A guest bus number, 0x00 to 0xff, as the firmware numbers buses (depth first).
struct bus_number {
  static constexpr unsigned max = 0xff;  ///< the highest bus number
  std::uint8_t value = 0;                ///< the bus number
  /// Compares the numbers.
  friend constexpr auto operator<=>(bus_number, bus_number) = default;
};

/// libvirt's `bus='…'`: the index of the controller that provides the bus. libvirt
/// allows 0 to 255; pciplan's own plans may go higher on machines with several PCI
/// domains (pseries PHBs), so the type holds 0 to 0xffff.
struct controller_index {
  static constexpr unsigned max = 0xffff;  ///< the highest index this type holds
  std::uint16_t value = 0;                 ///< the controller index
  /// Compares the indexes.
  friend constexpr auto operator<=>(controller_index, controller_index) = default;
};

inline constexpr unsigned max_domain = 0xffff;   ///< highest PCI domain (segment)
inline constexpr unsigned max_bus = 0xff;        ///< highest guest bus number
inline constexpr unsigned max_slot = 0x1f;       ///< 32 slots per bus
inline constexpr unsigned max_function = 7;      ///< 8 functions per slot

/// domain:bus:slot.function, where the bus is a `bus_number` (pci_address) or a
/// `controller_index` (controller_address). A structural type: usable as a template
/// argument, e.g. `template <pci_address A> struct pinned;`.
///
/// The constructor checks the ranges: out of range is a compile error in constant
/// evaluation and throws std::invalid_argument at run time. To turn untrusted text
/// into an address without exceptions, use `parse_address`.
template <class Bus>
struct basic_address {
  using bus_type = Bus;  ///< the type of the bus field: bus_number or controller_index

  std::uint16_t domain = 0;   ///< the PCI domain (segment), 0 to 0xffff
  Bus bus{};                  ///< the guest bus number, or the index of the controller that provides the bus
  std::uint8_t slot = 0;      ///< the slot (device), 0 to 0x1f
  std::uint8_t function = 0;  ///< the function, 0 to 7

  /// The address 0000:00:00.0.
  constexpr basic_address() noexcept = default;
  /// An address from its four numbers; every field, the bus included, is range-checked.
  constexpr basic_address(unsigned domain_, unsigned bus_, unsigned slot_, unsigned function_)
      : basic_address(domain_, checked_bus(bus_), slot_, function_) {}
  /// An address with a typed bus; the domain, slot and function are range-checked.
  constexpr basic_address(unsigned domain_, Bus bus_, unsigned slot_, unsigned function_)
      : domain(static_cast<std::uint16_t>(domain_)),
        bus(bus_),
        slot(static_cast<std::uint8_t>(slot_)),
        function(static_cast<std::uint8_t>(function_)) {
    detail::expects(domain_ <= max_domain, "pciplan: a PCI domain must be 0x0000 to 0xffff");
    detail::expects(slot_ <= max_slot, "pciplan: a PCI slot must be 0x00 to 0x1f (32 slots per bus)");
    detail::expects(function_ <= max_function, "pciplan: a PCI function must be 0 to 7 (8 functions per slot)");
  }

  /// slot * 8 + function, the byte QEMU and firmware call devfn.
  [[nodiscard]] constexpr unsigned devfn() const noexcept { return slot * 8u + function; }

  /// Orders by domain, then bus, slot and function.
  friend constexpr auto operator<=>(const basic_address&, const basic_address&) = default;

 private:
  static constexpr Bus checked_bus(unsigned b) {
    detail::expects(b <= Bus::max, "pciplan: a PCI bus number must be 0x00 to 0xff, a controller index 0 to 0xffff");
    return Bus{static_cast<decltype(Bus{}.value)>(b)};
  }
};

/// A guest address: the bus is the guest bus number.
using pci_address = basic_address<bus_number>;
/// A libvirt address: the bus is the index of the controller that provides it.
using controller_address = basic_address<controller_index>;

/// `0000:00:1f.2`: domain 4 hex digits, bus 2, slot 2, function 1.
template <class Bus>
[[nodiscard]] constexpr bounded_text<14> to_text(const basic_address<Bus>& a) noexcept {
  bounded_text<14> t;  // 0000:00:1f.2, or 0000:1234:1f.2 for a large controller index
  t.append_hex(a.domain, 4).append(':').append_hex(a.bus.value, 2).append(':').append_hex(a.slot, 2);
  t.append('.').append_hex(a.function, 1);
  return t;
}

/// libvirt's attribute form, as libvirt writes it:
/// `domain='0x0000' bus='0x00' slot='0x1f' function='0x2'`.
template <class Bus>
[[nodiscard]] constexpr bounded_text<58> to_libvirt_text(const basic_address<Bus>& a) noexcept {
  bounded_text<58> t;
  t.append("domain='0x").append_hex(a.domain, 4).append("' bus='0x").append_hex(a.bus.value, 2);
  t.append("' slot='0x").append_hex(a.slot, 2).append("' function='0x").append_hex(a.function, 1).append('\'');
  return t;
}

/// A guest address prints as `0000:00:1f.2`.
inline std::ostream& operator<<(std::ostream& os, const pci_address& a) { return os << to_text(a).view(); }
/// A guest address as `0000:00:1f.2`.
[[nodiscard]] inline std::string to_string(const pci_address& a) { return to_text(a).str(); }

/// A libvirt address prints in words, so that it never reads as a guest address:
/// `bus index 1, slot 0x03, function 0`, with `domain 0x0001, ` first when the domain is
/// not 0. (`to_text` and `to_libvirt_text` give its compact and its libvirt forms.)
[[nodiscard]] inline std::string to_string(const controller_address& a) {
  bounded_text<64> t;
  if (a.domain != 0) t.append("domain 0x").append_hex(a.domain, 4).append(", ");
  t.append("bus index ").append_decimal(a.bus.value).append(", slot 0x").append_hex(a.slot, 2);
  t.append(", function ").append_decimal(a.function);
  return t.str();
}
/// Prints a libvirt address in words, as to_string does.
inline std::ostream& operator<<(std::ostream& os, const controller_address& a) { return os << to_string(a); }
/// Prints the bus number as a plain number.
inline std::ostream& operator<<(std::ostream& os, bus_number b) { return os << unsigned{b.value}; }
/// Prints the controller index as a plain number.
inline std::ostream& operator<<(std::ostream& os, controller_index i) { return os << unsigned{i.value}; }

namespace detail {

constexpr pciplan::error address_error(errc code, std::string_view topic, std::string_view reason,
                                       std::string_view text, std::size_t position) noexcept {
  return pciplan::error{code, topic, reason, bounded_text<96>(text), position};
}

inline constexpr std::string_view bdf_topic = "invalid PCI address";
inline constexpr std::string_view attr_topic = "invalid libvirt PCI address";

inline constexpr std::string_view domain_range = "the domain must be 0x0000 to 0xffff";
inline constexpr std::string_view bus_range = "the bus must be 0x00 to 0xff";
inline constexpr std::string_view index_range = "the bus (a controller index) must be 0 to 0xffff";
inline constexpr std::string_view slot_range_text = "the slot must be 0x00 to 0x1f (32 slots per bus)";
inline constexpr std::string_view function_range = "the function must be 0 to 7 (8 functions per slot)";

/// Reads one hexadecimal field (1 to 8 digits, nothing else) of `s`.
constexpr bool read_hex_field(std::string_view s, std::uint64_t& out) noexcept {
  const auto v = parse_number(s, number_syntax::bare_hex, 8);
  out = v.value_or(0);
  return v.has_value();
}

}  // namespace detail

/// Parses `[DDDD:]BB:SS.F` (hexadecimal, as lspci and sysfs print it). The domain is
/// optional; fields may have fewer digits than usual (`0:1f.2`), never more.
template <class Bus = bus_number>
[[nodiscard]] constexpr result<basic_address<Bus>> parse_address(std::string_view text) noexcept {
  using detail::address_error;
  constexpr auto topic = detail::bdf_topic;
  constexpr std::string_view shape = "expected [domain:]bus:slot.function in hexadecimal";
  const std::size_t dot = text.rfind('.');
  if (dot == std::string_view::npos) return address_error(errc::address_syntax, topic, shape, text, text.size());
  // Fields: [domain:]bus:slot before the dot, the function after it.
  std::uint64_t fields[4]{};
  std::size_t starts[4]{};
  std::size_t count = 0;
  std::size_t begin = 0;
  for (;;) {
    const std::size_t colon = text.find(':', begin);
    const std::size_t end = (colon == std::string_view::npos || colon > dot) ? dot : colon;
    if (count == 3) return address_error(errc::address_syntax, topic, shape, text, begin);
    starts[count] = begin;
    if (!detail::read_hex_field(text.substr(begin, end - begin), fields[count])) {
      return address_error(errc::address_syntax, topic, "expected 1 to 8 hexadecimal digits", text, begin);
    }
    ++count;
    if (end == dot) break;
    begin = end + 1;
  }
  if (count < 2) return address_error(errc::address_syntax, topic, shape, text, 0);
  starts[count] = dot + 1;
  const std::string_view fn = text.substr(dot + 1);
  if (!detail::read_hex_field(fn, fields[count])) {
    return address_error(errc::address_syntax, topic, "expected the function (0 to 7) after '.'", text, dot + 1);
  }
  ++count;
  const std::size_t b = count == 4 ? 1 : 0;  // index of the bus field
  const std::uint64_t domain = b == 1 ? fields[0] : 0;
  if (domain > max_domain) return address_error(errc::domain_out_of_range, topic, detail::domain_range, text, starts[0]);
  if (fields[b] > Bus::max) {
    return address_error(errc::bus_out_of_range, topic, Bus::max == max_bus ? detail::bus_range : detail::index_range,
                         text, starts[b]);
  }
  if (fields[b + 1] > max_slot) {
    return address_error(errc::slot_out_of_range, topic, detail::slot_range_text, text, starts[b + 1]);
  }
  if (fields[b + 2] > max_function) {
    return address_error(errc::function_out_of_range, topic, detail::function_range, text, starts[b + 2]);
  }
  return basic_address<Bus>(static_cast<unsigned>(domain), static_cast<unsigned>(fields[b]),
                            static_cast<unsigned>(fields[b + 1]), static_cast<unsigned>(fields[b + 2]));
}

/// Parses libvirt's attribute form, e.g. `domain='0x0000' bus='0x00' slot='0x1f'
/// function='0x2'`, in any order, with single or double quotes. Omitted fields are 0,
/// as in libvirt. `type` must be `pci` when present; `multifunction` must be `on` or
/// `off` (it is checked, not returned). The bus is a controller index by default.
template <class Bus = controller_index>
[[nodiscard]] constexpr result<basic_address<Bus>> parse_libvirt_address(std::string_view text) noexcept {
  using detail::address_error;
  constexpr auto topic = detail::attr_topic;
  constexpr std::string_view names[] = {"domain", "bus", "slot", "function", "type", "multifunction"};
  std::uint64_t values[4]{};
  std::size_t value_at[4]{};
  bool seen[6]{};
  std::size_t pos = 0;
  const auto skip_space = [&] {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t' || text[pos] == '\n' || text[pos] == '\r')) ++pos;
  };
  skip_space();
  if (pos == text.size()) return address_error(errc::address_syntax, topic, "no attributes given", text, pos);
  while (pos < text.size()) {
    const std::size_t name_at = pos;
    while (pos < text.size() && text[pos] != '=' && text[pos] != ' ') ++pos;
    const std::string_view name = text.substr(name_at, pos - name_at);
    std::size_t which = 6;
    for (std::size_t i = 0; i != 6; ++i) {
      if (names[i] == name) which = i;
    }
    if (which == 6) {
      return address_error(errc::attribute_unknown, topic,
                           "unknown attribute (expected domain, bus, slot, function, type or multifunction)", text,
                           name_at);
    }
    if (seen[which]) return address_error(errc::attribute_repeated, topic, "an attribute is given twice", text, name_at);
    seen[which] = true;
    if (pos == text.size() || text[pos] != '=') {
      return address_error(errc::address_syntax, topic, "expected '=' after the attribute name", text, pos);
    }
    ++pos;
    if (pos == text.size() || (text[pos] != '\'' && text[pos] != '"')) {
      return address_error(errc::address_syntax, topic, "expected a quoted value", text, pos);
    }
    const char quote = text[pos++];
    const std::size_t v_at = pos;
    while (pos < text.size() && text[pos] != quote) ++pos;
    if (pos == text.size()) return address_error(errc::address_syntax, topic, "unterminated quoted value", text, v_at - 1);
    const std::string_view value = text.substr(v_at, pos - v_at);
    ++pos;
    if (which < 4) {
      // libvirt's numbers: 0x hexadecimal, a leading 0 octal, else decimal (9.0 and 11.3)
      const auto number = detail::parse_number(value, detail::number_syntax::c);
      if (!number) return address_error(errc::attribute_value, topic, "the value is not a number", text, v_at);
      values[which] = *number;
      value_at[which] = v_at;
    } else if (which == 4 && value != "pci") {
      return address_error(errc::attribute_value, topic, "type must be 'pci'", text, v_at);
    } else if (which == 5 && value != "on" && value != "off") {
      return address_error(errc::attribute_value, topic, "multifunction must be 'on' or 'off'", text, v_at);
    }
    const std::size_t before_space = pos;
    skip_space();
    if (pos < text.size() && pos == before_space) {
      return address_error(errc::address_syntax, topic, "expected a space between attributes", text, pos);
    }
  }
  if (values[0] > max_domain) return address_error(errc::domain_out_of_range, topic, detail::domain_range, text, value_at[0]);
  if (values[1] > Bus::max) {
    return address_error(errc::bus_out_of_range, topic, Bus::max == max_bus ? detail::bus_range : detail::index_range,
                         text, value_at[1]);
  }
  if (values[2] > max_slot) return address_error(errc::slot_out_of_range, topic, detail::slot_range_text, text, value_at[2]);
  if (values[3] > max_function) {
    return address_error(errc::function_out_of_range, topic, detail::function_range, text, value_at[3]);
  }
  return basic_address<Bus>(static_cast<unsigned>(values[0]), static_cast<unsigned>(values[1]),
                            static_cast<unsigned>(values[2]), static_cast<unsigned>(values[3]));
}

namespace literals {

/// `"0000:00:1f.2"_pci` — a guest address checked at compile time; a malformed or
/// out-of-range literal does not compile, and the diagnostic says which field.
consteval pci_address operator""_pci(const char* text, std::size_t size) {
  const auto r = parse_address<bus_number>(std::string_view(text, size));
  if (!r) {
    switch (r.error().code) {
      case errc::domain_out_of_range:
        detail::compile_time_error("pciplan: PCI address literal: the domain must be 0x0000 to 0xffff");
        break;
      case errc::bus_out_of_range:
        detail::compile_time_error("pciplan: PCI address literal: the bus must be 0x00 to 0xff");
        break;
      case errc::slot_out_of_range:
        detail::compile_time_error("pciplan: PCI address literal: the slot must be 0x00 to 0x1f (32 slots per bus)");
        break;
      case errc::function_out_of_range:
        detail::compile_time_error("pciplan: PCI address literal: the function must be 0 to 7 (8 functions per slot)");
        break;
      default:
        detail::compile_time_error("pciplan: PCI address literal: expected [domain:]bus:slot.function in hexadecimal");
        break;
    }
    return {};
  }
  return *r;
}

}  // namespace literals

}  // namespace pciplan::inline v0

#endif  // PCIPLAN_VOCABULARY_ADDRESS_HPP
