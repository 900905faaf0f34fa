// Memory windows (<pciplan/topology/memory_windows.hpp>): BARs from the catalogue and from
// requests, bridge windows sized bottom up, the root's I/O, 32-bit and 64-bit ranges, the
// reserves a hot-plug budget needs, and their QEMU arguments and JSON. The expected numbers
// are what SeaBIOS 1.16.2 programmed under QEMU 7.2 for the same layouts (read back with
// query-pci); the qemu.windows test boots random layouts to compare every window.
#include <catch2/catch.hpp>

#include <pciplan/json.hpp>
#include <pciplan/pciplan.hpp>

#include <algorithm>
#include <array>
#include <iterator>
#include <string>
#include <vector>

using namespace pciplan;
using namespace pciplan::literals;

namespace {

controller placed(controller c, unsigned parent, unsigned slot, unsigned function = 0) {
  return c.at(controller_address(0, parent, slot, function));
}

/// A device of kind D on bus `bus` (a controller index), slot `slot`, with `bars` when given.
template <class D>
placement device_on(std::string_view name, unsigned bus, unsigned slot, device_bars bars = {}) {
  placement p;
  p.name = name;
  p.device = device_descriptor_of<D>;
  p.libvirt_address = controller_address(0, bus, slot, 0);
  p.bars = bars;
  if (bars.given) p.bars.given = true;
  return p;
}

topology_plan plan_of(std::string_view machine, std::vector<controller> cs, std::vector<placement> ps = {}) {
  topology_plan p(std::move(cs), std::move(ps));
  p.machine = machine;
  return p;
}

device_bars ivshmem(std::uint64_t size) { return device_bars{}.mem32(256).pref64(size); }

}  // namespace

TEST_CASE("BARs: sizes round up to a power of two, memory BARs take at least a page", "[windows][bars]") {
  const device_bars b = device_bars{}.io(24).mem32(256).mem64(5000).pref64(3_GiB).pref64(1_GiB);
  CHECK(b.given);
  CHECK(b[bar_space::io].size == 32);
  CHECK(b[bar_space::mem32].size == 4_KiB);
  CHECK(b[bar_space::mem64].size == 8_KiB);
  CHECK(b[bar_space::pref64].size == 5_GiB);
  CHECK(b[bar_space::pref64].largest == 4_GiB);
  CHECK(device_bars{}.empty());
  CHECK(name_of(bar_space::pref32) == "pref32");
  for (std::size_t k = 0; k != bar_space_count; ++k) {
    CHECK(bar_space_named(name_of(static_cast<bar_space>(k))) == static_cast<bar_space>(k));
  }
  CHECK_FALSE(bar_space_named("pref").has_value());
  CHECK_FALSE(bar_space_named("PREF64").has_value());
}

TEST_CASE("sizes: QEMU's spelling, 16G, 512m, 0x800 (parse_byte_size)", "[windows][bars]") {
  STATIC_REQUIRE(parse_byte_size("16G") == 16_GiB);
  STATIC_REQUIRE(parse_byte_size("512m") == 512_MiB);
  STATIC_REQUIRE(parse_byte_size("4k") == 4_KiB);
  STATIC_REQUIRE(parse_byte_size("2T") == 2_TiB);
  STATIC_REQUIRE(parse_byte_size("4096") == 4096);
  STATIC_REQUIRE(parse_byte_size("0x800") == 0x800);
  STATIC_REQUIRE(parse_byte_size("34359738368") == 32_GiB);  // as a VMM writes a backend's size
  STATIC_REQUIRE_FALSE(parse_byte_size("32GiB").has_value());  // QEMU has no GiB (pciplan's BAR lists do)
  STATIC_REQUIRE_FALSE(parse_byte_size("G").has_value());
  STATIC_REQUIRE_FALSE(parse_byte_size("16X").has_value());
  STATIC_REQUIRE_FALSE(parse_byte_size("8192P").has_value());
  STATIC_REQUIRE_FALSE(parse_byte_size("16777216T").has_value());  // 2^64 bytes
  STATIC_REQUIRE(parse_byte_size("4194304T") == std::uint64_t{1} << 62);
}

