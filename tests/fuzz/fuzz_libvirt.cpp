// libFuzzer target for the libvirt reader, both planners and the writer.
//
// Every input must end in one of the documented outcomes (planned; or a failure of the
// input, of capacity or a conflict: the tool's exit statuses 0, 2, 1 and 2) without a crash, leak or undefined behaviour (the target is
// built with AddressSanitizer and UndefinedBehaviorSanitizer). When the libvirt policy
// plans an input, planning its own output again must give the same document back:
// written addresses are kept, and nothing is added twice.
//
// In CI (ctest -R fuzz): 150,000 runs from the seeds with a fixed seed, the same on every
// machine. Fuzzing for new bugs, by hand (a random seed each time; add every input that
// found a bug to tests/fuzz/seeds as regression-*.xml):
//   mkdir -p /tmp/fuzz
//   build/clang/tests/fuzz/fuzz_libvirt -max_total_time=1200 /tmp/fuzz tests/fuzz/seeds examples/domains
#include <pciplan/libvirt.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  for (const auto policy : {pciplan::libvirt::policy_kind::libvirt, pciplan::libvirt::policy_kind::pciplan}) {
    pciplan::libvirt::domain_options options{};
    options.policy = policy;
    const pciplan::libvirt::xml_outcome first = pciplan::libvirt::plan_domain_xml(input, options);
    if (first.failed > pciplan::libvirt::failure::planning_conflict) std::abort();
    if (!first.planned() && (first.message.empty() || !first.xml.empty())) std::abort();
    if (!first.planned() || policy != pciplan::libvirt::policy_kind::libvirt) continue;
    const pciplan::libvirt::xml_outcome second = pciplan::libvirt::plan_domain_xml(first.xml, options);
    if (!second.planned() || second.xml != first.xml) {
      std::fprintf(stderr, "re-planning the planned document changed it (%s: %s)\n",
                   std::string(pciplan::libvirt::name_of(second.failed)).c_str(), second.message.c_str());
      std::abort();
    }
  }
  return 0;
}
