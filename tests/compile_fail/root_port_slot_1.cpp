// expect: fixed_layout_error<[a-z0-9:]*layout_rule::the_slot_is_not_one_the_parent_bus_has, [a-z0-9:]*named<([a-z0-9:]*fixed_string<[0-9]+>{"net"}|'n', 'e', 't')>, [a-z0-9:]*named<([a-z0-9:]*fixed_string<[0-9]+>{"rp1"}|'r', 'p', '1')>, [a-z0-9:]*virtio_net, [a-z0-9:]*pcie_root_port>
// one error (g++)
// A device at slot 1 behind a root port: a root port has one slot, slot 0.
#include <pciplan/pciplan.hpp>
using namespace pciplan;
[[maybe_unused]] constexpr auto layout = make_fixed_layout<machines::q35>(place<pcie_root_port, "rp1">(on_root, at<1>),
                                                         place<models::virtio_net, "net">(on<"rp1">, at<1>));
int main() {}
