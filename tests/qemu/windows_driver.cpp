// The planning half of qemu.windows (qemu_windows_test.py): reads a layout on stdin, plans
// it with the pciplan policy and prints, as one JSON object, what the test boots and what
// firmware must then do: the QEMU lines, every bridge's and port's windows as
// memory_windows computes them, each device's guest address and the root's ranges.
//
//   machine q35                     q35 or pc
//   ram 512M                        the guest's -m (K, M, G, T); 1G by default
//   spare 2                         plan_options::spare_ports
//   budget pref64=16G mem32=2M      plan_options::hotplug_budget (io, mem32, mem64, pref32, pref64)
//   switch 3                        q35: the guest has a switch with 3 downstream ports (filled first)
//   device iv0 ivshmem-plain express numa=1 nohotplug bars=mem32:256,pref64:4G
//   device net0 virtio-net-pci      (the catalogue's BARs)
//
// `express` / `conventional` set the device's link kind (ivshmem-plain is conventional in
// the catalogue; QEMU takes it behind a PCIe port too), `numa=N` binds it to a node,
// `nohotplug` says it need not stay hot-pluggable, `bars=` gives its BARs. Blank lines and
// lines starting with # are skipped.
//
// `windows_driver --check q35|pc RAM [BUDGET]` instead runs the validator over -device
// lines on stdin (a hand-written layout) and prints its findings and where it says
// SeaBIOS stops; BUDGET (`pref64:8G,mem32:16M`) is qemu_layout::hotplug_budget, and the
// ids of the ports it warns about are listed as "short_ports".
//
// Exit status: 0 planned (whether firmware can place it or not: see "fits"); 1 the layout
// cannot be planned; 2 a bad spec.
#include <pciplan/pciplan.hpp>

#include <cstdint>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

struct spec_error {
  std::string text;
};

/// "512M", "4G", "256", "0x100" in bytes.
std::uint64_t parse_size(const std::string& text) {
  const std::optional<std::uint64_t> size = pciplan::parse_byte_size(text);
  if (!size) throw spec_error{"bad size '" + text + "'"};
  return *size;
}

pciplan::bar_space space_named(const std::string& name) {
  const auto space = pciplan::bar_space_named(name);
  if (!space) throw spec_error{"unknown BAR space '" + name + "' (io, mem32, mem64, pref32, pref64)"};
  return *space;
}

/// "space:size,space:size" or "space=size space=size" pieces.
void add_bar(pciplan::device_bars& bars, const std::string& item, char separator) {
  const std::size_t at = item.find(separator);
  if (at == std::string::npos) throw spec_error{"expected SPACE" + std::string(1, separator) + "SIZE, got '" + item + "'"};
  bars.add(space_named(item.substr(0, at)), parse_size(item.substr(at + 1)));
}

struct device_spec {
  std::string name;
  std::string model;
  std::optional<pciplan::link_kind> link;
  int numa = -1;
  bool no_hotplug = false;
  std::optional<pciplan::device_bars> bars;
};

struct layout_spec {
  std::string machine = "q35";
  std::string ram_text = "1G";
  std::uint64_t ram = std::uint64_t{1} << 30;
  pciplan::plan_options options{};
  std::vector<device_spec> devices;
  unsigned switch_ports = 0;  // q35: a switch the guest already has (its downstream ports are filled first)
};

/// `switch N`: a pcie-root-port at pcie.0 slot 0x10 with a switch below it, N downstream
/// ports: the plan's given controllers.
std::vector<pciplan::controller> given_switch(unsigned ports) {
  using namespace pciplan;
  std::vector<controller> out;
  if (ports == 0) return out;
  out.push_back(make_controller<pcie_root_port>(1).at(controller_address(0, 0, 0x10, 0)));
  out.push_back(make_controller<pcie_switch_upstream_port>(2).at(controller_address(0, 1, 0, 0)));
  for (unsigned k = 0; k != ports; ++k) {
    out.push_back(make_controller<pcie_switch_downstream_port>(3 + k).at(controller_address(0, 2, k, 0)));
  }
  return out;
}

