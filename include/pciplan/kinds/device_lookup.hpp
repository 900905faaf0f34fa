// pciplan — kinds/device_lookup.hpp: the device catalogue at run time — every built-in
// device kind's descriptor, and look-ups by QEMU device name and by libvirt element and
// model.
//
//   const device_descriptor* nic = device_named("e1000e");            // models::e1000e
//   if (nic) devices.push_back(request("net0", *nic));
//   devices_for_libvirt("video", "virtio");                           // virtio-gpu-pci, virtio-vga
#ifndef PCIPLAN_KINDS_DEVICE_LOOKUP_HPP
#define PCIPLAN_KINDS_DEVICE_LOOKUP_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/kinds/device_kinds.hpp>
#include <pciplan/kinds/kind_lists.hpp>

#include <array>
#include <string_view>
#include <vector>

namespace pciplan::inline v0 {

namespace detail {
template <class... Ds>
constexpr std::array<const device_descriptor*, sizeof...(Ds)> descriptor_pointers(type_list<Ds...>) noexcept {
  return {&device_descriptor_of<Ds>...};
}
}  // namespace detail

/// Every built-in device kind's descriptor, in the order of device_kind_list.
inline constexpr auto device_catalogue = detail::descriptor_pointers(device_kind_list{});

/// The built-in device kind whose QEMU device is `qemu_device` ("e1000e",
/// "virtio-net-pci"), else the first whose virtio-mmio variant it is
/// ("virtio-net-device": virtio-net-pci); nullptr when the catalogue has none.
[[nodiscard]] constexpr const device_descriptor* device_named(std::string_view qemu_device) noexcept {
  for (const device_descriptor* d : device_catalogue) {
    if (d->qemu_device == qemu_device) return d;
  }
  for (const device_descriptor* d : device_catalogue) {
    if (!d->mmio_device.empty() && d->mmio_device == qemu_device) return d;
  }
  return nullptr;
}

/// Every built-in device kind that libvirt writes as `element` with `model` (the model
/// or type attribute: "interface" + "e1000e", "controller" + "qemu-xhci", "disk" +
/// "virtio-transitional"), in catalogue order. libvirt's model alone does not always
/// decide the device: `<video model='virtio'>` is virtio-vga as the primary video and
/// virtio-gpu-pci otherwise, an ``<input bus='virtio'>`` takes its device from its type.
[[nodiscard]] constexpr std::vector<const device_descriptor*> devices_for_libvirt(std::string_view element,
                                                                                  std::string_view model) {
  std::vector<const device_descriptor*> out;
  for (const device_descriptor* d : device_catalogue) {
    if (d->libvirt.element == element && d->libvirt.model == model) out.push_back(d);
  }
  return out;
}

}  // namespace pciplan::inline v0

#endif  // PCIPLAN_KINDS_DEVICE_LOOKUP_HPP
