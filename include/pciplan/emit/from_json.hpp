// pciplan — emit/from_json.hpp: a plan read back from the JSON that to_json wrote.
//
//   const std::string text = to_json(*plan);          // kept in a file, a database, …
//   const topology_plan again = from_json(text);       // later, in another process
//   for (const std::string& a : qemu_arguments(again)) std::cout << a << '\n';
//
// Reads schema version 1 (plan_schema_version) and gives a plan equal to the one that was
// written (operator==). Keys that to_json derives from the others (explanations, QEMU
// ids and buses, guest bus ranges, …) are not read. Needs nlohmann-json (Debian:
// nlohmann-json3-dev; CMake target pciplan::json), through <pciplan/json.hpp>.
#ifndef PCIPLAN_EMIT_FROM_JSON_HPP
#define PCIPLAN_EMIT_FROM_JSON_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/emit/json.hpp>
#include <pciplan/kinds/device_kinds.hpp>
#include <pciplan/kinds/machine_dispatch.hpp>
#include <pciplan/planner/registry.hpp>
#include <pciplan/topology/controller.hpp>
#include <pciplan/topology/topology_plan.hpp>
#include <pciplan/vocabulary/address.hpp>
#include <pciplan/vocabulary/bars.hpp>
#include <pciplan/vocabulary/machine_id.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pciplan::inline v0 {

/// The text is not a plan from_json reads. `what()` is one sentence that says where:
/// "plan JSON, line 3, column 14: …" for text that is not JSON, "plan JSON,
/// devices[2].libvirt_address.slot: …" for JSON that is not a plan.
class json_input_error : public std::runtime_error {
 public:
  /// An error at `where` (a path, or empty) saying `what`; `line` and `column` (1-based) place
  /// a syntax error in the text, 0 when not given.
  json_input_error(std::string where, const std::string& what, std::size_t line = 0, std::size_t column = 0)
      : std::runtime_error(sentence(where, what, line, column)), where_(std::move(where)), line_(line), column_(column) {}

  /// The value at fault, as a path ("devices[2].name"); empty for text that is not JSON.
  [[nodiscard]] const std::string& where() const noexcept { return where_; }
  /// The 1-based line and column of a syntax error; 0 for JSON that is not a plan.
  [[nodiscard]] std::size_t line() const noexcept { return line_; }
  /// The 1-based column of a syntax error; 0 for JSON that is not a plan.
  [[nodiscard]] std::size_t column() const noexcept { return column_; }

 private:
  static std::string sentence(const std::string& where, const std::string& what, std::size_t line, std::size_t column) {
    std::string s = "plan JSON";
    if (line != 0) s += ", line " + std::to_string(line) + ", column " + std::to_string(column);
    if (!where.empty()) s += ", " + where;
    return s + ": " + what;
  }

  std::string where_;
  std::size_t line_ = 0;
  std::size_t column_ = 0;
};

namespace detail {

/// Reads the members of a plan document, naming the path of whatever is wrong.
class plan_json_reader {
 public:
  using json = nlohmann::json;

  [[noreturn]] static void fail(const std::string& where, const std::string& what) { throw json_input_error(where, what); }

  static std::string path(const std::string& where, std::string_view key) {
    return where.empty() ? std::string(key) : where + "." + std::string(key);
  }
  static std::string path(const std::string& where, std::size_t i) { return where + "[" + std::to_string(i) + "]"; }

