#!/usr/bin/env python3
"""Memory windows against SeaBIOS: random q35 and pc layouts are planned by windows_driver
(pciplan policy, memory_windows) and booted in QEMU 7.2 with SeaBIOS; the bridge windows
and BAR addresses SeaBIOS programs must be the ones the plan computes.

Usage (CTest runs it as qemu.windows, label qemu; see CMakeLists.txt here):
  qemu_windows_test.py --driver PATH [--seed N] [--layouts N] [--machines q35,pc] [--jobs N]
                       [--only MACHINE:INDEX[,...]] [--min-boots N] [--show N] [-v]
                       [--guest-layouts N | --no-guest] [--keep DIR]
  qemu_windows_test.py --driver PATH --spec FILE      (one layout from a spec file, verbose)
  qemu_windows_test.py --skip REASON                  (report "skipped", exit 77)

Each layout (reproducible from --seed and its index; --only q35:7 runs one again) mixes
ivshmem-plain devices whose 64-bit prefetchable BAR 2 is 1 MiB to 16 GiB (a
memory-backend-ram with reserve=off each, up to about 64 GiB per guest; some behind PCIe
ports or a switch the guest already has (a quarter of the q35 layouts: `switch N`), some
conventional behind PCI bridges, some bound to NUMA nodes and so behind
expander buses, some not hot-pluggable), catalogue devices with their default BARs, spare
ports with and without a hot-plug budget (plan_options::hotplug_budget), and the guest's
RAM; some are made to overflow the I/O or the 32-bit space on purpose. The driver prints
the plan's QEMU lines and windows; QEMU boots them (TCG, SeaBIOS's debug console on
0x402) until SeaBIOS ends its PCI setup or stops with "PCI: out of ...", and query-pci is
read with the guest stopped. Checks:
 a. the plan fits: SeaBIOS does not stop; every BAR 0-5 of every device is assigned; every
    bridge's I/O, memory and prefetchable window is the size the plan gives that
    controller; a prefetchable window is above 4 GiB exactly when the plan moves 64-bit
    entries there and it and every bridge above it are 64-bit (else every window is below
    4 GiB); SeaBIOS logs "PCI: 64: <a> - <b>" exactly when the plan goes above 4 GiB, with
    a its mem64 base and b its end rounded up to 1 GiB; its "PCI: IO:" range is the plan's
    root I/O (base and size) and its "PCI: 32:" window starts where the plan's does;
 b. the plan does not fit: SeaBIOS stops with the matching message (I/O space: "out of
    I/O address space", 32-bit space: "out of 32bit address space");
 c. layouts whose ports got reserves from a budget boot once more with every *-reserve=
    property removed: at least one such port's window must then be smaller than planned
    (otherwise the layout does not test the reserves, and that is reported as a failure);
 d. the validator (windows_driver --check), given each boot's -device and -numa lines as a
    hand-written layout and the RAM, says SeaBIOS stops exactly when it did, with the same
    message;
 e. hot-plug into a running guest. No firmware assigns the BARs of a device plugged in after
    boot; the guest OS does. So the first --guest-layouts q35 layouts (by index, so that runs
    are reproducible) that fit, have ports with reserves and a budget with a pref64 part boot
    a Linux guest (pciplan_testkit.guest: the host's kernel and a busybox initramfs, SeaBIOS
    still the firmware, so the windows are the plan's) three times more. Once it is up, an
    ivshmem-plain whose BAR 2 is the budget's largest pref64 BAR (S; BAR 0 is 256 bytes) is
    hot-plugged (QMP device_add) into every port with reserves, and the guest is given up to
    20 s to assign their BARs (query-pci, and the kernel's "assigned" / "failed to assign"
    lines on the serial console):
     a. with the plan's lines, every BAR of every hot-plugged device is assigned, inside its
        port's windows, and the validator (--check with the budget) names no port short;
     b. without any *-reserve=, some hot-plugged device has a BAR unassigned (otherwise the
        layout does not test the reserves: a failure), and the validator names every port
        with reserves short;
     c. with the prefetchable reserve of one port (the first by id) halved, rounded down to
        2 MiB (SeaBIOS rounds a window up to 2 MiB; the plan's reserve for S is 2S - 2 MiB,
        whose plain half would be a window of exactly S that holds the BAR whenever firmware
        happens to align it), the validator names exactly that port short and the guest
        leaves exactly that port's device with BAR 2 unassigned; any disagreement is a
        failure naming the layout and the port.
    Only q35: pc's ports with reserves are pci-bridges on NUMA expanders (pxb; its spare
    slots are on the root bus), where QEMU hot-plugs only through the bridge's SHPC (ACPI PCI
    hot-plug covers the buses below pci.0 only; device_add needs a slot 1-31 there), and
    Debian's cloud kernel has no SHPC driver (CONFIG_HOTPLUG_PCI_SHPC is off), so the guest
    never sees the device. On q35, ports below pcie.0 hot-plug through ACPI (acpiphp), ports
    on pxb-pcie expanders natively (pciehp). The guest needs a kernel (/boot/vmlinuz-*) and a
    static /bin/busybox (Debian: linux-image-cloud-amd64 busybox-static); without them the
    test fails, saying so; --no-guest skips check e.

It prints one line of counts per machine and exits 0 when every check passed and at least
--min-boots boots ran; 1 otherwise, after listing every failure with the layout's spec
(the first --show with the QEMU command line); 2 on a usage error; 77 (skipped) when
qemu-system-x86_64 is missing. Python 3 standard library only.
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
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'python'))
from pciplan_testkit.machines import MACHINES  # noqa: E402
from pciplan_testkit.qemu import Qemu, QemuRefused, qemu_arguments, wait_for_log  # noqa: E402
from pciplan_testkit import guest as linux_guest  # noqa: E402

SKIPPED = 77
GIB = 1 << 30
MIB = 1 << 20
FOUR_G = 4 * GIB
DONE = re.compile(r'PCI: (No VGA devices found|Using \S+ for primary VGA|Enabling \S+ for primary VGA)')
PANIC = re.compile(r'PCI: out of (I/O address space|32bit address space)')
LOG64 = re.compile(r'PCI: 64: ([0-9a-fA-F]+) - ([0-9a-fA-F]+)')
LOGIO = re.compile(r'PCI: IO: ([0-9a-fA-F]+) - ([0-9a-fA-F]+)')
LOG32 = re.compile(r'PCI: 32: ([0-9a-fA-F]+) - ([0-9a-fA-F]+)')
PANIC_OF = {'io_space': 'I/O address space', 'space_32_bit': '32bit address space'}
RESERVE = re.compile(r',(io|mem|pref32|pref64)-reserve=[^,]*')
PREF_RESERVE = re.compile(r',(pref64|pref32)-reserve=([^,]*)')
UNASSIGNED = (-1, (1 << 64) - 1)
SETTLE_SECONDS = 20          # check e: how long the guest gets to assign hot-plugged BARs
GUEST_MACHINES = ('q35',)    # check e's machine types (see the docstring)
GUEST_LAYOUTS = 8            # check e: layouts per machine type by default
MACHINE_KEYS = ('q35', 'pc')

# catalogue devices with default BARs (virtio-blk gets a null-co drive, nvme a serial:
# pciplan_testkit.qemu.qemu_arguments adds them)
CATALOGUE = ('virtio-net-pci', 'virtio-blk-pci', 'e1000', 'e1000e', 'nvme', 'qemu-xhci', 'rtl8139',
             'virtio-scsi-pci')
BUDGETS = ('pref64=8G', 'mem32=16M', 'pref64=8G mem32=16M', 'pref64=1G', 'pref64=64M', 'io=256 pref64=2G',
           'pref32=64M', 'mem32=2M pref64=16G', 'mem64=1M pref64=256M')
RAM = {'q35': ('512M', '512M', '1G', '2G', '3G', '4G'), 'pc': ('512M', '1G', '2G', '2500M', '3200M', '4G')}


def align_up(v, a):
    return (v + a - 1) // a * a


class Layout:
    """One random layout: its spec text and the backend size of each ivshmem device."""

    def __init__(self, machine, index, spec, shm, kind):
        self.machine = machine
        self.index = index
        self.spec = spec
        self.shm = shm          # device name -> backend bytes
        self.kind = kind        # what the generator aimed at (for the report)


def size_text(b):
    for unit, shift in (('G', 30), ('M', 20), ('K', 10)):
        if b >= 1 << shift and b % (1 << shift) == 0:
            return '%d%s' % (b >> shift, unit)
    return str(b)


def size_bytes(text):
    """'8G', '16382M', '256', '0x100' in bytes (QEMU's and the spec's size syntax)."""
    text = text.strip()
    shift = {'K': 10, 'M': 20, 'G': 30, 'T': 40}.get(text[-1:].upper())
    return int(text[:-1], 0) << shift if shift else int(text, 0)


def budget_of(spec):
    """The spec's hot-plug budget as [(space, size text)]: 'budget pref64=8G mem32=16M'."""
    m = re.search(r'^budget\s+(.*)$', spec, re.M)
    return [tuple(item.split('=', 1)) for item in m.group(1).split()] if m else []


