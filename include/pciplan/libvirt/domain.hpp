// pciplan — libvirt/domain.hpp: read a libvirt domain XML, plan it, write it back.
//
// An optional header: it needs pugixml (Debian: libpugixml-dev; CMake target
// pciplan::libvirt), the rest of pciplan does not.
//
//   pciplan::libvirt::domain d(xml_text);                     // throws input_error
//   auto plan = d.plan(pciplan::libvirt::policy_kind::libvirt); // result<topology_plan>
//   if (plan) std::cout << d.write(*plan);                      // the domain with every address
//
// The reader maps every device element libvirt may put on PCI to a request the way
// libvirt's QEMU driver does (libvirt-rules.md §3): its catalogue device, its connect
// kind, a user-given `<address type='pci'>` (all-zero means "PCI, anywhere"), and the
// default devices libvirt adds (USB controller, SATA on q35, memballoon, implicit SCSI
// and virtio-serial controllers). `<controller type='pci'>` elements become the given
// controllers. The writer puts an `<address>` on every PCI device, fills in index,
// `<model name>` and `<target>` of every PCI controller and adds the controllers the
// plan added, in index order among the PCI controllers. Everything else in the
// document is left as it was, formatting included.
//
// Constraints that are not addresses live in `<metadata>` (README "libvirt"):
//
//   <metadata>
//     <pciplan:plan xmlns:pciplan="urn:pciplan:plan:1" spare-ports="2">
//       <pciplan:device alias="ua-gpu" link="pcie" hotplug="no" numa-node="1"
//                       multifunction-group="1" function="0" isolation-group="3" order="0"/>
//     </pciplan:plan>
//   </metadata>
//
// keyed by the device's `<alias name='ua-…'/>`.
#ifndef PCIPLAN_LIBVIRT_DOMAIN_HPP
#define PCIPLAN_LIBVIRT_DOMAIN_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/kinds/machine_dispatch.hpp>
#include <pciplan/planner/libvirt_order.hpp>
#include <pciplan/vocabulary/machine_id.hpp>
#include <pciplan/libvirt/device_table.hpp>
#include <pciplan/libvirt/detail/xml.hpp>
#include <pciplan/vocabulary/error.hpp>
#include <pciplan/topology/topology_plan.hpp>
#include <pciplan/planner/planner.hpp>
#include <pciplan/topology/request.hpp>

