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
// not compile: its one diagnostic is at the declaration of the layout, whose type is
// fixed_layout_error<rule, placement, parent, kind, parent kind> — the rule as a type
// named like a sentence (layout_rule::the_slot_is_not_one_the_parent_bus_has), the
// placement at fault and its parent bus by name (compile_time/layout_rules.hpp).
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
#include <pciplan/compile_time/layout_rules.hpp>
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
#include <type_traits>
#include <utility>
#include <vector>

namespace pciplan::inline v0 {

// ---- the checked result ------------------------------------------------------------

/// One placed controller or device of a fixed layout.
struct layout_entry {
  std::string_view name{};           ///< the name it was declared with
  std::string_view parent{};         ///< the parent's name; the root bus's QEMU name for the root
  std::string_view qemu_device{};    ///< the QEMU device name
  std::string_view libvirt_model{};  ///< controllers: libvirt's model; devices: the model attribute
  bool controller = false;           ///< true for a controller, false for a device
  pci_address guest_address{};             ///< guest address (bus = guest bus number)
  bus_number guest_bus{};                  ///< controllers: the guest bus number of the bus they provide
  unsigned first_bus = 0;            ///< expanders: bus_nr
  bool multifunction = false;        ///< function 0 of a slot whose other functions are used
  int parent_index = -1;             ///< index of the parent entry; -1 for the root bus
  const controller_descriptor* kind = nullptr;  ///< controllers: the controller kind
  device_descriptor device{};        ///< devices: the device kind
  /// Compares all members.
  friend constexpr bool operator==(const layout_entry&, const layout_entry&) = default;
};

/// A checked layout of N placements on machine M, with guest addresses.
template <MachineType M, std::size_t N>
struct fixed_layout {
  using machine = M;                      ///< the machine type
  std::array<layout_entry, N> entries{};  ///< the placements, in declaration order

  [[nodiscard]] constexpr std::size_t size() const noexcept { return N; }  ///< the number of entries
  [[nodiscard]] constexpr auto begin() const noexcept { return entries.begin(); }  ///< the first entry
  [[nodiscard]] constexpr auto end() const noexcept { return entries.end(); }  ///< past the last entry
  /// Whether an entry was declared as `name`.
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

namespace detail {

struct placement_info {
  std::string_view name{};
  std::string_view parent{};
  bool controller = false;
  bool kind = true;              // a controller kind or a device kind
  controller_descriptor desc{};  // controllers only
  const controller_descriptor* controller_kind = nullptr;  // controllers: the kind's descriptor
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
    i.controller_kind = &descriptor_of<K>;
    i.available = AvailableOn<K, M>;
    i.qemu_device = descriptor_of<K>.qemu_device();
    i.libvirt_model = descriptor_of<K>.model;
  } else if constexpr (DeviceKind<K>) {
    i.need = connect_of<K, M>;
    i.device = device_descriptor_of<K>;
    i.qemu_device = device_traits<K>::qemu_device;
    i.libvirt_model = device_traits<K>::libvirt.model;
  } else {
    i.kind = false;
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
      e[i].kind = p.controller_kind;
      e[i].device = p.device;
      if (!p.kind) return fail(layout_problem::not_a_kind, i);
      if (p.slot > max_slot) return fail(layout_problem::slot_out_of_range, i);
      if (p.function > max_function) return fail(layout_problem::function_out_of_range, i);
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

/// The checked layout of placements `Ps` on machine M (entries, and the first problem).
template <MachineType M, class... Ps>
inline constexpr layout_build<sizeof...(Ps)> built_layout =
    build_layout<M>(std::array<placement_info, sizeof...(Ps)>{info_of<M, Ps>()...});

/// The position of the placement named `name`, or -1.
template <class... Ps>
constexpr int position_named(std::string_view name) {
  const std::array<std::string_view, sizeof...(Ps)> names{Ps::name.view()...};
  for (std::size_t i = 0; i != names.size(); ++i) {
    if (names[i] == name) return static_cast<int>(i);
  }
  return -1;
}

/// The fixed_layout_error type of a refused layout: the rule, the placement at fault and
/// the bus it names as its parent (the kind declared under that name, the root's kind,
/// or undeclared_bus), whatever rule broke.
template <bool Broken, MachineType M, class... Ps>
struct layout_error_of_broken {
  // a layout that keeps every rule: clang 14 forms the error overload's return type
  // before it checks the overload's constraint, so this must be a valid type too
  using type = struct layout_keeps_every_rule;
};
template <MachineType M, class... Ps>
struct layout_error_of_broken<true, M, Ps...> {
  static constexpr layout_check check = built_layout<M, Ps...>.check;
  using all = std::tuple<Ps...>;
  using at_fault = std::tuple_element_t<check.index, all>;
  static constexpr int parent = position_named<Ps...>(at_fault::parent.view());
  static constexpr bool on_root = parent < 0 && is_root_name(at_fault::parent.view(), fixed_layout<M, 1>::root_bus());
  /// \cond
  using parent_kind = typename decltype([] {
    if constexpr (parent >= 0) return std::type_identity<typename std::tuple_element_t<parent, all>::kind>{};
    else if constexpr (on_root) return std::type_identity<root_of<M>>{};
    else return std::type_identity<undeclared_bus>{};
  }())::type;
  /// \endcond
  using type = fixed_layout_error<layout_rule_t<check.problem>, named_t<at_fault::name>, named_t<at_fault::parent>,
                                  typename at_fault::kind, parent_kind>;
};
template <MachineType M, class... Ps>
using layout_error_of = layout_error_of_broken<built_layout<M, Ps...>.check.problem != layout_problem::none, M, Ps...>;

}  // namespace detail

/// Checks the placements at compile time and returns the layout with guest addresses.
template <MachineType M, class... Placements>
  requires(detail::built_layout<M, Placements...>.check.problem == layout_problem::none)
consteval fixed_layout<M, sizeof...(Placements)> make_fixed_layout(Placements...) {
  return fixed_layout<M, sizeof...(Placements)>{detail::built_layout<M, Placements...>.entries};
}

/// A layout that breaks a rule: the declared type is fixed_layout_error<rule, placement,
/// parent, kind, parent kind>, which is never defined, so the declaration of the layout
/// is the one error, and it names the rule and the placement (compile_time/layout_rules.hpp).
template <MachineType M, class... Placements>
  requires(detail::built_layout<M, Placements...>.check.problem != layout_problem::none)
typename detail::layout_error_of<M, Placements...>::type&& make_fixed_layout(Placements...);

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
