// expect: ("b8".*needs a virtio-mmio transport, and every transport of the machine is in use|needs a virtio-mmio transport, and every transport of the machine is in use.*"b8")
// Nine virtio devices on microvm, which has eight virtio-mmio transports.
#include <pciplan/pciplan.hpp>
using namespace pciplan;
[[maybe_unused]] constexpr auto p = static_plan<machines::microvm>(
    device<models::virtio_blk>("b0"), device<models::virtio_blk>("b1"), device<models::virtio_blk>("b2"),
    device<models::virtio_blk>("b3"), device<models::virtio_blk>("b4"), device<models::virtio_blk>("b5"),
    device<models::virtio_blk>("b6"), device<models::virtio_blk>("b7"), device<models::virtio_blk>("b8"));
int main() {}
