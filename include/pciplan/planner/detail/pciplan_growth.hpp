// pciplan — planner/detail/pciplan_growth.hpp: how the pciplan policy grows a topology —
// the bus table it starts from (NUMA zones, PCI domains, bus numbers per domain), given
// controllers without an address joining it, and every controller it adds: hot-pluggable
// PCIe ports (root ports packed 8 per root-bus slot, then switches), pci-bridges and
// pcie-to-pci-bridges for conventional PCI slots, pseries PHBs, an expander bus (or PHB)
// per NUMA node, and the packed multifunction slots of devices that need no hotplug.
#ifndef PCIPLAN_PLANNER_DETAIL_PCIPLAN_GROWTH_HPP
#define PCIPLAN_PLANNER_DETAIL_PCIPLAN_GROWTH_HPP

#include <pciplan/detail/bits.hpp>
#include <pciplan/detail/config.hpp>
#include <pciplan/detail/vectors.hpp>
#include <pciplan/kinds/controller_kinds.hpp>
#include <pciplan/kinds/machine_types.hpp>
#include <pciplan/planner/detail/bus_table.hpp>
#include <pciplan/planner/detail/planning_state.hpp>
#include <pciplan/topology/controller.hpp>
#include <pciplan/vocabulary/connect.hpp>
#include <pciplan/vocabulary/error.hpp>

#include <boost/hana/contains.hpp>
#include <boost/hana/type.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace pciplan::inline v0::detail {

/// The kinds of packed multifunction slot a zone keeps open.
enum class pack_kind : unsigned { root, pci, port };

/// The topology the pciplan policy grows: its bus table and what it knows of zones and
/// domains. Controllers it adds go through `add` (or `add_phb`), which keeps all of it
/// and the state's controller list and lookup in step.
template <MachineType M, class Policy>
struct pciplan_growth {
  constexpr explicit pciplan_growth(planning<M>& p) : state(p) {}

  struct zone_info {
    int numa = -1;
    unsigned host = 0;  // the bus that takes its ports or devices: the root, an expander, a PHB
  };

  planning<M>& state;
  bus_table table;
  std::vector<zone_info> zones;         // NUMA zones; the main zone (-1) is hosted by bus 0
  std::vector<std::uint16_t> domains;   // by controller index: its guest PCI domain
  std::vector<unsigned> domain_buses;   // by domain: bus numbers used
  unsigned next_index = 1;
  unsigned phbs = 0;                    // pseries PHBs (target index limit 31)

  struct open_pack {
    bool open = false;
    unsigned bus = 0;
    unsigned slot = 0;
  };
  std::vector<std::array<open_pack, 3>> packs;  // by zone + 1

  static constexpr bool pcie = has_pcie_root_v<M>;
  static constexpr bool pseries = machine_traits<M>::multiple_roots;
  static constexpr connect_set port_need = connect::pcie_endpoint | connect::auto_assign | connect::hotpluggable;

  // ---- the table ------------------------------------------------------------------

  [[nodiscard]] constexpr std::uint16_t domain_of(unsigned index) const noexcept {
    return index < domains.size() ? domains[index] : 0;
  }
  constexpr void set_domain(unsigned index, std::uint16_t domain) {
    if (index == domains.size()) {  // the usual case: the next index
      domains.push_back(domain);
    } else {
      grow_to(domains, index + 1u, std::uint16_t{0});
      domains[index] = domain;
    }
  }

