// pciplan — detail/vectors.hpp: sizing std::vector in code that also runs in
// constant evaluation.
//
// With libstdc++ 12, `std::vector<T>(n)`, `assign(n, v)` and `resize(n)` fill the new
// storage of a trivial T by assignment before its elements' lifetimes begin; clang 14
// refuses that in a constant expression ("assignment to object outside its lifetime").
// These helpers grow with push_back, which constructs each element, in constant
// evaluation, and use the library's own sizing at run time.
#ifndef PCIPLAN_DETAIL_VECTORS_HPP
#define PCIPLAN_DETAIL_VECTORS_HPP

#include <pciplan/detail/config.hpp>

#include <cstddef>
#include <type_traits>
#include <vector>

namespace pciplan::inline v0::detail {

/// `v` becomes `n` copies of `value`.
template <class T>
constexpr void refill(std::vector<T>& v, std::size_t n, const T& value) {
  if (!std::is_constant_evaluated()) {
    v.assign(n, value);
    return;
  }
  v.clear();
  v.reserve(n);
  for (std::size_t i = 0; i != n; ++i) v.push_back(value);
}

/// `v` grows to at least `n` elements, new ones copies of `value` (geometric growth:
/// no exact-size reserve, so growing one element at a time stays linear).
template <class T>
constexpr void grow_to(std::vector<T>& v, std::size_t n, const T& value) {
  if (!std::is_constant_evaluated()) {
    if (v.size() < n) v.resize(n, value);
    return;
  }
  while (v.size() < n) v.push_back(value);
}

/// A vector of `n` copies of `value`.
template <class T>
constexpr std::vector<T> filled(std::size_t n, const T& value) {
  std::vector<T> v;
  refill(v, n, value);
  return v;
}

}  // namespace pciplan::inline v0::detail

#endif  // PCIPLAN_DETAIL_VECTORS_HPP
