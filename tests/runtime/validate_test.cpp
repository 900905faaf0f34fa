// The validator for hand-written QEMU layouts (<pciplan/validate/validate.hpp>): one test per
// rule of RULES.md Q0–Q36 it checks. Error texts are QEMU 7.2.22's, as
// RULES.md O4 records them (and as QEMU printed them for the same -device lines).
#include <pciplan/pciplan.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <string_view>

using pciplan::machines::aarch64_virt;
using pciplan::machines::microvm;
using pciplan::machines::pc;
using pciplan::machines::q35;
using pciplan::severity;

namespace {

template <class M>
pciplan::validation_report check(std::string_view text) {
  return pciplan::validate<M>(pciplan::read_qemu_layout(text));
}

/// The findings of one level, one per line, as `describe` writes them.
template <class M>
std::string findings(std::string_view text, severity level) {
  const pciplan::qemu_layout layout = pciplan::read_qemu_layout(text);
  std::string out;
  for (const pciplan::finding& f : pciplan::validate<M>(layout).findings) {
    if (f.level == level) out += describe(layout, f) + "\n";
  }
  return out;
}

template <class M>
std::string errors(std::string_view text) {
  return findings<M>(text, severity::error);
}
template <class M>
std::string warnings(std::string_view text) {
  return findings<M>(text, severity::warning);
}

}  // namespace

TEST_CASE("validate: reading layouts (-device lines, bare arguments, JSON, -numa, comments)", "[validate]") {
  const pciplan::qemu_layout l = pciplan::read_qemu_layout(
      "# a comment\n"
      "-object memory-backend-ram,id=m0,size=128M\n"
      "-numa node,nodeid=0,memdev=m0\n"
      "-numa node,nodeid=1\n"
      "-device pcie-root-port,id=rp1,chassis=1\r\n"
      "\n"
      "  virtio-net-pci,bus=rp1  \n"
      "-device '{\"driver\":\"e1000e\",\"id\":\"n2\"}'\n");
  REQUIRE(l.devices.size() == 3);
  CHECK(l.numa_nodes == 2);
  CHECK(l.devices[0].argument == "pcie-root-port,id=rp1,chassis=1");
  CHECK(l.devices[0].line == 5);
  CHECK(l.devices[1].argument == "virtio-net-pci,bus=rp1");
  CHECK(l.devices[2].argument == "{\"driver\":\"e1000e\",\"id\":\"n2\"}");
  CHECK(l.devices[2].line == 8);
}

TEST_CASE("validate: a planned-style layout is accepted without findings", "[validate]") {
  const auto r = check<q35>(
      "-device pcie-root-port,port=0x10,chassis=1,id=pci.1,bus=pcie.0,multifunction=on,addr=0x2\n"
      "-device pcie-root-port,port=0x11,chassis=2,id=pci.2,bus=pcie.0,addr=0x2.0x1\n"
      "-device pcie-root-port,port=0x12,chassis=3,id=pci.3,bus=pcie.0,addr=0x2.0x2\n"
      "-device pcie-pci-bridge,id=pci.4,bus=pci.3,addr=0x0\n"
      "-device virtio-net-pci,id=net0,bus=pci.1,addr=0x0\n"
      "-device {\"driver\":\"virtio-blk-pci\",\"id\":\"disk0\",\"bus\":\"pci.2\",\"addr\":\"0x0\"}\n"
      "-device e1000,id=net1,bus=pci.4,addr=0x1\n");
  CHECK(r.findings.empty());
  CHECK(r.accepted());
}

