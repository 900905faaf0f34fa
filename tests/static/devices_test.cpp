// The device catalogue: laws over every device kind, and each device's link checked
// against RULES.md L3.1 and L3.2.
#include <catch2/catch.hpp>

#include "../support/support.hpp"

#include <boost/hana/for_each.hpp>

using namespace pciplan;

namespace {
constexpr connect_set pci = connect::pci_endpoint | connect::auto_assign;
constexpr connect_set pcie = connect::pcie_endpoint | connect::auto_assign;
}  // namespace

TEMPLATE_LIST_TEST_CASE("device laws: complete traits, one endpoint kind on every PCI machine",
                        "[devices][laws]", device_kind_list) {
  using traits = device_traits<TestType>;
  STATIC_REQUIRE(DeviceKind<TestType>);
  STATIC_REQUIRE(!traits::qemu_device.empty());
  STATIC_REQUIRE(!traits::libvirt.element.empty());
  // virtio-mmio variants exist only for virtio devices
  STATIC_REQUIRE((traits::mmio_device.empty() || traits::mmio_device.ends_with("-device")));
  hana::for_each(machine_types, [](auto m) {
    using M = typename decltype(m)::type;
    constexpr connect_set c = connect_of<TestType, M>;
    if constexpr (has_pci_v<M>) {
      // exactly one endpoint kind, always auto-assigned, integrated only if the traits say so
      CHECK(!name_of(c & connect::endpoints).empty());
      CHECK(c.contains(connect::auto_assign));
      CHECK(c.intersects(connect::integrated) == traits::integrated);
      // on a machine without a PCIe root every device is a conventional PCI device (RULES.md L3.1)
      if constexpr (!has_pcie_root_v<M>) CHECK(c.contains(connect::pci_endpoint));
    } else {
      CHECK(c.empty());
    }
  });
  STATIC_REQUIRE(hotpluggable_device_v<TestType> == !traits::integrated);
}

TEST_CASE("RULES.md L3.1: pcieFlags equal pciFlags without a pcie-root; virtio follows pcieFlags",
          "[devices][facts]") {
  STATIC_REQUIRE(connect_of<models::e1000e, machines::q35> == pcie);
  STATIC_REQUIRE(connect_of<models::e1000e, machines::pc> == pci);
  STATIC_REQUIRE(connect_of<models::virtio_net, machines::q35> == pcie);
  STATIC_REQUIRE(connect_of<models::virtio_net, machines::aarch64_virt> == pcie);
  STATIC_REQUIRE(connect_of<models::virtio_net, machines::pc> == pci);
  STATIC_REQUIRE(connect_of<models::virtio_net, machines::pseries> == pci);
  STATIC_REQUIRE(connect_of<models::e1000, machines::q35> == pci);
  STATIC_REQUIRE(connect_of<models::virtio_net, machines::microvm>.empty());
}

TEST_CASE("RULES.md L3.2: network devices", "[devices][facts]") {
  STATIC_REQUIRE(device_traits<models::virtio_net>::link == link_kind::virtio);
  STATIC_REQUIRE(device_traits<models::virtio_net_non_transitional>::link == link_kind::virtio);
  STATIC_REQUIRE(device_traits<models::virtio_net_transitional>::link == link_kind::conventional);
  STATIC_REQUIRE(device_traits<models::e1000e>::link == link_kind::express);
  STATIC_REQUIRE(device_traits<models::igb>::link == link_kind::express);
  STATIC_REQUIRE(device_traits<models::e1000>::link == link_kind::conventional);
  STATIC_REQUIRE(device_traits<models::rtl8139>::link == link_kind::conventional);
  STATIC_REQUIRE(device_traits<models::vmxnet3>::link == link_kind::conventional);
  STATIC_REQUIRE(device_traits<models::virtio_net>::qemu_device == "virtio-net-pci");
  STATIC_REQUIRE(device_traits<models::virtio_net>::mmio_device == "virtio-net-device");
  STATIC_REQUIRE(device_traits<models::virtio_net>::libvirt == libvirt_model{"interface", "virtio"});
}

TEST_CASE("RULES.md L3.2: disks and storage controllers", "[devices][facts]") {
  STATIC_REQUIRE(device_traits<models::virtio_blk>::link == link_kind::virtio);
  STATIC_REQUIRE(device_traits<models::virtio_blk_transitional>::link == link_kind::conventional);
  STATIC_REQUIRE(device_traits<models::virtio_scsi>::link == link_kind::virtio);
  STATIC_REQUIRE(device_traits<models::virtio_scsi_transitional>::link == link_kind::conventional);
  STATIC_REQUIRE(device_traits<models::nvme>::link == link_kind::express);
  STATIC_REQUIRE(device_traits<models::ich9_ahci>::link == link_kind::conventional);
  STATIC_REQUIRE(device_traits<models::piix3_ide>::link == link_kind::conventional);
  STATIC_REQUIRE(device_traits<models::lsi53c895a>::link == link_kind::conventional);
  STATIC_REQUIRE(device_traits<models::megasas>::link == link_kind::conventional);
  STATIC_REQUIRE(device_traits<models::mptsas1068>::link == link_kind::conventional);
  STATIC_REQUIRE(device_traits<models::pvscsi>::link == link_kind::conventional);
  STATIC_REQUIRE(device_traits<models::am53c974>::link == link_kind::conventional);
  STATIC_REQUIRE(device_traits<models::dc390>::link == link_kind::conventional);
  STATIC_REQUIRE(device_traits<models::vhost_scsi>::link == link_kind::virtio);
}

