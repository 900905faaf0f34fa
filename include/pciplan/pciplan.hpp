// pciplan — PCI/PCIe topology planning for QEMU/KVM guests.
// MIT License: see the LICENSE file that comes with pciplan.
//
// The umbrella header: include this one (and <pciplan/libvirt.hpp> for the optional
// libvirt adapter), never the others directly.
//
// The folders are the layers, each using only those above it in this list
// (CONTRIBUTING.md has the map; a test checks it):
//   detail/        small generic helpers: versioned namespace, compile-time reporting,
//                  numbers, bit counts, constexpr-safe vector sizing
//   vocabulary/    addresses, connect kinds, errors, numbering attributes, machine ids,
//                  bounded text, fixed strings, BARs
//   kinds/         controller kinds, machine types, the device catalogue (and its BARs), their lists,
//                  slot compatibility (concepts), Boost.Hana queries, machine dispatch,
//                  device look-up by name
//   topology/      requests, controllers, the plan, one view of a topology (index
//                  lookup, parents, firmware bus numbering), memory windows
//   planner/       the policies and plan(); planner/detail/ holds the planning pipeline,
//                  the bus table and both policies
//   validate/      a hand-written QEMU layout read and checked against QEMU's rules
//   emit/          a plan as QEMU -device arguments, an lspci-like tree, JSON
//   libvirt/       libvirt domain XML in and out (<pciplan/libvirt.hpp>, needs pugixml)
//   (emit/from_json.hpp: plans read back, <pciplan/json.hpp>, needs nlohmann-json)
//   compile_time/  fixed layouts and static plans, checked in constant evaluation
#ifndef PCIPLAN_PCIPLAN_HPP
#define PCIPLAN_PCIPLAN_HPP

/// \namespace pciplan
/// Everything of pciplan: the vocabulary, the kinds, the planner, its outputs, the
/// validator, the libvirt adapter and the compile-time layouts.
/// \namespace pciplan::v0
/// Version 0 of pciplan's API, an inline namespace: write `pciplan::plan`, not `pciplan::v0::plan`.
/// \namespace v0
/// Version 0 of pciplan's API, an inline namespace: write `pciplan::plan`, not `pciplan::v0::plan`.

#include <pciplan/detail/config.hpp>
#include <pciplan/detail/report.hpp>

#include <pciplan/vocabulary/address.hpp>
#include <pciplan/vocabulary/bars.hpp>
#include <pciplan/vocabulary/connect.hpp>
#include <pciplan/vocabulary/error.hpp>
#include <pciplan/vocabulary/fixed_string.hpp>
#include <pciplan/vocabulary/machine_id.hpp>
#include <pciplan/vocabulary/numbering.hpp>
#include <pciplan/vocabulary/text.hpp>

#include <pciplan/kinds/compatibility.hpp>
#include <pciplan/kinds/controller_kinds.hpp>
#include <pciplan/kinds/device_bars.hpp>
#include <pciplan/kinds/device_kinds.hpp>
#include <pciplan/kinds/device_lookup.hpp>
#include <pciplan/kinds/kind_lists.hpp>
#include <pciplan/kinds/machine_dispatch.hpp>
#include <pciplan/kinds/machine_types.hpp>
#include <pciplan/kinds/queries.hpp>

#include <pciplan/topology/controller.hpp>
#include <pciplan/topology/memory_windows.hpp>
#include <pciplan/topology/request.hpp>
#include <pciplan/topology/topology_plan.hpp>
#include <pciplan/topology/topology_view.hpp>

#include <pciplan/planner/libvirt_order.hpp>
#include <pciplan/planner/planner.hpp>
#include <pciplan/planner/policies.hpp>
#include <pciplan/planner/hotplug.hpp>
#include <pciplan/planner/registry.hpp>

#include <pciplan/validate/validate.hpp>

#include <pciplan/emit/json.hpp>
#include <pciplan/emit/monitor.hpp>
#include <pciplan/emit/qemu.hpp>
#include <pciplan/emit/tree.hpp>

#include <pciplan/compile_time/fixed_layout.hpp>
#include <pciplan/compile_time/static_plan.hpp>
#include <pciplan/compile_time/layout_plan.hpp>

#endif  // PCIPLAN_PCIPLAN_HPP