TEST_CASE("BARs: the catalogue has QEMU 7.2's, and virtio's legacy I/O BAR only outside PCIe ports",
          "[windows][bars][catalogue]") {
  const device_bars outside = catalogue_bars("virtio-net-pci", false);
  const device_bars behind = catalogue_bars("virtio-net-pci", true);
  CHECK_FALSE(outside.given);
  CHECK(outside[bar_space::io].size == 32);
  CHECK(behind[bar_space::io].size == 0);
  CHECK(behind[bar_space::mem32].size == 4_KiB + 256_KiB);  // MSI-X table and the option ROM
  CHECK(behind[bar_space::pref64].size == 16_KiB);
  CHECK(catalogue_bars("virtio-net-pci-transitional", true)[bar_space::io].size == 32);
  CHECK(catalogue_bars("nvme", true)[bar_space::mem64].size == 16_KiB);
  CHECK(catalogue_bars("VGA", false)[bar_space::pref32].size == 16_MiB);
  CHECK(catalogue_bars("no-such-device", false).empty());
  // every device of the catalogue has a row; behind a PCIe port, virtio is modern only (RULES.md Q27)
  for (const device_descriptor* d : device_catalogue) {
    INFO(d->qemu_device);
    if (d->link == link_kind::virtio) CHECK(catalogue_bars(d->qemu_device, true)[bar_space::io].empty());
    CHECK(std::any_of(std::begin(bar_catalogue), std::end(bar_catalogue),
                      [&](const bar_row& r) { return r.qemu_device == d->qemu_device; }));
  }
  // every device of the catalogue has a row (vfio-pci's is empty: a host device's BARs are the host's)
  for (const std::string_view d : {"virtio-blk-pci", "e1000", "e1000e", "qemu-xhci", "ich9-ahci", "ivshmem-plain",
                                   "virtio-gpu-pci", "qxl-vga", "AC97", "pvpanic-pci", "virtio-iommu-pci"}) {
    CHECK_FALSE(catalogue_bars(d, false).empty());
  }
  CHECK(controller_bars("pcie-root-port")[bar_space::mem32].size == 4_KiB);
  CHECK(controller_bars("pci-bridge")[bar_space::mem64].size == 4_KiB);
  CHECK(controller_bars("xio3130-downstream").empty());
}

TEST_CASE("windows: SeaBIOS 1.16.2 sizes a root port's windows from its device, and moves a 4 GiB BAR above 4 GiB",
          "[windows][seabios]") {
  const topology_plan p = plan_of("q35", {make_controller<pcie_root>(0), placed(make_controller<pcie_root_port>(1), 0, 2)},
                                  {device_on<models::ivshmem_plain>("iv", 1, 0, ivshmem(4_GiB))});
  const memory_layout m = memory_windows(p, {.ram = 512_MiB});
  REQUIRE(m.windows.size() == 2);
  CHECK_FALSE(m.windows[0].bridge);
  const bridge_windows& w = m.windows[1];
  CHECK(w.bridge);
  CHECK(w.io.size == 0);
  CHECK(w.mem.size == 2_MiB);  // 256 B BAR: a page, in a 2 MiB window
  CHECK(w.pref.size == 4_GiB);
  CHECK(w.pref.is64);
  CHECK(m.fits());
  CHECK(m.io_size == 0x60);  // q35's SMBus and SATA
  CHECK(m.io_base == 0xc000);
  CHECK(m.mem32.size == 2_MiB + 8_KiB);  // the window, the port's MSI-X BAR, the SATA's
  CHECK(m.above_4g);
  CHECK(m.pref64_base == 4_GiB);  // SeaBIOS: "PCI: 64: 100000000 - 200000000"
  CHECK(m.end64 == 8_GiB);
  CHECK(m.hole64_needed == 4_GiB);
}

TEST_CASE("windows: a switch's windows round the sum up to the largest BAR (8 GiB + 2 GiB: 16 GiB)",
          "[windows][seabios]") {
  const topology_plan p = plan_of(
      "q35",
      {make_controller<pcie_root>(0), placed(make_controller<pcie_root_port>(1), 0, 2),
       placed(make_controller<pcie_switch_upstream_port>(2), 1, 0),
       placed(make_controller<pcie_switch_downstream_port>(3), 2, 0),
       placed(make_controller<pcie_switch_downstream_port>(4), 2, 1)},
      {device_on<models::ivshmem_plain>("iv1", 3, 0, ivshmem(2_GiB)),
       device_on<models::ivshmem_plain>("iv2", 4, 0, ivshmem(8_GiB))});
  const memory_layout m = memory_windows(p, {.ram = 512_MiB});
  CHECK(m.windows[3].pref.size == 2_GiB);
  CHECK(m.windows[4].pref.size == 8_GiB);
  CHECK(m.windows[2].pref.size == 16_GiB);
  CHECK(m.windows[2].pref.align == 8_GiB);  // aligned to its largest entry, not to its size
  CHECK(m.windows[2].mem.size == 4_MiB);
  CHECK(m.windows[1].pref.size == 16_GiB);
  CHECK(m.windows[1].mem.size == 4_MiB);
  CHECK(m.pref64_base == 8_GiB);  // "PCI: 64: 100000000 - 600000000"
  CHECK(m.end64 == 24_GiB);
}

TEST_CASE("windows: an empty hot-pluggable port gets 2 MiB of memory and prefetchable, SHPC bridges I/O too",
          "[windows][seabios]") {
  const topology_plan q35 = plan_of("q35", {make_controller<pcie_root>(0), placed(make_controller<pcie_root_port>(1), 0, 2)});
  const memory_layout m = memory_windows(q35);
  CHECK(m.windows[1].io.size == 0);
  CHECK(m.windows[1].mem.size == 2_MiB);
  CHECK(m.windows[1].pref.size == 2_MiB);
  CHECK_FALSE(m.above_4g);  // it all fits below 4 GiB: nothing moves
  CHECK(m.pref32.size == 2_MiB);
  const topology_plan pc = plan_of("pc", {make_controller<pci_root>(0), placed(make_controller<pci_bridge>(1), 0, 3)});
  const memory_layout b = memory_windows(pc);
  CHECK(b.windows[1].io.size == 4_KiB);
  CHECK(b.windows[1].mem.size == 2_MiB);
  CHECK(b.windows[1].pref.size == 2_MiB);
  // a switch's upstream port gets no minimum: its downstream ports' windows are its only entries
  const topology_plan sw = plan_of("q35", {make_controller<pcie_root>(0), placed(make_controller<pcie_root_port>(1), 0, 2),
                                           placed(make_controller<pcie_switch_upstream_port>(2), 1, 0)});
  const memory_layout s = memory_windows(sw);
  CHECK(s.windows[2].mem.size == 0);
  CHECK(s.windows[2].pref.size == 0);
}

