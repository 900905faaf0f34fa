// pciplan — libvirt/plan_domain.hpp: read, plan and write a domain in one call that never throws for bad input.
//
//   const pciplan::libvirt::xml_outcome r = pciplan::libvirt::plan_domain_xml(xml_text, {.policy = …});
//   if (r.planned()) std::cout << r.xml;
//   else std::cerr << r.message << '\n';  // r.failed says what kind of failure it was
//
// A failure is one of three kinds: the input is not a domain pciplan can read
// (`failure::input`: malformed XML, an unknown machine, a bad attribute); planning
// failed because the domain does not fit (`failure::planning_capacity`: no slot, index,
// bus number or transport left, pciplan::is_capacity_error); or planning failed because
// the domain contradicts itself or the machine (`failure::planning_conflict`: bad or
// duplicate addresses, wrong controllers, contradicting constraints). What a program
// does with each (the pciplan tool's exit statuses) is the program's business.
#ifndef PCIPLAN_LIBVIRT_PLAN_DOMAIN_HPP
#define PCIPLAN_LIBVIRT_PLAN_DOMAIN_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/topology/topology_plan.hpp>
#include <pciplan/vocabulary/error.hpp>
#include <pciplan/libvirt/domain.hpp>
#include <pciplan/libvirt/input_error.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace pciplan::inline v0::libvirt {

/// What kind of failure stopped a domain from being planned (see the top of this header).
enum class failure : unsigned char {
  none,               ///< planned
  input,              ///< the input is not a domain pciplan can read
  planning_capacity,  ///< the domain is sound but does not fit
  planning_conflict,  ///< the domain contradicts itself or the machine
};

/// "none", "input", "planning capacity", "planning conflict".
[[nodiscard]] constexpr std::string_view name_of(failure f) noexcept {
  switch (f) {
    case failure::none: return "none";
    case failure::input: return "input";
    case failure::planning_capacity: return "planning capacity";
    case failure::planning_conflict: return "planning conflict";
  }
  return "?";
}

/// The kind of failure a planning error is: capacity (is_capacity_error) or conflict.
[[nodiscard]] constexpr failure failure_of(errc code) noexcept {
  return is_capacity_error(code) ? failure::planning_capacity : failure::planning_conflict;
}

/// What `plan_domain_xml` gives: the planned domain, or the kind of failure and why.
struct xml_outcome {
  failure failed = failure::none;  ///< failure::none: `xml` holds the planned domain
  std::string xml;                 ///< the planned domain; empty when it failed
  std::string message;             ///< why it failed, as a sentence; empty when planned
  std::vector<warning> warnings;   ///< the plan's warnings (code, sentence), when planned
  /// Whether the domain was planned (no failure).
  [[nodiscard]] bool planned() const noexcept { return failed == failure::none; }
};

/// Reads, plans with `options.policy` and writes a domain in one call; never throws
/// for bad input.
[[nodiscard]] PCIPLAN_DETAIL_LIBVIRT_INLINE xml_outcome plan_domain_xml(std::string_view input,
                                                                        const domain_options& options = {});

#if PCIPLAN_DETAIL_LIBVIRT_BODIES
PCIPLAN_DETAIL_LIBVIRT_INLINE xml_outcome plan_domain_xml(std::string_view input, const domain_options& options) {
  xml_outcome out{};
  try {
    domain d(input, options);
    const result<topology_plan> p = d.plan(options.policy);
    if (!p) {
      out.failed = failure_of(p.error().code);
      out.message = describe(p.error());
      return out;
    }
    out.xml = d.write(*p);
    out.warnings = p->warnings;
  } catch (const input_error& e) {
    out.failed = failure::input;
    out.message = e.what();
  }
  return out;
}
#endif

}  // namespace pciplan::inline v0::libvirt

#endif  // PCIPLAN_LIBVIRT_PLAN_DOMAIN_HPP
