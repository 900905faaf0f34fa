// pciplan — planner/detail/planning.hpp: what both policies share — checking the input,
// the bus table built from controllers, the order of placement, the machine's chipset
// positions, multifunction marks, numbering defaults and firmware bus numbers.
#ifndef PCIPLAN_PLANNER_DETAIL_PLANNING_HPP
#define PCIPLAN_PLANNER_DETAIL_PLANNING_HPP

#include <pciplan/vocabulary/address.hpp>
#include <pciplan/kinds/compatibility.hpp>
#include <pciplan/vocabulary/connect.hpp>
#include <pciplan/topology/controller.hpp>
#include <pciplan/kinds/controller_kinds.hpp>
#include <pciplan/planner/detail/bus_table.hpp>
#include <pciplan/detail/config.hpp>
#include <pciplan/detail/vectors.hpp>
#include <pciplan/kinds/device_kinds.hpp>
#include <pciplan/vocabulary/error.hpp>
#include <pciplan/kinds/kind_lists.hpp>
#include <pciplan/kinds/machine_types.hpp>
#include <pciplan/topology/topology_plan.hpp>
#include <pciplan/planner/policies.hpp>
#include <pciplan/topology/request.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <type_traits>
#include <vector>

namespace pciplan::inline v0::detail {

/// The error the planner returns: the device (or controller) named first, then the
/// rule that was broken.
constexpr error plan_error(errc code, std::string_view subject, std::string_view reason) {
  return error{code, {}, reason, bounded_text<96>(subject), error::no_position};
}

/// A controller's name in errors: "controller 3 (pcie-root-port)".
constexpr bounded_text<96> controller_name(const controller& c) {
  bounded_text<96> t("controller ");
  t.append_decimal(c.index.value);
  if (c.kind != nullptr) t.append(" (").append(c.kind->model).append(')');
  return t;
}

/// Who an error is about: a request's name, or a controller (named only when an error
/// is actually reported, so planning does not format names it never needs).
struct subject {
  std::string_view name{};
  const controller* ctl = nullptr;
  constexpr subject(std::string_view n) noexcept : name(n) {}  // NOLINT: implicit on purpose
  constexpr subject(const char* n) noexcept : name(n) {}       // NOLINT
  constexpr subject(const controller& c) noexcept : ctl(&c) {}  // NOLINT
};

/// An item to place: a request, or a given controller without an address.
struct unit {
  bool is_controller = false;
  std::size_t index = 0;  ///< request index, or position in `controllers`
  int rank = 0;           ///< libvirt class rank, or the request's order key
  std::size_t position = 0;
};

/// How a request travels, decided before any slot is chosen.
struct request_route {
  placement_kind kind = placement_kind::pci;
  connect_set need{};  ///< connect flags for PCI (with auto_assign)
};

/// The state both policies work on.
template <MachineType M>
struct planning {
  std::span<const request> requests;
  std::span<const controller> given;
  plan_options options{};
  unsigned max_index = 255;

  std::vector<controller> controllers;  // by index order once built
  std::vector<placement> placements;    // per request
  std::vector<request_route> routes;    // per request
  std::vector<unsigned char> done;      // per request: has its place (not vector<bool>: clang 14 cannot constant-evaluate it)
  std::vector<warning> warnings;
  std::vector<int> chipset_slot;  // per request: the chipset slot it took, -1: none
  error failure{};
  bool failed = false;
  /// static_plan: a failure stops compilation right where it happens, so that the
  /// diagnostic's call chain shows the device and the planner's sentence.
  bool compile_time_errors = false;

  static constexpr bool pcie_machine = has_pcie_root_v<M>;

  constexpr bool fail(errc code, const subject& who, std::string_view reason) {
    if (compile_time_errors && std::is_constant_evaluated()) {
      // one line, so that g++ shows the literal in its diagnostic
      compile_time_error("pciplan::static_plan: the layout cannot be planned; the call chain above names the device and the reason");  // NOLINT
    }
    if (!failed) {
      failed = true;
      failure = who.ctl != nullptr ? error{code, {}, reason, controller_name(*who.ctl), error::no_position}
                                   : plan_error(code, who.name, reason);
    }
    return false;
  }

  // ---- input checks ---------------------------------------------------------------

  /// The connect flags of a request on this machine, its link constraint applied.
  [[nodiscard]] constexpr connect_set need_of(const request& r) const noexcept {
    link_kind link = r.device.link;
    if (r.link == link_need::pci) link = link_kind::conventional;
    if (r.link == link_need::pcie) link = link_kind::express;
    return connect_for(link, r.device.integrated, pcie_machine);
  }

