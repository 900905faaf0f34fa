// pciplan — libvirt/detail/read_controllers.hpp: `<controller type='pci'>` elements as given controllers.
//
// Each one's index (an index-less one takes the lowest unused index, a root 0), its
// kind (model and `<model name>`), its `<target>` numbering and NUMA node, hotplug, the
// 32-bit memory it reserves for hot-plug (memReserve), and its address. They are kept in libvirt's controller list order: address-less
// controllers are placed in that order.
#ifndef PCIPLAN_LIBVIRT_DETAIL_READ_CONTROLLERS_HPP
#define PCIPLAN_LIBVIRT_DETAIL_READ_CONTROLLERS_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/kinds/controller_kinds.hpp>
#include <pciplan/planner/libvirt_order.hpp>
#include <pciplan/topology/controller.hpp>
#include <pciplan/vocabulary/machine_id.hpp>
#include <pciplan/libvirt/detail/domain_state.hpp>
#include <pciplan/libvirt/detail/read_address.hpp>
#include <pciplan/libvirt/detail/xml.hpp>

#include <pugixml.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace pciplan::inline v0::libvirt::detail {

/// The controller kind of a `<controller type='pci'>` (its model, and on pseries the
/// PHB for pci-root). Throws input_error.
[[nodiscard]] inline const controller_descriptor* pci_controller_kind(const domain_state& s, pugi::xml_node n) {
  const std::string_view model = n.attribute("model").value();
  const std::string_view model_name = n.child("model").attribute("name").value();
  if (model.empty()) s.at.fail(n, "a PCI controller needs a model attribute");
  if (s.machine == machine_id::pseries && model == "pci-root") return &descriptor_of<spapr_pci_host_bridge>;
  const controller_descriptor* k = find_controller_kind(model, model_name);
  if (k == nullptr) s.at.fail(n, "unknown PCI controller model '" + std::string(model) + "'");
  return k;
}

/// One `<controller type='pci'>` with its index set, as a controller. Throws input_error.
[[nodiscard]] inline controller read_pci_controller(const domain_state& s, pugi::xml_node n) {
  controller c{};
  c.kind = pci_controller_kind(s, n);
  c.index = controller_index{static_cast<std::uint16_t>(*number_attribute(s.at, n, "index", 0, 255, number_syntax::decimal))};
  const std::string_view model_name = n.child("model").attribute("name").value();
  if (!model_name.empty()) {
    // the names libvirt accepts for each model (RULES.md L1.2)
    static constexpr std::string_view alternates[] = {"ioh3420"};
    if (model_name == c.kind->qemu_device()) {
      c.model_name = c.kind->qemu_device();
    } else if (is_kind<pcie_root_port>(c.kind) && model_name == alternates[0]) {
      c.model_name = alternates[0];
    } else if (!(c.kind->is_root() && model_name == "spapr-pci-host-bridge")) {
      s.at.fail(n, "model name '" + std::string(model_name) + "' does not fit model '" + n.attribute("model").value() +
                       "'");
    }
  }
  // a user alias names the controller in QEMU too; the root bus keeps QEMU's name
  const std::string_view alias = n.child("alias").attribute("name").value();
  if (alias.substr(0, 3) == "ua-" && c.index.value != 0) c.qemu_id = alias;
  const pugi::xml_node target = n.child("target");
  const auto attr = [&](const char* name, std::uint64_t hi) {
    const auto v = number_attribute(s.at, target, name, 0, hi);
    return v ? static_cast<int>(*v) : -1;
  };
  c.chassis_nr = attr("chassisNr", 65535);
  c.chassis = attr("chassis", 65535);
  c.port = attr("port", 65535);
  c.bus_nr = attr("busNr", 65535);
  c.target_index = attr("index", 65535);
  if (const pugi::xml_node node = target.child("node")) {
    // libvirt reads the node in decimal; pciplan also takes 0x hex, as it always has
    const auto v = number_of(node.child_value(), number_syntax::decimal_or_hex);
    if (!v || *v > 4095) s.at.fail(node, "the NUMA node must be a number from 0 to 4095");
    c.numa_node = static_cast<int>(*v);
  }
  if (const pugi::xml_attribute hp = target.attribute("hotplug")) {
    const std::string_view v = hp.value();
    if (v != "on" && v != "off") s.at.fail(target, "hotplug must be 'on' or 'off'");
    c.hotplug = v == "off" ? toggle::off : toggle::on;
  }
  // memReserve, in KiB: what libvirt 10.3 and later pass to QEMU as mem-reserve; libvirt
  // 11.3 refuses it on every model but pcie-root-port and pci-bridge
  if (const auto reserve = number_attribute(s.at, target, "memReserve", 0, std::uint64_t{1} << 52)) {
    if (!is_kind<pcie_root_port>(c.kind) && !is_kind<pci_bridge>(c.kind)) {
      s.at.fail(target, "memReserve is for pcie-root-port and pci-bridge controllers only, not model '" +
                            std::string(c.kind->model) + "' (libvirt refuses it there)");
    }
    c.reserves.mem = *reserve * 1024;
  }
  if (const pugi::xml_node address = n.child("address")) {
    if (std::string_view(address.attribute("type").value()) != "pci") {
      s.at.fail(address, "a PCI controller's address must have type='pci'");
    }
    if (const auto given = read_pci_address(s.at, address)) {
      c.has_address = true;
      c.libvirt_address = given->address;
      c.multifunction = given->multifunction;
    }
  }
  if (s.machine == machine_id::pseries && c.kind->is_root() && c.target_index >= 0 &&
      (c.target_index == 0) != (c.index.value == 0)) {
    s.at.fail(n, "only the PCI controller with index 0 may have target index 0, and it must have 0");
  }
  return c;
}

