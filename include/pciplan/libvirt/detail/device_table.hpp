// pciplan — libvirt/detail/device_table.hpp: which libvirt device elements use PCI, and as what.
//
// The element and model tables of RULES.md L3.2 (which devices libvirt puts on
// PCI and with which connect flags), written as a look-up from an element's name and
// its model-like attributes to a device of the catalogue (kinds/device_kinds.hpp). `nullptr`
// means the element does not use PCI. Defaults for absent models follow libvirt's
// QEMU driver for the machine (RULES.md L2.1–L2.6). No XML here: the reader passes plain strings.
#ifndef PCIPLAN_LIBVIRT_DETAIL_DEVICE_TABLE_HPP
#define PCIPLAN_LIBVIRT_DETAIL_DEVICE_TABLE_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/vocabulary/machine_id.hpp>
#include <pciplan/kinds/device_kinds.hpp>
#include <pciplan/topology/request.hpp>

#include <algorithm>
#include <string_view>

namespace pciplan::inline v0::libvirt::detail {

template <class D>
inline constexpr const device_descriptor* dev = &device_descriptor_of<D>;

/// What a device element becomes: a catalogue device, a link override (libvirt's
/// "transitional" models of devices that have no transitional catalogue entry), and the
/// model libvirt writes back when the input left it out.
struct device_choice {
  const device_descriptor* device = nullptr;  ///< nullptr: not a PCI device
  link_need link = link_need::catalogue;
  std::string_view default_model{};  ///< written back into the element when it had none
};

[[nodiscard]] constexpr bool is_x86(machine_id m) noexcept {
  return m == machine_id::pc || m == machine_id::q35 || m == machine_id::microvm;
}

/// virtio, virtio-transitional and virtio-non-transitional: the three variants of one device.
template <class Modern, class Transitional, class NonTransitional>
constexpr device_choice virtio_variant(std::string_view model) noexcept {
  if (model == "virtio-transitional") return {dev<Transitional>};
  if (model == "virtio-non-transitional") return {dev<NonTransitional>};
  return {dev<Modern>};
}

/// virtio devices without transitional entries in the catalogue: transitional means
/// conventional PCI (RULES.md L3.2, "transitional → pci").
template <class Modern>
constexpr device_choice virtio_link(std::string_view model) noexcept {
  if (model == "virtio-transitional") return {dev<Modern>, link_need::pci};
  return {dev<Modern>};
}

/// The address types of libvirt's domain XML.
inline constexpr std::string_view address_types =
    "pci, drive, virtio-serial, ccid, usb, spapr-vio, virtio-s390, ccw, virtio-mmio, isa, dimm, unassigned";

/// Whether `item` is one of the names in `list` (names separated by ", ").
[[nodiscard]] constexpr bool listed(std::string_view list, std::string_view item) noexcept {
  std::size_t from = 0;
  while (from <= list.size()) {
    const std::size_t end = std::min(list.find(", ", from), list.size());
    if (list.substr(from, end - from) == item) return true;
    from = end + 2;
  }
  return false;
}

/// Whether `type` is one of `address_types` (or empty: no type given).
[[nodiscard]] constexpr bool known_address_type(std::string_view type) noexcept {
  return type.empty() || listed(address_types, type);
}

/// The model names libvirt accepts for a controller type, separated by ", " (empty: the
/// type's models are not checked here).
[[nodiscard]] constexpr std::string_view controller_models(std::string_view type) noexcept {
  if (type == "usb") {
    return "piix3-uhci, piix4-uhci, ehci, ich9-ehci1, ich9-uhci1, ich9-uhci2, ich9-uhci3, vt82c686b-uhci, "
           "pci-ohci, nec-xhci, qusb1, qusb2, qemu-xhci, none";
  }
  if (type == "scsi") {
    return "auto, buslogic, lsilogic, lsisas1068, vmpvscsi, ibmvscsi, virtio-scsi, lsisas1078, "
           "virtio-transitional, virtio-non-transitional, ncr53c90, am53c974, dc390";
  }
  if (type == "virtio-serial") return "virtio, virtio-transitional, virtio-non-transitional";
  return {};
}

/// Whether `model` is one of `controller_models(type)` (an empty model always is).
[[nodiscard]] constexpr bool known_controller_model(std::string_view type, std::string_view model) noexcept {
  const std::string_view list = controller_models(type);
  return model.empty() || list.empty() || listed(list, model);
}

/// Whether libvirt's QEMU driver refuses a controller model its XML knows: SCSI
/// buslogic, SCSI ncr53c90 (built into no machine pciplan plans), USB qusb1 and qusb2
/// (libvirt 9.0 and 11.3).
[[nodiscard]] constexpr bool qemu_refuses_controller_model(std::string_view type, std::string_view model) noexcept {
  if (type == "scsi") return model == "buslogic" || model == "ncr53c90";
  if (type == "usb") return model == "qusb1" || model == "qusb2";
  return false;
}

/// `<controller type=… model=…>` other than type='pci'.
[[nodiscard]] constexpr device_choice controller_device(std::string_view type, std::string_view model, unsigned index,
                                                        machine_id m, bool new_definition) noexcept {
  using namespace pciplan::models;
  if (type == "usb") {
    if (model.empty()) {
      switch (m) {
        case machine_id::pc: return {dev<piix3_uhci>, link_need::catalogue, "piix3-uhci"};
        case machine_id::q35:
          // an explicit model-less USB controller of an existing q35 domain stays the legacy one
          return new_definition ? device_choice{dev<qemu_xhci>, link_need::catalogue, "qemu-xhci"}
                                : device_choice{dev<piix3_uhci>, link_need::catalogue, "piix3-uhci"};
        case machine_id::pseries:
          return new_definition ? device_choice{dev<qemu_xhci>, link_need::catalogue, "qemu-xhci"}
                                : device_choice{dev<pci_ohci>, link_need::catalogue, "pci-ohci"};
        case machine_id::riscv64_virt:
          return new_definition ? device_choice{dev<qemu_xhci>, link_need::catalogue, "qemu-xhci"}
                                : device_choice{dev<piix3_uhci>, link_need::catalogue, "piix3-uhci"};
        case machine_id::s390x_ccw:
        case machine_id::microvm: return {};
        default: return {dev<qemu_xhci>, link_need::catalogue, "qemu-xhci"};
      }
    }
    if (model == "qemu-xhci") return {dev<qemu_xhci>};
    if (model == "nec-xhci") return {dev<nec_xhci>};
    if (model == "piix3-uhci") return {dev<piix3_uhci>};
    if (model == "piix4-uhci") return {dev<piix4_uhci>};
    if (model == "ehci") return {dev<usb_ehci>};
    if (model == "ich9-ehci1") return {dev<ich9_ehci1>};
    if (model == "ich9-uhci1") return {dev<ich9_uhci1>};
    if (model == "ich9-uhci2") return {dev<ich9_uhci2>};
    if (model == "ich9-uhci3") return {dev<ich9_uhci3>};
    if (model == "vt82c686b-uhci") return {dev<vt82c686b_uhci>};
    if (model == "pci-ohci") return {dev<pci_ohci>};
    return {};  // none, qusb1, qusb2
  }
  if (type == "scsi") {
    if (model.empty() || model == "auto") {
      if (m == machine_id::pseries || m == machine_id::s390x_ccw) return {};  // ibmvscsi / virtio-scsi-ccw
      if ((m == machine_id::aarch64_virt || m == machine_id::riscv64_virt || m == machine_id::loongarch64_virt) &&
          new_definition) {
        return {dev<virtio_scsi>, link_need::catalogue, "virtio-scsi"};
      }
      return {dev<lsi53c895a>, link_need::catalogue, "lsilogic"};
    }
    if (model == "virtio-scsi") return {dev<virtio_scsi>};
    if (model == "virtio-transitional") return {dev<virtio_scsi_transitional>};
    if (model == "virtio-non-transitional") return {dev<virtio_scsi_non_transitional>};
    if (model == "lsilogic" || model == "buslogic") return {dev<lsi53c895a>};
    if (model == "lsisas1068") return {dev<mptsas1068>};
    if (model == "lsisas1078") return {dev<megasas>};
    if (model == "vmpvscsi") return {dev<pvscsi>};
    if (model == "dc390") return {dev<dc390>};
    if (model == "am53c974") return {dev<am53c974>};
    return {};  // ibmvscsi, ncr53c90, …
  }
  if (type == "sata") return {dev<ich9_ahci>};
  if (type == "ide") {
    // the PIIX3 IDE of pc is part of the chipset (index 0); others are not supported by QEMU
    return (m == machine_id::pc && index == 0) ? device_choice{dev<piix3_ide>} : device_choice{};
  }
  if (type == "virtio-serial") {
    return model == "virtio-transitional" ? device_choice{dev<virtio_serial_transitional>}
                                           : device_choice{dev<virtio_serial>};
  }
  if (type == "nvme") return {dev<nvme>};
  return {};  // fdc, ccid, xenbus, isa, …
}

[[nodiscard]] constexpr device_choice interface_device(std::string_view type, std::string_view model,
                                                       machine_id m) noexcept {
  using namespace pciplan::models;
  if (type == "hostdev") return {dev<vfio_pci>};
  if (model.empty()) {
    switch (m) {
      case machine_id::pc:
      case machine_id::q35:
      case machine_id::pseries: return {dev<rtl8139>, link_need::catalogue, "rtl8139"};
      default: return {dev<virtio_net>, link_need::catalogue, "virtio"};
    }
  }
  if (model == "virtio" || model == "virtio-transitional" || model == "virtio-non-transitional") {
    return virtio_variant<virtio_net, virtio_net_transitional, virtio_net_non_transitional>(model);
  }
  if (model == "e1000e") return {dev<e1000e>};
  if (model == "igb") return {dev<igb>};
  if (model == "e1000") return {dev<e1000>};
  if (model == "rtl8139") return {dev<rtl8139>};
  if (model == "vmxnet3") return {dev<vmxnet3>};
  if (model == "unknown") return {dev<vfio_pci>};  // a network of host devices: PCIe assumed
  if (model == "spapr-vlan" || model == "usb-net" || model == "lan9118" || model == "smc91c111") return {};
  return {dev<rtl8139>};  // any other model string: conventional PCI, as libvirt does
}

[[nodiscard]] constexpr device_choice video_device(std::string_view model, bool primary, machine_id m) noexcept {
  using namespace pciplan::models;
  if (model.empty()) {
    if (is_x86(m) || m == machine_id::pseries) return {dev<vga>, link_need::catalogue, "vga"};
    return {dev<virtio_gpu>, link_need::catalogue, "virtio"};
  }
  if (model == "virtio") return {(primary && is_x86(m)) ? dev<virtio_vga> : dev<virtio_gpu>};
  if (model == "vga") return {dev<vga>};
  if (model == "cirrus") return {dev<cirrus_vga>};
  if (model == "vmvga") return {dev<vmware_svga>};
  if (model == "qxl") return {primary ? dev<qxl_vga> : dev<qxl>};
  if (model == "bochs") return {dev<bochs_display>};
  if (model == "xen" || model == "vbox" || model == "parallels") return {dev<vga>};
  return {};  // none, ramfb, gop, default
}

[[nodiscard]] constexpr device_choice sound_device(std::string_view model) noexcept {
  using namespace pciplan::models;
  if (model == "ich9") return {dev<ich9_intel_hda>};
  if (model == "ich6") return {dev<intel_hda>};
  if (model == "ac97") return {dev<ac97>};
  if (model == "es1370") return {dev<es1370>};
  if (model == "virtio") return {dev<virtio_sound>};
  return {};  // sb16, pcspk, usb, ich7
}

[[nodiscard]] constexpr device_choice input_device(std::string_view type, std::string_view bus,
                                                   std::string_view model) noexcept {
  using namespace pciplan::models;
  if (bus != "virtio") return {};
  if (type == "keyboard") return virtio_link<virtio_keyboard>(model);
  if (type == "mouse") return virtio_link<virtio_mouse>(model);
  if (type == "tablet") return virtio_link<virtio_tablet>(model);
  if (type == "passthrough" || type == "evdev") return virtio_link<virtio_input_host>(model);
  return {};
}

[[nodiscard]] constexpr device_choice filesystem_device(std::string_view driver, std::string_view fs_type,
                                                        std::string_view model) noexcept {
  using namespace pciplan::models;
  if (fs_type == "ram" || fs_type == "block" || fs_type == "template" || fs_type == "volume") return {};
  if (driver == "virtiofs") return {dev<vhost_user_fs>};
  if (driver == "loop" || driver == "nbd" || driver == "ploop" || fs_type == "mtp") return {};
  return model == "virtio-transitional" ? device_choice{dev<virtio_9p_transitional>} : device_choice{dev<virtio_9p>};
}

}  // namespace pciplan::inline v0::libvirt::detail

#endif  // PCIPLAN_LIBVIRT_DETAIL_DEVICE_TABLE_HPP
