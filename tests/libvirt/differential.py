#!/usr/bin/env python3
"""Differential test: `pciplan plan --policy libvirt` against a real libvirt.

DEVELOPMENT SCRIPT, NOT RUN BY CI.  It needs a running libvirtd with the QEMU
driver (libvirt 9.0 / QEMU 7.2 on the reference host) and the oracle wrapper
../shared/tools/libvirt-assign; the project's own tests must not depend on it.

It generates COUNT random but valid libvirt domains (seeded, so a run can be
repeated exactly), lets both pciplan and libvirt assign the PCI addresses, and
compares the PCI facts of the two results (the same facts as
tests/libvirt/pci_facts.hpp):
  - every <controller type='pci'>: index, model, <model name>, <target>
    chassisNr/chassis/port/busNr/index/hotplug and <node>, <address>;
  - every other <controller> (keyed by type + index, + model for the ICH9 USB2
    companions that share an index) and every device with an
    <address type='pci'>: disks by <target dev>, interfaces by <mac>, other
    elements by name + position among the elements of that name.
Numbers compare by value (0x1f == 31).  A domain libvirt refuses must be
refused by pciplan too (exit status != 0): "both refuse" counts as identical,
"only one refuses" is a difference.

Usage (from the project root):
  python3 tests/libvirt/differential.py [--seed S] [--count N] [--keep DIR]
      [--machines q35,pc,virt] [--jobs J] [--max-diffs K] [--with-panic]
      [--shuffled-disks P] [--root-controller P] [--start I] [--print-domain]
      [--pciplan PATH] [--libvirt-assign PATH] [--new-definition] [--verbose]

  --seed S          RNG seed (default 1); domain i of a run is a function of (S, i)
  --count N         number of domains (default 100)
  --keep DIR        save each differing domain as DIR/NAME.xml, with libvirt's and
                    pciplan's answers as NAME.libvirt.xml / NAME.pciplan.xml
                    (or .libvirt.err / .pciplan.err when one refused)
  --machines LIST   machine families to draw from (default q35,pc,virt)
  --jobs J          domains checked in parallel (default 4)
  --max-diffs K     differences printed per domain (default 3)
  --with-panic      also generate <panic model='pvpanic'/> on aarch64 virt
                    (libvirt 9.0 does not know the model and refuses the domain)
  --shuffled-disks P  share of domains whose disk target names are not in
                    document order (default 0.15; libvirt sorts disks by name)
  --root-controller P  share of domains with an index-less user PCI controller
                    that also declare the root controller (default 0.95; without
                    it libvirt gives the user controller index 0 and refuses)
  --start I         first domain number (default 0): --start 17 --count 1
                    re-checks domain 17 of the seed
  --print-domain    only print the generated domain(s), check nothing
  --new-definition  pass --new-definition to pciplan
  --verbose         also print a line for every identical domain

Output: one line per differing domain (its name, machine, device count and the
first differences), then "N of M domains identical" and the refusal counts.
Exit status: 0 all identical, 1 some differ, 2 usage or environment error.
"""
import argparse
import concurrent.futures
import os
import random
import subprocess
import sys
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, '..', '..'))
DEFAULT_PCIPLAN = os.path.join(ROOT, 'build', 'gcc', 'examples', 'pciplan')
DEFAULT_ASSIGN = os.path.normpath(os.path.join(ROOT, '..', 'shared', 'tools', 'libvirt-assign'))

# --------------------------------------------------------------------------------------
# Domain generator
# --------------------------------------------------------------------------------------


def disk_name(i):
    s = ''
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(ord('a') + r) + s
    return 'vd' + s


def pci_addr(bus, slot, function=0, multifunction=False):
    mf = " multifunction='on'" if multifunction else ''
    return ("<address type='pci' domain='0x0000' bus='0x%02x' slot='0x%02x' function='0x%x'%s/>"
            % (bus, slot, function, mf))