def make_layout(seed, machine, index):
    """Layout `index` of `machine` for `seed`: the same every time."""
    rnd = random.Random('%d:%s:%d' % (seed, machine, index))
    q35 = machine == 'q35'
    lines = ['machine %s' % machine]
    ram = rnd.choice(RAM[machine])
    spare = rnd.choice((0, 1, 2, 2, 3, 4))
    budget = rnd.choice(BUDGETS) if rnd.random() < 0.45 else ''
    devices = []
    shm = {}
    kind = 'mixed'
    nodes = rnd.choice((0, 0, 1, 2)) + 1   # node count when NUMA-bound devices are drawn

    def ivshmem(numa=None, force_size=None):
        name = 'iv%d' % len(shm)
        size = force_size or (1 << rnd.choice((20, 20, 21, 22, 24, 26, 28, 29, 30, 31, 32, 33, 34)))
        shm[name] = size
        opts = []
        if q35:
            opts.append('express' if rnd.random() < 0.6 else 'conventional')
        if numa is not None:
            opts.append('numa=%d' % numa)
        elif nodes > 1 and rnd.random() < 0.25:
            opts.append('numa=%d' % rnd.randrange(1, nodes))
        if rnd.random() < 0.15:
            opts.append('nohotplug')
        opts.append('bars=mem32:256,pref64:%s' % size_text(size))
        devices.append('device %s ivshmem-plain %s' % (name, ' '.join(opts)))

    roll = rnd.random()
    if roll < 0.07:
        # the I/O space on purpose: q35 ports reserving 4 KiB each, pc bridges on NUMA expanders
        kind = 'io'
        if q35:
            spare = rnd.choice((13, 14, 15, 16))
            budget = 'io=256'
        else:
            for n in range(rnd.choice((7, 8, 9, 10))):
                ivshmem(numa=n + 1, force_size=1 << 20)
    elif roll < 0.14:
        # the 32-bit space on purpose: large memory reserves or qxl's 64 MiB BARs
        kind = '32bit'
        if q35 and rnd.random() < 0.6:
            budget = rnd.choice(('mem32=256M', 'mem32=128M'))
            spare = rnd.choice((1, 2, 3, 4))
        else:
            for k in range(rnd.choice((3, 5, 6, 7, 8) if q35 else (5, 7, 8, 13, 15))):
                devices.append('device qxl%d qxl' % k)
    total = sum(shm.values())
    for _ in range(rnd.choice((0, 1, 2, 3, 4, 5))):
        if total > 48 * GIB:
            break
        ivshmem()
        total = sum(shm.values())
    for k in range(rnd.choice((0, 1, 2, 3, 4))):
        opts = []
        if nodes > 1 and rnd.random() < 0.2:
            opts.append('numa=%d' % rnd.randrange(1, nodes))
        if rnd.random() < 0.15:
            opts.append('nohotplug')
        devices.append(('device d%d %s %s' % (k, rnd.choice(CATALOGUE), ' '.join(opts))).rstrip())
    if budget and spare == 0:
        spare = 1
    if budget and not q35 and rnd.random() < 0.7:
        # pc's spare slots are on its root bus; a device of a NUMA node that needs no hotplug
        # sits on the node's expander, next to the node's spare pci-bridge, which reserves
        devices.append('device n0 %s numa=1 nohotplug' % rnd.choice(CATALOGUE))
    lines += ['ram %s' % ram, 'spare %d' % spare]
    # a quarter of the q35 layouts have a switch already (its own draw: the rest stays as it
    # was); the first hot-pluggable devices go behind its downstream ports
    if q35 and random.Random('%d:%s:%d:switch' % (seed, machine, index)).random() < 0.25:
        lines.append('switch %d' % random.Random('%d:%s:%d:ports' % (seed, machine, index)).choice((2, 3, 4)))
    if budget:
        lines.append('budget %s' % budget)
    lines += devices
    return Layout(machine, index, '\n'.join(lines) + '\n', shm, kind)


