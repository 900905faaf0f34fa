// The pciplan policy: designed cases for each rule of its ladder, its guarantees and
// its errors (the RULES.md Q rules named where they apply).
#include <catch2/catch.hpp>

#include <pciplan/pciplan.hpp>

#include "../support/invariants.hpp"
#include "../support/names.hpp"

#include <string>
#include <vector>

using namespace pciplan;

namespace {

using test_support::ca;
using test_support::numbered;

template <class M>
topology_plan planned(const std::vector<request>& r, plan_options o = {}, std::vector<controller> given = {}) {
  const result<topology_plan> p = plan<M>(r, o, given);
  INFO((p ? std::string("planned") : describe(p.error())));
  REQUIRE(p.has_value());
  for (const auto& x : invariants::check<M>(*p, r, false, o.spare_ports)) FAIL_CHECK(x);
  return *p;
}

template <class M>
error refused(const std::vector<request>& r, plan_options o = {}, std::vector<controller> given = {}) {
  const result<topology_plan> p = plan<M>(r, o, given);
  REQUIRE_FALSE(p.has_value());
  return p.error();
}

const controller& parent_of(const topology_plan& p, const placement& x) { return *p.find(x.libvirt_address.bus); }

}  // namespace

TEST_CASE("pciplan: the DESIGN.md guest (hotplug port, NUMA expander, PCI bridge, integrated endpoint)",
          "[planner][pciplan]") {
  const std::vector<request> devices{{"net0", models::virtio_net{}},
                                     {"gpu0", models::vfio_pci{}, numa_node{1}},
                                     {"legacy0", models::e1000{}},
                                     {"scratch", models::virtio_blk{}, hotplug::not_needed}};
  const topology_plan p = planned<machines::q35>(devices, {.spare_ports = 4});
  // (B) a hot-pluggable PCIe device: a root port of its own, io-reserve=0 (rule 25)
  const placement& net = p.at("net0");
  CHECK(net.why == rule::hotplug_port);
  CHECK(parent_of(p, net).kind == &descriptor_of<pcie_root_port>);
  CHECK(parent_of(p, net).io_reserve_zero);
  CHECK(net.guest_address == pci_address{0, 1, 0, 0});
  // NUMA: a pxb-pcie bound to node 1, created first, with a busNr range from the top
  const placement& gpu = p.at("gpu0");
  CHECK(gpu.why == rule::numa_expander);
  const controller& gpu_port = parent_of(p, gpu);
  const controller& pxb = *p.find(gpu_port.libvirt_address.bus);
  CHECK(pxb.kind == &descriptor_of<pcie_expander_bus>);
  CHECK(pxb.numa_node == 1);
  CHECK(pxb.bus_nr == 248);  // 256 - 8: its two buses, rounded up to 8 to leave room
  CHECK(gpu.guest_address.bus == bus_number{249});
  // (A) conventional PCI: a slot on a pcie-to-pci-bridge behind a root port (slot 0 is the SHPC's)
  const placement& legacy = p.at("legacy0");
  CHECK(legacy.why == rule::conventional_slot);
  CHECK(parent_of(p, legacy).kind == &descriptor_of<pcie_to_pci_bridge>);
  CHECK(legacy.libvirt_address.slot == 1);
  // no hotplug: an integrated endpoint on pcie.0, from the top (00:1f holds ICH9)
  const placement& scratch = p.at("scratch");
  CHECK(scratch.why == rule::integrated_endpoint);
  CHECK(scratch.guest_address == pci_address{0, 0, 0x1e, 0});
  // four empty spare ports on pcie.0, and one on node 1's expander (spare_ports_per_node = 1)
  unsigned spare = 0;
  unsigned on_node = 0;
  for (const controller& c : p.controllers) {
    bool used = false;
    for (const placement& x : p.placements) used = used || x.libvirt_address.bus == c.index;
    for (const controller& d : p.controllers) used = used || (d.has_address && d.libvirt_address.bus == c.index);
    spare += (c.kind == &descriptor_of<pcie_root_port> && !used) ? 1 : 0;
    on_node += (c.kind == &descriptor_of<pcie_root_port> && !used && c.libvirt_address.bus == pxb.index) ? 1 : 0;
  }
  CHECK(spare == 5);
  CHECK(on_node == 1);
  CHECK_THAT(describe(p, net), Catch::Contains("net0 is at 0000:01:00.0") &&
                                  Catch::Contains("hot-pluggable PCI Express slot"));
  // the root bus is the machine's, not one the planner added
  CHECK_THAT(describe(p, scratch), Catch::Contains("(bus index 0, the machine's pcie-root, slot 30"));
}

