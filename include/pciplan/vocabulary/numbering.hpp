// pciplan — vocabulary/numbering.hpp: the numbering attributes a controller may carry.
//
// chassis / port (root and downstream ports), chassisNr (pci-bridge), busNr (the
// expander buses) and targetIndex (pseries PHBs), with the ranges libvirt validates
// (RULES.md L1.3).
#ifndef PCIPLAN_VOCABULARY_NUMBERING_HPP
#define PCIPLAN_VOCABULARY_NUMBERING_HPP

#include <pciplan/detail/config.hpp>

#include <cstdint>
#include <ostream>
#include <string_view>

namespace pciplan::inline v0 {

/// One numbering attribute.
enum class numbering : unsigned char {
  chassis,       ///< pcie-root-port, pcie-switch-downstream-port: QEMU `chassis`
  port,          ///< pcie-root-port, pcie-switch-downstream-port: QEMU `port`
  chassis_nr,    ///< pci-bridge: QEMU `chassis_nr`
  bus_nr,        ///< pci-expander-bus, pcie-expander-bus: QEMU `bus_nr`, the first guest bus number
  target_index,  ///< spapr-pci-host-bridge: QEMU `index`, the PHB number
};
inline constexpr unsigned numbering_count = 5;  ///< how many numbering attributes there are

/// A set of numbering attributes. Structural.
struct numbering_set {
  std::uint8_t bits = 0;  ///< bit n set: the attribute with value n is in the set
  /// Whether `n` is in the set.
  [[nodiscard]] constexpr bool has(numbering n) const noexcept { return (bits >> static_cast<unsigned>(n)) & 1u; }
  [[nodiscard]] constexpr bool empty() const noexcept { return bits == 0; }  ///< Whether the set has no attribute.
  /// Equal when they hold the same attributes.
  friend constexpr bool operator==(numbering_set, numbering_set) = default;
};
/// The set of the two attributes `a` and `b`.
[[nodiscard]] constexpr numbering_set operator|(numbering a, numbering b) noexcept {
  return {static_cast<std::uint8_t>((1u << static_cast<unsigned>(a)) | (1u << static_cast<unsigned>(b)))};
}
/// The set that holds only `a`.
[[nodiscard]] constexpr numbering_set only(numbering a) noexcept {
  return {static_cast<std::uint8_t>(1u << static_cast<unsigned>(a))};
}

/// The inclusive range a numbering attribute must lie in.
struct value_range {
  unsigned first = 0;  ///< the lowest allowed value
  unsigned last = 0;   ///< the highest allowed value
  /// Whether `v` lies from `first` to `last`, both included.
  [[nodiscard]] constexpr bool contains(unsigned v) const noexcept { return v >= first && v <= last; }
  /// Equal when both bounds are equal.
  friend constexpr bool operator==(value_range, value_range) = default;
};

/// libvirt's validation ranges: chassisNr 1-255, chassis 0-255, port 0-255,
/// busNr 1-254, targetIndex 0-30 (RULES.md L1.3, L5).
[[nodiscard]] constexpr value_range range_of(numbering n) noexcept {
  switch (n) {
    case numbering::chassis: return {0, 255};
    case numbering::port: return {0, 255};
    case numbering::chassis_nr: return {1, 255};
    case numbering::bus_nr: return {1, 254};
    case numbering::target_index: return {0, 30};
  }
  return {};
}

/// The libvirt `<target>` attribute name: chassis, port, chassisNr, busNr, index.
[[nodiscard]] constexpr std::string_view libvirt_name_of(numbering n) noexcept {
  switch (n) {
    case numbering::chassis: return "chassis";
    case numbering::port: return "port";
    case numbering::chassis_nr: return "chassisNr";
    case numbering::bus_nr: return "busNr";
    case numbering::target_index: return "index";
  }
  return {};
}

/// The QEMU `-device` property name: chassis, port, chassis_nr, bus_nr, index.
[[nodiscard]] constexpr std::string_view qemu_name_of(numbering n) noexcept {
  switch (n) {
    case numbering::chassis: return "chassis";
    case numbering::port: return "port";
    case numbering::chassis_nr: return "chassis_nr";
    case numbering::bus_nr: return "bus_nr";
    case numbering::target_index: return "index";
  }
  return {};
}

/// Prints the libvirt attribute name (see libvirt_name_of).
inline std::ostream& operator<<(std::ostream& os, numbering n) { return os << libvirt_name_of(n); }

}  // namespace pciplan::inline v0

#endif  // PCIPLAN_VOCABULARY_NUMBERING_HPP