TEST_CASE("RULES.md L3.2: USB controllers (qemu-xhci vs piix3-uhci vs ich9 companions)", "[devices][facts]") {
  STATIC_REQUIRE(device_traits<models::qemu_xhci>::link == link_kind::express);
  STATIC_REQUIRE(device_traits<models::nec_xhci>::link == link_kind::express);
  STATIC_REQUIRE(device_traits<models::piix3_uhci>::link == link_kind::conventional);
  STATIC_REQUIRE(device_traits<models::piix4_uhci>::link == link_kind::conventional);
  STATIC_REQUIRE(device_traits<models::ich9_ehci1>::link == link_kind::conventional);
  STATIC_REQUIRE(device_traits<models::ich9_uhci1>::link == link_kind::conventional);
  STATIC_REQUIRE(device_traits<models::usb_ehci>::link == link_kind::conventional);
  STATIC_REQUIRE(device_traits<models::pci_ohci>::link == link_kind::conventional);
  STATIC_REQUIRE(device_traits<models::vt82c686b_uhci>::link == link_kind::conventional);
  // RULES.md L4.7: EHCI1 at function 7, UHCI1..3 at 0..2 of one slot
  STATIC_REQUIRE(companion_function<models::ich9_ehci1> == 7);
  STATIC_REQUIRE(companion_function<models::ich9_uhci1> == 0);
  STATIC_REQUIRE(companion_function<models::ich9_uhci2> == 1);
  STATIC_REQUIRE(companion_function<models::ich9_uhci3> == 2);
  STATIC_REQUIRE(companion_function<models::qemu_xhci> == -1);
}

TEST_CASE("RULES.md L3.2: video and sound", "[devices][facts]") {
  STATIC_REQUIRE(device_traits<models::virtio_gpu>::link == link_kind::virtio);
  STATIC_REQUIRE(device_traits<models::virtio_vga>::link == link_kind::virtio);
  STATIC_REQUIRE(device_traits<models::bochs_display>::link == link_kind::express);
  STATIC_REQUIRE(device_traits<models::vga>::link == link_kind::conventional);
  STATIC_REQUIRE(device_traits<models::cirrus_vga>::link == link_kind::conventional);
  STATIC_REQUIRE(device_traits<models::qxl_vga>::link == link_kind::conventional);
  STATIC_REQUIRE(device_traits<models::qxl>::link == link_kind::conventional);
  STATIC_REQUIRE(device_traits<models::vmware_svga>::link == link_kind::conventional);
  STATIC_REQUIRE(device_traits<models::ich9_intel_hda>::link == link_kind::conventional);
  STATIC_REQUIRE(device_traits<models::intel_hda>::link == link_kind::conventional);
  STATIC_REQUIRE(device_traits<models::ac97>::link == link_kind::conventional);
  STATIC_REQUIRE(device_traits<models::es1370>::link == link_kind::conventional);
  STATIC_REQUIRE(device_traits<models::virtio_sound>::link == link_kind::virtio);
}

TEST_CASE("RULES.md L3.2: other virtio devices, transitional variants and the crypto quirk",
          "[devices][facts]") {
  STATIC_REQUIRE(device_traits<models::virtio_balloon>::link == link_kind::virtio);
  STATIC_REQUIRE(device_traits<models::virtio_balloon_transitional>::link == link_kind::conventional);
  STATIC_REQUIRE(device_traits<models::virtio_rng>::link == link_kind::virtio);
  STATIC_REQUIRE(device_traits<models::virtio_rng_transitional>::link == link_kind::conventional);
  STATIC_REQUIRE(device_traits<models::virtio_serial>::link == link_kind::virtio);
  STATIC_REQUIRE(device_traits<models::virtio_serial_transitional>::link == link_kind::conventional);
  STATIC_REQUIRE(device_traits<models::virtio_keyboard>::link == link_kind::virtio);
  STATIC_REQUIRE(device_traits<models::virtio_9p>::link == link_kind::virtio);
  STATIC_REQUIRE(device_traits<models::virtio_9p_transitional>::link == link_kind::conventional);
  STATIC_REQUIRE(device_traits<models::vhost_user_fs>::link == link_kind::virtio);
  STATIC_REQUIRE(device_traits<models::vhost_vsock>::link == link_kind::virtio);
  STATIC_REQUIRE(device_traits<models::vhost_vsock_transitional>::link == link_kind::conventional);
  STATIC_REQUIRE(device_traits<models::virtio_mem>::link == link_kind::virtio);
  STATIC_REQUIRE(device_traits<models::virtio_pmem>::link == link_kind::virtio);
  // "Crypto | virtio | pci (conventional even though virtio — quirk)"
  STATIC_REQUIRE(device_traits<models::virtio_crypto>::link == link_kind::conventional);
  STATIC_REQUIRE(connect_of<models::virtio_crypto, machines::q35> == pci);
}

