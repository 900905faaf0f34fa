// Compile cost of including the library: an empty program with <pciplan/pciplan.hpp>.
#include <pciplan/pciplan.hpp>

int main() { return 0; }
