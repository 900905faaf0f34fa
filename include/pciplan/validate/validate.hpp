// pciplan — validate/validate.hpp: check a hand-written QEMU PCI layout before QEMU sees it,
// by replaying QEMU's rules (the layout and the findings: validate/qemu_layout.hpp).
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
// Each finding carries the number of the rule it checks in RULES.md Q0–Q36 (0: QEMU's
// general argument checks, such as an unknown bus or a duplicate id). What is checked:
// 1 slot/function range and double use, 2 no free slot, 3 multifunction (and a function without function 0),
// 5-6 one device at slot 0 of each port, 7 PCIe endpoints on the root complex, 8 only
// bridges on a pxb-pcie, 9 PCI vs PCIe endpoints, 10 switch ports, 11 pxb / pxb-pcie
// only on the root bus of their kind, 12 unique chassis/slot of ports, 13 pci-bridge
// chassis_nr, 14 slot 0 of an SHPC bridge, 16 unique bus_nr, 17 bus number partitions,
// 18 numa_node, 25 the I/O window, 26 at most 9 pci-bridges, 28 pref32/pref64, 25 and 29
// the memory windows SeaBIOS gives the layout (validate/detail/layout_windows.hpp). Hotplug
// rules (4, 20-24) concern a running guest and are not checked here.
#ifndef PCIPLAN_VALIDATE_VALIDATE_HPP
#define PCIPLAN_VALIDATE_VALIDATE_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/detail/numbers.hpp>
#include <pciplan/kinds/controller_kinds.hpp>
#include <pciplan/kinds/device_kinds.hpp>
#include <pciplan/kinds/machine_dispatch.hpp>
#include <pciplan/kinds/machine_types.hpp>
#include <pciplan/topology/topology_view.hpp>
#include <pciplan/validate/detail/qemu_args.hpp>
#include <pciplan/validate/detail/qemu_models.hpp>
#include <pciplan/validate/detail/layout_state.hpp>
#include <pciplan/validate/detail/layout_windows.hpp>
#include <pciplan/validate/qemu_layout.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pciplan::inline v0 {

