// expect: fixed_layout_error<[a-z0-9:]*layout_rule::the_parent_bus_does_not_take_this_controller_kind, [a-z0-9:]*named<([a-z0-9:]*fixed_string<[0-9]+>{"rp1"}|'r', 'p', '1')>, [a-z0-9:]*named<([a-z0-9:]*fixed_string<[0-9]+>{"br"}|'b', 'r')>, [a-z0-9:]*pcie_root_port, [a-z0-9:]*pci_bridge>
// one error (g++)
// A pcie-root-port on a pci-bridge: root ports plug only into pcie-root or a pxb-pcie.
#include <pciplan/pciplan.hpp>
using namespace pciplan;
[[maybe_unused]] constexpr auto layout = make_fixed_layout<machines::q35>(place<dmi_to_pci_bridge, "dmi">(on_root, at<0x1e>),
                                                         place<pci_bridge, "br">(on<"dmi">, at<1>),
                                                         place<pcie_root_port, "rp1">(on<"br">, at<2>));
int main() {}
