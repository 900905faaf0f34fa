// pciplan — validate/validate.hpp: check a hand-written QEMU PCI layout before QEMU sees it.
//
//   #include <pciplan/pciplan.hpp>
//   const pciplan::qemu_layout layout = pciplan::read_qemu_layout(text);  // -device lines
//   const pciplan::validation_report report = pciplan::validate<pciplan::machines::q35>(layout);
//   for (const pciplan::finding& f : report.findings) std::cout << describe(layout, f) << '\n';
//   if (!report.accepted()) return 1;  // QEMU would refuse to start
//
// The layout is what follows `-device` on a QEMU command line, one device per entry, in
// QEMU's classic `driver,key=value,…` syntax or its JSON `{"driver":…}` syntax. The
// validator replays what QEMU 7.2 does when it creates the devices in order — the
// machine's built-in devices, `addr` taken or chosen (lowest free slot), multifunction,
// what may plug where — and reports:
//   - errors: what QEMU refuses, worded as QEMU words it (`PCI: slot 3 function 0 not
//     available for e1000, in use by virtio-net-pci,id=net0`), so `accepted()` answers
//     "does QEMU start with this?";
//   - warnings: what QEMU accepts but firmware or guests break on (a guest cannot see a
//     function without function 0, SeaBIOS leaves an expander unprogrammed when its
//     bus_nr range is too small, the x86 I/O window runs out past about 14 ports, a
//     device at slot 0 of a hotplug bridge cannot be replaced, …), and what QEMU's
//     PCI Express guidelines advise against.
// Each finding carries the number of the rule it checks in qemu-rules-and-peers.md (b)
// (0: QEMU's general argument checks, such as an unknown bus or a duplicate id).
//
// What is checked (rule numbers of qemu-rules-and-peers.md (b)): 1 slot/function range
// and double use, 2 no free slot, 3 multifunction (and a function without function 0),
// 5-6 one device at slot 0 of each port, 7 PCIe endpoints on the root complex, 8 only
// bridges on a pxb-pcie, 9 PCI vs PCIe endpoints, 10 switch ports, 11 pxb / pxb-pcie
// only on the root bus of their kind, 12 unique chassis/slot of ports, 13 pci-bridge
// chassis_nr, 14 slot 0 of an SHPC bridge, 16 unique bus_nr, 17 bus number partitions,
// 18 numa_node, 25 the I/O window, 26 at most 9 pci-bridges, 28 pref32/pref64. Hotplug
// rules (4, 20-24) concern a running guest and are not checked here.
#ifndef PCIPLAN_VALIDATE_VALIDATE_HPP
#define PCIPLAN_VALIDATE_VALIDATE_HPP

#include <pciplan/kinds/controller_kinds.hpp>
#include <pciplan/detail/config.hpp>
#include <pciplan/detail/numbers.hpp>
#include <pciplan/validate/detail/qemu_args.hpp>
#include <pciplan/kinds/device_kinds.hpp>
#include <pciplan/kinds/kind_lists.hpp>
#include <pciplan/kinds/machine_types.hpp>

#include <boost/hana/for_each.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pciplan::inline v0 {

/// A hand-written layout: QEMU `-device` arguments, in command-line order.
struct qemu_layout {
  struct entry {
    std::string argument;   ///< what follows `-device`, as written
    std::size_t line = 0;   ///< 1-based line of the text it was read from (0: not read from text)
  };
  std::vector<entry> devices;
  /// Guest NUMA nodes (`-numa node` options); a pxb's numa_node must be below it.
  unsigned numa_nodes = 0;
};

