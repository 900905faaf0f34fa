// Run-time behaviour of the vocabulary: error messages, exceptions, formatting.
#include <catch2/catch.hpp>

#include <pciplan/pciplan.hpp>

#include <sstream>
#include <stdexcept>
#include <string>

using namespace pciplan;

namespace {
template <class T>
std::string str(const T& v) {
  std::ostringstream os;
  os << v;
  return os.str();
}
}  // namespace

TEST_CASE("parse errors read as a sentence naming the text, the column and the rule", "[address][errors]") {
  const auto r = parse_address("0000:00:20.0");
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::slot_out_of_range);
  CHECK(describe(r.error()) ==
        "invalid PCI address '0000:00:20.0' at column 9: the slot must be 0x00 to 0x1f (32 slots per bus)");
  CHECK(describe(parse_address("00:1f.9").error()) ==
        "invalid PCI address '00:1f.9' at column 7: the function must be 0 to 7 (8 functions per slot)");
  CHECK(describe(parse_address("nonsense").error()) ==
        "invalid PCI address 'nonsense' at column 9: expected [domain:]bus:slot.function in hexadecimal");
  CHECK(describe(parse_libvirt_address("domain='0x0000' slot='0x20'").error()) ==
        "invalid libvirt PCI address 'domain='0x0000' slot='0x20'' at column 23: the slot must be 0x00 to 0x1f "
        "(32 slots per bus)");
  CHECK(describe(parse_libvirt_address("port='1'").error()) ==
        "invalid libvirt PCI address 'port='1'' at column 1: unknown attribute (expected domain, bus, slot, "
        "function, type or multifunction)");
}

TEST_CASE("error codes have stable names", "[errors]") {
  CHECK(name_of(errc::slot_out_of_range) == "slot_out_of_range");
  CHECK(name_of(errc::attribute_unknown) == "attribute_unknown");
  CHECK(name_of(errc::none) == "none");
  CHECK(name_of(static_cast<errc>(200)) == "unknown");
}

TEST_CASE("the subject of an error is a bounded copy, marked when cut", "[errors]") {
  const std::string long_text(300, '0');
  const auto r = parse_address(long_text);
  REQUIRE_FALSE(r);
  CHECK(r.error().subject.size() == 96);
  CHECK(r.error().subject.truncated());
  CHECK(r.error().subject.view().ends_with("..."));
  bounded_text<4> t("abcdef");
  CHECK(t.view() == "a...");
}

TEST_CASE("reading the value of a failed result throws bad_result_access with the message", "[errors]") {
  const auto r = parse_address("0000:00:1f.8");
  CHECK_THROWS_AS(r.value(), bad_result_access);
  try {
    (void)r.value();
  } catch (const bad_result_access& e) {
    CHECK(std::string(e.what()) == describe(r.error()));
    CHECK(e.error().code == errc::function_out_of_range);
  }
  CHECK(r.value_or(pci_address{0, 0, 1, 0}) == pci_address{0, 0, 1, 0});
  const auto ok = parse_address("00:01.0");
  CHECK(ok.value() == pci_address{0, 0, 1, 0});
  CHECK(ok->slot == 1);
}

