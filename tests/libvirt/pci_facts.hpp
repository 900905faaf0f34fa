// The PCI-relevant facts of a libvirt domain document, and the differences between two of
// them: libvirt's expected output and pciplan's output for the same input.
//
// Facts, keyed so that the same device gets the same key in both documents:
//   - every <controller type='pci'>: "controller pci index=N" with its model, <model name>,
//     <target> chassisNr/chassis/port/busNr/index/hotplug, <target><node> and its <address>;
//   - every other <controller>: "controller TYPE index=N" (USB2 companions add "model=M",
//     since ich9-ehci1 and its ich9-uhciN share an index) with its address;
//   - every other child of <devices> with an <address type='pci'> in either document:
//     disks by <target dev> ("disk vda"), interfaces by <mac address> ("interface
//     52:54:00:…"), everything else by position among the elements of its name ("video #0",
//     "hostdev #1"), with its address.
// A controller without index gets the one libvirt's post-parse gives it: the lowest index of
// its type not yet taken, in document order, except that a USB2 companion joins the
// controller just before it (libvirt's virDomainAssignControllerIndexes).
// Numbers compare by value ("0x1f" equals "31"). An address of another type compares equal
// to any non-PCI address (or none); only PCI addresses are checked. Everything else (cpu,
// emulator, element order, other attributes) is ignored.
#ifndef PCIPLAN_TESTS_LIBVIRT_PCI_FACTS_HPP
#define PCIPLAN_TESTS_LIBVIRT_PCI_FACTS_HPP

#include <pugixml.hpp>

#include <array>
#include <cctype>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace test_support {

/// One normalised property of a device: "chassis" = "3", "address" = "pci 0000:00:02.2".
struct pci_field {
  std::string name;
  std::string value;
};

/// What one device of a domain says about PCI.
struct pci_fact {
  std::string key;              ///< "controller pci index=3", "disk vdb", "video #0"
  bool controller = false;      ///< a <controller> of any type: always compared
  bool pci_controller = false;  ///< a <controller type='pci'>: all fields compared
  bool has_pci_address = false;
  std::vector<pci_field> fields;  ///< in a fixed order; absent attributes are left out

  /// The value of a field, or nullptr when the document does not give it.
  [[nodiscard]] const std::string* field(std::string_view name) const {
    for (const pci_field& f : fields) {
      if (f.name == name) return &f.value;
    }
    return nullptr;
  }
};

namespace facts_detail {

/// "0x1f", "31" (base 0, as libvirt reads addresses; base 10 for indexes); nullopt when the
/// text is not a non-negative number.
inline std::optional<std::uint64_t> number(std::string_view text, int base = 0) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())) != 0) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())) != 0) text.remove_suffix(1);
  if (text.empty() || text.front() == '-' || text.front() == '+') return std::nullopt;
  const std::string s(text);
  char* end = nullptr;
  errno = 0;
  const unsigned long long value = std::strtoull(s.c_str(), &end, base);
  if (errno != 0 || end == s.c_str() || *end != '\0') return std::nullopt;
  return static_cast<std::uint64_t>(value);
}

/// A number in the given printf format ("%llu", "0x%02llx"), or the text itself when it is
/// not a number (so that "abc" still compares, as text).
inline std::string normalised(std::string_view text, const char* format, int base = 0) {
  const std::optional<std::uint64_t> n = number(text, base);
  if (!n) return std::string(text);
  std::array<char, 32> buffer{};
  std::snprintf(buffer.data(), buffer.size(), format, static_cast<unsigned long long>(*n));
  return buffer.data();
}

inline bool is_pci(std::string_view address_value) { return address_value.starts_with("pci "); }

/// The <address> child of a device: "pci 0000:00:02.0" (plus " multifunction=on"),
/// "pci (unassigned)" for an all-zero PCI address (libvirt then picks one), "ccw address",
/// "no address".
inline std::string address_value(pugi::xml_node device) {
  const pugi::xml_node a = device.child("address");
  if (!a) return "no address";
  const std::string_view type = a.attribute("type").value();
  if (type != "pci") return std::string(type.empty() ? "untyped" : type) + " address";
  struct part {
    const char* name;
    const char* format;
  };
  static constexpr std::array<part, 4> parts{
      {{"domain", "%04llx"}, {"bus", "%02llx"}, {"slot", "%02llx"}, {"function", "%llx"}}};
  std::array<std::string, 4> text;
  bool all_zero = true;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const pugi::xml_attribute attr = a.attribute(parts[i].name);
    text[i] = attr ? normalised(attr.value(), parts[i].format) : normalised("0", parts[i].format);
    if (attr && number(attr.value()).value_or(1) != 0) all_zero = false;
  }
  std::string out = all_zero ? "pci (unassigned)" : "pci " + text[0] + ":" + text[1] + ":" + text[2] + "." + text[3];
  if (std::string_view(a.attribute("multifunction").value()) == "on") out += " multifunction=on";
  return out;
}

