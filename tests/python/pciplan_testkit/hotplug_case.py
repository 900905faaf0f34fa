"""One guest of the QEMU hot-plug suite: a random domain planned with one policy and started
in QEMU, then devices hot-added into it one by one as `pciplan attach --live` says, until the
tool refuses; every answer of the tool is checked against what QEMU does with it.

`choose_guests(ctx, machine, policy, count)` picks the domains (random_domains.QEMU_SUITE) of
one machine and policy: for the pciplan policy on a machine with NUMA expanders about two
thirds of them with numa-node constraints (so with expander buses bound to nodes), the others
as they come (with or without NUMA cells); for the libvirt policy none with numa-node
constraints (it refuses them, as documented) and none it refuses as libvirt does.
`run_guest_safely(ctx, machine, index, policy, kinds)` runs one guest:

 1. `pciplan plan` of the domain in --format xml is RUNNING.xml, the running guest's
    definition; --format qemu starts QEMU paused (-S; the backends a VMM adds: qemu.py). On
    x86 the guest then runs SeaBIOS until it has numbered the buses and is stopped again, so
    that query-pci shows the bus numbers firmware programmed; aarch64 and riscv64 virt have
    no firmware here that numbers buses (QEMU itself does not), and their guest bus numbers
    are the depth-first numbering of the tree QEMU built (qtree.number_buses, which the
    qemu.topology test holds against SeaBIOS on x86).
 2. "bus not hot-pluggable": a device pinned to a free slot of the root bus of a PCI Express
    machine (PINNED_PER_ROOT of them, each a random kind: slot 0x1d when it is free, then
    other free slots) and of every pci-expander-bus (pc) is refused by the tool (exit 1),
    and QEMU refuses device_add of it there ("does not support hotplugging"). (A
    pcie-expander-bus takes only root ports in libvirt: a device there is an input error.)
 3. hot-adds: a device of a random KIND (or, pciplan policy, with a numa-node in the
    metadata, keyed by its alias) is given to `pciplan attach --live` in --format qmp, json
    and xml. When accepted, the QMP commands are sent as printed, QEMU must take them, and
    the device must be where the json plan says: on the planned bus, slot and function (QOM
    parent_bus and addr), at the planned guest address (query-pci on x86; the firmware
    numbering of QEMU's tree elsewhere), below an expander of its NUMA node when it has one;
    the qmp, json and xml answers must agree. The device element (--format xml, with its
    address) goes into RUNNING.xml. A refused kind (exit 1) is not tried again, nor a NUMA
    node; the guest is done when every kind and node is refused.
 4. refusals of NUMA-bound devices (PCI Express kinds on PCI Express machines): "no spare
    on the node" when the node has expander buses (KINDS_PER_FULL_NODE kinds in all are
    tried there): in QEMU every port below them (pc: every slot of every hot-pluggable bus
    below them) holds a device, and QEMU refuses device_add of the device on the expander
    bus; "no expander on the node" otherwise: QEMU refuses to hot-add an expander (pxb /
    pxb-pcie). Other refusals (no free slot outside NUMA nodes, ...) are
    counted by the tool's reason, not checked in QEMU: they follow the policy's rules (a
    conventional PCI device goes on a PCI bridge only), not QEMU's.
 5. the cold plan of the final RUNNING.xml (what the next boot gives) is the topology QEMU
    has now (qemu_checks.check_topology), hot-added devices included; the controllers that
    plan adds (the pciplan policy's new spare ports for the next boot) hold no device and
    are left out.

Every problem is kept with the step, the device element, the tool's answers, QEMU's reply
and the RUNNING.xml of that step; `report` and `write_reports` write them out.
"""
import json
import os
import random
import re
import shlex
import shutil
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET
from typing import NamedTuple, Optional

from . import tool
from .plan_output import Plan, lines_of
from .qemu import Qemu, QemuRefused, qemu_arguments, wait_for_log
from .qemu_case import LIBVIRT_REFUSALS
from .qemu_checks import check_topology
from .qtree import Realized, number_buses, prop_number
from .random_domains import make_domain


class Kind(NamedTuple):
    name: str
    element: str             # the device element; {mac} and {extra} (alias, address) are filled in
    driver: Optional[str]    # the QEMU device the tool gives it (None: it depends on the guest)
    express: bool            # planned as a PCI Express device (it may take a port of its own)
    hotpluggable: bool = True  # QEMU 7.2 hot-plugs it (False: the tool should refuse it)


def _nic(model):
    return "<interface type='user'><mac address='{mac}'/><model type='%s'/>{extra}</interface>" % model