class Gen:
    """Builds one random domain.  Devices are (xml, pcie_capable) pairs; the
    address of a device is decided after the mix is known."""

    def __init__(self, rng, name, machines, with_panic, shuffled_disks=0.15, root_p=0.95):
        self.r = rng
        self.shuffled_disks = shuffled_disks   # share of domains whose disk names are out of order
        self.root_p = root_p                   # share declaring the root controller (see build)
        self.name = name
        self.family = rng.choice(machines)
        self.with_panic = with_panic
        self.devices = []        # list of [kind, builder(addr_xml) -> xml, pcie_capable]
        self.controllers = []    # user PCI controllers (xml strings)
        self.free_root_slots = list(range(2, 0x1d))
        rng.shuffle(self.free_root_slots)
        self.root_port_indexes = []   # explicit indexes of user root ports free for a device
        self.used_pci_indexes = set()
        self.numa = False
        self.ndisks = 0
        self.nmacs = 0
        self.once = set()
        self.nvideo = 0
        self.usb_none = False
        self.usb_count = 0

    # -- helpers ------------------------------------------------------------------------
    def mac(self):
        self.nmacs += 1
        n = self.r.randrange(1 << 16)
        return '52:54:%02x:%02x:%02x:%02x' % (self.nmacs >> 8 & 0xff, self.nmacs & 0xff, n >> 8, n & 0xff)

    def add(self, kind, xml_fn, pcie):
        self.devices.append([kind, xml_fn, pcie])

    @property
    def pcie_root(self):
        return self.family in ('q35', 'virt')

    # -- device kinds -------------------------------------------------------------------
    def k_disk(self):
        # the target dev is given in build(): vda, vdb, ... in document order, or shuffled
        trans = self.r.random() < 0.15
        model = " model='virtio-transitional'" if trans else ''
        self.add('disk', lambda a, dev, model=model:
                 "<disk type='file' device='disk'%s><driver name='qemu' type='raw'/>"
                 "<source file='/var/lib/libvirt/images/%s.img'/><target dev='%s' bus='virtio'/>%s</disk>"
                 % (model, dev, dev, a), not trans)

    def k_interface(self):
        models = ['virtio', 'virtio', 'e1000', 'e1000e', 'rtl8139', 'virtio-transitional']
        m = self.r.choice(models)
        mac = self.mac()
        self.add('interface', lambda a, m=m, mac=mac:
                 "<interface type='user'><mac address='%s'/><model type='%s'/>%s</interface>" % (mac, m, a),
                 m in ('virtio', 'e1000e'))

    def k_usb(self):
        if self.usb_none:
            return
        choices = ['qemu-xhci', 'nec-xhci', 'ich9', 'none']
        if self.family != 'virt':
            choices.append('piix3-uhci')
        m = self.r.choice(choices)
        if m == 'none':
            if self.usb_count:
                return
            self.usb_none = True
            self.usb_count += 1
            self.add('usb-none', lambda a: "<controller type='usb' model='none'/>", None)
            return
        self.usb_count += 1
        if m == 'ich9':
            idx = " index='%d'" % (10 + self.usb_count) if self.r.random() < 0.5 else ''
            parts = [("ich9-ehci1", ''), ("ich9-uhci1", "<master startport='0'/>"),
                     ("ich9-uhci2", "<master startport='2'/>"), ("ich9-uhci3", "<master startport='4'/>")]
            xml = ''.join("<controller type='usb'%s model='%s'>%s</controller>" % (idx, pm, inner)
                          for pm, inner in parts)
            self.add('usb-ich9', lambda a, xml=xml: xml, None)
            return
        self.add('usb', lambda a, m=m: "<controller type='usb' model='%s'>%s</controller>" % (m, a),
                 m in ('qemu-xhci', 'nec-xhci'))

    def k_scsi(self):
        m = self.r.choice(['virtio-scsi', 'virtio-scsi', 'lsilogic'])
        self.add('scsi', lambda a, m=m: "<controller type='scsi' model='%s'>%s</controller>" % (m, a),
                 m == 'virtio-scsi')

    def k_virtio_serial(self):
        self.add('virtio-serial', lambda a: "<controller type='virtio-serial'>%s</controller>" % a, True)

    def k_sata(self):
        if self.family != 'q35':
            return
        self.add('sata', lambda a: "<controller type='sata'>%s</controller>" % a, False)

    def k_video(self):
        # the model is given in build(), in document order: libvirt accepts vga, cirrus
        # and bochs only as the primary (first) video; qxl is not in qemu-system-aarch64
        if self.nvideo >= 2:
            return
        self.nvideo += 1
        self.add('video', lambda a, m: "<video><model type='%s'/>%s</video>" % (m, a), True)

    def video_models(self):
        first = ['virtio', 'vga', 'cirrus', 'bochs'] + (['qxl'] if self.family != 'virt' else [])
        second = ['virtio'] + (['qxl'] if self.family != 'virt' else [])
        return [self.r.choice(first), self.r.choice(second)]

    def k_sound(self):
        m = self.r.choice(['ich9', 'ich6', 'ac97'])
        self.add('sound', lambda a, m=m: "<sound model='%s'>%s</sound>" % (m, a), False)

    def k_memballoon(self):
        if 'memballoon' in self.once:
            return
        self.once.add('memballoon')
        m = self.r.choice(['virtio', 'virtio', 'none'])
        if m == 'none':
            self.add('memballoon-none', lambda a: "<memballoon model='none'/>", None)
        else:
            self.add('memballoon', lambda a: "<memballoon model='virtio'>%s</memballoon>" % a, True)

    def k_rng(self):
        self.add('rng', lambda a: "<rng model='virtio'><backend model='random'>/dev/urandom</backend>%s</rng>" % a,
                 True)

    def k_watchdog(self):
        if 'watchdog' in self.once:
            return
        self.once.add('watchdog')
        self.add('watchdog', lambda a: "<watchdog model='i6300esb' action='reset'>%s</watchdog>" % a, False)

    def k_input(self):
        t = self.r.choice(['tablet', 'keyboard'])
        self.add('input', lambda a, t=t: "<input type='%s' bus='virtio'>%s</input>" % (t, a), True)

    def k_vsock(self):
        if 'vsock' in self.once:
            return
        self.once.add('vsock')
        self.add('vsock', lambda a: "<vsock model='virtio'><cid auto='yes'/>%s</vsock>" % a, True)

    def k_iommu(self):
        if 'iommu' in self.once or self.family == 'pc':
            return
        self.once.add('iommu')
        # integrated device: bus 0 only; leave the address to the planners
        self.add('iommu', lambda a: "<iommu model='virtio'/>", None)

    def k_panic(self):
        if not self.with_panic or self.family != 'virt' or 'panic' in self.once:
            return
        self.once.add('panic')
        self.add('panic', lambda a: "<panic model='pvpanic'/>", None)

    def k_serial(self):
        self.add('serial', lambda a: "<serial type='pty'><target type='pci-serial'/>%s</serial>" % a, False)

    def k_controller(self):
        """A user PCI controller, mostly without index."""
        f = self.family
        if f == 'pc':
            m = self.r.choice(['pci-bridge', 'pci-bridge', 'pci-expander-bus'])
        elif f == 'q35':
            m = self.r.choice(['pcie-root-port', 'pcie-root-port', 'pcie-root-port', 'pcie-to-pci-bridge',
                               'dmi-to-pci-bridge', 'pcie-expander-bus'])
        else:
            m = self.r.choice(['pcie-root-port', 'pcie-root-port', 'pcie-expander-bus'])
        target = ''
        if m in ('pcie-expander-bus', 'pci-expander-bus'):
            attrs = ''
            if self.r.random() < 0.5:
                attrs = " busNr='%d'" % self.r.choice([100, 128, 200, 250])
            node = ''
            if self.r.random() < 0.3:
                self.numa = True
                node = '<node>1</node>'
            if attrs or node:
                target = '<target%s>%s</target>' % (attrs, node)
        idx = ''
        if m == 'pcie-root-port' and self.r.random() < 0.3:
            i = self.r.randrange(1, 12)
            if i not in self.used_pci_indexes:
                self.used_pci_indexes.add(i)
                idx = " index='%d'" % i
                self.root_port_indexes.append(i)
        addr = ''
        if m in ('pcie-root-port', 'pci-bridge', 'dmi-to-pci-bridge', 'pcie-expander-bus',
                 'pci-expander-bus') and self.r.random() < 0.15 and self.free_root_slots:
            addr = pci_addr(0, self.free_root_slots.pop())
        self.controllers.append("<controller type='pci'%s model='%s'>%s%s</controller>" % (idx, m, target, addr))

    KINDS = [('disk', 6), ('interface', 6), ('usb', 1.5), ('scsi', 1.5), ('virtio_serial', 1), ('sata', 0.5),
             ('video', 1), ('sound', 1), ('memballoon', 1), ('rng', 1), ('watchdog', 0.5), ('input', 1.5),
             ('vsock', 0.5), ('iommu', 0.5), ('panic', 0.5), ('serial', 0.7), ('controller', 2)]

    def build(self):
        r = self.r
        n = r.randint(1, 40)
        names = [k for k, _ in self.KINDS]
        weights = [w for _, w in self.KINDS]
        if r.random() < 0.3:      # some domains are mostly one kind
            bias = r.choice(['disk', 'interface', 'controller'])
            weights = [w * (8 if k == bias else 1) for k, w in self.KINDS]
        attempts = 0
        while len(self.devices) + len(self.controllers) < n and attempts < 400:
            attempts += 1
            getattr(self, 'k_' + r.choices(names, weights)[0])()
        r.shuffle(self.devices)

        # addresses: mostly none, sometimes a fixed root slot / user root port, sometimes empty
        fixed_p = r.choice([0, 0, 0.1, 0.3])
        empty_p = r.choice([0, 0, 0.1, 0.3])
        ndisks = sum(1 for d in self.devices if d[0] == 'disk')
        devs = [disk_name(k) for k in range(ndisks)]
        if r.random() < self.shuffled_disks:
            r.shuffle(devs)
        videos = self.video_models()
        pcie_models = ('virtio', 'bochs')
        parts = []
        for kind, fn, pcie in self.devices:
            if kind == 'video':
                vm = videos.pop(0)
                pcie = vm in pcie_models
                fn = lambda a, fn=fn, vm=vm: fn(a, vm)
            a = ''
            x = r.random()
            if pcie is not None and x < fixed_p:
                if self.pcie_root and self.root_port_indexes and r.random() < 0.5:
                    a = pci_addr(self.root_port_indexes.pop(), 0)
                elif (pcie or not self.pcie_root) and self.free_root_slots:
                    a = pci_addr(0, self.free_root_slots.pop())
            elif pcie is not None and x < fixed_p + empty_p:
                a = "<address type='pci'/>"
            parts.append(fn(a, devs.pop(0)) if kind == 'disk' else fn(a))
        # user controllers go among the devices, at random positions
        for c in self.controllers:
            parts.insert(r.randrange(len(parts) + 1), c)
        # libvirt gives an index-less PCI controller the lowest free index, 0 too, so
        # mostly declare the root controller when some user controller has no index
        if any(" index=" not in c for c in self.controllers) and r.random() < self.root_p:
            root = 'pci-root' if self.family == 'pc' else 'pcie-root'
            parts.insert(r.randrange(len(parts) + 1), "<controller type='pci' index='0' model='%s'/>" % root)

        f = self.family
        if f == 'q35':
            arch, machine, dtype = 'x86_64', r.choice(['pc-q35-7.2', 'q35']), 'kvm'
        elif f == 'pc':
            arch, machine, dtype = 'x86_64', 'pc-i440fx-7.2', 'kvm'
        else:
            arch, machine, dtype = 'aarch64', 'virt-7.2', 'qemu'
        w = ["<domain type='%s'>" % dtype, '  <name>%s</name>' % self.name,
             "  <memory unit='MiB'>256</memory>", '  <vcpu>%d</vcpu>' % (2 if self.numa else 1)]
        w.append("  <os%s>" % (" firmware='efi'" if f == 'virt' else ''))
        w.append("    <type arch='%s' machine='%s'>hvm</type>" % (arch, machine))
        w.append('  </os>')
        w.append('  <features><acpi/></features>')
        if self.numa:
            w.append("  <cpu><numa><cell id='0' cpus='0' memory='128' unit='MiB'/>"
                     "<cell id='1' cpus='1' memory='128' unit='MiB'/></numa></cpu>")
        w.append('  <devices>')
        w.append('    <emulator>/usr/bin/qemu-system-%s</emulator>' % arch)
        w.extend('    ' + p for p in parts)
        w.append('  </devices>')
        w.append('</domain>')
        return '\n'.join(w) + '\n', '%s/%d' % (f, len(parts))


