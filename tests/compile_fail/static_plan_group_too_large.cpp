// expect: ("v8".*is in a group of more than 8 devices|is in a group of more than 8 devices.*"v8")
// Nine devices in one isolation group: one slot holds 8 functions.
#include <pciplan/pciplan.hpp>
using namespace pciplan;
[[maybe_unused]] constexpr auto p = static_plan<machines::q35>(
    device<models::vfio_pci>("v0", isolation_group{1}), device<models::vfio_pci>("v1", isolation_group{1}),
    device<models::vfio_pci>("v2", isolation_group{1}), device<models::vfio_pci>("v3", isolation_group{1}),
    device<models::vfio_pci>("v4", isolation_group{1}), device<models::vfio_pci>("v5", isolation_group{1}),
    device<models::vfio_pci>("v6", isolation_group{1}), device<models::vfio_pci>("v7", isolation_group{1}),
    device<models::vfio_pci>("v8", isolation_group{1}));
int main() {}