/// Reads a layout from text: one QEMU option per line. A line is a `-device ARG`, or
/// just `ARG` (the device argument alone), or `-numa node,…` (counted as a NUMA node).
/// Other lines that start with `-` (`-object`, `-m`, …), blank lines and lines starting
/// with `#` are skipped.
[[nodiscard]] inline qemu_layout read_qemu_layout(std::string_view text) {
  qemu_layout layout;
  std::size_t line_number = 0;
  while (!text.empty()) {
    const std::size_t end = std::min(text.find('\n'), text.size());
    std::string_view line = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    ++line_number;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (line.empty() || line.front() == '#') continue;
    if (line.starts_with("-device ") || line.starts_with("--device ")) {
      line.remove_prefix(line.find(' ') + 1);
      while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
    } else if (line.starts_with("-numa ") || line.starts_with("--numa ")) {
      std::string_view arg = line.substr(line.find(' ') + 1);
      while (!arg.empty() && arg.front() == ' ') arg.remove_prefix(1);
      if (arg.starts_with("node")) ++layout.numa_nodes;
      continue;
    } else if (line.front() == '-') {
      continue;
    }
    // a shell-quoted JSON argument, as `ps` or a script shows it
    if (line.size() >= 2 && line.front() == '\'' && line.back() == '\'') line = line.substr(1, line.size() - 2);
    layout.devices.push_back({std::string(line), line_number});
  }
  return layout;
}

/// How bad a finding is.
enum class severity : unsigned char {
  error,    ///< QEMU refuses the layout
  warning,  ///< QEMU accepts it, but firmware or guests break on it, or QEMU's guidelines advise against it
};

/// One problem in a layout.
struct finding {
  static constexpr std::size_t no_device = static_cast<std::size_t>(-1);
  severity level = severity::error;
  unsigned rule = 0;                  ///< qemu-rules-and-peers.md (b) rule number; 0: general argument checks
  std::size_t device = no_device;     ///< index into qemu_layout::devices
  std::string message;                ///< errors QEMU reports: QEMU 7.2's words
};

/// The outcome of `validate`.
struct validation_report {
  std::vector<finding> findings;
  /// Whether QEMU would create every device (warnings allowed).
  [[nodiscard]] bool accepted() const noexcept {
    return std::none_of(findings.begin(), findings.end(), [](const finding& f) { return f.level == severity::error; });
  }
  [[nodiscard]] std::size_t count(severity s) const noexcept {
    return static_cast<std::size_t>(
        std::count_if(findings.begin(), findings.end(), [s](const finding& f) { return f.level == s; }));
  }
};

/// "line 3: error: -device e1000,addr=0x3: PCI: slot 3 function 0 not available for e1000,
/// in use by virtio-net-pci,id=net0 [qemu rule 1]" (the line part when the device was read
/// from text).
[[nodiscard]] inline std::string describe(const qemu_layout& layout, const finding& f) {
  std::string s;
  const bool has_device = f.device < layout.devices.size();
  if (has_device && layout.devices[f.device].line != 0) s += "line " + std::to_string(layout.devices[f.device].line) + ": ";
  s += f.level == severity::error ? "error: " : "warning: ";
  if (has_device) s += "-device " + layout.devices[f.device].argument + ": ";
  s += f.message;
  s += " [qemu rule " + std::to_string(f.rule) + "]";
  return s;
}

namespace detail {

/// What pciplan knows of a QEMU device model.
struct qemu_model {
  const controller_descriptor* controller = nullptr;  ///< a controller kind, or
  const device_descriptor* device = nullptr;          ///< a catalogue device (nullptr for both: unknown)
  bool mmio = false;                                  ///< a virtio-mmio device (not on PCI)
};

[[nodiscard]] inline qemu_model find_qemu_model(std::string_view driver) {
  qemu_model m{};
  boost::hana::for_each(controller_kinds, [&](auto t) {
    using C = typename decltype(t)::type;
    for (const std::string_view name : controller_traits<C>::qemu_devices) {
      if (name == driver) m.controller = &descriptor_of<C>;
    }
  });
  if (m.controller != nullptr) return m;
  boost::hana::for_each(device_kinds, [&](auto t) {
    using D = typename decltype(t)::type;
    if (device_descriptor_of<D>.qemu_device == driver) m.device = &device_descriptor_of<D>;
    if (!device_descriptor_of<D>.mmio_device.empty() && device_descriptor_of<D>.mmio_device == driver) m.mmio = true;
  });
  if (driver.ends_with("-device") && driver.starts_with("virtio-")) m.mmio = true;
  return m;
}

/// The QEMU names of the machines' built-in PCI functions (as QEMU's errors name them).
[[nodiscard]] constexpr std::string_view built_in_name(std::string_view machine, unsigned slot, unsigned function) noexcept {
  if (machine == "pc") {
    if (slot == 0) return "i440FX";
    if (slot == 1 && function == 0) return "PIIX3";
    if (slot == 1 && function == 1) return "piix3-ide";
    if (slot == 1 && function == 3) return "PIIX4_PM";
  } else if (machine == "q35") {
    if (slot == 0) return "mch";
    if (slot == 0x1f && function == 0) return "ICH9-LPC";
    if (slot == 0x1f && function == 2) return "ich9-ahci";
    if (slot == 0x1f && function == 3) return "ICH9-SMB";
  } else if (slot == 0 && function == 0) {
    return "gpex-root";
  }
  return "built-in device";
}

/// Replays a layout the way QEMU creates it.
template <MachineType M>
class layout_validator {
 public:
  explicit layout_validator(const qemu_layout& layout) : layout_(layout) {}

