// placeholder while the libvirt policy is being tested
#ifndef PCIPLAN_DETAIL_PCIPLAN_POLICY_HPP
#define PCIPLAN_DETAIL_PCIPLAN_POLICY_HPP
#include <pciplan/detail/planning.hpp>
namespace pciplan::inline v0::detail {
template <MachineType M, class Policy>
class pciplan_planner {
 public:
  constexpr explicit pciplan_planner(planning<M>& p) : p_(p) {}
  constexpr result<topology_plan> run() { return p_.finish(); }
 private:
  planning<M>& p_;
};
}
#endif
