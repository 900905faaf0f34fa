// The eight machine types: laws over all of them, and every trait value checked against
// RULES.md L2, Q19, Q32, Q33, O1 and O7.
#include <catch2/catch.hpp>

#include "../support/support.hpp"

#include <string_view>

using namespace pciplan;

namespace {
template <class M>
constexpr bool reserves(unsigned slot, unsigned function) {
  for (const auto& r : machine_traits<M>::reserved) {
    if (r.slot == slot && r.function == function) return true;
  }
  return false;
}
template <class M>
constexpr int preferred_slot_of(slot_role role) {
  for (const auto& p : machine_traits<M>::preferred) {
    if (p.role == role) return p.slot;
  }
  return -1;
}
template <class M>
constexpr bool has_default(std::string_view qemu_device) {
  for (const auto& d : machine_traits<M>::default_devices) {
    if (d.qemu_device == qemu_device) return true;
  }
  return false;
}
}  // namespace

TEMPLATE_LIST_TEST_CASE("machine laws: complete, consistent traits", "[machines][laws]", machine_type_list) {
  using traits = machine_traits<TestType>;
  STATIC_REQUIRE(MachineType<TestType>);
  STATIC_REQUIRE(!traits::name.empty());
  STATIC_REQUIRE(!traits::arch.empty());
  if constexpr (has_pci_v<TestType>) {
    constexpr controller_descriptor root = descriptor_of<root_of<TestType>>;
    STATIC_REQUIRE(root.is_root());
    STATIC_REQUIRE(AvailableOn<root_of<TestType>, TestType>);
    // reserved and preferred positions lie on the root bus's slots or on slot 0 (host bridge)
    for (const auto& r : traits::reserved) {
      CHECK((r.slot == 0 || root.slots.contains(r.slot)));
      CHECK(r.function <= max_function);
      CHECK(!r.what.empty());
    }
    for (const auto& p : traits::preferred) CHECK(root.slots.contains(p.slot));
    for (const auto& d : traits::default_devices) {
      CHECK(!d.qemu_device.empty());
      CHECK((!d.fixed || root.slots.contains(d.slot)));
    }
    // every expander it allows is available on it, and no other
    hana::for_each(traits::expanders, [](auto t) { CHECK(AvailableOn<typename decltype(t)::type, TestType>); });
  } else {
    // without PCI: virtio-mmio only, nothing on PCI
    STATIC_REQUIRE(traits::virtio == virtio_transport::mmio);
    STATIC_REQUIRE(traits::virtio_mmio_transports > 0);
    STATIC_REQUIRE(traits::default_devices.empty());
    STATIC_REQUIRE(same(available_kinds<TestType>(), hana::tuple_t<>));
  }
  // a machine that falls back to virtio-mmio has transports for it
  STATIC_REQUIRE((traits::virtio != virtio_transport::pci_or_mmio || traits::virtio_mmio_transports > 0));
  // several roots only where the root is a PHB
  STATIC_REQUIRE(traits::multiple_roots == std::is_same_v<root_of<TestType>, spapr_pci_host_bridge>);
}

TEST_CASE("RULES.md L2.1: the root controller of each machine type", "[machines][facts]") {
  STATIC_REQUIRE(std::is_same_v<root_of<machines::pc>, pci_root>);
  STATIC_REQUIRE(std::is_same_v<root_of<machines::q35>, pcie_root>);
  STATIC_REQUIRE(std::is_same_v<root_of<machines::aarch64_virt>, pcie_root>);
  STATIC_REQUIRE(std::is_same_v<root_of<machines::riscv64_virt>, pcie_root>);
  STATIC_REQUIRE(std::is_same_v<root_of<machines::loongarch64_virt>, pcie_root>);
  STATIC_REQUIRE(std::is_same_v<root_of<machines::pseries>, spapr_pci_host_bridge>);
  STATIC_REQUIRE(std::is_same_v<root_of<machines::s390x_ccw>, pci_root>);  // with zPCI
  STATIC_REQUIRE_FALSE(has_pci_v<machines::microvm>);                     // RULES.md L2.9
}

TEST_CASE("RULES.md L2.1: QEMU machine and arch names", "[machines][facts]") {
  STATIC_REQUIRE(machine_traits<machines::pc>::name == "pc");
  STATIC_REQUIRE(machine_traits<machines::q35>::name == "q35");
  STATIC_REQUIRE(machine_traits<machines::aarch64_virt>::name == "virt");
  STATIC_REQUIRE(machine_traits<machines::aarch64_virt>::arch == "aarch64");
  STATIC_REQUIRE(machine_traits<machines::riscv64_virt>::arch == "riscv64");
  STATIC_REQUIRE(machine_traits<machines::loongarch64_virt>::arch == "loongarch64");
  STATIC_REQUIRE(machine_traits<machines::pseries>::name == "pseries");
  STATIC_REQUIRE(machine_traits<machines::pseries>::arch == "ppc64");
  STATIC_REQUIRE(machine_traits<machines::s390x_ccw>::name == "s390-ccw-virtio");
  STATIC_REQUIRE(machine_traits<machines::microvm>::name == "microvm");
}