def generate(args, i):
    rng = random.Random('%s-%d' % (args.seed, i))
    return Gen(rng, 'diff-s%s-%04d' % (args.seed, i), args.machines, args.with_panic,
               args.shuffled_disks, args.root_controller).build()


# --------------------------------------------------------------------------------------
# PCI facts (a port of tests/libvirt/pci_facts.hpp)
# --------------------------------------------------------------------------------------


def number(text, base=0):
    if text is None:
        return None
    t = text.strip()
    if not t or t[0] in '+-':
        return None
    try:
        return int(t, base)
    except ValueError:
        return None


def normalised(text, fmt, base=0):
    n = number(text, base)
    return text if n is None else fmt % n


def is_pci(v):
    return v.startswith('pci ')


def address_value(el):
    a = el.find('address')
    if a is None:
        return 'no address'
    t = a.get('type', '')
    if t != 'pci':
        return (t or 'untyped') + ' address'
    parts = [('domain', '%04x'), ('bus', '%02x'), ('slot', '%02x'), ('function', '%x')]
    text, all_zero = [], True
    for name, fmt in parts:
        v = a.get(name)
        text.append(normalised(v, fmt) if v is not None else fmt % 0)
        if v is not None and (number(v) if number(v) is not None else 1) != 0:
            all_zero = False
    out = 'pci (unassigned)' if all_zero else 'pci %s:%s:%s.%s' % tuple(text)
    if a.get('multifunction') == 'on':
        out += ' multifunction=on'
    return out


