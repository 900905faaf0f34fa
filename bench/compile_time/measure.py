"""What a static plan of 256 devices adds to a translation unit's compile time.

Compiles bench/compile_time/static_plan_256.cpp with and without -DPCIPLAN_PROBE (the
includes cost the same in both), best of 3 wall times, with g++ and clang++, and prints
the difference. Run from the repository root: python3 bench/compile_time/measure.py
"""
import subprocess
import sys
import time

SOURCE = "bench/compile_time/static_plan_256.cpp"


def best(cmd, runs=3):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    for cxx in ("g++", "clang++"):
        base = [cxx, "-std=c++20", "-O2", "-Iinclude", "-c", SOURCE, "-o", "/dev/null"]
        without = best(base)
        with_plan = best(base + ["-DPCIPLAN_PROBE"])
        print(f"{cxx}: without the plan {without:.2f} s, with it {with_plan:.2f} s, "
              f"the plan adds {with_plan - without:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
