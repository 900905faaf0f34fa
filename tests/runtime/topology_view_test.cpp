// The one view of a topology (<pciplan/topology/topology_view.hpp>): lookups by
// controller index, parents, and firmware's bus numbering (depth first in devfn order,
// expanders from their busNr, bus-reserve), on hand-made lists. The property tests check
// the same numbering against every random plan (tests/support/invariants.hpp).
#include <catch2/catch.hpp>

#include <pciplan/pciplan.hpp>

#include <vector>

using namespace pciplan;

namespace {

controller placed(controller c, unsigned parent, unsigned slot, unsigned function = 0) {
  return c.at(controller_address(0, parent, slot, function));
}

}  // namespace

TEST_CASE("topology_view finds controllers by index and their parents", "[topology][view]") {
  const std::vector<controller> list{make_controller<pcie_root>(0), placed(make_controller<pcie_root_port>(7), 0, 2),
                                     placed(make_controller<pcie_to_pci_bridge>(3), 7, 0),
                                     placed(make_controller<pci_bridge>(9), 42, 1)};
  const topology_view view(list);
  CHECK(view.position_of(controller_index{7}) == 1);
  CHECK(view.position_of(controller_index{5}) == no_position);
  CHECK(view.position_of(controller_index{1000}) == no_position);
  REQUIRE(view.find(controller_index{3}) != nullptr);
  CHECK(view.find(controller_index{3})->kind == &descriptor_of<pcie_to_pci_bridge>);
  CHECK(view.parent_of(0) == no_position);  // the root
  CHECK(view.parent_of(1) == 0);
  CHECK(view.parent_of(2) == 1);
  CHECK(view.parent_of(3) == no_position);  // its parent index 42 does not exist
}

TEST_CASE("firmware numbers buses depth first in devfn order", "[topology][view][numbering]") {
  // root ports at 00:02.0 (index 1) and 00:01.0 (index 2); a bridge below index 1
  const std::vector<controller> list{make_controller<pcie_root>(0), placed(make_controller<pcie_root_port>(1), 0, 2),
                                     placed(make_controller<pcie_root_port>(2), 0, 1),
                                     placed(make_controller<pcie_to_pci_bridge>(3), 1, 0),
                                     placed(make_controller<pci_bridge>(4), 3, 1)};
  const bus_numbering n = topology_view(list).number_buses();
  CHECK(n.bus == std::vector<unsigned>{0, 2, 1, 3, 4});
  CHECK(n.last == std::vector<unsigned>{4, 4, 1, 4, 4});
  CHECK(!n.overflow);
  for (unsigned char reached : n.numbered) CHECK(reached == 1);
}

TEST_CASE("expanders start at their busNr and must not meet the next range", "[topology][view][numbering]") {
  controller pxb_a = placed(make_controller<pcie_expander_bus>(1), 0, 3);
  pxb_a.bus_nr = 20;
  controller pxb_b = placed(make_controller<pcie_expander_bus>(2), 0, 4);
  pxb_b.bus_nr = 10;
  std::vector<controller> list{make_controller<pcie_root>(0), pxb_a, pxb_b,
                               placed(make_controller<pcie_root_port>(3), 1, 0), placed(make_controller<pcie_root_port>(4), 2, 0),
                               placed(make_controller<pcie_root_port>(5), 0, 1)};
  SECTION("ranges that hold") {
    const bus_numbering n = topology_view(list).number_buses();
    CHECK(n.bus == std::vector<unsigned>{0, 20, 10, 21, 11, 1});
    CHECK(n.last[0] == 1);  // the main hierarchy: the root and one port
    CHECK(n.last[1] == 21);
    CHECK(n.last[2] == 11);
    CHECK(!n.overflow);
  }
  SECTION("the main hierarchy reaching the first busNr") {
    list[2].bus_nr = 1;  // the root port at 00:01.0 takes bus 1 too
    CHECK(topology_view(list).number_buses().overflow);
  }
  SECTION("an expander's buses reaching the next busNr") {
    list[1].bus_nr = 11;  // pxb_b (10) has a port: bus 11 is taken twice
    CHECK(topology_view(list).number_buses().overflow);
  }
  SECTION("a pci-expander-bus takes two numbers: its root bus and its internal bridge") {
    std::vector<controller> pc{make_controller<pci_root>(0), placed(make_controller<pci_expander_bus>(1), 0, 3),
                               placed(make_controller<pci_bridge>(2), 1, 1)};
    pc[1].bus_nr = 5;
    const bus_numbering n = topology_view(pc).number_buses();
    CHECK(n.bus == std::vector<unsigned>{0, 6, 7});
  }
}

TEST_CASE("bus-reserve keeps numbers below a port, and loops are left unnumbered", "[topology][view][numbering]") {
  std::vector<bus_node> nodes(4);
  nodes[0].root = true;
  nodes[1].parent = 0;
  nodes[1].devfn = 8;  // 00:01.0
  nodes[1].reserve = 3;
  nodes[2].parent = 0;
  nodes[2].devfn = 16;  // 00:02.0
  nodes[3].parent = 3;  // on its own bus: firmware never reaches it
  const bus_numbering n = number_buses(nodes);
  CHECK(n.bus[1] == 1);
  CHECK(n.last[1] == 4);  // 1 + 3 reserved
  CHECK(n.bus[2] == 5);
  CHECK(n.numbered[3] == 0);
}

TEST_CASE("pseries PHBs are roots of their own PCI domains", "[topology][view][numbering]") {
  controller phb = make_controller<spapr_pci_host_bridge>(1);
  phb.target_index = 2;
  const std::vector<controller> list{make_controller<spapr_pci_host_bridge>(0), phb,
                                     placed(make_controller<pci_bridge>(2), 1, 1)};
  const bus_numbering n = topology_view(list).number_buses();
  CHECK(n.domain == std::vector<std::uint16_t>{0, 2, 2});
  CHECK(n.bus == std::vector<unsigned>{0, 0, 1});
}
