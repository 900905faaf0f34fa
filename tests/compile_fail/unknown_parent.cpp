// expect: fixed_layout_error<[a-z0-9:]*layout_rule::the_parent_bus_is_declared_by_no_placement, [a-z0-9:]*named<([a-z0-9:]*fixed_string<[0-9]+>{"net"}|'n', 'e', 't')>, [a-z0-9:]*named<([a-z0-9:]*fixed_string<[0-9]+>{"rp_1"}|'r', 'p', '_', '1')>, [a-z0-9:]*virtio_net, [a-z0-9:]*undeclared_bus>
// one error (g++)
// A device on a bus nobody declared (a typo in the parent's name).
#include <pciplan/pciplan.hpp>
using namespace pciplan;
[[maybe_unused]] constexpr auto layout = make_fixed_layout<machines::q35>(place<pcie_root_port, "rp1">(on_root, at<1>),
                                                         place<models::virtio_net, "net">(on<"rp_1">));
int main() {}
