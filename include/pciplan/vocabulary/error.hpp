// pciplan — vocabulary/error.hpp: error codes, the error value, and result<T>.
//
// Run-time entry points never throw for bad input: they return `result<T>`, which
// holds either a value or an `error` (a code callers can switch on, a sentence that
// names what is wrong, and the offending text or device). The same functions run in
// constant evaluation, where a failure stops compilation (detail/report.hpp).
#ifndef PCIPLAN_VOCABULARY_ERROR_HPP
#define PCIPLAN_VOCABULARY_ERROR_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/detail/report.hpp>
#include <pciplan/vocabulary/text.hpp>

#include <cstddef>
#include <cstdlib>
#include <functional>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace pciplan::inline v0 {

/// What went wrong, for callers that switch on it. Grouped by layer.
enum class errc : unsigned char {
  none = 0,  ///< no error
  // address text and ranges
  address_syntax,          ///< the text is not an address
  domain_out_of_range,     ///< PCI domain above 0xffff
  bus_out_of_range,        ///< bus number or controller index above 0xff
  slot_out_of_range,       ///< slot above 0x1f
  function_out_of_range,   ///< function above 7
  attribute_unknown,       ///< libvirt attribute form: an attribute pciplan does not know
  attribute_repeated,      ///< libvirt attribute form: the same attribute twice
  attribute_value,         ///< libvirt attribute form: a value that is not a number, or a wrong type='…'
  // numbering attributes of controllers
  numbering_out_of_range,  ///< chassis, port, chassisNr, busNr or targetIndex outside its range
  // planning
  invalid_request,          ///< the request contradicts itself or the machine (e.g. PCIe-only on a PCI-only device)
  duplicate_name,           ///< two requests have the same name
  invalid_controller,       ///< a given controller is wrong (duplicate index, misplaced root, unknown kind)
  no_pci,                   ///< the machine has no PCI and the device cannot use another transport
  mmio_exhausted,           ///< every virtio-mmio transport of the machine is in use
  no_free_slot,             ///< no bus has room and the policy cannot add one
  bus_numbers_exhausted,    ///< all 256 bus numbers of a PCI domain are in use
  controller_index_exhausted,  ///< no controller index is left (libvirt: 255)
  address_in_use,           ///< a fixed address is taken
  no_such_bus,              ///< a fixed address names a controller index that does not exist
  incompatible_bus,         ///< the device cannot plug into the bus its address names
  slot_not_usable,          ///< the slot is outside the usable slots of its bus
  numa_unsupported,         ///< the machine has no expander bus or PHB to bind a NUMA node to
  expander_full,            ///< the expander bus of a NUMA node has no room left
  multifunction_conflict,   ///< a multifunction group is inconsistent (repeated function, no function 0, > 8)
  numbering_exhausted,      ///< no busNr, chassis or targetIndex is left to give
  unknown_machine,          ///< a machine type name that is neither built in nor registered (registry)
  not_hotpluggable,         ///< hot-add or detach in a running guest: the device's slot or bus cannot be hot-plugged
};

/// A short, stable name for an error code ("slot_out_of_range").
[[nodiscard]] constexpr std::string_view name_of(errc e) noexcept {
  switch (e) {
    case errc::none: return "none";
    case errc::address_syntax: return "address_syntax";
    case errc::domain_out_of_range: return "domain_out_of_range";
    case errc::bus_out_of_range: return "bus_out_of_range";
    case errc::slot_out_of_range: return "slot_out_of_range";
    case errc::function_out_of_range: return "function_out_of_range";
    case errc::attribute_unknown: return "attribute_unknown";
    case errc::attribute_repeated: return "attribute_repeated";
    case errc::attribute_value: return "attribute_value";
    case errc::numbering_out_of_range: return "numbering_out_of_range";
    case errc::invalid_request: return "invalid_request";
    case errc::duplicate_name: return "duplicate_name";
    case errc::invalid_controller: return "invalid_controller";
    case errc::no_pci: return "no_pci";
    case errc::mmio_exhausted: return "mmio_exhausted";
    case errc::no_free_slot: return "no_free_slot";
    case errc::bus_numbers_exhausted: return "bus_numbers_exhausted";
    case errc::controller_index_exhausted: return "controller_index_exhausted";
    case errc::address_in_use: return "address_in_use";
    case errc::no_such_bus: return "no_such_bus";
    case errc::incompatible_bus: return "incompatible_bus";
    case errc::slot_not_usable: return "slot_not_usable";
    case errc::numa_unsupported: return "numa_unsupported";
    case errc::expander_full: return "expander_full";
    case errc::multifunction_conflict: return "multifunction_conflict";
    case errc::numbering_exhausted: return "numbering_exhausted";
    case errc::unknown_machine: return "unknown_machine";
    case errc::not_hotpluggable: return "not_hotpluggable";
  }
  return "unknown";
}

