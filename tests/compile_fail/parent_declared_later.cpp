// expect: a placement names a parent bus that is declared after it
// A device declared before the root port it sits on.
#include <pciplan/pciplan.hpp>
using namespace pciplan;
constexpr auto layout = make_fixed_layout<machines::q35>(place<models::virtio_net, "net">(on<"rp1">),
                                                         place<pcie_root_port, "rp1">(on_root, at<1>));
int main() {}
