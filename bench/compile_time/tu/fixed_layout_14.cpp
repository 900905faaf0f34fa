// Compile cost of a fixed layout of 14 placements, checked at compile time.
#include <pciplan/pciplan.hpp>

using namespace pciplan;

constexpr auto appliance = make_fixed_layout<machines::q35>(
    place<pcie_root_port, "rp1">(on_root, at<1, 0>),
    place<pcie_root_port, "rp2">(on_root, at<1, 1>),
    place<pcie_root_port, "rp3">(on_root, at<1, 2>),
    place<pcie_root_port, "rp4">(on_root, at<1, 3>),
    place<models::virtio_net, "wan">(on<"rp1">),
    place<models::virtio_net, "lan">(on<"rp2">),
    place<models::virtio_blk, "disk">(on<"rp3">),
    place<pcie_to_pci_bridge, "legacy">(on<"rp4">),
    place<models::e1000, "old-nic">(on<"legacy">, at<1>),
    place<pcie_expander_bus, "numa1">(on_root, at<5>, bus_nr<0x40>),
    place<pcie_root_port, "numa1.rp1">(on<"numa1">, at<0>),
    place<pcie_root_port, "numa1.rp2">(on<"numa1">, at<1>),
    place<models::virtio_gpu, "gpu">(on<"numa1.rp1">),
    place<models::nvme, "nvme">(on<"numa1.rp2">));
static_assert(appliance.at("wan").guest_address == pci_address{0, 1, 0, 0});

int main() { return appliance.at("gpu").guest_address == pci_address{0, 0x41, 0, 0} ? 0 : 1; }
