#!/usr/bin/python3
"""Plot pciplan's benchmark results: bench/figures/scaling.svg and roundtrip.svg.

Run it with Debian's python (it needs python3-matplotlib, which is installed for
/usr/bin/python3, not for a pyenv `python3` that may come first on PATH):

    /usr/bin/python3 bench/plot.py [--figures DIR] [--planner FILE]
                     [--roundtrip FILE] [--libvirt FILE] [--out DIR]

Inputs (default: in --figures, i.e. bench/figures next to this script), made
from the repository root, after building the gcc preset, by:

  planner.json    build/gcc/bench/pciplan_bench --benchmark_repetitions=5 --benchmark_min_time=0.2 --benchmark_out=bench/figures/planner.json --benchmark_out_format=json
  roundtrip.json  build/gcc/bench/pciplan_libvirt_bench --benchmark_repetitions=5 --benchmark_min_time=0.2 --benchmark_out=bench/figures/roundtrip.json --benchmark_out_format=json
  libvirt-9.0-define.txt
                  /usr/bin/python3 ../shared/tools/bench-libvirt-assign --reps 7 --kinds nets --sizes 8,16,32,64,128,239
                  (stdout, after `libvirt-assign --start-daemon`; '#' lines are comments)

Google Benchmark: the "median" aggregate when there are repetitions, else the
"iteration" rows; other aggregates, BigO/RMS and errored runs are ignored;
real_time in ns; the last numeric path segment of a name is N.  libvirt: the
api_def+dump column (in-process defineXML + XMLDesc), else the virsh column
(the label says which); refused sizes are skipped.

Outputs (in --out, default --figures), byte-identical on re-runs (fixed SVG
hash salt, no date): scaling.svg (planning time per device vs N) and
roundtrip.svg (libvirt XML read + plan + write per device vs N, with pugixml's
parse + print alone and libvirt 9.0).  Stdout: the plotted values and the
ratios quoted in bench/README.md.  Exit status 2: missing or unreadable input.
"""
import argparse
import itertools
import json
import os
import re
import statistics
import sys

try:
    import matplotlib
except ImportError:
    sys.stderr.write('plot.py: no matplotlib; run me with /usr/bin/python3 (python3-matplotlib)\n')
    sys.exit(2)
matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FixedLocator, NullLocator  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
MAKE = {
    'planner': 'build/gcc/bench/pciplan_bench --benchmark_repetitions=5 --benchmark_min_time=0.2 '
               '--benchmark_out=bench/figures/planner.json --benchmark_out_format=json',
    'roundtrip': 'build/gcc/bench/pciplan_libvirt_bench --benchmark_repetitions=5 --benchmark_min_time=0.2 '
                 '--benchmark_out=bench/figures/roundtrip.json --benchmark_out_format=json',
    'libvirt': '/usr/bin/python3 ../shared/tools/bench-libvirt-assign --reps 7 --kinds nets '
               '--sizes 8,16,32,64,128,239 > bench/figures/libvirt-9.0-define.txt '
               '(libvirtd running: libvirt-assign --start-daemon)',
}
plt.rcParams['svg.hashsalt'] = 'pciplan'  # with metadata Date=None: reproducible SVGs
TO_NS = {'ns': 1.0, 'us': 1e3, 'ms': 1e6, 's': 1e9}


def die(msg):
    sys.stderr.write('plot.py: %s\n' % msg)
    sys.exit(2)


def need(path, what):
    if not os.path.isfile(path):
        die('missing input file %s\n  produce it (from the repository root) with:\n    %s'
            % (path, MAKE[what]))


def load_gbench(path, what):
    """{family: {N: real_time_ns}} and the JSON "context" block."""
    need(path, what)
    try:
        with open(path) as fh:
            doc = json.load(fh)
    except (OSError, ValueError) as e:
        die('cannot read %s: %s' % (path, e))
    medians, iters = {}, {}
    for b in doc.get('benchmarks', []):
        if b.get('error_occurred') or b.get('skipped') or 'real_time' not in b:
            continue
        t = b['real_time'] * TO_NS[b.get('time_unit', 'ns')]
        name = b.get('run_name', b['name'])
        if b.get('run_type') == 'aggregate':
            if b.get('aggregate_name') == 'median':
                medians[name] = t
        else:
            iters.setdefault(name, []).append(t)
    times = {n: statistics.median(v) for n, v in iters.items()}
    times.update(medians)
    fams = {}
    for name, t in times.items():
        parts = name.split('/')
        idx = [i for i, p in enumerate(parts) if p.isdigit()]
        if idx:
            fams.setdefault('/'.join(parts[:idx[-1]]), {})[int(parts[idx[-1]])] = t
    reps = max((b.get('repetitions', 1) for b in doc.get('benchmarks', [])), default=1)
    return fams, dict(doc.get('context', {}), repetitions=reps)