  constexpr bool check_requests() {
    const std::size_t n = requests.size();
    placements.assign(n, placement{});
    routes.assign(n, request_route{});
    refill(done, n, static_cast<unsigned char>(0));
    // unique names: an open-addressing hash set of request indexes (FNV-1a)
    std::size_t capacity = 16;
    while (capacity < 2 * n) capacity *= 2;
    std::vector<std::size_t> table = filled(capacity, n);  // n: empty
    for (std::size_t i = 0; i != n; ++i) {
      std::uint64_t h = 1469598103934665603ull;
      for (char ch : requests[i].name) h = (h ^ static_cast<unsigned char>(ch)) * 1099511628211ull;
      for (std::size_t at = h & (capacity - 1);; at = (at + 1) & (capacity - 1)) {
        if (table[at] == n) {
          table[at] = i;
          break;
        }
        if (requests[table[at]].name == requests[i].name) {
          return fail(errc::duplicate_name, requests[i].name, "two requests have this name");
        }
      }
    }
    for (std::size_t i = 0; i != n; ++i) {
      const request& r = requests[i];
      placements[i].request = i;
      placements[i].name = r.name;
      if (r.name.empty()) return fail(errc::invalid_request, "(unnamed)", "every request needs a name");
      if (r.link == link_need::pcie && r.device.link == link_kind::conventional) {
        return fail(errc::invalid_request, r.name,
                    "asks for a PCI Express slot, but the device is conventional PCI only");
      }
      if (r.numa >= 0) {
        if (options.numa_nodes != 0 && static_cast<unsigned>(r.numa) >= options.numa_nodes) {
          return fail(errc::invalid_request, r.name, "names a NUMA node the guest does not have");
        }
      }
      if (r.multifunction != 0 && r.function > max_function) {
        return fail(errc::multifunction_conflict, r.name, "its multifunction group function must be 0 to 7");
      }
      if (r.via == transport::mmio && r.fixed != address_kind::none) {
        return fail(errc::invalid_request, r.name, "asks for virtio-mmio and for a PCI address at once");
      }
      if (r.via == transport::mmio && r.device.mmio_device.empty()) {
        return fail(errc::invalid_request, r.name, "asks for virtio-mmio, but the device has no virtio-mmio variant");
      }
      if (r.fixed == address_kind::domain && r.libvirt_address.domain != 0 && !machine_traits<M>::multiple_roots) {
        return fail(errc::no_such_bus, r.name, "names a PCI domain other than 0, and this machine type has only domain 0");
      }
      if (r.fixed == address_kind::full || r.fixed == address_kind::bus) {
        if (r.libvirt_address.bus.value > max_index) {
          return fail(errc::controller_index_exhausted, r.name, "its address names a controller index above the limit");
        }
      }
    }
    return check_groups();
  }

  /// Multifunction groups: one function each, function 0 present, fixed addresses agree.
  constexpr bool check_groups() {
    std::vector<std::size_t> members;
    for (std::size_t i = 0; i != requests.size(); ++i) {
      if (requests[i].multifunction != 0) members.push_back(i);
    }
    std::sort(members.begin(), members.end(), [&](std::size_t a, std::size_t b) {
      return requests[a].multifunction != requests[b].multifunction
                 ? requests[a].multifunction < requests[b].multifunction
                 : a < b;
    });
    for (std::size_t g = 0; g < members.size();) {
      std::size_t e = g;
      unsigned functions = 0;
      const request& first = requests[members[g]];
      while (e < members.size() && requests[members[e]].multifunction == first.multifunction) {
        const request& r = requests[members[e]];
        if ((functions >> r.function) & 1u) {
          return fail(errc::multifunction_conflict, r.name,
                      "shares its function with another member of its multifunction group");
        }
        functions |= 1u << r.function;
        if (r.fixed != first.fixed || r.numa != first.numa || r.isolation != first.isolation ||
            (r.fixed == address_kind::full &&
             (r.libvirt_address.bus != first.libvirt_address.bus || r.libvirt_address.slot != first.libvirt_address.slot ||
              r.libvirt_address.function != r.function))) {
          return fail(errc::multifunction_conflict, r.name,
                      "disagrees with its multifunction group on address, NUMA node or isolation group");
        }
        ++e;
      }
      if ((functions & 1u) == 0) {
        return fail(errc::multifunction_conflict, first.name,
                    "its multifunction group has no function 0, which QEMU needs");
      }
      g = e;
    }
    return true;
  }

