// pciplan — libvirt/detail/implied_addresses.hpp: addresses set before planning (chipset, ICH9 USB2 sets).
//
// The controllers built into the chipset are index 0 of their type: PIIX3 USB (pc,
// 00:01.2), PIIX3 IDE (pc, 00:01.1), ICH9 SATA (q35, 00:1f.2); libvirt refuses them
// anywhere else. The controllers of one ICH9 USB2 set (one USB index: an EHCI master
// and its UHCI companions) share a slot, each at its own function.
#ifndef PCIPLAN_LIBVIRT_DETAIL_IMPLIED_ADDRESSES_HPP
#define PCIPLAN_LIBVIRT_DETAIL_IMPLIED_ADDRESSES_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/topology/request.hpp>
#include <pciplan/vocabulary/address.hpp>
#include <pciplan/vocabulary/machine_id.hpp>
#include <pciplan/libvirt/detail/domain_state.hpp>
#include <pciplan/libvirt/detail/xml.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pciplan::inline v0::libvirt::detail {

/// Pins the chipset's own controllers to their addresses. Throws input_error when the
/// document gives one another address, or gives another device its address.
inline void pin_chipset_controllers(domain_state& s) {
  for (pending_device& d : s.devices) {
    if (d.element != "controller" || d.controller_index != 0) continue;
    const std::string_view dev = d.req.device.qemu_device;
    const std::string_view type = d.controller_type;
    const machine_id m = s.machine;
    std::optional<controller_address> at;
    if (m == machine_id::pc && type == "usb" && dev == "piix3-usb-uhci") at = controller_address(0, 0, 1, 2);
    if (m == machine_id::pc && type == "ide") at = controller_address(0, 0, 1, 1);
    if (m == machine_id::q35 && type == "sata") at = controller_address(0, 0, 0x1f, 2);
    if (!at) continue;
    if (d.req.fixed == address_kind::full && d.req.libvirt_address != *at) {
      s.at.fail(d.node, "the " + std::string(dev) +
                            " controller with index 0 is built into the chipset and must have PCI address 0000:00:" +
                            hex(at->slot, 2).substr(2) + "." + std::to_string(at->function));
    }
    d.req.apply(at_address{*at});
    d.req.via = transport::automatic;
    // a device of the document at that address is the one to blame, not the chipset
    for (const pending_device& o : s.devices) {
      if (&o != &d && o.req.fixed == address_kind::full && o.req.libvirt_address == *at) {
        s.at.fail(o.node, "has PCI address 0000:00:" + hex(at->slot, 2).substr(2) + "." + std::to_string(at->function) +
                              ", where the chipset has its " + std::string(dev) +
                              " controller (libvirt: Attempted double use of PCI Address)");
      }
    }
  }
}

/// One multifunction group per ICH9 USB2 set, each member at its companion function;
/// unaddressed members follow an addressed one into its slot, and an explicit address
/// at another function takes the whole set out of the group.
inline void group_usb2_sets(domain_state& s) {
  constexpr unsigned usb_group_base = 0x10000;
  for (pending_device& d : s.devices) {
    if (d.usb_index < 0) continue;
    d.req.multifunction = usb_group_base + static_cast<unsigned>(d.usb_index);
    d.req.function = static_cast<unsigned>(d.req.device.companion_function);
  }
  for (pending_device& d : s.devices) {
    if (d.usb_index < 0 || d.req.fixed == address_kind::full) continue;
    for (const pending_device& o : s.devices) {
      if (o.usb_index == d.usb_index && o.req.fixed == address_kind::full) {
        d.req.apply(at_address{controller_address(0, o.req.libvirt_address.bus.value, o.req.libvirt_address.slot,
                                                  static_cast<std::uint8_t>(d.req.function))});
        d.req.via = transport::automatic;
        break;
      }
    }
  }
  for (const pending_device& d : s.devices) {
    if (d.req.fixed == address_kind::full && d.req.multifunction != 0 && d.usb_index >= 0 &&
        d.req.libvirt_address.function != d.req.function) {
      // an explicit address wins over the companion layout: leave the group
      for (pending_device& o : s.devices) {
        if (o.usb_index == d.usb_index) o.req.multifunction = 0;
      }
    }
  }
}

}  // namespace pciplan::inline v0::libvirt::detail

#endif  // PCIPLAN_LIBVIRT_DETAIL_IMPLIED_ADDRESSES_HPP
