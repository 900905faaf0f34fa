// pciplan — topology/request.hpp: a device to place, with its constraints.
//
// A request says what the device needs, never where it goes (unless the caller pins
// it): the address is the planner's answer.
//
//   request{"net0", models::virtio_net{}}
//   request{"gpu0", models::vfio_pci{}, numa_node{1}}
//   request{"legacy0", models::e1000{}}                       // conventional PCI
//   request{"scratch", models::virtio_blk{}, hotplug::not_needed}
//   request{"disk0", models::virtio_blk{}, at_address{{0, 3, 0, 0}}}   // pinned (bus = controller index)
//   request{"gpu", models::vfio_pci{}, multifunction_group{1, 0}}, request{"gpu-audio", …, multifunction_group{1, 1}}
//   request{"gpu0", models::vfio_pci{}, device_bars{}.mem32(16_MiB).pref64(32_GiB)}   // its BARs (memory windows)
#ifndef PCIPLAN_TOPOLOGY_REQUEST_HPP
#define PCIPLAN_TOPOLOGY_REQUEST_HPP

#include <pciplan/vocabulary/address.hpp>
#include <pciplan/detail/config.hpp>
#include <pciplan/kinds/device_kinds.hpp>
#include <pciplan/vocabulary/bars.hpp>

#include <string_view>

namespace pciplan::inline v0 {

/// What kind of slot the device may use. `catalogue`: what the device catalogue says
/// (conventional → pci, express → pcie, virtio → either).
enum class link_need : unsigned char { catalogue, pci, pcie, either };

/// Whether the device must stay hot-pluggable (the default). A device that does not
/// need hotplug may become an integrated endpoint on the root bus or one function of a
/// shared multifunction slot.
enum class hotplug : unsigned char { required, not_needed };

/// Where a device may go when no slot of its kind exists. `root_bus`: on the root bus
/// as an integrated endpoint, instead of causing a new bus. The libvirt policy honours
/// it (the libvirt reader sets it for the legacy, model-less USB controller of an
/// existing q35 domain, which libvirt keeps on pcie.0 unless other devices need a
/// conventional PCI slot anyway); the pciplan policy places by the other constraints.
enum class fallback : unsigned char { none, root_bus };

/// How the device reaches the guest: `automatic` lets the machine and policy decide
/// (PCI where there is PCI; virtio-mmio or CCW where the machine uses them).
enum class transport : unsigned char { automatic, pci, mmio };

/// The guest NUMA node the device belongs to: it goes below an expander bus (or a PHB)
/// bound to that node.
struct numa_node {
  int value = -1;  ///< the node number; -1: none
};
/// Placement order: lower keys are placed first; equal keys keep the input order.
struct order_key {
  int value = 0;  ///< the key; lower is placed first
};
/// Devices with the same id share one slot, each at its given function (a GPU and its
/// audio function). Ids are > 0.
struct multifunction_group {
  unsigned id = 0;        ///< the group id (> 0)
  unsigned function = 0;  ///< the device's function in the shared slot, 0 to 7
};
/// A host IOMMU group: devices with the same id (> 0) stay together, and apart from
/// everything else.
struct isolation_group {
  unsigned id = 0;  ///< the group id (> 0)
};
/// A fixed address: the bus is a controller index, as in libvirt.
struct at_address {
  controller_address value{};  ///< the address; its bus is a controller index
};
/// A partial address: this controller's bus; the planner picks the slot.
struct on_bus {
  controller_index value{};  ///< the index of the controller whose bus it is
};
/// A partial address: this PCI domain (pseries: the PHB with this target index).
struct in_domain {
  unsigned value = 0;  ///< the PCI domain
};

/// Which part of the address the caller fixed.
enum class address_kind : unsigned char { none, full, bus, domain };

/// One device to place.
struct request {
  std::string_view name{};  ///< unique; errors and explanations use it (not copied: keep it alive)
  device_descriptor device{};  ///< what the device is
  link_need link = link_need::catalogue;     ///< what kind of slot it may use
  hotplug hotplug_need = hotplug::required;  ///< whether it must stay hot-pluggable
  int numa = -1;               ///< the guest NUMA node it belongs to; -1: none
  address_kind fixed = address_kind::none;  ///< which part of `libvirt_address` the caller fixed
  controller_address libvirt_address{};  ///< meaningful as far as `fixed` says
  unsigned multifunction = 0;    ///< multifunction group id (0: none)
  unsigned function = 0;         ///< the function within the multifunction group
  unsigned isolation = 0;        ///< isolation group id (0: none)
  int order = 0;                 ///< placement order key (see order_key)
  transport via = transport::automatic;  ///< how the device reaches the guest
  fallback otherwise = fallback::none;   ///< where it may go when no slot of its kind exists
  /// Its BARs, when the caller gives them (a passed-through device, a property that
  /// changes them); otherwise the catalogue's for its device (kinds/device_bars.hpp).
  device_bars bars{};

  /// An empty request.
  constexpr request() = default;
  /// A request named `name_` for a device of kind D, with any constraints: link_need,
  /// hotplug, transport, fallback, numa_node, order_key, multifunction_group,
  /// isolation_group, at_address, on_bus, in_domain or device_bars.
  template <DeviceKind D, class... Constraints>
  constexpr request(std::string_view name_, D, Constraints... constraints)
      : request(name_, device_descriptor_of<D>, constraints...) {}
  /// As above, with the device given by its descriptor.
  template <class... Constraints>
  constexpr request(std::string_view name_, const device_descriptor& device_, Constraints... constraints)
      : name(name_), device(device_) {
    (apply(constraints), ...);
  }

  constexpr void apply(link_need l) noexcept { link = l; }                ///< Sets the slot kind it may use.
  constexpr void apply(hotplug h) noexcept { hotplug_need = h; }          ///< Sets whether it needs hotplug.
  constexpr void apply(transport t) noexcept { via = t; }                 ///< Sets its transport.
  constexpr void apply(fallback f) noexcept { otherwise = f; }            ///< Sets its fallback.
  constexpr void apply(numa_node n) noexcept { numa = n.value; }          ///< Sets its NUMA node.
  constexpr void apply(order_key k) noexcept { order = k.value; }         ///< Sets its order key.
  /// Puts it in a multifunction group, at the group's function.
  constexpr void apply(multifunction_group g) noexcept {
    multifunction = g.id;
    function = g.function;
  }
  constexpr void apply(isolation_group g) noexcept { isolation = g.id; }  ///< Puts it in an isolation group.
  /// Gives its BARs (marked as given).
  constexpr void apply(const device_bars& b) noexcept {
    bars = b;
    bars.given = true;
  }
  /// Fixes its full address.
  constexpr void apply(at_address a) noexcept {
    fixed = address_kind::full;
    libvirt_address = a.value;
  }
  /// Fixes its bus; the planner picks the slot.
  constexpr void apply(on_bus b) noexcept {
    fixed = address_kind::bus;
    libvirt_address = controller_address(0, b.value, 0, 0);
  }
  /// Fixes its PCI domain; the planner picks the bus and slot.
  constexpr void apply(in_domain d) noexcept {
    fixed = address_kind::domain;
    libvirt_address.domain = static_cast<std::uint16_t>(d.value);
  }
};

/// `device<models::virtio_net>("wan", constraints…)`: a request, spelled with the kind first.
template <DeviceKind D, class... Constraints>
constexpr request device(std::string_view name, Constraints... constraints) {
  return request(name, D{}, constraints...);
}

}  // namespace pciplan::inline v0

#endif  // PCIPLAN_TOPOLOGY_REQUEST_HPP
