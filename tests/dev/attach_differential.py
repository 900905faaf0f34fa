#!/usr/bin/env python3
"""Differential test: `pciplan attach` (cold and hot plug) against real libvirt.

DEVELOPMENT SCRIPT, NOT RUN BY CI. It needs the libvirt oracle of ../shared/tools (see
../shared/tools/README.md): libvirt 9.0 / QEMU 7.2 of the host, driven through `virsh -c
qemu:///system` (libvirtd is started with `libvirt-assign --start-daemon` when nothing answers,
virtlogd as libvirt-assign starts it), or with --trixie libvirt 11.3 / QEMU 10.0 through
`trixie libvirt-assign` (see below). The project's own tests must not depend on it.

It makes COUNT random pairs: a domain of the kit's generator (tests/python/pciplan_testkit/
random_domains.py, profile LIBVIRT_DIFFERENTIAL: no pvpanic, which libvirt 9.0 refuses, no
<pciplan:plan> metadata, user controllers, user addresses, NUMA cells; machine drawn from
--machines) and one device element to attach: an <interface type='user'> (virtio, e1000,
e1000e or rtl8139), a virtio <disk> with a file source (sometimes virtio-transitional), a
<controller type='usb' model='qemu-xhci'>, an <rng model='virtio'> or a <controller
type='scsi' model='virtio-scsi'>, each with <alias name='ua-attach-diff'/> (how the device is
found in libvirt's XML afterwards), and in 30% of the pairs a user <address type='pci'> on a
bus of the defined domain (on PCIe machines bus 0 in a third of those, the hotplug='off' port
below in a third of the rest; else mostly a free slot of a bus that has one, sometimes a
taken slot). Every pair is a function of (seed, index) and of libvirt's answers. When libvirt
refuses the domain itself (the profile makes a few that libvirt refuses on purpose, e.g.
index-less controllers without the root), the pair draws another domain and device, up to
four times; the summary counts these refusals by message.

So that the domain can be started, the script rewrites it before libvirt sees it:
<interface type='network'> becomes type='user' (the oracle's network 'default' is
inactive) and every <disk> source file is an empty file of the pair's own directory under
/var/lib/libvirt/images. Two choices of its own make hot-plug refusals happen: an x86
domain gets <features><acpi/></features> in 80% of the pairs (without ACPI QEMU cannot
hot-plug into i440fx's pci.0), and a PCIe domain gets, in 25% of the pairs, one more
pcie-root-port with <target hotplug='off'/> (the next index, added to libvirt's definition
and defined again); a third of the pinned devices of such a pair name that port.

Each pair is measured twice:
  CONFIG  libvirt: `virsh define`, `dumpxml --inactive` (DEFINED), (LIVE, then `virsh
          destroy`, which leaves the definition as it was), `virsh attach-device
          --config`, `dumpxml --inactive`: the address libvirt gave the device (it may add
          controllers for it), or libvirt's refusal. pciplan: `pciplan attach --policy
          libvirt DEFINED DEVICE`: exit 0 and the device with its <address> on stdout, 1
          refused (reason on stderr), 2 input error (counted as a refusal: libvirt's
          refusals include its XML errors; the summary says how many).
  LIVE    libvirt: the same domain, `virsh start --paused`, `dumpxml` (RUNNING), `virsh
          attach-device --live`, `dumpxml`: OK and the address, or the refusal (libvirt's,
          or QEMU's device_add error that libvirt passes on: both count as refusals).
          pciplan: `pciplan attach --live --policy libvirt RUNNING DEVICE` (--live-input
          defined: DEFINED instead). A domain QEMU cannot start (e.g. vsock without
          /dev/vhost-vsock) is skipped for LIVE.
A mode agrees when both accept with the same PCI address (domain, bus, slot and function as
numbers; a non-PCI address by its type) or both refuse; messages are recorded, not compared.
A pair whose five domains libvirt all refuses is skipped in both modes.

With --trixie (libvirt 11.3 in the Debian 13 chroot, through `trixie libvirt-assign`, which
has no attach --config): DEFINED is `libvirt-assign` of the domain, CONFIG is `libvirt-assign`
of DEFINED with the device appended to <devices> (a define, not attach-device --config;
--config-by-define does the same with 9.0, to measure the difference), LIVE is
`libvirt-assign --hotplug DEVICE DEFINED` (pciplan gets DEFINED). The chroot's libvirt may be
unable to start QEMU at all ("Failed disable mount propagation"): LIVE is then skipped.

Usage:
  python3 tests/dev/attach_differential.py --pciplan BUILD/examples/pciplan
      [--count N] [--seed S] [--machines pc,q35,aarch64,riscv64] [--jobs J (<= 2)]
      [--failures DIR] [--trixie] [--only INDEX] [--config-by-define]
      [--live-input running|defined] [--libvirt-only] [--verbose]

Output: one line per disagreement (pair, machine, device, mode, class, both answers and the
saved files), then the summary: per mode and machine the pairs, the pairs compared, the
agreements and their share, then each kind of answer, and a table of disagreement classes
with counts and an example each. Every disagreement's inputs and answers are written to
--failures DIR (default: a new directory under /tmp): NAME.domain.xml (what libvirt was
given), NAME.defined.xml (pciplan's CONFIG input), NAME.running.xml (pciplan's LIVE input),
NAME.device.xml, libvirt's and pciplan's outputs and NAME.txt with both answers and the
pciplan command lines.

Targets: CONFIG agreement >= 95% of the pairs compared; LIVE: the same verdict (both accept,
or both refuse) on every pair compared (a LIVE with nothing compared, as with --trixie,
holds and says so). Exit status: 0 both targets hold, 1 otherwise (or no CONFIG pair
compared), 2 usage or environment error (bad option, --jobs above 2, pciplan not
executable or without `attach`), 77 the libvirt oracle is not installed.
"""
import argparse
import concurrent.futures
import dataclasses
import os
import random
import re
import shutil
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'python'))
from pciplan_testkit import domain_xml as dx, machines, tool  # noqa: E402
from pciplan_testkit.random_domains import LIBVIRT_DIFFERENTIAL, make_domain  # noqa: E402

