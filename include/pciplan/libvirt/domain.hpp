// pciplan — libvirt/domain.hpp: a libvirt domain XML read for planning, and the plan written back into it.
//
// An optional header: it needs pugixml (Debian: libpugixml-dev; CMake target
// pciplan::libvirt), the rest of pciplan does not.
//
//   pciplan::libvirt::domain d(xml_text);                       // throws input_error
//   auto plan = d.plan(pciplan::libvirt::policy_kind::libvirt); // result<topology_plan>
//   if (plan) std::cout << d.write(*plan);                      // the domain with every address
//
// The reader maps every device element libvirt may put on PCI to a request the way
// libvirt's QEMU driver does (RULES.md L3): its catalogue device, its connect
// kind, a user-given `<address type='pci'>` (all-zero means "PCI, anywhere"), and the
// default devices libvirt adds (USB controller, SATA on q35, memballoon, implicit SCSI
// and virtio-serial controllers). `<controller type='pci'>` elements become the given
// controllers. The writer puts an `<address>` on every PCI device, fills in index,
// `<model name>` and `<target>` of every PCI controller and adds the controllers the
// plan added, in index order among the PCI controllers. Everything else in the
// document is left as it was, formatting included.
//
// Constraints that are not addresses live in pciplan's own `<metadata>` element
// (README "libvirt"; libvirt/detail/read_metadata.hpp), keyed by the device's
// `<alias name='ua-…'/>`: among them a device's BARs and the hot-plug budget
// (libvirt/bars_spec.hpp). The writer gives a planned pcie-root-port or pci-bridge that
// reserves 32-bit memory for the budget `<target memReserve='KiB'>` (libvirt 10.3 and
// later pass it to QEMU as mem-reserve; libvirt before 10.3 drops it); libvirt cannot say
// the other reserves (io-reserve, pref64-reserve), which `qemu_arguments` gives.
#ifndef PCIPLAN_LIBVIRT_DOMAIN_HPP
#define PCIPLAN_LIBVIRT_DOMAIN_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/kinds/machine_dispatch.hpp>
#include <pciplan/planner/hotplug.hpp>
#include <pciplan/planner/planner.hpp>
#include <pciplan/planner/policies.hpp>
#include <pciplan/topology/controller.hpp>
#include <pciplan/topology/request.hpp>
#include <pciplan/topology/topology_plan.hpp>
#include <pciplan/vocabulary/error.hpp>
#include <pciplan/vocabulary/bars.hpp>
#include <pciplan/vocabulary/machine_id.hpp>
#include <pciplan/libvirt/bars_spec.hpp>
#include <pciplan/libvirt/detail/domain_state.hpp>
#include <pciplan/libvirt/detail/xml.hpp>
#include <pciplan/libvirt/input_error.hpp>
#if PCIPLAN_DETAIL_LIBVIRT_BODIES  // the reader and the writer: only where the bodies are
#include <pciplan/libvirt/detail/device_order.hpp>
#include <pciplan/libvirt/detail/implied_addresses.hpp>
#include <pciplan/libvirt/detail/read_controllers.hpp>
#include <pciplan/libvirt/detail/read_defaults.hpp>
#include <pciplan/libvirt/detail/read_devices.hpp>
#include <pciplan/libvirt/detail/read_document.hpp>
#include <pciplan/libvirt/detail/read_machine.hpp>
#include <pciplan/libvirt/detail/read_metadata.hpp>
#include <pciplan/libvirt/detail/write_domain.hpp>
#endif

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pciplan::inline v0::libvirt {

/// Which planning policy: libvirt's own decisions, or pciplan's (planner/policies.hpp).
enum class policy_kind : unsigned char { libvirt, pciplan };

/// How to read and plan a domain.
struct domain_options {
  policy_kind policy = policy_kind::pciplan;  ///< the policy plan_domain_xml plans with
  int spare_ports = -1;         ///< pciplan policy: spare hot-pluggable ports; -1: the metadata's, else 4
  /// pciplan policy: spare ports on each NUMA node with an expander; -1: the metadata's, else 1
  int spare_ports_per_node = -1;
  /// pciplan policy: the BARs of a device hot-plugged later, which every empty
  /// pcie-root-port and pci-bridge reserves windows for (plan_options::hotplug_budget;
  /// parse_bars reads the metadata's syntax); not `given`: the metadata's
  /// hotplug-budget, else none
  device_bars hotplug_budget{};
  bool new_definition = false;  ///< libvirt's defaults for a newly defined domain (its "ABI update")
};

/// A libvirt domain: the document, and the requests and controllers read from it.
/// Not copyable or movable (the requests point into it); construct it where it is used.
class domain {
 public:
  /// Reads a domain XML. Throws `input_error` when it is not one pciplan can read.
  explicit domain(std::string_view xml, const domain_options& options = {});
  domain(const domain&) = delete;
  domain& operator=(const domain&) = delete;

  /// The machine type the domain runs on.
  [[nodiscard]] machine_id machine() const noexcept { return s_.machine; }
  /// The machine type as the document names it (or the architecture's default).
  [[nodiscard]] const std::string& machine_name() const noexcept { return s_.machine_name; }
  /// The requests for the domain's PCI devices, defaults included, in libvirt's order.
  [[nodiscard]] std::span<const request> requests() const noexcept { return s_.requests; }
  /// The PCI controllers the document gives (`<controller type='pci'>`).
  [[nodiscard]] std::span<const controller> controllers() const noexcept { return s_.controllers; }
  /// NUMA nodes (`<cpu><numa><cell>`) and spare ports (metadata or the options).
  [[nodiscard]] const plan_options& options() const noexcept { return s_.options; }
  /// The guest's `<memory>` in KiB (0 when the domain does not say).
  [[nodiscard]] std::uint64_t memory_kib() const noexcept { return s_.memory_kib; }

  /// Plans the domain with the given policy.
  [[nodiscard]] result<topology_plan> plan(policy_kind policy) const;

  /// Plans the domain as a running guest into which the requests that `live` marks
  /// (one entry per request: 1 = being hot-added now) are hot-added; the others are
  /// where their addresses say (planner/hotplug.hpp: nothing is added, and each new
  /// device needs a slot QEMU can hot-plug now).
  /// On pc without `<features><acpi/>` (QEMU `-no-acpi`) pci.0 takes no hot-plugged
  /// device (QEMU 7.2: "Bus 'pci.0' does not support hotplugging"); bridges still do.
  [[nodiscard]] result<topology_plan> plan_live(policy_kind policy, std::span<const unsigned char> live) const;

  /// The document with the plan written into it (addresses, controllers). The plan
  /// must come from `plan()` or `plan_live()` of this domain (else std::invalid_argument).
  [[nodiscard]] std::string write(const topology_plan& plan);

  /// The device elements of `<devices>` are named by where they start in the document's
  /// text (an offset into the text given to the constructor; it stays valid when `write`
  /// adds elements).

  /// The device element that starts within [begin, end) of the document's text, by its
  /// offset; nullopt when none does.
  [[nodiscard]] std::optional<std::size_t> element_within(std::size_t begin, std::size_t end) const {
    for (const auto& [start, e] : elements_) {
      if (start >= begin && start < end) return start;
    }
    return std::nullopt;
  }
  /// The device element at `offset` as text, with what `write` wrote into it.
  [[nodiscard]] std::string device_element(std::size_t offset) const {
    s_.written.materialize();
    return detail::element_text(element(offset));
  }
  /// The requests (indexes into requests()) read from the device element at `offset`.
  [[nodiscard]] std::vector<std::size_t> requests_of_element(std::size_t offset) const {
    const pugi::xml_node e = element(offset);
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i != s_.devices.size(); ++i) {
      if (e && s_.devices[i].node == e) out.push_back(i);
    }
    return out;
  }
  /// The document without the device element at `offset` (and the blank text before it),
  /// planned by no one: what `virsh detach-device --config` leaves. The domain's requests
  /// still name the element afterwards: plan and write another domain.
  [[nodiscard]] std::string without_element(std::size_t offset);
  /// Whether request i comes from an element of the document (not one the reader added:
  /// a default device, an implicit controller).
  [[nodiscard]] bool from_document(std::size_t i) const {
    if (i >= s_.devices.size()) return false;
    for (const auto& [start, e] : elements_) {
      if (e == s_.devices[i].node) return true;
    }
    return false;
  }

 private:
  [[nodiscard]] pugi::xml_node element(std::size_t offset) const {
    for (const auto& [start, e] : elements_) {
      if (start == offset) return e;
    }
    return {};
  }

  detail::domain_state s_;
  std::vector<std::pair<std::size_t, pugi::xml_node>> elements_;  ///< device elements of the document, by offset
};

