#!/usr/bin/env python3
"""OVMF's 64-bit window: random q35 and pc layouts with large 64-bit BARs are planned by
windows_driver (pciplan policy, memory_windows: memory_layout::ovmf_window64) and booted in
QEMU 7.2 with OVMF (Debian's edk2 2022.11); with the plan's lines OVMF must assign every
BAR, and where the plan asks for a larger window (-fw_cfg name=opt/ovmf/X-PciMmio64Mb) OVMF
must fail without it.

Usage (CTest runs it as qemu.ovmf, label qemu; see CMakeLists.txt here):
  qemu_ovmf_test.py --driver PATH [--seed N] [--layouts N] [--machines q35,pc] [--jobs N]
                    [--only MACHINE:INDEX[,...]] [--min-boots N] [--show N] [-v] [--keep DIR]
                    [--firmware OVMF.fd] [--timeout SECONDS]
  qemu_ovmf_test.py --skip REASON                  (report "skipped", exit 77)

Each layout (reproducible from --seed and its index; --only q35:7 runs one again) has
ivshmem-plain devices whose 64-bit prefetchable BAR 2 is 1 GiB to 32 GiB (BAR 0 is 256
bytes; a memory-backend-ram with reserve=off each, up to about 200 GiB per guest; behind
PCIe ports or, conventional, behind PCI bridges, some bound to NUMA nodes and so behind
expander buses, some not hot-pluggable), a few catalogue devices without option ROMs that
PXE would boot (virtio-blk with a null-co drive, nvme, qemu-xhci, virtio-scsi), spare ports
with and without a hot-plug budget, and the guest's RAM. About half the layouts need more
than OVMF's default 32 GiB, so that the plan writes the -fw_cfg line (ovmf_window64 != 0),
and about half fit in it, some exactly. The driver prints the plan's QEMU lines; QEMU boots
them with OVMF (TCG, -cpu qemu64,vendor=GenuineIntel: OVMF then does not trust the CPU's
physical address width and uses its classic 32 GiB window, which the -fw_cfg line resizes,
as with KVM's default CPU on an Intel host; TCG's default CPU, AMD, would get a 128 GiB
window) until OVMF's boot manager prints its first "BdsDxe:" line on the serial console
(PCI enumeration and resource assignment are over then), or --timeout seconds pass (OVMF
hangs without a word when a single BAR is larger than its window), and query-pci is read
with the guest stopped. Checks:
 a. with the plan's lines as they are, every BAR 0-5 of every device is assigned (address
    != -1; OVMF drops a device that does not fit whole, and leaves ROM BARs, bar 6,
    unassigned after use): both where the plan wrote the -fw_cfg line and where it did not
    (it then says OVMF's default window holds everything); and every port with a
    pref64-reserve= gets a prefetchable window at least that large;
 b. where the plan wrote the -fw_cfg line, the layout boots again without it: some BAR must
    then be unassigned, or OVMF hang (it does, instead of dropping a device, when what must
    go is a device on a root bus: pci.0, pcie.0 or an expander's), or some port's
    prefetchable window be smaller than its pref64-reserve= (OVMF drops hot-plug reserves it
    cannot place before it drops devices). When none of that happens the plan asked for a
    larger window OVMF did not need: such layouts are counted as "unneeded" and listed, and
    the run fails when more than 10% of the layouts with the -fw_cfg line are unneeded (the
    plan may be conservative: it rounds every 64-bit entry at the root, and each root
    bridge's block of them, up to a power of two, and counts OVMF's hot-plug padding for
    every port, occupied or not).
 c. the validator (windows_driver --check: validate<M> over the same lines as a
    hand-written layout, with -m, the memory backends' sizes and any -fw_cfg line) must not
    warn that OVMF's 64-bit window is too small for the plan's lines, and must warn for the
    lines without the -fw_cfg line (the mutation "too small a window").
Every boot also records the bridges that lost their windows: a bridge whose I/O, memory and
prefetchable windows are all off while the plan gives it some and every BAR below it is
assigned (OVMF gives every hot-pluggable port 4 KiB of I/O unless io-reserve=0; q35 has room
for 10 such ports, pc for 4, and the ports on the lowest buses lose all their windows). They
are reported, not failed.

It prints one line of counts per machine and exits 0 when every check passed and at least
--min-boots boots ran; 1 otherwise, after listing every failure with the layout's spec
(the first --show with the QEMU command line) and what OVMF did (unassigned BARs, every
bridge's windows); 2 on a usage error; 77 (skipped) when qemu-system-x86_64 or OVMF's
firmware is missing (Debian: qemu-system-x86, ovmf). Python 3 standard library only.
"""
import argparse
import concurrent.futures
import json
import os
import random
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'python'))
sys.path.insert(0, HERE)
from pciplan_testkit.machines import MACHINES  # noqa: E402
from pciplan_testkit.qemu import Qemu, QemuRefused, qemu_arguments, wait_for_log  # noqa: E402
from qemu_windows_test import (Layout, keep_files, qemu_lines, run_driver, size_text, walk,  # noqa: E402
                               window_of)