  static const json& member(const json& object, std::string_view key, const std::string& where) {
    const auto it = object.find(key);
    if (it == object.end()) fail(path(where, key), "is missing");
    return *it;
  }
  static const json& object(const json& parent, std::string_view key, const std::string& where) {
    const json& v = member(parent, key, where);
    if (!v.is_object()) fail(path(where, key), "must be an object");
    return v;
  }
  static const json& array(const json& parent, std::string_view key, const std::string& where) {
    const json& v = member(parent, key, where);
    if (!v.is_array()) fail(path(where, key), "must be an array");
    return v;
  }
  static std::string_view text(const json& parent, std::string_view key, const std::string& where) {
    const json& v = member(parent, key, where);
    if (!v.is_string()) fail(path(where, key), "must be a string");
    return v.get_ref<const std::string&>();
  }
  /// A string; null is the empty string.
  static std::string_view text_or_null(const json& parent, std::string_view key, const std::string& where) {
    const json& v = member(parent, key, where);
    if (v.is_null()) return {};
    if (!v.is_string()) fail(path(where, key), "must be a string or null");
    return v.get_ref<const std::string&>();
  }
  static long long number(const json& parent, std::string_view key, const std::string& where, long long low,
                          long long high) {
    const json& v = member(parent, key, where);
    if (!v.is_number_integer()) fail(path(where, key), "must be a whole number");
    const long long n = v.is_number_unsigned() && v.get<unsigned long long>() > static_cast<unsigned long long>(high)
                            ? high + 1
                            : v.get<long long>();
    if (n < low || n > high) {
      fail(path(where, key), "must be " + std::to_string(low) + " to " + std::to_string(high));
    }
    return n;
  }
  /// A size in bytes (at most 2^62).
  static std::uint64_t bytes(const json& parent, std::string_view key, const std::string& where) {
    return static_cast<std::uint64_t>(number(parent, key, where, 0, 1ll << 62));
  }
  /// A number, or -1 for null.
  static int number_or_null(const json& parent, std::string_view key, const std::string& where, long long high) {
    if (member(parent, key, where).is_null()) return -1;
    return static_cast<int>(number(parent, key, where, 0, high));
  }
  static bool boolean(const json& parent, std::string_view key, const std::string& where) {
    const json& v = member(parent, key, where);
    if (!v.is_boolean()) fail(path(where, key), "must be true or false");
    return v.get<bool>();
  }
  static toggle on_off(const json& parent, std::string_view key, const std::string& where) {
    if (member(parent, key, where).is_null()) return toggle::unset;
    const std::string_view v = text_or_null(parent, key, where);
    if (v == "on") return toggle::on;
    if (v == "off") return toggle::off;
    fail(path(where, key), "must be \"on\", \"off\" or null");
  }
  static controller_address address(const json& parent, std::string_view key, const std::string& where) {
    const json& a = object(parent, key, where);
    const std::string at = path(where, key);
    return controller_address(static_cast<unsigned>(number(a, "domain", at, 0, 0xffff)),
                              static_cast<unsigned>(number(a, "bus", at, 0, 0xff)),
                              static_cast<unsigned>(number(a, "slot", at, 0, 0x1f)),
                              static_cast<unsigned>(number(a, "function", at, 0, 7)));
  }
  /// The value of enum E whose name_of is the string. Every enum read here numbers its
  /// values from 0 without gaps, and name_of says "unknown" past the last one, so a value
  /// added to the enum is read without a change here.
  template <class Enum>
  static Enum choice(const json& parent, std::string_view key, const std::string& where) {
    const std::string_view v = text(parent, key, where);
    std::string known;
    for (unsigned i = 0; name_of(static_cast<Enum>(i)) != "unknown"; ++i) {
      if (name_of(static_cast<Enum>(i)) == v) return static_cast<Enum>(i);
      known += (known.empty() ? "" : ", ") + std::string(name_of(static_cast<Enum>(i)));
    }
    // appended, not "'" + std::string(v) + …: g++ 12 -O3 warns a false -Wrestrict on that
    std::string message = "'";
    message.append(v).append("' is none of ").append(known);
    fail(path(where, key), message);
  }

  static controller read_controller(const json& c, const std::string& at) {
    if (!c.is_object()) fail(at, "must be an object");
    controller out{};
    out.index = controller_index{static_cast<std::uint16_t>(number(c, "index", at, 0, 0xff))};
    const std::string_view model = text(c, "model", at);
    out.model_name = text_or_null(c, "model_name", at);
    const std::string_view device = out.model_name.empty() ? text_or_null(c, "qemu_device", at) : out.model_name;
    out.kind = find_controller_kind(model, device);
    if (out.kind == nullptr) fail(path(at, "model"), "'" + std::string(model) + "' is not a controller model pciplan knows");
    out.qemu_id = text_or_null(c, "given_id", at);
    out.added = boolean(c, "added", at);
    if (!member(c, "address", at).is_null()) {
      out.has_address = true;
      out.libvirt_address = address(c, "address", at);
    }
    out.chassis = number_or_null(c, "chassis", at, 255);
    out.port = number_or_null(c, "port", at, 255);
    out.chassis_nr = number_or_null(c, "chassis_nr", at, 255);
    out.bus_nr = number_or_null(c, "bus_nr", at, 255);
    out.target_index = number_or_null(c, "target_index", at, 0xffff);
    out.numa_node = number_or_null(c, "numa_node", at, 0xffff);
    out.hotplug = on_off(c, "hotplug", at);
    out.multifunction = on_off(c, "multifunction", at);
    out.io_reserve_zero = boolean(c, "io_reserve_zero", at);
    if (c.contains("reserves")) {  // plans written before reserves existed have none
      const json& r = object(c, "reserves", at);
      const std::string rat = path(at, "reserves");
      out.reserves.io = bytes(r, "io", rat);
      out.reserves.mem = bytes(r, "mem", rat);
      out.reserves.pref32 = bytes(r, "pref32", rat);
      out.reserves.pref64 = bytes(r, "pref64", rat);
    }
    out.domain = static_cast<std::uint16_t>(number(c, "domain", at, 0, 0xffff));
    out.guest_bus = bus_number{static_cast<std::uint8_t>(number(c, "guest_bus", at, 0, 0xff))};
    return out;
  }