TEST_CASE("pciplan: changing the number of spare ports never moves a device", "[planner][pciplan]") {
  const auto names = numbered("dev", 30);
  std::vector<request> devices;
  for (std::size_t i = 0; i != names.size(); ++i) {
    if (i % 3 == 0) devices.push_back({names[i], models::e1000{}});
    else if (i % 5 == 0) devices.push_back({names[i], models::virtio_blk{}, hotplug::not_needed});
    else devices.push_back({names[i], models::virtio_net{}});
  }
  const topology_plan none = planned<machines::q35>(devices, {.spare_ports = 0});
  for (unsigned spares : {1u, 4u, 16u}) {
    const topology_plan more = planned<machines::q35>(devices, {.spare_ports = spares});
    for (std::size_t i = 0; i != devices.size(); ++i) {
      INFO(names[i] << " with " << spares << " spares");
      CHECK(more.placements[i].libvirt_address == none.placements[i].libvirt_address);
      CHECK(more.placements[i].guest_address == none.placements[i].guest_address);
    }
    CHECK(more.controllers.size() >= none.controllers.size() + spares - 1);
  }
}

TEST_CASE("pciplan: root ports 8 per slot, then a switch on the last root-port function (RULES.md Q6, Q10)",
          "[planner][pciplan]") {
  const auto names = numbered("net", 246);
  std::vector<request> devices;
  for (const auto& n : names) devices.push_back({n, models::virtio_net{}});
  const topology_plan p = planned<machines::q35>(devices, {.spare_ports = 0});
  CHECK(p.at("net0").libvirt_address.bus.value == 1);
  CHECK(p.find(controller_index{1})->libvirt_address == ca(0, 1, 0));
  CHECK(p.find(controller_index{8})->libvirt_address == ca(0, 1, 7));
  CHECK(p.find(controller_index{9})->libvirt_address == ca(0, 2, 0));
  // 30 slots x 8 = 240 root-port functions on q35; the last one carries a switch
  unsigned root_ports = 0;
  unsigned upstream = 0;
  unsigned downstream = 0;
  for (const controller& c : p.controllers) {
    root_ports += c.kind == &descriptor_of<pcie_root_port> ? 1 : 0;
    upstream += c.kind == &descriptor_of<pcie_switch_upstream_port> ? 1 : 0;
    downstream += c.kind == &descriptor_of<pcie_switch_downstream_port> ? 1 : 0;
  }
  CHECK(root_ports == 240);
  CHECK(upstream == 1);
  CHECK(downstream == 7);  // devices 240-246
  CHECK(p.at("net245").why == rule::hotplug_port);
  CHECK(parent_of(p, p.at("net245")).kind == &descriptor_of<pcie_switch_downstream_port>);
}

TEST_CASE("pciplan: bus numbers run out with a clear error", "[planner][pciplan]") {
  const auto names = numbered("net", 260);
  std::vector<request> devices;
  for (const auto& n : names) devices.push_back({n, models::virtio_net{}});
  const error e = refused<machines::q35>(devices, {.spare_ports = 0});
  CHECK(e.code == errc::bus_numbers_exhausted);
  CHECK_THAT(describe(e), Catch::StartsWith("net25") &&
                              Catch::Contains("all 256 bus numbers of its PCI domain are in use"));
}