  /// The given controllers, sorted by index, checked; the machine's root added when
  /// it is missing.
  constexpr bool check_controllers() {
    if constexpr (!has_pci_v<M>) {
      if (!given.empty()) return fail(errc::invalid_controller, given.front(), "is a PCI controller, and the machine type has no PCI");
      return true;
    } else {
      return check_pci_controllers();
    }
  }

  constexpr bool check_pci_controllers() {
    using root = root_of<M>;
    controllers.assign(given.begin(), given.end());
    std::sort(controllers.begin(), controllers.end(),
              [](const controller& a, const controller& b) { return a.index < b.index; });
    for (std::size_t i = 0; i != controllers.size(); ++i) {
      controller& c = controllers[i];
      c.added = false;
      if (c.kind == nullptr) return fail(errc::invalid_controller, c, "has no kind");
      if (i > 0 && controllers[i - 1].index == c.index) {
        return fail(errc::invalid_controller, c, "has the same index as another controller");
      }
      if (c.index.value > max_index) return fail(errc::controller_index_exhausted, c, "has an index above the limit");
      const bool root_kind = c.kind->is_root();
      if (c.index.value == 0) {
        if (!is_kind<root>(c.kind)) {
          return fail(errc::invalid_controller, c, "must be the root bus of the machine type (index 0 is the root)");
        }
      } else if (root_kind && !(machine_traits<M>::multiple_roots && is_kind<root>(c.kind))) {
        return fail(errc::invalid_controller, c, "is a root bus, which only index 0 may be on this machine");
      }
      if (root_kind && c.has_address) return fail(errc::invalid_controller, c, "is a root bus and cannot have an address");
      if (c.numa_node >= 0) {
        if (!c.kind->numa_node || (c.kind->is_root() && c.index.value == 0)) {
          return fail(errc::invalid_controller, c, "cannot be bound to a NUMA node");
        }
        if (options.numa_nodes != 0 && static_cast<unsigned>(c.numa_node) >= options.numa_nodes) {
          return fail(errc::invalid_controller, c, "names a NUMA node the guest does not have");
        }
      }
      if (!check_numbering(c)) return false;
      if (!available(*c.kind)) {
        return fail(errc::invalid_controller, c, "is a kind this machine type does not have");
      }
    }
    if (controllers.empty() || controllers.front().index.value != 0) {
      controller r = make_controller<root>(0);
      r.added = true;
      controllers.insert(controllers.begin(), r);
    }
    return true;
  }

  constexpr bool check_numbering(const controller& c) {
    const auto in = [](int v, numbering n) { return v < 0 || range_of(n).contains(static_cast<unsigned>(v)); };
    const numbering_set has = c.kind->numbered_by;
    if ((c.chassis >= 0 && !has.has(numbering::chassis)) || (c.port >= 0 && !has.has(numbering::port)) ||
        (c.chassis_nr >= 0 && !has.has(numbering::chassis_nr)) || (c.bus_nr >= 0 && !has.has(numbering::bus_nr)) ||
        (c.target_index >= 0 && !has.has(numbering::target_index))) {
      return fail(errc::invalid_controller, c, "has a numbering attribute its kind does not take");
    }
    if (!in(c.chassis, numbering::chassis) || !in(c.port, numbering::port) ||
        !in(c.chassis_nr, numbering::chassis_nr) || !in(c.bus_nr, numbering::bus_nr) ||
        !in(c.target_index, numbering::target_index)) {
      return fail(errc::numbering_out_of_range, c, "has a numbering attribute out of its range");
    }
    return true;
  }

  /// Whether a kind may appear on this machine (built-in kinds: AvailableOn; user kinds
  /// are trusted).
  [[nodiscard]] static constexpr bool available(const controller_descriptor& kind) noexcept {
    constexpr auto flags = availability<M>(controller_kinds);
    for (std::size_t i = 0; i != builtin_descriptors.size(); ++i) {
      if (same_kind(*builtin_descriptors[i], kind)) return flags[i];
    }
    return true;
  }

  // ---- lookups --------------------------------------------------------------------

  std::vector<int> index_position;  // once final: controller index -> position (finish())

  [[nodiscard]] constexpr int position_of(controller_index index) const noexcept {
    if (!index_position.empty()) {
      return index.value < index_position.size() ? index_position[index.value] : -1;
    }
    const auto it = std::lower_bound(controllers.begin(), controllers.end(), index,
                                     [](const controller& c, controller_index i) { return c.index < i; });
    return (it != controllers.end() && it->index == index) ? static_cast<int>(it - controllers.begin()) : -1;
  }
  [[nodiscard]] constexpr const controller* find(controller_index index) const noexcept {
    const int p = position_of(index);
    return p < 0 ? nullptr : &controllers[static_cast<std::size_t>(p)];
  }

