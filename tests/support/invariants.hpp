// Invariants every plan must satisfy, checked independently of the planner's own code
// paths (no bus table): used by the property tests over random device sets.
#ifndef PCIPLAN_TESTS_INVARIANTS_HPP
#define PCIPLAN_TESTS_INVARIANTS_HPP

#include <pciplan/pciplan.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

namespace invariants {

using namespace pciplan;

inline std::string where(const controller_address& a) {
  std::ostringstream os;
  os << a;
  return os.str();
}

/// The bus flags a controller's bus offers, as the planner must have seen them.
inline connect_set bus_flags_of(const controller& c) {
  connect_set f = c.kind->bus_flags();
  if (c.hotplug == toggle::off) f = f - connect::hotpluggable;
  return f;
}

template <MachineType M>
struct checker {
  const topology_plan& plan;
  std::span<const request> requests;
  bool libvirt_policy = false;
  unsigned spare_ports = 0;
  std::vector<std::string> problems;

  void fail(const std::string& what) { problems.push_back(what); }

  const controller* ctl(controller_index i) const { return plan.find(i); }

  /// The expander (or PHB) with a NUMA node that `index` hangs below, or nullptr.
  const controller* numa_ancestor(controller_index index) const {
    for (int hops = 0; hops != 70000; ++hops) {
      const controller* c = ctl(index);
      if (c == nullptr) return nullptr;
      if (c->numa_node >= 0) return c;
      if (c->kind->is_root() || !c->has_address) return nullptr;
      index = c->libvirt_address.bus;
    }
    return nullptr;
  }

