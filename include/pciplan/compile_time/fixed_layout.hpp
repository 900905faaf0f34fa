// pciplan — compile_time/fixed_layout.hpp: a hand-written PCI layout declared with types and
// checked at compile time.
//
//   using namespace pciplan;
//   constexpr auto appliance = make_fixed_layout<machines::q35>(
//       place<pcie_root_port, "rp1">(on_root, at<1, 0>),
//       place<pcie_root_port, "rp2">(on_root, at<1, 1>),
//       place<models::virtio_net, "wan">(on<"rp1">),
//       place<models::virtio_blk, "disk">(on<"rp2">));
//   static_assert(appliance.at("wan").guest_address == pci_address{0, 1, 0, 0});
//
// Every placement names its parent bus (`on_root`, or `on<"name">` of a controller
// declared before it) and its slot and function (`at<slot, function>`, default
// `at<0, 0>`). Expander buses also take `bus_nr<N>`. A layout that breaks a rule does
// not compile, and the diagnostic says which rule in a sentence; the declaration at
// fault is named in a note (`offending_placement<kind, parent kind, name...>`).
//
// Rules checked: the machine has PCI; names are unique; roots are implicit; a parent
// is a controller declared earlier; the kind is available on the machine
// (AvailableOn); a controller plugs into its parent (PluggableInto); a device fits its
// parent's bus as libvirt checks an address a user wrote (PCI and PCIe endpoints may
// use each other's slots; integrated endpoints only on the root bus); the slot is in
// the parent's usable range; the machine does not reserve the function; no address is
// used twice; function 0 is present in every slot that uses others; expanders have a
// bus_nr and no other kind has one; bus numbers fit in 0-255 and the bus_nr
// partitions hold everything below them (RULES.md Q1, Q3, Q11,
// Q14, Q16, Q17). Guest bus numbers are firmware's (depth first, as SeaBIOS assigns them:
// pciplan::number_buses).
#ifndef PCIPLAN_COMPILE_TIME_FIXED_LAYOUT_HPP
#define PCIPLAN_COMPILE_TIME_FIXED_LAYOUT_HPP

#include <pciplan/compile_time/layout_placement.hpp>
#include <pciplan/detail/config.hpp>
#include <pciplan/detail/report.hpp>
#include <pciplan/kinds/compatibility.hpp>
#include <pciplan/kinds/controller_kinds.hpp>
#include <pciplan/kinds/device_kinds.hpp>
#include <pciplan/kinds/machine_types.hpp>
#include <pciplan/topology/topology_view.hpp>
#include <pciplan/vocabulary/address.hpp>
#include <pciplan/vocabulary/connect.hpp>
#include <pciplan/vocabulary/fixed_string.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace pciplan::inline v0 {

// ---- the checked result ------------------------------------------------------------

/// One placed controller or device of a fixed layout.
struct layout_entry {
  std::string_view name{};
  std::string_view parent{};         ///< the parent's name; the root bus's QEMU name for the root
  std::string_view qemu_device{};
  std::string_view libvirt_model{};  ///< controllers: libvirt's model; devices: the model attribute
  bool controller = false;
  pci_address guest_address{};             ///< guest address (bus = guest bus number)
  bus_number guest_bus{};                  ///< controllers: the guest bus number of the bus they provide
  unsigned first_bus = 0;            ///< expanders: bus_nr
  bool multifunction = false;        ///< function 0 of a slot whose other functions are used
  int parent_index = -1;             ///< index of the parent entry; -1 for the root bus
  const controller_descriptor* kind = nullptr;  ///< controllers: the controller kind
  device_descriptor device{};        ///< devices: the device kind
  friend constexpr bool operator==(const layout_entry&, const layout_entry&) = default;
};

/// A checked layout of N placements on machine M, with guest addresses.
template <MachineType M, std::size_t N>
struct fixed_layout {
  using machine = M;
  std::array<layout_entry, N> entries{};

