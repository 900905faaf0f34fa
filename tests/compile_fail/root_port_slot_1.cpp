// expect: the slot is outside the parent bus's usable slots
// A device at slot 1 behind a root port: a root port has one slot, slot 0.
#include <pciplan/pciplan.hpp>
using namespace pciplan;
constexpr auto layout = make_fixed_layout<machines::q35>(place<pcie_root_port, "rp1">(on_root, at<1>),
                                                         place<models::virtio_net, "net">(on<"rp1">, at<1>));
int main() {}
