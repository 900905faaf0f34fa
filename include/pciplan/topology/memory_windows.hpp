// pciplan — topology/memory_windows.hpp: the address space a plan needs — every bridge's
// and port's I/O, memory and prefetchable window, and the root's I/O, 32-bit and 64-bit
// ranges — as x86 firmware (SeaBIOS 1.16) sizes and places them.
//
//   const memory_layout m = memory_windows(plan, {.ram = 8_GiB});
//   for (std::size_t i = 0; i != plan.controllers.size(); ++i)
//     if (m.windows[i].bridge) std::cout << plan.controllers[i].index.value << ' ' << m.windows[i].pref.size << '\n';
//   if (!m.fits()) …                     // firmware stops: m.problem says which space ran out
//   m.hole64_needed                      // bytes of 64-bit MMIO the guest needs above its RAM
//
// Sizing, bottom up, bus by bus (each device's BARs from its placement, or from the
// catalogue: kinds/device_bars.hpp):
//  - a bus's entries are its devices' BARs (memory BARs at least 4 KiB), the BARs of the
//    bridges and ports on it, and the windows of those bridges and ports;
//  - a window's alignment is the largest alignment among its entries, at least 4 KiB for
//    I/O and 2 MiB for memory; its size is the entries' sum rounded up to that alignment
//    (an 8 GiB and a 2 GiB BAR make a 16 GiB window aligned to 8 GiB);
//  - an empty window of a hot-pluggable port still gets the minimum (PCIe root and
//    downstream ports: memory and prefetchable, no I/O; SHPC bridges: all three), and a
//    QEMU reserve (io-reserve, mem-reserve, pref32/pref64-reserve) raises a window to at
//    least its value — never lowers it;
//  - a prefetchable window is 64-bit when every entry in it is;
//  - a pxb (pc's expander bus) has a pci-bridge of its own behind which its devices sit:
//    its windows are that bridge's.
// Then the root (the root bus and every expander bus share one pool):
//  - I/O from 0xc000 when the sum is below 16 KiB, else from 0x1000 up to 0xa000 (pc) or
//    0x10000 (q35); beyond that firmware stops ("out of I/O address space");
//  - memory and prefetchable placed top down below 0xfec00000, down to 0xc0000000 (q35)
//    or 0x80000000/0xc0000000 by RAM (pc); when they do not fit, every 64-bit entry at
//    the root (prefetchable windows and BARs, 64-bit memory BARs of root devices) moves
//    above 4 GiB at once, starting at the first 1 GiB boundary above RAM; when the rest
//    still does not fit, firmware stops ("out of 32bit address space").
// QEMU's 64-bit PCI hole has to hold what goes above 4 GiB (hole64_needed): it is the
// guest's ACPI description of where PCI memory may be, and with OVMF its size bounds the
// 64-bit aperture.
#ifndef PCIPLAN_TOPOLOGY_MEMORY_WINDOWS_HPP
#define PCIPLAN_TOPOLOGY_MEMORY_WINDOWS_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/detail/vectors.hpp>
#include <pciplan/kinds/controller_kinds.hpp>
#include <pciplan/kinds/device_bars.hpp>
#include <pciplan/topology/controller.hpp>
#include <pciplan/topology/topology_plan.hpp>
#include <pciplan/topology/topology_view.hpp>
#include <pciplan/vocabulary/bars.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace pciplan::inline v0 {

/// What firmware needs to know of the guest besides its topology: its memory (QEMU `-m`).
struct guest_memory {
  std::uint64_t ram = 1ull << 30;  ///< guest RAM in bytes (-m); 1 GiB by default
  std::uint64_t maxmem = 0;        ///< -m maxmem= in bytes; 0: no memory hot-plug
  unsigned slots = 0;              ///< -m slots=
};

