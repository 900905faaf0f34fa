// pciplan — detail/fixed_vector.hpp: a vector of at most Capacity elements held in place,
// usable in constant evaluation and in constexpr variables (a literal type).
//
//   fixed_vector<controller, 256> controllers;
//   controllers.push_back(c);                       // constexpr; beyond the capacity: an error
//   for (const controller& c : controllers) …       // like std::vector: size, empty, [], begin/end
//   const std::span<const controller> s = controllers;
//
// What a compile-time result holds where a run-time one holds a std::vector (std::vector
// cannot leave constant evaluation), so both read the same: `plan.controllers.size()`.
#ifndef PCIPLAN_DETAIL_FIXED_VECTOR_HPP
#define PCIPLAN_DETAIL_FIXED_VECTOR_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/detail/report.hpp>

#include <array>
#include <cstddef>

namespace pciplan::inline v0::detail {

/// Up to `Capacity` elements of T in a std::array, the first size() of them in use.
/// T must be default-constructible (the unused elements are value-initialised).
template <class T, std::size_t Capacity>
class fixed_vector {
 public:
  using value_type = T;
  using size_type = std::size_t;
  using reference = T&;
  using const_reference = const T&;
  using iterator = T*;
  using const_iterator = const T*;

  [[nodiscard]] static constexpr std::size_t capacity() noexcept { return Capacity; }
  [[nodiscard]] constexpr std::size_t size() const noexcept { return size_; }
  [[nodiscard]] constexpr bool empty() const noexcept { return size_ == 0; }

  [[nodiscard]] constexpr T* data() noexcept { return items_.data(); }
  [[nodiscard]] constexpr const T* data() const noexcept { return items_.data(); }
  [[nodiscard]] constexpr T* begin() noexcept { return items_.data(); }
  [[nodiscard]] constexpr const T* begin() const noexcept { return items_.data(); }
  [[nodiscard]] constexpr T* end() noexcept { return items_.data() + size_; }
  [[nodiscard]] constexpr const T* end() const noexcept { return items_.data() + size_; }

  /// The element at `i` (below size(): a precondition).
  [[nodiscard]] constexpr T& operator[](std::size_t i) {
    expects(i < size_, "pciplan::fixed_vector: index out of range");
    return items_[i];
  }
  [[nodiscard]] constexpr const T& operator[](std::size_t i) const {
    expects(i < size_, "pciplan::fixed_vector: index out of range");
    return items_[i];
  }

  /// Appends `value`; a full vector is a broken precondition.
  constexpr void push_back(const T& value) {
    expects(size_ < Capacity, "pciplan::fixed_vector: push_back beyond the capacity");
    items_[size_++] = value;
  }

  /// Same size and equal elements (the unused ones do not count).
  [[nodiscard]] friend constexpr bool operator==(const fixed_vector& a, const fixed_vector& b) {
    if (a.size_ != b.size_) return false;
    for (std::size_t i = 0; i != a.size_; ++i) {
      if (!(a.items_[i] == b.items_[i])) return false;
    }
    return true;
  }

 private:
  std::array<T, Capacity> items_{};
  std::size_t size_ = 0;
};

}  // namespace pciplan::inline v0::detail

#endif  // PCIPLAN_DETAIL_FIXED_VECTOR_HPP
