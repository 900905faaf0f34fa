// expect: fixed_layout_error<[a-z0-9:]*layout_rule::the_bus_nr_is_not_above_every_bus_number_used_before_it, [a-z0-9:]*named<([a-z0-9:]*fixed_string<[0-9]+>{"pxb"}|'p', 'x', 'b')>, [a-z0-9:]*named<([a-z0-9:]*fixed_string<[0-9]+>{"root"}|'r', 'o', 'o', 't')>, [a-z0-9:]*pcie_expander_bus, [a-z0-9:]*pcie_root>
// one error (g++)
// A pxb-pcie whose bus_nr collides with the numbers the main hierarchy uses (SeaBIOS would leave it unprogrammed).
#include <pciplan/pciplan.hpp>
using namespace pciplan;
[[maybe_unused]] constexpr auto layout = make_fixed_layout<machines::q35>(place<pcie_root_port, "rp1">(on_root, at<1, 0>),
                                                         place<pcie_root_port, "rp2">(on_root, at<1, 1>),
                                                         place<pcie_expander_bus, "pxb">(on_root, at<5>, bus_nr<2>));
int main() {}
