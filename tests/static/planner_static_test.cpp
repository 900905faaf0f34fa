// The planner in constant evaluation: the same code as at run time. Built twice: here
// the values are computed by the compiler; with CATCH_CONFIG_RUNTIME_STATIC_REQUIRE the
// PCIPLAN_TEST_CONSTEXPR lambdas run at run time (under the sanitizers in that build).
#include <catch2/catch.hpp>

#include "../support/support.hpp"

#include <array>

using namespace pciplan;

TEST_CASE("static_plan: the DESIGN.md appliance is planned by the compiler", "[planner][static]") {
  constexpr auto appliance = static_plan<machines::q35>(device<models::virtio_net>("wan"),
                                                         device<models::virtio_net>("lan"));
  STATIC_REQUIRE(appliance.at("wan").guest_address == pci_address{0, 1, 0, 0});
  STATIC_REQUIRE(appliance.at("lan").guest_address == pci_address{0, 2, 0, 0});
  STATIC_REQUIRE(appliance.controllers.size() == 7);  // pcie-root, 2 ports, 4 spares
  STATIC_REQUIRE(appliance.controllers[1].kind == &descriptor_of<pcie_root_port>);
  STATIC_REQUIRE(appliance.controllers[1].multifunction == toggle::on);
  STATIC_REQUIRE(appliance.find(controller_index{1})->port == 8);
  // the same shape as a run-time topology_plan: members, ranges, spans
  STATIC_REQUIRE(appliance.warnings.empty());
  STATIC_REQUIRE([] {
    constexpr auto plan = static_plan<machines::q35>(device<models::virtio_net>("wan"));
    const topology_view view(plan.controllers);
    std::size_t ports = 0;
    for (const controller& c : plan.controllers) ports += c.kind == &descriptor_of<pcie_root_port> ? 1 : 0;
    return view.size() == plan.controllers.size() && view.find(controller_index{1}) == &plan.controllers[1] &&
           ports + 1 == plan.controllers.size();
  }());
  constexpr auto small = static_plan<machines::q35>(plan_options{.spare_ports = 0},
                                                     device<models::virtio_net>("wan", hotplug::not_needed));
  STATIC_REQUIRE(small.controllers.size() == 1);
  STATIC_REQUIRE(small.at("wan").guest_address == pci_address{0, 0, 0x1e, 0});
}

TEST_CASE("static_plan: RULES.md L10 q35 headless at compile time", "[planner][static][libvirt]") {
  constexpr auto p = static_plan<machines::q35, policies::libvirt>(
      device<models::virtio_net>("net0"), device<models::qemu_xhci>("usb"), device<models::virtio_serial>("serial"),
      device<models::virtio_blk>("disk"), device<models::virtio_balloon>("balloon"), device<models::virtio_rng>("rng"));
  STATIC_REQUIRE(p.controllers.size() == 8);
  STATIC_REQUIRE(p.at("net0").libvirt_address == controller_address{0, 1, 0, 0});
  STATIC_REQUIRE(p.at("rng").libvirt_address == controller_address{0, 6, 0, 0});
  STATIC_REQUIRE(p.controllers[7].libvirt_address == controller_address{0, 0, 1, 6});
}

TEST_CASE("plan() in constant expressions: worked outputs and errors", "[planner][static]") {
  PCIPLAN_TEST_CONSTEXPR auto transitional = [] {
    const std::array<request, 3> d{request{"a", models::virtio_blk_transitional{}},
                                   request{"b", models::virtio_blk_transitional{}},
                                   request{"c", models::virtio_net{}}};
    const auto r = plan<machines::q35, policies::libvirt>(d);
    return std::array{r->at("a").libvirt_address, r->at("b").libvirt_address, r->at("c").libvirt_address};
  }();
  // the NIC comes first (interfaces before disks, RULES.md L3.3) and gets root port 1 in the dry run; the
  // disks add a root port narrowed to the pcie-to-pci-bridge (2) and the bridge (3). In the real
  // pass the bridge, a controller, is placed first, on the lowest empty root port: 1.
  STATIC_REQUIRE(transitional[0] == controller_address{0, 3, 1, 0});
  STATIC_REQUIRE(transitional[1] == controller_address{0, 3, 2, 0});
  STATIC_REQUIRE(transitional[2] == controller_address{0, 2, 0, 0});

  PCIPLAN_TEST_CONSTEXPR auto numa = [] {
    const std::array<request, 2> d{request{"gpu", models::vfio_pci{}, numa_node{1}}, request{"net", models::virtio_net{}}};
    const auto r = plan<machines::q35>(d, plan_options{.spare_ports = 1});
    const controller* port = r->find(r->at("gpu").libvirt_address.bus);
    return std::array{r->find(port->libvirt_address.bus)->bus_nr, static_cast<int>(r->at("gpu").guest_address.bus.value),
                      static_cast<int>(r->controllers.size())};
  }();
  STATIC_REQUIRE(numa[0] == 248);
  STATIC_REQUIRE(numa[1] == 249);
  // root, pxb-pcie, its port, the NIC's port, one spare, one spare port on node 1
  // (plan_options::spare_ports_per_node)
  STATIC_REQUIRE(numa[2] == 6);

  PCIPLAN_TEST_CONSTEXPR auto refused = [] {
    const std::array<request, 1> d{request{"gpu", models::vfio_pci{}, numa_node{0}}};
    return plan<machines::riscv64_virt>(d).error().code;
  }();
  STATIC_REQUIRE(refused == errc::numa_unsupported);

  PCIPLAN_TEST_CONSTEXPR auto mmio = [] {
    const std::array<request, 2> d{request{"a", models::virtio_net{}}, request{"b", models::virtio_blk{}}};
    const auto r = plan<machines::microvm>(d);
    return std::array{r->at("a").transport, r->at("b").transport};
  }();
  STATIC_REQUIRE(mmio[0] == 7);
  STATIC_REQUIRE(mmio[1] == 6);
}
