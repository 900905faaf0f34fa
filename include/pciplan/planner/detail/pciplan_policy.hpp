// pciplan — planner/detail/pciplan_policy.hpp: pciplan's own placement policy — its
// steps, and where each request goes.
//
// One pass, devices in the caller's order (order key, then input order):
//  - a device that needs hotplug gets (B) an empty hot-pluggable PCIe port on a PCIe
//    machine — an existing empty port, else a new root port packed 8 per root-bus slot;
//    when only one root-port function is left it carries a switch, whose downstream
//    ports serve from then on (and a switch's last slot carries the next switch) — or
//    (A) a hot-pluggable conventional PCI slot when it takes only conventional PCI or
//    the machine has no PCIe root (pci-bridges, pcie-root-port + pcie-to-pci-bridge,
//    pseries PHBs; the last free slot where a bridge could go gets a bridge, so the
//    topology can always grow while bus numbers last);
//  - a device that needs no hotplug becomes an integrated endpoint on the root bus,
//    packed as functions into slots taken from the top (one empty root slot is always
//    kept for ports), else one function of a packed slot on a PCI bus (or behind a
//    port when it is PCIe-only);
//  - multifunction groups take one whole slot, isolation groups a port (or slot) of
//    their own, NUMA nodes an expander bus each (pxb-pcie, pxb, a PHB with a node);
//  - (C) virtio-mmio where the machine has no PCI, or when asked for.
// Then spare ports up to `spare_ports`, expander busNr ranges from the top of the bus
// numbers, and warnings for the I/O window.
#ifndef PCIPLAN_PLANNER_DETAIL_PCIPLAN_POLICY_HPP
#define PCIPLAN_PLANNER_DETAIL_PCIPLAN_POLICY_HPP

#include <pciplan/detail/bits.hpp>
#include <pciplan/detail/config.hpp>
#include <pciplan/detail/vectors.hpp>
#include <pciplan/kinds/controller_kinds.hpp>
#include <pciplan/kinds/machine_types.hpp>
#include <pciplan/planner/detail/bus_table.hpp>
#include <pciplan/planner/detail/chipset.hpp>
#include <pciplan/planner/detail/finishing.hpp>
#include <pciplan/planner/detail/input_checks.hpp>
#include <pciplan/planner/detail/planning_state.hpp>
#include <pciplan/topology/controller.hpp>
#include <pciplan/topology/topology_plan.hpp>
#include <pciplan/topology/topology_view.hpp>
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
    const std::size_t expect = state.controllers.size() + std::min<std::size_t>(state.requests.size(), 512) +
                               state.options.spare_ports + 8;
    state.controllers.reserve(expect);
    table.buses.reserve(expect);
    const auto& cs = state.controllers;
    next_index = cs.back().index.value + 1u;
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

/// Adds spares until `have` reaches `want`; false (perhaps with a failure recorded) when
/// no more fit. `have` counts the spares there are.
template <MachineType M, class Policy>
constexpr bool grow_spares(pciplan_growth<M, Policy>& g, unsigned want, unsigned& have) {
  const bus_table& table = g.table;
  if constexpr (pciplan_growth<M, Policy>::pcie) {
    for (const controller& c : g.state.controllers) {
      const bus_state& b = table.buses[c.index.value];
      if (c.kind->role == controller_role::port && b.zone == -1 && b.group == 0 && b.empty != 0 &&
          b.flags.contains(pciplan_growth<M, Policy>::port_need)) {
        ++have;
      }
    }
    for (; have < want; ++have) {
      if (g.new_port(-1, "spare port", 0) < 0) return false;
    }
  } else {
    for (const auto& c : table.classes) {
      if (c.group == 0 && c.zone == -1 &&
          fits(connect::pci_endpoint | connect::auto_assign | connect::hotpluggable, c.flags, c.index0)) {
        have += c.free_slots;
      }
    }
    while (have < want) {
      const slot_choice b = g.table.find(connect::pci_bridge, 0, -1, -1);
      if (!b.found) {
        if constexpr (pciplan_growth<M, Policy>::pseries) {
          if (g.add_phb(-1, "spare slots") < 0) return false;
          have += descriptor_of<spapr_pci_host_bridge>.slots.count();
          continue;
        }
        return false;
      }
      if (g.add(descriptor_of<pci_bridge>, slot_choice{true, b.bus, b.slot, 0}, -1, "spare slots") < 0) return false;
      have += descriptor_of<pci_bridge>.slots.count() - 1;
    }
  }
  return true;
}

