// pciplan — planner/detail/libvirt_policy.hpp: libvirt's QEMU-driver address assignment.
//
// The same two passes libvirt makes (RULES.md L4.2): a dry run on a bus table
// that may grow — existing addresses, chipset positions, on pci-root machines one
// spare slot, every device in libvirt's order, on PCIe machines with no controllers of
// the user's one spare root port, then a controller for every bus that has none, each
// needing a slot itself — and then the real pass over the final controllers, which
// places address-less controllers first and then every device, without growing.
// Search and growth follow virDomainPCIAddressGetNextAddr / SetGrow; the bus table
// makes the search a look-up per bus class instead of a rescan. The order of what it
// places is in libvirt_units.hpp.
#ifndef PCIPLAN_PLANNER_DETAIL_LIBVIRT_POLICY_HPP
#define PCIPLAN_PLANNER_DETAIL_LIBVIRT_POLICY_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/detail/vectors.hpp>
#include <pciplan/planner/detail/bus_table.hpp>
#include <pciplan/planner/detail/chipset.hpp>
#include <pciplan/planner/detail/finishing.hpp>
#include <pciplan/planner/detail/input_checks.hpp>
#include <pciplan/planner/detail/libvirt_growth.hpp>
#include <pciplan/planner/detail/libvirt_units.hpp>
#include <pciplan/planner/detail/planning_state.hpp>
#include <pciplan/planner/libvirt_order.hpp>

#include <algorithm>
#include <cstddef>
#include <string_view>
#include <vector>

namespace pciplan::inline v0::detail {

template <MachineType M, class Policy>
class libvirt_planner {
 public:
  constexpr explicit libvirt_planner(planning<M>& p) : p_(p) {}

  /// The shared steps (checks, chipset, finishing) around libvirt's own: its routes and
  /// order, the dry run that grows the topology, the real pass, busNr and bridge checks.
  constexpr result<topology_plan> run() {
    p_.max_index = Policy::max_index;
    p_.reproduce_libvirt = true;
    if (!check_requests(p_) || !check_controllers(p_) || !route() || !order_units()) return p_.failure();
    roles_ = find_chipset_roles(p_, chipset_rules);
    if (!dry_run() || !live_without_growth() || !real_pass() || !check_attached(p_) || !number_expanders() ||
        !check_bridges()) {
      return p_.failure();
    }
    return finish(p_);
  }

 private:
  planning<M>& p_;
  chipset_roles roles_{};
  std::vector<int> chipset_slot_;  // per request: the chipset slot it took, -1: none
  std::vector<controller_address> given_;  // per request: its given address, as the dry run's growth left it
  std::vector<unit> order_;
  std::vector<const controller_descriptor*> dry_kinds_;  // by bus index: the model of buses libvirt adds
  std::vector<unsigned char> added_bus_;                  // by index, real pass: the controller was added
  std::vector<controller> new_controllers_;               // dry run: the controllers libvirt adds
  controller_index dmi_in_dry_{0xffff};                   // dry run: the dmi-to-pci-bridge given its chipset slot
  unsigned mmio_count_ = 0;
  static constexpr bool pseries = machine_traits<M>::multiple_roots;
  /// libvirt's primary video is the first video, wherever it is pinned.
  static constexpr role_rules chipset_rules{.pinned_video_is_primary = true};

  // ---- transports -----------------------------------------------------------------


