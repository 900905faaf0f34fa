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

#include <optional>
#include <string>
#include <string_view>

namespace pciplan::inline v0::libvirt::detail {

/// Appends `<address …/>` of a placement to `out`. `multifunction` is the value the
/// element had: "on" and "off" are kept unless the plan sets multifunction='on'.
inline void append_address(std::string& out, const placement& p, std::string_view multifunction = {}) {
  using pciplan::detail::append_hex;
  if (p.kind == placement_kind::mmio) {
    out += "<address type='virtio-mmio'/>";
    return;
  }
  if (p.kind == placement_kind::ccw) {
    out += "<address type='ccw' cssid='0xfe' ssid='0x0' devno='0x";
    append_hex(out, p.transport, 4);
    out += "'/>";
    return;
  }
  const controller_address& ca = p.libvirt_address;
  out += "<address type='pci' domain='0x";
  append_hex(out, ca.domain, 4);
  out += "' bus='0x";
  append_hex(out, ca.bus.value, 2);
  out += "' slot='0x";
  append_hex(out, ca.slot, 2);
  out += "' function='0x";
  append_hex(out, ca.function, 1);
  out += '\'';
  if (p.multifunction) {
    out += " multifunction='on'";
  } else if (multifunction == "on" || multifunction == "off") {
    out += " multifunction='";
    out += multifunction;
    out += '\'';
  }
  out += "/>";
}

/// Writes the `<address>` of a placement into element `n`, in place of the one it had,
/// else as its last element child. The element is written as text and parsed: its
/// strings then stay in one buffer, which costs less time and memory than building it
/// attribute by attribute.
inline void write_address(pugi::xml_node n, const placement& p) {
  const pugi::xml_node old = n.child("address");
  std::string text;
  append_address(text, p, old.attribute("multifunction").value());
  n.append_buffer(text.data(), text.size(), pugi::parse_default | pugi::parse_ws_pcdata, pugi::encoding_utf8);
  const pugi::xml_node fresh = n.last_child();
  if (old) {
    n.insert_move_before(fresh, old);
    n.remove_child(old);
    return;
  }
  // as the last element child, on a line of its own
  const std::optional<std::string_view> own = indent_of(n);
  if (!own) return;
  const pugi::xml_node last = fresh.previous_sibling();
  if (last && is_blank_text(last)) {
    set_line_break(n.insert_child_before(pugi::node_pcdata, last), *own, 2);
    n.insert_move_before(fresh, last);
    return;
  }
  set_line_break(n.insert_child_before(pugi::node_pcdata, fresh), *own, 2);
  if (!last) set_line_break(n.append_child(pugi::node_pcdata), *own);
}

}  // namespace pciplan::inline v0::libvirt::detail

#endif  // PCIPLAN_LIBVIRT_DETAIL_WRITE_ADDRESS_HPP
