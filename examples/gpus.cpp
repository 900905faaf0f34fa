// Memory windows for large BARs: four passed-through GPUs with 64 GiB BARs on two NUMA
// nodes, and a spare hot-plug port on each node that can take one more such GPU. Prints
// the tree with every window, the QEMU arguments (the spare ports' reserves and the 64-bit
// hole) and where SeaBIOS puts the 64-bit windows.
#include <pciplan/pciplan.hpp>

#include <iostream>
#include <string>
#include <vector>

int main() {
  using namespace pciplan;
  using namespace pciplan::literals;
  // what the host's GPUs decode (lspci -vv on the host): registers, the 64 GiB frame buffer, a 32 MiB aperture
  const device_bars gpu = device_bars{}.mem32(16_MiB).pref64(64_GiB).pref64(32_MiB);
  const std::vector<request> devices{
      {"gpu0", models::vfio_pci{}, numa_node{0}, gpu}, {"gpu1", models::vfio_pci{}, numa_node{0}, gpu},
      {"gpu2", models::vfio_pci{}, numa_node{1}, gpu}, {"gpu3", models::vfio_pci{}, numa_node{1}, gpu},
      {"net0", models::virtio_net{}}};
  const guest_memory memory{.ram = 64_GiB};
  const plan_options options{.spare_ports = 0,          // none on pcie.0 …
                             .numa_nodes = 2,           // … one on each node (spare_ports_per_node)
                             .hotplug_budget = gpu,     // each spare can take one more GPU
                             .memory = memory};
  const result<topology_plan> r = plan<machines::q35>(devices, options);
  if (!r) {
    std::cerr << r.error() << '\n';
    return 1;
  }
  std::cout << tree(*r, tree_options{.windows = true}) << '\n';
  for (const std::string& line : qemu_numa_arguments(*r, "64G")) std::cout << line << '\n';
  for (const std::string& line : qemu_memory_arguments(*r, memory)) std::cout << line << '\n';
  for (const std::string& line : qemu_arguments(*r)) std::cout << line << '\n';

  const memory_layout m = memory_windows(*r, memory);
  const auto gib = [](std::uint64_t bytes) { return std::to_string(bytes >> 30) + " GiB"; };
  std::cout << "\nSeaBIOS places the 64-bit windows from " << gib(m.pref64_base) << " to " << gib(m.end64)
            << "; the 64-bit hole needs " << gib(m.hole64_needed) << " (QEMU's default: 32 GiB)\n";
  for (const warning& w : r->warnings) std::cout << "warning: " << w.text << '\n';
  return m.fits() ? 0 : 1;
}