TEST_CASE("windows: a reserve raises a window to at least its value, rounded to 2 MiB, never lowers it",
          "[windows][seabios][reserves]") {
  controller port = placed(make_controller<pcie_root_port>(1), 0, 2);
  port.reserves.pref64 = 16_GiB;
  port.reserves.mem = 3_MiB;
  port.reserves.io = 0x800;
  const memory_layout m = memory_windows(plan_of("q35", {make_controller<pcie_root>(0), port}));
  CHECK(m.windows[1].pref.size == 16_GiB);
  CHECK(m.windows[1].pref.align == 2_MiB);
  CHECK(m.windows[1].mem.size == 4_MiB);
  CHECK(m.windows[1].io.size == 0x800);  // an I/O reserve is taken as it is
  CHECK(m.above_4g);
  CHECK(m.pref64_base == 4_GiB);
  // a reserve below what the devices need changes nothing
  port.reserves = {};
  port.reserves.pref64 = 1_GiB;
  const memory_layout n =
      memory_windows(plan_of("q35", {make_controller<pcie_root>(0), port},
                             {device_on<models::ivshmem_plain>("iv", 1, 0, ivshmem(4_GiB))}));
  CHECK(n.windows[1].pref.size == 4_GiB);
  // only pcie-root-port and pci-bridge have reserve properties
  controller down = placed(make_controller<pcie_switch_downstream_port>(3), 2, 0);
  down.reserves.pref64 = 16_GiB;
  const memory_layout d = memory_windows(plan_of(
      "q35", {make_controller<pcie_root>(0), placed(make_controller<pcie_root_port>(1), 0, 2),
              placed(make_controller<pcie_switch_upstream_port>(2), 1, 0), down}));
  CHECK(d.windows[3].pref.size == 2_MiB);
}

TEST_CASE("windows: firmware stops when the 32-bit window or I/O space runs out", "[windows][seabios][limits]") {
  // q35: three root ports with mem-reserve=256M fit below 4 GiB, four do not
  for (const unsigned ports : {3u, 4u}) {
    std::vector<controller> cs{make_controller<pcie_root>(0)};
    for (unsigned i = 1; i <= ports; ++i) {
      controller c = placed(make_controller<pcie_root_port>(i), 0, 1 + i);
      c.reserves.mem = 256_MiB;
      cs.push_back(c);
    }
    const memory_layout m = memory_windows(plan_of("q35", cs));
    CHECK(m.fits() == (ports == 3));
    if (ports == 4) CHECK(m.problem == window_problem::space_32_bit);
  }
  // pc: eight pci-bridges want 4 KiB of I/O each and fit from 0x1000; nine do not
  for (const unsigned bridges : {3u, 8u, 9u}) {
    std::vector<controller> cs{make_controller<pci_root>(0)};
    for (unsigned i = 1; i <= bridges; ++i) cs.push_back(placed(make_controller<pci_bridge>(i), 0, 2 + i));
    const memory_layout m = memory_windows(plan_of("pc", cs));
    CHECK(m.io_size == bridges * 4_KiB + 0x10);
    CHECK(m.io_base == (bridges == 3 ? 0xc000u : bridges == 8 ? 0x1000u : 0u));
    CHECK(m.fits() == (bridges != 9));
  }
}

TEST_CASE("windows: the 64-bit range starts above RAM and the memory hot-plug area", "[windows][seabios][ram]") {
  const topology_plan p = plan_of("q35", {make_controller<pcie_root>(0), placed(make_controller<pcie_root_port>(1), 0, 2)},
                                  {device_on<models::ivshmem_plain>("iv", 1, 0, ivshmem(4_GiB))});
  CHECK(memory_windows(p, {.ram = 4_GiB}).pref64_base == 8_GiB);  // q35: 2 GiB above 4 GiB → starts at 6 GiB, 4 GiB aligned
  CHECK(memory_windows(p, {.ram = 4_GiB}).hole64_start == 6_GiB);
  CHECK(memory_windows(p, {.ram = 512_MiB, .maxmem = 8_GiB, .slots = 2}).pref64_base == 16_GiB);  // area ends at 14 GiB
  const topology_plan pc = plan_of("pc", {make_controller<pci_root>(0)});
  CHECK(memory_windows(pc, {.ram = 2_GiB}).mem32_start == 0x80000000u);
  CHECK(memory_windows(pc, {.ram = 2500_MiB}).mem32_start == 0xc0000000u);
  CHECK(memory_windows(pc, {.ram = 3200_MiB}).mem32_start == 3200_MiB);
  CHECK(memory_windows(pc, {.ram = 4_GiB}).mem32_start == 0xc0000000u);
  CHECK_FALSE(memory_windows(plan_of("aarch64-virt", {make_controller<pcie_root>(0)})).x86);
}