TEST_CASE("validate: QEMU's general argument checks (rule 0)", "[validate]") {
  CHECK_THAT(errors<q35>("-device e1000,bus=nosuch\n"), Catch::Contains("Bus 'nosuch' not found"));
  CHECK_THAT(errors<q35>("-device e1000e,id=n\n-device e1000,bus=n\n"), Catch::Contains("Bus 'n' not found"));
  CHECK_THAT(errors<q35>("-device pcie-root-port,id=a,chassis=1\n-device pcie-root-port,id=a,chassis=2\n"),
             Catch::Contains("line 2: error: -device pcie-root-port,id=a,chassis=2: Duplicate ID 'a' for device"));
  CHECK_THAT(errors<microvm>("-device e1000\n"), Catch::Contains("No 'PCI' bus found for device 'e1000'"));
  // virtio-mmio devices: on a transport, never on a PCI bus (found by mutating planned layouts)
  CHECK_THAT(errors<aarch64_virt>("-device virtio-net-device,bus=pcie.0,addr=0x3\n"),
             Catch::Contains("Device 'virtio-net-device' can't go on PCIE bus"));
  CHECK_THAT(errors<pc>("-device virtio-net-device,bus=pci.0\n"), Catch::Contains("can't go on PCI bus"));
  CHECK_THAT(errors<aarch64_virt>("-device virtio-blk-device,bus=nosuch\n"), Catch::Contains("Bus 'nosuch' not found"));
  CHECK(check<aarch64_virt>("-device virtio-net-device,bus=virtio-mmio-bus.31\n-device virtio-net-device\n").accepted());
  CHECK_THAT(errors<q35>("-device {\"driver\":\"e1000\",\"addr\":[1]}\n"), Catch::Contains("not a flat JSON object"));
  CHECK_THAT(errors<q35>("-device addr=0x3\n"), Catch::Contains("must start with the device model name"));
  CHECK_THAT(errors<q35>("-device e1000,multifunction=maybe\n"),
             Catch::Contains("Parameter 'multifunction' expects 'on' or 'off'"));
  // a model pciplan does not know is checked as a conventional PCI endpoint, with a warning
  const auto r = check<q35>("-device my-vendor-nic,addr=0x5\n-device e1000,addr=0x5\n");
  CHECK(r.count(severity::warning) == 1);
  CHECK_FALSE(r.accepted());
}

TEST_CASE("validate: RULES.md Q1: slot 0-31, function 0-7, one device per devfn", "[validate]") {
  CHECK_THAT(errors<q35>("-device e1000,addr=0x3\n-device virtio-net-pci,addr=0x3\n"),
             Catch::Contains("PCI: slot 3 function 0 not available for virtio-net-pci, in use by e1000,id=(null)"));
  CHECK_THAT(errors<q35>("-device virtio-net-pci,id=a,addr=3\n-device virtio-net-pci,addr=0x3\n"),
             Catch::Contains("in use by virtio-net-pci,id=a"));
  CHECK_THAT(errors<q35>("-device pcie-root-port,addr=0x2.0x8\n"),
             Catch::Contains("Property 'pcie-root-port.addr' doesn't take value '0x2.0x8'"));
  CHECK_THAT(errors<q35>("-device virtio-net-pci,addr=0x20\n"),
             Catch::Contains("Property 'virtio-net-pci.addr' doesn't take value '0x20'"));
  // the machines' built-in functions, named as QEMU names them
  CHECK_THAT(errors<q35>("-device virtio-net-pci,addr=0x0\n"), Catch::Contains("in use by mch,id=(null)"));
  CHECK_THAT(errors<q35>("-device virtio-net-pci,addr=0x1f.0x2\n"),
             Catch::Contains("PCI: slot 31 function 2 not available for virtio-net-pci, in use by ich9-ahci,id=(null)"));
  CHECK_THAT(errors<q35>("-device virtio-net-pci,addr=0x1f.0x3\n"), Catch::Contains("in use by ICH9-SMB"));
  CHECK_THAT(errors<pc>("-device e1000,addr=0x1\n"), Catch::Contains("in use by PIIX3,id=(null)"));
  CHECK_THAT(errors<pc>("-device e1000,addr=0x1.0x1\n"), Catch::Contains("in use by piix3-ide,id=(null)"));
  CHECK_THAT(errors<aarch64_virt>("-device e1000,addr=0x0\n"), Catch::Contains("in use by gpex-root,id=(null)"));
  CHECK(check<pc>("-device e1000,addr=0x1.0x2\n").accepted());  // PIIX3's USB function is free with -nodefaults
}

TEST_CASE("validate: RULES.md Q2: no free slot when addr is left out", "[validate]") {
  std::string ports;
  for (int i = 1; i <= 31; ++i) ports += "-device pcie-root-port,chassis=" + std::to_string(i) + "\n";
  // q35: slot 0 (MCH) and 0x1f (ICH9) are taken, so 30 ports fit
  CHECK_THAT(errors<q35>(ports), Catch::Contains("line 31: error: -device pcie-root-port,chassis=31: PCI: no "
                                                 "slot/function available for pcie-root-port, all in use or reserved"));
  CHECK(errors<q35>(ports).find("line 30") == std::string::npos);
}