# Devices QEMU can device_add without a backend, as libvirt hot-plugs them (disks, shared
# memory, vsock and host devices need a backend and are left out).
KINDS = (
    Kind('virtio-net', _nic('virtio'), 'virtio-net-pci', True),
    Kind('virtio-net-transitional', _nic('virtio-transitional'), 'virtio-net-pci-transitional', False),
    Kind('virtio-net-non-transitional', _nic('virtio-non-transitional'), 'virtio-net-pci-non-transitional', True),
    Kind('e1000', _nic('e1000'), 'e1000', False),
    Kind('e1000e', _nic('e1000e'), 'e1000e', True),
    Kind('rtl8139', _nic('rtl8139'), 'rtl8139', False),
    Kind('vmxnet3', _nic('vmxnet3'), 'vmxnet3', False),
    Kind('qemu-xhci', "<controller type='usb' model='qemu-xhci'>{extra}</controller>", 'qemu-xhci', True),
    Kind('nec-xhci', "<controller type='usb' model='nec-xhci'>{extra}</controller>", 'nec-usb-xhci', True),
    Kind('ehci', "<controller type='usb' model='ehci'>{extra}</controller>", 'usb-ehci', False),
    Kind('piix3-uhci', "<controller type='usb' model='piix3-uhci'>{extra}</controller>", 'piix3-usb-uhci', False),
    Kind('virtio-scsi', "<controller type='scsi' model='virtio-scsi'>{extra}</controller>", 'virtio-scsi-pci', True),
    Kind('lsilogic', "<controller type='scsi' model='lsilogic'>{extra}</controller>", 'lsi53c895a', False),
    Kind('virtio-serial', "<controller type='virtio-serial'>{extra}</controller>", 'virtio-serial-pci', True),
    Kind('virtio-rng', "<rng model='virtio'><backend model='random'>/dev/urandom</backend>{extra}</rng>",
         'virtio-rng-pci', True),
    Kind('virtio-keyboard', "<input type='keyboard' bus='virtio'>{extra}</input>", 'virtio-keyboard-pci', True),
    Kind('virtio-mouse', "<input type='mouse' bus='virtio'>{extra}</input>", 'virtio-mouse-pci', True),
    Kind('virtio-tablet', "<input type='tablet' bus='virtio'>{extra}</input>", 'virtio-tablet-pci', True),
    Kind('i6300esb', "<watchdog model='i6300esb' action='reset'>{extra}</watchdog>", 'i6300esb', False),
)
# Devices QEMU 7.2 does not hot-plug ("Parameter 'driver' expects a pluggable device type",
# "Only one balloon device is supported"), and libvirt does not hot-plug either: the tool
# should refuse them. Only with --kinds all.
UNPLUGGABLE = (
    Kind('pci-ohci', "<controller type='usb' model='pci-ohci'>{extra}</controller>", 'pci-ohci', False, False),
    Kind('virtio-video', "<video><model type='virtio'/>{extra}</video>", None, True, False),
    Kind('memballoon', "<memballoon model='virtio'>{extra}</memballoon>", 'virtio-balloon-pci', True, False),
)
ALL_KINDS = KINDS + UNPLUGGABLE

# the refusals whose reason is checked in QEMU (see the top of this module)
NODE_FULL, NO_EXPANDER, ROOT_BUS, EXPANDER_BUS = 'no spare on node', 'no expander on node', 'root bus', 'expander bus'
CHECKED_REFUSALS = (NODE_FULL, NO_EXPANDER, ROOT_BUS, EXPANDER_BUS)

EXPANDERS = ('pci-expander-bus', 'pcie-expander-bus')
QEMU_NO_HOTPLUG = 'does not support hotplugging'             # the bus has no hot-plug handler
QEMU_NOT_PLUGGABLE = 'expects a pluggable device type'       # the device type cannot be hot-added
TOOL_NOT_HOTPLUGGABLE = re.compile(r'does not take hot-plugged devices|not hot-pluggable')
SPARE_PORT = re.compile(r'^pcie-(root|switch-downstream)-port$')
GUEST_ADDRESS = re.compile(r'^([0-9a-f]{4}):([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$')
MAX_STEPS = 400   # hot-add attempts per guest, a guard against a tool that never refuses
PINNED_PER_ROOT = 3   # devices pinned to the root bus of a PCI Express machine, each a kind and slot
KINDS_PER_FULL_NODE = 4   # kinds a node without spares must refuse (each checked in QEMU)


def kinds_named(text):
    """The Kinds of a --kinds value: 'default' (KINDS), 'all' (with UNPLUGGABLE) or names."""
    if text == 'default':
        return list(KINDS)
    if text == 'all':
        return list(ALL_KINDS)
    by_name = {k.name: k for k in ALL_KINDS}
    return [by_name[n.strip()] for n in text.split(',') if n.strip()]


def documented_refusal(policy, domain, status, out, err):
    """Whether a failed `plan` is one qemu.topology counts as documented (qemu_case.run_case):
    the libvirt policy refusing numa-node constraints, libvirt's switch-port loop, or what
    libvirt itself refuses."""
    if policy != 'libvirt' or status not in (1, 2) or out:
        return False
    return (domain.numa_constrained and 'NUMA' in err) or 'a loop of controllers' in err or any(
        reason in err for reason in LIBVIRT_REFUSALS)