  static placement read_device(const json& d, const std::string& at, std::size_t count) {
    if (!d.is_object()) fail(at, "must be an object");
    placement out{};
    out.name = text(d, "name", at);
    if (out.name.empty()) fail(path(at, "name"), "must not be empty");
    out.request = static_cast<std::size_t>(number(d, "request", at, 0, static_cast<long long>(count) - 1));
    const json& dev = object(d, "device", at);
    const std::string dat = path(at, "device");
    out.device.qemu_device = text(dev, "qemu_device", dat);
    out.device.mmio_device = text_or_null(dev, "mmio_device", dat);
    out.device.libvirt.element = text_or_null(dev, "libvirt_element", dat);
    out.device.libvirt.model = text_or_null(dev, "libvirt_model", dat);
    out.device.link = choice<link_kind>(dev, "link", dat);
    out.device.integrated = boolean(dev, "integrated", dat);
    out.device.companion_function = number_or_null(dev, "companion_function", dat, 7);
    out.kind = choice<placement_kind>(d, "kind", at);
    if (out.kind == placement_kind::pci) {
      const result<pci_address> guest = parse_address<bus_number>(text(d, "address", at));
      if (!guest) fail(path(at, "address"), describe(guest.error()));
      out.guest_address = *guest;
      out.libvirt_address = address(d, "libvirt_address", at);
    } else {
      // "virtio-mmio-bus.N" or "fe.0.xxxx": the number after the last dot
      const std::string_view t = text(d, "transport", at);
      const std::string_view prefix = out.kind == placement_kind::mmio ? "virtio-mmio-bus." : "fe.0.";
      const unsigned base = out.kind == placement_kind::mmio ? 10 : 16;
      unsigned long long n = 0;
      bool ok = t.size() > prefix.size() && t.substr(0, prefix.size()) == prefix && t.size() - prefix.size() <= 8;
      for (const char ch : ok ? t.substr(prefix.size()) : std::string_view{}) {
        const int digit = ch >= '0' && ch <= '9' ? ch - '0' : base == 16 && ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
        if (digit < 0) ok = false;
        else n = n * base + static_cast<unsigned>(digit);
      }
      if (!ok || n > 0xffffffffull) {
        fail(path(at, "transport"), "'" + std::string(t) + "' is not " +
                                        (base == 10 ? "virtio-mmio-bus.<number>" : "fe.0.<four hex digits>"));
      }
      out.transport = static_cast<unsigned>(n);
    }
    if (d.contains("bars") && !d["bars"].is_null()) {  // the BARs the request gave
      const json& b = object(d, "bars", at);
      const std::string bat = path(at, "bars");
      out.bars.given = true;
      for (const auto& [key, value] : b.items()) {
        const std::optional<bar_space> named = bar_space_named(key);
        if (!named) fail(path(bat, key), "is not a BAR space (io, mem32, mem64, pref32, pref64)");
        const auto k = static_cast<std::size_t>(*named);
        if (!value.is_object()) fail(path(bat, key), "must be an object");
        const std::string sat = path(bat, key);
        out.bars.space[k].size = bytes(value, "size", sat);
        out.bars.space[k].largest = bytes(value, "largest", sat);
        if (out.bars.space[k].largest > out.bars.space[k].size) fail(path(sat, "largest"), "must not exceed size");
      }
    }
    out.multifunction = boolean(d, "multifunction", at);
    out.why = choice<rule>(d, "rule", at);
    return out;
  }