TOOLS = os.path.normpath(os.path.join(HERE, '..', '..', '..', 'shared', 'tools'))
TRIXIE_ROOT = os.environ.get('TRIXIE_ROOT', '/srv/trixie')
URI = os.environ.get('LIBVIRT_ASSIGN_URI', 'qemu:///system')
IMAGES = '/var/lib/libvirt/images'
ALIAS = 'ua-attach-diff'
MODES = ('CONFIG', 'LIVE')
EXIT_SKIP = 77
REDRAWS = 4              # domains drawn again for a pair when libvirt refuses one

ACPI_SHARE = 0.8         # x86 domains with <features><acpi/>
HOTPLUG_OFF_SHARE = 0.25  # PCIe domains with one more root port, hotplug='off'
PINNED_SHARE = 0.3        # devices with a user PCI address
# (kind, weight): the device to attach
DEVICE_KINDS = [('interface virtio', 3), ('interface e1000', 2), ('interface e1000e', 1), ('interface rtl8139', 1),
                ('disk virtio', 3), ('disk virtio-transitional', 0.5), ('controller usb qemu-xhci', 1.5),
                ('rng virtio', 1.5), ('controller scsi virtio-scsi', 1.5)]
# PCI controller models an endpoint may be given an address on, and the slots they have
ENDPOINT_SLOTS = {'pci-root': range(1, 32), 'pcie-root': range(1, 32), 'pcie-root-port': [0],
                  'pcie-switch-downstream-port': [0], 'pci-bridge': range(1, 32),
                  'pcie-to-pci-bridge': range(1, 32), 'dmi-to-pci-bridge': range(0, 32),
                  'pci-expander-bus': range(0, 32)}

AGREE = ('same address', 'both refuse')
VERDICT_DIFF = ('only libvirt refuses', 'only pciplan refuses')
KINDS = ('same address', 'both refuse', 'other address', 'only libvirt refuses', 'only pciplan refuses',
         'pciplan error', 'skipped', 'oracle error')
KIND_HEADS = ('same-addr', 'both-refuse', 'other-addr', 'only-libvirt-refuses', 'only-pciplan-refuses',
              'pciplan-error', 'skipped', 'oracle-error')


# -- small helpers ------------------------------------------------------------------------
def first_line(s):
    lines = [l.strip() for l in s.splitlines() if l.strip()]
    return lines[0] if lines else '(no message)'


def libvirt_error(stderr):
    """libvirt's own error line: the last 'error:' line that is not virsh's 'Failed to ...'."""
    lines = [l.strip() for l in stderr.splitlines() if l.strip()]
    useful = [l for l in lines
              if l.startswith('error:') and not re.match(r'^error: Failed to (define|get|attach|start)', l)]
    if useful:
        return useful[-1]
    errors = [l for l in lines if 'error' in l.lower()]
    return (errors or lines or ['(no message)'])[-1]


NUMBER = r'(0x[0-9a-fA-F]+|[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]|\d+)'


def without_numbers(text):
    """`text` with every number and PCI address written N (for a class key)."""
    text = re.sub(r'\d{4}-\d\d-\d\dT[\d:.]+Z ?', '', text)   # QEMU's time stamps
    text = re.sub(r"'([A-Za-z][\w-]*?)\d+'", r"'\1N'", text)       # aliases: 'usb4', 'ua-scsi0'
    return re.sub(r"(?<![\w-])%s(?![\w-])" % NUMBER, 'N', text)


def short_reason(message):
    """A refusal without numbers, file names and the 'error:' / 'pciplan:' prefixes."""
    m = re.sub(r'^(error: |input error \(exit 2\): )?(pciplan: )?([\w.-]+\.xml: )?', '', message)
    m = re.sub(r'^(ua-attach-diff|<\w+> at line \d+): ', '', m)
    return ('exit 2: ' if message.startswith('input error') else '') + without_numbers(m)[:90]


def number(text, default=0):
    """An address attribute as libvirt reads it: hex with 0x, octal with a leading 0, else decimal."""
    if text is None:
        return default
    try:
        return int(text, 0)
    except ValueError:
        return int(text, 8) if text.startswith('0') else int(text, 10)


def write(path, text):
    with open(path, 'w') as fh:
        fh.write(text)


# -- addresses and answers ----------------------------------------------------------------
def address_key(el):
    """A device element's address as a comparable tuple: ('pci', domain, bus, slot, function),
    (TYPE,) for another type, ('no address',) without one."""
    a = el.find('address') if el is not None else None
    if a is None:
        return ('no address',)
    if a.get('type') == 'pci':
        return ('pci', number(a.get('domain')), number(a.get('bus')), number(a.get('slot')), number(a.get('function')))
    return (a.get('type') or '?',)


def show_address(key):
    if key is None:
        return '?'
    if key[0] == 'pci':
        return '%04x:%02x:%02x.%x' % key[1:]
    return key[0]


@dataclasses.dataclass
class Answer:
    verdict: str            # accept, refuse, skip (not comparable), error (the oracle failed)
    address: tuple = None   # address_key of the device (accept)
    message: str = ''       # the refusal, the reason to skip, the error
    note: str = ''          # e.g. 'adds 2 PCI controllers'

    def text(self):
        if self.verdict == 'accept':
            return show_address(self.address) + (' (%s)' % self.note if self.note else '')
        return '%s: %s' % ({'refuse': 'refuses', 'skip': 'skipped', 'error': 'error'}.get(self.verdict, self.verdict),
                           self.message)


def find_device(devices, tag):
    """The attached device among `devices` (elements): by its alias, else the last one of its tag."""
    for el in devices:
        a = el.find('alias')
        if a is not None and a.get('name') == ALIAS:
            return el
    same = [el for el in devices if el.tag == tag]
    return same[-1] if same else None


def pci_controllers(root):
    devs = root.find('devices')
    return [c for c in (devs if devs is not None else []) if c.tag == 'controller' and c.get('type') == 'pci']


