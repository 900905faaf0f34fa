// Planning speed and memory against device count (issue targets in bench/README.md):
//  - q35 with N hot-pluggable virtio devices, both policies, N up to 239 (libvirt's maximum);
//  - N devices that need no hotplug on pseries (several PHBs) and q35, up to 65,536, and
//    on pc with the libvirt policy, up to 256 (libvirt fills the root bus with pci-bridges
//    and stops there, at about 800 devices);
//  - a naive planner that rescans every bus and slot per device, as libvirt's search does
//    (RULES.md L4.8), for comparison.
// Memory: a counting allocator reports the planner's peak heap per device, with the
// result and without it (the planner's own working state).
#include <pciplan/pciplan.hpp>

#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

// ---- a counting allocator for this binary ---------------------------------------------
// Counts only while `counting` is set (the memory measurement after the timed loop), so
// the timed loops pay one branch per allocation. Benchmarks run on one thread.
namespace {
bool counting = false;
std::size_t live_bytes = 0;
std::size_t peak_bytes = 0;
constexpr std::size_t header = 16;  // keeps alignment; holds the size, 0 when not counted
}  // namespace

void* operator new(std::size_t n) {
  char* p = static_cast<char*>(std::malloc(n + header));
  if (p == nullptr) throw std::bad_alloc();
  *reinterpret_cast<std::size_t*>(p) = counting ? n : 0;
  if (counting) {
    live_bytes += n;
    if (live_bytes > peak_bytes) peak_bytes = live_bytes;
  }
  return p + header;
}
void operator delete(void* p) noexcept {
  if (p == nullptr) return;
  char* base = static_cast<char*>(p) - header;
  live_bytes -= *reinterpret_cast<std::size_t*>(base);
  std::free(base);
}
void operator delete(void* p, std::size_t) noexcept { operator delete(p); }

namespace {

using namespace pciplan;

std::vector<std::string> names(std::size_t n) {
  std::vector<std::string> out;
  out.reserve(n);
  for (std::size_t i = 0; i != n; ++i) out.push_back("dev" + std::to_string(i));
  return out;
}

std::vector<request> hotplug_virtio(const std::vector<std::string>& n, std::size_t count) {
  std::vector<request> r;
  for (std::size_t i = 0; i != count; ++i) {
    if (i % 2 == 0) r.push_back({n[i], models::virtio_net{}});
    else r.push_back({n[i], models::virtio_blk{}});
  }
  return r;
}

std::vector<request> no_hotplug(const std::vector<std::string>& n, std::size_t count) {
  std::vector<request> r;
  for (std::size_t i = 0; i != count; ++i) r.push_back({n[i], models::virtio_blk{}, hotplug::not_needed});
  return r;
}

/// Peak heap of one plan, minus what was live before, per device; and the same for the
/// plan's working state (the peak minus the result it returns).
template <class F>
void report_memory(benchmark::State& state, F plan_once) {
  live_bytes = 0;
  peak_bytes = 0;
  counting = true;
  auto r = plan_once();
  counting = false;
  const std::size_t peak = peak_bytes;
  const std::size_t result = live_bytes;
  const double n = static_cast<double>(state.range(0));
  state.counters["peak_B/dev"] = static_cast<double>(peak) / n;
  state.counters["state_B/dev"] = static_cast<double>(peak - result) / n;
  benchmark::DoNotOptimize(r);
}

template <class M, class Policy>
void BM_PlanHotplug(benchmark::State& state) {
  const auto n = names(static_cast<std::size_t>(state.range(0)));
  const auto requests = hotplug_virtio(n, n.size());
  plan_options options;
  options.spare_ports = 0;
  for (auto _ : state) {
    auto r = plan<M, Policy>(requests, options);
    if (!r) state.SkipWithError("planning failed");
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetComplexityN(state.range(0));
  report_memory(state, [&] { return plan<M, Policy>(requests, options); });
}
BENCHMARK(BM_PlanHotplug<machines::q35, policies::pciplan>)
    ->Name("BM_PlanQ35Hotplug/pciplan")
    ->RangeMultiplier(2)->Range(8, 128)->Arg(239)->Complexity(benchmark::oN);
BENCHMARK(BM_PlanHotplug<machines::q35, policies::libvirt>)
    ->Name("BM_PlanQ35Hotplug/libvirt")
    ->RangeMultiplier(2)->Range(8, 128)->Arg(239)->Complexity(benchmark::oN);

template <class M, class Policy = policies::pciplan>
void BM_PlanNoHotplug(benchmark::State& state) {
  const auto n = names(static_cast<std::size_t>(state.range(0)));
  const auto requests = no_hotplug(n, n.size());
  plan_options options;
  options.spare_ports = 0;
  for (auto _ : state) {
    auto r = plan<M, Policy>(requests, options);
    if (!r) state.SkipWithError("planning failed");
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetComplexityN(state.range(0));
  report_memory(state, [&] { return plan<M, Policy>(requests, options); });
}
BENCHMARK(BM_PlanNoHotplug<machines::pseries>)
    ->Name("BM_PlanNoHotplug/pseries")
    ->RangeMultiplier(4)->Range(1024, 65536)->Complexity(benchmark::oN)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_PlanNoHotplug<machines::q35>)
    ->Name("BM_PlanNoHotplug/q35")
    ->RangeMultiplier(4)->Range(1024, 16384)->Arg(60000)->Complexity(benchmark::oN)->Unit(benchmark::kMicrosecond);
// The libvirt policy stops where libvirt does: on pc, pci-bridges go on the root bus only
// (about 800 conventional devices).
BENCHMARK(BM_PlanNoHotplug<machines::pc, policies::libvirt>)
    ->Name("BM_PlanNoHotplug/libvirt-pc")
    ->RangeMultiplier(4)->Range(16, 256)->Complexity(benchmark::oN)->Unit(benchmark::kMicrosecond);

/// The naive way: for every device, scan every bus from index 0 and every slot for a free
/// one; when none is found add a root port in the lowest free root-bus function.
void BM_NaiveRescan(benchmark::State& state) {
  const std::size_t count = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    struct bus {
      bool root;
      std::array<std::uint8_t, 32> used;
    };
    std::vector<bus> buses;
    buses.push_back({true, {}});
    buses[0].used[0] = 0xff;     // host bridge
    buses[0].used[31] = 0x0b;    // ICH9 1f.0, 1f.1?, 1f.3
    std::size_t placed = 0;
    for (std::size_t d = 0; d != count; ++d) {
      bool done = false;
      for (std::size_t b = 1; b < buses.size() && !done; ++b) {  // ports: slot 0 only
        if (buses[b].used[0] == 0) {
          buses[b].used[0] = 1;
          done = true;
        }
      }
      if (!done) {  // add a root port: lowest root slot with a free function
        for (unsigned s = 1; s != 32 && !done; ++s) {
          for (unsigned f = 0; f != 8; ++f) {
            if ((buses[0].used[s] >> f) & 1u) continue;
            buses[0].used[s] = static_cast<std::uint8_t>(buses[0].used[s] | (1u << f));
            buses.push_back({false, {}});
            buses.back().used[0] = 1;
            done = true;
            break;
          }
        }
      }
      placed += done ? 1 : 0;
    }
    benchmark::DoNotOptimize(placed);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetComplexityN(state.range(0));
}
BENCHMARK(BM_NaiveRescan)->RangeMultiplier(2)->Range(8, 128)->Arg(239)->Complexity(benchmark::oNSquared);

}  // namespace