  void run() {
    // controllers: unique, sorted indexes; roots without address; others plug where they may
    std::set<unsigned> indexes;
    for (const controller& c : plan.controllers) {
      if (!indexes.insert(c.index.value).second) fail("controller index used twice: " + std::to_string(c.index.value));
      if (c.kind == nullptr) {
        fail("controller without kind");
        continue;
      }
      if (c.kind->is_root()) {
        if (c.has_address) fail("root controller with an address");
        continue;
      }
      if (!c.has_address) {
        fail("controller " + std::to_string(c.index.value) + " has no address");
        continue;
      }
      const controller* parent = ctl(c.libvirt_address.bus);
      if (parent == nullptr) {
        fail("controller " + std::to_string(c.index.value) + " sits on a missing bus");
        continue;
      }
      const bool root_bus = c.libvirt_address.bus.value == 0;
      if (!fits(c.kind->connects_as, bus_flags_of(*parent), root_bus, address_origin::given)) {
        fail("controller " + std::to_string(c.index.value) + " (" + std::string(c.kind->model) + ") cannot plug into " +
             std::string(parent->kind->model));
      }
      if (!parent->kind->slots.contains(c.libvirt_address.slot)) fail("controller outside its bus's slots: " + where(c.libvirt_address));
      if (libvirt_policy && c.index.value > 255) fail("libvirt controller index above 255");
    }
    // addresses: every PCI placement and controller address used once, on a real slot
    std::map<std::tuple<unsigned, unsigned, unsigned>, std::string> used;
    const auto take = [&](const controller_address& a, const std::string& who) {
      const auto key = std::make_tuple(unsigned{a.bus.value}, unsigned{a.slot}, unsigned{a.function});
      const auto [it, fresh] = used.emplace(key, who);
      if (!fresh) fail("address " + where(a) + " used by " + it->second + " and " + who);
    };
    for (const controller& c : plan.controllers) {
      if (c.has_address) take(c.libvirt_address, "controller " + std::to_string(c.index.value));
    }
    if (plan.placements.size() != requests.size()) fail("not one placement per request");
    std::map<unsigned, std::vector<const placement*>> mf_groups;
    std::map<unsigned, std::vector<const placement*>> iso_groups;
    std::set<unsigned> mmio;
    for (const placement& p : plan.placements) {
      const request& r = requests[p.request];
      if (p.name != r.name) fail("placement name differs from its request");
      if (p.kind == placement_kind::mmio) {
        if (!mmio.insert(p.transport).second) fail("virtio-mmio transport used twice");
        if (p.transport >= machine_traits<M>::virtio_mmio_transports) fail("virtio-mmio transport out of range");
        // only a libvirt answer reproduced as such puts a device without a variant there
        if (r.device.mmio_device.empty() && plan.qemu_can_build()) {
          fail(std::string(r.name) + " is on virtio-mmio without a virtio-mmio variant, and no unbuildable warning says so");
        }
        continue;
      }
      if (p.kind == placement_kind::ccw) continue;
      const std::string who(r.name);
      take(p.libvirt_address, who);
      // a fixed address, bus or domain holds
      if (r.fixed == address_kind::full && p.libvirt_address != r.libvirt_address) fail(who + " is not at its given address");
      if (r.fixed == address_kind::bus && p.libvirt_address.bus != r.libvirt_address.bus) fail(who + " is not on its given bus");
      if (r.fixed == address_kind::domain && p.guest_address.domain != r.libvirt_address.domain) {
        fail(who + " is not in its given PCI domain");
      }
      const controller* bus = ctl(p.libvirt_address.bus);
      if (bus == nullptr) {
        fail(who + " sits on a missing bus");
        continue;
      }
      if (!bus->kind->slots.contains(p.libvirt_address.slot)) fail(who + " outside its bus's slots");
      // the device's kind fits the bus (relaxed rules: given addresses may mix PCI and PCIe)
      connect_set need = connect_for(r.device.link, r.device.integrated, has_pcie_root_v<M>);
      if (r.link == link_need::pci) need = connect_for(link_kind::conventional, r.device.integrated, has_pcie_root_v<M>);
      const bool root_bus = p.libvirt_address.bus.value == 0;
      const bool planned = r.fixed != address_kind::full && p.why != rule::chipset_slot;
      // pciplan may put a device that takes either link (virtio) on a conventional PCI bus
      const bool either = !libvirt_policy && has_pcie_root_v<M> &&
                          (r.link == link_need::either ||
                           (r.link == link_need::catalogue && r.device.link == link_kind::virtio));
      const connect_set as_pci = connect_for(link_kind::conventional, r.device.integrated, has_pcie_root_v<M>);
      const bool grouped = r.multifunction != 0 || r.isolation != 0;  // a group's slot is a compromise: relaxed rules
      if (planned && !libvirt_policy && !grouped && p.why != rule::integrated_endpoint &&
          !fits(need, bus_flags_of(*bus), root_bus, address_origin::planned) &&
          !(either && fits(as_pci, bus_flags_of(*bus), root_bus, address_origin::planned))) {
        fail(who + " (" + std::string(r.device.qemu_device) + (r.multifunction ? ", multifunction" : "") +
             (r.hotplug_need == hotplug::not_needed ? ", no hotplug" : "") + ", " + std::string(name_of(p.why)) +
             ") is on a bus that does not take it automatically (" + std::string(bus->kind->model) + ")");
      }
      if (!fits(need - connect::auto_assign, bus_flags_of(*bus), root_bus, address_origin::given)) {
        fail(who + " is on a bus that does not take it (" + std::string(bus->kind->model) + ")");
      }
      // pciplan: hot-pluggable devices on hot-pluggable buses, alone in their slot
      if (!libvirt_policy && planned && r.hotplug_need == hotplug::required && !r.device.integrated &&
          r.multifunction == 0 && r.isolation == 0) {
        if (!bus_flags_of(*bus).intersects(connect::hotpluggable)) fail(who + " needs hotplug but its bus has none");
        for (const placement& q : plan.placements) {
          if (&q != &p && q.kind == placement_kind::pci && q.libvirt_address.bus == p.libvirt_address.bus &&
              q.libvirt_address.slot == p.libvirt_address.slot) {
            fail(who + " needs hotplug but shares its slot with " + std::string(q.name));
          }
        }
      }
      // NUMA: below an expander (or PHB) bound to the node
      if (r.numa >= 0) {
        const controller* x = numa_ancestor(p.libvirt_address.bus);
        if (x == nullptr || x->numa_node != r.numa) {
          fail(who + " is not below its NUMA node's expander (" + where(p.libvirt_address) + ", " +
               std::string(name_of(p.why)) + ")");
        }
      } else if (!libvirt_policy && r.fixed == address_kind::none) {
        if (numa_ancestor(p.libvirt_address.bus) != nullptr) fail(who + " has no NUMA node but sits below one");
      }
      if (r.multifunction != 0) {
        mf_groups[r.multifunction].push_back(&p);
        if (p.libvirt_address.function != r.function) {
          fail(who + " is not at its multifunction function (" + where(p.libvirt_address) + ", " +
               std::string(name_of(p.why)) + ", " + std::string(r.device.qemu_device) + ")");
        }
      }
      if (r.isolation != 0 && !libvirt_policy) iso_groups[r.isolation].push_back(&p);
      // guest address agrees with the controller's guest bus
      if (p.guest_address.bus != bus->guest_bus || p.guest_address.domain != bus->domain || p.guest_address.slot != p.libvirt_address.slot ||
          p.guest_address.function != p.libvirt_address.function) {
        fail(who + " has a guest address that disagrees with its bus");
      }
    }
    for (const auto& [id, members] : mf_groups) {
      for (const placement* m : members) {
        if (m->libvirt_address.bus != members.front()->libvirt_address.bus ||
            m->libvirt_address.slot != members.front()->libvirt_address.slot) {
          fail("multifunction group " + std::to_string(id) + " is split over slots: " + std::string(m->name) + " at " +
               where(m->libvirt_address) + " (" + std::string(name_of(m->why)) + "), " +
               std::string(members.front()->name) + " at " + where(members.front()->libvirt_address) + " (" +
               std::string(name_of(members.front()->why)) + ")");
        }
      }
    }
    for (const auto& [id, members] : iso_groups) {
      const controller_index bus = members.front()->libvirt_address.bus;
      for (const placement* m : members) {
        if (m->libvirt_address.bus != bus) fail("isolation group " + std::to_string(id) + " is split over buses");
      }
      for (const placement& q : plan.placements) {
        const request& r = requests[q.request];
        if (q.kind == placement_kind::pci && q.libvirt_address.bus == bus && r.isolation != id && bus.value != 0 &&
            has_pcie_root_v<M>) {
          fail("isolation group " + std::to_string(id) + " shares its port with " + std::string(q.name));
        }
      }
    }
    multifunction_marks();
    bus_numbers();
    numbering();
    spares();
  }

