// expect: fixed_layout_error<[a-z0-9:]*layout_rule::slot_0_of_this_bridge_belongs_to_its_hotplug_controller, [a-z0-9:]*named<([a-z0-9:]*fixed_string<[0-9]+>{"nic"}|'n', 'i', 'c')>, [a-z0-9:]*named<([a-z0-9:]*fixed_string<[0-9]+>{"br"}|'b', 'r')>, [a-z0-9:]*e1000, [a-z0-9:]*pci_bridge>
// one error (g++)
// A device at slot 0 of a pci-bridge, which belongs to the SHPC.
#include <pciplan/pciplan.hpp>
using namespace pciplan;
[[maybe_unused]] constexpr auto layout = make_fixed_layout<machines::pc>(place<pci_bridge, "br">(on_root, at<3>),
                                                        place<models::e1000, "nic">(on<"br">, at<0>));
int main() {}
