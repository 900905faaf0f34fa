// json.hpp: to_json output is valid JSON (checked by a small strict parser written here,
// RFC 8259 plus strict UTF-8), says what the plan says, and escapes any name.
#include <catch2/catch.hpp>

#include <pciplan/pciplan.hpp>

#include "../support/planned.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using namespace pciplan;

namespace {

// ---- a small strict JSON parser, for the tests only ---------------------------------

struct json_value {
  enum class type { null, boolean, number, string, array, object };
  type t = type::null;
  bool b = false;
  double n = 0;
  std::string s;
  std::vector<json_value> a;         // array elements, or object member values
  std::vector<std::string> keys;     // object member names, parallel to `a`

  /// The member `key`; a null value when there is none (or this is not an object).
  const json_value& operator[](std::string_view key) const {
    static const json_value missing{};
    for (std::size_t i = 0; i != keys.size(); ++i) {
      if (keys[i] == key) return a[i];
    }
    return missing;
  }
  [[nodiscard]] bool has(std::string_view key) const {
    for (const auto& k : keys) {
      if (k == key) return true;
    }
    return false;
  }
  [[nodiscard]] bool is_null() const { return t == type::null; }
};

class json_parser {
 public:
  explicit json_parser(std::string_view text) : text_(text) {}

  /// The document, or nullopt when the text is not exactly one JSON value.
  std::optional<json_value> document() {
    json_value v;
    space();
    if (!value(v, 0)) return std::nullopt;
    space();
    if (at_ != text_.size()) return std::nullopt;
    return v;
  }
  [[nodiscard]] std::size_t where() const { return at_; }

 private:
  void space() {
    while (at_ < text_.size() && (text_[at_] == ' ' || text_[at_] == '\t' || text_[at_] == '\n' || text_[at_] == '\r')) {
      ++at_;
    }
  }
  bool literal(std::string_view word) {
    if (text_.substr(at_, word.size()) != word) return false;
    at_ += word.size();
    return true;
  }
  [[nodiscard]] bool digit() const { return at_ < text_.size() && text_[at_] >= '0' && text_[at_] <= '9'; }

