// libvirt conformance: does pciplan, with the libvirt policy, give a domain the same PCI
// addresses and controllers that libvirt gives it?
//
// The corpus (../shared/corpus/libvirt, see its README.md) holds pairs from libvirt's own
// test suite: an input domain XML and libvirt's output for it (every PCI device addressed,
// every controller it added), or the error libvirt reports (.err). MANIFEST.tsv lists them.
// For each pair this program runs
//     pciplan::libvirt::plan_domain_xml(input, {policy_kind::libvirt, -1, new_definition})
// (new_definition when the expected file is an .abi-update. variant) and then
//   - xml pairs: pciplan must succeed, and its document must agree with libvirt's on every
//     PCI fact (pci_facts.hpp: controllers with their model, target and address, and the PCI
//     address of every device; nothing else is compared);
//   - err pairs: pciplan must refuse the input too (the messages are not compared; --verbose
//     shows both).
// Pairs whose MANIFEST notes say MISMATCH are skipped: their expected output does not belong
// to the stored input.
//
// Usage: pciplan_conformance CORPUS_DIR THRESHOLD_FILE [--verbose] [NAME_FILTER]
//   Prints one line per differing pair (its first differences; all of them with --verbose),
//   then "N of M pairs identical". Exit status: 0 when N >= the threshold (the integer in
//   THRESHOLD_FILE; lines starting with # are comments), 1 below it or on a bad
//   manifest/threshold file, 2 on bad arguments, 77 (CTest: skipped) when CORPUS_DIR does not
//   exist. With NAME_FILTER only the pairs whose name contains it are run, the threshold is
//   not applied, and the exit status is 0 when every selected pair is identical.
//
// Pairs that differ today, and why:
//   - aarch64-versatilepb-minimal: pciplan does not plan the versatilepb board (a
//     conventional-PCI Arm board without virtio-pci); it refuses the machine (exit 2).
// usb-controller-default-q35 is identical since the reader gives the model-less USB
// controller of an existing q35 domain a root-bus fallback (fallback::root_bus): libvirt's
// current test data keeps it on pcie-root at 00:01.0 when nothing else needs a conventional
// slot (this pair), and behind the pcie-to-pci-bridge when other devices add one
// (watchdog-q35-multiple, x86_64-q35-default-models). The Debian libvirt 9.0 oracle adds a
// root port and a pcie-to-pci-bridge for it even alone.
// Where the libvirt 9.0 oracle and the corpus disagree, the corpus wins: pci-autoadd-idx
// (libvirt 9.0 puts the back-filled pci-bridges one slot higher, from 00:04.0) and
// usb-controller-default-q35 above. pciplan follows the corpus in both. The
// pseries pairs could not be checked against the oracle (no qemu-system-ppc64 on Debian's
// oracle machine); several aarch64 and pc pairs use machine versions or devices the
// Debian QEMU 7.2 lacks and were checked against the corpus only.
//
// The threshold only goes up: when a change makes more pairs identical, the program says so
// and conformance_threshold.txt gets the new count in the same commit. A lower count is a
// regression, never a reason to lower the threshold.
#include <pciplan/libvirt.hpp>  // the optional libvirt adapter (pciplan::libvirt, needs pugixml)
#include <pciplan/pciplan.hpp>

#include "pci_facts.hpp"

#include <pugixml.hpp>

#include <cstddef>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace fs = std::filesystem;

