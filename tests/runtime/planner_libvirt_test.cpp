// The libvirt policy against libvirt's worked outputs (RULES.md L10 and L3.3,
// the corpus files named in each test) and its documented rules (L2-L4).
#include <catch2/catch.hpp>

#include <pciplan/pciplan.hpp>

#include "../support/invariants.hpp"
#include "../support/names.hpp"

#include <span>
#include <stdexcept>
#include <string>
#include <vector>

using namespace pciplan;
using lv = policies::libvirt;

namespace {

/// libvirt on a QEMU without pcie-pci-bridge.
struct old_qemu : policies::libvirt {
  static constexpr bool pcie_to_pci_bridge = false;
};

using test_support::ca;
using test_support::numbered;

template <class M>
topology_plan planned(const std::vector<request>& r, std::vector<controller> given = {}) {
  const result<topology_plan> p = plan<M, lv>(r, {}, given);
  INFO((p ? std::string("planned") : describe(p.error())));
  REQUIRE(p.has_value());
  const auto problems = invariants::check<M>(*p, r, true, 0);
  for (const auto& x : problems) FAIL_CHECK(x);
  return *p;
}

}  // namespace

TEST_CASE("RULES.md L10: q35 headless, 6 devices (x86_64-q35-headless)", "[planner][libvirt]") {
  const std::vector<request> devices{{"net0", models::virtio_net{}},   {"usb", models::qemu_xhci{}},
                                     {"serial", models::virtio_serial{}}, {"disk", models::virtio_blk{}},
                                     {"balloon", models::virtio_balloon{}}, {"rng", models::virtio_rng{}}};
  const topology_plan p = planned<machines::q35>(devices);
  REQUIRE(p.controllers.size() == 8);  // pcie-root + 7 root ports
  for (unsigned i = 1; i <= 7; ++i) {
    const controller& c = p.controllers[i];
    CHECK(c.kind == &descriptor_of<pcie_root_port>);
    CHECK(c.index.value == i);
    CHECK(c.libvirt_address == ca(0, 1, i - 1));  // packed 8 per slot: 00:01.0-00:01.6
    CHECK(c.chassis == static_cast<int>(i));
    CHECK(c.port == static_cast<int>(8 + i - 1));  // slot*8 + function
    CHECK(c.model_name == "pcie-root-port");
    CHECK(c.added);
  }
  CHECK(p.controllers[1].multifunction == toggle::on);
  CHECK(p.controllers[2].multifunction == toggle::unset);
  CHECK(p.at("net0").libvirt_address == ca(1, 0));
  CHECK(p.at("usb").libvirt_address == ca(2, 0));
  CHECK(p.at("serial").libvirt_address == ca(3, 0));
  CHECK(p.at("disk").libvirt_address == ca(4, 0));
  CHECK(p.at("balloon").libvirt_address == ca(5, 0));
  CHECK(p.at("rng").libvirt_address == ca(6, 0));
  CHECK(p.at("rng").guest_address == pci_address{0, 6, 0, 0});
  CHECK(p.at("net0").why == rule::added_bus);
  // root port 7 is the one spare (RULES.md L4.4)
  for (const placement& x : p.placements) CHECK(x.libvirt_address.bus.value != 7);
}

TEST_CASE("RULES.md L10: pc headless, the same devices on pci.0 (x86_64-pc-headless)", "[planner][libvirt]") {
  const std::vector<request> devices{{"net0", models::virtio_net{}},   {"usb", models::qemu_xhci{}},
                                     {"serial", models::virtio_serial{}}, {"disk", models::virtio_blk{}},
                                     {"balloon", models::virtio_balloon{}}, {"rng", models::virtio_rng{}}};
  const topology_plan p = planned<machines::pc>(devices);
  CHECK(p.controllers.size() == 1);
  CHECK(p.at("net0").libvirt_address == ca(0, 2));
  CHECK(p.at("usb").libvirt_address == ca(0, 3));
  CHECK(p.at("serial").libvirt_address == ca(0, 4));
  CHECK(p.at("disk").libvirt_address == ca(0, 5));
  CHECK(p.at("balloon").libvirt_address == ca(0, 6));
  CHECK(p.at("rng").libvirt_address == ca(0, 7));
  CHECK(p.at("net0").why == rule::lowest_free_slot);
}

