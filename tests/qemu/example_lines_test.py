#!/usr/bin/env python3
"""The examples' QEMU lines in a real QEMU: what a program prints from a plan alone must be
accepted by `pciplan check` and by QEMU, and QEMU must build every device it names.

Usage (CTest runs it as qemu.example_*, label qemu; see CMakeLists.txt here):
  example_lines_test.py --pciplan PATH --machine KEY --run 'EXE ARG…' [--run 'EXE ARG…' …]
  example_lines_test.py --skip REASON          (report "skipped", exit 77)

Each --run is a command line (split on blanks) run in order; each must exit 0, and the
`-device`, `-object` and `-numa` lines of the last one's output are the layout; the guest
gets the RAM its NUMA memory backend names (-object memory-backend-ram,…,size=), else 1 GiB. KEY is a
machine of pciplan_testkit/machines.py (pc, q35, aarch64, riscv64). The layout is checked
with `pciplan check --machine`, then started in QEMU (`-S`, TCG, with the backends a VMM
adds: pciplan_testkit/qemu.py), and every id= of a -device line must be a device QEMU
made (QMP qom-list /machine/peripheral). Exit 0 when all holds, 1 otherwise (what failed
is printed), 2 on a usage error, 77 when the QEMU binary is missing.
"""
import argparse
import os
import re
import shutil
import sys
import tempfile

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'python'))
from pciplan_testkit import machines, qemu, tool  # noqa: E402

SKIPPED = 77
ID = re.compile(r'(?:^|,)id=((?:[^,]|,,)+)|"id":"((?:[^"\\]|\\.)*)"')


def memory_kib(lines):
    """The guest RAM: what the NUMA memory backend says (size=128M), else 1 GiB."""
    for line in lines:
        m = re.search(r'^-object memory-backend-ram,.*size=(\d+)([KMG]?)', line)
        if m:
            return int(m.group(1)) * {'': 1 / 1024, 'K': 1, 'M': 1024, 'G': 1024 * 1024}[m.group(2)]
    return 1024 * 1024


def device_ids(lines):
    ids = []
    for line in lines:
        if line.startswith('-device '):
            m = ID.search(line[len('-device '):])
            if m:
                ids.append((m.group(1) or m.group(2)).replace(',,', ','))
    return ids


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--pciplan')
    parser.add_argument('--machine', default='q35')
    parser.add_argument('--run', action='append', default=[])
    parser.add_argument('--skip')
    args = parser.parse_args()
    if args.skip:
        print('qemu.example: skipped: %s' % args.skip)
        return SKIPPED
    if not args.pciplan or not args.run:
        parser.print_usage(sys.stderr)
        return 2
    machine = machines.MACHINES[args.machine]
    if shutil.which(machine.binary) is None:
        print('qemu.examples: skipped: %s not found' % machine.binary)
        return SKIPPED

    output = ''
    for command in args.run:
        r = tool.run(command.split())
        if r.status != 0:
            print('FAIL: %s exited with %s:\n%s%s' % (command, r.status, r.stdout, r.stderr))
            return 1
        output = r.stdout
    lines = [l for l in output.splitlines() if l.startswith(('-device ', '-object ', '-numa '))]
    ids = device_ids(lines)
    if not ids:
        print('FAIL: no -device lines in the output of %s:\n%s' % (args.run[-1], output))
        return 1
    print('%d lines, %d devices' % (len(lines), len(ids)))

    checked = tool.check(args.pciplan, machine, lines)
    if checked.status != 0:
        print('FAIL: pciplan check --machine %s refuses the layout:\n%s%s' %
              (machine.check_name, checked.stdout, checked.stderr))
        return 1
    print('pciplan check: accepted')

    workdir = tempfile.mkdtemp(prefix='qemu-examples-')
    q = qemu.Qemu(qemu.qemu_arguments(machine, machine.types[0], int(memory_kib(lines)), lines), workdir)
    try:
        try:
            q.start()
        except qemu.QemuRefused as e:
            print('FAIL: QEMU refuses the layout: %s\n%s' % (e, '\n'.join(lines)))
            return 1
        made = {p['name'] for p in q.qmp.execute('qom-list', {'path': '/machine/peripheral'})}
        missing = [i for i in ids if i not in made]
        if missing:
            print('FAIL: QEMU made no device with id %s' % ', '.join(missing))
            return 1
    finally:
        q.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    print('QEMU %s: started, all %d devices made' % (machine.types[0], len(ids)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