def choose_guests(ctx, machine, policy, count, limit=5000):
    """The indexes of `count` domains for `machine` and `policy` (see the top of this module)."""
    numa_quota = 0
    if policy == 'pciplan' and machine.numa:
        numa_quota = count - max(1, count // 3) if count > 1 else count
    other_quota = count - numa_quota
    chosen = []
    for index in range(limit):
        if not numa_quota and not other_quota:
            break
        d = make_domain(ctx.seed, machine, index)
        if d.numa_constrained:
            if not numa_quota:
                continue
            numa_quota -= 1
        else:
            if not other_quota:
                continue
            if policy == 'libvirt':
                status, out, err = tool.plan(ctx.tool, d.xml, policy, 'qemu')
                if documented_refusal(policy, d, status, out, err):
                    continue
            other_quota -= 1
        chosen.append(index)
    return chosen


# -- RUNNING.xml ------------------------------------------------------------------------
def insert_device(running, element):
    """RUNNING.xml with the device `element` appended to <devices>, as libvirt records a hot-add."""
    at = running.rfind('</devices>')
    line = running.rfind('\n', 0, at) + 1
    body = '\n'.join('    ' + l for l in element.strip().splitlines())
    return running[:line] + body + '\n' + running[line:]


def with_numa_node(running, alias, node):
    """RUNNING.xml with <pciplan:device alias=ALIAS numa-node=NODE/> in its pciplan metadata
    (the <pciplan:plan> element made, and <metadata>, when the domain has none)."""
    entry = "<pciplan:device alias='%s' numa-node='%d'/>" % (alias, node)
    m = re.search(r'<([\w.-]+):plan\b[^>]*urn:pciplan:plan:1[^>]*?(/?)>', running)
    if m:
        entry = entry.replace('pciplan:', m.group(1) + ':')
        if m.group(2):   # <pciplan:plan .../>: open it
            head = running[m.start():m.end() - 2].rstrip() + '>'
            return running[:m.start()] + head + '\n      ' + entry + '\n    </%s:plan>' % m.group(1) + running[m.end():]
        return running[:m.end()] + '\n      ' + entry + running[m.end():]
    plan = "<pciplan:plan xmlns:pciplan='urn:pciplan:plan:1'>\n      %s\n    </pciplan:plan>" % entry
    m = re.search(r'<metadata\s*>', running)
    if m:
        return running[:m.end()] + '\n    ' + plan + running[m.end():]
    m = re.search(r'</name>[ \t]*\n', running) or re.search(r'<domain\b[^>]*>[ \t]*\n', running)
    return running[:m.end()] + '  <metadata>\n    %s\n  </metadata>\n' % plan + running[m.end():]


def parse_addr(text):
    """(slot, function) of a QEMU addr= value ('0x1f', '0x1f.0x2', '1f.2'), or None."""
    m = re.match(r'^(?:0x)?([0-9a-fA-F]+)(?:\.(?:0x)?([0-7]))?$', str(text or ''))
    return (int(m.group(1), 16), int(m.group(2) or '0', 16)) if m else None


# -- the outcome of one guest -------------------------------------------------------------
class Problem(NamedTuple):
    check: str
    text: str
    detail: dict


class HotplugOutcome:
    def __init__(self, machine, index, policy):
        self.machine, self.index, self.policy = machine, index, policy
        self.started = False
        self.skipped = ''               # a documented refusal of the domain itself
        self.cells = 0
        self.hot_adds = self.hot_adds_ok = 0
        self.numa_hot_adds = self.numa_ok = 0
        self.kinds = {}                 # kind -> hot-adds QEMU took
        self.refusals = {k: [0, 0] for k in CHECKED_REFUSALS}   # [confirmed by QEMU, total]
        self.other_refusals = {}        # the tool's reason -> count
        self.final_ok = None            # the final RUNNING.xml's cold plan is QEMU's topology
        self.problems = []
        self.xml = self.args = ''
        self.seconds = 0.0

    def fail(self, check, text, **detail):
        self.problems.append(Problem(check, text, detail))


def show_tool(fmt, r):
    """A tool Result as report text."""
    text = 'pciplan attach --live --format %s RUNNING.xml DEVICE.xml: exit %d' % (fmt, r.status)
    if r.stdout.strip():
        text += '\n' + r.stdout.rstrip()
    if r.stderr.strip():
        text += '\n' + r.stderr.rstrip()
    return text


def show_qemu(command, reply):
    return '%s -> %s' % (json.dumps(command), json.dumps(reply))


class Guest:
    """One running guest and its RUNNING.xml (see the top of this module)."""

    def __init__(self, ctx, machine, index, policy, kinds, outcome, workdir):
        self.ctx, self.m, self.index, self.policy = ctx, machine, index, policy
        self.kinds = kinds
        self.o = outcome
        self.workdir = workdir
        self.running_path = os.path.join(workdir, 'RUNNING.xml')
        self.device_path = os.path.join(workdir, 'DEVICE.xml')
        self.rng = random.Random('pciplan-hotplug:%d:%s:%d:%s' % (ctx.seed, machine.key, index, policy))
        self.step = 0
        self.q = None
        self.running = ''
        self.controllers = {}
        self.realized = None      # QEMU's tree at the start, buses numbered
        self.pci_numbers = machine.x86   # query-pci has firmware's bus numbers

    # -- the tool ----------------------------------------------------------------------
    def attach(self, running, fmt, device):
        return self.attach_all(running, (fmt,), device)[fmt]

    def attach_all(self, running, formats, device, timeout=120):
        """{format: tool.Result} of `pciplan attach --live` in each of `formats`, run at once."""
        for path, text in ((self.running_path, running), (self.device_path, device)):
            with open(path, 'w') as f:
                f.write(text)
        procs = {}
        for fmt in formats:
            argv = [self.ctx.tool, 'attach', '--live', '--policy', self.policy, '--format', fmt, self.running_path,
                    self.device_path]
            try:
                procs[fmt] = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                              stderr=subprocess.PIPE)
            except OSError as e:
                procs[fmt] = tool.Result(tool.NOT_RUN, '', '%s: %s' % (argv[0], e))
        out = {}
        for fmt, p in procs.items():
            if isinstance(p, tool.Result):
                out[fmt] = p
                continue
            try:
                stdout, stderr = p.communicate(timeout=timeout)
                # the tool's messages name the files as the report does
                stderr = stderr.decode('utf-8', 'replace').replace(self.device_path, 'DEVICE.xml').replace(
                    self.running_path, 'RUNNING.xml')
                out[fmt] = tool.Result(p.returncode, stdout.decode('utf-8', 'replace'), stderr)
            except subprocess.TimeoutExpired:
                p.kill()
                p.communicate()
                out[fmt] = tool.Result(tool.NOT_RUN, '', 'pciplan attach --format %s did not finish in %d s'
                                       % (fmt, timeout))
        return out

    def mac(self):
        return '52:54:00:%02x:%02x:%02x' % (self.index & 0xff, self.step >> 8 & 0xff, self.step & 0xff)

    def device_add(self, args):
        return self.q.qmp.call('device_add', args)

    # -- start ---------------------------------------------------------------------------
    def start(self):
        domain = make_domain(self.ctx.seed, self.m, self.index)
        if self.m.x86 and '<acpi/>' not in domain.xml:
            # QEMU runs with ACPI here, as libvirt runs a domain with <features><acpi/>: on pc
            # pci.0 takes hot-plugged devices only then (the tool reads the feature)
            domain.xml = re.sub(r'(</os>\n?)', r'\1  <features><acpi/></features>\n', domain.xml, count=1)
        self.o.xml = domain.xml
        self.o.cells = domain.xml.count('<cell id=')
        status, out, err = tool.plan(self.ctx.tool, domain.xml, self.policy, 'qemu')
        if status != 0:
            if documented_refusal(self.policy, domain, status, out, err):
                self.o.skipped = err.strip().splitlines()[0] if err.strip() else 'refused'
            else:
                self.o.fail('plan', 'pciplan plan --format qemu exited with status %d: %s' % (status, err.strip()))
            return False
        lines = lines_of(out)
        status, running, err = tool.plan(self.ctx.tool, domain.xml, self.policy, 'xml')
        if status != 0:
            self.o.fail('plan', 'pciplan plan --format xml exited with status %d: %s' % (status, err.strip()))
            return False
        self.running = running
        status, out, err = tool.plan(self.ctx.tool, running, self.policy, 'json')
        if status != 0:
            self.o.fail('plan', 'pciplan plan --format json of RUNNING.xml exited with status %d: %s'
                        % (status, err.strip()))
            return False
        self.controllers = {c['index']: c for c in json.loads(out)['controllers']}
        log = os.path.join(self.workdir, 'seabios.log') if self.m.x86 else None
        args = qemu_arguments(self.m, domain.machine_type, domain.memory_kib, lines, firmware_log=log)
        if log and '-S' not in args:
            args.insert(1, '-S')   # paused until the QMP client lets SeaBIOS run
        self.o.args = shlex.join(args + ['-qmp', 'unix:qmp.sock,server=on,wait=off'])
        self.q = Qemu(args, self.workdir)
        try:
            self.q.start()
        except QemuRefused as e:
            self.o.fail('start', 'QEMU refused the plan: %s' % e)
            return False
        self.o.started = True
        if log and not self.run_seabios(log):
            return False
        self.realized = Realized(self.q.qmp.hmp('info qtree'))
        for text in number_buses(self.realized):
            self.o.fail('bus numbers', 'QEMU\'s tree cannot be numbered: %s' % text)
        return True

    def run_seabios(self, log):
        """Let SeaBIOS number the buses, then pause the guest again."""
        self.q.qmp.execute('cont')
        text, _ = wait_for_log(log, lambda t: '=== PCI device probing ===' in t, 30)
        self.q.qmp.execute('stop')
        if '=== PCI device probing ===' not in text:
            self.o.fail('firmware', 'SeaBIOS did not number the buses within 30 s; its log ends: %s' % text[-400:])
            return False
        return True

    # -- where things are ----------------------------------------------------------------
    def below(self, index):
        """The controllers below controller `index` (its buses' descendants)."""
        out = []
        for c in self.controllers.values():
            seen, a = set(), c['address']
            while a is not None and a['bus'] not in seen:
                seen.add(a['bus'])
                if a['bus'] == index:
                    out.append(c)
                    break
                parent = self.controllers.get(a['bus'])
                a = parent['address'] if parent else None
        return out

    def node_of_bus(self, name):
        """The NUMA node of the expander above QEMU's bus `name`, or None."""
        buses = self.realized.by_name.get(name, [])
        if len(buses) != 1:
            return None
        bus = buses[0]
        while bus.bridge is not None:
            bus = bus.bridge.bus
        return prop_number(bus.expander.props.get('numa_node')) if bus.expander is not None else None

    def guest_address(self, name, bus_name, slot, function):
        """(bus number, slot, function) of device `name` as the guest sees it, and where from."""
        if self.pci_numbers:
            def walk(devices):
                for d in devices:
                    if d.get('qdev_id') == name:
                        return d
                    found = walk(d.get('pci_bridge', {}).get('devices', []))
                    if found:
                        return found
                return None
            for root in self.q.qmp.execute('query-pci'):
                d = walk(root['devices'])
                if d:
                    return (d['bus'], d['slot'], d['function']), 'query-pci (bus numbers as SeaBIOS programmed them)'
            return None, 'query-pci, which does not list it'
        buses = self.realized.by_name.get(bus_name, [])
        number = buses[0].number if len(buses) == 1 else None
        return (number, slot, function), 'QEMU\'s tree with the buses numbered as firmware numbers them'

    # -- one hot-add ---------------------------------------------------------------------
    def hot_add(self, kind, node):
        """'added', 'refused', 'dropped' (a problem; QEMU and RUNNING.xml still agree) or
        'diverged' (a problem after which they do not)."""
        self.step += 1
        alias = 'ua-hp%d' % self.step if node is not None else None
        device = kind.element.format(mac=self.mac(), extra="<alias name='%s'/>" % alias if alias else '')
        running = self.running if node is None else with_numa_node(self.running, alias, node)
        detail = {'step': self.step, 'device': device, 'running': running}
        where = '%s%s' % (kind.name, ' on NUMA node %d' % node if node is not None else '')
        r = self.attach(running, 'qmp', device)
        if r.status == 1:
            return self.refused(kind, node, device, r, detail)
        if r.status != 0:
            self.o.fail('tool', 'step %d, %s: pciplan attach --live exited with status %d'
                        % (self.step, where, r.status), tool=show_tool('qmp', r), **detail)
            return 'dropped'
        answers = self.attach_all(running, ('json', 'xml'), device)   # both at once
        rj, rx = answers['json'], answers['xml']
        # the json plan is long: it is in the report only when it failed
        detail['tool'] = '\n'.join(show_tool(f, x) for f, x in (('qmp', r), ('json', rj), ('xml', rx))
                                   if f != 'json' or x.status != 0)
        if rj.status != 0 or rx.status != 0:
            self.o.fail('tool', 'step %d, %s: --format qmp accepted the device, json exited with %d and xml with %d'
                        % (self.step, where, rj.status, rx.status), **detail)
            return 'dropped'
        try:
            commands = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
            doc = json.loads(rj.stdout)
            element = rx.stdout.strip()
            address = ET.fromstring(element).find('address')
        except (ValueError, ET.ParseError) as e:
            self.o.fail('tool', 'step %d, %s: unreadable answer: %s' % (self.step, where, e), **detail)
            return 'dropped'
        controllers = {c['index']: c for c in doc['controllers']}
        devices = {d['name']: d for d in doc['devices']}
        self.o.hot_adds += 1
        self.o.numa_hot_adds += node is not None
        if not commands or any(c.get('execute') != 'device_add' for c in commands):
            self.o.fail('tool', 'step %d, %s: --format qmp gives no device_add command' % (self.step, where), **detail)
            return 'dropped'
        problems = []
        for n, command in enumerate(commands):
            args = command.get('arguments', {})
            name = args.get('id')
            d = devices.get(name)
            if d is None or d['kind'] != 'pci':
                problems.append('the json plan has no PCI device %s' % name)
                continue
            la = d['libvirt_address']
            want_bus = controllers[la['bus']]['qemu_bus'] if la['bus'] in controllers else None
            want = (la['slot'], la['function'])
            if args.get('bus') != want_bus or parse_addr(args.get('addr')) != want:
                problems.append('the QMP command puts %s on bus %s addr %s, the json plan on %s %02x.%x'
                                % (name, args.get('bus'), args.get('addr'), want_bus, want[0], want[1]))
            if len(commands) == 1 and kind.driver and args.get('driver') != kind.driver:
                problems.append('the QMP command adds a %s, the test expects a %s for %s'
                                % (args.get('driver'), kind.driver, kind.name))
            if controllers.get(la['bus'], {}).get('added'):
                problems.append('%s goes on a controller the plan adds (pci.%d)' % (name, la['bus']))
            reply = self.device_add(args)
            detail['qemu'] = show_qemu({'execute': 'device_add', 'arguments': args}, reply)
            if 'error' in reply:
                self.o.fail('qemu', 'step %d, %s: QEMU refused the hot-add the tool accepted: %s'
                            % (self.step, where, reply['error'].get('desc')), **detail)
                if n:   # earlier commands of this device were taken: QEMU has more than RUNNING.xml
                    return 'diverged'
                return 'dropped'
            problems += self.placed(name, d, want_bus, want, node)
        if address is None or address.get('type') != 'pci':
            problems.append('--format xml gives the device no PCI address')
        elif len(commands) == 1:
            d = devices.get(commands[0].get('arguments', {}).get('id'))
            got = tuple(int(address.get(k, '0'), 0) for k in ('bus', 'slot', 'function'))
            if d is not None and got != (d['libvirt_address']['bus'], d['libvirt_address']['slot'],
                                         d['libvirt_address']['function']):
                problems.append('--format xml gives the address bus %d slot %d function %d, the json plan %s'
                                % (got + (d['libvirt_address'],)))
        if problems:
            for text in problems:
                self.o.fail('placement', 'step %d, %s: %s' % (self.step, where, text), **detail)
            return 'diverged'
        self.running = insert_device(running, element)
        self.o.hot_adds_ok += 1
        self.o.numa_ok += node is not None
        self.o.kinds[kind.name] = self.o.kinds.get(kind.name, 0) + 1
        return 'added'

    def placed(self, name, d, want_bus, want, node):
        """Where QEMU put device `name`, against the json plan's device `d`."""
        problems = []
        try:
            parent = self.q.qmp.execute('qom-get', {'path': '/machine/peripheral/' + name, 'property': 'parent_bus'})
            devfn = self.q.qmp.execute('qom-get', {'path': '/machine/peripheral/' + name, 'property': 'addr'})
        except RuntimeError as e:
            return ['QEMU took device_add, but has no device %s: %s' % (name, e)]
        bus_name = parent.rstrip('/').rsplit('/', 1)[-1]
        got = (devfn >> 3, devfn & 7)
        if (bus_name, got) != (want_bus, want):
            problems.append('QEMU has %s on %s %02x.%x, the plan on %s %02x.%x'
                            % (name, bus_name, got[0], got[1], want_bus, want[0], want[1]))
        m = GUEST_ADDRESS.match(d['address'] or '')
        planned = tuple(int(m.group(k), 16) for k in (2, 3, 4)) if m else None
        guest, source = self.guest_address(name, bus_name, got[0], got[1])
        if planned is None or guest != planned:
            problems.append('the guest address of %s is %s (%s), the plan says %s'
                            % (name, '%02x:%02x.%x' % guest if guest and None not in guest else 'unknown', source,
                               d['address']))
        if node is not None and self.node_of_bus(bus_name) != node:
            problems.append('%s is bound to NUMA node %d, QEMU has it on %s, below %s' % (
                name, node, bus_name, 'NUMA node %s' % self.node_of_bus(bus_name)
                if self.node_of_bus(bus_name) is not None else 'no expander'))
        return problems

    # -- refusals ------------------------------------------------------------------------
    def free_slot(self, realized, c, prefer=None, exclude=()):
        """A slot of controller `c`'s bus that neither QEMU nor RUNNING.xml uses (nor one of
        `exclude`: (controller index, slot)), or None."""
        buses = realized.by_name.get(c['qemu_bus'], [])
        used = {x.slot for b in buses for x in b.devices}
        free = [s for s in range(c['slots']['first'], c['slots']['last'] + 1)
                if s not in used and (c['index'], s) not in exclude
                and "bus='0x%02x' slot='0x%02x'" % (c['index'], s) not in self.running]
        if prefer in free:
            return prefer
        return free[-1] if free else None

    def confirm(self, label, detail, reply, expected, context):
        """Counts refusal `label`: confirmed when QEMU's reply is an error containing one of `expected`."""
        self.o.refusals[label][1] += 1
        desc = reply.get('error', {}).get('desc') if 'error' in reply else None
        if desc is not None and any(e in desc for e in expected):
            return True
        self.o.fail('refusal', 'step %d, %s: the tool refused it, and QEMU %s' % (
            detail['step'], context, 'took it' if desc is None else 'refused it otherwise: ' + desc), **detail)
        return False

    def refused(self, kind, node, device, r, detail):
        detail['tool'] = show_tool('qmp', r)
        if node is None:
            m = re.search(r': ([^:]*?)(?:,|\(|$)', r.stderr.strip().splitlines()[-1] if r.stderr.strip() else '')
            reason = m.group(1).strip() if m else r.stderr.strip()[:80]
            self.o.other_refusals[reason] = self.o.other_refusals.get(reason, 0) + 1
            return 'refused'
        if 'NUMA node' not in r.stderr:
            self.o.fail('refusal', 'step %d, %s on NUMA node %d: refused for another reason than its node'
                        % (self.step, kind.name, node), **detail)
            return 'refused'
        now = Realized(self.q.qmp.hmp('info qtree'))
        expanders = [c for c in self.controllers.values() if c['model'] in EXPANDERS and c['numa_node'] == node]
        context = '%s on NUMA node %d' % (kind.name, node)
        if not expanders:
            # no expander on the node, and QEMU does not hot-add one
            root = self.controllers[0]
            args = {'driver': 'pxb-pcie' if self.m.pcie else 'pxb', 'id': 'refused%d' % self.step,
                    'bus': root['qemu_bus'], 'bus_nr': 128, 'numa_node': node}
            slot = self.free_slot(now, root)
            if slot is not None:
                args['addr'] = '0x%x' % slot
            reply = self.device_add(args)
            detail['qemu'] = show_qemu({'execute': 'device_add', 'arguments': args}, reply)
            if self.confirm(NO_EXPANDER, detail, reply, (QEMU_NOT_PLUGGABLE, QEMU_NO_HOTPLUG),
                            context + ' (no expander bus there; a hot-added %s)' % args['driver']):
                self.o.refusals[NO_EXPANDER][0] += 1
            return 'refused' if 'error' in reply else 'diverged'
        ok, replies = True, []
        for e in expanders:
            for c in self.below(e['index']):
                # where a device of the node can be hot-plugged: every hot-pluggable bus on pc;
                # on PCI Express machines the ports (NUMA-bound kinds are PCI Express devices,
                # and the plan puts those on ports only, one per port)
                if not c['hotpluggable'] or (self.m.pcie and not SPARE_PORT.search(c['model'])):
                    continue
                buses = now.by_name.get(c['qemu_bus'], [])
                used = {x.slot for b in buses for x in b.devices}
                free = [s for s in range(c['slots']['first'], c['slots']['last'] + 1) if s not in used]
                if len(buses) != 1 or free:
                    ok = False
                    state = ('has the free slots %s in QEMU' % ', '.join('%02x' % s for s in free) if free
                             else 'is not in QEMU')
                    self.o.fail('refusal', 'step %d, %s: the tool says the node has no spare, but %s (%s) below its '
                                'expander %s %s' % (self.step, context, c['qemu_bus'], c['model'], e['qemu_bus'],
                                                    state), **detail)
            args = {'driver': kind.driver, 'id': 'refused%d' % self.step, 'bus': e['qemu_bus']}
            slot = self.free_slot(now, e)
            if slot is not None:
                args['addr'] = '0x%x' % slot
            reply = self.device_add(args)
            replies.append(show_qemu({'execute': 'device_add', 'arguments': args}, reply))
            detail['qemu'] = '\n'.join(replies)
            if not self.confirm(NODE_FULL, detail, reply, (QEMU_NO_HOTPLUG,), context + ' on its expander bus %s'
                                % e['qemu_bus']):
                ok = False
                if 'error' not in reply:
                    return 'diverged'
            elif ok:
                self.o.refusals[NODE_FULL][0] += 1
        return 'refused'

    def pinned_refusals(self):
        """A device pinned to a bus that is not hot-pluggable: the root bus of a PCI Express
        machine (slot 0x1d when free) and every expander bus."""
        targets = []
        root = self.controllers[0]
        if not root['hotpluggable']:
            targets += [(ROOT_BUS, root, 0x1d)] * PINNED_PER_ROOT
        # (libvirt puts only root ports on a pcie-expander-bus: a device there is an input error)
        targets += [(EXPANDER_BUS, c, None) for c in self.controllers.values() if c['model'] == 'pci-expander-bus']
        # libvirt's live path refuses non-SCSI controllers for its own reason: not this check's
        usable = [k for k in self.usable_kinds() if k.driver and k.hotpluggable and
                  not (self.policy == 'libvirt' and k.element.startswith('<controller') and "type='scsi'" not in k.element)]
        tried = set()
        for label, c, prefer in targets:
            slot = self.free_slot(self.realized, c, prefer, exclude=tried)
            if slot is None or not usable:
                continue
            tried.add((c['index'], slot))
            self.step += 1
            kind = self.rng.choice(usable)
            pin = "<address type='pci' domain='0' bus='%d' slot='0x%02x' function='0'/>" % (c['index'], slot)
            device = kind.element.format(mac=self.mac(), extra=pin)
            detail = {'step': self.step, 'device': device, 'running': self.running}
            context = '%s pinned to %s slot %02x (%s)' % (kind.name, c['qemu_bus'], slot, c['model'])
            r = self.attach(self.running, 'qmp', device)
            detail['tool'] = show_tool('qmp', r)
            if r.status != 1 or not TOOL_NOT_HOTPLUGGABLE.search(r.stderr):
                self.o.refusals[label][1] += 1
                self.o.fail('refusal', 'step %d, %s: the tool should refuse it (exit 1: the bus is not hot-pluggable)'
                            % (self.step, context), **detail)
                continue
            args = {'driver': kind.driver, 'id': 'refused%d' % self.step, 'bus': c['qemu_bus'], 'addr': '0x%x' % slot}
            reply = self.device_add(args)
            detail['qemu'] = show_qemu({'execute': 'device_add', 'arguments': args}, reply)
            if self.confirm(label, detail, reply, (QEMU_NO_HOTPLUG,), context):
                self.o.refusals[label][0] += 1
            elif 'error' not in reply:
                return False
        return True

    # -- the whole guest -----------------------------------------------------------------
    def usable_kinds(self):
        """The kinds this guest may have: no USB controller where USB is off (model='none':
        libvirt refuses another USB controller there, and so does the tool, exit 2)."""
        if re.search(r"<controller type='usb'[^>]*model='none'", self.running):
            return [k for k in self.kinds if "type='usb'" not in k.element]
        return list(self.kinds)

    def hot_add_until_refused(self):
        plain = self.usable_kinds()
        bound = [k for k in plain if k.driver and k.hotpluggable and (k.express or not self.m.pcie)]
        nodes = list(range(self.o.cells)) if self.policy == 'pciplan' and bound else []
        while (plain or nodes) and self.step < MAX_STEPS:
            if nodes and (not plain or self.rng.random() < 0.35):
                node, kind = self.rng.choice(nodes), self.rng.choice(bound)
            else:
                node, kind = None, self.rng.choice(plain)
            result = self.hot_add(kind, node)
            if result == 'refused' and node is not None and any(
                    c['model'] in EXPANDERS and c['numa_node'] == node for c in self.controllers.values()):
                # a node without spares refuses every kind: some more, each checked in QEMU
                others = [k for k in bound if k is not kind]
                for other in self.rng.sample(others, min(len(others), KINDS_PER_FULL_NODE - 1)):
                    result = self.hot_add(other, node)
                    if result != 'refused':
                        break
            if result == 'diverged':
                return False
            if result != 'added':
                if node is None:
                    plain.remove(kind)
                else:
                    nodes.remove(node)
        if plain or nodes:
            self.o.fail('tool', 'the tool still accepts devices after %d steps' % MAX_STEPS)
        return True

    def final_check(self):
        """The cold plan of the final RUNNING.xml is the topology QEMU has."""
        outs = {}
        for fmt in ('json', 'qemu', 'tree'):
            status, out, err = tool.plan(self.ctx.tool, self.running, self.policy, fmt)
            if status != 0:
                self.o.fail('final', 'pciplan plan --format %s of the final RUNNING.xml exited with status %d: %s'
                            % (fmt, status, err.strip()), running=self.running)
                self.o.final_ok = False
                return
            outs[fmt] = out
        plan = Plan(json.loads(outs['json']), lines_of(outs['qemu']), outs['tree'])
        before = len(self.o.problems)
        # the pciplan policy gives the next boot new spare ports (on pc: a pci-bridge) for those
        # the hot-adds took: controllers the plan adds, with no device on them, that the
        # running guest lacks
        added = {i for i, c in plan.controllers.items() if c['added']}
        for d in plan.devices:
            if d['kind'] == 'pci' and d['libvirt_address']['bus'] in added:
                self.o.fail('final', 'the cold plan of the final RUNNING.xml puts %s on a controller it adds (pci.%d)'
                            % (d['name'], d['libvirt_address']['bus']), running=self.running)
        for i in added:
            del plan.controllers[i]

        class Final:   # check_topology's outcome: its problems are the final check's
            def fail(inner, check, text):
                self.o.fail('final', text, running=self.running)
        check_topology(plan, Realized(self.q.qmp.hmp('info qtree')), Final(), self.m)
        self.o.final_ok = len(self.o.problems) == before

    def run(self):
        try:
            if not self.start():
                return
            if not self.pinned_refusals():
                return
            if self.hot_add_until_refused():
                self.final_check()
        finally:
            if self.q:
                self.q.stop()