TEST_CASE("RULES.md L10: conventional PCI on q35 gets root port + pcie-to-pci-bridge (virtio-transitional)",
          "[planner][libvirt]") {
  const auto names = numbered("disk", 9);
  std::vector<request> devices;
  for (const auto& n : names) devices.push_back({n, models::virtio_blk_transitional{}});
  const topology_plan p = planned<machines::q35>(devices);
  REQUIRE(p.controllers.size() == 4);
  CHECK(p.controllers[1].kind == &descriptor_of<pcie_root_port>);
  CHECK(p.controllers[1].libvirt_address == ca(0, 1, 0));
  CHECK(p.controllers[2].kind == &descriptor_of<pcie_to_pci_bridge>);
  CHECK(p.controllers[2].libvirt_address == ca(1, 0));
  CHECK(p.controllers[3].kind == &descriptor_of<pcie_root_port>);  // the spare
  CHECK(p.controllers[3].libvirt_address == ca(0, 1, 1));
  for (std::size_t i = 0; i != names.size(); ++i) {
    CHECK(p.placements[i].libvirt_address == ca(2, static_cast<unsigned>(i + 1)));  // 02:01-02:09
  }
}

TEST_CASE("RULES.md L3.3: placement order by device class (q35-pcie-autoadd)", "[planner][libvirt]") {
  const std::vector<request> devices{
      {"net", models::virtio_net{}},        {"net2", models::e1000e{}},        {"fs", models::virtio_9p{}},
      {"vserial", models::virtio_serial{}}, {"scsi", models::virtio_scsi{}},   {"usb", models::nec_xhci{}},
      {"disk", models::virtio_blk{}},       {"video", models::virtio_vga{}},   {"balloon", models::virtio_balloon{}},
      {"rng", models::virtio_rng{}},        {"in1", models::virtio_input_host{}}, {"in2", models::virtio_mouse{}},
      {"in3", models::virtio_keyboard{}},   {"in4", models::virtio_tablet{}}};
  const topology_plan p = planned<machines::q35>(devices);
  // fs->1, NIC->2, e1000e->3, virtio-serial->4, virtio-scsi->5, nec-xhci->6, disk->7, balloon->8, rng->9, inputs 10-13
  CHECK(p.at("fs").libvirt_address.bus.value == 1);
  CHECK(p.at("net").libvirt_address.bus.value == 2);
  CHECK(p.at("net2").libvirt_address.bus.value == 3);
  CHECK(p.at("vserial").libvirt_address.bus.value == 4);
  CHECK(p.at("scsi").libvirt_address.bus.value == 5);
  CHECK(p.at("usb").libvirt_address.bus.value == 6);
  CHECK(p.at("disk").libvirt_address.bus.value == 7);
  CHECK(p.at("balloon").libvirt_address.bus.value == 8);
  CHECK(p.at("rng").libvirt_address.bus.value == 9);
  CHECK(p.at("in4").libvirt_address.bus.value == 13);
  // video at 00:01.0 (RULES.md L2.3), so root ports 00:02.0-00:02.7 and 00:03.0-00:03.5, spare index 14
  CHECK(p.at("video").libvirt_address == ca(0, 1));
  CHECK(p.at("video").why == rule::chipset_slot);
  REQUIRE(p.controllers.size() == 15);
  CHECK(p.controllers[1].libvirt_address == ca(0, 2, 0));
  CHECK(p.controllers[8].libvirt_address == ca(0, 2, 7));
  CHECK(p.controllers[9].libvirt_address == ca(0, 3, 0));
  CHECK(p.controllers[14].libvirt_address == ca(0, 3, 5));
  CHECK(p.controllers[9].multifunction == toggle::on);
}

