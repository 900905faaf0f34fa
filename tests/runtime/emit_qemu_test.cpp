// qemu.hpp: the -device arguments of small plans, line by line, on each machine kind;
// the order QEMU needs (a parent before its child); both syntaxes. Every layout here
// was also started in QEMU 7.2 with shared/tools/qemu-check during development.
#include <catch2/catch.hpp>

#include <pciplan/pciplan.hpp>

#include "../support/names.hpp"
#include "../support/planned.hpp"

#include <algorithm>
#include <string>
#include <vector>

using namespace pciplan;

namespace {

using test_support::numbered;

using test_support::planned;

using lines = std::vector<std::string>;

bool has_line(const lines& all, const std::string& line) {
  return std::find(all.begin(), all.end(), line) != all.end();
}

}  // namespace

TEST_CASE("emit.qemu: q35 root ports with io-reserve=0, a spare, integrated endpoints packed as functions",
          "[emit][qemu]") {
  const std::vector<request> devices{{"net0", models::virtio_net{}},
                                     {"net1", models::virtio_net{}},
                                     {"blk0", models::virtio_blk{}, hotplug::not_needed},
                                     {"blk1", models::virtio_blk{}, hotplug::not_needed}};
  const topology_plan p = planned<machines::q35>(devices, {.spare_ports = 1});
  CHECK(qemu_arguments(p) ==
        lines{
            "-device pcie-root-port,port=0x8,chassis=1,id=pci.1,io-reserve=0,bus=pcie.0,multifunction=on,addr=0x1",
            "-device pcie-root-port,port=0x9,chassis=2,id=pci.2,io-reserve=0,bus=pcie.0,addr=0x1.0x1",
            "-device pcie-root-port,port=0xa,chassis=3,id=pci.3,bus=pcie.0,addr=0x1.0x2",
            "-device virtio-net-pci,id=net0,bus=pci.1,addr=0x0",
            "-device virtio-net-pci,id=net1,bus=pci.2,addr=0x0",
            "-device virtio-blk-pci,id=blk0,bus=pcie.0,multifunction=on,addr=0x1e",
            "-device virtio-blk-pci,id=blk1,bus=pcie.0,addr=0x1e.0x1",
        });
}

TEST_CASE("emit.qemu: the same plan in JSON syntax: numbers, booleans, strings", "[emit][qemu]") {
  const std::vector<request> devices{{"net0", models::virtio_net{}},
                                     {"blk0", models::virtio_blk{}, hotplug::not_needed},
                                     {"blk1", models::virtio_blk{}, hotplug::not_needed}};
  const topology_plan p = planned<machines::q35>(devices, {.spare_ports = 1});
  CHECK(qemu_arguments(p, {.syntax = qemu_syntax::json}) ==
        lines{
            R"(-device {"driver":"pcie-root-port","port":8,"chassis":1,"id":"pci.1","io-reserve":0,"bus":"pcie.0","multifunction":true,"addr":"0x1"})",
            R"(-device {"driver":"pcie-root-port","port":9,"chassis":2,"id":"pci.2","bus":"pcie.0","addr":"0x1.0x1"})",
            R"(-device {"driver":"virtio-net-pci","id":"net0","bus":"pci.1","addr":"0x0"})",
            R"(-device {"driver":"virtio-blk-pci","id":"blk0","bus":"pcie.0","multifunction":true,"addr":"0x1e"})",
            R"(-device {"driver":"virtio-blk-pci","id":"blk1","bus":"pcie.0","addr":"0x1e.0x1"})",
        });
}

TEST_CASE("emit.qemu: a switch on the last root-port function of q35 (246 NICs, pciplan policy)", "[emit][qemu]") {
  const auto names = numbered("net", 246);
  std::vector<request> devices;
  for (const auto& n : names) devices.push_back({n, models::virtio_net{}});
  const topology_plan p = planned<machines::q35>(devices, {.spare_ports = 0});
  const lines args = qemu_arguments(p);
  REQUIRE(args.size() == 248 + 246);
  CHECK(args[0] == "-device pcie-root-port,port=0x8,chassis=1,id=pci.1,io-reserve=0,bus=pcie.0,multifunction=on,addr=0x1");
  CHECK(args[239] == "-device pcie-root-port,port=0xf7,chassis=240,id=pci.240,bus=pcie.0,addr=0x1e.0x7");
  CHECK(args[240] == "-device x3130-upstream,id=pci.241,bus=pci.240,addr=0x0");
  CHECK(args[241] == "-device xio3130-downstream,port=0x0,chassis=242,id=pci.242,bus=pci.241,addr=0x0");
  CHECK(args[247] == "-device xio3130-downstream,port=0x6,chassis=248,id=pci.248,bus=pci.241,addr=0x6");
  CHECK(args[248] == "-device virtio-net-pci,id=net0,bus=pci.1,addr=0x0");
  CHECK(args.back() == "-device virtio-net-pci,id=net245,bus=pci.248,addr=0x0");
}

