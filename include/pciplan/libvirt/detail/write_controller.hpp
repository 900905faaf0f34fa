// pciplan — libvirt/detail/write_controller.hpp: the one writer of `<controller type='pci'>`, new or given.
//
// libvirt's form: `type`, `index` and `model` attributes, then `<model name>`, `<target>`
// with the numbering the kind carries (chassisNr, chassis, port in hex, busNr, index),
// hotplug, memReserve and a `<node>`, then the `<address>`. memReserve (KiB) is the
// 32-bit memory window a pcie-root-port or pci-bridge reserves for hot-plug
// (controller::reserves.mem; QEMU's mem-reserve): libvirt 10.3 and later pass it on,
// libvirt before 10.3 drops it, and libvirt has no attribute for the other reserves. A given element keeps everything else it
// has (other attributes and children, comments, its `<node>`); a new one is indented
// like its neighbours. Roots have no children, except pseries' PHB.
#ifndef PCIPLAN_LIBVIRT_DETAIL_WRITE_CONTROLLER_HPP
#define PCIPLAN_LIBVIRT_DETAIL_WRITE_CONTROLLER_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/kinds/device_bars.hpp>
#include <pciplan/topology/controller.hpp>
#include <pciplan/topology/topology_plan.hpp>
#include <pciplan/vocabulary/machine_id.hpp>
#include <pciplan/vocabulary/numbering.hpp>
#include <pciplan/detail/numbers.hpp>
#include <pciplan/libvirt/detail/node_batch.hpp>
#include <pciplan/libvirt/detail/write_address.hpp>
#include <pciplan/libvirt/detail/xml.hpp>

#include <pugixml.hpp>

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace pciplan::inline v0::libvirt::detail {

/// Calls `f(name, value)` for each `<target>` attribute libvirt writes for `c`, in its
/// order: chassisNr, chassis, port (hex), busNr, index, hotplug, memReserve (KiB, rounded
/// up; only where QEMU has mem-reserve: pcie-root-port, pci-bridge).
template <class F>
void each_target_attribute(const controller& c, F&& f) {
  const numbering_set numbered = c.kind->numbered_by;
  short_text<24> value;
  const auto number = [&](const char* name, int v, bool in_hex) {
    value.clear();
    if (in_hex) {
      value << "0x";
      value.hex(static_cast<unsigned>(v), 1);
    } else {
      value.decimal(static_cast<unsigned>(v));
    }
    f(name, value.view());
  };
  if (numbered.has(numbering::chassis_nr) && c.chassis_nr >= 0) number("chassisNr", c.chassis_nr, false);
  if (numbered.has(numbering::chassis) && c.chassis >= 0) number("chassis", c.chassis, false);
  if (numbered.has(numbering::port) && c.port >= 0) number("port", c.port, true);
  if (numbered.has(numbering::bus_nr) && c.bus_nr >= 0) number("busNr", c.bus_nr, false);
  if (numbered.has(numbering::target_index) && c.target_index >= 0) number("index", c.target_index, false);
  if (c.hotplug != toggle::unset) f("hotplug", std::string_view(c.hotplug == toggle::off ? "off" : "on"));
  if (c.reserves.mem != 0 && takes_reserves(c.qemu_device())) {
    value.clear();
    value.decimal(c.reserves.mem / 1024 + (c.reserves.mem % 1024 != 0 ? 1 : 0));
    f("memReserve", value.view());
  }
}

/// The `<model name>` libvirt writes for `c`.
[[nodiscard]] inline std::string_view model_name_of(const controller& c, machine_id machine) {
  return c.kind->is_root() && machine == machine_id::pseries ? std::string_view("spapr-pci-host-bridge")
                                                             : c.qemu_device();
}

/// Whether `c` has children: every controller but a root, except pseries' PHB.
[[nodiscard]] inline bool has_children(const controller& c, machine_id machine) {
  return !c.kind->is_root() || machine == machine_id::pseries;
}

/// The placement of a controller's own address.
[[nodiscard]] inline placement address_of(const controller& c) {
  placement p{};
  p.kind = placement_kind::pci;
  p.libvirt_address = c.libvirt_address;
  p.multifunction = c.multifunction == toggle::on;
  return p;
}

/// Writes controller `c` of the plan into its `<controller>` element `n` (see the top
/// of this header); its `<address>` is queued in `batch`.
inline void write_controller(pugi::xml_node n, const controller& c, machine_id machine, node_batch& batch) {
  set_attribute(n, "type", "pci");
  set_attribute(n, "index", std::to_string(c.index.value));
  set_attribute(n, "model", c.kind->model);
  if (!has_children(c, machine)) return;
  pugi::xml_node model = n.child("model");
  if (!model) {
    pugi::xml_node first = n.first_child();
    while (first && first.type() != pugi::node_element) first = first.next_sibling();
    model = first ? insert_element_before(first, "model") : append_element(n, "model");
  }
  set_attribute(model, "name", model_name_of(c, machine));
  pugi::xml_node target = n.child("target");
  each_target_attribute(c, [&](const char* name, std::string_view value) {
    if (!target) target = insert_element_after(model, "target");
    set_attribute(target, name, value);
  });
  if (c.numa_node >= 0) {
    if (!target) target = insert_element_after(model, "target");
    if (!target.child("node")) append_element(target, "node").text().set(std::to_string(c.numa_node).c_str());
  }
  if (c.has_address) queue_address(batch, n, address_of(c));
}

/// Appends `value` to `out` as the document printer writes an attribute value in single
/// quotes: `&`, `<`, `>` and `'` as entities, control characters as character references.
inline void append_escaped(std::string& out, std::string_view value) {
  for (const char ch : value) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '\'': out += "&apos;"; break;
      default:
        if (static_cast<unsigned char>(ch) < 32) {  // two digits, as the printer writes them
          out += "&#";
          out += static_cast<char>('0' + ch / 10);
          out += static_cast<char>('0' + ch % 10);
          out += ';';
        } else {
          out += ch;
        }
    }
  }
}