TEST_CASE("RULES.md L10: pxb-pcie with a switch of 32 downstream ports (pcie-expander-bus)",
          "[planner][libvirt]") {
  std::vector<controller> given;
  controller pxb = make_controller<pcie_expander_bus>(1).at(ca(0, 4));
  pxb.bus_nr = 254;
  pxb.numa_node = 0;
  given.push_back(pxb);
  given.push_back(make_controller<pcie_root_port>(2).at(ca(1, 0)));
  given.push_back(make_controller<pcie_switch_upstream_port>(3).at(ca(2, 0)));
  for (unsigned i = 4; i <= 35; ++i) given.push_back(make_controller<pcie_switch_downstream_port>(i));
  const auto names = numbered("nic", 32);
  std::vector<request> devices;
  for (unsigned i = 0; i != 32; ++i) devices.push_back({names[i], models::e1000{}, at_address{ca(4 + i, 0)}});
  devices.push_back({"usb", models::qemu_xhci{}});
  const topology_plan p = planned<machines::q35>(devices, given);
  for (unsigned i = 4; i <= 35; ++i) {
    const controller* dp = p.find(controller_index{static_cast<std::uint16_t>(i)});
    REQUIRE(dp != nullptr);
    CHECK(dp->libvirt_address == ca(3, i - 4));  // slots 0-31 of the upstream port
    CHECK(dp->port == static_cast<int>(i - 4));  // downstream port: port = slot
    CHECK(dp->chassis == static_cast<int>(i));
  }
  const controller* rp = p.find(controller_index{2});
  CHECK(rp->port == 0);
  CHECK(rp->chassis == 2);
  CHECK(p.find(controller_index{1})->bus_nr == 254);
  // the USB controller gets an added root port at 00:01.0; no spare (the user declared controllers)
  REQUIRE(p.controllers.size() == 37);
  CHECK(p.controllers.back().index.value == 36);
  CHECK(p.controllers.back().libvirt_address == ca(0, 1));
  CHECK(p.at("usb").libvirt_address == ca(36, 0));
  CHECK(p.at("nic0").why == rule::given_address);
  // libvirt's busNr 254 leaves 2 bus numbers for 35 buses: firmware cannot number them, and the plan says so
  REQUIRE(p.warnings.size() == 1);
  CHECK(p.warnings[0].code == warning_code::bus_numbers);
  CHECK(p.find(controller_index{2})->guest_bus == bus_number{255});  // the pxb's root port
}

TEST_CASE("RULES.md L10: pseries overflow adds a PHB (pseries-many-devices)", "[planner][libvirt]") {
  const auto names = numbered("scsi", 32);
  std::vector<request> devices;
  for (const auto& n : names) devices.push_back({n, models::virtio_scsi{}});
  const topology_plan p = planned<machines::pseries>(devices);
  for (unsigned i = 0; i != 31; ++i) CHECK(p.placements[i].libvirt_address == ca(0, i + 1));
  CHECK(p.placements[31].libvirt_address == ca(1, 1));
  REQUIRE(p.controllers.size() == 2);
  CHECK(p.controllers[1].kind == &descriptor_of<spapr_pci_host_bridge>);
  CHECK(p.controllers[1].target_index == 1);
  CHECK(p.controllers[0].target_index == 0);
  CHECK(p.placements[31].guest_address == pci_address{1, 0, 1, 0});  // PHB 1 is PCI domain 1
}

TEST_CASE("RULES.md L2.2: pci-bridges added early on pc (pci-bridge-many-disks)", "[planner][libvirt]") {
  const auto names = numbered("disk", 105);
  std::vector<request> devices{{"usb", models::piix3_uhci{}}};
  for (const auto& n : names) devices.push_back({n, models::virtio_blk{}});
  const topology_plan p = planned<machines::pc>(devices);
  REQUIRE(p.controllers.size() == 4);
  CHECK(p.controllers[1].libvirt_address == ca(0, 2));
  CHECK(p.controllers[2].libvirt_address == ca(0, 3));
  CHECK(p.controllers[3].libvirt_address == ca(0, 4));
  CHECK(p.controllers[1].chassis_nr == 1);
  CHECK(p.at("usb").libvirt_address == ca(0, 1, 2));
  CHECK(p.at("disk0").libvirt_address == ca(0, 5));
  CHECK(p.at("disk26").libvirt_address == ca(0, 0x1f));
  CHECK(p.at("disk27").libvirt_address == ca(1, 1));
  CHECK(p.at("disk104").libvirt_address == ca(3, 16));
}

