// pciplan — planner/detail/planning_state.hpp: the state both policies work on — the
// requests and controllers, where each request went, the one failure of a plan, and the
// planner's one controller-index lookup.
//
// The planning core is a pipeline of steps over this state, which both policies call:
//   input_checks.hpp   check_requests, check_controllers, reserve_given (with the one
//                      sentence per check_given answer), check_attached
//   chipset.hpp        find_chipset_roles, reserve_chipset, take_chipset_seats
//   finishing.hpp      finish (multifunction marks, numbering, guest bus numbers, the plan)
// Each policy adds its own steps in between (planner/detail/libvirt_policy.hpp,
// planner/detail/pciplan_policy.hpp). A step that fails records the failure here with
// `fail` and returns false; no policy writes the failure or the lookup itself.
#ifndef PCIPLAN_PLANNER_DETAIL_PLANNING_STATE_HPP
#define PCIPLAN_PLANNER_DETAIL_PLANNING_STATE_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/detail/report.hpp>
#include <pciplan/detail/vectors.hpp>
#include <pciplan/kinds/compatibility.hpp>
#include <pciplan/kinds/controller_kinds.hpp>
#include <pciplan/kinds/device_kinds.hpp>
#include <pciplan/kinds/machine_types.hpp>
#include <pciplan/planner/policies.hpp>
#include <pciplan/topology/controller.hpp>
#include <pciplan/topology/request.hpp>
#include <pciplan/topology/topology_plan.hpp>
#include <pciplan/topology/topology_view.hpp>
#include <pciplan/vocabulary/address.hpp>
#include <pciplan/vocabulary/connect.hpp>
#include <pciplan/vocabulary/error.hpp>
#include <pciplan/vocabulary/text.hpp>

#include <algorithm>
#include <cstddef>
#include <span>
#include <string_view>
#include <type_traits>
#include <vector>

namespace pciplan::inline v0::detail {

/// The error the planner returns: the device (or controller) named first, then the
/// rule that was broken.
constexpr error plan_error(errc code, std::string_view subject, std::string_view reason) {
  return error{code, {}, reason, bounded_text<96>(subject), error::no_position};
}

/// A controller's name in errors: "controller 3 (pcie-root-port)".
constexpr bounded_text<96> controller_name(const controller& c) {
  bounded_text<96> t("controller ");
  t.append_decimal(c.index.value);
  if (c.kind != nullptr) t.append(" (").append(c.kind->model).append(')');
  return t;
}

/// Who an error is about: a request's name, or a controller (named only when an error
/// is actually reported, so planning does not format names it never needs).
struct subject {
  std::string_view name{};
  const controller* ctl = nullptr;
  constexpr subject(std::string_view n) noexcept : name(n) {}  // NOLINT: implicit on purpose
  constexpr subject(const char* n) noexcept : name(n) {}       // NOLINT
  constexpr subject(const controller& c) noexcept : ctl(&c) {}  // NOLINT
};

/// How a request travels, decided before any slot is chosen.
struct request_route {
  placement_kind kind = placement_kind::pci;
  connect_set need{};  ///< connect flags for PCI (with auto_assign)
};

/// The sentences of a refused hot-add (planner/hotplug.hpp).
inline constexpr std::string_view no_live_slot =
    "has no free hot-pluggable slot left in the running guest, and the bus a cold plan would add for it cannot be "
    "hot-added (plan spare ports: plan_options::spare_ports)";
inline constexpr std::string_view no_live_slot_on_node =
    "has no free hot-pluggable slot left on its NUMA node in the running guest, and the bus a cold plan would add "
    "for it cannot be hot-added (plan spare ports there: plan_options::spare_ports_per_node)";

/// The state both policies work on.
template <MachineType M>
struct planning {
  std::span<const request> requests;
  std::span<const controller> given;
  plan_options options{};
  unsigned max_index = 255;

