// expect: fixed_layout_error<[a-z0-9:]*layout_rule::the_root_bus_is_implicit_and_must_not_be_placed, [a-z0-9:]*named<([a-z0-9:]*fixed_string<[0-9]+>{"root2"}|'r', 'o', 'o', 't', '2')>, [a-z0-9:]*named<([a-z0-9:]*fixed_string<[0-9]+>{"root"}|'r', 'o', 'o', 't')>, [a-z0-9:]*pcie_root, [a-z0-9:]*pcie_root>
// one error (g++)
// Declaring a second pcie-root.
#include <pciplan/pciplan.hpp>
using namespace pciplan;
[[maybe_unused]] constexpr auto layout = make_fixed_layout<machines::q35>(place<pcie_root, "root2">(on_root, at<3>));
int main() {}
