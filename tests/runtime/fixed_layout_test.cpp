// Run-time use of a fixed layout: printing and lookups.
#include <catch2/catch.hpp>

#include <pciplan/pciplan.hpp>

#include <sstream>
#include <stdexcept>
#include <string>

using namespace pciplan;

namespace {
constexpr auto layout = make_fixed_layout<machines::q35>(
    place<pcie_root_port, "rp1">(on_root, at<1, 0>), place<pcie_root_port, "rp2">(on_root, at<1, 1>),
    place<models::virtio_net, "net0">(on<"rp1">), place<pcie_to_pci_bridge, "br">(on<"rp2">),
    place<models::e1000, "legacy">(on<"br">, at<1>));
}

TEST_CASE("a fixed layout prints as a tree in slot order with guest addresses", "[fixed_layout][format]") {
  std::ostringstream os;
  os << layout;
  CHECK(os.str() ==
        "pcie.0 (q35, x86_64)\n"
        "  0000:00:01.0  rp1  pcie-root-port (multifunction)  -> bus 01\n"
        "    0000:01:00.0  net0  virtio-net-pci\n"
        "  0000:00:01.1  rp2  pcie-root-port  -> bus 02\n"
        "    0000:02:00.0  br  pcie-pci-bridge  -> bus 03\n"
        "      0000:03:01.0  legacy  e1000\n");
}

TEST_CASE("fixed_layout::at finds entries by name and throws for unknown names at run time", "[fixed_layout]") {
  const std::string name = "legacy";
  CHECK(layout.at(name).guest_address == pci_address{0, 3, 1, 0});
  CHECK(layout.contains("net0"));
  CHECK_THROWS_AS(layout.at(std::string("nope")), std::invalid_argument);
  std::size_t count = 0;
  for (const auto& e : layout) count += e.controller ? 1 : 0;
  CHECK(count == 3);
}
