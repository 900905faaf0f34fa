// Reading a libvirt domain: machines, the device table, default devices, addresses,
// controller indexes, metadata constraints and bad input (<pciplan/libvirt.hpp>).
#include <pciplan/libvirt.hpp>
#include <pciplan/pciplan.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <string_view>

using pciplan::libvirt::domain;
using pciplan::libvirt::input_error;
using pciplan::machine_id;

namespace {

std::string make_domain(std::string_view devices, std::string_view machine = "q35", std::string_view arch = "x86_64",
                        std::string_view extra = "") {
  std::string s = "<domain type='kvm'>\n  <name>t</name>\n";
  s += extra;
  s += "  <os>\n    <type arch='" + std::string(arch) + "' machine='" + std::string(machine) + "'>hvm</type>\n  </os>\n";
  s += "  <devices>\n" + std::string(devices) + "  </devices>\n</domain>\n";
  return s;
}

const pciplan::request* find(const domain& d, std::string_view name) {
  for (const pciplan::request& r : d.requests()) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

std::string error_of(const std::string& xml) {
  try {
    domain d(xml);
  } catch (const input_error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("RULES.md L2.1: machine types by arch and machine attribute", "[libvirt][reader]") {
  using pciplan::machine_of;
  CHECK(machine_of("x86_64", "pc-i440fx-7.2") == machine_id::pc);
  CHECK(machine_of("x86_64", "") == machine_id::pc);
  CHECK(machine_of("x86_64", "pc-q35-7.2") == machine_id::q35);
  CHECK(machine_of("x86_64", "q35") == machine_id::q35);
  CHECK(machine_of("x86_64", "microvm") == machine_id::microvm);
  CHECK(machine_of("aarch64", "virt-7.2") == machine_id::aarch64_virt);
  CHECK(machine_of("riscv64", "virt") == machine_id::riscv64_virt);
  CHECK(machine_of("loongarch64", "virt") == machine_id::loongarch64_virt);
  CHECK(machine_of("ppc64le", "pseries-7.2") == machine_id::pseries);
  CHECK(machine_of("s390x", "s390-ccw-virtio-7.2") == machine_id::s390x_ccw);
  CHECK_FALSE(machine_of("x86_64", "isapc"));
  CHECK_FALSE(machine_of("aarch64", "versatilepb"));
  CHECK_FALSE(machine_of("m68k", "q800"));
}

TEST_CASE("RULES.md L2.1: the default devices libvirt adds", "[libvirt][reader]") {
  SECTION("q35: qemu-xhci, the SATA controller and a virtio balloon") {
    domain d(make_domain(""));
    REQUIRE(d.requests().size() == 3);
    CHECK(find(d, "usb0")->device.qemu_device == "qemu-xhci");
    CHECK(find(d, "sata0")->device.qemu_device == "ich9-ahci");
    CHECK(find(d, "balloon0")->device.qemu_device == "virtio-balloon-pci");
  }
  SECTION("pc: piix3-uhci and a balloon") {
    domain d(make_domain("", "pc"));
    REQUIRE(d.requests().size() == 2);
    CHECK(find(d, "usb0")->device.qemu_device == "piix3-usb-uhci");
  }
  SECTION("aarch64 virt: nothing") {
    domain d(make_domain("", "virt", "aarch64"));
    CHECK(d.requests().empty());
  }
  SECTION("riscv64 virt: a balloon only") {
    domain d(make_domain("", "virt", "riscv64"));
    REQUIRE(d.requests().size() == 1);
    CHECK(d.requests()[0].device.libvirt.element == "memballoon");
  }
  SECTION("pseries: pci-ohci for existing domains, qemu-xhci for new ones") {
    domain old_def(make_domain("", "pseries", "ppc64"));
    CHECK(find(old_def, "usb0")->device.qemu_device == "pci-ohci");
    domain new_def(make_domain("", "pseries", "ppc64"), {.new_definition = true});
    CHECK(find(new_def, "usb0")->device.qemu_device == "qemu-xhci");
  }
  SECTION("usb model='none' and memballoon model='none' add nothing") {
    domain d(make_domain("    <controller type='usb' model='none'/>\n    <memballoon model='none'/>\n"));
    REQUIRE(d.requests().size() == 1);
    CHECK(d.requests()[0].name == "sata0");
  }
  SECTION("implicit controllers: virtio-serial for a virtio channel, SCSI for a SCSI disk") {
    domain d(make_domain("    <disk type='file'><target dev='sda' bus='scsi'/></disk>\n"
                         "    <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>\n"));
    CHECK(find(d, "scsi0")->device.qemu_device == "lsi53c895a");
    CHECK(find(d, "virtio-serial0")->device.qemu_device == "virtio-serial-pci");
  }
}

TEST_CASE("RULES.md L3.2: which elements use PCI, and as what", "[libvirt][reader]") {
  domain d(make_domain(
      "    <controller type='usb' model='none'/>\n    <memballoon model='none'/>\n"
      "    <disk type='file'><target dev='vda' bus='virtio'/></disk>\n"
      "    <disk type='file' model='virtio-transitional'><target dev='vdb' bus='virtio'/></disk>\n"
      "    <disk type='file'><target dev='sda' bus='sata'/></disk>\n"
      "    <interface type='user'><model type='e1000e'/></interface>\n"
      "    <interface type='user'/>\n"
      "    <interface type='hostdev'><source><address type='pci' domain='0' bus='3' slot='0' function='0'/></source></interface>\n"
      "    <input type='tablet' bus='virtio' model='virtio-transitional'/>\n"
      "    <input type='tablet' bus='usb'/>\n"
      "    <sound model='ich9'/>\n    <sound model='usb'/>\n"
      "    <video><model type='qxl'/></video>\n    <video><model type='qxl'/></video>\n"
      "    <video><model type='ramfb'/></video>\n"
      "    <watchdog model='i6300esb'/>\n    <watchdog model='itco'/>\n"
      "    <serial type='pty'><target type='pci-serial'/></serial>\n    <serial type='pty'/>\n"
      "    <crypto model='virtio' type='qemu'><backend model='builtin'/></crypto>\n"
      "    <iommu model='intel'/>\n"
      "    <panic model='pvpanic'/>\n"));
  const auto qemu = [&](std::string_view name) { return std::string(find(d, name)->device.qemu_device); };
  CHECK(qemu("virtio-disk0") == "virtio-blk-pci");
  CHECK(qemu("virtio-disk1") == "virtio-blk-pci-transitional");
  CHECK(qemu("net0") == "e1000e");
  CHECK(qemu("net1") == "rtl8139");  // x86 default NIC model
  CHECK(qemu("hostdev0") == "vfio-pci");
  CHECK(find(d, "hostdev0")->device.libvirt.element == "hostdev");  // placed among the hostdevs
  CHECK(qemu("input0") == "virtio-tablet-pci");
  CHECK(find(d, "input0")->link == pciplan::link_need::pci);  // transitional: conventional PCI
  CHECK(qemu("sound0") == "ich9-intel-hda");
  CHECK(qemu("video0") == "qxl-vga");  // the primary qxl
  CHECK(qemu("video1") == "qxl");
  CHECK(qemu("watchdog0") == "i6300esb");
  CHECK(qemu("serial0") == "pci-serial");
  CHECK(qemu("crypto0") == "virtio-crypto-pci");
  CHECK(qemu("panic0") == "pvpanic-pci");  // model='pvpanic' on x86 (libvirt 11.3; 9.0 refuses it)
  // the 13 above and q35's SATA controller; the SATA disk, USB tablet, USB sound, ramfb, iTCO,
  // ISA serial and intel-iommu do not use PCI
  CHECK(d.requests().size() == 14);
}

TEST_CASE("RULES.md L4.10: an all-zero PCI address means 'PCI, anywhere'", "[libvirt][reader]") {
  domain d(make_domain("    <interface type='user'><model type='virtio'/><address type='pci'/></interface>\n"
                       "    <interface type='user'><model type='virtio'/>"
                       "<address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/></interface>\n"
                       "    <interface type='user'><model type='virtio'/><address type='pci' bus='4'/></interface>\n",
                       "virt", "aarch64"));
  CHECK(find(d, "net0")->fixed == pciplan::address_kind::none);
  CHECK(find(d, "net0")->via == pciplan::transport::pci);
  CHECK(find(d, "net1")->fixed == pciplan::address_kind::full);
  CHECK(find(d, "net1")->libvirt_address == pciplan::controller_address(0, 0, 5, 0));
  CHECK(find(d, "net2")->libvirt_address == pciplan::controller_address(0, 4, 0, 0));  // omitted fields are 0
}

TEST_CASE("RULES.md L2.4: <address type='virtio-mmio'/> asks for virtio-mmio", "[libvirt][reader]") {
  domain d(make_domain("    <disk type='file'><target dev='vda' bus='virtio'/><address type='virtio-mmio'/></disk>\n",
                       "virt", "aarch64"));
  CHECK(find(d, "virtio-disk0")->via == pciplan::transport::mmio);
}

TEST_CASE("RULES.md L4.6: index-less PCI controllers take the lowest unused index", "[libvirt][reader]") {
  domain d(make_domain("    <controller type='pci' model='pcie-root-port'/>\n"
                       "    <controller type='pci' index='2' model='pcie-root-port'/>\n"
                       "    <controller type='pci' model='pcie-root-port'/>\n"
                       "    <controller type='pci' model='pcie-root'/>\n"));
  std::vector<unsigned> indexes;
  for (const pciplan::controller& c : d.controllers()) indexes.push_back(c.index.value);
  CHECK(indexes == std::vector<unsigned>{1, 2, 3, 0});
  // without a root in the document the first index-less one takes index 0, and is
  // refused as the wrong root (libvirt 9.0 and 11.3 refuse the domain too)
  domain rootless(make_domain("    <controller type='pci' model='pci-bridge'/>\n", "pc"));
  CHECK(rootless.controllers()[0].index.value == 0);
  const pciplan::libvirt::xml_outcome out =
      pciplan::libvirt::plan_domain_xml(make_domain("    <controller type='pci' model='pci-bridge'/>\n", "pc"));
  CHECK(out.failed == pciplan::libvirt::failure::planning_conflict);
  CHECK_THAT(out.message, Catch::Contains("root bus"));
}

TEST_CASE("RULES.md L4.7: index-less ICH9 USB2 controllers join the set before them", "[libvirt][reader]") {
  domain d(make_domain("    <controller type='usb' model='ich9-ehci1'/>\n"
                       "    <controller type='usb' model='ich9-uhci1'/>\n"
                       "    <controller type='usb' model='ich9-uhci1'/>\n"
                       "    <controller type='usb' model='nec-xhci'/>\n"
                       "    <controller type='usb' model='ich9-uhci2'/>\n",
                       "pc"));
  // sets: {ehci1, uhci1} = index 0, {uhci1} = 1, nec-xhci = 2, {uhci2} = 3
  CHECK(find(d, "usb0")->multifunction == find(d, "usb1")->multifunction);
  CHECK(find(d, "usb2")->multifunction != find(d, "usb0")->multifunction);
  CHECK(find(d, "usb3")->multifunction == 0);
  CHECK(find(d, "usb0")->function == 7);
  CHECK(find(d, "usb1")->function == 0);
  CHECK(find(d, "usb4")->function == 1);
}

TEST_CASE("metadata constraints reach the device with that alias, and only it", "[libvirt][reader][metadata]") {
  const std::string meta =
      "  <metadata>\n    <pp:plan xmlns:pp='urn:pciplan:plan:1' spare-ports='7'>\n"
      "      <pp:device alias='ua-b' link='pcie' hotplug='no' numa-node='1' isolation-group='3' order='5'/>\n"
      "      <pp:device alias='ua-c' multifunction-group='2' function='1'/>\n"
      "    </pp:plan>\n  </metadata>\n";
  domain d(make_domain("    <interface type='user'><model type='virtio'/><alias name='ua-a'/></interface>\n"
                       "    <interface type='user'><model type='virtio'/><alias name='ua-b'/></interface>\n"
                       "    <interface type='user'><model type='virtio'/><alias name='ua-c'/></interface>\n",
                       "q35", "x86_64", meta));
  const pciplan::request& a = *find(d, "ua-a");
  const pciplan::request& b = *find(d, "ua-b");
  const pciplan::request& c = *find(d, "ua-c");
  CHECK(a.numa == -1);
  CHECK(a.hotplug_need == pciplan::hotplug::required);
  CHECK(b.link == pciplan::link_need::pcie);
  CHECK(b.hotplug_need == pciplan::hotplug::not_needed);
  CHECK(b.numa == 1);
  CHECK(b.isolation == 3);
  CHECK(b.order == 5);
  CHECK(c.multifunction == 2);
  CHECK(c.function == 1);
  CHECK(d.options().spare_ports == 7);
  domain overridden(make_domain("    <interface type='user'><alias name='ua-b'/></interface>\n"
                                "    <interface type='user'><alias name='ua-c'/></interface>\n",
                                "q35", "x86_64", meta),
                    {.spare_ports = 1});
  CHECK(overridden.options().spare_ports == 1);
}

TEST_CASE("<cpu><numa> cells set the guest's NUMA node count; <memory> its size", "[libvirt][reader]") {
  domain d(make_domain("", "q35", "x86_64",
                       "  <memory unit='GiB'>4</memory>\n"
                       "  <cpu><numa><cell id='0' cpus='0' memory='1'/><cell id='1' cpus='1' memory='1'/></numa></cpu>\n"));
  CHECK(d.options().numa_nodes == 2);
  CHECK(d.memory_kib() == 4u * 1024 * 1024);
  CHECK(d.options().memory.ram == 4ull << 30);  // the RAM memory_windows starts firmware's windows after
  CHECK(domain(make_domain("", "q35", "x86_64", "  <memory>2097152</memory>\n")).memory_kib() == 2097152);
  CHECK_THAT(error_of(make_domain("", "q35", "x86_64", "  <memory unit='parsecs'>1</memory>\n")),
             Catch::Contains("<memory> at line 3: unknown memory unit 'parsecs'"));
}

TEST_CASE("bad input names the element and the line", "[libvirt][reader][errors]") {
  CHECK_THAT(error_of("<domain><os>"), Catch::Contains("not well-formed XML (line 1)"));
  CHECK_THAT(error_of("<network/>"), Catch::Contains("root element must be <domain>"));
  CHECK_THAT(error_of("<domain/>"), Catch::Contains("<os><type"));
  CHECK_THAT(error_of(make_domain("", "isapc")), Catch::Contains("<type> at line 4: machine type 'isapc'"));
  CHECK_THAT(error_of(make_domain("    <controller type='pci' index='300' model='pci-bridge'/>\n", "pc")),
             Catch::Contains("<controller> at line 7: attribute index='300' is out of range (0 to 255)"));
  CHECK_THAT(error_of(make_domain("    <controller type='pci' index='1' model='pcie-root-port'><model name='pxb'/></controller>\n")),
             Catch::Contains("model name 'pxb' does not fit model 'pcie-root-port'"));
  CHECK_THAT(error_of(make_domain("    <interface type='user'><address type='pci' slot='0x3g'/></interface>\n")),
             Catch::Contains("<address> at line 7: attribute slot='0x3g' is not a number"));
  CHECK_THAT(error_of(make_domain("    <interface type='user'><alias name='ua-x'/></interface>\n"
                                  "    <disk type='file'><target dev='vda' bus='virtio'/><alias name='ua-x'/></disk>\n")),
             Catch::Contains("<disk> at line 8: alias 'ua-x' is used by two devices"));
  CHECK_THAT(error_of(make_domain("", "q35", "x86_64",
                                  "  <metadata><p:plan xmlns:p='urn:pciplan:plan:1'><p:device alias='ua-z'/></p:plan></metadata>\n")),
             Catch::Contains("no PCI device has alias 'ua-z'"));
  CHECK_THAT(error_of(make_domain("", "q35", "x86_64",
                                  "  <metadata><p:plan xmlns:p='urn:pciplan:plan:1'><p:device alias='balloon0' speed='9'/></p:plan></metadata>\n")),
             Catch::Contains("unknown constraint 'speed'"));
  CHECK_THAT(error_of(make_domain("    <controller type='usb' index='0' model='piix3-uhci'>"
                                  "<address type='pci' bus='0' slot='5'/></controller>\n", "pc")),
             Catch::Contains("<controller> at line 7: the piix3-usb-uhci controller with index 0 is built into the "
                             "chipset and must have PCI address 0000:00:01.2"));
  CHECK_THAT(error_of(make_domain("    <controller type='sata' index='0'><address type='pci' bus='0' slot='3'/></controller>\n")),
             Catch::Contains("must have PCI address 0000:00:1f.2"));
  CHECK_THAT(error_of(make_domain("", "q35", "x86_64",
                                  "  <metadata><p:plan xmlns:p='urn:pciplan:plan:1'/><q:plan xmlns:q='urn:pciplan:plan:1'/></metadata>\n")),
             Catch::Contains("two pciplan <plan> metadata elements"));
  CHECK_THAT(error_of(make_domain("    <controller type='usb' model='none'/>\n    <controller type='usb' index='1' model='qemu-xhci'/>\n")),
             Catch::Contains("<controller> at line 7: USB is turned off"));
  CHECK_THAT(error_of(make_domain("    <controller type='pci' index='1' model='pci-root'><target index='0'/></controller>\n",
                                  "pseries", "ppc64")),
             Catch::Contains("only the PCI controller with index 0 may have target index 0"));
  CHECK_THAT(error_of(make_domain("") + "<controller type='usb'/>\n"),
             Catch::Contains("<controller> at line 9: there is content after the root element <domain>"));
  CHECK_THAT(error_of(make_domain("") + "junk\n"), Catch::Contains("line 9): there is text after the root element"));
  CHECK_THAT(error_of(make_domain("") + "<!-- c -->junk>\n"), Catch::Contains("line 9): there is text after the root element"));
  CHECK_THAT(error_of(make_domain("") + std::string(1, '\0') + "</doma\n"),
             Catch::Contains("line 9): it contains a NUL character"));
  CHECK(error_of("<!-- a comment -->\n" + make_domain("") + "<!-- another -->\n\n") == "(no error)");
  CHECK_THAT(error_of(make_domain("    <controller type='usb' index='0' model='ich4-ehci1'/>\n", "pc")),
             Catch::Contains("<controller> at line 7: unknown usb controller model 'ich4-ehci1' (expected one of "
                             "piix3-uhci,"));
  CHECK_THAT(error_of(make_domain("    <controller type='scsi' index='0' model='megaraid'/>\n")),
             Catch::Contains("unknown scsi controller model 'megaraid'"));
  CHECK_THAT(error_of(make_domain("    <interface type='user'>\n      <address type='pcie' bus='1'/>\n    </interface>\n")),
             Catch::Contains("<address> at line 8: unknown address type 'pcie' (expected one of pci, drive,"));
}

TEST_CASE("planning errors say which kind of failure they are", "[libvirt][reader][errors]") {
  using pciplan::libvirt::failure;
  using pciplan::libvirt::plan_domain_xml;
  SECTION("contradicting constraints: a conflict (the tool's exit status 2)") {
    const auto out = plan_domain_xml(make_domain(
        "    <interface type='user'><model type='e1000'/><alias name='ua-n'/></interface>\n", "q35", "x86_64",
        "  <metadata><p:plan xmlns:p='urn:pciplan:plan:1'><p:device alias='ua-n' link='pcie'/></p:plan></metadata>\n"));
    CHECK(out.failed == failure::planning_conflict);
    CHECK_THAT(out.message, Catch::Contains("ua-n"));
    CHECK(out.xml.empty());
  }
  SECTION("no transport left: capacity (the tool's exit status 1)") {
    std::string disks;
    for (int i = 0; i < 40; ++i) disks += "    <disk type='file'><target dev='vd" + std::to_string(i) + "' bus='virtio'/></disk>\n";
    const auto out = plan_domain_xml(make_domain(disks, "microvm"));
    CHECK(out.failed == failure::planning_capacity);
    CHECK_THAT(out.message, Catch::Contains("virtio-mmio"));
    CHECK(out.xml.empty());
  }
}

TEST_CASE("the chipset's own controllers are index 0 of their type, whatever order they come in",
          "[libvirt][reader]") {
  // a USB controller with index 1 listed first must not take PIIX3's 00:01.2
  const std::string xml = make_domain("    <controller type='usb' index='1' model='piix3-uhci'/>\n"
                                      "    <controller type='usb' index='0' model='piix3-uhci'/>\n", "pc");
  for (const auto policy : {pciplan::libvirt::policy_kind::libvirt, pciplan::libvirt::policy_kind::pciplan}) {
    domain d(xml);
    const auto plan = d.plan(policy);
    REQUIRE(plan.has_value());
    CHECK(plan->at("usb1").guest_address == pciplan::pci_address(0, 0, 1, 2));  // index 0, the second element
    CHECK(plan->at("usb1").why == pciplan::rule::chipset_slot);
    CHECK(plan->at("usb0").guest_address != pciplan::pci_address(0, 0, 1, 2));
  }
}

TEST_CASE("a PIIX3 USB controller with another index is an ordinary device, even when it comes first",
          "[libvirt][reader]") {
  // libvirt 9.0 (checked with define + dumpxml): the index-less piix3-uhci takes index 1
  // and the first free slot, 00:02.0; the index-0 qemu-xhci follows at 00:03.0. 00:01.2
  // belongs to index 0 only. Found by the fuzzer: a PIIX3 controller with index 1 that
  // came first was drafted into the chipset role, so a document that pinned it
  // elsewhere was refused on the next pass.
  const std::string first = make_domain("    <controller type='usb' model='piix3-uhci'/>\n"
                                        "    <controller type='usb' index='0' model='qemu-xhci'/>\n"
                                        "    <memballoon model='none'/>\n", "pc");
  domain d(first);
  const auto plan = d.plan(pciplan::libvirt::policy_kind::libvirt);
  REQUIRE(plan.has_value());
  CHECK(plan->at("usb0").guest_address == pciplan::pci_address(0, 0, 2, 0));
  CHECK(plan->at("usb0").why != pciplan::rule::chipset_slot);
  CHECK(plan->at("usb1").guest_address == pciplan::pci_address(0, 0, 3, 0));
  // planned again, the written document is a fixed point (the index-1 controller pinned
  // at 00:02.0 is not drafted into the chipset role either)
  const std::string once = d.write(*plan);
  domain again(once);
  const auto replan = again.plan(pciplan::libvirt::policy_kind::libvirt);
  REQUIRE(replan.has_value());
  CHECK(again.write(*replan) == once);
}

TEST_CASE("the model-less USB controller of an existing q35 domain may stay on pcie.0 (corpus "
          "usb-controller-default-q35)",
          "[libvirt][reader]") {
  const std::string usb = "    <controller type='usb' index='0'/>\n";
  SECTION("existing domain, nothing else conventional: piix3-uhci at 00:01.0, no controller added") {
    domain d(make_domain(usb + "    <memballoon model='none'/>\n"));
    REQUIRE(find(d, "usb0") != nullptr);
    CHECK(find(d, "usb0")->otherwise == pciplan::fallback::root_bus);
    const auto plan = d.plan(pciplan::libvirt::policy_kind::libvirt);
    REQUIRE(plan.has_value());
    CHECK(plan->at("usb0").guest_address == pciplan::pci_address(0, 0, 1, 0));
    CHECK(plan->at("usb0").why == pciplan::rule::root_bus_fallback);
    const std::string out = d.write(*plan);
    CHECK(out.find("model='piix3-uhci'") != std::string::npos);
    CHECK(out.find("pcie-root-port") == std::string::npos);
  }
  SECTION("existing domain with a conventional watchdog: both behind the bridge the watchdog needs") {
    domain d(make_domain(usb + "    <watchdog model='i6300esb'/>\n    <memballoon model='none'/>\n"));
    const auto plan = d.plan(pciplan::libvirt::policy_kind::libvirt);
    REQUIRE(plan.has_value());
    CHECK(plan->at("usb0").guest_address == pciplan::pci_address(0, 2, 1, 0));
    CHECK(plan->at("watchdog0").guest_address == pciplan::pci_address(0, 2, 2, 0));
  }
  SECTION("an explicit piix3-uhci model, or a new definition, has no fallback") {
    domain explicit_model(make_domain("    <controller type='usb' index='0' model='piix3-uhci'/>\n"));
    CHECK(find(explicit_model, "usb0")->otherwise == pciplan::fallback::none);
    domain new_def(make_domain(usb), {.new_definition = true});
    CHECK(find(new_def, "usb0")->otherwise == pciplan::fallback::none);
    domain pc(make_domain(usb, "pc"));
    CHECK(find(pc, "usb0")->otherwise == pciplan::fallback::none);
  }
}

TEST_CASE("address numbers are read as libvirt reads them: 0x hex, a leading 0 octal, else decimal",
          "[libvirt][reader]") {
  // libvirt 9.0 and 11.3 both read slot='010' as 8 (C's base 0), and so does
  // pciplan::parse_libvirt_address: the reader agrees with it
  domain d(make_domain("    <interface type='user'><model type='virtio'/>"
                       "<address type='pci' domain='0' bus='0' slot='010' function='0'/></interface>\n"
                       "    <interface type='user'><model type='virtio'/>"
                       "<address type='pci' domain='0x0000' bus='0x00' slot='0x10' function='0x0'/></interface>\n"
                       "    <interface type='user'><model type='virtio'/>"
                       "<address type='pci' domain='0' bus='0' slot='10' function='0'/></interface>\n"));
  CHECK(find(d, "net0")->libvirt_address == pciplan::controller_address(0, 0, 8, 0));
  CHECK(find(d, "net1")->libvirt_address == pciplan::controller_address(0, 0, 16, 0));
  CHECK(find(d, "net2")->libvirt_address == pciplan::controller_address(0, 0, 10, 0));
  const auto plan = d.plan(pciplan::libvirt::policy_kind::libvirt);
  REQUIRE(plan.has_value());
  CHECK(plan->at("net0").guest_address == pciplan::pci_address(0, 0, 8, 0));
  CHECK(plan->at("net1").guest_address == pciplan::pci_address(0, 0, 16, 0));
  CHECK(plan->at("net2").guest_address == pciplan::pci_address(0, 0, 10, 0));
  const auto parsed = pciplan::parse_libvirt_address("slot='010'");
  REQUIRE(parsed.has_value());
  CHECK(parsed->slot == find(d, "net0")->libvirt_address.slot);
  CHECK(parsed->slot == 8);
  CHECK(pciplan::parse_libvirt_address("slot='0x10'")->slot == 16);
  // a digit that is not octal after a leading 0 is not a number, as in libvirt
  CHECK_THAT(error_of(make_domain("    <interface type='user'><address type='pci' slot='08'/></interface>\n")),
             Catch::Contains("<address> at line 7: attribute slot='08' is not a number"));
}

TEST_CASE("RULES.md L2.3: a device at the chipset SATA controller's address is the one named", "[libvirt][reader]") {
  // libvirt 9.0 and 11.3: "Attempted double use of PCI Address 0000:00:1f.2"; pciplan names
  // the user's device, not the controller the machine has by itself
  const std::string q35 = error_of(make_domain(
      "    <interface type='user'><model type='e1000e'/><address type='pci' bus='0' slot='0x1f' function='2'/>"
      "</interface>\n"));
  CHECK_THAT(q35, Catch::Contains("<interface> at line 7") &&
                      Catch::Contains("has PCI address 0000:00:1f.2, where the chipset has its ich9-ahci controller"));
  // pc: the PIIX3 IDE controller at 00:01.1
  const std::string pc = error_of(make_domain(
      "    <disk type='file' device='cdrom'><target dev='hda' bus='ide'/></disk>\n"
      "    <interface type='user'><model type='e1000'/><address type='pci' bus='0' slot='1' function='1'/>"
      "</interface>\n",
      "pc"));
  CHECK_THAT(pc, Catch::Contains("<interface>") && Catch::Contains("0000:00:01.1, where the chipset has its piix3-ide"));
}

TEST_CASE("<shmem>: its <size> is BAR 2, in bytes unless a unit says otherwise, and a power of two",
          "[libvirt][reader][bars]") {
  using pciplan::bar_space;
  using pciplan::device_bars;
  using namespace pciplan::literals;
  const auto shmem = [](std::string_view inner) {
    return make_domain("    <shmem name='lg'><model type='ivshmem-plain'/>" + std::string(inner) + "</shmem>\n");
  };
  SECTION("a size: BAR 0 of 256 bytes and BAR 2, 64-bit prefetchable, of the size") {
    const domain d(shmem("<size unit='M'>4096</size>"));
    const pciplan::request& r = *find(d, "shmem0");
    CHECK(r.device.qemu_device == "ivshmem-plain");
    CHECK(r.bars == device_bars{}.mem32(256).pref64(4_GiB));
    CHECK(r.bars[bar_space::pref64].size == 4_GiB);
  }
  SECTION("units as libvirt reads them, either case; no unit: bytes") {
    CHECK(find(domain(shmem("<size>2097152</size>")), "shmem0")->bars[bar_space::pref64].size == 2_MiB);
    CHECK(find(domain(shmem("<size unit='KiB'>2048</size>")), "shmem0")->bars[bar_space::pref64].size == 2_MiB);
    CHECK(find(domain(shmem("<size unit='mib'>32</size>")), "shmem0")->bars[bar_space::pref64].size == 32_MiB);
    CHECK(find(domain(shmem("<size unit='G'>2</size>")), "shmem0")->bars[bar_space::pref64].size == 2_GiB);
    CHECK(find(domain(shmem("<size unit='T'>1</size>")), "shmem0")->bars[bar_space::pref64].size == 1_TiB);
    CHECK(find(domain(shmem("<size unit='bytes'>1048576</size>")), "shmem0")->bars[bar_space::pref64].size == 1_MiB);
  }
  SECTION("no size, or 0: libvirt's default, 4 MiB, the catalogue's BARs") {
    const domain d(shmem(""));
    CHECK_FALSE(find(d, "shmem0")->bars.given);
    CHECK_FALSE(find(domain(shmem("<size unit='M'>0</size>")), "shmem0")->bars.given);
    CHECK(pciplan::catalogue_bars("ivshmem-plain", false).space == device_bars{}.mem32(256).pref64(4_MiB).space);
  }
  SECTION("bad sizes name the device") {
    CHECK_THAT(error_of(shmem("<size unit='M'>3</size>")),
               Catch::Contains("<shmem> at line 7: the size of shmem 'lg', 3145728 bytes, is not a power of two"));
    CHECK_THAT(error_of(shmem("<size unit='MB'>2</size>")), Catch::Contains("2000000 bytes, is not a power of two"));
    CHECK_THAT(error_of(shmem("<size>4096</size>")),
               Catch::Contains("the size of shmem 'lg', 4096 bytes, is less than 1 MiB"));
    CHECK_THAT(error_of(shmem("<size unit='parsecs'>1</size>")),
               Catch::Contains("the size of shmem 'lg' has an unknown unit 'parsecs'"));
    CHECK_THAT(error_of(shmem("<size unit='M'>lots</size>")), Catch::Contains("the size of shmem 'lg' is not a number"));
    CHECK_THAT(error_of(shmem("<size unit='E'>8</size>")), Catch::Contains("the size of shmem 'lg' is too large"));
  }
  SECTION("ivshmem-doorbell: the server sets the memory, libvirt refuses a <size>") {
    const domain d(make_domain("    <shmem name='db'><model type='ivshmem-doorbell'/><server path='/tmp/s'/></shmem>\n"));
    CHECK(find(d, "shmem0")->device.qemu_device == "ivshmem-doorbell");
    CHECK_FALSE(find(d, "shmem0")->bars.given);
    CHECK_THAT(error_of(make_domain("    <shmem name='db'><model type='ivshmem-doorbell'/><size unit='M'>8</size></shmem>\n")),
               Catch::Contains("<shmem> at line 7: shmem 'db' is an ivshmem-doorbell, which takes no <size>"));
  }
}

TEST_CASE("metadata: a device's bars and the plan's hotplug-budget", "[libvirt][reader][metadata][bars]") {
  using pciplan::device_bars;
  using namespace pciplan::literals;
  const std::string gpu =
      "    <hostdev mode='subsystem' type='pci' managed='yes'>\n"
      "      <source><address domain='0x0000' bus='0x41' slot='0x00' function='0x0'/></source>\n"
      "      <alias name='ua-gpu'/>\n    </hostdev>\n";
  const auto meta = [](std::string_view plan_attributes, std::string_view device_attributes) {
    return "  <metadata><p:plan xmlns:p='urn:pciplan:plan:1' " + std::string(plan_attributes) +
           "><p:device alias='ua-gpu' " + std::string(device_attributes) + "/></p:plan></metadata>\n";
  };
  SECTION("bars give the device's BARs; hotplug-budget the options'") {
    const domain d(make_domain(gpu, "q35", "x86_64",
                               meta("hotplug-budget='mem32:16M, pref64:64G'", "bars='mem32:16M,pref64:32G,pref64:32M'")));
    CHECK(find(d, "ua-gpu")->bars == device_bars{}.mem32(16_MiB).pref64(32_GiB).pref64(32_MiB));
    CHECK(d.options().hotplug_budget == device_bars{}.mem32(16_MiB).pref64(64_GiB));
  }
  SECTION("sizes: bytes, K, M, G, T, KiB…, either case; a size that is not a power of two is rounded up") {
    const domain d(make_domain(gpu, "q35", "x86_64", meta("", "bars='io:32,mem32:4k,mem64:1MiB,pref32:3M,pref64:1T'")));
    CHECK(find(d, "ua-gpu")->bars == device_bars{}.io(32).mem32(4_KiB).mem64(1_MiB).pref32(4_MiB).pref64(1_TiB));
  }
  SECTION("no budget: none; the option overrides the metadata's") {
    CHECK(domain(make_domain(gpu)).options().hotplug_budget.empty());
    pciplan::libvirt::domain_options o{};
    o.hotplug_budget = device_bars{}.pref64(8_GiB);
    const domain d(make_domain(gpu, "q35", "x86_64", meta("hotplug-budget='pref64:64G'", "")), o);
    CHECK(d.options().hotplug_budget == device_bars{}.pref64(8_GiB));
  }
  SECTION("the metadata's bars win over a <shmem>'s size") {
    const domain d(make_domain("    <shmem name='lg'><size unit='M'>64</size><alias name='ua-lg'/></shmem>\n", "q35",
                               "x86_64",
                               "  <metadata><p:plan xmlns:p='urn:pciplan:plan:1'><p:device alias='ua-lg' "
                               "bars='mem32:256,pref64:128M'/></p:plan></metadata>\n"));
    CHECK(find(d, "ua-lg")->bars == device_bars{}.mem32(256).pref64(128_MiB));
  }
  SECTION("bad lists name the attribute and the entry") {
    CHECK_THAT(error_of(make_domain(gpu, "q35", "x86_64", meta("", "bars='mem32:16M,memx:1G'"))),
               Catch::Contains("<p:device> at line 3: attribute bars='mem32:16M,memx:1G': BAR entry 'memx:1G': the space "
                               "must be io, mem32, mem64, pref32 or pref64"));
    CHECK_THAT(error_of(make_domain(gpu, "q35", "x86_64", meta("hotplug-budget='pref64:64Q'", ""))),
               Catch::Contains("<p:plan> at line 3: attribute hotplug-budget='pref64:64Q': BAR entry 'pref64:64Q': the "
                               "size must be a number of bytes, or a number with K, M, G or T"));
    CHECK_THAT(error_of(make_domain(gpu, "q35", "x86_64", meta("", "bars='pref64'"))),
               Catch::Contains("BAR entry 'pref64': an entry is space:size"));
    CHECK_THAT(error_of(make_domain(gpu, "q35", "x86_64", meta("", "bars='mem32:0'"))),
               Catch::Contains("BAR entry 'mem32:0': the size must be more than 0"));
    CHECK_THAT(error_of(make_domain(gpu, "q35", "x86_64", meta("", "bars='mem32:1M,,pref64:1G'"))),
               Catch::Contains("BAR list 'mem32:1M,,pref64:1G': an entry is empty"));
    CHECK_THAT(error_of(make_domain(gpu, "q35", "x86_64", meta("", "bars=''"))),
               Catch::Contains("attribute bars='': BAR list: the list is empty"));
    CHECK_THAT(error_of(make_domain(gpu, "q35", "x86_64", meta("", "bars='pref64:5000000T'"))),
               Catch::Contains("the size is more than 4 EiB"));
  }
}

TEST_CASE("parse_bars reads the metadata's BAR lists in constant evaluation too", "[libvirt][bars]") {
  using pciplan::device_bars;
  using pciplan::libvirt::parse_bars;
  using namespace pciplan::literals;
  STATIC_REQUIRE(*parse_bars("mem32:16M,pref64:32G") == device_bars{}.mem32(16_MiB).pref64(32_GiB));
  STATIC_REQUIRE(parse_bars("pref64:1G").value().given);
  STATIC_REQUIRE(*parse_bars("mem32:16MiB,pref64:32gib,io:256") == device_bars{}.mem32(16_MiB).pref64(32_GiB).io(256));
  STATIC_REQUIRE_FALSE(parse_bars("pref64:32iB"));
  STATIC_REQUIRE_FALSE(parse_bars("pref64:0x10"));  // decimal only
  STATIC_REQUIRE_FALSE(parse_bars("gpu:1G"));
  STATIC_REQUIRE(parse_bars("io:1x").error().code == pciplan::errc::attribute_value);
  CHECK(pciplan::describe(parse_bars(" mem32 : 1G , bad ").error()) ==
        "BAR entry 'bad': an entry is space:size, e.g. pref64:32G");
}

TEST_CASE("a PCI controller's <target memReserve> (KiB) is its 32-bit memory reserve", "[libvirt][reader][bars]") {
  const domain d(make_domain("    <controller type='pci' index='0' model='pcie-root'/>\n"
                             "    <controller type='pci' index='1' model='pcie-root-port'><target memReserve='0x4000'/></controller>\n"));
  REQUIRE(d.controllers().size() == 2);
  CHECK(d.controllers()[1].reserves.mem == 16u << 20);
  CHECK_THAT(error_of(make_domain("    <controller type='pci' index='1' model='pcie-expander-bus'><target memReserve='1024'/></controller>\n")),
             Catch::Contains("<target> at line 7: memReserve is for pcie-root-port and pci-bridge controllers only, not "
                             "model 'pcie-expander-bus'"));
}