TEST_CASE("RULES.md L4.6: index gaps and missing buses are filled with the default model",
          "[planner][libvirt]") {
  // a device fixed on bus 5 makes libvirt add root ports 1-5 (RULES.md O7)
  const std::vector<request> devices{{"net", models::virtio_net{}, at_address{ca(5, 0)}}};
  const topology_plan p = planned<machines::q35>(devices);
  REQUIRE(p.controllers.size() >= 6);
  for (unsigned i = 1; i <= 5; ++i) CHECK(p.controllers[i].kind == &descriptor_of<pcie_root_port>);
  // on pc a gap becomes a pci-bridge (pci-autoadd-idx)
  std::vector<controller> given{make_controller<pci_bridge>(3)};
  const topology_plan q = planned<machines::pc>({}, given);
  REQUIRE(q.controllers.size() == 4);
  CHECK(q.controllers[1].kind == &descriptor_of<pci_bridge>);
  CHECK(q.controllers[2].kind == &descriptor_of<pci_bridge>);
  CHECK(q.controllers[1].added);
  CHECK_FALSE(q.controllers[3].added);
}

TEST_CASE("RULES.md L4.4: no spare root port when the user declared controllers", "[planner][libvirt]") {
  const std::vector<request> devices{{"net", models::virtio_net{}}};
  const topology_plan auto_managed = planned<machines::q35>(devices);
  CHECK(auto_managed.controllers.size() == 3);  // root, the NIC's port, the spare
  const topology_plan user = planned<machines::q35>(devices, {make_controller<pcie_root_port>(1)});
  CHECK(user.controllers.size() == 2);  // the NIC uses the user's port, nothing added
  CHECK(user.at("net").libvirt_address == ca(1, 0));
}

TEST_CASE("RULES.md L4.6: busNr = lowest - 2 (pci-expander-bus)", "[planner][libvirt]") {
  const topology_plan p =
      planned<machines::pc>({}, {make_controller<pci_expander_bus>(1), make_controller<pci_expander_bus>(2)});
  CHECK(p.controllers[1].bus_nr == 254);
  CHECK(p.controllers[2].bus_nr == 252);
  // both on pci.0, in index order
  CHECK(p.controllers[1].libvirt_address == ca(0, 2));  // slot 1 is PIIX3
  CHECK(p.controllers[2].libvirt_address == ca(0, 3));
}

TEST_CASE("RULES.md L4.3: without pcie-pci-bridge, dmi-to-pci-bridge + pci-bridge", "[planner][libvirt]") {
  const std::vector<request> devices{{"nic", models::e1000{}}};
  const result<topology_plan> p = plan<machines::q35, old_qemu>(devices);
  REQUIRE(p.has_value());
  REQUIRE(p->controllers.size() == 4);  // and the spare root port (RULES.md L4.4)
  CHECK(p->controllers[3].kind == &descriptor_of<pcie_root_port>);
  CHECK(p->controllers[3].libvirt_address == ca(0, 1));
  CHECK(p->controllers[1].kind == &descriptor_of<dmi_to_pci_bridge>);
  CHECK(p->controllers[1].libvirt_address == ca(0, 0x1e));  // the dmi bridge's chipset position
  CHECK(p->controllers[2].kind == &descriptor_of<pci_bridge>);
  CHECK(p->controllers[2].libvirt_address == ca(1, 0));
  CHECK(p->at("nic").libvirt_address == ca(2, 1));
}

TEST_CASE("RULES.md L2.2/L2.3: chipset positions", "[planner][libvirt]") {
  const topology_plan pc = planned<machines::pc>({{"ide", models::piix3_ide{}},
                                                  {"usb", models::piix3_uhci{}},
                                                  {"video", models::cirrus_vga{}},
                                                  {"net", models::e1000{}}});
  CHECK(pc.at("ide").libvirt_address == ca(0, 1, 1));
  CHECK(pc.at("usb").libvirt_address == ca(0, 1, 2));
  CHECK(pc.at("video").libvirt_address == ca(0, 2));
  CHECK(pc.at("net").libvirt_address == ca(0, 3));
  const topology_plan q35 = planned<machines::q35>({{"sata", models::ich9_ahci{}},
                                                    {"video", models::qxl_vga{}},
                                                    {"sound", models::ich9_intel_hda{}},
                                                    {"ehci", models::ich9_ehci1{}, multifunction_group{1, 7}},
                                                    {"uhci1", models::ich9_uhci1{}, multifunction_group{1, 0}},
                                                    {"uhci2", models::ich9_uhci2{}, multifunction_group{1, 1}},
                                                    {"uhci3", models::ich9_uhci3{}, multifunction_group{1, 2}}});
  CHECK(q35.at("sata").libvirt_address == ca(0, 0x1f, 2));
  CHECK(q35.at("video").libvirt_address == ca(0, 1));
  CHECK(q35.at("sound").libvirt_address == ca(0, 0x1b));
  CHECK(q35.at("ehci").libvirt_address == ca(0, 0x1d, 7));
  CHECK(q35.at("uhci1").libvirt_address == ca(0, 0x1d, 0));
  CHECK(q35.at("uhci1").multifunction);
  CHECK(q35.at("uhci3").libvirt_address == ca(0, 0x1d, 2));
  CHECK(q35.controllers.size() == 1);  // everything on pcie.0: no root port, no spare
}

