// pciplan — planner/detail/chipset.hpp: the machine's own positions on the root bus —
// which requests play a chipset role (the primary video, the built-in USB, IDE and SATA
// controllers, ICH9 sound and USB2 companion sets) and the step that reserves their
// positions (libvirt's ValidateDevicePCISlotsChipsets).
//
// The step only reserves and reports what it did (`chipset_outcome`); the policy decides
// what follows: pciplan takes the seats at once (`take_chipset_seats`), libvirt's dry run
// only remembers them and its real pass takes them, and libvirt alone places a primary
// video whose position was taken before every other device.
#ifndef PCIPLAN_PLANNER_DETAIL_CHIPSET_HPP
#define PCIPLAN_PLANNER_DETAIL_CHIPSET_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/kinds/controller_kinds.hpp>
#include <pciplan/kinds/device_kinds.hpp>
#include <pciplan/kinds/machine_types.hpp>
#include <pciplan/planner/detail/bus_table.hpp>
#include <pciplan/planner/detail/planning_state.hpp>
#include <pciplan/planner/policies.hpp>
#include <pciplan/topology/request.hpp>
#include <pciplan/topology/topology_plan.hpp>
#include <pciplan/topology/topology_view.hpp>
#include <pciplan/vocabulary/address.hpp>
#include <pciplan/vocabulary/connect.hpp>
#include <pciplan/vocabulary/error.hpp>

#include <array>
#include <cstddef>
#include <string_view>
#include <vector>

namespace pciplan::inline v0::detail {

/// Requests that play a chipset role (-1: none), in input order of the first of each kind.
struct chipset_roles {
  int primary_video = -1;
  int piix3_usb = -1;
  int ide = -1;
  int sata = -1;
  int ich9_sound = -1;
  std::array<unsigned, 2> usb2_groups{};  // multifunction group ids of ICH9 USB2 sets

