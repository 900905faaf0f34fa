// pciplan — emit/qemu.hpp: a plan as QEMU command-line arguments.
//
//   for (const std::string& a : qemu_arguments(*plan)) std::cout << a << '\n';
//   // -device pcie-root-port,port=0x10,chassis=1,id=pci.1,bus=pcie.0,multifunction=on,addr=0x2
//   // -device virtio-net-pci,id=net0,bus=pci.1,addr=0x0
//
// Names and key order follow libvirt's QEMU command line (RULES.md L1.4): the
// controller with index N is `pci.N`, the root bus is `pcie.0` or `pci.0`, a further
// pseries PHB's bus is `pci.N.0`. Only the addressing part of each device is written:
// backends (netdev=, drive=, chardev=) and other device properties are the caller's.
#ifndef PCIPLAN_EMIT_QEMU_HPP
#define PCIPLAN_EMIT_QEMU_HPP

#include <pciplan/vocabulary/address.hpp>
#include <pciplan/topology/controller.hpp>
#include <pciplan/kinds/controller_kinds.hpp>
#include <pciplan/detail/config.hpp>
#include <pciplan/detail/report.hpp>
#include <pciplan/emit/detail/emit_text.hpp>
#include <pciplan/kinds/machine_types.hpp>
#include <pciplan/vocabulary/numbering.hpp>
#include <pciplan/topology/topology_plan.hpp>
#include <pciplan/topology/request.hpp>
#include <pciplan/topology/topology_view.hpp>
#include <pciplan/topology/memory_windows.hpp>
#include <pciplan/kinds/device_bars.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pciplan::inline v0 {

/// How `-device` arguments are spelled.
enum class qemu_syntax : unsigned char {
  classic,  ///< `-device pcie-root-port,port=0x10,chassis=1,id=pci.1,…` (commas in values doubled)
  json,     ///< `-device {"driver":"pcie-root-port","port":16,"chassis":1,"id":"pci.1",…}`
            ///< (QEMU 6.0 and later; what libvirt 9 uses)
};

/// Options of qemu_arguments.
struct qemu_options {
  qemu_syntax syntax = qemu_syntax::classic;  ///< how `-device` arguments are spelled
};

/// The QEMU arguments that build the plan's topology, one string per `-device` pair:
///  - first every controller except the root bus, by index but always after the
///    controller it plugs into, as `-device <model>,<numbering>,id=pci.N,…,bus=…,addr=…`.
///    Numbering in libvirt's order: `port=0x<port>,chassis=<n>` (root and downstream
///    ports), `chassis_nr=<n>` (pci-bridge), `bus_nr=<n>` (pxb, pxb-pcie), `index=<n>`
///    (a further pseries PHB, which has no bus= or addr=); after the id `numa_node=<n>`
///    (expanders, PHBs), `hotplug=off` (ports with hotplug off), `io-reserve=0`
///    (pcie-root-port with io_reserve_zero), the window reserves (`io-reserve=`,
///    `mem-reserve=`, `pref64-reserve=` or `pref32-reserve=`: controller::reserves, on
///    pcie-root-port and pci-bridge);
///  - then every placement in request order: `-device <qemu device>,id=<name>,bus=…,addr=…`
///    (PCI), `…,id=<name>,bus=virtio-mmio-bus.<N>` with the virtio-mmio device
///    (virtio-mmio), or `…,id=<name>,devno=fe.0.<xxxx>` with the `-ccw` device (s390x).
/// `addr=0xS` for function 0, `addr=0xS.0xF` otherwise; `multifunction=on` on function 0
/// of a shared slot. A placement at a position where the machine has a device of its own
/// (q35's ICH9 SATA at 00:1f.2, pc's PIIX3 IDE at 00:01.1: `plan.is_built_in`) is that
/// device, and gets no -device (QEMU would refuse a second one). Hotplug off on the root bus is a machine setting, not a -device: on pc
/// add `-global PIIX4_PM.acpi-root-pci-hotplug=off` yourself.
/// Precondition: `plan.qemu_can_build()` (a libvirt answer QEMU cannot build has no
/// arguments); otherwise std::invalid_argument.
[[nodiscard]] PCIPLAN_DETAIL_INLINE std::vector<std::string> qemu_arguments(const topology_plan& plan,
                                                                            const qemu_options& options = {});