TEST_CASE("emit.qemu: pc grows a pci-bridge with chassis_nr in the last root slot", "[emit][qemu]") {
  const auto names = numbered("nic", 32);
  std::vector<request> devices;
  for (const auto& n : names) devices.push_back({n, models::e1000{}});
  const topology_plan p = planned<machines::pc>(devices, {.spare_ports = 1});
  const lines args = qemu_arguments(p);
  CHECK(args.front() == "-device pci-bridge,chassis_nr=1,id=pci.1,bus=pci.0,addr=0x1f");
  CHECK(has_line(args, "-device e1000,id=nic0,bus=pci.0,addr=0x2"));
  CHECK(has_line(args, "-device e1000,id=nic28,bus=pci.0,addr=0x1e"));
  CHECK(has_line(args, "-device e1000,id=nic29,bus=pci.1,addr=0x1"));
  CHECK(args.back() == "-device e1000,id=nic31,bus=pci.1,addr=0x3");
}

TEST_CASE("emit.qemu: a pxb-pcie bound to a NUMA node, and the NUMA arguments QEMU needs for it", "[emit][qemu]") {
  const std::vector<request> devices{{"net0", models::virtio_net{}}, {"gpu0", models::vfio_pci{}, numa_node{1}}};
  const topology_plan p = planned<machines::q35>(devices, {.spare_ports = 0, .numa_nodes = 2});
  CHECK(qemu_arguments(p) ==
        lines{
            "-device pxb-pcie,bus_nr=248,id=pci.1,numa_node=1,bus=pcie.0,addr=0x1",
            "-device pcie-root-port,port=0x10,chassis=2,id=pci.2,io-reserve=0,bus=pcie.0,addr=0x2",
            "-device pcie-root-port,port=0x0,chassis=3,id=pci.3,io-reserve=0,bus=pci.1,multifunction=on,addr=0x0",
            // node 1's spare port (spare_ports_per_node = 1): it keeps its 4 KiB of I/O for any device
            "-device pcie-root-port,port=0x1,chassis=4,id=pci.4,bus=pci.1,addr=0x0.0x1",
            "-device virtio-net-pci,id=net0,bus=pci.2,addr=0x0",
            "-device vfio-pci,id=gpu0,bus=pci.3,addr=0x0",
        });
  // QEMU 7.2 refuses NUMA nodes without memory: node 0 owns the RAM.
  CHECK(qemu_numa_arguments(2) == lines{"-object memory-backend-ram,id=ram-node0,size=128M",
                                        "-numa node,nodeid=0,memdev=ram-node0", "-numa node,nodeid=1"});
  CHECK(qemu_numa_arguments(3, "4G") == lines{"-object memory-backend-ram,id=ram-node0,size=4G",
                                              "-numa node,nodeid=0,memdev=ram-node0", "-numa node,nodeid=1",
                                              "-numa node,nodeid=2"});
  CHECK(qemu_numa_arguments(0).empty());
}

TEST_CASE("emit.qemu: pc pxb with numa_node (devices land behind its internal bridge)", "[emit][qemu]") {
  // a hot-pluggable device behind a pci-bridge on the pxb (QEMU refuses hotplug on the
  // pxb's own bus); one that needs no hotplug on the pxb
  const std::vector<request> devices{{"nic0", models::e1000{}, numa_node{1}},
                                     {"nic1", models::e1000{}, numa_node{1}, hotplug::not_needed}};
  const topology_plan p = planned<machines::pc>(devices, {.spare_ports = 0, .numa_nodes = 2});
  CHECK(qemu_arguments(p) == lines{"-device pxb,bus_nr=248,id=pci.1,numa_node=1,bus=pci.0,addr=0x2",
                                            "-device pci-bridge,chassis_nr=2,id=pci.2,bus=pci.1,addr=0x0",
                                            "-device e1000,id=nic0,bus=pci.2,addr=0x1",
                                            "-device e1000,id=nic1,bus=pci.1,addr=0x1"});
}

