// Built against an installed pciplan (find_package): the headers, the package config
// and the Boost dependency all have to be found for this to compile and run.
#include <pciplan/pciplan.hpp>

#include <iostream>

int main() {
  using namespace pciplan;
  static_assert(PluggableInto<pcie_root_port, pcie_root>);
  constexpr auto layout = make_fixed_layout<machines::q35>(place<pcie_root_port, "rp1">(on_root, at<1>),
                                                           place<models::virtio_net, "net0">(on<"rp1">));
  static_assert(layout.at("net0").guest_address == pci_address{0, 1, 0, 0});
  std::cout << layout;
  return layout.at("net0").guest_address == pci_address{0, 1, 0, 0} ? 0 : 1;
}
