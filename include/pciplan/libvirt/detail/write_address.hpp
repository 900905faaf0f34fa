// pciplan — libvirt/detail/write_address.hpp: a placement's `<address>` element, as libvirt writes it.
//
// PCI in libvirt's form (bus = the index of the controller whose bus it is), with the
// field widths libvirt uses (`domain='0x0000' bus='0x01' slot='0x00' function='0x0'`),
// virtio-mmio, or CCW (`cssid='0xfe' ssid='0x0' devno='0x0002'`).
#ifndef PCIPLAN_LIBVIRT_DETAIL_WRITE_ADDRESS_HPP
#define PCIPLAN_LIBVIRT_DETAIL_WRITE_ADDRESS_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/topology/topology_plan.hpp>
#include <pciplan/vocabulary/address.hpp>
#include <pciplan/libvirt/detail/node_batch.hpp>
#include <pciplan/libvirt/detail/xml.hpp>

#include <pugixml.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace pciplan::inline v0::libvirt::detail {

/// Writes `<address …/>` of a placement into `t` (at most 110 characters). `multifunction`
/// is the value the element had: "on" and "off" are kept unless the plan sets
/// multifunction='on'.
template <std::size_t N>
void put_address(short_text<N>& t, const placement& p, std::string_view multifunction = {}) {
  using namespace std::string_view_literals;
  if (p.kind == placement_kind::mmio) {
    t << "<address type='virtio-mmio'/>"sv;
  } else if (p.kind == placement_kind::ccw) {
    t << "<address type='ccw' cssid='0xfe' ssid='0x0' devno='0x"sv;
    t.hex(p.transport, 4) << "'/>"sv;
  } else {
    const controller_address& ca = p.libvirt_address;
    t << "<address type='pci' domain='0x"sv;
    t.hex(ca.domain, 4) << "' bus='0x"sv;
    t.hex(ca.bus.value, 2) << "' slot='0x"sv;
    t.hex(ca.slot, 2) << "' function='0x"sv;
    t.hex(ca.function, 1) << '\'';
    if (p.multifunction) {
      t << " multifunction='on'"sv;
    } else if (multifunction == "on" || multifunction == "off") {
      t << " multifunction='"sv << multifunction << '\'';
    }
    t << "/>"sv;
  }
}

/// Appends `<address …/>` of a placement to `out` (see put_address).
inline void append_address(std::string& out, const placement& p, std::string_view multifunction = {}) {
  short_text<128> t;
  put_address(t, p, multifunction);
  out.append(t.view());
}

/// Queues the `<address>` of a placement for element `n`: in place of the one it had,
/// else as its last element child, on a line of its own when the document is indented.
/// The element is written as text into `batch`, which parses all of them at once.
inline void queue_address(node_batch& batch, pugi::xml_node n, const placement& p) {
  const pugi::xml_node old = n.child("address");
  if (old) {
    append_address(batch.text, p, old.attribute("multifunction").value());
    batch.end_piece(piece_place::replace, old);
    return;
  }
  const std::optional<std::string_view> own = indent_of(n);
  if (!own) {
    append_address(batch.text, p);
    batch.end_piece(piece_place::append_to, n);
    return;
  }
  const pugi::xml_node last = n.last_child();
  append_line_break(batch.text, *own, 2);
  append_address(batch.text, p);
  if (last && is_blank_text(last)) {  // the closing tag's indentation: the address goes before it
    batch.end_piece(piece_place::before, last);
    return;
  }
  if (!last) append_line_break(batch.text, *own);
  batch.end_piece(piece_place::append_to, n);
}

}  // namespace pciplan::inline v0::libvirt::detail

#endif  // PCIPLAN_LIBVIRT_DETAIL_WRITE_ADDRESS_HPP
