// expect: this controller kind is not available on the machine type.*offending_placement<[a-z0-9:]*pcie_expander_bus, [a-z0-9:]*pci_root,
// A pxb-pcie on pc: pc has a conventional PCI root and allows only the pxb.
#include <pciplan/pciplan.hpp>
using namespace pciplan;
constexpr auto layout =
    make_fixed_layout<machines::pc>(place<pcie_expander_bus, "pxb">(on_root, at<5>, bus_nr<0x40>));
int main() {}
