// expect: a slot uses a function above 0 but not function 0
// Function 1 of a slot without function 0: QEMU refuses it.
#include <pciplan/pciplan.hpp>
using namespace pciplan;
constexpr auto layout = make_fixed_layout<machines::pc>(place<models::virtio_net, "net">(on_root, at<3, 1>));
int main() {}