/// One window of a bridge or port, or one range of the root.
struct window {
  std::uint64_t size = 0;   ///< bytes; 0: the window is off
  std::uint64_t align = 1;  ///< the alignment it is placed at (its largest entry, at least the granularity)
  bool is64 = false;        ///< prefetchable: every BAR below it is 64-bit, so it may go above 4 GiB
  /// Equal when all members are equal.
  friend constexpr bool operator==(const window&, const window&) = default;
};

/// The windows of the bus a bridge or port provides.
struct bridge_windows {
  bool bridge = false;  ///< a bridge or port, or a pxb (its internal bridge); roots and pxb-pcie have no windows
  window io{};          ///< I/O
  window mem{};         ///< 32-bit memory, not prefetchable
  window pref{};        ///< prefetchable memory
  /// Equal when all members are equal.
  friend constexpr bool operator==(const bridge_windows&, const bridge_windows&) = default;
};

/// Why firmware cannot place a plan's BARs.
enum class window_problem : unsigned char {
  none,          ///< everything fits
  io_space,      ///< the root's I/O needs more than x86's I/O space leaves (SeaBIOS: "out of I/O address space")
  space_32_bit,  ///< what must stay below 4 GiB does not fit the 32-bit window ("out of 32bit address space")
};

/// The address space a plan needs (see the top of this header).
struct memory_layout {
  std::vector<bridge_windows> windows;  ///< by position in plan.controllers
  bool x86 = false;                     ///< the root ranges below are modelled (pc, q35); else only the windows
  std::uint64_t io_size = 0;            ///< I/O at the root, bytes
  std::uint64_t io_base = 0;            ///< where firmware starts the root's I/O
  std::uint64_t mem32_start = 0;        ///< the lowest address of the 32-bit window
  std::uint64_t mem32_end = 0xfec00000ull;  ///< one past its highest address
  window mem32{};                       ///< the root's non-prefetchable memory below 4 GiB
  window pref32{};                      ///< the root's prefetchable memory below 4 GiB
  bool above_4g = false;                ///< 64-bit entries moved above 4 GiB (the 32-bit window was too small)
  window mem64{};                       ///< non-prefetchable memory above 4 GiB
  window pref64{};                      ///< prefetchable memory above 4 GiB
  std::uint64_t mem64_base = 0;         ///< where firmware places mem64
  std::uint64_t pref64_base = 0;        ///< where firmware places pref64
  std::uint64_t end64 = 0;              ///< one past the last byte above 4 GiB (0: nothing there)
  std::uint64_t hole64_start = 0;       ///< the first 1 GiB boundary above RAM (QEMU's 64-bit hole starts there)
  std::uint64_t hole64_needed = 0;      ///< bytes from hole64_start to end64
  /// The 64-bit window OVMF needs when its default (32 GiB) may be too small, else 0.
  /// OVMF (edk2 2022.11) puts every 64-bit BAR and 64-bit window above 4 GiB, whether or
  /// not the rest fits below, into a window of 32 GiB unless it trusts the guest CPU's
  /// physical address width (KVM with QEMU's default CPU on an Intel host: it does not);
  /// `-fw_cfg name=opt/ovmf/X-PciMmio64Mb,string=MiB` sets that size. OVMF places each
  /// root bridge's 64-bit entries (pcie.0's, each expander's) as one block aligned to its
  /// largest, so the model rounds each entry (OVMF rounds reserves so; an empty port's
  /// minimum window not counted: OVMF gives it none within 32 GiB) and then each block up
  /// to a power of two. When the blocks add up to more than 32 GiB, this is the smallest
  /// power of two that holds them with the padding OVMF then gives every hot-pluggable
  /// port (1/256 of the window, rounded up to a power of two).
  std::uint64_t ovmf_window64 = 0;
  /// Where OVMF puts that window: the first 1 GiB boundary above RAM (hole64_start),
  /// rounded up to the window's size; 0 when ovmf_window64 is.
  std::uint64_t ovmf_base64 = 0;
  window_problem problem = window_problem::none;  ///< what does not fit