TEST_CASE("windows: a hot-plug budget's reserves hold the BARs wherever firmware puts the window",
          "[windows][reserves][budget]") {
  const window_reserves r = hotplug_reserves(device_bars{}.mem32(16_MiB).pref64(64_GiB).pref64(32_MiB));
  CHECK(r.pref64 == 64_GiB + 32_MiB + 64_GiB - 2_MiB);  // the sum, plus slack to align the largest
  CHECK(r.mem == 16_MiB + 16_MiB - 2_MiB);
  CHECK(r.io == 0);
  CHECK(r.pref32 == 0);
  CHECK(hotplug_reserves(device_bars{}.io(64).pref32(8_MiB)).io == 4_KiB);
  CHECK(hotplug_reserves(device_bars{}.pref32(8_MiB)).pref32 == 14_MiB);
  CHECK(hotplug_reserves(device_bars{}.mem32(4_KiB)).mem == 2_MiB);
}

TEST_CASE("planner: every empty pcie-root-port reserves the hot-plug budget; devices keep their ports plain",
          "[windows][reserves][budget][planner]") {
  const std::vector<request> devices{{"gpu0", models::vfio_pci{}, device_bars{}.mem32(16_MiB).pref64(32_GiB)},
                                     {"net0", models::virtio_net{}}};
  plan_options o;
  o.spare_ports = 2;
  o.hotplug_budget = device_bars{}.pref64(64_GiB);
  const result<topology_plan> r = plan<machines::q35>(devices, o);
  REQUIRE(r);
  CHECK(r->placements[0].bars.given);
  CHECK(r->placements[0].bars[bar_space::pref64].size == 32_GiB);
  unsigned spares = 0;
  for (const controller& c : r->controllers) {
    const bool occupied = std::any_of(r->placements.begin(), r->placements.end(),
                                      [&](const placement& p) { return p.libvirt_address.bus == c.index; });
    if (c.kind != &descriptor_of<pcie_root_port>) continue;
    if (occupied) {
      CHECK(c.reserves.empty());
    } else {
      ++spares;
      CHECK(c.reserves.pref64 == 128_GiB - 2_MiB);
    }
  }
  CHECK(spares == 2);
  const memory_layout m = memory_windows(*r, {.ram = 4_GiB});
  CHECK(m.fits());
  CHECK(m.above_4g);
  // the GPU's port: its 32 GiB BAR; each spare: its reserve
  CHECK(m.hole64_needed > 32_GiB + 2 * (128_GiB - 2_MiB) - 1);
  const std::vector<std::string> lines = qemu_arguments(*r);
  CHECK(std::count_if(lines.begin(), lines.end(), [](const std::string& l) {
          return l.find("pref64-reserve=131070M") != std::string::npos;
        }) == 2);
  const std::vector<std::string> memory = qemu_memory_arguments(*r, {.ram = 4_GiB});
  REQUIRE(memory.size() == 2);
  CHECK(memory[0].rfind("-global q35-pcihost.pci-hole64-size=", 0) == 0);
  // OVMF rounds each 131070M reserve up to 128 GiB: 32 + 2 x 128 GiB and three ports' padding
  CHECK(memory_windows(*r).ovmf_window64 == 512_GiB);
  CHECK(memory[1] == "-fw_cfg name=opt/ovmf/X-PciMmio64Mb,string=524288");
  CHECK(qemu_memory_arguments(*r, {.ram = 4_GiB})[0].ends_with("G"));
  // no budget: no reserve; the GPU's 32 GiB window still lands on a 32 GiB boundary
  // (after RAM ends at 6 GiB), so the hole reaches 64 GiB and more: beyond QEMU's 32 GiB
  o.hotplug_budget = {};
  const result<topology_plan> plain = plan<machines::q35>(devices, o);
  REQUIRE(plain);
  for (const controller& c : plain->controllers) CHECK(c.reserves.empty());
  CHECK(memory_windows(*plain, {.ram = 4_GiB}).pref64_base == 32_GiB);
  CHECK(qemu_memory_arguments(*plain, {.ram = 4_GiB}) ==
        std::vector<std::string>{"-global q35-pcihost.pci-hole64-size=59G",  // 64 GiB + 3 × 2 MiB − 6 GiB
                                 // the GPU's 32 GiB and the virtio port's window: more than OVMF's 32 GiB
                                 "-fw_cfg name=opt/ovmf/X-PciMmio64Mb,string=65536"});
  CHECK(qemu_memory_arguments(*plain, {.ram = 1_GiB}).empty() == false);
  const std::vector<request> small{{"net0", models::virtio_net{}}};
  const result<topology_plan> no_gpu = plan<machines::q35>(small, o);
  REQUIRE(no_gpu);
  CHECK(qemu_memory_arguments(*no_gpu).empty());
}

