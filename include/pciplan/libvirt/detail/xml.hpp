// pciplan — libvirt/detail/xml.hpp: small pugixml helpers for the libvirt adapter.
//
// Numbers as libvirt writes them ("0x1f" or "31"), line numbers for messages, and
// inserting elements so that the document keeps its indentation.
#ifndef PCIPLAN_LIBVIRT_DETAIL_XML_HPP
#define PCIPLAN_LIBVIRT_DETAIL_XML_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/emit/detail/emit_text.hpp>

#include <pugixml.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace pciplan::inline v0::libvirt {

/// The input is not a domain pciplan can read: malformed or unsupported XML, an unknown
/// machine, a bad attribute. `what()` names the element and the line where it can.
class input_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace pciplan::inline v0::libvirt

namespace pciplan::inline v0::libvirt::detail {

/// "0x1f", "31": a non-negative number as libvirt accepts it; nullopt when it is not one.
[[nodiscard]] constexpr std::optional<std::uint64_t> parse_number(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  unsigned base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s.remove_prefix(2);
  }
  if (s.empty() || s.size() > 16) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    unsigned d = 0;
    if (c >= '0' && c <= '9') d = static_cast<unsigned>(c - '0');
    else if (base == 16 && c >= 'a' && c <= 'f') d = static_cast<unsigned>(c - 'a' + 10);
    else if (base == 16 && c >= 'A' && c <= 'F') d = static_cast<unsigned>(c - 'A' + 10);
    else return std::nullopt;
    v = v * base + d;
  }
  return v;
}

/// libvirt's number of a disk name: the letters after the prefix (hd, sd, vd, xvd,
/// ubd) in base 26 with "a" = 0, "z" = 25, "aa" = 26; -1 when the name has none.
[[nodiscard]] constexpr long disk_number(std::string_view dev) noexcept {
  for (std::string_view prefix : {"xvd", "ubd", "hd", "sd", "vd"}) {
    if (dev.substr(0, prefix.size()) == prefix) {
      dev.remove_prefix(prefix.size());
      break;
    }
  }
  long n = 0;
  std::size_t i = 0;
  for (; i < dev.size() && i < 6 && dev[i] >= 'a' && dev[i] <= 'z'; ++i) n = (n + (i == 0 ? 0 : 1)) * 26 + (dev[i] - 'a');
  return i == 0 ? -1 : n;
}

/// Where a node starts in the input, as "line N" (1-based), or "" when unknown.
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
                                                                   std::uint64_t hi) {
  const pugi::xml_attribute a = n.attribute(attr);
  if (!a) return std::nullopt;
  const auto v = parse_number(a.value());
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
[[nodiscard]] inline std::string hex(unsigned value, int width) {
  std::string s = "0x";
  pciplan::detail::append_hex(s, value, static_cast<unsigned>(width));
  return s;
}

/// The indentation of the line an element is on, when the document is indented.
[[nodiscard]] inline std::optional<std::string> indent_of(pugi::xml_node n) {
  const pugi::xml_node prev = n.previous_sibling();
  if (!prev || prev.type() != pugi::node_pcdata) return std::nullopt;
  const std::string_view ws = prev.value();
  const std::size_t nl = ws.rfind('\n');
  if (nl == std::string_view::npos) return std::nullopt;
  std::string_view tail = ws.substr(nl + 1);
  if (tail.find_first_not_of(" \t") != std::string_view::npos) return std::nullopt;
  return std::string(tail);
}

[[nodiscard]] inline bool is_blank_text(pugi::xml_node n) {
  if (n.type() != pugi::node_pcdata) return false;
  const std::string_view v = n.value();
  return v.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

/// Moves `e`, a child of `parent`, to be its last element child, on a line of its own
/// when the document is indented.
inline pugi::xml_node place_last(pugi::xml_node parent, pugi::xml_node e) {
  const std::optional<std::string> own = indent_of(parent);
  if (!own) return e;
  const std::string child_indent = "\n" + *own + "  ";
  pugi::xml_node last = e.previous_sibling();
  if (last && is_blank_text(last)) {  // the closing tag's indentation: e goes before it
    parent.insert_child_before(pugi::node_pcdata, last).set_value(child_indent.c_str());
    parent.insert_move_before(e, last);
    return e;
  }
  parent.insert_child_before(pugi::node_pcdata, e).set_value(child_indent.c_str());
  if (!last) parent.append_child(pugi::node_pcdata).set_value(("\n" + *own).c_str());
  return e;
}

/// Appends a child element as the last element child of `parent`, indented like the
/// document when it is indented.
inline pugi::xml_node append_element(pugi::xml_node parent, const char* name) {
  return place_last(parent, parent.append_child(name));
}

/// Parses one element written as text (attribute values already escaped) into the
/// document as the last child of `parent`. Faster than building it attribute by
/// attribute: the parsed strings stay in one buffer.
inline pugi::xml_node parse_element(pugi::xml_node parent, std::string_view xml) {
  parent.append_buffer(xml.data(), xml.size(), pugi::parse_default | pugi::parse_ws_pcdata, pugi::encoding_utf8);
  return parent.last_child();
}

/// Inserts a sibling element right after `anchor`, on a line of its own.
inline pugi::xml_node insert_element_after(pugi::xml_node anchor, const char* name) {
  pugi::xml_node parent = anchor.parent();
  const std::optional<std::string> indent = indent_of(anchor);
  if (!indent) return parent.insert_child_after(name, anchor);
  pugi::xml_node ws = parent.insert_child_after(pugi::node_pcdata, anchor);
  ws.set_value(("\n" + *indent).c_str());
  return parent.insert_child_after(name, ws);
}

/// Inserts a sibling element right before `anchor`, on a line of its own.
inline pugi::xml_node insert_element_before(pugi::xml_node anchor, const char* name) {
  pugi::xml_node parent = anchor.parent();
  const std::optional<std::string> indent = indent_of(anchor);
  pugi::xml_node e = parent.insert_child_before(name, anchor);
  if (indent) parent.insert_child_before(pugi::node_pcdata, anchor).set_value(("\n" + *indent).c_str());
  return e;
}

/// Sets an attribute, adding it when absent.
inline void set_attribute(pugi::xml_node n, const char* name, std::string_view value) {
  pugi::xml_attribute a = n.attribute(name);
  if (!a) a = n.append_attribute(name);
  a.set_value(value.data(), value.size());
}

/// Removes an element together with the blank text that indents it.
inline void remove_element(pugi::xml_node n) {
  pugi::xml_node parent = n.parent();
  pugi::xml_node prev = n.previous_sibling();
  if (prev && is_blank_text(prev)) parent.remove_child(prev);
  parent.remove_child(n);
}

}  // namespace pciplan::inline v0::libvirt::detail

#endif  // PCIPLAN_LIBVIRT_DETAIL_XML_HPP
