"""What pciplan costs a translation unit to compile.

Compiles each small source of bench/compile_time/tu/ (and the pciplan tool) as a user
would, with g++ and clang++ at -O2, best of three: user CPU time and peak memory of the
compiler (GNU time). Also what a 256-device static plan adds (static_plan_256.cpp with and
without -DPCIPLAN_PROBE). Run from the repository root:

    python3 bench/compile_time/measure.py                   # print the table
    python3 bench/compile_time/measure.py --json out.json   # and keep the figures
    python3 bench/compile_time/measure.py --compiled --before before.json --write bench/README.md
        # write the table, with a "before" column from an earlier run, into bench/README.md
        # between the markers <!-- compile-cost --> and <!-- /compile-cost -->
    python3 bench/compile_time/measure.py --compiled --figures after.json --before before.json
        # the same table from figures kept with --json, without measuring again

--compiled also measures the compiled mode: -DPCIPLAN_COMPILED, and -DPCIPLAN_COMPILED_LIBVIRT
for the sources that include <pciplan/libvirt.hpp> (what pciplan::compiled and
pciplan::compiled_libvirt give their users; compiling needs no library, only linking does).
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

TU = "bench/compile_time/tu"
# (key, what it is, source, extra flags); the libvirt ones get -DPCIPLAN_COMPILED_LIBVIRT in the compiled mode
UNITS = [
    ("empty_std", "empty `main`, `<vector>` and `<string>` only", f"{TU}/empty_std.cpp", []),
    ("empty_pciplan", "empty `main` including `<pciplan/pciplan.hpp>`", f"{TU}/empty_pciplan.cpp", []),
    ("empty_libvirt", "empty `main` including `<pciplan/libvirt.hpp>`", f"{TU}/empty_libvirt.cpp", []),
    ("fixed_layout", "a fixed layout of 14 placements, checked at compile time", f"{TU}/fixed_layout_14.cpp", []),
    ("runtime_q35", "a run-time plan of a 20-device q35 guest, printed as QEMU lines", f"{TU}/runtime_q35.cpp", []),
    ("libvirt_roundtrip", "read, plan and write a libvirt domain", f"{TU}/libvirt_roundtrip.cpp", []),
    ("tool", "the `pciplan` tool (examples/pciplan_tool.cpp)", "examples/pciplan_tool.cpp", []),
    ("static_plan_base", "static_plan_256.cpp without the plan", "bench/compile_time/static_plan_256.cpp", []),
    ("static_plan_256", "static_plan_256.cpp with the 256-device plan", "bench/compile_time/static_plan_256.cpp",
     ["-DPCIPLAN_PROBE"]),
]

LIBVIRT_UNITS = {"empty_libvirt", "libvirt_roundtrip", "tool"}


def compile_once(cxx, source, flags):
    with tempfile.NamedTemporaryFile(suffix=".txt") as out:
        cmd = ["/usr/bin/time", "-f", "%U %S %M", "-o", out.name, cxx, "-std=c++20", "-O2", "-Iinclude",
               *flags, "-c", source, "-o", os.devnull]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        user, _system, peak_kb = open(out.name).read().split()[-3:]
        return float(user), int(peak_kb) / 1024


def best(cxx, source, flags, runs):
    results = [compile_once(cxx, source, flags) for _ in range(runs)]
    return min(r[0] for r in results), min(r[1] for r in results)


def measure(runs, modes):
    figures = {}
    for mode, mode_flags in modes:
        for cxx in ("g++", "clang++"):
            for key, _, source, flags in UNITS:
                extra = list(mode_flags)
                if mode_flags and key in LIBVIRT_UNITS:
                    extra.append("-DPCIPLAN_COMPILED_LIBVIRT")
                seconds, megabytes = best(cxx, source, flags + extra, runs)
                figures[f"{mode}/{cxx}/{key}"] = [round(seconds, 2), round(megabytes)]
                print(f"{mode:12} {cxx:8} {key:18} {seconds:6.2f} s {megabytes:5.0f} MB", flush=True)
    return figures


def cell(figures, name):
    if name not in figures:
        return "–"
    seconds, megabytes = figures[name]
    return f"{seconds:.2f} s, {megabytes} MB"


def table(figures, before, modes):
    lines = []
    head = "| translation unit |"
    rule = "|---|"
    columns = []
    for cxx in ("g++", "clang++"):
        if before:
            columns.append(("before", cxx, before))
        for mode, _ in modes:
            columns.append((mode, cxx, figures))
    for mode, cxx, _ in columns:
        head += f" {cxx} {mode} |"
        rule += "---|"
    lines += [head, rule]
    for key, what, _, _ in UNITS:
        row = f"| {what} |"
        for mode, cxx, source in columns:
            name = f"{'header-only' if mode == 'before' else mode}/{cxx}/{key}"
            row += f" {cell(source, name)} |"
        lines.append(row)
    for cxx in ("g++", "clang++"):
        parts = []
        for mode, c, source in columns:
            if c != cxx:
                continue
            m = "header-only" if mode == "before" else mode
            a, b = source.get(f"{m}/{cxx}/static_plan_256"), source.get(f"{m}/{cxx}/static_plan_base")
            if a and b:
                parts.append(f"{mode} {a[0] - b[0]:.2f} s")
        lines.append(f"\nWhat the 256-device static plan adds, {cxx}: " + ", ".join(parts) + ".")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json")
    parser.add_argument("--before")
    parser.add_argument("--write")
    parser.add_argument("--compiled", action="store_true", help="also measure the compiled mode")
    parser.add_argument("--figures", help="write the table from this --json file instead of measuring")
    args = parser.parse_args()
    modes = [("header-only", [])]
    if args.compiled:
        modes.append(("compiled", ["-DPCIPLAN_COMPILED"]))
    figures = json.load(open(args.figures)) if args.figures else measure(args.runs, modes)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=1, sort_keys=True)
    before = json.load(open(args.before)) if args.before else None
    text = table(figures, before, modes)
    print(text)
    if args.write:
        readme = open(args.write).read()
        pattern = re.compile(r"(<!-- compile-cost -->\n).*?(<!-- /compile-cost -->)", re.S)
        if not pattern.search(readme):
            print(f"{args.write} has no <!-- compile-cost --> markers", file=sys.stderr)
            return 1
        readme = pattern.sub(lambda m: m.group(1) + text + "\n" + m.group(2), readme)
        with open(args.write, "w") as f:
            f.write(readme)
    return 0


if __name__ == "__main__":
    sys.exit(main())