  /// Whether firmware places every BAR.
  [[nodiscard]] constexpr bool fits() const noexcept { return problem == window_problem::none; }
  /// Equal when all members are equal.
  friend constexpr bool operator==(const memory_layout&, const memory_layout&) = default;
};

namespace detail {

inline constexpr std::uint64_t io_granule = 4096;
inline constexpr std::uint64_t mem_granule = 2ull << 20;  // SeaBIOS rounds memory windows to 2 MiB
inline constexpr std::uint64_t gib = 1ull << 30;
inline constexpr std::uint64_t ovmf_default_window64 = 32 * gib;  // edk2's PcdPciMmio64Size

[[nodiscard]] constexpr std::uint64_t align_up(std::uint64_t v, std::uint64_t a) noexcept {
  return a <= 1 ? v : (v + a - 1) / a * a;
}
[[nodiscard]] constexpr std::uint64_t align_down(std::uint64_t v, std::uint64_t a) noexcept {
  return a <= 1 ? v : v / a * a;
}

/// The power of two at or above `v`, saturating at 2^63 (std::bit_ceil has no answer above).
[[nodiscard]] constexpr std::uint64_t ceil_pow2(std::uint64_t v) noexcept {
  return v > (std::uint64_t{1} << 63) ? std::uint64_t{1} << 63 : std::bit_ceil(v);
}

/// a + b, saturating at the largest std::uint64_t.
[[nodiscard]] constexpr std::uint64_t add_saturated(std::uint64_t a, std::uint64_t b) noexcept {
  return a > ~std::uint64_t{0} - b ? ~std::uint64_t{0} : a + b;
}

/// Whether `c` is a pc pxb: an expander whose devices sit behind a pci-bridge of its own.
[[nodiscard]] constexpr bool is_pxb_bridge(const controller& c) noexcept {
  return c.kind != nullptr && c.kind->role == controller_role::expander && c.kind->bus_numbers == 2;
}

/// What the entries of one bus add up to, per window.
struct window_sums {
  bar_sum io{};
  bar_sum mem{};
  bar_sum pref{};
  bool pref_all64 = true;  // every prefetchable entry is 64-bit
  // at the root only: what may move above 4 GiB
  bar_sum mem_movable{};
  bar_sum pref_movable{};

