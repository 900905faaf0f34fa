#!/usr/bin/env python3
"""How long the compiler's answer to one mistake is: compiles every tests/compile_fail/*.cpp
with g++ and clang++ (-fsyntax-only, C++20, against include/) and prints, per file, the
number of diagnostic lines each prints, whether the line the expect: regex wants is among
them, and the totals. The issue that asks for short diagnostics counts them this way.

Usage: python3 tests/dev/diagnostic_lines.py [--jobs N] [FILTER]   (FILTER: a substring of the file names)
"""
import concurrent.futures
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
COMPILERS = ("g++", "clang++")


def lines_of(compiler, path):
    p = subprocess.run([compiler, "-std=c++20", "-fsyntax-only", "-I", str(ROOT / "include"), str(path)],
                       capture_output=True, text=True)
    out = p.stderr
    return p.returncode, out.count("\n"), out


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--jobs")]
    jobs = 2
    for a in sys.argv[1:]:
        if a.startswith("--jobs="):
            jobs = int(a.split("=", 1)[1])
    files = sorted((ROOT / "tests" / "compile_fail").glob("*.cpp"))
    if args:
        files = [f for f in files if args[0] in f.name]
    work = [(c, f) for f in files for c in COMPILERS]
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        results = dict(zip(work, pool.map(lambda w: lines_of(*w), work)))
    total = {c: 0 for c in COMPILERS}
    print("%-40s %8s %8s" % ("file", "g++", "clang++"))
    for f in files:
        expect = re.sub(r"^// expect: ", "", f.read_text().splitlines()[0])
        row = []
        for c in COMPILERS:
            status, count, out = results[(c, f)]
            found = re.search(expect, out, re.S) is not None
            total[c] += count
            row.append("%5d%s" % (count, "" if status != 0 and found else ("!" if status == 0 else "?")))
        print("%-40s %8s %8s" % (f.stem, *row))
    print("%-40s %8d %8d   (! compiled, ? expect: not matched)" % ("total", total["g++"], total["clang++"]))


if __name__ == "__main__":
    main()
