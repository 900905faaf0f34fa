// expect: a controller is placed on a bus that does not accept its kind.*offending_placement<[a-z0-9:]*pcie_root_port, [a-z0-9:]*pci_bridge, 'r', 'p', '1'>
// A pcie-root-port on a pci-bridge: root ports plug only into pcie-root or a pxb-pcie.
#include <pciplan/pciplan.hpp>
using namespace pciplan;
constexpr auto layout = make_fixed_layout<machines::q35>(place<dmi_to_pci_bridge, "dmi">(on_root, at<0x1e>),
                                                         place<pci_bridge, "br">(on<"dmi">, at<1>),
                                                         place<pcie_root_port, "rp1">(on<"br">, at<2>));
int main() {}
