// pciplan — emit/tree.hpp: a plan drawn as a tree, in the spirit of `lspci -tv`.
//
//   -[0000:00]-  pcie.0 pcie-root
//    +-01.0-[01]  pci.1 pcie-root-port
//    |   \-00.0  net0 virtio-net-pci
//    +-01.1-[02-03]  pci.2 pcie-root-port
//    |   \-00.0-[03]  pci.3 pcie-pci-bridge
//    |       \-01.0  legacy0 e1000
//    \-1e.0  scratch virtio-blk-pci
//   virtio-mmio:
//     virtio-mmio-bus.31  m0 virtio-blk-device
//
// Bus numbers are the guest's, as firmware assigns them (depth first).
#ifndef PCIPLAN_EMIT_TREE_HPP
#define PCIPLAN_EMIT_TREE_HPP

#include <pciplan/vocabulary/address.hpp>
#include <pciplan/topology/controller.hpp>
#include <pciplan/kinds/controller_kinds.hpp>
#include <pciplan/detail/config.hpp>
#include <pciplan/emit/detail/emit_text.hpp>
#include <pciplan/topology/topology_plan.hpp>
#include <pciplan/topology/request.hpp>
#include <pciplan/topology/topology_view.hpp>
#include <pciplan/topology/memory_windows.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pciplan::inline v0 {

/// The plan as a text tree, one line per controller and device, like `lspci -tv`:
///  - one tree per root bus, headed `-[dddd:bb]-  <name> <device>`: the main root
///    (named after its bus, `pcie.0` or `pci.0`), then each further pseries PHB
///    (`pci.N`) in its own PCI domain;
///  - below it, sorted by slot.function, each controller as
///    `ss.f-[bb]  pci.N <qemu device>` — `[bb]` its secondary bus, `[bb-ss]` when buses
///    lie below it (an expander's range starts at its own root bus, busNr) — followed
///    by what sits on its bus, and each device as `ss.f  <name> <qemu device>`;
///  - ` index=`, ` numa_node=` and ` hotplug=off` after a controller when they are set;
///  - then `virtio-mmio:` and `ccw:` sections, by transport, and `not attached:` for
///    anything no root reaches (only possible with a hand-made controller list).
/// Bus numbers are guest bus numbers in hexadecimal. `requests` must be the list the
/// plan was made from (it supplies the device names). Deterministic: the same plan
/// always gives the same text.
[[nodiscard]] PCIPLAN_DETAIL_INLINE std::string tree(const topology_plan& plan);

/// What `tree` shows besides the buses and devices.
struct tree_options {
  /// After each bridge, port and pxb: its memory windows as firmware sizes them
  /// (memory_windows; the guest's RAM does not change them), those that are not empty:
  /// `  windows: io 4K, mem 2M, pref64 16G` (`pref32` when the prefetchable window is
  /// 32-bit only).
  bool windows = false;
};

/// The plan as a text tree (see above), with what `options` asks for.
[[nodiscard]] PCIPLAN_DETAIL_INLINE std::string tree(const topology_plan& plan, const tree_options& options);

#if PCIPLAN_DETAIL_BODIES
namespace detail {

/// Draws one plan: the bus tree of each root, then the non-PCI transports.
class tree_writer {
 public:
  tree_writer(const topology_plan& plan, const tree_options& options) : plan_(plan), view_(plan.controllers) {
    const std::size_t n = plan.controllers.size();
    if (options.windows) memory_ = memory_windows(plan);
    children_.resize(n);
    drawn_.assign(n, false);
    use_ = bus_use_of(plan, view_);
    for (std::size_t i = 0; i != n; ++i) {
      const controller& c = plan.controllers[i];
      const std::size_t parent = view_.parent_of(i);
      if (parent == no_position) continue;
      children_[parent].push_back({c.libvirt_address.slot, c.libvirt_address.function, true, i});
    }
    for (std::size_t i = 0; i != plan.placements.size(); ++i) {
      const placement& p = plan.placements[i];
      if (p.kind != placement_kind::pci) continue;
      const std::size_t parent = view_.position_of(p.libvirt_address.bus);
      if (parent == no_position) {
        unattached_devices_.push_back(i);
        continue;
      }
      children_[parent].push_back({p.guest_address.slot, p.guest_address.function, false, i});
    }
    for (auto& list : children_) {
      std::stable_sort(list.begin(), list.end(), [](const child& a, const child& b) {
        return a.slot != b.slot ? a.slot < b.slot : a.function < b.function;
      });
    }
  }