/// Whether an error says the input does not fit — no slot, transport, controller
/// index, bus number or numbering value is left, or the machine lacks what it needs (no
/// PCI, no NUMA expander) — rather than that the input contradicts itself or the
/// machine (a bad or duplicate address, a wrong controller, contradicting constraints).
/// The `pciplan` tool exits with 1 for the first kind and 2 for the second.
[[nodiscard]] constexpr bool is_capacity_error(errc e) noexcept {
  switch (e) {
    case errc::no_pci:
    case errc::mmio_exhausted:
    case errc::no_free_slot:
    case errc::bus_numbers_exhausted:
    case errc::controller_index_exhausted:
    case errc::numa_unsupported:
    case errc::expander_full:
    case errc::numbering_exhausted:
    case errc::not_hotpluggable: return true;
    default: return false;
  }
}

/// One failure: code, the rule that was broken as a sentence, what it was about.
struct error {
  static constexpr std::size_t no_position = static_cast<std::size_t>(-1);  ///< `position` when there is no column

  errc code = errc::none;  ///< what went wrong
  std::string_view topic{};   ///< static: what was being done ("invalid PCI address")
  std::string_view reason{};  ///< static: the broken rule ("slot must be 0x00 to 0x1f")
  bounded_text<96> subject{}; ///< the offending text or the device name (a copy)
  std::size_t position = no_position;  ///< 0-based column in `subject`, when parsing

  /// Writes the error as one sentence (see describe).
  friend std::ostream& operator<<(std::ostream& os, const error& e) {
    if (!e.topic.empty()) {
      os << e.topic;
      if (!e.subject.empty()) os << " '" << e.subject.view() << '\'';
    } else {
      os << e.subject.view();
    }
    if (e.position != no_position) os << " at column " << e.position + 1;
    return os << ": " << e.reason;
  }
  /// Equal when code, reason, subject and position are equal (the topic is not compared).
  friend constexpr bool operator==(const error& a, const error& b) noexcept {
    return a.code == b.code && a.reason == b.reason && a.subject == b.subject && a.position == b.position;
  }
};

/// The error as one sentence: "invalid PCI address '0000:00:20.0' at column 9: the slot
/// must be 0x00 to 0x1f", or for planning "net0: needs a hot-pluggable slot …".
[[nodiscard]] inline std::string describe(const error& e) {
  std::ostringstream os;
  os << e;
  return os.str();
}

/// Thrown by `result<T>::value()` on a result that holds an error (run time only).
class bad_result_access : public std::logic_error {
 public:
  /// Keeps a copy of `e`; what() is its sentence (see describe).
  explicit bad_result_access(const error& e) : std::logic_error(describe(e)), error_(e) {}
  /// The error the result held.
  [[nodiscard]] const pciplan::error& error() const noexcept { return error_; }

 private:
  pciplan::error error_;
};

template <class T>
class result;

namespace detail {
template <class R>
inline constexpr bool is_result_v = false;
template <class T>
inline constexpr bool is_result_v<result<T>> = true;
}  // namespace detail

/// Either a T or an error. T must be default-constructible (it is stored by value so the
/// type stays usable in constant evaluation on g++ 12 and clang 14). Besides value access
/// it has std::expected's monadic operations, usable in constant evaluation too:
///
///   plan<machines::q35>(devices)
///       .transform([&](const topology_plan& p) { return qemu_arguments(p); })
///       .or_else([](const error& e) -> result<std::vector<std::string>> { log(e); return e; });
template <class T>
class [[nodiscard]] result {
 public:
  using value_type = T;  ///< the type of the value

  /// A result that holds `value`.
  constexpr result(T value) : value_(std::move(value)), ok_(true) {}  // NOLINT: implicit on purpose
  /// A result that holds the error `e`.
  constexpr result(pciplan::error e) : error_(std::move(e)), ok_(false) {}  // NOLINT

  /// Whether it holds a value (else an error).
  [[nodiscard]] constexpr bool has_value() const noexcept { return ok_; }
  /// The same as has_value().
  constexpr explicit operator bool() const noexcept { return ok_; }

