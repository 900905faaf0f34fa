// pciplan — emit/detail/emit_text.hpp: text pieces shared by the emitters (qemu.hpp,
// tree.hpp, json.hpp): JSON string escaping, QEMU bus ids, the QEMU device of a
// placement. Run-time only (std::string).
#ifndef PCIPLAN_EMIT_DETAIL_EMIT_TEXT_HPP
#define PCIPLAN_EMIT_DETAIL_EMIT_TEXT_HPP

#include <pciplan/vocabulary/address.hpp>
#include <pciplan/topology/controller.hpp>
#include <pciplan/kinds/controller_kinds.hpp>
#include <pciplan/detail/config.hpp>
#include <pciplan/detail/numbers.hpp>
#include <pciplan/topology/topology_plan.hpp>
#include <pciplan/topology/request.hpp>
#include <pciplan/topology/topology_view.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pciplan::inline v0::detail {

/// The length of the well-formed UTF-8 sequence at the start of `s`, or 0 when the
/// bytes there are not one (stray continuation byte, overlong form, surrogate, beyond
/// U+10FFFF, cut short).
inline std::size_t utf8_sequence(std::string_view s) noexcept {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned b0 = byte(0);
  std::size_t n = 0;
  unsigned low = 0x80;  // allowed range of the second byte
  unsigned high = 0xbf;
  if (b0 < 0x80) return 1;
  if (b0 >= 0xc2 && b0 <= 0xdf) n = 2;
  else if (b0 >= 0xe0 && b0 <= 0xef) {
    n = 3;
    if (b0 == 0xe0) low = 0xa0;   // no overlong forms
    if (b0 == 0xed) high = 0x9f;  // no UTF-16 surrogates
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    n = 4;
    if (b0 == 0xf0) low = 0x90;
    if (b0 == 0xf4) high = 0x8f;  // nothing above U+10FFFF
  } else {
    return 0;
  }
  if (s.size() < n || byte(1) < low || byte(1) > high) return 0;
  for (std::size_t i = 2; i < n; ++i) {
    if (byte(i) < 0x80 || byte(i) > 0xbf) return 0;
  }
  return n;
}

/// Appends `s` as a JSON string literal, quotes included: `"` and `\` escaped, control
/// characters as \n, \t, … or \u00XX, valid UTF-8 kept as it is, and every byte that is
/// not part of valid UTF-8 replaced by U+FFFD, so the result is always valid JSON.
inline void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  std::size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    switch (c) {
      case '"': out += "\\\""; ++i; continue;
      case '\\': out += "\\\\"; ++i; continue;
      case '\b': out += "\\b"; ++i; continue;
      case '\f': out += "\\f"; ++i; continue;
      case '\n': out += "\\n"; ++i; continue;
      case '\r': out += "\\r"; ++i; continue;
      case '\t': out += "\\t"; ++i; continue;
      default: break;
    }
    if (static_cast<unsigned char>(c) < 0x20) {
      out += "\\u00";
      append_hex(out, static_cast<unsigned char>(c), 2);
      ++i;
      continue;
    }
    const std::size_t n = utf8_sequence(s.substr(i));
    if (n == 0) {
      out += "\\ufffd";
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  out += '"';
}