def libvirt_accept(xml, tag, defined):
    """libvirt's answer read from its domain XML after the attach."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as e:
        return Answer('error', message='unparsable libvirt XML: %s' % e)
    devs = root.find('devices')
    el = None
    for d in (devs if devs is not None else []):
        a = d.find('alias')
        if a is not None and a.get('name') == ALIAS:
            el = d
    if el is None:
        return Answer('error', message='the attached device is not in libvirt\'s XML')
    note = ''
    try:
        added = len(pci_controllers(root)) - len(pci_controllers(ET.fromstring(defined)))
        if added:
            note = 'libvirt adds %d PCI controller%s' % (added, 's' if added > 1 else '')
    except ET.ParseError:
        pass
    return Answer('accept', address_key(el), note=note)


def pciplan_answer(r, tag):
    """pciplan's answer: exit 0 and the device on stdout, 1 refused, 2 input error."""
    if r.status == 0:
        text = re.sub(r'<\?xml[^>]*\?>', '', r.stdout)
        try:
            top = ET.fromstring('<pciplan-output>%s</pciplan-output>' % text)
        except ET.ParseError as e:
            return Answer('error', message='pciplan exit 0, unparsable output: %s' % e)
        if not text.strip():
            return Answer('error', message='pciplan exit 0, empty output')
        el = find_device(list(top), tag)
        if el is None and top.find('devices') is not None:   # a whole domain
            el = find_device(list(top.find('devices')), tag)
        if el is None:
            return Answer('error', message='pciplan exit 0, no <%s> in its output' % tag)
        return Answer('accept', address_key(el))
    if r.status == 1:
        return Answer('refuse', message=first_line(r.stderr))
    if r.status == 2:   # an input error: libvirt's XML errors are refusals too
        return Answer('refuse', message='input error (exit 2): ' + first_line(r.stderr))
    return Answer('error', message='exit %d: %s' % (r.status, first_line(r.stderr)))


def compare(lv, pp):
    """The kind of a mode's result (one of KINDS)."""
    if lv.verdict == 'skip':
        return 'skipped'
    if lv.verdict == 'error':
        return 'oracle error'
    if pp.verdict == 'error':
        return 'pciplan error'
    if lv.verdict == 'refuse':
        return 'both refuse' if pp.verdict == 'refuse' else 'only libvirt refuses'
    if pp.verdict == 'refuse':
        return 'only pciplan refuses'
    return 'same address' if lv.address == pp.address else 'other address'


def difference_class(kind, pair, lv, pp):
    if kind == 'only libvirt refuses':
        return 'libvirt refuses, pciplan accepts: %s' % without_numbers(re.sub(r'^error: ', '', lv.message))[:120]
    if kind == 'only pciplan refuses':
        return 'pciplan refuses, libvirt accepts: %s' % without_numbers(re.sub(r'^pciplan: ', '', pp.message))[:120]
    if kind == 'pciplan error':
        return 'pciplan error: %s' % without_numbers(pp.message)[:120]
    where = 'given address' if pair.pinned else 'no address'
    how = []
    if lv.note:
        how.append('libvirt adds PCI controllers')
    if lv.address[0] != pp.address[0]:
        how.append('libvirt %s, pciplan %s' % (lv.address[0], pp.address[0]))
    elif lv.address[0] == 'pci' and lv.address[2] != pp.address[2]:
        how.append('another bus')
    elif lv.address[0] == 'pci':
        how.append('another slot on the same bus')
    return 'other address: %s, %s%s' % (pair.kind, where, ', ' + ', '.join(how) if how else '')


# -- the pair -----------------------------------------------------------------------------
@dataclasses.dataclass
class Pair:
    seed: int
    index: int
    machine: object
    elements: int
    domain: str              # what libvirt is given (rewritten for a start)
    imgdir: str
    kind: str                # the device (DEVICE_KINDS)
    pinned: bool
    acpi: bool
    hotplug_off: bool
    pin_rng: random.Random
    attempt: int = 0         # domains drawn before this one that libvirt refused
    redrawn: list = dataclasses.field(default_factory=list)   # libvirt's refusals of those
    device: str = ''
    pin: str = ''            # the given address, shown
    defined: str = ''        # libvirt's dumpxml --inactive: pciplan's CONFIG input
    running: str = ''        # libvirt's dumpxml of the started domain: pciplan's LIVE input
    refused: str = ''        # libvirt refused the domain itself
    outputs: dict = dataclasses.field(default_factory=dict)   # suffix -> text, saved with a failure
    libvirt: dict = dataclasses.field(default_factory=dict)   # mode -> Answer
    pciplan: dict = dataclasses.field(default_factory=dict)   # mode -> Answer
    pciplan_raw: dict = dataclasses.field(default_factory=dict)   # mode -> tool.Result
    result: dict = dataclasses.field(default_factory=dict)    # mode -> kind
    cls: dict = dataclasses.field(default_factory=dict)       # mode -> difference class

    @property
    def name(self):
        return 'attach-s%d-%04d' % (self.seed, self.index) + ('-%d' % self.attempt if self.attempt else '')

    @property
    def tag(self):
        return self.kind.split()[0]


def pick(rng, weighted):
    x = rng.random() * sum(w for _, w in weighted)
    for value, w in weighted:
        x -= w
        if x < 0:
            return value
    return weighted[-1][0]


def make_pair(args, i, attempt=0):
    """Pair i of the seed; attempt k > 0 draws another domain (and device) for it when libvirt
    refused the domain of attempt k - 1 (domain index i + 100000 k of the generator)."""
    machine = random.Random('pciplan-attach-diff:%d:%d' % (args.seed, i)).choice(args.machines)
    rng = random.Random('pciplan-attach-diff:%d:%d:%d' % (args.seed, i, attempt))
    generated = make_domain(args.seed, machine, i + 100000 * attempt, LIBVIRT_DIFFERENTIAL)
    acpi = machine.x86 and rng.random() < ACPI_SHARE
    hotplug_off = machine.pcie and rng.random() < HOTPLUG_OFF_SHARE
    kind = pick(rng, DEVICE_KINDS)
    pinned = rng.random() < PINNED_SHARE
    imgdir = os.path.join(IMAGES, 'attach-diff-%d-s%d-%04d' % (os.getpid(), args.seed, i))
    pin_rng = random.Random('pciplan-attach-diff-pin:%d:%d:%d' % (args.seed, i, attempt))
    return Pair(args.seed, i, machine, generated.elements, startable(generated.xml, imgdir, acpi), imgdir, kind,
                pinned, acpi, hotplug_off, pin_rng, attempt=attempt)