  std::vector<controller> controllers;  // sorted by index once checked; add them with add_controller
  std::vector<placement> placements;    // per request
  std::vector<request_route> routes;    // per request
  std::vector<unsigned char> done;      // per request: has its place (not vector<bool>: clang 14 cannot constant-evaluate it)
  std::vector<warning> warnings;
  /// static_plan: a failure stops compilation right where it happens, so that the
  /// diagnostic's call chain shows the device and the planner's sentence.
  bool compile_time_errors = false;
  /// libvirt policy: where libvirt accepts a domain whose layout guests or QEMU cannot
  /// use, reproduce libvirt's answer with a warning (unbuildable, no_function0) instead
  /// of refusing it.
  bool reproduce_libvirt = false;
  /// A running guest (planner/hotplug.hpp): per request, 1 when it is being hot-added
  /// now (it needs a hot-pluggable slot, and no spare or headroom is added); empty for
  /// a cold plan.
  std::span<const unsigned char> live{};

  /// Whether request i is being hot-added into a running guest.
  [[nodiscard]] constexpr bool hot_added(std::size_t i) const noexcept { return i < live.size() && live[i] != 0; }

  static constexpr bool pcie_machine = has_pcie_root_v<M>;

  // ---- the failure ------------------------------------------------------------------

  /// Records a failure (the first one counts) and returns false, so a step can
  /// `return fail(...)`.
  constexpr bool fail(errc code, const subject& who, std::string_view reason) {
    if (compile_time_errors && std::is_constant_evaluated()) {
      // one line, so that g++ shows the literal in its diagnostic
      compile_time_error("pciplan::static_plan: the layout cannot be planned; the call chain above names the device and the reason");  // NOLINT
    }
    if (!failed_) {
      failed_ = true;
      failure_ = who.ctl != nullptr ? error{code, {}, reason, controller_name(*who.ctl), error::no_position}
                                    : plan_error(code, who.name, reason);
    }
    return false;
  }
  [[nodiscard]] constexpr bool failed() const noexcept { return failed_; }
  [[nodiscard]] constexpr const error& failure() const noexcept { return failure_; }

  /// Runs `step` (a callable returning bool) as an attempt that may fail without failing
  /// the plan: when it returns false, a failure it recorded is taken back. Returns what
  /// `step` returned. (pciplan's spare ports are best effort.) With compile_time_errors,
  /// a failure inside still stops compilation, as every failure does.
  template <class Step>
  constexpr bool attempt(Step&& step) {
    const bool failed_before = failed_;
    if (step()) return true;
    if (!failed_before) {
      failed_ = false;
      failure_ = error{};
    }
    return false;
  }

  /// Adds a warning to the plan.
  constexpr void warn(warning_code code, std::string_view text, unsigned count) {
    warnings.push_back(warning{code, text, count});
  }

  // ---- the controller-index lookup ---------------------------------------------------
  // The planner's one lookup from a controller index to a position in `controllers`,
  // used while planning and when finishing. It is kept up to date as controllers are
  // added (topology_view, the lookup of a finished list, cannot follow a list that grows
  // while it is planned); the firmware bus numbering of the finished list is
  // topology_view's (finishing.hpp).

  /// The position of the controller with this index, or no_position.
  [[nodiscard]] constexpr std::size_t position_of(controller_index index) const noexcept {
    return index.value < position_.size() ? position_[index.value] : no_position;
  }
  /// The controller with this index, or nullptr.
  [[nodiscard]] constexpr const controller* find(controller_index index) const noexcept {
    const std::size_t at = position_of(index);
    return at == no_position ? nullptr : &controllers[at];
  }

