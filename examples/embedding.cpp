// pciplan embedded in a daemon: the machine comes from a string at run time, the plan of
// a 20-device guest is kept as JSON, and a later process (after a restart, say) reads it
// back and starts the guest from it — with nothing but the plan.
//
//   embedding plan q35 guest.json     plan the guest for machine q35 and keep the plan
//   embedding qemu guest.json         read the plan back and print its QEMU arguments
//
// The machine is any name `pciplan::machine_named` knows: q35, pc, pc-q35-7.2, virt,
// riscv64:virt, … Exit status: 0 done; 1 the guest cannot be planned on that machine;
// 2 usage error, an unknown machine, or a file that cannot be read or is not a plan.
#include <pciplan/json.hpp>

#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

/// The guest: 20 devices with mixed constraints. The names are built at run time and go
/// away when this function returns: the plan keeps its own copies.
pciplan::result<pciplan::topology_plan> plan_guest(pciplan::machine_id machine) {
  using namespace pciplan;
  std::vector<std::string> names;
  for (const char* n : {"net0", "net1", "net-numa1", "legacy-nic", "e1000e", "disk0", "scratch", "disk-numa1",
                        "scsi0", "nvme-numa1", "xhci", "serial", "mf-net", "mf-disk", "tenant-net", "tenant-disk",
                        "gpu", "mgmt-nic", "rng", "balloon"}) {
    names.emplace_back(n);
  }
  // device kinds by their QEMU names, as a configuration file would give them
  const auto kind = [](std::string_view qemu_device) { return *device_named(qemu_device); };
  const std::vector<request> devices{
      {names[0], kind("virtio-net-pci")},
      {names[1], kind("virtio-net-pci")},
      {names[2], kind("virtio-net-pci"), numa_node{1}},
      {names[3], kind("e1000")},                               // conventional PCI only
      {names[4], kind("e1000e"), link_need::pcie},
      {names[5], kind("virtio-blk-pci")},
      {names[6], kind("virtio-blk-pci"), hotplug::not_needed},  // may be an integrated endpoint
      {names[7], kind("virtio-blk-pci"), numa_node{1}},
      {names[8], kind("virtio-scsi-pci")},
      {names[9], kind("nvme"), numa_node{1}},
      {names[10], kind("qemu-xhci"), hotplug::not_needed},
      {names[11], kind("virtio-serial-pci"), hotplug::not_needed},
      {names[12], kind("virtio-net-pci"), multifunction_group{1, 0}},  // one slot, two functions
      {names[13], kind("virtio-blk-pci"), multifunction_group{1, 1}},
      {names[14], kind("virtio-net-pci"), isolation_group{2}},         // together, apart from the rest
      {names[15], kind("virtio-blk-pci"), isolation_group{2}},
      {names[16], kind("virtio-gpu-pci")},
      {names[17], kind("virtio-net-pci"), at_address{controller_address(0, 0, 0x10, 0)}},  // pinned
      {names[18], kind("virtio-rng-pci"), link_need::either},
      {names[19], kind("virtio-balloon-pci"), order_key{-1}},  // placed first
  };
  return plan(machine, devices, {.spare_ports = 2, .numa_nodes = 2});
}

int plan_command(std::string_view machine_name, const std::string& file) {
  const std::optional<pciplan::machine_id> machine = pciplan::machine_named(machine_name);
  if (!machine) {
    std::cerr << "embedding: '" << machine_name << "' is not a machine type pciplan knows\n";
    return 2;
  }
  const pciplan::result<pciplan::topology_plan> plan = plan_guest(*machine);
  if (!plan) {
    std::cerr << "embedding: " << plan.error() << '\n';
    return 1;
  }
  std::ofstream out(file, std::ios::binary);
  out << pciplan::to_json(*plan);
  out.close();
  if (!out) {
    std::cerr << "embedding: cannot write " << file << '\n';
    return 2;
  }
  std::cout << "planned " << plan->placements.size() << " devices and " << plan->added_count()
            << " controllers for " << plan->machine << " into " << file << '\n';
  return 0;
}

int qemu_command(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::cerr << "embedding: cannot read " << file << '\n';
    return 2;
  }
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  try {
    const pciplan::topology_plan plan = pciplan::from_json(text);
    for (const std::string& line : pciplan::qemu_numa_arguments(plan)) std::cout << line << '\n';
    for (const std::string& line : pciplan::qemu_arguments(plan)) std::cout << line << '\n';
  } catch (const pciplan::json_input_error& e) {
    std::cerr << "embedding: " << file << ": " << e.what() << '\n';
    return 2;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  if (args.size() == 3 && args[0] == "plan") return plan_command(args[1], std::string(args[2]));
  if (args.size() == 2 && args[0] == "qemu") return qemu_command(std::string(args[1]));
  std::cerr << "usage: embedding plan MACHINE PLAN.json\n       embedding qemu PLAN.json\n";
  return 2;
}
