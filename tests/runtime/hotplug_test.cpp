// A running guest (planner/hotplug.hpp, emit/monitor.hpp): hot-adds only into slots QEMU
// hot-plugs now, refusals that name the device and the reason, detach, the monitor
// commands, spare ports per NUMA node; and the property that a hot-add gives every device
// the address the cold plan of the new definition gives it, on every machine type with
// PCI, under both policies.
#include <catch2/catch.hpp>

#include <pciplan/pciplan.hpp>

#include "../support/invariants.hpp"
#include "../support/planned.hpp"

#include <boost/hana/is_empty.hpp>

#include <array>
#include <random>
#include <string>
#include <string_view>
#include <vector>

using namespace pciplan;
using lines = std::vector<std::string>;
using test_support::planned;

namespace {

std::vector<std::string> texts(const std::vector<monitor_command>& commands, bool qmp) {
  std::vector<std::string> out;
  for (const monitor_command& c : commands) out.push_back(qmp ? c.qmp : c.hmp);
  return out;
}

const controller& bus_of(const topology_plan& p, const placement& x) { return *p.find(x.libvirt_address.bus); }

}  // namespace

TEST_CASE("hotplug: a q35 guest takes new devices in its spare ports, then refuses, and nothing changes (RULES.md Q20, Q21, O10)",
          "[hotplug]") {
  const std::vector<request> devices{{"net0", models::virtio_net{}}};
  const topology_plan started = planned<machines::q35>(devices, {.spare_ports = 2});
  const topology_plan copy = started;
  const std::array<request, 2> more{request{"net1", models::virtio_net{}}, request{"disk1", models::virtio_blk{}}};
  const result<topology_plan> now = hot_add<machines::q35>(started, more);
  REQUIRE(now.has_value());
  CHECK(started == copy);
  CHECK(now->controllers == started.controllers);  // nothing added
  REQUIRE(now->placements.size() == 3);
  CHECK(now->placements[0].libvirt_address == started.placements[0].libvirt_address);
  CHECK(now->placements[0].guest_address == started.placements[0].guest_address);
  // the two spare root ports, in index order
  CHECK(now->at("net1").libvirt_address == controller_address(0, 2, 0, 0));
  CHECK(now->at("disk1").libvirt_address == controller_address(0, 3, 0, 0));
  CHECK(now->at("net1").request == 1);
  CHECK(texts(monitor_commands(started, *now), true) ==
        lines{R"({"execute":"device_add","arguments":{"driver":"virtio-net-pci","id":"net1","bus":"pci.2","addr":"0x0"}})",
              R"({"execute":"device_add","arguments":{"driver":"virtio-blk-pci","id":"disk1","bus":"pci.3","addr":"0x0"}})"});
  CHECK(texts(monitor_commands(started, *now), false) ==
        lines{"device_add virtio-net-pci,id=net1,bus=pci.2,addr=0x0", "device_add virtio-blk-pci,id=disk1,bus=pci.3,addr=0x0"});
  // no spare left: a cold plan would add a root port, which QEMU cannot hot-add on pcie.0
  const std::array<request, 1> third{request{"net2", models::virtio_net{}}};
  const result<topology_plan> refused = hot_add<machines::q35>(*now, third);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == errc::no_free_slot);
  CHECK(refused.error().subject.view() == "net2");
  CHECK_THAT(describe(refused.error()), Catch::Contains("no free hot-pluggable slot left in the running guest"));
  // the same through the plan's own machine and policy
  const result<topology_plan> dynamic = hot_add(*now, std::span<const request>(third));
  REQUIRE_FALSE(dynamic.has_value());
  CHECK(dynamic.error() == refused.error());
  // a device that needs no hotplug is hot-plugged all the same: it cannot go on pcie.0
  const std::array<request, 1> integrated{request{"scratch", models::virtio_blk{}, hotplug::not_needed}};
  CHECK(hot_add<machines::q35>(*now, integrated).error().code == errc::no_free_slot);
}

