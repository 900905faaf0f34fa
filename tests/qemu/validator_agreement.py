#!/usr/bin/env python3
"""The layout validator against a real QEMU: planned layouts, mutated into wrong ones, given to
both `pciplan check` and QEMU, which must agree on accept or refuse for every layout.

Usage (CTest runs it as qemu.validator, label qemu; see CMakeLists.txt here):
  validator_agreement.py --pciplan PATH [--seed N] [--domains N] [--jobs N]
                         [--machines pc,q35,aarch64,riscv64] [--min-layouts N] [-v]
  validator_agreement.py --skip REASON          (report "skipped", exit 77)

The domains are qemu_topology_test.py's random domains (the same generator and seed rules).
Each is planned with both policies in --format qemu. The unmutated layout must pass both
judges. Then each applicable mutation below is applied once, at a place chosen by a random
generator seeded from (seed, machine, index, policy), so every run makes the same layouts:

  duplicate address    a device takes another device's bus and addr
  unknown bus          a device names a bus nothing provides
  duplicate id         a device takes another device's id
  chassis clash        a root or downstream port takes another port's chassis and slot
  chassis_nr 0         a pci-bridge gets chassis_nr=0
  multifunction off    function 0 of a multifunction slot loses multifunction=on
  lone function 5      a device moves to function 5 of its slot
  slot 32              a device's addr names slot 0x20
  slot 3 of a port     an endpoint moves to slot 3 behind a root or downstream port
  port on a bridge     a pcie-root-port moves onto a conventional bus (pci-bridge, pxb)
  expander off root    an expander bus moves behind a port or bridge
  bus_nr clash         a second expander with the same bus_nr at slot 0x1e of the root
  numa node 9          an expander names a NUMA node the guest does not have

QEMU judges by starting (`-S -nodefaults -machine TYPE,accel=tcg`, with the backends a VMM
adds, as in qemu_topology_test.py): accepted when its QMP socket opens, refused when it
exits. The validator judges by `pciplan check --machine TYPE -` (exit 0 accepted, 1
refused). The test prints the agreement per mutation kind and exits 0 when every layout
agrees and at least --min-layouts mutated layouts were judged; 1 otherwise (each
disagreement printed with both verdicts and the layout); 2 on a usage error; 77 (skipped)
when a qemu-system binary is missing.
"""
import argparse
import concurrent.futures
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qemu_topology_test as qt  # noqa: E402  (the domain generator and the QEMU runner)

SKIPPED = 77
CHECK_MACHINE = {'pc': 'pc', 'q35': 'q35', 'aarch64': 'virt', 'riscv64': 'riscv64:virt'}
KINDS = ('unmutated', 'duplicate address', 'unknown bus', 'duplicate id', 'chassis clash', 'chassis_nr 0',
         'multifunction off', 'lone function 5', 'slot 32', 'slot 3 of a port', 'port on a bridge',
         'expander off root', 'bus_nr clash', 'numa node 9')


def driver(line):
    return line[len('-device '):].split(',', 1)[0]


def prop(line, key):
    m = re.search(r',%s=([^,]*)' % re.escape(key), line)
    return m.group(1) if m else None


def set_prop(line, key, value):
    if prop(line, key) is None:
        return line + ',%s=%s' % (key, value)
    return re.sub(r',%s=[^,]*' % re.escape(key), lambda _: ',%s=%s' % (key, value), line, count=1)


def drop_prop(line, key):
    return re.sub(r',%s=[^,]*' % re.escape(key), '', line, count=1)


PORTS = ('pcie-root-port', 'xio3130-downstream')
CONVENTIONAL_BUSES = ('pci-bridge', 'pcie-pci-bridge', 'pxb')
EXPANDERS = ('pxb', 'pxb-pcie')
CONTROLLERS = PORTS + CONVENTIONAL_BUSES + EXPANDERS + ('x3130-upstream', 'i82801b11-bridge')


