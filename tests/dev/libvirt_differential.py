#!/usr/bin/env python3
"""Differential test: `pciplan plan --policy libvirt` against real libvirts (9.0 and 11.3).

DEVELOPMENT SCRIPT, NOT RUN BY CI. It needs the libvirt oracles of ../shared/tools (see
../shared/tools/README.md): `libvirt-assign -` (libvirt 9.0 / QEMU 7.2 on the host) and
`trixie libvirt-assign -` (libvirt 11.3 / QEMU 10.0 in a Debian 13 chroot). An oracle reads a
domain on standard input, defines it, prints `virsh dumpxml --inactive` and undefines it;
exit 1 with libvirt's `error: ...` lines when libvirt refuses the domain. The project's own
tests must not depend on it.

It generates COUNT random but valid libvirt domains (tests/python/pciplan_testkit/
random_domains.py, profile LIBVIRT_FIDELITY by default, LIBVIRT_DIFFERENTIAL with --profile
differential; seeded, so a run can be repeated exactly), lets pciplan and each chosen libvirt
assign the PCI addresses, and compares the PCI facts of the results (pciplan_testkit/
pci_facts.py, the same facts as tests/libvirt/pci_facts.hpp). A domain libvirt refuses must
be refused by pciplan too (exit status != 0): "both refuse" counts as identical, "only one
refuses" is a difference. With --libvirt both, the two libvirts are also compared with each
other: where they agree (same PCI facts, or both refuse) their answer is libvirt's
behaviour; where they differ it is a version difference.

Every difference gets a short class key (what the first difference is about: an implicit
controller only one side has, a controller added by one side only, a field of a PCI
controller, a device address, or a refusal with its message, numbers left out), so that a
long run reads as a table of classes with counts and an example domain each.

Usage:
  python3 tests/dev/libvirt_differential.py --pciplan BUILD/examples/pciplan
      [--libvirt 9.0|11.3|both] [--libvirt-assign CMD] [--libvirt11-assign CMD]
      [--profile fidelity|differential] [--seed S] [--count N] [--start I]
      [--machines pc,q35,aarch64,riscv64] [--jobs J] [--keep DIR] [--max-diffs K]
      [--with-panic | --no-panic] [--shuffled-disks P] [--root-controller P]
      [--new-definition] [--print-domain] [--verbose]

Output: one line per domain that differs from a libvirt (its name, machine, element count,
its status and class against each libvirt, then the first differences), then the summary:
per libvirt "identical to V (or refused by both) N of M", the domains where 9.0 and 11.3
agree and how many of those pciplan matches, the domains where 9.0 and 11.3 differ from each
other, and the table of difference classes. Exit status: 0 all identical, 1 some differ, 2
usage or environment error (or an oracle that kept failing).
"""
import argparse
import concurrent.futures
import dataclasses
import os
import random
import re
import shlex
import sys
import time
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'python'))
from pciplan_testkit import machines, tool  # noqa: E402
from pciplan_testkit.pci_facts import FIELD_ORDER, pci_differences  # noqa: E402
from pciplan_testkit.random_domains import LIBVIRT_DIFFERENTIAL, LIBVIRT_FIDELITY, make_domain  # noqa: E402

TOOLS = os.path.normpath(os.path.join(HERE, '..', '..', '..', 'shared', 'tools'))
VERSIONS = ('11.3', '9.0')          # the order of the report
PROFILES = {'fidelity': LIBVIRT_FIDELITY, 'differential': LIBVIRT_DIFFERENTIAL}
SAME = ('identical', 'both-refuse')


def generate(args, i):
    """Domain i of the run: its machine drawn from --machines, then the kit's generator."""
    machine = random.Random('pciplan-libvirt-diff:%d:%d' % (args.seed, i)).choice(args.machines)
    return machine, make_domain(args.seed, machine, i, args.profile)


def first_line(s):
    lines = [l.strip() for l in s.splitlines() if l.strip()]
    return lines[0] if lines else '(no message)'


def libvirt_error(err):
    """libvirt's own error line (the oracle prints it after virsh's 'error: Failed to ...')."""
    lines = [l.strip() for l in err.splitlines() if l.strip().startswith('error:')]
    return lines[-1] if lines else first_line(err)


