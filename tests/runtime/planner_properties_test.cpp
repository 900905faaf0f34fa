// Property tests: random device sets on every machine type, under both policies. Every
// plan must satisfy the invariants (tests/support/invariants.hpp); a re-plan of a plan's
// output with more devices moves nothing; removing a device moves nothing; a failed plan
// returns no plan and leaves the input untouched.
#include <catch2/catch.hpp>

#include <pciplan/pciplan.hpp>

#include "../support/invariants.hpp"

#include <boost/hana/for_each.hpp>
#include <boost/hana/is_empty.hpp>

#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

using namespace pciplan;

namespace {

std::vector<device_descriptor> catalogue() {
  std::vector<device_descriptor> out;
  boost::hana::for_each(device_kinds,
                        [&](auto t) { out.push_back(device_descriptor_of<typename decltype(t)::type>); });
  return out;
}

template <MachineType M>
constexpr bool numa_possible() {
  return !decltype(boost::hana::is_empty(machine_traits<M>::expanders))::value || machine_traits<M>::multiple_roots;
}

/// A random request set: common devices, some without hotplug, some NUMA-bound, some
/// held to PCI domain 0, some multifunction pairs and isolation pairs, some virtio-mmio
/// where the machine has it.
template <MachineType M>
std::vector<request> random_requests(std::mt19937& rng, std::vector<std::string>& names, bool libvirt_policy,
                                     std::size_t count, unsigned group = 1) {
  static const std::vector<device_descriptor> all = catalogue();
  std::vector<request> out;
  std::uniform_int_distribution<std::size_t> pick(0, all.size() - 1);
  std::uniform_int_distribution<int> percent(0, 99);
  if (!has_pci_v<M>) count = std::min<std::size_t>(count, machine_traits<M>::virtio_mmio_transports);
  for (std::size_t i = 0; i < count; ++i) {
    names.push_back("dev" + std::to_string(names.size()));
    device_descriptor d = all[pick(rng)];
    if (d.companion_function >= 0 || d.integrated) d = device_descriptor_of<models::virtio_net>;  // keep sets simple
    request r(names.back(), d);
    const int p = percent(rng);
    if (!libvirt_policy && p < 20) r.hotplug_need = hotplug::not_needed;
    if (!libvirt_policy && numa_possible<M>() && p >= 90) r.numa = percent(rng) % 3;
    if (machine_traits<M>::virtio_mmio_transports > 0 && !d.mmio_device.empty() && p >= 20 && p < 26 &&
        has_pci_v<M>) {
      r.via = transport::mmio;
    }
    if (has_pci_v<M> && p >= 87 && p < 90 && r.via == transport::automatic) {
      r.fixed = address_kind::domain;  // in_domain{0}: every machine with PCI has domain 0
      r.libvirt_address.domain = 0;
    }
    if (!has_pci_v<M> && d.mmio_device.empty()) {
      r = request(names.back(), device_descriptor_of<models::virtio_blk>);
    }
    out.push_back(r);
    // a multifunction pair or an isolation pair now and then
    if (has_pci_v<M> && p >= 80 && p < 84 && i + 1 < count) {
      names.push_back("dev" + std::to_string(names.size()));
      out.back().multifunction = group;
      out.back().function = 0;
      out.back().via = transport::automatic;  // groups stay on PCI
      request second(names.back(), device_descriptor_of<models::vfio_pci>, multifunction_group{group, 1});
      second.numa = out.back().numa;
      second.hotplug_need = out.back().hotplug_need;
      out.push_back(second);
      ++group;
      ++i;
    } else if (!libvirt_policy && has_pci_v<M> && p >= 84 && p < 87 && i + 1 < count) {
      names.push_back("dev" + std::to_string(names.size()));
      out.back() = request(out.back().name, device_descriptor_of<models::vfio_pci>, isolation_group{group});
      out.push_back(request(names.back(), device_descriptor_of<models::vfio_pci>, isolation_group{group}));
      ++group;
      ++i;
    }
  }
  return out;
}

template <MachineType M, class Policy>
void properties(unsigned seed, int cases, std::size_t max_devices) {
  constexpr bool lv = std::is_same_v<Policy, policies::libvirt>;
  std::mt19937 rng(seed);
  int planned = 0;
  int refused = 0;
  for (int k = 0; k < cases; ++k) {
    std::vector<std::string> names;
    names.reserve(4 * max_devices + 8);
    const std::size_t n = std::uniform_int_distribution<std::size_t>(0, max_devices)(rng);
    const std::vector<request> requests = random_requests<M>(rng, names, lv, n);
    plan_options options;
    options.spare_ports = std::uniform_int_distribution<unsigned>(0, 6)(rng);
    const std::vector<request> before = requests;
    const result<topology_plan> r = plan<M, Policy>(requests, options);
    // atomic: the input is untouched whatever happened
    REQUIRE(requests.size() == before.size());
    for (std::size_t i = 0; i != requests.size(); ++i) REQUIRE(requests[i].name == before[i].name);
    if (!r) {
      ++refused;
      INFO(r.error());
      // a refusal names a request or a controller and has a code
      CHECK(r.error().code != errc::none);
      CHECK(!r.error().subject.empty());
      if (std::getenv("PCIPLAN_TEST_VERBOSE") != nullptr) {
        WARN("refused: " << r.error());
        if (std::getenv("PCIPLAN_TEST_VERBOSE")[0] == '2') {
          for (const request& q : requests) {
            WARN("  " << q.name << " " << q.device.qemu_device << " hotplug " << (q.hotplug_need == hotplug::required)
                      << " numa " << q.numa << " mf " << q.multifunction << "/" << q.function << " iso " << q.isolation);
          }
        }
      }
      continue;
    }
    ++planned;
    const auto problems = invariants::check<M>(*r, requests, lv, options.spare_ports);
    INFO("seed " << seed << " case " << k << " (" << requests.size() << " requests)");
    for (const auto& p : problems) FAIL_CHECK(p);
    REQUIRE(problems.empty());
    // a libvirt answer that QEMU cannot build (reproduced with its warning: a device with
    // no virtio-mmio variant on virtio-mmio) cannot be pinned and planned again
    if (!r->qemu_can_build()) {
      CHECK(lv);
      continue;
    }

    // stability: pin, add devices, plan again with the plan's controllers
    std::vector<request> more = pinned(*r, requests);
    const std::size_t old_count = more.size();
    const std::size_t extras = std::uniform_int_distribution<std::size_t>(0, 8)(rng);
    for (const request& extra : random_requests<M>(rng, names, lv, extras, 1000)) {
      more.push_back(extra);
    }
    const result<topology_plan> again = plan<M, Policy>(more, options, r->controllers);
    if (again) {
      for (std::size_t i = 0; i != old_count; ++i) {
        INFO("stability: " << requests[i].name);
        CHECK(again->placements[i].kind == r->placements[i].kind);
        CHECK(again->placements[i].libvirt_address == r->placements[i].libvirt_address);
      }
      for (const controller& c : r->controllers) {
        const controller* same = again->find(c.index);
        REQUIRE(same != nullptr);
        CHECK(same->kind == c.kind);
        CHECK(same->libvirt_address == c.libvirt_address);
        CHECK(same->chassis == c.chassis);
        CHECK(same->port == c.port);
        CHECK(same->bus_nr == c.bus_nr);
      }
      const auto problems2 = invariants::check<M>(*again, more, lv, options.spare_ports);
      for (const auto& p : problems2) FAIL_CHECK("after re-plan: " << p);
    }
    // removing a device moves nothing
    if (!requests.empty()) {
      std::vector<request> fewer = pinned(*r, requests);
      const std::size_t gone = std::uniform_int_distribution<std::size_t>(0, fewer.size() - 1)(rng);
      // not a group's function 0, nor a device that holds a chipset position (the first
      // PIIX3 USB or IDE controller, the primary video...): whoever comes next would take it over
      const bool grouped = fewer[gone].multifunction != 0 && fewer[gone].function == 0;
      if (!grouped && r->placements[gone].why != rule::chipset_slot) {
        fewer.erase(fewer.begin() + static_cast<std::ptrdiff_t>(gone));
        const result<topology_plan> after = plan<M, Policy>(fewer, options, r->controllers);
        INFO("after removing " << requests[gone].name << ": " << (after ? std::string("ok") : describe(after.error())));
        if (!after && std::getenv("PCIPLAN_TEST_VERBOSE") != nullptr) {
          for (std::size_t i = 0; i != requests.size(); ++i) {
            const placement& pl = r->placements[i];
            WARN(requests[i].name << " " << requests[i].device.qemu_device << " numa " << requests[i].numa << " mf "
                                  << requests[i].multifunction << " iso " << requests[i].isolation << " at "
                                  << pl.libvirt_address << " " << name_of(pl.why));
          }
        }
        REQUIRE(after.has_value());
        std::size_t j = 0;
        for (std::size_t i = 0; i != requests.size(); ++i) {
          if (i == gone) continue;
          CHECK(after->placements[j].libvirt_address == r->placements[i].libvirt_address);
          ++j;
        }
      }
    }
  }
  INFO(planned << " planned, " << refused << " refused");
  if (std::getenv("PCIPLAN_TEST_VERBOSE") != nullptr) WARN(planned << " planned, " << refused << " refused");
  CHECK(planned > 0);
}

}  // namespace

TEMPLATE_LIST_TEST_CASE("property: random device sets, pciplan policy", "[planner][properties]", machine_type_list) {
  properties<TestType, policies::pciplan>(20261125u, 120, 60);
}

TEMPLATE_LIST_TEST_CASE("property: random device sets, libvirt policy", "[planner][properties]", machine_type_list) {
  properties<TestType, policies::libvirt>(7u, 120, 60);
}

TEMPLATE_LIST_TEST_CASE("property: large random sets, pciplan policy", "[planner][properties]", machine_type_list) {
  properties<TestType, policies::pciplan>(99u, 6, 400);
}
