// pciplan — libvirt/detail/read_machine.hpp: the guest's machine type, memory size and NUMA nodes.
#ifndef PCIPLAN_LIBVIRT_DETAIL_READ_MACHINE_HPP
#define PCIPLAN_LIBVIRT_DETAIL_READ_MACHINE_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/kinds/machine_dispatch.hpp>
#include <pciplan/kinds/machine_types.hpp>
#include <pciplan/vocabulary/machine_id.hpp>
#include <pciplan/libvirt/detail/domain_state.hpp>
#include <pciplan/libvirt/detail/xml.hpp>
#include <pciplan/libvirt/input_error.hpp>

#include <pugixml.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace pciplan::inline v0::libvirt::detail {

/// `<os><type arch='…' machine='…'>`: the machine pciplan plans for, and its name as the
/// document gives it (or the architecture's default machine's).
inline void read_machine(domain_state& s) {
  const pugi::xml_node type = s.doc.document_element().child("os").child("type");
  if (!type) throw input_error("<domain>: <os><type arch='…' machine='…'> is missing");
  const std::string_view arch = type.attribute("arch").value();
  const std::string_view machine = type.attribute("machine").value();
  if (arch.empty()) s.at.fail(type, "the arch attribute is missing");
  const auto m = machine_of(arch, machine);
  if (!m) {
    s.at.fail(type, "machine type '" + std::string(machine) + "' of arch '" + std::string(arch) +
                        "' is not one pciplan plans (pc, q35 and microvm on x86_64; virt on aarch64, riscv64 and "
                        "loongarch64; pseries on ppc64; s390-ccw-virtio on s390x)");
  }
  s.machine = *m;
  s.acpi = static_cast<bool>(s.doc.document_element().child("features").child("acpi"));
  s.machine_name = machine.empty() ? std::string(with_machine(*m, [](auto x) {
    return machine_traits<decltype(x)>::name;
  }))
                                   : std::string(machine);
}

/// `<memory unit='…'>` in KiB, and the NUMA node count (`<cpu><numa><cell>`).
inline void read_memory_and_numa(domain_state& s) {
  if (const pugi::xml_node memory = s.doc.document_element().child("memory")) {
    // libvirt reads the size in decimal; pciplan also takes 0x hex, as it always has
    const auto value = number_of(memory.child_value(), number_syntax::decimal_or_hex);
    if (!value) s.at.fail(memory, "the memory size is not a number");
    const std::string_view unit = memory.attribute("unit").value();
    const auto scale = unit_scale(unit, 1024);  // bytes per unit; no unit: KiB
    if (!scale) s.at.fail(memory, "unknown memory unit '" + std::string(unit) + "'");
    if (*value > (std::uint64_t{1} << 50) / *scale) s.at.fail(memory, "the memory size is too large");
    s.memory_kib = *value * *scale / 1024;
    s.options.memory.ram = s.memory_kib * 1024;  // where firmware's windows start (memory_windows)
  }
  const pugi::xml_node numa = s.doc.document_element().child("cpu").child("numa");
  unsigned cells = 0;
  for (pugi::xml_node c = numa.child("cell"); c; c = c.next_sibling("cell")) ++cells;
  s.options.numa_nodes = cells;
}

}  // namespace pciplan::inline v0::libvirt::detail

#endif  // PCIPLAN_LIBVIRT_DETAIL_READ_MACHINE_HPP