  [[nodiscard]] constexpr std::size_t size() const noexcept { return N; }
  [[nodiscard]] constexpr auto begin() const noexcept { return entries.begin(); }
  [[nodiscard]] constexpr auto end() const noexcept { return entries.end(); }
  [[nodiscard]] constexpr bool contains(std::string_view name) const noexcept {
    for (const auto& e : entries) {
      if (e.name == name) return true;
    }
    return false;
  }
  /// The entry declared as `name`; an unknown name is a compile error in constant
  /// evaluation and throws std::invalid_argument at run time.
  [[nodiscard]] constexpr const layout_entry& at(std::string_view name) const {
    for (const auto& e : entries) {
      if (e.name == name) return e;
    }
    detail::expects(false, "pciplan::fixed_layout::at: no placement in the layout has this name");
    return entries[0];
  }
  /// The root bus's QEMU name ("pcie.0", "pci.0").
  [[nodiscard]] static constexpr std::string_view root_bus() noexcept {
    if constexpr (has_pci_v<M>) {
      return controller_traits<root_of<M>>::root_bus;
    } else {
      return {};
    }
  }
};

/// Why a fixed layout was refused.
enum class layout_problem : unsigned char {
  none,
  no_pci,
  duplicate_name,
  root_declared,
  unknown_parent,
  parent_declared_later,
  parent_is_device,
  kind_not_on_machine,
  cannot_plug,
  device_cannot_sit,
  integrated_off_root,
  slot_outside_bus,
  shpc_slot,
  reserved_function,
  address_in_use,
  function_zero_missing,
  bus_nr_missing,
  bus_nr_not_allowed,
  bus_nr_in_use,
  bus_numbers_exhausted,
  bus_nr_overlap,
};

