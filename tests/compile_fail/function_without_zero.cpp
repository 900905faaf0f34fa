// expect: fixed_layout_error<[a-z0-9:]*layout_rule::the_slot_uses_a_function_above_0_but_not_function_0, [a-z0-9:]*named<([a-z0-9:]*fixed_string<[0-9]+>{"net"}|'n', 'e', 't')>, [a-z0-9:]*named<([a-z0-9:]*fixed_string<[0-9]+>{"root"}|'r', 'o', 'o', 't')>, [a-z0-9:]*virtio_net, [a-z0-9:]*pci_root>
// one error (g++)
// Function 1 of a slot without function 0: QEMU refuses it.
#include <pciplan/pciplan.hpp>
using namespace pciplan;
[[maybe_unused]] constexpr auto layout = make_fixed_layout<machines::pc>(place<models::virtio_net, "net">(on_root, at<3, 1>));
int main() {}