  bool value(json_value& v, int depth) {
    if (depth > 64 || at_ >= text_.size()) return false;
    const char c = text_[at_];
    if (c == '{') return object(v, depth);
    if (c == '[') return array(v, depth);
    if (c == '"') {
      v.t = json_value::type::string;
      return string(v.s);
    }
    if (c == 't' || c == 'f') {
      v.t = json_value::type::boolean;
      v.b = c == 't';
      return literal(v.b ? "true" : "false");
    }
    if (c == 'n') return literal("null");
    return number(v);
  }
  bool number(json_value& v) {
    const std::size_t begin = at_;
    if (at_ < text_.size() && text_[at_] == '-') ++at_;
    if (!digit()) return false;
    if (text_[at_] == '0') ++at_;
    else while (digit()) ++at_;
    if (at_ < text_.size() && text_[at_] == '.') {
      ++at_;
      if (!digit()) return false;
      while (digit()) ++at_;
    }
    if (at_ < text_.size() && (text_[at_] == 'e' || text_[at_] == 'E')) {
      ++at_;
      if (at_ < text_.size() && (text_[at_] == '+' || text_[at_] == '-')) ++at_;
      if (!digit()) return false;
      while (digit()) ++at_;
    }
    v.t = json_value::type::number;
    v.n = std::stod(std::string(text_.substr(begin, at_ - begin)));
    return true;
  }
  bool hex4(unsigned& out) {
    if (text_.size() - at_ < 4) return false;
    out = 0;
    for (int i = 0; i != 4; ++i) {
      const char h = text_[at_++];
      out <<= 4;
      if (h >= '0' && h <= '9') out |= static_cast<unsigned>(h - '0');
      else if (h >= 'a' && h <= 'f') out |= static_cast<unsigned>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F') out |= static_cast<unsigned>(h - 'A' + 10);
      else return false;
    }
    return true;
  }
  static void put_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xc0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xe0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      out += static_cast<char>(0xf0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    }
  }
  /// One raw UTF-8 character, decoded strictly (no overlong forms, no surrogates).
  bool raw_utf8(std::string& out) {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text_[i]); };
    const unsigned b0 = byte(at_);
    const std::size_t n = b0 < 0x80 ? 1 : (b0 & 0xe0) == 0xc0 ? 2 : (b0 & 0xf0) == 0xe0 ? 3 : (b0 & 0xf8) == 0xf0 ? 4 : 0;
    if (n == 0 || text_.size() - at_ < n) return false;
    unsigned cp = n == 1 ? b0 : n == 2 ? (b0 & 0x1f) : n == 3 ? (b0 & 0x0f) : (b0 & 0x07);
    for (std::size_t i = 1; i < n; ++i) {
      if ((byte(at_ + i) & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (byte(at_ + i) & 0x3f);
    }
    const unsigned least[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < least[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    out.append(text_.substr(at_, n));
    at_ += n;
    return true;
  }
  bool string(std::string& out) {
    ++at_;  // the opening quote
    while (at_ < text_.size()) {
      const char c = text_[at_];
      if (c == '"') {
        ++at_;
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20) return false;  // raw control character
      if (c != '\\') {
        if (!raw_utf8(out)) return false;
        continue;
      }
      if (++at_ >= text_.size()) return false;
      const char e = text_[at_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          unsigned cp = 0;
          if (!hex4(cp)) return false;
          if (cp >= 0xd800 && cp <= 0xdbff) {  // a surrogate pair
            unsigned low = 0;
            if (!literal("\\u") || !hex4(low) || low < 0xdc00 || low > 0xdfff) return false;
            cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
          } else if (cp >= 0xdc00 && cp <= 0xdfff) {
            return false;
          }
          put_utf8(out, cp);
          break;
        }
        default: return false;
      }
    }
    return false;
  }
  bool array(json_value& v, int depth) {
    v.t = json_value::type::array;
    ++at_;
    space();
    if (at_ < text_.size() && text_[at_] == ']') {
      ++at_;
      return true;
    }
    for (;;) {
      json_value item;
      space();
      if (!value(item, depth + 1)) return false;
      v.a.push_back(std::move(item));
      space();
      if (at_ >= text_.size()) return false;
      if (text_[at_] == ']') {
        ++at_;
        return true;
      }
      if (text_[at_++] != ',') return false;
    }
  }
  bool object(json_value& v, int depth) {
    v.t = json_value::type::object;
    ++at_;
    space();
    if (at_ < text_.size() && text_[at_] == '}') {
      ++at_;
      return true;
    }
    for (;;) {
      space();
      std::string key;
      if (at_ >= text_.size() || text_[at_] != '"' || !string(key)) return false;
      for (const auto& k : v.keys) {
        if (k == key) return false;  // duplicate keys: not what we write
      }
      space();
      if (at_ >= text_.size() || text_[at_++] != ':') return false;
      space();
      json_value item;
      if (!value(item, depth + 1)) return false;
      v.keys.push_back(std::move(key));
      v.a.push_back(std::move(item));
      space();
      if (at_ >= text_.size()) return false;
      if (text_[at_] == '}') {
        ++at_;
        return true;
      }
      if (text_[at_++] != ',') return false;
    }
  }

  std::string_view text_;
  std::size_t at_ = 0;
};

json_value parsed(const std::string& text) {
  json_parser parser(text);
  const std::optional<json_value> v = parser.document();
  INFO("JSON error near byte " << parser.where() << ": " << text.substr(parser.where() > 40 ? parser.where() - 40 : 0, 80));
  REQUIRE(v.has_value());
  return *v;
}

using test_support::planned;

}  // namespace

TEST_CASE("emit.json: the test parser itself accepts JSON and refuses what is not", "[emit][json]") {
  CHECK(json_parser(R"({"a": [1, -2.5e3, true, null, "x\u00e9\ud834\udd1e"]})").document().has_value());
  CHECK(json_parser("[]").document().has_value());
  for (const char* bad : {"{\"a\": 1,}", "[01]", "\"\x01\"", "{\"a\" 1}", "\"\xff\"", "\"\\x\"", "[1] x", "\"\\ud800\"",
                          "{\"a\": 1, \"a\": 2}"}) {
    INFO(bad);
    CHECK_FALSE(json_parser(bad).document().has_value());
  }
}