namespace detail {

struct placement_info {
  std::string_view name{};
  std::string_view parent{};
  bool controller = false;
  controller_descriptor desc{};  // controllers only
  const controller_descriptor* kind = nullptr;  // controllers: the kind's descriptor
  device_descriptor device{};    // devices only
  connect_set need{};            // devices only
  bool available = true;         // controllers: AvailableOn the machine
  std::string_view qemu_device{};
  std::string_view libvirt_model{};
  unsigned slot = 0;
  unsigned function = 0;
  unsigned first_bus = 0;
};

template <MachineType M, class P>
constexpr placement_info info_of() {
  using K = typename P::kind;
  placement_info i{};
  i.name = P::name.view();
  i.parent = P::parent.view();
  i.slot = P::slot;
  i.function = P::function;
  i.first_bus = P::first_bus;
  if constexpr (ControllerKind<K>) {
    i.controller = true;
    i.desc = descriptor_of<K>;
    i.kind = &descriptor_of<K>;
    i.available = AvailableOn<K, M>;
    i.qemu_device = descriptor_of<K>.qemu_device();
    i.libvirt_model = descriptor_of<K>.model;
  } else {
    i.need = connect_of<K, M>;
    i.device = device_descriptor_of<K>;
    i.qemu_device = device_traits<K>::qemu_device;
    i.libvirt_model = device_traits<K>::libvirt.model;
  }
  return i;
}

struct layout_check {
  layout_problem problem = layout_problem::none;
  std::size_t index = 0;  // the placement at fault
};

template <std::size_t N>
struct layout_build {
  layout_check check{};
  std::array<layout_entry, N> entries{};
};

constexpr bool is_root_name(std::string_view name, std::string_view root_bus) noexcept {
  return name == "root" || name == root_bus;
}

/// The entries whose parent is `owner` (-1: the root bus), in devfn order (as the tree
/// is printed).
template <std::size_t N>
constexpr std::size_t children_of(const std::array<layout_entry, N>& e, int owner, std::array<std::size_t, N>& out) {
  std::size_t count = 0;
  for (std::size_t i = 0; i != N; ++i) {
    if (e[i].parent_index != owner) continue;
    std::size_t at = count++;
    for (; at != 0 && e[out[at - 1]].guest_address.devfn() > e[i].guest_address.devfn(); --at) out[at] = out[at - 1];
    out[at] = i;
  }
  return count;
}

template <MachineType M, std::size_t N>
constexpr layout_build<N> build_layout(const std::array<placement_info, N>& info) {
  layout_build<N> out{};
  const auto fail = [&](layout_problem p, std::size_t i) {
    out.check = {p, i};
    return out;
  };
  if constexpr (!has_pci_v<M>) {
    return fail(layout_problem::no_pci, 0);
  } else {
    constexpr controller_descriptor root = descriptor_of<root_of<M>>;
    auto& e = out.entries;
    for (std::size_t i = 0; i != N; ++i) {
      const auto& p = info[i];
      e[i].name = p.name;
      e[i].qemu_device = p.qemu_device;
      e[i].libvirt_model = p.libvirt_model;
      e[i].controller = p.controller;
      e[i].first_bus = p.first_bus;
      e[i].kind = p.kind;
      e[i].device = p.device;
      e[i].guest_address = pci_address(0, 0, p.slot, p.function);
      if (is_root_name(p.name, root.root_bus)) return fail(layout_problem::duplicate_name, i);
      for (std::size_t j = 0; j != i; ++j) {
        if (info[j].name == p.name) return fail(layout_problem::duplicate_name, i);
      }
      if (p.controller && p.desc.is_root()) return fail(layout_problem::root_declared, i);
      // the parent bus
      const controller_descriptor* parent = &root;
      if (is_root_name(p.parent, root.root_bus)) {
        e[i].parent = root.root_bus;
      } else {
        int found = -1;
        for (std::size_t j = 0; j != i; ++j) {
          if (info[j].name == p.parent) found = static_cast<int>(j);
        }
        if (found < 0) {
          for (std::size_t j = i + 1; j < N; ++j) {
            if (info[j].name == p.parent) return fail(layout_problem::parent_declared_later, i);
          }
          return fail(layout_problem::unknown_parent, i);
        }
        const auto& pi = info[static_cast<std::size_t>(found)];
        if (!pi.controller) return fail(layout_problem::parent_is_device, i);
        parent = &pi.desc;
        e[i].parent = pi.name;
        e[i].parent_index = found;
      }
      const bool on_root = e[i].parent_index < 0;
      // what may plug where
      if (p.controller) {
        if (!p.available) return fail(layout_problem::kind_not_on_machine, i);
        if (!plugs(p.desc, *parent)) return fail(layout_problem::cannot_plug, i);
      } else {
        if (p.need.intersects(connect::integrated) && !on_root) return fail(layout_problem::integrated_off_root, i);
        if (!fits(p.need - connect::auto_assign, parent->bus_flags(), on_root, address_origin::given)) {
          return fail(layout_problem::device_cannot_sit, i);
        }
      }
      // the slot
      if (!parent->slots.contains(p.slot)) {
        return fail(parent->shpc && p.slot == 0 ? layout_problem::shpc_slot : layout_problem::slot_outside_bus, i);
      }
      if (on_root && root_function_reserved<M>(p.slot, p.function)) return fail(layout_problem::reserved_function, i);
      for (std::size_t j = 0; j != i; ++j) {
        if (e[j].parent_index == e[i].parent_index && info[j].slot == p.slot && info[j].function == p.function) {
          return fail(layout_problem::address_in_use, i);
        }
      }
      // expander numbering
      const bool expander = p.controller && p.desc.role == controller_role::expander;
      if (expander && p.first_bus == 0) return fail(layout_problem::bus_nr_missing, i);
      if (!expander && p.first_bus != 0) return fail(layout_problem::bus_nr_not_allowed, i);
      for (std::size_t j = 0; expander && j != i; ++j) {
        if (info[j].first_bus == p.first_bus) return fail(layout_problem::bus_nr_in_use, i);
      }
    }
    // multifunction: every slot that uses a function above 0 needs function 0
    for (std::size_t i = 0; i != N; ++i) {
      bool zero = false;
      bool others = false;
      for (std::size_t j = 0; j != N; ++j) {
        if (e[j].parent_index != e[i].parent_index || info[j].slot != info[i].slot) continue;
        zero = zero || info[j].function == 0;
        others = others || info[j].function != 0;
      }
      if (!zero) return fail(layout_problem::function_zero_missing, i);
      e[i].multifunction = others && info[i].function == 0;
    }
    // guest bus numbers as firmware gives them (pciplan::number_buses): node 0 is the root
    // bus, then one node per controller; a placement sits on its parent's bus
    std::vector<bus_node> nodes;
    bus_node root_node{};
    root_node.root = true;
    nodes.push_back(root_node);
    std::array<std::size_t, N> node_of{};  // by placement: its node (controllers only)
    const auto parent_node = [&](std::size_t i) {  // parents are controllers declared before
      return e[i].parent_index < 0 ? std::size_t{0} : node_of[static_cast<std::size_t>(e[i].parent_index)];
    };
    for (std::size_t i = 0; i != N; ++i) {
      if (!info[i].controller) continue;
      bus_node x{};
      x.parent = parent_node(i);
      x.devfn = e[i].guest_address.devfn();
      x.expander = info[i].desc.role == controller_role::expander;
      x.first_bus = info[i].first_bus;
      x.bus_numbers = info[i].desc.bus_numbers;  // a pxb: its root bus, then its internal bridge's
      node_of[i] = nodes.size();
      nodes.push_back(x);
    }
    const bus_numbering numbers = pciplan::number_buses(nodes);
    const auto guest_bus = [](unsigned bus) { return bus_number{static_cast<std::uint8_t>(bus > 255 ? 255 : bus)}; };
    for (std::size_t i = 0; i != N; ++i) {
      e[i].guest_address.bus = guest_bus(numbers.bus[parent_node(i)]);
      if (info[i].controller) e[i].guest_bus = guest_bus(numbers.bus[node_of[i]]);
    }
    // the main hierarchy, then each expander (by bus_nr) must stay below 256 and below
    // the next one's bus_nr
    if (numbers.last[0] > 255) return fail(layout_problem::bus_numbers_exhausted, 0);
    unsigned used_below = numbers.last[0] + 1;
    for (unsigned first = 1; first <= 255; ++first) {
      for (std::size_t i = 0; i != N; ++i) {
        if (e[i].first_bus != first) continue;
        if (first < used_below) return fail(layout_problem::bus_nr_overlap, i);
        if (numbers.last[node_of[i]] > 255) return fail(layout_problem::bus_numbers_exhausted, i);
        used_below = numbers.last[node_of[i]] + 1;
      }
    }
    return out;
  }
}

/// Never defined: instantiated only to name, in a diagnostic, the placement at fault:
/// its kind, the kind of the bus it was placed on, and its name (as characters).
template <class Kind, class ParentKind, char... Name>
struct offending_placement;

template <class Kind, class ParentKind, fixed_string Name, std::size_t... I>
constexpr bool name_offending_placement(std::index_sequence<I...>) {
  static_assert(sizeof(offending_placement<Kind, ParentKind, Name.chars[I]...>) == 0,
                "pciplan::make_fixed_layout: the placement at fault is named in offending_placement<kind, parent "
                "kind, name...> above");
  return false;
}

}  // namespace detail

