// to_plan: a fixed layout or a static plan as a topology_plan — the same addresses, the
// controllers numbered, QEMU lines the validator accepts, and a base for run-time plans.
#include <pciplan/pciplan.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace pciplan;

namespace {

/// Every entry of the layout is where the plan has it: devices at their guest address,
/// controllers providing the same guest bus; the plan's QEMU lines pass the validator.
template <class M, std::size_t N>
void same_as_layout(const fixed_layout<M, N>& layout) {
  const topology_plan p = to_plan(layout);
  CHECK(p.machine == machine_name_of<M>);
  CHECK(p.added_count() == 0);
  std::size_t controllers = 1;  // the root bus
  for (const layout_entry& e : layout) {
    INFO(e.name);
    if (e.controller) {
      ++controllers;
      bool found = false;
      for (const controller& c : p.controllers) {
        if (c.kind == e.kind && c.guest_bus == e.guest_bus) found = true;
        if (c.kind != nullptr && c.kind->numbered_by.has(numbering::chassis)) CHECK(c.chassis >= 0);
      }
      CHECK(found);
    } else {
      CHECK(p.at(e.name).guest_address == e.guest_address);
      CHECK(p.at(e.name).device == e.device);
      CHECK(p.at(e.name).why == rule::given_address);
    }
  }
  CHECK(p.controllers.size() == controllers);
  std::string lines;
  for (const std::string& a : qemu_arguments(p)) lines += a + '\n';
  const validation_report report = validate<M>(read_qemu_layout(lines));
  INFO(lines);
  CHECK(report.accepted());
  CHECK(report.findings.empty());
}

}  // namespace

TEST_CASE("layout_plan: a fixed layout becomes a plan with the same addresses and numbered controllers",
          "[layout_plan]") {
  constexpr auto q35 = make_fixed_layout<machines::q35>(
      place<pcie_root_port, "rp1">(on_root, at<1, 0>), place<pcie_root_port, "rp2">(on_root, at<1, 1>),
      place<models::virtio_net, "wan">(on<"rp1">), place<pcie_switch_upstream_port, "sw">(on<"rp2">),
      place<pcie_switch_downstream_port, "sw.0">(on<"sw">, at<0>), place<models::nvme, "nvme0">(on<"sw.0">),
      place<pcie_expander_bus, "numa1">(on_root, at<5>, bus_nr<0x40>),
      place<pcie_root_port, "numa1.rp">(on<"numa1">, at<0>), place<models::virtio_gpu, "gpu">(on<"numa1.rp">),
      place<models::virtio_blk, "integrated">(on_root, at<0x1e, 0>));
  same_as_layout(q35);
  const topology_plan p = to_plan(q35);
  CHECK(p.find(controller_index{1})->port == 8);  // slot 1, function 0
  CHECK(p.find(controller_index{5})->bus_nr == 0x40);  // numa1: the fifth controller declared
  CHECK(p.at("gpu").guest_address == pci_address(0, 0x41, 0, 0));

  constexpr auto pc = make_fixed_layout<machines::pc>(
      place<pci_expander_bus, "pxb">(on_root, at<3>, bus_nr<0x20>), place<models::e1000, "nic">(on<"pxb">, at<1>),
      place<pci_bridge, "br">(on<"pxb">, at<2>), place<models::e1000, "nic2">(on<"br">, at<1>),
      place<models::virtio_blk, "blk">(on_root, at<4>));
  same_as_layout(pc);
  CHECK(to_plan(pc).find(controller_index{2})->chassis_nr >= 1);

  constexpr auto virt = make_fixed_layout<machines::aarch64_virt>(place<pcie_root_port, "rp">(on_root, at<1>),
                                                                  place<models::virtio_gpu, "gpu">(on<"rp">));
  same_as_layout(virt);
  constexpr auto pseries = make_fixed_layout<machines::pseries>(place<models::virtio_net, "net">(on_root, at<1>),
                                                                place<pci_bridge, "br">(on_root, at<2>),
                                                                place<models::e1000, "nic">(on<"br">, at<1>));
  same_as_layout(pseries);
}

TEST_CASE("layout_plan: to_plan works in constant evaluation", "[layout_plan]") {
  static constexpr auto layout = make_fixed_layout<machines::q35>(place<pcie_root_port, "rp">(on_root, at<2>),
                                                                  place<models::virtio_net, "net">(on<"rp">));
  STATIC_REQUIRE(to_plan(layout).at("net").guest_address == pci_address(0, 1, 0, 0));
  STATIC_REQUIRE(to_plan(layout).find(controller_index{1})->chassis == 1);
  STATIC_REQUIRE(to_plan(layout).machine == "q35");
}

TEST_CASE("layout_plan: a run-time plan adds devices to a fixed layout, and nothing of it moves", "[layout_plan]") {
  constexpr auto layout = make_fixed_layout<machines::q35>(
      place<pcie_root_port, "rp1">(on_root, at<1, 0>), place<pcie_root_port, "rp2">(on_root, at<1, 1>),
      place<models::virtio_net, "wan">(on<"rp1">));
  const topology_plan base = to_plan(layout);
  std::vector<request> more = pinned(base, layout_requests(layout));
  more.push_back({"hotplugged", models::virtio_blk{}});
  const result<topology_plan> grown = plan<machines::q35>(more, {.spare_ports = 1}, base.controllers);
  REQUIRE(grown.has_value());
  CHECK(grown->at("wan").guest_address == base.at("wan").guest_address);
  CHECK(grown->at("hotplugged").libvirt_address.bus == controller_index{2});  // the empty declared port
  for (const controller& c : base.controllers) {
    REQUIRE(grown->find(c.index) != nullptr);
    CHECK(grown->find(c.index)->libvirt_address == c.libvirt_address);
  }
}

TEST_CASE("layout_plan: a static plan becomes the same plan", "[layout_plan]") {
  static constexpr auto fixed = static_plan<machines::q35>(
      plan_options{.spare_ports = 1}, device<models::virtio_net>("wan"), device<models::e1000>("legacy"),
      device<models::ich9_ahci>("sata0"));
  const std::vector<request> same{{"wan", models::virtio_net{}}, {"legacy", models::e1000{}},
                                  {"sata0", models::ich9_ahci{}}};
  const result<topology_plan> run_time = plan<machines::q35>(same, {.spare_ports = 1});
  REQUIRE(run_time.has_value());
  const topology_plan p = to_plan(fixed);
  CHECK(p == *run_time);
  CHECK(qemu_arguments(p) == qemu_arguments(*run_time));
  CHECK(p.machine == "q35");
  STATIC_REQUIRE(fixed.machine == "q35");
}
