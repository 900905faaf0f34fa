// pciplan — kinds/kind_lists.hpp: the lists of every built-in controller kind, machine type and
// device kind, as plain type lists (for Catch2 TEMPLATE_LIST_TEST_CASE and the like)
// and as Boost.Hana tuples of types (for compile-time queries, see queries.hpp).
#ifndef PCIPLAN_KINDS_KIND_LISTS_HPP
#define PCIPLAN_KINDS_KIND_LISTS_HPP

#include <pciplan/kinds/controller_kinds.hpp>
#include <pciplan/detail/config.hpp>
#include <pciplan/kinds/device_kinds.hpp>
#include <pciplan/kinds/machine_types.hpp>

#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>

#include <cstddef>

namespace pciplan::inline v0 {

/// A list of types, nothing more.
template <class... Ts>
struct type_list {
  static constexpr std::size_t size = sizeof...(Ts);  ///< the number of types in the list
};

/// The same list as a Boost.Hana tuple of types: `hana::tuple_t<Ts...>`.
template <class... Ts>
constexpr auto to_hana(type_list<Ts...>) {
  return boost::hana::tuple_t<Ts...>;
}

/// The eleven controller kinds, roots first, then the kinds in the order libvirt's
/// model enumeration lists them.
using controller_kind_list =
    type_list<pci_root, pcie_root, spapr_pci_host_bridge, pci_bridge, dmi_to_pci_bridge, pcie_root_port,
              pcie_switch_upstream_port, pcie_switch_downstream_port, pci_expander_bus, pcie_expander_bus,
              pcie_to_pci_bridge>;

/// The eight machine types.
using machine_type_list = type_list<machines::pc, machines::q35, machines::aarch64_virt, machines::riscv64_virt,
                                    machines::loongarch64_virt, machines::pseries, machines::s390x_ccw,
                                    machines::microvm>;

/// The device catalogue (devices.hpp).
using device_kind_list = type_list<
    models::virtio_net, models::virtio_net_transitional, models::virtio_net_non_transitional, models::e1000,
    models::e1000e, models::igb, models::rtl8139, models::vmxnet3, models::virtio_blk,
    models::virtio_blk_transitional, models::virtio_blk_non_transitional, models::virtio_scsi,
    models::virtio_scsi_transitional, models::virtio_scsi_non_transitional, models::vhost_scsi, models::nvme,
    models::ich9_ahci, models::piix3_ide, models::lsi53c895a, models::megasas, models::mptsas1068, models::pvscsi,
    models::am53c974, models::dc390, models::qemu_xhci, models::nec_xhci, models::piix3_uhci, models::piix4_uhci,
    models::ich9_ehci1, models::ich9_uhci1, models::ich9_uhci2, models::ich9_uhci3, models::usb_ehci,
    models::pci_ohci, models::vt82c686b_uhci, models::virtio_serial, models::virtio_serial_transitional,
    models::pci_serial, models::virtio_gpu, models::virtio_vga, models::bochs_display, models::vga,
    models::cirrus_vga, models::qxl_vga, models::qxl, models::vmware_svga, models::ich9_intel_hda,
    models::intel_hda, models::ac97, models::es1370, models::virtio_sound, models::virtio_balloon,
    models::virtio_balloon_transitional, models::virtio_rng, models::virtio_rng_transitional,
    models::virtio_keyboard, models::virtio_mouse, models::virtio_tablet, models::virtio_input_host,
    models::virtio_9p, models::virtio_9p_transitional, models::vhost_user_fs, models::vhost_vsock,
    models::vhost_vsock_transitional, models::virtio_mem, models::virtio_pmem, models::virtio_crypto,
    models::virtio_iommu, models::amd_iommu, models::pvpanic_pci, models::i6300esb, models::ivshmem_plain,
    models::ivshmem_doorbell, models::acpi_erst, models::vfio_pci>;

/// `hana::tuple_t<…>` of the eleven controller kinds.
inline constexpr auto controller_kinds = to_hana(controller_kind_list{});
/// `hana::tuple_t<…>` of the eight machine types.
inline constexpr auto machine_types = to_hana(machine_type_list{});
/// `hana::tuple_t<…>` of the device catalogue.
inline constexpr auto device_kinds = to_hana(device_kind_list{});

}  // namespace pciplan::inline v0

#endif  // PCIPLAN_KINDS_KIND_LISTS_HPP