/// The QEMU arguments for `nodes` guest NUMA nodes, so that expanders and PHBs with
/// `numa_node=` are accepted:
///   -object memory-backend-ram,id=ram-node0,size=RAM_SIZE (ram_size)
///   -numa node,nodeid=0,memdev=ram-node0
///   -numa node,nodeid=1            (and so on: memory-less nodes)
/// QEMU 7.2 refuses `-numa node` lines that give no memory at all ("total memory for
/// NUMA nodes (0x0) should equal RAM size"), so node 0 owns all guest RAM through one
/// memory backend. `ram_size` must equal the guest's `-m` (QEMU's default is 128M).
/// Nothing for 0 nodes. Always classic syntax (`-numa` takes no JSON).
[[nodiscard]] PCIPLAN_DETAIL_INLINE std::vector<std::string> qemu_numa_arguments(unsigned nodes,
                                                                                 std::string_view ram_size = "128M");

/// The same for the NUMA nodes a plan binds its expanders to (plan.numa_nodes()).
[[nodiscard]] PCIPLAN_DETAIL_INLINE std::vector<std::string> qemu_numa_arguments(const topology_plan& plan,
                                                                                 std::string_view ram_size = "128M");

/// QEMU's 64-bit PCI hole on q35 by default (q35-pcihost's pci-hole64-size): 32 GiB.
inline constexpr std::uint64_t q35_hole64_default = std::uint64_t{32} << 30;
/// QEMU's 64-bit PCI hole on pc by default (i440FX-pcihost's pci-hole64-size): 2 GiB.
inline constexpr std::uint64_t pc_hole64_default = std::uint64_t{2} << 30;

/// The QEMU arguments for the plan's memory windows (topology/memory_windows.hpp) in a
/// guest with `memory`: `-global q35-pcihost.pci-hole64-size=64G` (the size in GiB; on
/// pc `-global i440FX-pcihost.pci-hole64-size=…`) when what firmware places above 4 GiB needs more than QEMU's
/// default hole, so that the guest's ACPI tables describe it all; and
/// `-fw_cfg name=opt/ovmf/X-PciMmio64Mb,string=131072` (MiB) when OVMF's default 64-bit
/// window may be too small for the plan (memory_layout::ovmf_window64; SeaBIOS ignores
/// it). Nothing otherwise, and nothing for other machine types.
[[nodiscard]] PCIPLAN_DETAIL_INLINE std::vector<std::string> qemu_memory_arguments(const topology_plan& plan,
                                                                                   const guest_memory& memory = {});

#if PCIPLAN_DETAIL_BODIES
namespace detail {

/// One `-device` argument, built key by key in either syntax.
class qemu_device_line {
 public:
  qemu_device_line(qemu_syntax syntax, std::string_view driver) : json_(syntax == qemu_syntax::json) {
    text_ = "-device ";
    if (json_) {
      text_ += "{\"driver\":";
      append_json_string(text_, driver);
    } else {
      append_classic(driver);
    }
  }
  qemu_device_line& text(std::string_view key, std::string_view value) {
    begin(key);
    if (json_) append_json_string(text_, value);
    else append_classic(value);
    return *this;
  }
  /// A number: decimal in JSON; in classic syntax hexadecimal (`0x10`) when `hex`.
  qemu_device_line& number(std::string_view key, long long value, bool hex = false) {
    begin(key);
    if (!json_ && hex && value >= 0) {
      text_ += "0x";
      append_hex(text_, static_cast<unsigned long long>(value));
    } else {
      text_ += std::to_string(value);
    }
    return *this;
  }
  /// A size in bytes: in classic syntax with QEMU's suffix when it divides evenly
  /// (`16G`, `2M`, `4K`), in JSON a number of bytes.
  qemu_device_line& size(std::string_view key, std::uint64_t bytes) {
    begin(key);
    if (json_) text_ += std::to_string(bytes);
    else append_size(text_, bytes);
    return *this;
  }
  /// A boolean: `on`/`off` in classic syntax, `true`/`false` in JSON.
  qemu_device_line& flag(std::string_view key, bool value) {
    begin(key);
    text_ += json_ ? (value ? "true" : "false") : (value ? "on" : "off");
    return *this;
  }
  /// `bus=`, `multifunction=on` when asked, and `addr=0xS` or `addr=0xS.0xF`.
  qemu_device_line& address(std::string_view bus, unsigned slot, unsigned function, bool multifunction) {
    text("bus", bus);
    if (multifunction) flag("multifunction", true);
    std::string addr = "0x";
    append_hex(addr, slot);
    if (function != 0) {
      addr += ".0x";
      append_hex(addr, function);
    }
    return text("addr", addr);
  }
  [[nodiscard]] std::string done() {
    if (json_) text_ += '}';
    return std::move(text_);
  }