  /// Whether every controller hangs below a root. libvirt places an address-less switch
  /// upstream port given with its downstream ports on one of those ports, below itself:
  /// a layout QEMU cannot build, refused here instead.
  constexpr bool check_attached() {
    for (const controller& c : controllers) {
      const controller* x = &c;
      for (std::size_t hops = 0; !x->kind->is_root() && x->has_address; ++hops) {
        if (hops > controllers.size()) {  // x is on the loop now: name it
          return fail(errc::invalid_controller, *x,
                      "is on a loop of controllers, each on the bus of another (libvirt places address-less "
                      "switch ports so), which QEMU cannot build: give the address-less ones an address");
        }
        x = find(x->libvirt_address.bus);
        if (x == nullptr) break;
      }
    }
    return true;
  }

  /// Connect flags of a controller that needs a slot.
  [[nodiscard]] static constexpr connect_set need_of(const controller& c) noexcept { return c.kind->connects_as; }

  // ---- the machine's own positions -------------------------------------------------

  /// Requests that play a chipset role, in input order of the first of each kind.
  struct roles {
    int primary_video = -1;
    int piix3_usb = -1;
    int ide = -1;
    int sata = -1;
    int ich9_sound = -1;
    std::array<unsigned, 2> usb2_groups{};  // multifunction group ids of ICH9 USB2 sets
  };

  roles role{};

  /// The requests that play a chipset role: the first of each kind (libvirt: the
  /// controller with index 0, the first video...). A built-in controller (PIIX3 USB and
  /// IDE, ICH9 SATA) pinned somewhere else is never drafted into its role: only a
  /// caller that knows it is the chipset's own (the libvirt reader: index 0) can say so,
  /// by pinning it at the chipset address. `relaxed` (pciplan): neither is a video
  /// pinned somewhere else.
  [[nodiscard]] constexpr roles find_roles(bool relaxed = false) const {
    roles r{};
    bool usb_seen = false;
    bool ide_seen = false;
    bool sata_seen = false;
    bool video_seen = false;
    bool sound_seen = false;
    std::size_t usb2 = 0;
    // A built-in controller pinned at its own chipset address is that role, whatever
    // comes first: libvirt ties these roles to index 0, which the caller expresses by
    // pinning it there (the libvirt reader does).
    for (std::size_t i = 0; i != requests.size(); ++i) {
      const request& q = requests[i];
      if (routes[i].kind != placement_kind::pci || q.fixed != address_kind::full) continue;
      for (const preferred_slot& pref : machine_traits<M>::preferred) {
        if (!pref.required || q.libvirt_address != controller_address(0, 0, pref.slot, pref.function)) continue;
        const std::string_view dev = q.device.qemu_device;
        if (pref.role == slot_role::piix3_usb && dev == device_traits<models::piix3_uhci>::qemu_device && !usb_seen) {
          r.piix3_usb = static_cast<int>(i);
          usb_seen = true;
        } else if (pref.role == slot_role::ide && dev == device_traits<models::piix3_ide>::qemu_device && !ide_seen) {
          r.ide = static_cast<int>(i);
          ide_seen = true;
        } else if (pref.role == slot_role::sata && dev == device_traits<models::ich9_ahci>::qemu_device && !sata_seen) {
          r.sata = static_cast<int>(i);
          sata_seen = true;
        }
      }
    }
    const auto pinned_elsewhere = [&](const request& q, slot_role role) {
      if (q.fixed != address_kind::full) return false;
      if (!relaxed && role == slot_role::primary_video) return false;
      for (const preferred_slot& pref : machine_traits<M>::preferred) {
        if (pref.role == role && q.libvirt_address == controller_address(0, 0, pref.slot, pref.function)) return false;
      }
      return true;
    };
    const bool drafted = options.chipset == plan_options::chipset_controllers::first_of_kind;
    for (std::size_t i = 0; i != requests.size(); ++i) {
      const request& q = requests[i];
      if (routes[i].kind != placement_kind::pci) continue;
      // a chipset position is for a device with no other constraint; ICH9 USB2
      // companion sets are multifunction groups by nature
      const bool companion = q.device.companion_function >= 0;
      if (q.numa >= 0 || q.isolation != 0 || (q.multifunction != 0 && !companion) || q.fixed == address_kind::bus ||
          (q.fixed == address_kind::domain && q.libvirt_address.domain != 0)) {
        continue;
      }
      const std::string_view el = q.device.libvirt.element;
      if (!companion && el != "video" && el != "controller" && el != "sound") continue;  // the only roles
      const std::string_view dev = q.device.qemu_device;
      const bool usb = el == "controller" && q.device.libvirt.model.find("hci") != std::string_view::npos;
      if (el == "video" && !video_seen) {
        video_seen = true;
        if (!pinned_elsewhere(q, slot_role::primary_video)) r.primary_video = static_cast<int>(i);
      }
      if (dev == device_traits<models::piix3_ide>::qemu_device && !ide_seen) {
        ide_seen = true;
        if (drafted && !pinned_elsewhere(q, slot_role::ide)) r.ide = static_cast<int>(i);
      }
      if (dev == device_traits<models::ich9_ahci>::qemu_device && !sata_seen) {
        sata_seen = true;
        if (drafted && !pinned_elsewhere(q, slot_role::sata)) r.sata = static_cast<int>(i);
      }
      if (dev == device_traits<models::ich9_intel_hda>::qemu_device && !sound_seen && anywhere_in_domain0(q)) {
        sound_seen = true;
        r.ich9_sound = static_cast<int>(i);
      }
      if (usb && !usb_seen && drafted && dev == device_traits<models::piix3_uhci>::qemu_device &&
          !pinned_elsewhere(q, slot_role::piix3_usb)) {
        r.piix3_usb = static_cast<int>(i);
      }
      if (usb) usb_seen = true;
      if (companion && q.multifunction != 0 && usb2 < 2) {
        bool known = false;
        for (std::size_t k = 0; k != usb2; ++k) known = known || r.usb2_groups[k] == q.multifunction;
        if (!known) r.usb2_groups[usb2++] = q.multifunction;
      }
    }
    return r;
  }

