// registry: your own machine types and device kinds found by name at run time, planned,
// and read back from JSON.
#include <pciplan/json.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

namespace vendor {
struct board {};  // a q35 variant of some vendor's QEMU
struct fpga {};   // a PCIe accelerator
}  // namespace vendor

template <>
struct pciplan::machine_traits<vendor::board> : pciplan::machine_traits<pciplan::machines::q35> {
  static constexpr std::string_view name = "vendor-board";
};
template <>
struct pciplan::device_traits<vendor::fpga> : pciplan::endpoint_traits<pciplan::link_kind::express> {
  static constexpr std::string_view qemu_device = "vendor-fpga";
  static constexpr pciplan::libvirt_model libvirt{"hostdev", "vendor"};
};

using namespace pciplan;

TEST_CASE("registry: a registered machine type and device kind are found by name and planned", "[registry]") {
  registry known;
  known.add_machine<vendor::board>("board").add_device<vendor::fpga>();
  REQUIRE(known.knows_machine("board"));
  CHECK(known.knows_machine("vendor-board"));  // the name its plans record
  CHECK(known.knows_machine("pc-q35-7.2"));    // built-in names still work
  CHECK_FALSE(known.knows_machine("vax"));
  REQUIRE(known.device_named("vendor-fpga") == &device_descriptor_of<vendor::fpga>);
  CHECK(known.device_named("e1000e") == &device_descriptor_of<models::e1000e>);
  CHECK(known.device_named("no-such-device") == nullptr);
  const std::vector<const device_descriptor*> hostdevs = known.devices_for_libvirt("hostdev", "vendor");
  REQUIRE(hostdevs.size() == 1);
  CHECK(hostdevs[0] == &device_descriptor_of<vendor::fpga>);

  const std::vector<request> devices{{"accel", *known.device_named("vendor-fpga")},
                                     {"sata0", *known.device_named("ich9-ahci")}};
  const result<topology_plan> p = known.plan<policies::libvirt>("board", devices, {.spare_ports = 1});
  INFO((p ? std::string("planned") : describe(p.error())));
  REQUIRE(p.has_value());
  CHECK(p->machine == "vendor-board");
  CHECK(p->policy == policy_family::libvirt);
  CHECK(p->is_built_in(p->at("sata0")));  // the q35 chipset it inherits
  const std::vector<std::string> args = qemu_arguments(*p);
  CHECK(std::find(args.begin(), args.end(), "-device vendor-fpga,id=accel,bus=pci.1,addr=0x0") != args.end());

  // the same plan through the built-in name of its chipset is a q35 plan
  const result<topology_plan> q = known.plan<policies::libvirt>("q35", devices, {.spare_ports = 1});
  REQUIRE(q.has_value());
  CHECK(q->machine == "q35");
  CHECK(q->placements == p->placements);
}

TEST_CASE("registry: an unknown machine is an error that names it", "[registry]") {
  const registry known;
  const std::vector<request> devices{{"net0", models::virtio_net{}}};
  const result<topology_plan> p = known.plan("vax-11", devices);
  REQUIRE_FALSE(p.has_value());
  CHECK(p.error().code == errc::unknown_machine);
  CHECK(describe(p.error()) ==
        "unknown machine type 'vax-11': is neither a machine type pciplan knows nor one registered with add_machine");
}

TEST_CASE("registry: from_json reads a plan of a registered machine back", "[registry][json]") {
  registry known;
  known.add_machine<vendor::board>("board");
  const std::vector<request> devices{{"net0", models::virtio_net{}}, {"sata0", models::ich9_ahci{}}};
  const result<topology_plan> p = known.plan("board", devices);
  REQUIRE(p.has_value());
  const std::string text = to_json(*p);
  const topology_plan back = from_json(text, known);
  CHECK(back == *p);
  CHECK(back.machine == "vendor-board");
  // without the registry the machine is unknown
  try {
    (void)from_json(text);
    FAIL("no error");
  } catch (const json_input_error& e) {
    CHECK(std::string(e.what()) == "plan JSON, machine: 'vendor-board' is not a machine type pciplan knows");
  }
}
