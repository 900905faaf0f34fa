"""One case of the QEMU suite: a random domain planned with one policy, started in QEMU,
checked against what QEMU built, and reported when it fails.

`run_case_safely(ctx, machine, index, policy, firmware)` makes domain `index` of
`ctx.seed` (random_domains.QEMU_SUITE), plans it with `pciplan plan --policy POLICY` in
--format qemu, json and tree, starts QEMU with the qemu lines as they are (qemu.Qemu, -S),
reads `info qtree` over QMP and runs the checks of qemu_checks; the pciplan policy must also
leave the spare ports it promises (spare-ports, default 4) or warn. With `firmware` (x86)
the plan also boots SeaBIOS (no -S), and the bus numbers it programmed are read back with
query-pci. Documented refusals of the libvirt policy (numa-node constraints; libvirt's loop
of an address-less switch upstream port on its own downstream port) are counted, not failed.
`report` writes a failing Outcome as text, with what it takes to run the case again;
`write_reports` writes each into a directory.
"""
import json
import os
import re
import shlex
import shutil
import tempfile
import time

from . import tool
from .plan_output import Plan, lines_of
from .qemu import Qemu, QemuRefused, qemu_arguments, wait_for_log
from .qemu_checks import Outcome, check_aliases, check_hotplug, check_numbers, check_topology
from .qtree import Realized
from .random_domains import make_domain


# what the libvirt policy refuses as libvirt does (RULES.md L4.3), or where libvirt's own
# answer cannot start, so that --format qemu has no arguments for it (RULES.md L2.4): an
# address-less pcie-to-pci-bridge with no root port free, a non-virtio SCSI controller
# that follows virtio-mmio devices onto virtio-mmio
LIBVIRT_REFUSALS = ("(pcie-to-pci-bridge): needs a PCI Express slot on a root bus, none is free, and libvirt does "
                    "not add root buses",
                    "no QEMU arguments: libvirt moves devices that have no virtio-mmio variant")


class Context:
    """What every case of a run shares."""

    def __init__(self, seed, pciplan, workroot, script):
        self.seed = seed
        self.tool = pciplan        # the pciplan binary
        self.workroot = workroot   # a directory for the cases' QEMU sockets and logs
        self.script = script       # the driver, for the "reproduce" line of a report


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
        text, seen = wait_for_log(log, lambda t: '=== PCI device probing ===' in t or 'panic' in t, 60, 0.02)
        if not seen:
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
    domain = make_domain(ctx.seed, machine, index)
    xml, memory, machine_type = domain.xml, domain.memory_kib, domain.machine_type
    outcome.xml = xml
    outcome.command = 'pciplan plan --policy %s --format qemu domain.xml' % policy
    status, out, err = tool.plan(ctx.tool, xml, policy, 'qemu')
    if policy == 'libvirt' and domain.numa_constrained:
        # documented: the libvirt policy refuses NUMA constraints (libvirt cannot place by node)
        if status in (1, 2) and 'NUMA' in err and not out:
            outcome.expected_refusal = True
        else:
            outcome.fail('plan', 'the libvirt policy should refuse a numa-node constraint; status %d: %s'
                         % (status, err.strip() or out[:200]))
        return outcome
    if (policy == 'libvirt' and status == 2 and 'no QEMU arguments' in err and 'a loop of controllers' in err
            and not out
            and re.search(r"model='pcie-switch-upstream-port'(\s*/>|>\s*<alias name='[^']*'/>\s*</controller>)", xml)):
        # documented: libvirt puts an address-less switch upstream port on one of its own
        # downstream ports (libvirt 9.0 and 11.3 do); the libvirt policy reproduces that loop
        # with a warning, and --format qemu has no arguments for it
        outcome.loop_refusal = True
        return outcome
    if policy == 'libvirt' and status in (1, 2) and not out and any(
            reason in err for reason in LIBVIRT_REFUSALS):
        # documented: domains libvirt itself refuses, or defines in a form QEMU cannot start
        outcome.libvirt_refusal = True
        return outcome
    if status != 0:
        outcome.fail('plan', 'pciplan exited with status %d: %s' % (status, err.strip()))
        return outcome
    lines = lines_of(out)
    outcome.qemu_lines = lines
    status, out, err = tool.plan(ctx.tool, xml, policy, 'json')
    if status != 0:
        outcome.fail('plan', '--format json exited with status %d: %s' % (status, err.strip()))
        return outcome
    doc = json.loads(out)
    status, tree, err = tool.plan(ctx.tool, xml, policy, 'tree')
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
            outcome.topology_ok = check_aliases(xml, plan, realized, outcome) and outcome.topology_ok
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
        outcome.xml = make_domain(ctx.seed, machine, index).xml
        outcome.fail('internal', 'the test itself failed: %r' % e)
    outcome.seconds = time.monotonic() - t0
    return outcome


def report(o, ctx, full):
    """A failing Outcome as text; `full` adds the domain, the plan and the QEMU command line."""
    seed = ctx.seed
    head = '%s domain %d, --policy %s (seed %d)' % (o.machine, o.index, o.policy, seed)
    out = ['FAIL ' + head]
    for check, text in o.problems[:12]:
        out.append('  [%s] %s' % (check, text))
    if len(o.problems) > 12:
        out.append('  ... and %d more problems' % (len(o.problems) - 12))
    if full:
        out.append('  reproduce: python3 %s --pciplan %s --seed %d --only %s:%d'
                   % (ctx.script, ctx.tool, seed, o.machine, o.index))
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


def write_reports(directory, failures, ctx):
    """Each failing case as DIR/MACHINE-INDEX-POLICY.xml and .txt, the previous run's removed."""
    os.makedirs(directory, exist_ok=True)
    for old in os.listdir(directory):   # the previous run's cases, nothing else
        if re.match(r'^[a-z0-9]+-\d+-(libvirt|pciplan)\.(xml|txt)$', old):
            os.unlink(os.path.join(directory, old))
    for o in failures:
        stem = os.path.join(directory, '%s-%d-%s' % (o.machine, o.index, o.policy))
        with open(stem + '.xml', 'w') as f:
            f.write(o.xml)
        with open(stem + '.txt', 'w') as f:
            f.write(report(o, ctx, True) + '\n')