TEST_CASE("emit.json: a q35 plan is valid JSON and says what the plan says", "[emit][json]") {
  const std::vector<request> devices{{"net0", models::virtio_net{}},
                                     {"gpu0", models::vfio_pci{}, numa_node{1}},
                                     {"legacy0", models::e1000{}},
                                     {"scratch", models::virtio_blk{}, hotplug::not_needed}};
  const topology_plan p = planned<machines::q35>(devices, {.spare_ports = 1, .numa_nodes = 2});
  const json_value doc = parsed(to_json(p));
  CHECK(doc["format"].s == "pciplan-plan");
  CHECK(doc["version"].n == 1);
  CHECK(doc["machine"].s == "q35");
  CHECK(doc["policy"].s == "pciplan");
  const json_value& controllers = doc["controllers"];
  REQUIRE(controllers.a.size() == p.controllers.size());
  const json_value& root = controllers.a[0];
  CHECK(root["index"].n == 0);
  CHECK(root["model"].s == "pcie-root");
  CHECK(root["model_name"].is_null());
  CHECK(root["address"].is_null());
  CHECK(root["hotplug"].is_null());
  CHECK(root["numa_node"].is_null());
  CHECK(root["guest_bus"].n == 0);
  const json_value& pxb = controllers.a[1];
  CHECK(pxb["model"].s == "pcie-expander-bus");
  CHECK(pxb["model_name"].s == "pxb-pcie");
  CHECK(pxb["qemu_device"].s == "pxb-pcie");
  CHECK(pxb["added"].b);
  CHECK(pxb["bus_nr"].n == 248);
  CHECK(pxb["numa_node"].n == 1);
  CHECK(pxb["chassis"].is_null());
  CHECK(pxb["address"]["slot"].n == 1);
  CHECK(pxb["address"]["function"].n == 0);
  CHECK(pxb["guest_bus"].n == 248);
  const json_value& port = controllers.a[2];
  CHECK(port["port"].n == 16);
  CHECK(port["chassis"].n == 2);
  CHECK(port["io_reserve_zero"].b);
  CHECK(port["multifunction"].s == "on");
  for (const json_value& c : controllers.a) {
    for (const char* key : {"index", "model", "model_name", "qemu_device", "added", "address", "chassis", "port",
                            "chassis_nr", "bus_nr", "target_index", "numa_node", "hotplug", "multifunction",
                            "io_reserve_zero", "domain", "guest_bus", "guest_bus_last", "given_id", "qemu_id",
                            "qemu_bus", "slots", "hotpluggable", "spare"}) {
      CHECK(c.has(key));
    }
  }
  // the bus each controller provides: QEMU's name, its guest bus range, its slots,
  // whether QEMU hot-plugs into it, and whether it is an empty port left for hotplug
  CHECK(root["qemu_bus"].s == "pcie.0");
  CHECK(root["guest_bus_last"].n == 4);  // buses 1-4 below it; the expander's 248-249 are its own
  CHECK(root["slots"]["first"].n == 1);
  CHECK(root["slots"]["last"].n == 31);
  CHECK_FALSE(root["hotpluggable"].b);
  CHECK_FALSE(root["spare"].b);
  CHECK(pxb["qemu_bus"].s == "pci.1");
  CHECK(pxb["guest_bus_last"].n == 250);  // the gpu's root port and node 1's spare port below it
  CHECK_FALSE(pxb["hotpluggable"].b);
  CHECK(port["qemu_bus"].s == "pci.2");
  CHECK(port["hotpluggable"].b);
  CHECK(port["slots"]["last"].n == 0);
  std::size_t spares = 0;
  for (const json_value& c : controllers.a) spares += c["spare"].b ? 1u : 0u;
  CHECK(spares == 2);  // spare_ports = 1, and spare_ports_per_node = 1 on node 1
  const json_value& list = doc["devices"];
  REQUIRE(list.a.size() == devices.size());
  const json_value& gpu = list.a[1];
  CHECK(gpu["name"].s == "gpu0");
  CHECK(gpu["qemu_device"].s == "vfio-pci");
  CHECK(gpu["request"].n == 1);
  CHECK(gpu["device"]["qemu_device"].s == "vfio-pci");
  CHECK(gpu["device"]["libvirt_element"].s == "hostdev");
  CHECK(gpu["device"]["link"].s == "express");
  CHECK(gpu["kind"].s == "pci");
  CHECK_FALSE(gpu["built_in"].b);
  CHECK(gpu["address"].s == "0000:f9:00.0");
  CHECK(gpu["libvirt_address"]["bus"].n == 3);
  CHECK(gpu["transport"].is_null());
  CHECK(gpu["rule"].s == "numa_expander");
  CHECK(gpu["explanation"].s == describe(p, p.at("gpu0")));
  CHECK(list.a[2]["libvirt_address"]["slot"].n == 1);
  CHECK(list.a[3]["multifunction"].b == p.at("scratch").multifunction);
  CHECK(doc["warnings"].t == json_value::type::array);
}

