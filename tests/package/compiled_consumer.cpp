// Built against an installed pciplan in the compiled mode (pciplan::compiled): the planner
// for q35 comes from the installed library, not from this file, and constant evaluation
// still works (static_plan, constexpr_plan).
#include <pciplan/pciplan.hpp>

#include <iostream>
#include <vector>

int main() {
  using namespace pciplan;
  constexpr auto fixed = static_plan<machines::q35>(device<models::virtio_net>("net0"));
  static_assert(fixed.at("net0").guest_address.bus.value != 0);
  const std::vector<request> devices{{"net0", models::virtio_net{}}, {"legacy0", models::e1000{}}};
  const result<topology_plan> typed = plan<machines::q35>(devices);
  const result<topology_plan> named = plan(machine_id::q35, devices);
  if (!typed || !named) return 1;
  for (const placement& p : typed->placements) std::cout << p.name << ' ' << p.guest_address << '\n';
  return typed->at("net0").guest_address == fixed.at("net0").guest_address &&
                 named->at("legacy0").guest_address == typed->at("legacy0").guest_address
             ? 0
             : 1;
}
