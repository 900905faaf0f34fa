// pciplan — libvirt/attach.hpp: attach a device to a libvirt domain, or detach one, as
// `virsh attach-device` / `detach-device` would — in the definition (`--config`) or in
// the running guest (`--live`) — and say where the device goes before anyone tries.
//
//   const attach_outcome a = attach_device_xml(dumpxml, "<interface type='network'>…</interface>",
//                                              {.policy = policy_kind::libvirt, .live = true});
//   if (a.planned()) std::cout << a.device_xml;       // the element with its <address>
//   else std::cerr << a.message << '\n';               // why it does not fit (a.failed)
//   for (const monitor_command& c : a.commands) …      // live: device_add for QEMU's monitor
//
// --config: the domain with the device appended to `<devices>` is planned as `pciplan
// plan` plans a domain (its devices keep their addresses; the policy may add controllers,
// and the pciplan policy keeps its spare ports). --live: the domain is the running
// guest's definition (`virsh dumpxml`: every PCI device has its address) and the device is
// hot-added (planner/hotplug.hpp: only a slot QEMU can hot-plug now, nothing added, the
// address the next cold plan gives it). Devices the reader adds for the new one (an
// implicit SCSI controller) are hot-added with it. A NUMA node for the new device goes in
// the domain's pciplan metadata, keyed by the device's `<alias name='ua-…'/>`.
#ifndef PCIPLAN_LIBVIRT_ATTACH_HPP
#define PCIPLAN_LIBVIRT_ATTACH_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/emit/monitor.hpp>
#include <pciplan/planner/hotplug.hpp>
#include <pciplan/topology/request.hpp>
#include <pciplan/topology/topology_plan.hpp>
#include <pciplan/vocabulary/error.hpp>
#include <pciplan/libvirt/detail/xml.hpp>
#include <pciplan/libvirt/domain.hpp>
#include <pciplan/libvirt/input_error.hpp>
#include <pciplan/libvirt/plan_domain.hpp>

#include <pugixml.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pciplan::inline v0::libvirt {

/// How to attach or detach a device.
struct attach_options {
  policy_kind policy = policy_kind::pciplan;  ///< the planning policy
  bool live = false;       ///< the running guest (virsh `--live`) instead of the definition (`--config`)
  domain_options domain{};  ///< how the domain is read (spare ports, new definition)
};

/// What attach_device_xml gives.
struct attach_outcome {
  failure failed = failure::none;  ///< failure::none: planned
  std::string message;             ///< why it failed, as a sentence; empty when planned
  std::string device_xml;          ///< the device element with its `<address>` (as written into the domain)
  topology_plan plan;              ///< the plan of the domain with the device (live: the running guest's)
  std::vector<monitor_command> commands;  ///< live: the device_add commands, in order
  std::vector<std::string> added_controllers;  ///< config: controllers the definition gets besides ("index 9 (pcie-root-port)")
  /// Whether the device was planned.
  [[nodiscard]] bool planned() const noexcept { return failed == failure::none; }
};

/// What detach_device_xml gives.
struct detach_outcome {
  failure failed = failure::none;  ///< failure::none: done
  std::string message;             ///< why it failed, as a sentence; empty when done
  std::string domain_xml;          ///< the domain without the device
  std::vector<monitor_command> commands;  ///< live: the device_del commands
  /// Whether the device was detached.
  [[nodiscard]] bool planned() const noexcept { return failed == failure::none; }
};

/// Attaches the device element `device_xml` to the domain `domain_xml` (see the top of
/// this header); never throws for bad input. A failure is `input` (either document is
/// unreadable; --live: the domain is not a running guest's definition), `planning_capacity`
/// (it does not fit: no free hot-pluggable slot — on its NUMA node —, a bus without
/// hot-plug) or `planning_conflict` (a contradiction, e.g. an address in use).
[[nodiscard]] PCIPLAN_DETAIL_LIBVIRT_INLINE attach_outcome attach_device_xml(std::string_view domain_xml,
                                                                             std::string_view device_xml,
                                                                             const attach_options& options = {});

/// Detaches the device of `domain_xml` that the element `device_xml` names (its alias,
/// else its PCI address, else an interface's MAC or a disk's target), as `virsh
/// detach-device` would; with `options.live` only when it can be unplugged from the
/// running guest now (hot_remove), with the device_del commands. Never throws for bad
/// input; failures as for attach_device_xml (`input` also when no device matches).
[[nodiscard]] PCIPLAN_DETAIL_LIBVIRT_INLINE detach_outcome detach_device_xml(std::string_view domain_xml,
                                                                             std::string_view device_xml,
                                                                             const attach_options& options = {});

