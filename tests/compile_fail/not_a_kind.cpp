// expect: fixed_layout_error<[a-z0-9:]*layout_rule::the_kind_is_neither_a_controller_kind_nor_a_device_kind, [a-z0-9:]*named<([a-z0-9:]*fixed_string<[0-9]+>{"mine"}|'m', 'i', 'n', 'e')>, [a-z0-9:]*named<([a-z0-9:]*fixed_string<[0-9]+>{"root"}|'r', 'o', 'o', 't')>, [a-z0-9:]*my_device, [a-z0-9:]*pcie_root>
// one error (g++)
// Placing something that is neither a controller kind nor a device kind.
#include <pciplan/pciplan.hpp>
using namespace pciplan;
struct my_device {};  // forgot to specialise device_traits
[[maybe_unused]] constexpr auto layout = make_fixed_layout<machines::q35>(place<my_device, "mine">(on_root, at<3>));
int main() {}