  /// Records where request `i` went.
  /// A virtio device (the ones s390x puts on channel I/O).
  [[nodiscard]] static constexpr bool is_virtio(const request& r) noexcept {
    const std::string_view d = r.device.qemu_device;
    return d.starts_with("virtio-") || d.starts_with("vhost-");
  }

  /// Records how request i travels. virtio-mmio and CCW take the next transport (`mmio`
  /// counts down from the machine's last virtio-mmio transport, `ccw` counts up) and are
  /// done; PCI is left to the policy.
  constexpr bool assign_transport(std::size_t i, placement_kind kind, unsigned& mmio, unsigned& ccw) {
    constexpr unsigned transports = machine_traits<M>::virtio_mmio_transports;
    routes[i].kind = kind;
    placement& pl = placements[i];
    pl.kind = kind;
    if (kind == placement_kind::mmio) {
      if (mmio >= transports) {
        return fail(errc::mmio_exhausted, requests[i].name,
                    transports == 0 ? "asks for virtio-mmio, which this machine type does not have"
                                    : "needs a virtio-mmio transport, and every transport of the machine is in use");
      }
      pl.transport = transports - 1 - mmio++;
      pl.why = rule::virtio_mmio;
      done[i] = 1;
    } else if (kind == placement_kind::ccw) {
      pl.transport = ccw++;
      pl.why = rule::channel_io;
      done[i] = 1;
    }
    return true;
  }

  constexpr void place(std::size_t i, controller_address a, rule why) {
    placement& pl = placements[i];
    pl.kind = placement_kind::pci;
    pl.libvirt_address = a;
    pl.why = why;
    done[i] = 1;
  }

  // ---- the machine's own positions (libvirt's ValidateDevicePCISlotsChipsets) ------
  // `dry`: reserve without recording placements (libvirt's dry run).

  [[nodiscard]] constexpr int role_request(slot_role which) const noexcept {
    switch (which) {
      case slot_role::ide: return role.ide;
      case slot_role::sata: return role.sata;
      case slot_role::piix3_usb: return role.piix3_usb;
      case slot_role::primary_video: return role.primary_video;
      case slot_role::ich9_sound: return role.ich9_sound;
      default: return -1;
    }
  }
  /// Whether a built-in controller request stands for this chipset function.
  [[nodiscard]] constexpr bool role_owns(unsigned slot, unsigned function) const noexcept {
    for (const preferred_slot& pref : machine_traits<M>::preferred) {
      if (pref.required && pref.slot == slot && pref.function == function && role_request(pref.role) >= 0) return true;
    }
    return false;
  }

  /// No address given, or only PCI domain 0, which holds the chipset positions: the
  /// request may take one.
  [[nodiscard]] static constexpr bool anywhere_in_domain0(const request& q) noexcept {
    return q.fixed == address_kind::none || (q.fixed == address_kind::domain && q.libvirt_address.domain == 0);
  }

  [[nodiscard]] constexpr bool unaddressed(int request) const noexcept {
    return request >= 0 && anywhere_in_domain0(requests[static_cast<std::size_t>(request)]);
  }