/// Every `<controller type='pci'>`, into `s.controllers` and `s.controller_nodes`;
/// index-less ones get their index written into the document. Throws input_error.
inline void read_pci_controllers(domain_state& s) {
  std::set<unsigned> used;
  std::vector<pugi::xml_node> without_index;
  for (pugi::xml_node n = s.devices_node.child("controller"); n; n = n.next_sibling("controller")) {
    if (std::string_view(n.attribute("type").value()) != "pci") continue;
    const auto index = number_attribute(s.at, n, "index", 0, 255, number_syntax::decimal);
    if (index) {
      if (!used.insert(static_cast<unsigned>(*index)).second) {
        s.at.fail(n, "PCI controller index " + std::to_string(*index) + " is used twice");
      }
    } else {
      without_index.push_back(n);
    }
  }
  // index-less controllers take the lowest unused index, roots first: a bridge written
  // without index in a domain that declares no root becomes controller 0, which
  // libvirt then refuses as the wrong root model (9.0 and 11.3)
  std::stable_partition(without_index.begin(), without_index.end(),
                        [&](pugi::xml_node n) { return pci_controller_kind(s, n)->is_root(); });
  for (pugi::xml_node n : without_index) {
    unsigned i = 0;
    while (used.count(i) != 0) ++i;
    if (i > 255) s.at.fail(n, "no PCI controller index is left (0 to 255)");
    used.insert(i);
    set_attribute(n, "index", std::to_string(i));
  }
  // libvirt's controller list: an index-less controller goes right after the last one
  // (it had no index while libvirt read the document), others before the first with a
  // higher index; address-less controllers are placed in this order
  std::vector<pugi::xml_node> ordered;
  std::vector<int> parsed;
  for (pugi::xml_node n = s.devices_node.child("controller"); n; n = n.next_sibling("controller")) {
    if (std::string_view(n.attribute("type").value()) != "pci") continue;
    const bool had_index = std::find(without_index.begin(), without_index.end(), n) == without_index.end();
    const int index = had_index ? static_cast<int>(*number_attribute(s.at, n, "index", 0, 255, number_syntax::decimal)) : -1;
    const std::size_t at =
        index < 0 ? ordered.size()
                  : libvirt_insert_position(ordered.size(), [&](std::size_t k) { return parsed[k] > index; });
    ordered.insert(ordered.begin() + static_cast<std::ptrdiff_t>(at), n);
    parsed.insert(parsed.begin() + static_cast<std::ptrdiff_t>(at), index);
  }
  for (pugi::xml_node n : ordered) {
    s.controllers.push_back(read_pci_controller(s, n));
    s.controller_nodes.push_back(n);
  }
}

}  // namespace pciplan::inline v0::libvirt::detail

#endif  // PCIPLAN_LIBVIRT_DETAIL_READ_CONTROLLERS_HPP
