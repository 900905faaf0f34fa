// expect: ("net".*has an address on a bus .controller index. that does not exist|has an address on a bus .controller index. that does not exist.*"net")
// A device pinned to slot 0 of a bus nobody provides: the one controller the pciplan
// policy would add there on pc, a pci-bridge, has no slot 0 (RULES.md L4.3).
#include <pciplan/pciplan.hpp>
using namespace pciplan;
[[maybe_unused]] constexpr auto p = static_plan<machines::pc>(device<models::virtio_net>("net", at_address{{0, 4, 0, 0}}));
int main() {}
