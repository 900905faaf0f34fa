// Compile cost of the libvirt use: read a domain, plan it with the libvirt policy, write it.
#include <pciplan/libvirt.hpp>

#include <iostream>
#include <iterator>
#include <string>

int main() {
  const std::string input{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
  pciplan::libvirt::domain d(input);
  const auto plan = d.plan(pciplan::libvirt::policy_kind::libvirt);
  if (!plan) {
    std::cerr << plan.error() << '\n';
    return pciplan::is_capacity_error(plan.error().code) ? 1 : 2;
  }
  std::cout << d.write(*plan);
  return 0;
}
