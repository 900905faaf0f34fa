// expect: fixed_layout_error<[a-z0-9:]*layout_rule::an_expander_bus_needs_its_first_bus_number, [a-z0-9:]*named<([a-z0-9:]*fixed_string<[0-9]+>{"pxb"}|'p', 'x', 'b')>, [a-z0-9:]*named<([a-z0-9:]*fixed_string<[0-9]+>{"root"}|'r', 'o', 'o', 't')>, [a-z0-9:]*pcie_expander_bus, [a-z0-9:]*pcie_root>
// one error (g++)
// A pxb-pcie without bus_nr.
#include <pciplan/pciplan.hpp>
using namespace pciplan;
[[maybe_unused]] constexpr auto layout = make_fixed_layout<machines::q35>(place<pcie_expander_bus, "pxb">(on_root, at<5>));
int main() {}