TEST_CASE("validate: RULES.md Q3: multifunction", "[validate]") {
  CHECK_THAT(errors<q35>("-device pcie-root-port,id=a,chassis=1,addr=0x2\n-device pcie-root-port,id=b,chassis=2,addr=0x2.0x1\n"),
             Catch::Contains("PCI: single function device can't be populated in function 2.1"));
  CHECK_THAT(errors<q35>("-device pcie-root-port,id=b,chassis=2,addr=0xa.0x1\n-device pcie-root-port,id=a,chassis=1,addr=0xa\n"),
             Catch::Contains("PCI: a.0 indicates single function, but a.1 is already populated."));
  // function 0 added last with multifunction=on is fine; without function 0 QEMU starts,
  // but the guest does not see the slot
  CHECK(check<q35>("-device pcie-root-port,id=b,chassis=2,addr=0x2.0x1\n"
                   "-device pcie-root-port,id=a,chassis=1,addr=0x2,multifunction=on\n")
            .findings.empty());
  const auto lonely = check<q35>("-device pcie-root-port,id=r,chassis=1,addr=0x2.0x1\n");
  CHECK(lonely.accepted());
  CHECK_THAT(warnings<q35>("-device pcie-root-port,id=r,chassis=1,addr=0x2.0x1\n"),
             Catch::Contains("slot 2 has no function 0, so the guest does not see this function [qemu rule 3]"));
}

TEST_CASE("validate: RULES.md Q5 and Q6: a port's one slot", "[validate]") {
  const std::string two = "-device pcie-root-port,id=r,chassis=1\n-device virtio-net-pci,bus=r\n-device virtio-net-pci,bus=r\n";
  CHECK(check<q35>(two).accepted());  // QEMU 7.2 starts with it (RULES.md O5)
  CHECK_THAT(warnings<q35>(two), Catch::Contains("line 3: warning: -device virtio-net-pci,bus=r: a PCI Express port has "
                                                 "one slot: this device at slot 1 of 'r'"));
}

TEST_CASE("validate: RULES.md Q7 and Q9: PCI and PCIe endpoints where they belong", "[validate]") {
  CHECK_THAT(warnings<q35>("-device e1000e,addr=0x3\n"),
             Catch::Contains("PCI Express endpoint directly on the root complex ('pcie.0') becomes an integrated "
                             "endpoint") &&
                 Catch::Contains("[qemu rule 7]"));
  CHECK(warnings<q35>("-device e1000,addr=0x3\n").empty());  // a legacy device on pcie.0: integrated, as advised
  CHECK_THAT(warnings<q35>("-device pcie-root-port,id=r,chassis=1\n-device e1000,bus=r\n"),
             Catch::Contains("a conventional PCI device behind the PCI Express port 'r'") &&
                 Catch::Contains("[qemu rule 9]"));
  CHECK_THAT(warnings<q35>("-device pcie-pci-bridge,id=b\n-device e1000e,bus=b,addr=0x1\n"),
             Catch::Contains("PCI Express device on the conventional PCI bus 'b'"));
  CHECK(warnings<pc>("-device e1000e\n").empty());  // pc has no PCI Express at all
}

TEST_CASE("validate: RULES.md Q8 and Q11: expander buses", "[validate]") {
  CHECK_THAT(errors<q35>("-device pxb-pcie,id=x,bus_nr=10\n-device e1000e,bus=x\n"),
             Catch::Contains("PCI: Only PCI/PCIe bridges can be plugged into pxb-pcie"));
  CHECK(check<q35>("-device pxb-pcie,id=x,bus_nr=10\n-device pcie-root-port,id=r,bus=x,chassis=1\n"
                   "-device e1000e,bus=r\n")
            .findings.empty());
  CHECK_THAT(errors<pc>("-device pxb-pcie,id=x,bus_nr=10\n"), Catch::Contains("pxb-pcie devices cannot reside on a PCI bus"));
  CHECK_THAT(errors<q35>("-device pxb,id=x,bus_nr=10\n"), Catch::Contains("pxb devices cannot reside on a PCIe bus"));
  CHECK_THAT(errors<q35>("-device pcie-root-port,id=r,chassis=1\n-device pxb-pcie,id=x,bus_nr=10,bus=r\n"),
             Catch::Contains("PXB devices can be attached only to root bus"));
  // legacy pxb: its devices sit behind its internal pci-bridge, slot 0 included
  CHECK(check<pc>("-device pxb,id=x,bus_nr=10\n-device e1000,bus=x,addr=0x0\n").accepted());
}