TEST_CASE("emit.json: the exact text of a small hand-made plan, warnings included", "[emit][json]") {
  topology_plan p;
  p.controllers.push_back(make_controller<pcie_root>(0));
  controller port = make_controller<pcie_root_port>(1).at(controller_address(0, 0, 2, 0));
  port.chassis = 1;
  port.port = 16;
  port.hotplug = toggle::off;
  port.guest_bus = bus_number{1};
  p.controllers.push_back(port);
  p.machine = "q35";
  placement net;
  net.request = 0;
  net.name = "net0";
  net.device = device_descriptor_of<models::virtio_net>;
  net.guest_address = pci_address{0, 1, 0, 0};
  net.libvirt_address = controller_address(0, 1, 0, 0);
  net.why = rule::hotplug_port;
  p.placements.push_back(net);
  p.warnings.push_back({warning_code::io_window, "16 ports reserve I/O space", 16});
  CHECK(to_json(p) ==
        "{\n"
        "  \"format\": \"pciplan-plan\",\n"
        "  \"version\": 1,\n"
        "  \"machine\": \"q35\",\n"
        "  \"policy\": \"pciplan\",\n"
        "  \"controllers\": [\n"
        "    {\"index\": 0, \"model\": \"pcie-root\", \"model_name\": null, \"qemu_device\": null, \"added\": false, "
        "\"address\": null, \"chassis\": null, \"port\": null, \"chassis_nr\": null, \"bus_nr\": null, "
        "\"target_index\": null, \"numa_node\": null, \"hotplug\": null, \"multifunction\": null, "
        "\"io_reserve_zero\": false, \"reserves\": {\"io\": 0, \"mem\": 0, \"pref32\": 0, \"pref64\": 0}, "
        "\"windows\": null, \"domain\": 0, \"guest_bus\": 0, \"guest_bus_last\": 1, \"given_id\": null, "
        "\"qemu_id\": null, \"qemu_bus\": \"pcie.0\", \"slots\": {\"first\": 1, \"last\": 31}, \"hotpluggable\": false, "
        "\"spare\": false},\n"
        "    {\"index\": 1, \"model\": \"pcie-root-port\", \"model_name\": null, \"qemu_device\": \"pcie-root-port\", "
        "\"added\": false, \"address\": {\"domain\": 0, \"bus\": 0, \"slot\": 2, \"function\": 0}, \"chassis\": 1, "
        "\"port\": 16, \"chassis_nr\": null, \"bus_nr\": null, \"target_index\": null, \"numa_node\": null, "
        "\"hotplug\": \"off\", \"multifunction\": null, \"io_reserve_zero\": false, \"reserves\": {\"io\": 0, "
        "\"mem\": 0, \"pref32\": 0, \"pref64\": 0}, \"windows\": {\"io\": 0, \"mem\": 2097152, \"pref\": 2097152, "
        "\"pref64\": true}, \"domain\": 0, \"guest_bus\": 1, "
        "\"guest_bus_last\": 1, \"given_id\": null, \"qemu_id\": \"pci.1\", \"qemu_bus\": \"pci.1\", "
        "\"slots\": {\"first\": 0, \"last\": 0}, \"hotpluggable\": false, \"spare\": false}\n"
        "  ],\n"
        "  \"devices\": [\n"
        "    {\"name\": \"net0\", \"request\": 0, \"qemu_device\": \"virtio-net-pci\", \"device\": "
        "{\"qemu_device\": \"virtio-net-pci\", \"mmio_device\": \"virtio-net-device\", \"libvirt_element\": "
        "\"interface\", \"libvirt_model\": \"virtio\", \"link\": \"virtio\", \"integrated\": false, "
        "\"companion_function\": null}, \"kind\": \"pci\", \"built_in\": false, \"address\": \"0000:01:00.0\", "
        "\"libvirt_address\": {\"domain\": 0, \"bus\": 1, \"slot\": 0, \"function\": 0}, \"transport\": null, "
        "\"bars\": null, \"multifunction\": false, \"rule\": \"hotplug_port\", \"explanation\": \"net0 is at 0000:01:00.0 (bus index "
        "1, the given pcie-root-port, slot 0, function 0): it needs a hot-pluggable PCI Express slot, one port per "
        "device\"}\n"
        "  ],\n"
        "  \"warnings\": [\n"
        "    {\"code\": \"io_window\", \"text\": \"16 ports reserve I/O space\", \"count\": 16}\n"
        "  ]\n"
        "}\n");
  topology_plan empty;
  CHECK(to_json(empty) == "{\n  \"format\": \"pciplan-plan\",\n  \"version\": 1,\n  \"machine\": \"\",\n  \"policy\": "
                          "\"pciplan\",\n  \"controllers\": [],\n  \"devices\": [],\n  \"warnings\": []\n}\n");
}

