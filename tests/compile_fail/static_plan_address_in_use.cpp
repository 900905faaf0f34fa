// expect: ("b".*has an address that is already in use|has an address that is already in use.*"b")
// Two devices pinned to one address.
#include <pciplan/pciplan.hpp>
using namespace pciplan;
[[maybe_unused]] constexpr auto p = static_plan<machines::pc>(device<models::e1000>("a", at_address{{0, 0, 5, 0}}),
                                             device<models::e1000>("b", at_address{{0, 0, 5, 0}}));
int main() {}