  validation_report run() {
    if constexpr (has_pci_v<M>) {
      bus root{};
      root.kind = &descriptor_of<root_of<M>>;
      root.name = std::string(root.kind->root_bus.empty() ? std::string_view("pci.0") : root.kind->root_bus);
      root.express = has_pcie_root_v<M>;
      root.root = true;
      for (const reserved_function& r : machine_traits<M>::reserved) {
        root.devfn[r.slot * 8u + r.function] = built_in;
      }
      buses_.push_back(root);
    }
    for (std::size_t i = 0; i != layout_.devices.size(); ++i) add(i);
    finish();
    return std::move(report_);
  }

 private:
  static constexpr int empty = -1;
  static constexpr int built_in = -2;

  struct bus {
    std::string name;
    const controller_descriptor* kind = nullptr;  // the controller that provides the bus
    int owner = -1;                               // the device providing it (-1: the machine)
    bool express = false;
    bool root = false;
    bool pxb_root = false;  // the root bus of a pxb-pcie: only bridges
    std::array<int, 256> devfn = filled();
    static constexpr std::array<int, 256> filled() {
      std::array<int, 256> a{};
      a.fill(empty);
      return a;
    }
  };
  struct placed {
    device_argument arg;
    std::string id;
    qemu_model model;
    std::size_t bus = 0;
    unsigned devfn = 0;
    bool multifunction = false;
    std::optional<std::size_t> child;  // the bus it provides
    bool ok = false;                   // created (a refused device is skipped, as QEMU stops)
  };

  const qemu_layout& layout_;
  validation_report report_{};
  std::vector<bus> buses_;
  std::vector<placed> devices_;
  std::set<std::string, std::less<>> ids_;
  std::set<std::pair<unsigned long, unsigned long>> chassis_slots_;
  std::map<unsigned long, std::size_t> pxb_bus_nr_;  // bus_nr -> device

  void note(severity s, unsigned rule, std::size_t device, std::string message) {
    report_.findings.push_back({s, rule, device, std::move(message)});
  }
  void refuse(unsigned rule, std::size_t device, std::string message) {
    note(severity::error, rule, device, std::move(message));
  }

  [[nodiscard]] static std::string_view property(const device_argument& a, std::string_view key) {
    for (const auto& [k, v] : a.properties) {
      if (k == key) return v;
    }
    return {};
  }
  [[nodiscard]] static bool has(const device_argument& a, std::string_view key) {
    return std::any_of(a.properties.begin(), a.properties.end(), [&](const auto& p) { return p.first == key; });
  }

  [[nodiscard]] std::optional<std::size_t> find_bus(std::string_view name) const {
    for (std::size_t b = 0; b != buses_.size(); ++b) {
      if (buses_[b].name == name) return b;
    }
    return std::nullopt;
  }

