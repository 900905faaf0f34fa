// expect: fixed_layout_error<[a-z0-9:]*layout_rule::the_parent_bus_takes_no_endpoint_of_this_kind, [a-z0-9:]*named<([a-z0-9:]*fixed_string<[0-9]+>{"net"}|'n', 'e', 't')>, [a-z0-9:]*named<([a-z0-9:]*fixed_string<[0-9]+>{"up"}|'u', 'p')>, [a-z0-9:]*virtio_net, [a-z0-9:]*pcie_switch_upstream_port>
// one error (g++)
// A NIC straight on a switch upstream port, whose bus takes only downstream ports.
#include <pciplan/pciplan.hpp>
using namespace pciplan;
[[maybe_unused]] constexpr auto layout = make_fixed_layout<machines::q35>(place<pcie_root_port, "rp1">(on_root, at<1>),
                                                         place<pcie_switch_upstream_port, "up">(on<"rp1">),
                                                         place<models::virtio_net, "net">(on<"up">, at<0>));
int main() {}
