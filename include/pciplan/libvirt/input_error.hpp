// pciplan — libvirt/input_error.hpp: the exception for a document that is not a domain pciplan reads.
#ifndef PCIPLAN_LIBVIRT_INPUT_ERROR_HPP
#define PCIPLAN_LIBVIRT_INPUT_ERROR_HPP

#include <pciplan/detail/config.hpp>

#include <stdexcept>

namespace pciplan::inline v0::libvirt {

/// The input is not a domain pciplan can read: malformed or unsupported XML, an unknown
/// machine, a bad attribute. `what()` names the element and the line where it can.
class input_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace pciplan::inline v0::libvirt

#endif  // PCIPLAN_LIBVIRT_INPUT_ERROR_HPP
