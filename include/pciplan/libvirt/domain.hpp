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
// `<alias name='ua-…'/>`.
#ifndef PCIPLAN_LIBVIRT_DOMAIN_HPP
#define PCIPLAN_LIBVIRT_DOMAIN_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/kinds/machine_dispatch.hpp>
#include <pciplan/planner/planner.hpp>
#include <pciplan/planner/policies.hpp>
#include <pciplan/topology/controller.hpp>
#include <pciplan/topology/request.hpp>
#include <pciplan/topology/topology_plan.hpp>
#include <pciplan/vocabulary/error.hpp>
#include <pciplan/vocabulary/machine_id.hpp>
#include <pciplan/libvirt/detail/device_order.hpp>
#include <pciplan/libvirt/detail/domain_state.hpp>
#include <pciplan/libvirt/detail/implied_addresses.hpp>
#include <pciplan/libvirt/detail/read_controllers.hpp>
#include <pciplan/libvirt/detail/read_defaults.hpp>
#include <pciplan/libvirt/detail/read_devices.hpp>
#include <pciplan/libvirt/detail/read_document.hpp>
#include <pciplan/libvirt/detail/read_machine.hpp>
#include <pciplan/libvirt/detail/read_metadata.hpp>
#include <pciplan/libvirt/detail/write_domain.hpp>
#include <pciplan/libvirt/input_error.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace pciplan::inline v0::libvirt {

/// Which planning policy: libvirt's own decisions, or pciplan's (planner/policies.hpp).
enum class policy_kind : unsigned char { libvirt, pciplan };

/// How to read and plan a domain.
struct domain_options {
  policy_kind policy = policy_kind::pciplan;  ///< the policy plan_domain_xml plans with
  int spare_ports = -1;         ///< pciplan policy: spare hot-pluggable ports; -1: the metadata's, else 4
  bool new_definition = false;  ///< libvirt's defaults for a newly defined domain (its "ABI update")
};

/// A libvirt domain: the document, and the requests and controllers read from it.
/// Not copyable or movable (the requests point into it); construct it where it is used.
class domain {
 public:
  /// Reads a domain XML. Throws `input_error` when it is not one pciplan can read.
  explicit domain(std::string_view xml, const domain_options& options = {}) : s_(xml) {
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
  }
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
  [[nodiscard]] result<topology_plan> plan(policy_kind policy) const {
    return with_machine(s_.machine, [&](auto m) -> result<topology_plan> {
      using M = decltype(m);
      if (policy == policy_kind::libvirt) {
        return pciplan::plan<M, policies::libvirt>(s_.requests, s_.options, s_.controllers);
      }
      return pciplan::plan<M, policies::pciplan>(s_.requests, s_.options, s_.controllers);
    });
  }

  /// The document with the plan written into it (addresses, controllers). The plan
  /// must come from `plan()` of this domain (else std::invalid_argument).
  [[nodiscard]] std::string write(const topology_plan& plan) { return detail::write_domain(s_, plan); }

 private:
  detail::domain_state s_;
};

}  // namespace pciplan::inline v0::libvirt

#endif  // PCIPLAN_LIBVIRT_DOMAIN_HPP
