// Parsing and formatting addresses, against the C library baseline (sscanf/snprintf).
// The planner's benchmarks (large device counts) join this binary as it grows.
#include <pciplan/pciplan.hpp>

#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>
#include <vector>

namespace {

std::vector<std::string> sample_addresses(std::size_t n) {
  std::vector<std::string> out;
  out.reserve(n);
  for (std::size_t i = 0; i != n; ++i) {
    const pciplan::pci_address a{0, static_cast<unsigned>(i % 256), static_cast<unsigned>(i % 32),
                                 static_cast<unsigned>(i % 8)};
    out.push_back(pciplan::to_string(a));
  }
  return out;
}

void BM_ParseAddress(benchmark::State& state) {
  const auto texts = sample_addresses(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    for (const auto& t : texts) {
      auto r = pciplan::parse_address(t);
      benchmark::DoNotOptimize(r);
    }
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetComplexityN(state.range(0));
}
BENCHMARK(BM_ParseAddress)->RangeMultiplier(8)->Range(8, 8 << 9)->Complexity(benchmark::oN);

void BM_ParseAddressSscanf(benchmark::State& state) {
  const auto texts = sample_addresses(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    for (const auto& t : texts) {
      unsigned d = 0, b = 0, s = 0, f = 0;
      const int n = std::sscanf(t.c_str(), "%4x:%2x:%2x.%1x", &d, &b, &s, &f);
      benchmark::DoNotOptimize(n);
      benchmark::DoNotOptimize(f);
    }
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetComplexityN(state.range(0));
}
BENCHMARK(BM_ParseAddressSscanf)->RangeMultiplier(8)->Range(8, 8 << 9)->Complexity(benchmark::oN);

void BM_FormatAddress(benchmark::State& state) {
  pciplan::pci_address a{0, 0x12, 0x1f, 7};
  for (auto _ : state) {
    benchmark::DoNotOptimize(a);
    auto t = pciplan::to_text(a);
    benchmark::DoNotOptimize(t);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FormatAddress);

void BM_FormatAddressSnprintf(benchmark::State& state) {
  unsigned d = 0, b = 0x12, s = 0x1f, f = 7;
  char buf[16];
  for (auto _ : state) {
    benchmark::DoNotOptimize(b);
    std::snprintf(buf, sizeof buf, "%04x:%02x:%02x.%x", d, b, s, f);
    benchmark::DoNotOptimize(buf);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FormatAddressSnprintf);

}  // namespace