TEST_CASE("pciplan: devices without hotplug are integrated, then packed as functions", "[planner][pciplan]") {
  const auto names = numbered("blk", 12);
  std::vector<request> devices;
  for (const auto& n : names) devices.push_back({n, models::virtio_blk{}, hotplug::not_needed});
  const topology_plan p = planned<machines::q35>(devices, {.spare_ports = 0});
  for (unsigned i = 0; i != 8; ++i) {
    CHECK(p.placements[i].libvirt_address == ca(0, 0x1e, i));
    CHECK(p.placements[i].why == rule::integrated_endpoint);
  }
  CHECK(p.placements[0].multifunction);
  CHECK(p.placements[8].libvirt_address == ca(0, 0x1d, 0));
  CHECK(p.controllers.size() == 1);  // no controller needed at all
  // on pc they share slots of pci.0
  const topology_plan pc = planned<machines::pc>(devices, {.spare_ports = 0});
  CHECK(pc.placements[0].libvirt_address == ca(0, 2, 0));
  CHECK(pc.placements[7].libvirt_address == ca(0, 2, 7));
  CHECK(pc.placements[8].libvirt_address == ca(0, 3, 0));
  CHECK(pc.placements[8].why == rule::packed_function);
}

TEST_CASE("pciplan: multifunction groups share a slot at their functions", "[planner][pciplan]") {
  const topology_plan p = planned<machines::q35>(
      {{"gpu", models::vfio_pci{}, multifunction_group{1, 0}}, {"gpu-audio", models::vfio_pci{}, multifunction_group{1, 1}}},
      {.spare_ports = 0});
  CHECK(p.at("gpu").libvirt_address == ca(1, 0, 0));
  CHECK(p.at("gpu-audio").libvirt_address == ca(1, 0, 1));
  CHECK(p.at("gpu").multifunction);
  CHECK(p.at("gpu").why == rule::multifunction_group);
  CHECK(refused<machines::q35>({{"a", models::vfio_pci{}, multifunction_group{1, 1}}}).code ==
        errc::multifunction_conflict);  // no function 0
  CHECK(refused<machines::q35>({{"a", models::vfio_pci{}, multifunction_group{1, 0}},
                                {"b", models::vfio_pci{}, multifunction_group{1, 0}}})
            .code == errc::multifunction_conflict);
}

TEST_CASE("pciplan: an isolation group gets a port of its own (RULES.md Q36)", "[planner][pciplan]") {
  const topology_plan p = planned<machines::q35>({{"net", models::virtio_net{}},
                                                  {"vf-a", models::vfio_pci{}, isolation_group{7}},
                                                  {"vf-b", models::vfio_pci{}, isolation_group{7}},
                                                  {"disk", models::virtio_blk{}}},
                                                 {.spare_ports = 2});
  CHECK(p.at("vf-a").libvirt_address.bus == p.at("vf-b").libvirt_address.bus);
  CHECK(p.at("vf-a").libvirt_address.function == 0);
  CHECK(p.at("vf-b").libvirt_address.function == 1);
  CHECK(p.at("vf-a").why == rule::isolation_group);
  CHECK(p.at("disk").libvirt_address.bus != p.at("vf-a").libvirt_address.bus);
  std::vector<request> nine;
  const auto names = numbered("vf", 9);
  for (const auto& n : names) nine.push_back({n, models::vfio_pci{}, isolation_group{3}});
  CHECK(refused<machines::q35>(nine).code == errc::multifunction_conflict);
}