def startable(xml, imgdir, acpi):
    """The generated domain as libvirt is given it: user networking, disks in `imgdir`,
    <features><acpi/> when `acpi`."""
    root = ET.fromstring(xml)
    for itf in root.iter('interface'):
        if itf.get('type') == 'network':
            itf.set('type', 'user')
            src = itf.find('source')
            if src is not None:
                itf.remove(src)
    for disk in root.iter('disk'):
        src = disk.find('source')
        if src is not None and src.get('file'):
            src.set('file', os.path.join(imgdir, os.path.basename(src.get('file'))))
    if acpi:
        features = root.find('features')
        if features is None:
            features = ET.Element('features')
            features.text, features.tail = '\n    ', '\n  '
            at = list(root).index(root.find('os')) + 1
            root.insert(at, features)
        if features.find('acpi') is None:
            ET.SubElement(features, 'acpi').tail = '\n  '
    return ET.tostring(root, encoding='unicode') + '\n'


def with_hotplug_off_port(defined):
    """libvirt's definition with one more pcie-root-port, hotplug='off', at the next index."""
    root = ET.fromstring(defined)
    devices = root.find('devices')
    top = max([number(c.get('index'), 0) for c in pci_controllers(root)] + [0])
    port = ET.SubElement(devices, 'controller', {'type': 'pci', 'index': str(top + 1), 'model': 'pcie-root-port'})
    ET.SubElement(port, 'target', {'hotplug': 'off'})
    return ET.tostring(root, encoding='unicode') + '\n'


def make_device(pair, defined):
    """The device element to attach, made once libvirt's definition is known (its disk target
    and, for a pinned device, the bus and slot come from it)."""
    root = ET.fromstring(defined)
    address = ''
    if pair.pinned:
        address = pin_address(pair, root)
    tag, model = pair.kind.split()[0], pair.kind.split()[-1]
    alias = dx.alias(ALIAS)
    if tag == 'interface':
        return dedent(dx.element('interface', " type='user'", "<model type='%s'/>" % model, alias, address))
    if tag == 'disk':
        used = {t.get('dev') for t in root.iter('target') if t.get('dev')}
        target = next(n for n in (dx.disk_name('vd', k) for k in range(1000)) if n not in used)
        path = os.path.join(pair.imgdir, 'attached-%s.img' % target)
        attrs = " type='file' device='disk'" + (" model='%s'" % model if model != 'virtio' else '')
        body = ["<driver name='qemu' type='raw'/>", "<source file='%s'/>" % path,
                "<target dev='%s' bus='virtio'/>" % target, alias, address]
        return dedent(dx.element('disk', attrs, *body))
    if tag == 'controller':
        ctype = pair.kind.split()[1]
        return dedent(dx.element('controller', " type='%s' model='%s'" % (ctype, model), alias, address))
    return dedent(dx.element('rng', " model='virtio'", "<backend model='random'>/dev/urandom</backend>", alias,
                             address))


def dedent(text):
    return '\n'.join(l[4:] if l.startswith('    ') else l for l in text.splitlines()) + '\n'


def pin_address(pair, root):
    """A user address on a bus of the defined domain: on PCIe machines bus 0 in a third of
    the pairs, the hotplug='off' port in a third of those that have one, else in 75% a free
    slot of a bus with one, in 25% any slot of any bus a device may sit on (often taken)."""
    rng = pair.pin_rng
    controllers = pci_controllers(root)
    buses = [(number(c.get('index')), c.get('model')) for c in controllers if c.get('model') in ENDPOINT_SLOTS]
    off = [(number(c.get('index')), c.get('model')) for c in controllers
           if c.get('model') == 'pcie-root-port' and any(t.get('hotplug') == 'off' for t in c.findall('target'))]
    taken = {(number(a.get('bus')), number(a.get('slot'))) for a in root.iter('address') if a.get('type') == 'pci'}

    def free(bus):
        return [s for s in ENDPOINT_SLOTS.get(bus[1], range(1, 32)) if (bus[0], s) not in taken]

    x = rng.random()
    if pair.machine.pcie and x < 1 / 3:
        bus = next((b for b in buses if b[0] == 0), (0, 'pcie-root'))
    elif pair.hotplug_off and off and x < 2 / 3:
        bus = off[-1]
    elif rng.random() < 0.75 and any(free(b) for b in buses):
        bus = rng.choice([b for b in buses if free(b)])
    else:
        bus = rng.choice(buses) if buses else (0, 'pci-root')
    slots = list(ENDPOINT_SLOTS.get(bus[1], range(1, 32)))
    slot = rng.choice(free(bus)) if free(bus) and rng.random() < 0.8 else rng.choice(slots)
    pair.pin = '%02x:%02x.0 (%s%s)' % (bus[0], slot, bus[1], ', taken' if (bus[0], slot) in taken else '')
    return dx.pci_address(bus[0], slot)


def append_device(domain, device):
    """`domain` with `device` appended to <devices> (what attach --config amounts to)."""
    at = domain.rindex('</devices>')
    return domain[:at] + ''.join('  ' + l + '\n' for l in device.splitlines()) + '  ' + domain[at:]


def make_images(pair, roots):
    """Empty disk files for the domain's disks and the attached one, in the pair's directory
    (under each root: '' for the host, the chroot for --trixie)."""
    names = re.findall(r"""<source file=['"]%s/([^'"]+)['"]""" % re.escape(pair.imgdir), pair.domain)
    for r in roots:
        d = r + pair.imgdir
        os.makedirs(d, exist_ok=True)
        os.chmod(d, 0o755)
        for n in names:
            with open(os.path.join(d, n), 'wb') as fh:
                fh.truncate(1 << 20)


def device_image(pair, roots):
    m = re.search(r"""<source file=['"]([^'"]+)['"]""", pair.device)
    if m:
        for r in roots:
            with open(r + m.group(1), 'wb') as fh:
                fh.truncate(1 << 20)


def remove_images(pair, roots):
    for r in roots:
        shutil.rmtree(r + pair.imgdir, ignore_errors=True)


# -- libvirt 9.0 through virsh ------------------------------------------------------------
def virsh(*args, timeout=300):
    return tool.run(['virsh', '-q', '-c', URI], args, None, timeout)


