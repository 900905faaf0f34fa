// expect: PCI address literal: the slot must be 0x00 to 0x1f
// An address literal with slot 0x20.
#include <pciplan/pciplan.hpp>
using namespace pciplan;
using namespace pciplan::literals;
constexpr pci_address a = "0000:00:20.0"_pci;
int main() {}
