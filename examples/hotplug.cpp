// A running guest: devices hot-added where QEMU takes them now, with the QMP commands that
// do it, a refusal that says why, a detach, and the address the next cold plan gives.
#include <pciplan/pciplan.hpp>

#include <array>
#include <iostream>
#include <string_view>
#include <vector>

int main() {
  using namespace pciplan;
  // the guest as it was started: one NIC, a GPU on NUMA node 1; one spare port on pcie.0
  // and (spare_ports_per_node, default 1) one on node 1's expander
  const std::vector<request> devices{{"net0", models::virtio_net{}}, {"gpu0", models::vfio_pci{}, numa_node{1}}};
  const plan_options options{.spare_ports = 1, .numa_nodes = 2};
  const result<topology_plan> started = plan<machines::q35>(devices, options);
  if (!started) {
    std::cerr << started.error() << '\n';
    return 1;
  }
  std::cout << tree(*started);

  // two devices while it runs: each takes a spare port, on its own node
  const std::array<request, 2> more{request{"net1", models::virtio_net{}},
                                    request{"nvme1", models::nvme{}, numa_node{1}}};
  const result<topology_plan> now = hot_add<machines::q35>(*started, more, options);
  if (!now) {
    std::cerr << now.error() << '\n';
    return 1;
  }
  for (const monitor_command& c : monitor_commands(*started, *now)) std::cout << c.qmp << '\n';

  // a third on node 1: no spare left there, and QEMU cannot hot-add a port
  const std::array<request, 1> third{request{"nvme2", models::nvme{}, numa_node{1}}};
  const result<topology_plan> refused = hot_add<machines::q35>(*now, third, options);
  std::cout << "refused: " << (refused ? std::string("no!") : describe(refused.error())) << '\n';

  // unplug net1; its port takes the next NIC, at the address a cold plan gives it
  const std::array<std::string_view, 1> gone{"net1"};
  const result<topology_plan> later = hot_remove(*now, gone);
  const std::array<request, 1> next{request{"net2", models::virtio_net{}}};
  const result<topology_plan> again = later.and_then([&](const topology_plan& p) {
    return hot_add<machines::q35>(p, next, options);
  });
  if (!later || !again) return 1;
  for (const monitor_command& c : monitor_commands(*now, *later)) std::cout << c.hmp << '\n';
  for (const monitor_command& c : monitor_commands(*later, *again)) std::cout << c.hmp << '\n';
  std::vector<request> definition = requests_of(*later);  // everything pinned where it is
  definition.push_back(next[0]);
  const result<topology_plan> cold = plan<machines::q35>(definition, options, later->controllers);
  if (!cold) return 1;
  std::cout << "net2 live " << again->at("net2").guest_address << ", cold " << cold->at("net2").guest_address
            << (again->at("net2").guest_address == cold->at("net2").guest_address ? ": the same\n" : ": DIFFERENT\n");
}
