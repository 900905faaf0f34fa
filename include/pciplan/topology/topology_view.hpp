// pciplan — topology/topology_view.hpp: one way to walk a topology — which controller
// has an index, which bus each one sits on, and the guest bus numbers firmware gives.
//
//   const topology_view view(plan.controllers);
//   const controller* parent = view.find(c.libvirt_address.bus);
//   const bus_numbering numbers = view.number_buses();   // as SeaBIOS numbers them
//
// Firmware numbers buses depth first: each root bus is bus 0 of its PCI domain; walking
// its slots in devfn order, every bridge or port takes the next number for its
// secondary bus and numbers everything below it before its next sibling. Expander buses
// (pxb, pxb-pcie) are not numbered from their parent: each starts at its own busNr and
// the buses below it follow. `number_buses` does this for any list of `bus_node`s, so
// the planner, the compile-time layouts and the validator share it.
#ifndef PCIPLAN_TOPOLOGY_TOPOLOGY_VIEW_HPP
#define PCIPLAN_TOPOLOGY_TOPOLOGY_VIEW_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/detail/vectors.hpp>
#include <pciplan/kinds/controller_kinds.hpp>
#include <pciplan/topology/controller.hpp>
#include <pciplan/vocabulary/address.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace pciplan::inline v0 {

/// "No such node" for positions in a topology.
inline constexpr std::size_t no_position = static_cast<std::size_t>(-1);

/// One bus-providing device as firmware sees it: a root, a bridge or port, an expander.
struct bus_node {
  std::size_t parent = no_position;  ///< the node whose bus it sits on; no_position for roots
  unsigned devfn = 0;                ///< its slot * 8 + function on that bus
  bool root = false;                 ///< a root bus: bus 0 of `domain`
  bool expander = false;             ///< numbered from `first_bus`, not in its parent's hierarchy
  unsigned first_bus = 0;            ///< expanders: their busNr (QEMU bus_nr)
  unsigned bus_numbers = 1;          ///< numbers it takes itself (a pxb: 2, its root bus and internal bridge)
  unsigned reserve = 0;              ///< QEMU bus-reserve: numbers kept for its secondary side
  std::uint16_t domain = 0;          ///< roots: their PCI domain
};

/// What `number_buses` gives, by node position.
struct bus_numbering {
  std::vector<unsigned> bus;                ///< the guest bus number of its (secondary) bus; may exceed 255
  std::vector<unsigned> last;               ///< the highest bus number at or below it (its subordinate bus)
  std::vector<std::uint16_t> domain;        ///< the PCI domain it is in
  std::vector<unsigned char> numbered;      ///< reached from a root (else: no numbers, as firmware leaves it)
  /// A hierarchy reaches past 255, or into the busNr range of the next expander of its
  /// root (the main hierarchy: of the first one): firmware leaves such buses unprogrammed.
  bool overflow = false;
};

/// Numbers the buses of `nodes` as firmware does (see the top of this header).
[[nodiscard]] constexpr bus_numbering number_buses(std::span<const bus_node> nodes) {
  const std::size_t n = nodes.size();
  bus_numbering out;
  detail::refill(out.bus, n, 0u);
  detail::refill(out.last, n, 0u);
  detail::refill(out.domain, n, std::uint16_t{0});
  detail::refill(out.numbered, n, static_cast<unsigned char>(0));
  // the children of each node in devfn order (stable for equal devfns), as one list:
  // kids[start[p], start[p + 1]) are p's children. One buffer holds start, kids and the
  // fill positions; each node's children are gathered in node order, then sorted by
  // devfn with an insertion sort (stable; planned lists are in devfn order already, and a
  // bus has at most 256 children).
  std::vector<std::size_t> work = detail::filled(3 * n + 2, std::size_t{0});
  const std::size_t kids_at = n + 1;
  const std::size_t fill_at = 2 * n + 1;
  const auto start = [&](std::size_t p) -> std::size_t& { return work[p]; };
  const auto kid = [&](std::size_t k) -> std::size_t& { return work[kids_at + k]; };
  for (const bus_node& x : nodes) {
    if (x.parent < n) ++start(x.parent + 1);
  }
  for (std::size_t p = 0; p != n; ++p) start(p + 1) += start(p);
  for (std::size_t p = 0; p != n; ++p) work[fill_at + p] = start(p);
  for (std::size_t i = 0; i != n; ++i) {
    if (nodes[i].parent < n) kid(work[fill_at + nodes[i].parent]++) = i;
  }
  for (std::size_t p = 0; p != n; ++p) {
    for (std::size_t k = start(p) + 1; k < start(p + 1); ++k) {
      const std::size_t x = kid(k);
      const unsigned devfn = nodes[x].devfn & 0xffu;
      std::size_t j = k;
      for (; j != start(p) && (nodes[kid(j - 1)].devfn & 0xffu) > devfn; --j) kid(j) = kid(j - 1);
      kid(j) = x;
    }
  }
  // depth first from `top`, whose own bus is `bus`; `next` is the next free number
  struct frame {
    std::size_t node;
    std::size_t child;  // the next child to visit, as an offset into kids
  };
  std::vector<frame> stack;
  const auto walk = [&](std::size_t top, unsigned& next) {
    stack.clear();
    stack.push_back(frame{top, start(top)});
    while (!stack.empty()) {
      frame& f = stack.back();
      if (f.child == start(f.node + 1)) {
        const std::size_t done = f.node;
        stack.pop_back();
        // bus-reserve keeps numbers for the secondary side, used or not
        const unsigned kept = out.bus[done] + nodes[done].reserve;
        if (done != top && next <= kept) next = kept + 1;
        out.last[done] = next - 1 > out.bus[done] ? next - 1 : out.bus[done];
        continue;
      }
      const std::size_t k = kid(f.child++);
      out.domain[k] = out.domain[top];
      if (nodes[k].expander || nodes[k].root || out.numbered[k] != 0) continue;  // numbered on their own
      out.numbered[k] = 1;
      out.bus[k] = next++;
      stack.push_back(frame{k, start(k)});
    }
  };
  for (std::size_t r = 0; r != n; ++r) {
    if (!nodes[r].root) continue;
    out.numbered[r] = 1;
    out.domain[r] = nodes[r].domain;
    out.bus[r] = 0;
    // the expanders on this root, by busNr: each range ends where the next begins
    std::vector<std::size_t> expanders;
    for (std::size_t k = start(r); k != start(r + 1); ++k) {
      if (nodes[kid(k)].expander) expanders.push_back(kid(k));
    }
    for (std::size_t i = 1; i < expanders.size(); ++i) {  // by busNr, stable (an insertion sort: few)
      for (std::size_t j = i; j != 0 && nodes[expanders[j - 1]].first_bus > nodes[expanders[j]].first_bus; --j) {
        std::swap(expanders[j - 1], expanders[j]);
      }
    }
    unsigned next = 1;
    walk(r, next);
    const unsigned first_expander = expanders.empty() ? 256u : std::max(nodes[expanders.front()].first_bus, 1u);
    if (out.last[r] >= first_expander) out.overflow = true;
    for (std::size_t e = 0; e != expanders.size(); ++e) {
      const std::size_t x = expanders[e];
      const unsigned limit = e + 1 < expanders.size() ? nodes[expanders[e + 1]].first_bus : 256u;
      out.numbered[x] = 1;
      out.domain[x] = out.domain[r];
      out.bus[x] = nodes[x].first_bus + nodes[x].bus_numbers - 1u;
      next = out.bus[x] + 1;
      walk(x, next);
      if (out.last[x] >= limit) out.overflow = true;
    }
  }
  return out;
}

