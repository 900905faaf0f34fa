// pciplan — planner/policies.hpp: the planning policies and the options they take.
//
//   plan<machines::q35>(requests)                          // policies::pciplan, the default
//   plan<machines::q35, policies::libvirt>(requests)       // libvirt's QEMU driver, exactly
#ifndef PCIPLAN_PLANNER_POLICIES_HPP
#define PCIPLAN_PLANNER_POLICIES_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/topology/memory_windows.hpp>
#include <pciplan/vocabulary/bars.hpp>

#include <cstdint>
#include <span>

namespace pciplan::inline v0 {

namespace policies {

/// libvirt's QEMU-driver address assignment, decision for decision
/// (RULES.md L2-L4): device order by class, chipset positions, a dry run that
/// grows the topology (pci-bridge; pcie-root-port + pcie-to-pci-bridge; new PHBs)
/// followed by the real pass, root ports packed 8 per slot, one spare root port on
/// PCIe machines whose controllers libvirt manages, gaps in controller indexes filled,
/// chassis = index, port = slot*8+function, busNr = lowest - 2, targetIndex lowest
/// unused, multifunction='on' on function 0. The members describe the QEMU libvirt
/// plans for (its "capabilities"); the defaults are those of libvirt's test suite.
struct libvirt {
  /// QEMU has pcie-pci-bridge: conventional PCI devices on PCIe machines get a
  /// pcie-root-port + pcie-to-pci-bridge; otherwise dmi-to-pci-bridge + pci-bridge.
  static constexpr bool pcie_to_pci_bridge = true;
  /// Controller indexes libvirt accepts.
  static constexpr unsigned max_index = 255;
};

/// pciplan's own policy: constraints first. (A) devices that take only conventional
/// PCI get hot-pluggable conventional slots; (B) the others get a hot-pluggable PCIe
/// port each — root ports packed 8 per slot, switches when the root bus runs out —
/// or, when they need no hotplug, an integrated or packed multifunction slot;
/// (C) virtio-mmio where the machine has no PCI. NUMA nodes get expander buses, spare
/// ports come after every device, and a re-plan of a plan's output moves nothing.
struct pciplan {
  static constexpr unsigned max_index = 0xffff;  ///< the highest controller index it gives
};

}  // namespace policies

/// What the planner is asked besides the devices.
struct plan_options {
  /// pciplan policy: empty hot-pluggable ports (PCIe machines) or slots (PCI machines)
  /// left after every device. 4 by default: within KubeVirt's 3-6 and below the ~14
  /// I/O-reserving ports an x86 q35 guest can hold (RULES.md Q25), at about 700 KB
  /// of QEMU memory and one bus number per port. Ignored by the libvirt policy, which
  /// adds its own single spare.
  unsigned spare_ports = 4;
  /// Guest NUMA nodes (libvirt's `<cpu><numa>` cells); 0 = not checked. A request or
  /// controller naming a node at or above this count is refused.
  unsigned numa_nodes = 0;
  /// pciplan policy: empty hot-pluggable ports (or slots) on every NUMA node that has an
  /// expander bus (on pseries a PHB) in the plan, for devices of that node hot-added
  /// later (planner/hotplug.hpp). 1 by default: a hot-added device of a node lands on
  /// that node. They come after the spare_ports, below the node's expander (on pc behind
  /// a pci-bridge on the pxb, which itself takes no hot-plugged device).
  unsigned spare_ports_per_node = 1;
  /// pciplan policy: per NUMA node (entry k for node k), that node's own count of spare
  /// ports instead of spare_ports_per_node; -1 keeps the default. A node given a count
  /// above 0 gets its expander bus even when no device is bound to it. The storage must
  /// outlive the call to plan.
  std::span<const int> node_spare_ports{};
  /// Which request is the chipset's own PIIX3 USB (pc), PIIX3 IDE (pc) or ICH9 SATA
  /// (q35) controller, placed at the chipset's address.
  enum class chipset_controllers : std::uint8_t {
    /// the first request of each such kind (for USB: the first USB controller, when it
    /// is a PIIX3 one), unless it is pinned somewhere else
    first_of_kind,
    /// only a request pinned at the chipset address; every other one is an ordinary
    /// device (libvirt decides by controller index 0, which the libvirt reader states by
    /// pinning index 0 there)
    pinned,
  };
  chipset_controllers chipset = chipset_controllers::first_of_kind;  ///< which request is the chipset's controller
  /// pciplan policy: what one device hot-plugged later into any empty hot-pluggable port
  /// (or bridge) may decode — e.g. `device_bars{}.mem32(16_MiB).pref64(64_GiB)` for a
  /// GPU. Every empty pcie-root-port and pci-bridge of the plan then reserves windows
  /// that hold such a device wherever firmware places them (controller::reserves:
  /// hotplug_reserves); an empty port that cannot reserve (a switch's downstream port)
  /// is counted in a `windows` warning. Empty: no reserves.
  device_bars hotplug_budget{};
  /// pciplan policy, x86: the guest's memory (QEMU -m), which decides where firmware's
  /// windows start. When requests give BARs or a hot-plug budget is set, the plan checks
  /// its memory windows (memory_windows) and warns (`windows`) where SeaBIOS would stop
  /// or the 64-bit windows outgrow the guest's physical address space.
  guest_memory memory{};
};

}  // namespace pciplan::inline v0

#endif  // PCIPLAN_PLANNER_POLICIES_HPP
