// The address vocabulary: pci_address / controller_address, parsing and formatting.
#include <catch2/catch.hpp>

#include "../support/support.hpp"

#include <type_traits>

using namespace pciplan;
using namespace pciplan::literals;

template <pci_address A>
struct pinned_at {
  static constexpr pci_address address = A;
};

TEST_CASE("a guest bus number and a controller index are distinct types (DESIGN.md words)", "[address]") {
  STATIC_REQUIRE_FALSE(std::is_convertible_v<controller_index, bus_number>);
  STATIC_REQUIRE_FALSE(std::is_convertible_v<bus_number, controller_index>);
  STATIC_REQUIRE_FALSE(std::is_constructible_v<pci_address, unsigned, controller_index, unsigned, unsigned>);
  STATIC_REQUIRE(std::is_constructible_v<controller_address, unsigned, controller_index, unsigned, unsigned>);
  STATIC_REQUIRE_FALSE(std::is_same_v<pci_address, controller_address>);
  STATIC_REQUIRE(std::is_same_v<decltype(pci_address{}.bus), bus_number>);
  STATIC_REQUIRE(std::is_same_v<decltype(controller_address{}.bus), controller_index>);
}

TEST_CASE("pci_address is usable as a template argument", "[address]") {
  STATIC_REQUIRE(pinned_at<pci_address{0, 1, 0, 0}>::address.bus == bus_number{1});
  STATIC_REQUIRE(pinned_at<"0000:00:1f.2"_pci>::address == pci_address{0, 0, 0x1f, 2});
  STATIC_REQUIRE_FALSE(std::is_same_v<pinned_at<pci_address{0, 1, 0, 0}>, pinned_at<pci_address{0, 2, 0, 0}>>);
}

TEST_CASE("addresses order by domain, bus, slot, function; devfn is slot*8+function", "[address]") {
  STATIC_REQUIRE(pci_address{0, 0, 0x1f, 7} < pci_address{0, 1, 0, 0});
  STATIC_REQUIRE(pci_address{0, 1, 0, 0} < pci_address{1, 0, 0, 0});
  STATIC_REQUIRE(pci_address{0, 0, 2, 1} < pci_address{0, 0, 2, 2});
  STATIC_REQUIRE(pci_address{0, 0, 0x1f, 2}.devfn() == 0xfa);
  STATIC_REQUIRE(pci_address{0, 0, 1, 0}.devfn() == 8);
}

TEST_CASE("to_text writes the lspci form 0000:00:1f.2", "[address][format]") {
  STATIC_REQUIRE(to_text(pci_address{0, 0, 0x1f, 2}) == std::string_view("0000:00:1f.2"));
  STATIC_REQUIRE(to_text(pci_address{0xffff, 0xff, 0x1f, 7}) == std::string_view("ffff:ff:1f.7"));
  STATIC_REQUIRE(to_text(controller_address{0, 3, 1, 0}) == std::string_view("0000:03:01.0"));
  STATIC_REQUIRE(to_text(controller_address{0, 0x123, 1, 0}) == std::string_view("0000:123:01.0"));
}

TEST_CASE("to_libvirt_text writes libvirt's attribute form (RULES.md L1.4, L5)", "[address][format]") {
  STATIC_REQUIRE(to_libvirt_text(controller_address{0, 0, 0x1f, 2}) ==
                 std::string_view("domain='0x0000' bus='0x00' slot='0x1f' function='0x2'"));
  STATIC_REQUIRE(to_libvirt_text(controller_address{0, 0x0a, 3, 0}) ==
                 std::string_view("domain='0x0000' bus='0x0a' slot='0x03' function='0x0'"));
}

TEST_CASE("parse_address reads [domain:]bus:slot.function", "[address][parse]") {
  STATIC_REQUIRE(*parse_address("0000:00:1f.2") == pci_address{0, 0, 0x1f, 2});
  STATIC_REQUIRE(*parse_address("00:1f.2") == pci_address{0, 0, 0x1f, 2});
  STATIC_REQUIRE(*parse_address("0001:0A:1F.7") == pci_address{1, 10, 31, 7});
  STATIC_REQUIRE(*parse_address("0:1:2.3") == pci_address{0, 1, 2, 3});
  STATIC_REQUIRE(*parse_address<controller_index>("0000:05:00.0") == controller_address{0, 5, 0, 0});
}

TEST_CASE("parse_address refuses out-of-range fields with the field's error code", "[address][parse]") {
  STATIC_REQUIRE(parse_address("0000:00:20.0").error().code == errc::slot_out_of_range);
  STATIC_REQUIRE(parse_address("0000:00:20.0").error().position == 8);
  STATIC_REQUIRE(parse_address("0000:00:1f.8").error().code == errc::function_out_of_range);
  STATIC_REQUIRE(parse_address("0000:00:1f.8").error().position == 11);
  STATIC_REQUIRE(parse_address("0000:100:00.0").error().code == errc::bus_out_of_range);
  STATIC_REQUIRE(parse_address("10000:00:00.0").error().code == errc::domain_out_of_range);
}

