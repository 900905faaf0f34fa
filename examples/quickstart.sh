#!/bin/sh
# pciplan quick start, step 1 of 2 (Debian 12, as root): install whatever is missing,
# build the main example and run it. Step 2 is tests/run-all.sh.
set -eu
cd "$(dirname "$0")/.."

packages="g++ clang cmake ninja-build python3 catch2 libboost1.81-dev libbenchmark-dev libpugixml-dev nlohmann-json3-dev doxygen libclang-rt-14-dev
  qemu-system-x86 qemu-system-arm qemu-system-misc seabios ovmf linux-image-cloud-amd64 busybox-static"
missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "pciplan: installing$missing"
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
fi

cmake -S . -B build/quickstart -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build/quickstart --target appliance
build/quickstart/examples/appliance