  /// Builds the bus table from the given controllers: zones from NUMA-bound expanders
  /// and PHBs, domains from PHBs, bus numbers counted per domain. Hot-pluggable buses are
  /// the ones QEMU hot-plugs into (bus_hotpluggable: never a pxb, so hot-pluggable
  /// devices of a NUMA node on pc go behind a pci-bridge on it).
  constexpr bool build_table() {
    // room for the usual case (a controller per device, the spares) without regrowing
    const std::size_t more = std::min<std::size_t>(state.requests.size(), 512) + state.options.spare_ports + 8;
    state.reserve_controllers(more);
    table.buses.reserve(state.controllers.size() + more);
    const auto& cs = state.controllers;
    next_index = cs.back().index.value + 1u;
    domains.reserve(next_index + more);
    refill(domains, next_index, std::uint16_t{0});
    std::vector<int> zone_of = filled(next_index, -1);
    // parents before children: resolve domains and zones by walking up (addresses may
    // name larger indexes, so resolve lazily with a bounded walk)
    for (const controller& c : cs) {
      if (c.kind->is_root()) {
        if (pseries) {
          domains[c.index.value] = static_cast<std::uint16_t>(phbs++);
          if (c.numa_node >= 0) {
            zones.push_back(zone_info{c.numa_node, c.index.value});
            zone_of[c.index.value] = static_cast<int>(zones.size() - 1);
          }
        }
        continue;
      }
      if (c.kind->role == controller_role::expander && c.numa_node >= 0) {
        zones.push_back(zone_info{c.numa_node, c.index.value});
        zone_of[c.index.value] = static_cast<int>(zones.size() - 1);
      }
    }
    for (const controller& c : cs) {
      // walk to the root: the first zone met wins, the root's domain is the domain
      unsigned at = c.index.value;
      int zone = zone_of[at];
      for (unsigned hops = 0; hops != cs.size() + 1; ++hops) {
        const controller* x = state.find(controller_index{static_cast<std::uint16_t>(at)});
        if (x == nullptr || x->kind->is_root() || !x->has_address) break;
        at = x->libvirt_address.bus.value;
        if (zone < 0 && at < zone_of.size()) zone = zone_of[at];
      }
      if (at < domains.size()) domains[c.index.value] = domains[at];
      zone_of[c.index.value] = zone;
    }
    refill(domain_buses, pseries ? 32u : 1u, 0u);
    for (const controller& c : cs) {
      if (!c.has_address && !c.kind->is_root()) continue;  // counted once placed
      domain_buses[domain_of(c.index.value)] += c.kind->bus_numbers;
      const bool locked = pseries && c.index.value == 0;
      table.define(c.index.value, *c.kind, bus_hotpluggable(*c.kind, c.hotplug), zone_of[c.index.value], 0, locked);
    }
    for (const controller& c : cs) {
      if (!c.has_address && !c.kind->is_root()) {
        table.define(c.index.value, *c.kind, bus_hotpluggable(*c.kind, c.hotplug), zone_of[c.index.value], 0, false);
      }
    }
    refill(packs, zones.size() + 1, std::array<open_pack, 3>{});
    return true;
  }

  /// Given controllers without an address take the lowest slot that takes them, on a
  /// bus already connected to a root: never on a bus below themselves (a switch upstream
  /// port given with its downstream ports would otherwise sit on one of them). They are
  /// placed in order, in passes, each pass placing those whose bus is now connected; when
  /// a pass places none, the first one a PCIe port takes gets a new port, as a device
  /// would.
  constexpr bool place_given_controllers() {
    constexpr unsigned unattached = ~0u;  // an isolation group no search asks for
    std::vector<controller>& cs = state.controllers;
    std::size_t left = 0;
    for (const controller& c : cs) {
      if (c.kind->is_root() || c.has_address) continue;
      table.regroup(c.index.value, unattached);
      ++left;
    }
    const auto settle = [&](std::size_t k, slot_choice s) {
      controller& c = cs[k];
      table.reserve(s.bus, s.slot, s.function, state.need_of(c), 0, false);
      c.has_address = true;
      c.libvirt_address = controller_address(0, s.bus, s.slot, s.function);
      domains[c.index.value] = domain_of(s.bus);
      domain_buses[domain_of(s.bus)] += c.kind->bus_numbers;
      table.regroup(c.index.value, 0);
      --left;
    };
    const auto waiting = [&](std::size_t k) { return !cs[k].kind->is_root() && !cs[k].has_address; };
    while (left != 0) {
      bool placed = false;
      for (std::size_t k = 0; k != cs.size(); ++k) {
        if (!waiting(k)) continue;
        const slot_choice s = table.find(state.need_of(cs[k]));
        if (!s.found) continue;
        settle(k, s);
        placed = true;
      }
      if (placed) continue;
      std::size_t first = cs.size();
      for (std::size_t k = 0; k != cs.size() && first == cs.size(); ++k) {
        if (waiting(k) && has_pcie_root_v<M> && descriptor_of<pcie_root_port>.accepts.contains(state.need_of(cs[k]))) {
          first = k;
        }
      }
      if (first == cs.size()) {
        for (std::size_t k = 0; k != cs.size(); ++k) {
          if (waiting(k)) return state.fail(errc::no_free_slot, cs[k], "finds no free slot that takes it");
        }
      }
      const controller who = cs[first];  // adding a port may move the vector
      const long port = new_port(-1, who, 0);
      if (port < 0) return false;
      settle(first, slot_choice{true, static_cast<unsigned>(port), 0, 0});
    }
    return true;
  }

