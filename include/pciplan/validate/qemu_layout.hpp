// pciplan — validate/qemu_layout.hpp: a hand-written QEMU layout read from text, and
// what the validator finds in it (findings, their severity, the report, each finding as
// a sentence).
//
//   const pciplan::qemu_layout layout = pciplan::read_qemu_layout(text);  // -device lines
//   for (const pciplan::finding& f : report.findings) std::cout << describe(layout, f) << '\n';
#ifndef PCIPLAN_VALIDATE_QEMU_LAYOUT_HPP
#define PCIPLAN_VALIDATE_QEMU_LAYOUT_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/detail/numbers.hpp>
#include <pciplan/vocabulary/bars.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pciplan::inline v0 {

/// A hand-written layout: QEMU `-device` arguments, in command-line order.
struct qemu_layout {
  /// One `-device` argument of the layout.
  struct entry {
    std::string argument;   ///< what follows `-device`, as written
    std::size_t line = 0;   ///< 1-based line of the text it was read from (0: not read from text)
  };
  std::vector<entry> devices;  ///< the `-device` arguments, in command-line order
  /// Guest NUMA nodes (`-numa node` options); a pxb's numa_node must be below it.
  unsigned numa_nodes = 0;
  /// Guest RAM in bytes (`-m`), where firmware's windows start (the memory-window
  /// check); 0: 1 GiB.
  std::uint64_t ram = 0;
  /// The BARs of a device that may be hot-plugged later into any empty hot-pluggable
  /// port (a pcie-root-port, downstream port or pci-bridge without devices); when given,
  /// each such port whose windows cannot hold them gets a warning that names the
  /// reserve that would (RULES.md Q29). Empty: no check.
  device_bars hotplug_budget{};
  /// OVMF's 64-bit window in bytes, from `-fw_cfg name=opt/ovmf/X-PciMmio64Mb,string=MiB`;
  /// 0: none given (OVMF's default, 32 GiB, when it does not trust the CPU's address width).
  std::uint64_t ovmf_window64 = 0;
  /// Memory backends (`-object memory-backend-*,id=…,size=…`): an ivshmem-plain's BAR 2
  /// is its `memdev`'s size.
  struct backend {
    std::string id;          ///< the object's id
    std::uint64_t size = 0;  ///< bytes
  };
  std::vector<backend> backends;  ///< in command-line order
};

namespace detail {

/// The RAM of a `-m` option's value ("4G", "size=4G,slots=2,maxmem=8G", "2048": MiB as
/// QEMU reads a bare number); 0 when it is not one.
[[nodiscard]] constexpr std::uint64_t ram_of_m_option(std::string_view value) noexcept {
  value = value.substr(0, value.find(','));
  if (value.starts_with("size=")) value.remove_prefix(5);
  const auto n = parse_size(value, number_syntax::decimal, 10);
  if (!n) return 0;
  const unsigned shift = n->shift == 0 ? 20 : n->shift;
  return n->number > (std::uint64_t{1} << (62 - shift)) ? 0 : n->number << shift;
}

}  // namespace detail