/// A controller list seen as a tree: lookups by controller index, the parent of each
/// controller, and the bus numbers firmware gives. Holds a view of the list: keep the
/// list alive and unchanged while the view is used.
class topology_view {
 public:
  /// A view of `controllers`; of controllers that share an index, the first one counts.
  constexpr explicit topology_view(std::span<const controller> controllers) : controllers_(controllers) {
    std::size_t highest = 0;
    for (const controller& c : controllers) highest = std::max<std::size_t>(highest, c.index.value);
    detail::refill(position_, controllers.empty() ? 0 : highest + 1, no_position);
    for (std::size_t i = 0; i != controllers.size(); ++i) {
      std::size_t& at = position_[controllers[i].index.value];
      if (at == no_position) at = i;  // a hand-made list may repeat an index: the first one counts
    }
  }

  /// The controller list the view was made from.
  [[nodiscard]] constexpr std::span<const controller> controllers() const noexcept { return controllers_; }
  /// How many controllers the list holds.
  [[nodiscard]] constexpr std::size_t size() const noexcept { return controllers_.size(); }

  /// The position in the list of the controller with this index, or no_position.
  [[nodiscard]] constexpr std::size_t position_of(controller_index index) const noexcept {
    return index.value < position_.size() ? position_[index.value] : no_position;
  }
  /// The controller with this index, or nullptr.
  [[nodiscard]] constexpr const controller* find(controller_index index) const noexcept {
    const std::size_t at = position_of(index);
    return at == no_position ? nullptr : &controllers_[at];
  }
  /// The position of the controller whose bus the one at `position` sits on, or
  /// no_position (a root, no address, an unknown parent, or itself).
  [[nodiscard]] constexpr std::size_t parent_of(std::size_t position) const noexcept {
    const controller& c = controllers_[position];
    if (!c.has_address) return no_position;
    const std::size_t at = position_of(c.libvirt_address.bus);
    return at == position ? no_position : at;
  }

  /// Each controller as firmware sees it (by position).
  [[nodiscard]] constexpr std::vector<bus_node> nodes() const {
    std::vector<bus_node> out;
    out.reserve(controllers_.size());
    for (std::size_t i = 0; i != controllers_.size(); ++i) {
      const controller& c = controllers_[i];
      bus_node x{};
      x.parent = parent_of(i);
      x.devfn = c.libvirt_address.devfn();
      if (c.kind != nullptr) {
        x.root = c.kind->is_root() && !c.has_address;
        x.expander = c.kind->role == controller_role::expander;
        x.bus_numbers = c.kind->bus_numbers;
        if (c.kind->role == controller_role::extra_root && c.target_index > 0) {
          x.domain = static_cast<std::uint16_t>(c.target_index);
        }
      }
      x.first_bus = c.bus_nr < 0 ? 0u : static_cast<unsigned>(c.bus_nr);
      out.push_back(x);
    }
    return out;
  }

  /// The guest bus numbers firmware gives the controllers (see number_buses).
  [[nodiscard]] constexpr bus_numbering number_buses() const {
    const std::vector<bus_node> n = nodes();
    return pciplan::number_buses(n);
  }

 private:
  std::span<const controller> controllers_;
  std::vector<std::size_t> position_;  // controller index -> position
};

}  // namespace pciplan::inline v0

#endif  // PCIPLAN_TOPOLOGY_TOPOLOGY_VIEW_HPP
