// pciplan — libvirt.hpp: the optional libvirt adapter, one header to include.
// MIT License: see the LICENSE file that comes with pciplan.
//
// Reads a libvirt domain XML into requests and controllers, plans it with either
// policy, and writes the domain back with every address and controller filled in.
// Needs pugixml (CMake target pciplan::libvirt); the rest of pciplan does not.
#ifndef PCIPLAN_LIBVIRT_HPP
#define PCIPLAN_LIBVIRT_HPP

#include <pciplan/pciplan.hpp>

#include <pciplan/libvirt/attach.hpp>
#include <pciplan/libvirt/bars_spec.hpp>
#include <pciplan/libvirt/domain.hpp>
#include <pciplan/libvirt/plan_domain.hpp>

#endif  // PCIPLAN_LIBVIRT_HPP