TEST_CASE("emit.json: odd names are escaped and read back, and bytes that are not UTF-8 become U+FFFD", "[emit][json]") {
  const std::string nul("nul\0x", 5);
  const std::vector<std::pair<std::string, std::string>> names{
      // {name, what a JSON reader gets back}
      {"quote\"", "quote\""},
      {"back\\slash/", "back\\slash/"},
      {"tab\tnl\ncr\r", "tab\tnl\ncr\r"},
      {"ctl\x01\x1f\x7f", "ctl\x01\x1f\x7f"},
      {nul, nul},
      {"\xc3\xbcnic\xc3\xb8" "de \xe2\x82\xac \xf0\x9d\x84\x9e", "\xc3\xbcnic\xc3\xb8" "de \xe2\x82\xac \xf0\x9d\x84\x9e"},
      {"bad\xff\xfe", "bad\xef\xbf\xbd\xef\xbf\xbd"},
      {"cut\xe2\x82", "cut\xef\xbf\xbd\xef\xbf\xbd"},
      {"surrogate\xed\xa0\x80", "surrogate\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
      {"overlong\xc0\xaf", "overlong\xef\xbf\xbd\xef\xbf\xbd"},
  };
  std::vector<request> devices;
  for (const auto& n : names) devices.push_back({n.first, models::virtio_blk{}, hotplug::not_needed});
  const topology_plan p = planned<machines::q35>(devices, {.spare_ports = 0});
  const std::string text = to_json(p);
  const json_value doc = parsed(text);
  CHECK(doc["machine"].s == "q35");
  REQUIRE(doc["devices"].a.size() == names.size());
  for (std::size_t i = 0; i != names.size(); ++i) {
    INFO("device " << i);
    CHECK(doc["devices"].a[i]["name"].s == names[i].second);
  }
  CHECK_THAT(text, Catch::Contains(R"("name": "ctl\u0001\u001f)"));
  CHECK_THAT(text, Catch::Contains(R"("name": "nul\u0000x")"));
  CHECK_THAT(text, Catch::Contains(R"("name": "tab\tnl\ncr\r")"));
}

TEST_CASE("emit.json: virtio-mmio and CCW devices have a transport and no PCI address", "[emit][json]") {
  SECTION("aarch64 virt") {
    const std::vector<request> devices{{"net0", models::virtio_net{}}, {"disk0", models::virtio_blk{}, transport::mmio}};
    const topology_plan p = planned<machines::aarch64_virt>(devices, {.spare_ports = 0});
    const json_value doc = parsed(to_json(p));
    const json_value& disk = doc["devices"].a[1];
    CHECK(disk["kind"].s == "mmio");
    CHECK(disk["qemu_device"].s == "virtio-blk-device");
    CHECK(disk["transport"].s == "virtio-mmio-bus.31");
    CHECK(disk["address"].is_null());
    CHECK(disk["libvirt_address"].is_null());
    CHECK(disk["rule"].s == "virtio_mmio");
  }
  SECTION("s390x") {
    const std::vector<request> devices{{"net0", models::virtio_net{}}};
    const topology_plan p = planned<machines::s390x_ccw>(devices);
    const json_value doc = parsed(to_json(p));
    const json_value& net = doc["devices"].a[0];
    CHECK(net["kind"].s == "ccw");
    CHECK(net["qemu_device"].s == "virtio-net-ccw");
    CHECK(net["transport"].s == "fe.0.0000");
    CHECK(net["rule"].s == "channel_io");
  }
  SECTION("pseries: the second PHB") {
    const std::vector<request> devices{{"net0", models::virtio_net{}, numa_node{1}}};
    const topology_plan p = planned<machines::pseries>(devices, {.spare_ports = 0, .numa_nodes = 2});
    const json_value doc = parsed(to_json(p));
    const json_value& phb = doc["controllers"].a[1];
    CHECK(phb["model"].s == "pci-root");
    CHECK(phb["qemu_device"].s == "spapr-pci-host-bridge");
    CHECK(phb["target_index"].n == 1);
    CHECK(phb["domain"].n == 1);
    CHECK(doc["devices"].a[0]["address"].s == "0001:00:01.0");
  }
}