def ask_libvirt(command, xml):
    """The oracle's answer, retried when it is not one: exit 0 without a <domain>, or exit 1
    without libvirt's 'error:' line (a Python traceback: the trixie wrapper copies the oracle
    into the chroot on every call, so a parallel call can start a half-written copy)."""
    r = None
    for attempt in range(5):
        r = tool.run(command, ['-'], xml, timeout=600)
        if (r.status == 0 and '<domain' in r.stdout) or (r.status == 1 and 'error:' in r.stderr):
            return r
        time.sleep(0.3 * (attempt + 1))
    return tool.Result(2 if r.status in (0, 1) else r.status, r.stdout, r.stderr)


def compare(lv, pp):
    """(status, differences) of libvirt's answer `lv` and pciplan's `pp` (tool.Results)."""
    if lv.status not in (0, 1):
        return 'error', ['tool error (exit %d): %s' % (lv.status, first_line(lv.stderr))]
    if pp.status not in (0, 1, 2):
        return 'error', ['pciplan exit %d: %s' % (pp.status, first_line(pp.stderr))]
    if lv.status == 1:
        if pp.status != 0:
            return 'both-refuse', []
        return 'only-libvirt-refuses', ['libvirt refuses, pciplan plans: ' + libvirt_error(lv.stderr)]
    if pp.status != 0:
        return 'only-pciplan-refuses', ['pciplan refuses (exit %d), libvirt plans: %s'
                                        % (pp.status, first_line(pp.stderr))]
    try:
        d = pci_differences(ET.fromstring(lv.stdout), ET.fromstring(pp.stdout))
    except ET.ParseError as e:
        d = ['unparsable output: %s' % e]
    return ('differ' if d else 'identical'), d


def compare_versions(old, new):
    """(agree, differences) of libvirt 9.0's answer and 11.3's: same facts, or both refuse."""
    if old.status not in (0, 1) or new.status not in (0, 1):
        return None, ['an oracle failed']
    if old.status == 1 and new.status == 1:
        return True, []
    if old.status == 1:
        return False, ['9.0 refuses, 11.3 plans: ' + libvirt_error(old.stderr)]
    if new.status == 1:
        return False, ['11.3 refuses, 9.0 plans: ' + libvirt_error(new.stderr)]
    d = pci_differences(ET.fromstring(old.stdout), ET.fromstring(new.stdout))
    return not d, d


# -- difference classes -------------------------------------------------------------------
NUMBER = r'(0x[0-9a-fA-F]+|[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]|\d+)'


def without_numbers(text):
    """`text` with every number and PCI address (alone, or alone in quotes) written N."""
    return re.sub(r"(?<![\w-])%s(?![\w-])" % NUMBER, 'N', text)


def refusal_class(who, message):
    """'WHO refuses: MESSAGE' with numbers and the refused device's own name left out."""
    m = message.strip()
    m = re.sub(r'^pciplan: [^:]*: ', '', m)
    m = re.sub(r'^error: ', '', m)
    subject = re.match(r'^(controller \d+ \(([^)]*)\)|[^ :]+): ', m)
    if subject:
        m = ('controller (%s): ' % subject.group(2) if subject.group(2) else '') + m[subject.end():]
    return '%s refuses: %s' % (who, without_numbers(m)[:110])


FACT = re.compile(r'^(?P<key>.+?): (?P<what>missing \(expected (?P<exp>.*)\)|unexpected \(got (?P<got>.*)\)|'
                  r'expected (?P<a>.*), got (?P<b>.*))$')


def fact_class(sentence, first, second):
    """The class of one pci_differences sentence; `first` is the expected side's name."""
    m = FACT.match(sentence)
    if not m:
        return 0, without_numbers(sentence)[:80]
    key = m.group('key')
    element = key.split()[0]
    if element == 'controller':
        parts = key.split()
        ctype = parts[1]
        if m.group('exp') is not None or m.group('got') is not None:
            who = first if m.group('exp') is not None else second
            described = m.group('exp') or m.group('got')
            if ctype == 'pci':
                return 2, 'only %s adds a %s' % (who, described.split()[0])
            model = ' ' + parts[3] if len(parts) > 3 else ''
            return 1, 'only %s has a %s%s controller' % (who, ctype, model)
        if ctype == 'pci':
            fields = field_names(m.group('a')) | field_names(m.group('b'))
            return 3, 'pci controller: other %s' % '/'.join(f for f in FIELD_ORDER if f in fields)
        element = 'controller ' + ctype
    a, b = (x if x.startswith('pci 0') else '' for x in (m.group('exp') or m.group('a') or '',
                                                            m.group('got') or m.group('b') or ''))
    if bool(a) != bool(b):
        # missing, unexpected, or a PCI address against another kind (virtio-mmio, none, empty)
        return 1, '%s: only %s has a PCI address' % (element, first if a else second)
    return 4, '%s: other address' % element


