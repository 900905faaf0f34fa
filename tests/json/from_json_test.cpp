// from_json: a plan read back from what to_json wrote is the same plan; bad input is
// refused with an error that says where.
#include <pciplan/json.hpp>

#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

using namespace pciplan;

namespace {

/// A mix of what a plan can hold: PCI and PCIe devices, hotplug and not, NUMA nodes,
/// a multifunction group, an isolation group, a pinned device, odd names.
std::vector<request> mixed_devices(bool numa) {
  std::vector<request> r{
      {"net0", models::virtio_net{}},
      {"legacy \"nic\", with commas", models::e1000{}},
      {"gpu", models::vfio_pci{}, multifunction_group{1, 0}},
      {"gpu-audio", models::vfio_pci{}, multifunction_group{1, 1}},
      {"scratch", models::virtio_blk{}, hotplug::not_needed},
      {"xhci", models::qemu_xhci{}, isolation_group{2}},
      {"serial", models::virtio_serial{}, order_key{-1}},
  };
  if (numa) r.push_back({"nvme-node1", models::nvme{}, numa_node{1}});
  return r;
}

template <class M, class P>
void round_trip(const std::vector<request>& devices, const plan_options& options) {
  const result<topology_plan> p = plan<M, P>(devices, options);
  INFO(machine_name_of<M> << ": " << (p ? std::string("planned") : describe(p.error())));
  REQUIRE(p.has_value());
  const std::string text = to_json(*p);
  std::unique_ptr<std::string> copy = std::make_unique<std::string>(text);
  const topology_plan back = from_json(*copy);
  copy.reset();  // the plan has texts of its own
  CHECK(back == *p);
  CHECK(to_json(back) == text);
  CHECK(tree(back) == tree(*p));
  if (p->qemu_can_build()) CHECK(qemu_arguments(back) == qemu_arguments(*p));
}

std::string error_of(const std::string& text) {
  try {
    (void)from_json(text);
  } catch (const json_input_error& e) {
    return e.what();
  }
  return "no error";
}

/// A small plan's JSON with one piece replaced.
std::string edited(std::string_view from, std::string_view to) {
  static const std::string base = [] {
    const std::vector<request> devices{{"net0", models::virtio_net{}}, {"disk0", models::virtio_blk{}}};
    return to_json(*plan<machines::q35>(devices, {.spare_ports = 0}));
  }();
  std::string s = base;
  const std::size_t at = s.find(from);
  REQUIRE(at != std::string::npos);
  s.replace(at, from.size(), to);
  return s;
}

}  // namespace

TEST_CASE("json.round_trip: every machine type, both policies, the plan comes back equal", "[json]") {
  const plan_options numa{.spare_ports = 2, .numa_nodes = 2};
  const plan_options flat{.spare_ports = 1};
  round_trip<machines::q35, policies::pciplan>(mixed_devices(true), numa);
  round_trip<machines::q35, policies::libvirt>(mixed_devices(false), flat);
  round_trip<machines::pc, policies::pciplan>(mixed_devices(true), numa);
  round_trip<machines::pc, policies::libvirt>(mixed_devices(false), flat);
  round_trip<machines::aarch64_virt, policies::pciplan>(mixed_devices(true), numa);
  round_trip<machines::aarch64_virt, policies::libvirt>(mixed_devices(false), flat);
  round_trip<machines::riscv64_virt, policies::pciplan>(mixed_devices(false), flat);
  round_trip<machines::loongarch64_virt, policies::libvirt>(mixed_devices(false), flat);
  round_trip<machines::pseries, policies::pciplan>(mixed_devices(true), numa);
  round_trip<machines::pseries, policies::libvirt>(mixed_devices(false), flat);
  // virtio on channel I/O and on virtio-mmio: transports instead of addresses
  const std::vector<request> virtio{{"net0", models::virtio_net{}}, {"blk0", models::virtio_blk{}}};
  round_trip<machines::s390x_ccw, policies::pciplan>(virtio, flat);
  round_trip<machines::microvm, policies::pciplan>(virtio, flat);
  const std::vector<request> mmio{{"net0", models::virtio_net{}}, {"blk0", models::virtio_blk{}, transport::mmio}};
  round_trip<machines::aarch64_virt, policies::pciplan>(mmio, flat);
}

TEST_CASE("json.round_trip: given controllers keep their QEMU device, their id and their settings", "[json]") {
  std::vector<controller> given{make_controller<pcie_root>(0), make_controller<pcie_root_port>(1),
                                make_controller<pcie_root_port>(2)};
  given[1].model_name = "ioh3420";
  given[1].qemu_id = "ua-first-port";
  given[1].hotplug = toggle::off;
  given[2].model_name = "pcie-root-port";  // the default, written out
  given[2].io_reserve_zero = true;
  const std::vector<request> devices{{"net0", models::virtio_net{}, on_bus{controller_index{1}}},
                                     {"net1", models::virtio_net{}, at_address{controller_address(0, 2, 0, 0)}}};
  const result<topology_plan> p = plan<machines::q35, policies::libvirt>(devices, {}, given);
  INFO((p ? std::string("planned") : describe(p.error())));
  REQUIRE(p.has_value());
  const topology_plan back = from_json(to_json(*p));
  CHECK(back == *p);
  REQUIRE(back.find(controller_index{1}) != nullptr);
  CHECK(back.find(controller_index{1})->qemu_id == "ua-first-port");
  CHECK(back.find(controller_index{1})->model_name == "ioh3420");
  CHECK(back.find(controller_index{2})->model_name == "pcie-root-port");
  CHECK(back.policy == policy_family::libvirt);
}

