// pciplan — libvirt/detail/read_defaults.hpp: the devices libvirt adds to a domain that lacks them.
//
// RULES.md L2.1: the USB controller (pc, q35, pseries; unless one has index 0
// or USB is off), q35's SATA controller, pc's IDE controller for IDE disks, a SCSI
// controller for SCSI disks and host devices, a virtio-serial controller for virtio
// consoles and channels, and the memory balloon. They are added to the document as
// libvirt would write them, and read like the others.
#ifndef PCIPLAN_LIBVIRT_DETAIL_READ_DEFAULTS_HPP
#define PCIPLAN_LIBVIRT_DETAIL_READ_DEFAULTS_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/kinds/device_kinds.hpp>
#include <pciplan/vocabulary/machine_id.hpp>
#include <pciplan/libvirt/detail/device_table.hpp>
#include <pciplan/libvirt/detail/domain_state.hpp>
#include <pciplan/libvirt/detail/read_devices.hpp>
#include <pciplan/libvirt/detail/xml.hpp>

#include <pugixml.hpp>

#include <set>
#include <string>
#include <string_view>

namespace pciplan::inline v0::libvirt::detail {

/// Adds the default devices the domain lacks (see the top of this header). Throws
/// input_error when USB is off but a USB controller is there.
inline void add_defaults(domain_state& s) {
  bool usb = false;
  bool sata = false;
  bool ide = false;
  std::set<std::string> controller_types;
  for (pugi::xml_node n = s.devices_node.child("controller"); n; n = n.next_sibling("controller")) {
    controller_types.insert(n.attribute("type").value());
  }
  // libvirt adds the default USB controller when none has index 0, unless USB is off
  pugi::xml_node usb_off;
  unsigned usb_count = 0;
  for (pugi::xml_node n = s.devices_node.child("controller"); n; n = n.next_sibling("controller")) {
    if (std::string_view(n.attribute("type").value()) != "usb") continue;
    ++usb_count;
    if (std::string_view(n.attribute("model").value()) == "none") usb_off = n;
    usb = usb || usb_off || number_of(n.attribute("index").value()).value_or(1) == 0;
  }
  if (usb_off && usb_count > 1) {
    s.at.fail(usb_off, "USB is turned off by this model='none' USB controller, so there may be no other USB controller");
  }
  sata = controller_types.count("sata") != 0;
  ide = controller_types.count("ide") != 0;
  const auto add_controller = [&](const char* type, std::string_view model) {
    pugi::xml_node n = insert_device_element(s.devices_node, "controller", "controller");
    n.append_attribute("type").set_value(type);
    n.append_attribute("index").set_value("0");
    if (!model.empty()) n.append_attribute("model").set_value(std::string(model).c_str());
    const device_choice c = controller_device(type, model, 0, s.machine, s.new_definition);
    if (pending_device* d = add_device(s, n, c, "controller", type, true)) d->controller_type = type;
    controller_types.insert(type);
  };
  bool ide_disk = false;
  bool scsi_disk = false;
  bool virtio_serial_port = false;
  for (pugi::xml_node n = s.devices_node.first_child(); n; n = n.next_sibling()) {
    const std::string_view el = n.name();
    if (el == "disk") {
      const std::string_view bus = n.child("target").attribute("bus").value();
      ide_disk = ide_disk || bus == "ide";
      scsi_disk = scsi_disk || bus == "scsi";
    }
    if (el == "hostdev" && std::string_view(n.attribute("type").value()) == "scsi") scsi_disk = true;
    if (el == "channel" || el == "console") {
      const std::string_view t = n.child("target").attribute("type").value();
      virtio_serial_port = virtio_serial_port || t == "virtio";
    }
  }
  const machine_id m = s.machine;
  if (!usb && (m == machine_id::pc || m == machine_id::q35 || m == machine_id::pseries)) {
    add_controller("usb", m == machine_id::q35  ? "qemu-xhci"
                          : m == machine_id::pc ? "piix3-uhci"
                          : s.new_definition    ? "qemu-xhci"
                                                : "pci-ohci");
  }
  if (!sata && m == machine_id::q35) add_controller("sata", "");
  if (!ide && ide_disk && m == machine_id::pc) add_controller("ide", "");
  if (scsi_disk && controller_types.count("scsi") == 0) add_controller("scsi", "");
  if (virtio_serial_port && controller_types.count("virtio-serial") == 0) add_controller("virtio-serial", "");
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