def field_names(text):
    """The fields a pci_facts description of a PCI controller names."""
    names, words = set(), text.split()
    for k, w in enumerate(words):
        if w == 'no' and k + 1 < len(words):
            names.add(words[k + 1])
        elif w == 'at' or w.startswith('multifunction'):
            names.add('address')
        elif '=' in w:
            names.add(w.split('=')[0])
    return names


def difference_class(status, diffs, lv_err='', pp_err='', first='libvirt', second='pciplan'):
    """The class of a comparison: a refusal's, or that of the difference that comes first
    by kind: a device or implicit controller only one side has (a cause), then a PCI
    controller only one side adds, other fields of a PCI controller, other addresses (more
    often consequences)."""
    if status == 'error':
        return 'tool error'
    if status == 'only-libvirt-refuses':
        return refusal_class(first, libvirt_error(lv_err))
    if status == 'only-pciplan-refuses':
        return refusal_class(second, first_line(pp_err))
    return min((fact_class(d, first, second), k) for k, d in enumerate(diffs))[0][1]


# -- one domain ---------------------------------------------------------------------------
def check(args, i):
    machine, domain = generate(args, i)
    xml = domain.xml
    options = ['--new-definition'] if args.new_definition else []
    pp = tool.plan(args.pciplan, xml, 'libvirt', 'xml', *options, timeout=600)
    res = {'name': 'diff-s%d-%04d' % (args.seed, i), 'desc': '%s/%d' % (machine.key, domain.elements),
           'elements': domain.elements, 'xml': xml, 'pciplan': pp, 'libvirt': {}, 'status': {}, 'diffs': {},
           'class': {}, 'agree': None, 'version_diffs': [], 'version_class': None}
    for v in args.versions:
        lv = ask_libvirt(args.oracle[v], xml)
        st, d = compare(lv, pp)
        res['libvirt'][v], res['status'][v], res['diffs'][v] = lv, st, d
        if st not in SAME:
            res['class'][v] = difference_class(st, d, lv.stderr, pp.stderr, 'libvirt', 'pciplan')
    if len(args.versions) == 2:
        old, new = res['libvirt']['9.0'], res['libvirt']['11.3']
        agree, d = compare_versions(old, new)
        res['agree'], res['version_diffs'] = agree, d
        if agree is False:
            st = ('only-libvirt-refuses' if old.status == 1 else 'only-pciplan-refuses' if new.status == 1
                  else 'differ')
            res['version_class'] = difference_class(st, d, old.stderr, new.stderr, '9.0', '11.3')
    return res


def save(keep, res):
    """DIR/NAME.xml, each libvirt's answer (NAME.libvirt-V.xml or .err), pciplan's
    (NAME.pciplan.xml or .err) and every difference (NAME.diffs.txt)."""
    os.makedirs(keep, exist_ok=True)
    base = os.path.join(keep, res['name'])
    files = [('.xml', res['xml']), ('.pciplan.xml', res['pciplan'].stdout), ('.pciplan.err', res['pciplan'].stderr)]
    for v, lv in res['libvirt'].items():
        files += [('.libvirt-%s.xml' % v, lv.stdout), ('.libvirt-%s.err' % v, lv.stderr)]
    lines = []
    for v in res['libvirt']:
        lines.append('pciplan against libvirt %s: %s%s' % (v, res['status'][v],
                                                          ' [%s]' % res['class'][v] if v in res['class'] else ''))
        lines += ['  ' + d for d in res['diffs'][v]]
    if res['agree'] is not None:
        lines.append('libvirt 9.0 against 11.3: %s%s' % ('agree' if res['agree'] else 'differ',
                                                        ' [%s]' % res['version_class'] if res['version_class'] else ''))
        lines += ['  ' + d for d in res['version_diffs']]
    files.append(('.diffs.txt', '\n'.join(lines) + '\n'))
    for suffix, text in files:
        if text.strip():
            with open(base + suffix, 'w') as fh:
                fh.write(text)


