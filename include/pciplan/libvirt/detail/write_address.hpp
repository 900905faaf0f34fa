// pciplan — libvirt/detail/write_address.hpp: a placement's `<address>` element, as libvirt writes it.
//
// PCI in libvirt's form (bus = the index of the controller whose bus it is), with the
// field widths libvirt uses (`domain='0x0000' bus='0x01' slot='0x00' function='0x0'`),
// virtio-mmio, or CCW (`cssid='0xfe' ssid='0x0' devno='0x0002'`).
#ifndef PCIPLAN_LIBVIRT_DETAIL_WRITE_ADDRESS_HPP
#define PCIPLAN_LIBVIRT_DETAIL_WRITE_ADDRESS_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/detail/numbers.hpp>
#include <pciplan/topology/topology_plan.hpp>
#include <pciplan/vocabulary/address.hpp>
#include <pciplan/libvirt/detail/xml.hpp>

#include <pugixml.hpp>

#include <string>
#include <string_view>

namespace pciplan::inline v0::libvirt::detail {

/// Writes the `<address>` of a placement into element `n`, in place of the one it had
/// (keeping that one's `multifunction` on or off unless the plan sets
/// multifunction='on'), else as its last child.
inline void write_address(pugi::xml_node n, const placement& p) {
  const pugi::xml_node old = n.child("address");
  pugi::xml_node a = old ? n.insert_child_before("address", old) : append_element(n, "address");
  std::string value;  // "0x" and at most 4 digits: no allocation
  const auto hex_attribute = [&](const char* name, unsigned number, unsigned width) {
    value.assign("0x");
    pciplan::detail::append_hex(value, number, width);
    a.append_attribute(name).set_value(value.data(), value.size());
  };
  if (p.kind == placement_kind::mmio) {
    a.append_attribute("type").set_value("virtio-mmio");
  } else if (p.kind == placement_kind::ccw) {
    a.append_attribute("type").set_value("ccw");
    a.append_attribute("cssid").set_value("0xfe");
    a.append_attribute("ssid").set_value("0x0");
    hex_attribute("devno", p.transport, 4);
  } else {
    const controller_address& ca = p.libvirt_address;
    a.append_attribute("type").set_value("pci");
    hex_attribute("domain", ca.domain, 4);
    hex_attribute("bus", ca.bus.value, 2);
    hex_attribute("slot", ca.slot, 2);
    hex_attribute("function", ca.function, 1);
    const std::string_view kept = old.attribute("multifunction").value();
    if (p.multifunction) a.append_attribute("multifunction").set_value("on");
    else if (kept == "on" || kept == "off") a.append_attribute("multifunction").set_value(kept.data(), kept.size());
  }
  if (old) n.remove_child(old);
}

}  // namespace pciplan::inline v0::libvirt::detail

#endif  // PCIPLAN_LIBVIRT_DETAIL_WRITE_ADDRESS_HPP
