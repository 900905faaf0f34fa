#!/usr/bin/env python3
"""`pciplan attach --live` against a real QEMU: random guests, planned with both policies and
started in QEMU (TCG, paused), get devices hot-added one by one where the tool says, until
it refuses; QEMU must take every device the tool accepts, where the plan puts it, and the
refusals must be QEMU's too.

Usage (CTest runs it as qemu.hotplug, label qemu; see CMakeLists.txt here):
  qemu_hotplug_test.py --pciplan PATH [--seed N] [--guests N] [--jobs N]
                       [--machines pc,q35,aarch64,riscv64] [--only MACHINE:INDEX[:POLICY][,...]]
                       [--kinds default|all|KIND,...] [--min-hot-adds N] [--min-numa-hot-adds N]
                       [--min-refusals N] [--failures DIR] [--show N] [-v]
  qemu_hotplug_test.py --skip REASON          (report "skipped", exit 77)

For each machine type (pc and q35 on x86_64, virt on aarch64 and on riscv64) and policy the
test runs --guests random domains (tests/python/pciplan_testkit/random_domains.py, profile
QEMU_SUITE; for the pciplan policy on a machine with NUMA expanders half of them with
numa-node constraints, for the libvirt policy none: it refuses them, as documented). Each is
planned with `pciplan plan` (--format xml is RUNNING.xml, the running guest's definition;
--format qemu starts QEMU with -S) and then, as pciplan_testkit/hotplug_case.py says:
 a. devices of every kind in --kinds (NICs, USB, SCSI and virtio-serial controllers, virtio
    rng and input, watchdog: what QEMU can device_add without a backend), some bound to a
    NUMA node (pciplan policy), are given to `pciplan attach --live` one by one until it
    refuses every kind and node. Every acceptance is a hot-add: the QMP device_add command(s)
    it printed are sent as they are, QEMU must take them, and the device must be where the
    json plan puts it (bus, slot, function; the guest address, from query-pci after SeaBIOS
    numbered the buses on x86, from the firmware numbering of QEMU's tree elsewhere; below
    an expander of its node); the device element (--format xml) then goes into RUNNING.xml;
 b. refusals: a NUMA-bound device with no spare on its node (every slot below the node's
    expander buses is taken in QEMU, and QEMU refuses the device on the expander bus), or no
    expander on its node (QEMU does not hot-add one); a device pinned to a bus that is not
    hot-pluggable (pcie.0 of q35, aarch64 and riscv64, expander buses) is refused by the tool
    with exit 1 and by QEMU ("does not support hotplugging");
 c. at the end the cold plan of RUNNING.xml (the next boot) is the topology QEMU has.

It prints one line of counts per machine and policy and exits 0 when every check passed and
the run made at least --min-hot-adds hot-adds, --min-numa-hot-adds of them NUMA-bound, and
--min-refusals confirmed refusals of each kind "no spare on node" and "root bus" (pinned to
the PCI Express root bus); 1 otherwise, after printing every failure with the domain, the
device, the tool's answers and QEMU's reply (the first --show of them with the domain XML
and the QEMU command line; all of them, with the RUNNING.xml of the failing step, go to
--failures DIR when given); 2 on a usage error; 77 (skipped) when a qemu-system binary is
missing. Python 3 standard library only.
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
from pciplan_testkit.hotplug_case import (CHECKED_REFUSALS, NODE_FULL, ROOT_BUS, choose_guests,  # noqa: E402
                                          kinds_named, report, run_guest_safely, write_reports)
from pciplan_testkit.machines import MACHINES, POLICIES, QEMU_PACKAGES  # noqa: E402
from pciplan_testkit.qemu_case import Context  # noqa: E402

SKIPPED = 77


def summary_line(key, policy, mine):
    """The counts of one machine and policy."""
    s = [o for o in mine if o.started]
    refusals = []
    for label in CHECKED_REFUSALS:
        ok, total = sum(o.refusals[label][0] for o in s), sum(o.refusals[label][1] for o in s)
        if total:
            refusals.append('%s %d/%d' % (label, ok, total))
    line = ('  %-8s %-8s %2d guests (%d with NUMA cells), hot-adds %d/%d (NUMA-bound %d/%d), refusals checked: %s; '
            'other refusals %d; final layout = cold plan in %d/%d'
            % (key, policy, len(s), sum(bool(o.cells) for o in s), sum(o.hot_adds_ok for o in s),
               sum(o.hot_adds for o in s), sum(o.numa_ok for o in s), sum(o.numa_hot_adds for o in s),
               ', '.join(refusals) or 'none', sum(sum(o.other_refusals.values()) for o in s),
               sum(bool(o.final_ok) for o in s), len(s)))
    skipped = [o for o in mine if o.skipped]
    not_started = [o for o in mine if not o.started and not o.skipped]
    extras = (['%d refused as documented' % len(skipped)] if skipped else []) + (
        ['%d NOT STARTED' % len(not_started)] if not_started else [])
    return line + ('; ' + ', '.join(extras) if extras else '')


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--pciplan', help='the pciplan tool')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--guests', type=int, default=3, help='random guests per machine type and policy')
    ap.add_argument('--jobs', type=int, default=2, help='QEMU instances at a time')
    ap.add_argument('--machines', default='pc,q35,aarch64,riscv64')
    ap.add_argument('--only', default='', help='MACHINE:INDEX[:POLICY][,...]: just these domains')
    ap.add_argument('--kinds', default='default',
                    help='device kinds to hot-add: default, all (also those QEMU does not hot-plug) or a list')
    ap.add_argument('--min-hot-adds', type=int, default=0, help='fail when fewer devices were hot-added')
    ap.add_argument('--min-numa-hot-adds', type=int, default=0, help='fail when fewer NUMA-bound devices were')
    ap.add_argument('--min-refusals', type=int, default=0,
                    help='fail when fewer refusals "%s" or "%s" were confirmed by QEMU' % (NODE_FULL, ROOT_BUS))
    ap.add_argument('--failures', default='', help='write each failing guest (XML, steps, problems) here')
    ap.add_argument('--show', type=int, default=3, help='failures printed with their XML and QEMU arguments')
    ap.add_argument('--skip', metavar='REASON', help='report the test as skipped (status 77) and do nothing')
    ap.add_argument('-v', '--verbose', action='store_true', help='a line per guest')
    a = ap.parse_args(argv)
    if a.skip:
        print('qemu.hotplug: skipped: %s (%s)' % (a.skip, QEMU_PACKAGES))
        return SKIPPED
    try:
        chosen = machines.parse_list(a.machines)
        kinds = kinds_named(a.kinds)
        only = []
        for item in filter(None, a.only.split(',')):
            key, index, policy = (item.split(':') + [''])[:3]
            only += [(MACHINES[key], int(index), p) for p in ([policy] if policy else POLICIES)]
            if policy and policy not in POLICIES:
                raise KeyError(policy)
    except (KeyError, ValueError) as e:
        print('qemu.hotplug: unknown machine, policy, kind or index: %s' % e)
        return 2
    if not kinds or a.guests < 0:
        print('qemu.hotplug: no device kinds, or a negative --guests')
        return 2
    missing = machines.missing_binaries([m for m, _, _ in only] if only else chosen)
    if missing:
        print('qemu.hotplug: skipped, %s not installed (%s)' % (', '.join(missing), QEMU_PACKAGES))
        return SKIPPED
    if not a.pciplan or not os.access(a.pciplan, os.X_OK):
        print('qemu.hotplug: %s is not an executable pciplan tool' % a.pciplan)
        return 2
    kinds_option = '' if a.kinds == 'default' else ' --kinds %s' % a.kinds

    started = time.monotonic()
    ctx = Context(a.seed, a.pciplan, tempfile.mkdtemp(prefix='pciplan-hotplug-test.'), os.path.abspath(__file__))
    if only:
        guests = only
        chosen = list(dict.fromkeys(m for m, _, _ in only))
    else:
        guests = [(m, i, p) for m in chosen for p in POLICIES for i in choose_guests(ctx, m, p, a.guests)]
    print('qemu.hotplug: seed %d, %d guests on %s (%d per machine and policy), %d device kinds, %d QEMU at a time'
          % (a.seed, len(guests), ','.join(m.key for m in chosen), a.guests, len(kinds), a.jobs))
    sys.stdout.flush()
    outcomes = []
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, a.jobs)) as pool:
            futures = [pool.submit(run_guest_safely, ctx, m, i, p, kinds) for m, i, p in guests]
            for f in concurrent.futures.as_completed(futures):
                o = f.result()
                outcomes.append(o)
                if a.verbose:
                    print('%-4s %s:%d:%s %.2fs, %d hot-adds (%d NUMA-bound), refusals %s%s'
                          % ('ok' if not o.problems else 'FAIL', o.machine, o.index, o.policy, o.seconds,
                             o.hot_adds, o.numa_hot_adds,
                             ' '.join('%d/%d' % tuple(o.refusals[k]) for k in CHECKED_REFUSALS),
                             ' (%s)' % o.skipped if o.skipped else ''))
                    sys.stdout.flush()
    finally:
        shutil.rmtree(ctx.workroot, ignore_errors=True)
    wall = time.monotonic() - started

    keys = [m.key for m in chosen]
    outcomes.sort(key=lambda o: (keys.index(o.machine), POLICIES.index(o.policy), o.index))
    failures = [o for o in outcomes if o.problems]
    for n, o in enumerate(failures):
        print(report(o, ctx, n < a.show, kinds_option))
    if a.failures:
        write_reports(a.failures, failures, ctx, kinds_option)

    print('\nqemu.hotplug results (seed %d):' % a.seed)
    for key in keys:
        for p in POLICIES:
            mine = [o for o in outcomes if o.machine == key and o.policy == p]
            if mine:
                print(summary_line(key, p, mine))
    hot_adds = sum(o.hot_adds_ok for o in outcomes)
    numa = sum(o.numa_ok for o in outcomes)
    confirmed = {k: sum(o.refusals[k][0] for o in outcomes) for k in CHECKED_REFUSALS}
    print('  %d guests started, %d hot-adds (%d NUMA-bound), refusals confirmed by QEMU: %s; %d failing, %.0f s'
          % (sum(o.started for o in outcomes), hot_adds, numa,
             ', '.join('%s %d' % (k, confirmed[k]) for k in CHECKED_REFUSALS), len(failures), wall))
    if failures:
        checks = {}
        for o in failures:
            for check in sorted({p.check for p in o.problems}):
                checks[check] = checks.get(check, 0) + 1
        print('  failing guests by check: %s' % ', '.join('%s %d' % kv for kv in sorted(checks.items())))
        print('qemu.hotplug: FAILED (%d of %d guests; rerun one with --only MACHINE:INDEX:POLICY --seed %d%s)'
              % (len(failures), len(outcomes), a.seed, kinds_option))
        return 1
    short = [(hot_adds, a.min_hot_adds, 'hot-adds'), (numa, a.min_numa_hot_adds, 'NUMA-bound hot-adds'),
             (confirmed[NODE_FULL], a.min_refusals, 'confirmed refusals "%s"' % NODE_FULL),
             (confirmed[ROOT_BUS], a.min_refusals, 'confirmed refusals "%s"' % ROOT_BUS)]
    short = ['%d %s, at least %d are required' % (n, what, want) for n, want, what in short if n < want]
    if short:
        print('qemu.hotplug: FAILED: only %s' % '; '.join(short))
        return 1
    print('qemu.hotplug: passed')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
