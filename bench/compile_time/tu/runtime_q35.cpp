// Compile cost of the common run-time use: a daemon plans a 20-device q35 guest and prints
// the QEMU arguments.
#include <pciplan/pciplan.hpp>

#include <iostream>
#include <string>
#include <vector>

int main() {
  using namespace pciplan;
  std::vector<request> devices;
  std::vector<std::string> names;
  for (int i = 0; i != 20; ++i) names.push_back("dev" + std::to_string(i));
  for (int i = 0; i != 20; ++i) {
    if (i % 4 == 0) devices.push_back({names[i], models::virtio_blk{}});
    else if (i % 4 == 1) devices.push_back({names[i], models::e1000{}});
    else if (i % 4 == 2) devices.push_back({names[i], models::virtio_net{}, numa_node{1}});
    else devices.push_back({names[i], models::virtio_net{}, hotplug::not_needed});
  }
  const result<topology_plan> r = plan<machines::q35>(devices, {.numa_nodes = 2});
  if (!r) {
    std::cerr << r.error() << '\n';
    return 1;
  }
  for (const std::string& a : qemu_arguments(*r)) std::cout << a << '\n';
  return 0;
}