#include <pugixml.hpp>

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace pciplan::inline v0::libvirt {

/// Which planning policy: libvirt's own decisions, or pciplan's (policies.hpp).
enum class policy_kind : unsigned char { libvirt, pciplan };

/// How to read and plan a domain.
struct domain_options {
  policy_kind policy = policy_kind::pciplan;
  int spare_ports = -1;         ///< pciplan policy: spare hot-pluggable ports; -1: the metadata's, else 4
  bool new_definition = false;  ///< libvirt's defaults for a newly defined domain (its "ABI update")
};

/// What `plan_domain_xml` gives: status 0 and the planned domain, 1 when planning
/// failed, 2 when the input is not a domain pciplan can read; `message` says why.
struct xml_outcome {
  int status = 0;
  std::string xml;
  std::string message;
};

/// The exit status that fits a planning error: 2 when the input contradicts itself or
/// the machine (bad or duplicate addresses, wrong controllers, contradicting
/// constraints), 1 when the input is sound but does not fit (no slot, index or bus
/// number left).
[[nodiscard]] constexpr int status_of(errc code) noexcept {
  switch (code) {
    case errc::no_pci:
    case errc::mmio_exhausted:
    case errc::no_free_slot:
    case errc::bus_numbers_exhausted:
    case errc::controller_index_exhausted:
    case errc::numa_unsupported:
    case errc::expander_full:
    case errc::numbering_exhausted: return 1;
    default: return 2;
  }
}

/// A libvirt domain: the document, and the requests and controllers read from it.
/// Not copyable or movable (the requests point into it); construct it where it is used.
class domain {
 public:
  /// Reads a domain XML. Throws `input_error` when it is not one pciplan can read.
  explicit domain(std::string_view xml, const domain_options& options = {});
  domain(const domain&) = delete;
  domain& operator=(const domain&) = delete;

  [[nodiscard]] machine_id machine() const noexcept { return machine_; }
  /// The machine type as the document names it (or the architecture's default).
  [[nodiscard]] const std::string& machine_name() const noexcept { return machine_name_; }
  [[nodiscard]] std::span<const request> requests() const noexcept { return requests_; }
  [[nodiscard]] std::span<const controller> controllers() const noexcept { return controllers_; }
  /// NUMA nodes (`<cpu><numa><cell>`) and spare ports (metadata or the options).
  [[nodiscard]] const plan_options& options() const noexcept { return plan_options_; }
  /// The guest's `<memory>` in KiB (0 when the domain does not say).
  [[nodiscard]] std::uint64_t memory_kib() const noexcept { return memory_kib_; }

  /// Plans the domain with the given policy.
  [[nodiscard]] result<topology_plan> plan(policy_kind policy) const {
    return with_machine(machine_, [&](auto m) -> result<topology_plan> {
      using M = decltype(m);
      if (policy == policy_kind::libvirt) return pciplan::plan<M, policies::libvirt>(requests_, plan_options_, controllers_);
      return pciplan::plan<M, policies::pciplan>(requests_, plan_options_, controllers_);
    });
  }

  /// The document with the plan written into it (addresses, controllers). The plan
  /// must come from `plan()` of this domain (else std::invalid_argument).
  [[nodiscard]] std::string write(const topology_plan& plan);

 private:
  struct pending_device {
    pugi::xml_node node;
    request req;
    std::string_view default_model{};
    bool model_attribute = false;  ///< the default model goes into a `model=` attribute (controllers)
    std::string_view element{};
    int usb_index = -1;            ///< ICH9 USB2 companions: their set
    // libvirt's order within a device class (its def->… arrays)
    std::string_view controller_type{};
    unsigned controller_index = 0;
    int parsed_index = -1;         ///< the index the element gave (-1: none; libvirt orders by it)
    long disk_number = -1;         ///< vda = 0, vdb = 1, …, vdaa = 26 (libvirt orders disks by it)
    bool companion = false;        ///< a USB controller with <master>
    bool from_interface = false;   ///< an <interface type='hostdev'>: first among the hostdevs
  };

  std::string text_;
  detail::locator at_{text_};
  pugi::xml_document doc_;
  machine_id machine_ = machine_id::pc;
  std::string machine_name_;
  bool new_definition_ = false;
  plan_options plan_options_{};
  std::uint64_t memory_kib_ = 0;
  std::ptrdiff_t root_start_ = -1;  // offset of "<domain" in text_
  std::ptrdiff_t root_end_ = -1;    // offset just after its close tag
  std::deque<std::string> names_;  // requests' names point here (a deque keeps them in place)
  std::vector<request> requests_;
  std::vector<pending_device> devices_;
  std::vector<controller> controllers_;
  std::vector<pugi::xml_node> controller_nodes_;  // parallel to controllers_
  pugi::xml_node devices_node_;
  std::map<std::string, std::size_t, std::less<>> aliases_;  // alias -> device
  std::map<std::string, unsigned, std::less<>> next_number_;  // name stem -> next number to try
  pugi::xml_node plan_element_;  // <prefix:plan xmlns:prefix="urn:pciplan:plan:1"> in <metadata>
  std::string plan_prefix_;

  void parse_document();
  void read_machine();
  void read_numa();
  void read_controllers();
  void read_devices();
  void add_defaults();
  void read_metadata();
  void finish_requests();
  void order_like_libvirt();
  [[nodiscard]] unsigned isolation_of(pugi::xml_node source_address) const;
  void read_device(pugi::xml_node n, const detail::device_choice& choice, std::string_view element,
                   bool model_attribute = false);
  std::string_view unique_name(pugi::xml_node n, std::string_view stem);
  pugi::xml_node add_device_element(const char* name, std::string_view after_element);
  void write_address(pugi::xml_node n, const placement& p);
  void write_controller(pugi::xml_node n, const controller& c);
};

// ---- reading ----------------------------------------------------------------------

inline domain::domain(std::string_view xml, const domain_options& options)
    : text_(xml), new_definition_(options.new_definition) {
  // libvirt's chipset controllers are index 0 of their type; finish_requests pins them
  plan_options_.chipset = plan_options::chipset_controllers::pinned;
  parse_document();
  read_machine();
  read_numa();
  read_metadata();  // spare ports
  read_controllers();
  read_devices();
  add_defaults();
  finish_requests();
  if (options.spare_ports >= 0) plan_options_.spare_ports = static_cast<unsigned>(options.spare_ports);
}

inline void domain::parse_document() {
  constexpr std::size_t max_size = 64u << 20;
  if (text_.size() > max_size) throw input_error("the document is larger than 64 MiB");
  const unsigned flags = pugi::parse_default | pugi::parse_ws_pcdata | pugi::parse_comments | pugi::parse_pi |
                         pugi::parse_declaration | pugi::parse_doctype;
  if (const std::size_t nul = text_.find('\0'); nul != std::string::npos) {  // pugixml would stop there
    throw input_error("the document is not well-formed XML (" + at_.line_of(static_cast<std::ptrdiff_t>(nul)) +
                      "): it contains a NUL character");
  }
  const pugi::xml_parse_result r = doc_.load_buffer(text_.data(), text_.size(), flags, pugi::encoding_utf8);
  if (!r) {
    const std::string line = at_.line_of(r.offset);
    throw input_error("the document is not well-formed XML" + (line.empty() ? std::string() : " (" + line + ")") +
                      ": " + r.description());
  }
  // depth and size limits: nothing below needs more, and deep documents are junk
  std::size_t nodes = 0;
  std::vector<std::pair<pugi::xml_node, std::size_t>> stack{{doc_, 0}};
  while (!stack.empty()) {
    auto [n, depth] = stack.back();
    stack.pop_back();
    if (depth > 64) at_.fail(n, "the document nests elements more than 64 levels deep");
    if (++nodes > 4'000'000) throw input_error("the document has more than 4,000,000 nodes");
    for (pugi::xml_node c = n.first_child(); c; c = c.next_sibling()) {
      if (c.type() == pugi::node_element) stack.emplace_back(c, depth + 1);
    }
  }
  // one element at the top, nothing but comments, processing instructions and white
  // space around it (pugixml reads a fragment with several; libvirt does not)
  pugi::xml_node first_element;
  for (pugi::xml_node n = doc_.first_child(); n; n = n.next_sibling()) {
    if (n.type() == pugi::node_element) {
      if (first_element) at_.fail(n, "there is content after the root element <" + std::string(first_element.name()) + ">");
      first_element = n;
    }
  }
  const pugi::xml_node root = doc_.document_element();
  // where the root element starts (its name's offset, back to the '<'), for write(): offsets
  // are only known until the document is changed
  root_start_ = root ? root.offset_debug() : -1;
  while (root_start_ > 0 && text_[static_cast<std::size_t>(root_start_)] != '<') --root_start_;
  if (!root || std::string_view(root.name()) != "domain") {
    throw input_error(root ? at_.where(root) + ": the document is not a libvirt domain (the root element must be "
                                               "<domain>)"
                           : std::string("the document has no root element"));
  }
  // where it ends: its close tag is the last '>' before the comments and processing
  // instructions that may follow it; anything else there is text after the root element
  std::size_t limit = text_.size();
  if (const pugi::xml_node after = root.next_sibling()) {
    std::ptrdiff_t at = after.offset_debug();
    while (at > 0 && text_[static_cast<std::size_t>(at)] != '<') --at;
    if (at > 0) limit = static_cast<std::size_t>(at);
  }
  const std::size_t gt = limit == 0 ? std::string::npos : text_.rfind('>', limit - 1);
  const std::size_t lt = gt == std::string::npos ? std::string::npos : text_.rfind('<', gt);
  const std::string_view close = lt == std::string::npos ? std::string_view{} : std::string_view(text_).substr(lt, gt + 1 - lt);
  const bool closes = close.starts_with("</domain") || (close.ends_with("/>") && static_cast<std::ptrdiff_t>(lt) == root_start_);
  const auto text_after_root = [&](std::size_t at) {
    return input_error("the document is not well-formed XML (" + at_.line_of(static_cast<std::ptrdiff_t>(at)) +
                       "): there is text after the root element");
  };
  if (!closes) throw text_after_root(gt == std::string::npos ? 0 : gt);
  // between and after the comments and processing instructions: white space only
  std::size_t pos = gt + 1;
  const auto blank_until = [&](std::size_t end) {
    const std::size_t bad = text_.find_first_not_of(" \t\r\n", pos);
    if (bad < end) throw text_after_root(bad);
  };
  for (pugi::xml_node n = root.next_sibling(); n; n = n.next_sibling()) {
    std::ptrdiff_t at = n.offset_debug();
    while (at > 0 && text_[static_cast<std::size_t>(at)] != '<') --at;
    const std::size_t start = static_cast<std::size_t>(std::max<std::ptrdiff_t>(at, 0));
    blank_until(start);
    const std::size_t end = text_.find(n.type() == pugi::node_comment ? "-->" : "?>", start);
    pos = end == std::string::npos ? text_.size() : end + (n.type() == pugi::node_comment ? 3 : 2);
  }
  blank_until(text_.size());
  root_end_ = static_cast<std::ptrdiff_t>(gt + 1);
  devices_node_ = root.child("devices");
  if (!devices_node_) devices_node_ = detail::append_element(root, "devices");
}

inline void domain::read_machine() {
  const pugi::xml_node type = doc_.document_element().child("os").child("type");
  if (!type) throw input_error("<domain>: <os><type arch='…' machine='…'> is missing");
  const std::string_view arch = type.attribute("arch").value();
  const std::string_view machine = type.attribute("machine").value();
  if (arch.empty()) at_.fail(type, "the arch attribute is missing");
  const auto m = machine_of(arch, machine);
  if (!m) {
    at_.fail(type, "machine type '" + std::string(machine) + "' of arch '" + std::string(arch) +
                       "' is not one pciplan plans (pc, q35 and microvm on x86_64; virt on aarch64, riscv64 and "
                       "loongarch64; pseries on ppc64; s390-ccw-virtio on s390x)");
  }
  machine_ = *m;
  machine_name_ = machine.empty() ? std::string(with_machine(*m, [](auto x) {
    return machine_traits<decltype(x)>::name;
  }))
                                  : std::string(machine);
}

inline void domain::read_numa() {
  if (const pugi::xml_node memory = doc_.document_element().child("memory")) {
    const auto value = detail::parse_number(memory.child_value());
    if (!value) at_.fail(memory, "the memory size is not a number");
    const std::string_view unit = memory.attribute("unit").value();
    std::uint64_t scale = 0;  // to KiB, times 1024
    if (unit == "b" || unit == "bytes") scale = 1;
    else if (unit.empty() || unit == "k" || unit == "KiB") scale = 1024;
    else if (unit == "KB") scale = 1000;
    else if (unit == "M" || unit == "MiB") scale = 1024ull * 1024;
    else if (unit == "MB") scale = 1000ull * 1000;
    else if (unit == "G" || unit == "GiB") scale = 1024ull * 1024 * 1024;
    else if (unit == "GB") scale = 1000ull * 1000 * 1000;
    else if (unit == "T" || unit == "TiB") scale = 1024ull * 1024 * 1024 * 1024;
    else at_.fail(memory, "unknown memory unit '" + std::string(unit) + "'");
    if (*value > (std::uint64_t{1} << 50) / scale) at_.fail(memory, "the memory size is too large");
    memory_kib_ = *value * scale / 1024;
  }
  const pugi::xml_node numa = doc_.document_element().child("cpu").child("numa");
  unsigned cells = 0;
  for (pugi::xml_node c = numa.child("cell"); c; c = c.next_sibling("cell")) ++cells;
  plan_options_.numa_nodes = cells;
}

inline void domain::read_metadata() {
  plan_options_.spare_ports = 4;
  const pugi::xml_node metadata = doc_.document_element().child("metadata");
  for (pugi::xml_node e = metadata.first_child(); e; e = e.next_sibling()) {
    if (e.type() != pugi::node_element) continue;
    const std::string_view name = e.name();
    const std::size_t colon = name.find(':');
    std::string prefix(colon == std::string_view::npos ? std::string_view{} : name.substr(0, colon));
    const std::string xmlns = prefix.empty() ? "xmlns" : "xmlns:" + prefix;
    if (std::string_view(e.attribute(xmlns.c_str()).value()) != "urn:pciplan:plan:1") continue;
    if (name.substr(colon == std::string_view::npos ? 0 : colon + 1) != "plan") {
      at_.fail(e, "the pciplan metadata element must be <plan>");
    }
    if (plan_element_) at_.fail(e, "the domain has two pciplan <plan> metadata elements");
    plan_element_ = e;
    plan_prefix_ = std::move(prefix);
    if (const auto spare = detail::number_attribute(at_, e, "spare-ports", 0, 1024)) {
      plan_options_.spare_ports = static_cast<unsigned>(*spare);
    }
  }
}

/// The request name of the device just read: its alias, or a libvirt-like one.
inline std::string_view domain::unique_name(pugi::xml_node n, std::string_view stem) {
  const std::string_view alias = n.child("alias").attribute("name").value();
  if (!alias.empty()) {
    if (aliases_.count(alias) != 0) at_.fail(n, "alias '" + std::string(alias) + "' is used by two devices");
    aliases_.emplace(std::string(alias), devices_.size() - 1);
    return names_.emplace_back(alias);
  }
  for (unsigned& k = next_number_[std::string(stem)];; ++k) {
    std::string name = std::string(stem) + std::to_string(k);
    if (aliases_.count(name) == 0) {
      aliases_.emplace(name, devices_.size() - 1);
      ++k;
      return names_.emplace_back(std::move(name));
    }
  }
}

/// `<controller type='pci'>`: index, model, model name, target, address.
inline void domain::read_controllers() {
  std::set<unsigned> used;
  std::vector<pugi::xml_node> without_index;
  for (pugi::xml_node n = devices_node_.child("controller"); n; n = n.next_sibling("controller")) {
    if (std::string_view(n.attribute("type").value()) != "pci") continue;
    const auto index = detail::number_attribute(at_, n, "index", 0, 255);
    if (index) {
      if (!used.insert(static_cast<unsigned>(*index)).second) {
        at_.fail(n, "PCI controller index " + std::to_string(*index) + " is used twice");
      }
    } else {
      without_index.push_back(n);
    }
  }
  const auto kind_of = [&](pugi::xml_node n) -> const controller_descriptor* {
    const std::string_view model = n.attribute("model").value();
    const std::string_view model_name = n.child("model").attribute("name").value();
    if (model.empty()) at_.fail(n, "a PCI controller needs a model attribute");
    if (machine_ == machine_id::pseries && model == "pci-root") return &descriptor_of<spapr_pci_host_bridge>;
    const controller_descriptor* k = find_controller_kind(model, model_name);
    if (k == nullptr) at_.fail(n, "unknown PCI controller model '" + std::string(model) + "'");
    return k;
  };
  // index-less controllers take the lowest unused index (roots take 0)
  for (pugi::xml_node n : without_index) {
    const controller_descriptor* k = kind_of(n);
    unsigned i = k->is_root() && used.count(0) == 0 ? 0 : 1;
    while (used.count(i) != 0) ++i;
    if (i > 255) at_.fail(n, "no PCI controller index is left (0 to 255)");
    used.insert(i);
    detail::set_attribute(n, "index", std::to_string(i));
  }
  // libvirt's controller list: an index-less controller goes right after the last one
  // (it had no index while libvirt read the document), others before the first with a
  // higher index; address-less controllers are placed in this order
  std::vector<pugi::xml_node> ordered;
  std::vector<int> parsed;
  for (pugi::xml_node n = devices_node_.child("controller"); n; n = n.next_sibling("controller")) {
    if (std::string_view(n.attribute("type").value()) != "pci") continue;
    const bool had_index = std::find(without_index.begin(), without_index.end(), n) == without_index.end();
    const int index = had_index ? static_cast<int>(*detail::number_attribute(at_, n, "index", 0, 255)) : -1;
    std::ptrdiff_t at = -1;
    for (std::ptrdiff_t k = static_cast<std::ptrdiff_t>(ordered.size()) - 1; k >= 0 && index >= 0; --k) {
      if (parsed[static_cast<std::size_t>(k)] > index) at = k;
      else if (at == -1) at = k + 1;
    }
    if (at < 0) {
      ordered.push_back(n);
      parsed.push_back(index);
    } else {
      ordered.insert(ordered.begin() + at, n);
      parsed.insert(parsed.begin() + at, index);
    }
  }
  for (pugi::xml_node n : ordered) {
    controller c{};
    c.kind = kind_of(n);
    c.index = controller_index{static_cast<std::uint16_t>(*detail::number_attribute(at_, n, "index", 0, 255))};
    const std::string_view model_name = n.child("model").attribute("name").value();
    if (!model_name.empty()) {
      // the names libvirt accepts for each model (libvirt-rules.md §1.2)
      static constexpr std::string_view alternates[] = {"ioh3420"};
      if (model_name == c.kind->qemu_device()) {
        c.model_name = c.kind->qemu_device();
      } else if (is_kind<pcie_root_port>(c.kind) && model_name == alternates[0]) {
        c.model_name = alternates[0];
      } else if (!(c.kind->is_root() && model_name == "spapr-pci-host-bridge")) {
        at_.fail(n, "model name '" + std::string(model_name) + "' does not fit model '" +
                        n.attribute("model").value() + "'");
      }
    }
    const pugi::xml_node target = n.child("target");
    const auto attr = [&](const char* name, std::uint64_t hi) {
      const auto v = detail::number_attribute(at_, target, name, 0, hi);
      return v ? static_cast<int>(*v) : -1;
    };
    c.chassis_nr = attr("chassisNr", 65535);
    c.chassis = attr("chassis", 65535);
    c.port = attr("port", 65535);
    c.bus_nr = attr("busNr", 65535);
    c.target_index = attr("index", 65535);
    if (const pugi::xml_node node = target.child("node")) {
      const auto v = detail::parse_number(node.child_value());
      if (!v || *v > 4095) at_.fail(node, "the NUMA node must be a number from 0 to 4095");
      c.numa_node = static_cast<int>(*v);
    }
    if (const pugi::xml_attribute hp = target.attribute("hotplug")) {
      const std::string_view v = hp.value();
      if (v != "on" && v != "off") at_.fail(target, "hotplug must be 'on' or 'off'");
      c.hotplug = v == "off" ? toggle::off : toggle::on;
    }
    const pugi::xml_node address = n.child("address");
    if (address) {
      const std::string_view type = address.attribute("type").value();
      if (type != "pci") at_.fail(address, "a PCI controller's address must have type='pci'");
      const auto dom = detail::number_attribute(at_, address, "domain", 0, 0xffff).value_or(0);
      const auto bus = detail::number_attribute(at_, address, "bus", 0, 0xff).value_or(0);
      const auto slot = detail::number_attribute(at_, address, "slot", 0, 0x1f).value_or(0);
      const auto function = detail::number_attribute(at_, address, "function", 0, 7).value_or(0);
      if (bus != 0 || slot != 0 || function != 0 || dom != 0) {
        c.has_address = true;
        c.libvirt_address = controller_address(static_cast<std::uint16_t>(dom), static_cast<std::uint8_t>(bus),
                                       static_cast<std::uint8_t>(slot), static_cast<std::uint8_t>(function));
        const std::string_view mf = address.attribute("multifunction").value();
        c.multifunction = mf == "on" ? toggle::on : mf == "off" ? toggle::off : toggle::unset;
      }
    }
    if (machine_ == machine_id::pseries && c.kind->is_root() && c.target_index >= 0 &&
        (c.target_index == 0) != (c.index.value == 0)) {
      at_.fail(n, "only the PCI controller with index 0 may have target index 0, and it must have 0");
    }
    controllers_.push_back(c);
    controller_nodes_.push_back(n);
  }
}

inline void domain::read_device(pugi::xml_node n, const detail::device_choice& choice, std::string_view element,
                                bool model_attribute) {
  if (choice.device == nullptr) return;
  const pugi::xml_node address = n.child("address");
  request r{};
  r.device = *choice.device;
  r.link = choice.link;
  if (address) {
    const std::string_view type = address.attribute("type").value();
    if (type == "virtio-mmio") {
      r.via = transport::mmio;
    } else if (type == "pci") {
      r.via = transport::pci;
      const auto dom = detail::number_attribute(at_, address, "domain", 0, 0xffff).value_or(0);
      const auto bus = detail::number_attribute(at_, address, "bus", 0, 0xff).value_or(0);
      const auto slot = detail::number_attribute(at_, address, "slot", 0, 0x1f).value_or(0);
      const auto function = detail::number_attribute(at_, address, "function", 0, 7).value_or(0);
      if (dom != 0 || bus != 0 || slot != 0 || function != 0) {
        r.apply(at_address{controller_address(static_cast<std::uint16_t>(dom), static_cast<std::uint8_t>(bus),
                                              static_cast<std::uint8_t>(slot), static_cast<std::uint8_t>(function))});
        r.via = transport::automatic;
      }
    } else if (detail::known_address_type(type)) {
      if (!type.empty()) return;  // ccw, spapr-vio, isa, usb, drive, unassigned, …: not on PCI
    } else {
      at_.fail(address, "unknown address type '" + std::string(type) + "' (expected one of " +
                            std::string(detail::address_types) + ")");
    }
  }
  pending_device d{};
  d.node = n;
  d.req = r;
  d.default_model = choice.default_model;
  d.model_attribute = model_attribute;
  d.element = element;
  devices_.push_back(d);
}

/// Every device element, in libvirt's order within each class (§3.3).
inline void domain::read_devices() {
  using detail::device_choice;
  std::map<std::string, unsigned, std::less<>> next_index;  // per controller type
  std::map<std::string, std::set<unsigned>, std::less<>> used_index;
  for (pugi::xml_node n = devices_node_.child("controller"); n; n = n.next_sibling("controller")) {
    const std::string_view type = n.attribute("type").value();
    if (type == "pci") continue;
    if (const auto index = detail::number_attribute(at_, n, "index", 0, 255)) {
      used_index[std::string(type)].insert(static_cast<unsigned>(*index));
    }
  }
  // an index-less ICH9 USB2 controller joins the set of the USB controller just before it
  // when that is an ICH9 set without this model; anything else takes the lowest free index
  int previous_usb_set = -1;
  std::map<unsigned, std::set<std::string, std::less<>>> usb_set_models;
  bool seen_video = false;
  for (pugi::xml_node n = devices_node_.first_child(); n; n = n.next_sibling()) {
    if (n.type() != pugi::node_element) continue;
    const std::string_view el = n.name();
    const std::size_t before = devices_.size();
    if (el == "controller") {
      const std::string_view type = n.attribute("type").value();
      if (type == "pci") continue;
      if (type.empty()) at_.fail(n, "a controller needs a type attribute");
      const std::string_view model = n.attribute("model").value();
      if (!detail::known_controller_model(type, model)) {
        at_.fail(n, "unknown " + std::string(type) + " controller model '" + std::string(model) + "' (expected one of " +
                        std::string(detail::controller_models(type)) + ")");
      }
      auto index = detail::number_attribute(at_, n, "index", 0, 255);
      const int parsed_index = index ? static_cast<int>(*index) : -1;
      const bool ich9 = type == "usb" && model.substr(0, 5) == "ich9-";
      if (!index) {
        if (ich9 && previous_usb_set >= 0 &&
            usb_set_models[static_cast<unsigned>(previous_usb_set)].count(model) == 0) {
          index = static_cast<unsigned>(previous_usb_set);
          used_index["usb"].insert(static_cast<unsigned>(*index));
        } else {
          std::set<unsigned>& used = used_index[std::string(type)];
          unsigned i = 0;
          while (used.count(i) != 0) ++i;
          used.insert(i);
          index = i;
        }
        detail::set_attribute(n, "index", std::to_string(*index));
      }
      if (type == "usb") {
        previous_usb_set = ich9 ? static_cast<int>(*index) : -1;
        if (ich9) usb_set_models[static_cast<unsigned>(*index)].insert(std::string(model));
      }
      const device_choice c =
          detail::controller_device(type, model, static_cast<unsigned>(*index), machine_, new_definition_);
      read_device(n, c, "controller", true);
      if (devices_.size() != before) {
        pending_device& d = devices_.back();
        if (c.device->companion_function >= 0) d.usb_index = static_cast<int>(*index);
        d.req.name = unique_name(n, type == "usb" ? "usb" : std::string(type));
        d.controller_type = type;
        d.controller_index = static_cast<unsigned>(*index);
        d.parsed_index = parsed_index;
        d.companion = static_cast<bool>(n.child("master"));
        // libvirt keeps the model-less USB controller of an existing q35 domain on pcie.0
        // unless a conventional PCI slot exists anyway (the corpus: usb-controller-default-q35)
        if (type == "usb" && model.empty() && *index == 0 && machine_ == machine_id::q35 && !new_definition_) {
          d.req.otherwise = fallback::root_bus;
        }
      }
      continue;
    }
    if (el == "disk") {
      const pugi::xml_node target = n.child("target");
      if (std::string_view(target.attribute("bus").value()) != "virtio") continue;
      read_device(n, detail::virtio_variant<models::virtio_blk, models::virtio_blk_transitional,
                                            models::virtio_blk_non_transitional>(n.attribute("model").value()),
                  el);
      if (devices_.size() != before) {
        devices_.back().req.name = unique_name(n, "virtio-disk");
        devices_.back().disk_number = detail::disk_number(target.attribute("dev").value());
      }
    } else if (el == "interface") {
      const std::string_view type = n.attribute("type").value();
      const device_choice c = detail::interface_device(type, n.child("model").attribute("type").value(), machine_);
      read_device(n, c, type == "hostdev" ? "hostdev" : "interface");
      if (devices_.size() != before) {
        devices_.back().req.name = unique_name(n, type == "hostdev" ? "hostdev" : "net");
        if (type == "hostdev") {
          devices_.back().req.device.libvirt.element = "hostdev";
          devices_.back().from_interface = true;
          if (machine_ == machine_id::pseries) devices_.back().req.isolation = isolation_of(n.child("source").child("address"));
        }
      }
    } else if (el == "hostdev") {
      const std::string_view type = n.attribute("type").value();
      const std::string_view mode = n.attribute("mode").value();
      device_choice c{};
      if (mode != "capabilities" && type == "pci") c = {detail::dev<models::vfio_pci>};
      if (type == "scsi_host") c = detail::virtio_link<models::vhost_scsi>(n.attribute("model").value());
      if (type == "mdev" && std::string_view(n.attribute("model").value()) == "vfio-pci") {
        c = {detail::dev<models::vfio_pci>};
      }
      read_device(n, c, el);
      if (devices_.size() != before) {
        devices_.back().req.name = unique_name(n, "hostdev");
        if (machine_ == machine_id::pseries && type == "pci") {
          devices_.back().req.isolation = isolation_of(n.child("source").child("address"));
        }
      }
    } else if (el == "filesystem") {
      read_device(n,
                  detail::filesystem_device(n.child("driver").attribute("type").value(), n.attribute("type").value(),
                                            n.attribute("model").value()),
                  el);
      if (devices_.size() != before) devices_.back().req.name = unique_name(n, "fs");
    } else if (el == "video") {
      const pugi::xml_node model = n.child("model");
      const bool primary = !seen_video || std::string_view(model.attribute("primary").value()) == "yes";
      const device_choice c = detail::video_device(model.attribute("type").value(), primary, machine_);
      seen_video = true;
      read_device(n, c, el);
      if (devices_.size() != before) devices_.back().req.name = unique_name(n, "video");
    } else if (el == "sound") {
      read_device(n, detail::sound_device(n.attribute("model").value()), el);
      if (devices_.size() != before) devices_.back().req.name = unique_name(n, "sound");
    } else if (el == "input") {
      read_device(n,
                  detail::input_device(n.attribute("type").value(), n.attribute("bus").value(),
                                       n.attribute("model").value()),
                  el);
      if (devices_.size() != before) devices_.back().req.name = unique_name(n, "input");
    } else if (el == "memballoon") {
      const std::string_view model = n.attribute("model").value();
      if (model == "none" || machine_ == machine_id::s390x_ccw) continue;
      read_device(n,
                  detail::virtio_variant<models::virtio_balloon, models::virtio_balloon_transitional,
                                         models::virtio_balloon>(model),
                  el);
      if (devices_.size() != before) devices_.back().req.name = unique_name(n, "balloon");
    } else if (el == "rng") {
      read_device(n,
                  detail::virtio_variant<models::virtio_rng, models::virtio_rng_transitional, models::virtio_rng>(
                      n.attribute("model").value()),
                  el);
      if (devices_.size() != before) devices_.back().req.name = unique_name(n, "rng");
    } else if (el == "watchdog") {
      if (std::string_view(n.attribute("model").value()) != "i6300esb") continue;
      read_device(n, {detail::dev<models::i6300esb>}, el);
      if (devices_.size() != before) devices_.back().req.name = unique_name(n, "watchdog");
    } else if (el == "shmem") {
      const std::string_view model = n.child("model").attribute("type").value();
      read_device(n, {model == "ivshmem-doorbell" ? detail::dev<models::ivshmem_doorbell> : detail::dev<models::ivshmem_plain>},
                  el);
      if (devices_.size() != before) devices_.back().req.name = unique_name(n, "shmem");
    } else if (el == "serial") {
      if (std::string_view(n.child("target").attribute("type").value()) != "pci-serial") continue;
      read_device(n, {detail::dev<models::pci_serial>}, el);
      if (devices_.size() != before) devices_.back().req.name = unique_name(n, "serial");
    } else if (el == "iommu") {
      const std::string_view model = n.attribute("model").value();
      if (model == "virtio") read_device(n, {detail::dev<models::virtio_iommu>}, el);
      if (model == "amd") read_device(n, {detail::dev<models::amd_iommu>}, el);
      if (devices_.size() != before) devices_.back().req.name = unique_name(n, "iommu");
    } else if (el == "vsock") {
      read_device(n,
                  detail::virtio_variant<models::vhost_vsock, models::vhost_vsock_transitional, models::vhost_vsock>(
                      n.attribute("model").value()),
                  el);
      if (devices_.size() != before) devices_.back().req.name = unique_name(n, "vsock");
    } else if (el == "memory") {
      const std::string_view model = n.attribute("model").value();
      if (model == "virtio-mem") read_device(n, {detail::dev<models::virtio_mem>}, el);
      if (model == "virtio-pmem") read_device(n, {detail::dev<models::virtio_pmem>}, el);
      if (devices_.size() != before) devices_.back().req.name = unique_name(n, "memory");
    } else if (el == "crypto") {
      if (std::string_view(n.attribute("model").value()) != "virtio") continue;
      read_device(n, {detail::dev<models::virtio_crypto>}, el);
      if (devices_.size() != before) devices_.back().req.name = unique_name(n, "crypto");
    } else if (el == "panic") {
      std::string_view model = n.attribute("model").value();
      const bool arm_like = machine_ == machine_id::aarch64_virt || machine_ == machine_id::riscv64_virt ||
                            machine_ == machine_id::loongarch64_virt;
      if (model.empty() && arm_like) model = "pvpanic";
      if (model != "pvpanic" || detail::is_x86(machine_) || !arm_like) continue;  // x86 pvpanic is ISA
      read_device(n, {detail::dev<models::pvpanic_pci>, link_need::catalogue, "pvpanic"}, el, true);
      if (devices_.size() != before) devices_.back().req.name = unique_name(n, "panic");
    } else if (el == "pstore") {
      if (std::string_view(n.attribute("backend").value()) != "acpi-erst") continue;
      read_device(n, {detail::dev<models::acpi_erst>}, el);
      if (devices_.size() != before) devices_.back().req.name = unique_name(n, "pstore");
    }
  }
}

/// pseries keeps host devices apart by IOMMU group (libvirt-rules.md §2.6). Without the
/// host's sysfs, one host device (domain, bus, slot: all its functions) is one group.
inline unsigned domain::isolation_of(pugi::xml_node host) const {
  const auto part = [&](const char* name) { return detail::parse_number(host.attribute(name).value()).value_or(0); };
  return 1 + static_cast<unsigned>(((part("domain") & 0xffffu) << 13 | (part("bus") & 0xffu) << 5 | (part("slot") & 0x1fu)) &
                                   0x1fffffffu);
}

/// Appends a new device element after the last element named `after_element` (or after
/// the last controller, or at the end).
inline pugi::xml_node domain::add_device_element(const char* name, std::string_view after_element) {
  pugi::xml_node anchor;
  for (pugi::xml_node n = devices_node_.first_child(); n; n = n.next_sibling()) {
    if (n.type() == pugi::node_element && std::string_view(n.name()) == after_element) anchor = n;
  }
  if (!anchor) {
    for (pugi::xml_node n = devices_node_.first_child(); n; n = n.next_sibling()) {
      const std::string_view el = n.name();
      if (n.type() == pugi::node_element && (el == "emulator" || el == "disk" || el == "controller")) anchor = n;
    }
  }
  return anchor ? detail::insert_element_after(anchor, name) : detail::append_element(devices_node_, name);
}

/// The devices libvirt adds to a domain that lacks them (libvirt-rules.md §2.1).
inline void domain::add_defaults() {
  bool usb = false;
  bool sata = false;
  bool ide = false;
  std::set<std::string> controller_types;
  for (pugi::xml_node n = devices_node_.child("controller"); n; n = n.next_sibling("controller")) {
    controller_types.insert(n.attribute("type").value());
  }
  // libvirt adds the default USB controller when none has index 0, unless USB is off
  pugi::xml_node usb_off;
  unsigned usb_count = 0;
  for (pugi::xml_node n = devices_node_.child("controller"); n; n = n.next_sibling("controller")) {
    if (std::string_view(n.attribute("type").value()) != "usb") continue;
    ++usb_count;
    if (std::string_view(n.attribute("model").value()) == "none") usb_off = n;
    usb = usb || usb_off || detail::parse_number(n.attribute("index").value()).value_or(1) == 0;
  }
  if (usb_off && usb_count > 1) {
    at_.fail(usb_off, "USB is turned off by this model='none' USB controller, so there may be no other USB controller");
  }
  sata = controller_types.count("sata") != 0;
  ide = controller_types.count("ide") != 0;
  const auto add_controller = [&](const char* type, std::string_view model) {
    pugi::xml_node n = add_device_element("controller", "controller");
    n.append_attribute("type").set_value(type);
    n.append_attribute("index").set_value("0");
    if (!model.empty()) n.append_attribute("model").set_value(std::string(model).c_str());
    const std::size_t before = devices_.size();
    read_device(n, detail::controller_device(type, model, 0, machine_, new_definition_), "controller", true);
    if (devices_.size() != before) {
      devices_.back().req.name = unique_name(n, type);
      devices_.back().controller_type = type;
    }
    controller_types.insert(type);
  };
  bool ide_disk = false;
  bool scsi_disk = false;
  bool virtio_serial_port = false;
  for (pugi::xml_node n = devices_node_.first_child(); n; n = n.next_sibling()) {
    const std::string_view el = n.name();
    if (el == "disk") {
      const std::string_view bus = n.child("target").attribute("bus").value();
      ide_disk = ide_disk || bus == "ide";
      scsi_disk = scsi_disk || bus == "scsi";
    }
    if (el == "hostdev" && std::string_view(n.attribute("type").value()) == "scsi") scsi_disk = true;
    if (el == "channel" || el == "console") {
      const std::string_view t = n.child("target").attribute("type").value();
      virtio_serial_port = virtio_serial_port || t == "virtio";
    }
  }
  if (!usb && (machine_ == machine_id::pc || machine_ == machine_id::q35 || machine_ == machine_id::pseries)) {
    add_controller("usb", machine_ == machine_id::q35  ? "qemu-xhci"
                          : machine_ == machine_id::pc ? "piix3-uhci"
                          : new_definition_            ? "qemu-xhci"
                                                       : "pci-ohci");
  }
  if (!sata && machine_ == machine_id::q35) add_controller("sata", "");
  if (!ide && ide_disk && machine_ == machine_id::pc) add_controller("ide", "");
  if (scsi_disk && controller_types.count("scsi") == 0) add_controller("scsi", "");
  if (virtio_serial_port && controller_types.count("virtio-serial") == 0) add_controller("virtio-serial", "");
  const bool balloon_default = machine_ == machine_id::pc || machine_ == machine_id::q35 ||
                               machine_ == machine_id::pseries || machine_ == machine_id::riscv64_virt;
  if (balloon_default && !devices_node_.child("memballoon")) {
    pugi::xml_node n = detail::append_element(devices_node_, "memballoon");
    n.append_attribute("model").set_value("virtio");
    const std::size_t before = devices_.size();
    read_device(n, {detail::dev<models::virtio_balloon>}, "memballoon");
    if (devices_.size() != before) devices_.back().req.name = unique_name(n, "balloon");
  }
}

/// Metadata constraints, ICH9 USB2 sets, and the request list.
inline void domain::finish_requests() {
  // constraints keyed by alias
  if (plan_element_) {
    const pugi::xml_node e = plan_element_;
    const std::string device_tag = plan_prefix_.empty() ? "device" : plan_prefix_ + ":device";
    for (pugi::xml_node c = e.first_child(); c; c = c.next_sibling()) {
      if (c.type() != pugi::node_element) continue;
      if (c.name() != device_tag) at_.fail(c, "unknown pciplan metadata element (expected <" + device_tag + ">)");
      const std::string_view alias = c.attribute("alias").value();
      if (alias.empty()) at_.fail(c, "the alias attribute is missing");
      const auto it = aliases_.find(alias);
      if (it == aliases_.end() || it->second >= devices_.size()) {
        at_.fail(c, "no PCI device has alias '" + std::string(alias) + "'");
      }
      request& r = devices_[it->second].req;
      for (pugi::xml_attribute a = c.first_attribute(); a; a = a.next_attribute()) {
        const std::string_view key = a.name();
        const std::string_view value = a.value();
        if (key == "alias") continue;
        if (key == "link") {
          if (value == "pci") r.link = link_need::pci;
          else if (value == "pcie") r.link = link_need::pcie;
          else if (value == "either") r.link = link_need::either;
          else at_.fail(c, "link must be 'pci', 'pcie' or 'either'");
        } else if (key == "hotplug") {
          if (value == "yes") r.hotplug_need = hotplug::required;
          else if (value == "no") r.hotplug_need = hotplug::not_needed;
          else at_.fail(c, "hotplug must be 'yes' or 'no'");
        } else if (key == "numa-node") {
          r.numa = static_cast<int>(*detail::number_attribute(at_, c, "numa-node", 0, 4095));
        } else if (key == "multifunction-group") {
          r.multifunction = static_cast<unsigned>(*detail::number_attribute(at_, c, "multifunction-group", 1, 65535));
        } else if (key == "function") {
          r.function = static_cast<unsigned>(*detail::number_attribute(at_, c, "function", 0, 7));
        } else if (key == "isolation-group") {
          r.isolation = static_cast<unsigned>(*detail::number_attribute(at_, c, "isolation-group", 1, 65535));
        } else if (key == "order") {
          r.order = static_cast<int>(*detail::number_attribute(at_, c, "order", 0, 1000000));
        } else {
          at_.fail(c, "unknown constraint '" + std::string(key) +
                          "' (expected link, hotplug, numa-node, multifunction-group, function, isolation-group or "
                          "order)");
        }
      }
      if (c.attribute("function") && !c.attribute("multifunction-group")) {
        at_.fail(c, "function needs a multifunction-group");
      }
    }
  }
  // the controllers built into the chipset are index 0 of their type: PIIX3 USB (pc,
  // 00:01.2), PIIX3 IDE (pc, 00:01.1), ICH9 SATA (q35, 00:1f.2); libvirt refuses them
  // anywhere else
  for (pending_device& d : devices_) {
    if (d.element != "controller" || d.controller_index != 0) continue;
    const std::string_view dev = d.req.device.qemu_device;
    std::optional<controller_address> at;
    if (machine_ == machine_id::pc && d.controller_type == "usb" && dev == "piix3-usb-uhci") at = controller_address(0, 0, 1, 2);
    if (machine_ == machine_id::pc && d.controller_type == "ide") at = controller_address(0, 0, 1, 1);
    if (machine_ == machine_id::q35 && d.controller_type == "sata") at = controller_address(0, 0, 0x1f, 2);
    if (!at) continue;
    if (d.req.fixed == address_kind::full && d.req.libvirt_address != *at) {
      at_.fail(d.node, "the " + std::string(dev) + " controller with index 0 is built into the chipset and must have PCI address 0000:00:" +
                           detail::hex(at->slot, 2).substr(2) + "." + std::to_string(at->function));
    }
    d.req.apply(at_address{*at});
    d.req.via = transport::automatic;
  }
  // ICH9 USB2 sets: one multifunction group per USB index; unaddressed members follow an
  // addressed one into its slot
  constexpr unsigned usb_group_base = 0x10000;
  for (pending_device& d : devices_) {
    if (d.usb_index < 0) continue;
    d.req.multifunction = usb_group_base + static_cast<unsigned>(d.usb_index);
    d.req.function = static_cast<unsigned>(d.req.device.companion_function);
  }
  for (pending_device& d : devices_) {
    if (d.usb_index < 0 || d.req.fixed == address_kind::full) continue;
    for (const pending_device& o : devices_) {
      if (o.usb_index == d.usb_index && o.req.fixed == address_kind::full) {
        d.req.apply(at_address{controller_address(0, o.req.libvirt_address.bus.value, o.req.libvirt_address.slot,
                                                  static_cast<std::uint8_t>(d.req.function))});
        d.req.via = transport::automatic;
        break;
      }
    }
  }
  for (const pending_device& d : devices_) {
    if (d.req.fixed == address_kind::full && d.req.multifunction != 0 && d.usb_index >= 0 &&
        d.req.libvirt_address.function != d.req.function) {
      // an explicit address wins over the companion layout: leave the group
      for (pending_device& o : devices_) {
        if (o.usb_index == d.usb_index) o.req.multifunction = 0;
      }
    }
  }
  order_like_libvirt();
  requests_.reserve(devices_.size());
  for (const pending_device& d : devices_) requests_.push_back(d.req);
}

/// The order libvirt keeps devices in within a class, which decides who gets the lower
/// slot: controllers as libvirt inserts them (grouped by type, by index, a USB2 master
/// before its companions), the hostdevs of `<interface type='hostdev'>` before `<hostdev>`
/// elements, everything else in document order.
inline void domain::order_like_libvirt() {
  std::vector<std::size_t> controllers;  // positions in libvirt's controller list
  for (std::size_t i = 0; i != devices_.size(); ++i) {
    const pending_device& d = devices_[i];
    if (d.element != "controller") continue;
    std::ptrdiff_t at = -1;
    for (std::ptrdiff_t k = static_cast<std::ptrdiff_t>(controllers.size()) - 1; k >= 0; --k) {
      const pending_device& o = devices_[controllers[static_cast<std::size_t>(k)]];
      if (o.controller_type != d.controller_type) continue;
      if (d.parsed_index < 0) {  // no index yet: right after the last controller of its type
        at = k + 1;
        break;
      }
      if (o.parsed_index > d.parsed_index) {
        at = k;
      } else if (!d.companion && o.companion && o.parsed_index == d.parsed_index) {
        at = k;
      } else if (at == -1) {
        at = k + 1;
      }
    }
    if (at < 0) controllers.push_back(i);
    else controllers.insert(controllers.begin() + at, i);
  }
  std::vector<std::size_t> rank(devices_.size(), 0);
  for (std::size_t k = 0; k != controllers.size(); ++k) rank[controllers[k]] = k;
  // virtio disks as libvirt inserts them: before the first disk with a higher number
  std::vector<std::size_t> disks;
  for (std::size_t i = 0; i != devices_.size(); ++i) {
    if (devices_[i].element != "disk") continue;
    std::ptrdiff_t at = -1;
    for (std::ptrdiff_t k = static_cast<std::ptrdiff_t>(disks.size()) - 1; k >= 0; --k) {
      if (devices_[disks[static_cast<std::size_t>(k)]].disk_number > devices_[i].disk_number) at = k;
      else if (at == -1) at = k + 1;
    }
    if (at < 0) disks.push_back(i);
    else disks.insert(disks.begin() + at, i);
  }
  for (std::size_t k = 0; k != disks.size(); ++k) rank[disks[k]] = k;
  std::vector<std::size_t> order(devices_.size());
  for (std::size_t i = 0; i != order.size(); ++i) order[i] = i;
  const auto key = [&](std::size_t i) {
    const pending_device& d = devices_[i];
    const std::size_t within = (d.element == "controller" || d.element == "disk") ? rank[i] : d.from_interface ? 0 : 1;
    return std::tuple(libvirt_class_rank(d.element), within, i);
  };
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return key(a) < key(b); });
  std::vector<pending_device> sorted;
  sorted.reserve(devices_.size());
  for (std::size_t i : order) sorted.push_back(devices_[i]);
  devices_ = std::move(sorted);
}

