// pciplan — json.hpp: reading plans back from JSON, one header to include.
// MIT License: see the LICENSE file that comes with pciplan.
//
// Everything in <pciplan/pciplan.hpp>, and from_json: a plan read back from what
// to_json wrote. Needs nlohmann-json (Debian: nlohmann-json3-dev; CMake target
// pciplan::json); the rest of pciplan does not.
#ifndef PCIPLAN_JSON_HPP
#define PCIPLAN_JSON_HPP

#include <pciplan/pciplan.hpp>

#include <pciplan/emit/from_json.hpp>

#endif  // PCIPLAN_JSON_HPP