  // ---- adding controllers ---------------------------------------------------------

  [[nodiscard]] constexpr bool budget(std::uint16_t domain, unsigned buses) const noexcept {
    return domain_buses[domain] + buses <= 256;
  }

  /// Adds a controller of `kind` at `at`; its bus joins `zone`. Returns its index, or
  /// -1 after recording the error (for `who`).
  constexpr long add(const controller_descriptor& kind, slot_choice at, int zone, const subject& who,
                     unsigned group = 0) {
    if (next_index > Policy::max_index) {
      state.fail(errc::controller_index_exhausted, who, "needs a new controller, and every controller index is in use");
      return -1;
    }
    const std::uint16_t domain = domain_of(at.bus);
    if (!budget(domain, kind.bus_numbers)) {
      state.fail(errc::bus_numbers_exhausted, who,
                 "needs a new bus, and all 256 bus numbers of its PCI domain are in use");
      return -1;
    }
    const auto index = static_cast<std::uint16_t>(next_index++);
    {
      controller& c = state.add_controller(controller_index{index});
      c.kind = &kind;
      c.has_address = true;
      c.libvirt_address.bus = controller_index{static_cast<std::uint16_t>(at.bus)};  // field by field: see fill_guest_addresses
      c.libvirt_address.slot = static_cast<std::uint8_t>(at.slot);
      c.libvirt_address.function = static_cast<std::uint8_t>(at.function);
      c.added = true;
    }
    table.reserve(at.bus, at.slot, at.function, kind.connects_as, table.buses[at.bus].group, false);
    table.define(index, kind, bus_hotpluggable(kind, toggle::on), zone, group);
    set_domain(index, domain);
    domain_buses[domain] += kind.bus_numbers;
    return index;
  }

  /// A new pseries PHB: a root bus in a PCI domain of its own.
  constexpr long add_phb(int numa, const subject& who) {
    if (phbs >= 31) {
      state.fail(errc::no_free_slot, who, "needs a new PHB, and the machine already has 31");
      return -1;
    }
    if (next_index > Policy::max_index) {
      state.fail(errc::controller_index_exhausted, who, "needs a new controller, and every controller index is in use");
      return -1;
    }
    const auto index = static_cast<std::uint16_t>(next_index++);
    {
      controller& c = state.add_controller(controller_index{index});
      c.kind = &descriptor_of<spapr_pci_host_bridge>;
      c.added = true;
      c.numa_node = numa;
    }
    const std::uint16_t domain = static_cast<std::uint16_t>(phbs++);
    set_domain(index, domain);
    domain_buses[domain] = 1;
    int zone = -1;
    if (numa >= 0) {
      zones.push_back(zone_info{numa, index});
      packs.push_back({});
      zone = static_cast<int>(zones.size() - 1);
    }
    table.define(index, descriptor_of<spapr_pci_host_bridge>, true, zone);
    return index;
  }

  [[nodiscard]] constexpr unsigned host_of(int zone) const noexcept {
    return zone < 0 ? 0u : zones[static_cast<std::size_t>(zone)].host;
  }