def same_address(a, b):
    return a == b or (not is_pci(a) and not is_pci(b))


USB2 = ('ich9-ehci1', 'ich9-uhci1', 'ich9-uhci2', 'ich9-uhci3')


def is_usb2_companion(t, m):
    return t == 'usb' and m in USB2


def controller_indexes(devices):
    all_ = []
    for c in devices.findall('controller'):
        e = {'type': c.get('type', ''), 'model': c.get('model', ''), 'index': None, 'text': None}
        if c.get('index') is not None:
            e['given'] = True
            e['index'] = number(c.get('index'), 10)
            e['text'] = str(e['index']) if e['index'] is not None else c.get('index')
        else:
            e['given'] = False
        all_.append(e)

    def taken(t, i):
        return any(e['type'] == t and e['index'] == i for e in all_)

    for i, e in enumerate(all_):
        if e['given']:
            continue
        chosen = None
        if is_usb2_companion(e['type'], e['model']):
            for j in range(i - 1, -1, -1):
                prev = all_[j]
                if prev['type'] != 'usb':
                    continue
                if is_usb2_companion(prev['type'], prev['model']) and prev['index'] is not None:
                    if not any(o['type'] == 'usb' and o['model'] == e['model'] and o['index'] == prev['index']
                               for o in all_):
                        chosen = prev['index']
                break
        if chosen is None:
            chosen = 0
            while taken(e['type'], chosen):
                chosen += 1
        e['index'] = chosen
        e['text'] = str(chosen)
    return [e['text'] for e in all_]


