// pciplan — topology/topology_plan.hpp: what the planner returns — a placement per request, every
// controller (those given and those added), warnings, and the reason for each
// placement.
#ifndef PCIPLAN_TOPOLOGY_TOPOLOGY_PLAN_HPP
#define PCIPLAN_TOPOLOGY_TOPOLOGY_PLAN_HPP

#include <pciplan/vocabulary/address.hpp>
#include <pciplan/topology/controller.hpp>
#include <pciplan/detail/config.hpp>
#include <pciplan/detail/report.hpp>

#include <cstddef>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace pciplan::inline v0 {

/// How a placed device reaches the guest.
enum class placement_kind : unsigned char {
  pci,   ///< a PCI address
  mmio,  ///< a virtio-mmio transport
  ccw,   ///< s390x channel I/O (no PCI address)
};

/// A short name for a placement kind ("pci", "mmio", "ccw").
[[nodiscard]] constexpr std::string_view name_of(placement_kind k) noexcept {
  switch (k) {
    case placement_kind::pci: return "pci";
    case placement_kind::mmio: return "mmio";
    case placement_kind::ccw: return "ccw";
  }
  return "unknown";
}

/// Which rule placed a device (see `describe`).
enum class rule : unsigned char {
  given_address,        ///< the request pinned the address
  given_bus,            ///< the request pinned the bus; the planner picked the slot
  given_domain,         ///< the request pinned the PCI domain; the planner picked bus and slot
  chipset_slot,         ///< a position the machine keeps for this kind of device
  lowest_free_slot,     ///< libvirt: the lowest bus, slot and function that takes the device
  added_bus,            ///< libvirt: a bus added because no existing one had room
  hotplug_port,         ///< pciplan: a hot-pluggable PCIe port (root or switch downstream port)
  conventional_slot,    ///< pciplan: a hot-pluggable slot of a conventional PCI bus
  integrated_endpoint,  ///< pciplan: on the root bus, no hotplug, packed as a function
  packed_function,      ///< pciplan: one function of a shared multifunction slot, no hotplug
  multifunction_group,  ///< its multifunction group's slot, at its function
  isolation_group,      ///< its isolation group's own port or slot
  numa_expander,        ///< below the expander bus (or PHB) of its NUMA node
  root_bus_fallback,    ///< libvirt: no slot of its kind existed, and it may stay on the root bus
  virtio_mmio,          ///< a virtio-mmio transport
  channel_io,           ///< s390x: virtio on channel I/O
};

/// A short name for a rule ("hotplug_port").
[[nodiscard]] constexpr std::string_view name_of(rule r) noexcept {
  switch (r) {
    case rule::given_address: return "given_address";
    case rule::given_bus: return "given_bus";
    case rule::given_domain: return "given_domain";
    case rule::chipset_slot: return "chipset_slot";
    case rule::lowest_free_slot: return "lowest_free_slot";
    case rule::added_bus: return "added_bus";
    case rule::hotplug_port: return "hotplug_port";
    case rule::conventional_slot: return "conventional_slot";
    case rule::integrated_endpoint: return "integrated_endpoint";
    case rule::packed_function: return "packed_function";
    case rule::root_bus_fallback: return "root_bus_fallback";
    case rule::multifunction_group: return "multifunction_group";
    case rule::isolation_group: return "isolation_group";
    case rule::numa_expander: return "numa_expander";
    case rule::virtio_mmio: return "virtio_mmio";
    case rule::channel_io: return "channel_io";
  }
  return "unknown";
}

/// Where one request went.
struct placement {
  std::size_t request = 0;       ///< index into the requests given to the planner
  std::string_view name{};       ///< the request's name
  placement_kind kind = placement_kind::pci;
  pci_address guest_address{};             ///< PCI: the address the guest sees (domain, firmware bus number)
  controller_address libvirt_address{};  ///< PCI: the same slot in libvirt's form (bus = controller index)
  unsigned transport = 0;        ///< mmio: the virtio-mmio bus QEMU uses (virtio-mmio-bus.N); ccw: devno
  bool multifunction = false;    ///< function 0 of a slot whose other functions are used
  rule why = rule::lowest_free_slot;
  friend constexpr bool operator==(const placement&, const placement&) = default;
};

/// Something that firmware, guests or QEMU may trip over. Only `unbuildable` stops QEMU:
/// the libvirt policy reproduces libvirt's answer even where QEMU cannot build it (see
/// qemu_can_build), and says so with it.
enum class warning_code : unsigned char {
  io_window,    ///< more hot-pluggable ports reserve I/O space than the 64 KiB window holds
  spares_short, ///< fewer spare ports or slots fit than were asked for
  bus_numbers,  ///< an expander's busNr range cannot hold its buses, or the main hierarchy reaches into it
  unbuildable,  ///< libvirt policy: libvirt's answer, reproduced, is a layout QEMU cannot build
  no_function0, ///< libvirt policy: a multifunction group without function 0, which guests do not find
};