TEST_CASE("emit.qemu: aarch64 virt with virtio-mmio transports", "[emit][qemu]") {
  const std::vector<request> devices{{"net0", models::virtio_net{}},
                                     {"disk0", models::virtio_blk{}, transport::mmio},
                                     {"net1", models::virtio_net{}, transport::mmio}};
  const topology_plan p = planned<machines::aarch64_virt>(devices, {.spare_ports = 1});
  CHECK(qemu_arguments(p) ==
        lines{
            "-device pcie-root-port,port=0x8,chassis=1,id=pci.1,bus=pcie.0,multifunction=on,addr=0x1",
            "-device pcie-root-port,port=0x9,chassis=2,id=pci.2,bus=pcie.0,addr=0x1.0x1",
            "-device virtio-net-pci,id=net0,bus=pci.1,addr=0x0",
            "-device virtio-blk-device,id=disk0,bus=virtio-mmio-bus.31",
            "-device virtio-net-device,id=net1,bus=virtio-mmio-bus.30",
        });
  CHECK(qemu_arguments(p, {.syntax = qemu_syntax::json})[3] ==
        R"(-device {"driver":"virtio-blk-device","id":"disk0","bus":"virtio-mmio-bus.31"})");
}

TEST_CASE("emit.qemu: pseries with two PHBs: the second one is a -device, its bus is pci.N.0", "[emit][qemu]") {
  SECTION("pciplan policy: a PHB for a NUMA node") {
    const std::vector<request> devices{{"scsi0", models::virtio_scsi{}}, {"net0", models::virtio_net{}, numa_node{1}}};
    const topology_plan p = planned<machines::pseries>(devices, {.spare_ports = 0, .numa_nodes = 2});
    CHECK(qemu_arguments(p) == lines{"-device spapr-pci-host-bridge,index=1,id=pci.1,numa_node=1",
                                              "-device virtio-scsi-pci,id=scsi0,bus=pci.0,addr=0x1",
                                              "-device virtio-net-pci,id=net0,bus=pci.1.0,addr=0x1"});
    CHECK(qemu_arguments(p, {.syntax = qemu_syntax::json})[0] ==
          R"(-device {"driver":"spapr-pci-host-bridge","index":1,"id":"pci.1","numa_node":1})");
  }
  SECTION("libvirt policy: the 32nd device opens PHB 1 (pseries-many-devices)") {
    const auto names = numbered("scsi", 32);
    std::vector<request> devices;
    for (const auto& n : names) devices.push_back({n, models::virtio_scsi{}});
    const topology_plan p = planned<machines::pseries, policies::libvirt>(devices);
    const lines args = qemu_arguments(p);
    CHECK(args.front() == "-device spapr-pci-host-bridge,index=1,id=pci.1");
    CHECK(args[1] == "-device virtio-scsi-pci,id=scsi0,bus=pci.0,addr=0x1");
    CHECK(args.back() == "-device virtio-scsi-pci,id=scsi31,bus=pci.1.0,addr=0x1");
  }
}

TEST_CASE("emit.qemu: s390x virtio devices on channel I/O", "[emit][qemu]") {
  const std::vector<request> devices{{"net0", models::virtio_net{}}, {"disk0", models::virtio_blk{}}};
  const topology_plan p = planned<machines::s390x_ccw>(devices);
  CHECK(qemu_arguments(p) == lines{"-device virtio-net-ccw,id=net0,devno=fe.0.0000",
                                            "-device virtio-blk-ccw,id=disk0,devno=fe.0.0001"});
}

