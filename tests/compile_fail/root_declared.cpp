// expect: a root bus is implicit in the machine type and must not be placed
// Declaring a second pcie-root.
#include <pciplan/pciplan.hpp>
using namespace pciplan;
constexpr auto layout = make_fixed_layout<machines::q35>(place<pcie_root, "root2">(on_root, at<3>));
int main() {}
