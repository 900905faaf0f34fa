// expect: the function must be 0 to 7 \(a PCI slot has 8 functions\)
// Function 8 does not exist: a slot has functions 0 to 7.
#include <pciplan/pciplan.hpp>
using namespace pciplan;
constexpr auto layout = make_fixed_layout<machines::pc>(place<models::e1000, "nic">(on_root, at<3, 8>));
int main() {}