def layout_from_spec(text, name):
    """A layout from a spec file: ivshmem backends from each device's pref64 BAR."""
    m = re.search(r'^machine\s+(\S+)', text, re.M)
    shm = {}
    for d in re.finditer(r'^device\s+(\S+)\s+ivshmem-plain\b.*pref64:(\S+?)(,|\s|$)', text, re.M):
        size = d.group(2)
        shm[d.group(1)] = int(size[:-1]) << {'K': 10, 'M': 20, 'G': 30, 'T': 40}[size[-1]] \
            if size[-1] in 'KMGT' else int(size, 0)
    return Layout(m.group(1) if m else 'q35', name, text, shm, 'spec')


class Result:
    """What one layout did: its counts and failures."""

    def __init__(self, layout):
        self.layout = layout
        self.boots = 0
        self.windows = 0
        self.bars = 0
        self.planned = False
        self.fits = None
        self.panic_predicted = False
        self.panic_confirmed = False
        self.above_4g = False
        self.reserve_ports = 0       # ports with reserves (check c)
        self.reserve_smaller = 0     # of them, smaller without the reserves
        self.negative = None         # check c: None not run, True detected, False not detected
        self.validated = 0           # check d: boots the validator judged
        self.validator_stops = 0     # of them, where it said SeaBIOS stops (and SeaBIOS did)
        self.has_budget = bool(re.search(r'^budget\s+\S', layout.spec, re.M))
        self.guest = False           # check e ran
        self.hotplugs = 0            # check e, boot a: devices hot-plugged with the plan's lines
        self.hotplugs_assigned = 0   # of them, with every BAR assigned inside its port's windows
        self.guest_negative = None   # check e, boot b: None not run, True some BAR unassigned, False none
        self.mutation_agree = None   # check e, boot c: None not run, True validator and guest agree
        self.failures = []
        self.command = ''
        self.seconds = 0.0

    def fail(self, text):
        self.failures.append(text)


