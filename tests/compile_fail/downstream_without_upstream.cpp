// expect: a controller is placed on a bus that does not accept its kind.*offending_placement<[a-z0-9:]*pcie_switch_downstream_port, [a-z0-9:]*pcie_root_port,
// A switch downstream port straight on a root port, without the upstream port.
#include <pciplan/pciplan.hpp>
using namespace pciplan;
constexpr auto layout = make_fixed_layout<machines::q35>(place<pcie_root_port, "rp1">(on_root, at<1>),
                                                         place<pcie_switch_downstream_port, "dp">(on<"rp1">));
int main() {}
