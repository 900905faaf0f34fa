// Small builders the planner tests share: numbered request names and libvirt-form
// addresses on domain 0.
#ifndef PCIPLAN_TESTS_SUPPORT_NAMES_HPP
#define PCIPLAN_TESTS_SUPPORT_NAMES_HPP

#include <pciplan/pciplan.hpp>

#include <string>
#include <vector>

namespace test_support {

/// prefix0, prefix1, … prefix(n-1): names that outlive the requests viewing them.
inline std::vector<std::string> numbered(const std::string& prefix, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(prefix + std::to_string(i));
  return out;
}

/// A libvirt address on domain 0: bus = controller index.
inline pciplan::controller_address ca(unsigned bus, unsigned slot, unsigned function = 0) {
  return pciplan::controller_address(0, bus, slot, function);
}

}  // namespace test_support

#endif  // PCIPLAN_TESTS_SUPPORT_NAMES_HPP