  [[nodiscard]] std::string occupant(const bus& b, unsigned devfn) const {
    const int who = b.devfn[devfn];
    if (who == built_in) return std::string(built_in_name(machine_traits<M>::name, devfn / 8, devfn % 8)) + ",id=(null)";
    const placed& d = devices_[static_cast<std::size_t>(who)];
    return d.arg.driver + ",id=" + (d.id.empty() ? std::string("(null)") : d.id);
  }

  [[nodiscard]] bool is_multifunction(const bus& b, unsigned devfn) const {
    const int who = b.devfn[devfn];
    if (who == built_in) return true;  // the chipset's slots are multifunction devices
    return who >= 0 && devices_[static_cast<std::size_t>(who)].multifunction;
  }

  void add(std::size_t i) {
    devices_.emplace_back();
    placed& d = devices_.back();
    const std::string& text = layout_.devices[i].argument;
    const std::optional<argument_problem> problem =
        (!text.empty() && text.front() == '{') ? split_json(text, d.arg) : split_classic(text, d.arg);
    if (problem) return refuse(0, i, problem->message);
    d.model = find_qemu_model(d.arg.driver);
    d.id = std::string(property(d.arg, "id"));
    if (!d.id.empty()) {
      if (!ids_.insert(d.id).second) return refuse(0, i, "Duplicate ID '" + d.id + "' for device");
    }
    if (d.model.mmio) {  // a virtio-mmio device: on a virtio-mmio transport, never on PCI
      if (!has(d.arg, "bus")) return;
      const std::string_view name = property(d.arg, "bus");
      if (const auto b = find_bus(name)) {
        return refuse(0, i, "Device '" + d.arg.driver + "' can't go on " + (buses_[*b].express ? "PCIE" : "PCI") + " bus");
      }
      if (!name.starts_with("virtio-mmio-bus.")) return refuse(0, i, "Bus '" + std::string(name) + "' not found");
      return;
    }
    if (d.model.controller != nullptr && d.model.controller->role == controller_role::extra_root) {
      // a further host bridge (pseries PHB): a root bus of its own, on no PCI bus
      d.ok = false;
      if (!d.id.empty()) {
        bus phb{};
        phb.name = d.id;
        phb.kind = d.model.controller;
        phb.root = true;
        buses_.push_back(phb);
      }
      return;
    }
    if (d.model.controller == nullptr && d.model.device == nullptr) {
      note(severity::warning, 0, i,
           "pciplan does not know the device model '" + d.arg.driver + "'; it is checked as a conventional PCI endpoint");
    }
    // the parent bus
    std::size_t b = 0;
    if (has(d.arg, "bus")) {
      const std::string_view name = property(d.arg, "bus");
      const auto found = find_bus(name);
      if (!found) return refuse(0, i, "Bus '" + std::string(name) + "' not found");
      b = *found;
    } else if (buses_.empty()) {
      return refuse(0, i, "No 'PCI' bus found for device '" + d.arg.driver + "'");
    }
    d.bus = b;
    // addr and multifunction
    if (has(d.arg, "multifunction")) {
      const auto on = parse_switch(property(d.arg, "multifunction"));
      if (!on) {
        return refuse(0, i, "Parameter 'multifunction' expects 'on' or 'off'");
      }
      d.multifunction = *on;
    }
    unsigned devfn = 0;
    if (has(d.arg, "addr")) {
      const auto parsed = parse_devfn(property(d.arg, "addr"));
      if (!parsed) {
        return refuse(1, i, "Property '" + d.arg.driver + ".addr' doesn't take value '" +
                                std::string(property(d.arg, "addr")) + "'");
      }
      devfn = *parsed;
      if (buses_[b].devfn[devfn] != empty) {
        return refuse(1, i, "PCI: slot " + std::to_string(devfn / 8) + " function " + std::to_string(devfn % 8) +
                                " not available for " + d.arg.driver + ", in use by " + occupant(buses_[b], devfn));
      }
    } else {
      bool found = false;
      for (unsigned f0 = 0; f0 < 256; f0 += 8) {
        if (buses_[b].devfn[f0] == empty) {
          devfn = f0;
          found = true;
          break;
        }
      }
      if (!found) return refuse(2, i, "PCI: no slot/function available for " + d.arg.driver + ", all in use or reserved");
    }
    d.devfn = devfn;
    // multifunction (QEMU checks against what is already there)
    const unsigned slot = devfn / 8;
    const unsigned function = devfn % 8;
    const auto x = [](unsigned v) {  // QEMU prints slot and function in hex here
      std::string out;
      append_hex(out, v);
      return out;
    };
    if (function != 0) {
      const unsigned f0 = slot * 8;
      if (buses_[b].devfn[f0] != empty && !is_multifunction(buses_[b], f0)) {
        return refuse(3, i, "PCI: single function device can't be populated in function " + x(slot) + "." + x(function));
      }
    } else if (!d.multifunction) {
      for (unsigned f = 1; f != 8; ++f) {
        if (buses_[b].devfn[slot * 8 + f] != empty) {
          return refuse(3, i, "PCI: " + x(slot) + ".0 indicates single function, but " + x(slot) + "." + x(f) +
                                  " is already populated.");
        }
      }
    }
    const bus& parent = buses_[b];
    const controller_descriptor* c = d.model.controller;
    const bool bridge = c != nullptr && c->role != controller_role::expander && c->role != controller_role::extra_root;
    if (parent.pxb_root && !bridge) {
      return refuse(8, i, "PCI: Only PCI/PCIe bridges can be plugged into " + std::string(parent.kind->qemu_device()));
    }
    if (c != nullptr && !realize_controller(i, d, *c, parent)) return;
    buses_[b].devfn[devfn] = static_cast<int>(i);
    d.ok = true;
    if (c != nullptr && !d.id.empty()) {
      bus child{};
      child.name = d.id;
      child.kind = c;
      child.owner = static_cast<int>(i);
      child.express = c->accepts.contains(connect::pcie_endpoint) || c->accepts.contains(connect::pcie_root_port) ||
                      c->accepts.contains(connect::pcie_switch_downstream_port);
      child.root = c->role == controller_role::expander || c->role == controller_role::extra_root;
      child.pxb_root = child.root && c->qemu_device() == "pxb-pcie";
      d.child = buses_.size();
      buses_.push_back(child);
    }
  }