// ---- writing ----------------------------------------------------------------------

namespace detail {
/// Appends text and numbers to a string without temporaries (the writer builds every
/// new element as text; this is most of its time).
class text_builder {
 public:
  explicit text_builder(std::string& out) : out_(out) {}
  text_builder& operator<<(std::string_view v) {
    out_.append(v);
    return *this;
  }
  text_builder& operator<<(char c) {
    out_.push_back(c);
    return *this;
  }
  /// decimal
  text_builder& operator<<(unsigned long v) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, r.ptr);
    return *this;
  }
  /// "0x" and at least `width` hex digits
  text_builder& hex(unsigned v, int width) {
    out_.append("0x");
    pciplan::detail::append_hex(out_, v, static_cast<unsigned>(width));
    return *this;
  }

 private:
  std::string& out_;
};

/// `<address …/>` of a placement as libvirt writes it.
inline void append_address(std::string& out, const placement& p, std::string_view multifunction = {}) {
  text_builder t(out);
  if (p.kind == placement_kind::mmio) {
    t << "<address type='virtio-mmio'/>";
    return;
  }
  if (p.kind == placement_kind::ccw) {
    t << "<address type='ccw' cssid='0xfe' ssid='0x0' devno='";
    t.hex(p.transport, 4) << "'/>";
    return;
  }
  const controller_address& ca = p.libvirt_address;
  t << "<address type='pci' domain='";
  t.hex(ca.domain, 4) << "' bus='";
  t.hex(ca.bus.value, 2) << "' slot='";
  t.hex(ca.slot, 2) << "' function='";
  t.hex(ca.function, 1) << '\'';
  if (p.multifunction) t << " multifunction='on'";
  else if (multifunction == "on" || multifunction == "off") t << " multifunction='" << multifunction << '\'';
  t << "/>";
}

