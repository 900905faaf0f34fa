// pciplan — libvirt/detail/domain_state.hpp: what the reader builds from a domain and the writer writes into.
//
// The document (its text, the parsed tree and where the root element starts and ends)
// and what was read from it: the machine, the options, one pending device per device
// element that uses PCI (its node, its request, and the keys libvirt orders it by) and
// the `<controller type='pci'>` elements as controllers.
#ifndef PCIPLAN_LIBVIRT_DETAIL_DOMAIN_STATE_HPP
#define PCIPLAN_LIBVIRT_DETAIL_DOMAIN_STATE_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/planner/policies.hpp>
#include <pciplan/topology/controller.hpp>
#include <pciplan/topology/request.hpp>
#include <pciplan/vocabulary/machine_id.hpp>
#include <pciplan/libvirt/detail/name_table.hpp>
#include <pciplan/libvirt/detail/node_batch.hpp>
#include <pciplan/libvirt/detail/xml.hpp>

#include <pugixml.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace pciplan::inline v0::libvirt::detail {

/// A device element that uses PCI, as read: its request and what the writer needs.
struct pending_device {
  pugi::xml_node node;
  request req;
  std::string_view default_model{};
  bool model_attribute = false;  ///< the default model goes into a `model=` attribute (controllers)
  std::string_view element{};    ///< the class libvirt places it in (`hostdev` for `<interface type='hostdev'>`)
  int usb_index = -1;            ///< ICH9 USB2 companions: their set
  // libvirt's order within a device class (its def->… arrays)
  std::string_view controller_type{};
  unsigned controller_index = 0;
  int parsed_index = -1;         ///< the index the element gave (-1: none; libvirt orders by it)
  long disk_number = -1;         ///< vda = 0, vdb = 1, …, vdaa = 26 (libvirt orders disks by it)
  bool companion = false;        ///< a USB controller with <master>
  bool from_interface = false;   ///< an <interface type='hostdev'>: first among the hostdevs
  bool appended = false;         ///< a controller libvirt adds: after every other controller
};

/// A domain document and what was read from it. Not copyable or movable: the locator
/// and the requests' names point into it.
struct domain_state {
  explicit domain_state(std::string_view xml) : text(xml) {}
  domain_state(const domain_state&) = delete;
  domain_state& operator=(const domain_state&) = delete;

  std::string text;
  locator at{text};
  pugi::xml_document doc;
  std::ptrdiff_t root_start = -1;  ///< offset of "<domain" in text
  std::ptrdiff_t root_end = -1;    ///< offset just after its close tag
  pugi::xml_node devices_node;

  machine_id machine = machine_id::pc;
  std::string machine_name;
  bool new_definition = false;
  bool acpi = false;              ///< `<features><acpi/>`: on pc, QEMU hot-plugs into pci.0 only with ACPI
  plan_options options{};
  std::uint64_t memory_kib = 0;
  pugi::xml_node plan_element;  ///< <prefix:plan xmlns:prefix="urn:pciplan:plan:1"> in <metadata>
  std::string plan_prefix;
  std::vector<int> node_spares;   ///< by NUMA node: its own spare ports (-1: the default); options point here

  std::deque<std::string> names;  ///< requests' names point here (a deque keeps them in place)
  std::vector<pending_device> devices;
  name_table aliases;                                          ///< alias or name -> device (views into `names`)
  std::map<std::string, unsigned, std::less<>> next_number;    ///< name stem -> next number to try
  std::vector<controller> controllers;
  std::vector<pugi::xml_node> controller_nodes;  ///< parallel to controllers
  std::vector<request> requests;                 ///< the devices' requests, in libvirt's order
  /// What the last write added, still as markers in `doc` (see node_batch): whatever
  /// reads `doc` after a write materializes it first. Mutable: it changes how the
  /// written document is held, not what it is.
  mutable node_batch written;
};

}  // namespace pciplan::inline v0::libvirt::detail

#endif  // PCIPLAN_LIBVIRT_DETAIL_DOMAIN_STATE_HPP
