// pciplan — validate/detail/layout_windows.hpp: a hand-written layout's memory windows
// (topology/memory_windows.hpp) and what firmware cannot do with them: the layout, as the
// validator created it, becomes a plan, and SeaBIOS's sizing runs over it. Device BARs
// are the catalogue's (an ivshmem's shared memory counts at libvirt's default 4 MiB: the
// size of a memory backend is not in a -device line); reserves come from the ports' and
// bridges' io-reserve, mem-reserve, pref32-reserve and pref64-reserve.
#ifndef PCIPLAN_VALIDATE_DETAIL_LAYOUT_WINDOWS_HPP
#define PCIPLAN_VALIDATE_DETAIL_LAYOUT_WINDOWS_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/detail/numbers.hpp>
#include <pciplan/kinds/controller_kinds.hpp>
#include <pciplan/kinds/device_bars.hpp>
#include <pciplan/topology/controller.hpp>
#include <pciplan/topology/memory_windows.hpp>
#include <pciplan/topology/topology_plan.hpp>
#include <pciplan/topology/topology_view.hpp>
#include <pciplan/validate/detail/layout_state.hpp>
#include <pciplan/validate/detail/qemu_args.hpp>
#include <pciplan/validate/qemu_layout.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pciplan::inline v0::detail {

/// A QEMU size property: bytes, or a number with K, M, G or T in either case ("16G",
/// "2m", "0x800"); nullopt when it is none or beyond 2^62 bytes.
[[nodiscard]] constexpr std::optional<std::uint64_t> qemu_size(std::string_view text) noexcept {
  const std::optional<size_text> n = parse_size(text, number_syntax::decimal_or_hex, 10);
  if (!n || n->number > (std::uint64_t{1} << (62 - n->shift))) return std::nullopt;
  return n->number << n->shift;
}

/// The layout's created devices as a plan: controllers for bridges, ports and expanders
/// (the machine's root bus as index 0), placements for the rest. Devices on a further root
/// bus (a pseries PHB) are left out: no x86 firmware sizes those.
[[nodiscard]] inline topology_plan layout_as_plan(std::string_view machine, const controller_descriptor& root,
                                                  const std::vector<layout_device>& devices,
                                                  const std::vector<layout_bus>& buses) {
  topology_plan plan;
  plan.machine = machine;
  controller r{};
  r.kind = &root;
  plan.controllers.push_back(r);
  std::vector<int> index_of(devices.size(), -1);  // device -> its controller's index
  const auto bus_index = [&](std::size_t b) -> int {
    if (b == 0) return 0;
    const int owner = buses[b].owner;
    return owner < 0 ? -1 : index_of[static_cast<std::size_t>(owner)];
  };
  for (std::size_t i = 0; i != devices.size(); ++i) {
    const layout_device& d = devices[i];
    const int parent = d.ok ? bus_index(d.bus) : -1;
    if (parent < 0) continue;
    const controller_address at(0, static_cast<unsigned>(parent), d.devfn / 8, d.devfn % 8);
    if (d.model.controller != nullptr) {
      controller c{};
      c.index = controller_index{static_cast<std::uint16_t>(plan.controllers.size())};
      c.kind = d.model.controller;
      c.model_name = d.arg.driver;
      c.has_address = true;
      c.libvirt_address = at;
      c.reserves.io = qemu_size(d.arg.value("io-reserve")).value_or(0);
      c.io_reserve_zero = d.arg.has("io-reserve") && c.reserves.io == 0;
      c.reserves.mem = qemu_size(d.arg.value("mem-reserve")).value_or(0);
      c.reserves.pref32 = qemu_size(d.arg.value("pref32-reserve")).value_or(0);
      c.reserves.pref64 = qemu_size(d.arg.value("pref64-reserve")).value_or(0);
      index_of[i] = c.index.value;
      plan.controllers.push_back(c);
    } else {
      placement p{};
      p.request = i;
      p.kind = placement_kind::pci;
      if (d.model.device != nullptr) p.device = *d.model.device;
      p.device.qemu_device = d.arg.driver;
      p.libvirt_address = at;
      plan.placements.push_back(p);
    }
  }
  return plan;
}

/// What firmware makes of the layout's windows: warnings where SeaBIOS 1.16 stops at
/// boot (RULES.md Q25: I/O; Q29: memory), where an I/O reserve is not a multiple of 4 KiB
/// (SeaBIOS does not round it and places the next I/O BARs inside the window), and where
/// the 64-bit windows end past 40 address bits.
[[nodiscard]] inline std::vector<finding> window_findings(std::string_view machine, const controller_descriptor& root,
                                                          const std::vector<layout_device>& devices,
                                                          const std::vector<layout_bus>& buses, std::uint64_t ram) {
  std::vector<finding> out;
  if (machine != "q35" && machine != "pc") return out;
  for (std::size_t i = 0; i != devices.size(); ++i) {
    const layout_device& d = devices[i];
    if (!d.ok || d.model.controller == nullptr || !takes_reserves(d.arg.driver)) continue;
    const std::optional<std::uint64_t> io = qemu_size(d.arg.value("io-reserve"));
    if (io && *io % 4096 != 0) {
      out.push_back({severity::warning, 25, i,
                     "io-reserve=" + std::string(d.arg.value("io-reserve")) +
                         " is not a multiple of 4 KiB: SeaBIOS 1.16 does not round it up and puts the next I/O BARs "
                         "inside this bridge's window"});
    }
  }
  const topology_plan plan = layout_as_plan(machine, root, devices, buses);
  const memory_layout m = memory_windows(plan, ram == 0 ? guest_memory{} : guest_memory{.ram = ram});
  const std::uint64_t mib = std::uint64_t{1} << 20;
  if (m.problem == window_problem::io_space) {
    out.push_back({severity::warning, 25, finding::no_device,
                   "SeaBIOS 1.16 stops at boot (\"PCI: out of I/O address space\"): the devices and bridges need " +
                       std::to_string(m.io_size) + " bytes of I/O space, more than x86 leaves for PCI (" +
                       std::string(machine == "q35" ? "0xe000" : "0x8000") +
                       "); set io-reserve=0 on ports whose devices need no I/O, or use fewer pci-bridges"});
  } else if (m.problem == window_problem::space_32_bit) {
    out.push_back({severity::warning, 29, finding::no_device,
                   "SeaBIOS 1.16 stops at boot (\"PCI: out of 32bit address space\"): what must stay below 4 GiB needs " +
                       std::to_string((m.mem32.size + m.pref32.size + mib - 1) / mib) +
                       " MiB, more than the 32-bit PCI window holds (" +
                       std::to_string((m.mem32_end - m.mem32_start) / mib) + " MiB); lower the mem-reserve values"});
  }
  if (m.end64 > (std::uint64_t{1} << 40)) {
    out.push_back({severity::warning, 29, finding::no_device,
                   "the 64-bit PCI windows end at " + std::to_string(m.end64 >> 30) +
                       " GiB, past the 40 physical address bits QEMU gives a guest CPU by default: lower the "
                       "pref64-reserve values, or give the CPU more (phys-bits=, host-phys-bits=on)"});
  }
  return out;
}

}  // namespace pciplan::inline v0::detail

#endif  // PCIPLAN_VALIDATE_DETAIL_LAYOUT_WINDOWS_HPP
