// expect: ("nic".*asks for a PCI Express slot, but the device is conventional PCI only|asks for a PCI Express slot, but the device is conventional PCI only.*"nic")
// A conventional PCI device asked onto PCI Express.
#include <pciplan/pciplan.hpp>
using namespace pciplan;
[[maybe_unused]] constexpr auto p = static_plan<machines::q35>(device<models::e1000>("nic", link_need::pcie));
int main() {}
