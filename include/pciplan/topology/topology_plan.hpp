// pciplan — topology/topology_plan.hpp: what the planner returns — a placement per request, every
// controller (those given and those added), warnings, and the reason for each
// placement.
#ifndef PCIPLAN_TOPOLOGY_TOPOLOGY_PLAN_HPP
#define PCIPLAN_TOPOLOGY_TOPOLOGY_PLAN_HPP

#include <pciplan/vocabulary/address.hpp>
#include <pciplan/topology/controller.hpp>
#include <pciplan/detail/config.hpp>
#include <pciplan/detail/report.hpp>
#include <pciplan/kinds/device_kinds.hpp>
#include <pciplan/kinds/machine_types.hpp>
#include <pciplan/vocabulary/bars.hpp>

#include <algorithm>
#include <cstddef>
#include <functional>
#include <ostream>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
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
  std::string_view name{};       ///< the request's name (a run-time plan keeps its own copy: see topology_plan)
  device_descriptor device{};    ///< the request's device: what the outputs write for it
  placement_kind kind = placement_kind::pci;  ///< how the device reaches the guest
  pci_address guest_address{};             ///< PCI: the address the guest sees (domain, firmware bus number)
  controller_address libvirt_address{};  ///< PCI: the same slot in libvirt's form (bus = controller index)
  unsigned transport = 0;        ///< mmio: the virtio-mmio bus QEMU uses (virtio-mmio-bus.N); ccw: devno
  bool multifunction = false;    ///< function 0 of a slot whose other functions are used
  rule why = rule::lowest_free_slot;  ///< the rule that placed it (see describe)
  device_bars bars{};            ///< the request's BARs when it gave them (`given`); else the catalogue's count
  /// Equal when all members are equal.
  friend constexpr bool operator==(const placement&, const placement&) = default;
};

/// Whether two placements are PCI functions of one slot (the same domain, bus and slot).
[[nodiscard]] constexpr bool same_slot(const placement& a, const placement& b) noexcept {
  return a.kind == placement_kind::pci && b.kind == placement_kind::pci &&
         a.libvirt_address.domain == b.libvirt_address.domain && a.libvirt_address.bus == b.libvirt_address.bus &&
         a.libvirt_address.slot == b.libvirt_address.slot;
}

/// Something that firmware, guests or QEMU may trip over. Only `unbuildable` stops QEMU:
/// the libvirt policy reproduces libvirt's answer even where QEMU cannot build it (see
/// qemu_can_build), and says so with it.
enum class warning_code : unsigned char {
  io_window,    ///< more hot-pluggable ports reserve I/O space than the 64 KiB window holds
  spares_short, ///< fewer spare ports or slots fit than were asked for
  bus_numbers,  ///< an expander's busNr range cannot hold its buses, or the main hierarchy reaches into it
  unbuildable,  ///< libvirt policy: libvirt's answer, reproduced, is a layout QEMU cannot build
  no_function0, ///< libvirt policy: a multifunction group without function 0, which guests do not find
  windows,      ///< memory windows: a hot-plug budget a port cannot reserve, or BARs firmware cannot place
};

/// A warning code's name ("io_window").
[[nodiscard]] constexpr std::string_view name_of(warning_code c) noexcept {
  switch (c) {
    case warning_code::io_window: return "io_window";
    case warning_code::spares_short: return "spares_short";
    case warning_code::bus_numbers: return "bus_numbers";
    case warning_code::unbuildable: return "unbuildable";
    case warning_code::no_function0: return "no_function0";
    case warning_code::windows: return "windows";
  }
  return "unknown";
}

/// One thing about a plan that firmware, guests or QEMU may trip over.
struct warning {
  warning_code code{};      ///< what kind of problem it is
  std::string_view text{};  ///< a sentence that explains it
  unsigned count = 0;  ///< e.g. how many ports reserve I/O space
  /// Equal when all members are equal (the text compared by content).
  friend constexpr bool operator==(const warning&, const warning&) = default;
};

/// Which planning policy made a plan (policies::pciplan or policies::libvirt, or a
/// policy derived from one of them).
enum class policy_family : unsigned char {
  pciplan,  ///< pciplan's own rules (policies::pciplan)
  libvirt,  ///< libvirt's address assignment, reproduced (policies::libvirt)
};

/// A policy family's name ("pciplan", "libvirt").
[[nodiscard]] constexpr std::string_view name_of(policy_family f) noexcept {
  switch (f) {
    case policy_family::pciplan: return "pciplan";
    case policy_family::libvirt: return "libvirt";
  }
  return "unknown";
}

/// The plan for one guest: every controller (ordered by index: those given, then those
/// added), a placement per request (in request order), and warnings; the machine and
/// policy that made it.
///
/// A plan stands on its own: qemu_arguments, tree and to_json need nothing else. A plan
/// made at run time keeps its own copy of every name in it (request names, QEMU ids and
/// model names of controllers, and any text read by from_json), so the requests and the
/// documents they came from may go away; the `std::string_view`s in its placements,
/// controllers and warnings point into the plan and live as long as it does (a copy of
/// the plan has copies of them). In constant evaluation (static_plan) the names stay
/// views of the requests. Changing a name by hand: call `own_text()` afterwards.
struct topology_plan {
  std::vector<controller> controllers;  ///< every controller, ordered by index: those given, then those added
  std::vector<placement> placements;    ///< one placement per request, in request order
  std::vector<warning> warnings;        ///< what firmware, guests or QEMU may trip over
  /// The machine type: name_of(machine_id) for a built-in one ("q35", "aarch64-virt"),
  /// machine_traits<M>::name for another.
  std::string_view machine{};
  policy_family policy = policy_family::pciplan;  ///< the policy that made the plan
  /// The root-bus functions the machine provides by itself (q35's ICH9 SATA at 00:1f.2):
  /// a placement there is that built-in device, and qemu_arguments writes no -device for it.
  std::span<const reserved_function> built_in{};

