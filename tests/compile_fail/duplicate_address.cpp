// expect: two placements use the same slot and function of one bus.*'d', 'i', 's', 'k', '2'
// Two devices at the same slot and function of one bus.
#include <pciplan/pciplan.hpp>
using namespace pciplan;
constexpr auto layout = make_fixed_layout<machines::pc>(place<models::virtio_blk, "disk1">(on_root, at<4>),
                                                        place<models::virtio_blk, "disk2">(on_root, at<4>));
int main() {}
