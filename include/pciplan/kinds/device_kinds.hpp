// pciplan — kinds/device_kinds.hpp: the device catalogue and the DeviceKind concept.
//
// Each common QEMU/libvirt PCI device model is a tag type in `pciplan::models` with a
// `device_traits` specialisation: its QEMU device name, the libvirt element and model
// that produce it, and its link — what kind of slot it needs. The connect kind a device
// needs on a given machine follows from the link and the machine's root
// (`connect_of<Device, Machine>`), as libvirt computes it (RULES.md L3.1, L3.2).
// Users add devices by specialising `device_traits` for their own tag.
#ifndef PCIPLAN_KINDS_DEVICE_KINDS_HPP
#define PCIPLAN_KINDS_DEVICE_KINDS_HPP

#include <pciplan/vocabulary/connect.hpp>
#include <pciplan/kinds/controller_kinds.hpp>
#include <pciplan/detail/config.hpp>
#include <pciplan/kinds/machine_types.hpp>

#include <concepts>
#include <string_view>

namespace pciplan::inline v0 {

/// The customisation point: specialise for each device kind.
template <class Device>
struct device_traits;

/// What kind of slot a device needs.
enum class link_kind : unsigned char {
  conventional,  ///< conventional PCI only (e1000, rtl8139, transitional virtio, …)
  express,       ///< PCI Express; a conventional PCI slot on machines without a PCIe root
  virtio,        ///< modern virtio: PCI Express where the machine has a PCIe root, else PCI
};

/// A link kind's name ("conventional", "express", "virtio").
[[nodiscard]] constexpr std::string_view name_of(link_kind k) noexcept {
  switch (k) {
    case link_kind::conventional: return "conventional";
    case link_kind::express: return "express";
    case link_kind::virtio: return "virtio";
  }
  return "unknown";
}

/// The libvirt element and model attribute that describe the device.
struct libvirt_model {
  std::string_view element{};  ///< "interface", "disk", "controller", "video", …
  std::string_view model{};    ///< the model/type attribute value ("virtio", "e1000e", "qemu-xhci")
  /// Compares all members.
  friend constexpr bool operator==(const libvirt_model&, const libvirt_model&) = default;
};

/// A base for device_traits specialisations: supplies `link`, `integrated` and an
/// empty `mmio_device`; the specialisation adds `qemu_device` and `libvirt`.
template <link_kind Link, bool Integrated = false>
struct endpoint_traits {
  static constexpr link_kind link = Link;              ///< what kind of slot the device needs
  static constexpr bool integrated = Integrated;       ///< a root-complex integrated endpoint: root bus only
  static constexpr std::string_view mmio_device{};     ///< the virtio-mmio variant: none here
};

// One row per device: tag, QEMU device, link, integrated, libvirt element, libvirt
// model, virtio-mmio device (or ""). Rows follow RULES.md L3.2.
#define PCIPLAN_DEVICE(tag, qemu, link_, integrated_, element, model_, mmio)   \
  namespace models {                                                            \
  struct tag {};                                                                \
  }                                                                             \
  template <>                                                                   \
  struct device_traits<models::tag> : endpoint_traits<link_kind::link_, integrated_> {         \
    static constexpr std::string_view qemu_device = qemu;                       \
    static constexpr libvirt_model libvirt{element, model_};                    \
    static constexpr std::string_view mmio_device = mmio;                       \
  };

// network
PCIPLAN_DEVICE(virtio_net, "virtio-net-pci", virtio, false, "interface", "virtio", "virtio-net-device")
PCIPLAN_DEVICE(virtio_net_transitional, "virtio-net-pci-transitional", conventional, false, "interface", "virtio-transitional", "virtio-net-device")
PCIPLAN_DEVICE(virtio_net_non_transitional, "virtio-net-pci-non-transitional", virtio, false, "interface", "virtio-non-transitional", "virtio-net-device")
PCIPLAN_DEVICE(e1000, "e1000", conventional, false, "interface", "e1000", "")
PCIPLAN_DEVICE(e1000e, "e1000e", express, false, "interface", "e1000e", "")
PCIPLAN_DEVICE(igb, "igb", express, false, "interface", "igb", "")
PCIPLAN_DEVICE(rtl8139, "rtl8139", conventional, false, "interface", "rtl8139", "")
PCIPLAN_DEVICE(vmxnet3, "vmxnet3", conventional, false, "interface", "vmxnet3", "")
// storage
PCIPLAN_DEVICE(virtio_blk, "virtio-blk-pci", virtio, false, "disk", "virtio", "virtio-blk-device")
PCIPLAN_DEVICE(virtio_blk_transitional, "virtio-blk-pci-transitional", conventional, false, "disk", "virtio-transitional", "virtio-blk-device")
PCIPLAN_DEVICE(virtio_blk_non_transitional, "virtio-blk-pci-non-transitional", virtio, false, "disk", "virtio-non-transitional", "virtio-blk-device")
PCIPLAN_DEVICE(virtio_scsi, "virtio-scsi-pci", virtio, false, "controller", "virtio-scsi", "virtio-scsi-device")
PCIPLAN_DEVICE(virtio_scsi_transitional, "virtio-scsi-pci-transitional", conventional, false, "controller", "virtio-transitional", "virtio-scsi-device")
PCIPLAN_DEVICE(virtio_scsi_non_transitional, "virtio-scsi-pci-non-transitional", virtio, false, "controller", "virtio-non-transitional", "virtio-scsi-device")
PCIPLAN_DEVICE(vhost_scsi, "vhost-scsi-pci", virtio, false, "hostdev", "scsi_host", "vhost-scsi-device")
PCIPLAN_DEVICE(nvme, "nvme", express, false, "controller", "nvme", "")
PCIPLAN_DEVICE(ich9_ahci, "ich9-ahci", conventional, false, "controller", "sata", "")
PCIPLAN_DEVICE(piix3_ide, "piix3-ide", conventional, false, "controller", "ide", "")
PCIPLAN_DEVICE(lsi53c895a, "lsi53c895a", conventional, false, "controller", "lsilogic", "")
PCIPLAN_DEVICE(megasas, "megasas", conventional, false, "controller", "lsisas1078", "")
PCIPLAN_DEVICE(mptsas1068, "mptsas1068", conventional, false, "controller", "lsisas1068", "")
PCIPLAN_DEVICE(pvscsi, "pvscsi", conventional, false, "controller", "vmpvscsi", "")
PCIPLAN_DEVICE(am53c974, "am53c974", conventional, false, "controller", "am53c974", "")
PCIPLAN_DEVICE(dc390, "dc390", conventional, false, "controller", "dc390", "")
// USB
PCIPLAN_DEVICE(qemu_xhci, "qemu-xhci", express, false, "controller", "qemu-xhci", "")
PCIPLAN_DEVICE(nec_xhci, "nec-usb-xhci", express, false, "controller", "nec-xhci", "")
PCIPLAN_DEVICE(piix3_uhci, "piix3-usb-uhci", conventional, false, "controller", "piix3-uhci", "")
PCIPLAN_DEVICE(piix4_uhci, "piix4-usb-uhci", conventional, false, "controller", "piix4-uhci", "")
PCIPLAN_DEVICE(ich9_ehci1, "ich9-usb-ehci1", conventional, false, "controller", "ich9-ehci1", "")
PCIPLAN_DEVICE(ich9_uhci1, "ich9-usb-uhci1", conventional, false, "controller", "ich9-uhci1", "")
PCIPLAN_DEVICE(ich9_uhci2, "ich9-usb-uhci2", conventional, false, "controller", "ich9-uhci2", "")
PCIPLAN_DEVICE(ich9_uhci3, "ich9-usb-uhci3", conventional, false, "controller", "ich9-uhci3", "")
PCIPLAN_DEVICE(usb_ehci, "usb-ehci", conventional, false, "controller", "ehci", "")
PCIPLAN_DEVICE(pci_ohci, "pci-ohci", conventional, false, "controller", "pci-ohci", "")
PCIPLAN_DEVICE(vt82c686b_uhci, "vt82c686b-usb-uhci", conventional, false, "controller", "vt82c686b-uhci", "")
// serial
PCIPLAN_DEVICE(virtio_serial, "virtio-serial-pci", virtio, false, "controller", "virtio-serial", "virtio-serial-device")
PCIPLAN_DEVICE(virtio_serial_transitional, "virtio-serial-pci-transitional", conventional, false, "controller", "virtio-transitional", "virtio-serial-device")
PCIPLAN_DEVICE(pci_serial, "pci-serial", conventional, false, "serial", "pci-serial", "")
// video
PCIPLAN_DEVICE(virtio_gpu, "virtio-gpu-pci", virtio, false, "video", "virtio", "virtio-gpu-device")
PCIPLAN_DEVICE(virtio_vga, "virtio-vga", virtio, false, "video", "virtio", "")
PCIPLAN_DEVICE(bochs_display, "bochs-display", express, false, "video", "bochs", "")
PCIPLAN_DEVICE(vga, "VGA", conventional, false, "video", "vga", "")
PCIPLAN_DEVICE(cirrus_vga, "cirrus-vga", conventional, false, "video", "cirrus", "")
PCIPLAN_DEVICE(qxl_vga, "qxl-vga", conventional, false, "video", "qxl", "")
PCIPLAN_DEVICE(qxl, "qxl", conventional, false, "video", "qxl", "")
PCIPLAN_DEVICE(vmware_svga, "vmware-svga", conventional, false, "video", "vmvga", "")
// sound
PCIPLAN_DEVICE(ich9_intel_hda, "ich9-intel-hda", conventional, false, "sound", "ich9", "")
PCIPLAN_DEVICE(intel_hda, "intel-hda", conventional, false, "sound", "ich6", "")
PCIPLAN_DEVICE(ac97, "AC97", conventional, false, "sound", "ac97", "")
PCIPLAN_DEVICE(es1370, "ES1370", conventional, false, "sound", "es1370", "")
PCIPLAN_DEVICE(virtio_sound, "virtio-sound-pci", virtio, false, "sound", "virtio", "virtio-sound-device")
// other virtio
PCIPLAN_DEVICE(virtio_balloon, "virtio-balloon-pci", virtio, false, "memballoon", "virtio", "virtio-balloon-device")
PCIPLAN_DEVICE(virtio_balloon_transitional, "virtio-balloon-pci-transitional", conventional, false, "memballoon", "virtio-transitional", "virtio-balloon-device")
PCIPLAN_DEVICE(virtio_rng, "virtio-rng-pci", virtio, false, "rng", "virtio", "virtio-rng-device")
PCIPLAN_DEVICE(virtio_rng_transitional, "virtio-rng-pci-transitional", conventional, false, "rng", "virtio-transitional", "virtio-rng-device")
PCIPLAN_DEVICE(virtio_keyboard, "virtio-keyboard-pci", virtio, false, "input", "virtio", "virtio-keyboard-device")
PCIPLAN_DEVICE(virtio_mouse, "virtio-mouse-pci", virtio, false, "input", "virtio", "virtio-mouse-device")
PCIPLAN_DEVICE(virtio_tablet, "virtio-tablet-pci", virtio, false, "input", "virtio", "virtio-tablet-device")
PCIPLAN_DEVICE(virtio_input_host, "virtio-input-host-pci", virtio, false, "input", "virtio", "virtio-input-host-device")
PCIPLAN_DEVICE(virtio_9p, "virtio-9p-pci", virtio, false, "filesystem", "virtio", "virtio-9p-device")
PCIPLAN_DEVICE(virtio_9p_transitional, "virtio-9p-pci-transitional", conventional, false, "filesystem", "virtio-transitional", "virtio-9p-device")
PCIPLAN_DEVICE(vhost_user_fs, "vhost-user-fs-pci", virtio, false, "filesystem", "virtiofs", "vhost-user-fs-device")
PCIPLAN_DEVICE(vhost_vsock, "vhost-vsock-pci", virtio, false, "vsock", "virtio", "vhost-vsock-device")
PCIPLAN_DEVICE(vhost_vsock_transitional, "vhost-vsock-pci-transitional", conventional, false, "vsock", "virtio-transitional", "vhost-vsock-device")
PCIPLAN_DEVICE(virtio_mem, "virtio-mem-pci", virtio, false, "memory", "virtio-mem", "")
PCIPLAN_DEVICE(virtio_pmem, "virtio-pmem-pci", virtio, false, "memory", "virtio-pmem", "")
// virtio-crypto is conventional PCI in libvirt's table even though it is virtio (RULES.md L3.2 quirk)
PCIPLAN_DEVICE(virtio_crypto, "virtio-crypto-pci", conventional, false, "crypto", "virtio", "virtio-crypto-device")
// integrated endpoints: on the root bus only, never hot-pluggable
PCIPLAN_DEVICE(virtio_iommu, "virtio-iommu-pci", virtio, true, "iommu", "virtio", "")
PCIPLAN_DEVICE(amd_iommu, "amd-iommu", conventional, true, "iommu", "amd", "")
PCIPLAN_DEVICE(pvpanic_pci, "pvpanic-pci", conventional, true, "panic", "pvpanic", "")
// miscellaneous
PCIPLAN_DEVICE(i6300esb, "i6300esb", conventional, false, "watchdog", "i6300esb", "")
PCIPLAN_DEVICE(ivshmem_plain, "ivshmem-plain", conventional, false, "shmem", "ivshmem-plain", "")
PCIPLAN_DEVICE(ivshmem_doorbell, "ivshmem-doorbell", conventional, false, "shmem", "ivshmem-doorbell", "")
PCIPLAN_DEVICE(acpi_erst, "acpi-erst", conventional, false, "pstore", "acpi-erst", "")
// host devices: assumed PCI Express (libvirt assumes so when it cannot read the host device)
PCIPLAN_DEVICE(vfio_pci, "vfio-pci", express, false, "hostdev", "vfio", "")

#undef PCIPLAN_DEVICE

/// The fixed function of an ICH9 USB2 companion (EHCI1 at 7, UHCI1..3 at 0..2; RULES.md L4.7).
template <class Device>
inline constexpr int companion_function = -1;
template <>
inline constexpr int companion_function<models::ich9_ehci1> = 7;
template <>
inline constexpr int companion_function<models::ich9_uhci1> = 0;
template <>
inline constexpr int companion_function<models::ich9_uhci2> = 1;
template <>
inline constexpr int companion_function<models::ich9_uhci3> = 2;

// ---- the concept ------------------------------------------------------------------

/// device_traits<D> names the QEMU device, the libvirt model and the mmio variant.
template <class D>
concept HasDeviceNames = requires {
  { device_traits<D>::qemu_device } -> detail::exactly<std::string_view>;
  { device_traits<D>::libvirt } -> detail::exactly<libvirt_model>;
  { device_traits<D>::mmio_device } -> detail::exactly<std::string_view>;
};

/// device_traits<D> says what kind of slot the device needs.
template <class D>
concept HasLink = requires {
  { device_traits<D>::link } -> detail::exactly<link_kind>;
  { device_traits<D>::integrated } -> detail::exactly<bool>;
};

/// @brief A device kind: a type with a complete `device_traits` specialisation.
///
/// Required members of device_traits<D> (static constexpr): `qemu_device`
/// (string_view), `libvirt` (libvirt_model), `mmio_device` (string_view, empty when
/// there is no virtio-mmio variant), `link` (link_kind), `integrated` (bool: a
/// root-complex integrated endpoint, root bus only, not hot-pluggable). Deriving from
/// `endpoint_traits<link, integrated>` supplies the last three.
/// Models: every tag in pciplan::models (models::virtio_net, models::e1000, …).
template <class D>
concept DeviceKind = HasDeviceNames<D> && HasLink<D>;

/// The connect kind needed by a device with this link on a machine with or without a
/// PCIe root (RULES.md L3.1: pcieFlags equal pciFlags when there is no
/// pcie-root; virtio follows pcieFlags). Always includes auto_assign.
[[nodiscard]] constexpr connect_set connect_for(link_kind link, bool integrated, bool pcie_root_machine) noexcept {
  connect_set c = connect::auto_assign;
  c = c | ((link == link_kind::conventional || !pcie_root_machine) ? connect::pci_endpoint : connect::pcie_endpoint);
  if (integrated) c = c | connect::integrated;
  return c;
}

/// The connect kind device D needs on machine M; empty when M has no PCI.
template <DeviceKind D, MachineType M>
inline constexpr connect_set connect_of =
    has_pci_v<M> ? connect_for(device_traits<D>::link, device_traits<D>::integrated, has_pcie_root_v<M>)
                 : connect_set{};

/// Everything device_traits says, as one value, for run-time code: what a request
/// carries about its device.
struct device_descriptor {
  std::string_view qemu_device{};            ///< QEMU device name ("virtio-net-pci")
  std::string_view mmio_device{};            ///< the virtio-mmio device name; empty when there is none
  libvirt_model libvirt{};                   ///< the libvirt element and model that produce the device
  link_kind link = link_kind::conventional;  ///< what kind of slot the device needs
  bool integrated = false;                   ///< a root-complex integrated endpoint: root bus only, no hotplug
  int companion_function = -1;  ///< ICH9 USB2 companions: their fixed function, else -1

