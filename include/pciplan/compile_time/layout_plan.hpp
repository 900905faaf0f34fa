// pciplan — compile_time/layout_plan.hpp: a fixed layout or a static plan as a
// topology_plan, so that every output, the validator and the run-time planner take it.
//
//   constexpr auto appliance = make_fixed_layout<machines::q35>(…);
//   const topology_plan p = to_plan(appliance);
//   for (const std::string& a : qemu_arguments(p)) std::cout << a << '\n';
//   // add a device later, nothing of the layout moves:
//   std::vector<request> more = pinned(p, layout_requests(appliance));
//   more.push_back({"hotplugged", models::virtio_net{}});
//   auto grown = plan<machines::q35>(more, {}, p.controllers);
#ifndef PCIPLAN_COMPILE_TIME_LAYOUT_PLAN_HPP
#define PCIPLAN_COMPILE_TIME_LAYOUT_PLAN_HPP

#include <pciplan/compile_time/fixed_layout.hpp>
#include <pciplan/compile_time/static_plan.hpp>
#include <pciplan/detail/config.hpp>
#include <pciplan/detail/report.hpp>
#include <pciplan/kinds/machine_types.hpp>
#include <pciplan/planner/planner.hpp>
#include <pciplan/topology/controller.hpp>
#include <pciplan/topology/request.hpp>
#include <pciplan/topology/topology_plan.hpp>
#include <pciplan/vocabulary/address.hpp>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace pciplan::inline v0 {

namespace detail {
/// The controller index each controller entry of a layout gets: 1, 2, … in declaration
/// order (the root bus is 0); -1 for devices.
template <MachineType M, std::size_t N>
constexpr std::vector<int> layout_indexes(const fixed_layout<M, N>& layout) {
  std::vector<int> out(N, -1);
  int next = 1;
  for (std::size_t i = 0; i != N; ++i) {
    if (layout.entries[i].controller) out[i] = next++;
  }
  return out;
}

/// Where entry `i` sits, libvirt's way: the parent's controller index, slot, function.
template <MachineType M, std::size_t N>
constexpr controller_address layout_address(const fixed_layout<M, N>& layout, const std::vector<int>& index,
                                            std::size_t i) {
  const layout_entry& e = layout.entries[i];
  const int parent = e.parent_index < 0 ? 0 : index[static_cast<std::size_t>(e.parent_index)];
  return controller_address(0, static_cast<unsigned>(parent), e.guest_address.slot, e.guest_address.function);
}
}  // namespace detail

/// The layout's devices as requests, each pinned at its address (bus = the controller
/// index its parent gets in to_plan: controllers are numbered 1, 2, … in declaration
/// order). Names are views of the layout's (static) names.
template <MachineType M, std::size_t N>
[[nodiscard]] constexpr std::vector<request> layout_requests(const fixed_layout<M, N>& layout) {
  const std::vector<int> index = detail::layout_indexes(layout);
  std::vector<request> out;
  for (std::size_t i = 0; i != N; ++i) {
    const layout_entry& e = layout.entries[i];
    if (e.controller) continue;
    out.push_back(request(e.name, e.device, at_address{detail::layout_address(layout, index, i)}));
  }
  return out;
}

/// The layout's controllers: the machine's root bus (index 0), then every declared
/// controller with index 1, 2, … in declaration order, at its address, expanders with
/// their bus_nr. Chassis, port and other numbers are left to the planner.
template <MachineType M, std::size_t N>
[[nodiscard]] constexpr std::vector<controller> layout_controllers(const fixed_layout<M, N>& layout) {
  const std::vector<int> index = detail::layout_indexes(layout);
  std::vector<controller> out;
  out.push_back(make_controller<root_of<M>>(0));
  for (std::size_t i = 0; i != N; ++i) {
    const layout_entry& e = layout.entries[i];
    if (!e.controller) continue;
    controller c{};
    c.index = controller_index{static_cast<std::uint16_t>(index[i])};
    c.kind = e.kind;
    c = c.at(detail::layout_address(layout, index, i));
    if (e.first_bus != 0) c.bus_nr = static_cast<int>(e.first_bus);
    out.push_back(c);
  }
  return out;
}

/// The fixed layout as a plan of machine M (policy pciplan): the layout's controllers
/// (layout_controllers) with chassis and port numbers given as the planner gives them,
/// every device at its declared address (rule given_address), guest bus numbers as the
/// layout computed them, the machine's built-in devices known. Nothing is added: no spare
/// ports. Usable in constant evaluation; the layout was checked when it was made, so this
/// cannot fail (a disagreement between the two checks is a pciplan bug, reported as
/// std::invalid_argument, or a compile error in constant evaluation).
template <MachineType M, std::size_t N>
[[nodiscard]] constexpr topology_plan to_plan(const fixed_layout<M, N>& layout) {
  const std::vector<request> requests = layout_requests(layout);
  const std::vector<controller> controllers = layout_controllers(layout);
  result<topology_plan> r =
      constexpr_plan<M, policies::pciplan>(requests, {.spare_ports = 0}, controllers, on_failure::return_error);
  if (!r) {
    detail::expects(false, "pciplan::to_plan: the planner refuses a checked fixed layout (a pciplan bug)");
    return topology_plan{};
  }
  // (not `r ? std::move(*r) : topology_plan{}`: g++ 12 destroys that temporary twice in
  // constant evaluation)
  return std::move(*r);
}

/// A static plan as a topology_plan: the same controllers, placements, warnings, machine,
/// policy and built-in devices.
template <std::size_t N>
[[nodiscard]] constexpr topology_plan to_plan(const fixed_plan<N>& fixed) {
  topology_plan out;
  out.controllers.assign(fixed.controllers.begin(), fixed.controllers.end());
  out.placements.assign(fixed.placements.begin(), fixed.placements.end());
  out.warnings.assign(fixed.warnings.begin(), fixed.warnings.end());
  out.machine = fixed.machine;
  out.policy = fixed.policy;
  out.built_in = fixed.built_in;
  return out;
}

}  // namespace pciplan::inline v0

#endif  // PCIPLAN_COMPILE_TIME_LAYOUT_PLAN_HPP
