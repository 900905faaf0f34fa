// pciplan — vocabulary/machine_id.hpp: which machine type a guest is, as a value.
//
// Machine types are compile-time types (kinds/machine_types.hpp); a program that learns
// the machine at run time — from a command line, a libvirt domain, a QEMU `-machine`
// argument — holds a `machine_id` and dispatches with `with_machine`
// (kinds/machine_dispatch.hpp).
//
//   const std::optional<machine_id> m = machine_of("x86_64", "pc-q35-7.2");   // machine_id::q35
//   machine_named("riscv64:virt") == machine_id::riscv64_virt
//   name_of(machine_id::aarch64_virt) == "aarch64-virt"
#ifndef PCIPLAN_VOCABULARY_MACHINE_ID_HPP
#define PCIPLAN_VOCABULARY_MACHINE_ID_HPP

#include <pciplan/detail/config.hpp>

#include <cstddef>
#include <optional>
#include <string_view>

namespace pciplan::inline v0 {

/// One value per built-in machine type (machines::pc, machines::q35, …).
enum class machine_id : unsigned char { pc, q35, aarch64_virt, riscv64_virt, loongarch64_virt, pseries, s390x_ccw, microvm };

/// The number of machine_id values.
inline constexpr unsigned machine_id_count = 8;

/// A short, stable name: "pc", "q35", "aarch64-virt", "riscv64-virt",
/// "loongarch64-virt", "pseries", "s390x-ccw", "microvm".
[[nodiscard]] constexpr std::string_view name_of(machine_id m) noexcept {
  switch (m) {
    case machine_id::pc: return "pc";
    case machine_id::q35: return "q35";
    case machine_id::aarch64_virt: return "aarch64-virt";
    case machine_id::riscv64_virt: return "riscv64-virt";
    case machine_id::loongarch64_virt: return "loongarch64-virt";
    case machine_id::pseries: return "pseries";
    case machine_id::s390x_ccw: return "s390x-ccw";
    case machine_id::microvm: return "microvm";
  }
  return "unknown";
}

/// The machine family of a QEMU architecture and machine name, as QEMU and libvirt spell
/// them (`x86_64` + `pc-q35-7.2`, `aarch64` + `virt-7.2`, `ppc64le` + `pseries`); an
/// empty machine name means the architecture's default. nullopt when pciplan does not
/// know the machine.
[[nodiscard]] constexpr std::optional<machine_id> machine_of(std::string_view arch, std::string_view machine) noexcept {
  const auto starts = [&](std::string_view p) { return machine.substr(0, p.size()) == p; };
  if (arch == "x86_64" || arch == "i686") {
    if (machine.empty() || machine == "pc" || starts("pc-i440fx-") || starts("pc-0.") || starts("pc-1.") ||
        starts("rhel")) {
      return machine_id::pc;
    }
    if (machine == "q35" || starts("pc-q35-")) return machine_id::q35;
    if (machine == "microvm") return machine_id::microvm;
    return std::nullopt;
  }
  const bool virt = machine.empty() || machine == "virt" || starts("virt-");
  if (arch == "aarch64" || arch == "armv7l") return virt ? std::optional{machine_id::aarch64_virt} : std::nullopt;
  if (arch == "riscv64") return virt ? std::optional{machine_id::riscv64_virt} : std::nullopt;
  if (arch == "loongarch64") return virt ? std::optional{machine_id::loongarch64_virt} : std::nullopt;
  if (arch == "ppc64" || arch == "ppc64le") {
    return (machine.empty() || machine == "pseries" || starts("pseries-")) ? std::optional{machine_id::pseries}
                                                                           : std::nullopt;
  }
  if (arch == "s390x") {
    return (machine.empty() || starts("s390-ccw-virtio")) ? std::optional{machine_id::s390x_ccw} : std::nullopt;
  }
  return std::nullopt;
}

/// The machine named by one word, as a user types it: pciplan's own names (name_of:
/// "q35", "aarch64-virt", …), a QEMU machine whose architecture it implies ("pc",
/// "pc-q35-7.2", "microvm", "pseries-7.2", "s390-ccw-virtio"; "virt" and "virt-7.2"
/// mean aarch64), or ARCH:MACHINE ("riscv64:virt", "x86_64:pc-q35-7.2"). nullopt when
/// pciplan does not know it.
[[nodiscard]] constexpr std::optional<machine_id> machine_named(std::string_view text) noexcept {
  for (unsigned i = 0; i != machine_id_count; ++i) {
    if (name_of(static_cast<machine_id>(i)) == text) return static_cast<machine_id>(i);
  }
  std::string_view arch = "x86_64";
  std::string_view machine = text;
  const auto starts = [&](std::string_view p) { return machine.substr(0, p.size()) == p; };
  if (const std::size_t colon = text.find(':'); colon != std::string_view::npos) {
    arch = text.substr(0, colon);
    machine = text.substr(colon + 1);
  } else if (machine == "virt" || starts("virt-")) {
    arch = "aarch64";
  } else if (starts("pseries")) {
    arch = "ppc64";
  } else if (starts("s390-ccw-virtio")) {
    arch = "s390x";
  }
  if (machine.empty()) return std::nullopt;
  return machine_of(arch, machine);
}

}  // namespace pciplan::inline v0

#endif  // PCIPLAN_VOCABULARY_MACHINE_ID_HPP