TEST_CASE("RULES.md L2.2/L2.3: which controller is the chipset's own", "[planner][libvirt]") {
  // first_of_kind (the default): the first USB controller, when it is a PIIX3 one not
  // pinned elsewhere; the ones after it are ordinary devices
  const topology_plan first = planned<machines::pc>({{"usb0", models::piix3_uhci{}}, {"usb1", models::piix3_uhci{}}});
  CHECK(first.at("usb0").libvirt_address == ca(0, 1, 2));
  CHECK(first.at("usb0").why == rule::chipset_slot);
  CHECK(first.at("usb1").libvirt_address == ca(0, 2));
  const topology_plan elsewhere = planned<machines::pc>({{"usb1", models::piix3_uhci{}, at_address{ca(0, 5)}},
                                                         {"usb0", models::piix3_uhci{}}});
  CHECK(elsewhere.at("usb1").libvirt_address == ca(0, 5));
  CHECK(elsewhere.at("usb1").why != rule::chipset_slot);
  CHECK(elsewhere.at("usb0").why != rule::chipset_slot);
  // pinned: only a controller pinned at the chipset address plays the role
  plan_options pinned{};
  pinned.chipset = plan_options::chipset_controllers::pinned;
  const std::vector<request> unpinned{{"usb", models::piix3_uhci{}}, {"ide", models::piix3_ide{}}};
  const result<topology_plan> p = plan<machines::pc, lv>(unpinned, pinned);
  REQUIRE(p.has_value());
  CHECK(p->at("usb").libvirt_address == ca(0, 2));
  CHECK(p->at("ide").libvirt_address == ca(0, 3));
  CHECK(p->at("usb").why != rule::chipset_slot);
  const std::vector<request> at_chipset{{"usb", models::piix3_uhci{}}, {"usb0", models::piix3_uhci{}, at_address{ca(0, 1, 2)}}};
  const result<topology_plan> q = plan<machines::pc, lv>(at_chipset, pinned);
  REQUIRE(q.has_value());
  CHECK(q->at("usb0").why == rule::chipset_slot);
  CHECK(q->at("usb").libvirt_address == ca(0, 2));
}

TEST_CASE("RULES.md L3.3: a primary video whose slot is taken is placed at once", "[planner][libvirt]") {
  // slot 2 of pc is taken by a pinned device, so the video takes the lowest free slot before the NIC
  const topology_plan p = planned<machines::pc>(
      {{"net", models::e1000{}}, {"pinned", models::e1000{}, at_address{ca(0, 2)}}, {"video", models::vga{}}});
  CHECK(p.at("video").libvirt_address == ca(0, 3));
  CHECK(p.at("net").libvirt_address == ca(0, 4));
}

TEST_CASE("RULES.md L2.4: virtio-mmio is sticky on virt machines", "[planner][libvirt]") {
  const topology_plan pci = planned<machines::aarch64_virt>({{"net", models::virtio_net{}}});
  CHECK(pci.at("net").kind == placement_kind::pci);
  const topology_plan mmio = planned<machines::aarch64_virt>({{"net", models::virtio_net{}},
                                                              {"blk", models::virtio_blk{}, transport::mmio},
                                                              {"nic", models::e1000{}}});
  CHECK(mmio.at("net").kind == placement_kind::mmio);
  CHECK(mmio.at("blk").kind == placement_kind::mmio);
  CHECK(mmio.at("nic").kind == placement_kind::pci);  // no virtio-mmio variant
  // QEMU hands out transports from the top (RULES.md O1: virtio-mmio-bus.31 first)
  CHECK(mmio.at("net").transport == 31);
  CHECK(mmio.at("blk").transport == 30);
}