def mutations(lines, rng):
    """(kind, mutated lines) for every kind that applies to this layout."""
    devices = [i for i, l in enumerate(lines) if l.startswith('-device ')]
    addressed = [i for i in devices if prop(lines[i], 'bus') and prop(lines[i], 'addr')]
    with_id = [i for i in devices if prop(lines[i], 'id')]
    ports = [i for i in devices if driver(lines[i]) in PORTS]
    endpoints = [i for i in addressed if driver(lines[i]) not in CONTROLLERS]
    bridges = [i for i in devices if driver(lines[i]) == 'pci-bridge']
    conventional = [i for i in devices if driver(lines[i]) in CONVENTIONAL_BUSES]
    expanders = [i for i in devices if driver(lines[i]) in EXPANDERS]
    root_ports = [i for i in devices if driver(lines[i]) == 'pcie-root-port']
    out = []

    def changed(kind, index, line):
        l = list(lines)
        l[index] = line
        out.append((kind, l))

    if len(addressed) >= 2:
        a, b = rng.sample(addressed, 2)
        changed('duplicate address', b, set_prop(set_prop(lines[b], 'bus', prop(lines[a], 'bus')), 'addr',
                                                 prop(lines[a], 'addr')))
    if devices:
        i = rng.choice(devices)
        changed('unknown bus', i, set_prop(lines[i], 'bus', 'nosuch.0'))
    if len(with_id) >= 2:
        a, b = rng.sample(with_id, 2)
        changed('duplicate id', b, set_prop(lines[b], 'id', prop(lines[a], 'id')))
    if len(ports) >= 2:
        a, b = rng.sample(ports, 2)
        changed('chassis clash', b, set_prop(set_prop(lines[b], 'chassis', prop(lines[a], 'chassis') or '0'), 'slot',
                                             prop(lines[a], 'slot') or '0'))
    if bridges:
        i = rng.choice(bridges)
        changed('chassis_nr 0', i, set_prop(lines[i], 'chassis_nr', '0'))
    multi = [i for i in devices if 'multifunction=on' in lines[i]]
    if multi:
        i = rng.choice(multi)
        changed('multifunction off', i, drop_prop(lines[i], 'multifunction'))
    if addressed:
        i = rng.choice(addressed)
        slot = prop(lines[i], 'addr').split('.')[0]
        changed('lone function 5', i, set_prop(lines[i], 'addr', slot + '.0x5'))
        i = rng.choice(addressed)
        changed('slot 32', i, set_prop(lines[i], 'addr', '0x20.0x0'))
    if endpoints and ports:
        i, p = rng.choice(endpoints), rng.choice(ports)
        changed('slot 3 of a port', i, set_prop(set_prop(lines[i], 'bus', prop(lines[p], 'id')), 'addr', '0x3.0x0'))
    if root_ports and conventional:
        i, b = rng.choice(root_ports), rng.choice(conventional)
        if prop(lines[b], 'id') and i != b:
            changed('port on a bridge', i, set_prop(set_prop(lines[i], 'bus', prop(lines[b], 'id')), 'addr',
                                                    '0x1f.0x0'))
    parents = [i for i in ports + conventional if prop(lines[i], 'id')]
    if expanders and parents:
        i = rng.choice(expanders)
        p = rng.choice([q for q in parents if q != i] or [None])
        if p is not None:
            slot = '0x0.0x0' if driver(lines[p]) in PORTS else '0x1f.0x0'
            changed('expander off root', i, set_prop(set_prop(lines[i], 'bus', prop(lines[p], 'id')), 'addr', slot))
    if expanders:
        i = rng.choice(expanders)
        twin = set_prop(set_prop(lines[i], 'id', 'twin'), 'addr', '0x1e.0x0')
        out.append(('bus_nr clash', lines + [twin]))
        i = rng.choice(expanders)
        changed('numa node 9', i, set_prop(lines[i], 'numa_node', '9'))
    return out


class Verdicts:
    def __init__(self):
        self.by_kind = {k: [0, 0, 0] for k in KINDS}   # agreed, judged, QEMU refused
        self.disagreements = []


def qemu_accepts(machine, machine_type, memory, lines, workroot):
    workdir = tempfile.mkdtemp(prefix='va-', dir=workroot)
    q = qt.Qemu(qt.qemu_arguments(machine, machine_type, memory, lines), workdir, timeout=30.0)
    try:
        q.start()
        return True, ''
    except qt.QemuRefused as e:
        return False, str(e)
    finally:
        q.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def validator_accepts(tool, machine, lines):
    p = subprocess.run([tool, 'check', '--machine', CHECK_MACHINE[machine.key], '-'],
                       input=('\n'.join(lines) + '\n').encode(), capture_output=True, timeout=60)
    if p.returncode not in (0, 1):
        raise RuntimeError('pciplan check exited with status %d: %s' % (p.returncode, p.stderr.decode()))
    return p.returncode == 0, p.stdout.decode('utf-8', 'replace').strip()