class VirshOracle:
    """libvirt of the host, driven through virsh: one defined domain per pair."""
    label = 'libvirt 9.0 (virsh)'
    roots = ('',)

    def __init__(self, config_by_define):
        self.config_by_define = config_by_define
        self.attach_config = not config_by_define

    def prepare(self):
        """Starts libvirtd (libvirt-assign --start-daemon) and virtlogd when they are not there;
        an error message or None."""
        if virsh('uri', timeout=60).status != 0:
            r = tool.run(os.path.join(TOOLS, 'libvirt-assign'), ['--start-daemon'], None, 600)
            if r.status != 0:
                return 'libvirtd does not start: ' + first_line(r.stderr)
        try:
            pid = int(open('/run/virtlogd.pid').read().strip())
            os.kill(pid, 0)
        except (OSError, ValueError):
            r = tool.run('virtlogd', ['-d', '-p', '/run/virtlogd.pid'], None, 60)   # as libvirt-assign does
            if r.status != 0:
                return 'virtlogd does not start: ' + first_line(r.stderr)
            time.sleep(0.3)
        return None

    def ask(self, pair, work):
        name = 'attach-diff-%d-s%d-%04d' % (os.getpid(), pair.seed, pair.index)
        domain = re.sub(r'<name>[^<]*</name>', '<name>%s</name>' % name, pair.domain, count=1)
        path = os.path.join(work, 'domain.xml')
        write(path, domain)
        r = virsh('define', path)
        if r.status != 0:
            pair.refused = libvirt_error(r.stderr)
            return
        started = False
        try:
            d = virsh('dumpxml', '--inactive', name)
            if d.status != 0:
                raise OracleError('dumpxml --inactive: ' + libvirt_error(d.stderr))
            defined = d.stdout
            if pair.hotplug_off:
                write(path, with_hotplug_off_port(defined))
                r = virsh('define', path)
                if r.status != 0:
                    pair.refused = 'with a hotplug=off root port: ' + libvirt_error(r.stderr)
                    return
                defined = virsh('dumpxml', '--inactive', name).stdout
            pair.defined = defined
            pair.device = make_device(pair, defined)
            device_image(pair, self.roots)
            dev = os.path.join(work, 'device.xml')
            write(dev, pair.device)

            # LIVE first: the persistent definition is the same after destroy
            s = virsh('start', '--paused', name)
            if s.status != 0:
                pair.libvirt['LIVE'] = Answer('skip', message='domain does not start: ' + libvirt_error(s.stderr))
                pair.outputs['libvirt-live.err'] = s.stderr
            else:
                started = True
                pair.running = virsh('dumpxml', name).stdout
                a = virsh('attach-device', name, dev, '--live')
                if a.status == 0:
                    x = virsh('dumpxml', name).stdout
                    pair.libvirt['LIVE'] = libvirt_accept(x, pair.tag, pair.running)
                    pair.outputs['libvirt-live.xml'] = x
                else:
                    pair.libvirt['LIVE'] = Answer('refuse', message=libvirt_error(a.stderr))
                    pair.outputs['libvirt-live.err'] = a.stderr
                virsh('destroy', name)
                started = False

            if self.config_by_define:
                pair.libvirt['CONFIG'] = self.define_with_device(pair, work, name + '-cfg')
                return
            a = virsh('attach-device', name, dev, '--config')
            if a.status == 0:
                x = virsh('dumpxml', '--inactive', name).stdout
                pair.libvirt['CONFIG'] = libvirt_accept(x, pair.tag, defined)
                pair.outputs['libvirt-config.xml'] = x
            else:
                pair.libvirt['CONFIG'] = Answer('refuse', message=libvirt_error(a.stderr))
                pair.outputs['libvirt-config.err'] = a.stderr
        finally:
            if started:
                virsh('destroy', name)
            if virsh('undefine', '--nvram', name).status != 0:
                virsh('undefine', name)

    def define_with_device(self, pair, work, name):
        x = append_device(pair.defined, pair.device)
        x = re.sub(r'<name>[^<]*</name>', '<name>%s</name>' % name, x, count=1)
        x = re.sub(r'\s*<uuid>[^<]*</uuid>', '', x, count=1)
        path = os.path.join(work, 'config.xml')
        write(path, x)
        r = virsh('define', path)
        if r.status != 0:
            pair.outputs['libvirt-config.err'] = r.stderr
            return Answer('refuse', message=libvirt_error(r.stderr))
        try:
            out = virsh('dumpxml', '--inactive', name).stdout
        finally:
            virsh('undefine', name)
        pair.outputs['libvirt-config.xml'] = out
        return libvirt_accept(out, pair.tag, pair.defined)


class OracleError(Exception):
    pass