TEST_CASE("pciplan: NUMA nodes get expanders with busNr partitions (RULES.md Q17)", "[planner][pciplan]") {
  std::vector<request> devices;
  const auto names = numbered("gpu", 9);
  for (std::size_t i = 0; i != names.size(); ++i) devices.push_back({names[i], models::vfio_pci{}, numa_node{static_cast<int>(i % 3)}});
  devices.push_back({"net", models::virtio_net{}});
  const topology_plan p = planned<machines::q35>(devices, {.spare_ports = 2, .numa_nodes = 3});
  std::vector<int> busnr;
  for (const controller& c : p.controllers) {
    if (c.kind == &descriptor_of<pcie_expander_bus>) busnr.push_back(c.bus_nr);
  }
  CHECK(busnr == std::vector<int>{248, 240, 232});  // nodes 0, 1, 2: 4 buses each, rounded to 8
  CHECK(p.at("net").guest_address.bus.value < 232);       // the main hierarchy stays below
  // pc: pxb; pseries: a PHB with a node; RISC-V: no expander
  // pc: QEMU 7.2 refuses hotplug on a pxb's bus (RULES.md O6: "Bus 'pci.1' does not support
  // hotplugging"), so a hot-pluggable device goes behind a pci-bridge on the pxb; one
  // that needs no hotplug sits on the pxb itself
  const topology_plan pc = planned<machines::pc>({{"nic", models::e1000{}, numa_node{0}},
                                                  {"fixed", models::e1000{}, numa_node{0}, hotplug::not_needed}});
  const controller& bridge = parent_of(pc, pc.at("nic"));
  CHECK(bridge.kind == &descriptor_of<pci_bridge>);
  CHECK(pc.find(bridge.libvirt_address.bus)->kind == &descriptor_of<pci_expander_bus>);
  CHECK(parent_of(pc, pc.at("fixed")).kind == &descriptor_of<pci_expander_bus>);
  // guest bus numbers: the pxb's internal bridge is bus_nr + 1, the pci-bridge the next
  CHECK(pc.at("fixed").guest_address.bus.value == parent_of(pc, pc.at("fixed")).bus_nr + 1);
  CHECK(pc.at("nic").guest_address.bus.value == parent_of(pc, pc.at("fixed")).bus_nr + 2);
  const topology_plan ps = planned<machines::pseries>({{"nic", models::e1000{}, numa_node{1}}});
  CHECK(parent_of(ps, ps.at("nic")).kind == &descriptor_of<spapr_pci_host_bridge>);
  CHECK(parent_of(ps, ps.at("nic")).numa_node == 1);
  CHECK(ps.at("nic").guest_address.domain == 1);
  const error e = refused<machines::riscv64_virt>({{"gpu", models::vfio_pci{}, numa_node{0}}});
  CHECK(e.code == errc::numa_unsupported);
  CHECK(refused<machines::q35>({{"gpu", models::vfio_pci{}, numa_node{4}}}, {.numa_nodes = 2}).code ==
        errc::invalid_request);
}

TEST_CASE("pciplan: (C) virtio-mmio without PCI, within the machine's transports (RULES.md Q32)",
          "[planner][pciplan]") {
  const auto names = numbered("blk", 9);
  std::vector<request> devices;
  for (std::size_t i = 0; i != 8; ++i) devices.push_back({names[i], models::virtio_blk{}});
  const topology_plan p = planned<machines::microvm>(devices);
  CHECK(p.placements[0].kind == placement_kind::mmio);
  CHECK(p.placements[0].transport == 7);
  CHECK(p.placements[7].transport == 0);
  devices.push_back({names[8], models::virtio_blk{}});
  CHECK(refused<machines::microvm>(devices).code == errc::mmio_exhausted);
  CHECK(refused<machines::microvm>({{"nic", models::e1000{}}}).code == errc::no_pci);
  // on aarch64 virt only when asked; 32 transports
  const topology_plan virt =
      planned<machines::aarch64_virt>({{"a", models::virtio_net{}, transport::mmio}, {"b", models::virtio_net{}}});
  CHECK(virt.at("a").kind == placement_kind::mmio);
  CHECK(virt.at("a").transport == 31);
  CHECK(virt.at("b").kind == placement_kind::pci);
  CHECK(refused<machines::q35>({{"a", models::virtio_net{}, transport::mmio}}).code == errc::mmio_exhausted);
}

TEST_CASE("pciplan: conventional PCI growth on pc keeps a slot for the next bridge", "[planner][pciplan]") {
  const auto names = numbered("nic", 80);
  std::vector<request> devices;
  for (const auto& n : names) devices.push_back({n, models::e1000{}});
  const topology_plan p = planned<machines::pc>(devices, {.spare_ports = 0});
  unsigned bridges = 0;
  for (const controller& c : p.controllers) bridges += c.kind == &descriptor_of<pci_bridge> ? 1 : 0;
  CHECK(bridges == 2);  // 29 on pci.0 (slot 1 is PIIX3), 30 on each bridge, a bridge in each bus's last slot
  CHECK(p.at("nic0").libvirt_address == ca(0, 2));
  CHECK(p.at("nic29").libvirt_address.bus.value == 1);
  // x86: more than 9 bridges warn about the I/O window (RULES.md Q26)
  std::vector<request> many;
  const auto more = numbered("n", 320);
  for (const auto& n : more) many.push_back({n, models::e1000{}});
  const topology_plan q = planned<machines::pc>(many, {.spare_ports = 0});
  REQUIRE_FALSE(q.warnings.empty());
  CHECK(q.warnings.back().code == warning_code::io_window);
}