SKIPPED = 77
GIB = 1 << 30
MIB = 1 << 20
NAME = 'qemu.ovmf'
MACHINE_KEYS = ('q35', 'pc')
CPU = 'qemu64,vendor=GenuineIntel'   # OVMF's classic 32 GiB window (see the docstring)
DEFAULT_WINDOW = 32 * GIB            # edk2's PcdPciMmio64Size
BDS = re.compile(r'BdsDxe: (loading|failed to load|starting|No bootable)')
FW_CFG = re.compile(r'^-fw_cfg name=opt/ovmf/X-PciMmio64Mb,string=(\d+)$')
UNASSIGNED = (-1, (1 << 64) - 1)
BOOT_TIMEOUT = 60
NEGATIVE_TIMEOUT = 20   # check b: OVMF reaches "BdsDxe:" in 2.5-8 s under TCG, or hangs for good
# OVMF as one image (-bios), else the 4 MiB pflash pair (Debian's ovmf package has both)
BIOS_IMAGES = ('/usr/share/ovmf/OVMF.fd', '/usr/share/qemu/OVMF.fd')
PFLASH_PAIR = ('/usr/share/OVMF/OVMF_CODE_4M.fd', '/usr/share/OVMF/OVMF_VARS_4M.fd')

# catalogue devices without a PXE option ROM (a NIC would make OVMF try PXE for ~20 s)
CATALOGUE = ('virtio-blk-pci', 'nvme', 'qemu-xhci', 'virtio-scsi-pci')
BUDGETS = ('pref64=1G', 'pref64=2G', 'pref64=4G', 'pref64=8G', 'mem32=16M', 'pref64=2G mem32=8M',
           'io=256 pref64=1G')
RAM = {'q35': ('512M', '1G', '2G', '4G'), 'pc': ('512M', '1G', '2G', '3G')}


def make_layout(seed, machine, index):
    """Layout `index` of `machine` for `seed`: the same every time. Half of them aim above
    OVMF's 32 GiB (33 GiB to 200 GiB of BARs), half at or below it."""
    rnd = random.Random('ovmf:%d:%s:%d' % (seed, machine, index))
    q35 = machine == 'q35'
    big = rnd.random() < 0.5
    nodes = rnd.choice((1, 1, 2, 3))
    lines = ['machine %s' % machine, 'ram %s' % rnd.choice(RAM[machine])]
    spare = rnd.choice((0, 0, 1, 2, 3, 4))
    budget = rnd.choice(BUDGETS) if rnd.random() < 0.35 else ''
    if budget and spare == 0:
        spare = 1
    lines.append('spare %d' % spare)
    if budget:
        lines.append('budget ' + budget)
    sizes = []
    if big:
        limit = rnd.choice((48, 64, 96, 128, 200)) * GIB
        while len(sizes) < 8:
            size = rnd.choice((1, 2, 4, 8, 16, 16, 32, 32)) * GIB
            if sum(sizes) + size > limit:
                break
            sizes.append(size)
        if sum(sizes) <= DEFAULT_WINDOW:
            sizes.append(32 * GIB)
    else:
        limit = rnd.choice((8, 16, 24, 32, 32, 32)) * GIB   # often exactly OVMF's window
        for _ in range(rnd.choice((1, 2, 3, 4, 5))):
            fit = [s * GIB for s in (1, 2, 4, 8, 16, 32) if sum(sizes) + s * GIB <= limit]
            if not fit:
                break
            sizes.append(rnd.choice(fit))
    devices = []
    shm = {}
    if big and not q35:
        nodes = max(nodes, 2)
    for k, size in enumerate(sizes):
        name = 'iv%d' % k
        shm[name] = size
        opts = []
        if q35:
            opts.append('express' if rnd.random() < 0.75 else 'conventional')
        if big and not q35 and size > 2 * GIB:
            # behind a pci-bridge on a NUMA node's expander: pc's other devices are on pci.0
            opts.append('numa=%d' % rnd.randrange(1, nodes))
        elif nodes > 1 and rnd.random() < 0.35:
            opts.append('numa=%d' % rnd.randrange(1, nodes))
        if not big and rnd.random() < 0.15:
            opts.append('nohotplug')
        opts.append('bars=mem32:256,pref64:%s' % size_text(size))
        devices.append('device %s ivshmem-plain %s' % (name, ' '.join(opts)))
    for k in range(rnd.choice((0, 0, 1, 2))):
        opts = []
        if nodes > 1 and rnd.random() < 0.2:
            opts.append('numa=%d' % rnd.randrange(1, nodes))
        devices.append(('device d%d %s %s' % (k, rnd.choice(CATALOGUE), ' '.join(opts))).rstrip())
    kind = 'above' if big else 'within'   # what the generator aimed at, against 32 GiB
    return Layout(machine, index, '\n'.join(lines + devices) + '\n', shm, kind)


