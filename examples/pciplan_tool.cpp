// The pciplan command-line tool: plan a libvirt domain XML and print it back with
// addresses, as QEMU -device arguments, as a tree or as JSON; check a hand-written
// QEMU layout. `pciplan --help` says all.
#include <pciplan/json.hpp>     // from_json, and all of pciplan.hpp (qemu, tree, json, validate)
#include <pciplan/libvirt.hpp>

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr std::string_view usage = R"(usage: pciplan plan [OPTIONS] FILE|-
       pciplan attach [--live] [--policy P] [--format F] DOMAIN DEVICE|-
       pciplan detach [--live] [--policy P] [--format F] DOMAIN DEVICE|-
       pciplan show [--format qemu|tree|json] PLAN|-
       pciplan check --machine TYPE [--hotplug-budget SPEC] FILE|-
       pciplan --help | --version

Reads a libvirt domain XML (FILE, or standard input for -), gives every PCI device an
address and adds the PCI controllers it needs, and prints the result.

options:
  --policy libvirt|pciplan  libvirt: exactly what libvirt's QEMU driver would assign;
                            pciplan (default): hot-pluggable ports per device, spare
                            ports, NUMA expanders, switches when the root bus is full
  --format xml|qemu|tree|json
                            xml (default): the domain with <address> on every PCI device
                              and the added <controller> elements
                            qemu: one -device argument per line (ids pci.N / pcie.0 /
                              pci.0 as libvirt names them), controllers first; with
                              <cpu><numa> cells, the -object/-numa lines come first
                              (start QEMU with -m equal to the domain's <memory>), then
                              a -global ...pci-hole64-size= line when the BARs and
                              reserves need a larger 64-bit PCI hole than QEMU's default,
                              and a -fw_cfg name=opt/ovmf/X-PciMmio64Mb line when OVMF's
                              default 64-bit window (32 GiB) may be too small
                            tree: an lspci -tv like tree with guest bus numbers
                              and each bridge's memory windows (as SeaBIOS sizes them)
                            json: the plan for programs
  --spare-ports N           pciplan policy: N spare hot-pluggable ports (default 4, or
                            the domain's <metadata> pciplan:plan spare-ports)
  --spare-ports-per-node N  pciplan policy: N spare ports on each NUMA node that has an
                            expander bus, for devices of that node hot-added later
                            (default 1, or the metadata's spare-ports-per-node; a
                            <pciplan:node id= spare-ports=/> element sets one node's)
  --hotplug-budget SPEC     pciplan policy: every empty pcie-root-port and pci-bridge
                            reserves memory windows (QEMU io-/mem-/pref64-reserve) for
                            a device with these BARs hot-plugged later; SPEC is
                            space:size entries separated by commas, one BAR each
                            (io, mem32, mem64, pref32, pref64; sizes in bytes or with
                            K, M, G, T), e.g. mem32:16M,pref64:64G (default none, or
                            the metadata's hotplug-budget). libvirt's XML carries only
                            the 32-bit one (memReserve, libvirt 10.3 and later); the
                            others are in --format qemu output
  --new-definition          use libvirt's defaults for a newly defined domain
  --explain                 also say why each device got its address (XML comments
                            after the document, '#' lines after qemu and tree output)

Constraints without addresses go in <metadata> (see the README, "libvirt"):
  <pciplan:plan xmlns:pciplan="urn:pciplan:plan:1" spare-ports="2" spare-ports-per-node="1"
                hotplug-budget="mem32:16M,pref64:64G">
    <pciplan:device alias="ua-net1" link="pcie" hotplug="no" numa-node="1"/>
    <pciplan:device alias="ua-gpu" bars="mem32:16M,pref64:32G,pref64:32M"/>
    <pciplan:node id="1" spare-ports="2"/>
  </pciplan:plan>

exit status:
  0  planned; the result is on standard output
  1  the domain cannot be planned (the device and the reason on standard error)
  2  usage error, or the input is unreadable or not a valid domain, or (--format qemu)
     the libvirt policy's answer is a layout QEMU cannot build (the warning says why)
Nothing is written to standard output unless the exit status is 0.

pciplan attach [--live] [--policy libvirt|pciplan] [--format xml|qmp|hmp|json] DOMAIN DEVICE|-
Where a device goes when it is attached to a domain: DEVICE holds one device element
(what `virsh attach-device` takes). Without --live, as `virsh attach-device --config`:
DOMAIN (the definition, e.g. `virsh dumpxml --inactive`) is planned with the device
appended, as `pciplan plan` would plan it, and the device element is printed with its
<address> (controllers the definition gets besides are named on standard error). With
--live, as `virsh attach-device --live`: DOMAIN is the running guest's definition (`virsh
dumpxml`, or `pciplan plan` output: every PCI device has its address), and the device gets
a slot QEMU can hot-plug now, without any controller added, at the address the next cold
plan gives it; --format qmp or hmp prints QEMU monitor device_add commands instead (one
per line), json the plan of the guest with the device. A NUMA node for the device goes
in DOMAIN's pciplan metadata, keyed by the device's <alias name='ua-...'/>.
  0  planned; the result is on standard output
  1  the device does not fit: no free (hot-pluggable) slot, a bus without hot-plug, ...
     (the device and the reason on standard error)
  2  usage error, unreadable input, or (--live) DOMAIN is not a running definition

pciplan detach [--live] [--policy libvirt|pciplan] [--format xml|qmp|hmp] DOMAIN DEVICE|-
Removes the device of DOMAIN that DEVICE names (by <alias>, else PCI <address>, else an
interface's <mac> or a disk's <target dev>) and prints the domain without it; with --live
only when it can be unplugged from the running guest now (qmp/hmp: the device_del commands).
  0  done   1  it cannot be unplugged (why on standard error)   2  as for attach

pciplan show [--format qemu|tree|json] PLAN|-
Reads a plan that `pciplan plan --format json` wrote (or a program with to_json) and
prints it: qemu (default) as -device lines (with -object/-numa lines first when its
expanders are bound to NUMA nodes), tree, or json (as written: a check that it reads).
  0  shown
  2  usage error, or PLAN is unreadable or not a plan (where and why on standard error),
     or (qemu) the plan is a libvirt answer QEMU cannot build

pciplan check --machine TYPE [--hotplug-budget SPEC] FILE|-
Checks a hand-written QEMU layout against QEMU's PCI rules before QEMU sees it. FILE
holds one option per line: `-device ARG` (classic `driver,key=value` or JSON syntax)
or just ARG; `-numa node,...` lines count the guest's NUMA nodes; `-m SIZE` is the
guest's RAM (where firmware's windows start); other `-...` lines, blank lines and `#`
comments are skipped. With --hotplug-budget (SPEC as for plan), every empty
hot-pluggable port whose memory windows cannot hold a device with those BARs gets a
warning naming the *-reserve values that would. TYPE is the QEMU machine: pc, q35, microvm
(x86_64), virt (aarch64), riscv64:virt, loongarch64:virt, pseries (ppc64) or
s390-ccw-virtio; ARCH:MACHINE names the architecture, as in x86_64:pc-q35-7.2.
Prints one line per finding, `FILE:LINE: error|warning: -device ARG: MESSAGE [qemu rule N]`
(N: the rule in the README's "QEMU" section), then a summary.
  0  QEMU accepts the layout (warnings may be printed)
  1  QEMU would refuse it (errors are worded as QEMU 7.2 words them)
  2  usage error, or FILE is unreadable
)";

struct arguments {
  std::string command = "plan";
  std::string machine;  // check: --machine
  pciplan::libvirt::domain_options options{};
  std::string format = "xml";
  bool explain = false;
  bool live = false;  // attach, detach
  std::string file;
  std::string device;  // attach, detach: DEVICE
};

/// The exit status of a failure (the usage text's "exit status" table): 1 when the
/// domain is sound but does not fit, 2 when it is not a readable or consistent domain.
int exit_status(pciplan::libvirt::failure f) {
  switch (f) {
    case pciplan::libvirt::failure::none: return 0;
    case pciplan::libvirt::failure::planning_capacity: return 1;
    case pciplan::libvirt::failure::input:
    case pciplan::libvirt::failure::planning_conflict: return 2;
  }
  return 2;
}

/// An option's number: decimal, or hexadecimal after 0x (at most 16 digits); blanks
/// around it are ignored.
std::optional<std::uint64_t> option_number(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    base = 16;
    text.remove_prefix(2);
  }
  if (text.empty() || text.size() > 16) return std::nullopt;
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

[[noreturn]] void usage_error(const std::string& what) {
  std::cerr << "pciplan: " << what << "\n(pciplan --help shows the usage)\n";
  std::exit(2);
}

arguments parse(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  if (args.empty()) usage_error("no command given");
  if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << usage;
    std::exit(0);
  }
  if (args[0] == "--version") {
    std::cout << "pciplan 0.1.0\n";
    std::exit(0);
  }
  if (args[0] != "plan" && args[0] != "check" && args[0] != "show" && args[0] != "attach" && args[0] != "detach") {
    usage_error("unknown command '" + std::string(args[0]) +
                "' (the commands are 'plan', 'attach', 'detach', 'show' and 'check')");
  }
  arguments a{};
  a.command = args[0];
  if (a.command == "show") a.format = "qemu";
  const bool device_command = a.command == "attach" || a.command == "detach";
  bool have_file = false;
  bool have_device = false;
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string_view s = args[i];
    const auto value = [&]() -> std::string_view {
      if (i + 1 >= args.size()) usage_error(std::string(s) + " needs a value");
      return args[++i];
    };
    if (s == "--help" || s == "-h") {
      std::cout << usage;
      std::exit(0);
    } else if (a.command == "check" && s != "--machine" && s != "--hotplug-budget" && s.size() > 1 && s[0] == '-') {
      usage_error("unknown option '" + std::string(s) + "' for check (it takes --machine TYPE and --hotplug-budget SPEC)");
    } else if (a.command == "show" && s != "--format" && s.size() > 1 && s[0] == '-') {
      usage_error("unknown option '" + std::string(s) + "' for show (it takes --format qemu|tree|json)");
    } else if (device_command && (s == "--explain" || s == "--machine")) {
      usage_error(std::string(s) + " does not belong to " + a.command);
    } else if (s == "--live") {
      if (!device_command) usage_error("--live belongs to the attach and detach commands");
      a.live = true;
    } else if (s == "--machine") {
      if (a.command != "check") usage_error("--machine belongs to the check command");
      a.machine = value();
    } else if (s == "--policy") {
      const std::string_view v = value();
      if (v == "libvirt") a.options.policy = pciplan::libvirt::policy_kind::libvirt;
      else if (v == "pciplan") a.options.policy = pciplan::libvirt::policy_kind::pciplan;
      else usage_error("--policy must be libvirt or pciplan, not '" + std::string(v) + "'");
    } else if (s == "--format") {
      const std::string_view v = value();
      if (a.command == "show" && v != "qemu" && v != "tree" && v != "json") {
        usage_error("show --format must be qemu, tree or json, not '" + std::string(v) + "'");
      }
      if (device_command && v != "xml" && v != "qmp" && v != "hmp" && (v != "json" || a.command != "attach")) {
        usage_error(a.command + " --format must be xml, qmp, hmp" + (a.command == "attach" ? " or json" : "") +
                    ", not '" + std::string(v) + "'");
      }
      if (!device_command && v != "xml" && v != "qemu" && v != "tree" && v != "json") {
        usage_error("--format must be xml, qemu, tree or json, not '" + std::string(v) + "'");
      }
      a.format = v;
    } else if (s == "--spare-ports") {
      const std::string_view v = value();
      const auto n = option_number(v);
      if (!n || *n > 1024) usage_error("--spare-ports needs a number from 0 to 1024, not '" + std::string(v) + "'");
      a.options.spare_ports = static_cast<int>(*n);
    } else if (s == "--spare-ports-per-node") {
      const std::string_view v = value();
      const auto n = option_number(v);
      if (!n || *n > 1024) {
        usage_error("--spare-ports-per-node needs a number from 0 to 1024, not '" + std::string(v) + "'");
      }
      a.options.spare_ports_per_node = static_cast<int>(*n);
    } else if (s == "--hotplug-budget") {
      const std::string_view v = value();
      const pciplan::result<pciplan::device_bars> budget = pciplan::libvirt::parse_bars(v);
      if (!budget) {
        usage_error("--hotplug-budget '" + std::string(v) + "' is not a BAR list: " + pciplan::describe(budget.error()) +
                    " (SPEC is space:size entries separated by commas, e.g. mem32:16M,pref64:64G)");
      }
      a.options.hotplug_budget = *budget;
    } else if (s == "--explain") {
      a.explain = true;
    } else if (s == "--new-definition") {
      a.options.new_definition = true;
    } else if (s.size() > 1 && s[0] == '-' && s != "-") {
      usage_error("unknown option '" + std::string(s) + "'");
    } else if (device_command && have_file) {
      if (have_device) usage_error(a.command + " takes one DOMAIN and one DEVICE");
      a.device = s;
      have_device = true;
    } else {
      if (have_file) usage_error("only one FILE may be given");
      a.file = s;
      have_file = true;
    }
  }
  if (device_command) {
    if (!have_file || !have_device) usage_error(a.command + " needs DOMAIN and DEVICE (use - for standard input)");
    if (a.file == "-") usage_error(a.command + ": only DEVICE may be - (standard input)");
    if (!a.live && (a.format == "qmp" || a.format == "hmp")) {
      usage_error(a.command + " --format " + a.format + " needs --live (monitor commands act on a running guest)");
    }
    return a;
  }
  if (!have_file) usage_error("no FILE given (use - for standard input)");
  if (a.command == "check" && a.machine.empty()) usage_error("check needs --machine TYPE (pc, q35, virt, ...)");
  return a;
}

std::string read_input(const std::string& file) {
  std::ostringstream text;
  if (file == "-") {
    text << std::cin.rdbuf();
    if (std::cin.bad()) {
      std::cerr << "pciplan: cannot read standard input\n";
      std::exit(2);
    }
    return text.str();
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::cerr << "pciplan: cannot open " << file << ": " << std::strerror(errno) << '\n';
    std::exit(2);
  }
  text << in.rdbuf();
  if (in.bad()) {
    std::cerr << "pciplan: cannot read " << file << '\n';
    std::exit(2);
  }
  return text.str();
}

/// A libvirt answer QEMU cannot build has no QEMU arguments: says why, exit status 2.
int no_qemu_arguments(const pciplan::topology_plan& plan, const std::string& source) {
  for (const pciplan::warning& w : plan.warnings) {
    if (w.code == pciplan::warning_code::unbuildable) {
      std::cerr << "pciplan: " << source << ": no QEMU arguments: " << w.text << '\n';
    }
  }
  return 2;
}

/// `pciplan show`: a plan read back from JSON, printed.
int show(const arguments& a, const std::string& input, const std::string& source) {
  pciplan::topology_plan plan;
  try {
    plan = pciplan::from_json(input);
  } catch (const pciplan::json_input_error& e) {
    std::cerr << "pciplan: " << source << ": " << e.what() << '\n';
    return 2;
  }
  std::string out;
  if (a.format == "tree") {
    out = pciplan::tree(plan, pciplan::tree_options{.windows = true});
  } else if (a.format == "json") {
    out = pciplan::to_json(plan);
  } else {
    if (!plan.qemu_can_build()) return no_qemu_arguments(plan, source);
    for (const std::string& line : pciplan::qemu_numa_arguments(plan)) out += line + '\n';
    for (const std::string& line : pciplan::qemu_arguments(plan)) out += line + '\n';
  }
  std::cout << out;
  std::cout.flush();
  return std::cout ? 0 : 2;
}

int check(const arguments& a, const std::string& input, const std::string& source) {
  const auto machine = pciplan::machine_named(a.machine);
  if (!machine) {
    usage_error("--machine '" + a.machine +
                "' is not a machine pciplan checks (pc, q35, microvm, virt, riscv64:virt, loongarch64:virt, pseries, "
                "s390-ccw-virtio)");
  }
  pciplan::qemu_layout layout = pciplan::read_qemu_layout(input);
  layout.hotplug_budget = a.options.hotplug_budget;
  const pciplan::validation_report report =
      pciplan::with_machine(*machine, [&](auto m) { return pciplan::validate<decltype(m)>(layout); });
  std::string out;
  for (const pciplan::finding& f : report.findings) {
    // FILE:LINE: and the library's sentence ("line N: error: -device ARG: MESSAGE [qemu
    // rule R]") without its own "line N: "
    std::string sentence = pciplan::describe(layout, f);
    out += source;
    if (f.device < layout.devices.size()) {
      const std::string line = std::to_string(layout.devices[f.device].line);
      if (sentence.starts_with("line " + line + ": ")) sentence.erase(0, line.size() + 7);
      out += ':' + line;
    }
    out += ": " + sentence + '\n';
  }
  const std::size_t errors = report.count(pciplan::severity::error);
  const std::size_t warnings = report.count(pciplan::severity::warning);
  out += source + ": " + std::to_string(layout.devices.size()) + " devices, " + std::to_string(errors) +
         (errors == 1 ? " error, " : " errors, ") + std::to_string(warnings) + (warnings == 1 ? " warning: " : " warnings: ") +
         (report.accepted() ? "QEMU accepts this layout\n" : "QEMU refuses this layout\n");
  std::cout << out;
  std::cout.flush();
  if (!std::cout) return 2;
  return report.accepted() ? 0 : 1;
}

/// `pciplan attach` and `pciplan detach`.
int attach_or_detach(const arguments& a, const std::string& domain_xml) {
  const std::string device_xml = read_input(a.device);
  const std::string source = a.file + " + " + (a.device == "-" ? std::string("<stdin>") : a.device);
  pciplan::libvirt::attach_options options{};
  options.policy = a.options.policy;
  options.live = a.live;
  options.domain = a.options;
  std::string out;
  std::vector<pciplan::monitor_command> commands;
  if (a.command == "attach") {
    const pciplan::libvirt::attach_outcome r = pciplan::libvirt::attach_device_xml(domain_xml, device_xml, options);
    if (!r.planned()) {
      std::cerr << "pciplan: " << source << ": " << r.message << '\n';
      return exit_status(r.failed);
    }
    for (const std::string& c : r.added_controllers) {
      std::cerr << "pciplan: note: the definition also gets controller " << c << '\n';
    }
    for (const pciplan::warning& w : r.plan.warnings) std::cerr << "pciplan: warning: " << w.text << '\n';
    if (a.format == "json") out = pciplan::to_json(r.plan);
    else if (a.format == "xml") out = r.device_xml + '\n';
    commands = r.commands;
  } else {
    const pciplan::libvirt::detach_outcome r = pciplan::libvirt::detach_device_xml(domain_xml, device_xml, options);
    if (!r.planned()) {
      std::cerr << "pciplan: " << source << ": " << r.message << '\n';
      return exit_status(r.failed);
    }
    if (a.format == "xml") out = r.domain_xml;
    commands = r.commands;
  }
  if (a.format == "qmp" || a.format == "hmp") {
    for (const pciplan::monitor_command& c : commands) out += (a.format == "qmp" ? c.qmp : c.hmp) + '\n';
  }
  std::cout << out;
  std::cout.flush();
  return std::cout ? 0 : 2;
}

}  // namespace

int main(int argc, char** argv) {
  const arguments a = parse(argc, argv);
  const std::string input = read_input(a.file);
  const std::string source = a.file == "-" ? std::string("<stdin>") : a.file;
  if (a.command == "check") return check(a, input, source);
  if (a.command == "show") return show(a, input, source);
  if (a.command == "attach" || a.command == "detach") return attach_or_detach(a, input);
  try {
    pciplan::libvirt::domain d(input, a.options);
    const pciplan::result<pciplan::topology_plan> plan = d.plan(a.options.policy);
    if (!plan) {
      std::cerr << "pciplan: " << source << ": " << plan.error() << '\n';
      return exit_status(pciplan::libvirt::failure_of(plan.error().code));
    }
    std::string out;
    std::string comment = "# ";
    if (a.format == "xml") {
      out = d.write(*plan);
      comment = "<!-- ";
    } else if (a.format == "qemu") {
      if (!plan->qemu_can_build()) return no_qemu_arguments(*plan, source);  // a libvirt answer, reproduced
      if (d.options().numa_nodes != 0) {  // the guest NUMA nodes the expanders are bound to
        const std::string ram = d.memory_kib() != 0 ? std::to_string(d.memory_kib()) + "K" : std::string("128M");
        for (const std::string& line : pciplan::qemu_numa_arguments(d.options().numa_nodes, ram)) out += line + '\n';
      }
      // the 64-bit PCI hole the BARs and reserves need, for the domain's RAM (QEMU's
      // default -m, 128 MiB, when the domain does not say)
      pciplan::guest_memory memory{};
      memory.ram = d.memory_kib() != 0 ? d.memory_kib() * 1024 : std::uint64_t{128} << 20;
      for (const std::string& line : pciplan::qemu_memory_arguments(*plan, memory)) out += line + '\n';
      for (const std::string& line : pciplan::qemu_arguments(*plan)) out += line + '\n';
    } else if (a.format == "tree") {
      out = pciplan::tree(*plan, pciplan::tree_options{.windows = true});
    } else {
      out = pciplan::to_json(*plan);
    }
    if (a.explain && a.format != "json") {
      const auto line = [&](std::string text) {
        if (a.format == "xml") {  // "--" may not appear inside an XML comment
          std::string safe;
          for (char ch : text) {
            if (ch == '-' && !safe.empty() && safe.back() == '-') safe += ' ';
            safe += ch;
          }
          return comment + safe + " -->\n";
        }
        return comment + text + "\n";
      };
      for (const pciplan::placement& p : plan->placements) out += line(pciplan::describe(*plan, p));
      for (const pciplan::warning& w : plan->warnings) out += line("warning: " + std::string(w.text));
    }
    for (const pciplan::warning& w : plan->warnings) std::cerr << "pciplan: warning: " << w.text << '\n';
    std::cout << out;
    std::cout.flush();
    return std::cout ? 0 : 2;
  } catch (const pciplan::libvirt::input_error& e) {
    std::cerr << "pciplan: " << source << ": " << e.what() << '\n';
    return exit_status(pciplan::libvirt::failure::input);
  }
}
