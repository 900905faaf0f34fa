// pciplan — planner/detail/window_warnings.hpp: what the pciplan policy says of a plan's
// memory windows (topology/memory_windows.hpp) — where SeaBIOS 1.16 stops at boot, where
// OVMF's default 64-bit window may be too small (and where the window it needs would lie
// past 40 address bits), and where the 64-bit windows end beyond 1 TiB. Each is a
// warning_code::windows whose count carries the number.
#ifndef PCIPLAN_PLANNER_DETAIL_WINDOW_WARNINGS_HPP
#define PCIPLAN_PLANNER_DETAIL_WINDOW_WARNINGS_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/topology/memory_windows.hpp>
#include <pciplan/topology/topology_plan.hpp>

#include <cstdint>

namespace pciplan::inline v0::detail {

/// The warnings for memory layout `m`, given to `state.warn(code, text, count)`.
template <class State>
constexpr void window_warnings(const memory_layout& m, State& state) {
  constexpr std::uint64_t mib = std::uint64_t{1} << 20;
  constexpr std::uint64_t gib = std::uint64_t{1} << 30;
  constexpr std::uint64_t forty_bits = std::uint64_t{1} << 40;
  if (m.problem == window_problem::io_space) {
    state.warn(warning_code::windows,
               "SeaBIOS 1.16 stops at boot (\"PCI: out of I/O address space\"): the root needs more I/O space than "
               "x86 leaves for PCI (count: bytes needed); fewer devices with I/O BARs or bridges, or io-reserve=0",
               static_cast<unsigned>(m.io_size));
  } else if (m.problem == window_problem::space_32_bit) {
    state.warn(warning_code::windows,
               "SeaBIOS 1.16 stops at boot (\"PCI: out of 32bit address space\"): what must stay below 4 GiB does "
               "not fit the 32-bit PCI window (count: MiB needed; q35's window holds 1004 MiB); lower the memory "
               "reserves or the hot-plug budget's 32-bit BARs",
               static_cast<unsigned>((m.mem32.size + m.pref32.size + mib - 1) / mib));
  }
  if (m.ovmf_window64 != 0) {
    state.warn(warning_code::windows,
               "OVMF (edk2 2022.11) gives 64-bit BARs a 32 GiB window unless it trusts the guest CPU's physical "
               "address width (not with QEMU's default CPU under KVM on Intel hosts), and this plan's may need more: "
               "give OVMF a window of the count in GiB (-fw_cfg name=opt/ovmf/X-PciMmio64Mb,string=<MiB>, which "
               "qemu_memory_arguments writes; SeaBIOS ignores it)",
               static_cast<unsigned>(m.ovmf_window64 / gib));
    if (m.ovmf_base64 + m.ovmf_window64 > forty_bits) {
      state.warn(warning_code::windows,
                 "that OVMF window would end beyond 1 TiB (count: GiB), past the 40 physical address bits QEMU "
                 "gives a guest CPU by default: give the CPU more (host-phys-bits=on, phys-bits=), with which OVMF "
                 "sizes its window itself (an eighth of the address space), or the budget less",
                 static_cast<unsigned>((m.ovmf_base64 + m.ovmf_window64) / gib));
    }
  }
  if (m.end64 > forty_bits) {
    state.warn(warning_code::windows,
               "the 64-bit PCI windows end beyond 1 TiB (count: GiB), past the 40 physical address bits QEMU gives "
               "a guest CPU by default: give the CPU more (phys-bits=, host-phys-bits=on) or the budget less",
               static_cast<unsigned>((m.end64 + gib - 1) / gib));
  }
}

}  // namespace pciplan::inline v0::detail

#endif  // PCIPLAN_PLANNER_DETAIL_WINDOW_WARNINGS_HPP