FIELD_ORDER = ('model', 'name', 'chassisNr', 'chassis', 'port', 'busNr', 'targetIndex', 'hotplug', 'node',
               'address')


def pci_controller_fields(c):
    out = {}
    if c.get('model') is not None:
        out['model'] = c.get('model')
    mn = c.find('model')
    if mn is not None and mn.get('name') is not None:
        out['name'] = mn.get('name')
    t = c.find('target')
    if t is not None:
        for key, attr, fmt in (('chassisNr', 'chassisNr', '%d'), ('chassis', 'chassis', '%d'),
                               ('port', 'port', '0x%02x'), ('busNr', 'busNr', '%d'),
                               ('targetIndex', 'index', '%d'), ('hotplug', 'hotplug', None)):
            v = t.get(attr)
            if v is not None:
                out[key] = normalised(v, fmt) if fmt else v
        node = t.find('node')
        if node is not None:
            out['node'] = normalised(node.text or '', '%d')
    out['address'] = address_value(c)
    return out


def pci_facts(root):
    """[(key, fact)], fact = {controller, pci_controller, has_pci_address, fields}."""
    devices = root.find('devices')
    if devices is None:
        return []
    indexes = controller_indexes(devices)
    out, per_name, per_key = [], {}, {}
    ci = 0
    for e in devices:
        if not isinstance(e.tag, str):
            continue
        name = e.tag
        pos = per_name.get(name, 0)
        per_name[name] = pos + 1
        a = e.find('address')
        f = {'controller': False, 'pci_controller': False,
             'has_pci_address': a is not None and a.get('type') == 'pci'}
        if name == 'controller':
            t, m = e.get('type', ''), e.get('model', '')
            f['controller'] = True
            f['pci_controller'] = t == 'pci'
            key = 'controller %s index=%s' % (t or '?', indexes[ci])
            ci += 1
            if is_usb2_companion(t, m):
                key += ' model=' + m
            f['fields'] = pci_controller_fields(e) if t == 'pci' else {'address': address_value(e)}
        else:
            tgt, mac = e.find('target'), e.find('mac')
            if name == 'disk' and tgt is not None and tgt.get('dev') is not None:
                key = 'disk ' + tgt.get('dev')
            elif name == 'interface' and mac is not None and mac.get('address') is not None:
                key = 'interface ' + mac.get('address').lower()
            else:
                key = '%s #%d' % (name, pos)
            f['fields'] = {'address': address_value(e)}
        seen = per_key.get(key, 0)
        per_key[key] = seen + 1
        if seen:
            key += ' #%d' % seen
        out.append((key, f))
    return out


