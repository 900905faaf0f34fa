// expect: two placements have the same name
// Two placements with one name.
#include <pciplan/pciplan.hpp>
using namespace pciplan;
constexpr auto layout = make_fixed_layout<machines::q35>(place<pcie_root_port, "rp">(on_root, at<1, 0>),
                                                         place<pcie_root_port, "rp">(on_root, at<2, 0>));
int main() {}