  /// The zone of NUMA node `n`, adding its expander (or PHB) when there is none yet.
  constexpr int zone_for(int numa, const subject& who) {
    if (numa < 0) return -1;
    for (std::size_t z = 0; z != zones.size(); ++z) {
      if (zones[z].numa == numa) return static_cast<int>(z);
    }
    if constexpr (pseries) {
      const long phb = add_phb(numa, who);
      return phb < 0 ? -2 : static_cast<int>(zones.size() - 1);
    } else {
      const controller_descriptor* kind = nullptr;
      if constexpr (decltype(boost::hana::contains(machine_traits<M>::expanders,
                                                   boost::hana::type_c<pcie_expander_bus>))::value) {
        kind = &descriptor_of<pcie_expander_bus>;
      } else if constexpr (decltype(boost::hana::contains(machine_traits<M>::expanders,
                                                          boost::hana::type_c<pci_expander_bus>))::value) {
        kind = &descriptor_of<pci_expander_bus>;
      }
      if (kind == nullptr) {
        state.fail(errc::numa_unsupported, who,
                   "belongs to a NUMA node, but the machine type has no expander bus to bind a node to");
        return -2;
      }
      const slot_choice s = table.choose_slot(0, false, -1);
      if (!s.found) {
        state.fail(errc::no_free_slot, who, "needs an expander bus for its NUMA node, and the root bus has no free slot");
        return -2;
      }
      const int zone = static_cast<int>(zones.size());
      zones.push_back(zone_info{numa, 0});
      packs.push_back({});
      const long x = add(*kind, slot_choice{true, 0, s.slot, 0}, zone, who);
      if (x < 0) return -2;
      zones.back().host = static_cast<unsigned>(x);
      state.controllers.back().numa_node = numa;
      return zone;
    }
  }

  // ---- (B) hot-pluggable PCIe ports -------------------------------------------------

  /// Root-port functions left on bus `host`: 8 per empty slot, plus the free functions
  /// of slots already packed with root ports.
  [[nodiscard]] constexpr unsigned port_room(unsigned host) const noexcept {
    const bus_state& b = table.buses[host];
    if ((b.empty & (b.empty - 1)) != 0) return 16;  // two empty slots: plenty (the callers ask for 0, 1 or more)
    unsigned n = b.empty != 0 ? 8u : 0u;  // one empty slot at most here
    for (std::uint32_t m = b.aggregate_room; m != 0; m &= m - 1) {
      n += 8u - bit_count(b.used[static_cast<unsigned>(std::countr_zero(m))]);
    }
    return n;
  }

  /// An empty hot-pluggable PCIe port in `zone`: an existing one, else a new one.
  constexpr long take_port(int zone, const subject& who) {
    const slot_choice s = table.find(port_need, 0, -1, zone);
    if (s.found) return s.bus;
    return new_port(zone, who, 0);
  }

  /// Adds a port: a root port while more than one root-port function is left; at the
  /// last one, a root port with a switch below it; then downstream ports of switches
  /// (the last slot of a switch carrying the next switch).
  constexpr long new_port(int zone, const subject& who, unsigned group) {
    const unsigned host = host_of(zone);
    const std::uint16_t domain = domain_of(host);
    const unsigned room = port_room(host);
    if (room >= 2 || (room == 1 && !budget(domain, 3))) {
      const slot_choice s = table.choose_slot(host, true, -1);
      return add(descriptor_of<pcie_root_port>, slot_choice{true, host, s.slot, s.function}, zone, who, group);
    }
    if (room == 1) {
      const slot_choice s = table.choose_slot(host, true, -1);
      const long rp = add(descriptor_of<pcie_root_port>, slot_choice{true, host, s.slot, s.function}, zone, who);
      if (rp < 0) return -1;
      return add_switch(static_cast<unsigned>(rp), zone, who, group);
    }
    const slot_choice up = table.find(connect::pcie_switch_downstream_port, 0, -1, zone);
    if (!up.found) {
      if (!budget(domain, 1)) {
        state.fail(errc::bus_numbers_exhausted, who,
                   "needs a hot-pluggable PCIe port; the root bus has no free slot and all 256 bus numbers are in use");
      } else {
        state.fail(errc::no_free_slot, who,
                   "needs a hot-pluggable PCIe port; the root bus has no free slot and every switch is full");
      }
      return -1;
    }
    const slot_choice at{true, up.bus, up.slot, 0};
    if (bit_count(table.buses[up.bus].empty) == 1 && budget(domain, 3)) {
      const long dp = add(descriptor_of<pcie_switch_downstream_port>, at, zone, who);
      if (dp < 0) return -1;
      return add_switch(static_cast<unsigned>(dp), zone, who, group);
    }
    return add(descriptor_of<pcie_switch_downstream_port>, at, zone, who, group);
  }

  /// A switch below port `port`: its upstream port and a first downstream port.
  constexpr long add_switch(unsigned port, int zone, const subject& who, unsigned group) {
    const long up = add(descriptor_of<pcie_switch_upstream_port>, slot_choice{true, port, 0, 0}, zone, who);
    if (up < 0) return -1;
    return add(descriptor_of<pcie_switch_downstream_port>, slot_choice{true, static_cast<unsigned>(up), 0, 0}, zone,
               who, group);
  }

