// pciplan — detail/config.hpp: the versioned namespace, the version macros and the
// compiled mode's switch.
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

// The compiled mode (CMake target pciplan::compiled, README "Compile cost"): with
// PCIPLAN_COMPILED defined, the planner's and the validator's per-machine entry points
// for the built-in machine types and policies (plan, plan_live, validate) are instantiated
// once, in the pciplan_compiled library, and the headers only declare them (`extern
// template`). plan, plan_live and hot_add are then not constexpr, since an explicit
// instantiation declaration does not stop the compilers from instantiating a constexpr
// function; constant evaluation goes through constexpr_plan, static_plan,
// make_fixed_layout and to_plan. Without the macro (the default) pciplan is header-only
// and they are constexpr.
#ifdef PCIPLAN_COMPILED
#define PCIPLAN_DETAIL_RUN_TIME_CONSTEXPR
#else
#define PCIPLAN_DETAIL_RUN_TIME_CONSTEXPR constexpr
#endif

// The emitters (emit/qemu.hpp, tree.hpp, json.hpp, monitor.hpp: qemu_arguments, tree,
// to_json, monitor_commands, …) in the compiled mode: declared in the headers and defined
// in pciplan_compiled (its source defines PCIPLAN_DETAIL_DEFINITIONS); header-only, inline.
#if defined(PCIPLAN_DETAIL_DEFINITIONS)
#define PCIPLAN_DETAIL_BODIES 1
#define PCIPLAN_DETAIL_INLINE
#elif defined(PCIPLAN_COMPILED)
#define PCIPLAN_DETAIL_BODIES 0
#define PCIPLAN_DETAIL_INLINE
#else
#define PCIPLAN_DETAIL_BODIES 1
#define PCIPLAN_DETAIL_INLINE inline
#endif

// The libvirt adapter's functions (libvirt/domain.hpp, plan_domain.hpp, attach.hpp) in the
// compiled mode: a program that links pciplan::compiled_libvirt gets
// PCIPLAN_COMPILED_LIBVIRT, the headers declare them and that library defines them (its
// source defines PCIPLAN_DETAIL_LIBVIRT_DEFINITIONS); otherwise they are inline, in the
// headers.
#if defined(PCIPLAN_DETAIL_LIBVIRT_DEFINITIONS)
#define PCIPLAN_DETAIL_LIBVIRT_BODIES 1
#define PCIPLAN_DETAIL_LIBVIRT_INLINE
#elif defined(PCIPLAN_COMPILED_LIBVIRT)
#define PCIPLAN_DETAIL_LIBVIRT_BODIES 0
#define PCIPLAN_DETAIL_LIBVIRT_INLINE
#else
#define PCIPLAN_DETAIL_LIBVIRT_BODIES 1
#define PCIPLAN_DETAIL_LIBVIRT_INLINE inline
#endif

#endif  // PCIPLAN_DETAIL_CONFIG_HPP
