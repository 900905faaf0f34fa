// expect: the machine type itself occupies this root-bus slot and function
// A device on 00:1f.2, where q35 has its ICH9 SATA controller.
#include <pciplan/pciplan.hpp>
using namespace pciplan;
constexpr auto layout = make_fixed_layout<machines::q35>(place<models::virtio_net, "net">(on_root, at<0x1f, 2>));
int main() {}