TEST_CASE("hotplug: buses that take no hot-plugged device are refused by name (RULES.md Q20, Q22, L4.11)",
          "[hotplug]") {
  std::vector<controller> given{make_controller<pcie_root_port>(1).at(controller_address(0, 0, 2, 0)),
                                make_controller<pcie_root_port>(2).at(controller_address(0, 0, 3, 0))};
  given[1].hotplug = toggle::off;
  const topology_plan started = planned<machines::q35>(std::vector<request>{}, {.spare_ports = 0}, given);
  // pinned on pcie.0
  const std::array<request, 1> on_root{request{"nic", models::virtio_net{}, at_address{{0, 0, 5, 0}}}};
  const result<topology_plan> a = hot_add<machines::q35>(started, on_root);
  REQUIRE_FALSE(a.has_value());
  CHECK(a.error().code == errc::not_hotpluggable);
  CHECK_THAT(describe(a.error()), Catch::Contains("nic: would go on a bus that does not take hot-plugged devices"));
  // pinned on the root port with hotplug=off
  const std::array<request, 1> on_off{request{"nic", models::virtio_net{}, at_address{{0, 2, 0, 0}}}};
  CHECK(hot_add<machines::q35>(started, on_off).error().code == errc::not_hotpluggable);
  // without a pin it takes the hot-pluggable port, never the other one
  const std::array<request, 1> free{request{"nic", models::virtio_net{}}};
  const result<topology_plan> b = hot_add<machines::q35>(started, free);
  REQUIRE(b.has_value());
  CHECK(b->at("nic").libvirt_address == controller_address(0, 1, 0, 0));
  // and a second one finds none
  const std::array<request, 1> second{request{"nic2", models::virtio_net{}}};
  CHECK(hot_add<machines::q35>(*b, second).error().code == errc::no_free_slot);
  // the libvirt policy hot-plugs as libvirt's live path does: the hot-pluggable port only
  const result<topology_plan> lv = hot_add<machines::q35, policies::libvirt>(started, free);
  REQUIRE(lv.has_value());
  CHECK(lv->at("nic").libvirt_address == controller_address(0, 1, 0, 0));
  CHECK(hot_add<machines::q35, policies::libvirt>(*lv, second).error().code == errc::no_free_slot);
}

TEST_CASE("hotplug: NUMA-bound devices use their node's spare ports (spare_ports_per_node)", "[hotplug]") {
  const std::vector<request> devices{{"gpu0", models::vfio_pci{}, numa_node{1}}};
  // the default: one spare per node with an expander
  const topology_plan started = planned<machines::q35>(devices, {.spare_ports = 1, .numa_nodes = 2});
  const controller& pxb = *started.find(bus_of(started, started.at("gpu0")).libvirt_address.bus);
  REQUIRE(pxb.numa_node == 1);
  const std::array<request, 1> nvme{request{"nvme1", models::nvme{}, numa_node{1}}};
  const result<topology_plan> now = hot_add<machines::q35>(started, nvme, {.numa_nodes = 2});
  REQUIRE(now.has_value());
  CHECK(bus_of(*now, now->at("nvme1")).libvirt_address.bus == pxb.index);
  CHECK(now->at("nvme1").guest_address.bus.value > 248);
  // the next one finds no spare on node 1 (the spare on pcie.0 belongs to no node)
  const std::array<request, 1> again{request{"nvme2", models::nvme{}, numa_node{1}}};
  const result<topology_plan> refused = hot_add<machines::q35>(*now, again, {.numa_nodes = 2});
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == errc::no_free_slot);
  CHECK_THAT(describe(refused.error()), Catch::Contains("nvme2: has no free hot-pluggable slot left on its NUMA node"));
  // without per-node spares there is none from the start
  const topology_plan bare = planned<machines::q35>(devices, {.spare_ports = 4, .spare_ports_per_node = 0});
  CHECK(hot_add<machines::q35>(bare, nvme).error().code == errc::no_free_slot);
  // a node without devices gets its expander and spares when asked for by number
  const std::array<int, 3> per_node{-1, -1, 2};
  const topology_plan wide =
      planned<machines::q35>(devices, {.spare_ports = 0, .numa_nodes = 3, .node_spare_ports = per_node});
  unsigned on_node2 = 0;
  for (const controller& c : wide.controllers) {
    if (c.has_address && wide.find(c.libvirt_address.bus)->numa_node == 2) ++on_node2;
  }
  CHECK(on_node2 == 2);
  const std::array<request, 2> two{request{"a", models::virtio_net{}, numa_node{2}},
                                   request{"b", models::virtio_net{}, numa_node{2}}};
  CHECK(hot_add<machines::q35>(wide, two, {.numa_nodes = 3}).has_value());
  // a node the guest does not have
  const std::array<int, 4> too_long{0, 0, 0, 1};
  const result<topology_plan> bad =
      plan<machines::q35>(devices, {.numa_nodes = 3, .node_spare_ports = too_long});
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().code == errc::invalid_request);
}

