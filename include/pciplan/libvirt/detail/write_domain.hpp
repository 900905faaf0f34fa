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
#include <pciplan/libvirt/detail/write_address.hpp>
#include <pciplan/libvirt/detail/write_controller.hpp>
#include <pciplan/libvirt/detail/xml.hpp>

#include <pugixml.hpp>

#include <cstddef>
#include <iterator>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>

namespace pciplan::inline v0::libvirt::detail {

/// A new `<controller>` element for the PCI controller with `index`: after the one with
/// the next lower index, else before the next higher one, else after the last
/// controller (or disk, or the emulator) in `<devices>`.
inline pugi::xml_node add_controller_element(const domain_state& s, std::map<unsigned, pugi::xml_node>& by_index,
                                             unsigned index) {
  const auto next = by_index.lower_bound(index);
  pugi::xml_node n;
  if (next != by_index.begin()) n = insert_element_after(std::prev(next)->second, "controller");
  else if (next != by_index.end()) n = insert_element_before(next->second, "controller");
  else n = insert_device_element(s.devices_node, "controller", "controller");
  by_index.emplace(index, n);
  return n;
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
[[nodiscard]] inline std::string write_domain(domain_state& s, const topology_plan& plan) {
  if (plan.placements.size() != s.devices.size()) {
    throw std::invalid_argument("pciplan::libvirt::domain::write: the plan was not made from this domain's requests");
  }
  for (const placement& p : plan.placements) {
    if (p.request >= s.devices.size()) continue;
    pending_device& d = s.devices[p.request];
    if (!d.default_model.empty()) {
      if (d.model_attribute) {
        if (!d.node.attribute("model")) set_attribute(d.node, "model", d.default_model);
      } else if (!d.node.child("model")) {
        pugi::xml_node m = append_element(d.node, "model");
        m.append_attribute("type").set_value(std::string(d.default_model).c_str());
      }
    }
    write_address(d.node, p);
  }
  std::map<unsigned, pugi::xml_node> by_index;
  for (std::size_t k = 0; k != s.controllers.size(); ++k) {
    by_index[s.controllers[k].index.value] = s.controller_nodes[k];
  }
  for (const controller& c : plan.controllers) {
    const auto given = by_index.find(c.index.value);
    const pugi::xml_node n =
        given != by_index.end() ? given->second : add_controller_element(s, by_index, c.index.value);
    write_controller(n, c, s.machine);
  }
  // room for an address per device and the added controllers, so the text is not copied as it grows
  return print_document(s, 128 * plan.placements.size() + 320 * plan.controllers.size());
}

}  // namespace pciplan::inline v0::libvirt::detail

#endif  // PCIPLAN_LIBVIRT_DETAIL_WRITE_DOMAIN_HPP