  // ---- (A) conventional PCI slots -----------------------------------------------------

  /// An empty slot on a conventional PCI bus in `zone` (hot-pluggable when asked). The
  /// last free slot where a bridge could go gets a pci-bridge first, so the topology
  /// can always grow.
  constexpr slot_choice take_pci_slot(int zone, bool hotplug, const subject& who) {
    const connect_set need = connect::pci_endpoint | connect::auto_assign |
                             (hotplug ? connect::hotpluggable : connect_set{});
    slot_choice s = table.find(need, 0, -1, zone);
    if (s.found) {
      const bool bridge_here = table.buses[s.bus].flags.intersects(connect::pci_bridge);
      if (bridge_here && table.free_slots(connect::pci_bridge, zone) == 1 && budget(domain_of(s.bus), 1) &&
          next_index <= Policy::max_index) {
        const long br = add(descriptor_of<pci_bridge>, slot_choice{true, s.bus, s.slot, 0}, zone, who);
        if (br < 0) return {};
        return table.choose_slot(static_cast<std::size_t>(br), false, -1);
      }
      return s;
    }
    // grow: a bridge where one fits, else a new way in
    const slot_choice b = table.find(connect::pci_bridge, 0, -1, zone);
    if (b.found && budget(domain_of(b.bus), 1)) {
      const long br = add(descriptor_of<pci_bridge>, slot_choice{true, b.bus, b.slot, 0}, zone, who);
      if (br < 0) return {};
      return table.choose_slot(static_cast<std::size_t>(br), false, -1);
    }
    if constexpr (pcie) {
      const long port = take_port(zone, who);
      if (port < 0) return {};
      const long br = add(descriptor_of<pcie_to_pci_bridge>, slot_choice{true, static_cast<unsigned>(port), 0, 0},
                          zone, who);
      if (br < 0) return {};
      return table.choose_slot(static_cast<std::size_t>(br), false, -1);
    } else if constexpr (pseries) {
      if (zone < 0) {
        const long phb = add_phb(-1, who);
        if (phb < 0) return {};
        return table.choose_slot(static_cast<std::size_t>(phb), false, -1);
      }
    }
    if (!state.failed()) {
      state.fail(errc::no_free_slot, who, "needs a conventional PCI slot, and no bus has one or room for a new bridge");
    }
    return {};
  }

  // ---- packed functions for devices that need no hotplug ------------------------------

  /// One function of a packed multifunction slot of kind `k` in `zone`.
  constexpr slot_choice take_packed(int zone, pack_kind k, const subject& who) {
    open_pack& op = packs[static_cast<std::size_t>(zone + 1)][static_cast<std::size_t>(k)];
    if (op.open && table.buses[op.bus].used[op.slot] != 0xff) {
      return slot_choice{true, op.bus, op.slot,
                         static_cast<unsigned>(std::countr_one(table.buses[op.bus].used[op.slot]))};
    }
    op.open = false;
    slot_choice s{};
    if (k == pack_kind::root) {
      // the highest empty root slot, keeping one empty root slot for ports
      const std::uint32_t empty = table.buses[0].empty;
      if (bit_count(empty) < 2) return {};
      s = slot_choice{true, 0, 31u - static_cast<unsigned>(std::countl_zero(empty)), 0};
    } else if (k == pack_kind::pci) {
      s = take_pci_slot(zone, false, who);
    } else {
      const long port = take_port(zone, who);
      if (port >= 0) s = slot_choice{true, static_cast<unsigned>(port), 0, 0};
    }
    if (!s.found) return {};
    op = open_pack{true, s.bus, s.slot};
    return s;
  }

  /// Whether a zone's expander takes only PCIe ports (pxb-pcie).
  [[nodiscard]] constexpr bool zone_is_pcie(int zone) const noexcept {
    return zone >= 0 && !table.buses[host_of(zone)].flags.intersects(connect::pci_endpoint);
  }
};

}  // namespace pciplan::inline v0::detail

#endif  // PCIPLAN_PLANNER_DETAIL_PCIPLAN_GROWTH_HPP