  bool realize_controller(std::size_t i, const placed& d, const controller_descriptor& c, const bus& parent) {
    const std::string_view dev = c.qemu_device();
    const auto number = [&](std::string_view key) { return qemu_integer(property(d.arg, key)); };
    if (c.role == controller_role::expander) {
      if (dev == "pxb-pcie" && !parent.express) {
        refuse(11, i, "pxb-pcie devices cannot reside on a PCI bus");
        return false;
      }
      if (dev == "pxb" && parent.express) {
        refuse(11, i, "pxb devices cannot reside on a PCIe bus");
        return false;
      }
      if (!parent.root || parent.owner >= 0) {
        refuse(11, i, "PXB devices can be attached only to root bus");
        return false;
      }
      if (has(d.arg, "numa_node")) {
        const auto node = number("numa_node");
        if (node && *node >= layout_.numa_nodes) {
          refuse(18, i, "Illegal numa node " + std::to_string(*node));
          return false;
        }
      }
      const unsigned long nr = number("bus_nr").value_or(0);
      if (!pxb_bus_nr_.emplace(nr, i).second) {
        refuse(16, i, "Bus " + std::to_string(nr) + " is already in use");
        return false;
      }
    }
    if (dev == "pcie-root-port" || dev == "ioh3420" || dev == "xio3130-downstream") {
      if (has(d.arg, "pref32-reserve") && has(d.arg, "pref64-reserve")) {
        refuse(28, i, "PCI resource reserve cap: PREF32 and PREF64 conflict");
        return false;
      }
      const auto key = std::pair(number("chassis").value_or(0), number("slot").value_or(0));
      if (!chassis_slots_.insert(key).second) {
        refuse(12, i, "Can't add chassis slot, error -16");
        return false;
      }
    }
    if (dev == "pci-bridge" && number("chassis_nr").value_or(0) == 0) {
      refuse(13, i, "Bridge chassis not specified. Each bridge is required to be assigned a unique chassis id > 0.");
      return false;
    }
    return true;
  }