/// `s` as a JSON string literal.
[[nodiscard]] inline std::string json_string(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

/// The QEMU id of a controller without one of its own: `pci.<index>`, as libvirt names them.
[[nodiscard]] inline std::string controller_id(controller_index index) {
  return "pci." + std::to_string(index.value);
}

/// The QEMU id of a controller: the one the user gave it (`qemu_id`, libvirt's user
/// alias), else `pci.<index>` (RULES.md L1.4).
[[nodiscard]] inline std::string controller_id(const controller& c) {
  return c.qemu_id.empty() ? controller_id(c.index) : std::string(c.qemu_id);
}

/// What sits below each controller of a plan, by position in `plan.controllers`:
/// `last_bus` is the highest guest bus number at or below it (its subordinate bus, as
/// firmware numbers them: topology_view::number_buses, capped at 255 like the guest bus
/// numbers themselves; a controller no root reaches, possible only in a hand-made list,
/// keeps its own bus), `occupied` whether anything (a controller or a PCI device) sits on
/// the bus it provides.
struct bus_use {
  std::vector<unsigned> last_bus;
  std::vector<unsigned char> occupied;
};

[[nodiscard]] inline bus_use bus_use_of(const topology_plan& plan, const topology_view& view) {
  const std::size_t n = view.size();
  const bus_numbering numbers = view.number_buses();
  bus_use u;
  u.last_bus.resize(n);
  u.occupied.assign(n, 0);
  for (std::size_t i = 0; i != n; ++i) {
    const unsigned own = view.controllers()[i].guest_bus.value;
    u.last_bus[i] = numbers.numbered[i] != 0 ? std::max(own, std::min(numbers.last[i], 255u)) : own;
    const std::size_t parent = view.parent_of(i);
    if (parent != no_position) u.occupied[parent] = 1;
  }
  for (const placement& p : plan.placements) {
    if (p.kind != placement_kind::pci) continue;
    const std::size_t at = view.position_of(p.libvirt_address.bus);
    if (at != no_position) u.occupied[at] = 1;
  }
  return u;
}

/// The QEMU name of the bus that controller `index` provides: the root's own name
/// (`pcie.0`, `pci.0`) for index 0, whatever its id; `<id>.0` for a further pseries PHB;
/// else the controller's id (controller_id) (RULES.md L1.4).
[[nodiscard]] inline std::string bus_id(const topology_view& view, controller_index index) {
  const controller* c = view.find(index);
  if (c != nullptr && c->kind != nullptr) {
    if (c->kind->role == controller_role::root || (c->kind->is_root() && index.value == 0)) {
      return c->kind->root_bus.empty() ? std::string("pci.0") : std::string(c->kind->root_bus);
    }
    if (c->kind->role == controller_role::extra_root) return controller_id(*c) + ".0";
    return controller_id(*c);
  }
  if (index.value == 0) return "pci.0";
  return controller_id(index);
}

/// The CCW variant of a virtio-pci device: the `-pci` part of its name and what follows
/// it becomes `-ccw` (virtio-net-pci → virtio-net-ccw; there are no transitional CCW
/// devices). A name without `-pci` is returned as it is.
[[nodiscard]] inline std::string ccw_device(std::string_view pci_device) {
  const std::size_t at = pci_device.rfind("-pci");
  if (at == std::string_view::npos) return std::string(pci_device);
  return std::string(pci_device.substr(0, at)) + "-ccw";
}

/// The QEMU device of a placement: its device (PCI), the device's virtio-mmio variant
/// (mmio), or its CCW variant (ccw).
[[nodiscard]] inline std::string device_driver(const placement& p) {
  switch (p.kind) {
    case placement_kind::pci: return std::string(p.device.qemu_device);
    case placement_kind::mmio:
      return std::string(p.device.mmio_device.empty() ? p.device.qemu_device : p.device.mmio_device);
    case placement_kind::ccw: return ccw_device(p.device.qemu_device);
  }
  return {};
}

/// `virtio-mmio-bus.<N>`: the QEMU bus of a virtio-mmio placement.
[[nodiscard]] inline std::string mmio_bus(const placement& p) {
  return "virtio-mmio-bus." + std::to_string(p.transport);
}

/// `fe.0.<devno>`: the CCW bus id of a channel-I/O placement (css 0xfe, subchannel set 0).
[[nodiscard]] inline std::string ccw_devno(const placement& p) {
  std::string out = "fe.0.";
  append_hex(out, p.transport & 0xffffu, 4);
  return out;
}


}  // namespace pciplan::inline v0::detail

#endif  // PCIPLAN_EMIT_DETAIL_EMIT_TEXT_HPP
