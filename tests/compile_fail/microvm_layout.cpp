// expect: this machine type has no PCI bus \(microvm has only virtio-mmio transports\)
// A PCI layout for microvm, which has no PCI.
#include <pciplan/pciplan.hpp>
using namespace pciplan;
constexpr auto layout = make_fixed_layout<machines::microvm>(place<models::virtio_net, "net">(on_root, at<1>));
int main() {}