TEST_CASE("result has std::expected's and_then, transform, or_else and transform_error", "[errors]") {
  constexpr auto slot_of = [](const pci_address& a) -> unsigned { return a.slot; };
  constexpr auto next_slot = [](const pci_address& a) -> result<pci_address> {
    if (a.slot == 31) return error{errc::no_free_slot, {}, "is in the last slot"};
    return pci_address{a.domain, a.bus, a.slot + 1u, 0};
  };
  // a value goes through each step
  const result<unsigned> s = parse_address("00:1e.0").and_then(next_slot).transform(slot_of);
  REQUIRE(s);
  CHECK(*s == 31);
  // the first error stops the chain, whatever follows
  const result<unsigned> last = parse_address("00:1f.0").and_then(next_slot).and_then(next_slot).transform(slot_of);
  REQUIRE_FALSE(last);
  CHECK(last.error().code == errc::no_free_slot);
  const result<unsigned> bad = parse_address("00:1f.9").and_then(next_slot).transform(slot_of);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == errc::function_out_of_range);
  // or_else recovers from an error or gives another; a value passes through untouched
  const auto fallback = [](const error&) -> result<pci_address> { return pci_address{0, 0, 2, 0}; };
  CHECK(parse_address("00:1f.9").or_else(fallback).value() == pci_address{0, 0, 2, 0});
  CHECK(parse_address("00:05.0").or_else(fallback).value() == pci_address{0, 0, 5, 0});
  // transform_error rewrites the error only
  const auto renamed = [](const error& e) {
    error other = e;
    other.code = errc::invalid_request;
    return other;
  };
  CHECK(parse_address("00:1f.9").transform_error(renamed).error().code == errc::invalid_request);
  CHECK(parse_address("00:05.0").transform_error(renamed).value().slot == 5);
  // from an rvalue the value is moved through
  const result<std::string> text = result<std::string>(std::string(64, 'x')).transform([](std::string&& t) {
    return t + "y";
  });
  CHECK(text->size() == 65);
  // in constant evaluation too
  STATIC_REQUIRE(parse_address("00:03.0").and_then(next_slot).transform(slot_of).value() == 4);
}

TEST_CASE("out-of-range constructor arguments throw at run time", "[address][errors]") {
  volatile unsigned slot = 32;  // not a constant: the check runs at run time
  volatile unsigned function = 8;
  volatile unsigned bus = 256;
  CHECK_THROWS_WITH(pci_address(0, 0, slot, 0), "pciplan: a PCI slot must be 0x00 to 0x1f (32 slots per bus)");
  CHECK_THROWS_WITH(pci_address(0, 0, 0, function),
                    "pciplan: a PCI function must be 0 to 7 (8 functions per slot)");
  CHECK_THROWS_WITH(pci_address(0, bus, 0, 0),
                    "pciplan: a PCI bus number must be 0x00 to 0xff, a controller index 0 to 0xffff");
  volatile unsigned index = 0x10000;
  CHECK_THROWS_AS(controller_address(0, index, 0, 0), std::invalid_argument);
  CHECK_NOTHROW(controller_address(0, 0x1234u, 0, 0));
  CHECK_THROWS_AS(controller_address(0x10000u, 0u, 0u, 0u), std::invalid_argument);
  CHECK_NOTHROW(pci_address(0, 0xff, 0x1f, 7));
}

TEST_CASE("addresses and friends print as people read them", "[address][format]") {
  CHECK(str(pci_address{0, 0, 0x1f, 2}) == "0000:00:1f.2");
  // a libvirt address (bus = controller index) in words, never like a guest address
  CHECK(to_string(controller_address{1, 0x10, 3, 0}) == "domain 0x0001, bus index 16, slot 0x03, function 0");
  CHECK(str(controller_address{0, 2, 0x1f, 7}) == "bus index 2, slot 0x1f, function 7");
  CHECK(to_text(controller_address{1, 0x10, 3, 0}).view() == "0001:10:03.0");
  CHECK(str(bus_number{0x41}) == "65");
  CHECK(str(controller_index{7}) == "7");
  CHECK(str(connect::pci_endpoint | connect::auto_assign) == "auto-assign|standard PCI device");
  CHECK(str(connect_set{}) == "none");
  CHECK(str(numbering::chassis_nr) == "chassisNr");
}

TEST_CASE("formatting and parsing round-trip for every bus, slot and function", "[address][laws]") {
  std::size_t checked = 0;
  for (unsigned domain : {0u, 1u, 0xffffu}) {
    for (unsigned bus = 0; bus <= max_bus; ++bus) {
      for (unsigned slot = 0; slot <= max_slot; ++slot) {
        for (unsigned fn = 0; fn <= max_function; ++fn) {
          const pci_address a{domain, bus, slot, fn};
          const controller_address c{domain, bus, slot, fn};
          REQUIRE(parse_address(to_text(a).view()).value() == a);
          REQUIRE(parse_libvirt_address(to_libvirt_text(c).view()).value() == c);
          ++checked;
        }
      }
    }
  }
  CHECK(checked == 3u * 256u * 32u * 8u);
}