  [[nodiscard]] std::string draw() {
    // Each root bus is a tree: the main root first, then further roots by domain.
    std::vector<std::size_t> roots;
    for (std::size_t i = 0; i != plan_.controllers.size(); ++i) {
      const controller& c = plan_.controllers[i];
      if (!c.has_address && c.kind != nullptr && c.kind->is_root()) roots.push_back(i);
    }
    std::stable_sort(roots.begin(), roots.end(), [&](std::size_t a, std::size_t b) {
      const controller& x = plan_.controllers[a];
      const controller& y = plan_.controllers[b];
      return x.domain != y.domain ? x.domain < y.domain : x.index < y.index;
    });
    for (std::size_t r : roots) draw_root(r);
    // Whatever no root reaches: address-less non-roots, unknown parents, cycles.
    bool header = false;
    for (std::size_t i = 0; i != plan_.controllers.size(); ++i) {
      if (drawn_[i]) continue;
      if (!header) out_ += "not attached:\n";
      header = true;
      draw_controller(i, "  ", "  ");
    }
    for (std::size_t i : unattached_devices_) {
      if (!header) out_ += "not attached:\n";
      header = true;
      out_ += "  ";
      device_label(plan_.placements[i]);
    }
    section(placement_kind::mmio, "virtio-mmio:\n");
    section(placement_kind::ccw, "ccw:\n");
    return std::move(out_);
  }

 private:
  struct child {
    unsigned slot = 0;
    unsigned function = 0;
    bool is_controller = false;
    std::size_t which = 0;  // into plan.controllers or plan.placements
  };

  void slot_text(unsigned slot, unsigned function) {
    append_hex(out_, slot, 2);
    out_ += '.';
    append_hex(out_, function);
  }

  void attributes(const controller& c) {
    if (c.kind != nullptr && c.kind->role == controller_role::extra_root && c.target_index >= 0) {
      out_ += " index=" + std::to_string(c.target_index);
    }
    if (c.numa_node >= 0) out_ += " numa_node=" + std::to_string(c.numa_node);
    if (c.hotplug == toggle::off) out_ += " hotplug=off";
  }

  /// `  windows: io 4K, mem 2M, pref64 16G` for controller i, when asked and not all empty.
  void windows(std::size_t i) {
    if (i >= memory_.windows.size() || !memory_.windows[i].bridge) return;
    const bridge_windows& w = memory_.windows[i];
    if (w.io.size == 0 && w.mem.size == 0 && w.pref.size == 0) return;
    out_ += "  windows:";
    const char* comma = "";
    const auto one = [&](const char* name, std::uint64_t size) {
      if (size == 0) return;
      out_ += comma;
      out_ += ' ';
      out_ += name;
      out_ += ' ';
      append_size(out_, size);
      comma = ",";
    };
    one("io", w.io.size);
    one("mem", w.mem.size);
    one(w.pref.is64 ? "pref64" : "pref32", w.pref.size);
  }

  [[nodiscard]] static std::string_view device_of(const controller& c) {
    const std::string_view d = c.qemu_device();
    return d.empty() && c.kind != nullptr ? c.kind->model : d;
  }

