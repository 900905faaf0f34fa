// tree.hpp: the lspci-like view of small plans, drawn exactly, on each machine kind.
#include <catch2/catch.hpp>

#include <pciplan/pciplan.hpp>

#include "../support/names.hpp"
#include "../support/planned.hpp"

#include <string>
#include <vector>

using namespace pciplan;

namespace {

using test_support::numbered;

using test_support::planned;

}  // namespace

TEST_CASE("emit.tree: the DESIGN.md guest on q35 (expander, root ports, bridge, integrated endpoint)",
          "[emit][tree]") {
  const std::vector<request> devices{{"net0", models::virtio_net{}},
                                     {"gpu0", models::vfio_pci{}, numa_node{1}},
                                     {"legacy0", models::e1000{}},
                                     {"scratch", models::virtio_blk{}, hotplug::not_needed}};
  const topology_plan p = planned<machines::q35>(devices, {.spare_ports = 1, .numa_nodes = 2});
  CHECK(tree(p) ==
        "-[0000:00]-  pcie.0 pcie-root\n"
        " +-01.0-[f8-fa]  pci.1 pxb-pcie numa_node=1\n"
        " |   +-00.0-[f9]  pci.3 pcie-root-port\n"
        " |   |   \\-00.0  gpu0 vfio-pci\n"
        " |   \\-00.1-[fa]  pci.7 pcie-root-port\n"
        " +-02.0-[01]  pci.2 pcie-root-port\n"
        " |   \\-00.0  net0 virtio-net-pci\n"
        " +-02.1-[02-03]  pci.4 pcie-root-port\n"
        " |   \\-00.0-[03]  pci.5 pcie-pci-bridge\n"
        " |       \\-01.0  legacy0 e1000\n"
        " +-02.2-[04]  pci.6 pcie-root-port\n"
        " \\-1e.0  scratch virtio-blk-pci\n");
}

TEST_CASE("emit.tree: a switch shows its bus range, and hotplug=off is marked", "[emit][tree]") {
  std::vector<controller> given{
      make_controller<pcie_switch_upstream_port>(1).at(controller_address(0, 2, 0, 0)),
      make_controller<pcie_root_port>(2).at(controller_address(0, 0, 5, 0)),
      make_controller<pcie_switch_downstream_port>(3).at(controller_address(0, 1, 0, 0)),
      make_controller<pcie_switch_downstream_port>(4).at(controller_address(0, 1, 1, 0)),
  };
  given[2].hotplug = toggle::off;
  const std::vector<request> devices{{"net0", models::virtio_net{}, on_bus{controller_index{3}}, hotplug::not_needed},
                                     {"net1", models::virtio_net{}, on_bus{controller_index{4}}}};
  const topology_plan p = planned<machines::q35>(devices, {.spare_ports = 1}, given);
  CHECK(tree(p) ==
        "-[0000:00]-  pcie.0 pcie-root\n"
        " +-01.0-[01]  pci.5 pcie-root-port\n"
        " \\-05.0-[02-05]  pci.2 pcie-root-port\n"
        "     \\-00.0-[03-05]  pci.1 x3130-upstream\n"
        "         +-00.0-[04]  pci.3 xio3130-downstream hotplug=off\n"
        "         |   \\-00.0  net0 virtio-net-pci\n"
        "         \\-01.0-[05]  pci.4 xio3130-downstream\n"
        "             \\-00.0  net1 virtio-net-pci\n");
}

TEST_CASE("emit.tree: pc with a pci-bridge and a pxb bound to a NUMA node", "[emit][tree]") {
  const auto names = numbered("nic", 31);
  std::vector<request> devices;
  for (const auto& n : names) devices.push_back({n, models::e1000{}});
  devices.push_back({"far", models::e1000{}, numa_node{1}});
  const topology_plan p = planned<machines::pc>(devices, {.spare_ports = 1, .numa_nodes = 2});
  const std::string t = tree(p);
  CHECK_THAT(t, Catch::StartsWith("-[0000:00]-  pci.0 pci-root\n"
                                  " +-02.0-[f8-fa]  pci.1 pxb numa_node=1\n"
                                  " |   \\-00.0-[fa]  pci.3 pci-bridge\n"
                                  " |       \\-01.0  far e1000\n"
                                  " +-03.0  nic0 e1000\n"));
  CHECK_THAT(t, Catch::EndsWith(" +-1e.0  nic27 e1000\n"
                                " \\-1f.0-[01]  pci.2 pci-bridge\n"
                                "     +-01.0  nic28 e1000\n"
                                "     +-02.0  nic29 e1000\n"
                                "     \\-03.0  nic30 e1000\n"));
}

