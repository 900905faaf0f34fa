// pciplan — validate/detail/qemu_args.hpp: reading QEMU `-device` arguments (classic
// `driver,key=value,…` and JSON `{"driver":…}`) into key/value pairs.
#ifndef PCIPLAN_VALIDATE_DETAIL_QEMU_ARGS_HPP
#define PCIPLAN_VALIDATE_DETAIL_QEMU_ARGS_HPP

#include <pciplan/detail/config.hpp>
#include <pciplan/detail/numbers.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pciplan::inline v0::detail {

/// One `-device` argument taken apart: the driver and every property as text (JSON
/// numbers and booleans as written: `16`, `true`).
struct device_argument {
  std::string driver;
  std::vector<std::pair<std::string, std::string>> properties;

  /// The value of property `key` (the first one given), or empty.
  [[nodiscard]] std::string_view value(std::string_view key) const {
    for (const auto& [k, v] : properties) {
      if (k == key) return v;
    }
    return {};
  }
  /// Whether property `key` is given.
  [[nodiscard]] bool has(std::string_view key) const {
    return std::any_of(properties.begin(), properties.end(), [&](const auto& p) { return p.first == key; });
  }
};

/// Why an argument could not be read (empty: it could).
struct argument_problem {
  std::string message;
};

/// `driver,key=value,key=value`; a doubled comma is a comma inside a value (QEMU's
/// escaping). A key without `=` is `key=on` (QEMU's boolean shorthand).
[[nodiscard]] inline std::optional<argument_problem> split_classic(std::string_view text, device_argument& out) {
  std::vector<std::string> parts(1);
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == ',') {
      if (i + 1 < text.size() && text[i + 1] == ',') {
        parts.back() += ',';
        ++i;
      } else {
        parts.emplace_back();
      }
    } else {
      parts.back() += text[i];
    }
  }
  out.driver = parts.front();
  if (out.driver.empty() || out.driver.find('=') != std::string::npos) {
    return argument_problem{"the argument must start with the device model name (driver)"};
  }
  for (std::size_t i = 1; i < parts.size(); ++i) {
    const std::string& p = parts[i];
    if (p.empty()) continue;
    const std::size_t eq = p.find('=');
    if (eq == 0) return argument_problem{"a property has no name: '" + p + "'"};
    if (eq == std::string::npos) {
      out.properties.emplace_back(p, "on");
    } else {
      out.properties.emplace_back(p.substr(0, eq), p.substr(eq + 1));
    }
  }
  return std::nullopt;
}

/// A flat JSON object of strings, numbers and booleans (what `-device {…}` takes for
/// the properties pciplan reads; nested values are refused).
[[nodiscard]] inline std::optional<argument_problem> split_json(std::string_view text, device_argument& out) {
  std::size_t i = 0;
  const auto skip = [&] {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r')) ++i;
  };
  const auto string_at = [&](std::string& s) -> bool {
    if (i >= text.size() || text[i] != '"') return false;
    ++i;
    while (i < text.size() && text[i] != '"') {
      if (text[i] == '\\') {
        if (i + 1 >= text.size()) return false;
        const char e = text[i + 1];
        if (e == '"' || e == '\\' || e == '/') s += e;
        else if (e == 'n') s += '\n';
        else if (e == 't') s += '\t';
        else return false;  // \u and the rest: not in device properties
        i += 2;
      } else {
        s += text[i++];
      }
    }
    if (i >= text.size()) return false;
    ++i;
    return true;
  };
  const auto bad = [&](std::string_view what) {
    return argument_problem{"not a flat JSON object: " + std::string(what) + " at character " + std::to_string(i + 1)};
  };
  skip();
  if (i >= text.size() || text[i] != '{') return bad("expected '{'");
  ++i;
  skip();
  bool first = true;
  while (i < text.size() && text[i] != '}') {
    if (!first) {
      if (text[i] != ',') return bad("expected ',' or '}'");
      ++i;
      skip();
    }
    first = false;
    std::string key;
    if (!string_at(key)) return bad("expected a quoted property name");
    skip();
    if (i >= text.size() || text[i] != ':') return bad("expected ':'");
    ++i;
    skip();
    std::string value;
    if (i < text.size() && text[i] == '"') {
      if (!string_at(value)) return bad("unterminated string");
    } else {
      while (i < text.size() && text[i] != ',' && text[i] != '}' && text[i] != ' ') value += text[i++];
      const bool number = !value.empty() && value.find_first_not_of("-+0123456789.eE") == std::string::npos;
      if (value != "true" && value != "false" && !number) return bad("expected a string, number or boolean");
    }
    skip();
    if (key == "driver") out.driver = value;
    else out.properties.emplace_back(std::move(key), std::move(value));
  }
  if (i >= text.size()) return bad("expected '}'");
  ++i;
  skip();
  if (i != text.size()) return bad("text after the closing '}'");
  if (out.driver.empty()) return argument_problem{"the JSON object has no \"driver\""};
  return std::nullopt;
}

/// An unsigned integer property as QEMU takes it: decimal, or hexadecimal after 0x; at
/// most 10 digits after any prefix (beyond that: not a number).
[[nodiscard]] constexpr std::optional<std::uint64_t> qemu_integer(std::string_view s) noexcept {
  return parse_number(s, number_syntax::decimal_or_hex, 10);
}

/// QEMU's `addr`: "slot" or "slot.function", both hex; the slot at most 0x1f and the
/// function at most 7. Returns slot * 8 + function.
[[nodiscard]] constexpr std::optional<unsigned> parse_devfn(std::string_view s) noexcept {
  const std::size_t dot = s.find('.');
  // each part: hexadecimal after an optional 0x, at most 8 digits
  const auto slot = parse_number(s.substr(0, dot), number_syntax::hex, 8);
  if (!slot || *slot > 0x1f) return std::nullopt;
  unsigned function = 0;
  if (dot != std::string_view::npos) {
    const auto f = parse_number(s.substr(dot + 1), number_syntax::hex, 8);
    if (!f || *f > 7) return std::nullopt;
    function = static_cast<unsigned>(*f);
  }
  return static_cast<unsigned>(*slot) * 8 + function;
}

/// QEMU's booleans: on/off, true/false, yes/no.
[[nodiscard]] constexpr std::optional<bool> parse_switch(std::string_view s) noexcept {
  if (s == "on" || s == "true" || s == "yes") return true;
  if (s == "off" || s == "false" || s == "no") return false;
  return std::nullopt;
}

}  // namespace pciplan::inline v0::detail

#endif  // PCIPLAN_VALIDATE_DETAIL_QEMU_ARGS_HPP
