// Memory windows in constant evaluation: a plan with BARs and a hot-plug budget, its
// windows and the reserves, computed by the compiler (the same code as at run time; the
// run-time tests and qemu.windows check the numbers against SeaBIOS).
#include <catch2/catch.hpp>

#include <pciplan/pciplan.hpp>

#include <array>
#include <cstddef>
#include <cstdint>

using namespace pciplan;
using namespace pciplan::literals;

namespace {

/// What the compiler finds for a GPU, a NIC and a spare port with a budget (a summary:
/// the layout's vectors cannot leave constant evaluation).
struct summary {
  bool fits = false;
  bool above_4g = false;
  std::size_t windows = 0;
  std::uint64_t pref64_base = 0;
  std::uint64_t spare_pref = 0;  // the spare port's prefetchable window
};

constexpr summary gpu_layout() {
  const std::array<request, 2> r{request{"gpu", models::vfio_pci{}, device_bars{}.mem32(16_MiB).pref64(8_GiB)},
                                 request{"net", models::virtio_net{}}};
  plan_options o;
  o.spare_ports = 1;
  o.hotplug_budget = device_bars{}.pref64(4_GiB);
  const result<topology_plan> p = constexpr_plan<machines::q35>(r, o);
  if (!p) return {};
  const memory_layout m = memory_windows(*p, {.ram = 2_GiB});
  summary s{m.fits(), m.above_4g, m.windows.size(), m.pref64_base, 0};
  for (std::size_t i = 0; i != m.windows.size(); ++i) {
    if (!p->controllers[i].reserves.empty()) s.spare_pref = m.windows[i].pref.size;
  }
  return s;
}

}  // namespace

TEST_CASE("memory windows: computed in constant evaluation", "[static][windows]") {
  STATIC_REQUIRE(device_bars{}.pref64(3_GiB)[bar_space::pref64].size == 4_GiB);
  STATIC_REQUIRE(catalogue_bars("virtio-blk-pci", false)[bar_space::io].size == 128);
  STATIC_REQUIRE(hotplug_reserves(device_bars{}.pref64(4_GiB)).pref64 == 8_GiB - 2_MiB);
  constexpr summary s = gpu_layout();
  STATIC_REQUIRE(s.fits);
  STATIC_REQUIRE(s.above_4g);
  STATIC_REQUIRE(s.windows == 4);  // the root, two ports, the spare
  STATIC_REQUIRE(s.pref64_base == 8_GiB);
  STATIC_REQUIRE(s.spare_pref == 8_GiB - 2_MiB);
}
