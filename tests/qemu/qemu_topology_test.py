#!/usr/bin/env python3
"""The pciplan tool against a real QEMU: random libvirt domains, planned with both policies,
started in QEMU (TCG, paused), and compared with the topology QEMU actually built.

Usage (CTest runs it as qemu.topology, label qemu; see CMakeLists.txt here):
  qemu_topology_test.py --pciplan PATH [--seed N] [--domains N] [--jobs N]
                        [--machines pc,q35,aarch64,riscv64] [--only MACHINE:INDEX[,...]]
                        [--firmware-every N] [--min-plans N] [--failures DIR] [--show N] [-v]
  qemu_topology_test.py --print-domain MACHINE:INDEX [--seed N]   (print one domain XML)
  qemu_topology_test.py --skip REASON                             (report "skipped", exit 77)

For each machine type (pc and q35 on x86_64, virt on aarch64 and on riscv64) the test makes
--domains random domains (tests/python/pciplan_testkit/random_domains.py, profile
QEMU_SUITE: the seed fixes them, so a failing case runs again alone with --only), plans each
with both policies, starts the plans in QEMU and checks them (pciplan_testkit/qemu_case.py
and qemu_checks.py say how): a. QEMU starts; b. every controller and device is where the
plan put it; c. the plan's guest bus numbers are firmware's, and on x86 every
--firmware-every'th plan boots SeaBIOS to read back the numbers it programmed; d. device_add
succeeds in every empty slot of every hot-pluggable bus and fails on the others (q35's ACPI
bridge hot-plug counted apart); the pciplan policy leaves the spare ports it promises. The
libvirt policy refuses domains with numa-node constraints, as documented; that is counted.

It prints one line of counts per machine and policy and exits 0 when every check passed and
at least --min-plans plans were started in QEMU; 1 otherwise, after printing every failure
(the first --show of them with the domain XML, the pciplan output and the QEMU command line;
all of them go to --failures DIR when given); 2 on a usage error; 77 (skipped) when a
qemu-system binary is missing. Python 3 standard library only.
"""
import argparse
import concurrent.futures
import os
import shutil
import sys
import tempfile
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'python'))
from pciplan_testkit import machines  # noqa: E402
from pciplan_testkit.machines import MACHINES, POLICIES, QEMU_PACKAGES  # noqa: E402
from pciplan_testkit.qemu_case import Context, report, run_case_safely, write_reports  # noqa: E402
from pciplan_testkit.random_domains import make_domain  # noqa: E402

SKIPPED = 77


