// pciplan — libvirt/detail/read_metadata.hpp: pciplan's own <metadata> element: spare ports and constraints by alias.
//
//   <metadata>
//     <pciplan:plan xmlns:pciplan="urn:pciplan:plan:1" spare-ports="2" spare-ports-per-node="1"
//                   hotplug-budget="mem32:16M,pref64:64G">
//       <pciplan:device alias="ua-gpu" link="pcie" hotplug="no" numa-node="1"
//                       multifunction-group="1" function="0" isolation-group="3" order="0"
//                       bars="mem32:16M,pref64:32G,pref64:32M"/>
//       <pciplan:node id="2" spare-ports="4"/>
//     </pciplan:plan>
//   </metadata>
//
// The element is found by its namespace, whatever its prefix; a `device` names a device
// by its `<alias name='…'/>` (or the name pciplan gave it); a `node` gives one guest NUMA
// node its own number of spare ports (plan_options::node_spare_ports). `bars` gives a
// device's BARs (a `<hostdev>`'s are the host device's, which the domain does not say),
// `hotplug-budget` the BARs every empty pcie-root-port and pci-bridge reserves windows
// for (plan_options::hotplug_budget), both as libvirt/bars_spec.hpp reads them.
#ifndef PCIPLAN_LIBVIRT_DETAIL_READ_METADATA_HPP
#define PCIPLAN_LIBVIRT_DETAIL_READ_METADATA_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/topology/request.hpp>
#include <pciplan/vocabulary/bars.hpp>
#include <pciplan/vocabulary/error.hpp>
#include <pciplan/libvirt/bars_spec.hpp>
#include <pciplan/libvirt/detail/domain_state.hpp>
#include <pciplan/libvirt/detail/xml.hpp>

#include <pugixml.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

