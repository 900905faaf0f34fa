// pciplan — emit/json.hpp: a plan as a JSON document, for tools and scripts.
//
//   std::cout << to_json(*plan);
//
// One object with the machine, every controller, every device (with the rule that
// placed it and the explanation), and the warnings. One array element per line, so
// two plans diff well. Writing needs no JSON library; reading it back (from_json,
// <pciplan/json.hpp>) uses nlohmann-json.
#ifndef PCIPLAN_EMIT_JSON_HPP
#define PCIPLAN_EMIT_JSON_HPP

#include <pciplan/vocabulary/address.hpp>
#include <pciplan/topology/controller.hpp>
#include <pciplan/detail/config.hpp>
#include <pciplan/emit/detail/emit_text.hpp>
#include <pciplan/topology/topology_plan.hpp>
#include <pciplan/topology/request.hpp>
#include <pciplan/topology/topology_view.hpp>
#include <pciplan/topology/memory_windows.hpp>
#include <pciplan/vocabulary/bars.hpp>

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace pciplan::inline v0 {

/// The version of the plan schema that to_json writes and from_json reads.
inline constexpr int plan_schema_version = 1;

/// The plan as JSON (UTF-8; every string escaped, so any request name is safe). Schema
/// version 1 (plan_schema_version); from_json (<pciplan/json.hpp>) reads it back:
///
///   {"format": "pciplan-plan", "version": 1,
///    "machine" (topology_plan::machine: "q35", "aarch64-virt", …), "policy" ("pciplan"/"libvirt"),
///    "controllers": [{"index", "model" (libvirt), "model_name" (the QEMU device the
///                     controller was given, or null: the kind's default), "qemu_device"
///                     (the QEMU device written for it; null for a root without one),
///                     "added", "address" ({domain, bus, slot, function}, bus = the
///                     parent's controller index; null for roots), "chassis", "port",
///                     "chassis_nr", "bus_nr", "target_index", "numa_node" (null when not
///                     set), "hotplug" and "multifunction" ("on"/"off"/null),
///                     "io_reserve_zero", "reserves" ({io, mem, pref32, pref64}: the
///                     windows it reserves for hot-plug, bytes, 0 = none), "windows" ({io,
///                     mem, pref, pref64}: its windows as firmware sizes them, bytes, pref64
///                     true when the prefetchable one is 64-bit; memory_windows; null for
///                     roots and expanders), "domain" and "guest_bus" (the guest PCI domain
///                     and bus number of the bus it provides), "guest_bus_last" (the
///                     highest guest bus number at or below it: its subordinate bus),
///                     "given_id" (the QEMU id the user gave it, or null), "qemu_id" (its
///                     QEMU id: "pci.N" or the given one; null for the root), "qemu_bus"
///                     (QEMU's name of the bus it provides: "pcie.0", "pci.0", "pci.N", a
///                     user id), "slots" ({first, last}: the slots of that bus),
///                     "hotpluggable" (QEMU 7.2 hot-plugs a device into that bus:
///                     bus_hotpluggable), "spare" (a hot-pluggable port with nothing on it:
///                     room for one hot-plugged device)}, …],
///    "devices": [{"name", "request" (its index in the requests), "qemu_device" (as
///                 qemu_arguments writes it), "device" ({"qemu_device", "mmio_device",
///                 "libvirt_element", "libvirt_model", "link" ("conventional"/"express"/
///                 "virtio"), "integrated", "companion_function"}: the device_descriptor),
///                 "kind" ("pci"/"mmio"/"ccw"), "built_in" (the machine's own device at
///                 that position: no -device), "address" ("0000:01:00.0", guest form, or
///                 null), "libvirt_address" ({domain, bus, slot, function} or null),
///                 "bars" (the BARs the request gave, per space — "io", "mem32", "mem64",
///                 "pref32", "pref64": {size, largest} in bytes —, or null: the catalogue's),
///                 "transport" ("virtio-mmio-bus.N" / "fe.0.xxxx", or null for PCI),
///                 "multifunction", "rule" (name_of(rule)), "explanation"
///                 (pciplan::describe)}, …],
///    "warnings": [{"code" (name_of(warning_code)), "text", "count"}, …]}
///
/// Controllers in plan order (by index), devices in request order, one per line, so
/// two plans diff well. Keys that from_json does not read back are derived from the
/// others (qemu_device, guest_bus_last, qemu_id, qemu_bus, slots, hotpluggable, spare,
/// windows, built_in, explanation); "reserves" and "bars" may be missing (plans written
/// before they existed): none.
[[nodiscard]] PCIPLAN_DETAIL_INLINE std::string to_json(const topology_plan& plan);

#if PCIPLAN_DETAIL_BODIES
namespace detail {

/// Writes the members of one JSON object on one line: `{"a": 1, "b": "x"}`.
class json_object {
 public:
  explicit json_object(std::string& out) : out_(out) { out_ += '{'; }
  json_object& key(std::string_view k) {
    if (!first_) out_ += ", ";
    first_ = false;
    append_json_string(out_, k);
    out_ += ": ";
    return *this;
  }
  json_object& text(std::string_view k, std::string_view v) {
    key(k);
    append_json_string(out_, v);
    return *this;
  }
  /// A string, or null when it is empty.
  json_object& text_or_null(std::string_view k, std::string_view v) {
    if (v.empty()) return null(k);
    return text(k, v);
  }
  json_object& number(std::string_view k, long long v) {
    key(k);
    out_ += std::to_string(v);
    return *this;
  }
  /// A number, or null when it is negative (-1: not set).
  json_object& number_or_null(std::string_view k, long long v) {
    if (v < 0) return null(k);
    return number(k, v);
  }
  json_object& boolean(std::string_view k, bool v) {
    key(k);
    out_ += v ? "true" : "false";
    return *this;
  }
  json_object& null(std::string_view k) {
    key(k);
    out_ += "null";
    return *this;
  }
  /// `{"domain": d, "bus": b, "slot": s, "function": f}` (bus: the controller index).
  json_object& address(std::string_view k, const controller_address& a) {
    key(k);
    json_object(out_)
        .number("domain", a.domain)
        .number("bus", a.bus.value)
        .number("slot", a.slot)
        .number("function", a.function)
        .close();
    return *this;
  }
  json_object& slots(std::string_view k, unsigned first, unsigned last) {
    key(k);
    json_object(out_).number("first", first).number("last", last).close();
    return *this;
  }
  void close() { out_ += '}'; }

 private:
  std::string& out_;
  bool first_ = true;
};

/// `"name": [` then one element per line, then `]`.
template <class Range, class Write>
void json_array(std::string& out, std::string_view name, const Range& items, Write write, bool last) {
  out += "  ";
  append_json_string(out, name);
  out += ": [";
  bool first = true;
  for (const auto& item : items) {
    out += first ? "\n    " : ",\n    ";
    first = false;
    write(item);
  }
  out += first ? "]" : "\n  ]";
  out += last ? "\n" : ",\n";
}

}  // namespace detail

PCIPLAN_DETAIL_INLINE std::string to_json(const topology_plan& plan) {
  std::string out = "{\n  \"format\": \"pciplan-plan\",\n  \"version\": " + std::to_string(plan_schema_version) +
                    ",\n  \"machine\": ";
  detail::append_json_string(out, plan.machine);
  out += ",\n  \"policy\": ";
  detail::append_json_string(out, name_of(plan.policy));
  out += ",\n";
  const topology_view view(plan.controllers);
  const detail::bus_use use = detail::bus_use_of(plan, view);
  const memory_layout memory = memory_windows(plan);
  const auto on_off = [](detail::json_object& o, std::string_view key, toggle t) {
    if (t == toggle::unset) o.null(key);
    else o.text(key, t == toggle::on ? "on" : "off");
  };
  std::size_t position = 0;
  detail::json_array(
      out, "controllers", plan.controllers,
      [&](const controller& c) {
        const std::size_t at = position++;
        const bool hotpluggable = c.kind != nullptr && bus_hotpluggable(*c.kind, c.hotplug);
        detail::json_object o(out);
        o.number("index", c.index.value)
            .text_or_null("model", c.kind != nullptr ? c.kind->model : std::string_view{})
            .text_or_null("model_name", c.model_name)
            .text_or_null("qemu_device", c.qemu_device())
            .boolean("added", c.added);
        if (c.has_address) o.address("address", c.libvirt_address);
        else o.null("address");
        o.number_or_null("chassis", c.chassis)
            .number_or_null("port", c.port)
            .number_or_null("chassis_nr", c.chassis_nr)
            .number_or_null("bus_nr", c.bus_nr)
            .number_or_null("target_index", c.target_index)
            .number_or_null("numa_node", c.numa_node);
        on_off(o, "hotplug", c.hotplug);
        on_off(o, "multifunction", c.multifunction);
        o.boolean("io_reserve_zero", c.io_reserve_zero);
        o.key("reserves");
        detail::json_object(out)
            .number("io", static_cast<long long>(c.reserves.io))
            .number("mem", static_cast<long long>(c.reserves.mem))
            .number("pref32", static_cast<long long>(c.reserves.pref32))
            .number("pref64", static_cast<long long>(c.reserves.pref64))
            .close();
        if (memory.windows[at].bridge) {
          const bridge_windows& w = memory.windows[at];
          o.key("windows");
          detail::json_object(out)
              .number("io", static_cast<long long>(w.io.size))
              .number("mem", static_cast<long long>(w.mem.size))
              .number("pref", static_cast<long long>(w.pref.size))
              .boolean("pref64", w.pref.is64)
              .close();
        } else {
          o.null("windows");
        }
        o.number("domain", c.domain)
            .number("guest_bus", c.guest_bus.value)
            .number("guest_bus_last", use.last_bus[at])
            .text_or_null("given_id", c.qemu_id);
        if (c.index.value == 0) o.null("qemu_id");
        else o.text("qemu_id", detail::controller_id(c));
        o.text("qemu_bus", detail::bus_id(view, c.index));
        if (c.kind != nullptr) o.slots("slots", c.kind->slots.first, c.kind->slots.last);
        else o.null("slots");
        o.boolean("hotpluggable", hotpluggable)
            .boolean("spare", hotpluggable && c.kind->role == controller_role::port && use.occupied[at] == 0)
            .close();
      },
      false);
  detail::json_array(
      out, "devices", plan.placements,
      [&](const placement& p) {
        detail::json_object o(out);
        o.text("name", p.name)
            .number("request", static_cast<long long>(p.request))
            .text("qemu_device", detail::device_driver(p));
        o.key("device");
        detail::json_object(out)
            .text("qemu_device", p.device.qemu_device)
            .text_or_null("mmio_device", p.device.mmio_device)
            .text_or_null("libvirt_element", p.device.libvirt.element)
            .text_or_null("libvirt_model", p.device.libvirt.model)
            .text("link", name_of(p.device.link))
            .boolean("integrated", p.device.integrated)
            .number_or_null("companion_function", p.device.companion_function)
            .close();
        o.text("kind", name_of(p.kind)).boolean("built_in", plan.is_built_in(p));
        if (p.kind == placement_kind::pci) {
          o.text("address", to_text(p.guest_address).view()).address("libvirt_address", p.libvirt_address).null("transport");
        } else {
          o.null("address").null("libvirt_address");
          o.text("transport", p.kind == placement_kind::mmio ? detail::mmio_bus(p) : detail::ccw_devno(p));
        }
        if (p.bars.given) {
          o.key("bars");
          detail::json_object b(out);
          for (std::size_t k = 0; k != bar_space_count; ++k) {
            const bar_sum& sum = p.bars.space[k];
            if (sum.empty()) continue;
            b.key(name_of(static_cast<bar_space>(k)));
            detail::json_object(out)
                .number("size", static_cast<long long>(sum.size))
                .number("largest", static_cast<long long>(sum.largest))
                .close();
          }
          b.close();
        } else {
          o.null("bars");
        }
        o.boolean("multifunction", p.multifunction)
            .text("rule", name_of(p.why))
            .text("explanation", describe(plan, p))
            .close();
      },
      false);
  detail::json_array(
      out, "warnings", plan.warnings,
      [&](const warning& w) {
        detail::json_object(out)
            .text("code", name_of(w.code))
            .text("text", w.text)
            .number("count", w.count)
            .close();
      },
      true);
  out += "}\n";
  return out;
}
#endif

}  // namespace pciplan::inline v0

#endif  // PCIPLAN_EMIT_JSON_HPP