TEST_CASE("validate: RULES.md Q10: switch ports", "[validate]") {
  CHECK(check<q35>("-device pcie-root-port,id=r,chassis=1\n-device x3130-upstream,id=u,bus=r\n"
                   "-device xio3130-downstream,id=d,bus=u,chassis=2\n-device e1000e,bus=d\n")
            .findings.empty());
  const std::string loose = "-device xio3130-downstream,id=d,chassis=2\n-device x3130-upstream,id=u\n";
  CHECK(check<q35>(loose).accepted());  // QEMU 7.2 accepts both on pcie.0 (RULES.md O5)
  CHECK_THAT(warnings<q35>(loose), Catch::Contains("a switch downstream port belongs on a switch upstream port") &&
                                       Catch::Contains("a switch upstream port belongs on a root port or a downstream port"));
}

TEST_CASE("validate: RULES.md Q12: unique (chassis, slot) of ports", "[validate]") {
  CHECK_THAT(errors<q35>("-device pcie-root-port,id=a\n-device pcie-root-port,id=b\n"),
             Catch::Contains("line 2: error: -device pcie-root-port,id=b: Can't add chassis slot, error -16"));
  CHECK_THAT(errors<q35>("-device pcie-root-port,id=a,chassis=1\n-device x3130-upstream,id=u,bus=a\n"
                         "-device xio3130-downstream,id=d,bus=u,chassis=1\n"),
             Catch::Contains("Can't add chassis slot, error -16"));
  CHECK(check<q35>("-device pcie-root-port,id=a,chassis=1\n-device pcie-root-port,id=b,chassis=1,slot=1\n").accepted());
}

TEST_CASE("validate: RULES.md Q13: pci-bridge chassis_nr", "[validate]") {
  CHECK_THAT(errors<pc>("-device pci-bridge,id=b,shpc=off\n"),
             Catch::Contains("Bridge chassis not specified. Each bridge is required to be assigned a unique chassis id > 0."));
  const std::string same = "-device pci-bridge,id=a,chassis_nr=1\n-device pci-bridge,id=b,chassis_nr=1\n";
  CHECK(check<pc>(same).accepted());  // QEMU 7.2 accepts it (RULES.md O5)
  CHECK_THAT(warnings<pc>(same), Catch::Contains("chassis_nr 1 is also used by another pci-bridge"));
}

TEST_CASE("validate: RULES.md Q14: slot 0 of an SHPC bridge", "[validate]") {
  CHECK_THAT(warnings<q35>("-device pcie-pci-bridge,id=b\n-device e1000,bus=b,addr=0x0\n"),
             Catch::Contains("slot 0 of 'b' is not a hotplug slot") && Catch::Contains("[qemu rule 14]"));
  CHECK(warnings<pc>("-device pci-bridge,id=b,chassis_nr=1,shpc=off\n-device e1000,bus=b,addr=0x0\n").empty());
  CHECK(warnings<q35>("-device pcie-pci-bridge,id=b\n-device e1000,bus=b,addr=0x1\n").empty());
}

