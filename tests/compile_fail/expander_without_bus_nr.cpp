// expect: an expander bus \(pxb, pxb-pcie\) needs its first bus number: add bus_nr<N>
// A pxb-pcie without bus_nr.
#include <pciplan/pciplan.hpp>
using namespace pciplan;
constexpr auto layout = make_fixed_layout<machines::q35>(place<pcie_expander_bus, "pxb">(on_root, at<5>));
int main() {}
