// Writing a planned domain back: only addresses and controllers change, the rest of the
// document stays as it was; a written document plans to itself; adding a device moves
// nothing (<pciplan/libvirt.hpp>).
#include <pciplan/libvirt.hpp>
#include <pciplan/pciplan.hpp>

#include <pugixml.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

using pciplan::libvirt::failure;
using pciplan::libvirt::plan_domain_xml;
using pciplan::libvirt::policy_kind;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

/// Whether every line of `before` appears in `after`, in the same order.
bool kept_in_order(const std::string& before, const std::string& after) {
  const auto a = lines_of(before);
  const auto b = lines_of(after);
  std::size_t j = 0;
  for (const std::string& line : a) {
    while (j < b.size() && b[j] != line) ++j;
    if (j == b.size()) {
      UNSCOPED_INFO("line not kept: " << line);
      return false;
    }
    ++j;
  }
  return true;
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

/// Every PCI address in a document, by the element's alias-free position ("interface #2").
std::map<std::string, std::string> addresses(const std::string& xml) {
  pugi::xml_document doc;
  REQUIRE(doc.load_string(xml.c_str()));
  std::map<std::string, std::string> out;
  std::map<std::string, int> seen;
  for (pugi::xml_node n : doc.document_element().child("devices").children()) {
    const std::string key = std::string(n.name()) + " #" + std::to_string(seen[n.name()]++) + " " +
                            n.attribute("type").value() + n.attribute("index").value();
    const pugi::xml_node a = n.child("address");
    if (std::string_view(a.attribute("type").value()) == "pci") {
      out[key] = std::string(a.attribute("bus").value()) + ":" + a.attribute("slot").value() + "." +
                 a.attribute("function").value();
    }
  }
  return out;
}

const std::string desktop_like = R"(<?xml version="1.0"?>
<!-- kept: a comment before the domain -->
<domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>keep-me</name>
  <description>Text &amp; entities stay</description>
  <os>
    <type arch='x86_64' machine='pc-q35-7.2'>hvm</type>
  </os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <!-- kept: a comment among the devices -->
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='network'>
      <source network='default'/>
      <model type='virtio'/>
    </interface>
    <graphics type='vnc' port='-1'/>
    <video>
      <model type='virtio' heads='1'/>
    </video>
  </devices>
  <qemu:commandline>
    <qemu:arg value='-s'/>
  </qemu:commandline>
</domain>
)";

}  // namespace

TEST_CASE("the writer changes addresses and controllers only: every input line is kept, in order",
          "[libvirt][writer]") {
  for (const auto policy : {policy_kind::libvirt, policy_kind::pciplan}) {
    const auto out = plan_domain_xml(desktop_like, {.policy = policy});
    REQUIRE(out.failed == failure::none);
    CHECK(kept_in_order(desktop_like, out.xml));
    CHECK_THAT(out.xml, Catch::StartsWith("<?xml version=\"1.0\"?>\n<!-- kept: a comment before the domain -->"));
    CHECK_THAT(out.xml, Catch::Contains("Text &amp; entities stay"));
    // new elements are indented like their neighbours
    CHECK_THAT(out.xml, Catch::Contains("\n    <controller type='pci' index='1' model='pcie-root-port'>\n"
                                        "      <model name='pcie-root-port'/>\n"));
    CHECK_THAT(out.xml, Catch::Contains("      <address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>\n"
                                        "    </interface>"));
  }
}

TEST_CASE("added PCI controllers are written in index order, each after the one before it", "[libvirt][writer]") {
  const auto out = plan_domain_xml(desktop_like, {.policy = policy_kind::libvirt});
  REQUIRE(out.failed == failure::none);
  pugi::xml_document doc;
  REQUIRE(doc.load_string(out.xml.c_str()));
  std::vector<int> order;
  for (pugi::xml_node c : doc.document_element().child("devices").children("controller")) {
    if (std::string_view(c.attribute("type").value()) == "pci") order.push_back(c.attribute("index").as_int());
  }
  REQUIRE(order.size() > 3);
  for (std::size_t i = 0; i != order.size(); ++i) CHECK(order[i] == static_cast<int>(i));
}

