// pciplan — kinds/machine_types.hpp: QEMU machine types as types, their traits, and the
// MachineType concept.
//
// Like controller kinds, a machine type is an empty tag with one customisation point,
// `machine_traits<Machine>`. Facts: RULES.md L2 (root controller, chipset and
// reserved slots, default devices, expander restrictions, several roots),
// RULES.md O1 and Q19, Q32, Q33 (virtio-mmio transports,
// fixed devices), O1 (virtio-mmio bus counts seen in QEMU 7.2).
#ifndef PCIPLAN_KINDS_MACHINE_TYPES_HPP
#define PCIPLAN_KINDS_MACHINE_TYPES_HPP

#include <pciplan/kinds/controller_kinds.hpp>
#include <pciplan/detail/config.hpp>

#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>

#include <array>
#include <concepts>
#include <cstdint>
#include <span>
#include <string_view>
#include <type_traits>

namespace pciplan::inline v0 {

/// The customisation point: specialise for each machine type.
template <class Machine>
struct machine_traits;

/// The root "kind" of a machine that has no PCI at all (microvm). Not a ControllerKind.
struct no_pci_root {};

/// How virtio devices reach the guest on this machine when nothing else is asked.
enum class virtio_transport : unsigned char {
  pci,          ///< virtio-pci
  pci_or_mmio,  ///< virtio-pci, but virtio-mmio for all of them once any device uses mmio
  mmio,         ///< virtio-mmio only (no PCI)
  ccw,          ///< virtio-ccw channel I/O (s390x); PCI only for zPCI passthrough
};

/// A function the machine itself occupies on the root bus: nothing else may use it.
struct reserved_function {
  std::uint8_t slot = 0;      ///< slot on the root bus (0-31)
  std::uint8_t function = 0;  ///< function within the slot (0-7)
  std::string_view what{};    ///< what the machine has there, in words ("PIIX3 ISA bridge")
  /// Compares all members.
  friend constexpr bool operator==(const reserved_function&, const reserved_function&) = default;
};

/// What a preferred root-bus position is kept for.
enum class slot_role : unsigned char {
  primary_video,      ///< the first video device
  piix3_usb,          ///< the PIIX3 USB controller of pc (index 0)
  ide,                ///< the primary IDE controller (pc PIIX3 IDE, built into the machine)
  sata,               ///< the primary SATA controller (q35 ICH9 AHCI, built into the machine)
  ich9_sound,         ///< the first ICH9 HD audio device
  usb2_companions,    ///< an ICH9 EHCI + UHCI companion set
  dmi_to_pci_bridge,  ///< an address-less dmi-to-pci-bridge
};

/// A root-bus position kept for a role. `required`: the device must be there (libvirt
/// refuses other addresses); otherwise the position is taken when free. Listed in the
/// order libvirt assigns them.
struct preferred_slot {
  slot_role role{};           ///< what the position is kept for
  std::uint8_t slot = 0;      ///< slot on the root bus (0-31)
  std::uint8_t function = 0;  ///< function within the slot (0-7)
  bool required = false;      ///< the device must sit here; otherwise the position is only used when free
  /// Compares all members.
  friend constexpr bool operator==(const preferred_slot&, const preferred_slot&) = default;
};

/// A PCI device a guest of this machine gets by default (libvirt adds it when the
/// domain does not say otherwise). `fixed`: it always sits at slot.function on the root.
struct default_device {
  std::string_view qemu_device{};  ///< QEMU device name ("qemu-xhci")
  std::string_view what{};         ///< what the device is, in words ("USB controller")
  bool fixed = false;              ///< it always sits at slot.function on the root bus
  std::uint8_t slot = 0;           ///< root-bus slot when `fixed`, else 0 (unused)
  std::uint8_t function = 0;       ///< function when `fixed`, else 0 (unused)
  /// Compares all members.
  friend constexpr bool operator==(const default_device&, const default_device&) = default;
};

namespace machines {
struct pc {};                ///< x86 i440FX + PIIX3 (QEMU `pc`): conventional PCI
struct q35 {};               ///< x86 Q35 + ICH9 (QEMU `q35`): PCI Express
struct aarch64_virt {};      ///< Arm `virt` (qemu-system-aarch64): PCIe (GPEX) plus 32 virtio-mmio transports
struct riscv64_virt {};      ///< RISC-V `virt` (qemu-system-riscv64): PCIe (GPEX) plus 8 virtio-mmio transports
struct loongarch64_virt {};  ///< LoongArch `virt` (qemu-system-loongarch64): PCIe (GPEX)
struct pseries {};           ///< POWER `pseries` (qemu-system-ppc64): one PCI domain per PHB
struct s390x_ccw {};         ///< s390x `s390-ccw-virtio`: virtio on CCW, zPCI for passthrough
struct microvm {};           ///< x86 `microvm`: no PCI, virtio-mmio only
}  // namespace machines

template <>
struct machine_traits<machines::pc> {
  static constexpr std::string_view name = "pc";
  static constexpr std::string_view arch = "x86_64";
  static constexpr std::string_view chipset = "i440FX + PIIX3";
  using root = pci_root;
  static constexpr std::array<reserved_function, 4> reserved{{
      {0x00, 0, "i440FX host bridge"},
      {0x01, 0, "PIIX3 ISA bridge"},
      {0x01, 1, "PIIX3 IDE controller"},
      {0x01, 3, "PIIX4 ACPI power management"},
  }};
  static constexpr std::array<preferred_slot, 3> preferred{{
      {slot_role::piix3_usb, 0x01, 2, true},
      {slot_role::primary_video, 0x02, 0, false},
      {slot_role::ide, 0x01, 1, true},
  }};
  static constexpr std::array<default_device, 2> default_devices{{
      {"piix3-usb-uhci", "USB controller", true, 0x01, 2},
      {"virtio-balloon-pci", "memory balloon", false, 0, 0},
  }};
  static constexpr unsigned virtio_mmio_transports = 0;
  static constexpr virtio_transport virtio = virtio_transport::pci;
  static constexpr auto expanders = boost::hana::tuple_t<pci_expander_bus>;
  static constexpr bool multiple_roots = false;
};

template <>
struct machine_traits<machines::q35> {
  static constexpr std::string_view name = "q35";
  static constexpr std::string_view arch = "x86_64";
  static constexpr std::string_view chipset = "Q35 (MCH) + ICH9";
  using root = pcie_root;
  static constexpr std::array<reserved_function, 4> reserved{{
      {0x00, 0, "MCH host bridge"},
      {0x1f, 0, "ICH9 LPC/ISA bridge"},
      {0x1f, 2, "ICH9 SATA controller"},
      {0x1f, 3, "ICH9 SMBus controller"},
  }};
  static constexpr std::array<preferred_slot, 6> preferred{{
      // in the order libvirt takes them
      {slot_role::sata, 0x1f, 2, true},
      {slot_role::usb2_companions, 0x1d, 0, false},
      {slot_role::usb2_companions, 0x1a, 0, false},
      {slot_role::dmi_to_pci_bridge, 0x1e, 0, false},
      {slot_role::primary_video, 0x01, 0, false},
      {slot_role::ich9_sound, 0x1b, 0, false},
  }};
  static constexpr std::array<default_device, 3> default_devices{{
      {"ich9-ahci", "SATA controller", true, 0x1f, 2},
      {"qemu-xhci", "USB controller", false, 0, 0},
      {"virtio-balloon-pci", "memory balloon", false, 0, 0},
  }};
  static constexpr unsigned virtio_mmio_transports = 0;
  static constexpr virtio_transport virtio = virtio_transport::pci;
  static constexpr auto expanders = boost::hana::tuple_t<pcie_expander_bus>;
  static constexpr bool multiple_roots = false;
};

template <>
struct machine_traits<machines::aarch64_virt> {
  static constexpr std::string_view name = "virt";
  static constexpr std::string_view arch = "aarch64";
  static constexpr std::string_view chipset = "GPEX";
  using root = pcie_root;
  static constexpr std::array<reserved_function, 1> reserved{{{0x00, 0, "GPEX host bridge"}}};
  static constexpr std::array<preferred_slot, 0> preferred{};
  static constexpr std::array<default_device, 0> default_devices{};
  static constexpr unsigned virtio_mmio_transports = 32;
  static constexpr virtio_transport virtio = virtio_transport::pci_or_mmio;
  static constexpr auto expanders = boost::hana::tuple_t<pcie_expander_bus>;
  static constexpr bool multiple_roots = false;
};

template <>
struct machine_traits<machines::riscv64_virt> {
  static constexpr std::string_view name = "virt";
  static constexpr std::string_view arch = "riscv64";
  static constexpr std::string_view chipset = "GPEX";
  using root = pcie_root;
  static constexpr std::array<reserved_function, 1> reserved{{{0x00, 0, "GPEX host bridge"}}};
  static constexpr std::array<preferred_slot, 0> preferred{};
  static constexpr std::array<default_device, 1> default_devices{{
      {"virtio-balloon-pci", "memory balloon", false, 0, 0},
  }};
  static constexpr unsigned virtio_mmio_transports = 8;
  static constexpr virtio_transport virtio = virtio_transport::pci_or_mmio;
  static constexpr auto expanders = boost::hana::tuple_t<>;
  static constexpr bool multiple_roots = false;
};

template <>
struct machine_traits<machines::loongarch64_virt> {
  static constexpr std::string_view name = "virt";
  static constexpr std::string_view arch = "loongarch64";
  static constexpr std::string_view chipset = "GPEX";
  using root = pcie_root;
  static constexpr std::array<reserved_function, 1> reserved{{{0x00, 0, "GPEX host bridge"}}};
  static constexpr std::array<preferred_slot, 0> preferred{};
  static constexpr std::array<default_device, 0> default_devices{};
  static constexpr unsigned virtio_mmio_transports = 0;
  static constexpr virtio_transport virtio = virtio_transport::pci;
  static constexpr auto expanders = boost::hana::tuple_t<>;
  static constexpr bool multiple_roots = false;
};

template <>
struct machine_traits<machines::pseries> {
  static constexpr std::string_view name = "pseries";
  static constexpr std::string_view arch = "ppc64";
  static constexpr std::string_view chipset = "sPAPR PHB";
  using root = spapr_pci_host_bridge;
  static constexpr std::array<reserved_function, 0> reserved{};
  static constexpr std::array<preferred_slot, 0> preferred{};
  static constexpr std::array<default_device, 2> default_devices{{
      {"pci-ohci", "USB controller (qemu-xhci for new definitions)", false, 0, 0},
      {"virtio-balloon-pci", "memory balloon", false, 0, 0},
  }};
  static constexpr unsigned virtio_mmio_transports = 0;
  static constexpr virtio_transport virtio = virtio_transport::pci;
  // Growth and NUMA use further PHBs, not expander buses.
  static constexpr auto expanders = boost::hana::tuple_t<>;
  static constexpr bool multiple_roots = true;
};

template <>
struct machine_traits<machines::s390x_ccw> {
  static constexpr std::string_view name = "s390-ccw-virtio";
  static constexpr std::string_view arch = "s390x";
  static constexpr std::string_view chipset = "zPCI";
  using root = pci_root;
  static constexpr std::array<reserved_function, 0> reserved{};
  static constexpr std::array<preferred_slot, 0> preferred{};
  static constexpr std::array<default_device, 0> default_devices{};  // the balloon is on CCW
  static constexpr unsigned virtio_mmio_transports = 0;
  static constexpr virtio_transport virtio = virtio_transport::ccw;
  static constexpr auto expanders = boost::hana::tuple_t<>;
  static constexpr bool multiple_roots = false;
};

template <>
struct machine_traits<machines::microvm> {
  static constexpr std::string_view name = "microvm";
  static constexpr std::string_view arch = "x86_64";
  static constexpr std::string_view chipset = "none";
  using root = no_pci_root;
  static constexpr std::array<reserved_function, 0> reserved{};
  static constexpr std::array<preferred_slot, 0> preferred{};
  static constexpr std::array<default_device, 0> default_devices{};
  static constexpr unsigned virtio_mmio_transports = 8;  // 24 with the second IOAPIC
  static constexpr virtio_transport virtio = virtio_transport::mmio;
  static constexpr auto expanders = boost::hana::tuple_t<>;
  static constexpr bool multiple_roots = false;
};

// ---- the concept ------------------------------------------------------------------
namespace detail {
/// True for a `boost::hana::tuple_t<Kinds...>` whose every element is a ControllerKind.
template <class... Elements>
  requires(requires { typename Elements::type; } && ...)
constexpr bool all_controller_kinds(const boost::hana::tuple<Elements...>&) noexcept {
  return (ControllerKind<typename Elements::type> && ...);
}
}  // namespace detail

/// machine_traits<M> names the machine and its root.
template <class M>
concept HasMachineNames = requires {
  { machine_traits<M>::name } -> detail::exactly<std::string_view>;
  { machine_traits<M>::arch } -> detail::exactly<std::string_view>;
  { machine_traits<M>::chipset } -> detail::exactly<std::string_view>;
  typename machine_traits<M>::root;
  requires ControllerKind<typename machine_traits<M>::root> ||
               std::same_as<typename machine_traits<M>::root, no_pci_root>;
};

/// machine_traits<M> lists the root-bus functions it occupies and keeps.
template <class M>
concept HasRootBusLayout = requires {
  std::span<const reserved_function>(machine_traits<M>::reserved);
  std::span<const preferred_slot>(machine_traits<M>::preferred);
  std::span<const default_device>(machine_traits<M>::default_devices);
};

/// machine_traits<M> says how virtio travels and how the topology may grow.
template <class M>
concept HasTransportsAndGrowth = requires {
  { machine_traits<M>::virtio_mmio_transports } -> detail::exactly<unsigned>;
  { machine_traits<M>::virtio } -> detail::exactly<virtio_transport>;
  { machine_traits<M>::multiple_roots } -> detail::exactly<bool>;
  requires detail::all_controller_kinds(machine_traits<M>::expanders);
};

/// @brief A machine type: a type with a complete `machine_traits` specialisation.
///
/// Required members of machine_traits<M> (all static constexpr unless noted):
///  - `name`, `arch`, `chipset` (string_view); `using root = …`: a ControllerKind, or
///    `no_pci_root` for machines without PCI;
///  - `reserved` (array of reserved_function), `preferred` (array of preferred_slot),
///    `default_devices` (array of default_device) — arrays may be empty;
///  - `virtio_mmio_transports` (unsigned), `virtio` (virtio_transport);
///  - `expanders`: `boost::hana::tuple_t<Kinds...>` of the expander kinds allowed;
///    `multiple_roots` (bool): further root buses (PHBs) may be added.
/// Models: machines::pc, q35, aarch64_virt, riscv64_virt, loongarch64_virt, pseries,
/// s390x_ccw, microvm.
template <class M>
concept MachineType = HasMachineNames<M> && HasRootBusLayout<M> && HasTransportsAndGrowth<M>;

/// The machine's root controller kind (no_pci_root when it has no PCI).
template <MachineType M>
using root_of = typename machine_traits<M>::root;

/// Whether the machine has PCI at all.
template <MachineType M>
inline constexpr bool has_pci_v = !std::same_as<root_of<M>, no_pci_root>;

/// Whether the machine's root is a PCI Express root complex.
template <MachineType M>
inline constexpr bool has_pcie_root_v = std::same_as<root_of<M>, pcie_root>;

namespace detail {
template <MachineType M>
constexpr bool root_function_reserved(unsigned slot, unsigned function) noexcept {
  for (const auto& r : machine_traits<M>::reserved) {
    if (r.slot == slot && r.function == function) return true;
  }
  return false;
}
}  // namespace detail

}  // namespace pciplan::inline v0

#endif  // PCIPLAN_KINDS_MACHINE_TYPES_HPP
