// pciplan — kinds/device_bars.hpp: the BARs QEMU gives each device of the catalogue and
// each controller, and how firmware treats a bridge's windows.
//
//   catalogue_bars("virtio-net-pci", false)   // io 32, mem32 4 KiB + 256 KiB ROM, pref64 16 KiB
//   catalogue_bars("virtio-net-pci", true)    // behind a PCIe port: no legacy I/O BAR
//
// Measured with QEMU 7.2's query-pci for every device type, on q35's root bus, behind a
// pcie-root-port and on pc's root bus, with default properties (BAR 6, the expansion ROM
// from the device's default romfile, counts as 32-bit memory: firmware maps it). A device
// has the same BARs everywhere, but for virtio devices that are transitional by default
// (`disable-legacy=auto`): they lose their legacy I/O BAR behind a PCIe port (a PCI
// Express bus that is not a root bus). Properties change BARs (virtio `vectors`, display
// memory sizes, nvme queues and CMB, an ivshmem backend's size): a request that sets them
// gives its own device_bars.
#ifndef PCIPLAN_KINDS_DEVICE_BARS_HPP
#define PCIPLAN_KINDS_DEVICE_BARS_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/kinds/controller_kinds.hpp>
#include <pciplan/vocabulary/bars.hpp>

#include <cstdint>
#include <string_view>

