// expect: fixed_layout_error<[a-z0-9:]*layout_rule::an_integrated_endpoint_must_sit_on_the_root_bus, [a-z0-9:]*named<([a-z0-9:]*fixed_string<[0-9]+>{"iommu"}|'i', 'o', 'm', 'm', 'u')>, [a-z0-9:]*named<([a-z0-9:]*fixed_string<[0-9]+>{"rp1"}|'r', 'p', '1')>, [a-z0-9:]*virtio_iommu, [a-z0-9:]*pcie_root_port>
// one error (g++)
// virtio-iommu behind a root port: integrated endpoints belong on the root bus.
#include <pciplan/pciplan.hpp>
using namespace pciplan;
[[maybe_unused]] constexpr auto layout = make_fixed_layout<machines::q35>(place<pcie_root_port, "rp1">(on_root, at<1>),
                                                         place<models::virtio_iommu, "iommu">(on<"rp1">));
int main() {}
