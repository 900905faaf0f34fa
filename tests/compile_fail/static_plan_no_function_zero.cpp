// expect: ("audio".*has no function 0, without which guests do not find the others|has no function 0, without which guests do not find the others.*"audio")
// A multifunction group without function 0.
#include <pciplan/pciplan.hpp>
using namespace pciplan;
[[maybe_unused]] constexpr auto p = static_plan<machines::q35>(device<models::vfio_pci>("audio", multifunction_group{1, 1}));
int main() {}