class Firmware:
    """OVMF's files: one -bios image or a pflash pair (code read-only, a private copy of vars)."""

    def __init__(self, bios=None, code=None, variables=None):
        self.bios, self.code, self.variables = bios, code, variables

    @staticmethod
    def find(path=None):
        if path:
            return Firmware(bios=path) if os.path.isfile(path) else None
        for p in BIOS_IMAGES:
            if os.path.isfile(p):
                return Firmware(bios=p)
        if all(os.path.isfile(p) for p in PFLASH_PAIR):
            return Firmware(code=PFLASH_PAIR[0], variables=PFLASH_PAIR[1])
        return None

    def lines(self, workdir):
        if self.bios:
            return ['-bios %s' % self.bios]
        own = os.path.join(workdir, 'vars.fd')
        shutil.copyfile(self.variables, own)
        return ['-drive if=pflash,format=raw,readonly=on,file=%s' % self.code,
                '-drive if=pflash,format=raw,file=%s' % own]

    def __str__(self):
        return self.bios or '%s + %s' % (self.code, self.variables)


class Boot:
    """One OVMF boot: status ('done', 'timeout' or 'refused: ...'), seconds to the marker,
    query-pci, the serial console and the command line."""

    def __init__(self, status, seconds, pci, serial, args):
        self.status, self.seconds, self.pci, self.serial, self.args = status, seconds, pci, serial, args


