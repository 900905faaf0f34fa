// expect: fixed_layout_error<[a-z0-9:]*layout_rule::the_slot_is_not_one_the_parent_bus_has, [a-z0-9:]*named<([a-z0-9:]*fixed_string<[0-9]+>{"lan"}|'l', 'a', 'n')>, [a-z0-9:]*named<([a-z0-9:]*fixed_string<[0-9]+>{"rp2"}|'r', 'p', '2')>, [a-z0-9:]*virtio_net, [a-z0-9:]*pcie_root_port>
// one error (g++)
// A realistic layout with one mistake (a NIC at slot 1 of a root port, which has slot 0
// only) and the program's later uses of it: the mistake is the one error, the uses add none.
#include <pciplan/pciplan.hpp>

#include <iostream>

using namespace pciplan;
constexpr auto appliance = make_fixed_layout<machines::q35>(
    place<pcie_root_port, "rp1">(on_root, at<1, 0>),
    place<pcie_root_port, "rp2">(on_root, at<1, 1>),
    place<pcie_root_port, "rp3">(on_root, at<1, 2>),
    place<models::virtio_net, "wan">(on<"rp1">),
    place<models::virtio_net, "lan">(on<"rp2">, at<1>),
    place<models::virtio_blk, "disk">(on<"rp3">),
    place<pcie_expander_bus, "numa1">(on_root, at<5>, bus_nr<0x40>),
    place<pcie_root_port, "numa1.rp">(on<"numa1">, at<0>),
    place<models::virtio_gpu, "gpu">(on<"numa1.rp">));
static_assert(appliance.at("wan").guest_address == pci_address{0, 1, 0, 0});
static_assert(appliance.at("gpu").guest_address == pci_address{0, 0x41, 0, 0});
static_assert(appliance.at("rp1").multifunction);
int main() {
  std::cout << appliance;
  for (const std::string& line : qemu_arguments(to_plan(appliance))) std::cout << line << '\n';
}
