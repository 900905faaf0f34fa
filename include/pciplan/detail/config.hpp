// pciplan — detail/config.hpp: the versioned namespace and the version macros.
#ifndef PCIPLAN_DETAIL_CONFIG_HPP
#define PCIPLAN_DETAIL_CONFIG_HPP

#define PCIPLAN_VERSION_MAJOR 0
#define PCIPLAN_VERSION_MINOR 1
#define PCIPLAN_VERSION_PATCH 0

// Everything public lives in `pciplan::inline v0`: users write `pciplan::pci_address`,
// and the mangled names carry `v0`, so two incompatible versions cannot be mixed
// silently in one program.
namespace pciplan::inline v0 {
namespace detail {}
}  // namespace pciplan::inline v0

#endif  // PCIPLAN_DETAIL_CONFIG_HPP