def show_field(name, v):
    if name == 'address':
        if v is None:
            return 'no address'
        return 'at ' + v[4:] if is_pci(v) else v
    return 'no ' + name if v is None else '%s=%s' % (name, v)


def describe(f):
    if not f['pci_controller']:
        return f['fields'].get('address', 'no address')
    flds = f['fields']
    model = flds.get('model')
    parts = [model if model is not None else 'no model']
    for k in FIELD_ORDER:
        if k == 'model' or k not in flds:
            continue
        if k == 'name' and flds[k] == model:
            continue
        if k == 'address' and not is_pci(flds[k]):
            continue
        parts.append(show_field(k, flds[k]))
    return ' '.join(parts)


def pci_differences(expected_root, got_root):
    want, have = pci_facts(expected_root), pci_facts(got_root)
    want_by, have_by = {}, {}
    for k, f in want:
        want_by.setdefault(k, f)
    for k, f in have:
        have_by.setdefault(k, f)

    def relevant(a, b):
        return any(x is not None and (x['controller'] or x['has_pci_address']) for x in (a, b))

    out = []
    for k, w in want:
        h = have_by.get(k)
        if not relevant(w, h):
            continue
        if h is None:
            out.append('%s: missing (expected %s)' % (k, describe(w)))
            continue
        wp, hp = [], []
        for name in FIELD_ORDER:
            a, b = w['fields'].get(name), h['fields'].get(name)
            if name == 'address':
                same = same_address(a or 'no address', b or 'no address')
            else:
                same = a == b
            if same:
                continue
            if w['pci_controller'] or h['pci_controller']:
                wp.append(show_field(name, a))
                hp.append(show_field(name, b))
            else:
                wp.append(a or 'no address')
                hp.append(b or 'no address')
        if wp:
            out.append('%s: expected %s, got %s' % (k, ' '.join(wp), ' '.join(hp)))
    for k, h in have:
        if k in want_by or not relevant(h, None):
            continue
        out.append('%s: unexpected (got %s)' % (k, describe(h)))
    return out


# --------------------------------------------------------------------------------------
# Running both sides
# --------------------------------------------------------------------------------------