# -- libvirt through libvirt-assign (libvirt 11.3: trixie) --------------------------------
class AssignOracle:
    """`CMD -` defines a domain and prints libvirt's XML; `CMD --hotplug DEV FILE` starts it
    paused and attaches DEV live ('hotplug NAME: OK' / 'FAILED: ...' on stderr)."""

    def __init__(self, command, label, roots):
        self.command, self.label, self.roots = command, label, roots
        self.cannot_start = None   # libvirt cannot start any QEMU (the chroot's mount namespaces)
        self.attach_config = False

    def prepare(self):
        return None

    def run(self, args, stdin=None, hotplug=False):
        """The oracle's answer, asked again when it is not one (the trixie wrapper copies the
        oracle into its chroot on every call: a parallel call can start a half-written copy)."""
        r = None
        for attempt in range(5):
            r = tool.run(self.command, args, stdin, timeout=600)
            if r.status == 0 and '<domain' in r.stdout and (not hotplug or 'hotplug ' in r.stderr):
                return r
            if r.status == 1 and 'error' in r.stderr and 'Traceback' not in r.stderr:
                return r
            time.sleep(0.3 * (attempt + 1))
        return r

    def define(self, xml):
        r = self.run(['-'], xml)
        if r.status == 0:
            return r.stdout, None
        if r.status == 1:
            return None, libvirt_error(r.stderr)
        raise OracleError('libvirt-assign exit %d: %s' % (r.status, first_line(r.stderr)))

    def ask(self, pair, work):
        defined, err = self.define(pair.domain)
        if err:
            pair.refused = err
            return
        if pair.hotplug_off:
            defined, err = self.define(with_hotplug_off_port(defined))
            if err:
                pair.refused = 'with a hotplug=off root port: ' + err
                return
        pair.defined = defined
        pair.device = make_device(pair, defined)
        device_image(pair, self.roots)
        dev = os.path.join(work, 'device.xml')
        dom = os.path.join(work, 'defined.xml')
        write(dev, pair.device)
        write(dom, defined)

        if self.cannot_start:
            pair.libvirt['LIVE'] = Answer('skip', message=self.cannot_start)
            r = tool.Result(-1, '', '')
        else:
            r = self.run(['--hotplug', dev, dom], hotplug=True)
        m = re.search(r'^hotplug [^:]*: (OK|FAILED: (.*))$', r.stderr, re.M)
        if r.status == 0 and m and m.group(1) == 'OK':
            pair.libvirt['LIVE'] = libvirt_accept(r.stdout, pair.tag, defined)
            pair.outputs['libvirt-live.xml'] = r.stdout
        elif r.status == 0 and m:
            pair.libvirt['LIVE'] = Answer('refuse', message=m.group(2).split(' | ')[-1])
            pair.outputs['libvirt-live.err'] = r.stderr
        elif r.status == 1 and 'domain start failed' in r.stderr:
            pair.libvirt['LIVE'] = Answer('skip', message='domain does not start: ' + libvirt_error(r.stderr))
            pair.outputs['libvirt-live.err'] = r.stderr
            if 'mount propagation' in r.stderr:
                self.cannot_start = 'libvirt starts no domain: ' + libvirt_error(r.stderr)
        elif self.cannot_start:
            pass
        else:
            pair.libvirt['LIVE'] = Answer('error', message='libvirt-assign --hotplug exit %d: %s'
                                          % (r.status, libvirt_error(r.stderr)))
            pair.outputs['libvirt-live.err'] = r.stderr

        out, err = self.define(append_device(defined, pair.device))
        if err:
            pair.libvirt['CONFIG'] = Answer('refuse', message=err)
        else:
            pair.libvirt['CONFIG'] = libvirt_accept(out, pair.tag, defined)
            pair.outputs['libvirt-config.xml'] = out


# -- one pair -----------------------------------------------------------------------------
def check(args, i):
    redrawn = []
    for attempt in range(REDRAWS + 1):
        pair = ask_libvirt(args, i, attempt)
        pair.redrawn = redrawn
        if not pair.refused:
            break
        redrawn.append(pair.refused)
    return ask_pciplan(args, pair)


def ask_libvirt(args, i, attempt):
    pair = make_pair(args, i, attempt)
    work = tempfile.mkdtemp(prefix='attach-diff-')
    try:
        make_images(pair, args.oracle.roots)
        args.oracle.ask(pair, work)
    except OracleError as e:
        for mode in MODES:
            pair.libvirt.setdefault(mode, Answer('error', message=str(e)))
    finally:
        remove_images(pair, args.oracle.roots)
        shutil.rmtree(work, ignore_errors=True)
    return pair


def ask_pciplan(args, pair):
    work = tempfile.mkdtemp(prefix='attach-diff-')
    try:
        if pair.refused:
            for mode in MODES:
                pair.libvirt[mode] = Answer('skip', message='libvirt refuses the domain: ' + pair.refused)
        for mode in MODES:
            pair.libvirt.setdefault(mode, Answer('error', message='no answer'))
        if args.libvirt_only or pair.refused:
            return pair
        dpath = os.path.join(work, 'defined.xml')
        rpath = os.path.join(work, 'running.xml')
        dev = os.path.join(work, 'device.xml')
        write(dpath, pair.defined)
        write(dev, pair.device)
        live_input = dpath
        if pair.running and args.live_input == 'running':
            write(rpath, pair.running)
            live_input = rpath
        for mode, inputs in (('CONFIG', [dpath]), ('LIVE', ['--live', live_input])):
            r = tool.run(args.pciplan, ['attach'] + inputs[:-1] + ['--policy', 'libvirt', inputs[-1], dev], None, 300)
            r = tool.Result(r.status, r.stdout, r.stderr.replace(work + os.sep, ''))   # 'device.xml: ...'
            pair.pciplan_raw[mode] = r
            pair.pciplan[mode] = pciplan_answer(r, pair.tag)
            kind = compare(pair.libvirt[mode], pair.pciplan[mode])
            pair.result[mode] = kind
            if kind not in AGREE and kind not in ('skipped', 'oracle error'):
                pair.cls[mode] = difference_class(kind, pair, pair.libvirt[mode], pair.pciplan[mode])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return pair


def describe(pair):
    text = '%s (%s/%d, %s%s%s%s)' % (pair.name, pair.machine.key, pair.elements, pair.kind,
                                     ', at ' + pair.pin if pair.pin else '', ', hotplug=off port' if pair.hotplug_off
                                     else '', '' if pair.acpi or not pair.machine.x86 else ', no ACPI')
    return text


def save(args, pair):
    """Every input and answer of a pair in --failures DIR; returns the two main file names."""
    os.makedirs(args.failures, exist_ok=True)
    base = os.path.join(args.failures, pair.name)
    files = {'domain.xml': pair.domain, 'defined.xml': pair.defined, 'running.xml': pair.running,
             'device.xml': pair.device}
    files.update(pair.outputs)
    for mode, r in pair.pciplan_raw.items():
        files['pciplan-%s.out' % mode.lower()] = r.stdout
        files['pciplan-%s.err' % mode.lower()] = r.stderr
    live_input = 'running.xml' if pair.running and args.live_input == 'running' else 'defined.xml'
    lines = [describe(pair), 'oracle: %s' % args.oracle.label]
    for mode in MODES:
        lines.append('%s: %s' % (mode, pair.result.get(mode, '-') + (' [%s]' % pair.cls[mode] if mode in pair.cls
                                                                       else '')))
        lines.append('  libvirt: ' + pair.libvirt[mode].text())
        if mode in pair.pciplan:
            lines.append('  pciplan (exit %d): %s' % (pair.pciplan_raw[mode].status, pair.pciplan[mode].text()))
    lines += ['', 'pciplan command lines (in this directory):',
              '  %s attach --policy libvirt %s.defined.xml %s.device.xml' % (args.pciplan, pair.name, pair.name),
              '  %s attach --live --policy libvirt %s.%s %s.device.xml' % (args.pciplan, pair.name, live_input,
                                                                          pair.name)]
    files['txt'] = '\n'.join(lines) + '\n'
    for suffix, text in files.items():
        if text and text.strip():
            write('%s.%s' % (base, suffix), text)
    return base + '.defined.xml', base + '.device.xml'


