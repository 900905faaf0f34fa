// Compile cost of including the libvirt adapter: an empty program with <pciplan/libvirt.hpp>.
#include <pciplan/libvirt.hpp>

int main() { return 0; }