TEST_CASE("validate: RULES.md Q16 and Q17: expander bus numbers", "[validate]") {
  CHECK_THAT(errors<q35>("-device pxb-pcie,id=x,bus_nr=64\n-device pxb-pcie,id=y,bus_nr=64\n"),
             Catch::Contains("Bus 64 is already in use"));
  // three root ports take buses 1-3, so an expander at bus_nr 2 collides with them
  const std::string low = "-device pcie-root-port,id=a,chassis=1\n-device pcie-root-port,id=b,chassis=2\n"
                          "-device pcie-root-port,id=c,chassis=3\n-device pxb-pcie,id=x,bus_nr=2\n";
  CHECK(check<q35>(low).accepted());
  CHECK_THAT(warnings<q35>(low), Catch::Contains("bus_nr 2 is inside the main hierarchy's bus numbers (0-3)"));
  // an expander whose buses run into the next one
  const std::string tight = "-device pxb-pcie,id=x,bus_nr=10\n-device pxb-pcie,id=y,bus_nr=12\n"
                            "-device pcie-root-port,id=a,bus=x,chassis=1\n-device pcie-root-port,id=b,bus=x,chassis=2\n";
  CHECK_THAT(warnings<q35>(tight), Catch::Contains("need numbers 10-12, which reach bus_nr 12 of the next expander"));
  CHECK(warnings<q35>("-device pxb-pcie,id=x,bus_nr=10\n-device pcie-root-port,id=a,bus=x,chassis=1\n").empty());
  // bus-reserve counts, as SeaBIOS honours it
  CHECK_THAT(warnings<q35>("-device pcie-root-port,id=a,chassis=1,bus-reserve=8\n-device pxb-pcie,id=x,bus_nr=5\n"),
             Catch::Contains("(0-9)"));
}

TEST_CASE("validate: RULES.md Q18: numa_node below the guest's node count", "[validate]") {
  CHECK_THAT(errors<q35>("-device pxb-pcie,id=x,bus_nr=10,numa_node=1\n"), Catch::Contains("Illegal numa node 1"));
  CHECK(check<q35>("-numa node,nodeid=0\n-numa node,nodeid=1\n-device pxb-pcie,id=x,bus_nr=10,numa_node=1\n").accepted());
}

TEST_CASE("validate: RULES.md Q25 and Q26: I/O window", "[validate]") {
  std::string ports;
  for (int i = 1; i <= 15; ++i) ports += "-device pcie-root-port,id=r" + std::to_string(i) + ",chassis=" + std::to_string(i) + "\n";
  CHECK_THAT(warnings<q35>(ports), Catch::Contains("15 hot-pluggable PCI Express ports reserve 4 KiB of I/O space"));
  std::string quiet;
  for (int i = 1; i <= 15; ++i) {
    quiet += "-device pcie-root-port,id=r" + std::to_string(i) + ",chassis=" + std::to_string(i) + ",io-reserve=0\n";
  }
  CHECK(warnings<q35>(quiet).empty());
  std::string bridges;
  for (int i = 1; i <= 10; ++i) bridges += "-device pci-bridge,id=b" + std::to_string(i) + ",chassis_nr=" + std::to_string(i) + "\n";
  CHECK_THAT(warnings<pc>(bridges), Catch::Contains("10 pci-bridges"));
}

TEST_CASE("validate: RULES.md Q28: pref32-reserve and pref64-reserve", "[validate]") {
  CHECK_THAT(errors<q35>("-device pcie-root-port,id=r,chassis=1,pref32-reserve=1M,pref64-reserve=1M\n"),
             Catch::Contains("PCI resource reserve cap: PREF32 and PREF64 conflict"));
}

TEST_CASE("validate: the pciplan emitter's output passes for every example shape", "[validate]") {
  // the q35 switch layout of RULES.md O3
  CHECK(check<q35>("-device pcie-root-port,id=rp1,bus=pcie.0,chassis=1,addr=0x2.0x0,multifunction=on\n"
                   "-device x3130-upstream,id=up1,bus=rp1\n"
                   "-device xio3130-downstream,id=dp0,bus=up1,chassis=2,addr=0x0\n"
                   "-device xio3130-downstream,id=dp1,bus=up1,chassis=3,addr=0x1\n"
                   "-device virtio-net-pci,bus=dp0\n-device virtio-net-pci,bus=dp1\n")
            .findings.empty());
  CHECK(check<aarch64_virt>("-device pcie-root-port,id=r1,chassis=1,addr=0x1,multifunction=on\n"
                            "-device pcie-root-port,id=r2,chassis=2,addr=0x1.0x1\n"
                            "-device virtio-net-pci,bus=r1\n-device virtio-blk-pci,bus=r2\n"
                            "-device virtio-net-device\n")
            .findings.empty());
}
