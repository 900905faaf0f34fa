// expect: fixed_layout_error<[a-z0-9:]*layout_rule::the_controller_kind_is_not_available_on_the_machine_type, [a-z0-9:]*named<([a-z0-9:]*fixed_string<[0-9]+>{"pxb"}|'p', 'x', 'b')>, [a-z0-9:]*named<([a-z0-9:]*fixed_string<[0-9]+>{"root"}|'r', 'o', 'o', 't')>, [a-z0-9:]*pcie_expander_bus, [a-z0-9:]*pci_root>
// one error (g++)
// A pxb-pcie on pc: pc has a conventional PCI root and allows only the pxb.
#include <pciplan/pciplan.hpp>
using namespace pciplan;
[[maybe_unused]] constexpr auto layout =
    make_fixed_layout<machines::pc>(place<pcie_expander_bus, "pxb">(on_root, at<5>, bus_nr<0x40>));
int main() {}
