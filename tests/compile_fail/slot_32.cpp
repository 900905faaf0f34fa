// expect: the slot must be 0 to 31 \(a PCI bus has 32 slots\)
// Slot 32 does not exist: a bus has slots 0 to 31.
#include <pciplan/pciplan.hpp>
using namespace pciplan;
constexpr auto layout = make_fixed_layout<machines::pc>(place<models::e1000, "nic">(on_root, at<32>));
int main() {}