def line_of(args, res):
    parts = []
    for v in args.versions:
        st = res['status'][v]
        parts.append('%s %s%s' % (v, st, ' [%s]' % res['class'][v] if v in res['class'] else ''))
    if res['agree'] is False:
        parts.append('9.0 != 11.3 [%s]' % res['version_class'])
    shown = next((res['diffs'][v] for v in args.versions if res['diffs'][v]), res['version_diffs'])
    more = len(shown) - args.max_diffs
    text = '; '.join(shown[:args.max_diffs]) + (' (+%d more)' % more if more > 0 else '')
    return '%s (%s): %s: %s' % (res['name'], res['desc'], ', '.join(parts), text)


# -- the summary --------------------------------------------------------------------------
def summary(args, results):
    m = len(results)
    out = []
    for v in args.versions:
        counts = {}
        for r in results:
            counts[r['status'][v]] = counts.get(r['status'][v], 0) + 1
        same = counts.get('identical', 0) + counts.get('both-refuse', 0)
        out.append('identical to libvirt %s (or refused by both) %d of %d' % (v, same, m))
        out.append('  (identical %d, both refuse %d, differ %d, only libvirt refuses %d, only pciplan refuses %d, '
                   'errors %d)' % tuple(counts.get(k, 0) for k in ('identical', 'both-refuse', 'differ',
                                                                     'only-libvirt-refuses',
                                                                     'only-pciplan-refuses', 'error')))
    if len(args.versions) == 2:
        agreed = [r for r in results if r['agree']]
        both = [r for r in agreed if all(r['status'][v] in SAME for v in args.versions)]
        refused = sum(r['libvirt']['9.0'].status == 1 for r in agreed)
        out.append('among the domains where 9.0 and 11.3 agree (%d, %d of them refused by both): identical %d of %d'
                   % (len(agreed), refused, len(both), len(agreed)))
        split = [r for r in results if r['agree'] is False]
        out.append('9.0 and 11.3 differ from each other on %d domains:' % len(split))
        for r in split:
            out.append('  %s (%s) [%s]: %s' % (r['name'], r['desc'], r['version_class'],
                                              '; '.join(r['version_diffs'][:args.max_diffs])))
        out += table('classes of the differences between 9.0 and 11.3 (9.0 first)', ['9.0 vs 11.3'],
                     [{'9.0 vs 11.3': r['version_class']} if r['version_class'] else {} for r in results], results)
    out += table('classes of the differences from pciplan (libvirt first)', ['vs %s' % v for v in args.versions],
                 [{'vs %s' % v: c for v, c in r['class'].items()} for r in results], results,
                 split=[r['agree'] for r in results] if len(args.versions) == 2 else None)
    return out