/// The children of a PCI controller that has none yet, as libvirt writes them
/// (`<model name>`, `<target>` with `<node>`, `<address>`), indented for the document.
inline void append_controller_children(std::string& out, const controller& c, bool pseries_root,
                                       const std::optional<std::string>& indent) {
  text_builder t(out);
  const auto newline = [&](int extra) {
    if (!indent) return;
    t << '\n' << *indent << "  ";
    for (int i = 0; i < extra; ++i) t << "  ";
  };
  newline(0);
  t << "<model name='" << (pseries_root ? std::string_view("spapr-pci-host-bridge") : c.qemu_device()) << "'/>";
  const numbering_set numbered = c.kind->numbered_by;
  const auto number = [&](const char* name, int v) {
    if (v >= 0) t << ' ' << name << "='" << static_cast<unsigned long>(v) << '\'';
  };
  const std::size_t target_at = out.size();
  newline(0);
  t << "<target";
  const std::size_t attributes_at = out.size();
  if (numbered.has(numbering::chassis_nr)) number("chassisNr", c.chassis_nr);
  if (numbered.has(numbering::chassis)) number("chassis", c.chassis);
  if (numbered.has(numbering::port) && c.port >= 0) {
    t << " port='";
    t.hex(static_cast<unsigned>(c.port), 1) << '\'';
  }
  if (numbered.has(numbering::bus_nr)) number("busNr", c.bus_nr);
  if (numbered.has(numbering::target_index)) number("index", c.target_index);
  if (c.hotplug != toggle::unset) t << (c.hotplug == toggle::off ? " hotplug='off'" : " hotplug='on'");
  if (c.numa_node >= 0) {
    t << '>';
    newline(1);
    t << "<node>" << static_cast<unsigned long>(c.numa_node) << "</node>";
    newline(0);
    t << "</target>";
  } else if (out.size() != attributes_at) {
    t << "/>";
  } else {
    out.resize(target_at);  // nothing to say: no <target>
  }
  if (c.has_address) {
    placement p{};
    p.libvirt_address = c.libvirt_address;
    p.multifunction = c.multifunction == toggle::on;
    newline(0);
    append_address(out, p);
  }
  if (indent) t << '\n' << *indent;
}
}  // namespace detail