#if PCIPLAN_DETAIL_LIBVIRT_BODIES
PCIPLAN_DETAIL_LIBVIRT_INLINE domain::domain(std::string_view xml, const domain_options& options) : s_(xml) {
  // libvirt's chipset controllers are index 0 of their type; pin_chipset_controllers pins them
  s_.options.chipset = plan_options::chipset_controllers::pinned;
  s_.new_definition = options.new_definition;
  detail::read_document(s_);
  detail::read_machine(s_);
  detail::read_memory_and_numa(s_);
  detail::read_plan_metadata(s_);  // spare ports
  detail::read_pci_controllers(s_);
  detail::read_devices(s_);
  detail::add_defaults(s_);
  detail::apply_metadata_constraints(s_);
  detail::pin_chipset_controllers(s_);
  detail::group_usb2_sets(s_);
  detail::order_like_libvirt(s_);
  s_.requests.reserve(s_.devices.size());
  for (const detail::pending_device& d : s_.devices) s_.requests.push_back(d.req);
  if (options.spare_ports >= 0) s_.options.spare_ports = static_cast<unsigned>(options.spare_ports);
  if (options.spare_ports_per_node >= 0) {
    s_.options.spare_ports_per_node = static_cast<unsigned>(options.spare_ports_per_node);
  }
  if (options.hotplug_budget.given) s_.options.hotplug_budget = options.hotplug_budget;
  // where each device element of the document starts (pugixml forgets offsets once
  // `write` has parsed an <address> into the tree)
  for (pugi::xml_node e = s_.devices_node.first_child(); e; e = e.next_sibling()) {
    if (e.type() == pugi::node_element && e.offset_debug() >= 0) {
      elements_.emplace_back(static_cast<std::size_t>(e.offset_debug()), e);
    }
  }
}