  /// `video_fallback`: when the primary video's position is taken, set to its request
  /// (libvirt then places it at once, before everything else); nullptr: leave it to the
  /// normal order.
  constexpr bool chipset(bus_table& t, bool dry, controller_index* dmi_deferred, int* video_fallback = nullptr) {
    if constexpr (!has_pci_v<M>) {
      return true;
    } else {
      constexpr connect_set chipset_need = connect::pci_endpoint;
      // The chipset's own functions. A function that a built-in controller request
      // (IDE, SATA) stands for is left to that request, which may also be given.
      for (const reserved_function& r : machine_traits<M>::reserved) {
        if (((t.buses[0].usable >> r.slot) & 1u) == 0) continue;  // the host bridge's slot 0
        if (role_owns(r.slot, r.function)) continue;
        if ((t.buses[0].used[r.slot] >> r.function) & 1u) {
          return fail(errc::address_in_use, r.what,
                         "is where the chipset of the machine sits, and another device has this address");
        }
        t.reserve(0, r.slot, r.function, chipset_need, 0, true);
      }
      std::size_t usb2 = 0;
      for (const preferred_slot& pref : machine_traits<M>::preferred) {
        const controller_address at(0, 0, pref.slot, pref.function);
        switch (pref.role) {
          case slot_role::ide:
          case slot_role::sata:
          case slot_role::piix3_usb: {
            // built into the machine: the role's controller is exactly here (find_roles
            // gives the role to no controller pinned anywhere else)
            const int who = role_request(pref.role);
            if (who < 0) break;
            const std::size_t w = static_cast<std::size_t>(who);
            const request& r = requests[w];
            if (r.fixed == address_kind::full) {
              if (!dry) place(w, at, rule::chipset_slot);
              break;
            }
            if ((t.buses[0].used[pref.slot] >> pref.function) & 1u) {
              return fail(errc::address_in_use, r.name, "needs its chipset address, and another device has it");
            }
            t.reserve(0, pref.slot, pref.function, routes[w].need, 0, true);
            if (!dry) place(w, at, rule::chipset_slot);
            chipset_slot[w] = pref.slot;
            break;
          }
          case slot_role::primary_video:
          case slot_role::ich9_sound: {
            const int who = role_request(pref.role);
            if (!unaddressed(who)) break;
            if (t.buses[0].used[pref.slot] != 0) {
              if (pref.role == slot_role::primary_video && video_fallback != nullptr) *video_fallback = who;
              break;
            }
            const std::size_t w = static_cast<std::size_t>(who);
            t.reserve(0, pref.slot, pref.function, routes[w].need, 0, false);
            if (!dry) place(w, at, rule::chipset_slot);
            chipset_slot[w] = pref.slot;
            break;
          }
          case slot_role::usb2_companions: {
            if (usb2 >= role.usb2_groups.size()) break;
            const unsigned group = role.usb2_groups[usb2++];
            if (group == 0 || t.buses[0].used[pref.slot] != 0) break;
            bool any_fixed = false;
            for (const request& r : requests) any_fixed = any_fixed || (r.multifunction == group && r.fixed != address_kind::none);
            if (any_fixed) break;
            for (std::size_t i = 0; i != requests.size(); ++i) {
              const request& r = requests[i];
              if (r.multifunction != group) continue;
              t.reserve(0, pref.slot, r.function, routes[i].need, 0, false);
              if (!dry) place(i, controller_address(0, 0, pref.slot, r.function), rule::chipset_slot);
              chipset_slot[i] = pref.slot;
            }
            break;
          }
          case slot_role::dmi_to_pci_bridge: {
            for (controller& c : controllers) {
              if (!is_kind<dmi_to_pci_bridge>(c.kind) || c.has_address) continue;
              if (t.buses[0].used[pref.slot] != 0) break;
              t.reserve(0, pref.slot, 0, need_of(c), 0, false);
              if (!dry) {
                c.has_address = true;
                c.libvirt_address = at;
              } else if (dmi_deferred != nullptr) {
                *dmi_deferred = c.index;
              }
              break;
            }
            break;
          }
        }
      }
      return true;
    }
  }

  // ---- finishing ------------------------------------------------------------------

