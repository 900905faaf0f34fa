// pciplan — libvirt/detail/read_devices.hpp: the device elements that use PCI, as requests to plan.
//
// Each device element the device table maps to a catalogue device becomes a request
// (RULES.md L3): its device, its link, and the address its `<address>` gives
// (type 'pci': that address, or "PCI, anywhere" when all zero; 'virtio-mmio': not on
// PCI; any other known type: not a PCI device at all). Every such device is named by its
// `<alias name='…'/>`, or by a stem and the lowest free number as libvirt names it
// (net0, virtio-disk1, usb2, …). Controllers other than type 'pci' get their index here
// (the lowest free one of their type; an ICH9 USB2 controller joins the set before it).
// A `<shmem>` with a `<size>` gets the BARs QEMU gives it (read_shmem_size).
#ifndef PCIPLAN_LIBVIRT_DETAIL_READ_DEVICES_HPP
#define PCIPLAN_LIBVIRT_DETAIL_READ_DEVICES_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/detail/numbers.hpp>
#include <pciplan/kinds/device_kinds.hpp>
#include <pciplan/topology/request.hpp>
#include <pciplan/vocabulary/bars.hpp>
#include <pciplan/vocabulary/machine_id.hpp>
#include <pciplan/libvirt/detail/device_order.hpp>
#include <pciplan/libvirt/detail/device_table.hpp>
#include <pciplan/libvirt/detail/domain_state.hpp>
#include <pciplan/libvirt/detail/read_address.hpp>
#include <pciplan/libvirt/detail/xml.hpp>

#include <pugixml.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>