TEST_CASE("RULES.md L2.2/L2.3/L2.4 and O1: chipsets", "[machines][facts]") {
  STATIC_REQUIRE(machine_traits<machines::pc>::chipset == "i440FX + PIIX3");
  STATIC_REQUIRE(machine_traits<machines::q35>::chipset == "Q35 (MCH) + ICH9");
  STATIC_REQUIRE(machine_traits<machines::aarch64_virt>::chipset == "GPEX");
  STATIC_REQUIRE(machine_traits<machines::pseries>::chipset == "sPAPR PHB");
  STATIC_REQUIRE(machine_traits<machines::s390x_ccw>::chipset == "zPCI");
}

TEST_CASE("RULES.md L2.2: pc reserves the host bridge and PIIX3 slot 1", "[machines][facts]") {
  using pc = machines::pc;
  STATIC_REQUIRE(reserves<pc>(0x00, 0));  // host bridge (pci-root minSlot = 1)
  STATIC_REQUIRE(reserves<pc>(0x01, 0));  // PIIX3 ISA bridge
  STATIC_REQUIRE(reserves<pc>(0x01, 1));  // primary IDE "must have PCI address 0:0:1.1"
  STATIC_REQUIRE(reserves<pc>(0x01, 3));  // ACPI/PM
  STATIC_REQUIRE_FALSE(reserves<pc>(0x01, 2));  // kept for the PIIX3 USB controller instead
  STATIC_REQUIRE_FALSE(reserves<pc>(0x02, 0));
  STATIC_REQUIRE(preferred_slot_of<pc>(slot_role::piix3_usb) == 0x01);
  STATIC_REQUIRE(machine_traits<pc>::preferred[0] == preferred_slot{slot_role::piix3_usb, 0x01, 2, true});
  STATIC_REQUIRE(preferred_slot_of<pc>(slot_role::primary_video) == 0x02);  // "Slot 2: primary video"
  STATIC_REQUIRE(has_default<pc>("piix3-usb-uhci"));                         // at 00:01.2
  STATIC_REQUIRE(machine_traits<pc>::default_devices[0] ==
                 default_device{"piix3-usb-uhci", "USB controller", true, 0x01, 2});
  STATIC_REQUIRE(has_default<pc>("virtio-balloon-pci"));
}

TEST_CASE("RULES.md L2.3 and Q33: q35 reserves 00.0 and the ICH9 functions of 0x1f",
          "[machines][facts]") {
  using q35 = machines::q35;
  STATIC_REQUIRE(reserves<q35>(0x00, 0));
  STATIC_REQUIRE(reserves<q35>(0x1f, 0));  // LPC/ISA
  STATIC_REQUIRE(reserves<q35>(0x1f, 2));  // SATA "must have PCI address 0:0:1f.2"
  STATIC_REQUIRE(reserves<q35>(0x1f, 3));  // SMBus
  STATIC_REQUIRE_FALSE(reserves<q35>(0x1f, 1));
  STATIC_REQUIRE_FALSE(reserves<q35>(0x01, 0));
  STATIC_REQUIRE(preferred_slot_of<q35>(slot_role::primary_video) == 0x01);
  STATIC_REQUIRE(preferred_slot_of<q35>(slot_role::ich9_sound) == 0x1b);
  STATIC_REQUIRE(preferred_slot_of<q35>(slot_role::usb2_companions) == 0x1d);  // then 0x1a
  STATIC_REQUIRE(machine_traits<q35>::preferred[2] == preferred_slot{slot_role::usb2_companions, 0x1a, 0, false});
  STATIC_REQUIRE(preferred_slot_of<q35>(slot_role::dmi_to_pci_bridge) == 0x1e);
  STATIC_REQUIRE(preferred_slot_of<q35>(slot_role::sata) == 0x1f);
  // defaults: SATA at 1f.2, qemu-xhci and the balloon (RULES.md L2.1, L2.3)
  STATIC_REQUIRE(has_default<q35>("ich9-ahci"));
  STATIC_REQUIRE(has_default<q35>("qemu-xhci"));
  STATIC_REQUIRE(has_default<q35>("virtio-balloon-pci"));
}