TEST_CASE("emit.qemu: hotplug=off, and a parent with a higher index than its child comes first", "[emit][qemu]") {
  std::vector<controller> given{
      make_controller<pcie_switch_upstream_port>(1).at(controller_address(0, 2, 0, 0)),
      make_controller<pcie_root_port>(2).at(controller_address(0, 0, 5, 0)),
      make_controller<pcie_switch_downstream_port>(3).at(controller_address(0, 1, 0, 0)),
      make_controller<pcie_switch_downstream_port>(4).at(controller_address(0, 1, 1, 0)),
  };
  given[1].hotplug = toggle::off;
  given[2].hotplug = toggle::off;
  const std::vector<request> devices{{"net0", models::virtio_net{}, on_bus{controller_index{3}}, hotplug::not_needed},
                                     {"net1", models::virtio_net{}, on_bus{controller_index{4}}}};
  const topology_plan p = planned<machines::q35>(devices, {.spare_ports = 1}, given);
  CHECK(qemu_arguments(p) ==
        lines{
            "-device pcie-root-port,port=0x28,chassis=2,id=pci.2,hotplug=off,bus=pcie.0,addr=0x5",
            "-device x3130-upstream,id=pci.1,bus=pci.2,addr=0x0",
            "-device xio3130-downstream,port=0x0,chassis=3,id=pci.3,hotplug=off,bus=pci.1,addr=0x0",
            "-device xio3130-downstream,port=0x1,chassis=4,id=pci.4,bus=pci.1,addr=0x1",
            "-device pcie-root-port,port=0x8,chassis=5,id=pci.5,bus=pcie.0,addr=0x1",
            "-device virtio-net-pci,id=net0,bus=pci.3,addr=0x0",
            "-device virtio-net-pci,id=net1,bus=pci.4,addr=0x0",
        });
  CHECK(qemu_arguments(p, {.syntax = qemu_syntax::json})[0] ==
        R"(-device {"driver":"pcie-root-port","port":40,"chassis":2,"id":"pci.2","hotplug":false,"bus":"pcie.0","addr":"0x5"})");
}

TEST_CASE("emit.qemu: a hand-made chain numbered upside down is emitted top-down", "[emit][qemu]") {
  // pci.3 on pcie.0, pci.2 behind pci.3, pci.1 behind pci.2: QEMU needs 3, 2, 1.
  topology_plan p;
  p.controllers.push_back(make_controller<pcie_root>(0));
  p.controllers.push_back(make_controller<pci_bridge>(1).at(controller_address(0, 2, 1, 0)));
  p.controllers.push_back(make_controller<pcie_to_pci_bridge>(2).at(controller_address(0, 3, 0, 0)));
  p.controllers.push_back(make_controller<pcie_root_port>(3).at(controller_address(0, 0, 4, 0)));
  p.controllers.push_back(make_controller<pcie_root_port>(4).at(controller_address(0, 0, 4, 1)));
  p.controllers[1].chassis_nr = 7;
  p.controllers[3].multifunction = toggle::on;
  p.controllers[3].chassis = 3;
  p.controllers[3].port = 0x20;
  p.controllers[3].io_reserve_zero = true;
  p.controllers[4].model_name = "ioh3420";  // no io-reserve property on ioh3420
  p.controllers[4].io_reserve_zero = true;
  CHECK(qemu_arguments(p) ==
        lines{
            "-device pcie-root-port,port=0x20,chassis=3,id=pci.3,io-reserve=0,bus=pcie.0,multifunction=on,addr=0x4",
            "-device pcie-pci-bridge,id=pci.2,bus=pci.3,addr=0x0",
            "-device pci-bridge,chassis_nr=7,id=pci.1,bus=pci.2,addr=0x1",
            "-device ioh3420,id=pci.4,bus=pcie.0,addr=0x4.0x1",
        });
}

TEST_CASE("emit.qemu: names with commas are doubled in classic syntax and escaped in JSON", "[emit][qemu]") {
  const std::vector<request> devices{{"a,b", models::virtio_net{}, hotplug::not_needed},
                                     {"q\"uote\\", models::virtio_net{}, hotplug::not_needed}};
  const topology_plan p = planned<machines::q35>(devices, {.spare_ports = 0});
  CHECK(qemu_arguments(p) == lines{"-device virtio-net-pci,id=a,,b,bus=pcie.0,multifunction=on,addr=0x1e",
                                            "-device virtio-net-pci,id=q\"uote\\,bus=pcie.0,addr=0x1e.0x1"});
  CHECK(qemu_arguments(p, {.syntax = qemu_syntax::json}) ==
        lines{R"(-device {"driver":"virtio-net-pci","id":"a,b","bus":"pcie.0","multifunction":true,"addr":"0x1e"})",
              R"(-device {"driver":"virtio-net-pci","id":"q\"uote\\","bus":"pcie.0","addr":"0x1e.0x1"})"});
}

