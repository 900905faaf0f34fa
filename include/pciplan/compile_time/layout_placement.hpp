// pciplan — compile_time/layout_placement.hpp: the pieces of a fixed-layout declaration —
// `place<Kind, "name">(on<"parent">, at<slot, function>, bus_nr<N>)` and its parts.
//
//   place<pcie_root_port, "rp1">(on_root, at<1, 0>)
//   place<models::virtio_net, "wan">(on<"rp1">)                  // slot 0, function 0
//   place<pcie_expander_bus, "numa1">(on_root, at<5>, bus_nr<0x40>)
//
// Each declaration is all in its type (layout_placement); make_fixed_layout
// (compile_time/fixed_layout.hpp) checks them together.
#ifndef PCIPLAN_COMPILE_TIME_LAYOUT_PLACEMENT_HPP
#define PCIPLAN_COMPILE_TIME_LAYOUT_PLACEMENT_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/kinds/controller_kinds.hpp>
#include <pciplan/kinds/device_kinds.hpp>
#include <pciplan/vocabulary/address.hpp>
#include <pciplan/vocabulary/fixed_string.hpp>

namespace pciplan::inline v0 {

/// `at<slot, function>`: where on the parent bus (make_fixed_layout checks that the slot is
/// 0 to 31 and the function 0 to 7).
template <unsigned Slot, unsigned Function = 0>
struct slot_function_c {
  static constexpr unsigned slot = Slot;          ///< the slot on the parent bus
  static constexpr unsigned function = Function;  ///< the function within the slot
};
/// The value that stands for `at<slot, function>` in a `place(…)` call.
template <unsigned Slot, unsigned Function = 0>
inline constexpr slot_function_c<Slot, Function> at{};

/// `on<"name">`: the bus of the controller declared under that name; `on_root`: the
/// machine's root bus (it may also be named by its QEMU name, `on<"pcie.0">`).
template <fixed_string Name>
struct bus_ref_c {};
/// The value that stands for `on<"name">` in a `place(…)` call.
template <fixed_string Name>
inline constexpr bus_ref_c<Name> on{};
/// The machine's root bus, as a parent in a `place(…)` call.
inline constexpr bus_ref_c<"root"> on_root{};

/// `bus_nr<N>`: the first guest bus number of an expander bus (pxb, pxb-pcie).
template <unsigned N>
struct bus_nr_c {
  static_assert(N >= 1 && N <= 254, "pciplan::bus_nr<N>: an expander's bus_nr must be 1 to 254");
  static constexpr unsigned value = N;  ///< the first guest bus number (1-254)
};
/// The value that stands for `bus_nr<N>` in a `place(…)` call.
template <unsigned N>
inline constexpr bus_nr_c<N> bus_nr{};

/// One declaration, all in its type. Made by `place<Kind, "name">(…)`.
template <class Kind, fixed_string Name, fixed_string Parent, unsigned Slot, unsigned Function, unsigned BusNr>
struct layout_placement {
  using kind = Kind;                              ///< the controller or device kind placed
  static constexpr auto name = Name;              ///< the name it is declared under
  static constexpr auto parent = Parent;          ///< the name of its parent bus ("root" for the root bus)
  static constexpr unsigned slot = Slot;          ///< the slot on the parent bus
  static constexpr unsigned function = Function;  ///< the function within the slot
  /// The first guest bus number given with `bus_nr<N>` (expander buses).
  static constexpr unsigned first_bus = BusNr;  // 0: none given
};


/// Declares `Kind` (a controller kind or a device kind; make_fixed_layout refuses anything
/// else) named `Name` on bus `Parent` at `at<slot, function>`.
template <class Kind, fixed_string Name, fixed_string Parent, unsigned Slot, unsigned Function>
constexpr layout_placement<Kind, Name, Parent, Slot, Function, 0> place(bus_ref_c<Parent>, slot_function_c<Slot, Function>) {
  return {};
}
/// Declares `Kind` named `Name` on bus `Parent` at slot 0, function 0.
template <class Kind, fixed_string Name, fixed_string Parent>
constexpr layout_placement<Kind, Name, Parent, 0, 0, 0> place(bus_ref_c<Parent>) {
  return {};
}
/// Declares an expander bus with its first guest bus number.
template <class Kind, fixed_string Name, fixed_string Parent, unsigned Slot, unsigned Function, unsigned BusNr>
constexpr layout_placement<Kind, Name, Parent, Slot, Function, BusNr> place(bus_ref_c<Parent>, slot_function_c<Slot, Function>,
                                                                     bus_nr_c<BusNr>) {
  return {};
}

}  // namespace pciplan::inline v0

#endif  // PCIPLAN_COMPILE_TIME_LAYOUT_PLACEMENT_HPP
