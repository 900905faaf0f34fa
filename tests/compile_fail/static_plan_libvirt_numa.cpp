// expect: ("gpu".*libvirt does not place devices by NUMA node|libvirt does not place devices by NUMA node.*"gpu")
// A NUMA node under the libvirt policy, which has no NUMA placement (RULES.md L4.9).
#include <pciplan/pciplan.hpp>
using namespace pciplan;
[[maybe_unused]] constexpr auto p = static_plan<machines::q35, policies::libvirt>(device<models::vfio_pci>("gpu", numa_node{0}));
int main() {}