layout_spec read_spec(std::istream& in) {
  layout_spec spec;
  std::string line;
  unsigned number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::istringstream words(line);
    std::string key;
    if (!(words >> key) || key[0] == '#') continue;
    try {
      std::string value;
      if (key == "machine") {
        if (!(words >> spec.machine) || (spec.machine != "q35" && spec.machine != "pc")) {
          throw spec_error{"machine is q35 or pc"};
        }
      } else if (key == "ram") {
        if (!(words >> spec.ram_text)) throw spec_error{"ram needs a size"};
        spec.ram = parse_size(spec.ram_text);
      } else if (key == "spare") {
        if (!(words >> value)) throw spec_error{"spare needs a count"};
        spec.options.spare_ports = static_cast<unsigned>(parse_size(value));
      } else if (key == "switch") {
        if (!(words >> value)) throw spec_error{"switch needs a count of downstream ports"};
        spec.switch_ports = static_cast<unsigned>(parse_size(value));
        if (spec.switch_ports == 0 || spec.switch_ports > 32) throw spec_error{"switch has 1 to 32 downstream ports"};
      } else if (key == "budget") {
        while (words >> value) add_bar(spec.options.hotplug_budget, value, '=');
      } else if (key == "device") {
        device_spec d;
        if (!(words >> d.name >> d.model)) throw spec_error{"device needs a name and a QEMU device"};
        while (words >> value) {
          if (value == "express") {
            d.link = pciplan::link_kind::express;
          } else if (value == "conventional") {
            d.link = pciplan::link_kind::conventional;
          } else if (value == "nohotplug") {
            d.no_hotplug = true;
          } else if (value.rfind("numa=", 0) == 0) {
            d.numa = static_cast<int>(parse_size(value.substr(5)));
          } else if (value.rfind("bars=", 0) == 0) {
            pciplan::device_bars b;
            std::istringstream items(value.substr(5));
            std::string item;
            while (std::getline(items, item, ',')) add_bar(b, item, ':');
            d.bars = b;
          } else {
            throw spec_error{"unknown device option '" + value + "'"};
          }
        }
        spec.devices.push_back(d);
      } else {
        throw spec_error{"unknown item '" + key + "'"};
      }
    } catch (const spec_error& e) {
      throw spec_error{"line " + std::to_string(number) + ": " + e.text};
    }
  }
  if (spec.switch_ports != 0 && spec.machine != "q35") throw spec_error{"a switch needs machine q35"};
  return spec;
}

/// `text` as a JSON string.
std::string quoted(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out + '"';
}

std::string boolean(bool b) { return b ? "true" : "false"; }

std::string_view problem_name(pciplan::window_problem p) {
  switch (p) {
    case pciplan::window_problem::none: return "none";
    case pciplan::window_problem::io_space: return "io_space";
    case pciplan::window_problem::space_32_bit: return "space_32_bit";
  }
  return "unknown";
}

/// The QEMU id qemu_arguments gives a controller.
std::string controller_qemu_id(const pciplan::controller& c) {
  if (!c.qemu_id.empty()) return std::string(c.qemu_id);
  return "pci." + std::to_string(c.index.value);
}

void print_plan(const layout_spec& spec, const pciplan::topology_plan& plan) {
  const pciplan::guest_memory memory{.ram = spec.ram};
  const pciplan::memory_layout m = pciplan::memory_windows(plan, memory);
  std::vector<std::string> lines;
  for (const std::string& l : pciplan::qemu_numa_arguments(plan, spec.ram_text)) lines.push_back(l);
  for (const std::string& l : pciplan::qemu_arguments(plan)) lines.push_back(l);
  for (const std::string& l : pciplan::qemu_memory_arguments(plan, memory)) lines.push_back(l);

  std::ostringstream out;
  out << "{\"machine\": " << quoted(spec.machine) << ", \"ram\": " << spec.ram << ", \"ram_text\": "
      << quoted(spec.ram_text) << ",\n \"lines\": [";
  for (std::size_t i = 0; i != lines.size(); ++i) out << (i ? ",\n   " : "\n   ") << quoted(lines[i]);
  out << "],\n \"bridges\": [";
  bool first = true;
  for (std::size_t i = 0; i != plan.controllers.size(); ++i) {
    if (!m.windows[i].bridge) continue;
    const pciplan::controller& c = plan.controllers[i];
    const pciplan::bridge_windows& w = m.windows[i];
    std::string parent;
    if (c.has_address) {
      if (const pciplan::controller* p = plan.find(c.libvirt_address.bus)) parent = controller_qemu_id(*p);
    }
    bool empty = true;
    for (const pciplan::placement& p : plan.placements) {
      if (p.kind == pciplan::placement_kind::pci && p.libvirt_address.bus == c.index) empty = false;
    }
    for (const pciplan::controller& x : plan.controllers) {
      if (x.has_address && x.libvirt_address.bus == c.index) empty = false;
    }
    out << (first ? "\n  " : ",\n  ") << "{\"id\": " << quoted(controller_qemu_id(c))
        << ", \"model\": " << quoted(c.qemu_device()) << ", \"parent\": " << quoted(parent)
        << ", \"guest_bus\": " << static_cast<unsigned>(c.guest_bus.value) << ", \"empty\": " << boolean(empty) << ", \"io\": " << w.io.size
        << ", \"mem\": " << w.mem.size << ", \"pref\": " << w.pref.size << ", \"pref64\": " << boolean(w.pref.is64)
        << ", \"reserves\": {\"io\": " << c.reserves.io << ", \"mem\": " << c.reserves.mem
        << ", \"pref32\": " << c.reserves.pref32 << ", \"pref64\": " << c.reserves.pref64 << "}}";
    first = false;
  }
  out << "],\n \"placements\": [";
  first = true;
  for (const pciplan::placement& p : plan.placements) {
    if (p.kind != pciplan::placement_kind::pci) continue;
    out << (first ? "\n  " : ",\n  ") << "{\"name\": " << quoted(p.name)
        << ", \"device\": " << quoted(p.device.qemu_device) << ", \"address\": " << quoted(to_string(p.guest_address))
        << ", \"built_in\": " << boolean(plan.is_built_in(p)) << "}";
    first = false;
  }
  out << "],\n \"warnings\": [";
  for (std::size_t i = 0; i != plan.warnings.size(); ++i) {
    out << (i ? ", " : "") << quoted(pciplan::name_of(plan.warnings[i].code));
  }
  out << "],\n \"fits\": " << boolean(m.fits()) << ", \"problem\": " << quoted(problem_name(m.problem))
      << ", \"io_size\": " << m.io_size << ", \"io_base\": " << m.io_base << ", \"mem32_start\": " << m.mem32_start
      << ", \"above_4g\": " << boolean(m.above_4g) << ", \"mem64_size\": " << m.mem64.size
      << ", \"pref64_size\": " << m.pref64.size << ", \"mem64_base\": " << m.mem64_base
      << ", \"pref64_base\": " << m.pref64_base << ", \"end64\": " << m.end64
      << ", \"hole64_start\": " << m.hole64_start << ", \"hole64_needed\": " << m.hole64_needed << "}\n";
  std::cout << out.str();
}