PCIPLAN_DETAIL_LIBVIRT_INLINE result<topology_plan> domain::plan(policy_kind policy) const {
  return with_machine(s_.machine, [&](auto m) -> result<topology_plan> {
    using M = decltype(m);
    if (policy == policy_kind::libvirt) {
      return pciplan::plan<M, policies::libvirt>(s_.requests, s_.options, s_.controllers);
    }
    return pciplan::plan<M, policies::pciplan>(s_.requests, s_.options, s_.controllers);
  });
}

PCIPLAN_DETAIL_LIBVIRT_INLINE result<topology_plan> domain::plan_live(policy_kind policy,
                                                                      std::span<const unsigned char> live) const {
  std::vector<controller> given(s_.controllers.begin(), s_.controllers.end());
  if (s_.machine == machine_id::pc && !s_.acpi) {
    const auto root = std::find_if(given.begin(), given.end(), [](const controller& c) { return c.index.value == 0; });
    if (root != given.end()) root->hotplug = toggle::off;
    else {
      controller implicit = make_controller<pci_root>(0);
      implicit.hotplug = toggle::off;
      given.insert(given.begin(), implicit);
    }
  }
  return with_machine(s_.machine, [&](auto m) -> result<topology_plan> {
    using M = decltype(m);
    if (policy == policy_kind::libvirt) {
      return pciplan::plan_live<M, policies::libvirt>(s_.requests, live, s_.options, given);
    }
    return pciplan::plan_live<M, policies::pciplan>(s_.requests, live, s_.options, given);
  });
}

PCIPLAN_DETAIL_LIBVIRT_INLINE std::string domain::write(const topology_plan& plan) {
  return detail::write_domain(s_, plan);
}

PCIPLAN_DETAIL_LIBVIRT_INLINE std::string domain::without_element(std::size_t offset) {
  s_.written.materialize();
  const pugi::xml_node e = element(offset);
  if (!e) return detail::print_document(s_);
  const pugi::xml_node before = e.previous_sibling();
  if (before && before.type() == pugi::node_pcdata &&
      std::string_view(before.value()).find_first_not_of(" \t\r\n") == std::string_view::npos) {
    s_.devices_node.remove_child(before);
  }
  s_.devices_node.remove_child(e);
  return detail::print_document(s_);

}
#endif

}  // namespace pciplan::inline v0::libvirt

#endif  // PCIPLAN_LIBVIRT_DOMAIN_HPP