  // ---- warnings on the finished layout -------------------------------------------

  void finish() {
    std::map<unsigned long, std::size_t> chassis_nr;
    std::size_t pci_bridges = 0;
    std::size_t io_ports = 0;
    for (std::size_t i = 0; i != devices_.size(); ++i) {
      const placed& d = devices_[i];
      if (!d.ok) continue;
      const bus& parent = buses_[d.bus];
      const controller_descriptor* c = d.model.controller;
      const unsigned slot = d.devfn / 8;
      const unsigned function = d.devfn % 8;
      // 3: the guest looks for function 0 first
      if (function != 0 && parent.devfn[slot * 8] == empty) {
        note(severity::warning, 3, i,
             "slot " + std::to_string(slot) + " has no function 0, so the guest does not see this function");
      }
      // 5, 6: a port has one slot
      const std::string_view parent_dev = parent.kind != nullptr ? parent.kind->qemu_device() : std::string_view{};
      const bool port = parent_dev == "pcie-root-port" || parent_dev == "ioh3420" || parent_dev == "xio3130-downstream";
      if (port && slot != 0) {
        note(severity::warning, 5, i,
             "a PCI Express port has one slot: this device at slot " + std::to_string(slot) + " of '" + parent.name +
                 "' is not seen by guests that only probe slot 0, and cannot be hot-plugged there");
      }
      // 7, 9, 10: what QEMU's PCI Express guidelines allow where
      const bool endpoint = c == nullptr;
      const link_kind link = d.model.device != nullptr ? d.model.device->link : link_kind::conventional;
      const bool integrated = d.model.device != nullptr && d.model.device->integrated;
      if (endpoint && parent.root && parent.express && link == link_kind::express && !integrated) {
        note(severity::warning, 7, i,
             "a PCI Express endpoint directly on the root complex ('" + parent.name +
                 "') becomes an integrated endpoint: it cannot be hot-unplugged; put it behind a pcie-root-port");
      }
      if (endpoint && !parent.express && link == link_kind::express && has_pcie_root_v<M>) {
        note(severity::warning, 9, i,
             "a PCI Express device on the conventional PCI bus '" + parent.name +
                 "' loses its extended configuration space; put it behind a pcie-root-port");
      }
      if (endpoint && port && link == link_kind::conventional && !integrated && d.model.device != nullptr) {
        note(severity::warning, 9, i,
             "a conventional PCI device behind the PCI Express port '" + parent.name +
                 "': QEMU's guidelines put such devices behind a pcie-pci-bridge");
      }
      if (c != nullptr) {
        const std::string_view dev = c->qemu_device();
        if (dev == "x3130-upstream" && !port) {
          note(severity::warning, 10, i, "a switch upstream port belongs on a root port or a downstream port");
        }
        if (dev == "xio3130-downstream" && parent_dev != "x3130-upstream") {
          note(severity::warning, 10, i, "a switch downstream port belongs on a switch upstream port");
        }
        if (dev == "pci-bridge") {
          ++pci_bridges;
          const unsigned long nr = qemu_integer(property(d.arg, "chassis_nr")).value_or(0);
          if (!chassis_nr.emplace(nr, i).second) {
            note(severity::warning, 13, i,
                 "chassis_nr " + std::to_string(nr) + " is also used by another pci-bridge: the guest's hotplug "
                 "slots of the two bridges get the same names");
          }
        }
        const bool hotplug_off = parse_switch(property(d.arg, "hotplug")) == std::optional<bool>(false);
        const bool io_zero = has(d.arg, "io-reserve") && qemu_integer(property(d.arg, "io-reserve")) == 0ul;
        if ((dev == "pcie-root-port" || dev == "ioh3420" || dev == "xio3130-downstream") && !hotplug_off && !io_zero) {
          ++io_ports;
        }
      }
      // 14: an SHPC bridge's slot 0 is not a hotplug slot
      if (parent.kind != nullptr && parent.kind->shpc && parent.owner >= 0 && slot == 0) {
        const auto shpc = parse_switch(property(devices_[static_cast<std::size_t>(parent.owner)].arg, "shpc"));
        if (shpc.value_or(true)) {
          note(severity::warning, 14, i,
               "slot 0 of '" + parent.name + "' is not a hotplug slot of its SHPC controller: the device cannot be "
               "unplugged or replaced there; use addr 1 to 31");
        }
      }
    }
    if (pci_bridges > 9) {
      note(severity::warning, 26, finding::no_device,
           std::to_string(pci_bridges) + " pci-bridges: each takes 4 KiB of the 64 KiB I/O window; more than 9 "
           "leaves too little for devices that need I/O");
    }
    if (machine_traits<M>::name == "q35" && io_ports > 14) {
      note(severity::warning, 25, finding::no_device,
           std::to_string(io_ports) + " hot-pluggable PCI Express ports reserve 4 KiB of I/O space each, and the "
           "64 KiB I/O window holds about 14: the firmware leaves the rest without I/O; set io-reserve=0 on ports "
           "whose devices need no I/O");
    }
    check_bus_numbers();
  }

