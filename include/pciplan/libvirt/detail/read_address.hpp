// pciplan — libvirt/detail/read_address.hpp: the one reader of `<address type='pci'>`, for every element.
//
// libvirt's form of a PCI address: bus = the index of the controller whose bus it is.
// Each field is a number as libvirt reads its attributes (`slot='0x1f'`, `slot='037'`
// and `slot='31'` are one slot), within its range; an absent field is 0. An address
// whose fields are all 0 means "on PCI, anywhere" (RULES.md L4.10).
#ifndef PCIPLAN_LIBVIRT_DETAIL_READ_ADDRESS_HPP
#define PCIPLAN_LIBVIRT_DETAIL_READ_ADDRESS_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/topology/controller.hpp>
#include <pciplan/vocabulary/address.hpp>
#include <pciplan/libvirt/detail/xml.hpp>

#include <pugixml.hpp>

#include <cstdint>
#include <optional>
#include <string_view>

namespace pciplan::inline v0::libvirt::detail {

/// What an `<address type='pci'>` gives.
struct given_pci_address {
  controller_address address;
  toggle multifunction = toggle::unset;  ///< its `multifunction='on|off'`
};

/// The address of an `<address type='pci' …/>` element (its type is the caller's
/// business); nullopt when domain, bus and slot are 0, whatever the function: libvirt
/// takes such an address for none and assigns one (9.0 and 11.3). Throws input_error
/// for a field that is not a number or out of range.
[[nodiscard]] inline std::optional<given_pci_address> read_pci_address(const locator& at, pugi::xml_node address) {
  const auto domain = number_attribute(at, address, "domain", 0, 0xffff).value_or(0);
  const auto bus = number_attribute(at, address, "bus", 0, 0xff).value_or(0);
  const auto slot = number_attribute(at, address, "slot", 0, 0x1f).value_or(0);
  const auto function = number_attribute(at, address, "function", 0, 7).value_or(0);
  if (domain == 0 && bus == 0 && slot == 0) return std::nullopt;
  given_pci_address given{};
  given.address = controller_address(static_cast<std::uint16_t>(domain), static_cast<std::uint8_t>(bus),
                                     static_cast<std::uint8_t>(slot), static_cast<std::uint8_t>(function));
  const std::string_view mf = address.attribute("multifunction").value();
  given.multifunction = mf == "on" ? toggle::on : mf == "off" ? toggle::off : toggle::unset;
  return given;
}

}  // namespace pciplan::inline v0::libvirt::detail

#endif  // PCIPLAN_LIBVIRT_DETAIL_READ_ADDRESS_HPP