/// Checks the placements at compile time and returns the layout with guest addresses.
/// A broken rule is a compile error whose message names the rule; a note names the
/// placement (`offending_placement<kind, parent kind, name...>`).
template <MachineType M, class... Placements>
consteval auto make_fixed_layout(Placements...) {
  constexpr std::size_t n = sizeof...(Placements);
  constexpr std::array<detail::placement_info, n> info{detail::info_of<M, Placements>()...};
  constexpr detail::layout_build<n> built = detail::build_layout<M>(info);
  constexpr layout_problem p = built.check.problem;
  static_assert(p != layout_problem::no_pci,
                "pciplan::make_fixed_layout: this machine type has no PCI bus (microvm has only virtio-mmio "
                "transports), so a PCI layout cannot be declared for it");
  static_assert(p != layout_problem::duplicate_name,
                "pciplan::make_fixed_layout: two placements have the same name, or one is named like the root "
                "bus (\"root\", \"pcie.0\", \"pci.0\")");
  static_assert(p != layout_problem::root_declared,
                "pciplan::make_fixed_layout: a root bus is implicit in the machine type and must not be "
                "placed; use on_root to put things on it");
  static_assert(p != layout_problem::unknown_parent,
                "pciplan::make_fixed_layout: a placement names a parent bus that no placement declares");
  static_assert(p != layout_problem::parent_declared_later,
                "pciplan::make_fixed_layout: a placement names a parent bus that is declared after it; declare "
                "each controller before what sits on its bus");
  static_assert(p != layout_problem::parent_is_device,
                "pciplan::make_fixed_layout: a placement names a device as its parent; only controllers "
                "provide buses");
  static_assert(p != layout_problem::kind_not_on_machine,
                "pciplan::make_fixed_layout: this controller kind is not available on the machine type (an "
                "expander the machine does not allow, or a kind nothing on the machine accepts)");
  static_assert(p != layout_problem::cannot_plug,
                "pciplan::make_fixed_layout: a controller is placed on a bus that does not accept its kind "
                "(see PluggableInto: a pcie-root-port plugs into pcie-root or a pcie-expander-bus, a "
                "switch downstream port only into a switch upstream port, ...)");
  static_assert(p != layout_problem::device_cannot_sit,
                "pciplan::make_fixed_layout: a device is placed on a bus that takes no endpoints of its kind "
                "(e.g. a switch upstream port or an expander bus, which take only ports)");
  static_assert(p != layout_problem::integrated_off_root,
                "pciplan::make_fixed_layout: an integrated endpoint (virtio-iommu, amd-iommu, pvpanic-pci) "
                "must sit on the root bus");
  static_assert(p != layout_problem::slot_outside_bus,
                "pciplan::make_fixed_layout: the slot is outside the parent bus's usable slots (a root or "
                "downstream port has slot 0 only; root buses start at slot 1)");
  static_assert(p != layout_problem::shpc_slot,
                "pciplan::make_fixed_layout: slot 0 of a pci-bridge or pcie-to-pci-bridge belongs to its "
                "hotplug controller (SHPC); use slots 1 to 31");
  static_assert(p != layout_problem::reserved_function,
                "pciplan::make_fixed_layout: the machine type itself occupies this root-bus slot and function "
                "(chipset devices such as q35's 00:1f.x or pc's 00:01.x)");
  static_assert(p != layout_problem::address_in_use,
                "pciplan::make_fixed_layout: two placements use the same slot and function of one bus");
  static_assert(p != layout_problem::function_zero_missing,
                "pciplan::make_fixed_layout: a slot uses a function above 0 but not function 0; QEMU needs "
                "function 0 of a multifunction slot");
  static_assert(p != layout_problem::bus_nr_missing,
                "pciplan::make_fixed_layout: an expander bus (pxb, pxb-pcie) needs its first bus number: add "
                "bus_nr<N>");
  static_assert(p != layout_problem::bus_nr_not_allowed,
                "pciplan::make_fixed_layout: bus_nr<N> is given to a kind that is not an expander bus");
  static_assert(p != layout_problem::bus_nr_in_use,
                "pciplan::make_fixed_layout: two expander buses have the same bus_nr");
  static_assert(p != layout_problem::bus_numbers_exhausted,
                "pciplan::make_fixed_layout: the layout needs more than the 256 bus numbers of a PCI domain");
  static_assert(p != layout_problem::bus_nr_overlap,
                "pciplan::make_fixed_layout: an expander's bus_nr is not above every bus number used before "
                "it (the main hierarchy, or a lower expander's buses); raise it");
  if constexpr (p != layout_problem::none) {
    using all = std::tuple<Placements...>;
    using at_fault = std::tuple_element_t<built.check.index, all>;
    constexpr int parent = built.entries[built.check.index].parent_index;
    if constexpr (parent >= 0) {
      using parent_kind = typename std::tuple_element_t<static_cast<std::size_t>(parent), all>::kind;
      detail::name_offending_placement<typename at_fault::kind, parent_kind, at_fault::name>(
          std::make_index_sequence<at_fault::name.size()>{});
    } else {
      detail::name_offending_placement<typename at_fault::kind, root_of<M>, at_fault::name>(
          std::make_index_sequence<at_fault::name.size()>{});
    }
    return fixed_layout<M, n>{};
  } else {
    return fixed_layout<M, n>{built.entries};
  }
}