TEST_CASE("RULES.md L2.7/L2.9: channel I/O on s390x, no PCI on microvm", "[planner][libvirt]") {
  const topology_plan s390 = planned<machines::s390x_ccw>({{"net", models::virtio_net{}}, {"gpu", models::vfio_pci{}}});
  CHECK(s390.at("net").kind == placement_kind::ccw);
  CHECK(s390.at("gpu").libvirt_address == ca(0, 1));
  const result<topology_plan> micro = plan<machines::microvm, lv>(std::vector<request>{{"nic", models::e1000{}}});
  REQUIRE_FALSE(micro);
  CHECK(micro.error().code == errc::no_pci);
}

TEST_CASE("RULES.md L4.5 and O9: at most 239 hot-pluggable PCIe devices on q35", "[planner][libvirt]") {
  const auto names = numbered("net", 240);
  std::vector<request> devices;
  for (int i = 0; i < 239; ++i) devices.push_back({names[static_cast<std::size_t>(i)], models::virtio_net{}});
  const topology_plan p = planned<machines::q35>(devices);
  CHECK(p.controllers.size() == 241);  // 239 ports + the spare + pcie-root
  devices.push_back({names[239], models::virtio_net{}});
  const result<topology_plan> r = plan<machines::q35, lv>(devices);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::no_free_slot);
  CHECK_THAT(describe(r.error()), Catch::Contains("pcie-root-port") && Catch::Contains("libvirt does not add"));
}

TEST_CASE("RULES.md L1.1 rule 2 and L5: given addresses use the relaxed rules, and are checked",
          "[planner][libvirt]") {
  // q35-pci-force-address: a PCI device on a root port is accepted when the user wrote it
  const topology_plan p = planned<machines::q35>({{"nic", models::e1000{}, at_address{ca(1, 0)}}},
                                                 {make_controller<pcie_root_port>(1)});
  CHECK(p.at("nic").why == rule::given_address);
  const auto refused = [](std::vector<request> r, std::vector<controller> c = {}) {
    const result<topology_plan> x = plan<machines::q35, lv>(r, {}, c);
    REQUIRE_FALSE(x);
    return x.error().code;
  };
  CHECK(refused({{"a", models::virtio_net{}, at_address{ca(0, 3)}}, {"b", models::virtio_net{}, at_address{ca(0, 3)}}}) ==
        errc::address_in_use);
  CHECK(refused({{"a", models::virtio_net{}, at_address{ca(1, 1)}}}, {make_controller<pcie_root_port>(1)}) ==
        errc::slot_not_usable);
  CHECK(refused({{"a", models::virtio_net{}, at_address{ca(0, 0x1f, 0)}}}) == errc::address_in_use);  // ICH9 LPC
  CHECK(refused({{"a", models::virtio_net{}, numa_node{0}}}) == errc::invalid_request);  // libvirt has no NUMA placement
  // an address-less pci-bridge with index 1 on q35 lands on its own bus (RULES.md O8)
  CHECK(refused({{"nic", models::e1000{}}}, {make_controller<pci_bridge>(1)}) == errc::invalid_controller);
}

TEST_CASE("libvirt policy: a domain-only request holds, or is refused", "[planner][libvirt]") {
  const auto names = numbered("scsi", 32);
  std::vector<request> devices;
  for (const auto& n : names) devices.push_back({n, models::virtio_scsi{}, in_domain{0}});
  devices.pop_back();
  CHECK(planned<machines::pseries>(devices).placements.back().guest_address.domain == 0);  // 31 fit on PHB 0
  // the 32nd would go to a new PHB (domain 1), as in pseries-many-devices: refused
  devices.push_back({names.back(), models::virtio_scsi{}, in_domain{0}});
  const result<topology_plan> full = plan<machines::pseries, lv>(devices);
  REQUIRE_FALSE(full);
  CHECK(full.error().code == errc::no_free_slot);
  CHECK(describe(full.error()) == "scsi31: names a PCI domain that has no free slot left for it");
  // libvirt has no domain-only placement for other domains
  const result<topology_plan> other = plan<machines::pseries, lv>(std::vector<request>{{"x", models::virtio_net{}, in_domain{1}}});
  REQUIRE_FALSE(other);
  CHECK(other.error().code == errc::invalid_request);
}

