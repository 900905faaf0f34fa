// Planning at run time: a q35 guest described by constraints, not addresses. Prints
// every device's guest address, the controllers the planner added, why the legacy NIC
// went where it did, and then re-plans with one more NIC without moving anything.
#include <pciplan/pciplan.hpp>

#include <iostream>
#include <vector>

using namespace pciplan;

int main() {
  const std::vector<request> devices{
      {"net0", models::virtio_net{}},
      {"gpu0", models::vfio_pci{}, numa_node{1}},
      {"legacy0", models::e1000{}},  // conventional PCI: a bridge behind a root port
      {"scratch", models::virtio_blk{}, hotplug::not_needed},
  };
  const result<topology_plan> r = plan<machines::q35>(devices, {.spare_ports = 4});
  if (!r) {
    std::cerr << r.error() << '\n';
    return 1;
  }
  for (const placement& p : r->placements) std::cout << p.name << ' ' << p.guest_address << '\n';
  std::cout << "\ncontrollers added:\n";
  for (const controller& c : r->controllers) {
    if (!c.added || c.kind->is_root()) continue;
    std::cout << "  index " << c.index << ' ' << c.kind->model << " at " << c.libvirt_address;
    if (c.bus_nr >= 0) std::cout << " busNr " << c.bus_nr;
    if (c.numa_node >= 0) std::cout << " node " << c.numa_node;
    std::cout << '\n';
  }
  std::cout << '\n' << describe(*r, r->at("legacy0")) << '\n';

  // one more NIC later: everything placed before stays where it is
  std::vector<request> next = pinned(*r, devices);
  next.push_back({"net1", models::virtio_net{}});
  const result<topology_plan> again = plan<machines::q35>(next, {.spare_ports = 4}, r->controllers);
  if (!again) {
    std::cerr << again.error() << '\n';
    return 1;
  }
  for (std::size_t i = 0; i != devices.size(); ++i) {
    if (again->placements[i].guest_address != r->placements[i].guest_address) {
      std::cerr << devices[i].name << " moved\n";
      return 1;
    }
  }
  std::cout << "\nafter adding net1: " << again->at("net1").name << ' ' << again->at("net1").guest_address
            << ", nothing else moved\n";
  return 0;
}
