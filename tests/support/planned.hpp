// The plan of a request list that must plan: the Catch2 helper the planner and output
// tests share (the error message is in the report when it does not).
#ifndef PCIPLAN_TESTS_SUPPORT_PLANNED_HPP
#define PCIPLAN_TESTS_SUPPORT_PLANNED_HPP

#include <pciplan/pciplan.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace test_support {

template <class M, class P = pciplan::policies::pciplan>
pciplan::topology_plan planned(const std::vector<pciplan::request>& r, pciplan::plan_options o = {},
                               std::vector<pciplan::controller> given = {}) {
  const pciplan::result<pciplan::topology_plan> p = pciplan::plan<M, P>(r, o, given);
  INFO((p ? std::string("planned") : describe(p.error())));
  REQUIRE(p.has_value());
  return *p;
}

}  // namespace test_support

#endif  // PCIPLAN_TESTS_SUPPORT_PLANNED_HPP