/// Two address values agree when they are the same PCI address or both are not PCI.
inline bool same_address(std::string_view a, std::string_view b) { return a == b || (!is_pci(a) && !is_pci(b)); }

inline bool is_usb2_companion(std::string_view type, std::string_view model) {
  return type == "usb" &&
         (model == "ich9-ehci1" || model == "ich9-uhci1" || model == "ich9-uhci2" || model == "ich9-uhci3");
}

/// The index text of every <controller> under <devices>, in document order: the given one
/// (normalised when it is a number) or the one libvirt assigns.
inline std::vector<std::string> controller_indexes(pugi::xml_node devices) {
  struct entry {
    std::string type;
    std::string model;
    std::optional<std::uint64_t> index;  // numeric index, given or assigned
    std::string text;                    // the index as it will be printed
    bool given = false;
  };
  std::vector<entry> all;
  for (const pugi::xml_node c : devices.children("controller")) {
    entry e{c.attribute("type").value(), c.attribute("model").value(), std::nullopt, {}, false};
    if (const pugi::xml_attribute idx = c.attribute("index")) {
      e.given = true;
      e.index = number(idx.value(), 10);
      e.text = e.index ? std::to_string(*e.index) : std::string(idx.value());
    }
    all.push_back(e);
  }
  const auto taken = [&all](const std::string& type, std::uint64_t index) {
    for (const entry& e : all) {
      if (e.type == type && e.index == index) return true;
    }
    return false;
  };
  for (std::size_t i = 0; i < all.size(); ++i) {
    entry& e = all[i];
    if (e.given) continue;
    std::optional<std::uint64_t> chosen;
    if (is_usb2_companion(e.type, e.model)) {
      // Join the USB controller just before this one when it is USB2 too and no controller
      // of this model has its index yet.
      for (std::size_t j = i; j-- > 0;) {
        if (all[j].type != "usb") continue;
        const entry& prev = all[j];
        if (is_usb2_companion(prev.type, prev.model) && prev.index) {
          bool model_taken = false;
          for (const entry& other : all) {
            if (other.type == "usb" && other.model == e.model && other.index == prev.index) model_taken = true;
          }
          if (!model_taken) chosen = prev.index;
        }
        break;
      }
    }
    if (!chosen) {
      std::uint64_t lowest = 0;
      while (taken(e.type, lowest)) ++lowest;
      chosen = lowest;
    }
    e.index = chosen;
    e.text = std::to_string(*chosen);
  }
  std::vector<std::string> out;
  out.reserve(all.size());
  for (const entry& e : all) out.push_back(e.text);
  return out;
}

inline std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

/// The fields of a <controller type='pci'>, in the order they are printed.
inline std::vector<pci_field> pci_controller_fields(pugi::xml_node c) {
  std::vector<pci_field> out;
  const auto add = [&out](const char* name, pugi::xml_attribute attr, const char* format) {
    if (attr) out.push_back({name, format != nullptr ? normalised(attr.value(), format) : std::string(attr.value())});
  };
  add("model", c.attribute("model"), nullptr);
  add("name", c.child("model").attribute("name"), nullptr);
  const pugi::xml_node target = c.child("target");
  add("chassisNr", target.attribute("chassisNr"), "%llu");
  add("chassis", target.attribute("chassis"), "%llu");
  add("port", target.attribute("port"), "0x%02llx");
  add("busNr", target.attribute("busNr"), "%llu");
  add("targetIndex", target.attribute("index"), "%llu");
  add("hotplug", target.attribute("hotplug"), nullptr);
  if (const pugi::xml_node node = target.child("node")) out.push_back({"node", normalised(node.text().get(), "%llu")});
  out.push_back({"address", address_value(c)});
  return out;
}

inline constexpr std::array<std::string_view, 10> field_order{
    "model", "name", "chassisNr", "chassis", "port", "busNr", "targetIndex", "hotplug", "node", "address"};

/// "chassis=3", "at 0000:00:02.2", "no chassis" (nullptr: the document does not give it).
inline std::string show_field(std::string_view name, const std::string* value) {
  if (name == "address") {
    if (value == nullptr) return "no address";
    return is_pci(*value) ? "at " + value->substr(4) : *value;
  }
  if (value == nullptr) return "no " + std::string(name);
  return std::string(name) + "=" + *value;
}

inline std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) {
    if (!out.empty()) out += ' ';
    out += p;
  }
  return out;
}

}  // namespace facts_detail