  /// PCI, virtio-mmio or CCW for every request (RULES.md L2.4, L2.7, L2.9).
  constexpr bool route() {
    bool any_mmio = false;
    unsigned mmio_without_variant = 0;
    for (const request& r : p_.requests) any_mmio = any_mmio || r.via == transport::mmio;
    unsigned ccw = 0;
    for (std::size_t i = 0; i != p_.requests.size(); ++i) {
      const request& r = p_.requests[i];
      if (r.numa >= 0) {
        return p_.fail(errc::invalid_request, r.name,
                       "names a NUMA node, and libvirt does not place devices by NUMA node (use the pciplan policy, "
                       "or pin the device to an expander bus)");
      }
      if (r.fixed == address_kind::domain && r.libvirt_address.domain != 0) {
        return p_.fail(errc::invalid_request, r.name,
                       "names a PCI domain other than 0, and libvirt places devices by full address or bus only "
                       "(use the pciplan policy, or give a bus of that domain)");
      }
      request_route& route = p_.routes[i];
      route.need = p_.need_of(r);
      // libvirt's hot-plug path asks for a hot-pluggable slot (RULES.md L4.11)
      if (p_.hot_added(i)) route.need = route.need | connect::hotpluggable;
      // a multifunction or isolation group shares PCI slots: its members stay on PCI
      const bool grouped = r.multifunction != 0 || r.isolation != 0;
      const bool automatic = r.via == transport::automatic && r.fixed == address_kind::none && !grouped;
      const bool mmio_capable = !r.device.mmio_device.empty();
      // libvirt's hot-plug path puts a device on PCI whatever the domain's other devices use
      const bool follows = automatic && any_mmio && libvirt_follows_mmio(r.device) && !p_.hot_added(i);
      placement_kind kind = placement_kind::pci;
      if (grouped && r.via == transport::mmio) {
        return p_.fail(errc::invalid_request, r.name, "is in a multifunction or isolation group and asks for virtio-mmio");
      }
      if constexpr (!has_pci_v<M>) {
        if (!mmio_capable || r.via == transport::pci || grouped) {
          return p_.fail(errc::no_pci, r.name, "needs PCI, but the machine type has no PCI buses");
        }
        kind = placement_kind::mmio;
      } else if constexpr (machine_traits<M>::virtio == virtio_transport::pci_or_mmio) {
        if ((follows || r.via == transport::mmio) && !mmio_capable) ++mmio_without_variant;
        if (r.via == transport::mmio || follows) kind = placement_kind::mmio;
      } else if constexpr (machine_traits<M>::virtio == virtio_transport::ccw) {
        if (automatic && p_.is_virtio(r)) kind = placement_kind::ccw;
      } else {
        if (r.via == transport::mmio) {
          return p_.fail(errc::invalid_request, r.name, "asks for virtio-mmio, which this machine type does not have");
        }
      }
      if (!p_.assign_transport(i, kind, mmio_count_, ccw)) return false;
    }
    if (mmio_without_variant != 0) {
      p_.warn(warning_code::unbuildable,
              "libvirt moves devices that have no virtio-mmio variant (e.g. a non-virtio SCSI controller) onto "
              "virtio-mmio with the domain's virtio devices, and keeps them there (RULES.md L2.4), which QEMU "
              "cannot build (give them a PCI address)",
              mmio_without_variant);
    }
    return true;
  }

  constexpr bool order_units() {
    append_controller_units(p_, order_);
    append_device_units(p_, order_);
    return true;
  }

  [[nodiscard]] constexpr unsigned group_of(const request& r) const noexcept { return pseries ? r.isolation : 0u; }
  [[nodiscard]] constexpr bool groups_used() const noexcept {
    if constexpr (pseries) {
      for (const request& r : p_.requests) {
        if (r.isolation != 0) return true;
      }
    }
    return false;
  }

  // ---- the table ------------------------------------------------------------------

  /// The model of a bus index that has no controller (libvirt fills gaps with it).
  [[nodiscard]] static constexpr const controller_descriptor* gap_model() noexcept {
    if constexpr (pseries) return &descriptor_of<spapr_pci_host_bridge>;
    else if constexpr (has_pcie_root_v<M>) return &descriptor_of<pcie_root_port>;
    else return &descriptor_of<pci_bridge>;
  }

  /// `hotplug='off'` on pci-root turns off ACPI hotplug in QEMU; libvirt's address set
  /// still treats the root bus as hot-pluggable (pc-i440fx-acpi-root-hotplug-disable).
  constexpr void define(bus_table& t, const controller& c) const {
    t.define(c.index.value, *c.kind, c.hotplug != toggle::off || c.kind->is_root(), -1, 0, pseries && c.index.value == 0);
  }

