// pciplan — libvirt/detail/xml.hpp: small pugixml helpers for the libvirt adapter.
//
// Numbers as libvirt's attributes spell them, line numbers for messages, and inserting
// elements so that the document keeps its indentation.
#ifndef PCIPLAN_LIBVIRT_DETAIL_XML_HPP
#define PCIPLAN_LIBVIRT_DETAIL_XML_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/detail/numbers.hpp>
#include <pciplan/libvirt/input_error.hpp>

#include <pugixml.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace pciplan::inline v0::libvirt::detail {

using pciplan::detail::number_syntax;

/// A number in `syntax` with the blanks around it ignored; nullopt when it is not one.
/// libvirt reads its attributes as `number_syntax::c`: "0x1f" hex, "010" octal (8, in
/// libvirt 9.0 and 11.3 alike), "31" decimal; a controller's index as
/// `number_syntax::decimal` ("010" is 10).
[[nodiscard]] constexpr std::optional<std::uint64_t> number_of(std::string_view text,
                                                               number_syntax syntax = number_syntax::c) noexcept {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return pciplan::detail::parse_number(text, syntax);
}

/// The bytes that one unit of libvirt's scaled integers (`<memory unit='…'>`, `<shmem>`'s
/// `<size unit='…'>`) stands for, as libvirt reads the unit (either case): b, byte, bytes
/// 1; k, KiB 1024 and KB 1000, and likewise M, G, T, P, E; no unit: `none`. nullopt for
/// any other unit.
[[nodiscard]] constexpr std::optional<std::uint64_t> unit_scale(std::string_view unit, std::uint64_t none) noexcept {
  const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  const auto is = [&](std::string_view word) {
    if (unit.size() != word.size()) return false;
    for (std::size_t i = 0; i != word.size(); ++i) {
      if (lower(unit[i]) != word[i]) return false;
    }
    return true;
  };
  if (unit.empty()) return none;
  if (is("b") || is("byte") || is("bytes")) return 1;
  std::uint64_t base = 0;
  if (unit.size() == 1 || (unit.size() == 3 && lower(unit[1]) == 'i' && lower(unit[2]) == 'b')) base = 1024;
  else if (unit.size() == 2 && lower(unit[1]) == 'b') base = 1000;
  else return std::nullopt;
  constexpr std::string_view prefixes = "kmgtpe";
  const std::size_t power = prefixes.find(lower(unit[0]));
  if (power == std::string_view::npos) return std::nullopt;
  std::uint64_t scale = 1;
  for (std::size_t i = 0; i <= power; ++i) scale *= base;
  return scale;
}

/// Where a node starts in the input, as "line N" (1-based), or "" when unknown.
/// A pugixml writer that appends to a string.
struct string_writer : pugi::xml_writer {
  std::string& out;  ///< where the text goes
  explicit string_writer(std::string& o) : out(o) {}
  void write(const void* data, std::size_t size) override { out.append(static_cast<const char*>(data), size); }
};

/// An element as text as the writer prints documents: raw (its own whitespace kept),
/// attributes in single quotes.
[[nodiscard]] inline std::string element_text(pugi::xml_node e) {
  std::string out;
  string_writer w(out);
  e.print(w, "  ", pugi::format_raw | pugi::format_attribute_single_quote);
  return out;
}

class locator {
 public:
  explicit locator(std::string_view text) : text_(text) {}
  [[nodiscard]] std::string line_of(std::ptrdiff_t offset) const {
    if (offset < 0 || static_cast<std::size_t>(offset) > text_.size()) return {};
    std::size_t line = 1;
    for (std::size_t i = 0; i != static_cast<std::size_t>(offset); ++i) line += text_[i] == '\n' ? 1 : 0;
    return "line " + std::to_string(line);
  }
  /// "<controller> at line 12" (the element and where it is)
  [[nodiscard]] std::string where(pugi::xml_node n) const {
    std::string s = "<";
    s += n.name();
    s += ">";
    const std::string line = line_of(n.offset_debug());
    if (!line.empty()) s += " at " + line;
    return s;
  }
  [[noreturn]] void fail(pugi::xml_node n, std::string_view what) const {
    throw input_error(where(n) + ": " + std::string(what));
  }

 private:
  std::string_view text_;
};

/// An attribute as a number within [lo, hi]; nullopt when absent. Throws input_error.
[[nodiscard]] inline std::optional<std::uint64_t> number_attribute(const locator& at, pugi::xml_node n,
                                                                   const char* attr, std::uint64_t lo,
                                                                   std::uint64_t hi,
                                                                   number_syntax syntax = number_syntax::c) {
  const pugi::xml_attribute a = n.attribute(attr);
  if (!a) return std::nullopt;
  const auto v = number_of(a.value(), syntax);
  if (!v) {
    at.fail(n, std::string("attribute ") + attr + "='" + a.value() + "' is not a number");
  }
  if (*v < lo || *v > hi) {
    at.fail(n, std::string("attribute ") + attr + "='" + a.value() + "' is out of range (" + std::to_string(lo) +
                   " to " + std::to_string(hi) + ")");
  }
  return v;
}

/// "0x1f", with at least `width` hex digits.
[[nodiscard]] inline std::string hex(unsigned value, unsigned width) {
  std::string s = "0x";
  pciplan::detail::append_hex(s, value, width);
  return s;
}