TEST_CASE("emit.tree: pseries draws each PHB as its own PCI domain", "[emit][tree]") {
  const std::vector<request> devices{{"scsi0", models::virtio_scsi{}},
                                     {"net0", models::virtio_net{}, numa_node{1}},
                                     {"scsi1", models::virtio_scsi{}}};
  const topology_plan p = planned<machines::pseries>(devices, {.spare_ports = 0, .numa_nodes = 2});
  CHECK(tree(p) ==
        "-[0000:00]-  pci.0 spapr-pci-host-bridge index=0\n"
        " +-01.0  scsi0 virtio-scsi-pci\n"
        " \\-02.0  scsi1 virtio-scsi-pci\n"
        "-[0001:00]-  pci.1 spapr-pci-host-bridge index=1 numa_node=1\n"
        " \\-01.0  net0 virtio-net-pci\n");
}

TEST_CASE("emit.tree: virtio-mmio and ccw devices follow the PCI tree", "[emit][tree]") {
  SECTION("aarch64 virt") {
    const std::vector<request> devices{{"net0", models::virtio_net{}},
                                       {"disk0", models::virtio_blk{}, transport::mmio},
                                       {"net1", models::virtio_net{}, transport::mmio}};
    const topology_plan p = planned<machines::aarch64_virt>(devices, {.spare_ports = 0});
    CHECK(tree(p) ==
          "-[0000:00]-  pcie.0 pcie-root\n"
          " \\-01.0-[01]  pci.1 pcie-root-port\n"
          "     \\-00.0  net0 virtio-net-pci\n"
          "virtio-mmio:\n"
          "  virtio-mmio-bus.30  net1 virtio-net-device\n"
          "  virtio-mmio-bus.31  disk0 virtio-blk-device\n");
  }
  SECTION("s390x") {
    const std::vector<request> devices{{"net0", models::virtio_net{}}, {"disk0", models::virtio_blk{}}};
    const topology_plan p = planned<machines::s390x_ccw>(devices);
    CHECK(tree(p) ==
          "-[0000:00]-  pci.0 pci-root\n"
          "ccw:\n"
          "  fe.0.0000  net0 virtio-net-ccw\n"
          "  fe.0.0001  disk0 virtio-blk-ccw\n");
  }
}

TEST_CASE("emit.tree: a hand-made list with an unknown parent still shows every controller and device",
          "[emit][tree]") {
  topology_plan p;
  p.controllers.push_back(make_controller<pcie_root>(0));
  p.controllers.push_back(make_controller<pcie_root_port>(1).at(controller_address(0, 0, 3, 0)));
  p.controllers.push_back(make_controller<pcie_to_pci_bridge>(2).at(controller_address(0, 9, 0, 0)));  // no pci.9
  p.controllers[1].guest_bus = bus_number{1};
  p.controllers[2].guest_bus = bus_number{2};
  placement on_root;
  on_root.name = "x";
  on_root.guest_address = pci_address{0, 0, 4, 0};
  on_root.libvirt_address = controller_address(0, 0, 4, 0);
  placement lost = on_root;
  lost.name = "y";
  lost.guest_address = pci_address{0, 7, 1, 0};
  lost.libvirt_address = controller_address(0, 7, 1, 0);
  p.placements = {on_root, lost};
  // no requests: the device column is empty
  CHECK(tree(p) ==
        "-[0000:00]-  pcie.0 pcie-root\n"
        " +-03.0-[01]  pci.1 pcie-root-port\n"
        " \\-04.0  x\n"
        "not attached:\n"
        "  00.0-[02]  pci.2 pcie-pci-bridge\n"
        "  01.0  y\n");
}

TEST_CASE("emit.tree: the same plan always draws the same text", "[emit][tree]") {
  const auto names = numbered("dev", 60);
  std::vector<request> devices;
  for (std::size_t i = 0; i != names.size(); ++i) {
    if (i % 5 == 0) devices.push_back({names[i], models::e1000{}});
    else devices.push_back({names[i], models::virtio_net{}});
  }
  const topology_plan p = planned<machines::q35>(devices);
  const std::string t = tree(p);
  CHECK(t == tree(planned<machines::q35>(devices)));
  // one line per controller (the root's is the header) and per device
  std::size_t line_count = 0;
  for (char c : t) line_count += c == '\n' ? 1 : 0;
  CHECK(line_count == p.controllers.size() + devices.size());
  for (const auto& n : names) CHECK_THAT(t, Catch::Contains("  " + n + " "));
}