 private:
  void begin(std::string_view key) {
    if (json_) {
      text_ += ',';
      append_json_string(text_, key);
      text_ += ':';
    } else {
      text_ += ',';
      text_ += key;
      text_ += '=';
    }
  }
  /// QemuOpts quoting: a comma inside a value is written twice.
  void append_classic(std::string_view value) {
    for (char c : value) {
      text_ += c;
      if (c == ',') text_ += ',';
    }
  }

  std::string text_;
  bool json_ = false;
};

/// Whether controller `c` needs a `-device`: every controller except the root bus (index
/// 0, and pseries' default PHB, target index 0).
[[nodiscard]] inline bool emits_device(const controller& c) noexcept {
  if (c.index.value == 0 || c.kind == nullptr) return false;
  if (c.kind->role == controller_role::root) return false;
  if (c.kind->role == controller_role::extra_root) return c.target_index != 0;
  return true;
}

/// The controllers in an order QEMU accepts: by index, except that a controller always
/// comes after the controller whose bus it sits on (a given list may number a parent
/// above its child). Cycles and unknown parents cannot stop it: such a controller comes
/// at its index.
[[nodiscard]] inline std::vector<const controller*> parent_first(const topology_view& view) {
  const std::span<const controller> list = view.controllers();
  std::vector<std::size_t> by_index(list.size());
  for (std::size_t i = 0; i != list.size(); ++i) by_index[i] = i;
  std::stable_sort(by_index.begin(), by_index.end(),
                   [&](std::size_t a, std::size_t b) { return list[a].index < list[b].index; });
  std::vector<const controller*> out;
  out.reserve(list.size());
  std::vector<unsigned char> state(list.size(), 0);  // by position: 0 new, 1 on the path, 2 placed
  std::vector<std::size_t> path;
  for (const std::size_t i : by_index) {
    // Walk up to the first ancestor not yet placed, then place the chain top-down.
    path.clear();
    std::size_t at = i;
    while (at != no_position && state[at] == 0) {
      state[at] = 1;
      path.push_back(at);
      at = view.parent_of(at);
    }
    for (auto it = path.rbegin(); it != path.rend(); ++it) {
      state[*it] = 2;
      out.push_back(&list[*it]);
    }
  }
  return out;
}

/// The `-device` argument of a controller (see qemu_arguments).
[[nodiscard]] inline std::string controller_argument(const topology_view& view, const controller& c,
                                                     qemu_syntax syntax) {
  const controller_descriptor& k = *c.kind;
  const std::string_view device = c.qemu_device();
  qemu_device_line line(syntax, device);
  if (k.numbered_by.has(numbering::port) && c.port >= 0) line.number(qemu_name_of(numbering::port), c.port, true);
  if (k.numbered_by.has(numbering::chassis) && c.chassis >= 0) line.number(qemu_name_of(numbering::chassis), c.chassis);
  if (k.numbered_by.has(numbering::chassis_nr) && c.chassis_nr >= 0) {
    line.number(qemu_name_of(numbering::chassis_nr), c.chassis_nr);
  }
  if (k.numbered_by.has(numbering::bus_nr) && c.bus_nr >= 0) line.number(qemu_name_of(numbering::bus_nr), c.bus_nr);
  if (k.numbered_by.has(numbering::target_index) && c.target_index >= 0) {
    line.number(qemu_name_of(numbering::target_index), c.target_index);
  }
  line.text("id", controller_id(c));
  if (k.numa_node && c.numa_node >= 0) line.number("numa_node", c.numa_node);
  if (k.role == controller_role::port && c.hotplug == toggle::off) line.flag("hotplug", false);
  if (takes_reserves(device)) {
    if (c.reserves.io != 0) line.size("io-reserve", c.reserves.io);
    else if (c.io_reserve_zero && device == "pcie-root-port") line.number("io-reserve", 0);
    if (c.reserves.mem != 0) line.size("mem-reserve", c.reserves.mem);
    if (c.reserves.pref64 != 0) line.size("pref64-reserve", c.reserves.pref64);
    else if (c.reserves.pref32 != 0) line.size("pref32-reserve", c.reserves.pref32);
  }
  if (c.has_address) {
    line.address(bus_id(view, c.libvirt_address.bus), c.libvirt_address.slot, c.libvirt_address.function,
                 c.multifunction == toggle::on);
  }
  return line.done();
}

/// The `-device` argument of a placement (see qemu_arguments).
[[nodiscard]] inline std::string placement_argument(const topology_view& view, const placement& p,
                                                    qemu_syntax syntax) {
  qemu_device_line line(syntax, device_driver(p));
  line.text("id", p.name);
  switch (p.kind) {
    case placement_kind::pci:
      line.address(bus_id(view, p.libvirt_address.bus), p.libvirt_address.slot, p.libvirt_address.function,
                   p.multifunction);
      break;
    case placement_kind::mmio: line.text("bus", mmio_bus(p)); break;
    case placement_kind::ccw: line.text("devno", ccw_devno(p)); break;
  }
  return line.done();
}

}  // namespace detail