/// The indentation of the line an element is on, when the document is indented: a view
/// into the blank text before it (valid while that text is not changed).
[[nodiscard]] inline std::optional<std::string_view> indent_of(pugi::xml_node n) {
  const pugi::xml_node prev = n.previous_sibling();
  if (!prev || prev.type() != pugi::node_pcdata) return std::nullopt;
  const std::string_view ws = prev.value();
  const std::size_t nl = ws.rfind('\n');
  if (nl == std::string_view::npos) return std::nullopt;
  const std::string_view tail = ws.substr(nl + 1);
  if (tail.find_first_not_of(" \t") != std::string_view::npos) return std::nullopt;
  return tail;
}

[[nodiscard]] inline bool is_blank_text(pugi::xml_node n) {
  if (n.type() != pugi::node_pcdata) return false;
  const std::string_view v = n.value();
  return v.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

/// Text of at most N characters, built without allocating and appended to a string in
/// one go (the writer's new elements). Outgrowing it throws std::length_error.
template <std::size_t N>
class short_text {
 public:
  short_text& operator<<(std::string_view s) {
    room(s.size());
    std::memcpy(chars_ + size_, s.data(), s.size());
    size_ += s.size();
    return *this;
  }
  short_text& operator<<(char c) {
    push_back(c);
    return *this;
  }
  /// Lower-case hexadecimal, zero-padded to `width` digits.
  short_text& hex(std::uint64_t v, unsigned width) {
    pciplan::detail::append_hex(*this, v, width);
    return *this;
  }
  /// Decimal, without padding.
  short_text& decimal(std::uint64_t v) {
    pciplan::detail::append_decimal(*this, v);
    return *this;
  }
  void push_back(char c) {
    room(1);
    chars_[size_++] = c;
  }
  void clear() noexcept { size_ = 0; }
  [[nodiscard]] std::string_view view() const noexcept { return {chars_, size_}; }

 private:
  char chars_[N];
  std::size_t size_ = 0;
  void room(std::size_t more) const {
    if (more > N - size_) throw std::length_error("pciplan::libvirt: the writer's short text outgrew its buffer");
  }
};

/// Appends a line break, then `indent` and `extra` more blanks, to `out`.
inline void append_line_break(std::string& out, std::string_view indent, std::size_t extra = 0) {
  out += '\n';
  out += indent;
  out.append(extra, ' ');
}

/// Sets the text of a blank node: a line break, then `indent` and `extra` more blanks.
inline void set_line_break(pugi::xml_node text, std::string_view indent, std::size_t extra = 0) {
  std::string ws;
  ws.reserve(1 + indent.size() + extra);
  append_line_break(ws, indent, extra);
  text.set_value(ws.data(), ws.size());
}

/// Appends a child element as the last element child of `parent`, on a line of its own
/// and indented one level deeper than `parent` when the document is indented.
inline pugi::xml_node append_element(pugi::xml_node parent, const char* name) {
  const std::optional<std::string_view> own = indent_of(parent);
  if (!own) return parent.append_child(name);
  const pugi::xml_node last = parent.last_child();
  if (last && is_blank_text(last)) {  // the closing tag's indentation: the element goes before it
    set_line_break(parent.insert_child_before(pugi::node_pcdata, last), *own, 2);
    return parent.insert_child_before(name, last);
  }
  set_line_break(parent.append_child(pugi::node_pcdata), *own, 2);
  const pugi::xml_node e = parent.append_child(name);
  if (!last) set_line_break(parent.append_child(pugi::node_pcdata), *own);
  return e;
}

/// Inserts a sibling element right after `anchor`, on a line of its own.
inline pugi::xml_node insert_element_after(pugi::xml_node anchor, const char* name) {
  pugi::xml_node parent = anchor.parent();
  const std::optional<std::string_view> indent = indent_of(anchor);
  if (!indent) return parent.insert_child_after(name, anchor);
  const pugi::xml_node ws = parent.insert_child_after(pugi::node_pcdata, anchor);
  set_line_break(ws, *indent);
  return parent.insert_child_after(name, ws);
}

/// Inserts a sibling element right before `anchor`, on a line of its own.
inline pugi::xml_node insert_element_before(pugi::xml_node anchor, const char* name) {
  pugi::xml_node parent = anchor.parent();
  const std::optional<std::string_view> indent = indent_of(anchor);
  const pugi::xml_node e = parent.insert_child_before(name, anchor);
  if (indent) set_line_break(parent.insert_child_before(pugi::node_pcdata, anchor), *indent);
  return e;
}

/// Sets an attribute, adding it when absent.
inline void set_attribute(pugi::xml_node n, const char* name, std::string_view value) {
  pugi::xml_attribute a = n.attribute(name);
  if (!a) a = n.append_attribute(name);
  a.set_value(value.data(), value.size());
}

/// Appends a new element to `<devices>` after the last child named `after_element` (or
/// after the last emulator, disk or controller, or at the end), on a line of its own.
inline pugi::xml_node insert_device_element(pugi::xml_node devices, const char* name, std::string_view after_element) {
  pugi::xml_node anchor;
  for (pugi::xml_node n = devices.first_child(); n; n = n.next_sibling()) {
    if (n.type() == pugi::node_element && std::string_view(n.name()) == after_element) anchor = n;
  }
  if (!anchor) {
    for (pugi::xml_node n = devices.first_child(); n; n = n.next_sibling()) {
      const std::string_view el = n.name();
      if (n.type() == pugi::node_element && (el == "emulator" || el == "disk" || el == "controller")) anchor = n;
    }
  }
  return anchor ? insert_element_after(anchor, name) : append_element(devices, name);
}

}  // namespace pciplan::inline v0::libvirt::detail

#endif  // PCIPLAN_LIBVIRT_DETAIL_XML_HPP