TEST_CASE("planner: an empty downstream port cannot reserve, and the plan says so", "[windows][reserves][budget]") {
  // one free root-port function left: the planner adds a switch, and its downstream ports serve
  std::vector<request> devices;
  std::vector<std::string> names;
  for (int i = 0; i != 40; ++i) names.push_back(std::string("n").append(std::to_string(i)));
  for (const std::string& n : names) devices.push_back({n, models::virtio_net{}});
  plan_options o;
  o.spare_ports = 3;
  o.hotplug_budget = device_bars{}.pref64(1_GiB);
  const result<topology_plan> r = plan<machines::q35>(devices, o);
  REQUIRE(r);
  const bool downstream = std::any_of(r->controllers.begin(), r->controllers.end(), [](const controller& c) {
    return c.kind == &descriptor_of<pcie_switch_downstream_port>;
  });
  const bool warned = std::any_of(r->warnings.begin(), r->warnings.end(),
                                  [](const warning& w) { return w.code == warning_code::windows; });
  CHECK(warned == downstream);
}

TEST_CASE("windows in JSON: reserves and given BARs read back, windows written", "[windows][json]") {
  controller port = placed(make_controller<pcie_root_port>(1), 0, 2);
  port.reserves.pref64 = 16_GiB;
  topology_plan p = plan_of("q35", {make_controller<pcie_root>(0), port},
                            {device_on<models::ivshmem_plain>("iv", 1, 0, ivshmem(4_GiB))});
  p.placements[0].guest_address = pci_address{0, 1, 0, 0};
  p.placements[0].why = rule::hotplug_port;
  const std::string text = to_json(p);
  CHECK(text.find("\"windows\": {\"io\": 0, \"mem\": 2097152, \"pref\": 17179869184, \"pref64\": true}") !=
        std::string::npos);
  CHECK(text.find("\"bars\": {\"mem32\": {\"size\": 4096, \"largest\": 4096}, \"pref64\": {\"size\": 4294967296, "
                  "\"largest\": 4294967296}}") != std::string::npos);
  const topology_plan back = from_json(text);
  CHECK(back.controllers[1].reserves == port.reserves);
  CHECK(back.placements[0].bars == p.placements[0].bars);
  CHECK(memory_windows(back) == memory_windows(p));
}

TEST_CASE("planner: a budget firmware cannot place is a warning that names SeaBIOS", "[windows][budget][warnings]") {
  const std::vector<request> devices{{"net0", models::virtio_net{}}};
  plan_options o;
  o.spare_ports = 4;
  o.hotplug_budget = device_bars{}.mem32(256_MiB);  // four 510 MiB reserves: more than 1004 MiB below 4 GiB
  const result<topology_plan> r = plan<machines::q35>(devices, o);
  REQUIRE(r);
  REQUIRE(r->warnings.size() == 1);
  CHECK(r->warnings[0].code == warning_code::windows);
  CHECK(r->warnings[0].text.find("SeaBIOS 1.16 stops at boot") != std::string_view::npos);
  CHECK(r->warnings[0].count > 4 * 500);
  CHECK(memory_windows(*r).problem == window_problem::space_32_bit);
  o.spare_ports = 1;
  const result<topology_plan> one = plan<machines::q35>(devices, o);
  REQUIRE(one);
  CHECK(one->warnings.empty());
  // 64-bit windows past 40 address bits
  o.spare_ports = 3;
  o.hotplug_budget = device_bars{}.pref64(256_GiB);
  const result<topology_plan> big = plan<machines::q35>(devices, o);
  REQUIRE(big);
  REQUIRE(big->warnings.size() == 3);
  CHECK(big->warnings[0].text.find("OVMF") != std::string_view::npos);  // 3 x 512 GiB: also OVMF's window,
  CHECK(big->warnings[1].text.find("that OVMF window would end beyond 1 TiB") != std::string_view::npos);  // 2 TiB
  CHECK(big->warnings[1].count == 4096);                                 // at 2 TiB
  CHECK(big->warnings[2].text.find("beyond 1 TiB") != std::string_view::npos);
  CHECK(memory_windows(*big).end64 > 1_TiB);
  // without BARs or a budget the planner does not look
  o.hotplug_budget = {};
  CHECK(plan<machines::q35>(devices, o)->warnings.empty());
}