  /// Function 0 of a slot is marked multifunction exactly when other functions are used.
  void multifunction_marks() {
    std::map<std::pair<unsigned, unsigned>, int> others;
    for (const placement& p : plan.placements) {
      if (p.kind == placement_kind::pci && p.libvirt_address.function != 0) {
        ++others[{p.libvirt_address.bus.value, p.libvirt_address.slot}];
      }
    }
    for (const controller& c : plan.controllers) {
      if (c.has_address && c.libvirt_address.function != 0) ++others[{c.libvirt_address.bus.value, c.libvirt_address.slot}];
    }
    for (const placement& p : plan.placements) {
      if (p.kind != placement_kind::pci || p.libvirt_address.function != 0) continue;
      const bool shared = others.count({p.libvirt_address.bus.value, p.libvirt_address.slot}) != 0;
      if (shared != p.multifunction) fail(std::string(p.name) + " has a wrong multifunction mark");
    }
  }

  /// Guest bus numbers: unique per domain, at most 255, each expander's subtree inside
  /// its busNr range, the main hierarchy below every busNr.
  void bus_numbers() {
    // the stored numbers are firmware's, as the one numbering (topology_view) gives them
    const bus_numbering firmware = topology_view(plan.controllers).number_buses();
    bool warned = false;
    for (const warning& w : plan.warnings) warned = warned || w.code == warning_code::bus_numbers;
    if (firmware.overflow != warned) fail("the bus_numbers warning disagrees with firmware's numbering");
    for (std::size_t i = 0; i != plan.controllers.size(); ++i) {
      const controller& c = plan.controllers[i];
      if (firmware.numbered[i] == 0) {
        fail("controller " + std::to_string(c.index.value) + " is not reached from a root bus");
        continue;
      }
      if (std::min(firmware.bus[i], 255u) != c.guest_bus.value || firmware.domain[i] != c.domain) {
        fail("controller " + std::to_string(c.index.value) + " has guest bus " + std::to_string(c.guest_bus.value) +
             " in domain " + std::to_string(c.domain) + ", firmware numbers it " + std::to_string(firmware.bus[i]) +
             " in domain " + std::to_string(firmware.domain[i]));
      }
    }
    for (const warning& w : plan.warnings) {
      if (w.code == warning_code::bus_numbers) {
        if (!libvirt_policy) fail("the pciplan policy let bus numbers overflow an expander's range");
        return;  // libvirt's own plan may not fit (it does not check, RULES.md L4.6); the plan says so
      }
    }
    std::set<std::pair<unsigned, unsigned>> seen;
    std::vector<const controller*> expanders;
    for (const controller& c : plan.controllers) {
      if (c.kind->role == controller_role::expander) expanders.push_back(&c);
      const unsigned own = c.guest_bus.value;
      if (c.kind->role == controller_role::expander && c.bus_nr < 1) fail("expander without busNr");
      if (!seen.insert({c.domain, own}).second) {
        fail("guest bus " + std::to_string(own) + " given twice in domain " + std::to_string(c.domain));
      }
    }
    std::sort(expanders.begin(), expanders.end(),
              [](const controller* a, const controller* b) { return a->bus_nr < b->bus_nr; });
    for (const controller& c : plan.controllers) {
      if (c.kind->is_root() || c.kind->role == controller_role::expander || c.domain != 0) continue;
      // which expander is it below?
      const controller* x = nullptr;
      controller_index at = c.libvirt_address.bus;
      for (int hops = 0; hops != 70000; ++hops) {
        const controller* up = ctl(at);
        if (up == nullptr || up->kind->is_root()) break;
        if (up->kind->role == controller_role::expander) {
          x = up;
          break;
        }
        at = up->libvirt_address.bus;
      }
      const int bus = c.guest_bus.value;
      if (x == nullptr) {
        if (!expanders.empty() && bus >= expanders.front()->bus_nr) {
          fail("main-hierarchy bus " + std::to_string(bus) + " reaches into an expander's busNr range");
        }
      } else {
        int end = 256;
        for (const controller* y : expanders) {
          if (y->bus_nr > x->bus_nr) {
            end = y->bus_nr;
            break;
          }
        }
        if (bus < x->bus_nr || bus >= end) fail("bus " + std::to_string(bus) + " outside its expander's busNr range");
      }
    }
  }

