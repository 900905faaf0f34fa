// expect: (pciplan::static_plan: the layout cannot be planned.*has an address on a bus .controller index. that does not exist|has an address on a bus .controller index. that does not exist.*pciplan::static_plan: the layout cannot be planned)
// A device pinned to a bus nobody provides (the pciplan policy does not invent buses).
#include <pciplan/pciplan.hpp>
using namespace pciplan;
[[maybe_unused]] constexpr auto p = static_plan<machines::q35>(device<models::virtio_net>("net", at_address{{0, 4, 0, 0}}));
int main() {}