TEST_CASE("planner: where OVMF's 32 GiB 64-bit window may be too small, the plan says so and its QEMU arguments "
          "give OVMF a larger one", "[windows][ovmf][warnings]") {
  const std::vector<request> two{{"gpu0", models::vfio_pci{}, device_bars{}.mem32(16_MiB).pref64(32_GiB)},
                                 {"gpu1", models::vfio_pci{}, device_bars{}.mem32(16_MiB).pref64(32_GiB)}};
  const result<topology_plan> r = plan<machines::q35>(two, {.spare_ports = 2});
  REQUIRE(r);
  const memory_layout m = memory_windows(*r);
  CHECK(m.ovmf_window64 == 128_GiB);  // two 32 GiB windows and four ports padded with 512 MiB each
  CHECK(m.ovmf_base64 == 128_GiB);    // above 1 GiB of RAM, on a boundary of its size
  const auto ovmf = std::find_if(r->warnings.begin(), r->warnings.end(),
                                 [](const warning& w) { return w.text.find("OVMF") != std::string_view::npos; });
  REQUIRE(ovmf != r->warnings.end());
  CHECK(ovmf->code == warning_code::windows);
  CHECK(ovmf->count == 128);
  const std::vector<std::string> args = qemu_memory_arguments(*r);
  CHECK(std::find(args.begin(), args.end(), "-fw_cfg name=opt/ovmf/X-PciMmio64Mb,string=131072") != args.end());
  // 16 GiB and 8 GiB and small BARs: within OVMF's default, no warning, no argument
  const std::vector<request> small{{"gpu0", models::vfio_pci{}, device_bars{}.pref64(16_GiB)},
                                   {"gpu1", models::vfio_pci{}, device_bars{}.pref64(8_GiB)},
                                   {"net0", models::virtio_net{}}};
  const result<topology_plan> s = plan<machines::q35>(small, {.spare_ports = 2});
  REQUIRE(s);
  CHECK(memory_windows(*s).ovmf_window64 == 0);
  for (const warning& w : s->warnings) CHECK(w.text.find("OVMF") == std::string_view::npos);
  for (const std::string& a : qemu_memory_arguments(*s)) CHECK(a.find("X-PciMmio64Mb") == std::string::npos);
  // absurd BARs (4 EiB each, what a BAR list accepts at most) saturate instead of overflowing
  const std::vector<request> absurd{{"a", models::vfio_pci{}, device_bars{}.pref64(1ull << 62).pref64(1ull << 62)},
                                    {"b", models::vfio_pci{}, device_bars{}.pref64(1ull << 62).pref64(1ull << 62)},
                                    {"c", models::vfio_pci{}, device_bars{}.pref64(1ull << 62)}};
  const result<topology_plan> huge = plan<machines::q35>(absurd, {.spare_ports = 0});
  REQUIRE(huge);
  CHECK(memory_windows(*huge).ovmf_window64 == 1ull << 52);  // the largest window the model offers
}

TEST_CASE("tree: windows after each bridge and port when asked", "[windows][tree]") {
  controller port = placed(make_controller<pcie_root_port>(1), 0, 2);
  port.reserves.pref64 = 16_GiB;
  topology_plan p = plan_of("q35", {make_controller<pcie_root>(0), port, placed(make_controller<pcie_root_port>(2), 0, 3)},
                            {device_on<models::ivshmem_plain>("iv", 2, 0, ivshmem(4_GiB))});
  p.placements[0].guest_address = pci_address{0, 2, 0, 0};
  p.controllers[1].guest_bus = bus_number{1};
  p.controllers[2].guest_bus = bus_number{2};
  const std::string with = tree(p, tree_options{.windows = true});
  CHECK(with.find("pci.1 pcie-root-port  windows: mem 2M, pref64 16G\n") != std::string::npos);
  CHECK(with.find("pci.2 pcie-root-port  windows: mem 2M, pref64 4G\n") != std::string::npos);
  CHECK(tree(p).find("windows") == std::string::npos);
  CHECK(tree(p) == tree(p, tree_options{}));
}

TEST_CASE("planner: io-reserve=0 only on the ports of devices without an I/O BAR (RULES.md Q25, Q27)",
          "[windows][planner][io]") {
  const std::vector<request> devices{{"net0", models::virtio_net{}},
                                     {"nic1", models::e1000e{}},
                                     {"gpu0", models::vfio_pci{}, device_bars{}.io(128).pref64(1_GiB)},
                                     {"gpu1", models::vfio_pci{}, device_bars{}.pref64(1_GiB)}};
  const result<topology_plan> r = plan<machines::q35>(devices, {.spare_ports = 0});
  REQUIRE(r);
  const auto port_of = [&](std::string_view name) -> const controller& {
    return *r->find(r->at(name).libvirt_address.bus);
  };
  CHECK(port_of("net0").io_reserve_zero);       // modern virtio behind a port: no I/O BAR
  CHECK_FALSE(port_of("nic1").io_reserve_zero);  // e1000e's BAR 2 is I/O
  CHECK_FALSE(port_of("gpu0").io_reserve_zero);
  CHECK(port_of("gpu1").io_reserve_zero);
  // and firmware gives the e1000e's port an I/O window
  const memory_layout m = memory_windows(*r);
  const std::size_t at = static_cast<std::size_t>(&port_of("nic1") - r->controllers.data());
  CHECK(m.windows[at].io.size == 4_KiB);
}

TEST_CASE("validate: a hand-written layout's windows, as SeaBIOS 1.16 would place them (RULES.md Q25, Q29)",
          "[windows][validate]") {
  const auto findings_of = [](std::string_view lines, bool pc = false) {
    const qemu_layout layout = read_qemu_layout(lines);
    const validation_report r = pc ? validate<machines::pc>(layout) : validate<machines::q35>(layout);
    std::string text;
    for (const finding& f : r.findings) text += std::to_string(f.rule) + ": " + describe(layout, f) + "\n";
    return text;
  };
  std::string three, four;
  for (int i = 1; i <= 4; ++i) {
    const std::string line = "-device pcie-root-port,id=rp" + std::to_string(i) + ",chassis=" + std::to_string(i) +
                             ",bus=pcie.0,addr=0x" + std::to_string(i + 1) + ",mem-reserve=256M\n";
    if (i <= 3) three += line;
    four += line;
  }
  CHECK(findings_of(three).find("SeaBIOS") == std::string::npos);
  const std::string stop = findings_of(four);
  CHECK(stop.find("29: ") != std::string::npos);
  CHECK(stop.find("out of 32bit address space") != std::string::npos);
  CHECK(stop.find("1004 MiB") != std::string::npos);
  std::string bridges;
  for (int i = 1; i <= 9; ++i) {
    bridges += "-device pci-bridge,id=b" + std::to_string(i) + ",chassis_nr=" + std::to_string(i) + ",addr=0x" +
               std::to_string(i + 2) + "\n";
  }
  CHECK(findings_of(bridges, true).find("out of I/O address space") != std::string::npos);
  const std::string odd = findings_of("-device pcie-root-port,id=rp1,chassis=1,addr=0x2,io-reserve=0x800\n");
  CHECK(odd.find("25: ") != std::string::npos);
  CHECK(odd.find("io-reserve=0x800 is not a multiple of 4 KiB") != std::string::npos);
  CHECK(findings_of("-device pcie-root-port,id=rp1,chassis=1,addr=0x2,io-reserve=4K\n").find("io-reserve") ==
        std::string::npos);
  const std::string far = findings_of("-device pcie-root-port,id=rp1,chassis=1,addr=0x2,pref64-reserve=2T\n");
  CHECK(far.find("past the 40 physical address bits") != std::string::npos);
}