namespace {

constexpr int exit_ok = 0;
constexpr int exit_failed = 1;
constexpr int exit_usage = 2;
constexpr int exit_skipped = 77;
constexpr std::size_t shown_differences = 3;  // per pair, without --verbose

struct pair_row {
  std::string name;
  std::string arch;
  std::string input_file;
  std::string expected_file;
  std::string expected_kind;
  std::string notes;
};

std::optional<std::string> read_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> split(std::string_view line, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = line.find(sep, start);
    out.emplace_back(line.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

std::string trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return std::string(s);
}

/// MANIFEST.tsv: a header row naming the columns, then one pair per row.
std::optional<std::vector<pair_row>> read_manifest(const fs::path& file, std::string& why) {
  const std::optional<std::string> text = read_file(file);
  if (!text) {
    why = "cannot read " + file.string();
    return std::nullopt;
  }
  std::istringstream in(*text);
  std::string line;
  std::map<std::string, std::size_t, std::less<>> column;
  std::vector<pair_row> rows;
  bool header = true;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (trimmed(line).empty()) continue;
    const std::vector<std::string> cells = split(line, '\t');
    if (header) {
      for (std::size_t i = 0; i < cells.size(); ++i) column[trimmed(cells[i])] = i;
      for (const char* required : {"name", "input_file", "expected_file", "expected_kind"}) {
        if (!column.contains(required)) {
          why = file.string() + ": the header row has no '" + required + "' column";
          return std::nullopt;
        }
      }
      header = false;
      continue;
    }
    const auto cell = [&](std::string_view name) {
      const auto it = column.find(name);
      return it != column.end() && it->second < cells.size() ? trimmed(cells[it->second]) : std::string();
    };
    rows.push_back({cell("name"), cell("arch"), cell("input_file"), cell("expected_file"), cell("expected_kind"),
                    cell("notes")});
  }
  if (header) {
    why = file.string() + " is empty";
    return std::nullopt;
  }
  return rows;
}

/// The first integer line of the threshold file (lines starting with # are comments).
std::optional<int> read_threshold(const fs::path& file) {
  const std::optional<std::string> text = read_file(file);
  if (!text) return std::nullopt;
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    const std::string t = trimmed(line);
    if (t.empty() || t.front() == '#') continue;
    std::size_t used = 0;
    try {
      const int value = std::stoi(t, &used);
      if (used == t.size() && value >= 0) return value;
    } catch (const std::exception&) {
    }
    return std::nullopt;
  }
  return std::nullopt;
}

/// The outcome of one pair: identical, or the differences that make it not so.
struct verdict {
  std::vector<std::string> differences;
  std::vector<std::string> notes;  // printed with --verbose only
};

verdict check_pair(const fs::path& corpus, const pair_row& row) {
  verdict v;
  const std::optional<std::string> input = read_file(corpus / row.input_file);
  if (!input) {
    v.differences.push_back("cannot read the input " + row.input_file);
    return v;
  }
  const std::optional<std::string> expected = read_file(corpus / row.expected_file);
  if (!expected) {
    v.differences.push_back("cannot read the expected file " + row.expected_file);
    return v;
  }

  namespace lv = pciplan::libvirt;
  lv::domain_options options;
  options.policy = lv::policy_kind::libvirt;
  options.spare_ports = -1;
  options.new_definition = row.expected_file.find(".abi-update.") != std::string::npos;
  lv::xml_outcome outcome;
  try {
    outcome = lv::plan_domain_xml(*input, options);
  } catch (const std::exception& e) {
    v.differences.push_back(std::string("plan_domain_xml threw: ") + e.what());
    return v;
  }

  if (row.expected_kind == "err") {
    v.notes.push_back("libvirt: " + trimmed(*expected));
    if (!outcome.planned()) {
      v.notes.push_back("pciplan: " + std::string(lv::name_of(outcome.failed)) + " failure: " + trimmed(outcome.message));
    } else {
      v.differences.push_back("libvirt refuses this domain (" + trimmed(*expected) + "); pciplan planned it");
    }
    return v;
  }
  if (row.expected_kind != "xml") {
    v.differences.push_back("unknown expected_kind '" + row.expected_kind + "' in MANIFEST.tsv");
    return v;
  }
  if (!outcome.planned()) {
    v.differences.push_back("pciplan did not plan it (" + std::string(lv::name_of(outcome.failed)) +
                            " failure): " + trimmed(outcome.message));
    return v;
  }
  pugi::xml_document want;
  if (const pugi::xml_parse_result r = want.load_string(expected->c_str()); !r) {
    v.differences.push_back(row.expected_file + " does not parse: " + r.description());
    return v;
  }
  pugi::xml_document got;
  if (const pugi::xml_parse_result r = got.load_string(outcome.xml.c_str()); !r) {
    v.differences.push_back(std::string("pciplan's XML does not parse: ") + r.description() + " at offset " +
                            std::to_string(r.offset));
    return v;
  }
  v.differences = test_support::pci_differences(want, got);
  return v;
}