  constexpr long grow(bus_table& t, connect_set need, std::size_t target, const subject& who) {
    return libvirt_grow<Policy>(p_, t, dry_kinds_, need, target, who);
  }

  /// libvirt's ReserveNextAddr: search (with the isolation-group second pass), grow in
  /// the dry run, fail in the real one. With `on_root` (a device with a root-bus
  /// fallback), the root bus's first free slot comes before growing or failing, and
  /// `*on_root` says whether it was taken.
  constexpr slot_choice reserve_next(bus_table& t, bool dry, connect_set need, unsigned group, int function,
                                     const subject& who, bool* on_root = nullptr) {
    slot_choice c = t.find(need, group, function);
    if (!c.found && groups_used()) c = t.find_on_empty_bus(need, function);
    if (!c.found && on_root != nullptr && group == 0 && t.exists(0)) {
      c = t.choose_slot(0, false, function);
      *on_root = c.found;
    }
    if (!c.found) {
      if (!dry) {
        p_.fail(errc::no_free_slot, who, "finds no free PCI slot that takes it (libvirt: No more available PCI slots)");
        return {};
      }
      const long bus = grow(t, need, t.size(), who);
      if (bus < 0) return {};
      const bus_state& b = t.buses[static_cast<std::size_t>(bus)];
      c = slot_choice{true, static_cast<unsigned>(bus), b.kind->slots.first,
                      function < 0 ? 0u : static_cast<unsigned>(function)};
    }
    t.reserve(c.bus, c.slot, c.function, need, group, false);
    return c;
  }

  /// Reserves an address the user gave (relaxed rules), growing first in the dry run.
  /// Like libvirt, the growth may move the address one bus up: a conventional PCI device
  /// on the first missing bus of a pure PCIe guest lands behind the pcie-root-port and
  /// pcie-to-pci-bridge added for it (RULES.md L4.3).
  constexpr bool reserve_address(bus_table& t, bool dry, controller_address& a, connect_set need, unsigned group,
                                 const subject& who) {
    if (dry) {
      const long bus = grow(t, need, a.bus.value, who);
      if (bus < 0) return false;
      a.bus = controller_index{static_cast<std::uint16_t>(bus)};
    }
    return reserve_given(p_, t, a, need, group, who);
  }

  /// The addresses the domain gives, in the order libvirt collects them (device classes
  /// by libvirt_visit_rank, each in its list order; the PCI controllers first among the
  /// controllers): the dry run grows the buses as it meets them (RULES.md L4.3).
  constexpr bool reserve_existing(bus_table& t, bool dry) {
    if (dry) {
      given_.clear();
      for (const request& r : p_.requests) given_.push_back(r.libvirt_address);
    }
    struct given_item {
      int rank;
      bool is_request;
      std::size_t position;  // in p_.controllers, or the request index
    };
    std::vector<given_item> items;
    const int controller_rank = libvirt_visit_rank("controller");
    for (std::size_t k = 0; k != p_.controllers.size(); ++k) {
      const controller& c = p_.controllers[k];
      if (!c.kind->is_root() && c.has_address) items.push_back(given_item{controller_rank, false, k});
    }
    for (std::size_t i = 0; i != p_.requests.size(); ++i) {
      const request& r = p_.requests[i];
      if (p_.routes[i].kind != placement_kind::pci || r.fixed != address_kind::full) continue;
      items.push_back(given_item{libvirt_visit_rank(r.device.libvirt.element), true, i});
    }
    // stable by rank (std::stable_sort is not constexpr): controllers before requests, then position
    std::sort(items.begin(), items.end(), [](const given_item& a, const given_item& b) {
      if (a.rank != b.rank) return a.rank < b.rank;
      if (a.is_request != b.is_request) return !a.is_request;
      return a.position < b.position;
    });
    for (const given_item& item : items) {
      if (!item.is_request) {
        controller& c = p_.controllers[item.position];
        if (!reserve_address(t, dry, c.libvirt_address, p_.need_of(c), 0, c)) return false;
        continue;
      }
      const std::size_t i = item.position;
      const request& r = p_.requests[i];
      if (!reserve_address(t, dry, given_[i], p_.routes[i].need, group_of(r), r.name)) return false;
      if (!dry) p_.place(i, given_[i], rule::given_address);
    }
    return true;
  }