  /// multifunction='on' for function 0 of every slot whose other functions are used
  /// (unless a controller says off).
  constexpr void mark_multifunction() {
    // a bit per (bus, slot): some function other than 0 is used there
    std::size_t buses = 0;
    for (const controller& c : controllers) buses = std::max<std::size_t>(buses, c.index.value + 1u);
    std::vector<std::uint32_t> shared = filled(buses, 0u);
    bool any = false;
    const auto mark = [&](const controller_address& a) {
      if (a.function != 0 && a.bus.value < buses) {
        shared[a.bus.value] |= 1u << a.slot;
        any = true;
      }
    };
    const auto is_shared = [&](const controller_address& a) {
      return a.bus.value < buses && ((shared[a.bus.value] >> a.slot) & 1u) != 0;
    };
    for (const placement& p : placements) {
      if (p.kind == placement_kind::pci) mark(p.libvirt_address);
    }
    for (const controller& c : controllers) {
      if (c.has_address) mark(c.libvirt_address);
    }
    if (!any) return;
    for (placement& p : placements) {
      if (p.kind == placement_kind::pci && p.libvirt_address.function == 0 && is_shared(p.libvirt_address)) {
        p.multifunction = true;
      }
    }
    for (controller& c : controllers) {
      if (c.has_address && c.libvirt_address.function == 0 && c.multifunction != toggle::off && is_shared(c.libvirt_address)) {
        c.multifunction = toggle::on;
      }
    }
  }

  /// libvirt's numbering defaults for anything not set (libvirt-rules.md §4.6): the
  /// model name, chassisNr = index, chassis = index, port = slot*8+function (root port)
  /// or slot (downstream port), targetIndex = lowest unused (pseries). busNr is the
  /// policy's business.
  constexpr bool number_controllers() {
    for (controller& c : controllers) {
      const controller_descriptor& k = *c.kind;
      if (c.model_name.empty()) c.model_name = k.qemu_device();
      if (k.numbered_by.has(numbering::chassis_nr) && c.chassis_nr < 0) c.chassis_nr = c.index.value;
      if (k.numbered_by.has(numbering::chassis) && c.chassis < 0) c.chassis = c.index.value;
      if (k.numbered_by.has(numbering::port) && c.port < 0) {
        c.port = is_kind<pcie_switch_downstream_port>(&k) ? c.libvirt_address.slot
                                                                    : c.libvirt_address.slot * 8 + c.libvirt_address.function;
      }
      if (k.numbered_by.has(numbering::target_index) && c.target_index < 0) {
        if (c.index.value == 0) {
          c.target_index = 0;
        } else {
          int t = 1;
          for (; t <= 31; ++t) {
            bool taken = false;
            for (const controller& o : controllers) taken = taken || (same_kind(*o.kind, *c.kind) && o.target_index == t);
            if (!taken) break;
          }
          if (t > 31) return fail(errc::numbering_exhausted, c, "finds no free PHB target index (1 to 31)");
          c.target_index = t;
        }
      }
      // chassis/chassisNr/port beyond 255 (large pciplan plans): fold into range
      if (c.chassis > 255) c.chassis = c.chassis % 256;
      if (c.chassis_nr > 255) c.chassis_nr = 1 + (c.chassis_nr - 1) % 255;
    }
    return true;
  }