  /// Compares all members.
  friend constexpr bool operator==(const device_descriptor&, const device_descriptor&) = default;
};

/// The device_descriptor of device kind D.
template <DeviceKind D>
inline constexpr device_descriptor device_descriptor_of{
    device_traits<D>::qemu_device, device_traits<D>::mmio_device, device_traits<D>::libvirt,
    device_traits<D>::link,        device_traits<D>::integrated,  companion_function<D>};

/// Whether the device can be hot(un)plugged at all (integrated endpoints cannot).
template <DeviceKind D>
inline constexpr bool hotpluggable_device_v = !device_traits<D>::integrated;

/// QEMU device types that QEMU refuses to hot-plug, measured with device_add into an
/// empty root port of a paused q35 guest: QEMU 7.2 says "Parameter 'driver' expects a
/// pluggable device type", QEMU 10.0 "Device '…' does not support hotplugging" (and
/// "can't go on PCIE bus" for amd-iommu). Display adapters, the chipset's USB and IDE
/// functions, IOMMUs and acpi-erst; every other device of the catalogue was accepted.
inline constexpr std::string_view qemu_cold_plug_only[] = {
    "VGA",          "cirrus-vga",     "qxl-vga",        "vmware-svga",    "virtio-vga",
    "virtio-gpu-pci", "ich9-usb-ehci1", "ich9-usb-uhci1", "ich9-usb-uhci2", "ich9-usb-uhci3",
    "pci-ohci",     "piix3-ide",      "virtio-iommu-pci", "amd-iommu",    "acpi-erst",
};

/// Whether QEMU hot-plugs a device of this QEMU type (not one of qemu_cold_plug_only).
[[nodiscard]] constexpr bool qemu_hot_pluggable(std::string_view qemu_device) noexcept {
  for (const std::string_view d : qemu_cold_plug_only) {
    if (d == qemu_device) return false;
  }
  return true;
}

}  // namespace pciplan::inline v0

#endif  // PCIPLAN_KINDS_DEVICE_KINDS_HPP