TEST_CASE("hotplug: on pc a node's spare slots are behind the pci-bridge on its pxb (the pxb takes no hot-plug)",
          "[hotplug]") {
  const std::array<int, 2> per_node{-1, 1};
  const topology_plan started =
      planned<machines::pc>(std::vector<request>{}, {.spare_ports = 0, .numa_nodes = 2, .node_spare_ports = per_node});
  const std::array<request, 1> nic{request{"nic", models::e1000{}, numa_node{1}}};
  const result<topology_plan> now = hot_add<machines::pc>(started, nic, {.numa_nodes = 2});
  REQUIRE(now.has_value());
  const controller& bridge = bus_of(*now, now->at("nic"));
  CHECK(bridge.kind == &descriptor_of<pci_bridge>);
  CHECK(now->find(bridge.libvirt_address.bus)->kind == &descriptor_of<pci_expander_bus>);
  CHECK(now->find(bridge.libvirt_address.bus)->numa_node == 1);
  // pc's root bus takes hot-plugged devices (ACPI), so a device of no node goes there
  const std::array<request, 1> plain{request{"plain", models::e1000{}}};
  const result<topology_plan> root = hot_add<machines::pc>(*now, plain);
  REQUIRE(root.has_value());
  CHECK(root->at("plain").libvirt_address.bus.value == 0);
}

TEST_CASE("hotplug: a multifunction group goes into one empty slot, function 0 added last (RULES.md Q4)", "[hotplug]") {
  const topology_plan started = planned<machines::q35>(std::vector<request>{}, {.spare_ports = 1});
  const std::array<request, 2> gpu{request{"gpu", models::vfio_pci{}, multifunction_group{1, 0}},
                                   request{"gpu-audio", models::vfio_pci{}, multifunction_group{1, 1}}};
  const result<topology_plan> now = hot_add<machines::q35>(started, gpu);
  REQUIRE(now.has_value());
  CHECK(texts(monitor_commands(started, *now), false) ==
        lines{"device_add vfio-pci,id=gpu-audio,bus=pci.1,addr=0x0.0x1",
              "device_add vfio-pci,id=gpu,bus=pci.1,multifunction=on,addr=0x0"});
}

TEST_CASE("hotplug: detach frees the slot; what cannot be unplugged is refused by name", "[hotplug]") {
  const std::vector<request> devices{{"net0", models::virtio_net{}},
                                     {"scratch", models::virtio_blk{}, hotplug::not_needed},
                                     {"gpu", models::vfio_pci{}, multifunction_group{1, 0}},
                                     {"gpu-audio", models::vfio_pci{}, multifunction_group{1, 1}}};
  const topology_plan started = planned<machines::q35>(devices, {.spare_ports = 0});
  const std::array<std::string_view, 1> net{"net0"};
  const result<topology_plan> later = hot_remove(started, net);
  REQUIRE(later.has_value());
  CHECK(later->placements.size() == 3);
  CHECK(later->placements[0].name == "scratch");
  CHECK(later->placements[0].request == 0);
  CHECK(later->controllers == started.controllers);
  CHECK(texts(monitor_commands(started, *later), true) ==
        lines{R"({"execute":"device_del","arguments":{"id":"net0"}})"});
  CHECK(texts(monitor_commands(started, *later), false) == lines{"device_del net0"});
  // the freed port takes the next device, as a cold plan of the new definition would give it
  const std::array<request, 1> next{request{"net1", models::virtio_net{}}};
  const result<topology_plan> again = hot_add<machines::q35>(*later, next);
  REQUIRE(again.has_value());
  CHECK(again->at("net1").libvirt_address == started.at("net0").libvirt_address);
  // refusals
  const auto refused = [&](std::string_view name) {
    const std::array<std::string_view, 1> one{name};
    const result<topology_plan> r = hot_remove(started, one);
    REQUIRE_FALSE(r.has_value());
    return r.error();
  };
  CHECK(refused("nobody").code == errc::invalid_request);
  CHECK(refused("scratch").code == errc::not_hotpluggable);  // an integrated endpoint on pcie.0
  CHECK_THAT(describe(refused("gpu-audio")), Catch::Contains("shares its slot with a device that stays"));
  const std::array<std::string_view, 2> both{"gpu", "gpu-audio"};
  CHECK(hot_remove(started, both).has_value());
  // q35's own SATA controller is part of the machine
  const std::vector<request> sata{{"sata0", models::ich9_ahci{}}};
  const topology_plan with_sata = planned<machines::q35>(sata, {.spare_ports = 0});
  REQUIRE(with_sata.is_built_in(with_sata.at("sata0")));
  const std::array<std::string_view, 1> s{"sata0"};
  CHECK(hot_remove(with_sata, s).error().code == errc::not_hotpluggable);
}