  void draw_root(std::size_t i) {
    const controller& c = plan_.controllers[i];
    drawn_[i] = true;
    out_ += "-[";
    append_hex(out_, c.domain, 4);
    out_ += ':';
    append_hex(out_, c.guest_bus.value, 2);
    out_ += "]-  ";
    out_ += c.index.value == 0 ? bus_id(view_, c.index) : controller_id(c);
    out_ += ' ';
    out_ += device_of(c);
    attributes(c);
    out_ += '\n';
    draw_children(i, "");
  }

  /// `ss.f-[bb]  pci.N device` (or `[bb-ss]` when buses lie below), then its children.
  void draw_controller(std::size_t i, const std::string& first, const std::string& rest) {
    const controller& c = plan_.controllers[i];
    drawn_[i] = true;
    out_ += first;
    if (c.has_address) {
      slot_text(c.libvirt_address.slot, c.libvirt_address.function);
      out_ += '-';
    }
    const unsigned low = (c.kind != nullptr && c.kind->role == controller_role::expander && c.bus_nr >= 0)
                             ? static_cast<unsigned>(c.bus_nr)
                             : c.guest_bus.value;
    const unsigned high = std::max(low, use_.last_bus[i]);
    out_ += '[';
    append_hex(out_, low, 2);
    if (high != low) {
      out_ += '-';
      append_hex(out_, high, 2);
    }
    out_ += "]  ";
    out_ += controller_id(c);
    out_ += ' ';
    out_ += device_of(c);
    attributes(c);
    windows(i);
    out_ += '\n';
    draw_children(i, rest);
  }

  void device_label(const placement& p) {
    slot_text(p.guest_address.slot, p.guest_address.function);
    out_ += "  ";
    name_and_device(p);
  }

  /// `<name> <qemu device>`; the device is left out when the request is unknown.
  void name_and_device(const placement& p) {
    out_ += p.name;
    const std::string driver = device_driver(p);
    if (!driver.empty()) out_ += ' ' + driver;
    out_ += '\n';
  }

  void draw_children(std::size_t i, const std::string& prefix) {
    const std::vector<child>& list = children_[i];
    for (std::size_t k = 0; k != list.size(); ++k) {
      const child& c = list[k];
      const bool last = k + 1 == list.size();
      if (c.is_controller) {
        if (drawn_[c.which]) continue;  // a cycle in a hand-made list
        draw_controller(c.which, prefix + (last ? " \\-" : " +-"), prefix + (last ? "    " : " |  "));
      } else {
        out_ += prefix + (last ? " \\-" : " +-");
        device_label(plan_.placements[c.which]);
      }
    }
  }

  void section(placement_kind kind, std::string_view header) {
    std::vector<const placement*> list;
    for (const placement& p : plan_.placements) {
      if (p.kind == kind) list.push_back(&p);
    }
    if (list.empty()) return;
    std::stable_sort(list.begin(), list.end(),
                     [](const placement* a, const placement* b) { return a->transport < b->transport; });
    out_ += header;
    for (const placement* p : list) {
      out_ += "  ";
      out_ += kind == placement_kind::mmio ? mmio_bus(*p) : ccw_devno(*p);
      out_ += "  ";
      name_and_device(*p);
    }
  }

  const topology_plan& plan_;
  topology_view view_;                              // controller index -> position, parents
  std::vector<std::vector<child>> children_;        // per controller: what sits on its bus
  std::vector<std::size_t> unattached_devices_;     // PCI placements on an unknown bus
  std::vector<bool> drawn_;
  bus_use use_;                                     // subordinate bus per controller
  memory_layout memory_{};                          // the windows, when asked for
  std::string out_;
};

}  // namespace detail

PCIPLAN_DETAIL_INLINE std::string tree(const topology_plan& plan) { return tree(plan, tree_options{}); }

PCIPLAN_DETAIL_INLINE std::string tree(const topology_plan& plan, const tree_options& options) {
  return detail::tree_writer(plan, options).draw();
}
#endif

}  // namespace pciplan::inline v0

#endif  // PCIPLAN_EMIT_TREE_HPP