TEST_CASE("pciplan: more than 14 I/O-reserving root ports warn (RULES.md Q25)", "[planner][pciplan]") {
  const topology_plan few = planned<machines::q35>({{"net", models::virtio_net{}}}, {.spare_ports = 14});
  CHECK(few.warnings.empty());
  const topology_plan many = planned<machines::q35>({{"net", models::virtio_net{}}}, {.spare_ports = 15});
  REQUIRE(many.warnings.size() == 1);
  CHECK(many.warnings[0].code == warning_code::io_window);
  CHECK(many.warnings[0].count == 15);  // the device's own port has io-reserve=0
}

TEST_CASE("pciplan: order keys decide the order, then the input order", "[planner][pciplan]") {
  const topology_plan p = planned<machines::q35>(
      {{"b", models::virtio_net{}}, {"a", models::virtio_net{}, order_key{-1}}, {"c", models::virtio_net{}}},
      {.spare_ports = 0});
  CHECK(p.at("a").libvirt_address.bus.value == 1);
  CHECK(p.at("b").libvirt_address.bus.value == 2);
  CHECK(p.at("c").libvirt_address.bus.value == 3);
}

TEST_CASE("pciplan: a re-plan of a plan's output with more devices moves nothing", "[planner][pciplan]") {
  std::vector<request> devices{{"net0", models::virtio_net{}}, {"disk0", models::virtio_blk{}},
                               {"legacy", models::e1000{}}, {"gpu", models::vfio_pci{}, numa_node{0}}};
  const topology_plan first = planned<machines::q35>(devices, {.spare_ports = 2});
  std::vector<request> next = pinned(first, devices);
  next.push_back({"net1", models::virtio_net{}});
  next.push_back({"net2", models::virtio_net{}});
  next.push_back({"net3", models::virtio_net{}});
  const topology_plan second = planned<machines::q35>(next, {.spare_ports = 2}, first.controllers);
  for (std::size_t i = 0; i != devices.size(); ++i) {
    CHECK(second.placements[i].libvirt_address == first.placements[i].libvirt_address);
    CHECK(second.placements[i].guest_address == first.placements[i].guest_address);
    CHECK(second.placements[i].why == rule::given_address);
  }
  // the first two new devices take the two spare ports; the third gets a new port; then two new spares
  CHECK(second.controllers.size() == first.controllers.size() + 3);
  for (controller c : first.controllers) {
    c.added = false;  // given this time
    CHECK(*second.find(c.index) == c);
  }
}

TEST_CASE("pciplan: errors name the device, the constraint and the resource", "[planner][pciplan]") {
  const error dup = refused<machines::q35>({{"x", models::virtio_net{}}, {"x", models::virtio_blk{}}});
  CHECK(dup.code == errc::duplicate_name);
  CHECK(describe(dup) == "x: two requests have this name");
  const error link = refused<machines::q35>({{"nic", models::e1000{}, link_need::pcie}});
  CHECK(link.code == errc::invalid_request);
  CHECK(describe(link) == "nic: asks for a PCI Express slot, but the device is conventional PCI only");
  const error bus = refused<machines::q35>({{"nic", models::virtio_net{}, on_bus{controller_index{3}}}});
  CHECK(bus.code == errc::no_such_bus);
  const error ctl = refused<machines::q35>({}, {}, {make_controller<pci_root>(0)});
  CHECK(ctl.code == errc::invalid_controller);
  CHECK_THAT(describe(ctl), Catch::StartsWith("controller 0 (pci-root): "));
  // atomic: nothing of a failed plan comes back
  const std::vector<request> input{{"ok", models::virtio_net{}}, {"bad", models::e1000{}, link_need::pcie}};
  const result<topology_plan> r = plan<machines::q35>(input);
  CHECK_FALSE(r.has_value());
  CHECK_THROWS_AS(r.value(), bad_result_access);
  CHECK(input[0].fixed == address_kind::none);
}

