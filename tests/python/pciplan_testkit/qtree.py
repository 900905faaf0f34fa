"""QEMU's `info qtree` as a PCI topology, and the bus numbers firmware gives it.

`Realized(qtree_text)` holds the PCI buses QEMU built (root buses of host bridges and of
expanders, and bridges' secondary buses), the PCI devices on each with their slot.function,
type, id and properties, and the virtio-mmio devices. `number_buses(realized)` numbers the
buses as SeaBIOS does (depth first, in slot.function order; the main root bus 0 first, then
each expander's root bus from its bus_nr) and fills in each bus's number and each bridge's
secondary and subordinate numbers.
"""
import re

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
