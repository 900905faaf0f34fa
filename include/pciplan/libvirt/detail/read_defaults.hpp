// pciplan — libvirt/detail/read_defaults.hpp: the devices libvirt adds to a domain that lacks them.
//
// RULES.md L2.1: the USB controller (pc, q35, pseries; unless one has index 0
// or USB is off), q35's SATA controller, the SCSI, IDE (pc) and SATA controllers
// up to the highest index their disks use, SCSI controllers for SCSI host devices,
// virtio-serial controllers for virtio consoles and channels, CCID controllers (USB) for
// smartcards, and the memory balloon.
// They are added to the document as libvirt would write them, and read like the others.
#ifndef PCIPLAN_LIBVIRT_DETAIL_READ_DEFAULTS_HPP
#define PCIPLAN_LIBVIRT_DETAIL_READ_DEFAULTS_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/kinds/device_kinds.hpp>
#include <pciplan/vocabulary/machine_id.hpp>
#include <pciplan/libvirt/detail/device_order.hpp>
#include <pciplan/libvirt/detail/device_table.hpp>
#include <pciplan/libvirt/detail/domain_state.hpp>
#include <pciplan/libvirt/detail/read_devices.hpp>
#include <pciplan/libvirt/detail/xml.hpp>

#include <pugixml.hpp>

#include <algorithm>
#include <optional>
#include <set>
#include <utility>
#include <vector>
#include <string>
#include <string_view>