TEST_CASE("pciplan: a domain-only request lands in its PCI domain, or is refused", "[planner][pciplan]") {
  // domain 0 exists on every machine with PCI
  const topology_plan q = planned<machines::q35>({{"nic", models::virtio_net{}, in_domain{0}}});
  CHECK(q.at("nic").guest_address.domain == 0);
  const error none = refused<machines::q35>({{"nic", models::virtio_net{}, in_domain{1}}});
  CHECK(none.code == errc::no_such_bus);
  CHECK(describe(none) == "nic: names a PCI domain other than 0, and this machine type has only domain 0");
  // pseries: domain d is the PHB with targetIndex d
  controller phb1 = make_controller<spapr_pci_host_bridge>(1);
  phb1.target_index = 1;
  const std::vector<controller> given{make_controller<spapr_pci_host_bridge>(0), phb1};
  const topology_plan ps = planned<machines::pseries>(
      {{"a", models::virtio_net{}}, {"b", models::virtio_net{}, in_domain{1}}, {"c", models::virtio_blk{}}}, {},
      given);
  CHECK(ps.at("b").guest_address.domain == 1);
  CHECK(ps.at("b").libvirt_address.bus.value == 1);
  CHECK(ps.at("b").why == rule::given_domain);
  CHECK(ps.at("a").guest_address.domain == 0);
  CHECK(ps.at("c").guest_address.domain == 0);
  CHECK(refused<machines::pseries>({{"x", models::virtio_net{}, in_domain{2}}}, {}, given).code == errc::no_such_bus);
  // a full domain refuses the next device: the planner adds no controller for it
  const unsigned slots = descriptor_of<spapr_pci_host_bridge>.slots.last - descriptor_of<spapr_pci_host_bridge>.slots.first + 1;
  std::vector<std::string> names = numbered("d", static_cast<int>(slots) + 1);
  std::vector<request> fill;
  for (unsigned k = 0; k != slots; ++k) fill.push_back({names[k], models::virtio_net{}, in_domain{1}});
  CHECK(planned<machines::pseries>(fill, {.spare_ports = 0}, given).placements.back().guest_address.domain == 1);
  fill.push_back({names[slots], models::virtio_net{}, in_domain{1}});
  const error full = refused<machines::pseries>(fill, {.spare_ports = 0}, given);
  CHECK(full.code == errc::no_free_slot);
  CHECK(describe(full) == "d" + std::to_string(slots) + ": names a PCI domain that has no free slot left for it");
}

TEST_CASE("pciplan: given controllers without an address hang below a root, with a new port if need be",
          "[planner][pciplan]") {
  // found by the real-QEMU test: an address-less switch upstream port given with its
  // downstream port was put on that downstream port, below itself
  const std::vector<controller> sw{make_controller<pcie_root>(0), make_controller<pcie_switch_upstream_port>(1),
                                   make_controller<pcie_switch_downstream_port>(2)};
  const topology_plan p = planned<machines::q35>({}, {.spare_ports = 0}, sw);
  const controller& up = *p.find(controller_index{1});
  CHECK(p.find(up.libvirt_address.bus)->kind == &descriptor_of<pcie_root_port>);
  CHECK(p.find(controller_index{2})->libvirt_address.bus.value == 1);
  // an address-less pcie-to-pci-bridge with no free port: a new root port, not a refusal
  const std::vector<controller> br{make_controller<pcie_root>(0), make_controller<pcie_to_pci_bridge>(1)};
  const topology_plan q = planned<machines::q35>({{"nic", models::e1000{}}}, {.spare_ports = 0}, br);
  CHECK(q.find(q.find(controller_index{1})->libvirt_address.bus)->kind == &descriptor_of<pcie_root_port>);
  CHECK(q.at("nic").libvirt_address.bus.value == 1);
  // the downstream port listed first waits for its upstream port
  const std::vector<controller> rev{make_controller<pcie_root>(0), make_controller<pcie_switch_downstream_port>(1),
                                    make_controller<pcie_switch_upstream_port>(2)};
  const topology_plan r = planned<machines::q35>({}, {.spare_ports = 0}, rev);
  CHECK(r.find(controller_index{1})->libvirt_address.bus.value == 2);
}