def line_of(pair, mode, files):
    return ('%s %s: %s [%s]\n    libvirt: %s\n    pciplan: %s\n    files: %s %s'
            % (mode, describe(pair), pair.result[mode], pair.cls[mode], pair.libvirt[mode].text(),
               pair.pciplan[mode].text(), files[0], files[1]))


# -- the summary --------------------------------------------------------------------------
def summary(args, pairs):
    out = ['', 'oracle: %s; pciplan: %s; seed %d, %d pairs' % (args.oracle.label, args.pciplan, args.seed, len(pairs))]
    redrawn = [r for p in pairs for r in p.redrawn]
    if redrawn:
        out.append('libvirt refused %d generated domains, each drawn again for its pair:' % len(redrawn))
        reasons = {}
        for r in redrawn:
            k = without_numbers(r)[:150]
            reasons[k] = reasons.get(k, 0) + 1
        for k, n in sorted(reasons.items(), key=lambda kv: -kv[1]):
            out.append('  %3d  %s' % (n, k))
    refused = [p for p in pairs if p.refused]
    if refused:
        out.append('libvirt refused all %d domains drawn for %d pairs (skipped in both modes)'
                   % (REDRAWS + 1, len(refused)))
    if args.libvirt_only:
        for mode in MODES:
            counts = {}
            for p in pairs:
                counts[p.libvirt[mode].verdict] = counts.get(p.libvirt[mode].verdict, 0) + 1
            out.append('%s: %s' % (mode, ', '.join('%s %d' % kv for kv in sorted(counts.items()))))
        return out, True
    ok = True
    for mode in MODES:
        out.append('')
        out.append('%s (libvirt: %s):' % (mode, 'attach-device --live on the domain started paused' if mode == 'LIVE'
                                          else 'attach-device --config' if args.oracle.attach_config
                                          else 'define with the device appended'))
        out.append('  %-8s %5s %8s %6s %6s  %s' % ('machine', 'pairs', 'compared', 'agree', '%',
                                                 ' '.join('%*s' % (len(h), h) for h in KIND_HEADS)))
        rows = [(m.key, [p for p in pairs if p.machine is m]) for m in args.machines]
        rows.append(('all', pairs))
        for key, ps in rows:
            counts = {k: sum(p.result.get(mode) == k for p in ps) for k in KINDS}
            compared = sum(counts[k] for k in KINDS if k not in ('skipped', 'oracle error'))
            agree = sum(counts[k] for k in AGREE)
            pct = '%.1f' % (100.0 * agree / compared) if compared else '-'
            out.append('  %-8s %5d %8d %6d %6s  %s' % (key, len(ps), compared, agree, pct,
                                                     ' '.join('%*d' % (len(h), counts[k])
                                                              for h, k in zip(KIND_HEADS, KINDS))))
        counts = {k: sum(p.result.get(mode) == k for p in pairs) for k in KINDS}
        compared = sum(counts[k] for k in KINDS if k not in ('skipped', 'oracle error'))
        agree = sum(counts[k] for k in AGREE)
        lv_refuse = counts['both refuse'] + counts['only libvirt refuses']
        verdicts = compared - counts['only libvirt refuses'] - counts['only pciplan refuses'] - counts['pciplan error']
        exit2 = sum(p.result.get(mode) in ('both refuse', 'only pciplan refuses') and
                    p.pciplan[mode].message.startswith('input error') for p in pairs)
        pp_refuse = counts['both refuse'] + counts['only pciplan refuses']
        out.append('  of the %d compared libvirt refuses %d, pciplan %d (%d of them exit 2, an input error), both %d; '
                   'same verdict %d of %d' % (compared, lv_refuse, pp_refuse, exit2, counts['both refuse'], verdicts,
                                              compared))
        if mode == 'CONFIG':
            hold = compared > 0 and agree >= 0.95 * compared
            out.append('  target: agreement >= 95%% of the pairs compared: %s' % ('holds' if hold else 'MISSED'))
        else:
            hold = verdicts == compared
            out.append('  target: the same verdict on every pair compared: %s%s'
                       % ('holds' if hold else 'MISSED', ' (nothing compared)' if not compared else ''))
        ok = ok and hold
        reasons = {}
        for p in pairs:
            if p.result.get(mode) == 'both refuse':
                k = (short_reason(p.libvirt[mode].message), short_reason(p.pciplan[mode].message))
                reasons.setdefault(k, []).append(p)
        if reasons:
            out.append('  both refuse (count, example; libvirt\'s reason | pciplan\'s reason):')
        for (a, b), ps in sorted(reasons.items(), key=lambda kv: -len(kv[1])):
            out.append('  %5d  %s  %s | %s' % (len(ps), min(ps, key=lambda p: p.elements).name, a, b))
        skipped = [p.libvirt[mode].message for p in pairs if p.result.get(mode) in ('skipped', 'oracle error')]
        reasons = {}
        for s in skipped:
            qemu = re.search(r'-device \{"driver":"([^"]+)".*?\}: (.*)$', s)
            if qemu:   # QEMU refuses a layout libvirt made: the device and QEMU's words
                s = 'domain does not start: QEMU refuses -device %s: %s' % qemu.groups()
            k = without_numbers(s)[:150]
            reasons[k] = reasons.get(k, 0) + 1
        for k, n in sorted(reasons.items(), key=lambda kv: -kv[1]):
            out.append('  skipped %3d: %s' % (n, k))
    rows = {}
    for p in pairs:
        for mode, c in p.cls.items():
            row = rows.setdefault((mode, c), {'count': 0, 'example': None})
            row['count'] += 1
            if row['example'] is None or p.elements < row['example'].elements:
                row['example'] = p
    out.append('')
    if not rows:
        out.append('classes of the disagreements: none')
    else:
        out.append('classes of the disagreements (count, mode, example with the fewest elements, class):')
        for (mode, c), row in sorted(rows.items(), key=lambda kv: (kv[0][0], -kv[1]['count'], kv[0][1])):
            out.append('  %4d  %-6s %s  %s' % (row['count'], mode, row['example'].name, c))
    if rows:
        out.append('files of the disagreements: %s' % args.failures)
    compared_config = sum(p.result.get('CONFIG') not in (None, 'skipped', 'oracle error') for p in pairs)
    return out, ok and compared_config > 0