TEST_CASE("hotplug: device types QEMU cold-plugs only, and a second balloon, are refused (RULES.md O10)", "[hotplug]") {
  const std::vector<request> devices{{"balloon0", models::virtio_balloon{}}, {"vga", models::vga{}}};
  const topology_plan started = planned<machines::q35>(devices, {.spare_ports = 4});
  // QEMU 7.2: "Parameter 'driver' expects a pluggable device type"; 10.0: "does not support hotplugging"
  for (const device_descriptor& d : {device_descriptor_of<models::virtio_gpu>, device_descriptor_of<models::virtio_vga>,
                                     device_descriptor_of<models::pci_ohci>, device_descriptor_of<models::qxl_vga>}) {
    const std::array<request, 1> one{request{"x", d}};
    const result<topology_plan> r = hot_add<machines::q35>(started, one);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == errc::not_hotpluggable);
    CHECK_THAT(describe(r.error()), Catch::Contains("is a device QEMU does not hot-plug"));
  }
  CHECK(qemu_hot_pluggable("virtio-net-pci"));
  CHECK(qemu_hot_pluggable("qxl"));  // the secondary qxl is hot-pluggable, qxl-vga is not
  const std::array<request, 1> balloon{request{"balloon1", models::virtio_balloon{}}};
  CHECK_THAT(describe(hot_add<machines::q35>(started, balloon).error()), Catch::Contains("a second memory balloon"));
  const std::array<std::string_view, 1> vga{"vga"};
  CHECK(hot_remove(started, vga).error().code == errc::not_hotpluggable);
}

TEST_CASE("hotplug: the libvirt policy's live path never grows (pc with pci.0 full; RULES.md L4.11)", "[hotplug]") {
  std::vector<request> devices;
  std::vector<std::string> names;
  names.reserve(40);
  for (int i = 0; i != 29; ++i) {
    names.push_back("nic" + std::to_string(i));
    devices.emplace_back(names.back(), models::e1000{});
  }
  const topology_plan started = planned<machines::pc, policies::libvirt>(devices);
  // one e1000 after the other until pci.0 is full: libvirt's live path adds no pci-bridge
  topology_plan running = started;
  result<topology_plan> next = running;
  int added = 0;
  for (int i = 0; i != 40 && next; ++i) {
    names.push_back("late" + std::to_string(i));
    const std::array<request, 1> one{request{names.back(), models::e1000{}}};
    next = hot_add<machines::pc, policies::libvirt>(running, one);
    if (next) {
      CHECK(next->at(names.back()).libvirt_address.bus.value == 0);
      running = *next;
      ++added;
    }
  }
  CHECK(added >= 1);
  REQUIRE_FALSE(next.has_value());
  CHECK(next.error().code == errc::no_free_slot);
  CHECK(next.error().subject.view() == names.back());
  // pci.0 is full: 00:01 is the PIIX3's, 00:02.0 libvirt keeps for a video device
  for (unsigned slot = 1; slot != 32; ++slot) {
    bool used = false;
    for (const placement& p : running.placements) used = used || (p.libvirt_address.bus.value == 0 && p.libvirt_address.slot == slot);
    CHECK((used || slot <= 2));
  }
  // the cold plan of the same definition grows a pci-bridge for it
  std::vector<request> definition = requests_of(running);
  definition.emplace_back(names.back(), models::e1000{});
  const result<topology_plan> cold = plan<machines::pc, policies::libvirt>(definition, {}, running.controllers);
  CHECK((!cold || cold->added_count() > 0));
}

TEST_CASE("hotplug: a plan for another machine type, or a guest that is not complete, is refused", "[hotplug]") {
  const topology_plan pc = planned<machines::pc>(std::vector<request>{{"n", models::e1000{}}});
  const std::array<request, 1> nic{request{"m", models::e1000{}}};
  CHECK(hot_add<machines::q35>(pc, nic).error().code == errc::invalid_request);
  // a device that is not pinned among the running guest's requests: planning it adds a port
  const std::array<request, 2> loose{request{"old", models::virtio_net{}}, request{"new", models::virtio_net{}}};
  const std::array<unsigned char, 2> live{0, 1};
  const result<topology_plan> r = plan_live<machines::q35>(loose, live, {}, std::vector<controller>{});
  REQUIRE_FALSE(r.has_value());
}

// ---- the property: live and cold agree ---------------------------------------------------