/// The `<address>` of a placement: PCI (libvirt's form: bus = controller index),
/// virtio-mmio, or CCW. An existing `multifunction` attribute is kept unless the plan sets it.
inline void domain::write_address(pugi::xml_node n, const placement& p) {
  const pugi::xml_node old = n.child("address");
  const std::string_view mf = old.attribute("multifunction").value();
  std::string text;
  detail::append_address(text, p, mf);
  if (old) {
    pugi::xml_node fresh = detail::parse_element(n, text);
    n.insert_move_before(fresh, old);
    n.remove_child(old);
  } else {
    detail::place_last(n, detail::parse_element(n, text));
  }
}
/// A PCI controller as libvirt writes it: type, index, model, `<model name>`, `<target>`
/// with the numbering its kind carries, `<node>`, and its address.
inline void domain::write_controller(pugi::xml_node n, const controller& c) {
  detail::set_attribute(n, "type", "pci");
  detail::set_attribute(n, "index", std::to_string(c.index.value));
  const bool pseries_root = c.kind->is_root() && machine_ == machine_id::pseries;
  detail::set_attribute(n, "model", c.kind->model);
  if (c.kind->is_root() && !pseries_root) return;
  pugi::xml_node model = n.child("model");
  if (!model) {
    pugi::xml_node first = n.first_child();
    while (first && first.type() != pugi::node_element) first = first.next_sibling();
    model = first ? detail::insert_element_before(first, "model") : detail::append_element(n, "model");
  }
  detail::set_attribute(model, "name", pseries_root ? std::string_view("spapr-pci-host-bridge") : c.qemu_device());
  const numbering_set numbered = c.kind->numbered_by;
  const bool wants_target = numbered.has(numbering::chassis) || numbered.has(numbering::chassis_nr) ||
                            numbered.has(numbering::bus_nr) || numbered.has(numbering::target_index) ||
                            c.hotplug != toggle::unset || c.numa_node >= 0;
  if (wants_target) {
    pugi::xml_node target = n.child("target");
    if (!target) target = detail::insert_element_after(model, "target");
    if (numbered.has(numbering::chassis_nr) && c.chassis_nr >= 0) detail::set_attribute(target, "chassisNr", std::to_string(c.chassis_nr));
    if (numbered.has(numbering::chassis) && c.chassis >= 0) detail::set_attribute(target, "chassis", std::to_string(c.chassis));
    if (numbered.has(numbering::port) && c.port >= 0) detail::set_attribute(target, "port", detail::hex(static_cast<unsigned>(c.port), 1));
    if (numbered.has(numbering::bus_nr) && c.bus_nr >= 0) detail::set_attribute(target, "busNr", std::to_string(c.bus_nr));
    if (numbered.has(numbering::target_index) && c.target_index >= 0) {
      detail::set_attribute(target, "index", std::to_string(c.target_index));
    }
    if (c.hotplug != toggle::unset) detail::set_attribute(target, "hotplug", c.hotplug == toggle::off ? "off" : "on");
    if (c.numa_node >= 0 && !target.child("node")) {
      detail::append_element(target, "node").text().set(std::to_string(c.numa_node).c_str());
    }
  }
  if (c.has_address) {
    placement p{};
    p.kind = placement_kind::pci;
    p.libvirt_address = c.libvirt_address;
    p.multifunction = c.multifunction == toggle::on;
    write_address(n, p);
  }
}

