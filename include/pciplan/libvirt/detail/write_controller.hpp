// pciplan — libvirt/detail/write_controller.hpp: the one writer of `<controller type='pci'>`, new or given.
//
// libvirt's form: `type`, `index` and `model` attributes, then `<model name>`, `<target>`
// with the numbering the kind carries (chassisNr, chassis, port in hex, busNr, index),
// hotplug and a `<node>`, then the `<address>`. A given element keeps everything else it
// has (other attributes and children, comments, its `<node>`); a new one is indented
// like its neighbours. Roots have no children, except pseries' PHB.
#ifndef PCIPLAN_LIBVIRT_DETAIL_WRITE_CONTROLLER_HPP
#define PCIPLAN_LIBVIRT_DETAIL_WRITE_CONTROLLER_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/topology/controller.hpp>
#include <pciplan/topology/topology_plan.hpp>
#include <pciplan/vocabulary/machine_id.hpp>
#include <pciplan/vocabulary/numbering.hpp>
#include <pciplan/libvirt/detail/write_address.hpp>
#include <pciplan/libvirt/detail/xml.hpp>

#include <pugixml.hpp>

#include <string>
#include <string_view>

namespace pciplan::inline v0::libvirt::detail {

/// Writes controller `c` of the plan into its `<controller>` element `n` (see the top
/// of this header).
inline void write_controller(pugi::xml_node n, const controller& c, machine_id machine) {
  set_attribute(n, "type", "pci");
  set_attribute(n, "index", std::to_string(c.index.value));
  set_attribute(n, "model", c.kind->model);
  const bool pseries_root = c.kind->is_root() && machine == machine_id::pseries;
  if (c.kind->is_root() && !pseries_root) return;
  pugi::xml_node model = n.child("model");
  if (!model) {
    pugi::xml_node first = n.first_child();
    while (first && first.type() != pugi::node_element) first = first.next_sibling();
    model = first ? insert_element_before(first, "model") : append_element(n, "model");
  }
  set_attribute(model, "name", pseries_root ? std::string_view("spapr-pci-host-bridge") : c.qemu_device());
  const numbering_set numbered = c.kind->numbered_by;
  const bool chassis_nr = numbered.has(numbering::chassis_nr) && c.chassis_nr >= 0;
  const bool chassis = numbered.has(numbering::chassis) && c.chassis >= 0;
  const bool port = numbered.has(numbering::port) && c.port >= 0;
  const bool bus_nr = numbered.has(numbering::bus_nr) && c.bus_nr >= 0;
  const bool target_index = numbered.has(numbering::target_index) && c.target_index >= 0;
  pugi::xml_node target = n.child("target");
  if (!target && (chassis_nr || chassis || port || bus_nr || target_index || c.hotplug != toggle::unset ||
                  c.numa_node >= 0)) {
    target = insert_element_after(model, "target");
  }
  if (chassis_nr) set_attribute(target, "chassisNr", std::to_string(c.chassis_nr));
  if (chassis) set_attribute(target, "chassis", std::to_string(c.chassis));
  if (port) set_attribute(target, "port", hex(static_cast<unsigned>(c.port), 1));
  if (bus_nr) set_attribute(target, "busNr", std::to_string(c.bus_nr));
  if (target_index) set_attribute(target, "index", std::to_string(c.target_index));
  if (c.hotplug != toggle::unset) set_attribute(target, "hotplug", c.hotplug == toggle::off ? "off" : "on");
  if (c.numa_node >= 0 && !target.child("node")) {
    append_element(target, "node").text().set(std::to_string(c.numa_node).c_str());
  }
  if (c.has_address) {
    placement p{};
    p.kind = placement_kind::pci;
    p.libvirt_address = c.libvirt_address;
    p.multifunction = c.multifunction == toggle::on;
    write_address(n, p);
  }
}

}  // namespace pciplan::inline v0::libvirt::detail

#endif  // PCIPLAN_LIBVIRT_DETAIL_WRITE_CONTROLLER_HPP
