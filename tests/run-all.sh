#!/bin/sh
# pciplan quick start, step 2 of 2: build and run the test suite in four configurations —
# g++ 12, clang 14, g++ against single_include/, and g++ with AddressSanitizer +
# UndefinedBehaviorSanitizer. Needs what examples/quickstart.sh installs. Exit status 0
# only when every configuration passes.
#
# Every configuration runs every test of the library and its compile-time checks. The
# suites that test behaviour rather than the compiler — real QEMU (qemu.*), the fuzz run
# (fuzz.*, clang only), the command-line contract (cli.*) and the installed package
# (package.*) — run once, in the clang configuration, which is the only one that has
# the fuzzer; the others skip them by name. The single-include and sanitize
# configurations also skip the compile checks (compile_fail.*, headers.self_contained):
# they compile with the same g++ as the gcc configuration (the single header is made from
# the same headers, and single_include.up_to_date checks it is current), and they run
# nothing the sanitizers could check. The benchmarks (bench.smoke) are built and run in
# the gcc and clang configurations only. The wall time of each configuration is printed
# at the end.
#
# pciplan is header-only by default and has a compiled mode (pciplan::compiled, README
# "Compile cost"); the suite runs in both: the gcc and single-include configurations
# header-only, the clang and sanitize configurations compiled (their run-time tests,
# examples and tool link pciplan::compiled; the static tests stay header-only, as they
# call plan() in constant evaluation).
set -eu
cd "$(dirname "$0")/.."
jobs=$(nproc)
behaviour='^(qemu|fuzz|cli|package)\.'
compile_checks='^(compile_fail\.|headers\.self_contained$)'
times=""

run() {
  name=$1
  scope=$2
  shift 2
  echo "=== pciplan: $name"
  start=$(date +%s)
  cmake -S . -B "build/$name" -G Ninja "$@"
  cmake --build "build/$name" -j"$jobs"
  if [ "$scope" = all ]; then
    ctest --test-dir "build/$name" -j"$jobs" --output-on-failure
  elif [ "$scope" = runtime ]; then
    ctest --test-dir "build/$name" -j"$jobs" --output-on-failure -E "$behaviour|$compile_checks"
  else
    ctest --test-dir "build/$name" -j"$jobs" --output-on-failure -E "$behaviour"
  fi
  seconds=$(($(date +%s) - start))
  times="$times$(printf '  %-15s %4d s (%s)' "$name" "$seconds" "$scope")
"
}

run gcc library -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=g++ -DPCIPLAN_BUILD_COMPILED=OFF
run clang all -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++ -DPCIPLAN_DEV_COMPILED=ON
run single-include runtime -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=g++ -DPCIPLAN_USE_SINGLE_INCLUDE=ON \
  -DPCIPLAN_BUILD_BENCH=OFF -DPCIPLAN_BUILD_COMPILED=OFF
run sanitize runtime -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=g++ -DPCIPLAN_DEV_SANITIZE=ON -DPCIPLAN_BUILD_BENCH=OFF \
  -DPCIPLAN_DEV_COMPILED=ON
echo "pciplan: wall time per configuration (all: with the behaviour suites; library: without them; runtime: without them and without the compile checks)"
printf '%s' "$times"
echo "pciplan: all four configurations passed"