  [[nodiscard]] constexpr int request_for(slot_role which) const noexcept {
    switch (which) {
      case slot_role::ide: return ide;
      case slot_role::sata: return sata;
      case slot_role::piix3_usb: return piix3_usb;
      case slot_role::primary_video: return primary_video;
      case slot_role::ich9_sound: return ich9_sound;
      default: return -1;
    }
  }
};

/// How a policy drafts requests into chipset roles.
struct role_rules {
  /// The first video is the primary video even when it is pinned somewhere else (libvirt:
  /// the primary video is simply the first one). Otherwise a video pinned elsewhere
  /// plays no role, as a built-in controller pinned elsewhere never does.
  bool pinned_video_is_primary = false;
};

/// No address given, or only PCI domain 0, which holds the chipset positions: the
/// request may take one.
[[nodiscard]] constexpr bool anywhere_in_domain0(const request& q) noexcept {
  return q.fixed == address_kind::none || (q.fixed == address_kind::domain && q.libvirt_address.domain == 0);
}

/// The requests that play a chipset role: the first of each kind (libvirt: the
/// controller with index 0, the first video...). A built-in controller (PIIX3 USB and
/// IDE, ICH9 SATA) pinned somewhere else is never drafted into its role: only a caller
/// that knows it is the chipset's own (the libvirt reader: index 0) can say so, by
/// pinning it at the chipset address.
template <MachineType M>
[[nodiscard]] constexpr chipset_roles find_chipset_roles(const planning<M>& p, role_rules rules) {
  const std::span<const request> requests = p.requests;
  chipset_roles r{};
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
    if (p.routes[i].kind != placement_kind::pci || q.fixed != address_kind::full) continue;
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
    if (rules.pinned_video_is_primary && role == slot_role::primary_video) return false;
    for (const preferred_slot& pref : machine_traits<M>::preferred) {
      if (pref.role == role && q.libvirt_address == controller_address(0, 0, pref.slot, pref.function)) return false;
    }
    return true;
  };
  const bool drafted = p.options.chipset == plan_options::chipset_controllers::first_of_kind;
  for (std::size_t i = 0; i != requests.size(); ++i) {
    const request& q = requests[i];
    if (p.routes[i].kind != placement_kind::pci) continue;
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

/// A request given its chipset position by `reserve_chipset`.
struct chipset_seat {
  std::size_t request = 0;
  controller_address at{};
};

/// What `reserve_chipset` reserved and saw.
struct chipset_outcome {
  bool ok = true;                      ///< false: the plan failed (recorded in the state)
  std::vector<chipset_seat> seats;     ///< requests whose chipset position is reserved (or was given)
  std::size_t bridge = no_position;    ///< the address-less dmi-to-pci-bridge whose position is reserved
  controller_address bridge_at{};      ///< that position
  int displaced_video = -1;            ///< the unaddressed primary video whose position another device holds
};

/// Reserves the machine's own positions in `t` (bus 0): the chipset's functions, then
/// each preferred position for the request or controller that plays its role, when it
/// is free. Records no placement: see `take_chipset_seats`.
template <MachineType M>
constexpr chipset_outcome reserve_chipset(planning<M>& p, bus_table& t, const chipset_roles& role) {
  chipset_outcome out{};
  if constexpr (has_pci_v<M>) {
    const std::span<const request> requests = p.requests;
    const auto unaddressed = [&](int who) {
      return who >= 0 && anywhere_in_domain0(requests[static_cast<std::size_t>(who)]);
    };
    // Whether a built-in controller request stands for this chipset function.
    const auto role_owns = [&](unsigned slot, unsigned function) {
      for (const preferred_slot& pref : machine_traits<M>::preferred) {
        if (pref.required && pref.slot == slot && pref.function == function && role.request_for(pref.role) >= 0) {
          return true;
        }
      }
      return false;
    };
    constexpr connect_set chipset_need = connect::pci_endpoint;
    // The chipset's own functions. A function that a built-in controller request
    // (IDE, SATA) stands for is left to that request, which may also be given.
    for (const reserved_function& r : machine_traits<M>::reserved) {
      if (((t.buses[0].usable >> r.slot) & 1u) == 0) continue;  // the host bridge's slot 0
      if (role_owns(r.slot, r.function)) continue;
      if ((t.buses[0].used[r.slot] >> r.function) & 1u) {
        out.ok = p.fail(errc::address_in_use, r.what,
                        "is where the chipset of the machine sits, and another device has this address");
        return out;
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
          // built into the machine: the role's controller is exactly here (find_chipset_roles
          // gives the role to no controller pinned anywhere else)
          const int who = role.request_for(pref.role);
          if (who < 0) break;
          const std::size_t w = static_cast<std::size_t>(who);
          const request& r = requests[w];
          if (r.fixed != address_kind::full) {
            if ((t.buses[0].used[pref.slot] >> pref.function) & 1u) {
              out.ok = p.fail(errc::address_in_use, r.name, "needs its chipset address, and another device has it");
              return out;
            }
            t.reserve(0, pref.slot, pref.function, p.routes[w].need, 0, true);
          }
          out.seats.push_back(chipset_seat{w, at});
          break;
        }
        case slot_role::primary_video:
        case slot_role::ich9_sound: {
          const int who = role.request_for(pref.role);
          if (!unaddressed(who)) break;
          if (t.buses[0].used[pref.slot] != 0) {
            if (pref.role == slot_role::primary_video) out.displaced_video = who;
            break;
          }
          const std::size_t w = static_cast<std::size_t>(who);
          t.reserve(0, pref.slot, pref.function, p.routes[w].need, 0, false);
          out.seats.push_back(chipset_seat{w, at});
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
            t.reserve(0, pref.slot, r.function, p.routes[i].need, 0, false);
            out.seats.push_back(chipset_seat{i, controller_address(0, 0, pref.slot, r.function)});
          }
          break;
        }
        case slot_role::dmi_to_pci_bridge: {
          for (std::size_t k = 0; k != p.controllers.size(); ++k) {
            const controller& c = p.controllers[k];
            if (!is_kind<dmi_to_pci_bridge>(c.kind) || c.has_address) continue;
            if (t.buses[0].used[pref.slot] != 0) break;
            t.reserve(0, pref.slot, 0, p.need_of(c), 0, false);
            out.bridge = k;
            out.bridge_at = at;
            break;
          }
          break;
        }
      }
    }
  }
  return out;
}

/// Takes what `reserve_chipset` reserved: each seated request is placed at its chipset
/// position, and the dmi-to-pci-bridge gets its address.
template <MachineType M>
constexpr void take_chipset_seats(planning<M>& p, const chipset_outcome& o) {
  for (const chipset_seat& s : o.seats) p.place(s.request, s.at, rule::chipset_slot);
  if (o.bridge != no_position) {
    controller& c = p.controllers[o.bridge];
    c.has_address = true;
    c.libvirt_address = o.bridge_at;
  }
}

}  // namespace pciplan::inline v0::detail

#endif  // PCIPLAN_PLANNER_DETAIL_CHIPSET_HPP
