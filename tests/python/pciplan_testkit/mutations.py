"""Planned QEMU layouts made wrong on purpose, one way at a time (the validator agreement).

`mutations(lines, rng)` takes the lines of `pciplan plan --format qemu` and gives, for each
kind below that applies to the layout, the layout with that one mistake, at a place chosen
by `rng` (so a seeded generator makes the same layouts on every run):

  duplicate address    a device takes another device's bus and addr
  unknown bus          a device names a bus nothing provides
  duplicate id         a device takes another device's id
  chassis clash        a root or downstream port takes another port's chassis and slot
  chassis_nr 0         a pci-bridge gets chassis_nr=0
  multifunction off    function 0 of a multifunction slot loses multifunction=on
  lone function 5      a device moves to function 5 of its slot
  slot 32              a device's addr names slot 0x20
  slot 3 of a port     an endpoint moves to slot 3 behind a root or downstream port
  port on a bridge     a pcie-root-port moves onto a conventional bus (pci-bridge, pxb)
  expander off root    an expander bus moves behind a port or bridge
  bus_nr clash         a second expander with the same bus_nr at slot 0x1e of the root
  numa node 9          an expander names a NUMA node the guest does not have
"""
import re

# the kinds in the order they are reported; 'unmutated' is the layout as planned
KINDS = ('unmutated', 'duplicate address', 'unknown bus', 'duplicate id', 'chassis clash', 'chassis_nr 0',
         'multifunction off', 'lone function 5', 'slot 32', 'slot 3 of a port', 'port on a bridge',
         'expander off root', 'bus_nr clash', 'numa node 9')


def driver(line):
    return line[len('-device '):].split(',', 1)[0]


def prop(line, key):
    m = re.search(r',%s=([^,]*)' % re.escape(key), line)
    return m.group(1) if m else None


def set_prop(line, key, value):
    if prop(line, key) is None:
        return line + ',%s=%s' % (key, value)
    return re.sub(r',%s=[^,]*' % re.escape(key), lambda _: ',%s=%s' % (key, value), line, count=1)


def drop_prop(line, key):
    return re.sub(r',%s=[^,]*' % re.escape(key), '', line, count=1)


PORTS = ('pcie-root-port', 'xio3130-downstream')
CONVENTIONAL_BUSES = ('pci-bridge', 'pcie-pci-bridge', 'pxb')
EXPANDERS = ('pxb', 'pxb-pcie')
CONTROLLERS = PORTS + CONVENTIONAL_BUSES + EXPANDERS + ('x3130-upstream', 'i82801b11-bridge')


def mutations(lines, rng):
    """(kind, mutated lines) for every kind that applies to this layout."""
    devices = [i for i, l in enumerate(lines) if l.startswith('-device ')]
    addressed = [i for i in devices if prop(lines[i], 'bus') and prop(lines[i], 'addr')]
    with_id = [i for i in devices if prop(lines[i], 'id')]
    ports = [i for i in devices if driver(lines[i]) in PORTS]
    endpoints = [i for i in addressed if driver(lines[i]) not in CONTROLLERS]
    bridges = [i for i in devices if driver(lines[i]) == 'pci-bridge']
    conventional = [i for i in devices if driver(lines[i]) in CONVENTIONAL_BUSES]
    expanders = [i for i in devices if driver(lines[i]) in EXPANDERS]
    root_ports = [i for i in devices if driver(lines[i]) == 'pcie-root-port']
    out = []

    def changed(kind, index, line):
        l = list(lines)
        l[index] = line
        out.append((kind, l))

    if len(addressed) >= 2:
        a, b = rng.sample(addressed, 2)
        changed('duplicate address', b, set_prop(set_prop(lines[b], 'bus', prop(lines[a], 'bus')), 'addr',
                                                 prop(lines[a], 'addr')))
    if devices:
        i = rng.choice(devices)
        changed('unknown bus', i, set_prop(lines[i], 'bus', 'nosuch.0'))
    if len(with_id) >= 2:
        a, b = rng.sample(with_id, 2)
        changed('duplicate id', b, set_prop(lines[b], 'id', prop(lines[a], 'id')))
    if len(ports) >= 2:
        a, b = rng.sample(ports, 2)
        changed('chassis clash', b, set_prop(set_prop(lines[b], 'chassis', prop(lines[a], 'chassis') or '0'), 'slot',
                                             prop(lines[a], 'slot') or '0'))
    if bridges:
        i = rng.choice(bridges)
        changed('chassis_nr 0', i, set_prop(lines[i], 'chassis_nr', '0'))
    multi = [i for i in devices if 'multifunction=on' in lines[i]]
    if multi:
        i = rng.choice(multi)
        changed('multifunction off', i, drop_prop(lines[i], 'multifunction'))
    if addressed:
        i = rng.choice(addressed)
        slot = prop(lines[i], 'addr').split('.')[0]
        changed('lone function 5', i, set_prop(lines[i], 'addr', slot + '.0x5'))
        i = rng.choice(addressed)
        changed('slot 32', i, set_prop(lines[i], 'addr', '0x20.0x0'))
    if endpoints and ports:
        i, p = rng.choice(endpoints), rng.choice(ports)
        changed('slot 3 of a port', i, set_prop(set_prop(lines[i], 'bus', prop(lines[p], 'id')), 'addr', '0x3.0x0'))
    if root_ports and conventional:
        i, b = rng.choice(root_ports), rng.choice(conventional)
        if prop(lines[b], 'id') and i != b:
            changed('port on a bridge', i, set_prop(set_prop(lines[i], 'bus', prop(lines[b], 'id')), 'addr',
                                                    '0x1f.0x0'))
    parents = [i for i in ports + conventional if prop(lines[i], 'id')]
    if expanders and parents:
        i = rng.choice(expanders)
        p = rng.choice([q for q in parents if q != i] or [None])
        if p is not None:
            slot = '0x0.0x0' if driver(lines[p]) in PORTS else '0x1f.0x0'
            changed('expander off root', i, set_prop(set_prop(lines[i], 'bus', prop(lines[p], 'id')), 'addr', slot))
    if expanders:
        i = rng.choice(expanders)
        twin = set_prop(set_prop(lines[i], 'id', 'twin'), 'addr', '0x1e.0x0')
        out.append(('bus_nr clash', lines + [twin]))
        i = rng.choice(expanders)
        changed('numa node 9', i, set_prop(lines[i], 'numa_node', '9'))
    return out