/// A warning code's name ("io_window").
[[nodiscard]] constexpr std::string_view name_of(warning_code c) noexcept {
  switch (c) {
    case warning_code::io_window: return "io_window";
    case warning_code::spares_short: return "spares_short";
    case warning_code::bus_numbers: return "bus_numbers";
    case warning_code::unbuildable: return "unbuildable";
    case warning_code::no_function0: return "no_function0";
  }
  return "unknown";
}

struct warning {
  warning_code code{};
  std::string_view text{};
  unsigned count = 0;  ///< e.g. how many ports reserve I/O space
  friend constexpr bool operator==(const warning&, const warning&) = default;
};

/// The plan for one guest: every controller (ordered by index: those given, then those
/// added), a placement per request (in request order), and warnings.
struct topology_plan {
  std::vector<controller> controllers;
  std::vector<placement> placements;
  std::vector<warning> warnings;

  /// The controller with this index, or nullptr.
  [[nodiscard]] constexpr const controller* find(controller_index index) const noexcept {
    for (const auto& c : controllers) {
      if (c.index == index) return &c;
    }
    return nullptr;
  }
  /// The placement of the request named `name`; an unknown name is a compile error in
  /// constant evaluation and throws std::invalid_argument at run time.
  [[nodiscard]] constexpr const placement& at(std::string_view name) const {
    for (const auto& p : placements) {
      if (p.name == name) return p;
    }
    detail::expects(false, "pciplan::topology_plan::at: no request in the plan has this name");
    return placements.front();
  }
  /// Whether QEMU can build the plan: false only for a libvirt answer that the libvirt
  /// policy reproduced with an `unbuildable` warning (qemu_arguments refuses those).
  [[nodiscard]] constexpr bool qemu_can_build() const noexcept {
    for (const auto& w : warnings) {
      if (w.code == warning_code::unbuildable) return false;
    }
    return true;
  }
  /// How many controllers the planner added.
  [[nodiscard]] constexpr std::size_t added_count() const noexcept {
    std::size_t n = 0;
    for (const auto& c : controllers) n += c.added ? 1 : 0;
    return n;
  }
};

/// A sentence that says why the placement is where it is, e.g.
/// "net0 is at 0000:01:00.0 (bus index 1, a pcie-root-port added for it): it needs a
/// hot-pluggable PCI Express slot".
[[nodiscard]] inline std::string describe(const topology_plan& plan, const placement& p) {
  std::ostringstream os;
  os << p.name;
  if (p.kind == placement_kind::mmio) {
    os << " uses virtio-mmio transport " << p.transport << ": ";
  } else if (p.kind == placement_kind::ccw) {
    os << " uses channel I/O (devno 0x" << std::hex << p.transport << std::dec << "): ";
  } else {
    os << " is at " << p.guest_address << " (bus index " << p.libvirt_address.bus.value;
    if (const controller* c = plan.find(p.libvirt_address.bus); c != nullptr && c->kind != nullptr) {
      // the root bus is the machine's, whether the caller listed it or not
      os << ", " << (c->kind->is_root() ? "the machine's " : c->added ? "an added " : "the given ") << c->kind->model;
    }
    os << ", slot " << unsigned{p.guest_address.slot} << ", function " << unsigned{p.guest_address.function} << "): ";
  }
  switch (p.why) {
    case rule::given_address: os << "the request fixed this address"; break;
    case rule::given_bus: os << "the request fixed the bus; this is its first free slot"; break;
    case rule::given_domain:
      os << "the request fixed the PCI domain; this is the first free slot of a bus in it";
      break;
    case rule::chipset_slot: os << "the machine keeps this position for this kind of device"; break;
    case rule::lowest_free_slot: os << "the lowest bus, slot and function that takes the device (libvirt's search)"; break;
    case rule::added_bus: os << "no existing bus had room, so a bus was added for it (libvirt's growth)"; break;
    case rule::hotplug_port: os << "it needs a hot-pluggable PCI Express slot, one port per device"; break;
    case rule::conventional_slot: os << "it needs a hot-pluggable conventional PCI slot"; break;
    case rule::integrated_endpoint:
      os << "it needs no hotplug, so it is an integrated endpoint on the root bus";
      break;
    case rule::packed_function: os << "it needs no hotplug, so it shares a multifunction slot"; break;
    case rule::root_bus_fallback:
      os << "no slot of its kind exists, and it may stay on the root bus instead of causing a bridge (libvirt keeps "
            "the legacy USB controller of an existing q35 domain there)";
      break;
    case rule::multifunction_group: os << "it shares its multifunction group's slot, at its function"; break;
    case rule::isolation_group: os << "its isolation group has a port of its own"; break;
    case rule::numa_expander: os << "it belongs to a guest NUMA node, so it sits below that node's expander"; break;
    case rule::virtio_mmio: os << "the machine gives this virtio device a virtio-mmio transport"; break;
    case rule::channel_io: os << "virtio devices on s390x use channel I/O"; break;
  }
  return os.str();
}

}  // namespace pciplan::inline v0

#endif  // PCIPLAN_TOPOLOGY_TOPOLOGY_PLAN_HPP
