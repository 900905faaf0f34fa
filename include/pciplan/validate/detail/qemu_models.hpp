// pciplan — validate/detail/qemu_models.hpp: QEMU device models as the validator knows
// them: which controller kind or catalogue device a `-device` driver is, and the QEMU
// names of the machines' built-in PCI functions.
#ifndef PCIPLAN_VALIDATE_DETAIL_QEMU_MODELS_HPP
#define PCIPLAN_VALIDATE_DETAIL_QEMU_MODELS_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/kinds/controller_kinds.hpp>
#include <pciplan/kinds/device_kinds.hpp>
#include <pciplan/kinds/kind_lists.hpp>

#include <boost/hana/for_each.hpp>

#include <string_view>

namespace pciplan::inline v0::detail {

/// What pciplan knows of a QEMU device model.
struct qemu_model {
  const controller_descriptor* controller = nullptr;  ///< a controller kind, or
  const device_descriptor* device = nullptr;          ///< a catalogue device (nullptr for both: unknown)
  bool mmio = false;                                  ///< a virtio-mmio device (not on PCI)
};

[[nodiscard]] inline qemu_model find_qemu_model(std::string_view driver) {
  qemu_model m{};
  boost::hana::for_each(controller_kinds, [&](auto t) {
    using C = typename decltype(t)::type;
    for (const std::string_view name : controller_traits<C>::qemu_devices) {
      if (name == driver) m.controller = &descriptor_of<C>;
    }
  });
  if (m.controller != nullptr) return m;
  boost::hana::for_each(device_kinds, [&](auto t) {
    using D = typename decltype(t)::type;
    if (device_descriptor_of<D>.qemu_device == driver) m.device = &device_descriptor_of<D>;
    if (!device_descriptor_of<D>.mmio_device.empty() && device_descriptor_of<D>.mmio_device == driver) m.mmio = true;
  });
  if (driver.ends_with("-device") && driver.starts_with("virtio-")) m.mmio = true;
  return m;
}

/// The QEMU names of the machines' built-in PCI functions (as QEMU's errors name them).
[[nodiscard]] constexpr std::string_view built_in_name(std::string_view machine, unsigned slot, unsigned function) noexcept {
  if (machine == "pc") {
    if (slot == 0) return "i440FX";
    if (slot == 1 && function == 0) return "PIIX3";
    if (slot == 1 && function == 1) return "piix3-ide";
    if (slot == 1 && function == 3) return "PIIX4_PM";
  } else if (machine == "q35") {
    if (slot == 0) return "mch";
    if (slot == 0x1f && function == 0) return "ICH9-LPC";
    if (slot == 0x1f && function == 2) return "ich9-ahci";
    if (slot == 0x1f && function == 3) return "ICH9-SMB";
  } else if (slot == 0 && function == 0) {
    return "gpex-root";
  }
  return "built-in device";
}

}  // namespace pciplan::inline v0::detail

#endif  // PCIPLAN_VALIDATE_DETAIL_QEMU_MODELS_HPP