def run(cmd, text):
    """(exit status, stdout, stderr); status 127 when the program cannot be started."""
    try:
        p = subprocess.run(cmd, input=text, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as e:
        return 127, '', '%s: %s' % (cmd[0], e)
    return p.returncode, p.stdout, p.stderr


def first_line(s):
    lines = [l.strip() for l in s.splitlines() if l.strip()]
    return lines[0] if lines else '(no message)'


def check(args, i):
    xml, desc = generate(args, i)
    name = 'diff-s%s-%04d' % (args.seed, i)
    lrc, lout, lerr = run([args.libvirt_assign, '-'], xml)
    pcmd = [args.pciplan, 'plan', '--policy', 'libvirt', '--format', 'xml']
    if args.new_definition:
        pcmd.append('--new-definition')
    prc, pout, perr = run(pcmd + ['-'], xml)
    if prc not in (0, 1, 2):
        lrc, lerr = 2, 'pciplan exit %d: %s' % (prc, perr)   # a crash or a missing binary is not a refusal
    res = {'i': i, 'name': name, 'desc': desc, 'xml': xml, 'lout': lout, 'lerr': lerr, 'pout': pout,
           'perr': perr, 'diffs': []}
    if lrc not in (0, 1):
        res['status'] = 'error'
        res['diffs'] = ['tool error (exit %d): %s' % (lrc, first_line(lerr))]
    elif lrc == 1 and prc != 0:
        res['status'] = 'both-refuse'
    elif lrc == 1:
        res['status'] = 'only-libvirt-refuses'
        res['diffs'] = ['libvirt refuses, pciplan plans: ' + first_line(lerr)]
    elif prc != 0:
        res['status'] = 'only-pciplan-refuses'
        res['diffs'] = ['pciplan refuses (exit %d), libvirt plans: %s' % (prc, first_line(perr))]
    else:
        try:
            d = pci_differences(ET.fromstring(lout), ET.fromstring(pout))
        except ET.ParseError as e:
            d = ['unparsable output: %s' % e]
        res['status'] = 'differ' if d else 'identical'
        res['diffs'] = d
    return res


def save(keep, res):
    os.makedirs(keep, exist_ok=True)
    base = os.path.join(keep, res['name'])
    with open(base + '.xml', 'w') as fh:
        fh.write(res['xml'])
    for suffix, text in (('.libvirt.xml', res['lout']), ('.libvirt.err', res['lerr']),
                         ('.pciplan.xml', res['pout']), ('.pciplan.err', res['perr'])):
        if text.strip():
            with open(base + suffix, 'w') as fh:
                fh.write(text)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--seed', default='1')
    ap.add_argument('--count', type=int, default=100)
    ap.add_argument('--keep')
    ap.add_argument('--machines', default='q35,pc,virt')
    ap.add_argument('--jobs', type=int, default=4)
    ap.add_argument('--max-diffs', type=int, default=3)
    ap.add_argument('--with-panic', action='store_true')
    ap.add_argument('--shuffled-disks', type=float, default=0.15)
    ap.add_argument('--root-controller', type=float, default=0.95)
    ap.add_argument('--start', type=int, default=0)
    ap.add_argument('--print-domain', action='store_true')
    ap.add_argument('--new-definition', action='store_true')
    ap.add_argument('--verbose', action='store_true')
    ap.add_argument('--pciplan', default=DEFAULT_PCIPLAN)
    ap.add_argument('--libvirt-assign', default=DEFAULT_ASSIGN)
    args = ap.parse_args(argv)
    args.machines = [m.strip() for m in args.machines.split(',') if m.strip()]
    if not set(args.machines) <= {'q35', 'pc', 'virt'}:
        ap.error('--machines: choose from q35, pc, virt')
    for tool in (args.pciplan, args.libvirt_assign):
        if not os.access(tool, os.X_OK):
            sys.stderr.write('differential.py: %s is not executable\n' % tool)
            return 2

    if args.print_domain:
        for i in range(args.start, args.start + args.count):
            sys.stdout.write(generate(args, i)[0])
        return 0
    counts = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
        for res in ex.map(lambda i: check(args, i), range(args.start, args.start + args.count)):
            st = res['status']
            counts[st] = counts.get(st, 0) + 1
            if st in ('identical', 'both-refuse'):
                if args.verbose:
                    print('%s (%s): %s' % (res['name'], res['desc'], st))
                continue
            shown = res['diffs'][:args.max_diffs]
            more = len(res['diffs']) - len(shown)
            line = '%s (%s): %s: %s%s' % (res['name'], res['desc'], st, '; '.join(shown),
                                         ' (+%d more)' % more if more > 0 else '')
            if args.keep:
                save(args.keep, res)
                line += ' [saved %s.xml]' % os.path.join(args.keep, res['name'])
            print(line, flush=True)
    same = counts.get('identical', 0) + counts.get('both-refuse', 0)
    print('%d of %d domains identical' % (same, args.count))
    print('  (identical %d, both refuse %d, differ %d, only libvirt refuses %d, only pciplan refuses %d, '
          'errors %d)' % (counts.get('identical', 0), counts.get('both-refuse', 0), counts.get('differ', 0),
                          counts.get('only-libvirt-refuses', 0), counts.get('only-pciplan-refuses', 0),
                          counts.get('error', 0)))
    if counts.get('error'):
        return 2
    return 0 if same == args.count else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