inline std::string domain::write(const topology_plan& plan) {
  if (plan.placements.size() != devices_.size()) {
    throw std::invalid_argument("pciplan::libvirt::domain::write: the plan was not made from this domain's requests");
  }
  for (const placement& p : plan.placements) {
    if (p.request >= devices_.size()) continue;
    pending_device& d = devices_[p.request];
    if (!d.default_model.empty()) {
      if (d.model_attribute) {
        if (!d.node.attribute("model")) detail::set_attribute(d.node, "model", d.default_model);
      } else if (!d.node.child("model")) {
        pugi::xml_node m = detail::append_element(d.node, "model");
        m.append_attribute("type").set_value(std::string(d.default_model).c_str());
      }
    }
    write_address(d.node, p);
  }
  // controllers: update the given ones, add the others in index order among the PCI controllers
  std::map<unsigned, pugi::xml_node> by_index;
  for (std::size_t k = 0; k != controllers_.size(); ++k) by_index[controllers_[k].index.value] = controller_nodes_[k];
  for (const controller& c : plan.controllers) {
    auto it = by_index.find(c.index.value);
    if (it == by_index.end()) {
      // after the PCI controller with the next lower index, else before the next higher one
      const auto next = by_index.lower_bound(c.index.value);
      pugi::xml_node n;
      if (next != by_index.begin()) n = detail::insert_element_after(std::prev(next)->second, "controller");
      else if (next != by_index.end()) n = detail::insert_element_before(next->second, "controller");
      else n = add_device_element("controller", "controller");
      by_index.emplace(c.index.value, n);
      // a new element: its children parsed from text in one go
      n.append_attribute("type").set_value("pci");
      n.append_attribute("index").set_value(c.index.value);
      n.append_attribute("model").set_value(std::string(c.kind->model).c_str());
      const bool pseries_root = c.kind->is_root() && machine_ == machine_id::pseries;
      if (!c.kind->is_root() || pseries_root) {
        std::string children;
        detail::append_controller_children(children, c, pseries_root, detail::indent_of(n));
        n.append_buffer(children.data(), children.size(), pugi::parse_default | pugi::parse_ws_pcdata, pugi::encoding_utf8);
      }
      continue;
    }
    write_controller(it->second, c);
  }
  // the text around the root element (declaration, comments, blank lines) is copied as it was
  const pugi::xml_node root = doc_.document_element();
  std::ostringstream os;
  if (root_start_ >= 0) os << std::string_view(text_).substr(0, static_cast<std::size_t>(root_start_));
  root.print(os, "  ", pugi::format_raw | pugi::format_attribute_single_quote);
  if (root_end_ >= 0) os << std::string_view(text_).substr(static_cast<std::size_t>(root_end_));
  std::string out = os.str();
  if (out.empty() || out.back() != '\n') out += '\n';
  return out;
}

/// Reads, plans and writes a domain in one call; never throws for bad input.
[[nodiscard]] inline xml_outcome plan_domain_xml(std::string_view input, const domain_options& options = {}) {
  xml_outcome out{};
  try {
    domain d(input, options);
    const result<topology_plan> p = d.plan(options.policy);
    if (!p) {
      out.status = status_of(p.error().code);
      out.message = describe(p.error());
      return out;
    }
    out.xml = d.write(*p);
  } catch (const input_error& e) {
    out.status = 2;
    out.message = e.what();
  }
  return out;
}

}  // namespace pciplan::inline v0::libvirt

#endif  // PCIPLAN_LIBVIRT_DOMAIN_HPP
