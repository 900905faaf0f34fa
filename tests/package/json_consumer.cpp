// An installed pciplan::json: a plan written with to_json and read back with from_json.
#include <pciplan/json.hpp>

#include <iostream>
#include <vector>

int main() {
  using namespace pciplan;
  const std::vector<request> devices{{"net0", models::virtio_net{}}, {"disk0", models::virtio_blk{}}};
  const result<topology_plan> p = plan<machines::q35>(devices);
  if (!p) return 1;
  const topology_plan back = from_json(to_json(*p));
  if (!(back == *p)) return 1;
  std::cout << qemu_arguments(back).back() << '\n';
  return 0;
}