def run_guest_safely(ctx, machine, index, policy, kinds):
    """One guest (see the top of this module); a surprise in the test itself is a problem."""
    t0 = time.monotonic()
    outcome = HotplugOutcome(machine.key, index, policy)
    workdir = tempfile.mkdtemp(prefix='hp-', dir=ctx.workroot)
    try:
        Guest(ctx, machine, index, policy, kinds, outcome, workdir).run()
    except Exception as e:  # noqa: BLE001 -- a bug here must not hide the other guests
        outcome.fail('internal', 'the test itself failed: %r' % e)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    outcome.seconds = time.monotonic() - t0
    return outcome


# -- reports ----------------------------------------------------------------------------
def _indent(text, by='      '):
    return '\n'.join(by + l for l in text.rstrip('\n').splitlines())


def report(o, ctx, full, kinds_option=''):
    """A failing outcome as text; `full` adds the domain and the QEMU command line."""
    out = ['FAIL %s domain %d, --policy %s (seed %d)' % (o.machine, o.index, o.policy, ctx.seed)]
    shown = None
    for p in o.problems[:12]:
        out.append('  [%s] %s' % (p.check, p.text))
        if p.detail.get('step') is not None and p.detail == shown:
            continue   # the step's device and answers are just above
        shown = p.detail
        if 'device' in p.detail:
            out.append('    device: ' + p.detail['device'])
        if 'tool' in p.detail:
            out.append('    the tool said:')
            out.append(_indent(p.detail['tool']))
        if 'qemu' in p.detail:
            out.append('    QEMU said:')
            out.append(_indent(p.detail['qemu']))
    if len(o.problems) > 12:
        out.append('  ... and %d more problems' % (len(o.problems) - 12))
    out.append('  reproduce: python3 %s --pciplan %s --seed %d --only %s:%d:%s%s'
               % (ctx.script, ctx.tool, ctx.seed, o.machine, o.index, o.policy, kinds_option))
    if full:
        out.append('  --- domain.xml')
        out.extend('  ' + l for l in o.xml.rstrip('\n').splitlines())
        if o.args:
            out.append('  --- QEMU command line')
            out.append('  ' + o.args)
    return '\n'.join(out)