/// Reads a layout from text: one QEMU option per line. A line is a `-device ARG`, or
/// just `ARG` (the device argument alone), or `-numa node,…` (counted as a NUMA node), or
/// `-m SIZE` (the guest's RAM: qemu_layout::ram), `-object memory-backend-…,id=…,size=…`
/// (qemu_layout::backends) or `-fw_cfg name=opt/ovmf/X-PciMmio64Mb,string=MiB`
/// (qemu_layout::ovmf_window64).
/// Other lines that start with `-` (`-object`, `-machine`, …), blank lines and lines starting
/// with `#` are skipped.
[[nodiscard]] inline qemu_layout read_qemu_layout(std::string_view text) {
  qemu_layout layout;
  std::size_t line_number = 0;
  while (!text.empty()) {
    const std::size_t end = std::min(text.find('\n'), text.size());
    std::string_view line = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    ++line_number;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (line.empty() || line.front() == '#') continue;
    if (line.starts_with("-device ") || line.starts_with("--device ")) {
      line.remove_prefix(line.find(' ') + 1);
      while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
    } else if (line.starts_with("-numa ") || line.starts_with("--numa ")) {
      std::string_view arg = line.substr(line.find(' ') + 1);
      while (!arg.empty() && arg.front() == ' ') arg.remove_prefix(1);
      if (arg.starts_with("node")) ++layout.numa_nodes;
      continue;
    } else if (line.starts_with("-object memory-backend-") || line.starts_with("--object memory-backend-")) {
      const std::string_view arg = line.substr(line.find("memory-backend-"));
      const auto value = [&](std::string_view key) -> std::string_view {
        for (std::size_t at = arg.find(','); at != std::string_view::npos; at = arg.find(',', at + 1)) {
          const std::string_view rest = arg.substr(at + 1);
          if (rest.starts_with(key) && rest.size() > key.size() && rest[key.size()] == '=') {
            const std::string_view v = rest.substr(key.size() + 1);
            return v.substr(0, v.find(','));
          }
        }
        return {};
      };
      const std::optional<std::uint64_t> size = parse_byte_size(value("size"));
      if (!value("id").empty() && size) layout.backends.push_back({std::string(value("id")), *size});
      continue;
    } else if (line.starts_with("-fw_cfg ") && line.find("name=opt/ovmf/X-PciMmio64Mb,") != std::string_view::npos) {
      const std::size_t at = line.find("string=");
      const auto mib = at == std::string_view::npos
                           ? std::nullopt
                           : detail::parse_number(line.substr(at + 7), detail::number_syntax::decimal, 9);
      if (mib) layout.ovmf_window64 = *mib << 20;
      continue;
    } else if (line.starts_with("-m ") || line.starts_with("--m ")) {
      layout.ram = detail::ram_of_m_option(line.substr(line.find_first_not_of(' ', line.find(' '))));
      continue;
    } else if (line.front() == '-') {
      continue;
    }
    // a shell-quoted JSON argument, as `ps` or a script shows it
    if (line.size() >= 2 && line.front() == '\'' && line.back() == '\'') line = line.substr(1, line.size() - 2);
    layout.devices.push_back({std::string(line), line_number});
  }
  return layout;
}

/// How bad a finding is.
enum class severity : unsigned char {
  error,    ///< QEMU refuses the layout
  warning,  ///< QEMU accepts it, but firmware or guests break on it, or QEMU's guidelines advise against it
};

/// One problem in a layout.
struct finding {
  /// The `device` value of a finding about no device in particular.
  static constexpr std::size_t no_device = static_cast<std::size_t>(-1);
  severity level = severity::error;   ///< how bad it is
  unsigned rule = 0;                  ///< RULES.md Q0–Q36 rule number; 0: general argument checks
  std::size_t device = no_device;     ///< index into qemu_layout::devices
  std::string message;                ///< errors QEMU reports: QEMU 7.2's words
};

/// The outcome of `validate`.
struct validation_report {
  std::vector<finding> findings;  ///< every problem found in the layout
  /// Whether QEMU would create every device (warnings allowed).
  [[nodiscard]] bool accepted() const noexcept {
    return std::none_of(findings.begin(), findings.end(), [](const finding& f) { return f.level == severity::error; });
  }
  /// The number of findings of severity `s`.
  [[nodiscard]] std::size_t count(severity s) const noexcept {
    return static_cast<std::size_t>(
        std::count_if(findings.begin(), findings.end(), [s](const finding& f) { return f.level == s; }));
  }
};

/// "line 3: error: -device e1000,addr=0x3: PCI: slot 3 function 0 not available for e1000,
/// in use by virtio-net-pci,id=net0 [qemu rule 1]" (the line part when the device was read
/// from text).
[[nodiscard]] inline std::string describe(const qemu_layout& layout, const finding& f) {
  std::string s;
  const bool has_device = f.device < layout.devices.size();
  if (has_device && layout.devices[f.device].line != 0) s += "line " + std::to_string(layout.devices[f.device].line) + ": ";
  s += f.level == severity::error ? "error: " : "warning: ";
  if (has_device) s += "-device " + layout.devices[f.device].argument + ": ";
  s += f.message;
  s += " [qemu rule " + std::to_string(f.rule) + "]";
  return s;
}

}  // namespace pciplan::inline v0

#endif  // PCIPLAN_VALIDATE_QEMU_LAYOUT_HPP