def summary_line(key, policy, mine):
    """The counts of one machine and policy."""
    s = [o for o in mine if o.started]
    line = ('  %-8s %-8s %3d plans started, topology identical in %d, bus numbers equal in %d, '
            'spare ports hot-plugged %d/%d, non-hotpluggable refusals %d/%d'
            % (key, policy, len(s), sum(o.topology_ok for o in s), sum(o.numbers_ok for o in s),
               sum(o.spare_ok for o in s), sum(o.spare_total for o in s),
               sum(o.refused_ok for o in s), sum(o.refused_total for o in s)))
    fw = [o for o in s if o.firmware is not None]
    counted = [(sum(o.acpi_accepted for o in s), '%d accepted by q35 ACPI bridge hotplug'),
               (len(fw), 'SeaBIOS agreed in %d/%%d' % sum(bool(o.firmware) for o in fw)),
               (sum(o.aliases for o in s), '%d controllers with a user alias named by it'),
               (sum(o.expected_refusal for o in mine), '%d NUMA domains refused as documented'),
               (sum(o.loop_refusal for o in mine), '%d switch-port loops refused as documented'),
               (sum(o.libvirt_refusal for o in mine), '%d refused as libvirt refuses them'),
               (len([o for o in mine
                     if not o.started and not o.expected_refusal and not o.loop_refusal and not o.libvirt_refusal]),
                '%d NOT STARTED')]
    extras = [text % n for n, text in counted if n]
    return line + ('; ' + ', '.join(extras) if extras else '')


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--pciplan', help='the pciplan tool')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--domains', type=int, default=100, help='random domains per machine type')
    ap.add_argument('--jobs', type=int, default=2, help='QEMU instances at a time')
    ap.add_argument('--machines', default='pc,q35,aarch64,riscv64')
    ap.add_argument('--only', default='', help='MACHINE:INDEX[,...]: just these domains')
    ap.add_argument('--firmware-every', type=int, default=10, help='boot SeaBIOS for every Nth x86 plan (0: never)')
    ap.add_argument('--min-plans', type=int, default=0, help='fail when fewer plans were started in QEMU')
    ap.add_argument('--failures', default='', help='write each failing case (XML, arguments, problems) here')
    ap.add_argument('--show', type=int, default=3, help='failures printed with their XML and QEMU arguments')
    ap.add_argument('--print-domain', default='', help='MACHINE:INDEX: print that domain XML and exit')
    ap.add_argument('--skip', metavar='REASON', help='report the test as skipped (status 77) and do nothing')
    ap.add_argument('-v', '--verbose', action='store_true', help='a line per plan')
    a = ap.parse_args(argv)
    if a.skip:
        print('qemu.topology: skipped: %s (%s)' % (a.skip, QEMU_PACKAGES))
        return SKIPPED
    if a.print_domain:
        key, _, index = a.print_domain.partition(':')
        sys.stdout.write(make_domain(a.seed, MACHINES[key], int(index)).xml)
        return 0
    chosen = machines.parse_list(a.machines)
    missing = machines.missing_binaries(chosen)
    if missing:
        print('qemu.topology: skipped, %s not installed (%s)' % (', '.join(missing), QEMU_PACKAGES))
        return SKIPPED
    if not a.pciplan or not os.access(a.pciplan, os.X_OK):
        print('qemu.topology: %s is not an executable pciplan tool' % a.pciplan)
        return 2

    ctx = Context(a.seed, a.pciplan, tempfile.mkdtemp(prefix='pciplan-qemu-test.'), os.path.abspath(__file__))
    if a.only:
        cases = []
        for item in a.only.split(','):
            key, _, index = item.partition(':')
            cases += [(MACHINES[key], int(index), p) for p in POLICIES]
    else:
        cases = [(m, i, p) for i in range(a.domains) for m in chosen for p in POLICIES]
    # the SeaBIOS sample: every Nth x86 plan, counted per machine and policy
    firmware, seen = set(), {}
    seabios = a.firmware_every > 0 and any(m.x86 for m in chosen)
    for m, i, p in cases:
        if m.x86 and seabios:
            n = seen[(m.key, p)] = seen.get((m.key, p), -1) + 1
            if a.only or n % a.firmware_every == a.firmware_every - 1:
                firmware.add((m.key, i, p))

    print('qemu.topology: seed %d, %d domains x %d policies on %s, %d QEMU at a time, SeaBIOS on %d x86 plans'
          % (a.seed, len(cases) // 2, 2, ','.join(m.key for m in chosen), a.jobs, len(firmware)))
    sys.stdout.flush()
    started = time.monotonic()
    outcomes = []
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, a.jobs)) as pool:
            futures = [pool.submit(run_case_safely, ctx, m, i, p, (m.key, i, p) in firmware) for m, i, p in cases]
            for f in concurrent.futures.as_completed(futures):
                o = f.result()
                outcomes.append(o)
                if a.verbose:
                    print('%-4s %s:%d %s %.2fs%s' % ('ok' if not o.problems else 'FAIL', o.machine, o.index, o.policy,
                                                    o.seconds, '' if o.started or o.expected_refusal else ' (not started)'))
                    sys.stdout.flush()
    finally:
        shutil.rmtree(ctx.workroot, ignore_errors=True)
    wall = time.monotonic() - started

    keys = [m.key for m in chosen]
    outcomes.sort(key=lambda o: (keys.index(o.machine), POLICIES.index(o.policy), o.index))
    failures = [o for o in outcomes if o.problems]
    for n, o in enumerate(failures):
        print(report(o, ctx, n < a.show))
    if a.failures:
        write_reports(a.failures, failures, ctx)

    print('\nqemu.topology results (seed %d):' % a.seed)
    for key in keys:
        for p in POLICIES:
            mine = [o for o in outcomes if o.machine == key and o.policy == p]
            if mine:
                print(summary_line(key, p, mine))
    total_started = sum(o.started for o in outcomes)
    print('  %d plans started in QEMU, %d failing, %.0f s' % (total_started, len(failures), wall))
    if failures:
        checks = {}
        for o in failures:
            for check in sorted({c for c, _ in o.problems}):
                checks[check] = checks.get(check, 0) + 1
        print('  failing plans by check: %s' % ', '.join('%s %d' % kv for kv in sorted(checks.items())))
        print('qemu.topology: FAILED (%d of %d plans; rerun one with --only MACHINE:INDEX --seed %d)'
              % (len(failures), len(outcomes), a.seed))
        return 1
    if total_started < a.min_plans:
        print('qemu.topology: FAILED: only %d plans were started in QEMU, at least %d are required'
              % (total_started, a.min_plans))
        return 1
    print('qemu.topology: passed')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
