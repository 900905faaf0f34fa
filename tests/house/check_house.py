"""The house rules of include/pciplan/, checked (ctest: house.layers).

The folders under include/pciplan/ are layers; CONTRIBUTING.md lists them in order in
its "Layer map" block. This script fails when
  - a header includes a header of a folder that comes later in that order (an include
    that runs back up), or a folder's detail/ from outside that folder;
  - code outside a folder names something that only that folder defines in a detail
    namespace (`detail::name`), the top-level detail/ being open to everyone;
  - a header is longer than the limit (500 lines), or misses its include guard
    PCIPLAN_<PATH>_HPP;
  - a folder exists that the layer map does not list, or the reverse;
  - a test, example or benchmark includes anything but the umbrella headers
    <pciplan/pciplan.hpp>, <pciplan/libvirt.hpp> and <pciplan/json.hpp>, or calls into a detail:: namespace.

Usage: python3 tests/house/check_house.py [ROOT]   (ROOT: the repository, default ../..)
"""
import pathlib
import re
import sys

LIMIT = 500
UMBRELLAS = {"pciplan/pciplan.hpp", "pciplan/libvirt.hpp", "pciplan/json.hpp"}
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"](pciplan/[^>"]+)[>"]', re.M)
DETAIL_USE = re.compile(r"\bdetail::(\w+)")
DEFINITION = r"(?:\b(?:struct|class|concept|enum class|enum|using)\s+{0}\b|\b{0}\s*(?:<[^;{{}}()]*>)?\s*\((?![^)]*\)\s*;))"


def layer_map(root):
    text = (root / "CONTRIBUTING.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- layer map -->\s*```[^\n]*\n(.*?)```", text, re.S)
    if not block:
        sys.exit("CONTRIBUTING.md: no '<!-- layer map -->' block with the folder order")
    folders = []
    for line in block.group(1).splitlines():
        m = re.match(r"\s*(\S+)/\s", line + " ")
        if m:
            folders.append(m.group(1))
    return folders


def folder_of(rel):
    """'pciplan/kinds/queries.hpp' -> 'kinds'; 'pciplan/detail/bits.hpp' -> 'detail';
    'pciplan/pciplan.hpp' -> '' (an umbrella)."""
    parts = rel.split("/")
    return parts[1] if len(parts) > 2 else ""


def is_private(rel):
    parts = rel.split("/")
    return len(parts) > 3 and parts[2] == "detail"


def main():
    root = pathlib.Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parents[2]
    inc = root / "include"
    order = layer_map(root)
    rank = {name: i for i, name in enumerate(order)}
    problems = []
    headers = sorted(p for p in (inc / "pciplan").rglob("*.hpp"))
    texts = {p.relative_to(inc).as_posix(): p.read_text(encoding="utf-8") for p in headers}

    present = {folder_of(rel) for rel in texts} - {""}
    for name in sorted(present - set(order)):
        problems.append(f"include/pciplan/{name}/ is not in CONTRIBUTING.md's layer map")
    for name in sorted(set(order) - present):
        problems.append(f"CONTRIBUTING.md's layer map lists {name}/, which does not exist")

    # where each detail name is defined: folder -> names
    # (the folders whose headers define a name, public headers' namespace detail
    # included; "detail" for the top-level generic helpers, which are open to everyone)
    defined = {}
    used = set(DETAIL_USE.findall(" ".join(texts.values())))
    for rel, text in texts.items():
        for name in used:
            if re.search(DEFINITION.format(re.escape(name)), text):
                defined.setdefault(name, set()).add(folder_of(rel))

    for rel, text in texts.items():
        here = folder_of(rel)
        lines = text.count("\n")
        if lines > LIMIT:
            problems.append(f"include/{rel}: {lines} lines, more than {LIMIT}")
        guard = "PCIPLAN_" + re.sub(r"[^A-Za-z0-9]", "_", rel[len("pciplan/"):-len(".hpp")]).upper() + "_HPP"
        if f"#ifndef {guard}" not in text:
            problems.append(f"include/{rel}: no include guard {guard}")
        for target in INCLUDE.findall(text):
            there = folder_of(target)
            if here == "":  # an umbrella may include anything
                continue
            if there not in rank or here not in rank:
                continue
            if rank[there] > rank[here]:
                problems.append(f"include/{rel} includes <{target}>: {here}/ may not use {there}/, a later layer")
            if is_private(target) and there != here:
                problems.append(f"include/{rel} includes <{target}>, the private detail/ of {there}/")
        for name in set(DETAIL_USE.findall(text)):
            owners = defined.get(name, set())
            if owners and "detail" not in owners and here not in owners:
                problems.append(f"include/{rel} uses detail::{name}, private to {'/, '.join(sorted(owners))}/")

    for folder in ("tests", "examples", "bench"):
        for path in sorted((root / folder).rglob("*")):
            if path.suffix not in (".cpp", ".hpp") or "compile_fail" in path.parts:
                continue
            text = path.read_text(encoding="utf-8")
            shown = path.relative_to(root).as_posix()
            for target in INCLUDE.findall(text):
                if target not in UMBRELLAS:
                    problems.append(f"{shown} includes <{target}>: tests, examples and benchmarks use the umbrellas")
            for name in DETAIL_USE.findall(text):
                problems.append(f"{shown} calls detail::{name}: internals are not an API")

    for p in problems:
        print(p)
    print(f"house: {len(texts)} headers in {len(present)} layer folders checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