/// Empty hot-pluggable ports (PCIe machines) or slots (others) up to `spare_ports`.
/// Spares are best effort: when no more fit, the plan stands with a warning.
template <MachineType M, class Policy>
constexpr void add_spares(pciplan_growth<M, Policy>& g) {
  const unsigned want = g.state.options.spare_ports;
  if (want == 0) return;
  unsigned have = 0;
  if (!g.state.attempt([&] { return grow_spares(g, want, have); })) {
    g.state.warn(warning_code::spares_short,
                 "fewer spare hot-pluggable ports or slots fit than were asked for (no slot or bus number left)", have);
  }
}

/// Whether busNr values `busnr` (one per expander in `xs`, positions in the controller
/// list) give each expander room for the `size` buses below it and leave the main
/// hierarchy of domain 0 room below the lowest.
template <MachineType M, class Policy>
[[nodiscard]] constexpr bool partitions_fit(const pciplan_growth<M, Policy>& g, const std::vector<std::size_t>& xs,
                                            const std::vector<int>& busnr, const std::vector<unsigned>& size) {
  const planning<M>& state = g.state;
  // per domain: main buses [0, main) below the lowest busNr; each range up to the next
  std::vector<std::size_t> by;
  for (std::size_t i = 0; i != xs.size(); ++i) by.push_back(i);
  std::sort(by.begin(), by.end(), [&](std::size_t a, std::size_t b) { return busnr[a] < busnr[b]; });
  unsigned main = 0;
  for (const controller& c : state.controllers) {
    if (g.domain_of(c.index.value) != 0) continue;
    bool below_expander = false;
    unsigned at = c.index.value;
    for (std::size_t hops = 0; hops != state.controllers.size(); ++hops) {
      const controller* x = state.find(controller_index{static_cast<std::uint16_t>(at)});
      if (x == nullptr || x->kind->is_root()) break;
      if (x->kind->role == controller_role::expander) {
        below_expander = true;
        break;
      }
      at = x->libvirt_address.bus.value;
    }
    if (!below_expander) main += c.kind->bus_numbers;
  }
  if (main > static_cast<unsigned>(busnr[by.front()])) return false;
  for (std::size_t i = 0; i != by.size(); ++i) {
    const int end = i + 1 < by.size() ? busnr[by[i + 1]] : 256;
    if (busnr[by[i]] + static_cast<int>(size[xs[by[i]]]) > end) return false;
  }
  return true;
}