TEST_CASE("parse_address refuses text that is not an address", "[address][parse]") {
  STATIC_REQUIRE(parse_address("").error().code == errc::address_syntax);
  STATIC_REQUIRE(parse_address("00:1f").error().code == errc::address_syntax);
  STATIC_REQUIRE(parse_address("1f.2").error().code == errc::address_syntax);
  STATIC_REQUIRE(parse_address("0:0:0:1f.2").error().code == errc::address_syntax);
  STATIC_REQUIRE(parse_address("00:1g.2").error().code == errc::address_syntax);
  STATIC_REQUIRE(parse_address("00:1g.2").error().position == 3);
  STATIC_REQUIRE(parse_address("00::1.2").error().code == errc::address_syntax);
  STATIC_REQUIRE(parse_address("00:01.").error().code == errc::address_syntax);
  STATIC_REQUIRE(parse_address("00:01.0 ").error().code == errc::address_syntax);
  STATIC_REQUIRE(parse_address("000000000:00:01.0").error().code == errc::address_syntax);
}

TEST_CASE("parse_libvirt_address reads libvirt's attribute form (RULES.md L4.10)", "[address][parse]") {
  STATIC_REQUIRE(*parse_libvirt_address("domain='0x0000' bus='0x00' slot='0x1f' function='0x2'") ==
                 controller_address{0, 0, 0x1f, 2});
  // any order, double quotes, type and multifunction accepted
  STATIC_REQUIRE(*parse_libvirt_address("type=\"pci\" function=\"0x1\" slot=\"0x02\" bus=\"0x03\" multifunction='on'") ==
                 controller_address{0, 3, 2, 1});
  // omitted fields are 0 (RULES.md L4.10: `<address type='pci' bus='4'/>` is 04:00.0)
  STATIC_REQUIRE(*parse_libvirt_address("bus='4'") == controller_address{0, 4, 0, 0});
  // numbers as C reads them with base 0: hex, octal, decimal
  STATIC_REQUIRE(*parse_libvirt_address("slot='31'") == controller_address{0, 0, 31, 0});
  STATIC_REQUIRE(*parse_libvirt_address("slot='010'") == controller_address{0, 0, 8, 0});
  STATIC_REQUIRE(parse_libvirt_address<bus_number>("bus='0x02'")->bus == bus_number{2});
}

TEST_CASE("parse_libvirt_address refuses bad attributes with a code and a position", "[address][parse]") {
  STATIC_REQUIRE(parse_libvirt_address("slot='0x20'").error().code == errc::slot_out_of_range);
  STATIC_REQUIRE(parse_libvirt_address("slot='0x20'").error().position == 6);
  STATIC_REQUIRE(parse_libvirt_address("function='8'").error().code == errc::function_out_of_range);
  STATIC_REQUIRE(parse_libvirt_address<bus_number>("bus='256'").error().code == errc::bus_out_of_range);
  // a controller index goes to 0xffff (several PCI domains); a guest bus number to 0xff
  STATIC_REQUIRE(parse_libvirt_address("bus='256'")->bus == controller_index{256});
  STATIC_REQUIRE(parse_libvirt_address("bus='0x10000'").error().code == errc::bus_out_of_range);
  STATIC_REQUIRE(parse_libvirt_address("domain='0x10000'").error().code == errc::domain_out_of_range);
  STATIC_REQUIRE(parse_libvirt_address("slto='1'").error().code == errc::attribute_unknown);
  STATIC_REQUIRE(parse_libvirt_address("slot='1' slot='2'").error().code == errc::attribute_repeated);
  STATIC_REQUIRE(parse_libvirt_address("slot='x'").error().code == errc::attribute_value);
  STATIC_REQUIRE(parse_libvirt_address("slot='08'").error().code == errc::attribute_value);
  STATIC_REQUIRE(parse_libvirt_address("type='drive'").error().code == errc::attribute_value);
  STATIC_REQUIRE(parse_libvirt_address("multifunction='yes'").error().code == errc::attribute_value);
  STATIC_REQUIRE(parse_libvirt_address("slot=1").error().code == errc::address_syntax);
  STATIC_REQUIRE(parse_libvirt_address("slot='1").error().code == errc::address_syntax);
  STATIC_REQUIRE(parse_libvirt_address("slot='1'bus='2'").error().code == errc::address_syntax);
  STATIC_REQUIRE(parse_libvirt_address("   ").error().code == errc::address_syntax);
}

TEST_CASE("formatting and parsing round-trip for every slot and function", "[address][laws]") {
  // (every bus too in the run-time tests; clang's constexpr step limit stops at this much)
  PCIPLAN_TEST_CONSTEXPR bool round_trips = [] {
    for (unsigned bus : {0xa5u}) {
      for (unsigned slot = 0; slot <= max_slot; ++slot) {
        for (unsigned fn = 0; fn <= max_function; ++fn) {
          const pci_address a{0, bus, slot, fn};
          if (*parse_address(to_text(a).view()) != a) return false;
          const controller_address c{0, bus, slot, fn};
          if (*parse_libvirt_address(to_libvirt_text(c).view()) != c) return false;
        }
      }
    }
    return true;
  }();
  STATIC_REQUIRE(round_trips);
}
