// An appliance whose PCI layout never changes, declared with pciplan's types and
// checked at compile time: a q35 guest with two NICs and a disk on root ports, an
// NVMe drive behind a PCIe switch, and a GPU on a NUMA expander bus.
//
// A mistake in the layout (a root port on a pci-bridge, slot 32, a duplicate address,
// a pxb-pcie on pc, …) stops compilation with a sentence that names it. The guest
// addresses below are the ones the firmware will assign (depth-first bus numbering).
// The program prints the layout and then the QEMU -device arguments that build it,
// made from the checked layout (to_plan, qemu_arguments): nothing is written by hand.
#include <pciplan/pciplan.hpp>

#include <iostream>
#include <string>

using namespace pciplan;

constexpr auto appliance = make_fixed_layout<machines::q35>(
    // three root ports packed into slot 1 of pcie.0 (function 0 becomes multifunction)
    place<pcie_root_port, "rp1">(on_root, at<1, 0>),
    place<pcie_root_port, "rp2">(on_root, at<1, 1>),
    place<pcie_root_port, "rp3">(on_root, at<1, 2>),
    place<pcie_root_port, "rp4">(on_root, at<1, 3>),
    place<models::virtio_net, "wan">(on<"rp1">),
    place<models::virtio_net, "lan">(on<"rp2">),
    place<models::virtio_blk, "disk">(on<"rp3">),
    // a switch: upstream port on a root port, two downstream ports
    place<pcie_switch_upstream_port, "sw">(on<"rp4">),
    place<pcie_switch_downstream_port, "sw.0">(on<"sw">, at<0>),
    place<pcie_switch_downstream_port, "sw.1">(on<"sw">, at<1>),
    place<models::nvme, "nvme0">(on<"sw.0">),
    // a NUMA expander bus starting at guest bus 0x40, with a root port for the GPU
    place<pcie_expander_bus, "numa1">(on_root, at<5>, bus_nr<0x40>),
    place<pcie_root_port, "numa1.rp">(on<"numa1">, at<0>),
    place<models::virtio_gpu, "gpu">(on<"numa1.rp">));

// Checked at compile time: the addresses the guest will see.
static_assert(appliance.at("wan").guest_address == pci_address{0, 1, 0, 0});
static_assert(appliance.at("lan").guest_address == pci_address{0, 2, 0, 0});
static_assert(appliance.at("nvme0").guest_address == pci_address{0, 6, 0, 0});
static_assert(appliance.at("gpu").guest_address == pci_address{0, 0x41, 0, 0});
static_assert(appliance.at("rp1").multifunction);
// … and the rules behind them, as concepts.
static_assert(PluggableInto<pcie_root_port, pcie_root>);
static_assert(!PluggableInto<pcie_root_port, pci_bridge>);
static_assert(SlotCompatible<models::nvme, pcie_switch_downstream_port, machines::q35>);

// The layout as a plan: chassis and port numbers given, every device where it was declared.
static_assert(to_plan(appliance).controllers.size() == 10);  // pcie.0 and the 9 declared
static_assert(to_plan(appliance).at("gpu").guest_address == appliance.at("gpu").guest_address);

int main() {
  std::cout << "pciplan appliance layout, checked at compile time:\n\n" << appliance;
  std::cout << "\nQEMU arguments:\n";
  for (const std::string& line : qemu_arguments(to_plan(appliance))) std::cout << line << '\n';
  return 0;
}