namespace pciplan::inline v0::libvirt::detail {

/// The request name of the device just added: its alias, or the stem and the lowest
/// number no other device has. Throws input_error when the alias is taken.
inline std::string_view unique_name(domain_state& s, pugi::xml_node n, std::string_view stem) {
  const std::size_t device = s.devices.size() - 1;
  const std::string_view alias = n.child("alias").attribute("name").value();
  std::string companion_stem;
  if (!alias.empty()) {
    const std::size_t* taken = s.aliases.find(alias);
    if (taken == nullptr) {
      const std::string_view kept = s.names.emplace_back(alias);
      s.aliases.insert(kept, device);
      return kept;
    }
    // a running domain's XML gives the ICH9 USB2 companions their EHCI's alias: USB
    // controllers of one index share it, and the others are named as without an alias
    const pugi::xml_node first = *taken < s.devices.size() ? s.devices[*taken].node : pugi::xml_node{};
    const auto usb_index = [](pugi::xml_node e) {
      return std::string_view(e.name()) == "controller" && std::string_view(e.attribute("type").value()) == "usb"
                 ? std::string_view(e.attribute("index").value())
                 : std::string_view("-");
    };
    if (usb_index(n) == "-" || usb_index(n) != usb_index(first)) {
      s.at.fail(n, "alias '" + std::string(alias) + "' is used by two devices");
    }
    // "usb-companion0", …: not a name libvirt gives, so no later alias collides with it
    companion_stem = std::string(alias) + "-companion";
    stem = companion_stem;
  }
  auto next = s.next_number.find(stem);
  if (next == s.next_number.end()) next = s.next_number.try_emplace(std::string(stem), 0).first;
  std::string name(stem);
  for (unsigned& k = next->second;; ++k) {
    name.resize(stem.size());
    pciplan::detail::append_decimal(name, k);
    if (s.aliases.find(name) == nullptr) {
      ++k;
      const std::string_view kept = s.names.emplace_back(name);
      s.aliases.insert(kept, device);
      return kept;
    }
  }
}

/// Reads a device element that may use PCI (`choice` from the device table) and names
/// it after `stem`: the new pending device, or nullptr when the element does not use
/// PCI. `element` is the class libvirt places it in; `model_attribute` says that a
/// default model is written into a `model=` attribute. Throws input_error.
inline pending_device* add_device(domain_state& s, pugi::xml_node n, const device_choice& choice,
                                  std::string_view element, std::string_view stem, bool model_attribute = false) {
  if (choice.device == nullptr) return nullptr;
  request r{};
  r.device = *choice.device;
  r.link = choice.link;
  if (const pugi::xml_node address = n.child("address")) {
    const std::string_view type = address.attribute("type").value();
    if (type == "virtio-mmio") {
      r.via = transport::mmio;
    } else if (type == "pci") {
      r.via = transport::pci;
      if (const auto given = read_pci_address(s.at, address)) {
        r.apply(at_address{given->address});
        r.via = transport::automatic;
      }
    } else if (known_address_type(type)) {
      if (!type.empty()) return nullptr;  // ccw, spapr-vio, isa, usb, drive, unassigned, …: not on PCI
    } else {
      s.at.fail(address, "unknown address type '" + std::string(type) + "' (expected one of " +
                             std::string(address_types) + ")");
    }
  }
  pending_device d{};
  d.node = n;
  d.req = r;
  d.default_model = choice.default_model;
  d.model_attribute = model_attribute;
  d.element = element;
  pending_device& added = s.devices.emplace_back(d);
  added.req.name = unique_name(s, n, stem);
  return &s.devices.back();
}

/// pseries keeps host devices apart by IOMMU group (RULES.md L2.6). Without the
/// host's sysfs, one host device (domain, bus, slot: all its functions) is one group.
[[nodiscard]] inline unsigned isolation_of(pugi::xml_node host) {
  const auto part = [&](const char* name) { return number_of(host.attribute(name).value()).value_or(0); };
  const std::uint64_t group = (part("domain") & 0xffffu) << 13 | (part("bus") & 0xffu) << 5 | (part("slot") & 0x1fu);
  return 1 + static_cast<unsigned>(group & 0x1fffffffu);
}

/// How a device element other than `<controller>` uses PCI.
struct device_use {
  device_choice choice{};          ///< no device: the element does not use PCI
  std::string_view element{};      ///< the class libvirt places it in
  std::string_view stem{};         ///< of its name
  bool model_attribute = false;    ///< a default model goes into a `model=` attribute
  bool from_interface = false;     ///< `<interface type='hostdev'>`: a hostdev, first among them
  bool isolated = false;           ///< pseries: its own isolation group, by its host address
};

/// What the device table says of an element (RULES.md L3.2). `seen_video` is
/// whether a `<video>` came before (the first one is the primary one).
[[nodiscard]] inline device_use device_use_of(pugi::xml_node n, std::string_view el, machine_id machine,
                                              bool& seen_video) {
  using namespace pciplan::models;
  const auto model = [&] { return std::string_view(n.attribute("model").value()); };
  const bool pseries = machine == machine_id::pseries;
  if (el == "disk") {
    if (std::string_view(n.child("target").attribute("bus").value()) != "virtio") return {};
    return {virtio_variant<virtio_blk, virtio_blk_transitional, virtio_blk_non_transitional>(model()), el,
            "virtio-disk"};
  }
  if (el == "interface") {
    const std::string_view type = n.attribute("type").value();
    const device_choice c = interface_device(type, n.child("model").attribute("type").value(), machine);
    if (type == "hostdev") return {c, "hostdev", "hostdev", false, true, pseries};
    return {c, "interface", "net"};
  }
  if (el == "hostdev") {
    const std::string_view type = n.attribute("type").value();
    const std::string_view mode = n.attribute("mode").value();
    device_choice c{};
    if (mode != "capabilities" && type == "pci") c = {dev<vfio_pci>};
    if (type == "scsi_host") c = virtio_link<vhost_scsi>(model());
    if (type == "mdev" && model() == "vfio-pci") c = {dev<vfio_pci>};
    return {c, el, "hostdev", false, false, pseries && type == "pci"};
  }
  if (el == "filesystem") {
    return {filesystem_device(n.child("driver").attribute("type").value(), n.attribute("type").value(), model()), el,
            "fs"};
  }
  if (el == "video") {
    const pugi::xml_node m = n.child("model");
    const bool primary = !seen_video || std::string_view(m.attribute("primary").value()) == "yes";
    seen_video = true;
    return {video_device(m.attribute("type").value(), primary, machine), el, "video"};
  }
  if (el == "sound") return {sound_device(model()), el, "sound"};
  if (el == "input") {
    return {input_device(n.attribute("type").value(), n.attribute("bus").value(), model()), el, "input"};
  }
  if (el == "memballoon") {
    if (model() == "none" || machine == machine_id::s390x_ccw) return {};
    return {virtio_variant<virtio_balloon, virtio_balloon_transitional, virtio_balloon>(model()), el, "balloon"};
  }
  if (el == "rng") {
    return {virtio_variant<virtio_rng, virtio_rng_transitional, virtio_rng>(model()), el, "rng"};
  }
  if (el == "watchdog") {
    if (model() != "i6300esb") return {};
    return {{dev<i6300esb>}, el, "watchdog"};
  }
  if (el == "shmem") {
    const bool doorbell = std::string_view(n.child("model").attribute("type").value()) == "ivshmem-doorbell";
    return {{doorbell ? dev<ivshmem_doorbell> : dev<ivshmem_plain>}, el, "shmem"};
  }
  if (el == "serial") {
    if (std::string_view(n.child("target").attribute("type").value()) != "pci-serial") return {};
    return {{dev<pci_serial>}, el, "serial"};
  }
  if (el == "iommu") {
    if (model() == "virtio") return {{dev<virtio_iommu>}, el, "iommu"};
    if (model() == "amd") return {{dev<amd_iommu>}, el, "iommu"};
    return {};
  }
  if (el == "vsock") {
    return {virtio_variant<vhost_vsock, vhost_vsock_transitional, vhost_vsock>(model()), el, "vsock"};
  }
  if (el == "memory") {
    if (model() == "virtio-mem") return {{dev<virtio_mem>}, el, "memory"};
    if (model() == "virtio-pmem") return {{dev<virtio_pmem>}, el, "memory"};
    return {};
  }
  if (el == "crypto") {
    if (model() != "virtio") return {};
    return {{dev<virtio_crypto>}, el, "crypto"};
  }
  if (el == "panic") {
    std::string_view m = model();
    const bool arm_like = machine == machine_id::aarch64_virt || machine == machine_id::riscv64_virt ||
                          machine == machine_id::loongarch64_virt;
    if (m.empty() && arm_like) m = "pvpanic";
    // x86 without a model is the ISA pvpanic; model='pvpanic' is pvpanic-pci on x86 too
    // (libvirt 11.3; 9.0 refuses the model there)
    if (m != "pvpanic" || !(arm_like || is_x86(machine))) return {};
    return {{dev<pvpanic_pci>, link_need::catalogue, "pvpanic"}, el, "panic", true};
  }
  if (el == "pstore") {
    if (std::string_view(n.attribute("backend").value()) != "acpi-erst") return {};
    return {{dev<acpi_erst>}, el, "pstore"};
  }
  return {};
}

/// A `<shmem>`'s `<size>` as the BARs QEMU gives the device: BAR 0, 256
/// bytes of 32-bit registers, and BAR 2, the shared memory, 64-bit prefetchable. libvirt
/// reads the size in bytes unless a unit says otherwise; without a size (or 0) it is 4
/// MiB, the catalogue's BARs. libvirt refuses to start a domain whose size is not a power
/// of two or less than 1 MiB (9.0 and 11.3), and a size on an ivshmem-doorbell, whose
/// shared memory the ivshmem server sets, at definition. Throws input_error.
inline void read_shmem_size(const domain_state& s, pugi::xml_node n, request& r) {
  const pugi::xml_node size = n.child("size");
  if (!size) return;
  const std::string name = "shmem '" + std::string(n.attribute("name").value()) + "'";
  if (std::string_view(n.child("model").attribute("type").value()) == "ivshmem-doorbell") {
    s.at.fail(n, name + " is an ivshmem-doorbell, which takes no <size> (libvirt refuses one: the ivshmem server "
                        "sets the shared memory); give its BARs with the pciplan metadata's bars attribute");
  }
  const auto value = number_of(size.child_value(), number_syntax::decimal);
  if (!value) s.at.fail(n, "the size of " + name + " is not a number");
  const std::string_view unit = size.attribute("unit").value();
  const auto scale = unit_scale(unit, 1);  // bytes per unit; no unit: bytes
  if (!scale) {
    s.at.fail(n, "the size of " + name + " has an unknown unit '" + std::string(unit) +
                     "' (expected b, KiB, MiB, GiB, TiB, k, M, G, T, …)");
  }
  if (*value > (std::uint64_t{1} << 62) / *scale) s.at.fail(n, "the size of " + name + " is too large");
  const std::uint64_t bytes = *value * *scale;
  if (bytes == 0) return;  // libvirt's default, 4 MiB
  if ((bytes & (bytes - 1)) != 0) {
    s.at.fail(n, "the size of " + name + ", " + std::to_string(bytes) +
                     " bytes, is not a power of two (QEMU maps the shared memory as one BAR; libvirt refuses to start "
                     "the domain)");
  }
  if (bytes < (std::uint64_t{1} << 20)) {
    s.at.fail(n, "the size of " + name + ", " + std::to_string(bytes) +
                     " bytes, is less than 1 MiB (libvirt refuses to start the domain)");
  }
  r.apply(device_bars{}.mem32(256).pref64(bytes));
}

/// The indexes of the controllers other than type 'pci', as they are handed out.
struct controller_indexes {
  std::map<std::string, std::set<unsigned>, std::less<>> used;  ///< per controller type
  int previous_usb_set = -1;  ///< the index of the USB controller just before, when an ICH9 set
  std::map<unsigned, std::set<std::string, std::less<>>> usb_set_models;
};

/// A `<controller>` other than type 'pci'. An index-less ICH9 USB2 controller joins the
/// set of the USB controller just before it when that is an ICH9 set without this
/// model; anything else index-less takes the lowest free index of its type, which is
/// written into the document. Throws input_error.
inline void read_device_controller(domain_state& s, pugi::xml_node n, controller_indexes& indexes) {
  const std::string_view type = n.attribute("type").value();
  if (type.empty()) s.at.fail(n, "a controller needs a type attribute");
  const std::string_view model = n.attribute("model").value();
  if (!known_controller_model(type, model)) {
    s.at.fail(n, "unknown " + std::string(type) + " controller model '" + std::string(model) + "' (expected one of " +
                     std::string(controller_models(type)) + ")");
  }
  if (qemu_refuses_controller_model(type, model)) {
    s.at.fail(n, "libvirt's QEMU driver does not support the " + std::string(type) + " controller model '" +
                     std::string(model) + "'");
  }
  auto index = number_attribute(s.at, n, "index", 0, 255, number_syntax::decimal);
  const int parsed_index = index ? static_cast<int>(*index) : -1;
  const bool ich9 = type == "usb" && model.substr(0, 5) == "ich9-";
  if (!index) {
    const int set = indexes.previous_usb_set;
    if (ich9 && set >= 0 && indexes.usb_set_models[static_cast<unsigned>(set)].count(model) == 0) {
      index = static_cast<unsigned>(set);
      indexes.used["usb"].insert(static_cast<unsigned>(*index));
    } else {
      std::set<unsigned>& used = indexes.used[std::string(type)];
      unsigned i = 0;
      while (used.count(i) != 0) ++i;
      used.insert(i);
      index = i;
    }
    set_attribute(n, "index", std::to_string(*index));
  }
  if (type == "usb") {
    indexes.previous_usb_set = ich9 ? static_cast<int>(*index) : -1;
    if (ich9) indexes.usb_set_models[static_cast<unsigned>(*index)].insert(std::string(model));
  }
  const device_choice c = controller_device(type, model, static_cast<unsigned>(*index), s.machine, s.new_definition);
  pending_device* d = add_device(s, n, c, "controller", type, true);
  if (d == nullptr) return;
  if (c.device->companion_function >= 0) d->usb_index = static_cast<int>(*index);
  d->controller_type = type;
  d->controller_index = static_cast<unsigned>(*index);
  d->parsed_index = parsed_index;
  d->companion = static_cast<bool>(n.child("master"));
  // libvirt keeps the model-less USB controller of an existing q35 domain on pcie.0
  // unless a conventional PCI slot exists anyway (the corpus: usb-controller-default-q35)
  if (type == "usb" && model.empty() && *index == 0 && s.machine == machine_id::q35 && !s.new_definition) {
    d->req.otherwise = fallback::root_bus;
  }
}

/// Every device element of `<devices>` that uses PCI, in document order. Throws input_error.
inline void read_devices(domain_state& s) {
  controller_indexes indexes;
  for (pugi::xml_node n = s.devices_node.child("controller"); n; n = n.next_sibling("controller")) {
    const std::string_view type = n.attribute("type").value();
    if (type == "pci") continue;
    if (const auto index = number_attribute(s.at, n, "index", 0, 255, number_syntax::decimal)) {
      indexes.used[std::string(type)].insert(static_cast<unsigned>(*index));
    }
  }
  bool seen_video = false;
  for (pugi::xml_node n = s.devices_node.first_child(); n; n = n.next_sibling()) {
    if (n.type() != pugi::node_element) continue;
    const std::string_view el = n.name();
    if (el == "controller") {
      if (std::string_view(n.attribute("type").value()) != "pci") read_device_controller(s, n, indexes);
      continue;
    }
    const device_use use = device_use_of(n, el, s.machine, seen_video);
    pending_device* d = add_device(s, n, use.choice, use.element, use.stem, use.model_attribute);
    if (d == nullptr) continue;
    if (el == "disk") d->disk_number = disk_number(n.child("target").attribute("dev").value());
    if (use.from_interface) {
      d->req.device.libvirt.element = "hostdev";
      d->from_interface = true;
    }
    if (use.isolated) d->req.isolation = isolation_of(n.child("source").child("address"));
    if (el == "shmem") read_shmem_size(s, n, d->req);
  }
}

}  // namespace pciplan::inline v0::libvirt::detail

#endif  // PCIPLAN_LIBVIRT_DETAIL_READ_DEVICES_HPP
