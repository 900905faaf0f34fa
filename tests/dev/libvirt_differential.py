#!/usr/bin/env python3
"""Differential test: `pciplan plan --policy libvirt` against a real libvirt.

DEVELOPMENT SCRIPT, NOT RUN BY CI. It needs a running libvirtd with the QEMU driver (libvirt
9.0 / QEMU 7.2 on the reference host) and an oracle command that prints libvirt's XML for a
domain on standard input (`ORACLE -`: define it, dump it with `virsh dumpxml --inactive`,
undefine it; exit 1 with libvirt's error when libvirt refuses it). The project's own tests
must not depend on it.

It generates COUNT random but valid libvirt domains (tests/python/pciplan_testkit/
random_domains.py, profile LIBVIRT_DIFFERENTIAL: user controllers with and without index,
full and empty user addresses, no pciplan constraints; seeded, so a run can be repeated
exactly), lets both pciplan and libvirt assign the PCI addresses, and compares the PCI
facts of the two results (pciplan_testkit/pci_facts.py, the same facts as
tests/libvirt/pci_facts.hpp). A domain libvirt refuses must be refused by pciplan too (exit
status != 0): "both refuse" counts as identical, "only one refuses" is a difference.

Usage:
  python3 tests/dev/libvirt_differential.py --pciplan BUILD/examples/pciplan
      --libvirt-assign ORACLE [--seed S] [--count N] [--start I] [--machines q35,pc,aarch64]
      [--jobs J] [--keep DIR] [--max-diffs K] [--with-panic] [--shuffled-disks P]
      [--root-controller P] [--new-definition] [--print-domain] [--verbose]

Output: one line per differing domain (its name, machine, element count and the first
differences), then "N of M domains identical" and the refusal counts. Exit status: 0 all
identical, 1 some differ, 2 usage or environment error.
"""
import argparse
import concurrent.futures
import dataclasses
import os
import random
import shutil
import sys
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'python'))
from pciplan_testkit import machines, tool  # noqa: E402
from pciplan_testkit.pci_facts import pci_differences  # noqa: E402
from pciplan_testkit.random_domains import LIBVIRT_DIFFERENTIAL, make_domain  # noqa: E402


def generate(args, i):
    """Domain i of the run: its machine drawn from --machines, then the kit's generator."""
    machine = random.Random('pciplan-libvirt-diff:%d:%d' % (args.seed, i)).choice(args.machines)
    return machine, make_domain(args.seed, machine, i, args.profile)


def first_line(s):
    lines = [l.strip() for l in s.splitlines() if l.strip()]
    return lines[0] if lines else '(no message)'


def check(args, i):
    machine, domain = generate(args, i)
    xml = domain.xml
    lrc, lout, lerr = tool.run(args.libvirt_assign, ['-'], xml, timeout=600)
    options = ['--new-definition'] if args.new_definition else []
    prc, pout, perr = tool.plan(args.pciplan, xml, 'libvirt', 'xml', *options, timeout=600)
    if prc not in (0, 1, 2):
        lrc, lerr = 2, 'pciplan exit %d: %s' % (prc, perr)   # a crash or a missing binary is not a refusal
    res = {'name': 'diff-s%d-%04d' % (args.seed, i), 'desc': '%s/%d' % (machine.key, domain.elements), 'xml': xml,
           'lout': lout, 'lerr': lerr, 'pout': pout, 'perr': perr, 'diffs': []}
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
    """The domain as DIR/NAME.xml, with both answers (.libvirt/.pciplan, .xml or .err)."""
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
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--pciplan', required=True, help='the pciplan tool of a build (BUILD/examples/pciplan)')
    ap.add_argument('--libvirt-assign', default='libvirt-assign',
                    help='the libvirt oracle: `ORACLE -` prints libvirt\'s XML of the domain on stdin '
                         '(default: libvirt-assign on PATH)')
    ap.add_argument('--seed', type=int, default=1, help='domain i of a run is a function of (seed, i)')
    ap.add_argument('--count', type=int, default=100, help='number of domains')
    ap.add_argument('--start', type=int, default=0, help='first domain number (--start 17 --count 1: domain 17)')
    ap.add_argument('--machines', default='q35,pc,aarch64',
                    help='machines to draw from: pc, q35, aarch64 (or virt), riscv64')
    ap.add_argument('--jobs', type=int, default=4, help='domains checked in parallel')
    ap.add_argument('--keep', help='save each differing domain and both answers in this directory')
    ap.add_argument('--max-diffs', type=int, default=3, help='differences printed per domain')
    ap.add_argument('--with-panic', action='store_true',
                    help='also pvpanic on aarch64/riscv64 virt (libvirt 9.0 does not know it and refuses the domain)')
    ap.add_argument('--shuffled-disks', type=float, default=LIBVIRT_DIFFERENTIAL.shuffled_disks,
                    help='share of domains whose disk targets are not in document order (libvirt sorts disks)')
    ap.add_argument('--root-controller', type=float, default=LIBVIRT_DIFFERENTIAL.root_controller,
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
    args.profile = dataclasses.replace(LIBVIRT_DIFFERENTIAL, panic=args.with_panic,
                                       shuffled_disks=args.shuffled_disks, root_controller=args.root_controller)
    domains = range(args.start, args.start + args.count)
    if args.print_domain:
        for i in domains:
            sys.stdout.write(generate(args, i)[1].xml)
        return 0
    args.libvirt_assign = shutil.which(args.libvirt_assign) or args.libvirt_assign
    for path in (args.pciplan, args.libvirt_assign):
        if not os.access(path, os.X_OK):
            sys.stderr.write('libvirt_differential.py: %s is not executable\n' % path)
            return 2

    counts = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
        for res in ex.map(lambda i: check(args, i), domains):
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
