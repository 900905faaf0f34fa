// Built against an installed pciplan with its libvirt adapter: pciplan::libvirt must
// bring the headers and pugixml.
#include <pciplan/libvirt.hpp>

#include <iostream>

int main() {
  const char* xml =
      "<domain type='kvm'><name>c</name><os><type arch='x86_64' machine='q35'>hvm</type></os>"
      "<devices><interface type='user'><model type='virtio'/></interface></devices></domain>";
  const pciplan::libvirt::xml_outcome out =
      pciplan::libvirt::plan_domain_xml(xml, {.policy = pciplan::libvirt::policy_kind::libvirt});
  std::cout << out.xml;
  return out.planned() && out.xml.find("pcie-root-port") != std::string::npos ? 0 : 1;
}