#if PCIPLAN_DETAIL_LIBVIRT_BODIES
namespace detail {

/// The one element of a device document, as text; throws input_error otherwise.
inline std::string device_element_text(std::string_view device_xml, pugi::xml_document& doc) {
  const pugi::xml_parse_result r =
      doc.load_buffer(device_xml.data(), device_xml.size(), pugi::parse_default | pugi::parse_ws_pcdata);
  if (!r) throw input_error(std::string("the device is not well-formed XML: ") + r.description());
  std::size_t elements = 0;
  for (pugi::xml_node n = doc.first_child(); n; n = n.next_sibling()) elements += n.type() == pugi::node_element;
  if (elements != 1) throw input_error("the device document must hold exactly one element (one device)");
  return element_text(doc.document_element());
}

/// Where in the domain's text a device element goes: before the last `</devices>`.
inline std::size_t devices_end(std::string_view domain_xml) {
  const std::size_t at = domain_xml.rfind("</devices>");
  if (at == std::string_view::npos) throw input_error("the domain has no <devices> element to attach the device to");
  return at;
}

/// Whether `candidate` (an element of the domain's `<devices>`) is the device `wanted`
/// names: the same element name and the same `<alias name>`, else the same PCI
/// `<address>`, else (interfaces) the same `<mac address>`, else (disks) the same
/// `<target dev>`.
inline bool names_device(pugi::xml_node wanted, pugi::xml_node candidate) {
  if (std::string_view(wanted.name()) != candidate.name()) return false;
  const auto same = [&](const char* child, const char* attribute) -> std::optional<bool> {
    const pugi::xml_attribute w = wanted.child(child).attribute(attribute);
    if (!w) return std::nullopt;
    return std::string_view(w.value()) == candidate.child(child).attribute(attribute).value();
  };
  if (const auto a = same("alias", "name")) return *a;
  const pugi::xml_node wa = wanted.child("address");
  if (wa && std::string_view(wa.attribute("type").value()) == "pci") {
    const pugi::xml_node ca = candidate.child("address");
    if (!ca || std::string_view(ca.attribute("type").value()) != "pci") return false;
    for (const char* part : {"domain", "bus", "slot", "function"}) {
      const auto w = number_of(wa.attribute(part).value(), number_syntax::c);
      const auto c = number_of(ca.attribute(part).value(), number_syntax::c);
      if (w.value_or(0) != c.value_or(0)) return false;
    }
    return true;
  }
  if (const auto m = same("mac", "address")) return *m;
  if (const auto t = same("target", "dev")) return *t;
  return false;
}

}  // namespace detail