  /// The chipset positions: the dry run reserves them (its order skips the dmi-to-pci-bridge
  /// it reserved one for), the real pass takes them. Then a primary video whose position
  /// was taken is placed at once with its own flags, before any other device.
  constexpr bool chipset(bus_table& t, bool dry) {
    refill(chipset_slot_, p_.requests.size(), -1);
    const chipset_outcome seen = reserve_chipset(p_, t, roles_);
    if (!seen.ok) return false;
    for (const chipset_seat& s : seen.seats) chipset_slot_[s.request] = s.at.slot;
    if (!dry) {
      take_chipset_seats(p_, seen);
    } else if (seen.bridge != no_position) {
      dmi_in_dry_ = p_.controllers[seen.bridge].index;
    }
    if (seen.displaced_video < 0) return true;
    const std::size_t i = static_cast<std::size_t>(seen.displaced_video);
    const slot_choice s = reserve_next(t, dry, p_.routes[i].need, 0, -1, p_.requests[i].name);
    if (!s.found) return false;
    // libvirt's dry run reserves the slot but gives the video no address, so its normal
    // order reserves another one for it (one more root port on q35); the real pass places
    // it here, and the normal order skips it
    if (!dry) {
      chipset_slot_[i] = static_cast<int>(s.slot);
      p_.place(i, controller_address(0, s.bus, s.slot, s.function), rule::lowest_free_slot);
    }
    return true;
  }

  // ---- placing everything in order ------------------------------------------------