TEST_CASE("a written document plans to itself, with either policy, for every example and corpus input",
          "[libvirt][writer][stability]") {
  std::vector<std::filesystem::path> inputs;
  for (const auto& e : std::filesystem::directory_iterator(PCIPLAN_EXAMPLE_DOMAINS)) inputs.push_back(e.path());
  if (std::filesystem::exists(PCIPLAN_LIBVIRT_CORPUS)) {
    for (const auto& e : std::filesystem::directory_iterator(PCIPLAN_LIBVIRT_CORPUS)) {
      const std::string name = e.path().filename().string();
      if (name.ends_with(".xml") && name.find("-latest") == std::string::npos) inputs.push_back(e.path());
    }
  }
  int planned = 0;
  for (const auto policy : {policy_kind::libvirt, policy_kind::pciplan}) {
    for (const auto& path : inputs) {
      if (path.extension() != ".xml") continue;
      const auto first = plan_domain_xml(read_file(path), {.policy = policy});
      if (first.failed != failure::none) continue;  // refused inputs (NUMA constraints, corpus error cases)
      ++planned;
      INFO(path.filename().string() << (policy == policy_kind::libvirt ? " (libvirt)" : " (pciplan)"));
      const auto second = plan_domain_xml(first.xml, {.policy = policy});
      REQUIRE(second.failed == failure::none);
      CHECK(second.xml == first.xml);
    }
  }
  CHECK(planned >= 7);  // the examples alone (q35-numa is refused by the libvirt policy); more with the corpus
}

TEST_CASE("pciplan policy: adding a device to a planned domain moves nothing", "[libvirt][writer][stability]") {
  for (const char* name : {"q35-desktop.xml", "aarch64-server.xml", "pc-40-disks.xml", "q35-numa.xml"}) {
    INFO(name);
    const auto first = plan_domain_xml(read_file(std::filesystem::path(PCIPLAN_EXAMPLE_DOMAINS) / name));
    REQUIRE(first.failed == failure::none);
    std::string grown = first.xml;
    const std::size_t end = grown.find("  </devices>");
    REQUIRE(end != std::string::npos);
    grown.insert(end, "    <interface type='network'>\n      <source network='default'/>\n"
                      "      <model type='virtio'/>\n    </interface>\n");
    const auto second = plan_domain_xml(grown);
    REQUIRE(second.failed == failure::none);
    const auto before = addresses(first.xml);
    const auto after = addresses(second.xml);
    for (const auto& [key, address] : before) {
      INFO(key);
      REQUIRE(after.count(key) == 1);
      CHECK(after.at(key) == address);
    }
    CHECK(after.size() > before.size());
  }
}

TEST_CASE("the writer's new elements land in place whatever the input holds: its own marker text, no indentation",
          "[libvirt][writer]") {
  // New elements are spliced into the printed document at markers whose name no input
  // may hold; an input that holds that name in a comment, an attribute and a processing
  // instruction is written as one that does not.
  std::string marked = desktop_like;
  marked.replace(marked.find("<!-- kept: a comment among the devices -->"), 42,
                 "<!-- <?pciplan-piece 0?> pciplan-piece- -->");
  marked.replace(marked.find("<name>keep-me</name>"), 20, "<name>pciplan-piece 3</name><?pciplan-piece 1?>");
  for (const auto policy : {policy_kind::libvirt, policy_kind::pciplan}) {
    const auto plain = plan_domain_xml(desktop_like, {.policy = policy});
    const auto out = plan_domain_xml(marked, {.policy = policy});
    REQUIRE(plain.failed == failure::none);
    REQUIRE(out.failed == failure::none);
    CHECK(kept_in_order(marked, out.xml));
    CHECK_THAT(out.xml, Catch::Contains("<!-- <?pciplan-piece 0?> pciplan-piece- -->"));
    CHECK_THAT(out.xml, Catch::Contains("<name>pciplan-piece 3</name><?pciplan-piece 1?>"));
    CHECK(addresses(out.xml) == addresses(plain.xml));
  }
  // one line, no indentation: the new elements have no line breaks either
  std::string flat;
  for (const std::string& line : lines_of(desktop_like)) {
    flat += line.substr(std::min(line.find_first_not_of(' '), line.size()));
  }
  for (const auto policy : {policy_kind::libvirt, policy_kind::pciplan}) {
    const auto plain = plan_domain_xml(desktop_like, {.policy = policy});
    const auto out = plan_domain_xml(flat, {.policy = policy});
    REQUIRE(out.failed == failure::none);
    CHECK(out.xml.find('\n') == out.xml.size() - 1);
    CHECK_THAT(out.xml, Catch::Contains("<controller type='pci' index='1' model='pcie-root-port'><model name='pcie-root-port'/>"
                                        "<target chassis='1' port='0x10'/>"));
    CHECK(addresses(out.xml) == addresses(plain.xml));
  }
}

