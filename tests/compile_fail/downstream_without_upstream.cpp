// expect: fixed_layout_error<[a-z0-9:]*layout_rule::the_parent_bus_does_not_take_this_controller_kind, [a-z0-9:]*named<([a-z0-9:]*fixed_string<[0-9]+>{"dp"}|'d', 'p')>, [a-z0-9:]*named<([a-z0-9:]*fixed_string<[0-9]+>{"rp1"}|'r', 'p', '1')>, [a-z0-9:]*pcie_switch_downstream_port, [a-z0-9:]*pcie_root_port>
// one error (g++)
// A switch downstream port straight on a root port, without the upstream port.
#include <pciplan/pciplan.hpp>
using namespace pciplan;
[[maybe_unused]] constexpr auto layout = make_fixed_layout<machines::q35>(place<pcie_root_port, "rp1">(on_root, at<1>),
                                                         place<pcie_switch_downstream_port, "dp">(on<"rp1">));
int main() {}
