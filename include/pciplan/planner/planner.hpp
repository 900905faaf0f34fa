// pciplan — planner/planner.hpp: plan<Machine, Policy>(requests, options, controllers).
//
//   std::vector<request> devices{{"net0", models::virtio_net{}}, {"legacy0", models::e1000{}}};
//   result<topology_plan> r = plan<machines::q35>(devices, {.spare_ports = 4});
//   if (!r) { std::cerr << r.error() << '\n'; return 1; }      // names the device and the rule
//   for (const placement& p : r->placements) std::cout << p.name << ' ' << p.guest_address << '\n';
//
// The same function runs in constant evaluation (see static_plan.hpp). On error the
// inputs are untouched and no partial plan is returned.
#ifndef PCIPLAN_PLANNER_PLANNER_HPP
#define PCIPLAN_PLANNER_PLANNER_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/kinds/machine_types.hpp>
#include <pciplan/kinds/machine_dispatch.hpp>
#include <pciplan/planner/detail/libvirt_policy.hpp>
#include <pciplan/planner/detail/pciplan_policy.hpp>
#include <pciplan/planner/detail/planning_state.hpp>
#include <pciplan/planner/policies.hpp>
#include <pciplan/topology/controller.hpp>
#include <pciplan/topology/request.hpp>
#include <pciplan/topology/topology_plan.hpp>
#include <pciplan/vocabulary/error.hpp>

#include <span>
#include <type_traits>
#include <vector>

namespace pciplan::inline v0 {

/// A planning policy: policies::libvirt, policies::pciplan, or a type derived from one
/// of them (to change the members they document).
template <class P>
concept PlanningPolicy = std::is_base_of_v<policies::libvirt, P> || std::is_base_of_v<policies::pciplan, P>;

namespace detail {
template <MachineType M, PlanningPolicy Policy>
constexpr result<topology_plan> run_plan(planning<M>& state) {
  if constexpr (std::is_base_of_v<policies::libvirt, Policy>) {
    result<topology_plan> r = libvirt_planner<M, Policy>(state).run();
    if (r) r->policy = policy_family::libvirt;
    return r;
  } else {
    return pciplan_planner<M, Policy>(state).run();
  }
}
}  // namespace detail

/// What `plan` does when the requests cannot be planned.
enum class on_failure : unsigned char {
  /// return the error, at run time and in constant evaluation alike
  return_error,
  /// in constant evaluation, stop compiling right where a rule broke, so that the
  /// diagnostic's call chain names the device and the planner's sentence (static_plan);
  /// at run time the same as return_error
  stop_compilation,
};

/// plan<M, Policy> (below), constexpr in either mode: for constant evaluation in the
/// compiled mode, where plan itself is a run-time function. static_plan and to_plan call
/// it. At run time it instantiates the planner in the calling translation unit, as the
/// header-only mode does.
template <MachineType M, PlanningPolicy Policy = policies::pciplan>
[[nodiscard]] constexpr result<topology_plan> constexpr_plan(std::span<const request> requests,
                                                             const plan_options& options = {},
                                                             std::span<const controller> controllers = {},
                                                             on_failure how = on_failure::return_error) {
  detail::planning<M> state{};
  state.requests = requests;
  state.given = controllers;
  state.options = options;
  state.compile_time_errors = how == on_failure::stop_compilation;
  return detail::run_plan<M, Policy>(state);
}

/// Plans `requests` on machine M: an address (or another transport) for every request,
/// and every controller that has to be added to `controllers` (the guest's existing
/// controllers, possibly none: the root bus is implicit). Returns the plan or an error
/// that names the device or controller and the rule it could not meet. constexpr when
/// pciplan is header-only (the default); in the compiled mode (PCIPLAN_COMPILED) a
/// run-time function, instantiated in the pciplan_compiled library for the built-in
/// machine types and policies (constexpr_plan and static_plan plan at compile time there).
template <MachineType M, PlanningPolicy Policy = policies::pciplan>
[[nodiscard]] PCIPLAN_DETAIL_RUN_TIME_CONSTEXPR result<topology_plan> plan(std::span<const request> requests,
                                                                           const plan_options& options = {},
                                                                           std::span<const controller> controllers = {},
                                                                           on_failure how = on_failure::return_error) {
  return constexpr_plan<M, Policy>(requests, options, controllers, how);
}

/// The same for a machine chosen at run time (`machine_named("q35")`, `machine_of(arch,
/// machine)`), with policy `Policy`:
///
///   const std::optional<machine_id> m = machine_named(argv[1]);   // "q35", "riscv64:virt", …
///   if (!m) return usage();
///   const result<topology_plan> r = plan(*m, devices, {.spare_ports = 2});
///
/// Every built-in machine type is instantiated.
template <PlanningPolicy Policy = policies::pciplan>
[[nodiscard]] PCIPLAN_DETAIL_RUN_TIME_CONSTEXPR result<topology_plan> plan(machine_id machine,
                                                                           std::span<const request> requests,
                                                                           const plan_options& options = {},
                                                                           std::span<const controller> controllers = {}) {
  return with_machine(machine, [&](auto m) { return plan<decltype(m), Policy>(requests, options, controllers); });
}

/// The requests of `old` pinned where `plan` put them (PCI addresses; the transport for
/// the others). Plan them again — with `plan.controllers` as the controllers and any new
/// requests added — and nothing that was placed moves: stable addresses across edits.
/// Requests no longer wanted are simply left out; nothing else moves either.
[[nodiscard]] inline std::vector<request> pinned(const topology_plan& plan, std::span<const request> old) {
  std::vector<request> out(old.begin(), old.end());
  for (const placement& p : plan.placements) {
    if (p.request >= out.size()) continue;
    request& r = out[p.request];
    if (p.kind == placement_kind::pci) {
      r.fixed = address_kind::full;
      r.libvirt_address = p.libvirt_address;
      r.via = transport::automatic;
    } else if (p.kind == placement_kind::mmio) {
      r.via = transport::mmio;
    }
  }
  return out;
}

}  // namespace pciplan::inline v0

// plan<M, Policy> for both built-in policies: `extern` declares the instantiations (the
// compiled mode's headers), nothing defines them (the pciplan_compiled library).
#define PCIPLAN_DETAIL_PLAN_INSTANCES(EXTERN, M)                                                           \
  EXTERN template pciplan::result<pciplan::topology_plan> pciplan::plan<M, pciplan::policies::pciplan>(    \
      std::span<const pciplan::request>, const pciplan::plan_options&, std::span<const pciplan::controller>, \
      pciplan::on_failure);                                                                                \
  EXTERN template pciplan::result<pciplan::topology_plan> pciplan::plan<M, pciplan::policies::libvirt>(    \
      std::span<const pciplan::request>, const pciplan::plan_options&, std::span<const pciplan::controller>, \
      pciplan::on_failure);

#ifdef PCIPLAN_COMPILED
PCIPLAN_DETAIL_EXTERN_EACH_MACHINE(PCIPLAN_DETAIL_PLAN_INSTANCES)
#endif

#endif  // PCIPLAN_PLANNER_PLANNER_HPP
