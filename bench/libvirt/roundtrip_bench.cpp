// The pciplan tool's whole path for a libvirt domain: read the XML, plan, write it back
// (pciplan::libvirt::plan_domain_xml), for a q35 domain with N address-less virtio
// devices (N up to 239, libvirt's maximum for one root port per device). libvirt 9.0
// needs about 30 ms for define + dumpxml of the 239-device domain (bench/README.md).
#include <pciplan/libvirt.hpp>

#include <benchmark/benchmark.h>

#include <cstddef>
#include <string>

namespace {

/// A q35 domain as virt-install writes one, with n virtio devices: 3 of 4 NICs, 1 of 4 disks.
std::string q35_domain(int n) {
  std::string s = R"(<domain type='kvm'>
  <name>bench</name>
  <memory unit='KiB'>4194304</memory>
  <vcpu placement='static'>4</vcpu>
  <os>
    <type arch='x86_64' machine='pc-q35-7.2'>hvm</type>
    <boot dev='hd'/>
  </os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
)";
  for (int i = 0; i < n; ++i) {
    if (i % 4 == 3) {
      s += "    <disk type='file' device='disk'>\n      <driver name='qemu' type='raw'/>\n"
           "      <source file='/var/lib/libvirt/images/d" + std::to_string(i) + ".img'/>\n"
           "      <target dev='vd" + std::to_string(i) + "' bus='virtio'/>\n    </disk>\n";
    } else {
      s += "    <interface type='network'>\n      <source network='default'/>\n"
           "      <model type='virtio'/>\n    </interface>\n";
    }
  }
  s += "    <controller type='usb' model='none'/>\n    <memballoon model='none'/>\n  </devices>\n</domain>\n";
  return s;
}

void run(benchmark::State& state, pciplan::libvirt::policy_kind policy) {
  const std::string text = q35_domain(static_cast<int>(state.range(0)));
  pciplan::libvirt::domain_options options{};
  options.policy = policy;
  options.spare_ports = 0;
  for (auto _ : state) {
    pciplan::libvirt::xml_outcome out = pciplan::libvirt::plan_domain_xml(text, options);
    if (!out.planned()) {
      state.SkipWithError(out.message.c_str());
      break;
    }
    benchmark::DoNotOptimize(out.xml.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(text.size()));
  state.SetComplexityN(state.range(0));
}

void BM_LibvirtRoundTrip_libvirt(benchmark::State& state) { run(state, pciplan::libvirt::policy_kind::libvirt); }
void BM_LibvirtRoundTrip_pciplan(benchmark::State& state) { run(state, pciplan::libvirt::policy_kind::pciplan); }

/// The XML part alone: pugixml's own parse and print of the same document, printed into
/// a string as the tool's path prints (what the XML library costs: the floor).
void BM_LibvirtParseWriteOnly(benchmark::State& state) {
  struct string_writer : pugi::xml_writer {
    std::string out;
    void write(const void* data, std::size_t size) override { out.append(static_cast<const char*>(data), size); }
  };
  const std::string text = q35_domain(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    pugi::xml_document doc;
    doc.load_buffer(text.data(), text.size(), pugi::parse_default | pugi::parse_ws_pcdata);
    string_writer w;
    w.out.reserve(text.size());
    doc.document_element().print(w, "  ", pugi::format_raw | pugi::format_attribute_single_quote);
    benchmark::DoNotOptimize(w.out.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetComplexityN(state.range(0));
}

}  // namespace

BENCHMARK(BM_LibvirtRoundTrip_libvirt)->Arg(16)->Arg(64)->Arg(239)->Complexity(benchmark::oN)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_LibvirtRoundTrip_pciplan)->Arg(16)->Arg(64)->Arg(239)->Complexity(benchmark::oN)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_LibvirtParseWriteOnly)->Arg(16)->Arg(64)->Arg(239)->Complexity(benchmark::oN)->Unit(benchmark::kMicrosecond);
