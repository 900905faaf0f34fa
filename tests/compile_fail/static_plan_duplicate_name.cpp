// expect: (pciplan::static_plan: the layout cannot be planned.*two requests have this name|two requests have this name.*pciplan::static_plan: the layout cannot be planned)
// Two devices named alike.
#include <pciplan/pciplan.hpp>
using namespace pciplan;
[[maybe_unused]] constexpr auto p = static_plan<machines::q35>(device<models::virtio_net>("net"), device<models::virtio_blk>("net"));
int main() {}
