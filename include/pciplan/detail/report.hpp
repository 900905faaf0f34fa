// pciplan — detail/report.hpp: how constexpr code reports a broken rule.
//
// During constant evaluation a call to a non-constexpr function is a hard error,
// and both g++ 12 and clang 14 print the call with its string-literal argument.
// So every rule that can fail at compile time calls `compile_time_error("…")`
// with its sentence written right at the call site (a string_view variable
// would not be shown). At run time the same call does nothing: run-time entry
// points return an error value instead.
#ifndef PCIPLAN_DETAIL_REPORT_HPP
#define PCIPLAN_DETAIL_REPORT_HPP

#include <pciplan/detail/config.hpp>

#include <cstdlib>
#include <stdexcept>
#include <type_traits>

namespace pciplan::inline v0::detail {

/// Not constexpr on purpose: reaching it in constant evaluation stops compilation
/// and the diagnostic shows the message.
inline void compile_time_error(const char* /*message*/) noexcept {}

/// The run-time half of a broken precondition (kept out of line).
[[noreturn, gnu::cold, gnu::noinline]] inline void precondition_failed(const char* message) {
#if defined(__cpp_exceptions)
  throw std::invalid_argument(message);
#else
  (void)message;
  std::abort();
#endif
}

/// A precondition of a constructor or accessor (not of user input, which gets an
/// error value). Broken in constant evaluation: compile error showing `message`.
/// Broken at run time: throws std::invalid_argument(message), or aborts when the
/// program is built without exceptions. Small, so that checks inline where they are
/// made; the throwing path stays out of line.
constexpr void expects(bool ok, const char* message) {
  if (ok) [[likely]]
    return;
  if (std::is_constant_evaluated()) {
    compile_time_error(message);
  } else {
    precondition_failed(message);
  }
}

/// Dependent false for static_assert in templates that must not be instantiated.
template <class...>
inline constexpr bool always_false = false;

}  // namespace pciplan::inline v0::detail

#endif  // PCIPLAN_DETAIL_REPORT_HPP
