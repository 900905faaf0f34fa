// expect: ("net".*two requests have this name|two requests have this name.*"net")
// Two devices named alike.
#include <pciplan/pciplan.hpp>
using namespace pciplan;
[[maybe_unused]] constexpr auto p = static_plan<machines::q35>(device<models::virtio_net>("net"), device<models::virtio_blk>("net"));
int main() {}