TEST_CASE("libvirt policy: a controller libvirt places below itself is reproduced, with a warning",
          "[planner][libvirt]") {
  // libvirt 9.0 and 11.3 put an address-less upstream port on its own downstream port
  // (checked with libvirt-assign); QEMU then cannot find the bus. The libvirt policy
  // gives libvirt's answer and says that QEMU cannot build it; the pciplan policy does.
  const std::vector<controller> sw{make_controller<pcie_root>(0), make_controller<pcie_switch_upstream_port>(1),
                                   make_controller<pcie_switch_downstream_port>(2)};
  const result<topology_plan> p = plan<machines::q35, lv>(std::vector<request>{}, {}, sw);
  REQUIRE(p);
  CHECK(p->find(controller_index{1})->libvirt_address.bus == controller_index{2});
  CHECK(p->find(controller_index{2})->libvirt_address.bus == controller_index{1});
  REQUIRE(p->warnings.size() == 1);
  CHECK(p->warnings[0].code == warning_code::unbuildable);
  CHECK(p->warnings[0].count == 2);
  CHECK_THAT(std::string(p->warnings[0].text), Catch::Contains("a loop of controllers"));
  CHECK_FALSE(p->qemu_can_build());
  CHECK_THROWS_AS(qemu_arguments(*p), std::invalid_argument);
  const result<topology_plan> own = plan<machines::q35, policies::pciplan>(std::vector<request>{}, {}, sw);
  REQUIRE(own);
  CHECK(own->qemu_can_build());
  CHECK(own->find(controller_index{1})->libvirt_address.bus != controller_index{2});
}

TEST_CASE("libvirt policy: a device with a root-bus fallback stays on pcie.0 unless a conventional slot exists "
          "(corpus usb-controller-default-q35, watchdog-q35-multiple, x86_64-q35-default-models)",
          "[planner][libvirt]") {
  SECTION("alone: the first free slot of pcie.0, and no bus is added") {
    const std::vector<request> r{{"usb", models::piix3_uhci{}, fallback::root_bus}};
    const topology_plan p = planned<machines::q35>(r);
    CHECK(p.at("usb").libvirt_address == ca(0, 1));
    CHECK(p.at("usb").why == rule::root_bus_fallback);
    CHECK(p.added_count() == 1);  // pcie-root only: no bridge, and no spare root port either
  }
  SECTION("a later conventional device adds the bridge, and the fallback device uses it, in its own order") {
    const std::vector<request> r{{"usb", models::piix3_uhci{}, fallback::root_bus},
                                 {"wd0", models::i6300esb{}},
                                 {"wd1", models::i6300esb{}}};
    const topology_plan p = planned<machines::q35>(r);
    CHECK(p.at("usb").libvirt_address == ca(2, 1));
    CHECK(p.at("wd0").libvirt_address == ca(2, 2));
    CHECK(p.at("wd1").libvirt_address == ca(2, 3));
    REQUIRE(p.find(controller_index{2}) != nullptr);
    CHECK(p.find(controller_index{2})->kind == &descriptor_of<pcie_to_pci_bridge>);
  }
  SECTION("without the fallback the same device adds the bridge itself") {
    const std::vector<request> r{{"usb", models::piix3_uhci{}}};
    const topology_plan p = planned<machines::q35>(r);
    CHECK(p.at("usb").libvirt_address == ca(2, 1));
    CHECK(p.added_count() == 4);  // pcie-root, root port, pcie-to-pci-bridge, spare root port
  }
  SECTION("a given controller with conventional slots takes it") {
    const std::vector<request> r{{"usb", models::piix3_uhci{}, fallback::root_bus}};
    const topology_plan p =
        planned<machines::q35>(r, {make_controller<pcie_root_port>(1), make_controller<pcie_to_pci_bridge>(2)});
    CHECK(p.at("usb").libvirt_address.bus.value == 2);
    CHECK(p.at("usb").why != rule::root_bus_fallback);
  }
}