  /// An empty plan.
  constexpr topology_plan() = default;
  /// A plan from its controllers, placements and warnings; machine and policy keep their defaults.
  constexpr topology_plan(std::vector<controller> controllers_, std::vector<placement> placements_,
                          std::vector<warning> warnings_ = {})
      : controllers(std::move(controllers_)), placements(std::move(placements_)), warnings(std::move(warnings_)) {}
  /// A copy; texts the plan owns are copied too, and the copy's views point into its own copies.
  constexpr topology_plan(const topology_plan& other)
      : controllers(other.controllers),
        placements(other.placements),
        warnings(other.warnings),
        machine(other.machine),
        policy(other.policy),
        built_in(other.built_in),
        text_(other.text_) {
    // the copies of texts in `other`'s storage point into this plan's storage instead
    visit_text([&](std::string_view& v, bool) {
      const std::size_t at = other.offset_in_text(v);
      if (at != no_offset) v = std::string_view(text_.data() + at, v.size());
    });
  }
  /// Moves the plan, with the texts it owns.
  constexpr topology_plan(topology_plan&&) noexcept = default;
  /// Copies as the copy constructor does.
  constexpr topology_plan& operator=(const topology_plan& other) {
    if (this != &other) *this = topology_plan(other);
    return *this;
  }
  /// Moves as the move constructor does.
  constexpr topology_plan& operator=(topology_plan&&) noexcept = default;
  /// Destroys the plan and the texts it owns.
  constexpr ~topology_plan() = default;

  /// Copies into the plan's own storage every name its placements and controllers
  /// refer to (and, with `all_text`, every other text: warnings and device names), so
  /// that the plan no longer depends on the requests or documents they came from. The
  /// run-time planner and from_json call it.
  constexpr void own_text(bool all_text = false) {
    std::size_t size = 0;
    visit_text([&](std::string_view& v, bool name) {
      if (name || all_text || offset_in_text(v) != no_offset) size += v.size();
    });
    std::vector<char> kept(size);  // sized once: every view into `kept` stays valid
    std::size_t at = 0;
    visit_text([&](std::string_view& v, bool name) {
      if (v.empty() || !(name || all_text || offset_in_text(v) != no_offset)) return;
      std::copy(v.begin(), v.end(), kept.begin() + static_cast<std::ptrdiff_t>(at));
      v = std::string_view(kept.data() + at, v.size());
      at += v.size();
    });
    text_ = std::move(kept);
  }

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
  /// How many guest NUMA nodes the plan's expanders and PHBs are bound to: the highest
  /// numa_node of a controller, plus one (0 when none is bound). See qemu_numa_arguments.
  [[nodiscard]] constexpr unsigned numa_nodes() const noexcept {
    int highest = -1;
    for (const auto& c : controllers) highest = c.numa_node > highest ? c.numa_node : highest;
    return static_cast<unsigned>(highest + 1);
  }
  /// How many controllers the planner added.
  [[nodiscard]] constexpr std::size_t added_count() const noexcept {
    std::size_t n = 0;
    for (const auto& c : controllers) n += c.added ? 1 : 0;
    return n;
  }
  /// The same controllers, placements, warnings, machine, policy and built-in devices
  /// (texts compared by content).
  friend constexpr bool operator==(const topology_plan& a, const topology_plan& b) {
    if (a.built_in.size() != b.built_in.size()) return false;
    for (std::size_t i = 0; i != a.built_in.size(); ++i) {
      if (!(a.built_in[i] == b.built_in[i])) return false;
    }
    return a.controllers == b.controllers && a.placements == b.placements && a.warnings == b.warnings &&
           a.machine == b.machine && a.policy == b.policy;
  }
  /// Whether a placement is the machine's built-in device at that position (see built_in).
  [[nodiscard]] constexpr bool is_built_in(const placement& p) const noexcept {
    if (p.kind != placement_kind::pci || p.libvirt_address.bus.value != 0 || p.libvirt_address.domain != 0) {
      return false;
    }
    for (const reserved_function& f : built_in) {
      if (f.slot == p.libvirt_address.slot && f.function == p.libvirt_address.function) return true;
    }
    return false;
  }

 private:
  static constexpr std::size_t no_offset = static_cast<std::size_t>(-1);

  /// Calls f(view, is_name) for every text the plan refers to.
  template <class F>
  constexpr void visit_text(F&& f) {
    for (placement& p : placements) {
      f(p.name, true);
      f(p.device.qemu_device, false);
      f(p.device.mmio_device, false);
      f(p.device.libvirt.element, false);
      f(p.device.libvirt.model, false);
    }
    for (controller& c : controllers) {
      f(c.model_name, true);
      f(c.qemu_id, true);
    }
    for (warning& w : warnings) f(w.text, false);
  }
  /// Where `v` starts in the plan's own storage, or no_offset when it is elsewhere.
  [[nodiscard]] constexpr std::size_t offset_in_text(std::string_view v) const noexcept {
    if (v.empty() || text_.empty()) return no_offset;
    if (std::is_constant_evaluated()) {
      // ordering unrelated pointers is not a constant expression; equality is
      for (std::size_t i = 0; i != text_.size(); ++i) {
        if (v.data() == text_.data() + i) return i;
      }
      return no_offset;
    }
    const std::less<const char*> before;
    if (before(v.data(), text_.data()) || !before(v.data(), text_.data() + text_.size())) return no_offset;
    return static_cast<std::size_t>(v.data() - text_.data());
  }

  std::vector<char> text_{};  ///< the plan's own copies of its texts
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