namespace detail {

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
  static constexpr int empty = free_devfn;
  static constexpr int built_in = built_in_devfn;
  using bus = layout_bus;
  using placed = layout_device;

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
    d.id = std::string(d.arg.value("id"));
    if (!d.id.empty()) {
      if (!ids_.insert(d.id).second) return refuse(0, i, "Duplicate ID '" + d.id + "' for device");
    }
    if (d.model.mmio) {  // a virtio-mmio device: on a virtio-mmio transport, never on PCI
      if (!d.arg.has("bus")) return;
      const std::string_view name = d.arg.value("bus");
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
    if (d.arg.has("bus")) {
      const std::string_view name = d.arg.value("bus");
      const auto found = find_bus(name);
      if (!found) return refuse(0, i, "Bus '" + std::string(name) + "' not found");
      b = *found;
    } else if (buses_.empty()) {
      return refuse(0, i, "No 'PCI' bus found for device '" + d.arg.driver + "'");
    }
    d.bus = b;
    // addr and multifunction
    if (d.arg.has("multifunction")) {
      const auto on = parse_switch(d.arg.value("multifunction"));
      if (!on) {
        return refuse(0, i, "Parameter 'multifunction' expects 'on' or 'off'");
      }
      d.multifunction = *on;
    }
    unsigned devfn = 0;
    if (d.arg.has("addr")) {
      const auto parsed = parse_devfn(d.arg.value("addr"));
      if (!parsed) {
        return refuse(1, i, "Property '" + d.arg.driver + ".addr' doesn't take value '" +
                                std::string(d.arg.value("addr")) + "'");
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
    const auto number = [&](std::string_view key) { return qemu_integer(d.arg.value(key)); };
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
      if (d.arg.has("numa_node")) {
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
      if (d.arg.has("pref32-reserve") && d.arg.has("pref64-reserve")) {
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
          const unsigned long nr = qemu_integer(d.arg.value("chassis_nr")).value_or(0);
          if (!chassis_nr.emplace(nr, i).second) {
            note(severity::warning, 13, i,
                 "chassis_nr " + std::to_string(nr) + " is also used by another pci-bridge: the guest's hotplug "
                 "slots of the two bridges get the same names");
          }
        }
        const bool hotplug_off = parse_switch(d.arg.value("hotplug")) == std::optional<bool>(false);
        const bool io_zero = d.arg.has("io-reserve") && qemu_integer(d.arg.value("io-reserve")) == 0ul;
        if ((dev == "pcie-root-port" || dev == "ioh3420" || dev == "xio3130-downstream") && !hotplug_off && !io_zero) {
          ++io_ports;
        }
      }
      // 14: an SHPC bridge's slot 0 is not a hotplug slot
      if (parent.kind != nullptr && parent.kind->shpc && parent.owner >= 0 && slot == 0) {
        const auto shpc = parse_switch(devices_[static_cast<std::size_t>(parent.owner)].arg.value("shpc"));
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
    if (buses_.empty()) return;
    for (finding& f : window_findings(machine_traits<M>::name, *buses_[0].kind, devices_, buses_, layout_)) {
      note(f.level, f.rule, f.device, std::move(f.message));
    }
  }

  /// 17: guest bus numbers as SeaBIOS gives them (pciplan::number_buses: depth first in
  /// devfn order, bus-reserve kept; each expander's root bus from its bus_nr) must stay
  /// inside each partition.
  void check_bus_numbers() {
    if (buses_.empty()) return;
    // node 0 is bus 0 (the main hierarchy); then one node per created bridge or expander.
    // Every expander hangs on node 0, so all of them are ordered by bus_nr together.
    std::vector<bus_node> nodes(1);
    nodes[0].root = true;
    std::vector<std::size_t> node_of(devices_.size(), no_position);     // by device
    std::vector<std::size_t> node_below(buses_.size(), no_position);    // by bus: the node providing it
    node_below[0] = 0;
    for (std::size_t i = 0; i != devices_.size(); ++i) {
      const placed& d = devices_[i];
      const controller_descriptor* c = d.model.controller;
      if (!d.ok || c == nullptr) continue;
      bus_node x{};
      x.devfn = d.devfn;
      if (c->role == controller_role::expander) {
        x.parent = 0;
        x.expander = true;
        x.first_bus = static_cast<unsigned>(qemu_integer(d.arg.value("bus_nr")).value_or(0));
        x.bus_numbers = c->bus_numbers;  // a pxb: its root bus and its internal pci-bridge's
      } else {
        x.parent = node_below[d.bus];  // none on a further PHB's bus: not numbered, as SeaBIOS leaves it
        x.reserve = static_cast<unsigned>(std::min<std::uint64_t>(qemu_integer(d.arg.value("bus-reserve")).value_or(0), 1000));
      }
      node_of[i] = nodes.size();
      if (d.child) node_below[*d.child] = nodes.size();
      nodes.push_back(x);
    }
    // A reservation ends at bus 1000 at the latest (a guard against wrapping: firmware has
    // 256 numbers). A bridge's own number depends only on the nodes before it, so the caps
    // settle after one renumbering per bridge whose reservation reaches that far (usually none).
    std::vector<unsigned> asked(nodes.size());
    for (std::size_t k = 0; k != nodes.size(); ++k) asked[k] = nodes[k].reserve;
    bus_numbering numbers = number_buses(nodes);
    for (bool changed = true; changed;) {
      changed = false;
      for (std::size_t k = 0; k != nodes.size(); ++k) {
        const unsigned cap = numbers.bus[k] >= 1000 ? 0 : std::min(asked[k], 1000 - numbers.bus[k]);
        changed = changed || cap != nodes[k].reserve;
        nodes[k].reserve = cap;
      }
      if (changed) numbers = number_buses(nodes);
    }
    const unsigned main_last = numbers.last[0];
    for (auto at = pxb_bus_nr_.begin(); at != pxb_bus_nr_.end(); ++at) {
      const auto [nr, dev] = *at;
      const auto after = std::next(at);
      const unsigned long limit = after != pxb_bus_nr_.end() ? after->first : 256;
      if (at == pxb_bus_nr_.begin() && main_last >= nr) {
        note(severity::warning, 17, dev,
             "bus_nr " + std::to_string(nr) + " is inside the main hierarchy's bus numbers (0-" +
                 std::to_string(main_last) + "): SeaBIOS leaves its bridges unprogrammed; use a bus_nr above " +
                 std::to_string(main_last));
      }
      const unsigned last = numbers.last[node_of[dev]];
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
/// (RULES.md Q0–Q36); see the top of this header for the list.
template <MachineType M>
[[nodiscard]] validation_report validate(const qemu_layout& layout) {
  return detail::layout_validator<M>(layout).run();
}

}  // namespace pciplan::inline v0

// validate<M> (see PCIPLAN_DETAIL_PLAN_INSTANCES in planner/planner.hpp).
#define PCIPLAN_DETAIL_VALIDATE_INSTANCES(EXTERN, M) \
  EXTERN template pciplan::validation_report pciplan::validate<M>(const pciplan::qemu_layout&);
#ifdef PCIPLAN_COMPILED
PCIPLAN_DETAIL_EXTERN_EACH_MACHINE(PCIPLAN_DETAIL_VALIDATE_INSTANCES)
#endif

#endif  // PCIPLAN_VALIDATE_VALIDATE_HPP
