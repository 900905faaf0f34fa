// expect: an expander's bus_nr is not above every bus number used before it
// A pxb-pcie whose bus_nr collides with the numbers the main hierarchy uses (SeaBIOS would leave it unprogrammed).
#include <pciplan/pciplan.hpp>
using namespace pciplan;
constexpr auto layout = make_fixed_layout<machines::q35>(place<pcie_root_port, "rp1">(on_root, at<1, 0>),
                                                         place<pcie_root_port, "rp2">(on_root, at<1, 1>),
                                                         place<pcie_expander_bus, "pxb">(on_root, at<5>, bus_nr<2>));
int main() {}