TEST_CASE("json.round_trip: warnings and a device kind pciplan does not know come back", "[json]") {
  // 20 spare ports on q35 reserve more I/O space than the window holds
  std::vector<std::string> names;
  for (int i = 0; i != 4; ++i) names.push_back("nic" + std::to_string(i));
  std::vector<request> devices;
  for (const std::string& n : names) devices.push_back({n, models::virtio_net{}});
  device_descriptor custom{};
  custom.qemu_device = "my-accelerator";
  custom.link = link_kind::express;
  devices.push_back({"accel", custom});
  const result<topology_plan> p = plan<machines::q35>(devices, {.spare_ports = 20});
  REQUIRE(p.has_value());
  REQUIRE_FALSE(p->warnings.empty());
  const topology_plan back = from_json(to_json(*p));
  CHECK(back == *p);
  CHECK(back.warnings.front().text == p->warnings.front().text);
  CHECK(back.at("accel").device.qemu_device == "my-accelerator");
  const std::vector<std::string> args = qemu_arguments(back);
  CHECK(args.back().rfind("-device my-accelerator,id=accel,bus=pci.", 0) == 0);
}

TEST_CASE("json.errors: text that is not JSON: the line and column", "[json]") {
  try {
    (void)from_json("{\n  \"format\": \"pciplan-plan\",\n  \"version\": 1,,\n}");
    FAIL("no error");
  } catch (const json_input_error& e) {
    CHECK(e.line() == 3);
    CHECK(e.column() == 16);  // the second comma
    CHECK(e.where().empty());
    CHECK_THAT(e.what(), Catch::StartsWith("plan JSON, line 3, column 16: "));
  }
  CHECK_THAT(error_of(""), Catch::StartsWith("plan JSON, line 1, column 1: "));
  CHECK(error_of("[1, 2]") == "plan JSON: the document must be a JSON object");
}

TEST_CASE("json.errors: JSON that is not a plan: the path of the value at fault", "[json]") {
  CHECK(error_of(edited("\"format\": \"pciplan-plan\"", "\"format\": \"other\"")) ==
        "plan JSON, format: must be \"pciplan-plan\"");
  CHECK(error_of(edited("\"version\": 1", "\"version\": 2")) == "plan JSON, version: this pciplan reads version 1 only");
  CHECK(error_of(edited("\"machine\": \"q35\"", "\"machine\": \"vax\"")) ==
        "plan JSON, machine: 'vax' is not a machine type pciplan knows");
  CHECK(error_of(edited("\"policy\": \"pciplan\"", "\"policy\": \"mine\"")) ==
        "plan JSON, policy: 'mine' is none of pciplan, libvirt");
  CHECK(error_of(edited("\"model\": \"pcie-root-port\"", "\"model\": \"pcie-root-pot\"")) ==
        "plan JSON, controllers[1].model: 'pcie-root-pot' is not a controller model pciplan knows");
  CHECK(error_of(edited("\"chassis\": 1,", "\"chassis\": \"1\",")) ==
        "plan JSON, controllers[1].chassis: must be a whole number");
  CHECK(error_of(edited("\"chassis\": 1,", "\"chassis\": 256,")) == "plan JSON, controllers[1].chassis: must be 0 to 255");
  CHECK(error_of(edited("\"chassis\": 1,", "")) == "plan JSON, controllers[1].chassis: is missing");
  CHECK(error_of(edited("\"index\": 2,", "\"index\": 1,")) == "plan JSON, controllers[2].index: is used twice");
  CHECK(error_of(edited("\"name\": \"disk0\"", "\"name\": \"net0\"")) ==
        "plan JSON, devices[1].name: 'net0' is used twice");
  CHECK(error_of(edited("\"name\": \"disk0\"", "\"name\": \"\"")) == "plan JSON, devices[1].name: must not be empty");
  CHECK(error_of(edited("\"request\": 1", "\"request\": 0")) == "plan JSON, devices[1].request: is used twice");
  CHECK(error_of(edited("\"request\": 1", "\"request\": 2")) == "plan JSON, devices[1].request: must be 0 to 1");
  CHECK(error_of(edited("\"slot\": 0, \"function\": 0}, \"transport\"",
                        "\"slot\": 32, \"function\": 0}, \"transport\"")) ==
        "plan JSON, devices[0].libvirt_address.slot: must be 0 to 31");
  CHECK(error_of(edited("\"bus\": 1, \"slot\": 0, \"function\": 0}, \"transport\"",
                        "\"bus\": 9, \"slot\": 0, \"function\": 0}, \"transport\"")) ==
        "plan JSON, devices[0].libvirt_address.bus: names no controller of the plan");
  CHECK(error_of(edited("\"address\": \"0000:01:00.0\"", "\"address\": \"0000:01:00\"")) ==
        "plan JSON, devices[0].address: " +
            describe(parse_address<bus_number>("0000:01:00").error()));
  CHECK(error_of(edited("\"rule\": \"hotplug_port\"", "\"rule\": \"luck\"")).rfind(
            "plan JSON, devices[0].rule: 'luck' is none of given_address, ", 0) == 0);
  CHECK(error_of(edited("\"link\": \"virtio\"", "\"link\": true")) == "plan JSON, devices[0].device.link: must be a string");
  CHECK(error_of(edited("\"kind\": \"pci\"", "\"kind\": \"mmio\"")) == "plan JSON, devices[0].transport: must be a string");
  CHECK(error_of(edited("\"hotplug\": null", "\"hotplug\": \"maybe\"")) ==
        "plan JSON, controllers[0].hotplug: must be \"on\", \"off\" or null");
}