  constexpr void add_bars(const device_bars& b, bool at_root) {
    io.add(b[bar_space::io].size, b[bar_space::io].largest);
    mem.add(b[bar_space::mem32].size, b[bar_space::mem32].largest);
    if (at_root) {
      mem_movable.add(b[bar_space::mem64].size, b[bar_space::mem64].largest);
      pref_movable.add(b[bar_space::pref64].size, b[bar_space::pref64].largest);
    } else {
      mem.add(b[bar_space::mem64].size, b[bar_space::mem64].largest);
      pref.add(b[bar_space::pref64].size, b[bar_space::pref64].largest);
    }
    pref.add(b[bar_space::pref32].size, b[bar_space::pref32].largest);
    if (!b[bar_space::pref32].empty()) pref_all64 = false;
  }
  constexpr void add_windows(const bridge_windows& w, bool at_root) {
    if (w.io.size != 0) io.add(w.io.size, w.io.align);
    if (w.mem.size != 0) mem.add(w.mem.size, w.mem.align);
    if (w.pref.size != 0) {
      if (at_root && w.pref.is64) {
        pref_movable.add(w.pref.size, w.pref.align);
      } else {
        pref.add(w.pref.size, w.pref.align);
      }
    }
    if (!w.pref.is64) pref_all64 = false;
  }
};

/// A window from its entries: aligned to the largest (at least `granule`), its size their
/// sum rounded up to that, at least `minimum` (an empty hot-pluggable window), at least
/// `reserve` (rounded up too, but for I/O).
[[nodiscard]] constexpr window size_window(const bar_sum& s, std::uint64_t granule, std::uint64_t minimum,
                                           std::uint64_t reserve, bool round_reserve) {
  window w;
  w.align = std::max(granule, s.largest);
  std::uint64_t sum = s.size;
  if (sum == 0 && minimum != 0) sum = w.align;
  if (reserve > sum) {
    w.size = round_reserve ? align_up(reserve, w.align) : reserve;
  } else {
    w.size = align_up(sum, w.align);
  }
  return w;
}

/// Places the root's two 32-bit regions top down below `end` (prefetchable on top, unless
/// its alignment is the larger: then below); whether both fit above `start`.
[[nodiscard]] constexpr bool fits_32(const bar_sum& mem, const bar_sum& pref, std::uint64_t start, std::uint64_t end) {
  const std::uint64_t mem_align = mem.largest == 0 ? 1 : mem.largest;
  const std::uint64_t pref_align = pref.largest == 0 ? 1 : pref.largest;
  const bool mem_on_top = pref_align > mem_align;  // the larger alignment goes below; a tie keeps pref on top
  const bar_sum& top = mem_on_top ? mem : pref;
  const bar_sum& bottom = mem_on_top ? pref : mem;
  const std::uint64_t top_align = mem_on_top ? mem_align : pref_align;
  const std::uint64_t bottom_align = mem_on_top ? pref_align : mem_align;
  if (top.size > end) return false;
  const std::uint64_t top_base = align_down(end - top.size, top_align);
  if (bottom.size > top_base) return false;
  const std::uint64_t bottom_base = align_down(top_base - bottom.size, bottom_align);
  return bottom_base >= start && top_base >= start;
}

}  // namespace detail

/// The reserves an empty hot-pluggable port needs (QEMU io-reserve, mem-reserve,
/// pref64-reserve — pref32-reserve when a prefetchable BAR is 32-bit) so that a device
/// with BARs `b`, plugged in later, fits its windows wherever firmware puts them.
/// Firmware aligns a reserved window only to its granularity (I/O 4 KiB, memory 2 MiB),
/// not to the BARs it is meant for, so a window holds BARs of sum S, the largest L,
/// aligned, only when it spans S + L − granularity: a 64 GiB BAR needs a reserve of
/// 128 GiB − 2 MiB.
[[nodiscard]] constexpr window_reserves hotplug_reserves(const device_bars& b) noexcept {
  using namespace detail;
  const auto need = [](std::uint64_t sum, std::uint64_t largest, std::uint64_t granule) -> std::uint64_t {
    if (sum == 0) return 0;
    const std::uint64_t slack = largest > granule ? largest - granule : 0;
    return align_up(sum + slack, granule);
  };
  window_reserves r;
  r.io = need(b[bar_space::io].size, b[bar_space::io].largest, io_granule);
  bar_sum mem = b[bar_space::mem32];
  mem.add(b[bar_space::mem64].size, b[bar_space::mem64].largest);
  r.mem = need(mem.size, mem.largest, mem_granule);
  bar_sum pref = b[bar_space::pref64];
  pref.add(b[bar_space::pref32].size, b[bar_space::pref32].largest);
  const std::uint64_t p = need(pref.size, pref.largest, mem_granule);
  if (b[bar_space::pref32].empty()) {
    r.pref64 = p;
  } else {
    r.pref32 = p;
  }
  return r;
}

/// Whether window `w` holds BARs `b` (sum and largest) wherever firmware places it: at
/// an address aligned only to w.align, BARs placed largest first and naturally aligned
/// need b.size plus the distance to the next multiple of b.largest, at most
/// b.largest − w.align. (Enough, not needed: a window that happens to be aligned better
/// may hold more.)
[[nodiscard]] constexpr bool window_holds(const window& w, const bar_sum& b) noexcept {
  if (b.empty()) return true;
  const std::uint64_t slack = b.largest > w.align ? b.largest - w.align : 0;
  return b.size <= w.size && slack <= w.size - b.size;
}