  /// 17: guest bus numbers as SeaBIOS gives them (depth first, devfn order; each
  /// expander's root bus from its bus_nr) must stay inside each partition.
  void check_bus_numbers() {
    if (buses_.empty()) return;
    std::vector<std::pair<unsigned long, std::size_t>> roots(pxb_bus_nr_.begin(), pxb_bus_nr_.end());
    const auto walk = [&](auto& self, std::size_t b, unsigned& next) -> void {
      for (unsigned devfn = 0; devfn != 256; ++devfn) {
        const int who = buses_[b].devfn[devfn];
        if (who < 0) continue;
        const placed& d = devices_[static_cast<std::size_t>(who)];
        if (d.model.controller == nullptr || d.model.controller->role == controller_role::expander) continue;
        ++next;  // the bridge's secondary bus
        const unsigned secondary = next;
        if (d.child) self(self, *d.child, next);
        const unsigned long reserve = qemu_integer(property(d.arg, "bus-reserve")).value_or(0);
        next = std::max<unsigned>(next, static_cast<unsigned>(std::min<unsigned long>(secondary + reserve, 1000)));
      }
    };
    unsigned main_last = 0;
    walk(walk, 0, main_last);
    for (std::size_t k = 0; k != roots.size(); ++k) {
      const auto [nr, dev] = roots[k];
      const unsigned long limit = k + 1 < roots.size() ? roots[k + 1].first : 256;
      if (k == 0 && main_last >= nr) {
        note(severity::warning, 17, dev,
             "bus_nr " + std::to_string(nr) + " is inside the main hierarchy's bus numbers (0-" +
                 std::to_string(main_last) + "): SeaBIOS leaves its bridges unprogrammed; use a bus_nr above " +
                 std::to_string(main_last));
      }
      unsigned last = static_cast<unsigned>(nr);
      const placed& pxb = devices_[dev];
      if (devices_[dev].model.controller->qemu_device() == "pxb") ++last;  // its internal pci-bridge
      if (pxb.child) walk(walk, *pxb.child, last);
      if (last >= limit) {
        note(severity::warning, 17, dev,
             "the buses below this expander need numbers " + std::to_string(nr) + "-" + std::to_string(last) +
                 ", which reach " + (limit == 256 ? std::string("past 255") : "bus_nr " + std::to_string(limit) +
                                                                                 " of the next expander") +
                 ": SeaBIOS leaves the excess unprogrammed");
      }
    }
  }
};

}  // namespace detail

/// Checks a hand-written layout for machine type M against QEMU's rules
/// (qemu-rules-and-peers.md (b)); see the top of this header for the list.
template <MachineType M>
[[nodiscard]] validation_report validate(const qemu_layout& layout) {
  return detail::layout_validator<M>(layout).run();
}

}  // namespace pciplan::inline v0

#endif  // PCIPLAN_VALIDATE_VALIDATE_HPP