def boot(layout, lines, ram, workroot, firmware, timeout):
    workdir = tempfile.mkdtemp(prefix='o-', dir=workroot)
    serial = os.path.join(workdir, 'serial.log')
    extra = firmware.lines(workdir) + ['-cpu %s' % CPU, '-serial file:%s' % serial]
    args = qemu_arguments(MACHINES[layout.machine], layout.machine, ram // 1024, lines + extra)
    q = Qemu(args, workdir, timeout=30)
    try:
        try:
            q.start()
        except QemuRefused as e:
            return Boot('refused: %s' % e, 0.0, None, '', args)
        started = time.monotonic()
        q.qmp.execute('cont')
        text, hit = wait_for_log(serial, BDS.search, timeout, interval=0.05)
        seconds = time.monotonic() - started
        q.qmp.execute('stop')
        pci = q.qmp.execute('query-pci')
        return Boot('done' if hit else 'timeout', seconds, pci, text, args)
    finally:
        q.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def name_of(d):
    return '%02x:%02x.%x %s' % (d['bus'], d['slot'], d['function'], d.get('qdev_id') or '-')


def unassigned_bars(pci):
    """(BARs 0-5 checked, ['01:00.0 iv0 BAR2 (mem, 0x400000000)', ...] unassigned)."""
    checked, out = 0, []
    for d in walk(pci or []):
        for reg in d.get('regions', []):
            if reg['bar'] > 5 or reg['size'] == 0:
                continue
            checked += 1
            if reg['address'] in UNASSIGNED:
                out.append('%s BAR%d (%s%s, 0x%x)' % (name_of(d), reg['bar'], reg['type'],
                                                      ' 64-bit' if reg.get('mem_type_64') else '', reg['size']))
    return checked, out


def subtree_assigned(device):
    """Whether every BAR 0-5 below a bridge is assigned."""
    devices = device.get('pci_bridge', {}).get('devices', [])
    return not unassigned_bars([{'devices': devices}])[1]


def windowless_bridges(plan, pci):
    """Ids of the plan's bridges (those query-pci shows as bridges: not the expanders' host
    bridges) whose I/O, memory and prefetchable windows are all off although the plan gives
    them some, while every BAR below them is assigned."""
    planned = {b['id']: b for b in plan['bridges']}
    out = []
    for d in walk(pci or []):
        b = planned.get(d.get('qdev_id'))
        bridge = d.get('pci_bridge')
        if not b or not bridge or not (b['io'] or b['mem'] or b['pref']):
            continue
        bus = bridge['bus']
        if all(window_of(bus.get(k))[1] == 0 for k in ('io_range', 'memory_range', 'prefetchable_range')) \
                and subtree_assigned(d):
            out.append(d['qdev_id'])
    return out


def short_reserves(plan, pci):
    """The plan's ports with a pref64-reserve whose prefetchable window in query-pci is smaller
    (OVMF drops hot-plug reserves it cannot place, rather than devices): ['pci.5 pref 0 < 16382M']."""
    out = []
    for d in walk(pci or []):
        b = next((x for x in plan['bridges'] if x['id'] == d.get('qdev_id')), None)
        if not b or not d.get('pci_bridge') or not b['reserves']['pref64']:
            continue
        size = window_of(d['pci_bridge']['bus'].get('prefetchable_range'))[1]
        if size < b['reserves']['pref64']:
            out.append('%s pref %s < pref64-reserve %s' % (b['id'], size_text(size), size_text(b['reserves']['pref64'])))
    return out


def windows_text(pci):
    """Every bridge's windows and the 64-bit span OVMF used, for a failure report."""
    out, high = [], []
    for d in walk(pci or []):
        for reg in d.get('regions', []):
            if reg['bar'] <= 5 and reg['address'] not in UNASSIGNED and reg['address'] >= 1 << 32:
                high.append((reg['address'], reg['address'] + reg['size']))
        bridge = d.get('pci_bridge')
        if not bridge:
            continue
        bus = bridge['bus']
        parts = []
        for key, label in (('io_range', 'io'), ('memory_range', 'mem'), ('prefetchable_range', 'pref')):
            base, size = window_of(bus.get(key))
            parts.append('%s %s' % (label, 'off' if size == 0 else '0x%x+%s' % (base, size_text(size))))
        out.append('%s bus %d: %s' % (name_of(d), bus['secondary'], ', '.join(parts)))
    span = ''
    if high:
        lo, hi = min(a for a, _ in high), max(e for _, e in high)
        span = '64-bit BARs in [0x%x, 0x%x) (%g GiB to %g GiB)' % (lo, hi, lo / GIB, hi / GIB)
    return ([span] if span else []) + out


class Result:
    """What one layout did: its counts and failures."""

    def __init__(self, layout):
        self.layout = layout
        self.boots = 0
        self.bars = 0
        self.planned = False
        self.window = 0              # the plan's ovmf_window64 (from its -fw_cfg line), 0 without
        self.negative = None         # check b: None not run, True some BAR unassigned, False none
        self.negative_hang = False   # check b: OVMF hung without the line
        self.negative_reserves = False   # check b: only hot-plug reserves were dropped without the line
        self.windowless = 0          # bridges without windows, summed over the boots
        self.windowless_boots = 0    # boots with such a bridge
        self.failures = []
        self.unneeded = ''           # check b's report when the window was not needed
        self.validated = 0           # check c: line sets the validator judged as the boots went
        self.command = ''
        self.seconds = 0.0
        self.boot_seconds = []

    def fail(self, text):
        self.failures.append(text)


def record_bridges(r, plan, b):
    lost = windowless_bridges(plan, b.pci)
    r.windowless += len(lost)
    r.windowless_boots += bool(lost)
    return lost


def validator_warns(r, driver, machine, ram, lines):
    """Check c: whether the validator, given `lines` as a hand-written layout (the -m line
    added), warns that OVMF's 64-bit window may be too small; None when it failed."""
    text = '-m %d\n' % (ram >> 20) + '\n'.join(lines) + '\n'
    p = subprocess.run([driver, '--check', machine, str(ram)], input=text, capture_output=True, text=True,
                       timeout=60)
    if p.returncode != 0:
        r.fail('the validator (driver --check) exited with status %d: %s' % (p.returncode, p.stderr.strip()))
        return None
    got = json.loads(p.stdout)
    if not got['accepted']:
        r.fail('the validator refuses lines QEMU started: %s' % '; '.join(got['findings']))
        return None
    return any("OVMF's 64-bit PCI window" in f for f in got['findings'])


def run_layout(layout, driver, workroot, firmware, timeout, negative_timeout, keep=''):
    r = Result(layout)
    started = time.monotonic()
    try:
        status, out, err = run_driver(driver, layout.spec)
        if status != 0:
            r.fail('the driver exited with status %d: %s' % (status, err.strip()))
            return r
        plan = json.loads(out)
        r.planned = True
        if not plan['fits']:
            r.fail('the plan says firmware cannot place it (%s): the generator should not make such layouts'
                   % plan['problem'])
            return r
        lines = qemu_lines(plan, layout.shm)
        knob = [line for line in lines if FW_CFG.match(line)]
        r.window = int(FW_CFG.match(knob[0]).group(1)) * MIB if knob else 0
        said = 'the plan asks OVMF for a %s window' % size_text(r.window) if r.window \
            else 'the plan says OVMF\'s default 32G window suffices'

        # a. the plan's lines as they are: every BAR assigned
        b = boot(layout, lines, plan['ram'], workroot, firmware, timeout)
        r.command = shlex.join(b.args)
        keep_files(keep, layout, '', {'spec': layout.spec, 'plan.json': out, 'serial.log': b.serial,
                                      'query-pci.json': b.pci or [], 'args': r.command + '\n'})
        if b.status.startswith('refused'):
            r.fail('QEMU refused the plan: %s' % b.status[9:])
            return r
        r.boots += 1
        r.boot_seconds.append(b.seconds)
        lost = record_bridges(r, plan, b)
        checked, missing = unassigned_bars(b.pci)
        r.bars += checked
        if b.status != 'done':
            r.fail('%s; OVMF did not reach its boot manager ("BdsDxe:") within %d s (a hang: a BAR larger than '
                   'its window?)' % (said, timeout))
        short = short_reserves(plan, b.pci)
        if short:
            r.fail('%s; OVMF dropped hot-plug reserves: %s' % (said, ', '.join(short)))
        if missing:
            r.fail('%s; OVMF left %d BARs unassigned: %s\n      OVMF\'s windows:%s%s'
                   % (said, len(missing), ', '.join(missing), '\n        '.join([''] + windows_text(b.pci)),
                      '\n      bridges without windows: ' + ', '.join(lost) if lost else ''))

        # c. the validator on the same lines: OVMF's window holds them (the plan's -fw_cfg line,
        # or OVMF's default where the plan wrote none)
        warns = validator_warns(r, driver, layout.machine, plan['ram'], lines)
        if warns is not None:
            r.validated += 1
            if warns:
                r.fail('%s, OVMF assigned %s, but the validator says OVMF\'s window may be too small for these '
                       'lines' % (said, 'every BAR' if not missing else 'not every BAR'))

        # b. without the -fw_cfg line: some BAR unassigned
        if r.window:
            lines = [line for line in lines if not FW_CFG.match(line)]
            # c. the validator on the lines without it must warn, as OVMF must fail
            warns = validator_warns(r, driver, layout.machine, plan['ram'], lines)
            if warns is not None:
                r.validated += 1
                if not warns:
                    r.fail('without the plan\'s -fw_cfg line the validator does not say OVMF\'s window is too small')
            b = boot(layout, lines, plan['ram'], workroot, firmware, negative_timeout)
            keep_files(keep, layout, '-nofwcfg', {'serial.log': b.serial, 'query-pci.json': b.pci or [],
                                                  'args': shlex.join(b.args) + '\n'})
            if b.status.startswith('refused'):
                r.fail('QEMU refused the plan without its -fw_cfg line: %s' % b.status[9:])
                return r
            r.boots += 1
            r.boot_seconds.append(b.seconds)
            record_bridges(r, plan, b)
            checked, missing = unassigned_bars(b.pci)
            r.bars += checked
            r.negative_hang = b.status != 'done'
            short = short_reserves(plan, b.pci)
            r.negative_reserves = bool(short) and not missing and not r.negative_hang
            r.negative = bool(missing) or r.negative_hang or bool(short)
            if not r.negative:
                r.unneeded = ('the plan asks OVMF for a %s window, but without it OVMF assigned every BAR in its '
                              'default 32G: %s' % (size_text(r.window), (windows_text(b.pci) or ['-'])[0]))
    except Exception as e:  # noqa: BLE001 - a broken layout is a failure, not the end of the run
        r.fail('%s: %s' % (type(e).__name__, e))
    finally:
        r.seconds = time.monotonic() - started
    return r


def summary_line(key, mine):
    warned = [r for r in mine if r.window]
    negatives = [r for r in warned if r.negative is not None]
    return ('  %-4s %3d layouts (%d with the -fw_cfg line, %d without), %d boots, %d BARs checked, '
            '%d layouts failed; negatives detected %d/%d (%d by a hang, %d by dropped reserves only), unneeded %d; '
            'bridges without windows %d (in %d boots); the validator judged %d line sets'
            % (key, len(mine), len(warned), sum(r.planned and not r.window for r in mine), sum(r.boots for r in mine),
               sum(r.bars for r in mine), sum(bool(r.failures) for r in mine),
               sum(bool(r.negative) for r in negatives), len(negatives), sum(r.negative_hang for r in negatives),
               sum(r.negative_reserves for r in negatives),
               sum(bool(r.unneeded) for r in mine), sum(r.windowless for r in mine),
               sum(r.windowless_boots for r in mine), sum(r.validated for r in mine)))


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--driver', help='the windows_driver program (target pciplan_windows_driver)')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--layouts', type=int, default=15, help='random layouts per machine type')
    ap.add_argument('--machines', default='q35,pc')
    ap.add_argument('--only', default='', help='MACHINE:INDEX[,...]: just these layouts')
    ap.add_argument('--jobs', type=int, default=2, help='QEMU instances at a time')
    ap.add_argument('--min-boots', type=int, default=37, help='fail when fewer boots ran')
    ap.add_argument('--show', type=int, default=3, help='failures printed with their QEMU command line')
    ap.add_argument('--keep', metavar='DIR', default='',
                    help='write each layout\'s spec, plan, serial console, query-pci and command line into DIR')
    ap.add_argument('--firmware', metavar='OVMF.fd', default='',
                    help='OVMF as one image for -bios (default: %s, else the pflash pair %s)'
                    % (BIOS_IMAGES[0], ' + '.join(PFLASH_PAIR)))
    ap.add_argument('--timeout', type=float, default=BOOT_TIMEOUT,
                    help='seconds a boot may take to OVMF\'s boot manager (default %(default)s)')
    ap.add_argument('--negative-timeout', type=float, default=NEGATIVE_TIMEOUT,
                    help='check b: seconds after which a boot without the -fw_cfg line counts as a hang '
                    '(default %(default)s)')
    ap.add_argument('--skip', metavar='REASON', help='report the test as skipped (status 77) and do nothing')
    ap.add_argument('-v', '--verbose', action='store_true', help='a line per layout')
    a = ap.parse_args(argv)
    if a.skip:
        print('%s: skipped: %s (Debian: qemu-system-x86, ovmf)' % (NAME, a.skip))
        return SKIPPED
    if not shutil.which('qemu-system-x86_64'):
        print('%s: skipped, qemu-system-x86_64 not installed (Debian: qemu-system-x86)' % NAME)
        return SKIPPED
    firmware = Firmware.find(a.firmware)
    if firmware is None:
        print('%s: skipped, OVMF not found (%s; Debian: ovmf)'
              % (NAME, a.firmware or ', '.join(BIOS_IMAGES + PFLASH_PAIR)))
        return SKIPPED
    if not a.driver or not os.access(a.driver, os.X_OK):
        print('%s: %s is not an executable windows driver' % (NAME, a.driver))
        return 2
    try:
        chosen = [k for k in a.machines.split(',') if k]
        only = []
        for item in filter(None, a.only.split(',')):
            key, index = item.split(':')
            only.append((key, int(index)))
        if any(k not in MACHINE_KEYS for k in chosen + [k for k, _ in only]):
            raise ValueError('machine types are %s' % ', '.join(MACHINE_KEYS))
    except ValueError as e:
        print('%s: bad --machines or --only: %s' % (NAME, e))
        return 2

    started = time.monotonic()
    if only:
        layouts = [make_layout(a.seed, k, i) for k, i in only]
        chosen = list(dict.fromkeys(k for k, _ in only))
    else:
        layouts = [make_layout(a.seed, k, i) for k in chosen for i in range(a.layouts)]
    print('%s: seed %d, %d layouts on %s, %d QEMU at a time, OVMF %s, -cpu %s'
          % (NAME, a.seed, len(layouts), ','.join(chosen), a.jobs, firmware, CPU))
    sys.stdout.flush()
    workroot = tempfile.mkdtemp(prefix='pciplan-ovmf-test.')
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, a.jobs)) as pool:
            results = list(pool.map(lambda lay: run_layout(lay, a.driver, workroot, firmware, a.timeout,
                                                          a.negative_timeout, a.keep),
                                    layouts))
    finally:
        shutil.rmtree(workroot, ignore_errors=True)

    if a.verbose:
        for r in results:
            print('  %s:%s %-6s %s, %d boots, %d BARs%s%s%s (%.1f s; boots %s s)'
                  % (r.layout.machine, r.layout.index, r.layout.kind,
                     ('-fw_cfg %s' % size_text(r.window)) if r.window else 'no -fw_cfg', r.boots, r.bars,
                     '' if r.negative is None else ', without the line: %s'
                     % ('hang' if r.negative_hang else 'reserves dropped' if r.negative_reserves
                        else 'BARs unassigned' if r.negative else 'all assigned (unneeded)'),
                     ', %d bridges without windows' % r.windowless if r.windowless else '',
                     ', FAILED' if r.failures else '', r.seconds, '/'.join('%.1f' % s for s in r.boot_seconds)))
    failed = [r for r in results if r.failures]
    for n, r in enumerate(failed):
        who = '%s:%s' % (r.layout.machine, r.layout.index)
        print('\nFAILED %s (%s; again: --seed %d --only %s)' % (who, r.layout.kind, a.seed, who))
        for f in r.failures:
            print('  - ' + f)
        print('  spec:\n' + ''.join('    ' + line + '\n' for line in r.layout.spec.splitlines()))
        if n < a.show and r.command:
            print('  QEMU: ' + r.command)
    unneeded = [r for r in results if r.unneeded]
    for r in unneeded:
        who = '%s:%s' % (r.layout.machine, r.layout.index)
        print('\nUNNEEDED %s (again: --seed %d --only %s)\n  - %s' % (who, a.seed, who, r.unneeded))
        print('  spec:\n' + ''.join('    ' + line + '\n' for line in r.layout.spec.splitlines()))
    boot_seconds = sorted(s for r in results for s in r.boot_seconds)
    print('%s: seed %d, %.0f s; boots to "BdsDxe:" took %s' % (
        NAME, a.seed, time.monotonic() - started,
        'median %.1f s, at most %.1f s' % (boot_seconds[len(boot_seconds) // 2], boot_seconds[-1])
        if boot_seconds else 'no boot'))
    for key in chosen:
        print(summary_line(key, [r for r in results if r.layout.machine == key]))
    boots = sum(r.boots for r in results)
    ok = not failed
    warned = sum(bool(r.window) for r in results)
    if len(unneeded) * 10 > warned:
        print('%s: %d of %d layouts with the -fw_cfg line did not need it (more than 10%%)'
              % (NAME, len(unneeded), warned))
        ok = False
    if boots < a.min_boots:
        print('%s: only %d boots ran, at least %d are required' % (NAME, boots, a.min_boots))
        ok = False
    if failed:
        print('%s: %d of %d layouts FAILED' % (NAME, len(failed), len(results)))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
