// pciplan's vocabulary at a glance: for every controller kind, what it plugs into and
// what its bus takes; for every machine type, its root and the chain of controllers
// that a conventional PCI NIC (e1000) and a PCIe NIC (e1000e) need there. Every line
// is computed from the traits at compile time (Boost.Hana over the kind lists).
#include <pciplan/pciplan.hpp>

#include <boost/hana/for_each.hpp>
#include <boost/hana/is_empty.hpp>

#include <iostream>
#include <string_view>

namespace hana = boost::hana;
using namespace pciplan;

namespace {

// libvirt calls the pseries PHB a pci-root too; show its QEMU device to tell them apart.
std::string_view display_name(const controller_descriptor& d) {
  return d.role == controller_role::extra_root ? d.qemu_device() : d.model;
}

void print_kinds(auto kinds) {
  bool first = true;
  hana::for_each(kinds, [&](auto t) {
    std::cout << (first ? "" : ", ") << display_name(descriptor_of<typename decltype(t)::type>);
    first = false;
  });
  if (first) std::cout << "nothing (a root)";
}

template <class Device, class Machine>
void print_chain() {
  constexpr auto chain = shortest_chain<Device, Machine>();
  std::cout << "    " << device_traits<Device>::qemu_device << ": ";
  if constexpr (chain == hana::nothing) {
    std::cout << "no PCI path\n";
  } else {
    std::cout << controller_traits<root_of<Machine>>::root_bus;
    hana::for_each(chain.value(),
                   [](auto t) { std::cout << " -> " << display_name(descriptor_of<typename decltype(t)::type>); });
    std::cout << " -> device\n";
  }
}

}  // namespace

int main() {
  std::cout << "Controller kinds\n";
  hana::for_each(controller_kinds, [](auto t) {
    using kind = typename decltype(t)::type;
    constexpr controller_descriptor d = descriptor_of<kind>;
    std::cout << "  " << display_name(d);
    if (!d.qemu_device().empty() && d.qemu_device() != display_name(d)) std::cout << " (" << d.qemu_device() << ")";
    std::cout << "\n    plugs into: ";
    print_kinds(parents_of<kind>());
    std::cout << "\n    its bus takes: " << d.accepts << ", slots " << unsigned{d.slots.first} << "-"
              << unsigned{d.slots.last} << (d.hotpluggable() ? ", hot-pluggable" : "") << "\n";
  });
  std::cout << "\nMachine types\n";
  hana::for_each(machine_types, [](auto t) {
    using machine = typename decltype(t)::type;
    std::cout << "  " << machine_traits<machine>::arch << " " << machine_traits<machine>::name << " ("
              << machine_traits<machine>::chipset << ")";
    if constexpr (has_pci_v<machine>) {
      std::cout << ": root " << display_name(descriptor_of<root_of<machine>>) << "\n";
    } else {
      std::cout << ": no PCI, " << machine_traits<machine>::virtio_mmio_transports << " virtio-mmio transports\n";
    }
    print_chain<models::e1000, machine>();
    print_chain<models::e1000e, machine>();
  });
  return 0;
}
