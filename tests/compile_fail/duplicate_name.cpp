// expect: fixed_layout_error<[a-z0-9:]*layout_rule::two_placements_have_this_name_or_it_is_the_root_bus_name, [a-z0-9:]*named<([a-z0-9:]*fixed_string<[0-9]+>{"rp"}|'r', 'p')>, [a-z0-9:]*named<([a-z0-9:]*fixed_string<[0-9]+>{"root"}|'r', 'o', 'o', 't')>, [a-z0-9:]*pcie_root_port, [a-z0-9:]*pcie_root>
// one error (g++)
// Two placements with one name.
#include <pciplan/pciplan.hpp>
using namespace pciplan;
[[maybe_unused]] constexpr auto layout = make_fixed_layout<machines::q35>(place<pcie_root_port, "rp">(on_root, at<1, 0>),
                                                         place<pcie_root_port, "rp">(on_root, at<2, 0>));
int main() {}