namespace pciplan::inline v0 {

/// One row of the BAR catalogue: a QEMU device, its BARs, and the legacy I/O BAR a
/// transitional-by-default virtio device has outside PCIe ports (0: none).
struct bar_row {
  std::string_view qemu_device{};  ///< the QEMU device name
  device_bars bars{};              ///< its BARs (and ROM) wherever it sits
  std::uint64_t legacy_io = 0;     ///< virtio `disable-legacy=auto`: an I/O BAR except behind a PCIe port
};

namespace detail {
inline constexpr std::uint64_t kib = 1024;
inline constexpr std::uint64_t mib = 1024 * 1024;
/// Modern virtio: the MSI-X table (mem32 4 KiB) and the virtio regions (pref64 16 KiB).
constexpr device_bars virtio_modern() { return device_bars{}.mem32(4 * kib).pref64(16 * kib); }
}  // namespace detail

/// QEMU 7.2's BARs of the catalogue's devices (kinds/device_kinds.hpp), by QEMU device name.
inline constexpr bar_row bar_catalogue[] = {
    // network (ROMs: the efi-*.rom option ROMs, 256 KiB)
    {"virtio-net-pci", detail::virtio_modern().mem32(256 * detail::kib), 32},
    {"virtio-net-pci-transitional", detail::virtio_modern().mem32(256 * detail::kib).io(32), 0},
    {"virtio-net-pci-non-transitional", detail::virtio_modern().mem32(256 * detail::kib), 0},
    {"e1000", device_bars{}.mem32(128 * detail::kib).io(64).mem32(256 * detail::kib), 0},
    {"e1000e", device_bars{}.mem32(128 * detail::kib).mem32(128 * detail::kib).io(32).mem32(16 * detail::kib).mem32(256 * detail::kib), 0},
    // igb is QEMU 8.0's: the BAR sizes of its source (e1000e's layout), no option ROM
    {"igb", device_bars{}.mem32(128 * detail::kib).mem32(128 * detail::kib).io(32).mem32(16 * detail::kib), 0},
    {"rtl8139", device_bars{}.io(256).mem32(256).mem32(256 * detail::kib), 0},
    {"vmxnet3", device_bars{}.mem32(4 * detail::kib).mem32(4 * detail::kib).mem32(8 * detail::kib).mem32(256 * detail::kib), 0},
    // storage
    {"virtio-blk-pci", detail::virtio_modern(), 128},
    {"virtio-blk-pci-transitional", detail::virtio_modern().io(128), 0},
    {"virtio-blk-pci-non-transitional", detail::virtio_modern(), 0},
    {"virtio-scsi-pci", detail::virtio_modern(), 64},
    {"virtio-scsi-pci-transitional", detail::virtio_modern().io(64), 0},
    {"virtio-scsi-pci-non-transitional", detail::virtio_modern(), 0},
    {"vhost-scsi-pci", detail::virtio_modern(), 64},  // virtio-scsi's layout (no /dev/vhost-scsi to measure)
    {"nvme", device_bars{}.mem64(16 * detail::kib), 0},
    {"ich9-ahci", device_bars{}.io(32).mem32(4 * detail::kib), 0},
    {"piix3-ide", device_bars{}.io(16), 0},
    {"lsi53c895a", device_bars{}.io(256).mem32(1024).mem32(8 * detail::kib), 0},
    {"megasas", device_bars{}.mem64(16 * detail::kib).io(256).mem64(256 * detail::kib), 0},
    {"mptsas1068", device_bars{}.io(256).mem32(16 * detail::kib).mem32(64 * detail::kib), 0},
    {"pvscsi", device_bars{}.mem32(32 * detail::kib), 0},
    {"am53c974", device_bars{}.io(128), 0},
    {"dc390", device_bars{}.io(128), 0},
    // USB (firmware keeps a USB controller's 64-bit BAR below 4 GiB: counted as mem32)
    {"qemu-xhci", device_bars{}.mem32(16 * detail::kib), 0},
    {"nec-usb-xhci", device_bars{}.mem32(16 * detail::kib), 0},
    {"piix3-usb-uhci", device_bars{}.io(32), 0},
    {"piix4-usb-uhci", device_bars{}.io(32), 0},
    {"ich9-usb-ehci1", device_bars{}.mem32(4 * detail::kib), 0},
    {"ich9-usb-uhci1", device_bars{}.io(32), 0},
    {"ich9-usb-uhci2", device_bars{}.io(32), 0},
    {"ich9-usb-uhci3", device_bars{}.io(32), 0},
    {"usb-ehci", device_bars{}.mem32(4 * detail::kib), 0},
    {"pci-ohci", device_bars{}.mem32(256), 0},
    {"vt82c686b-usb-uhci", device_bars{}.io(32), 0},
    // serial
    {"virtio-serial-pci", detail::virtio_modern(), 64},
    {"virtio-serial-pci-transitional", detail::virtio_modern().io(64), 0},
    {"pci-serial", device_bars{}.io(8), 0},
    // video (ROMs: the VGA BIOS, 64 KiB; bochs-display's 32 KiB)
    {"virtio-gpu-pci", detail::virtio_modern(), 0},
    {"virtio-vga", device_bars{}.pref32(8 * detail::mib).pref64(16 * detail::kib).mem32(4 * detail::kib).mem32(64 * detail::kib), 0},
    {"bochs-display", device_bars{}.pref32(16 * detail::mib).mem32(4 * detail::kib).mem32(32 * detail::kib), 0},
    {"VGA", device_bars{}.pref32(16 * detail::mib).mem32(4 * detail::kib).mem32(64 * detail::kib), 0},
    {"cirrus-vga", device_bars{}.pref32(32 * detail::mib).mem32(4 * detail::kib).mem32(64 * detail::kib), 0},
    {"qxl-vga", device_bars{}.mem32(64 * detail::mib).mem32(64 * detail::mib).mem32(8 * detail::kib).io(32).mem32(64 * detail::kib), 0},
    {"qxl", device_bars{}.mem32(64 * detail::mib).mem32(64 * detail::mib).mem32(8 * detail::kib).io(32), 0},
    {"vmware-svga", device_bars{}.io(16).pref32(16 * detail::mib).pref32(64 * detail::kib).mem32(64 * detail::kib), 0},
    // sound
    {"ich9-intel-hda", device_bars{}.mem32(16 * detail::kib), 0},
    {"intel-hda", device_bars{}.mem32(16 * detail::kib), 0},
    {"AC97", device_bars{}.io(1024).io(256), 0},
    {"ES1370", device_bars{}.io(256), 0},
    {"virtio-sound-pci", detail::virtio_modern(), 0},  // QEMU 8.2's: modern virtio
    // other virtio
    {"virtio-balloon-pci", device_bars{}.pref64(16 * detail::kib), 64},
    {"virtio-balloon-pci-transitional", device_bars{}.pref64(16 * detail::kib).io(64), 0},
    {"virtio-rng-pci", detail::virtio_modern(), 32},
    {"virtio-rng-pci-transitional", detail::virtio_modern().io(32), 0},
    {"virtio-keyboard-pci", detail::virtio_modern(), 0},
    {"virtio-mouse-pci", detail::virtio_modern(), 0},
    {"virtio-tablet-pci", detail::virtio_modern(), 0},
    {"virtio-input-host-pci", detail::virtio_modern(), 0},
    {"virtio-9p-pci", detail::virtio_modern(), 32},
    {"virtio-9p-pci-transitional", detail::virtio_modern().io(32), 0},
    {"vhost-user-fs-pci", detail::virtio_modern(), 0},
    {"vhost-vsock-pci", detail::virtio_modern(), 0},  // modern only (no /dev/vhost-vsock to measure)
    {"vhost-vsock-pci-transitional", detail::virtio_modern().io(32), 0},
    {"virtio-mem-pci", device_bars{}.pref64(16 * detail::kib), 0},
    {"virtio-pmem-pci", device_bars{}.pref64(16 * detail::kib), 0},
    {"virtio-crypto-pci", detail::virtio_modern(), 0},
    // integrated endpoints
    {"virtio-iommu-pci", device_bars{}.pref64(16 * detail::kib), 0},
    {"amd-iommu", device_bars{}, 0},
    {"pvpanic-pci", device_bars{}.mem32(2), 0},
    // miscellaneous (ivshmem: the backend's size in BAR 2; libvirt's default <shmem> is 4 MiB)
    {"i6300esb", device_bars{}.mem32(16), 0},
    {"ivshmem-plain", device_bars{}.mem32(256).pref64(4 * detail::mib), 0},
    {"ivshmem-doorbell", device_bars{}.mem32(256).mem32(4 * detail::kib).pref64(4 * detail::mib), 0},
    {"acpi-erst", device_bars{}.mem32(16).mem32(8 * detail::kib), 0},
    // vfio-pci: a host device's BARs are the host's; give them with the request
    {"vfio-pci", device_bars{}, 0},
};

/// The BARs of the QEMU device `qemu_device` from the catalogue (`given` false; no BARs
/// for a device it does not know), on a bus behind a PCIe port or not.
[[nodiscard]] constexpr device_bars catalogue_bars(std::string_view qemu_device, bool behind_pcie_port) noexcept {
  for (const bar_row& r : bar_catalogue) {
    if (r.qemu_device != qemu_device) continue;
    device_bars b = r.bars;
    if (r.legacy_io != 0 && !behind_pcie_port) b.io(r.legacy_io);
    b.given = false;
    return b;
  }
  return device_bars{};
}

/// The BARs of a controller itself (on the bus it sits on), by its QEMU device: a
/// pcie-root-port's MSI-X table, the SHPC registers of pci-bridge and pcie-pci-bridge.
[[nodiscard]] constexpr device_bars controller_bars(std::string_view qemu_device) noexcept {
  device_bars b;
  if (qemu_device == "pcie-root-port") b.mem32(4 * detail::kib);
  if (qemu_device == "pci-bridge" || qemu_device == "pcie-pci-bridge") b.mem64(256);
  b.given = false;
  return b;
}

/// What firmware gives the windows of an empty hot-pluggable bridge.
enum class window_minimum : unsigned char {
  none,  ///< nothing (switch upstream ports, the DMI-to-PCI bridge)
  pcie,  ///< a PCIe port with a hot-plug slot: memory and prefetchable, no I/O
  shpc,  ///< an SHPC bridge: I/O, memory and prefetchable
};

/// The window minimum of a bridge or port, by its QEMU device.
[[nodiscard]] constexpr window_minimum window_minimum_of(std::string_view qemu_device) noexcept {
  if (qemu_device == "pcie-root-port" || qemu_device == "ioh3420" || qemu_device == "xio3130-downstream") {
    return window_minimum::pcie;
  }
  if (qemu_device == "pci-bridge" || qemu_device == "pcie-pci-bridge") return window_minimum::shpc;
  return window_minimum::none;
}

/// Whether QEMU's io-reserve, mem-reserve, pref32-reserve and pref64-reserve properties
/// exist on this QEMU device (they size its windows through firmware).
[[nodiscard]] constexpr bool takes_reserves(std::string_view qemu_device) noexcept {
  return qemu_device == "pcie-root-port" || qemu_device == "pci-bridge";
}

}  // namespace pciplan::inline v0

#endif  // PCIPLAN_KINDS_DEVICE_BARS_HPP
