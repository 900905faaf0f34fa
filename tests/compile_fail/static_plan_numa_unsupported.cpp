// expect: ("gpu".*belongs to a NUMA node, but the machine type has no expander bus|belongs to a NUMA node, but the machine type has no expander bus.*"gpu")
// A NUMA node on RISC-V virt, which has no expander bus (RULES.md L2.1).
#include <pciplan/pciplan.hpp>
using namespace pciplan;
[[maybe_unused]] constexpr auto p = static_plan<machines::riscv64_virt>(device<models::vfio_pci>("gpu", numa_node{1}));
int main() {}
