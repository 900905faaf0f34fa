// expect: a device is placed on a bus that takes no endpoints of its kind
// A NIC straight on a switch upstream port, whose bus takes only downstream ports.
#include <pciplan/pciplan.hpp>
using namespace pciplan;
constexpr auto layout = make_fixed_layout<machines::q35>(place<pcie_root_port, "rp1">(on_root, at<1>),
                                                         place<pcie_switch_upstream_port, "up">(on<"rp1">),
                                                         place<models::virtio_net, "net">(on<"up">, at<0>));
int main() {}
