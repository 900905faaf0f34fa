// expect: fixed_layout_error<[a-z0-9:]*layout_rule::another_placement_uses_this_slot_and_function_of_the_bus, [a-z0-9:]*named<([a-z0-9:]*fixed_string<[0-9]+>{"disk2"}|'d', 'i', 's', 'k', '2')>, [a-z0-9:]*named<([a-z0-9:]*fixed_string<[0-9]+>{"root"}|'r', 'o', 'o', 't')>, [a-z0-9:]*virtio_blk, [a-z0-9:]*pci_root>
// one error (g++)
// Two devices at the same slot and function of one bus.
#include <pciplan/pciplan.hpp>
using namespace pciplan;
[[maybe_unused]] constexpr auto layout = make_fixed_layout<machines::pc>(place<models::virtio_blk, "disk1">(on_root, at<4>),
                                                        place<models::virtio_blk, "disk2">(on_root, at<4>));
int main() {}