/// The facts of every element under /domain/devices, in document order (has_pci_address
/// tells which ones have a PCI address; pci_differences looks at those and at controllers).
[[nodiscard]] inline std::vector<pci_fact> pci_facts(const pugi::xml_document& doc) {
  const pugi::xml_node devices = doc.child("domain").child("devices");
  const std::vector<std::string> indexes = facts_detail::controller_indexes(devices);
  std::vector<pci_fact> out;
  std::map<std::string, int, std::less<>> per_name;  // elements of each name seen so far
  std::map<std::string, int, std::less<>> per_key;   // facts of each key seen so far
  std::size_t controller_no = 0;
  for (const pugi::xml_node e : devices.children()) {
    if (e.type() != pugi::node_element) continue;
    const std::string name = e.name();
    const int position = per_name[name]++;
    pci_fact f;
    f.has_pci_address = std::string_view(e.child("address").attribute("type").value()) == "pci";
    if (name == "controller") {
      const std::string type = e.attribute("type").value();
      const std::string model = e.attribute("model").value();
      f.controller = true;
      f.pci_controller = type == "pci";
      f.key = "controller " + (type.empty() ? std::string("?") : type) + " index=" + indexes[controller_no++];
      if (facts_detail::is_usb2_companion(type, model)) f.key += " model=" + model;
      if (f.pci_controller) {
        f.fields = facts_detail::pci_controller_fields(e);
      } else {
        f.fields.push_back({"address", facts_detail::address_value(e)});
      }
    } else {
      const pugi::xml_attribute dev = e.child("target").attribute("dev");
      const pugi::xml_attribute mac = e.child("mac").attribute("address");
      if (name == "disk" && dev) {
        f.key = "disk " + std::string(dev.value());
      } else if (name == "interface" && mac) {
        f.key = "interface " + facts_detail::lowercase(mac.value());
      } else {
        f.key = name + " #" + std::to_string(position);
      }
      f.fields.push_back({"address", facts_detail::address_value(e)});
    }
    if (const int seen = per_key[f.key]++; seen > 0) f.key += " #" + std::to_string(seen);
    out.push_back(std::move(f));
  }
  return out;
}

/// One line for a fact on its own: "pcie-root-port chassis=3 port=0x12 at 0000:00:02.2",
/// "pci 0000:00:02.0", "no address".
[[nodiscard]] inline std::string describe(const pci_fact& f) {
  if (!f.pci_controller) {
    const std::string* a = f.field("address");
    return a != nullptr ? *a : "no address";
  }
  std::vector<std::string> parts;
  const std::string* model = f.field("model");
  parts.push_back(model != nullptr ? *model : "no model");
  for (const pci_field& field : f.fields) {
    if (field.name == "model") continue;
    if (field.name == "name" && model != nullptr && field.value == *model) continue;
    if (field.name == "address" && !facts_detail::is_pci(field.value)) continue;
    parts.push_back(facts_detail::show_field(field.name, &field.value));
  }
  return facts_detail::join(parts);
}

/// The differences between libvirt's document (expected) and pciplan's (got), one readable
/// line each, in the expected document's order and then the unexpected extras; empty when
/// the two agree on every PCI fact.
[[nodiscard]] inline std::vector<std::string> pci_differences(const pugi::xml_document& expected,
                                                              const pugi::xml_document& got) {
  const std::vector<pci_fact> want = pci_facts(expected);
  const std::vector<pci_fact> have = pci_facts(got);
  std::map<std::string_view, const pci_fact*, std::less<>> want_by_key;
  std::map<std::string_view, const pci_fact*, std::less<>> have_by_key;
  for (const pci_fact& f : want) want_by_key.emplace(f.key, &f);
  for (const pci_fact& f : have) have_by_key.emplace(f.key, &f);
  const auto relevant = [](const pci_fact* a, const pci_fact* b) {
    return (a != nullptr && (a->controller || a->has_pci_address)) ||
           (b != nullptr && (b->controller || b->has_pci_address));
  };

  std::vector<std::string> out;
  for (const pci_fact& w : want) {
    const auto it = have_by_key.find(w.key);
    const pci_fact* h = it == have_by_key.end() ? nullptr : it->second;
    if (!relevant(&w, h)) continue;
    if (h == nullptr) {
      out.push_back(w.key + ": missing (expected " + describe(w) + ")");
      continue;
    }
    std::vector<std::string> want_parts;
    std::vector<std::string> have_parts;
    for (const std::string_view name : facts_detail::field_order) {
      const std::string* a = w.field(name);
      const std::string* b = h->field(name);
      const bool same = name == "address" ? facts_detail::same_address(a != nullptr ? *a : "no address",
                                                                       b != nullptr ? *b : "no address")
                                          : (a == nullptr) == (b == nullptr) && (a == nullptr || *a == *b);
      if (same) continue;
      if (w.pci_controller || h->pci_controller) {
        want_parts.push_back(facts_detail::show_field(name, a));
        have_parts.push_back(facts_detail::show_field(name, b));
      } else {
        want_parts.push_back(a != nullptr ? *a : "no address");
        have_parts.push_back(b != nullptr ? *b : "no address");
      }
    }
    if (!want_parts.empty()) {
      out.push_back(w.key + ": expected " + facts_detail::join(want_parts) + ", got " + facts_detail::join(have_parts));
    }
  }
  for (const pci_fact& h : have) {
    if (want_by_key.contains(h.key) || !relevant(&h, nullptr)) continue;
    out.push_back(h.key + ": unexpected (got " + describe(h) + ")");
  }
  return out;
}

}  // namespace test_support

#endif  // PCIPLAN_TESTS_LIBVIRT_PCI_FACTS_HPP
