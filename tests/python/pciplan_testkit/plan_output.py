"""What `pciplan plan` says of one domain and policy, read back for checking.

A Plan joins the three outputs the QEMU suite asks for: `--format json` (controllers with
their QEMU bus name, guest bus range, slots, hot-pluggability and spare flag; devices with
their libvirt and guest addresses), `--format qemu` (the lines QEMU is given, and so which
ids it creates) and `--format tree` (the guest bus range drawn for each controller).
"""
import re

TREE_RANGE = re.compile(r'-\[([0-9a-f]{2})(?:-([0-9a-f]{2}))?\]\s+(\S+)\s')


def lines_of(qemu_output):
    """The non-empty lines of `--format qemu`: one QEMU argument each."""
    return [l for l in qemu_output.splitlines() if l.strip()]


class Plan:
    """`pciplan plan --format json`, `--format qemu` and `--format tree` of one domain and policy."""

    def __init__(self, doc, qemu_lines, tree_text):
        self.doc = doc
        # `--format tree` draws each controller (by its QEMU id) with the guest bus range
        # below it: ` +-02.0-[01-03]  pci.1 pcie-root-port`, `-[f8-f9]  ua-pxb pxb-pcie`, …
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

    def qemu_id(self, index):
        """The QEMU id of controller `index` (the plan's qemu_id: pci.N, or the user's)."""
        return self.controllers[index]['qemu_id']

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

    def bus_rule(self, index):
        """What the plan says of the bus controller `index` provides: hot-pluggable, and its slots."""
        c = self.controllers[index]
        return c['hotpluggable'], range(c['slots']['first'], c['slots']['last'] + 1)

    def below_numa_expander(self, index):
        """Whether controller `index` is an expander bound to a NUMA node, or sits below one."""
        seen = set()
        while index not in seen and index in self.controllers:
            seen.add(index)
            c = self.controllers[index]
            if c['model'] in ('pci-expander-bus', 'pcie-expander-bus') and c['numa_node'] is not None:
                return True
            if c['address'] is None:
                return False
            index = c['address']['bus']
        return False