def load_libvirt(path):
    """(label, {N: ns per device}, footnote) from bench-libvirt-assign's output."""
    need(path, 'libvirt')
    rows, version, reps = {}, '9.0', '?'  # version and reps from the tool's header
    with open(path) as fh:
        for line in fh:
            m = re.match(r'# libvirt (\d+\.\d+)\S*, machine \S+, (\d+) reps', line)
            if m:
                version, reps = m.groups()
            f = line.split()
            if line.startswith('#') or len(f) < 6 or not f[1].isdigit():
                continue
            rows.setdefault(f[0], {})[int(f[1])] = (f[2], f[3], ' '.join(f[6:]))
    if not rows:
        die('no result lines in %s; produce it with:\n    %s' % (path, MAKE['libvirt']))
    kind = 'nets' if 'nets' in rows else sorted(rows)[0]
    pts, cols = {}, set()
    for n, (virsh, api, result) in sorted(rows[kind].items()):
        if not result.startswith('ok') or n == 0:
            print('note: libvirt %s N=%d not plotted: %s' % (kind, n, result))
            continue
        col, ms = ('API', api) if api != '-' else ('virsh', virsh)
        cols.add(col)
        pts[n] = float(ms) * 1e6 / n
    if cols != {'API'}:
        print('note: libvirt column(s) used: %s (api_def+dump missing)' % sorted(cols))
    return ('libvirt %s define + dumpxml (%s)' % (version, ', '.join(sorted(cols)) or '-'), pts,
            'libvirt %s: bench-libvirt-assign, %s, median of %s reps' % (version, kind, reps))


def machine_note(ctx):
    reps = ctx.get('repetitions', 1)
    return 'pciplan: Google Benchmark on %s CPUs @ %s MHz, %s, real time, %s' % (
        ctx.get('num_cpus', '?'), ctx.get('mhz_per_cpu', '?'),
        str(ctx.get('date', '?'))[:16].replace('T', ' '),
        'median of %d repetitions' % reps if reps > 1 else 'single run')


def plan_series(fams):
    """[(key, label, points)] for scaling.svg, in a fixed order."""
    out = []
    for fam in sorted(fams):
        parts = fam.split('/')
        if parts[0] == 'BM_PlanQ35Hotplug' and len(parts) == 2:
            out.append((0, 'q35-hp/' + parts[1], 'q35, hot-pluggable, %s policy' % parts[1], fams[fam]))
        elif parts[0] == 'BM_NaiveRescan':
            out.append((1, 'naive', 'naive rescan baseline (slots only)', fams[fam]))
        elif parts[0] == 'BM_PlanNoHotplug' and len(parts) == 2:
            pol, mach = ('libvirt', parts[1][8:]) if parts[1].startswith('libvirt-') else ('pciplan', parts[1])
            out.append((2, mach + '-nohp/' + pol, '%s, no hotplug, %s policy' % (mach, pol), fams[fam]))
    return [s[1:] for s in sorted(out, key=lambda s: (s[0], 'pciplan' not in s[1], s[1]))]


def roundtrip_series(fams):
    out = []
    for fam in sorted(fams, key=lambda f: ('pciplan' not in f, f)):
        m = re.match(r'BM_LibvirtRoundTrip_(\w+)$', fam)
        if m:
            out.append(('rt/' + m.group(1), 'read + plan + write, %s policy' % m.group(1), fams[fam]))
    if 'BM_LibvirtParseWriteOnly' in fams:
        out.append(('pugixml', 'pugixml parse + print only (same XML)', fams['BM_LibvirtParseWriteOnly']))
    return out


def per_device(series):
    return [(k, lab, {n: t / n for n, t in pts.items() if n > 0}) for k, lab, pts in series]