def run_driver(driver, spec):
    p = subprocess.run([driver], input=spec, capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def check_validator(r, driver, machine, ram, lines, status):
    """Check d: the validator, given the booted -device lines as a hand-written layout (and
    the RAM), says SeaBIOS stops exactly when it did, with the same message. It counts an
    ivshmem's memory at 4 MiB (a -device line does not say the backend's size); in these
    layouts that never decides a stop (their large BARs are all 64-bit)."""
    text = '\n'.join(l for l in lines if l.startswith(('-device ', '-numa '))) + '\n'
    p = subprocess.run([driver, '--check', machine, str(ram)], input=text, capture_output=True, text=True,
                       timeout=60)
    if p.returncode != 0:
        r.fail('the validator (driver --check) exited with status %d: %s' % (p.returncode, p.stderr.strip()))
        return
    got = json.loads(p.stdout)
    seabios = status[len('panic: '):] if status.startswith('panic: ') else ''
    said = PANIC_OF[got['stop']] if got['stop'] else ''
    r.validated += 1
    if not got['accepted']:
        r.fail('the validator refuses lines QEMU started: %s' % '; '.join(got['findings']))
    elif said != seabios:
        r.fail('the validator says SeaBIOS %s; SeaBIOS %s'
               % ('stops: ' + said if said else 'places everything', 'stopped: ' + seabios if seabios else 'did not stop'))
    elif said:
        r.validator_stops += 1


def qemu_lines(plan, shm, without_reserves=False):
    """The plan's lines with a memory backend for each ivshmem device."""
    out = []
    for line in plan['lines']:
        if without_reserves and line.startswith('-device '):
            line = RESERVE.sub('', line)
        m = re.match(r'-device ivshmem-plain,id=([^,]+)', line)
        if m:
            name = m.group(1)
            k = sorted(shm).index(name)
            out.append('-object memory-backend-ram,id=shm%d,size=%d,reserve=off' % (k, shm[name]))
            line += ',memdev=shm%d' % k
        out.append(line)
    return out


def boot(layout, lines, ram, workroot):
    """Boots the lines until SeaBIOS ends its PCI setup or stops; (status, log, query-pci, args).
    status: 'done', 'panic: <what>', 'timeout' or 'refused: <QEMU's message>'."""
    workdir = tempfile.mkdtemp(prefix='w-', dir=workroot)
    log = os.path.join(workdir, 'seabios.log')
    machine = MACHINES[layout.machine]
    args = qemu_arguments(machine, layout.machine, ram // 1024, lines, firmware_log=log)
    q = Qemu(args, workdir, timeout=30)
    text = ''
    try:
        try:
            q.start()
        except QemuRefused as e:
            return 'refused: %s' % e, '', None, args
        def ended(log_text):
            if DONE.search(log_text):
                return 'done'
            m = PANIC.search(log_text)
            return 'panic: ' + m.group(1) if m else None
        text, status = wait_for_log(log, ended, 60)
        status = status or 'timeout'
        q.qmp.execute('stop')
        pci = q.qmp.execute('query-pci')
        return status, text, pci, args
    finally:
        q.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def walk(pci):
    """Every device of query-pci, depth first."""
    out = []

    def go(devices):
        for d in devices:
            out.append(d)
            bridge = d.get('pci_bridge')
            if bridge:
                go(bridge.get('devices', []))
    for root in pci:
        go(root['devices'])
    return out


def window_of(rng):
    """(base, size) of a query-pci range; size 0 when it is off (limit < base)."""
    if not rng:
        return 0, 0
    base, limit = rng['base'], rng['limit']
    return base, (limit - base + 1 if limit >= base else 0)


def bridge_windows(pci):
    """qdev id -> {'io': (base, size), 'mem': …, 'pref': …} for every bridge in query-pci."""
    out = {}
    for d in walk(pci):
        b = d.get('pci_bridge')
        if b and d.get('qdev_id'):
            bus = b['bus']
            out[d['qdev_id']] = {'io': window_of(bus.get('io_range')), 'mem': window_of(bus.get('memory_range')),
                                 'pref': window_of(bus.get('prefetchable_range'))}
    return out


def goes_high(plan, bridge, by_id):
    """Whether firmware puts this bridge's prefetchable window above 4 GiB by the plan: 64-bit
    entries move there, and it and every bridge above it are 64-bit."""
    if not plan['above_4g']:
        return False
    at = bridge
    while at is not None:
        if not at['pref64']:
            return False
        at = by_id.get(at['parent'])
    return True


def check_fitting(r, plan, status, log, pci):
    if status != 'done':
        r.fail('the plan fits, but SeaBIOS did not finish its PCI setup: %s' % status)
        return
    for d in walk(pci):
        for reg in d.get('regions', []):
            if reg['bar'] > 5 or reg['size'] == 0:
                continue
            r.bars += 1
            if reg['address'] == -1:
                r.fail('%02x:%02x.%x %s BAR%d (%s, 0x%x) is not assigned'
                       % (d['bus'], d['slot'], d['function'], d.get('qdev_id') or '-', reg['bar'], reg['type'],
                          reg['size']))
    got = bridge_windows(pci)
    by_id = {b['id']: b for b in plan['bridges']}
    for b in plan['bridges']:
        w = got.get(b['id'])
        if w is None:
            r.fail('bridge %s (%s) is not in query-pci' % (b['id'], b['model']))
            continue
        for key in ('io', 'mem', 'pref'):
            r.windows += 1
            base, size = w[key]
            if size != b[key]:
                r.fail('%s (%s) %s window: SeaBIOS 0x%x at 0x%x, the plan 0x%x'
                       % (b['id'], b['model'], key, size, base, b[key]))
            if size == 0:
                continue
            high = key == 'pref' and goes_high(plan, b, by_id)
            if high and base < FOUR_G:
                r.fail('%s (%s) pref window 0x%x at 0x%x: the plan puts it above 4 GiB'
                       % (b['id'], b['model'], size, base))
            if not high and base + size > FOUR_G:
                r.fail('%s (%s) %s window 0x%x at 0x%x: the plan keeps it below 4 GiB'
                       % (b['id'], b['model'], key, size, base))
    m = LOGIO.search(log)
    if not m or (int(m.group(1), 16), int(m.group(2), 16) + 1 - int(m.group(1), 16)) != (plan['io_base'],
                                                                                          plan['io_size']):
        r.fail('SeaBIOS "%s": the plan\'s root I/O is 0x%x bytes from 0x%x'
               % (m.group(0) if m else 'PCI: IO: (none)', plan['io_size'], plan['io_base']))
    m = LOG32.search(log)
    if not m or int(m.group(1), 16) != plan['mem32_start']:
        r.fail('SeaBIOS "%s": the plan\'s 32-bit window starts at 0x%x'
               % (m.group(0) if m else 'PCI: 32: (none)', plan['mem32_start']))
    m = LOG64.search(log)
    if plan['above_4g']:
        if not m:
            r.fail('the plan goes above 4 GiB (end 0x%x), SeaBIOS logs no "PCI: 64:" line' % plan['end64'])
        else:
            a, e = int(m.group(1), 16), int(m.group(2), 16)
            if e != align_up(plan['end64'], GIB):
                r.fail('SeaBIOS "PCI: 64: %x - %x": the end is not the plan\'s end64 0x%x rounded up to 1 GiB'
                       % (a, e, plan['end64']))
            if a != plan['mem64_base']:
                r.fail('SeaBIOS "PCI: 64: %x - %x": the start is not the plan\'s mem64_base 0x%x'
                       % (a, e, plan['mem64_base']))
    elif m:
        r.fail('the plan keeps everything below 4 GiB, SeaBIOS logs "%s"' % m.group(0))


def check_reserves(r, layout, plan, driver, workroot, keep):
    """Check c: the same lines without any *-reserve=; some reserving port must shrink."""
    ports = [b for b in plan['bridges'] if any(b['reserves'].values())]
    if not ports:
        return
    lines = qemu_lines(plan, layout.shm, without_reserves=True)
    status, log, pci, _ = boot(layout, lines, plan['ram'], workroot)
    r.boots += 1
    check_validator(r, driver, layout.machine, plan['ram'], lines, status)
    keep_files(keep, layout, '-noreserve', {'seabios.log': log, 'query-pci.json': pci or []})
    if status != 'done':
        if not plan['fits'] and status == 'panic: ' + PANIC_OF[plan['problem']]:
            return   # it does not fit for another reason than its reserves: nothing to compare
        r.fail('without the reserves SeaBIOS did not finish its PCI setup: %s' % status)
        return
    got = bridge_windows(pci)
    r.reserve_ports = len(ports)
    for b in ports:
        w = got.get(b['id'])
        if w and any(w[k][1] < b[k] for k in ('io', 'mem', 'pref')):
            r.reserve_smaller += 1
    r.negative = r.reserve_smaller > 0
    if not r.negative:
        r.fail('without the reserves no port\'s window is smaller than planned (%d ports with reserves): '
               'the layout does not test them' % len(ports))


def reserving_ports(plan):
    """The bridges the plan gave any *-reserve= (check c's and e's ports), in id order."""
    def natural(b):
        return [int(p) if p.isdigit() else p for p in re.split(r'(\d+)', b['id'])]
    return sorted((b for b in plan['bridges'] if any(b['reserves'].values())), key=natural)


def guest_qualifies(layout, plan):
    """Check e's layouts: the plan fits, some port reserves, and the budget has a pref64 part."""
    return (layout.machine in GUEST_MACHINES and bool(plan['fits']) and bool(reserving_ports(plan))
            and any(space == 'pref64' for space, _ in budget_of(layout.spec)))


def pick_guest_layouts(layouts, driver, per_machine):
    """(machine, index) of the first `per_machine` layouts of each machine, by index, that check
    e boots: planned here once more, so that the choice does not depend on the run's order."""
    picked, count = set(), {}
    for layout in layouts:
        if count.get(layout.machine, 0) >= per_machine or layout.machine not in GUEST_MACHINES:
            continue
        status, out, _ = run_driver(driver, layout.spec)
        if status == 0 and guest_qualifies(layout, json.loads(out)):
            picked.add((layout.machine, layout.index))
            count[layout.machine] = count.get(layout.machine, 0) + 1
    return picked


def validator_short_ports(driver, machine, ram, lines, budget):
    """The ports the validator (driver --check with the budget) says cannot hold a hot-plugged
    device; raises RuntimeError when it fails."""
    text = '\n'.join(l for l in lines if l.startswith(('-device ', '-numa '))) + '\n'
    spec = ','.join('%s:%s' % item for item in budget)
    p = subprocess.run([driver, '--check', machine, str(ram), spec], input=text, capture_output=True, text=True,
                       timeout=60)
    if p.returncode != 0:
        raise RuntimeError('the validator (driver --check ... %s) exited with status %d: %s'
                           % (spec, p.returncode, p.stderr.strip()))
    return sorted(json.loads(p.stdout)['short_ports'])


def halve_reserve(lines, port):
    """The lines with the prefetchable reserve of `port` halved and rounded down to 2 MiB, written
    in bytes: SeaBIOS rounds a window up to 2 MiB, and the plan's reserve for a BAR of S is
    2S - 2 MiB, whose half would become a window of exactly S that holds the BAR whenever
    firmware happens to align it. (lines, 'pref64-reserve=OLD -> NEW') or (None, why)."""
    out, what = [], None
    for line in lines:
        if line.startswith('-device ') and re.search(r',id=%s(,|$)' % re.escape(port), line):
            m = PREF_RESERVE.search(line)
            if not m:
                return None, 'port %s has no pref64-reserve or pref32-reserve to halve' % port
            half = size_bytes(m.group(2)) // 2 // (2 * MIB) * (2 * MIB)
            what = '%s-reserve=%s -> %d' % (m.group(1), m.group(2), half)
            line = line[:m.start()] + ',%s-reserve=%d' % (m.group(1), half) + line[m.end():]
        out.append(line)
    return (out, what) if what else (None, 'port %s is not in the plan\'s lines' % port)


def in_window(rng, address, size):
    base, wsize = window_of(rng)
    return wsize > 0 and base <= address and address + size <= base + wsize


def bar_assignment(device, port, said):
    """BAR -> whether the guest assigned it inside one of the port's windows (a prefetchable BAR
    may also go in the memory window, as Linux does when the prefetchable one is full). The
    address is query-pci's when the device decodes memory; else the one the guest said it
    assigned (`said`, guest.bar_states): Linux leaves decoding off on a device hot-plugged into
    a PCIe port (native hot-plug) until a driver enables it, and QEMU then shows no address."""
    bus = (port or {}).get('pci_bridge', {}).get('bus', {})
    out = {}
    for reg in device.get('regions', []):
        if reg['bar'] > 5 or reg['size'] == 0:
            continue
        address, size = reg['address'], reg['size']
        if address in UNASSIGNED:
            ok, start, end = said.get(reg['bar'], (False, None, None))
            address = start if ok and start is not None and end - start + 1 == size else None
        out[reg['bar']] = address is not None and (
            in_window(bus.get('memory_range'), address, size)
            or bool(reg.get('prefetch')) and in_window(bus.get('prefetchable_range'), address, size))
    return out


def settle(q, serial, plugged, timeout=SETTLE_SECONDS):
    """Polls query-pci and the guest's console until every hot-plugged device has its BARs
    assigned, or the guest has said of each BAR of each ("assigned" / "failed to assign") and
    then been quiet for a second, or `timeout` passes. hp id -> {BAR: assigned} ({} when the
    device is not in query-pci); with the last query-pci."""
    deadline = time.monotonic() + timeout
    last, quiet_since = None, time.monotonic()
    while True:
        pci = q.qmp.execute('query-pci')
        try:
            with open(serial, encoding='utf-8', errors='replace') as f:
                text = f.read()
        except OSError:
            text = ''
        found = {d.get('qdev_id'): d for d in walk(pci) if d.get('qdev_id')}
        said = {hp: linux_guest.bar_states(text, '0000:%02x:%02x.%x' % (found[hp]['bus'], found[hp]['slot'],
                                                                      found[hp]['function']))
                for hp, _ in plugged if hp in found}
        states = {hp: bar_assignment(found[hp], found.get(port), said[hp]) if hp in found else {}
                  for hp, port in plugged}
        if all(s and all(s.values()) for s in states.values()):
            return states, pci
        now = time.monotonic()
        if text != last:
            last, quiet_since = text, now
        spoken = all(hp in said and set(states[hp]) <= set(said[hp]) for hp, _ in plugged)
        if (spoken and now - quiet_since >= 1.0) or now > deadline:
            return states, pci
        time.sleep(0.2)


def guest_boot(r, layout, lines, ram, workroot, guest, ports, bar_size, keep, suffix):
    """Boots the lines with the Linux guest, hot-plugs an ivshmem-plain with a BAR 2 of
    `bar_size` into each port once the guest is up and lets it assign their BARs.
    hp id -> (port id, {BAR: assigned}); None after a failure (recorded in r)."""
    workdir = tempfile.mkdtemp(prefix='g-', dir=workroot)
    serial = os.path.join(workdir, 'serial.log')
    objects = ['-object memory-backend-ram,id=hpm%d,size=%d,reserve=off' % (k, bar_size) for k in range(len(ports))]
    args = qemu_arguments(MACHINES[layout.machine], layout.machine, ram // 1024, lines + objects,
                          firmware_log=os.path.join(workdir, 'seabios.log'))
    args += guest.arguments(serial)
    q = Qemu(args, workdir, timeout=30)
    pci, text = None, ''
    try:
        try:
            q.start()
        except QemuRefused as e:
            r.fail('check e (%s): QEMU refused the guest boot: %s' % (suffix, e))
            return None
        r.boots += 1
        text, ready = linux_guest.wait_ready(serial, 90)
        if not ready:
            r.fail('check e (%s): the guest did not print "%s" within 90 s; its console ends: %s'
                   % (suffix, linux_guest.READY, text[-600:]))
            return None
        plugged = []
        for k, port in enumerate(ports):
            hp = 'hp%d' % k
            q.qmp.execute('device_add', {'driver': 'ivshmem-plain', 'id': hp, 'memdev': 'hpm%d' % k, 'bus': port})
            plugged.append((hp, port))
        states, pci = settle(q, serial, plugged)
        with open(serial, encoding='utf-8', errors='replace') as f:
            text = f.read()
        return {hp: (port, states[hp]) for hp, port in plugged}
    except (RuntimeError, OSError, EOFError, ValueError) as e:
        r.fail('check e (%s): %s: %s' % (suffix, type(e).__name__, e))
        return None
    finally:
        q.stop()
        keep_files(keep, layout, '-guest-' + suffix, {'serial.log': text, 'query-pci.json': pci or [],
                                                      'args': shlex.join(args) + '\n'})
        shutil.rmtree(workdir, ignore_errors=True)


def describe(states):
    """'hp0 in pci.2: BAR 0 assigned, BAR 2 unassigned; ...'"""
    return '; '.join('%s in %s: %s' % (hp, port, ', '.join('BAR %d %s' % (bar, 'assigned' if ok else 'unassigned')
                                                           for bar, ok in sorted(bars.items())) or 'not in query-pci')
                     for hp, (port, bars) in sorted(states.items()))


def check_guest(r, layout, plan, driver, workroot, guest, keep):
    """Check e: hot-plug into a running Linux guest, with the plan's lines, without the
    reserves, and with one port's prefetchable reserve halved; the validator must say of each
    what the guest does."""
    ports = [b['id'] for b in reserving_ports(plan)]
    budget = budget_of(layout.spec)
    bar_size = max(size_bytes(size) for space, size in budget if space == 'pref64')
    machine, ram = layout.machine, plan['ram']
    r.guest = True

    def assigned(bars):
        return bool(bars) and all(bars.values())

    # a. the plan's lines: the validator names no port, the guest assigns every BAR
    lines = qemu_lines(plan, layout.shm)
    short = validator_short_ports(driver, machine, ram, lines, budget)
    if short:
        r.fail('check e: on the plan\'s lines the validator says %s cannot hold the budget' % ', '.join(short))
    got = guest_boot(r, layout, lines, ram, workroot, guest, ports, bar_size, keep, 'plan')
    if got is not None:
        r.hotplugs += len(got)
        r.hotplugs_assigned += sum(assigned(bars) for _, bars in got.values())
        if not all(assigned(bars) for _, bars in got.values()):
            r.fail('check e: with the plan\'s reserves the guest left a hot-plugged BAR unassigned: %s'
                   % describe(got))

    # b. without any *-reserve=: the validator names every port, the guest fails somewhere
    lines = qemu_lines(plan, layout.shm, without_reserves=True)
    short = validator_short_ports(driver, machine, ram, lines, budget)
    if not set(ports) <= set(short):
        r.fail('check e: without the reserves the validator says only %s of %s cannot hold the budget'
               % (', '.join(short) or 'none', ', '.join(ports)))
    got = guest_boot(r, layout, lines, ram, workroot, guest, ports, bar_size, keep, 'noreserve')
    if got is not None:
        r.guest_negative = not all(assigned(bars) for _, bars in got.values())
        if not r.guest_negative:
            r.fail('check e: without the reserves the guest still assigned every hot-plugged BAR (%s): '
                   'the layout does not test the reserves' % describe(got))

    # c. one port's prefetchable reserve halved: the validator names exactly it, the guest
    # leaves exactly its device's BAR 2 unassigned
    port = ports[0]
    lines, what = halve_reserve(qemu_lines(plan, layout.shm), port)
    if lines is None:
        r.fail('check e: cannot mutate: %s' % what)
        return
    short = validator_short_ports(driver, machine, ram, lines, budget)
    got = guest_boot(r, layout, lines, ram, workroot, guest, ports, bar_size, keep, 'mutated')
    if got is None:
        return
    guest_short = sorted((p for p, bars in got.values() if not assigned(bars)), key=ports.index)
    disagree = []
    if short != [port]:
        disagree.append('the validator names %s, not just %s' % (', '.join(short) or 'no port', port))
    if got['hp%d' % ports.index(port)][1].get(2) is not False:
        disagree.append('the guest assigned BAR 2 of the device in %s' % port)
    if guest_short != [port]:
        disagree.append('the guest leaves BARs unassigned in %s' % (', '.join(guest_short) or 'no port'))
    r.mutation_agree = not disagree
    if disagree:
        r.fail('check e: %s mutated (%s): %s; guest: %s' % (port, what, '; '.join(disagree), describe(got)))


def keep_files(keep, layout, suffix, files):
    """--keep: writes the layout's files as DIR/MACHINE-INDEX<suffix>.<name>."""
    if not keep:
        return
    os.makedirs(keep, exist_ok=True)
    for name, text in files.items():
        with open(os.path.join(keep, '%s-%s%s.%s' % (layout.machine, layout.index, suffix, name)), 'w',
                  encoding='utf-8') as f:
            f.write(text if isinstance(text, str) else json.dumps(text, indent=1))


def run_layout(layout, driver, workroot, keep='', guest=None, guest_picked=frozenset()):
    r = Result(layout)
    started = time.monotonic()
    try:
        status, out, err = run_driver(driver, layout.spec)
        if status != 0:
            r.fail('the driver exited with status %d: %s' % (status, err.strip()))
            return r
        plan = json.loads(out)
        r.planned = True
        r.fits = plan['fits']
        r.above_4g = plan['above_4g']
        lines = qemu_lines(plan, layout.shm)
        status, log, pci, args = boot(layout, lines, plan['ram'], workroot)
        r.command = shlex.join(args)
        keep_files(keep, layout, '', {'spec': layout.spec, 'plan.json': out, 'seabios.log': log,
                                      'query-pci.json': pci or [], 'args': r.command + '\n'})
        if status.startswith('refused'):
            r.fail('QEMU refused the plan: %s' % status[9:])
            return r
        r.boots += 1
        check_validator(r, driver, layout.machine, plan['ram'], lines, status)
        if plan['fits']:
            check_fitting(r, plan, status, log, pci)
        else:
            r.panic_predicted = True
            want = 'panic: ' + PANIC_OF[plan['problem']]
            if status != want:
                r.fail('the plan does not fit (%s: I/O 0x%x), SeaBIOS: %s' % (plan['problem'], plan['io_size'], status))
            else:
                r.panic_confirmed = True
        check_reserves(r, layout, plan, driver, workroot, keep)
        if guest and (layout.machine, layout.index) in guest_picked and guest_qualifies(layout, plan):
            check_guest(r, layout, plan, driver, workroot, guest, keep)
    except Exception as e:  # noqa: BLE001 - a broken layout is a failure, not the end of the run
        r.fail('%s: %s' % (type(e).__name__, e))
    finally:
        r.seconds = time.monotonic() - started
    return r


def summary_line(key, mine, guest_note=''):
    with_budget = [r for r in mine if r.negative is not None]
    # a budget reserves nothing where no empty pcie-root-port or pci-bridge is left (pc's
    # spare slots are on its root bus), and a layout that overflows for another reason
    # overflows without its reserves too: neither can show a difference
    untested = sum(r.has_budget and r.negative is None for r in mine)
    return ('  %-4s %3d layouts (%d fit, %d above 4 GiB), %d boots, %d windows compared, %d BARs checked, '
            '%d/%d panics predicted and seen; negatives detected %d/%d (without the reserves: %d/%d spare ports '
            'smaller than planned; %d budgets without a reserving port); the validator judged %d boots, %d stops'
            % (key, len(mine), sum(bool(r.fits) for r in mine), sum(r.above_4g and bool(r.fits) for r in mine),
               sum(r.boots for r in mine), sum(r.windows for r in mine), sum(r.bars for r in mine),
               sum(r.panic_confirmed for r in mine), sum(r.panic_predicted for r in mine),
               sum(bool(r.negative) for r in with_budget), len(with_budget),
               sum(r.reserve_smaller for r in mine), sum(r.reserve_ports for r in mine), untested,
               sum(r.validated for r in mine), sum(r.validator_stops for r in mine))
            + '; hot-plug into a running guest: %s' % (guest_note or guest_counts(mine)))


def guest_counts(mine):
    """Check e's counts: layouts, hot-plugs assigned with the plan, negatives, mutations."""
    ran = [r for r in mine if r.guest]
    negatives = [r for r in ran if r.guest_negative is not None]
    mutations = [r for r in ran if r.mutation_agree is not None]
    return ('%d layouts, %d/%d hot-plugs assigned with the plan, negatives detected %d/%d, validator and guest '
            'agree on %d/%d mutations' % (len(ran), sum(r.hotplugs_assigned for r in ran),
                                          sum(r.hotplugs for r in ran), sum(bool(r.guest_negative) for r in negatives),
                                          len(negatives), sum(bool(r.mutation_agree) for r in mutations),
                                          len(mutations)))


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--driver', help='the windows_driver program (target pciplan_windows_driver)')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--layouts', type=int, default=150, help='random layouts per machine type')
    ap.add_argument('--machines', default='q35,pc')
    ap.add_argument('--only', default='', help='MACHINE:INDEX[,...]: just these layouts')
    ap.add_argument('--spec', help='one layout from this spec file (the driver\'s input)')
    ap.add_argument('--jobs', type=int, default=2, help='QEMU instances at a time')
    ap.add_argument('--min-boots', type=int, default=100, help='fail when fewer boots ran')
    ap.add_argument('--show', type=int, default=3, help='failures printed with their QEMU command line')
    ap.add_argument('--keep', metavar='DIR', default='',
                    help='write each layout\'s spec, plan, SeaBIOS log and query-pci (and check e\'s guest '
                    'consoles) into DIR')
    ap.add_argument('--guest-layouts', type=int, default=GUEST_LAYOUTS, metavar='N',
                    help='check e: the first N qualifying layouts of each machine type boot a Linux guest '
                    '(default %(default)s)')
    ap.add_argument('--no-guest', action='store_true',
                    help='skip check e (no Linux guest: for a machine without a kernel and busybox)')
    ap.add_argument('--skip', metavar='REASON', help='report the test as skipped (status 77) and do nothing')
    ap.add_argument('-v', '--verbose', action='store_true', help='a line per layout')
    a = ap.parse_args(argv)
    if a.skip:
        print('qemu.windows: skipped: %s (Debian: qemu-system-x86)' % a.skip)
        return SKIPPED
    if not shutil.which('qemu-system-x86_64'):
        print('qemu.windows: skipped, qemu-system-x86_64 not installed (Debian: qemu-system-x86)')
        return SKIPPED
    if not a.driver or not os.access(a.driver, os.X_OK):
        print('qemu.windows: %s is not an executable windows driver' % a.driver)
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
        print('qemu.windows: bad --machines or --only: %s' % e)
        return 2

    started = time.monotonic()
    if a.spec:
        with open(a.spec, encoding='utf-8') as f:
            layouts = [layout_from_spec(f.read(), a.spec)]
        chosen = [layouts[0].machine]
        a.verbose = True
    elif only:
        layouts = [make_layout(a.seed, k, i) for k, i in only]
        chosen = list(dict.fromkeys(k for k, _ in only))
    else:
        layouts = [make_layout(a.seed, k, i) for k in chosen for i in range(a.layouts)]
    print('qemu.windows: seed %d, %d layouts on %s, %d QEMU at a time'
          % (a.seed, len(layouts), ','.join(chosen), a.jobs))
    sys.stdout.flush()
    workroot = tempfile.mkdtemp(prefix='pciplan-windows-test.')
    try:
        guest, picked, guest_note = None, frozenset(), ''
        if a.no_guest:
            guest_note = 'skipped (--no-guest)'
        elif a.guest_layouts <= 0:
            guest_note = 'skipped (--guest-layouts 0)'
        elif not any(k in GUEST_MACHINES for k in chosen):
            guest_note = 'only on %s (see the docstring)' % ', '.join(GUEST_MACHINES)
        else:
            try:
                guest = linux_guest.prepare(workroot)
            except linux_guest.GuestMissing as e:
                print('qemu.windows: FAILED: check e (hot-plug into a running guest) needs a Linux guest: %s; '
                      'or run with --no-guest' % e)
                return 1
            picked = pick_guest_layouts(layouts, a.driver, a.guest_layouts)
            print('qemu.windows: check e boots %s with %s' % (
                ', '.join('%s:%d' % p for p in sorted(picked, key=lambda p: (chosen.index(p[0]), p[1])))
                or 'no layout', os.path.basename(guest.kernel)))
            sys.stdout.flush()
        if guest_note:
            print('qemu.windows: check e (hot-plug into a running guest) %s' % guest_note)
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, a.jobs)) as pool:
            results = list(pool.map(lambda lay: run_layout(lay, a.driver, workroot, a.keep, guest, picked), layouts))
    finally:
        shutil.rmtree(workroot, ignore_errors=True)

    if a.verbose:
        for r in results:
            print('  %s:%s %-6s %s, %d boots, %d windows, %d BARs%s%s%s (%.1f s)'
                  % (r.layout.machine, r.layout.index, r.layout.kind,
                     'fits' if r.fits else ('does not fit' if r.planned else 'not planned'), r.boots, r.windows,
                     r.bars, ', above 4 GiB' if r.above_4g and r.fits else '',
                     '' if r.negative is None else ', reserves: %d/%d ports smaller without'
                     % (r.reserve_smaller, r.reserve_ports),
                     '' if not r.guest else ', guest: %d/%d hot-plugs assigned, negative %s, mutation %s'
                     % (r.hotplugs_assigned, r.hotplugs, {None: 'not run', True: 'detected', False: 'NOT detected'}[
                         r.guest_negative], {None: 'not run', True: 'agrees', False: 'DISAGREES'}[r.mutation_agree]),
                     r.seconds))
    failed = [r for r in results if r.failures]
    for n, r in enumerate(failed):
        who = '%s:%s' % (r.layout.machine, r.layout.index)
        again = '--spec %s' % a.spec if a.spec else '--seed %d --only %s' % (a.seed, who)
        print('\nFAILED %s (%s; again: %s)' % (who, r.layout.kind, again))
        for f in r.failures:
            print('  - ' + f)
        print('  spec:\n' + ''.join('    ' + line + '\n' for line in r.layout.spec.splitlines()))
        if n < a.show and r.command:
            print('  QEMU: ' + r.command)
    print('qemu.windows: seed %d, %.0f s' % (a.seed, time.monotonic() - started))
    for key in chosen:
        note = guest_note or ('' if key in GUEST_MACHINES else 'not on %s (see the docstring)' % key)
        print(summary_line(key, [r for r in results if r.layout.machine == key], note))
    boots = sum(r.boots for r in results)
    ok = not failed
    if boots < a.min_boots:
        print('qemu.windows: only %d boots ran, at least %d are required' % (boots, a.min_boots))
        ok = False
    if failed:
        print('qemu.windows: %d of %d layouts FAILED' % (len(failed), len(results)))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