/// busNr for expanders without one: ranges from the top of the domain's bus numbers,
/// each rounded up to a multiple of 8 to leave room to grow (falling back to exact
/// sizes when that does not fit), all below any busNr already given; then a check that
/// every range holds its subtree and the main hierarchy fits below the lowest.
template <MachineType M, class Policy>
constexpr bool partition_expanders(pciplan_growth<M, Policy>& g) {
  planning<M>& state = g.state;
  std::vector<std::size_t> xs;
  for (std::size_t k = 0; k != state.controllers.size(); ++k) {
    if (state.controllers[k].kind->role == controller_role::expander) xs.push_back(k);
  }
  if (xs.empty()) return true;
  // buses below each controller (itself included)
  const std::size_t n = state.controllers.size();
  std::vector<unsigned> size = filled(n, 0u);
  for (std::size_t k = 0; k != n; ++k) size[k] = state.controllers[k].kind->bus_numbers;
  for (std::size_t k = 0; k != n; ++k) {
    const controller& c = state.controllers[k];
    if (c.kind->is_root() || c.kind->role == controller_role::expander) continue;
    // add to every expander above it
    unsigned at = c.libvirt_address.bus.value;
    for (std::size_t hops = 0; hops != n; ++hops) {
      const std::size_t pos = state.position_of(controller_index{static_cast<std::uint16_t>(at)});
      if (pos == no_position) break;
      const controller& up = state.controllers[pos];
      if (up.kind->role == controller_role::expander) {
        size[pos] += c.kind->bus_numbers;
        break;
      }
      if (up.kind->is_root()) break;
      at = up.libvirt_address.bus.value;
    }
  }
  for (unsigned round = 8; round >= 1; round = round == 8 ? 1 : 0) {
    std::vector<int> busnr = filled(xs.size(), -1);
    int limit = 256;
    for (std::size_t x = 0; x != xs.size(); ++x) {
      const int given = state.controllers[xs[x]].bus_nr;
      if (given >= 0 && given < limit) limit = given;
    }
    bool ok = true;
    for (std::size_t x = 0; x != xs.size() && ok; ++x) {
      const controller& c = state.controllers[xs[x]];
      if (c.bus_nr >= 0) {
        busnr[x] = c.bus_nr;
        continue;
      }
      const int want = static_cast<int>((size[xs[x]] + round - 1) / round * round);
      if (limit - want < 1) ok = false;
      else busnr[x] = limit -= want;
    }
    if (ok) ok = partitions_fit(g, xs, busnr, size);
    if (ok) {
      for (std::size_t x = 0; x != xs.size(); ++x) state.controllers[xs[x]].bus_nr = busnr[x];
      return true;
    }
    if (round == 1) break;
  }
  return state.fail(errc::bus_numbers_exhausted, state.controllers[xs.front()],
                    "finds no busNr range that holds every bus below each expander and the main hierarchy below them");
}

/// The pciplan policy: the shared steps (checks, chipset, finishing) around its own —
/// routes, placement of requests, topology growth (pciplan_growth above), spares,
/// expander busNr ranges, I/O warnings.
template <MachineType M, class Policy>
class pciplan_planner {
 public:
  constexpr explicit pciplan_planner(planning<M>& p) : p_(p), g_(p) {}

  constexpr result<topology_plan> run() {
    p_.max_index = Policy::max_index;
    if (!check_requests(p_) || !check_controllers(p_) || !route()) return p_.failure();
    if constexpr (has_pci_v<M>) {
      if (!g_.build_table() || !reserve_existing() || !chipset() || !g_.place_given_controllers() ||
          !place_requests()) {
        return p_.failure();
      }
      add_spares(g_);
      if (!partition_expanders(g_)) return p_.failure();
      add_warnings();
    }
    return finish(p_);
  }

 private:
  planning<M>& p_;
  pciplan_growth<M, Policy> g_;

  static constexpr bool pcie = has_pcie_root_v<M>;
  static constexpr bool x86 = machine_traits<M>::arch == "x86_64";
  /// A video pinned somewhere else is no primary video.
  static constexpr role_rules chipset_rules{.pinned_video_is_primary = false};

  // ---- transports -----------------------------------------------------------------

  /// (C): virtio-mmio where the machine has no PCI or the request asks for it; channel
  /// I/O for virtio on s390x; PCI otherwise.
  constexpr bool route() {
    unsigned mmio = 0;
    unsigned ccw = 0;
    for (std::size_t i = 0; i != p_.requests.size(); ++i) {
      const request& r = p_.requests[i];
      p_.routes[i].need = p_.need_of(r);
      placement_kind kind = placement_kind::pci;
      // a multifunction or isolation group shares PCI slots: its members stay on PCI
      const bool grouped = r.multifunction != 0 || r.isolation != 0;
      if (grouped && r.via == transport::mmio) {
        return p_.fail(errc::invalid_request, r.name, "is in a multifunction or isolation group and asks for virtio-mmio");
      }
      if (!has_pci_v<M> || r.via == transport::mmio) {
        if (r.via == transport::pci || r.device.mmio_device.empty() || grouped) {
          return p_.fail(errc::no_pci, r.name, "needs PCI, but the machine type has no PCI buses");
        }
        kind = placement_kind::mmio;
      } else if (machine_traits<M>::virtio == virtio_transport::ccw && r.via == transport::automatic &&
                 r.fixed == address_kind::none && !grouped && p_.is_virtio(r)) {
        kind = placement_kind::ccw;
      }
      if (!p_.assign_transport(i, kind, mmio, ccw)) return false;
    }
    return true;
  }