def plot(path, series, title, ylabel, note, scale=1.0, xrange=None):
    """Log-y plot of [(key, label, {N: value})]; log2 x unless N has < 3 values."""
    fig, ax = plt.subplots(figsize=(10, 6.2))
    markers = itertools.cycle('os^vDP<>Xph*')
    ns = sorted({n for _, _, pts in series for n in pts})
    for key, label, pts in series:
        xs = sorted(pts)
        ax.plot(xs, [pts[x] / scale for x in xs], marker=next(markers), label=label)
    ax.set_yscale('log')
    ticks = ns
    if xrange:  # power-of-two ticks over the whole range
        lo, hi = min([xrange[0]] + ns), max([xrange[1]] + ns)
        ticks = [2 ** i for i in range(lo.bit_length() - 1, hi.bit_length())]
    if len(ns) >= 3 or xrange:
        ax.set_xscale('log', base=2)
        ax.set_xlim(min(ticks + ns) / 1.15, max(ticks + ns) * 1.15)
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_minor_locator(NullLocator())  # no 2^k minor labels
    ax.set_xticklabels(['%dk' % (t // 1024) if t >= 1024 and t % 1024 == 0 else str(t) for t in ticks])
    ax.set(xlabel='N (devices)', ylabel=ylabel)
    ax.grid(True, which='major', alpha=0.5)
    ax.grid(True, which='minor', axis='y', alpha=0.15)
    ax.legend(fontsize=8, loc='best')
    fig.suptitle(title, fontsize=13)
    fig.text(0.5, 0.005, note, ha='center', va='bottom', fontsize=7.5, color='0.3')
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    fig.savefig(path, format='svg', metadata={'Date': None})
    plt.close(fig)
    print('wrote %s' % path)


def table(title, series, unit, scale=1.0):
    ns = sorted({n for _, _, pts in series for n in pts})
    num = lambda v: '%.0f' % v if v >= 100 else '%.3g' % v  # noqa: E731
    w = max(12, max(len(k) for k, _, _ in series) + 1)
    print('\n%s (%s per device)' % (title, unit))
    print('%7s' % 'N' + ''.join('%*s' % (w, k) for k, _, _ in series))
    for n in ns:
        print('%7d' % n + ''.join('%*s' % (w, num(pts[n] / scale) if n in pts else '-')
                                  for _, _, pts in series))
    for k, lab, _ in series:
        print('  %-*s %s' % (w, k, lab))


def ratios(name, top, bottom):
    common = sorted(set(top[2]) & set(bottom[2]))
    if common:
        print('ratio %s: %s / %s: %s' % (name, top[0], bottom[0], ', '.join(
            'N=%d %.3gx' % (n, top[2][n] / bottom[2][n]) for n in common)))


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--figures', default=os.path.join(HERE, 'figures'),
                    help='input directory (default: %(default)s)')
    ap.add_argument('--planner', help='pciplan_bench JSON (default: FIGURES/planner.json)')
    ap.add_argument('--roundtrip', help='pciplan_libvirt_bench JSON (default: FIGURES/roundtrip.json)')
    ap.add_argument('--libvirt', help='bench-libvirt-assign output (default: FIGURES/libvirt-9.0-define.txt)')
    ap.add_argument('--out', help='output directory (default: FIGURES)')
    a = ap.parse_args(argv)
    out = a.out or a.figures
    planner, pctx = load_gbench(a.planner or os.path.join(a.figures, 'planner.json'), 'planner')
    rtrip, rctx = load_gbench(a.roundtrip or os.path.join(a.figures, 'roundtrip.json'), 'roundtrip')
    lv_label, lv_pts, lv_note = load_libvirt(a.libvirt or os.path.join(a.figures, 'libvirt-9.0-define.txt'))
    os.makedirs(out, exist_ok=True)
    lv = ('libvirt-9.0', lv_label, lv_pts)
    scal = per_device(plan_series(planner)) + [lv]
    rt = per_device(roundtrip_series(rtrip)) + [lv]
    if len(scal) == 1 or len(rt) == 1:
        die('no BM_PlanQ35Hotplug/NaiveRescan/PlanNoHotplug rows in the planner input'
            if len(scal) == 1 else 'no BM_LibvirtRoundTrip_* rows in the roundtrip input')
    plot(os.path.join(out, 'scaling.svg'), scal, 'pciplan planning time per device',
         'time per device (ns)', machine_note(pctx) + '.   ' + lv_note, xrange=(8, 65536))
    plot(os.path.join(out, 'roundtrip.svg'), rt, 'libvirt domain XML: read + plan + write, per device',
         'time per device (µs)', machine_note(rctx) + '.   ' + lv_note, scale=1e3)
    table('scaling.svg', scal, 'ns')
    table('roundtrip.svg', rt, 'us', 1e3)
    print()
    by_key = {s[0]: s for s in scal + rt}
    planners = [s for s in scal if s[0].startswith('q35-hp/')]
    trips = [s for s in rt if s[0].startswith('rt/')]
    for s in planners if 'naive' in by_key else []:
        ratios('planner/naive', s, by_key['naive'])
    for s in trips if 'pugixml' in by_key else []:
        ratios('roundtrip/pugixml', s, by_key['pugixml'])
    for s in trips:
        ratios('libvirt-9.0/roundtrip', lv, s)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