TEST_CASE("RULES.md L2.4/L2.5/L2.8: virt machines reserve only the host bridge", "[machines][facts]") {
  STATIC_REQUIRE(machine_traits<machines::aarch64_virt>::reserved.size() == 1);
  STATIC_REQUIRE(reserves<machines::aarch64_virt>(0, 0));
  STATIC_REQUIRE(machine_traits<machines::riscv64_virt>::reserved.size() == 1);
  STATIC_REQUIRE(machine_traits<machines::loongarch64_virt>::reserved.size() == 1);
  // RULES.md L2.1: aarch64 virt gets no default USB and no balloon; loongarch64 none
  STATIC_REQUIRE(machine_traits<machines::aarch64_virt>::default_devices.empty());
  STATIC_REQUIRE(machine_traits<machines::loongarch64_virt>::default_devices.empty());
  // riscv64 virt gets a balloon (corpus riscv64-virt-minimal, RULES.md O7)
  STATIC_REQUIRE(has_default<machines::riscv64_virt>("virtio-balloon-pci"));
}

TEST_CASE("RULES.md L2.6/L2.7: pseries and s390x defaults", "[machines][facts]") {
  STATIC_REQUIRE(has_default<machines::pseries>("pci-ohci"));  // existing definitions
  STATIC_REQUIRE(has_default<machines::pseries>("virtio-balloon-pci"));
  STATIC_REQUIRE(machine_traits<machines::pseries>::reserved.empty());
  // s390x: the balloon is a CCW device, nothing PCI by default
  STATIC_REQUIRE(machine_traits<machines::s390x_ccw>::default_devices.empty());
}

TEST_CASE("RULES.md O1 and Q32: virtio transports and virtio-mmio counts", "[machines][facts]") {
  STATIC_REQUIRE(machine_traits<machines::aarch64_virt>::virtio_mmio_transports == 32);
  STATIC_REQUIRE(machine_traits<machines::riscv64_virt>::virtio_mmio_transports == 8);
  STATIC_REQUIRE(machine_traits<machines::microvm>::virtio_mmio_transports == 8);
  STATIC_REQUIRE(machine_traits<machines::q35>::virtio_mmio_transports == 0);
  STATIC_REQUIRE(machine_traits<machines::pc>::virtio_mmio_transports == 0);
  // RULES.md L2.4/L2.5: ARM and RISC-V virt use PCI unless any device already uses mmio
  STATIC_REQUIRE(machine_traits<machines::aarch64_virt>::virtio == virtio_transport::pci_or_mmio);
  STATIC_REQUIRE(machine_traits<machines::riscv64_virt>::virtio == virtio_transport::pci_or_mmio);
  // RULES.md L2.8: LoongArch is not part of the mmio logic; L2.7: s390x uses CCW; L2.9: microvm mmio only
  STATIC_REQUIRE(machine_traits<machines::loongarch64_virt>::virtio == virtio_transport::pci);
  STATIC_REQUIRE(machine_traits<machines::s390x_ccw>::virtio == virtio_transport::ccw);
  STATIC_REQUIRE(machine_traits<machines::microvm>::virtio == virtio_transport::mmio);
  STATIC_REQUIRE(machine_traits<machines::q35>::virtio == virtio_transport::pci);
}

TEST_CASE("RULES.md L2.1: expander kinds each machine allows", "[machines][facts]") {
  // "pci-expander-bus controllers are only supported on 440fx-based machinetypes"
  STATIC_REQUIRE(same(machine_traits<machines::pc>::expanders, hana::tuple_t<pci_expander_bus>));
  // "pcie-expander-bus … q35 or ARM virt — RISC-V virt is not allowed"
  STATIC_REQUIRE(same(machine_traits<machines::q35>::expanders, hana::tuple_t<pcie_expander_bus>));
  STATIC_REQUIRE(same(machine_traits<machines::aarch64_virt>::expanders, hana::tuple_t<pcie_expander_bus>));
  STATIC_REQUIRE(same(machine_traits<machines::riscv64_virt>::expanders, hana::tuple_t<>));
  STATIC_REQUIRE(same(machine_traits<machines::loongarch64_virt>::expanders, hana::tuple_t<>));
  STATIC_REQUIRE(same(machine_traits<machines::pseries>::expanders, hana::tuple_t<>));
}

TEST_CASE("RULES.md L2.1/L2.6 and Q19: several roots only on pseries", "[machines][facts]") {
  STATIC_REQUIRE(machine_traits<machines::pseries>::multiple_roots);
  STATIC_REQUIRE_FALSE(machine_traits<machines::q35>::multiple_roots);  // one PCI domain even with pxb
  STATIC_REQUIRE_FALSE(machine_traits<machines::pc>::multiple_roots);
  STATIC_REQUIRE_FALSE(machine_traits<machines::s390x_ccw>::multiple_roots);
}