namespace detail {
template <MachineType M, std::size_t N>
void write_subtree(std::ostream& os, const fixed_layout<M, N>& layout, int owner, unsigned depth) {
  std::array<std::size_t, N> kids{};
  const std::size_t count = children_of(layout.entries, owner, kids);
  for (std::size_t k = 0; k != count; ++k) {
    const std::size_t i = kids[k];
    const layout_entry& e = layout.entries[i];
    for (unsigned d = 0; d != depth; ++d) os << "  ";
    os << e.guest_address << "  " << e.name << "  " << e.qemu_device;
    if (e.multifunction) os << " (multifunction)";
    if (e.controller) os << "  -> bus " << bounded_text<2>{}.append_hex(e.guest_bus.value, 2);
    os << '\n';
    if (e.controller) write_subtree(os, layout, static_cast<int>(i), depth + 1);
  }
}
}  // namespace detail

/// Writes the layout as a tree, children in slot order, with guest addresses:
///   pcie.0 (q35)
///     0000:00:01.0  rp1  pcie-root-port (multifunction)  -> bus 01
///       0000:01:00.0  wan  virtio-net-pci
template <MachineType M, std::size_t N>
std::ostream& operator<<(std::ostream& os, const fixed_layout<M, N>& layout) {
  os << layout.root_bus() << " (" << machine_traits<M>::name << ", " << machine_traits<M>::arch << ")\n";
  detail::write_subtree(os, layout, -1, 1);
  return os;
}

}  // namespace pciplan::inline v0

#endif  // PCIPLAN_COMPILE_TIME_FIXED_LAYOUT_HPP