PCIPLAN_DETAIL_LIBVIRT_INLINE attach_outcome attach_device_xml(std::string_view domain_xml, std::string_view device_xml,
                                                               const attach_options& options) {
  attach_outcome out{};
  try {
    pugi::xml_document device_doc;
    const std::string element = detail::device_element_text(device_xml, device_doc);
    const std::size_t at = detail::devices_end(domain_xml);
    std::string text(domain_xml.substr(0, at));
    const std::size_t begin = text.size();
    // indented as a child of <devices> (4 spaces), so that the written <address> lines up
    std::string indented;
    for (const char ch : element) {
      indented += ch;
      if (ch == '\n') indented += "    ";
    }
    text += "  " + indented + "\n  ";
    const std::size_t end = text.size();
    text += domain_xml.substr(at);
    std::optional<domain> read;
    try {
      read.emplace(text, options.domain);
    } catch (const input_error& e) {
      // line numbers count in the domain up to its </devices>, where the device starts
      throw input_error(std::string("the domain with the device appended: ") + e.what());
    }
    domain& d = *read;
    const std::optional<std::size_t> k = d.element_within(begin, end);
    if (!k) throw input_error("the device element could not be found in the domain after appending it");
    const std::vector<std::size_t> mine = d.requests_of_element(*k);
    std::vector<unsigned char> live(d.requests().size(), 0);
    for (const std::size_t i : mine) live[i] = 1;
    result<topology_plan> p = error{};
    if (options.live) {
      const pugi::xml_node e = device_doc.document_element();
      const std::string_view type = e.attribute("type").value();
      if (std::string_view(e.name()) == "controller" && type == "pci") {
        out.failed = failure::planning_capacity;
        out.message = "a PCI controller cannot be hot-added (QEMU refuses a port on the root bus, and pciplan adds "
                      "no controller to a running guest)";
        return out;
      }
      if (std::string_view(e.name()) == "controller" && type != "scsi" && options.policy == policy_kind::libvirt) {
        out.failed = failure::planning_capacity;
        out.message = "libvirt hot-plugs SCSI controllers only ('" + std::string(type) +
                      "' controller cannot be hot plugged; QEMU itself would take it: use the pciplan policy)";
        return out;
      }
      for (std::size_t i = 0; i != live.size(); ++i) {
        const request& r = d.requests()[i];
        const bool unplaced = r.fixed == address_kind::none && r.via != transport::mmio;
        if (live[i] == 0 && unplaced && !d.from_document(i)) live[i] = 1;  // brought by the new device
        if (live[i] == 0 && unplaced) {
          throw input_error("the domain is not a running guest's definition: device '" + std::string(r.name) +
                            "' has no PCI address (give it as virsh dumpxml or pciplan plan writes it)");
        }
      }
      p = d.plan_live(options.policy, live);
    } else {
      p = d.plan(options.policy);
    }
    if (!p) {
      out.failed = failure_of(p.error().code);
      out.message = describe(p.error());
      return out;
    }
    if (!p->qemu_can_build() && options.live) {
      out.failed = failure::planning_conflict;
      out.message = "the libvirt policy's answer is a layout QEMU cannot build (its warning says why)";
      return out;
    }
    (void)d.write(*p);
    // back to the device document's own indentation: 4 spaces less on every line after the first
    unsigned skip = 0;
    for (const char ch : d.device_element(*k)) {
      if (ch == ' ' && skip > 0) {
        --skip;
        continue;
      }
      skip = ch == '\n' ? 4 : 0;
      out.device_xml += ch;
    }
    if (options.live) {
      topology_plan before = *p;
      std::erase_if(before.placements, [&](const placement& q) { return q.request < live.size() && live[q.request] != 0; });
      out.commands = monitor_commands(before, *p);
    } else {
      for (const controller& c : p->controllers) {
        if (c.added && c.kind != nullptr) {
          out.added_controllers.push_back("index " + std::to_string(c.index.value) + " (" + std::string(c.kind->model) + ")");
        }
      }
    }
    out.plan = std::move(*p);
  } catch (const input_error& e) {
    out = attach_outcome{};
    out.failed = failure::input;
    out.message = e.what();
  }
  return out;
}

PCIPLAN_DETAIL_LIBVIRT_INLINE detach_outcome detach_device_xml(std::string_view domain_xml, std::string_view device_xml,
                                                               const attach_options& options) {
  detach_outcome out{};
  try {
    pugi::xml_document device_doc;
    (void)detail::device_element_text(device_xml, device_doc);
    domain d(domain_xml, options.domain);
    std::optional<std::size_t> k;
    {
      // the domain's own reading parses the same text: the same offsets
      pugi::xml_document dom;
      if (!dom.load_buffer(domain_xml.data(), domain_xml.size())) throw input_error("the domain is not well-formed XML");
      for (pugi::xml_node e = dom.document_element().child("devices").first_child(); e && !k; e = e.next_sibling()) {
        if (e.type() == pugi::node_element && detail::names_device(device_doc.document_element(), e)) {
          k = static_cast<std::size_t>(e.offset_debug());
        }
      }
    }
    if (!k) throw input_error("no device of the domain is the one the device element names (by alias, PCI address, MAC or target)");
    if (options.live) {
      const std::vector<std::size_t> mine = d.requests_of_element(*k);
      const std::vector<unsigned char> none(d.requests().size(), 0);
      const result<topology_plan> running = d.plan_live(options.policy, none);
      if (!running) {
        throw input_error("the domain is not a running guest's definition: " + describe(running.error()));
      }
      std::vector<std::string_view> names;
      for (const placement& q : running->placements) {
        for (const std::size_t i : mine) {
          if (q.request == i) names.push_back(q.name);
        }
      }
      const result<topology_plan> after = hot_remove(*running, names);
      if (!after) {
        out.failed = failure_of(after.error().code);
        out.message = describe(after.error());
        return out;
      }
      if (running->qemu_can_build()) out.commands = monitor_commands(*running, *after);
    }
    out.domain_xml = d.without_element(*k);
  } catch (const input_error& e) {
    out = detach_outcome{};
    out.failed = failure::input;
    out.message = e.what();
  }
  return out;
}
#endif

}  // namespace pciplan::inline v0::libvirt

#endif  // PCIPLAN_LIBVIRT_ATTACH_HPP
