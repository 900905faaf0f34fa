// expect: Kind is neither a controller kind nor a device kind
// Placing something that is neither a controller kind nor a device kind.
#include <pciplan/pciplan.hpp>
using namespace pciplan;
struct my_device {};  // forgot to specialise device_traits
constexpr auto layout = make_fixed_layout<machines::q35>(place<my_device, "mine">(on_root, at<3>));
int main() {}
