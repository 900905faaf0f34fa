// pciplan — PCI/PCIe topology planning for QEMU/KVM guests.
// MIT License: see the LICENSE file that comes with pciplan.
//
// The umbrella header: include this one, never the others directly.
//
// Layers (dependencies point down only):
//   vocabulary   fixed_string, text, error, address, connect, numbering
//   kinds        controllers, machines, devices, kinds (type lists),
//                compatibility (concepts), queries (Boost.Hana)
//   planning     request, controller, plan, policies, planner (detail/: bus table,
//                the libvirt and pciplan policies)
//   adapters     qemu (-device arguments), tree (lspci-like text), json, validate
//                (a hand-written QEMU layout against QEMU's rules)
//   compile time fixed_layout, static_plan
#ifndef PCIPLAN_PCIPLAN_HPP
#define PCIPLAN_PCIPLAN_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/detail/report.hpp>

#include <pciplan/address.hpp>
#include <pciplan/connect.hpp>
#include <pciplan/error.hpp>
#include <pciplan/fixed_string.hpp>
#include <pciplan/numbering.hpp>
#include <pciplan/text.hpp>

#include <pciplan/compatibility.hpp>
#include <pciplan/controllers.hpp>
#include <pciplan/devices.hpp>
#include <pciplan/kinds.hpp>
#include <pciplan/machines.hpp>
#include <pciplan/queries.hpp>

#include <pciplan/controller.hpp>
#include <pciplan/plan.hpp>
#include <pciplan/planner.hpp>
#include <pciplan/policies.hpp>
#include <pciplan/request.hpp>

#include <pciplan/json.hpp>
#include <pciplan/qemu.hpp>
#include <pciplan/tree.hpp>
#include <pciplan/validate.hpp>

#include <pciplan/fixed_layout.hpp>
#include <pciplan/static_plan.hpp>

#endif  // PCIPLAN_PCIPLAN_HPP