TEST_CASE("windows: a window holds BARs wherever it is placed when it spans their sum plus the largest's "
          "misalignment", "[windows][budget]") {
  bar_sum one_8g;
  one_8g.add(8_GiB, 8_GiB);
  CHECK(window_holds({.size = 8_GiB, .align = 8_GiB}, one_8g));    // aligned to the BAR: exactly its size
  CHECK_FALSE(window_holds({.size = 8_GiB, .align = 2_MiB}, one_8g));  // a reserve: aligned to 2 MiB only
  CHECK_FALSE(window_holds({.size = 16_GiB - 4_MiB, .align = 2_MiB}, one_8g));
  CHECK(window_holds({.size = 16_GiB - 2_MiB, .align = 2_MiB}, one_8g));
  CHECK(window_holds({.size = 0, .align = 1}, bar_sum{}));
  // what hotplug_reserves gives a port is what holds() asks of it
  const device_bars gpu = device_bars{}.mem32(16_MiB).pref64(32_GiB).pref64(32_MiB);
  const window_reserves r = hotplug_reserves(gpu);
  bridge_windows w{.bridge = true, .io = {}, .mem = {.size = r.mem, .align = 2_MiB}, .pref = {.size = r.pref64, .align = 2_MiB}};
  CHECK(holds(w, gpu));
  w.pref.size -= 2_MiB;
  CHECK_FALSE(holds(w, gpu));
}

TEST_CASE("validate: with a hot-plug budget, each empty hot-pluggable port whose windows cannot hold it is named, "
          "with the reserve that would (RULES.md Q29)", "[windows][validate][budget]") {
  const auto check = [](std::string_view lines, const device_bars& budget) {
    qemu_layout layout = read_qemu_layout(lines);
    layout.hotplug_budget = budget;
    const validation_report r = validate<machines::q35>(layout);
    std::vector<std::string> out;
    for (const finding& f : r.findings) {
      if (f.message.find("hot-plug budget") == std::string::npos) continue;
      CHECK(f.rule == 29);
      CHECK(f.level == severity::warning);
      out.push_back(describe(layout, f));
    }
    return out;
  };
  const device_bars gpu = device_bars{}.pref64(8_GiB);
  const std::string_view lines =
      "-m 4G\n"
      "-device pcie-root-port,id=rp1,chassis=1,bus=pcie.0,addr=0x2,pref64-reserve=16382M\n"  // 16 GiB - 2 MiB: holds
      "-device pcie-root-port,id=rp2,chassis=2,bus=pcie.0,addr=0x3,pref64-reserve=8G\n"      // 8 GiB at 2 MiB: not
      "-device pcie-root-port,id=rp3,chassis=3,bus=pcie.0,addr=0x4\n"                        // 2 MiB: not
      "-device pcie-root-port,id=rp4,chassis=4,bus=pcie.0,addr=0x5\n"                        // has a device
      "-device virtio-net-pci,bus=rp4\n"
      "-device pcie-root-port,id=rp5,chassis=5,bus=pcie.0,addr=0x6,hotplug=off\n"            // not hot-pluggable
      "-device x3130-upstream,id=up,bus=rp4\n";
  CHECK(read_qemu_layout(lines).ram == 4_GiB);
  CHECK(read_qemu_layout("-m 2048\n").ram == 2_GiB);  // QEMU reads a bare -m in MiB
  CHECK(read_qemu_layout("-m size=3G,slots=2,maxmem=8G\n").ram == 3_GiB);
  const std::vector<std::string> found = check(
      "-m 4G\n"
      "-device pcie-root-port,id=rp1,chassis=1,bus=pcie.0,addr=0x2,pref64-reserve=16382M\n"
      "-device pcie-root-port,id=rp2,chassis=2,bus=pcie.0,addr=0x3,pref64-reserve=8G\n"
      "-device pcie-root-port,id=rp3,chassis=3,bus=pcie.0,addr=0x4\n"
      "-device pcie-root-port,id=rp4,chassis=4,bus=pcie.0,addr=0x5\n"
      "-device virtio-net-pci,bus=rp4\n"
      "-device pcie-root-port,id=rp5,chassis=5,bus=pcie.0,addr=0x6,hotplug=off\n",
      gpu);
  REQUIRE(found.size() == 2);
  CHECK(found[0].find("id=rp2") != std::string::npos);
  CHECK(found[0].find("prefetchable 8G") != std::string::npos);
  CHECK(found[0].find("set pref64-reserve=16382M") != std::string::npos);
  CHECK(found[1].find("id=rp3") != std::string::npos);
  CHECK(found[1].find("prefetchable 2M") != std::string::npos);
  // a downstream port has no reserve to set
  const std::vector<std::string> switch_ports = check(
      "-device pcie-root-port,id=rp1,chassis=1,bus=pcie.0,addr=0x2\n"
      "-device x3130-upstream,id=up,bus=rp1\n"
      "-device xio3130-downstream,id=dp1,bus=up,chassis=2,slot=0\n",
      gpu);
  REQUIRE(switch_ports.size() == 1);
  CHECK(switch_ports[0].find("id=dp1") != std::string::npos);
  CHECK(switch_ports[0].find("xio3130-downstream has no *-reserve properties") != std::string::npos);
  // no budget, no such warning
  CHECK(check(lines, device_bars{}).empty());
}