TEST_CASE("a device element read after a write holds what the write put into it", "[libvirt][writer]") {
  // the write splices its new elements into the printed text; the domain's own tree gets
  // them when it is read again (attach prints the device element it planned)
  for (const auto policy : {policy_kind::libvirt, policy_kind::pciplan}) {
    pciplan::libvirt::domain d(desktop_like, {.policy = policy});
    const auto p = d.plan(policy);
    REQUIRE(p);
    const std::string written = d.write(*p);
    CHECK(written == plan_domain_xml(desktop_like, {.policy = policy}).xml);
    for (const char* tag : {"<interface", "<disk", "<video"}) {
      const std::size_t at = desktop_like.find(tag);
      const auto k = d.element_within(at, at + std::string_view(tag).size());
      REQUIRE(k);
      const std::string e = d.device_element(*k);
      INFO(e);
      CHECK_THAT(e, Catch::Contains("<address type='pci' domain='0x0000'"));
      CHECK_THAT(written, Catch::Contains(e));
    }
  }
}

TEST_CASE("the hot-plug budget's 32-bit reserve is written as <target memReserve> (KiB) and read back",
          "[libvirt][writer][bars]") {
  const std::string xml =
      "<domain type='kvm'>\n  <name>g</name>\n  <memory unit='GiB'>8</memory>\n"
      "  <metadata>\n    <p:plan xmlns:p='urn:pciplan:plan:1' spare-ports='2' hotplug-budget='mem32:16M,pref64:64G'/>\n"
      "  </metadata>\n  <os>\n    <type arch='x86_64' machine='q35'>hvm</type>\n  </os>\n  <devices>\n"
      "    <interface type='user'><model type='virtio'/></interface>\n  </devices>\n</domain>\n";
  pciplan::libvirt::domain d(xml);
  const auto p = d.plan(policy_kind::pciplan);
  REQUIRE(p);
  std::size_t reserving = 0;
  for (const pciplan::controller& c : p->controllers) {
    if (c.reserves.mem == 0) continue;
    ++reserving;
    CHECK(c.reserves.mem == std::uint64_t{30} << 20);  // 16 MiB + 16 MiB − 2 MiB (hotplug_reserves)
    CHECK(c.reserves.pref64 != 0);
  }
  CHECK(reserving == 2);  // the two spare ports
  const std::string written = d.write(*p);
  CHECK_THAT(written, Catch::Contains("<target chassis='4' port='0xb' memReserve='30720'/>"));
  // libvirt has no attribute for pref64-reserve or io-reserve: none is invented
  const auto count = [&](std::string_view what) {
    std::size_t n = 0;
    for (std::size_t at = written.find(what); at != std::string::npos; at = written.find(what, at + 1)) ++n;
    return n;
  };
  CHECK(count("memReserve=") == 2);
  CHECK(count("Reserve=") == 2);
  // read back: the reserves stay, and the written domain plans to itself
  pciplan::libvirt::domain again(written);
  std::size_t kept = 0;
  for (const pciplan::controller& c : again.controllers()) kept += c.reserves.mem == std::uint64_t{30} << 20 ? 1 : 0;
  CHECK(kept == 2);
  CHECK(plan_domain_xml(written).xml == written);
  // without a budget in the metadata, --hotplug-budget's option does the same
  pciplan::libvirt::domain_options o{};
  o.hotplug_budget = pciplan::device_bars{}.mem32(4u << 20);
  const std::string no_budget = std::string(xml).replace(xml.find(" hotplug-budget="), 38, "");
  CHECK_THAT(plan_domain_xml(no_budget, o).xml, Catch::Contains("memReserve='6144'"));  // 4 + 4 − 2 MiB
}
