#!/bin/sh
# pciplan quick start, step 2 of 2: build and run the whole test suite in four
# configurations — g++ 12, clang 14, g++ against single_include/, and g++ with
# AddressSanitizer + UndefinedBehaviorSanitizer. Needs what examples/quickstart.sh
# installs. Exit status 0 only when every configuration passes.
set -eu
cd "$(dirname "$0")/.."
jobs=$(nproc)

run() {
  name=$1
  shift
  echo "=== pciplan: $name"
  cmake -S . -B "build/$name" -G Ninja "$@"
  cmake --build "build/$name" -j"$jobs"
  ctest --test-dir "build/$name" -j"$jobs" --output-on-failure
}

run gcc -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=g++
run clang -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++
run single-include -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=g++ -DPCIPLAN_USE_SINGLE_INCLUDE=ON
run sanitize -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=g++ -DPCIPLAN_DEV_SANITIZE=ON
echo "pciplan: all four configurations passed"
