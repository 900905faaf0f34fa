// Helpers shared by the test files.
#ifndef PCIPLAN_TESTS_SUPPORT_HPP
#define PCIPLAN_TESTS_SUPPORT_HPP

#include <pciplan/pciplan.hpp>

#include <boost/hana/equal.hpp>
#include <boost/hana/for_each.hpp>
#include <boost/hana/length.hpp>
#include <boost/hana/optional.hpp>
#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>

namespace hana = boost::hana;

/// `constexpr` in the static build; `const` in the build with
/// CATCH_CONFIG_RUNTIME_STATIC_REQUIRE, so that computed checks run at run time there.
#ifdef CATCH_CONFIG_RUNTIME_STATIC_REQUIRE
#define PCIPLAN_TEST_CONSTEXPR const
#else
#define PCIPLAN_TEST_CONSTEXPR constexpr
#endif

/// hana::equal as a plain bool, so STATIC_REQUIRE works in both of its modes.
constexpr bool same(auto a, auto b) { return hana::equal(a, b); }

#endif