def table(title, columns, classes, results, split=None):
    """Rows: class, a count per column, (with `split`: how many of them where 9.0 and 11.3
    agree), and the example with the fewest elements."""
    rows = {}
    for k, (cls, r) in enumerate(zip(classes, results)):
        for col, c in cls.items():
            row = rows.setdefault(c, {'counts': {}, 'agree': 0, 'example': None})
            row['counts'][col] = row['counts'].get(col, 0) + 1
            if split is not None and split[k] and col == columns[0]:
                row['agree'] += 1
            if row['example'] is None or r['elements'] < row['example']['elements']:
                row['example'] = r
    if not rows:
        return ['%s: none' % title]
    head = '  '.join('%8s' % c for c in columns) + ('  agreeing' if split is not None else '')
    out = ['%s:' % title, '  %s  %-s' % (head, 'example  class')]
    for c, row in sorted(rows.items(), key=lambda kv: (-sum(kv[1]['counts'].values()), kv[0])):
        cells = '  '.join('%8d' % row['counts'].get(col, 0) for col in columns)
        if split is not None:
            cells += '  %8d' % row['agree']
        out.append('  %s  %s (%s)  %s' % (cells, row['example']['name'], row['example']['desc'], c))
    if split is not None:
        out.append('  (agreeing: of the first column, domains where 9.0 and 11.3 give the same answer)')
    return out


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--pciplan', required=True, help='the pciplan tool of a build (BUILD/examples/pciplan)')
    ap.add_argument('--libvirt', choices=('9.0', '11.3', 'both'), default='both', help='the libvirt(s) to ask')
    ap.add_argument('--libvirt-assign', default=shlex.quote(os.path.join(TOOLS, 'libvirt-assign')),
                    help='the libvirt 9.0 oracle command, words split as by a shell (`CMD -` prints '
                         'libvirt\'s XML of the domain on stdin; default: %(default)s)')
    ap.add_argument('--libvirt11-assign', default='%s libvirt-assign' % shlex.quote(os.path.join(TOOLS, 'trixie')),
                    help='the libvirt 11.3 oracle command, words split as by a shell (default: %(default)s)')
    ap.add_argument('--profile', choices=sorted(PROFILES), default='fidelity',
                    help='the generator profile: LIBVIRT_FIDELITY (default) or LIBVIRT_DIFFERENTIAL')
    ap.add_argument('--seed', type=int, default=1, help='domain i of a run is a function of (seed, i)')
    ap.add_argument('--count', type=int, default=100, help='number of domains')
    ap.add_argument('--start', type=int, default=0, help='first domain number (--start 17 --count 1: domain 17)')
    ap.add_argument('--machines', default='pc,q35,aarch64,riscv64',
                    help='machines to draw from: pc, q35, aarch64 (or virt), riscv64')
    ap.add_argument('--jobs', type=int, default=4, help='domains checked in parallel')
    ap.add_argument('--keep', help='save each differing domain, every answer and the differences in this directory')
    ap.add_argument('--max-diffs', type=int, default=3, help='differences printed per domain')
    panic = ap.add_mutually_exclusive_group()
    panic.add_argument('--with-panic', dest='panic', action='store_const', const=True,
                       help='pvpanic on (libvirt 9.0 does not know model pvpanic and refuses the domain); '
                            'the fidelity profile has it, the differential profile not')
    panic.add_argument('--no-panic', dest='panic', action='store_const', const=False, help='pvpanic off')
    ap.add_argument('--shuffled-disks', type=float,
                    help='differential profile: share of domains whose disk targets are not in document order')
    ap.add_argument('--root-controller', type=float,
                    help='share of domains with an index-less user PCI controller that declare the root '
                         'controller (without it libvirt gives the user controller index 0 and refuses)')
    ap.add_argument('--new-definition', action='store_true', help='pass --new-definition to pciplan')
    ap.add_argument('--print-domain', action='store_true', help='only print the generated domain(s)')
    ap.add_argument('--verbose', action='store_true', help='also a line for every identical domain')
    args = ap.parse_args(argv)
    try:
        args.machines = machines.parse_list(args.machines, aliases={'virt': 'aarch64'})
    except KeyError as e:
        ap.error('--machines: %s is not one of %s' % (e, ', '.join(machines.MACHINES)))
    changes = {k: v for k, v in (('panic', args.panic), ('shuffled_disks', args.shuffled_disks),
                                 ('root_controller', args.root_controller)) if v is not None}
    args.profile = dataclasses.replace(PROFILES[args.profile], **changes)
    domains = range(args.start, args.start + args.count)
    if args.print_domain:
        for i in domains:
            sys.stdout.write(generate(args, i)[1].xml)
        return 0
    args.versions = [v for v in VERSIONS if args.libvirt in (v, 'both')]
    args.oracle = {'9.0': shlex.split(args.libvirt_assign), '11.3': shlex.split(args.libvirt11_assign)}
    for path in [args.pciplan] + [args.oracle[v][0] for v in args.versions]:
        if not os.access(path, os.X_OK):
            sys.stderr.write('libvirt_differential.py: %s is not executable\n' % path)
            return 2

    results = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
        for res in ex.map(lambda i: check(args, i), domains):
            results.append(res)
            quiet = all(res['status'][v] in SAME for v in args.versions) and res['agree'] is not False
            if quiet and not args.verbose:
                continue
            line = line_of(args, res)
            if args.keep and not quiet:
                save(args.keep, res)
                line += ' [saved %s.*]' % os.path.join(args.keep, res['name'])
            print(line, flush=True)
    print('\n'.join(summary(args, results)))
    if any(res['status'][v] == 'error' for res in results for v in args.versions):
        return 2
    return 0 if all(res['status'][v] in SAME for res in results for v in args.versions) else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