  // ---- given addresses and the chipset ----------------------------------------------

  constexpr bool reserve_existing() {
    for (const controller& c : p_.controllers) {
      if (c.kind->is_root() || !c.has_address) continue;
      if (!reserve_given(p_, g_.table, c.libvirt_address, p_.need_of(c), 0, c)) return false;
    }
    for (std::size_t i = 0; i != p_.requests.size(); ++i) {
      const request& r = p_.requests[i];
      if (p_.routes[i].kind != placement_kind::pci || r.fixed != address_kind::full) continue;
      if (!reserve_given(p_, g_.table, r.libvirt_address, p_.routes[i].need, 0, r.name)) return false;
      p_.place(i, r.libvirt_address, rule::given_address);
    }
    return true;
  }

  /// The chipset positions, taken at once (a primary video whose position is taken is
  /// placed in the normal order).
  constexpr bool chipset() {
    const chipset_outcome seen = reserve_chipset(p_, g_.table, find_chipset_roles(p_, chipset_rules));
    if (!seen.ok) return false;
    take_chipset_seats(p_, seen);
    return true;
  }

  // ---- placing requests -----------------------------------------------------------

  /// What slot a request (or group) needs.
  [[nodiscard]] constexpr link_kind link_of(const request& r) const noexcept {
    if (!pcie) return link_kind::conventional;
    if (r.link == link_need::pci) return link_kind::conventional;
    if (r.link == link_need::pcie) return link_kind::express;
    if (r.link == link_need::either) return link_kind::virtio;
    return r.device.link;
  }

  constexpr bool place_requests() {
    // NUMA expanders first, in order of first use: they need root-bus slots, which the
    // devices would otherwise fill
    for (std::size_t i = 0; i != p_.requests.size(); ++i) {
      const request& r = p_.requests[i];
      if (!p_.done[i] && r.numa >= 0 && g_.zone_for(r.numa, r.name) < -1) return false;
    }
    std::vector<std::size_t> order;
    order.reserve(p_.requests.size());
    for (std::size_t i = 0; i != p_.requests.size(); ++i) {
      if (!p_.done[i]) order.push_back(i);
    }
    // stable: equal keys keep the input order (std::stable_sort is not constexpr)
    const auto before = [&](std::size_t a, std::size_t b) {
      const int ka = p_.requests[a].order;
      const int kb = p_.requests[b].order;
      return ka != kb ? ka < kb : a < b;
    };
    if (!std::is_sorted(order.begin(), order.end(), before)) std::sort(order.begin(), order.end(), before);
    // members of a group are placed with the first of them
    std::vector<std::size_t> members;
    for (std::size_t i : order) {
      if (p_.done[i]) continue;
      const request& r = p_.requests[i];
      if (r.isolation != 0 || r.multifunction != 0) {
        members.clear();
        for (std::size_t j : order) {
          const request& q = p_.requests[j];
          if (p_.done[j]) continue;
          if ((r.isolation != 0 && q.isolation == r.isolation) ||
              (r.isolation == 0 && q.multifunction == r.multifunction && q.isolation == 0)) {
            members.push_back(j);
          }
        }
        if (!place_group(members)) return false;
      } else if (!place_one(i)) {
        return false;
      }
    }
    return true;
  }