/// Whether a device with BARs `b`, hot-plugged below a port with windows `w`, fits them
/// wherever firmware placed the windows (window_holds): its I/O BARs in the I/O window,
/// its memory BARs (32- and 64-bit) in the memory window, its prefetchable BARs in the
/// prefetchable window — as hotplug_reserves sizes them.
[[nodiscard]] constexpr bool holds(const bridge_windows& w, const device_bars& b) noexcept {
  bar_sum mem = b[bar_space::mem32];
  mem.add(b[bar_space::mem64].size, b[bar_space::mem64].largest);
  bar_sum pref = b[bar_space::pref64];
  pref.add(b[bar_space::pref32].size, b[bar_space::pref32].largest);
  return window_holds(w.io, b[bar_space::io]) && window_holds(w.mem, mem) && window_holds(w.pref, pref);
}

/// The windows and ranges firmware gives `plan` (see the top of this header), for a guest
/// with `memory`.
[[nodiscard]] constexpr memory_layout memory_windows(const topology_plan& plan, const guest_memory& memory = {}) {
  using namespace detail;
  memory_layout out;
  const std::size_t n = plan.controllers.size();
  refill(out.windows, n, bridge_windows{});
  const topology_view view(plan.controllers);
  const bool q35 = plan.machine == "q35";
  const bool pc = plan.machine == "pc";
  out.x86 = q35 || pc;

  // each controller's parent, and whether its bus is a root bus (the root pool)
  std::vector<std::size_t> parent = filled(n, no_position);
  std::vector<unsigned char> root_bus = filled(n, static_cast<unsigned char>(0));
  for (std::size_t i = 0; i != n; ++i) {
    const controller& c = plan.controllers[i];
    parent[i] = view.parent_of(i);
    const controller_role r = c.kind == nullptr ? controller_role::root : c.kind->role;
    // a pxb's bus is a root bus, but what sits on it is behind the pxb's own internal
    // pci-bridge (its second bus number): a window level like any bridge
    const bool internal_bridge = is_pxb_bridge(c);
    root_bus[i] = !internal_bridge && (r == controller_role::root || r == controller_role::extra_root ||
                                       r == controller_role::expander);
    out.windows[i].bridge = !root_bus[i];
  }
  // OVMF's root bridges: every root bus, and a pc pxb (a root bridge of its own to OVMF);
  // block[i] is the one controller i sits below, block_pow2 the 64-bit entries placed in
  // that bridge's block (each rounded up to a power of two), block_ports its padded ports
  std::vector<std::size_t> block = filled(n, no_position);
  std::vector<std::uint64_t> block_pow2 = filled(n, std::uint64_t{0});
  std::vector<std::uint64_t> block_ports = filled(n, std::uint64_t{0});
  for (std::size_t i = 0; i != n; ++i) {
    std::size_t at = i;
    for (std::size_t d = 0; d <= n && !root_bus[at] && !is_pxb_bridge(plan.controllers[at]) &&
                            parent[at] != no_position; ++d) {
      at = parent[at];
    }
    block[i] = at;
    const controller& c = plan.controllers[i];
    if (window_minimum_of(c.qemu_device()) != window_minimum::none && c.hotplug != toggle::off) ++block_ports[at];
  }
  // sums by the bus they sit on (position); the root pool apart
  std::vector<window_sums> sums = filled(n, window_sums{});
  window_sums root;
  const auto bus_sums = [&](std::size_t bus) -> window_sums& { return root_bus[bus] ? root : sums[bus]; };

  // devices
  for (const placement& p : plan.placements) {
    if (p.kind != placement_kind::pci || plan.is_built_in(p)) continue;
    const std::size_t bus = view.position_of(p.libvirt_address.bus);
    if (bus == no_position) continue;
    const controller_descriptor* k = plan.controllers[bus].kind;
    const bool behind_port = k != nullptr && k->role == controller_role::port;
    const device_bars b = p.bars.given ? p.bars : catalogue_bars(p.device.qemu_device, behind_port);
    bus_sums(bus).add_bars(b, root_bus[bus] != 0);
    if (root_bus[bus]) {
      for (const bar_space sp : {bar_space::mem64, bar_space::pref64}) {
        if (!b[sp].empty()) block_pow2[block[bus]] = add_saturated(block_pow2[block[bus]], ceil_pow2(b[sp].size));
      }
    }
  }
  // the machine's own root devices (q35: SMBus and the ICH9 SATA; pc: the PIIX3 IDE)
  if (q35) root.add_bars(device_bars{}.io(0x40).io(0x20).mem32(4096), true);
  if (pc) root.add_bars(device_bars{}.io(0x10), true);
  // the controllers' own BARs
  for (std::size_t i = 0; i != n; ++i) {
    if (parent[i] == no_position) continue;
    const device_bars own = controller_bars(plan.controllers[i].qemu_device());
    bus_sums(parent[i]).add_bars(own, root_bus[parent[i]] != 0);
    if (root_bus[parent[i]] && !own[bar_space::mem64].empty()) {
      block_pow2[block[parent[i]]] =
          add_saturated(block_pow2[block[parent[i]]], ceil_pow2(own[bar_space::mem64].size));
    }
  }
  // windows, children before parents: a post-order walk over each bridge's subtree
  std::vector<std::size_t> depth = filled(n, std::size_t{0});
  for (std::size_t i = 0; i != n; ++i) {
    std::size_t d = 0;
    for (std::size_t at = parent[i]; at != no_position && d <= n; at = parent[at]) ++d;
    depth[i] = d;
  }
  std::vector<std::size_t> order = filled(n, std::size_t{0});
  for (std::size_t i = 0; i != n; ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return depth[a] > depth[b]; });
  for (const std::size_t i : order) {
    if (!out.windows[i].bridge) continue;
    const controller& c = plan.controllers[i];
    const window_sums& s = sums[i];
    const window_minimum m = window_minimum_of(c.qemu_device());
    const bool has_cap = takes_reserves(c.qemu_device());
    bridge_windows& w = out.windows[i];
    w.io = size_window(s.io, io_granule, m == window_minimum::shpc ? 1 : 0, has_cap ? c.reserves.io : 0, false);
    w.mem = size_window(s.mem, mem_granule, m != window_minimum::none ? 1 : 0, has_cap ? c.reserves.mem : 0, true);
    const std::uint64_t pref_reserve = has_cap ? std::max(c.reserves.pref32, c.reserves.pref64) : 0;
    w.pref = size_window(s.pref, mem_granule, m != window_minimum::none ? 1 : 0, pref_reserve, true);
    w.pref.is64 = s.pref_all64;
    if (parent[i] != no_position) bus_sums(parent[i]).add_windows(w, root_bus[parent[i]] != 0);
    // OVMF: a 64-bit window at a root bus (or a pc pxb's) in its root bridge's block; an
    // empty port's minimum not counted (OVMF gives it none, or padding: counted apart)
    if (parent[i] != no_position && (root_bus[parent[i]] || block[i] == i) && w.pref.is64 && w.pref.size != 0 &&
        !(s.pref.empty() && pref_reserve == 0)) {
      block_pow2[block[i]] = add_saturated(block_pow2[block[i]], ceil_pow2(w.pref.size));
    }
  }
  if (!out.x86) return out;

  // the root's I/O
  out.io_size = root.io.size;
  const std::uint64_t io_low_end = q35 ? 0x10000 : 0xa000;
  if (out.io_size < 0x4000) {
    out.io_base = 0xc000;
  } else if (out.io_size < io_low_end - 0x1000) {
    out.io_base = 0x1000;
  } else {
    out.problem = window_problem::io_space;
  }
  // the 32-bit window, then what moves above 4 GiB
  const std::uint64_t ram = memory.ram;
  std::uint64_t below_4g = ram;
  std::uint64_t above = 0;
  if (q35 && ram >= 0xb0000000ull) below_4g = 0x80000000ull;
  if (pc && ram >= 0xe0000000ull) below_4g = 0xc0000000ull;
  if (below_4g < ram) above = ram - below_4g;
  out.mem32_start = q35 ? 0xc0000000ull : below_4g <= 0x80000000ull ? 0x80000000ull : below_4g <= 0xc0000000ull ? 0xc0000000ull : below_4g;
  bar_sum mem = root.mem;
  bar_sum pref = root.pref;
  bar_sum mem_all = mem;
  mem_all.add(root.mem_movable.size, root.mem_movable.largest);
  bar_sum pref_all = pref;
  pref_all.add(root.pref_movable.size, root.pref_movable.largest);
  if (fits_32(mem_all, pref_all, out.mem32_start, out.mem32_end)) {
    mem = mem_all;
    pref = pref_all;
  } else {
    out.above_4g = !root.mem_movable.empty() || !root.pref_movable.empty();
    out.mem64 = window{root.mem_movable.size, std::max<std::uint64_t>(root.mem_movable.largest, 1), true};
    out.pref64 = window{root.pref_movable.size, std::max<std::uint64_t>(root.pref_movable.largest, 1), true};
    if (!fits_32(mem, pref, out.mem32_start, out.mem32_end) && out.problem == window_problem::none) {
      out.problem = window_problem::space_32_bit;
    }
  }
  out.mem32 = window{mem.size, std::max<std::uint64_t>(mem.largest, 1), false};
  out.pref32 = window{pref.size, std::max<std::uint64_t>(pref.largest, 1), false};
  // above 4 GiB: after RAM (and the memory hot-plug area), on 1 GiB boundaries
  std::uint64_t base0 = 4 * gib + above;
  if (memory.maxmem > ram) {
    const std::uint64_t device_memory = align_up(4 * gib + above, gib) + (memory.maxmem - ram) + memory.slots * gib;
    base0 = std::max(base0, align_up(device_memory, gib));
  }
  out.hole64_start = align_up(base0, gib);
  // OVMF: each root bridge's block rounded up to a power of two, the blocks packed largest
  // first; with a window above 32 GiB every hot-pluggable port is padded with 1/256 of it
  const auto ovmf_need = [&](std::uint64_t padding) {
    std::uint64_t total = 0;
    for (std::size_t r = 0; r != n; ++r) {
      const std::uint64_t b =
          block_pow2[r] == 0 ? 0 : add_saturated(block_pow2[r], block_ports[r] * padding);  // ports < 2^16
      if (b != 0) total = add_saturated(total, ceil_pow2(b));
    }
    return total;
  };
  if (ovmf_need(0) > ovmf_default_window64) {
    std::uint64_t window64 = 2 * ovmf_default_window64;
    while (ovmf_need(ceil_pow2(window64 / 256)) > window64 && window64 < (1ull << 52)) window64 *= 2;
    out.ovmf_window64 = window64;
    out.ovmf_base64 = align_up(out.hole64_start, window64);
  }
  if (out.above_4g) {
    out.mem64_base = align_up(align_up(base0, out.mem64.align), gib);
    out.pref64_base = align_up(align_up(out.mem64_base + out.mem64.size, out.pref64.align), gib);
    out.end64 = out.pref64.size != 0 ? out.pref64_base + out.pref64.size : out.mem64_base + out.mem64.size;
    out.hole64_needed = out.end64 > out.hole64_start ? out.end64 - out.hole64_start : 0;
  }
  return out;
}

}  // namespace pciplan::inline v0

#endif  // PCIPLAN_TOPOLOGY_MEMORY_WINDOWS_HPP
