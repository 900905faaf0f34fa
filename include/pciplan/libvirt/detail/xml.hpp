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
#include <optional>
#include <string>
#include <string_view>

namespace pciplan::inline v0::libvirt::detail {

using pciplan::detail::number_syntax;

/// A number in `syntax` with the blanks around it ignored; nullopt when it is not one.
/// libvirt reads its attributes as `number_syntax::c`: "0x1f" hex, "010" octal (8, in
/// libvirt 9.0 and 11.3 alike), "31" decimal.
[[nodiscard]] constexpr std::optional<std::uint64_t> number_of(std::string_view text,
                                                               number_syntax syntax = number_syntax::c) noexcept {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return pciplan::detail::parse_number(text, syntax);
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
  const auto v = number_of(a.value());
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