namespace pciplan::inline v0::libvirt::detail {

/// The BAR list of attribute `attr` of `e` (libvirt/bars_spec.hpp). Throws input_error
/// naming the attribute and the bad entry.
[[nodiscard]] inline device_bars bars_attribute(const domain_state& s, pugi::xml_node e, const char* attr) {
  const std::string_view value = e.attribute(attr).value();
  const result<device_bars> bars = parse_bars(value);
  if (!bars) s.at.fail(e, std::string("attribute ") + attr + "='" + std::string(value) + "': " + describe(bars.error()));
  return *bars;
}

/// Finds the `<plan>` element in `<metadata>` and reads its spare ports (default 4, and
/// 1 per NUMA node with an expander), each `<node>`'s own count, and the hot-plug budget.
inline void read_plan_metadata(domain_state& s) {
  s.options.spare_ports = 4;
  const pugi::xml_node metadata = s.doc.document_element().child("metadata");
  for (pugi::xml_node e = metadata.first_child(); e; e = e.next_sibling()) {
    if (e.type() != pugi::node_element) continue;
    const std::string_view name = e.name();
    const std::size_t colon = name.find(':');
    std::string prefix(colon == std::string_view::npos ? std::string_view{} : name.substr(0, colon));
    const std::string xmlns = prefix.empty() ? "xmlns" : "xmlns:" + prefix;
    if (std::string_view(e.attribute(xmlns.c_str()).value()) != "urn:pciplan:plan:1") continue;
    if (name.substr(colon == std::string_view::npos ? 0 : colon + 1) != "plan") {
      s.at.fail(e, "the pciplan metadata element must be <plan>");
    }
    if (s.plan_element) s.at.fail(e, "the domain has two pciplan <plan> metadata elements");
    s.plan_element = e;
    s.plan_prefix = std::move(prefix);
    if (const auto spare = number_attribute(s.at, e, "spare-ports", 0, 1024)) {
      s.options.spare_ports = static_cast<unsigned>(*spare);
    }
    if (const auto per_node = number_attribute(s.at, e, "spare-ports-per-node", 0, 1024)) {
      s.options.spare_ports_per_node = static_cast<unsigned>(*per_node);
    }
    if (e.attribute("hotplug-budget")) s.options.hotplug_budget = bars_attribute(s, e, "hotplug-budget");
    const std::string node_tag = s.plan_prefix.empty() ? "node" : s.plan_prefix + ":node";
    for (pugi::xml_node c = e.child(node_tag.c_str()); c; c = c.next_sibling(node_tag.c_str())) {
      const auto id = number_attribute(s.at, c, "id", 0, 255);
      const auto spare_ports = number_attribute(s.at, c, "spare-ports", 0, 1024);
      if (!id || !spare_ports) s.at.fail(c, "a node needs id (the NUMA node) and spare-ports");
      if (*id < s.node_spares.size() && s.node_spares[*id] >= 0) s.at.fail(c, "the node is given twice");
      if (*id >= s.node_spares.size()) s.node_spares.resize(*id + 1, -1);
      s.node_spares[*id] = static_cast<int>(*spare_ports);
    }
    s.options.node_spare_ports = s.node_spares;
  }
}

/// Applies the `<device>` constraints of the `<plan>` element to the devices read.
inline void apply_metadata_constraints(domain_state& s) {
  if (!s.plan_element) return;
  const pugi::xml_node e = s.plan_element;
  const std::string device_tag = s.plan_prefix.empty() ? "device" : s.plan_prefix + ":device";
  const std::string node_tag = s.plan_prefix.empty() ? "node" : s.plan_prefix + ":node";
  for (pugi::xml_node c = e.first_child(); c; c = c.next_sibling()) {
    if (c.type() != pugi::node_element || c.name() == node_tag) continue;
    if (c.name() != device_tag) {
      s.at.fail(c, "unknown pciplan metadata element (expected <" + device_tag + "> or <" + node_tag + ">)");
    }
    const std::string_view alias = c.attribute("alias").value();
    if (alias.empty()) s.at.fail(c, "the alias attribute is missing");
    const std::size_t* device = s.aliases.find(alias);
    if (device == nullptr || *device >= s.devices.size()) {
      s.at.fail(c, "no PCI device has alias '" + std::string(alias) + "'");
    }
    request& r = s.devices[*device].req;
    for (pugi::xml_attribute a = c.first_attribute(); a; a = a.next_attribute()) {
      const std::string_view key = a.name();
      const std::string_view value = a.value();
      if (key == "alias") continue;
      if (key == "link") {
        if (value == "pci") r.link = link_need::pci;
        else if (value == "pcie") r.link = link_need::pcie;
        else if (value == "either") r.link = link_need::either;
        else s.at.fail(c, "link must be 'pci', 'pcie' or 'either'");
      } else if (key == "hotplug") {
        if (value == "yes") r.hotplug_need = hotplug::required;
        else if (value == "no") r.hotplug_need = hotplug::not_needed;
        else s.at.fail(c, "hotplug must be 'yes' or 'no'");
      } else if (key == "numa-node") {
        r.numa = static_cast<int>(*number_attribute(s.at, c, "numa-node", 0, 4095));
      } else if (key == "multifunction-group") {
        r.multifunction = static_cast<unsigned>(*number_attribute(s.at, c, "multifunction-group", 1, 65535));
      } else if (key == "function") {
        r.function = static_cast<unsigned>(*number_attribute(s.at, c, "function", 0, 7));
      } else if (key == "isolation-group") {
        r.isolation = static_cast<unsigned>(*number_attribute(s.at, c, "isolation-group", 1, 65535));
      } else if (key == "order") {
        r.order = static_cast<int>(*number_attribute(s.at, c, "order", 0, 1000000));
      } else if (key == "bars") {
        r.apply(bars_attribute(s, c, "bars"));
      } else {
        s.at.fail(c, "unknown constraint '" + std::string(key) +
                        "' (expected link, hotplug, numa-node, multifunction-group, function, isolation-group, "
                        "order or bars)");
      }
    }
    if (c.attribute("function") && !c.attribute("multifunction-group")) {
      s.at.fail(c, "function needs a multifunction-group");
    }
  }
}

}  // namespace pciplan::inline v0::libvirt::detail

#endif  // PCIPLAN_LIBVIRT_DETAIL_READ_METADATA_HPP
