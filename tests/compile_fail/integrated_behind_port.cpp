// expect: an integrated endpoint \(virtio-iommu, amd-iommu, pvpanic-pci\) must sit on the root bus
// virtio-iommu behind a root port: integrated endpoints belong on the root bus.
#include <pciplan/pciplan.hpp>
using namespace pciplan;
constexpr auto layout = make_fixed_layout<machines::q35>(place<pcie_root_port, "rp1">(on_root, at<1>),
                                                         place<models::virtio_iommu, "iommu">(on<"rp1">));
int main() {}
