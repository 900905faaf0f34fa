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
--domains random, valid domain XMLs with 0 to 40 devices: virtio, e1000, e1000e, rtl8139
and vmxnet3 NICs, virtio disks, SCSI, USB and virtio-serial controllers, sound, video,
balloon, rng, virtio input, watchdog, pci-serial, pvpanic, PCI controllers written by the
user (root ports, switches, bridges, expander buses), NUMA cells, virtio-mmio addresses and
<pciplan:plan> constraints (hotplug, link, numa-node, multifunction and isolation groups,
order, spare-ports). The seed fixes them: domain MACHINE:INDEX of a seed is always the
same document, so a failing case can be run again alone with --only. Each domain is
planned with `pciplan plan --policy libvirt` and `--policy pciplan`, in --format qemu (what
QEMU is given), json (what the plan says) and tree (the bus ranges). QEMU then starts with
the emitted lines as they are, `-S -nodefaults -display none -machine TYPE,accel=tcg`, `-m`
as the domain's <memory> and the backends a VMM adds (a null-co block device behind each
virtio disk, an nvme serial, a silent audiodev), and the test reads `info qtree` over QMP:

  a. QEMU starts (a refusal fails the case, with QEMU's message);
  b. every controller and device of the plan is where the plan put it: on its parent bus at
     its slot.function (virtio-mmio devices on their transport), of the planned QEMU type,
     with the planned chassis/port/bus_nr/numa_node/hotplug; QEMU has no PCI device the
     plan does not know;
  c. the plan's guest bus numbers (json: each controller's guest_bus and each device's
     address; tree: each controller's bus range) equal the ones firmware gives the
     realized topology, counted depth first in slot.function order as SeaBIOS does (the
     root bus 0 first, then each expander's root bus from its bus_nr); on x86 every
     --firmware-every'th plan also boots SeaBIOS (no -S) and the bus numbers it programmed
     are read back with query-pci;
  d. QMP device_add of a virtio-net-pci succeeds in every empty slot of every bus the plan
     makes hot-pluggable (the json's hotpluggable and slots of each controller), and fails on
     every bus the plan says is not hot-pluggable. On q35, QEMU 7.2's ACPI bridge hot-plug
     also accepts a device behind a dmi-to-pci-bridge or a switch upstream port; that is
     counted apart, not as a failure. The pciplan policy must also leave the spare ports
     it promises (spare-ports, default 4) or warn that they did not fit.

The libvirt policy refuses domains with numa-node constraints, as documented; that refusal
is checked and counted, and those domains are planned with the pciplan policy only.

It prints one line of counts per machine and policy and exits 0 when every check passed and
at least --min-plans plans were started in QEMU; 1 otherwise, after printing every failure
(the first --show of them with the domain XML, the pciplan output and the QEMU command line;
all of them go to --failures DIR when given); 2 on a usage error; 77 (skipped) when a
qemu-system binary is missing.

Python 3 standard library only; QEMU is spoken to through its QMP socket.
"""
import argparse
import concurrent.futures
import json
import os
import random
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time

SKIPPED = 77

# ---------------------------------------------------------------------------------------
# Machines
# ---------------------------------------------------------------------------------------


class Machine:
    def __init__(self, key, arch, types, pcie, numa, mmio, x86):
        self.key = key            # the name used in reports and --only
        self.arch = arch          # <type arch=...> and qemu-system-ARCH
        self.types = types        # <type machine=...> choices (QEMU 7.2 knows them all)
        self.pcie = pcie          # PCI Express root bus
        self.numa = numa          # an expander QEMU has for NUMA nodes (pxb / pxb-pcie)
        self.mmio = mmio          # virtio-mmio transports (0: none)
        self.x86 = x86

    @property
    def binary(self):
        return 'qemu-system-' + self.arch


MACHINES = {
    'pc': Machine('pc', 'x86_64', ('pc', 'pc-i440fx-7.2'), pcie=False, numa=True, mmio=0, x86=True),
    'q35': Machine('q35', 'x86_64', ('q35', 'pc-q35-7.2'), pcie=True, numa=True, mmio=0, x86=True),
    'aarch64': Machine('aarch64', 'aarch64', ('virt', 'virt-7.2'), pcie=True, numa=True, mmio=32, x86=False),
    # qemu-system-riscv64 7.2 has no pxb-pcie, so riscv64 domains get no NUMA cells
    'riscv64': Machine('riscv64', 'riscv64', ('virt',), pcie=True, numa=False, mmio=8, x86=False),
}
POLICIES = ('libvirt', 'pciplan')

# ---------------------------------------------------------------------------------------
# Random domains
# ---------------------------------------------------------------------------------------

NIC_MODELS = ['virtio', 'virtio', 'virtio', 'virtio-transitional', 'virtio-non-transitional', 'e1000', 'e1000e',
              'rtl8139', 'vmxnet3', None]
DISK_MODELS = [None, None, None, 'virtio-transitional', 'virtio-non-transitional']
SCSI_MODELS = ['virtio-scsi', 'virtio-scsi', 'lsilogic', 'lsisas1068', 'lsisas1078', 'vmpvscsi', 'virtio-transitional',
               'virtio-non-transitional', 'dc390', 'am53c974', None]
USB_MODELS = ['qemu-xhci', 'qemu-xhci', 'nec-xhci', 'ehci', 'pci-ohci', 'piix3-uhci', 'piix4-uhci']
SOUND_MODELS = ['ich9', 'ich6', 'ac97', 'es1370']
INPUT_TYPES = ['keyboard', 'mouse', 'tablet']


class DomainMaker:
    """One random domain. Every choice comes from `rng`, so (seed, machine, index) fixes
    the document. Constraints are kept to what a valid domain may say: links only on
    devices that can use both, NUMA nodes only below cells that exist, one NUMA node per
    multifunction group, address-less controllers in an order libvirt accepts."""

    def __init__(self, rng, machine, index):
        self.rng = rng
        self.m = machine
        self.index = index
        self.devices = []        # XML of the <devices> children, in document order
        self.controllers = []    # XML of the user's <controller type='pci'> elements
        self.meta = {}           # alias -> {attribute: value} for <pciplan:device>
        self.flexible = []       # aliases of virtio devices whose link may be pci or pcie
        self.plain = []          # aliases that may take any constraint
        self.numbers = {}        # alias stem -> next number
        self.has_usb = False     # a USB controller was written (then no model='none')
        self.bus_numbers = set() # busNr of the expanders written
        self.channels = 0
        self.disk_count = 0
        self.scsi_disks = 0
        self.cells = 0
        self.mmio = False
        self.numa_constrained = False

    # -- small helpers ------------------------------------------------------------------
    def alias(self, stem, force=False):
        if not force and self.rng.random() >= 0.45:
            return None
        n = self.numbers.get(stem, 0)
        self.numbers[stem] = n + 1
        return 'ua-%s%d' % (stem, n)

    def add(self, tag, attrs, *body, to=None):
        """Appends `<tag attrs>body</tag>` (self-closing without body) to the devices."""
        body = [b for b in body if b]
        if body:
            text = '    <%s%s>\n%s    </%s>\n' % (tag, attrs, ''.join('      %s\n' % b for b in body), tag)
        else:
            text = '    <%s%s/>\n' % (tag, attrs)
        (self.devices if to is None else to).append(text)

    @staticmethod
    def alias_xml(alias):
        return "<alias name='%s'/>" % alias if alias else ''

    def mmio_xml(self, allowed=True):
        return "<address type='virtio-mmio'/>" if allowed and self.mmio and self.rng.random() < 0.5 else ''

    def note(self, alias, flexible=False):
        if alias:
            self.plain.append(alias)
            if flexible:
                self.flexible.append(alias)

    # -- devices ------------------------------------------------------------------------
    def nic(self, model=None, alias=None, choose=True, mmio=True):
        if choose:
            model = self.rng.choice(NIC_MODELS)
        alias = alias or self.alias('nic')
        virtio = model == 'virtio' or (model is None and not self.m.x86)
        extra = self.mmio_xml(mmio and virtio)
        self.add('interface', " type='network'", "<source network='default'/>",
                 "<model type='%s'/>" % model if model else '', self.alias_xml(alias), extra)
        self.note(alias, flexible=virtio and not extra)
        return alias

    def disk(self, model=None, alias=None, choose=True, mmio=True):
        if choose:
            model = self.rng.choice(DISK_MODELS)
        alias = alias or self.alias('disk')
        name = self.disk_name('vd', self.disk_count)
        self.disk_count += 1
        extra = self.mmio_xml(mmio and model is None)
        self.add('disk', " type='file' device='disk'" + (" model='%s'" % model if model else ''),
                 "<driver name='qemu' type='raw'/>", "<source file='/var/lib/libvirt/images/%s.img'/>" % name,
                 "<target dev='%s' bus='virtio'/>" % name, self.alias_xml(alias), extra)
        self.note(alias, flexible=model is None and not extra)
        return alias

    @staticmethod
    def disk_name(prefix, n):
        letters = ''
        n += 1
        while n:
            n, r = divmod(n - 1, 26)
            letters = chr(ord('a') + r) + letters
        return prefix + letters

    def scsi_controller(self):
        model = self.rng.choice(SCSI_MODELS)
        alias = self.alias('scsi')
        self.add('controller', " type='scsi'" + (" model='%s'" % model if model else ''), self.alias_xml(alias))
        self.note(alias, flexible=model == 'virtio-scsi')

    def scsi_disk(self):
        # its SCSI controller is implicit: libvirt (and the reader) add one
        name = self.disk_name('sd', self.scsi_disks)
        self.scsi_disks += 1
        self.add('disk', " type='file' device='disk'", "<source file='/var/lib/libvirt/images/%s.img'/>" % name,
                 "<target dev='%s' bus='scsi'/>" % name)

    def usb(self):
        self.has_usb = True
        alias = self.alias('usb')
        self.add('controller', " type='usb' model='%s'" % self.rng.choice(USB_MODELS), self.alias_xml(alias))
        self.note(alias)

    def usb_ich9_set(self):
        # an ICH9 USB2 set: the EHCI master and its three UHCI companions share one slot
        self.has_usb = True
        self.add('controller', " type='usb' model='ich9-ehci1'")
        for n in (1, 2, 3):
            self.add('controller', " type='usb' model='ich9-uhci%d'" % n, "<master startport='%d'/>" % ((n - 1) * 2))

    def sound(self):
        alias = self.alias('sound')
        self.add('sound', " model='%s'" % self.rng.choice(SOUND_MODELS), self.alias_xml(alias))
        self.note(alias)

    def rng_device(self):
        alias = self.alias('rng')
        model = self.rng.choice(['virtio', 'virtio', 'virtio-transitional'])
        self.add('rng', " model='%s'" % model, "<backend model='random'>/dev/urandom</backend>", self.alias_xml(alias),
                 self.mmio_xml(model == 'virtio'))
        self.note(alias)

    def channel(self):
        # a virtio channel: its virtio-serial controller is implicit
        self.add('channel', " type='unix'", "<target type='virtio' name='org.example.channel.%d'/>" % self.channels)
        self.channels += 1

    def virtio_serial(self):
        alias = self.alias('vser')
        self.add('controller', " type='virtio-serial'", self.alias_xml(alias))
        self.note(alias, flexible=True)

    def input_device(self):
        alias = self.alias('input')
        self.add('input', " type='%s' bus='virtio'" % self.rng.choice(INPUT_TYPES), self.alias_xml(alias))
        self.note(alias)

    def video(self):
        models = ['vga', 'virtio', 'bochs', 'cirrus'] if self.m.x86 else ['virtio', 'virtio', 'vga', 'bochs']
        alias = self.alias('video')
        self.add('video', '', "<model type='%s'/>" % self.rng.choice(models), self.alias_xml(alias))
        self.note(alias)

    def watchdog(self):
        alias = self.alias('wdt')
        self.add('watchdog', " model='i6300esb' action='reset'", self.alias_xml(alias))
        self.note(alias)

    def pci_serial(self):
        alias = self.alias('pser')
        self.add('serial', " type='pty'", "<target type='pci-serial'/>", self.alias_xml(alias))
        self.note(alias)

    def panic(self):
        # pvpanic-pci: an integrated endpoint of the root bus (no constraints)
        self.add('panic', " model='pvpanic'")

    # -- PCI controllers written by the user ---------------------------------------------
    def user_controllers(self):
        """A few PCI controllers as a user writes them: index given, no address."""
        rng = self.rng
        index = 1

        def controller(model, *body):
            nonlocal index
            self.add('controller', " type='pci' index='%d' model='%s'" % (index, model), *body, to=self.controllers)
            index += 1

        def hotplug_off(p):
            return "<target hotplug='off'/>" if rng.random() < p else ''

        for _ in range(rng.randint(1, 3)):
            if self.m.pcie:
                kinds = ['root-port', 'root-port', 'switch', 'pcie-to-pci', 'dmi']
                if self.m.numa:
                    kinds.append('pxb-pcie')
            else:
                kinds = ['pci-bridge', 'pci-bridge', 'pxb']
            kind = rng.choice(kinds)
            if kind == 'root-port':
                controller('pcie-root-port', hotplug_off(0.4))
            elif kind == 'switch':
                controller('pcie-switch-upstream-port')
                for _ in range(rng.randint(1, 4)):
                    controller('pcie-switch-downstream-port', hotplug_off(0.3))
            elif kind == 'pcie-to-pci':
                controller('pcie-to-pci-bridge')
            elif kind == 'dmi':
                controller('dmi-to-pci-bridge')
                if rng.random() < 0.6:
                    controller('pci-bridge')
            elif kind == 'pci-bridge':
                controller('pci-bridge')
            else:
                # bus numbers far above the <= ~60 the main hierarchy uses, and 40 apart,
                # so that nothing collides; never two expanders on one number
                free = [n for n in (140, 180, 220) if n not in self.bus_numbers]
                if not free:
                    continue
                nr = rng.choice(free)
                self.bus_numbers.add(nr)
                node = "<node>%d</node>" % rng.randrange(self.cells) if self.cells and rng.random() < 0.7 else ''
                controller('pci-expander-bus' if kind == 'pxb' else 'pcie-expander-bus',
                           "<target busNr='%d'>%s</target>" % (nr, node) if node else "<target busNr='%d'/>" % nr)

    # -- the whole domain ---------------------------------------------------------------
    def build(self):
        rng, m = self.rng, self.m
        if m.numa and rng.random() < 0.35:
            self.cells = rng.choice([2, 2, 3])
        if m.mmio and not self.cells and rng.random() < 0.2:
            self.mmio = True
        memory_mib = rng.choice([128, 256, 512])
        count = rng.choice([rng.randint(0, 8), rng.randint(0, 20), rng.randint(0, 40)])
        if self.mmio:
            count = min(count, m.mmio - 4)
        if rng.random() < 0.3:
            self.user_controllers()

        makers = [(self.nic, 30), (self.disk, 25), (self.scsi_controller, 5), (self.scsi_disk, 3), (self.usb, 4),
                  (self.sound, 4), (self.rng_device, 3), (self.channel, 3), (self.virtio_serial, 2),
                  (self.input_device, 4), (self.video, 3), (self.pci_serial, 2)]
        if m.x86:
            makers.append((self.usb_ich9_set, 1))
        functions = [f for f, w in makers for _ in range(w)]
        once = {self.video: 1, self.usb_ich9_set: 1}
        made = {}
        for _ in range(count):
            f = rng.choice(functions)
            if f in once and made.get(f, 0) >= once[f]:
                f = self.nic
            made[f] = made.get(f, 0) + 1
            f()
        if rng.random() < 0.25:
            self.watchdog()
        if not m.x86 and rng.random() < 0.3:
            self.panic()

        # multifunction groups: 2-3 devices of one kind that share a slot (not in domains
        # using virtio-mmio, where libvirt's sticky rule sends address-less virtio devices)
        groups = []
        group_count = 0 if self.mmio else (rng.random() < 0.25) + (rng.random() < 0.1)
        for g in range(1, 1 + group_count):
            make = rng.choice([self.nic, self.disk])
            members = []
            for _ in range(rng.randint(2, 3)):
                a = self.alias('mf', force=True)
                if make == self.nic:
                    self.nic('virtio', alias=a, choose=False, mmio=False)
                else:
                    self.disk(None, alias=a, choose=False, mmio=False)
                self.plain.remove(a)
                members.append(a)
            groups.append(members)
            for f, a in enumerate(members):
                self.meta[a] = {'multifunction-group': str(g), 'function': str(f)}

        # constraints on single devices; NUMA nodes in half of the domains with cells (the
        # libvirt policy refuses those, as documented, and plans the others)
        numa_devices = self.cells and rng.random() < 0.5
        for a in self.plain:
            attrs = {}
            if rng.random() < 0.15:
                attrs['hotplug'] = 'no'
            elif rng.random() < 0.05:
                attrs['hotplug'] = 'yes'
            if a in self.flexible and rng.random() < 0.15:
                attrs['link'] = rng.choice(['pci', 'either'] + (['pcie'] if m.pcie else []))
            if not self.mmio and rng.random() < 0.08:
                attrs['isolation-group'] = str(rng.randint(1, 3))
            if rng.random() < 0.1:
                attrs['order'] = str(rng.randint(0, 1000))
            if numa_devices and rng.random() < 0.3:
                attrs['numa-node'] = str(rng.randrange(self.cells))
            if attrs:
                self.meta[a] = attrs
        if numa_devices and groups and rng.random() < 0.5:
            node = str(rng.randrange(self.cells))
            for a in groups[0]:
                self.meta[a]['numa-node'] = node
        self.numa_constrained = any('numa-node' in v for v in self.meta.values())

        # default devices: USB and balloon as libvirt adds them, or switched off
        usb_choice = rng.random()
        if usb_choice < 0.3 and not self.has_usb:
            self.add('controller', " type='usb' model='none'")
        elif usb_choice < 0.45:
            self.add('controller', " type='usb' model='qemu-xhci'")
        balloon = rng.random()
        if balloon < 0.3:
            self.add('memballoon', " model='none'")
        elif balloon < 0.5:
            self.add('memballoon', " model='%s'" % rng.choice(['virtio', 'virtio-transitional']))

        spare = " spare-ports='%d'" % rng.randint(0, 8) if rng.random() < 0.3 else ''
        metadata = ''
        if self.meta or spare:
            lines = ''.join("      <pciplan:device alias=\"%s\"%s/>\n"
                            % (a, ''.join(' %s="%s"' % kv for kv in sorted(v.items())))
                            for a, v in sorted(self.meta.items()))
            metadata = ("  <metadata>\n    <pciplan:plan xmlns:pciplan=\"urn:pciplan:plan:1\"%s>\n%s"
                        "    </pciplan:plan>\n  </metadata>\n" % (spare.replace("'", '"'), lines))
        cpu = ''
        vcpus = max(1, self.cells)
        if self.cells:
            per = memory_mib * 1024 // self.cells
            cells = ''.join("      <cell id='%d' cpus='%d' memory='%d' unit='KiB'/>\n" % (c, c, per)
                            for c in range(self.cells))
            cpu = "  <cpu>\n    <numa>\n%s    </numa>\n  </cpu>\n" % cells
        doc = ("<domain type='%s'>\n  <name>qemu-test-%s-%d</name>\n%s  <memory unit='KiB'>%d</memory>\n"
               "  <vcpu>%d</vcpu>\n  <os>\n    <type arch='%s' machine='%s'>hvm</type>\n  </os>\n%s"
               "  <devices>\n    <emulator>/usr/bin/%s</emulator>\n%s%s  </devices>\n</domain>\n"
               % ('kvm' if m.x86 else 'qemu', m.key, self.index, metadata, memory_mib * 1024, vcpus, m.arch,
                  rng.choice(m.types), cpu, m.binary, ''.join(self.controllers), ''.join(self.devices)))
        return doc


def make_domain(seed, machine, index):
    """(xml, memory in KiB, machine type, whether a device names a NUMA node)."""
    maker = DomainMaker(random.Random('pciplan-qemu-test:%d:%s:%d' % (seed, machine.key, index)), machine, index)
    xml = maker.build()
    memory = int(re.search(r"<memory unit='KiB'>(\d+)</memory>", xml).group(1))
    machine_type = re.search(r"machine='([^']+)'", xml).group(1)
    return xml, memory, machine_type, maker.numa_constrained

# ---------------------------------------------------------------------------------------
# The plan: what the pciplan tool says
# ---------------------------------------------------------------------------------------


TREE_RANGE = re.compile(r'-\[([0-9a-f]{2})(?:-([0-9a-f]{2}))?\]\s+(pci\.\d+)\s')


class Plan:
    """`pciplan plan --format json` and `--format qemu` of one domain and policy."""

    def __init__(self, doc, qemu_lines, tree_text):
        self.doc = doc
        # `--format tree` draws each controller with the guest bus range below it:
        # ` +-02.0-[01-03]  pci.1 pcie-root-port`, `-[f8-f9]  pci.4 pxb-pcie`, `-[05]  pci.2 …`
        self.ranges = {}
        for m in TREE_RANGE.finditer(tree_text):
            first = int(m.group(1), 16)
            self.ranges[m.group(3)] = (first, int(m.group(2), 16) if m.group(2) else first)
        self.qemu_lines = qemu_lines
        self.controllers = {c['index']: c for c in doc['controllers']}
        self.devices = doc['devices']
        self.root = self.controllers[0]
        self.emitted_ids = set()
        for line in qemu_lines:
            m = re.search(r'(?:^|,)id=([^,]+)', line)
            if line.startswith('-device ') and m:
                self.emitted_ids.add(m.group(1))

    def bus_name(self, index):
        """QEMU's name of the bus controller `index` provides (the plan's qemu_bus)."""
        return self.controllers[index]['qemu_bus']

    def occupied(self, index):
        """The slots of bus `index` the plan puts something in."""
        slots = set()
        for c in self.controllers.values():
            a = c['address']
            if a and a['bus'] == index:
                slots.add(a['slot'])
        for d in self.devices:
            a = d['libvirt_address']
            if d['kind'] == 'pci' and a['bus'] == index:
                slots.add(a['slot'])
        return slots


def run_pciplan(tool, xml, policy, fmt):
    p = subprocess.run([tool, 'plan', '--policy', policy, '--format', fmt, '-'], input=xml.encode(),
                       capture_output=True, timeout=60)
    return p.returncode, p.stdout.decode('utf-8', 'replace'), p.stderr.decode('utf-8', 'replace')


# QEMU 7.2's q35 has ACPI PCI hotplug for bridges on by default
# (ICH9-LPC.acpi-pci-hotplug-with-bridge-support), and it then also accepts a device on
# the bus of a dmi-to-pci-bridge or a switch upstream port, which the plan (like libvirt)
# treats as not hot-pluggable. A refusal is expected there, but acceptance is QEMU's
# documented behaviour, not a planning error: such cases are counted apart.
ACPI_BRIDGE_HOTPLUG = {'q35': ('dmi-to-pci-bridge', 'pcie-switch-upstream-port')}

# How QEMU 7.2 refuses a hot-plug: the bus has no hot-plug handler (pcie.0, expander roots,
# q35 ports with hotplug=off), or the port's slot capability says no (hotplug=off on a port
# that uses native PCIe hot-plug: aarch64 and riscv64 virt).
REFUSALS = ('does not support hotplugging', 'unsupported by the port device')

# Devices that need a backend before QEMU accepts them; added the way a VMM would.
NEEDS_DRIVE = re.compile(r'^virtio-blk-(pci|device)')

# ---------------------------------------------------------------------------------------
# QEMU and QMP
# ---------------------------------------------------------------------------------------


class QemuRefused(Exception):
    pass


class Qmp:
    """A minimal QMP client: one command at a time, events skipped."""

    def __init__(self, path, timeout):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.sock.settimeout(timeout)
            self.sock.connect(path)
            self.reader = self.sock.makefile('r', encoding='utf-8', newline='\n')
            greeting = self.reader.readline()
            if not greeting:
                raise EOFError('QMP closed before its greeting')
            self.greeting = json.loads(greeting)
            self.execute('qmp_capabilities')
        except BaseException:
            self.sock.close()
            raise

    def call(self, command, arguments=None):
        """The whole reply: {'return': ...} or {'error': {...}}."""
        message = {'execute': command}
        if arguments is not None:
            message['arguments'] = arguments
        self.sock.sendall((json.dumps(message) + '\n').encode())
        while True:
            line = self.reader.readline()
            if not line:
                raise EOFError('QMP closed during %s' % command)
            reply = json.loads(line)
            if 'return' in reply or 'error' in reply:
                return reply

    def execute(self, command, arguments=None):
        reply = self.call(command, arguments)
        if 'error' in reply:
            raise RuntimeError('%s: %s' % (command, reply['error'].get('desc')))
        return reply['return']

    def hmp(self, line):
        return self.execute('human-monitor-command', {'command-line': line})

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class Qemu:
    """One QEMU process with a QMP socket in a private directory."""

    def __init__(self, args, workdir, timeout=60.0):
        self.sock_path = os.path.join(workdir, 'qmp.sock')
        self.args = args + ['-qmp', 'unix:%s,server=on,wait=off' % self.sock_path]
        self.timeout = timeout
        self.proc = None
        self.qmp = None
        self.stderr_path = os.path.join(workdir, 'qemu.stderr')

    def start(self):
        with open(self.stderr_path, 'wb') as err:
            self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=err, stderr=err)
        deadline = time.monotonic() + self.timeout
        while True:
            if self.proc.poll() is not None:
                raise QemuRefused(self.messages() or 'QEMU exited with status %d' % self.proc.returncode)
            if os.path.exists(self.sock_path):
                try:
                    self.qmp = Qmp(self.sock_path, self.timeout)
                    return
                except (ConnectionRefusedError, FileNotFoundError):
                    pass
                except (EOFError, OSError, ValueError) as e:
                    try:
                        self.proc.wait(timeout=self.timeout)
                    except subprocess.TimeoutExpired:
                        pass
                    raise QemuRefused(self.messages() or 'QMP failed: %s' % e) from e
            if time.monotonic() > deadline:
                raise QemuRefused('QEMU did not open its QMP socket within %d s' % self.timeout)
            time.sleep(0.005)

    def messages(self):
        try:
            with open(self.stderr_path, encoding='utf-8', errors='replace') as f:
                return f.read().strip()
        except OSError:
            return ''

    def stop(self):
        if self.qmp:
            try:
                self.qmp.call('quit')
            except (OSError, EOFError, ValueError):
                pass
            self.qmp.close()
        if self.proc and self.proc.poll() is None:
            try:
                self.proc.wait(timeout=10 if self.qmp else 0.5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def qemu_arguments(machine, machine_type, memory_kib, plan_lines, firmware_log=None):
    """The QEMU command line for a plan: the tool's lines as they are, plus backends."""
    args = [shutil.which(machine.binary) or machine.binary]
    if firmware_log is None:
        args.append('-S')
    args += ['-nodefaults', '-no-user-config', '-display', 'none', '-machine', '%s,accel=tcg' % machine_type,
             '-m', '%dK' % memory_kib]
    if firmware_log is not None:
        args += ['-chardev', 'file,id=seabios-log,path=%s' % firmware_log,
                 '-device', 'isa-debugcon,iobase=0x402,chardev=seabios-log']
    audio = False
    drives = 0
    for line in plan_lines:
        option, _, value = line.partition(' ')
        if option != '-device':
            args += [option, value]
            continue
        driver = value.split(',', 1)[0]
        if NEEDS_DRIVE.match(driver):
            drives += 1
            args += ['-blockdev', 'driver=null-co,node-name=null%d' % drives]
            value += ',drive=null%d' % drives
        elif driver == 'nvme':
            value += ',serial=nvme%d' % len(args)
        elif driver in ('AC97', 'ES1370'):
            if not audio:
                args += ['-audiodev', 'none,id=noaudio']
                audio = True
            value += ',audiodev=noaudio'
        args += ['-device', value]
    return args

# ---------------------------------------------------------------------------------------
# What QEMU built: `info qtree`
# ---------------------------------------------------------------------------------------

PCI_BUS_TYPES = ('PCI', 'PCIE', 'pxb-bus', 'pxb-pcie-bus')
CLASS_LINE = re.compile(r'^class (?P<cls>.*), addr (?P<bus>[0-9a-f]{2}):(?P<slot>[0-9a-f]{2})\.(?P<fn>[0-7]), pci id ')
DEV_LINE = re.compile(r'^dev: (?P<type>[^,]+), id "(?P<id>[^"]*)"')
PROP_LINE = re.compile(r'^(?P<key>[\w.\-]+) = (?P<value>.*)$')


class TreeNode:
    def __init__(self, kind, indent, parent):
        self.kind = kind        # 'bus' or 'dev'
        self.indent = indent
        self.parent = parent
        self.name = ''          # bus name, or device type
        self.id = ''
        self.bus_type = ''
        self.props = {}
        self.lines = []
        self.children = []


def parse_qtree(text):
    top = TreeNode('bus', -1, None)
    stack = [top]
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        indent = len(raw) - len(raw.lstrip(' '))
        while stack[-1].indent >= indent:
            stack.pop()
        parent = stack[-1]
        if line.startswith('bus: ') or line.startswith('dev: '):
            node = TreeNode('bus' if line.startswith('bus') else 'dev', indent, parent)
            if node.kind == 'bus':
                node.name = line[5:]
            else:
                m = DEV_LINE.match(line)
                node.name, node.id = (m.group('type'), m.group('id')) if m else (line[5:], '')
            parent.children.append(node)
            stack.append(node)
        elif parent.kind == 'bus' and line.startswith('type '):
            parent.bus_type = line[5:]
        else:
            m = PROP_LINE.match(line)
            if m:
                parent.props[m.group('key')] = m.group('value')
            else:
                parent.lines.append(line)
    return top


def prop_number(value):
    if value is None:
        return None
    try:
        return int(value.split(' ')[0], 0)
    except ValueError:
        return None


class Bus:
    def __init__(self, name, bus_type, bridge, host):
        self.name = name
        self.type = bus_type
        self.bridge = bridge      # the PciDevice whose secondary bus this is, or None (a root bus)
        self.host = host          # for a root bus: the QEMU type of its host bridge
        self.devices = []
        self.root_number = None   # for a root bus: its bus number
        self.expander = None      # for an expander's root bus: the pxb / pxb-pcie device
        self.number = None        # computed guest bus number
        self.last = None          # for a root bus: the highest bus number below it


class PciDevice:
    def __init__(self, node, bus, match):
        self.type = node.name
        self.id = node.id
        self.bus = bus
        self.slot = int(match.group('slot'), 16)
        self.function = int(match.group('fn'), 16)
        self.qtree_bus = int(match.group('bus'), 16)
        self.cls = match.group('cls')
        self.props = node.props
        self.secondary = None     # Bus behind it (bridges)
        self.internal = False     # the pci-bridge QEMU puts inside a legacy pxb
        self.sec = self.sub = None  # computed secondary/subordinate numbers

    def where(self):
        return '%s %02x.%x' % (self.bus.name, self.slot, self.function)


class Realized:
    """The PCI part of QEMU's device tree, plus the virtio-mmio devices."""

    def __init__(self, qtree_text):
        self.buses = []
        self.devices = []
        self.mmio = []            # (bus name, device type, id)
        self.by_name = {}
        self.walk(parse_qtree(qtree_text), None)
        for b in self.buses:
            self.by_name.setdefault(b.name, []).append(b)
        self.by_id = {}
        self.find_expander_roots()
        for d in self.devices:
            if d.id and not d.internal:
                self.by_id.setdefault(d.id, []).append(d)

    def walk(self, node, pci_device):
        """Collects the PCI buses below `node`; `pci_device` is the PciDevice `node` is, if any."""
        for child in node.children:
            if child.kind == 'dev':
                self.walk(child, None)
            elif child.bus_type in PCI_BUS_TYPES:
                # a bridge's secondary bus, or a root bus of a host bridge (not a PCI device)
                bus = Bus(child.name, child.bus_type, pci_device, None if pci_device else node.name)
                if pci_device is not None:
                    pci_device.secondary = bus
                self.buses.append(bus)
                for dev in child.children:
                    if dev.kind != 'dev':
                        continue
                    match = next(filter(None, (CLASS_LINE.match(line) for line in dev.lines)), None)
                    if match is None:
                        self.walk(dev, None)
                        continue
                    d = PciDevice(dev, bus, match)
                    bus.devices.append(d)
                    self.devices.append(d)
                    self.walk(dev, d)
            elif child.bus_type == 'virtio-mmio-bus':
                self.mmio += [(child.name, dev.name, dev.id) for dev in child.children if dev.kind == 'dev']
            else:
                self.walk(child, None)

    def find_expander_roots(self):
        """Give every root bus its number: the main root 0, an expander's root its bus_nr."""
        expanders = {d.id: d for d in self.devices if d.type in ('pxb', 'pxb-pcie') and d.id}
        for b in self.buses:
            if b.bridge is not None:
                continue
            if b.host != 'pxb-host':
                b.root_number = 0
                continue
            owner = expanders.get(b.name)      # pxb-pcie: the root bus is named after it
            if owner is None:                  # pxb: a pci-bridge with its id sits at slot 0
                inner = [d for d in b.devices if d.id in expanders and d.cls == 'PCI bridge']
                if inner:
                    inner[0].internal = True
                    owner = expanders[inner[0].id]
            if owner is not None:
                b.expander = owner
                b.root_number = prop_number(owner.props.get('bus_nr'))
            elif b.devices:
                b.root_number = b.devices[0].qtree_bus

    def roots(self):
        return [b for b in self.buses if b.bridge is None]


def number_buses(realized):
    """Bus numbers as SeaBIOS gives them: each root bus depth first, devices in
    slot.function order, every PCI bridge takes the next number (its subordinate is the
    highest number below it, raised by a bus-reserve property); the main root first, then
    the expander roots by bus_nr. Returns a list of problems (collisions)."""
    problems = []
    counter = 0

    def walk(bus, number):
        nonlocal counter
        bus.number = number
        for d in sorted(bus.devices, key=lambda d: (d.slot, d.function)):
            if d.secondary is None or d.cls != 'PCI bridge':
                continue
            counter += 1
            d.sec = counter
            walk(d.secondary, counter)
            reserve = prop_number(d.props.get('bus-reserve'))
            if reserve is not None and 0 < reserve < 0xffffffff:
                counter = max(counter, min(255, d.sec + reserve))
            d.sub = counter

    roots = realized.roots()
    main = [b for b in roots if b.host != 'pxb-host']
    if len(main) != 1:
        problems.append('QEMU has %d main root buses' % len(main))
    for b in main:
        walk(b, 0)
        b.last = counter
    for b in sorted((b for b in roots if b.host == 'pxb-host'), key=lambda b: b.root_number or 0):
        if b.root_number is None:
            problems.append('the expander root bus %s has no bus number' % b.name)
            continue
        if b.root_number <= counter:
            problems.append('the expander root bus %s at bus_nr %d collides with bus numbers 0..%d of the buses before it'
                            % (b.name, b.root_number, counter))
        counter = max(counter, b.root_number)
        walk(b, b.root_number)
        b.last = counter
    if counter > 255:
        problems.append('%d bus numbers needed, 256 exist' % (counter + 1))
    return problems

# ---------------------------------------------------------------------------------------
# The checks of one plan
# ---------------------------------------------------------------------------------------


class Outcome:
    def __init__(self, machine, index, policy):
        self.machine, self.index, self.policy = machine, index, policy
        self.started = False
        self.expected_refusal = False    # the libvirt policy refused NUMA constraints, as documented
        self.loop_refusal = False        # the libvirt policy refused libvirt's switch-port loop, as documented
        self.topology_ok = False
        self.numbers_ok = False
        self.spare_ok = self.spare_total = 0
        self.refused_ok = self.refused_total = 0
        self.acpi_accepted = 0
        self.firmware = None             # None: not run; True/False: SeaBIOS agreed
        self.problems = []               # (check, text)
        self.xml = self.args = self.command = ''
        self.qemu_lines = []
        self.seconds = 0.0

    def fail(self, check, text):
        self.problems.append((check, text))


def check_topology(plan, realized, outcome, machine):
    """(b): every controller and device where the plan put it, and nothing else."""
    ok = True

    def problem(text):
        nonlocal ok
        ok = False
        outcome.fail('topology', text)

    claimed = set()
    for index, c in sorted(plan.controllers.items()):
        if index == 0:
            continue
        qid = 'pci.%d' % index
        found = realized.by_id.get(qid, [])
        if len(found) != 1:
            problem('controller %s (%s): QEMU has %d devices with id %s' % (qid, c['model'], len(found), qid))
            continue
        d = found[0]
        claimed.add(id(d))
        a = c['address']
        want_bus = plan.bus_name(a['bus']) if a else None
        if d.type != c['model_name']:
            problem('controller %s: QEMU type %s, planned %s' % (qid, d.type, c['model_name']))
        if a is None or (d.bus.name, d.slot, d.function) != (want_bus, a['slot'], a['function']):
            problem('controller %s (%s): QEMU has it at %s, planned %s' % (
                qid, c['model'], d.where(), '%s %02x.%x' % (want_bus, a['slot'], a['function']) if a else 'nowhere'))
        for key, prop in (('chassis', 'chassis'), ('port', 'port'), ('chassis_nr', 'chassis_nr'),
                          ('bus_nr', 'bus_nr'), ('numa_node', 'numa_node')):
            if c.get(key) is not None and prop_number(d.props.get(prop)) != c[key]:
                problem('controller %s: QEMU %s=%s, planned %s' % (qid, prop, d.props.get(prop), c[key]))
        if c.get('hotplug') == 'off' and d.props.get('hotplug') != 'false':
            problem('controller %s: planned hotplug=off, QEMU hotplug=%s' % (qid, d.props.get('hotplug')))
        if qid not in realized.by_name:
            problem('controller %s: QEMU has no bus named %s' % (qid, qid))
    roots = realized.roots()
    for d in plan.devices:
        name = d['name']
        if d['kind'] == 'mmio':
            found = [m for m in realized.mmio if m[2] == name]
            if len(found) != 1:
                problem('device %s: QEMU has %d virtio-mmio devices with this id' % (name, len(found)))
            elif found[0][0] != d['transport']:
                problem('device %s: QEMU has it on %s, planned %s' % (name, found[0][0], d['transport']))
            continue
        if d['kind'] != 'pci':
            problem('device %s: kind %s on %s' % (name, d['kind'], machine.key))
            continue
        a = d['libvirt_address']
        want = (plan.bus_name(a['bus']), a['slot'], a['function'])
        if name in plan.emitted_ids:
            found = realized.by_id.get(name, [])
        else:
            # a chipset device the machine creates by itself (q35 SATA, pc IDE): no -device
            found = [x for b in roots if b.host != 'pxb-host' for x in b.devices
                     if not x.id and (b.name, x.slot, x.function) == want]
        if len(found) != 1:
            problem('device %s (%s): QEMU has %d such devices (planned at %s %02x.%x)'
                    % (name, d['qemu_device'], len(found), want[0], want[1], want[2]))
            continue
        x = found[0]
        claimed.add(id(x))
        if x.type != d['qemu_device']:
            problem('device %s: QEMU type %s, planned %s' % (name, x.type, d['qemu_device']))
        if (x.bus.name, x.slot, x.function) != want:
            problem('device %s (%s): QEMU has it at %s, planned %s %02x.%x'
                    % (name, d['qemu_device'], x.where(), want[0], want[1], want[2]))
    for x in realized.devices:
        if id(x) in claimed or x.internal:
            continue
        if x.id:
            if x.id not in ('pci.%d' % i for i in plan.controllers) and x.id not in [d['name'] for d in plan.devices]:
                problem('QEMU has %s id=%s at %s, which the plan does not have' % (x.type, x.id, x.where()))
        elif x.bus.bridge is not None or x.bus.host == 'pxb-host':
            problem('QEMU has an unnamed %s at %s, below a planned controller' % (x.type, x.where()))
    return ok


def check_numbers(plan, realized, outcome):
    """(c): the plan's guest bus numbers against the depth-first numbering."""
    ok = True

    def problem(text):
        nonlocal ok
        ok = False
        outcome.fail('bus numbers', text)

    for text in number_buses(realized):
        problem(text)
    for index, c in sorted(plan.controllers.items()):
        buses = realized.by_name.get(plan.bus_name(index), [])
        if len(buses) != 1:
            continue  # reported by the topology check
        if buses[0].number != c['guest_bus']:
            problem('controller pci.%d (%s): its bus is guest bus %s in QEMU, %d in the plan'
                    % (index, c['model'], buses[0].number, c['guest_bus']))
        if c.get('domain', 0) != 0:
            problem('controller pci.%d: PCI domain %s, QEMU has only domain 0 here' % (index, c['domain']))
        qid = 'pci.%d' % index
        drawn = plan.ranges.get(qid)
        # an expander's range starts at its own root bus (busNr); a pxb's devices sit one
        # bus lower, behind the pci-bridge QEMU builds into it
        first = c['bus_nr'] if c['model'].endswith('expander-bus') and c['bus_nr'] is not None else c['guest_bus']
        if drawn is not None and drawn != (first, c['guest_bus_last']):
            problem('controller %s (%s): --format tree gives it buses [%02x-%02x], the json [%02x-%02x]'
                    % (qid, c['model'], drawn[0], drawn[1], first, c['guest_bus_last']))
        found = realized.by_id.get(qid, [])
        if index == 0 or drawn is None or len(found) != 1:
            if index != 0 and drawn is None:
                problem('controller %s: --format tree shows no bus range for it' % qid)
            continue
        d = found[0]
        if d.type in ('pxb', 'pxb-pcie'):
            roots = [b for b in realized.roots() if b.expander is d]
            real = (roots[0].root_number, roots[0].last) if len(roots) == 1 else None
        else:
            real = (d.sec, d.sub)
        if real != drawn:
            problem('controller %s (%s): the plan\'s tree gives it buses [%02x-%02x], firmware numbering [%s]'
                    % (qid, c['model'], drawn[0], drawn[1],
                       '%02x-%02x' % real if real and None not in real else 'none'))
    for d in plan.devices:
        if d['kind'] != 'pci':
            continue
        m = re.match(r'^([0-9a-f]{4}):([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$', d['address'] or '')
        a = d['libvirt_address']
        buses = realized.by_name.get(plan.bus_name(a['bus']), [])
        if not m or len(buses) != 1:
            if not m:
                problem('device %s: address %r' % (d['name'], d['address']))
            continue
        guest = (int(m.group(2), 16), int(m.group(3), 16), int(m.group(4), 16))
        if guest != (buses[0].number, a['slot'], a['function']):
            problem('device %s: planned guest address %s, QEMU\'s bus %s is guest bus %02x (so %02x:%02x.%x)'
                    % (d['name'], d['address'], buses[0].name, buses[0].number or 0, buses[0].number or 0,
                       a['slot'], a['function']))
    return ok


def bus_rule(plan, index):
    """What the plan says of the bus controller `index` provides: hot-pluggable, and its slots."""
    c = plan.controllers[index]
    return c['hotpluggable'], range(c['slots']['first'], c['slots']['last'] + 1)


def below_numa_expander(plan, index):
    """Whether controller `index` is an expander bound to a NUMA node, or sits below one."""
    seen = set()
    while index not in seen and index in plan.controllers:
        seen.add(index)
        c = plan.controllers[index]
        if c['model'] in ('pci-expander-bus', 'pcie-expander-bus') and c['numa_node'] is not None:
            return True
        if c['address'] is None:
            return False
        index = c['address']['bus']
    return False


def check_hotplug(qmp, plan, realized, outcome, machine):
    """(d): a device goes into every empty slot of every hot-pluggable bus; a bus that is
    not hot-pluggable refuses one. Returns the number of spares the plan has outside the
    NUMA nodes' expanders, as the pciplan policy counts them: empty hot-pluggable ports on
    PCIe machines, empty slots of hot-pluggable buses on pc (whether QEMU took a device
    there is the business of the hot-plug check)."""
    spares = 0
    count = 0
    for index in sorted(plan.controllers):
        name = plan.bus_name(index)
        buses = realized.by_name.get(name, [])
        if len(buses) != 1:
            continue
        hot, slots = bus_rule(plan, index)
        taken = plan.occupied(index) | {d.slot for d in buses[0].devices}
        free = [s for s in slots if s not in taken]
        model = plan.controllers[index]['model']
        empty_port = hot and model.endswith('port') and not plan.occupied(index)
        if plan.controllers[index]['spare'] != empty_port:
            outcome.fail('spares', 'controller pci.%d (%s): the json says spare=%s, but it is %s'
                         % (index, model, plan.controllers[index]['spare'],
                            'an empty hot-pluggable port' if empty_port else 'not an empty hot-pluggable port'))
        targets = free if hot else (free[:1] or list(slots[:1]))
        if hot and not below_numa_expander(plan, index) and (not machine.pcie or model.endswith('port')):
            spares += len(free)
        for n, slot in enumerate(targets):
            count += 1
            args = {'driver': 'virtio-net-pci', 'id': 'hotplug%d' % count, 'bus': name, 'addr': '0x%x' % slot}
            reply = qmp.call('device_add', args)
            error = reply.get('error', {}).get('desc') if 'error' in reply else None
            if hot:
                outcome.spare_total += 1
                if error is None:
                    outcome.spare_ok += 1
                    continue
                rest = len(targets) - n - 1
                if any(r in error for r in REFUSALS) and rest:
                    # the whole bus refuses: its other empty slots fail alike (each failed
                    # device_add costs QEMU an RCU grace period, ~60 ms, so they are not tried)
                    outcome.spare_total += rest
                    outcome.fail('hotplug', 'device_add into the empty slot %02x of %s (%s, hot-pluggable in the plan) '
                                 'was refused, and so are its %d other empty slots: %s' % (slot, name, model, rest, error))
                    break
                outcome.fail('hotplug', 'device_add into the empty slot %02x of %s (%s, hot-pluggable in the plan) '
                             'was refused: %s' % (slot, name, model, error))
            elif error is not None and any(r in error for r in REFUSALS):
                outcome.refused_total += 1
                outcome.refused_ok += 1
            elif error is None and model in ACPI_BRIDGE_HOTPLUG.get(machine.key, ()):
                outcome.acpi_accepted += 1
            else:
                outcome.refused_total += 1
                outcome.fail('hotplug', 'device_add into %s slot %02x (%s, not hot-pluggable in the plan) %s'
                             % (name, slot, model, 'was accepted' if error is None else 'failed otherwise: ' + error))
    return spares


def read_firmware_numbers(machine, machine_type, memory, lines, workdir, outcome, realized, plan):
    """Boot SeaBIOS (no -S) until it has numbered the buses, then compare the numbers it
    programmed (query-pci) with the computed ones and with the plan."""
    log = os.path.join(workdir, 'seabios.log')
    args = qemu_arguments(machine, machine_type, memory, lines, firmware_log=log)
    q = Qemu(args, workdir)
    ok = True

    def problem(text):
        nonlocal ok
        ok = False
        outcome.fail('firmware', text)

    try:
        q.start()
        deadline = time.monotonic() + 60
        text = ''
        while time.monotonic() < deadline:
            try:
                with open(log, encoding='utf-8', errors='replace') as f:
                    text = f.read()
            except OSError:
                text = ''
            if '=== PCI device probing ===' in text or 'panic' in text:
                break
            time.sleep(0.02)
        else:
            problem('SeaBIOS did not finish bus numbering within 60 s; log: %s' % text[-500:])
        q.qmp.execute('stop')
        found = {}

        def walk(devices):
            for d in devices:
                found.setdefault(d.get('qdev_id', ''), []).append(d)
                bridge = d.get('pci_bridge')
                if bridge:
                    walk(bridge.get('devices', []))
        for root in q.qmp.execute('query-pci'):
            walk(root['devices'])
        # bridges: secondary and subordinate as programmed, against the computed ones
        for x in realized.devices:
            if x.cls != 'PCI bridge' or x.sec is None:
                continue
            key = x.id
            cands = [d for d in found.get(key, []) if d.get('pci_bridge')
                     and (d['slot'], d['function']) == (x.slot, x.function)]
            if len(cands) != 1:
                problem('SeaBIOS: the bridge %s (%s) at %s is not in query-pci' % (x.id or '-', x.type, x.where()))
                continue
            b = cands[0]['pci_bridge']['bus']
            if (b['secondary'], b['subordinate']) != (x.sec, x.sub):
                problem('SeaBIOS programmed %s (%s) with buses [%02x-%02x], computed [%02x-%02x]'
                        % (x.id or '-', x.type, b['secondary'], b['subordinate'], x.sec, x.sub))
        # devices: their bus number as programmed, against the plan
        for d in plan.devices:
            if d['kind'] != 'pci' or d['name'] not in plan.emitted_ids:
                continue
            cands = found.get(d['name'], [])
            if len(cands) != 1:
                problem('SeaBIOS: %s is not reachable in query-pci (its bridges were not programmed)' % d['name'])
                continue
            got = '0000:%02x:%02x.%x' % (cands[0]['bus'], cands[0]['slot'], cands[0]['function'])
            if got != d['address']:
                problem('SeaBIOS put %s at %s, the plan says %s' % (d['name'], got, d['address']))
    except QemuRefused as e:
        problem('QEMU refused to boot SeaBIOS: %s' % e)
    finally:
        q.stop()
    outcome.firmware = ok


def run_case(ctx, machine, index, policy, firmware):
    """Plans domain `index` of `machine` with `policy`, runs it in QEMU and checks it."""
    outcome = Outcome(machine.key, index, policy)
    xml, memory, machine_type, numa_constrained = make_domain(ctx.seed, machine, index)
    outcome.xml = xml
    outcome.command = 'pciplan plan --policy %s --format qemu domain.xml' % policy
    status, out, err = run_pciplan(ctx.tool, xml, policy, 'qemu')
    if policy == 'libvirt' and numa_constrained:
        # documented: the libvirt policy refuses NUMA constraints (libvirt cannot place by node)
        if status in (1, 2) and 'NUMA' in err and not out:
            outcome.expected_refusal = True
        else:
            outcome.fail('plan', 'the libvirt policy should refuse a numa-node constraint; status %d: %s'
                         % (status, err.strip() or out[:200]))
        return outcome
    if (policy == 'libvirt' and status == 2 and 'is on a loop of controllers' in err and not out
            and re.search(r"model='pcie-switch-upstream-port'\s*/>", xml)):
        # documented: libvirt puts an address-less switch upstream port on one of its own
        # downstream ports (libvirt 9.0 does); the libvirt policy refuses that loop
        outcome.loop_refusal = True
        return outcome
    if status != 0:
        outcome.fail('plan', 'pciplan exited with status %d: %s' % (status, err.strip()))
        return outcome
    lines = [l for l in out.splitlines() if l.strip()]
    outcome.qemu_lines = lines
    status, out, err = run_pciplan(ctx.tool, xml, policy, 'json')
    if status != 0:
        outcome.fail('plan', '--format json exited with status %d: %s' % (status, err.strip()))
        return outcome
    doc = json.loads(out)
    status, tree, err = run_pciplan(ctx.tool, xml, policy, 'tree')
    if status != 0:
        outcome.fail('plan', '--format tree exited with status %d: %s' % (status, err.strip()))
        return outcome
    plan = Plan(doc, lines, tree)
    workdir = tempfile.mkdtemp(prefix='pq-', dir=ctx.workroot)
    realized = None
    try:
        args = qemu_arguments(machine, machine_type, memory, lines)
        outcome.args = shlex.join(args + ['-qmp', 'unix:qmp.sock,server=on,wait=off'])
        q = Qemu(args, workdir)
        try:
            q.start()
            outcome.started = True
            realized = Realized(q.qmp.hmp('info qtree'))
            outcome.topology_ok = check_topology(plan, realized, outcome, machine)
            outcome.numbers_ok = check_numbers(plan, realized, outcome)
            spares = check_hotplug(q.qmp, plan, realized, outcome, machine)
            if policy == 'pciplan':
                # the pciplan policy promises that many spare ports (or slots), or a warning
                m = re.search(r'spare-ports="(\d+)"', xml)
                want = int(m.group(1)) if m else 4
                short = any(w['code'] == 'spares_short' for w in doc['warnings'])
                if spares < want and not short:
                    outcome.fail('spares', 'the plan leaves %d spare hot-pluggable %s, %d were asked for, and it does '
                                 'not warn' % (spares, 'ports' if machine.pcie else 'slots', want))
        except QemuRefused as e:
            outcome.fail('start', 'QEMU refused the plan: %s' % e)
        except (OSError, EOFError, RuntimeError, ValueError) as e:
            outcome.fail('qmp', 'talking to QEMU failed: %s; %s' % (e, q.messages()))
            realized = None
        finally:
            q.stop()
        if firmware and realized is not None:
            read_firmware_numbers(machine, machine_type, memory, lines, workdir, outcome, realized, plan)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return outcome


def run_case_safely(ctx, machine, index, policy, firmware):
    """run_case, with any surprise in the test itself reported as a failure of the case."""
    t0 = time.monotonic()
    try:
        outcome = run_case(ctx, machine, index, policy, firmware)
    except Exception as e:  # noqa: BLE001 -- a bug here must not hide the other cases
        outcome = Outcome(machine.key, index, policy)
        outcome.xml = make_domain(ctx.seed, machine, index)[0]
        outcome.fail('internal', 'the test itself failed: %r' % e)
    outcome.seconds = time.monotonic() - t0
    return outcome

# ---------------------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------------------


class Context:
    pass


def describe(o, ctx, full):
    seed = ctx.seed
    head = '%s domain %d, --policy %s (seed %d)' % (o.machine, o.index, o.policy, seed)
    out = ['FAIL ' + head]
    for check, text in o.problems[:12]:
        out.append('  [%s] %s' % (check, text))
    if len(o.problems) > 12:
        out.append('  ... and %d more problems' % (len(o.problems) - 12))
    if full:
        out.append('  reproduce: python3 %s --pciplan %s --seed %d --only %s:%d'
                   % (os.path.abspath(__file__), ctx.tool, seed, o.machine, o.index))
        out.append('         or: %s, then QEMU as below' % o.command)
        out.append('  --- domain.xml')
        out.extend('  ' + l for l in o.xml.rstrip('\n').splitlines())
        if o.qemu_lines:
            out.append('  --- %s' % o.command)
            out.extend('  ' + l for l in o.qemu_lines)
        if o.args:
            out.append('  --- QEMU command line')
            out.append('  ' + o.args)
    return '\n'.join(out)


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
        print('qemu.topology: skipped: %s (Debian: qemu-system-x86, qemu-system-arm, qemu-system-misc)' % a.skip)
        return SKIPPED

    if a.print_domain:
        key, _, index = a.print_domain.partition(':')
        sys.stdout.write(make_domain(a.seed, MACHINES[key], int(index))[0])
        return 0
    machines = [MACHINES[k] for k in a.machines.split(',') if k]
    missing = [m.binary for m in machines if shutil.which(m.binary) is None]
    if missing:
        print('qemu.topology: skipped, %s not installed (Debian: qemu-system-x86, qemu-system-arm, qemu-system-misc)'
              % ', '.join(missing))
        return SKIPPED
    if not a.pciplan or not os.access(a.pciplan, os.X_OK):
        print('qemu.topology: %s is not an executable pciplan tool' % a.pciplan)
        return 2

    ctx = Context()
    ctx.seed = a.seed
    ctx.tool = a.pciplan
    ctx.workroot = tempfile.mkdtemp(prefix='pciplan-qemu-test.')
    ctx.seabios = any(m.x86 for m in machines) and a.firmware_every > 0
    if a.only:
        cases = []
        for item in a.only.split(','):
            key, _, index = item.partition(':')
            cases += [(MACHINES[key], int(index), p) for p in POLICIES]
    else:
        cases = [(m, i, p) for i in range(a.domains) for m in machines for p in POLICIES]
    # the SeaBIOS sample: every Nth x86 plan, counted per machine and policy
    firmware = set()
    if ctx.seabios:
        seen = {}
        for m, i, p in cases:
            if m.x86:
                n = seen[(m.key, p)] = seen.get((m.key, p), -1) + 1
                if a.only or n % a.firmware_every == a.firmware_every - 1:
                    firmware.add((m.key, i, p))

    print('qemu.topology: seed %d, %d domains x %d policies on %s, %d QEMU at a time, SeaBIOS on %d x86 plans'
          % (a.seed, len(cases) // 2, 2, ','.join(m.key for m in machines), a.jobs, len(firmware)))
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

    outcomes.sort(key=lambda o: ([m.key for m in machines].index(o.machine), POLICIES.index(o.policy), o.index))
    failures = [o for o in outcomes if o.problems]
    for n, o in enumerate(failures):
        print(describe(o, ctx, n < a.show))
    if a.failures:
        os.makedirs(a.failures, exist_ok=True)
        for old in os.listdir(a.failures):   # the previous run's cases, nothing else
            if re.match(r'^[a-z0-9]+-\d+-(libvirt|pciplan)\.(xml|txt)$', old):
                os.unlink(os.path.join(a.failures, old))
        for o in failures:
            stem = os.path.join(a.failures, '%s-%d-%s' % (o.machine, o.index, o.policy))
            with open(stem + '.xml', 'w') as f:
                f.write(o.xml)
            with open(stem + '.txt', 'w') as f:
                f.write(describe(o, ctx, True) + '\n')

    print('\nqemu.topology results (seed %d):' % a.seed)
    total_started = 0
    for m in machines:
        for p in POLICIES:
            mine = [o for o in outcomes if o.machine == m.key and o.policy == p]
            if not mine:
                continue
            s = [o for o in mine if o.started]
            total_started += len(s)
            fw = [o for o in s if o.firmware is not None]
            line = ('  %-8s %-8s %3d plans started, topology identical in %d, bus numbers equal in %d, '
                    'spare ports hot-plugged %d/%d, non-hotpluggable refusals %d/%d'
                    % (m.key, p, len(s), sum(o.topology_ok for o in s), sum(o.numbers_ok for o in s),
                       sum(o.spare_ok for o in s), sum(o.spare_total for o in s),
                       sum(o.refused_ok for o in s), sum(o.refused_total for o in s)))
            extras = []
            acpi = sum(o.acpi_accepted for o in s)
            if acpi:
                extras.append('%d accepted by q35 ACPI bridge hotplug' % acpi)
            if fw:
                extras.append('SeaBIOS agreed in %d/%d' % (sum(bool(o.firmware) for o in fw), len(fw)))
            refused = sum(o.expected_refusal for o in mine)
            if refused:
                extras.append('%d NUMA domains refused as documented' % refused)
            loops = sum(o.loop_refusal for o in mine)
            if loops:
                extras.append('%d switch-port loops refused as documented' % loops)
            not_started = len([o for o in mine if not o.started and not o.expected_refusal and not o.loop_refusal])
            if not_started:
                extras.append('%d NOT STARTED' % not_started)
            print(line + ('; ' + ', '.join(extras) if extras else ''))
    print('  %d plans started in QEMU, %d failing, %.0f s' % (total_started, len(failures), wall))
    if failures:
        checks = {}
        for o in failures:
            for check in sorted({c for c, _ in o.problems}):
                checks[check] = checks.get(check, 0) + 1
        print('  failing plans by check: %s' % ', '.join('%s %d' % kv for kv in sorted(checks.items())))
    if failures:
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