def write_reports(directory, failures, ctx, kinds_option=''):
    """Each failing guest as DIR/MACHINE-INDEX-POLICY.txt and .xml (the domain), and the
    RUNNING.xml and device element of each failing step as -stepN-running.xml and
    -stepN-device.xml; the previous run's files removed."""
    os.makedirs(directory, exist_ok=True)
    for old in os.listdir(directory):   # the previous run's guests, nothing else
        if re.match(r'^[a-z0-9]+-\d+-(libvirt|pciplan)(-step\d+-(running|device))?\.(xml|txt)$', old):
            os.unlink(os.path.join(directory, old))
    for o in failures:
        stem = os.path.join(directory, '%s-%d-%s' % (o.machine, o.index, o.policy))
        with open(stem + '.xml', 'w') as f:
            f.write(o.xml)
        with open(stem + '.txt', 'w') as f:
            f.write(report(o, ctx, True, kinds_option) + '\n')
        for p in o.problems:
            if 'step' in p.detail and 'running' in p.detail:
                with open('%s-step%d-running.xml' % (stem, p.detail['step']), 'w') as f:
                    f.write(p.detail['running'])
            if 'step' in p.detail and 'device' in p.detail:
                with open('%s-step%d-device.xml' % (stem, p.detail['step']), 'w') as f:
                    f.write(p.detail['device'] + '\n')