  /// chassis unique among ports; chassisNr in range; port = libvirt's formula.
  void numbering() {
    std::set<int> chassis;
    for (const controller& c : plan.controllers) {
      if (c.kind->numbered_by.has(numbering::chassis)) {
        if (c.chassis < 0 || c.chassis > 255) fail("port without a valid chassis");
        if (c.index.value <= 255 && !chassis.insert(c.chassis).second) fail("chassis used twice");
      }
      if (c.kind->numbered_by.has(numbering::chassis_nr) && (c.chassis_nr < 1 || c.chassis_nr > 255)) {
        fail("pci-bridge chassisNr out of range");
      }
      if (c.kind == &descriptor_of<pcie_root_port> && c.added && c.port != c.libvirt_address.slot * 8 + c.libvirt_address.function) {
        fail("root port with port != slot*8+function");
      }
      if (c.model_name.empty() && !c.kind->is_root()) fail("controller without a model name");
    }
  }

  /// pciplan on PCIe machines: at least `spare_ports` empty hot-pluggable ports (unless
  /// the plan warns that they did not fit).
  void spares() {
    if (libvirt_policy || spare_ports == 0 || !has_pcie_root_v<M>) return;
    for (const warning& w : plan.warnings) {
      if (w.code == warning_code::spares_short) return;
    }
    unsigned empty = 0;
    for (const controller& c : plan.controllers) {
      if (c.kind->role != controller_role::port || c.hotplug == toggle::off || numa_ancestor(c.index) != nullptr) {
        continue;
      }
      bool occupied = false;
      for (const placement& p : plan.placements) occupied = occupied || (p.kind == placement_kind::pci && p.libvirt_address.bus == c.index);
      for (const controller& d : plan.controllers) occupied = occupied || (d.has_address && d.libvirt_address.bus == c.index);
      if (!occupied) ++empty;
    }
    if (empty < spare_ports) fail("fewer empty hot-pluggable ports than spare_ports");
  }
};

template <MachineType M>
std::vector<std::string> check(const topology_plan& plan, std::span<const request> requests, bool libvirt_policy,
                               unsigned spare_ports) {
  checker<M> c{plan, requests, libvirt_policy, spare_ports, {}};
  c.run();
  return c.problems;
}

}  // namespace invariants

#endif
