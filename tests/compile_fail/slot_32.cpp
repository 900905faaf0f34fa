// expect: fixed_layout_error<[a-z0-9:]*layout_rule::the_slot_must_be_0_to_31, [a-z0-9:]*named<([a-z0-9:]*fixed_string<[0-9]+>{"nic"}|'n', 'i', 'c')>, [a-z0-9:]*named<([a-z0-9:]*fixed_string<[0-9]+>{"root"}|'r', 'o', 'o', 't')>, [a-z0-9:]*e1000, [a-z0-9:]*pci_root>
// one error (g++)
// Slot 32 does not exist: a bus has slots 0 to 31.
#include <pciplan/pciplan.hpp>
using namespace pciplan;
[[maybe_unused]] constexpr auto layout = make_fixed_layout<machines::pc>(place<models::e1000, "nic">(on_root, at<32>));
int main() {}