TEST_CASE("emit.qemu: controllers come before devices, and each controller after its parent", "[emit][qemu]") {
  const auto names = numbered("dev", 40);
  std::vector<request> devices;
  for (std::size_t i = 0; i != names.size(); ++i) {
    if (i % 4 == 0) devices.push_back({names[i], models::e1000{}});
    else if (i % 7 == 0) devices.push_back({names[i], models::virtio_blk{}, numa_node{static_cast<int>(i % 2)}});
    else devices.push_back({names[i], models::virtio_net{}});
  }
  const topology_plan p = planned<machines::q35>(devices, {.spare_ports = 2, .numa_nodes = 2});
  const lines args = qemu_arguments(p);
  const auto line_of = [&](unsigned index) {
    const std::string id = ",id=pci." + std::to_string(index) + ",";
    for (std::size_t i = 0; i != args.size(); ++i) {
      if (args[i].find(id) != std::string::npos) return i;
    }
    return args.size();
  };
  REQUIRE(args.size() == p.controllers.size() - 1 + devices.size());
  for (const controller& c : p.controllers) {
    if (c.index.value == 0) continue;
    INFO("pci." << c.index.value);
    const std::size_t mine = line_of(c.index.value);
    CHECK(mine < p.controllers.size() - 1);  // every controller before every device
    if (c.libvirt_address.bus.value != 0) CHECK(line_of(c.libvirt_address.bus.value) < mine);
  }
}

TEST_CASE("emit.qemu: devices the machine builds in (q35 SATA at 1f.2, pc IDE at 01.1) get no -device, by default",
          "[emit][qemu]") {
  const std::vector<request> q35_devices{{"sata0", models::ich9_ahci{}}, {"net0", models::virtio_net{}}};
  const topology_plan q = planned<machines::q35, policies::libvirt>(q35_devices);
  REQUIRE(q.at("sata0").guest_address == pci_address(0, 0, 0x1f, 2));
  CHECK(q.is_built_in(q.at("sata0")));
  CHECK_FALSE(q.is_built_in(q.at("net0")));
  const lines args = qemu_arguments(q);
  CHECK(std::none_of(args.begin(), args.end(),
                     [](const std::string& l) { return l.find("ich9-ahci") != std::string::npos; }));
  CHECK(has_line(args, "-device virtio-net-pci,id=net0,bus=pci.1,addr=0x0"));

  const std::vector<request> pc_devices{{"ide0", models::piix3_ide{}}, {"usb0", models::piix3_uhci{}}};
  const topology_plan p = planned<machines::pc, policies::libvirt>(pc_devices);
  const lines pc_lines = qemu_arguments(p, {.syntax = qemu_syntax::json});
  CHECK(pc_lines == lines{R"(-device {"driver":"piix3-usb-uhci","id":"usb0","bus":"pci.0","addr":"0x1.0x2"})"});

  // the same position on another machine is an ordinary device: a hand-made plan
  // without a machine has no built-in devices
  topology_plan bare = q;
  bare.built_in = {};
  CHECK(has_line(qemu_arguments(bare), "-device ich9-ahci,id=sata0,bus=pcie.0,addr=0x1f.0x2"));
}

TEST_CASE("emit.qemu: a plan needs nothing else: names and devices outlive the requests", "[emit][qemu]") {
  topology_plan kept;
  lines before;
  {
    std::vector<std::string> names{"a-long-network-device-name-0", "a-long-network-device-name-1", "disk"};
    std::vector<request> devices{{names[0], models::virtio_net{}}, {names[1], models::e1000e{}},
                                 {names[2], models::virtio_blk{}, numa_node{1}}};
    kept = planned<machines::q35>(devices, {.spare_ports = 1, .numa_nodes = 2});
    before = qemu_arguments(kept);
    for (std::string& n : names) n.assign(n.size(), 'X');  // the caller reuses its storage
    devices.clear();
  }
  CHECK(kept.machine == "q35");
  CHECK(kept.policy == policy_family::pciplan);
  CHECK(kept.at("a-long-network-device-name-1").device == device_descriptor_of<models::e1000e>);
  CHECK(qemu_arguments(kept) == before);
  // copies have texts of their own too
  const topology_plan copy = [&] {
    topology_plan c = kept;
    kept = topology_plan{};
    return c;
  }();
  CHECK(qemu_arguments(copy) == before);
  CHECK(has_line(before, "-device e1000e,id=a-long-network-device-name-1,bus=pci.3,addr=0x0"));
}