int usage() {
  std::cerr << "usage: pciplan_conformance CORPUS_DIR THRESHOLD_FILE [--verbose] [NAME_FILTER]\n";
  return exit_usage;
}

}  // namespace

int main(int argc, char** argv) {
  bool verbose = false;
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--verbose" || arg == "-v") {
      verbose = true;
    } else if (arg == "--help" || arg == "-h") {
      usage();
      return exit_ok;
    } else if (arg.starts_with("-")) {
      std::cerr << "conformance: unknown option " << arg << "\n";
      return usage();
    } else {
      positional.emplace_back(arg);
    }
  }
  if (positional.size() < 2 || positional.size() > 3) return usage();
  const fs::path corpus = positional[0];
  const fs::path threshold_file = positional[1];
  const std::optional<std::string> filter =
      positional.size() == 3 ? std::optional<std::string>(positional[2]) : std::nullopt;

  if (!fs::is_directory(corpus)) {
    std::cout << "conformance: " << corpus.string() << " not found; skipped\n";
    return exit_skipped;
  }
  std::string why;
  const std::optional<std::vector<pair_row>> rows = read_manifest(corpus / "MANIFEST.tsv", why);
  if (!rows) {
    std::cout << "conformance: " << why << "\n";
    return exit_failed;
  }
  const std::optional<int> threshold = read_threshold(threshold_file);
  if (!filter && !threshold) {
    std::cout << "conformance: no threshold (a non-negative integer) in " << threshold_file.string() << "\n";
    return exit_failed;
  }

  int used = 0;
  int identical = 0;
  std::vector<std::string> skipped;
  for (const pair_row& row : *rows) {
    if (filter && row.name.find(*filter) == std::string::npos) continue;
    if (row.notes.find("MISMATCH") != std::string::npos) {
      std::cout << "skipped " << row.name << ": " << row.notes << "\n";
      skipped.push_back(row.name);
      continue;
    }
    ++used;
    const verdict v = check_pair(corpus, row);
    const std::string label = row.name + " (" + row.arch + ", " + row.expected_kind + ")";
    if (v.differences.empty()) {
      ++identical;
      if (verbose) {
        std::cout << "same    " << label << "\n";
        for (const std::string& n : v.notes) std::cout << "    " << n << "\n";
      }
      continue;
    }
    if (verbose) {
      std::cout << "differs " << label << ": " << v.differences.size() << " difference"
                << (v.differences.size() == 1 ? "" : "s") << "\n";
      for (const std::string& n : v.notes) std::cout << "    " << n << "\n";
      for (const std::string& d : v.differences) std::cout << "    " << d << "\n";
      continue;
    }
    std::cout << "differs " << label << ": ";
    for (std::size_t i = 0; i < v.differences.size() && i < shown_differences; ++i) {
      std::cout << (i == 0 ? "" : "; ") << v.differences[i];
    }
    if (v.differences.size() > shown_differences) {
      std::cout << " (and " << v.differences.size() - shown_differences << " more)";
    }
    std::cout << "\n";
  }

  std::cout << identical << " of " << used << " pairs identical";
  if (!skipped.empty()) std::cout << " (" << skipped.size() << " skipped)";
  std::cout << "\n";

  if (filter) {
    if (used == 0) {
      std::cout << "conformance: no pair's name contains '" << *filter << "'\n";
      return exit_failed;
    }
    std::cout << "conformance: filter '" << *filter << "': the threshold is not applied\n";
    return identical == used ? exit_ok : exit_failed;
  }
  if (identical < *threshold) {
    std::cout << "conformance: FAILED: " << identical << " identical pairs is below the threshold " << *threshold
              << " in " << threshold_file.string()
              << " (a regression: fix it, never lower the threshold)\n";
    return exit_failed;
  }
  if (identical > *threshold) {
    std::cout << "conformance: " << identical << " is above the threshold " << *threshold << ": raise it to "
              << identical << " in " << threshold_file.string() << "\n";
  }
  return exit_ok;
}