  constexpr bool assign_all(bus_table& t, bool dry) {
    std::vector<slot_choice> group_at;  // by multifunction group id: where the group is
    const auto slot_of_group = [&](unsigned g) -> slot_choice& {
      grow_to(group_at, g + 1u, slot_choice{});
      return group_at[g];
    };
    // members already placed (given or chipset) fix their group's slot
    for (std::size_t i = 0; i != p_.requests.size(); ++i) {
      const request& r = p_.requests[i];
      if (r.multifunction == 0 || p_.routes[i].kind != placement_kind::pci) continue;
      if (r.fixed == address_kind::full) {
        slot_of_group(r.multifunction) = slot_choice{true, given_[i].bus.value, given_[i].slot, 0};
      } else if (chipset_slot_[i] >= 0) {
        slot_of_group(r.multifunction) = slot_choice{true, 0, static_cast<unsigned>(chipset_slot_[i]), 0};
      }
    }
    std::vector<std::size_t> deferred;  // dry run: devices with a root-bus fallback come last
    for (const unit& u : order_) {
      if (u.is_controller) {
        controller& c = p_.controllers[u.index];
        if (c.has_address || (dry && c.index == dmi_in_dry_)) continue;
        const slot_choice s = reserve_next(t, dry, p_.need_of(c), 0, -1, c);
        if (!s.found) return false;
        if (!dry) {
          c.has_address = true;
          c.libvirt_address = controller_address(0, s.bus, s.slot, s.function);
        }
        continue;
      }
      const std::size_t i = u.index;
      const request& r = p_.requests[i];
      if (r.fixed == address_kind::full || chipset_slot_[i] >= 0) continue;
      const connect_set need = p_.routes[i].need;
      slot_choice s{};
      bool on_root = false;
      if (root_fallback(r)) {
        if (dry) {
          deferred.push_back(i);
          continue;
        }
        s = reserve_next(t, false, need, group_of(r), -1, r.name, &on_root);
      } else if (r.multifunction != 0) {
        slot_choice& g = slot_of_group(r.multifunction);
        if (g.found) {
          if ((t.buses[g.bus].used[g.slot] >> r.function) & 1u) {
            return p_.fail(errc::address_in_use, r.name, "finds the function it needs in its multifunction group taken");
          }
          t.reserve(g.bus, g.slot, r.function, need, group_of(r), false);
          s = slot_choice{true, g.bus, g.slot, r.function};
        } else {
          // the group's first member to be placed picks the slot; libvirt's dry run gives
          // it no address, so there each member takes a slot of its own (RULES.md L4.7)
          s = reserve_next(t, dry, need, group_of(r), static_cast<int>(r.function), r.name);
          if (!dry) g = s;
        }
      } else if (r.fixed == address_kind::bus) {
        const std::size_t bus = r.libvirt_address.bus.value;
        if (!t.exists(bus)) return p_.fail(errc::no_such_bus, r.name, "names a bus (controller index) that does not exist");
        if (!t.accepts(bus, need)) return p_.fail(errc::incompatible_bus, r.name, "names a bus that does not take it");
        s = t.choose_slot(bus, need.intersects(connect::aggregate_slot), -1);
        if (!s.found) return p_.fail(errc::no_free_slot, r.name, "names a bus that has no free slot");
        t.reserve(s.bus, s.slot, s.function, need, group_of(r), false);
      } else {
        s = reserve_next(t, dry, need, group_of(r), -1, r.name);
      }
      if (!s.found) return false;
      if (!dry) {
        const bool on_added = s.bus < added_bus_.size() && added_bus_[s.bus];
        p_.place(i, controller_address(0, s.bus, s.slot, s.function),
              r.multifunction != 0  ? rule::multifunction_group
              : on_root             ? rule::root_bus_fallback
              : r.fixed == address_kind::bus ? rule::given_bus
              : on_added            ? rule::added_bus
                                    : rule::lowest_free_slot);
      }
    }
    for (const std::size_t i : deferred) {
      bool on_root = false;
      if (!reserve_next(t, true, p_.routes[i].need, group_of(p_.requests[i]), -1, p_.requests[i].name, &on_root).found) {
        return false;
      }
    }
    return true;
  }

  /// A device that may stay on the root bus rather than cause a new bus (the legacy
  /// default USB controller of an existing q35 domain: the corpus pairs
  /// usb-controller-default-q35, x86_64-q35-default-models, watchdog-q35-multiple). The
  /// dry run places these devices after all others, so a bridge other devices need
  /// takes them too.
  [[nodiscard]] static constexpr bool root_fallback(const request& r) noexcept {
    return r.otherwise == fallback::root_bus && r.fixed == address_kind::none && r.multifunction == 0;
  }

  // ---- the two passes ---------------------------------------------------------------

  [[nodiscard]] constexpr bool has_pci_root() const noexcept {
    const controller_descriptor* root = p_.controllers.front().kind;
    return root->model == "pci-root";  // pc, pseries (a PHB is libvirt's pci-root), s390x
  }

