// pciplan — compile_time/layout_rules.hpp: the rules a fixed layout must keep, as types
// whose names say the rule, and the one diagnostic a broken rule gives.
//
// A layout that breaks a rule has the type fixed_layout_error<rule, placement name,
// parent name, kind, parent kind>, which is never defined, so its declaration is the one
// error, in the user's file, at the declared variable (g++ 12):
//
//   appliance.cpp:14:16: error: 'constexpr const pciplan::v0::fixed_layout_error<
//     pciplan::v0::layout_rule::the_parent_bus_does_not_take_this_controller_kind,
//     pciplan::v0::fixed_string<4>{"rp1"}, pciplan::v0::fixed_string<3>{"br"},
//     pciplan::v0::pcie_root_port, pciplan::v0::pci_bridge> appliance' has incomplete type
//
// and later uses of the variable (`appliance.at("wan")`) add no errors: compilers do not
// report again on a declaration that failed.
#ifndef PCIPLAN_COMPILE_TIME_LAYOUT_RULES_HPP
#define PCIPLAN_COMPILE_TIME_LAYOUT_RULES_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/vocabulary/fixed_string.hpp>

#include <cstddef>
#include <utility>

namespace pciplan::inline v0 {

/// Why a fixed layout was refused.
enum class layout_problem : unsigned char {
  none,
  not_a_kind,
  slot_out_of_range,
  function_out_of_range,
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

/// The rules of a fixed layout, one type each, named as the rule reads (never defined:
/// they are names for diagnostics).
namespace layout_rule {
/// specialise controller_traits or device_traits for it (see ControllerKind, DeviceKind)
struct the_kind_is_neither_a_controller_kind_nor_a_device_kind;
/// at<slot, function>: a PCI bus has 32 slots
struct the_slot_must_be_0_to_31;
/// at<slot, function>: a PCI slot has 8 functions
struct the_function_must_be_0_to_7;
/// microvm has only virtio-mmio transports: a PCI layout cannot be declared for it
struct the_machine_type_has_no_pci_bus;
/// names are unique, and none is the root bus's ("root", "pcie.0", "pci.0")
struct two_placements_have_this_name_or_it_is_the_root_bus_name;
/// the root bus comes with the machine type: use on_root to put things on it
struct the_root_bus_is_implicit_and_must_not_be_placed;
struct the_parent_bus_is_declared_by_no_placement;
/// declare each controller before what sits on its bus
struct the_parent_bus_is_declared_after_this_placement;
struct the_parent_is_a_device_but_only_controllers_provide_buses;
/// an expander the machine does not allow, or a kind nothing on the machine accepts (AvailableOn)
struct the_controller_kind_is_not_available_on_the_machine_type;
/// see PluggableInto: a pcie-root-port plugs into pcie-root or a pcie-expander-bus, a
/// switch downstream port only into a switch upstream port, …
struct the_parent_bus_does_not_take_this_controller_kind;
/// e.g. a switch upstream port or an expander bus, which take only ports
struct the_parent_bus_takes_no_endpoint_of_this_kind;
/// virtio-iommu, amd-iommu, pvpanic-pci
struct an_integrated_endpoint_must_sit_on_the_root_bus;
/// a root or downstream port has slot 0 only; root buses start at slot 1
struct the_slot_is_not_one_the_parent_bus_has;
/// the SHPC of a pci-bridge or pcie-to-pci-bridge: use slots 1 to 31
struct slot_0_of_this_bridge_belongs_to_its_hotplug_controller;
/// chipset devices such as q35's 00:1f.x or pc's 00:01.x
struct the_machine_type_itself_uses_this_root_bus_slot_and_function;
struct another_placement_uses_this_slot_and_function_of_the_bus;
/// QEMU needs function 0 of a multifunction slot
struct the_slot_uses_a_function_above_0_but_not_function_0;
/// add bus_nr<N> to a pxb or pxb-pcie
struct an_expander_bus_needs_its_first_bus_number;
struct bus_nr_is_given_to_a_kind_that_is_not_an_expander_bus;
struct another_expander_bus_has_this_bus_nr;
struct the_layout_needs_more_than_the_256_bus_numbers_of_a_pci_domain;
/// the main hierarchy, or a lower expander's buses, reach it: raise it
struct the_bus_nr_is_not_above_every_bus_number_used_before_it;
}  // namespace layout_rule

/// The type of a fixed layout that breaks `Rule` at the placement named `Placement` (of
/// kind `Kind`), placed on the bus named `Parent` (of kind `ParentKind`; `undeclared_bus`
/// when no placement declares it). Never defined: see the top of this header.
template <class Rule, class Placement, class Parent, class Kind, class ParentKind>
struct fixed_layout_error;

/// The parent kind of a placement whose parent bus no placement declares.
struct undeclared_bus;

#if defined(__clang__)
/// A name in a diagnostic, as characters (clang 14 prints a fixed_string as numbers).
template <char... C>
struct named {};
namespace detail {
template <fixed_string S, std::size_t... I>
named<S.chars[I]...> named_of(std::index_sequence<I...>);
}  // namespace detail
/// The `named` type of a placement or bus name.
template <fixed_string S>
using named_t = decltype(detail::named_of<S>(std::make_index_sequence<S.size()>{}));
#else
/// A name in a diagnostic, as text: named<fixed_string<4>{"rp1"}>.
template <fixed_string S>
struct named {};
/// The `named` type of a placement or bus name.
template <fixed_string S>
using named_t = named<S>;
#endif

namespace detail {
template <layout_problem P>
struct rule_of_problem;
#define PCIPLAN_LAYOUT_RULE(problem, rule_name)    \
  template <>                                      \
  struct rule_of_problem<layout_problem::problem> { \
    using type = layout_rule::rule_name;           \
  };
PCIPLAN_LAYOUT_RULE(not_a_kind, the_kind_is_neither_a_controller_kind_nor_a_device_kind)
PCIPLAN_LAYOUT_RULE(slot_out_of_range, the_slot_must_be_0_to_31)
PCIPLAN_LAYOUT_RULE(function_out_of_range, the_function_must_be_0_to_7)
PCIPLAN_LAYOUT_RULE(no_pci, the_machine_type_has_no_pci_bus)
PCIPLAN_LAYOUT_RULE(duplicate_name, two_placements_have_this_name_or_it_is_the_root_bus_name)
PCIPLAN_LAYOUT_RULE(root_declared, the_root_bus_is_implicit_and_must_not_be_placed)
PCIPLAN_LAYOUT_RULE(unknown_parent, the_parent_bus_is_declared_by_no_placement)
PCIPLAN_LAYOUT_RULE(parent_declared_later, the_parent_bus_is_declared_after_this_placement)
PCIPLAN_LAYOUT_RULE(parent_is_device, the_parent_is_a_device_but_only_controllers_provide_buses)
PCIPLAN_LAYOUT_RULE(kind_not_on_machine, the_controller_kind_is_not_available_on_the_machine_type)
PCIPLAN_LAYOUT_RULE(cannot_plug, the_parent_bus_does_not_take_this_controller_kind)
PCIPLAN_LAYOUT_RULE(device_cannot_sit, the_parent_bus_takes_no_endpoint_of_this_kind)
PCIPLAN_LAYOUT_RULE(integrated_off_root, an_integrated_endpoint_must_sit_on_the_root_bus)
PCIPLAN_LAYOUT_RULE(slot_outside_bus, the_slot_is_not_one_the_parent_bus_has)
PCIPLAN_LAYOUT_RULE(shpc_slot, slot_0_of_this_bridge_belongs_to_its_hotplug_controller)
PCIPLAN_LAYOUT_RULE(reserved_function, the_machine_type_itself_uses_this_root_bus_slot_and_function)
PCIPLAN_LAYOUT_RULE(address_in_use, another_placement_uses_this_slot_and_function_of_the_bus)
PCIPLAN_LAYOUT_RULE(function_zero_missing, the_slot_uses_a_function_above_0_but_not_function_0)
PCIPLAN_LAYOUT_RULE(bus_nr_missing, an_expander_bus_needs_its_first_bus_number)
PCIPLAN_LAYOUT_RULE(bus_nr_not_allowed, bus_nr_is_given_to_a_kind_that_is_not_an_expander_bus)
PCIPLAN_LAYOUT_RULE(bus_nr_in_use, another_expander_bus_has_this_bus_nr)
PCIPLAN_LAYOUT_RULE(bus_numbers_exhausted, the_layout_needs_more_than_the_256_bus_numbers_of_a_pci_domain)
PCIPLAN_LAYOUT_RULE(bus_nr_overlap, the_bus_nr_is_not_above_every_bus_number_used_before_it)
#undef PCIPLAN_LAYOUT_RULE
}  // namespace detail

/// The layout_rule type of a problem.
template <layout_problem P>
using layout_rule_t = typename detail::rule_of_problem<P>::type;

}  // namespace pciplan::inline v0

#endif  // PCIPLAN_COMPILE_TIME_LAYOUT_RULES_HPP
