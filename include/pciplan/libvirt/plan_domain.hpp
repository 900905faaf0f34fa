// pciplan — libvirt/plan_domain.hpp: read, plan and write a libvirt domain in one call that never throws for bad input.
#ifndef PCIPLAN_LIBVIRT_PLAN_DOMAIN_HPP
#define PCIPLAN_LIBVIRT_PLAN_DOMAIN_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/topology/topology_plan.hpp>
#include <pciplan/vocabulary/error.hpp>
#include <pciplan/libvirt/domain.hpp>
#include <pciplan/libvirt/input_error.hpp>

#include <string>
#include <string_view>

namespace pciplan::inline v0::libvirt {

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

#endif  // PCIPLAN_LIBVIRT_PLAN_DOMAIN_HPP