  constexpr bool place_one(std::size_t i) {
    const request& r = p_.requests[i];
    const connect_set need = p_.routes[i].need;
    if (r.fixed == address_kind::bus) {
      const std::size_t bus = r.libvirt_address.bus.value;
      if (!g_.table.exists(bus)) return p_.fail(errc::no_such_bus, r.name, "names a bus (controller index) that does not exist");
      if (g_.table.check_given(bus, 0, 0, need) == errc::incompatible_bus) {
        return p_.fail(errc::incompatible_bus, r.name, "names a bus that does not take it");
      }
      const slot_choice s = g_.table.choose_slot(bus, false, -1);
      if (!s.found) return p_.fail(errc::no_free_slot, r.name, "names a bus that has no free slot");
      return put(i, s, need, rule::given_bus);
    }
    if (r.fixed == address_kind::domain && r.libvirt_address.domain != 0) return place_in_domain(i, need);
    const int zone = g_.zone_for(r.numa, r.name);
    if (zone < -1) return false;
    const rule numa_rule = rule::numa_expander;
    if (r.device.integrated) {
      const slot_choice s = g_.table.find(need);
      if (!s.found) return p_.fail(errc::no_free_slot, r.name, "is an integrated endpoint, and the root bus is full");
      return put(i, s, need, rule::integrated_endpoint);
    }
    const link_kind link = link_of(r);
    if (r.hotplug_need == hotplug::required) {
      if (pcie && link != link_kind::conventional) {
        const long port = g_.take_port(zone, r.name);
        if (port < 0) return false;
        mark_io(static_cast<unsigned>(port));
        return put(i, slot_choice{true, static_cast<unsigned>(port), 0, 0}, need,
                   zone >= 0 ? numa_rule : rule::hotplug_port);
      }
      const slot_choice s = g_.take_pci_slot(zone, true, r.name);
      if (!s.found) return false;
      return put(i, s, need, zone >= 0 ? numa_rule : rule::conventional_slot);
    }
    // no hotplug: integrated on the root bus, else a packed function
    if (pcie && zone < 0) {
      const slot_choice s = g_.take_packed(zone, pack_kind::root, r.name);
      if (s.found) return put(i, s, need | connect::integrated, rule::integrated_endpoint);
    }
    const pack_kind k = (pcie && (link == link_kind::express || g_.zone_is_pcie(zone))) ? pack_kind::port : pack_kind::pci;
    const slot_choice s = g_.take_packed(zone, k, r.name);
    if (!s.found) {
      if (!p_.failed()) p_.fail(errc::no_free_slot, r.name, "needs no hotplug, and no slot is left to pack it into");
      return false;
    }
    return put(i, s, need, zone >= 0 ? numa_rule : rule::packed_function);
  }

  /// A request for PCI domain d > 0 (pseries: the PHB with targetIndex d): the first
  /// free slot, in index order, of a bus in that domain that takes the device. The
  /// planner adds no controller for it: a domain of its own is the caller's layout.
  constexpr bool place_in_domain(std::size_t i, connect_set need) {
    const request& r = p_.requests[i];
    int phb = -1;
    for (const controller& c : p_.controllers) {
      if (c.kind->role == controller_role::extra_root && c.target_index == static_cast<int>(r.libvirt_address.domain)) {
        phb = c.index.value;
      }
    }
    if (phb < 0) {
      return p_.fail(errc::no_such_bus, r.name, "names a PCI domain that no given PHB provides (by its targetIndex)");
    }
    const std::uint16_t domain = g_.domain_of(static_cast<unsigned>(phb));
    for (std::size_t b = 0; b != g_.table.size(); ++b) {
      if (g_.domain_of(static_cast<unsigned>(b)) != domain || !g_.table.accepts(b, need)) continue;
      const slot_choice s = g_.table.choose_slot(b, need.intersects(connect::aggregate_slot), -1);
      if (s.found) return put(i, s, need, rule::given_domain);
    }
    return p_.fail(errc::no_free_slot, r.name, "names a PCI domain that has no free slot left for it");
  }

