// expect: a placement names a parent bus that no placement declares.*'n', 'e', 't'>
// A device on a bus nobody declared (a typo in the parent's name).
#include <pciplan/pciplan.hpp>
using namespace pciplan;
constexpr auto layout = make_fixed_layout<machines::q35>(place<pcie_root_port, "rp1">(on_root, at<1>),
                                                         place<models::virtio_net, "net">(on<"rp_1">));
int main() {}