  /// Guest bus numbers as firmware assigns them: each root bus (and each pseries PHB,
  /// a PCI domain of its own) first, depth first in devfn order, every bridge or port
  /// taking the next number; then each expander bus from its busNr.
  constexpr void number_guest_buses() {
    const std::size_t n = controllers.size();
    // children of each controller, sorted by devfn (a flat list with offsets)
    // controllers in devfn order (a counting sort: devfn < 256); filling the child lists
    // in that order keeps each list in devfn order
    std::vector<std::size_t> start = filled(std::size_t{257}, std::size_t{0});
    for (const controller& c : controllers) ++start[c.libvirt_address.devfn() + 1u];
    for (std::size_t d = 0; d != 256; ++d) start[d + 1] += start[d];
    std::vector<std::size_t> order = filled(n, std::size_t{0});
    for (std::size_t i = 0; i != n; ++i) order[start[controllers[i].libvirt_address.devfn()]++] = i;
    // children of each controller in devfn order, as one list with offsets
    std::vector<std::size_t> parent_of = filled(n, n);
    std::vector<std::size_t> count = filled(n + 1, std::size_t{0});
    for (std::size_t k = 0; k != n; ++k) {
      const controller& c = controllers[k];
      if (!c.has_address) continue;
      const int parent = position_of(c.libvirt_address.bus);
      if (parent < 0) continue;
      parent_of[k] = static_cast<std::size_t>(parent);
      ++count[static_cast<std::size_t>(parent) + 1];
    }
    for (std::size_t p = 0; p != n; ++p) count[p + 1] += count[p];
    std::vector<std::size_t> kids = filled(count[n], std::size_t{0});
    std::vector<std::size_t> fill = count;
    for (std::size_t k : order) {
      if (parent_of[k] != n) kids[fill[parent_of[k]]++] = k;
    }
    const auto children = [&](std::size_t p) {
      return std::span<const std::size_t>(kids.data() + count[p], count[p + 1] - count[p]);
    };
    unsigned next = 0;
    unsigned limit = 256;  // the first bus number the current hierarchy may not reach
    std::uint16_t domain = 0;
    const auto walk = [&](auto&& self, std::size_t at, unsigned bus) -> void {
      for (std::size_t k : children(at)) {
        controller& c = controllers[k];
        c.domain = domain;
        if (c.kind->role == controller_role::expander) continue;
        const unsigned mine = next++;
        if (mine >= limit) bus_numbers_overflow = true;
        c.guest_bus = bus_number{static_cast<std::uint8_t>(mine > 255 ? 255 : mine)};
        self(self, k, mine);
      }
      (void)bus;
    };
    for (std::size_t i = 0; i != n; ++i) {
      controller& r = controllers[i];
      if (!r.kind->is_root()) continue;
      domain = static_cast<std::uint16_t>(r.kind->role == controller_role::extra_root && r.target_index > 0
                                              ? r.target_index
                                              : 0);
      r.domain = domain;
      r.guest_bus = bus_number{0};
      // expanders on this root, by busNr: each range ends where the next begins
      std::vector<std::size_t> expanders;
      for (std::size_t k : children(i)) {
        if (controllers[k].kind->role == controller_role::expander) expanders.push_back(k);
      }
      std::sort(expanders.begin(), expanders.end(),
                [&](std::size_t a, std::size_t b) { return controllers[a].bus_nr < controllers[b].bus_nr; });
      next = 1;
      limit = expanders.empty() ? 256u : static_cast<unsigned>(std::max(controllers[expanders.front()].bus_nr, 1));
      walk(walk, i, 0);
      for (std::size_t e = 0; e != expanders.size(); ++e) {
        controller& x = controllers[expanders[e]];
        const unsigned own = static_cast<unsigned>(x.bus_nr < 0 ? 0 : x.bus_nr) + x.kind->bus_numbers - 1u;
        limit = e + 1 < expanders.size() ? static_cast<unsigned>(controllers[expanders[e + 1]].bus_nr) : 256u;
        if (own >= limit) bus_numbers_overflow = true;
        x.guest_bus = bus_number{static_cast<std::uint8_t>(own > 255 ? 255 : own)};
        next = own + 1;
        walk(walk, expanders[e], own);
      }
    }
  }

  /// Guest addresses of the placements, from the controllers' bus numbers.
  constexpr void fill_guest_addresses() {
    for (placement& p : placements) {
      if (p.kind != placement_kind::pci) continue;
      const controller* c = find(p.libvirt_address.bus);
      if (c == nullptr) continue;
      // field by field: the slot and function are already valid, and g++ turns a
      // temporary address here into a stalled store-to-load copy
      p.guest_address.domain = c->domain;
      p.guest_address.bus = c->guest_bus;
      p.guest_address.slot = p.libvirt_address.slot;
      p.guest_address.function = p.libvirt_address.function;
    }
  }

  bool bus_numbers_overflow = false;

  [[nodiscard]] constexpr result<topology_plan> finish() {
    if (failed) return failure;
    mark_multifunction();
    if (!number_controllers()) return failure;
    refill(index_position, controllers.empty() ? 0u : static_cast<std::size_t>(controllers.back().index.value) + 1u, -1);
    for (std::size_t k = 0; k != controllers.size(); ++k) index_position[controllers[k].index.value] = static_cast<int>(k);
    number_guest_buses();
    if (bus_numbers_overflow) {
      warnings.push_back(warning{warning_code::bus_numbers,
                                 "the busNr range of an expander bus cannot hold every bus below it (or the main hierarchy "
                                 "reaches into it); firmware leaves some buses unnumbered",
                                 0});
    }
    fill_guest_addresses();
    // a domain-only request holds whichever way the policy searched
    for (const placement& p : placements) {
      const request& r = requests[p.request];
      if (r.fixed == address_kind::domain && p.kind == placement_kind::pci && p.guest_address.domain != r.libvirt_address.domain) {
        fail(errc::no_free_slot, r.name, "names a PCI domain that has no free slot left for it");
        return failure;
      }
    }
    return topology_plan{std::move(controllers), std::move(placements), std::move(warnings)};
  }
};

}  // namespace pciplan::inline v0::detail

#endif  // PCIPLAN_PLANNER_DETAIL_PLANNING_HPP