  constexpr bool dry_run() {
    if constexpr (!has_pci_v<M>) {
      return true;
    } else {
      bus_table t;
      const unsigned max_idx = p_.controllers.back().index.value;
      refill(dry_kinds_, max_idx + 1u, static_cast<const controller_descriptor*>(nullptr));
      for (unsigned i = 0; i <= max_idx; ++i) {
        const controller* c = p_.find(controller_index{static_cast<std::uint16_t>(i)});
        if (c != nullptr) {
          define(t, *c);
        } else {
          t.define(i, *gap_model(), true);
          dry_kinds_[i] = gap_model();
        }
      }
      if (!reserve_existing(t, true) || !chipset(t, true)) return false;
      // a running guest gets no headroom and no spare: libvirt's live path never grows
      const bool live = !p_.live.empty();
      if (!live && has_pci_root() && !t.fully_reserved()) {
        if (!reserve_next(t, true, connect::pci_endpoint | connect::hotpluggable, 0, -1, "spare slot").found) {
          return false;
        }
      }
      if (!assign_all(t, true)) return false;
      const bool user_controllers = max_idx > 0;
      if (!live && !user_controllers && t.size() > 1 && has_pcie_root_v<M>) {
        if (!reserve_next(t, true, connect::pcie_endpoint | connect::hotpluggable, 0, -1, "spare root port").found) {
          return false;
        }
      }
      // a controller for every bus that has none; each needs a slot, which may add buses
      for (std::size_t i = 1; i < t.size(); ++i) {
        if (p_.find(controller_index{static_cast<std::uint16_t>(i)}) != nullptr) continue;
        controller c{};
        c.index = controller_index{static_cast<std::uint16_t>(i)};
        c.kind = dry_kinds_[i];
        c.added = true;
        new_controllers_.push_back(c);
        if (c.kind->is_root()) continue;
        if (!reserve_next(t, true, c.kind->connects_as, 0, -1, new_controllers_.back()).found) return false;
      }
      return true;
    }
  }

  /// A running guest (libvirt's live path) never grows: when the dry run had to add a
  /// bus, the first device hot-added now has no slot ("No more available PCI slots").
  constexpr bool live_without_growth() {
    if (p_.live.empty() || new_controllers_.empty()) return true;
    for (std::size_t i = 0; i != p_.requests.size(); ++i) {
      if (p_.hot_added(i)) return p_.fail(errc::no_free_slot, p_.requests[i].name, no_live_slot);
    }
    return true;
  }

  constexpr bool real_pass() {
    if constexpr (!has_pci_v<M>) {
      return true;
    } else {
      p_.insert_controllers(new_controllers_);
      refill(added_bus_, p_.controllers.back().index.value + 1u, static_cast<unsigned char>(0));
      for (const controller& c : p_.controllers) added_bus_[c.index.value] = c.added && c.index.value != 0 ? 1 : 0;
      // the order now includes the added controllers (address-less) before the devices
      std::vector<unit> devices;
      for (const unit& u : order_) {
        if (!u.is_controller) devices.push_back(u);
      }
      order_.clear();
      append_controller_units(p_, order_);
      order_.insert(order_.end(), devices.begin(), devices.end());
      bus_table t;
      for (const controller& c : p_.controllers) define(t, c);
      return reserve_existing(t, false) && chipset(t, false) && assign_all(t, false);
    }
  }

  /// busNr = the lowest busNr in use - 2 (from 256), in libvirt's controller-list order:
  /// the order the caller gave the controllers (RULES.md L4.6). libvirt adds no expanders.
  constexpr bool number_expanders() {
    for (const controller& g : p_.given) {
      const std::size_t k = p_.position_of(g.index);
      if (k == no_position) continue;
      controller& c = p_.controllers[k];
      if (!c.kind->numbered_by.has(numbering::bus_nr) || c.bus_nr >= 0) continue;
      int lowest = 256;
      for (const controller& o : p_.controllers) {
        if (o.bus_nr >= 0 && o.bus_nr < lowest) lowest = o.bus_nr;
      }
      if (lowest <= 2) {
        return p_.fail(errc::numbering_exhausted, c, "finds no busNr below the lowest one in use; set busNr by hand");
      }
      c.bus_nr = lowest - 2;
    }
    return true;
  }

  /// A pci-bridge's index must be larger than the index of the bus it sits on.
  constexpr bool check_bridges() {
    for (const controller& c : p_.controllers) {
      if (is_kind<pci_bridge>(c.kind) && c.has_address && c.index.value <= c.libvirt_address.bus.value) {
        return p_.fail(errc::invalid_controller, c, "is a pci-bridge whose index is not larger than its bus");
      }
    }
    return true;
  }
};

}  // namespace pciplan::inline v0::detail

#endif  // PCIPLAN_PLANNER_DETAIL_LIBVIRT_POLICY_HPP
