// expect: a PCI slot must be 0x00 to 0x1f \(32 slots per bus\)
// A pci_address constant with slot 32.
#include <pciplan/pciplan.hpp>
using namespace pciplan;
constexpr pci_address a{0, 0, 32, 0};
int main() {}
