// expect: the value of a result was read, but the result holds an error
// Reading the value of a failed parse in a constant expression.
#include <pciplan/pciplan.hpp>
using namespace pciplan;
constexpr pci_address a = parse_address("0000:00:1f.9").value();
int main() {}
