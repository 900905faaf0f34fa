// expect: ("nic".*needs PCI, but the machine type has no PCI buses|needs PCI, but the machine type has no PCI buses.*"nic")
// A conventional PCI NIC on microvm.
#include <pciplan/pciplan.hpp>
using namespace pciplan;
[[maybe_unused]] constexpr auto p = static_plan<machines::microvm>(device<models::e1000>("nic"));
int main() {}