def judge_plan(tool, seed, machine, index, policy, workroot):
    """[(kind, agreed, qemu accepted, qemu message, validator accepted, report, lines)] of one plan."""
    xml, memory, machine_type, _ = qt.make_domain(seed, machine, index)
    status, out, _ = qt.run_pciplan(tool, xml, policy, 'qemu')
    if status != 0:
        return []   # refused plans (documented in qemu_topology_test.py) have nothing to mutate
    lines = [l for l in out.splitlines() if l.strip()]
    rng = random.Random('pciplan-validator:%d:%s:%d:%s' % (seed, machine.key, index, policy))
    results = []
    for kind, layout in [('unmutated', lines)] + mutations(lines, rng):
        q, q_text = qemu_accepts(machine, machine_type, memory, layout, workroot)
        v, v_text = validator_accepts(tool, machine, layout)
        results.append((kind, q == v, q, q_text, v, v_text, layout))
    return results


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--pciplan', help='the pciplan tool')
    ap.add_argument('--seed', type=int, default=3)
    ap.add_argument('--domains', type=int, default=12, help='random domains per machine type')
    ap.add_argument('--jobs', type=int, default=2, help='QEMU instances at a time')
    ap.add_argument('--machines', default='pc,q35,aarch64,riscv64')
    ap.add_argument('--min-layouts', type=int, default=0, help='fail when fewer mutated layouts were judged')
    ap.add_argument('--skip', metavar='REASON', help='report the test as skipped (status 77) and do nothing')
    ap.add_argument('-v', '--verbose', action='store_true', help='a line per layout')
    a = ap.parse_args(argv)
    if a.skip:
        print('qemu.validator: skipped: %s (Debian: qemu-system-x86, qemu-system-arm, qemu-system-misc)' % a.skip)
        return SKIPPED
    machines = [qt.MACHINES[k] for k in a.machines.split(',') if k]
    missing = [m.binary for m in machines if shutil.which(m.binary) is None]
    if missing:
        print('qemu.validator: skipped, %s not installed' % ', '.join(missing))
        return SKIPPED
    if not a.pciplan or not os.access(a.pciplan, os.X_OK):
        print('qemu.validator: %s is not an executable pciplan tool' % a.pciplan)
        return 2

    cases = [(m, i, p) for m in machines for i in range(a.domains) for p in qt.POLICIES]
    print('qemu.validator: seed %d, %d domains x %d policies on %s, %d QEMU at a time'
          % (a.seed, a.domains * len(machines), len(qt.POLICIES), ','.join(m.key for m in machines), a.jobs))
    sys.stdout.flush()
    started = time.monotonic()
    workroot = tempfile.mkdtemp(prefix='pciplan-validator-test.')
    v = Verdicts()
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, a.jobs)) as pool:
            futures = {pool.submit(judge_plan, a.pciplan, a.seed, m, i, p, workroot): (m, i, p) for m, i, p in cases}
            for f in concurrent.futures.as_completed(futures):
                m, i, p = futures[f]
                for kind, agreed, q, q_text, ok, report, layout in f.result():
                    counts = v.by_kind[kind]
                    counts[0] += agreed
                    counts[1] += 1
                    counts[2] += not q
                    if a.verbose:
                        print('%-5s %s:%d %s %s: QEMU %s, validator %s' % ('ok' if agreed else 'DIFF', m.key, i, p, kind,
                                                                       'accepts' if q else 'refuses',
                                                                       'accepts' if ok else 'refuses'))
                    if not agreed:
                        v.disagreements.append((m.key, i, p, kind, q, q_text, ok, report, layout))
    finally:
        shutil.rmtree(workroot, ignore_errors=True)

    for key, i, p, kind, q, q_text, ok, report, layout in sorted(v.disagreements, key=lambda d: d[:4]):
        print('\nDISAGREE %s:%d %s, %s: QEMU %s, the validator %s' % (key, i, p, kind, 'accepts' if q else 'refuses',
                                                                   'accepts' if ok else 'refuses'))
        print('  QEMU: %s' % (q_text.splitlines()[-1] if q_text else '(started)'))
        print('  validator: %s' % (report.replace('\n', '\n    ') or '(no finding)'))
        print('  layout:\n    %s' % '\n    '.join(layout))
    print('\nqemu.validator results (seed %d):' % a.seed)
    mutated = agreed = 0
    for kind in KINDS:
        ok, n, refused = v.by_kind[kind]
        if not n:
            continue
        print('  %-18s %3d of %3d agree (QEMU refused %d)' % (kind, ok, n, refused))
        if kind != 'unmutated':
            mutated += n
            agreed += ok
    print('  %d of %d mutated layouts agree (%.1f%%), %d disagreements in all, %.0f s'
          % (agreed, mutated, 100.0 * agreed / max(1, mutated), len(v.disagreements), time.monotonic() - started))
    if v.disagreements:
        print('qemu.validator: FAILED')
        return 1
    if mutated < a.min_layouts:
        print('qemu.validator: FAILED: only %d mutated layouts were judged, at least %d are required'
              % (mutated, a.min_layouts))
        return 1
    print('qemu.validator: passed')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