PCIPLAN_DETAIL_INLINE std::vector<std::string> qemu_arguments(const topology_plan& plan,
                                                              const qemu_options& options) {
  detail::expects(plan.qemu_can_build(),
                  "pciplan::qemu_arguments: the plan is a libvirt answer that QEMU cannot build (its warning says why)");
  std::vector<std::string> out;
  out.reserve(plan.controllers.size() + plan.placements.size());
  const topology_view view(plan.controllers);
  for (const controller* c : detail::parent_first(view)) {
    if (detail::emits_device(*c)) out.push_back(detail::controller_argument(view, *c, options.syntax));
  }
  for (const placement& p : plan.placements) {
    if (!plan.is_built_in(p)) out.push_back(detail::placement_argument(view, p, options.syntax));
  }
  return out;
}

PCIPLAN_DETAIL_INLINE std::vector<std::string> qemu_numa_arguments(unsigned nodes, std::string_view ram_size) {
  std::vector<std::string> out;
  if (nodes == 0) return out;
  out.push_back("-object memory-backend-ram,id=ram-node0,size=" + std::string(ram_size));
  out.emplace_back("-numa node,nodeid=0,memdev=ram-node0");
  for (unsigned n = 1; n < nodes; ++n) out.push_back("-numa node,nodeid=" + std::to_string(n));
  return out;
}

PCIPLAN_DETAIL_INLINE std::vector<std::string> qemu_numa_arguments(const topology_plan& plan,
                                                                   std::string_view ram_size) {
  return qemu_numa_arguments(plan.numa_nodes(), ram_size);
}

PCIPLAN_DETAIL_INLINE std::vector<std::string> qemu_memory_arguments(const topology_plan& plan,
                                                                     const guest_memory& memory) {
  std::vector<std::string> out;
  const memory_layout m = memory_windows(plan, memory);
  if (!m.x86) return out;
  const bool q35 = plan.machine == "q35";
  const std::uint64_t gib = std::uint64_t{1} << 30;
  if (m.hole64_needed > (q35 ? q35_hole64_default : pc_hole64_default)) {
    out.push_back(std::string("-global ") + (q35 ? "q35-pcihost" : "i440FX-pcihost") +
                  ".pci-hole64-size=" + std::to_string((m.hole64_needed + gib - 1) / gib) + "G");
  }
  if (m.ovmf_window64 != 0) {
    out.push_back("-fw_cfg name=opt/ovmf/X-PciMmio64Mb,string=" + std::to_string(m.ovmf_window64 >> 20));
  }
  return out;
}
#endif

}  // namespace pciplan::inline v0

#endif  // PCIPLAN_EMIT_QEMU_HPP
