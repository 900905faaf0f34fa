// The comparator of the libvirt conformance harness (pci_facts.hpp) on its own: keys,
// normalisation and the wording of its differences. Corpus-based cases use
// ../shared/corpus/libvirt (PCIPLAN_LIBVIRT_CORPUS) and pass with a warning when it is absent.
#include <catch2/catch.hpp>

#include "pci_facts.hpp"

#include <pugixml.hpp>

#include <algorithm>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#ifndef PCIPLAN_LIBVIRT_CORPUS
#define PCIPLAN_LIBVIRT_CORPUS "../shared/corpus/libvirt"
#endif

namespace fs = std::filesystem;
using test_support::pci_differences;
using test_support::pci_facts;

namespace {

const fs::path corpus{PCIPLAN_LIBVIRT_CORPUS};

void load_text(pugi::xml_document& doc, const std::string& text) {
  const pugi::xml_parse_result r = doc.load_string(text.c_str());
  INFO(r.description());
  REQUIRE(r);
}

void load_file(pugi::xml_document& doc, const fs::path& file) {
  const pugi::xml_parse_result r = doc.load_file(file.c_str());
  INFO(file.string() << ": " << r.description());
  REQUIRE(r);
}

/// A domain with the given <devices> content.
std::string domain(std::string_view devices) {
  return "<domain type='kvm'><name>t</name><devices>" + std::string(devices) + "</devices></domain>";
}

std::vector<std::string> differences(std::string_view expected_devices, std::string_view got_devices) {
  pugi::xml_document expected;
  pugi::xml_document got;
  load_text(expected, domain(expected_devices));
  load_text(got, domain(got_devices));
  return pci_differences(expected, got);
}

std::vector<std::string> keys(std::string_view devices) {
  pugi::xml_document doc;
  load_text(doc, domain(devices));
  std::vector<std::string> out;
  for (const test_support::pci_fact& f : pci_facts(doc)) {
    if (f.controller) out.push_back(f.key);
  }
  return out;
}

bool contains(const std::vector<std::string>& lines, std::string_view line) {
  return std::find(lines.begin(), lines.end(), line) != lines.end();
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

}  // namespace

TEST_CASE("every document in the corpus has no differences with itself", "[libvirt][facts]") {
  if (!fs::is_directory(corpus)) {
    WARN("corpus " << corpus.string() << " not found; nothing to check");
    return;
  }
  int documents = 0;
  for (const fs::directory_entry& entry : fs::directory_iterator(corpus)) {
    if (entry.path().extension() != ".xml") continue;
    pugi::xml_document a;
    pugi::xml_document b;
    load_file(a, entry.path());
    load_file(b, entry.path());
    INFO(entry.path().filename().string());
    CHECK(joined(pci_differences(a, b)).empty());
    CHECK_FALSE(pci_facts(a).empty());
    ++documents;
  }
  CHECK(documents > 100);
}

TEST_CASE("q35-pcie: the input against libvirt's output names what libvirt added", "[libvirt][facts]") {
  if (!fs::is_directory(corpus)) {
    WARN("corpus " << corpus.string() << " not found; nothing to check");
    return;
  }
  pugi::xml_document expected;
  pugi::xml_document input;
  load_file(expected, corpus / "q35-pcie.x86_64-latest.xml");
  load_file(input, corpus / "q35-pcie.xml");
  const std::vector<std::string> d = pci_differences(expected, input);
  INFO(joined(d));
  // The SATA controller exists only in libvirt's output.
  CHECK(contains(d, "controller sata index=0: missing (expected pci 0000:00:1f.2)"));
  // The input's index-less controllers get libvirt's indexes 0-15, so they are compared with
  // the output's controllers of the same index instead of being reported missing.
  CHECK(contains(d, "controller pci index=1: expected name=i82801b11-bridge at 0000:00:1e.0, got no name no address"));
  CHECK(contains(d, "controller pci index=3: expected name=pcie-root-port chassis=3 port=0x10 at 0000:00:02.0 "
                    "multifunction=on, got no name no chassis no port no address"));
  CHECK(contains(d, "controller virtio-serial index=0: expected pci 0000:06:00.0, got no address"));
  CHECK(contains(d, "disk vdb: expected pci 0000:09:00.0, got no address"));
  CHECK(contains(d, "interface 00:11:22:33:44:66: expected pci 0000:05:00.0, got no address"));
  CHECK(contains(d, "video #0: expected pci 0000:00:01.0, got no address"));
  CHECK(contains(d, "input #3: expected pci 0000:0f:00.0, got no address"));
  for (const std::string& line : d) {
    CHECK(line.find("unexpected") == std::string::npos);
    CHECK((line.find("missing") == std::string::npos || line.starts_with("controller sata")));
  }
  // The root has no address in either document, and its model is the same: not reported.
  CHECK(std::none_of(d.begin(), d.end(),
                     [](const std::string& l) { return l.starts_with("controller pci index=0:"); }));
}

TEST_CASE("numbers compare by value: 0x1f and 31 are the same", "[libvirt][facts]") {
  const std::string hex =
      "<controller type='pci' index='3' model='pcie-root-port'><model name='pcie-root-port'/>"
      "<target chassis='0x3' port='0x12' busNr='0x10'><node>0x1</node></target>"
      "<address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x2'/></controller>"
      "<video><address type='pci' domain='0x0000' bus='0x1f' slot='0x1a' function='0x7'/></video>";
  const std::string dec =
      "<controller type='pci' index='3' model='pcie-root-port'><model name='pcie-root-port'/>"
      "<target chassis='3' port='18' busNr='16'><node>1</node></target>"
      "<address type='pci' domain='0' bus='0' slot='2' function='2'/></controller>"
      "<video><address type='pci' bus='31' slot='26' function='7'/></video>";
  CHECK(differences(hex, dec).empty());
  CHECK(differences(dec, hex).empty());

  // Differences print in libvirt's notation whatever the documents wrote.
  const std::vector<std::string> d = differences(
      "<controller type='pci' index='3' model='pcie-root-port'><target chassis='3' port='0x12'/>"
      "<address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x2'/></controller>"
      "<video><address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x0'/></video>",
      "<controller type='pci' index='3' model='pcie-root-port'><target chassis='4' port='19'/>"
      "<address type='pci' domain='0' bus='0' slot='3' function='0' multifunction='on'/></controller>"
      "<video><address type='pci' bus='0' slot='3'/></video>");
  INFO(joined(d));
  CHECK(d == std::vector<std::string>{
                 "controller pci index=3: expected chassis=3 port=0x12 at 0000:00:02.2, got chassis=4 port=0x13 at "
                 "0000:00:03.0 multifunction=on",
                 "video #0: expected pci 0000:00:02.0, got pci 0000:00:03.0"});
}

TEST_CASE("a controller without index gets libvirt's index: per type, lowest unused", "[libvirt][facts]") {
  CHECK(keys("<controller type='pci' model='pcie-root'/>"
             "<controller type='usb' model='qemu-xhci'/>"
             "<controller type='pci' model='pcie-root-port'/>"
             "<controller type='sata'/>"
             "<controller type='usb' model='nec-xhci'/>"
             "<controller type='pci' model='pcie-root-port'/>") ==
        std::vector<std::string>{"controller pci index=0", "controller usb index=0", "controller pci index=1",
                                 "controller sata index=0", "controller usb index=1", "controller pci index=2"});
  // Given indexes are taken wherever they appear in the document.
  CHECK(keys("<controller type='pci' model='pcie-root-port'/>"
             "<controller type='pci' index='0' model='pcie-root'/>"
             "<controller type='pci' index='2' model='pcie-root-port'/>"
             "<controller type='pci' model='pcie-root-port'/>") ==
        std::vector<std::string>{"controller pci index=1", "controller pci index=0", "controller pci index=2",
                                 "controller pci index=3"});
  // USB2 companions join the ich9-ehci1/uhci controller just before them.
  CHECK(keys("<controller type='usb' model='ich9-ehci1'/>"
             "<controller type='usb' model='ich9-uhci1'/>"
             "<controller type='usb' model='ich9-uhci1'/>"
             "<controller type='usb' model='nec-xhci'/>"
             "<controller type='usb' model='ich9-uhci2'/>") ==
        std::vector<std::string>{"controller usb index=0 model=ich9-ehci1", "controller usb index=0 model=ich9-uhci1",
                                 "controller usb index=1 model=ich9-uhci1", "controller usb index=2",
                                 "controller usb index=3 model=ich9-uhci2"});
  // Written with and without indexes, in another order: the same controllers.
  CHECK(differences("<controller type='pci' model='pcie-root'/>"
                    "<controller type='pci' model='pcie-root-port'><target chassis='1' port='0x10'/></controller>"
                    "<controller type='usb' model='qemu-xhci'>"
                    "<address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/></controller>",
                    "<controller type='usb' index='0' model='qemu-xhci'>"
                    "<address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/></controller>"
                    "<controller type='pci' index='1' model='pcie-root-port'><target chassis='1' port='16'/>"
                    "</controller><controller type='pci' index='0' model='pcie-root'/>")
            .empty());
}

TEST_CASE("autoindex: libvirt's USB2 companion indexes are reproduced from the input", "[libvirt][facts]") {
  if (!fs::is_directory(corpus)) {
    WARN("corpus " << corpus.string() << " not found; nothing to check");
    return;
  }
  pugi::xml_document expected;
  pugi::xml_document input;
  load_file(expected, corpus / "autoindex.x86_64-latest.xml");
  load_file(input, corpus / "autoindex.xml");
  const std::vector<std::string> d = pci_differences(expected, input);
  INFO(joined(d));
  for (const std::string& line : d) {
    if (line.starts_with("controller usb") || line.starts_with("controller pci")) {
      CHECK(line.find("missing") == std::string::npos);
      CHECK(line.find("unexpected") == std::string::npos);
    }
  }
  CHECK(contains(d, "controller usb index=4 model=ich9-ehci1: expected pci 0000:02:02.7, got no address"));
}

TEST_CASE("disks are keyed by target dev, whatever their order", "[libvirt][facts]") {
  const std::string vda = "<disk type='file' device='disk'><target dev='vda' bus='virtio'/>"
                          "<address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/></disk>";
  const std::string vdb = "<disk type='file' device='disk'><target dev='vdb' bus='virtio'/>"
                          "<address type='pci' domain='0x0000' bus='0x00' slot='0x04' function='0x0'/></disk>";
  CHECK(differences(vda + vdb, vdb + vda).empty());

  const std::string vda_at_4 = "<disk type='file' device='disk'><target dev='vda' bus='virtio'/>"
                               "<address type='pci' domain='0x0000' bus='0x00' slot='0x04' function='0x0'/></disk>";
  const std::vector<std::string> d = differences(vda + vdb, vdb + vda_at_4);
  CHECK(d == std::vector<std::string>{"disk vda: expected pci 0000:00:03.0, got pci 0000:00:04.0"});

  CHECK(differences(vda + vdb, vdb) ==
        std::vector<std::string>{"disk vda: missing (expected pci 0000:00:03.0)"});
  CHECK(differences(vdb, vda + vdb) ==
        std::vector<std::string>{"disk vda: unexpected (got pci 0000:00:03.0)"});
}

TEST_CASE("interfaces by MAC, other devices by position among their kind", "[libvirt][facts]") {
  const std::string net_a = "<interface type='user'><mac address='52:54:00:AA:00:01'/>"
                            "<address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/></interface>";
  const std::string net_b = "<interface type='user'><mac address='52:54:00:aa:00:02'/>"
                            "<address type='pci' domain='0x0000' bus='0x02' slot='0x00' function='0x0'/></interface>";
  CHECK(differences(net_a + net_b, net_b + net_a).empty());

  const std::string hostdev0 = "<hostdev mode='subsystem' type='pci'><source><address domain='0x0000' bus='0x06' "
                               "slot='0x12' function='0x5'/></source>"
                               "<address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/></hostdev>";
  const std::string hostdev1 = "<hostdev mode='subsystem' type='pci'><source><address domain='0x0000' bus='0x06' "
                               "slot='0x12' function='0x6'/></source>"
                               "<address type='pci' domain='0x0000' bus='0x00' slot='0x06' function='0x0'/></hostdev>";
  CHECK(differences(hostdev0 + hostdev1, hostdev0) ==
        std::vector<std::string>{"hostdev #1: missing (expected pci 0000:00:06.0)"});
  // Elements without any PCI address in either document are not PCI facts.
  CHECK(differences("<input type='mouse' bus='ps2'/><watchdog model='itco'/>", "").empty());
}

TEST_CASE("other address types are ignored unless the other document has a PCI address", "[libvirt][facts]") {
  const std::string ccw = "<memballoon model='virtio'><address type='ccw' cssid='0xfe' ssid='0x0' "
                          "devno='0x0003'/></memballoon>";
  const std::string none = "<memballoon model='virtio'/>";
  const std::string pci = "<memballoon model='virtio'>"
                          "<address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/></memballoon>";
  CHECK(differences(ccw, none).empty());
  CHECK(differences(ccw, pci) ==
        std::vector<std::string>{"memballoon #0: expected ccw address, got pci 0000:00:05.0"});
  CHECK(differences(pci, none) ==
        std::vector<std::string>{"memballoon #0: expected pci 0000:00:05.0, got no address"});
  // Every controller is a fact, with or without an address.
  CHECK(differences("<controller type='usb' index='0' model='none'/>", "") ==
        std::vector<std::string>{"controller usb index=0: missing (expected no address)"});
}

TEST_CASE("a missing or extra PCI controller is described in full", "[libvirt][facts]") {
  const std::string root = "<controller type='pci' index='0' model='pcie-root'/>";
  const std::string port = "<controller type='pci' index='3' model='pcie-root-port'><model name='pcie-root-port'/>"
                           "<target chassis='3' port='0x12'/>"
                           "<address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x2'/></controller>";
  CHECK(differences(root + port, root) ==
        std::vector<std::string>{
            "controller pci index=3: missing (expected pcie-root-port chassis=3 port=0x12 at 0000:00:02.2)"});
  const std::string bridge = "<controller type='pci' index='1' model='dmi-to-pci-bridge'>"
                             "<model name='i82801b11-bridge'/>"
                             "<address type='pci' domain='0x0000' bus='0x00' slot='0x1e' function='0x0'/></controller>";
  CHECK(differences(root, root + bridge) ==
        std::vector<std::string>{
            "controller pci index=1: unexpected (got dmi-to-pci-bridge name=i82801b11-bridge at 0000:00:1e.0)"});
  const std::string phb = "<controller type='pci' index='1' model='pci-root'><model name='spapr-pci-host-bridge'/>"
                          "<target index='1'><node>0</node></target></controller>";
  const std::string phb2 = "<controller type='pci' index='1' model='pci-root'><model name='spapr-pci-host-bridge'/>"
                           "<target index='2' hotplug='off'/></controller>";
  CHECK(differences(phb, phb2) ==
        std::vector<std::string>{
            "controller pci index=1: expected targetIndex=1 no hotplug node=0, got targetIndex=2 hotplug=off no node"});
}