/// Appends a new `<controller>` element for `c` to `out` as text: what write_controller
/// writes into an empty element whose line is indented by `own` (nullopt: the document
/// is not indented), printed as the document printer prints it.
inline void append_new_controller(std::string& out, const controller& c, machine_id machine,
                                  std::optional<std::string_view> own) {
  using namespace std::string_view_literals;
  // formatted into `t` and appended once; a long indentation, or a name that needs
  // escaping, goes to `out` directly
  short_text<2048> t;  // 5 lines of at most 128 + 4 blanks of indentation and 2 names of 128: room enough
  const auto flush = [&] {
    out.append(t.view());
    t.clear();
  };
  const auto line = [&](std::size_t extra) {
    if (!own) return;
    if (own->size() + extra > 128) {
      flush();
      append_line_break(out, *own, extra);
      return;
    }
    t << '\n' << *own;
    for (std::size_t i = 0; i != extra; ++i) t << ' ';
  };
  const auto value = [&](std::string_view v) {
    const bool plain = v.size() <= 128 && std::all_of(v.begin(), v.end(), [](char ch) {
      return static_cast<unsigned char>(ch) >= 32 && ch != '&' && ch != '<' && ch != '>' && ch != '\'';
    });
    if (plain) {
      t << v;
    } else {
      flush();
      append_escaped(out, v);
    }
  };
  t << "<controller type='pci' index='"sv;
  t.decimal(c.index.value) << "' model='"sv;
  value(c.kind->model);
  t << '\'';
  if (!has_children(c, machine)) {
    t << "/>"sv;
    flush();
    return;
  }
  t << '>';
  line(2);
  t << "<model name='"sv;
  value(model_name_of(c, machine));
  t << "'/>"sv;
  bool target = false;
  each_target_attribute(c, [&](const char* name, std::string_view v) {
    if (!target) {
      line(2);
      t << "<target"sv;
      target = true;
    }
    t << ' ' << std::string_view(name) << "='"sv << v << '\'';  // numbers, on, off
  });
  if (c.numa_node >= 0) {
    if (!target) {
      line(2);
      t << "<target"sv;
    }
    t << '>';
    line(4);
    t << "<node>"sv;
    t.decimal(static_cast<unsigned>(c.numa_node)) << "</node>"sv;
    line(2);
    t << "</target>"sv;
  } else if (target) {
    t << "/>"sv;
  }
  if (c.has_address) {
    line(2);
    put_address(t, address_of(c));
  }
  line(0);
  t << "</controller>"sv;
  flush();
}

}  // namespace pciplan::inline v0::libvirt::detail

#endif  // PCIPLAN_LIBVIRT_DETAIL_WRITE_CONTROLLER_HPP
