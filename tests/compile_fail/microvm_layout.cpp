// expect: fixed_layout_error<[a-z0-9:]*layout_rule::the_machine_type_has_no_pci_bus, [a-z0-9:]*named<([a-z0-9:]*fixed_string<[0-9]+>{"net"}|'n', 'e', 't')>, [a-z0-9:]*named<([a-z0-9:]*fixed_string<[0-9]+>{"root"}|'r', 'o', 'o', 't')>, [a-z0-9:]*virtio_net, [a-z0-9:]*no_pci_root>
// one error (g++)
// A PCI layout for microvm, which has no PCI.
#include <pciplan/pciplan.hpp>
using namespace pciplan;
[[maybe_unused]] constexpr auto layout = make_fixed_layout<machines::microvm>(place<models::virtio_net, "net">(on_root, at<1>));
int main() {}