TEST_CASE("RULES.md L3.2: integrated endpoints (virtio-iommu, amd-iommu, pvpanic-pci)", "[devices][facts]") {
  STATIC_REQUIRE(device_traits<models::virtio_iommu>::integrated);
  STATIC_REQUIRE(device_traits<models::amd_iommu>::integrated);
  STATIC_REQUIRE(device_traits<models::pvpanic_pci>::integrated);
  STATIC_REQUIRE(connect_of<models::virtio_iommu, machines::q35> == (pcie | connect::integrated));
  STATIC_REQUIRE(connect_of<models::amd_iommu, machines::q35> == (pci | connect::integrated));
  STATIC_REQUIRE(connect_of<models::pvpanic_pci, machines::aarch64_virt> == (pci | connect::integrated));
  STATIC_REQUIRE_FALSE(hotpluggable_device_v<models::pvpanic_pci>);
  STATIC_REQUIRE_FALSE(device_traits<models::virtio_net>::integrated);
}

TEST_CASE("RULES.md L3.2: watchdog, shmem, serial, pstore and host devices", "[devices][facts]") {
  STATIC_REQUIRE(device_traits<models::i6300esb>::link == link_kind::conventional);
  STATIC_REQUIRE(device_traits<models::ivshmem_plain>::link == link_kind::conventional);
  STATIC_REQUIRE(device_traits<models::ivshmem_doorbell>::link == link_kind::conventional);
  STATIC_REQUIRE(device_traits<models::pci_serial>::link == link_kind::conventional);
  STATIC_REQUIRE(device_traits<models::acpi_erst>::link == link_kind::conventional);
  // "host device not found | pcie (assumed)"; "machine has no pcie-root | pci"
  STATIC_REQUIRE(device_traits<models::vfio_pci>::link == link_kind::express);
  STATIC_REQUIRE(connect_of<models::vfio_pci, machines::q35> == pcie);
  STATIC_REQUIRE(connect_of<models::vfio_pci, machines::pc> == pci);
}

TEST_CASE("RULES.md O1, O3, L2.2-L2.3: QEMU device names seen in QEMU and libvirt", "[devices][facts]") {
  // RULES.md O1 and O3 (devices QEMU 7.2 ran)
  STATIC_REQUIRE(device_traits<models::virtio_net>::qemu_device == "virtio-net-pci");
  STATIC_REQUIRE(device_traits<models::virtio_blk>::qemu_device == "virtio-blk-pci");
  STATIC_REQUIRE(device_traits<models::virtio_scsi>::qemu_device == "virtio-scsi-pci");
  STATIC_REQUIRE(device_traits<models::e1000>::qemu_device == "e1000");
  STATIC_REQUIRE(device_traits<models::virtio_net>::mmio_device == "virtio-net-device");
  STATIC_REQUIRE(device_traits<models::virtio_blk>::mmio_device == "virtio-blk-device");
  // RULES.md L2.2 (x86_64-pc-minimal args: piix3-usb-uhci), L2.3 (qemu-xhci)
  STATIC_REQUIRE(device_traits<models::piix3_uhci>::qemu_device == "piix3-usb-uhci");
  STATIC_REQUIRE(device_traits<models::qemu_xhci>::qemu_device == "qemu-xhci");
  // RULES.md L3.2: pvpanic is pvpanic-pci, bochs is bochs-display, pstore is acpi-erst
  STATIC_REQUIRE(device_traits<models::pvpanic_pci>::qemu_device == "pvpanic-pci");
  STATIC_REQUIRE(device_traits<models::bochs_display>::qemu_device == "bochs-display");
  STATIC_REQUIRE(device_traits<models::acpi_erst>::qemu_device == "acpi-erst");
  // RULES.md L3.2 models: libvirt's names for the transitional variants and crypto
  STATIC_REQUIRE(device_traits<models::virtio_blk_transitional>::libvirt == libvirt_model{"disk", "virtio-transitional"});
  STATIC_REQUIRE(device_traits<models::megasas>::libvirt == libvirt_model{"controller", "lsisas1078"});
  STATIC_REQUIRE(device_traits<models::pvscsi>::libvirt == libvirt_model{"controller", "vmpvscsi"});
  STATIC_REQUIRE(device_traits<models::intel_hda>::libvirt == libvirt_model{"sound", "ich6"});
}
