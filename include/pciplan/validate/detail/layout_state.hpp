// pciplan — validate/detail/layout_state.hpp: what the validator knows of a layout as it
// replays it — the buses that exist and the devices created on them.
#ifndef PCIPLAN_VALIDATE_DETAIL_LAYOUT_STATE_HPP
#define PCIPLAN_VALIDATE_DETAIL_LAYOUT_STATE_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/kinds/controller_kinds.hpp>
#include <pciplan/validate/detail/qemu_args.hpp>
#include <pciplan/validate/detail/qemu_models.hpp>

#include <array>
#include <cstddef>
#include <optional>
#include <string>

namespace pciplan::inline v0::detail {

/// A devfn of a bus nobody uses.
inline constexpr int free_devfn = -1;
/// A devfn the machine's own device uses.
inline constexpr int built_in_devfn = -2;

/// A bus of the layout: the machine's root, or the one a bridge, port or expander provides.
struct layout_bus {
  std::string name;
  const controller_descriptor* kind = nullptr;  // the controller that provides the bus
  int owner = -1;                               // the device providing it (-1: the machine)
  bool express = false;
  bool root = false;
  bool pxb_root = false;  // the root bus of a pxb-pcie: only bridges
  std::array<int, 256> devfn = filled();  // by devfn: the device there, free_devfn or built_in_devfn
  static constexpr std::array<int, 256> filled() {
    std::array<int, 256> a{};
    a.fill(free_devfn);
    return a;
  }
};

/// A `-device` of the layout, as created (or refused).
struct layout_device {
  device_argument arg;
  std::string id;
  qemu_model model;
  std::size_t bus = 0;
  unsigned devfn = 0;
  bool multifunction = false;
  std::optional<std::size_t> child;  // the bus it provides
  bool ok = false;                   // created (a refused device is skipped, as QEMU stops)
};

}  // namespace pciplan::inline v0::detail

#endif  // PCIPLAN_VALIDATE_DETAIL_LAYOUT_STATE_HPP
