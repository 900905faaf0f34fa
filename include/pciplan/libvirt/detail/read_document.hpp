// pciplan — libvirt/detail/read_document.hpp: the document checks before anything is read from it.
//
// A domain is well-formed XML of at most 64 MiB, 64 levels and 4,000,000 nodes, with one
// root element <domain> and nothing but comments, processing instructions and blanks
// around it (pugixml would read a fragment with several roots; libvirt does not). The
// checks also note where the root element starts and ends, so that the writer can copy
// the text around it as it was.
#ifndef PCIPLAN_LIBVIRT_DETAIL_READ_DOCUMENT_HPP
#define PCIPLAN_LIBVIRT_DETAIL_READ_DOCUMENT_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/libvirt/detail/domain_state.hpp>
#include <pciplan/libvirt/detail/xml.hpp>
#include <pciplan/libvirt/input_error.hpp>

#include <pugixml.hpp>

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pciplan::inline v0::libvirt::detail {

/// Parses `s.text` into `s.doc` and checks it (see the top of this header); finds
/// `<devices>`, adding it when absent. Throws input_error.
inline void read_document(domain_state& s) {
  constexpr std::size_t max_size = 64u << 20;
  if (s.text.size() > max_size) throw input_error("the document is larger than 64 MiB");
  const unsigned flags = pugi::parse_default | pugi::parse_ws_pcdata | pugi::parse_comments | pugi::parse_pi |
                         pugi::parse_declaration | pugi::parse_doctype;
  if (const std::size_t nul = s.text.find('\0'); nul != std::string::npos) {  // pugixml would stop there
    throw input_error("the document is not well-formed XML (" + s.at.line_of(static_cast<std::ptrdiff_t>(nul)) +
                      "): it contains a NUL character");
  }
  const pugi::xml_parse_result r = s.doc.load_buffer(s.text.data(), s.text.size(), flags, pugi::encoding_utf8);
  if (!r) {
    const std::string line = s.at.line_of(r.offset);
    throw input_error("the document is not well-formed XML" + (line.empty() ? std::string() : " (" + line + ")") +
                      ": " + r.description());
  }
  // depth and size limits: nothing below needs more, and deep documents are junk
  std::size_t nodes = 0;
  std::vector<std::pair<pugi::xml_node, std::size_t>> stack{{s.doc, 0}};
  while (!stack.empty()) {
    auto [n, depth] = stack.back();
    stack.pop_back();
    if (depth > 64) s.at.fail(n, "the document nests elements more than 64 levels deep");
    if (++nodes > 4'000'000) throw input_error("the document has more than 4,000,000 nodes");
    for (pugi::xml_node c = n.first_child(); c; c = c.next_sibling()) {
      if (c.type() == pugi::node_element) stack.emplace_back(c, depth + 1);
    }
  }
  // one element at the top, nothing but comments, processing instructions and white
  // space around it (pugixml reads a fragment with several; libvirt does not)
  pugi::xml_node first_element;
  for (pugi::xml_node n = s.doc.first_child(); n; n = n.next_sibling()) {
    if (n.type() == pugi::node_element) {
      if (first_element) s.at.fail(n, "there is content after the root element <" + std::string(first_element.name()) + ">");
      first_element = n;
    }
  }
  const pugi::xml_node root = s.doc.document_element();
  // where the root element starts (its name's offset, back to the '<'), for write(): offsets
  // are only known until the document is changed
  s.root_start = root ? root.offset_debug() : -1;
  while (s.root_start > 0 && s.text[static_cast<std::size_t>(s.root_start)] != '<') --s.root_start;
  if (!root || std::string_view(root.name()) != "domain") {
    throw input_error(root ? s.at.where(root) + ": the document is not a libvirt domain (the root element must be "
                                                 "<domain>)"
                           : std::string("the document has no root element"));
  }
  // where it ends: its close tag is the last '>' before the comments and processing
  // instructions that may follow it; anything else there is text after the root element
  std::size_t limit = s.text.size();
  if (const pugi::xml_node after = root.next_sibling()) {
    std::ptrdiff_t at = after.offset_debug();
    while (at > 0 && s.text[static_cast<std::size_t>(at)] != '<') --at;
    if (at > 0) limit = static_cast<std::size_t>(at);
  }
  const std::size_t gt = limit == 0 ? std::string::npos : s.text.rfind('>', limit - 1);
  const std::size_t lt = gt == std::string::npos ? std::string::npos : s.text.rfind('<', gt);
  const std::string_view close = lt == std::string::npos ? std::string_view{} : std::string_view(s.text).substr(lt, gt + 1 - lt);
  const bool closes = close.starts_with("</domain") || (close.ends_with("/>") && static_cast<std::ptrdiff_t>(lt) == s.root_start);
  const auto text_after_root = [&](std::size_t at) {
    return input_error("the document is not well-formed XML (" + s.at.line_of(static_cast<std::ptrdiff_t>(at)) +
                       "): there is text after the root element");
  };
  if (!closes) throw text_after_root(gt == std::string::npos ? 0 : gt);
  // between and after the comments and processing instructions: white space only
  std::size_t pos = gt + 1;
  const auto blank_until = [&](std::size_t end) {
    const std::size_t bad = s.text.find_first_not_of(" \t\r\n", pos);
    if (bad < end) throw text_after_root(bad);
  };
  for (pugi::xml_node n = root.next_sibling(); n; n = n.next_sibling()) {
    std::ptrdiff_t at = n.offset_debug();
    while (at > 0 && s.text[static_cast<std::size_t>(at)] != '<') --at;
    const std::size_t start = static_cast<std::size_t>(std::max<std::ptrdiff_t>(at, 0));
    blank_until(start);
    const std::size_t end = s.text.find(n.type() == pugi::node_comment ? "-->" : "?>", start);
    pos = end == std::string::npos ? s.text.size() : end + (n.type() == pugi::node_comment ? 3 : 2);
  }
  blank_until(s.text.size());
  s.root_end = static_cast<std::ptrdiff_t>(gt + 1);
  s.devices_node = root.child("devices");
  if (!s.devices_node) s.devices_node = append_element(root, "devices");
}

}  // namespace pciplan::inline v0::libvirt::detail

#endif  // PCIPLAN_LIBVIRT_DETAIL_READ_DOCUMENT_HPP