  /// Indexes `controllers` (sorted by index, indexes unique) after the list was replaced.
  constexpr void index_controllers() {
    refill(position_, controllers.empty() ? 0u : static_cast<std::size_t>(controllers.back().index.value) + 1u,
           no_position);
    for (std::size_t k = 0; k != controllers.size(); ++k) position_[controllers[k].index.value] = k;
  }
  /// Adds `more` to the controllers, keeping them sorted by index and indexed.
  constexpr void insert_controllers(std::span<const controller> more) {
    controllers.insert(controllers.end(), more.begin(), more.end());
    std::sort(controllers.begin(), controllers.end(),
              [](const controller& a, const controller& b) { return a.index < b.index; });
    index_controllers();
  }
  /// Makes room for `more` controllers, and their lookup, without regrowing.
  constexpr void reserve_controllers(std::size_t more) {
    controllers.reserve(controllers.size() + more);
    position_.reserve(position_.size() + more);
  }
  /// Appends a controller with index `index`, higher than every index in use, and
  /// returns it to be filled in (in place: no copy of a fresh temporary).
  constexpr controller& add_controller(controller_index index) {
    controller& c = controllers.emplace_back();
    c.index = index;
    if (index.value == position_.size()) {  // the usual case: the next index
      position_.push_back(controllers.size() - 1);
    } else {
      grow_to(position_, static_cast<std::size_t>(index.value) + 1u, no_position);
      position_[index.value] = controllers.size() - 1;
    }
    return c;
  }

  // ---- what requests and controllers need --------------------------------------------

  /// The connect flags of a request on this machine, its link constraint applied.
  [[nodiscard]] constexpr connect_set need_of(const request& r) const noexcept {
    link_kind link = r.device.link;
    if (r.link == link_need::pci) link = link_kind::conventional;
    if (r.link == link_need::pcie) link = link_kind::express;
    return connect_for(link, r.device.integrated, pcie_machine);
  }
  /// Connect flags of a controller that needs a slot.
  [[nodiscard]] static constexpr connect_set need_of(const controller& c) noexcept { return c.kind->connects_as; }

  // ---- recording where requests go ---------------------------------------------------

  /// A virtio device (the ones s390x puts on channel I/O).
  [[nodiscard]] static constexpr bool is_virtio(const request& r) noexcept {
    const std::string_view d = r.device.qemu_device;
    return d.starts_with("virtio-") || d.starts_with("vhost-");
  }

  /// Records how request i travels. virtio-mmio and CCW take the next transport (`mmio`
  /// counts down from the machine's last virtio-mmio transport, `ccw` counts up) and are
  /// done; PCI is left to the policy.
  constexpr bool assign_transport(std::size_t i, placement_kind kind, unsigned& mmio, unsigned& ccw) {
    constexpr unsigned transports = machine_traits<M>::virtio_mmio_transports;
    routes[i].kind = kind;
    placement& pl = placements[i];
    pl.kind = kind;
    if (kind == placement_kind::mmio) {
      if (mmio >= transports) {
        return fail(errc::mmio_exhausted, requests[i].name,
                    transports == 0 ? "asks for virtio-mmio, which this machine type does not have"
                                    : "needs a virtio-mmio transport, and every transport of the machine is in use");
      }
      pl.transport = transports - 1 - mmio++;
      pl.why = rule::virtio_mmio;
      done[i] = 1;
    } else if (kind == placement_kind::ccw) {
      pl.transport = ccw++;
      pl.why = rule::channel_io;
      done[i] = 1;
    }
    return true;
  }

  /// Records that request i takes the PCI address `a` (libvirt's form), for `why`.
  constexpr void place(std::size_t i, controller_address a, rule why) {
    placement& pl = placements[i];
    pl.kind = placement_kind::pci;
    pl.libvirt_address = a;
    pl.why = why;
    done[i] = 1;
  }

 private:
  error failure_{};
  bool failed_ = false;
  std::vector<std::size_t> position_;  // controller index -> position in `controllers`
};

}  // namespace pciplan::inline v0::detail

#endif  // PCIPLAN_PLANNER_DETAIL_PLANNING_STATE_HPP