  /// A multifunction group (members at their functions) or an isolation group (members
  /// at functions 0, 1, … unless they are one multifunction group): one slot of its own.
  constexpr bool place_group(const std::vector<std::size_t>& members) {
    const request& first = p_.requests[members.front()];
    const bool isolation = first.isolation != 0;
    if (members.size() > 8) {
      return p_.fail(errc::multifunction_conflict, first.name,
                     "is in a group of more than 8 devices, and one slot holds 8 functions");
    }
    bool one_mf_group = true;
    for (std::size_t j : members) one_mf_group = one_mf_group && p_.requests[j].multifunction == first.multifunction && first.multifunction != 0;
    if (!one_mf_group && isolation) {
      for (std::size_t j : members) {
        if (p_.requests[j].multifunction != 0) {
          return p_.fail(errc::multifunction_conflict, p_.requests[j].name,
                         "mixes a multifunction group with other devices of its isolation group");
        }
      }
    }
    const int zone = g_.zone_for(first.numa, first.name);
    if (zone < -1) return false;
    bool conventional = false;
    bool hotplug_needed = false;
    for (std::size_t j : members) {
      conventional = conventional || link_of(p_.requests[j]) == link_kind::conventional;
      hotplug_needed = hotplug_needed || p_.requests[j].hotplug_need == hotplug::required;
    }
    slot_choice s{};
    if (pcie && !conventional && (hotplug_needed || isolation)) {
      const long port = isolation ? g_.new_port(zone, first.name, first.isolation) : g_.take_port(zone, first.name);
      if (port < 0) return false;
      s = slot_choice{true, static_cast<unsigned>(port), 0, 0};
    } else if (pcie && zone < 0 && !hotplug_needed && bit_count(g_.table.buses[0].empty) >= 2) {
      s = slot_choice{true, 0, 31u - static_cast<unsigned>(std::countl_zero(g_.table.buses[0].empty)), 0};
    } else {
      s = g_.take_pci_slot(zone, hotplug_needed, first.name);
      if (!s.found) return false;
    }
    const rule why = isolation ? rule::isolation_group : rule::multifunction_group;
    unsigned next_fn = 0;
    for (std::size_t j : members) {
      const unsigned fn = one_mf_group ? p_.requests[j].function : next_fn++;
      connect_set need = p_.routes[j].need;
      if (s.bus == 0) need = need | connect::integrated;
      if (!put(j, slot_choice{true, s.bus, s.slot, fn}, need, why)) return false;
    }
    return true;
  }

  /// Reserves a slot for request i. The bus keeps its isolation group: in this policy a
  /// group owns a bus only when the planner made a port for it.
  constexpr bool put(std::size_t i, slot_choice s, connect_set need, rule why) {
    g_.table.reserve(s.bus, s.slot, s.function, need, g_.table.buses[s.bus].group, false);
    p_.place(i, controller_address(0, s.bus, s.slot, s.function), why);
    return true;
  }

  // ---- the I/O window -------------------------------------------------------------

  /// On q35 a hot-pluggable root port reserves 4 KiB of I/O space; a port the planner
  /// added for a PCIe device, which needs no I/O, gets io-reserve=0 (qemu-rules (b) 25).
  constexpr void mark_io(unsigned port) {
    if constexpr (x86 && pcie) {
      controller& c = p_.controllers[p_.position_of(controller_index{static_cast<std::uint16_t>(port)})];
      if (c.added && is_kind<pcie_root_port>(c.kind)) c.io_reserve_zero = true;
    }
  }

  /// Warnings when hot-pluggable root ports or PCI bridges want more I/O space than x86
  /// has.
  constexpr void add_warnings() {
    if constexpr (x86) {
      unsigned io_ports = 0;
      unsigned bridges = 0;
      for (const controller& c : p_.controllers) {
        if (is_kind<pcie_root_port>(c.kind) && c.hotplug != toggle::off && !c.io_reserve_zero) ++io_ports;
        if (is_kind<pci_bridge>(c.kind) || is_kind<pcie_to_pci_bridge>(c.kind)) ++bridges;
      }
      if (pcie && io_ports > 14) {
        p_.warn(warning_code::io_window,
                "more than 14 hot-pluggable root ports reserve 4 KiB of I/O space each; the 64 KiB window runs out "
                "and firmware leaves some ports without I/O",
                io_ports);
      }
      if (bridges > 9) {
        p_.warn(warning_code::io_window,
                "more than 9 PCI bridges; each wants a 4 KiB I/O window, so devices behind some bridges get no I/O "
                "space (their memory BARs still work)",
                bridges);
      }
    }
  }
};

}  // namespace pciplan::inline v0::detail

#endif  // PCIPLAN_PLANNER_DETAIL_PCIPLAN_POLICY_HPP
