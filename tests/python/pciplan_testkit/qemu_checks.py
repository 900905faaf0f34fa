"""The QEMU suite's checks of one plan against the topology QEMU built from it.

An Outcome collects what happened to one plan (started, refused as documented, the counts
of each check, the problems found). The checks, each given the Plan (plan_output), the
Realized topology (qtree) and the Outcome:

  check_topology  every controller and device of the plan is where the plan put it: on its
                  parent bus at its slot.function (virtio-mmio devices on their transport),
                  of the planned QEMU type, with the planned chassis/port/bus_nr/numa_node/
                  hotplug; QEMU has no PCI device the plan does not know;
  check_aliases   a PCI controller with a user alias is named by it in QEMU, and so is
                  its bus, as libvirt names them;
  check_numbers   the plan's guest bus numbers (json: each controller's guest_bus and each
                  device's address; tree: each controller's bus range) equal the ones
                  firmware gives the realized topology (qtree.number_buses);
  check_hotplug   QMP device_add of a virtio-net-pci succeeds in every empty slot of every
                  bus the plan makes hot-pluggable, and fails on every bus the plan says is
                  not; the json's spare flag of each controller is checked on the way.
"""
import re
import xml.etree.ElementTree as ET

from .qtree import number_buses, prop_number

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


class Outcome:
    def __init__(self, machine, index, policy):
        self.machine, self.index, self.policy = machine, index, policy
        self.started = False
        self.expected_refusal = False    # the libvirt policy refused NUMA constraints, as documented
        self.loop_refusal = False        # the libvirt policy refused libvirt's switch-port loop, as documented
        self.libvirt_refusal = False     # the libvirt policy refused as libvirt does (qemu_case.LIBVIRT_REFUSALS)
        self.topology_ok = False
        self.numbers_ok = False
        self.aliases = 0                 # controllers with a user alias, named by it in QEMU
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
        qid = plan.qemu_id(index)
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
        if plan.bus_name(index) not in realized.by_name:
            problem('controller %s: QEMU has no bus named %s' % (qid, plan.bus_name(index)))
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
            if x.id not in (plan.qemu_id(i) for i in plan.controllers) and x.id not in [d['name'] for d in plan.devices]:
                problem('QEMU has %s id=%s at %s, which the plan does not have' % (x.type, x.id, x.where()))
        elif x.bus.bridge is not None or x.bus.host == 'pxb-host':
            problem('QEMU has an unnamed %s at %s, below a planned controller' % (x.type, x.where()))
    return ok


def check_aliases(xml, plan, realized, outcome):
    """(b'): a PCI controller with a user alias (`<alias name='ua-…'/>`, index above 0) is
    named by it in QEMU, and its bus too, as libvirt names them (RULES.md L1.4)."""
    ok = True
    for c in ET.fromstring(xml).iter('controller'):
        alias = c.find('alias')
        if c.get('type') != 'pci' or alias is None or not alias.get('name', '').startswith('ua-'):
            continue
        index = int(c.get('index'))
        if index == 0:
            continue
        name = alias.get('name')
        outcome.aliases += 1
        if plan.qemu_id(index) != name or plan.bus_name(index) != name:
            ok = False
            outcome.fail('aliases', 'controller %d has alias %s, the plan names it %s (bus %s)'
                         % (index, name, plan.qemu_id(index), plan.bus_name(index)))
        elif len(realized.by_id.get(name, [])) != 1 or name not in realized.by_name:
            ok = False
            outcome.fail('aliases', 'controller %d has alias %s, QEMU has no device and bus of that name'
                         % (index, name))
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
        qid = plan.qemu_id(index) or plan.bus_name(index)
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
        hot, slots = plan.bus_rule(index)
        taken = plan.occupied(index) | {d.slot for d in buses[0].devices}
        free = [s for s in slots if s not in taken]
        model = plan.controllers[index]['model']
        empty_port = hot and model.endswith('port') and not plan.occupied(index)
        if plan.controllers[index]['spare'] != empty_port:
            outcome.fail('spares', 'controller pci.%d (%s): the json says spare=%s, but it is %s'
                         % (index, model, plan.controllers[index]['spare'],
                            'an empty hot-pluggable port' if empty_port else 'not an empty hot-pluggable port'))
        targets = free if hot else (free[:1] or list(slots[:1]))
        if hot and not plan.below_numa_expander(index) and (not machine.pcie or model.endswith('port')):
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
