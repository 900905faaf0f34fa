// Machines and device kinds chosen at run time: machine_named, plan(machine_id, …),
// device_named, devices_for_libvirt.
#include <catch2/catch.hpp>

#include <pciplan/pciplan.hpp>

#include <optional>
#include <string>
#include <vector>

using namespace pciplan;

TEST_CASE("machine_named reads pciplan's names, QEMU machine names and ARCH:MACHINE", "[machines][run-time]") {
  for (unsigned i = 0; i != machine_id_count; ++i) {
    const auto m = static_cast<machine_id>(i);
    INFO(name_of(m));
    CHECK(machine_named(name_of(m)) == m);
  }
  CHECK(machine_named("pc-q35-7.2") == machine_id::q35);
  CHECK(machine_named("pc-i440fx-7.2") == machine_id::pc);
  CHECK(machine_named("virt") == machine_id::aarch64_virt);
  CHECK(machine_named("virt-7.2") == machine_id::aarch64_virt);
  CHECK(machine_named("riscv64:virt") == machine_id::riscv64_virt);
  CHECK(machine_named("loongarch64:virt") == machine_id::loongarch64_virt);
  CHECK(machine_named("pseries-7.2") == machine_id::pseries);
  CHECK(machine_named("s390-ccw-virtio") == machine_id::s390x_ccw);
  CHECK(machine_named("x86_64:microvm") == machine_id::microvm);
  CHECK_FALSE(machine_named(""));
  CHECK_FALSE(machine_named("x86_64:"));
  CHECK_FALSE(machine_named("isapc"));
  CHECK_FALSE(machine_named("aarch64:versatilepb"));
  STATIC_REQUIRE(*machine_named("q35") == machine_id::q35);
}

TEST_CASE("plan(machine_id, …) gives what plan<Machine> gives", "[machines][run-time]") {
  const std::vector<request> devices{{"net0", models::virtio_net{}}, {"legacy0", models::e1000{}},
                                     {"disk0", models::virtio_blk{}, hotplug::not_needed}};
  for (const char* name : {"q35", "pc", "virt", "riscv64:virt", "pseries"}) {
    INFO(name);
    const std::optional<machine_id> m = machine_named(name);
    REQUIRE(m);
    const result<topology_plan> r = plan(*m, devices, {.spare_ports = 2});
    REQUIRE(r);
    const result<topology_plan> same =
        with_machine(*m, [&](auto t) { return plan<decltype(t)>(devices, {.spare_ports = 2}); });
    REQUIRE(same);
    CHECK(r->placements == same->placements);
    CHECK(r->controllers.size() == same->controllers.size());
  }
  // with a policy, and an error as plan<Machine> gives it
  const result<topology_plan> lv = plan<policies::libvirt>(machine_id::q35, devices);
  REQUIRE(lv);
  CHECK(lv->placements == plan<machines::q35, policies::libvirt>(devices)->placements);
  const std::vector<request> pci_only{{"legacy0", models::e1000{}, transport::pci}};
  const result<topology_plan> none = plan(machine_id::microvm, pci_only);
  REQUIRE_FALSE(none);
  CHECK(none.error().code == errc::no_pci);
}

TEST_CASE("device kinds by QEMU device name and by libvirt element and model", "[devices][run-time]") {
  CHECK(device_catalogue.size() == device_kind_list::size);
  CHECK(device_named("e1000e") == &device_descriptor_of<models::e1000e>);
  CHECK(device_named("virtio-net-pci") == &device_descriptor_of<models::virtio_net>);
  CHECK(device_named("virtio-net-device") == &device_descriptor_of<models::virtio_net>);  // its mmio variant
  CHECK(device_named("vfio-pci") == &device_descriptor_of<models::vfio_pci>);
  CHECK(device_named("e1000-82545em") == nullptr);
  CHECK(device_named("") == nullptr);
  // every entry is found by its own QEMU name
  for (const device_descriptor* d : device_catalogue) {
    INFO(d->qemu_device);
    CHECK(device_named(d->qemu_device) == d);
  }
  CHECK(devices_for_libvirt("interface", "e1000e") ==
        std::vector<const device_descriptor*>{&device_descriptor_of<models::e1000e>});
  CHECK(devices_for_libvirt("video", "virtio") ==
        std::vector<const device_descriptor*>{&device_descriptor_of<models::virtio_gpu>,
                                              &device_descriptor_of<models::virtio_vga>});
  CHECK(devices_for_libvirt("interface", "ne2k_pci").empty());
  // a looked-up kind plans like the type
  const std::vector<request> by_name{{"net0", *device_named("e1000e")}};
  const std::vector<request> by_type{{"net0", models::e1000e{}}};
  CHECK(plan<machines::q35>(by_name)->placements == plan<machines::q35>(by_type)->placements);
  STATIC_REQUIRE(device_named("qemu-xhci") == &device_descriptor_of<models::qemu_xhci>);
}