/// `--check MACHINE RAM [BUDGET]`: the validator over the -device lines on stdin (the
/// layout as hand-written), with the guest's RAM in bytes and the hot-plug budget: one
/// JSON object with whether QEMU accepts it, where the validator says SeaBIOS stops
/// ("io_space", "space_32_bit" or ""), the ids of the ports it says cannot take the
/// budget ("short_ports"), and every finding.
int check(const std::string& machine, const std::string& ram, const std::string& budget) {
  std::ostringstream text;
  text << std::cin.rdbuf();
  pciplan::qemu_layout layout = pciplan::read_qemu_layout(text.str());
  layout.ram = parse_size(ram);
  if (!budget.empty()) {
    std::istringstream items(budget);
    std::string item;
    while (std::getline(items, item, ',')) add_bar(layout.hotplug_budget, item, ':');
  }
  const pciplan::validation_report r = machine == "q35" ? pciplan::validate<pciplan::machines::q35>(layout)
                                                          : pciplan::validate<pciplan::machines::pc>(layout);
  std::string stop;
  std::string short_ports;
  for (const pciplan::finding& f : r.findings) {
    if (f.device == pciplan::finding::no_device || f.message.find("hot-plug budget") == std::string::npos) continue;
    const std::string& arg = layout.devices[f.device].argument;
    const std::size_t at = arg.find(",id=");
    const std::string id = at == std::string::npos ? arg : arg.substr(at + 4, arg.find(',', at + 4) - at - 4);
    short_ports += (short_ports.empty() ? "" : ", ") + quoted(id);
  }
  std::ostringstream out;
  out << "{\"accepted\": " << boolean(r.accepted()) << ", \"short_ports\": [" << short_ports << "], \"findings\": [";
  for (std::size_t i = 0; i != r.findings.size(); ++i) {
    const std::string line = describe(layout, r.findings[i]);
    if (line.find("out of I/O address space") != std::string::npos) stop = "io_space";
    if (line.find("out of 32bit address space") != std::string::npos) stop = "space_32_bit";
    out << (i ? ", " : "") << quoted(line);
  }
  out << "], \"stop\": " << quoted(stop) << "}\n";
  std::cout << out.str();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if ((argc == 4 || argc == 5) && std::string_view(argv[1]) == "--check") {
    try {
      return check(argv[2], argv[3], argc == 5 ? argv[4] : "");
    } catch (const spec_error& e) {
      std::cerr << "windows_driver: " << e.text << '\n';
      return 2;
    }
  }
  if (argc != 1) {
    std::cerr << "usage: windows_driver < SPEC | windows_driver --check q35|pc RAM [BUDGET] < LINES\n";
    return 2;
  }
  layout_spec spec;
  try {
    spec = read_spec(std::cin);
  } catch (const spec_error& e) {
    std::cerr << "windows_driver: " << e.text << '\n';
    return 2;
  }
  std::vector<pciplan::request> requests;
  requests.reserve(spec.devices.size());
  for (const device_spec& d : spec.devices) {
    const pciplan::device_descriptor* known = pciplan::device_named(d.model);
    if (known == nullptr) {
      std::cerr << "windows_driver: '" << d.model << "' is not a device of the catalogue\n";
      return 2;
    }
    pciplan::device_descriptor descriptor = *known;
    if (d.link) descriptor.link = *d.link;
    pciplan::request r(d.name, descriptor);
    if (d.numa >= 0) r.apply(pciplan::numa_node{d.numa});
    if (d.no_hotplug) r.apply(pciplan::hotplug::not_needed);
    if (d.bars) r.apply(*d.bars);
    requests.push_back(r);
  }
  const pciplan::result<pciplan::topology_plan> plan =
      spec.machine == "q35" ? pciplan::plan<pciplan::machines::q35>(requests, spec.options, given_switch(spec.switch_ports))
                            : pciplan::plan<pciplan::machines::pc>(requests, spec.options);
  if (!plan) {
    std::cerr << "windows_driver: " << describe(plan.error()) << '\n';
    return 1;
  }
  print_plan(spec, *plan);
  return 0;
}
