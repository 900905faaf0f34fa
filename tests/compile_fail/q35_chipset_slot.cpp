// expect: fixed_layout_error<[a-z0-9:]*layout_rule::the_machine_type_itself_uses_this_root_bus_slot_and_function, [a-z0-9:]*named<([a-z0-9:]*fixed_string<[0-9]+>{"net"}|'n', 'e', 't')>, [a-z0-9:]*named<([a-z0-9:]*fixed_string<[0-9]+>{"root"}|'r', 'o', 'o', 't')>, [a-z0-9:]*virtio_net, [a-z0-9:]*pcie_root>
// one error (g++)
// A device on 00:1f.2, where q35 has its ICH9 SATA controller.
#include <pciplan/pciplan.hpp>
using namespace pciplan;
[[maybe_unused]] constexpr auto layout = make_fixed_layout<machines::q35>(place<models::virtio_net, "net">(on_root, at<0x1f, 2>));
int main() {}
