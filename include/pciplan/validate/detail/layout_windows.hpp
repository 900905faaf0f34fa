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

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pciplan::inline v0::detail {

/// The layout's created devices as a plan: controllers for bridges, ports and expanders
/// (the machine's root bus as index 0), placements for the rest. Devices on a further root
/// bus (a pseries PHB) are left out: no x86 firmware sizes those.
/// `index_of`, when given, gets each device's controller position (-1: none); with
/// `backends`, an ivshmem-plain's BAR 2 is its memory backend's size.
[[nodiscard]] inline topology_plan layout_as_plan(std::string_view machine, const controller_descriptor& root,
                                                  const std::vector<layout_device>& devices,
                                                  const std::vector<layout_bus>& buses,
                                                  std::vector<int>* index_of_out = nullptr,
                                                  const std::vector<qemu_layout::backend>* backends = nullptr) {
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
      c.reserves.io = parse_byte_size(d.arg.value("io-reserve")).value_or(0);
      c.io_reserve_zero = d.arg.has("io-reserve") && c.reserves.io == 0;
      c.reserves.mem = parse_byte_size(d.arg.value("mem-reserve")).value_or(0);
      c.reserves.pref32 = parse_byte_size(d.arg.value("pref32-reserve")).value_or(0);
      c.reserves.pref64 = parse_byte_size(d.arg.value("pref64-reserve")).value_or(0);
      index_of[i] = c.index.value;
      plan.controllers.push_back(c);
    } else {
      placement p{};
      p.request = i;
      p.kind = placement_kind::pci;
      if (d.model.device != nullptr) p.device = *d.model.device;
      p.device.qemu_device = d.arg.driver;
      p.libvirt_address = at;
      if (backends != nullptr && d.arg.driver == "ivshmem-plain") {  // BAR 2: its memdev's size
        for (const qemu_layout::backend& b : *backends) {
          if (b.id == d.arg.value("memdev")) p.bars = device_bars{}.mem32(256).pref64(b.size);
        }
      }
      plan.placements.push_back(p);
    }
  }
  if (index_of_out != nullptr) *index_of_out = std::move(index_of);
  return plan;
}

/// Whether the bus a device provides has no device on it.
[[nodiscard]] inline bool provides_empty_bus(const layout_device& d, const std::vector<layout_bus>& buses) {
  if (!d.child) return false;
  return std::ranges::none_of(buses[*d.child].devfn, [](int x) { return x >= 0; });
}

/// A size as QEMU's properties take it: "64G", "2M", "4K", "256"; 0 is "none".
[[nodiscard]] inline std::string size_text(std::uint64_t bytes) {
  if (bytes == 0) return "none";
  std::string out;
  append_size(out, bytes);
  return out;
}

/// Warnings for the empty hot-pluggable ports whose windows cannot hold `budget` (Q29).
inline void budget_findings(std::vector<finding>& out, const device_bars& budget, const memory_layout& m,
                            const std::vector<layout_device>& devices, const std::vector<layout_bus>& buses,
                            const std::vector<int>& index_of) {
  if (budget.empty()) return;
  const window_reserves want = hotplug_reserves(budget);
  for (std::size_t i = 0; i != devices.size(); ++i) {
    const layout_device& d = devices[i];
    if (!d.ok || index_of[i] < 0 || window_minimum_of(d.arg.driver) == window_minimum::none) continue;
    if (d.arg.value("hotplug") == "off" || !provides_empty_bus(d, buses)) continue;
    const bridge_windows& w = m.windows[static_cast<std::size_t>(index_of[i])];
    if (holds(w, budget)) continue;
    std::string fix;
    if (!takes_reserves(d.arg.driver)) {
      fix = d.arg.driver + " has no *-reserve properties: leave hot-plug to pcie-root-ports or pci-bridges";
    } else {
      const auto add = [&](std::string_view key, std::uint64_t v) {
        if (v == 0) return;
        fix += fix.empty() ? "set " : ",";
        fix += std::string(key) + "=" + size_text(v);
      };
      add("io-reserve", want.io);
      add("mem-reserve", want.mem);
      add("pref32-reserve", want.pref32);
      add("pref64-reserve", want.pref64);
    }
    out.push_back({severity::warning, 29, i,
                   "this empty hot-pluggable port's windows (I/O " + size_text(w.io.size) + ", memory " +
                       size_text(w.mem.size) + ", prefetchable " + size_text(w.pref.size) +
                       ") cannot hold the hot-plug budget's BARs wherever firmware places them, so a device "
                       "plugged in later gets a BAR unassigned; " + fix});
  }
}

/// What firmware makes of the layout's windows: warnings where SeaBIOS 1.16 stops at
/// boot (RULES.md Q25: I/O; Q29: memory), where an I/O reserve is not a multiple of 4 KiB
/// (SeaBIOS does not round it and places the next I/O BARs inside the window), and where
/// the 64-bit windows end past 40 address bits; with the layout's hot-plug budget, where
/// an empty hot-pluggable port's windows cannot hold it (Q29); and where OVMF's 64-bit
/// window (32 GiB, or the layout's X-PciMmio64Mb) may be too small (Q29).
[[nodiscard]] inline std::vector<finding> window_findings(std::string_view machine, const controller_descriptor& root,
                                                          const std::vector<layout_device>& devices,
                                                          const std::vector<layout_bus>& buses,
                                                          const qemu_layout& layout) {
  const std::uint64_t ram = layout.ram;
  std::vector<finding> out;
  if (machine != "q35" && machine != "pc") return out;
  for (std::size_t i = 0; i != devices.size(); ++i) {
    const layout_device& d = devices[i];
    if (!d.ok || d.model.controller == nullptr || !takes_reserves(d.arg.driver)) continue;
    const std::optional<std::uint64_t> io = parse_byte_size(d.arg.value("io-reserve"));
    if (io && *io % 4096 != 0) {
      out.push_back({severity::warning, 25, i,
                     "io-reserve=" + std::string(d.arg.value("io-reserve")) +
                         " is not a multiple of 4 KiB: SeaBIOS 1.16 does not round it up and puts the next I/O BARs "
                         "inside this bridge's window"});
    }
  }
  std::vector<int> index_of;
  const topology_plan plan = layout_as_plan(machine, root, devices, buses, &index_of, &layout.backends);
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
  budget_findings(out, layout.hotplug_budget, m, devices, buses, index_of);
  const std::uint64_t ovmf_given = layout.ovmf_window64 != 0 ? layout.ovmf_window64 : ovmf_default_window64;
  if (m.ovmf_window64 > ovmf_given) {
    out.push_back({severity::warning, 29, finding::no_device,
                   "OVMF's 64-bit PCI window (" + size_text(ovmf_given) +
                       (layout.ovmf_window64 != 0 ? ", from -fw_cfg name=opt/ovmf/X-PciMmio64Mb"
                                                  : ", its default when it does not trust the CPU's address width") +
                       ") may not hold the 64-bit BARs and windows: OVMF then drops devices or hangs at boot; give it "
                       "-fw_cfg name=opt/ovmf/X-PciMmio64Mb,string=" + std::to_string(m.ovmf_window64 >> 20)});
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
