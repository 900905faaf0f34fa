// pciplan — kinds/machine_dispatch.hpp: from a machine_id at run time to the machine
// type at compile time, and back.
//
//   const auto report = with_machine(*machine_of("x86_64", "q35"),
//                                    [&](auto m) { return validate<decltype(m)>(layout); });
//   static_assert(machine_id_of<machines::q35> == machine_id::q35);
//
// `with_machine` instantiates its function for every machine type, so every branch
// must return the same type.
#ifndef PCIPLAN_KINDS_MACHINE_DISPATCH_HPP
#define PCIPLAN_KINDS_MACHINE_DISPATCH_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/detail/report.hpp>
#include <pciplan/kinds/machine_types.hpp>
#include <pciplan/vocabulary/machine_id.hpp>

#include <string_view>
#include <type_traits>

namespace pciplan::inline v0 {

/// The machine_id of a built-in machine type.
template <class M>
  requires MachineType<M>
inline constexpr machine_id machine_id_of = [] {
  if constexpr (std::is_same_v<M, machines::pc>) return machine_id::pc;
  else if constexpr (std::is_same_v<M, machines::q35>) return machine_id::q35;
  else if constexpr (std::is_same_v<M, machines::aarch64_virt>) return machine_id::aarch64_virt;
  else if constexpr (std::is_same_v<M, machines::riscv64_virt>) return machine_id::riscv64_virt;
  else if constexpr (std::is_same_v<M, machines::loongarch64_virt>) return machine_id::loongarch64_virt;
  else if constexpr (std::is_same_v<M, machines::pseries>) return machine_id::pseries;
  else if constexpr (std::is_same_v<M, machines::s390x_ccw>) return machine_id::s390x_ccw;
  else if constexpr (std::is_same_v<M, machines::microvm>) return machine_id::microvm;
  else static_assert(detail::always_false<M>, "pciplan::machine_id_of<M> requires a built-in machine type");
}();

/// Whether M is one of the built-in machine types (those with a machine_id).
template <class M>
inline constexpr bool builtin_machine_v =
    std::is_same_v<M, machines::pc> || std::is_same_v<M, machines::q35> || std::is_same_v<M, machines::aarch64_virt> ||
    std::is_same_v<M, machines::riscv64_virt> || std::is_same_v<M, machines::loongarch64_virt> ||
    std::is_same_v<M, machines::pseries> || std::is_same_v<M, machines::s390x_ccw> ||
    std::is_same_v<M, machines::microvm>;

/// The name a plan records for machine type M: name_of(machine_id_of<M>) for a built-in
/// machine ("q35", "aarch64-virt"), machine_traits<M>::name for another.
template <MachineType M>
inline constexpr std::string_view machine_name_of = [] {
  if constexpr (builtin_machine_v<M>) return name_of(machine_id_of<M>);
  else return std::string_view(machine_traits<M>::name);
}();

/// Calls `f(machines::X{})` for the machine type of `m` and returns what it returns.
template <class F>
constexpr decltype(auto) with_machine(machine_id m, F&& f) {
  switch (m) {
    case machine_id::pc: return f(machines::pc{});
    case machine_id::q35: return f(machines::q35{});
    case machine_id::aarch64_virt: return f(machines::aarch64_virt{});
    case machine_id::riscv64_virt: return f(machines::riscv64_virt{});
    case machine_id::loongarch64_virt: return f(machines::loongarch64_virt{});
    case machine_id::pseries: return f(machines::pseries{});
    case machine_id::s390x_ccw: return f(machines::s390x_ccw{});
    case machine_id::microvm: break;
  }
  return f(machines::microvm{});
}

}  // namespace pciplan::inline v0

// INSTANCES(extern, M) for every built-in machine type M: the compiled mode's explicit
// instantiation declarations (INSTANCES(, M) in the library makes the instantiations).
#define PCIPLAN_DETAIL_EXTERN_EACH_MACHINE(INSTANCES)                                                    \
  INSTANCES(extern, pciplan::machines::pc)                                                               \
  INSTANCES(extern, pciplan::machines::q35)                                                              \
  INSTANCES(extern, pciplan::machines::aarch64_virt)                                                     \
  INSTANCES(extern, pciplan::machines::riscv64_virt)                                                     \
  INSTANCES(extern, pciplan::machines::loongarch64_virt)                                                 \
  INSTANCES(extern, pciplan::machines::pseries)                                                          \
  INSTANCES(extern, pciplan::machines::s390x_ccw)                                                        \
  INSTANCES(extern, pciplan::machines::microvm)

#endif  // PCIPLAN_KINDS_MACHINE_DISPATCH_HPP