  static topology_plan read(const json& doc, const registry& known) {
    if (!doc.is_object()) fail("", "the document must be a JSON object");
    if (text(doc, "format", "") != "pciplan-plan") fail("format", "must be \"pciplan-plan\"");
    if (number(doc, "version", "", 0, 1 << 30) != plan_schema_version) {
      fail("version", "this pciplan reads version " + std::to_string(plan_schema_version) + " only");
    }
    topology_plan plan;
    const std::string_view machine = text(doc, "machine", "");
    const std::optional<std::span<const reserved_function>> built_in = known.built_in(machine);
    if (!built_in) fail("machine", "'" + std::string(machine) + "' is not a machine type pciplan knows");
    plan.machine = known.plan_name(machine);  // static text: the machine type's own name
    plan.built_in = *built_in;
    plan.policy = choice<policy_family>(doc, "policy", "");

    const json& controllers = array(doc, "controllers", "");
    for (std::size_t i = 0; i != controllers.size(); ++i) {
      const std::string at = path("controllers", i);
      plan.controllers.push_back(read_controller(controllers[i], at));
      for (std::size_t j = 0; j + 1 < plan.controllers.size(); ++j) {
        if (plan.controllers[j].index == plan.controllers.back().index) fail(path(at, "index"), "is used twice");
      }
    }
    const json& devices = array(doc, "devices", "");
    std::vector<bool> requests(devices.size(), false);
    for (std::size_t i = 0; i != devices.size(); ++i) {
      const std::string at = path("devices", i);
      plan.placements.push_back(read_device(devices[i], at, devices.size()));
      const placement& p = plan.placements.back();
      if (requests[p.request]) fail(path(at, "request"), "is used twice");
      requests[p.request] = true;
      for (std::size_t j = 0; j + 1 < plan.placements.size(); ++j) {
        if (plan.placements[j].name == p.name) fail(path(at, "name"), "'" + std::string(p.name) + "' is used twice");
      }
      if (p.kind == placement_kind::pci && plan.find(p.libvirt_address.bus) == nullptr) {
        fail(path(at, "libvirt_address.bus"), "names no controller of the plan");
      }
    }
    const json& warnings = array(doc, "warnings", "");
    for (std::size_t i = 0; i != warnings.size(); ++i) {
      const std::string at = path("warnings", i);
      if (!warnings[i].is_object()) fail(at, "must be an object");
      warning w{};
      w.code = choice<warning_code>(warnings[i], "code", at);
      w.text = text(warnings[i], "text", at);
      w.count = static_cast<unsigned>(number(warnings[i], "count", at, 0, 0xffffffffll));
      plan.warnings.push_back(w);
    }
    plan.own_text(true);  // the texts above are views into `doc`
    return plan;
  }
};

}  // namespace detail

/// Reads a plan that to_json wrote (schema version 1). Throws json_input_error, which
/// says where, when the text is not JSON or not such a plan: a missing or mistyped key,
/// an unknown machine, controller model, rule or warning code, a number out of range, a
/// name or controller index used twice, a device on a bus no controller provides. The
/// plan has texts of its own: `text` may go away. Machine types are looked up in `known`
/// (a plan of your own machine type needs the registry it was registered in).
[[nodiscard]] inline topology_plan from_json(std::string_view text, const registry& known) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    // the byte where parsing stopped, as a line and column
    const std::size_t at = e.byte == 0 ? 0 : std::min<std::size_t>(e.byte - 1, text.size());
    std::size_t line = 1;
    std::size_t column = 1;
    for (std::size_t i = 0; i != at; ++i) {
      if (text[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    std::string what = e.what();
    // nlohmann's message: "[json.exception.parse_error.101] parse error at line 1, column 2: <reason>"
    if (const std::size_t colon = what.find(": "); colon != std::string::npos) what = what.substr(colon + 2);
    throw json_input_error("", what, line, column);
  }
  return detail::plan_json_reader::read(doc, known);
}

/// Reads a plan of a built-in machine type that to_json wrote (see the overload above).
[[nodiscard]] inline topology_plan from_json(std::string_view text) { return from_json(text, registry{}); }

}  // namespace pciplan::inline v0

#endif  // PCIPLAN_EMIT_FROM_JSON_HPP