  /// The value; reading it from an error is a compile error in constant evaluation and
  /// throws `bad_result_access` at run time (or aborts without exceptions).
  [[nodiscard]] constexpr const T& value() const& {
    check();
    return value_;
  }
  /// The value, as the const overload gives it.
  [[nodiscard]] constexpr T& value() & {
    check();
    return value_;
  }
  /// The value, moved out of the result; checked as the const overload is.
  [[nodiscard]] constexpr T&& value() && {
    check();
    return std::move(value_);
  }
  [[nodiscard]] constexpr const T& operator*() const& { return value(); }  ///< The value, checked as value() is.
  [[nodiscard]] constexpr T& operator*() & { return value(); }  ///< The value, checked as value() is.
  [[nodiscard]] constexpr const T* operator->() const { return &value(); }  ///< The value's address, checked.
  [[nodiscard]] constexpr T* operator->() { return &value(); }  ///< The value's address, checked as value() is.
  /// The value, or `fallback` when the result holds an error.
  [[nodiscard]] constexpr T value_or(T fallback) const { return ok_ ? value_ : fallback; }

  /// The error; meaningful only when `!has_value()`.
  [[nodiscard]] constexpr const pciplan::error& error() const noexcept { return error_; }

  /// `f(value)`, which returns a `result<U>`, when there is a value; else the error as a
  /// `result<U>`.
  template <class F>
  constexpr auto and_then(F&& f) const& {
    using R = std::remove_cvref_t<std::invoke_result_t<F, const T&>>;
    static_assert(detail::is_result_v<R>, "pciplan::result::and_then: the function must return a pciplan::result");
    if (ok_) return std::invoke(std::forward<F>(f), value_);
    return R(error_);
  }
  /// As above, with the value moved into `f`.
  template <class F>
  constexpr auto and_then(F&& f) && {
    using R = std::remove_cvref_t<std::invoke_result_t<F, T&&>>;
    static_assert(detail::is_result_v<R>, "pciplan::result::and_then: the function must return a pciplan::result");
    if (ok_) return std::invoke(std::forward<F>(f), std::move(value_));
    return R(std::move(error_));
  }

  /// `result<U>{f(value)}` when there is a value; else the error as a `result<U>`.
  template <class F>
  constexpr auto transform(F&& f) const& {
    using U = std::remove_cvref_t<std::invoke_result_t<F, const T&>>;
    static_assert(!std::is_void_v<U>, "pciplan::result::transform: the function must return a value");
    if (ok_) return result<U>(std::invoke(std::forward<F>(f), value_));
    return result<U>(error_);
  }
  /// As above, with the value moved into `f`.
  template <class F>
  constexpr auto transform(F&& f) && {
    using U = std::remove_cvref_t<std::invoke_result_t<F, T&&>>;
    static_assert(!std::is_void_v<U>, "pciplan::result::transform: the function must return a value");
    if (ok_) return result<U>(std::invoke(std::forward<F>(f), std::move(value_)));
    return result<U>(std::move(error_));
  }

  /// The value when there is one; else `f(error)`, which returns a result<T> (a value
  /// that recovers, or another error).
  template <class F>
  constexpr result or_else(F&& f) const& {
    static_assert(std::is_same_v<std::remove_cvref_t<std::invoke_result_t<F, const pciplan::error&>>, result>,
                  "pciplan::result::or_else: the function must return the same pciplan::result type");
    if (ok_) return *this;
    return std::invoke(std::forward<F>(f), error_);
  }
  /// As above, with the error moved into `f`.
  template <class F>
  constexpr result or_else(F&& f) && {
    static_assert(std::is_same_v<std::remove_cvref_t<std::invoke_result_t<F, pciplan::error&&>>, result>,
                  "pciplan::result::or_else: the function must return the same pciplan::result type");
    if (ok_) return std::move(*this);
    return std::invoke(std::forward<F>(f), std::move(error_));
  }

  /// The value when there is one; else the error `f(error)` returns (e.g. with context).
  template <class F>
  constexpr result transform_error(F&& f) const& {
    static_assert(std::is_same_v<std::remove_cvref_t<std::invoke_result_t<F, const pciplan::error&>>, pciplan::error>,
                  "pciplan::result::transform_error: the function must return a pciplan::error");
    if (ok_) return *this;
    return result(std::invoke(std::forward<F>(f), error_));
  }

 private:
  constexpr void check() const {
    if (ok_) return;
    if (std::is_constant_evaluated()) {
      detail::compile_time_error("pciplan: the value of a result was read, but the result holds an error");
    } else {
#if defined(__cpp_exceptions)
      throw bad_result_access(error_);
#else
      std::abort();
#endif
    }
  }

  T value_{};
  pciplan::error error_{};
  bool ok_ = false;
};

}  // namespace pciplan::inline v0

#endif  // PCIPLAN_VOCABULARY_ERROR_HPP