namespace {

template <MachineType M>
constexpr bool numa_possible() {
  return !decltype(boost::hana::is_empty(machine_traits<M>::expanders))::value || machine_traits<M>::multiple_roots;
}

template <MachineType M>
request random_device(std::mt19937& rng, std::vector<std::string>& names, bool libvirt_policy) {
  static const std::array<device_descriptor, 6> kinds{
      device_descriptor_of<models::virtio_net>, device_descriptor_of<models::virtio_blk>,
      device_descriptor_of<models::e1000>,      device_descriptor_of<models::nvme>,
      device_descriptor_of<models::vfio_pci>,   device_descriptor_of<models::virtio_scsi>};
  names.push_back("dev" + std::to_string(names.size()));
  request r(names.back(), kinds[std::uniform_int_distribution<std::size_t>(0, kinds.size() - 1)(rng)]);
  if (!libvirt_policy && numa_possible<M>() && std::uniform_int_distribution<int>(0, 3)(rng) == 0) {
    r.numa = std::uniform_int_distribution<int>(0, 1)(rng);
  }
  if (machine_traits<M>::virtio_mmio_transports > 0) r.via = transport::pci;  // PCI hot-plug only
  return r;
}

/// Random guests of machine M planned cold, then random devices hot-added one by one:
/// every hot-add that succeeds gives the address that the cold plan of the new definition
/// (the guest's devices pinned, its controllers given, the new device added) gives, lands on
/// a bus that takes hot-plugged devices, and adds nothing; every refusal is a capacity
/// error that names the new device.
template <MachineType M, class Policy>
void live_equals_cold(unsigned seed, int guests) {
  constexpr bool lv = std::is_same_v<Policy, policies::libvirt>;
  std::mt19937 rng(seed);
  int added = 0;
  int refused = 0;
  for (int g = 0; g < guests; ++g) {
    std::vector<std::string> names;
    names.reserve(200);
    std::vector<request> requests;
    const std::size_t n = std::uniform_int_distribution<std::size_t>(0, 12)(rng);
    for (std::size_t i = 0; i != n; ++i) requests.push_back(random_device<M>(rng, names, lv));
    plan_options options;
    options.spare_ports = std::uniform_int_distribution<unsigned>(0, 4)(rng);
    options.spare_ports_per_node = std::uniform_int_distribution<unsigned>(0, 2)(rng);
    const result<topology_plan> started = plan<M, Policy>(requests, options);
    if (!started || !started->qemu_can_build()) continue;
    topology_plan running = *started;
    for (int step = 0; step < 8; ++step) {
      const std::array<request, 1> one{random_device<M>(rng, names, lv)};
      const result<topology_plan> live = hot_add<M, Policy>(running, one, options);
      INFO("seed " << seed << " guest " << g << " step " << step << ": " << one[0].name << " "
                   << one[0].device.qemu_device << " numa " << one[0].numa);
      if (!live) {
        ++refused;
        INFO(live.error());
        CHECK(is_capacity_error(live.error().code));
        CHECK(live.error().subject.view() == one[0].name);
        continue;
      }
      ++added;
      const placement& p = live->placements.back();
      REQUIRE(p.name == one[0].name);
      CHECK(live->controllers == running.controllers);
      REQUIRE(p.kind == placement_kind::pci);
      const controller& bus = *live->find(p.libvirt_address.bus);
      CHECK(bus_hotpluggable(*bus.kind, bus.hotplug));
      // the cold plan of the new definition
      std::vector<request> definition = requests_of(running);
      definition.push_back(one[0]);
      definition.back().hotplug_need = hotplug::required;
      const result<topology_plan> cold = plan<M, Policy>(definition, options, running.controllers);
      INFO((cold ? std::string("cold planned") : describe(cold.error())));
      REQUIRE(cold.has_value());
      CHECK(cold->placements.back().libvirt_address == p.libvirt_address);
      CHECK(cold->placements.back().guest_address == p.guest_address);
      running = *live;
    }
  }
  INFO(added << " hot-added, " << refused << " refused");
  CHECK(added > 0);
}

}  // namespace

TEMPLATE_LIST_TEST_CASE("property: a hot-add gets the cold plan's address, pciplan policy", "[hotplug][properties]",
                        machine_type_list) {
  if constexpr (has_pci_v<TestType>) live_equals_cold<TestType, policies::pciplan>(20261205u, 40);
}

TEMPLATE_LIST_TEST_CASE("property: a hot-add gets the cold plan's address, libvirt policy", "[hotplug][properties]",
                        machine_type_list) {
  if constexpr (has_pci_v<TestType>) live_equals_cold<TestType, policies::libvirt>(5u, 40);
}
