// pciplan — planner/detail/bus_table.hpp: the occupancy of every bus, and the index that
// finds "the lowest bus that takes X and has room" without rescanning buses.
//
// Per bus: a mask of usable slots, of empty slots, of aggregate slots (root ports
// packed as functions) with a free function, and the used functions of each slot.
// Buses with the same shape (what they accept, whether they are bus 0, isolation group,
// zone) form a class; each class keeps two bit sets over bus indexes — buses with an
// empty slot, buses with aggregate room — so a search looks at each class once.
// Everything is constexpr, on std::vector, so the same code plans at compile time.
#ifndef PCIPLAN_PLANNER_DETAIL_BUS_TABLE_HPP
#define PCIPLAN_PLANNER_DETAIL_BUS_TABLE_HPP

#include <pciplan/vocabulary/address.hpp>
#include <pciplan/vocabulary/connect.hpp>
#include <pciplan/kinds/controller_kinds.hpp>
#include <pciplan/detail/bits.hpp>
#include <pciplan/detail/config.hpp>
#include <pciplan/detail/vectors.hpp>
#include <pciplan/vocabulary/error.hpp>

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace pciplan::inline v0::detail {

/// A growable bit set over indexes that remembers the lowest word that may be set.
class bit_index {
 public:
  constexpr void assign(std::size_t i, bool on) {
    const std::size_t w = i / 64;
    if (on) {
      grow_to(words_, w + 1, std::uint64_t{0});
      words_[w] |= std::uint64_t{1} << (i % 64);
      if (w < first_) first_ = w;
    } else if (w < words_.size()) {
      words_[w] &= ~(std::uint64_t{1} << (i % 64));
    }
  }
  /// The lowest index in the set, or -1.
  [[nodiscard]] constexpr long lowest() {
    while (first_ < words_.size() && words_[first_] == 0) ++first_;
    if (first_ == words_.size()) return -1;
    return static_cast<long>(first_ * 64 + static_cast<std::size_t>(std::countr_zero(words_[first_])));
  }

 private:
  std::vector<std::uint64_t> words_;
  std::size_t first_ = 0;
};

/// The state of one bus (the bus of the controller with that index).
struct bus_state {
  const controller_descriptor* kind = nullptr;  ///< nullptr: no bus with this index
  connect_set flags{};                          ///< what it takes, plus auto-assign and hotplug
  std::uint32_t usable = 0;                     ///< slots in the kind's range
  std::uint32_t empty = 0;                      ///< usable slots with no function in use
  std::uint32_t aggregate = 0;                  ///< slots whose first function is an aggregating device
  std::uint32_t aggregate_room = 0;             ///< aggregate slots with a free function
  std::array<std::uint8_t, 32> used{};          ///< functions in use, per slot
  unsigned group = 0;                           ///< isolation group
  bool group_locked = false;
  int zone = -1;                                ///< planner-defined partition (NUMA node); -1: main
  int cls = -1;
  unsigned counted = 0;                         ///< empty slots counted in its class
  bool in_plain = false;                        ///< set in its class's `plain` index
  bool in_aggregate = false;                    ///< set in its class's `aggregate` index

  [[nodiscard]] constexpr bool is_empty() const noexcept { return empty == usable; }
};

/// Buses of one shape, and which of them have room.
struct bus_class {
  connect_set flags{};
  bool index0 = false;
  unsigned group = 0;
  int zone = -1;
  bit_index plain;      ///< buses with an empty slot
  bit_index aggregate;  ///< buses with an aggregate slot that has a free function
  unsigned free_slots = 0;  ///< empty slots over all its buses
};

/// A slot found by a search.
struct slot_choice {
  bool found = false;
  unsigned bus = 0;
  unsigned slot = 0;
  unsigned function = 0;
};

/// Any zone (the libvirt policy searches every bus).
inline constexpr int any_zone = -2;

class bus_table {
 public:
  std::vector<bus_state> buses;  // by controller index
  std::vector<bus_class> classes;

  [[nodiscard]] constexpr std::size_t size() const noexcept { return buses.size(); }
  [[nodiscard]] constexpr bool exists(std::size_t index) const noexcept {
    return index < buses.size() && buses[index].kind != nullptr;
  }

  /// Makes `index` a bus of `kind`. `hotplug_allowed` false drops the hotplug flag
  /// (`hotplug='off'`). `flags` non-empty replaces what the bus accepts (libvirt narrows
  /// the root port it adds for a pcie-to-pci-bridge).
  constexpr void define(std::size_t index, const controller_descriptor& kind, bool hotplug_allowed, int zone = -1,
                        unsigned group = 0, bool group_locked = false, connect_set flags = {}) {
    if (index < buses.size()) {
      bus_state& b = buses[index];
      if (b.cls >= 0) {  // redefined: leave the old class first
        bus_class& old = classes[static_cast<std::size_t>(b.cls)];
        if (b.in_plain) old.plain.assign(index, false);
        if (b.in_aggregate) old.aggregate.assign(index, false);
        old.free_slots -= b.counted;
      }
      b = bus_state{};
    } else {
      if (buses.size() < index) grow_to(buses, index, bus_state{});  // gaps: indexes nobody uses
      buses.emplace_back();
    }
    bus_state& b = buses[index];
    b.kind = &kind;
    b.flags = flags.empty() ? kind.bus_flags() : flags;
    if (!hotplug_allowed) b.flags = b.flags - connect::hotpluggable;
    const std::uint32_t upto = kind.slots.last >= 31 ? ~0u : (1u << (kind.slots.last + 1u)) - 1u;
    b.usable = upto & ~((1u << kind.slots.first) - 1u);
    b.empty = b.usable;
    b.group = group;
    b.group_locked = group_locked;
    b.zone = zone;
    classify(index);
  }

  /// Moves bus `index` to isolation group `group`, keeping what is reserved on it (a
  /// group no search asks for hides the bus from `find`).
  constexpr void regroup(std::size_t index, unsigned group) {
    if (!exists(index)) return;
    buses[index].group = group;
    classify(index);
  }

  /// Whether `need` may take a slot of bus `index` (a planned address: strict rules).
  [[nodiscard]] constexpr bool accepts(std::size_t index, connect_set need) const noexcept {
    return exists(index) && fits(need, buses[index].flags, index == 0);
  }

  /// Checks an address a user gave: the bus exists and takes the device (relaxed rules),
  /// the slot is usable, the function is free. Returns errc::none when it may be reserved.
  [[nodiscard]] constexpr errc check_given(std::size_t bus, unsigned slot, unsigned function,
                                           connect_set need) const noexcept {
    if (!exists(bus)) return errc::no_such_bus;
    const bus_state& b = buses[bus];
    if (need.intersects(connect::integrated) && bus != 0) return errc::incompatible_bus;
    if (!fits(need - connect::auto_assign - connect::hotpluggable, b.flags, bus == 0, address_origin::given)) {
      return errc::incompatible_bus;
    }
    if (slot > max_slot || ((b.usable >> slot) & 1u) == 0) return errc::slot_not_usable;
    if (function > max_function) return errc::function_out_of_range;
    if ((b.used[slot] >> function) & 1u) return errc::address_in_use;
    return errc::none;
  }

  /// Marks a function used. `need` decides whether the slot becomes an aggregate slot
  /// (when this is its first function); `group` and `given` follow libvirt's isolation
  /// rules (the first device on an unlocked bus sets its group; a given address that
  /// mixes groups resets the bus to group 0).
  constexpr void reserve(std::size_t bus, unsigned slot, unsigned function, connect_set need, unsigned group = 0,
                         bool given = false) {
    bus_state& b = buses[bus];
    const std::uint32_t bit = 1u << slot;
    const bool bus_was_empty = b.is_empty();
    if (b.used[slot] == 0 && need.intersects(connect::aggregate_slot)) b.aggregate |= bit;
    b.used[slot] = static_cast<std::uint8_t>(b.used[slot] | (1u << function));
    if ((b.empty & bit) != 0) {
      b.empty &= ~bit;
      --b.counted;
      --classes[static_cast<std::size_t>(b.cls)].free_slots;
    }
    if ((b.aggregate & bit) != 0 && b.used[slot] != 0xff) {
      b.aggregate_room |= bit;
    } else {
      b.aggregate_room &= ~bit;
    }
    const unsigned old_group = b.group;
    if (bus_was_empty && !b.group_locked) {
      b.group = group;
    } else if (b.group != group && given) {
      b.group = 0;
    }
    if (b.group != old_group) {
      classify(bus);  // its class changes with its group
    } else {
      update_index(bus);
    }
  }

  /// The lowest bus (in index order) with a slot `need` may take, then its lowest such
  /// slot and function — libvirt's search, without the rescan. `function` -1: any.
  /// Only buses of isolation group `group` and of zone `zone` (or any zone) are looked at.
  [[nodiscard]] constexpr slot_choice find(connect_set need, unsigned group = 0, int function = -1,
                                           int zone = any_zone) {
    const bool aggregating = need.intersects(connect::aggregate_slot) && function == -1;
    long best = -1;
    for (auto& c : classes) {
      if (c.group != group || (zone != any_zone && c.zone != zone)) continue;
      if (!fits(need, c.flags, c.index0)) continue;
      long b = c.plain.lowest();
      if (aggregating) {
        const long a = c.aggregate.lowest();
        if (a >= 0 && (b < 0 || a < b)) b = a;
      }
      if (b >= 0 && (best < 0 || b < best)) best = b;
    }
    if (best < 0) return {};
    return choose_slot(static_cast<std::size_t>(best), aggregating, function);
  }

  /// libvirt's second pass: the lowest completely empty bus whose isolation group is not
  /// locked and that takes `need`, ignoring its current group.
  [[nodiscard]] constexpr slot_choice find_on_empty_bus(connect_set need, int function = -1) const {
    for (std::size_t i = 0; i != buses.size(); ++i) {
      const bus_state& b = buses[i];
      if (b.kind == nullptr || !b.is_empty() || b.group_locked || b.usable == 0) continue;
      if (!fits(need, b.flags, i == 0)) continue;
      const unsigned slot = static_cast<unsigned>(std::countr_zero(b.usable));
      return {true, static_cast<unsigned>(i), slot, function < 0 ? 0u : static_cast<unsigned>(function)};
    }
    return {};
  }

  /// The slot and function a search would take on bus `index`.
  [[nodiscard]] constexpr slot_choice choose_slot(std::size_t index, bool aggregating, int function) const {
    const bus_state& b = buses[index];
    const std::uint32_t mask = b.empty | (aggregating ? b.aggregate_room : 0u);
    if (mask == 0) return {};
    const unsigned slot = static_cast<unsigned>(std::countr_zero(mask));
    unsigned fn = function < 0 ? 0u : static_cast<unsigned>(function);
    if (b.used[slot] != 0) fn = static_cast<unsigned>(std::countr_one(b.used[slot]));
    return {true, static_cast<unsigned>(index), slot, fn};
  }

  /// Empty slots on buses of `zone` and isolation group 0 that take `kind`.
  [[nodiscard]] constexpr unsigned free_slots(connect_set kind, int zone) const noexcept {
    unsigned n = 0;
    for (const auto& c : classes) {
      if (c.group == 0 && c.zone == zone && c.flags.intersects(kind)) n += c.free_slots;
    }
    return n;
  }

  /// Whether every usable slot of every bus has a function in use (libvirt skips its
  /// spare-slot reservation then).
  [[nodiscard]] constexpr bool fully_reserved() const noexcept {
    for (const auto& b : buses) {
      if (b.kind != nullptr && b.empty != 0) return false;
    }
    return true;
  }

 private:
  int last_class_ = -1;  // buses usually come in runs of one shape (root ports)

  constexpr void classify(std::size_t index) {
    bus_state& b = buses[index];
    const bool index0 = index == 0;
    int found = -1;
    if (last_class_ >= 0) {
      const bus_class& k = classes[static_cast<std::size_t>(last_class_)];
      if (k.flags == b.flags && k.index0 == index0 && k.group == b.group && k.zone == b.zone) found = last_class_;
    }
    for (std::size_t c = 0; found < 0 && c != classes.size(); ++c) {
      const bus_class& k = classes[c];
      if (k.flags == b.flags && k.index0 == index0 && k.group == b.group && k.zone == b.zone) {
        found = static_cast<int>(c);
        break;
      }
    }
    if (found < 0) {
      classes.push_back(bus_class{b.flags, index0, b.group, b.zone, {}, {}, 0});
      found = static_cast<int>(classes.size() - 1);
    }
    last_class_ = found;
    if (b.cls >= 0 && b.cls != found) {
      bus_class& old = classes[static_cast<std::size_t>(b.cls)];
      if (b.in_plain) old.plain.assign(index, false);
      if (b.in_aggregate) old.aggregate.assign(index, false);
      old.free_slots -= b.counted;
      b.in_plain = b.in_aggregate = false;
      b.counted = 0;
    }
    if (b.cls != found) {
      b.cls = found;
      b.counted = bit_count(b.empty);
      classes[static_cast<std::size_t>(found)].free_slots += b.counted;
    }
    update_index(index);
  }

  /// Keeps the class's room indexes in step with the bus (only on a change).
  constexpr void update_index(std::size_t index) {
    bus_state& b = buses[index];
    bus_class& c = classes[static_cast<std::size_t>(b.cls)];
    const bool plain = b.empty != 0;
    const bool aggregate = b.aggregate_room != 0;
    if (plain != b.in_plain) {
      c.plain.assign(index, plain);
      b.in_plain = plain;
    }
    if (aggregate != b.in_aggregate) {
      c.aggregate.assign(index, aggregate);
      b.in_aggregate = aggregate;
    }
  }
};

}  // namespace pciplan::inline v0::detail

#endif  // PCIPLAN_PLANNER_DETAIL_BUS_TABLE_HPP
