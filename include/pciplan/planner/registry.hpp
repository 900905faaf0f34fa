// pciplan — planner/registry.hpp: machine types and device kinds found by name at run
// time, your own ones included.
//
//   pciplan::registry known;                               // the built-in machines and devices
//   known.add_machine<vendor::board>("vendor-board")       // your machine type, by the name your users type
//        .add_device<vendor::fpga>();                      // your device kind, by its QEMU device name
//   const device_descriptor* fpga = known.device_named("vendor-fpga");
//   result<topology_plan> p = known.plan("vendor-board", {{"accel", *fpga}});   // plan<policies::libvirt>(…) too
//   topology_plan back = from_json(to_json(*p), known);    // <pciplan/json.hpp>: your machine read back
//
// Machine types and device kinds are types (kinds/machine_types.hpp, device_kinds.hpp);
// the registry keeps, per registered machine, the planner instantiated for it, so a
// program can choose among them by a string.
#ifndef PCIPLAN_PLANNER_REGISTRY_HPP
#define PCIPLAN_PLANNER_REGISTRY_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/kinds/device_kinds.hpp>
#include <pciplan/kinds/device_lookup.hpp>
#include <pciplan/kinds/machine_dispatch.hpp>
#include <pciplan/kinds/machine_types.hpp>
#include <pciplan/planner/planner.hpp>
#include <pciplan/planner/policies.hpp>
#include <pciplan/topology/controller.hpp>
#include <pciplan/topology/request.hpp>
#include <pciplan/topology/topology_plan.hpp>
#include <pciplan/vocabulary/error.hpp>
#include <pciplan/vocabulary/machine_id.hpp>

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace pciplan::inline v0 {

/// A run-time catalogue of machine types and device kinds: the built-in ones, and those
/// registered with add_machine and add_device. Registered names are looked up first, so
/// a registration may also give a built-in name another meaning in this registry.
class registry {
 public:
  /// Plans `requests` on one machine type with the policy family asked for.
  using plan_function = result<topology_plan> (*)(std::span<const request>, const plan_options&,
                                                  std::span<const controller>, policy_family);

  /// One registered machine type.
  struct machine_entry {
    std::string name;                             ///< the name it was registered under
    std::string_view plan_name;                   ///< what its plans record (machine_name_of<M>)
    plan_function plan = nullptr;                 ///< the planner for it
    std::span<const reserved_function> built_in;  ///< its built-in root-bus devices
  };

  /// Registers machine type M under `name` (and under machine_name_of<M>, which its plans
  /// record, so that from_json finds it).
  template <MachineType M>
  registry& add_machine(std::string_view name) {
    machines_.push_back(machine_entry{std::string(name), machine_name_of<M>, &plan_on<M>,
                                      std::span<const reserved_function>(machine_traits<M>::reserved)});
    return *this;
  }
  /// Registers device kind D: device_named finds it by its QEMU device name, and
  /// devices_for_libvirt by its libvirt element and model.
  template <DeviceKind D>
  registry& add_device() {
    devices_.push_back(&device_descriptor_of<D>);
    return *this;
  }

  /// The registered machine with this name (or whose plans record it); nullptr if none.
  [[nodiscard]] const machine_entry* registered_machine(std::string_view name) const noexcept {
    for (const machine_entry& m : machines_) {
      if (m.name == name || m.plan_name == name) return &m;
    }
    return nullptr;
  }
  /// Whether `name` is a registered machine or one machine_named knows.
  [[nodiscard]] bool knows_machine(std::string_view name) const noexcept {
    return registered_machine(name) != nullptr || machine_named(name).has_value();
  }
  /// The root-bus devices the machine named `name` builds in (see topology_plan::built_in);
  /// nullopt when the name is unknown.
  [[nodiscard]] std::optional<std::span<const reserved_function>> built_in(std::string_view name) const noexcept {
    if (const machine_entry* m = registered_machine(name)) return m->built_in;
    if (const std::optional<machine_id> id = machine_named(name)) {
      return with_machine(*id, [](auto m) {
        return std::span<const reserved_function>(machine_traits<decltype(m)>::reserved);
      });
    }
    return std::nullopt;
  }
  /// The name a plan of the machine named `name` records; empty when the name is unknown.
  [[nodiscard]] std::string_view plan_name(std::string_view name) const noexcept {
    if (const machine_entry* m = registered_machine(name)) return m->plan_name;
    if (const std::optional<machine_id> id = machine_named(name)) return name_of(*id);
    return {};
  }

  /// The device kind whose QEMU device is `qemu_device` (or its virtio-mmio variant): a
  /// registered one first, then the built-in catalogue (device_named); nullptr if none.
  [[nodiscard]] const device_descriptor* device_named(std::string_view qemu_device) const noexcept {
    for (const device_descriptor* d : devices_) {
      if (d->qemu_device == qemu_device || (!d->mmio_device.empty() && d->mmio_device == qemu_device)) return d;
    }
    return pciplan::device_named(qemu_device);
  }
  /// The device kinds libvirt writes as `<element>` with this model: the registered ones,
  /// then the built-in ones (devices_for_libvirt).
  [[nodiscard]] std::vector<const device_descriptor*> devices_for_libvirt(std::string_view element,
                                                                          std::string_view model) const {
    std::vector<const device_descriptor*> out;
    for (const device_descriptor* d : devices_) {
      if (d->libvirt.element == element && d->libvirt.model == model) out.push_back(d);
    }
    for (const device_descriptor* d : pciplan::devices_for_libvirt(element, model)) out.push_back(d);
    return out;
  }

  /// Plans on the machine named `machine` with policy `Policy`: a registered one (with the
  /// planner of Policy's family, policies::pciplan or policies::libvirt), else any name
  /// machine_named knows ("q35", "pc-q35-7.2", "riscv64:virt", …), with Policy itself. An
  /// unknown name is an error with code errc::unknown_machine. A template, so that only a
  /// program that plans this way instantiates the planner for every built-in machine.
  template <PlanningPolicy Policy = policies::pciplan>
  [[nodiscard]] result<topology_plan> plan(std::string_view machine, std::span<const request> requests,
                                           const plan_options& options = {},
                                           std::span<const controller> controllers = {}) const {
    constexpr policy_family family =
        std::is_base_of_v<policies::libvirt, Policy> ? policy_family::libvirt : policy_family::pciplan;
    if (const machine_entry* m = registered_machine(machine)) return m->plan(requests, options, controllers, family);
    if (const std::optional<machine_id> id = machine_named(machine)) {
      return with_machine(*id, [&](auto m) { return pciplan::plan<decltype(m), Policy>(requests, options, controllers); });
    }
    error e{errc::unknown_machine, "unknown machine type",
            "is neither a machine type pciplan knows nor one registered with add_machine"};
    e.subject.append(machine);
    return e;
  }

 private:
  template <MachineType M>
  static result<topology_plan> plan_on(std::span<const request> requests, const plan_options& options,
                                       std::span<const controller> controllers, policy_family policy) {
    if (policy == policy_family::libvirt) return pciplan::plan<M, policies::libvirt>(requests, options, controllers);
    return pciplan::plan<M, policies::pciplan>(requests, options, controllers);
  }

  std::vector<machine_entry> machines_;
  std::vector<const device_descriptor*> devices_;
};

}  // namespace pciplan::inline v0

#endif  // PCIPLAN_PLANNER_REGISTRY_HPP
