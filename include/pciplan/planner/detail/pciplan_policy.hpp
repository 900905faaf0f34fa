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
// numbers, and warnings for the I/O window. The controllers it adds come from
// pciplan_growth.hpp, the spares from pciplan_spares.hpp, the busNr ranges from
// pciplan_bus_ranges.hpp.
#ifndef PCIPLAN_PLANNER_DETAIL_PCIPLAN_POLICY_HPP
#define PCIPLAN_PLANNER_DETAIL_PCIPLAN_POLICY_HPP

#include <pciplan/detail/bits.hpp>
#include <pciplan/detail/config.hpp>
#include <pciplan/detail/vectors.hpp>
#include <pciplan/planner/detail/bus_table.hpp>
#include <pciplan/planner/detail/chipset.hpp>
#include <pciplan/planner/detail/finishing.hpp>
#include <pciplan/planner/detail/input_checks.hpp>
#include <pciplan/planner/detail/window_warnings.hpp>
#include <pciplan/planner/detail/pciplan_bus_ranges.hpp>
#include <pciplan/planner/detail/pciplan_growth.hpp>
#include <pciplan/planner/detail/pciplan_spares.hpp>
#include <pciplan/planner/detail/planning_state.hpp>
#include <pciplan/kinds/device_bars.hpp>
#include <pciplan/kinds/machine_dispatch.hpp>
#include <pciplan/topology/memory_windows.hpp>

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace pciplan::inline v0::detail {

/// The pciplan policy: the shared steps (checks, chipset, finishing) around its own —
/// routes, placement of requests (here), topology growth (pciplan_growth.hpp), spares
/// (pciplan_spares.hpp), expander busNr ranges (pciplan_bus_ranges.hpp), I/O warnings.
template <MachineType M, class Policy>
class pciplan_planner {
 public:
  constexpr explicit pciplan_planner(planning<M>& p) : p_(p), g_(p) {}

  constexpr result<topology_plan> run() {
    p_.max_index = Policy::max_index;
    if (!check_requests(p_) || !check_controllers(p_) || !route()) return p_.failure();
    if constexpr (has_pci_v<M>) {
      add_named_buses();
      if (!g_.build_table() || !reserve_existing() || !chipset() || !g_.place_given_controllers() ||
          !place_requests()) {
        return p_.failure();
      }
      if (!add_spares(g_) || !partition_expanders(g_)) return p_.failure();
      reserve_budget();
      check_windows();
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
      if (p_.hot_added(i)) p_.routes[i].need = p_.routes[i].need | connect::hotpluggable;
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

  /// A device given a full address on a bus (controller index) that no controller
  /// provides gets that bus: the first controller the policy adds for devices — a
  /// pcie-root-port or a pcie-to-pci-bridge with a PCIe root, a pci-bridge with a PCI
  /// root, a PHB on pseries — whose bus takes the device at its slot, with that index and
  /// no address, so it is placed like a controller given without one. The address stays
  /// as given (libvirt fills every lower index too and may move it: RULES.md L4.3);
  /// indexes nobody names stay unused. When no such controller takes it, reserving the
  /// address reports the missing bus.
  constexpr void add_named_buses() {
    const controller_descriptor* candidates[2] = {};
    if constexpr (machine_traits<M>::multiple_roots) {
      candidates[0] = &descriptor_of<spapr_pci_host_bridge>;
    } else if constexpr (pcie) {
      candidates[0] = &descriptor_of<pcie_root_port>;
      candidates[1] = &descriptor_of<pcie_to_pci_bridge>;
    } else {
      candidates[0] = &descriptor_of<pci_bridge>;
    }
    std::vector<controller> named;
    for (std::size_t i = 0; i != p_.requests.size(); ++i) {
      const request& r = p_.requests[i];
      if (p_.routes[i].kind != placement_kind::pci || r.fixed != address_kind::full) continue;
      const controller_index bus = r.libvirt_address.bus;
      if (bus.value == 0 || bus.value > p_.max_index || p_.find(bus) != nullptr) continue;
      if (std::any_of(named.begin(), named.end(), [&](const controller& c) { return c.index == bus; })) continue;
      const connect_set need = p_.routes[i].need - connect::auto_assign - connect::hotpluggable;
      for (const controller_descriptor* k : candidates) {
        if (k == nullptr || !fits(need, k->accepts, false, address_origin::given) ||
            r.libvirt_address.slot < k->slots.first || r.libvirt_address.slot > k->slots.last) {
          continue;
        }
        controller& c = named.emplace_back();
        c.index = bus;
        c.kind = k;
        c.added = true;
        break;
      }
    }
    if (!named.empty()) p_.insert_controllers(named);
  }

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
        mark_io(static_cast<unsigned>(port), i);
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

  // ---- memory windows for devices hot-plugged later ---------------------------------

  /// Every empty hot-pluggable pcie-root-port and pci-bridge reserves windows for
  /// plan_options::hotplug_budget (hotplug_reserves); empty hot-pluggable ports that
  /// cannot (no reserve properties) are counted in a warning.
  constexpr void reserve_budget() {
    const device_bars& budget = p_.options.hotplug_budget;
    if (budget.empty()) return;
    const window_reserves want = hotplug_reserves(budget);
    std::vector<unsigned char> occupied = filled(p_.controllers.back().index.value + 1u, static_cast<unsigned char>(0));
    for (const placement& pl : p_.placements) {
      if (pl.kind == placement_kind::pci && pl.libvirt_address.bus.value < occupied.size()) {
        occupied[pl.libvirt_address.bus.value] = 1;
      }
    }
    for (const controller& c : p_.controllers) {
      if (c.has_address && c.libvirt_address.bus.value < occupied.size()) occupied[c.libvirt_address.bus.value] = 1;
    }
    unsigned cannot = 0;
    for (controller& c : p_.controllers) {
      const bool hot_bus = c.kind->role == controller_role::port ||
                           (c.kind->role == controller_role::bridge && c.kind->hotplug == hotplug_support::always);
      if (!hot_bus || c.hotplug == toggle::off || occupied[c.index.value] != 0) continue;
      if (!takes_reserves(c.qemu_device())) {
        ++cannot;
        continue;
      }
      c.reserves.io = std::max(c.reserves.io, want.io);
      c.reserves.mem = std::max(c.reserves.mem, want.mem);
      c.reserves.pref32 = std::max(c.reserves.pref32, want.pref32);
      c.reserves.pref64 = std::max(c.reserves.pref64, want.pref64);
      if (want.io != 0) c.io_reserve_zero = false;
    }
    if (cannot != 0) {
      p_.warn(warning_code::windows,
              "some empty hot-pluggable ports cannot reserve memory windows for the hot-plug budget (only "
              "pcie-root-port and pci-bridge have QEMU's reserve properties): a device hot-plugged there may find no "
              "room for its BARs",
              cannot);
    }
  }

  /// x86, when requests give BARs or a budget is set: warnings where SeaBIOS 1.16 cannot
  /// place the plan's BARs, where OVMF's default 64-bit window may be too small, or the
  /// 64-bit windows end beyond 40 address bits.
  constexpr void check_windows() {
    if constexpr (x86) {
      bool asked = !p_.options.hotplug_budget.empty();
      for (const placement& pl : p_.placements) asked = asked || pl.bars.given;
      if (!asked) return;
      topology_plan draft(p_.controllers, p_.placements);
      draft.machine = machine_name_of<M>;
      draft.built_in = std::span<const reserved_function>(machine_traits<M>::reserved);
      window_warnings(memory_windows(draft, p_.options.memory), p_);
    }
  }

  // ---- the I/O window -------------------------------------------------------------

  /// On q35 a hot-pluggable root port reserves 4 KiB of I/O space; a port the planner
  /// added for request i, whose device has no I/O BAR (most PCIe devices; virtio loses
  /// its legacy one behind a port), gets io-reserve=0 (RULES.md Q25). QEMU then switches
  /// the port's I/O window off, so a device with an I/O BAR (e1000e) keeps the reserve.
  constexpr void mark_io(unsigned port, std::size_t i) {
    if constexpr (x86 && pcie) {
      // virtio devices are modern-only behind a port (RULES.md Q27): no catalogue look-up
      const placement& pl = p_.placements[i];
      if (pl.bars.given ? !pl.bars[bar_space::io].empty()
                        : pl.device.link != link_kind::virtio &&
                              !catalogue_bars(pl.device.qemu_device, true)[bar_space::io].empty()) {
        return;
      }
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