namespace pciplan::inline v0::libvirt::detail {

/// The `controller` of an element's `<address type='TYPE' controller='N'>`; nullopt
/// without such an address. Throws input_error when N is not 0 to 255.
[[nodiscard]] inline std::optional<long> controller_in(const domain_state& s, pugi::xml_node n, const char* type) {
  const pugi::xml_node address = n.child("address");
  if (!address || std::string_view(address.attribute("type").value()) != type) return std::nullopt;
  return static_cast<long>(number_attribute(s.at, address, "controller", 0, 255).value_or(0));
}

/// The disk controller index of a `<disk>` on a bus with disk controllers (RULES.md
/// L2.1): its `<address type='drive' controller='N'>`, else the one its target name
/// implies (sda/hda = 0: SCSI 7, SATA 6, IDE 4 disks per controller); -1 when neither.
[[nodiscard]] inline long disk_controller_of(domain_state& s, pugi::xml_node disk, std::string_view bus) {
  if (const auto given = controller_in(s, disk, "drive")) return *given;
  const long n = disk_number(disk.child("target").attribute("dev").value());
  if (n < 0) return -1;
  const long controller = n / (bus == "scsi" ? 7 : bus == "sata" ? 6 : 4);
  if (controller > 255) {
    s.at.fail(disk, "target '" + std::string(disk.child("target").attribute("dev").value()) + "' puts the disk on " +
                        std::string(bus) + " controller " + std::to_string(controller) +
                        ", beyond the controller indexes 0 to 255");
  }
  return controller;
}

/// Adds the default devices the domain lacks (see the top of this header), appended
/// after every controller of the document, in libvirt's order: the machine's USB
/// controller and q35's SATA controller, then for SCSI, IDE and SATA disks every index
/// of their type up to the highest one a disk uses, then the virtio-serial controller of
/// each virtio channel and console, the CCID controller of each smartcard, and the memory
/// balloon. Throws input_error when USB is off but a USB controller is there.
inline void add_defaults(domain_state& s) {
  std::set<std::pair<std::string, unsigned>> present;  // type, index
  for (pugi::xml_node n = s.devices_node.child("controller"); n; n = n.next_sibling("controller")) {
    present.emplace(n.attribute("type").value(), number_of(n.attribute("index").value(), number_syntax::decimal).value_or(0));
  }
  // libvirt adds the default USB controller when none has index 0, unless USB is off
  bool usb = false;
  pugi::xml_node usb_off;
  unsigned usb_count = 0;
  for (pugi::xml_node n = s.devices_node.child("controller"); n; n = n.next_sibling("controller")) {
    if (std::string_view(n.attribute("type").value()) != "usb") continue;
    ++usb_count;
    if (std::string_view(n.attribute("model").value()) == "none") usb_off = n;
    usb = usb || usb_off || number_of(n.attribute("index").value(), number_syntax::decimal).value_or(1) == 0;
  }
  if (usb_off && usb_count > 1) {
    s.at.fail(usb_off, "USB is turned off by this model='none' USB controller, so there may be no other USB controller");
  }
  const auto add_controller = [&](const char* type, unsigned index, std::string_view model) {
    if (!present.emplace(type, index).second) return;
    pugi::xml_node n = insert_device_element(s.devices_node, "controller", "controller");
    n.append_attribute("type").set_value(type);
    n.append_attribute("index").set_value(std::to_string(index).c_str());
    if (!model.empty()) n.append_attribute("model").set_value(std::string(model).c_str());
    const device_choice c = controller_device(type, model, index, s.machine, s.new_definition);
    if (pending_device* d = add_device(s, n, c, "controller", type, true)) {
      d->controller_type = type;
      d->controller_index = index;
      d->parsed_index = static_cast<int>(index);
      d->appended = true;
    }
  };
  long scsi = -1;
  long ide = -1;
  long sata = -1;
  std::vector<unsigned> serial_channels;  // the virtio-serial index of each virtio channel, then console
  std::vector<unsigned> serial_consoles;
  std::vector<unsigned> ccid;  // the CCID controller index of each smartcard (on USB, not PCI)
  for (pugi::xml_node n = s.devices_node.first_child(); n; n = n.next_sibling()) {
    const std::string_view el = n.name();
    if (el == "disk") {
      const std::string_view bus = n.child("target").attribute("bus").value();
      if (bus == "scsi") scsi = std::max(scsi, disk_controller_of(s, n, bus));
      if (bus == "ide") ide = std::max(ide, disk_controller_of(s, n, bus));
      if (bus == "sata") sata = std::max(sata, disk_controller_of(s, n, bus));
    }
    if (el == "hostdev" && std::string_view(n.attribute("type").value()) == "scsi") {
      scsi = std::max(scsi, controller_in(s, n, "drive").value_or(0));
    }
    if (el == "smartcard") ccid.push_back(static_cast<unsigned>(controller_in(s, n, "ccid").value_or(0)));
    if ((el == "channel" || el == "console") && std::string_view(n.child("target").attribute("type").value()) == "virtio") {
      (el == "channel" ? serial_channels : serial_consoles).push_back(static_cast<unsigned>(controller_in(s, n, "virtio-serial").value_or(0)));
    }
  }
  const machine_id m = s.machine;
  if (!usb && (m == machine_id::pc || m == machine_id::q35 || m == machine_id::pseries)) {
    add_controller("usb", 0,
                   m == machine_id::q35  ? "qemu-xhci"
                   : m == machine_id::pc ? "piix3-uhci"
                   : s.new_definition    ? "qemu-xhci"
                                         : "pci-ohci");
  }
  if (m == machine_id::q35) add_controller("sata", 0, "");
  for (long i = 0; i <= scsi; ++i) add_controller("scsi", static_cast<unsigned>(i), "");
  if (m == machine_id::pc) {  // elsewhere libvirt refuses IDE disks, and pciplan leaves them to it
    for (long i = 0; i <= ide; ++i) add_controller("ide", static_cast<unsigned>(i), "");
  }
  for (long i = 0; i <= sata; ++i) add_controller("sata", static_cast<unsigned>(i), "");
  for (const unsigned i : serial_channels) add_controller("virtio-serial", i, "");
  for (const unsigned i : serial_consoles) add_controller("virtio-serial", i, "");
  for (const unsigned i : ccid) add_controller("ccid", i, "");
  const bool balloon_default =
      m == machine_id::pc || m == machine_id::q35 || m == machine_id::pseries || m == machine_id::riscv64_virt;
  if (balloon_default && !s.devices_node.child("memballoon")) {
    pugi::xml_node n = append_element(s.devices_node, "memballoon");
    n.append_attribute("model").set_value("virtio");
    add_device(s, n, {dev<models::virtio_balloon>}, "memballoon", "balloon");
  }
}

}  // namespace pciplan::inline v0::libvirt::detail

#endif  // PCIPLAN_LIBVIRT_DETAIL_READ_DEFAULTS_HPP
