// expect: PCI address literal: expected \[domain:\]bus:slot.function in hexadecimal
// An address literal that is not an address.
#include <pciplan/pciplan.hpp>
using namespace pciplan;
using namespace pciplan::literals;
constexpr pci_address a = "00-1f-2"_pci;
int main() {}
