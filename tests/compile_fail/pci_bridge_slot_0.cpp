// expect: slot 0 of a pci-bridge or pcie-to-pci-bridge belongs to its hotplug controller \(SHPC\)
// A device at slot 0 of a pci-bridge, which belongs to the SHPC.
#include <pciplan/pciplan.hpp>
using namespace pciplan;
constexpr auto layout = make_fixed_layout<machines::pc>(place<pci_bridge, "br">(on_root, at<3>),
                                                        place<models::e1000, "nic">(on<"br">, at<0>));
int main() {}