def has_attach(pciplan):
    r = tool.run(pciplan, ['--help'], None, 60)
    return re.search(r'\battach\b', r.stdout + r.stderr) is not None


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--pciplan', help='the pciplan tool of a build (BUILD/examples/pciplan); required '
                                      'unless --libvirt-only')
    ap.add_argument('--count', type=int, default=200, help='number of pairs (default %(default)s)')
    ap.add_argument('--seed', type=int, default=1, help='pair i of a run is a function of (seed, i)')
    ap.add_argument('--machines', default='pc,q35,aarch64,riscv64',
                    help='machines to draw from: pc, q35, aarch64 (or virt), riscv64 (default %(default)s)')
    ap.add_argument('--jobs', type=int, default=2, help='pairs checked in parallel, at most 2 (default 2)')
    ap.add_argument('--failures', help='write the inputs and answers of every disagreement here '
                                       '(default: a new directory under /tmp)')
    ap.add_argument('--trixie', action='store_true',
                    help='libvirt 11.3 (Debian 13 chroot) through `trixie libvirt-assign` instead of 9.0')
    ap.add_argument('--only', type=int, metavar='INDEX', help='only pair INDEX, with every answer printed')
    ap.add_argument('--config-by-define', action='store_true',
                    help='CONFIG with 9.0 as --trixie does it: define the domain with the device appended '
                         'instead of attach-device --config')
    ap.add_argument('--live-input', choices=('running', 'defined'), default='running',
                    help="pciplan's LIVE input: the started domain's dumpxml (default) or the inactive "
                         "definition (always the latter with --trixie)")
    ap.add_argument('--libvirt-only', action='store_true', help='ask libvirt only (checks the oracle side)')
    ap.add_argument('--verbose', action='store_true', help='a line for every pair, agreements too')
    args = ap.parse_args(argv)
    if not 1 <= args.jobs <= 2:
        ap.error('--jobs must be 1 or 2 (this machine has 2 cores)')
    if args.count < 0:
        ap.error('--count must not be negative')
    try:
        args.machines = machines.parse_list(args.machines, aliases={'virt': 'aarch64'})
    except KeyError as e:
        ap.error('--machines: %s is not one of %s' % (e, ', '.join(machines.MACHINES)))
    if not args.machines:
        ap.error('--machines: no machine')
    if not args.libvirt_only:
        if not args.pciplan:
            ap.error('--pciplan is required')
        if not os.access(args.pciplan, os.X_OK):
            sys.stderr.write('attach_differential.py: %s is not executable\n' % args.pciplan)
            return 2
        if not has_attach(args.pciplan):
            sys.stderr.write('attach_differential.py: %s has no attach command (its --help does not name it)\n'
                             % args.pciplan)
            return 2
    if args.trixie:
        trixie = os.path.join(TOOLS, 'trixie')
        if not (os.access(trixie, os.X_OK) and os.access(os.path.join(TRIXIE_ROOT, 'usr/bin/python3'), os.X_OK)):
            sys.stderr.write('attach_differential.py: libvirt 11.3 is not installed (%s, %s): run '
                             'install-oracle-trixie\n' % (trixie, TRIXIE_ROOT))
            return EXIT_SKIP
        args.oracle = AssignOracle([trixie, 'libvirt-assign'], 'libvirt 11.3 (trixie libvirt-assign; CONFIG by '
                                   'define)', ('', TRIXIE_ROOT))
        args.live_input = 'defined'
    else:
        if shutil.which('virsh') is None or not os.access(os.path.join(TOOLS, 'libvirt-assign'), os.X_OK):
            sys.stderr.write('attach_differential.py: libvirt 9.0 is not installed (virsh, %s): run '
                             'install-oracles\n' % os.path.join(TOOLS, 'libvirt-assign'))
            return EXIT_SKIP
        args.oracle = VirshOracle(args.config_by_define)
        if args.config_by_define:
            args.oracle.label = 'libvirt 9.0 (virsh; CONFIG by define)'
    problem = args.oracle.prepare()
    if problem:
        sys.stderr.write('attach_differential.py: %s\n' % problem)
        return EXIT_SKIP
    if not args.failures:   # made when the first disagreement is saved
        args.failures = os.path.join(tempfile.gettempdir(), 'attach-diff-failures-%s' % time.strftime('%Y%m%d-%H%M%S'))
    args.failures = os.path.abspath(args.failures)

    indexes = [args.only] if args.only is not None else list(range(args.count))
    pairs = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as ex:
        try:
            for pair in ex.map(lambda i: check(args, i), indexes):
                pairs.append(pair)
                differs = [m for m in MODES if m in pair.cls]
                if args.only is not None or args.verbose or args.libvirt_only:
                    print(describe(pair))
                    for mode in MODES:
                        print('  %s: %s' % (mode, pair.result.get(mode, '')))
                        print('    libvirt: ' + pair.libvirt[mode].text())
                        if mode in pair.pciplan:
                            print('    pciplan: ' + pair.pciplan[mode].text())
                    if args.only is not None:
                        print('--- domain given to libvirt:\n' + pair.domain + '--- device:\n' + pair.device, end='')
                if differs:
                    files = save(args, pair)
                    for mode in differs:
                        print(line_of(pair, mode, files))
                sys.stdout.flush()
        except KeyboardInterrupt:
            ex.shutdown(wait=True, cancel_futures=True)
            raise
    lines, ok = summary(args, pairs)
    print('\n'.join(lines))
    return 0 if ok else 1


if __name__ == '__main__':
    try:
        sys.exit(main(sys.argv[1:]))
    except BrokenPipeError:   # e.g. | head
        sys.exit(1)
