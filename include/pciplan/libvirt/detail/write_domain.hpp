// pciplan — libvirt/detail/write_domain.hpp: a plan written into the domain it was made from.
//
// Every PCI device gets its `<address>` (and the default model libvirt would write
// when it had none); every PCI controller of the plan is written, the added ones in
// index order among the PCI controllers. The text around the root element
// (declaration, comments, blank lines) is copied as it was.
#ifndef PCIPLAN_LIBVIRT_DETAIL_WRITE_DOMAIN_HPP
#define PCIPLAN_LIBVIRT_DETAIL_WRITE_DOMAIN_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/topology/controller.hpp>
#include <pciplan/topology/topology_plan.hpp>
#include <pciplan/libvirt/detail/domain_state.hpp>
#include <pciplan/libvirt/detail/node_batch.hpp>
#include <pciplan/libvirt/detail/write_address.hpp>
#include <pciplan/libvirt/detail/write_controller.hpp>
#include <pciplan/libvirt/detail/xml.hpp>

#include <pugixml.hpp>

#include <algorithm>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace pciplan::inline v0::libvirt::detail {

/// A new `<controller>` element for a PCI controller with an index below every other
/// controller's: before the lowest one, else after the last controller (or disk, or the
/// emulator) in `<devices>`.
inline pugi::xml_node add_first_controller_element(const domain_state& s, pugi::xml_node lowest) {
  if (lowest) return insert_element_before(lowest, "controller");
  return insert_device_element(s.devices_node, "controller", "controller");
}

/// The document of `s` as it is now: the text around the root element (declaration,
/// comments, blank lines) as it was, the root element printed raw (its own whitespace
/// kept). `more`: room to reserve beyond the original text's size.
[[nodiscard]] inline std::string print_document(const domain_state& s, std::size_t more = 0) {
  std::string out;
  out.reserve(s.text.size() + more);
  if (s.root_start >= 0) out += std::string_view(s.text).substr(0, static_cast<std::size_t>(s.root_start));
  string_writer writer(out);
  s.doc.document_element().print(writer, "  ", pugi::format_raw | pugi::format_attribute_single_quote);
  if (s.root_end >= 0) out += std::string_view(s.text).substr(static_cast<std::size_t>(s.root_end));
  if (out.empty() || out.back() != '\n') out += '\n';
  return out;
}

/// The document of `s` with `plan` written into it (see the top of this header). The
/// plan must come from the requests of `s` (else std::invalid_argument).
///
/// New elements (every `<address>`, every added `<controller>`) are written as text into
/// one node_batch, which splices them into the printed document; the place of each is
/// decided as if it were inserted on its own: an added controller goes after the one
/// with the next lower index, its line indented like that one's.
[[nodiscard]] inline std::string write_domain(domain_state& s, const topology_plan& plan) {
  if (plan.placements.size() != s.devices.size()) {
    throw std::invalid_argument("pciplan::libvirt::domain::write: the plan was not made from this domain's requests");
  }
  s.written.materialize();  // a write before this one
  for (const placement& p : plan.placements) {  // default models first: the address goes after them
    if (p.request >= s.devices.size()) continue;
    pending_device& d = s.devices[p.request];
    if (d.default_model.empty()) continue;
    if (d.model_attribute) {
      if (!d.node.attribute("model")) set_attribute(d.node, "model", d.default_model);
    } else if (!d.node.child("model")) {
      pugi::xml_node m = append_element(d.node, "model");
      m.append_attribute("type").set_value(std::string(d.default_model).c_str());
    }
  }
  node_batch batch;
  batch.reserve(plan.placements.size() + plan.controllers.size(), 96);
  for (const placement& p : plan.placements) {
    if (p.request < s.devices.size()) queue_address(batch, s.devices[p.request].node, p);
  }
  // the controllers in index order; the given ones by index
  std::vector<std::size_t> order(plan.controllers.size());
  for (std::size_t k = 0; k != order.size(); ++k) order[k] = k;
  const auto by_index = [&](std::size_t a, std::size_t b) {
    return plan.controllers[a].index.value < plan.controllers[b].index.value;
  };
  if (!std::is_sorted(order.begin(), order.end(), by_index)) std::stable_sort(order.begin(), order.end(), by_index);
  std::vector<pugi::xml_node> given;
  pugi::xml_node lowest_given;
  unsigned lowest_index = ~0u;
  for (std::size_t k = 0; k != s.controllers.size(); ++k) {
    const unsigned index = s.controllers[k].index.value;
    if (given.size() <= index) given.resize(index + 1u);
    given[index] = s.controller_nodes[k];
    if (index < lowest_index) {
      lowest_index = index;
      lowest_given = s.controller_nodes[k];
    }
  }
  // the one before in index order: an element, or a new one written into the batch
  pugi::xml_node previous;
  bool previous_new = false;
  std::optional<std::string_view> previous_indent;
  for (const std::size_t k : order) {
    const controller& c = plan.controllers[k];
    const pugi::xml_node g = c.index.value < given.size() ? given[c.index.value] : pugi::xml_node{};
    if (g || (!previous && !previous_new)) {
      const pugi::xml_node n = g ? g : add_first_controller_element(s, lowest_given);
      write_controller(n, c, s.machine, batch);
      previous = n;
      previous_new = false;
      previous_indent = indent_of(n);
      continue;
    }
    // right after the previous one, on a line indented as its
    if (previous_indent) append_line_break(batch.text, *previous_indent);
    append_new_controller(batch.text, c, s.machine, previous_indent);
    if (previous_new) {
      batch.extend_piece();
    } else {
      batch.end_piece(piece_place::after, previous);
    }
    previous_new = true;
  }
  batch.mark(s.text);
  std::string out = batch.splice(print_document(s, 32 * (plan.placements.size() + plan.controllers.size())));
  s.written = std::move(batch);
  return out;
}

}  // namespace pciplan::inline v0::libvirt::detail

#endif  // PCIPLAN_LIBVIRT_DETAIL_WRITE_DOMAIN_HPP