TEST_CASE("validate: an ivshmem's BAR is its backend's size, and OVMF's 64-bit window must hold the layout "
          "(RULES.md Q29)", "[windows][validate][ovmf]") {
  const std::string devices =
      "-m 2G\n"
      "-object memory-backend-ram,id=m0,size=32G,reserve=off\n"
      "-object memory-backend-ram,id=m1,size=34359738368,reserve=off\n"
      "-device pcie-root-port,id=rp1,chassis=1,bus=pcie.0,addr=0x2\n"
      "-device pcie-root-port,id=rp2,chassis=2,bus=pcie.0,addr=0x3\n"
      "-device ivshmem-plain,id=iv0,memdev=m0,bus=rp1\n"
      "-device ivshmem-plain,id=iv1,memdev=m1,bus=rp2\n";
  const auto ovmf_findings = [](const std::string& lines) {
    const qemu_layout layout = read_qemu_layout(lines);
    std::vector<std::string> out;
    for (const finding& f : validate<machines::q35>(layout).findings) {
      if (f.message.find("OVMF") != std::string::npos) out.push_back(describe(layout, f));
    }
    return out;
  };
  const qemu_layout layout = read_qemu_layout(devices);
  REQUIRE(layout.backends.size() == 2);
  CHECK(layout.backends[1].id == "m1");
  CHECK(layout.backends[1].size == 32_GiB);
  const std::vector<std::string> none_given = ovmf_findings(devices);
  REQUIRE(none_given.size() == 1);
  CHECK(none_given[0].find("OVMF's 64-bit PCI window (32G, its default") != std::string::npos);
  CHECK(none_given[0].find("-fw_cfg name=opt/ovmf/X-PciMmio64Mb,string=131072") != std::string::npos);
  const std::vector<std::string> small = ovmf_findings(devices + "-fw_cfg name=opt/ovmf/X-PciMmio64Mb,string=65536\n");
  REQUIRE(small.size() == 1);
  CHECK(small[0].find("(64G, from -fw_cfg name=opt/ovmf/X-PciMmio64Mb)") != std::string::npos);
  CHECK(ovmf_findings(devices + "-fw_cfg name=opt/ovmf/X-PciMmio64Mb,string=131072\n").empty());
  CHECK(read_qemu_layout("-fw_cfg name=opt/ovmf/X-PciMmio64Mb,string=131072\n").ovmf_window64 == 128_GiB);
  // one 32 GiB device fits OVMF's default
  const std::string one = "-object memory-backend-ram,id=m0,size=32G\n"
                          "-device pcie-root-port,id=rp1,chassis=1,bus=pcie.0,addr=0x2\n"
                          "-device ivshmem-plain,id=iv0,memdev=m0,bus=rp1\n";
  CHECK(ovmf_findings(one).empty());
}

TEST_CASE("hot-plug: a running guest's ports keep their reserves, and re-planned requests keep their BARs",
          "[windows][hotplug][budget]") {
  const std::vector<request> devices{{"gpu0", models::vfio_pci{}, device_bars{}.pref64(8_GiB)}};
  plan_options o;
  o.spare_ports = 2;
  const result<topology_plan> cold = plan<machines::q35>(devices, o);  // no budget at boot
  REQUIRE(cold);
  for (const controller& c : cold->controllers) CHECK(c.reserves.empty());
  // a hot-add with a budget in its options must not give the running ports reserves
  o.hotplug_budget = device_bars{}.pref64(8_GiB);
  const std::array<request, 1> more{request{"gpu1", models::vfio_pci{}, device_bars{}.pref64(8_GiB)}};
  const result<topology_plan> now = hot_add<machines::q35>(*cold, more, o);
  REQUIRE(now);
  for (const controller& c : now->controllers) CHECK(c.reserves.empty());
  CHECK(now->at("gpu0").bars == cold->at("gpu0").bars);
  CHECK(now->at("gpu1").bars[bar_space::pref64].size == 8_GiB);
  CHECK(requests_of(*cold)[0].bars == devices[0].bars);
}
