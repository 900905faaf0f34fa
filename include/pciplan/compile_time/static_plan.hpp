// pciplan — compile_time/static_plan.hpp: planning a fixed set of devices at compile time.
//
//   constexpr auto appliance = static_plan<machines::q35>(
//       device<models::virtio_net>("wan"), device<models::virtio_net>("lan"));
//   static_assert(appliance.at("wan").guest_address == pci_address{0, 1, 0, 0});
//
// The run-time planner runs in constant evaluation and its result is copied into
// fixed-capacity containers. A layout that cannot be planned does not compile: the
// error's call chain names the device and the planner's reason, as at run time.
#ifndef PCIPLAN_COMPILE_TIME_STATIC_PLAN_HPP
#define PCIPLAN_COMPILE_TIME_STATIC_PLAN_HPP

#include <pciplan/topology/controller.hpp>
#include <pciplan/detail/config.hpp>
#include <pciplan/detail/fixed_vector.hpp>
#include <pciplan/detail/report.hpp>
#include <pciplan/kinds/machine_types.hpp>
#include <pciplan/topology/topology_plan.hpp>
#include <pciplan/planner/planner.hpp>
#include <pciplan/planner/policies.hpp>
#include <pciplan/topology/request.hpp>

#include <array>
#include <concepts>
#include <cstddef>
#include <span>
#include <string_view>
#include <type_traits>

namespace pciplan::inline v0 {

/// A plan of N requests made at compile time by `static_plan`. It reads like a
/// topology_plan: `placements`, `controllers` and `warnings` are members (fixed-capacity
/// containers here, std::vectors there), with `at` and `find`, and `machine`, `policy`
/// and `built_in`; `to_plan` (compile_time/layout_plan.hpp) makes it a topology_plan for
/// the outputs.
template <std::size_t N>
struct fixed_plan {
  /// Compile-time plans hold at most this many controllers.
  static constexpr std::size_t max_controllers = 256;
  /// Compile-time plans keep at most this many warnings; further ones are dropped.
  static constexpr std::size_t max_warnings = 4;

  std::array<placement, N> placements{};                           ///< as topology_plan::placements
  detail::fixed_vector<controller, max_controllers> controllers{};  ///< as topology_plan::controllers
  detail::fixed_vector<warning, max_warnings> warnings{};          ///< as topology_plan::warnings (the first few)
  std::string_view machine{};                    ///< as topology_plan::machine
  policy_family policy = policy_family::pciplan;  ///< as topology_plan::policy
  std::span<const reserved_function> built_in{};  ///< as topology_plan::built_in

  /// The placement of the request named `name` (unknown: compile error).
  [[nodiscard]] constexpr const placement& at(std::string_view name) const {
    for (const auto& p : placements) {
      if (p.name == name) return p;
    }
    detail::expects(false, "pciplan::fixed_plan::at: no request in the plan has this name");
    return placements[0];
  }
  /// The controller with this index, or nullptr.
  [[nodiscard]] constexpr const controller* find(controller_index index) const noexcept {
    for (const auto& c : controllers) {
      if (c.index == index) return &c;
    }
    return nullptr;
  }
};

namespace detail {
/// All of them are requests (std::conjunction, not a fold: clang 14 limits fold
/// expressions to 256 operands, and a static plan may have more devices).
template <class... Ts>
concept all_requests = std::conjunction_v<std::is_same<Ts, request>...>;
}  // namespace detail

/// Plans `requests` on machine M at compile time with `options`.
template <MachineType M, PlanningPolicy Policy = policies::pciplan, class... Requests>
  requires detail::all_requests<Requests...>
consteval fixed_plan<sizeof...(Requests)> static_plan(plan_options options, Requests... requests) {
  const std::array<request, sizeof...(Requests)> list{requests...};
  const result<topology_plan> r = constexpr_plan<M, Policy>(list, options, {}, on_failure::stop_compilation);
  fixed_plan<sizeof...(Requests)> out{};
  if (!r) {
    detail::compile_time_error("pciplan::static_plan: the layout cannot be planned");
    return out;
  }
  if (r->controllers.size() > out.max_controllers) {
    detail::compile_time_error("pciplan::static_plan: the plan needs more than 256 controllers; plan it at run time");
    return out;
  }
  for (std::size_t i = 0; i != sizeof...(Requests); ++i) out.placements[i] = r->placements[i];
  for (const controller& c : r->controllers) out.controllers.push_back(c);
  for (const warning& w : r->warnings) {
    if (out.warnings.size() < out.max_warnings) out.warnings.push_back(w);
  }
  out.machine = r->machine;
  out.policy = r->policy;
  out.built_in = r->built_in;
  return out;
}

/// Plans `requests` on machine M at compile time with the default options.
template <MachineType M, PlanningPolicy Policy = policies::pciplan, class... Requests>
  requires detail::all_requests<Requests...>
consteval fixed_plan<sizeof...(Requests)> static_plan(Requests... requests) {
  return static_plan<M, Policy>(plan_options{}, requests...);
}

}  // namespace pciplan::inline v0

#endif  // PCIPLAN_COMPILE_TIME_STATIC_PLAN_HPP
