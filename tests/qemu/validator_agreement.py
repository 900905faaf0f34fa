#!/usr/bin/env python3
"""The layout validator against a real QEMU: planned layouts, mutated into wrong ones, given to
both `pciplan check` and QEMU, which must agree on accept or refuse for every layout.

Usage (CTest runs it as qemu.validator, label qemu; see CMakeLists.txt here):
  validator_agreement.py --pciplan PATH [--seed N] [--domains N] [--jobs N]
                         [--machines pc,q35,aarch64,riscv64] [--min-layouts N] [-v]
  validator_agreement.py --skip REASON          (report "skipped", exit 77)

The domains are the QEMU suite's random domains (tests/python/pciplan_testkit/
random_domains.py, profile QEMU_SUITE). Each is planned with both policies in --format qemu.
The unmutated layout must pass both judges. Then each mutation of pciplan_testkit/
mutations.py that applies is applied once, at a place chosen by a random generator seeded
from (seed, machine, index, policy), so every run makes the same layouts.

QEMU judges by starting (`-S -nodefaults -machine TYPE,accel=tcg`, with the backends a VMM
adds: pciplan_testkit/qemu.py): accepted when its QMP socket opens, refused when it exits.
The validator judges by `pciplan check --machine TYPE -` (exit 0 accepted, 1 refused). The
test prints the agreement per mutation kind and exits 0 when every layout agrees and at
least --min-layouts mutated layouts were judged; 1 otherwise (each disagreement printed with
both verdicts and the layout); 2 on a usage error; 77 (skipped) when a qemu-system binary
is missing.
"""
import argparse
import concurrent.futures
import os
import random
import shutil
import sys
import tempfile
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'python'))
from pciplan_testkit import machines, qemu, tool  # noqa: E402
from pciplan_testkit.machines import POLICIES, QEMU_PACKAGES  # noqa: E402
from pciplan_testkit.mutations import KINDS, mutations  # noqa: E402
from pciplan_testkit.plan_output import lines_of  # noqa: E402
from pciplan_testkit.random_domains import make_domain  # noqa: E402

SKIPPED = 77


def validator_accepts(pciplan, machine, lines):
    status, out, err = tool.check(pciplan, machine, lines)
    if status not in (0, 1):
        raise RuntimeError('pciplan check exited with status %d: %s' % (status, err))
    return status == 0, out.strip()


def judge_plan(pciplan, seed, machine, index, policy, workroot):
    """[(kind, agreed, qemu accepted, qemu message, validator accepted, report, lines)] of one plan."""
    domain = make_domain(seed, machine, index)
    status, out, err = tool.plan(pciplan, domain.xml, policy, 'qemu')
    if status == tool.NOT_RUN:
        raise RuntimeError(err)
    if status != 0:
        return []   # refused plans (documented in qemu_topology_test.py) have nothing to mutate
    lines = lines_of(out)
    rng = random.Random('pciplan-validator:%d:%s:%d:%s' % (seed, machine.key, index, policy))
    results = []
    for kind, layout in [('unmutated', lines)] + mutations(lines, rng):
        q, q_text = qemu.accepts(machine, domain.machine_type, domain.memory_kib, layout, workroot)
        v, v_text = validator_accepts(pciplan, machine, layout)
        results.append((kind, q == v, q, q_text, v, v_text, layout))
    return results


def verdict(accepted):
    return 'accepts' if accepted else 'refuses'


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
        print('qemu.validator: skipped: %s (%s)' % (a.skip, QEMU_PACKAGES))
        return SKIPPED
    chosen = machines.parse_list(a.machines)
    missing = machines.missing_binaries(chosen)
    if missing:
        print('qemu.validator: skipped, %s not installed' % ', '.join(missing))
        return SKIPPED
    if not a.pciplan or not os.access(a.pciplan, os.X_OK):
        print('qemu.validator: %s is not an executable pciplan tool' % a.pciplan)
        return 2

    cases = [(m, i, p) for m in chosen for i in range(a.domains) for p in POLICIES]
    print('qemu.validator: seed %d, %d domains x %d policies on %s, %d QEMU at a time'
          % (a.seed, a.domains * len(chosen), len(POLICIES), ','.join(m.key for m in chosen), a.jobs))
    sys.stdout.flush()
    started = time.monotonic()
    workroot = tempfile.mkdtemp(prefix='pciplan-validator-test.')
    by_kind = {k: [0, 0, 0] for k in KINDS}   # agreed, judged, QEMU refused
    disagreements = []
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, a.jobs)) as pool:
            futures = {pool.submit(judge_plan, a.pciplan, a.seed, m, i, p, workroot): (m, i, p) for m, i, p in cases}
            for f in concurrent.futures.as_completed(futures):
                m, i, p = futures[f]
                for kind, agreed, q, q_text, ok, report, layout in f.result():
                    counts = by_kind[kind]
                    counts[0] += agreed
                    counts[1] += 1
                    counts[2] += not q
                    if a.verbose:
                        print('%-5s %s:%d %s %s: QEMU %s, validator %s'
                              % ('ok' if agreed else 'DIFF', m.key, i, p, kind, verdict(q), verdict(ok)))
                    if not agreed:
                        disagreements.append((m.key, i, p, kind, q, q_text, ok, report, layout))
    finally:
        shutil.rmtree(workroot, ignore_errors=True)

    for key, i, p, kind, q, q_text, ok, report, layout in sorted(disagreements, key=lambda d: d[:4]):
        print('\nDISAGREE %s:%d %s, %s: QEMU %s, the validator %s' % (key, i, p, kind, verdict(q), verdict(ok)))
        print('  QEMU: %s' % (q_text.splitlines()[-1] if q_text else '(started)'))
        print('  validator: %s' % (report.replace('\n', '\n    ') or '(no finding)'))
        print('  layout:\n    %s' % '\n    '.join(layout))
    print('\nqemu.validator results (seed %d):' % a.seed)
    mutated = agreed = 0
    for kind in KINDS:
        ok, n, refused = by_kind[kind]
        if not n:
            continue
        print('  %-18s %3d of %3d agree (QEMU refused %d)' % (kind, ok, n, refused))
        if kind != 'unmutated':
            mutated += n
            agreed += ok
    print('  %d of %d mutated layouts agree (%.1f%%), %d disagreements in all, %.0f s'
          % (agreed, mutated, 100.0 * agreed / max(1, mutated), len(disagreements), time.monotonic() - started))
    if disagreements:
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
