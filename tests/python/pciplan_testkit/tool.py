"""Running a command-line tool (the pciplan binary, an oracle) and capturing what it said.

`run` gives a Result: the exit status and standard output and error as text. A program that
cannot be started or does not finish in time is status 127 with the reason on stderr, so
the caller reports it like any other failure. `plan` and `check` are the two pciplan
commands the tests call most.
"""
import subprocess
from typing import NamedTuple

NOT_RUN = 127


class Result(NamedTuple):
    status: int
    stdout: str
    stderr: str


def run(command, args=(), stdin=None, timeout=120):
    """Runs `command` (a path, or a list with its first arguments) with `args`; `stdin` is
    text, bytes or None (nothing: standard input is empty)."""
    argv = ([command] if isinstance(command, str) else list(command)) + list(args)
    data = stdin.encode() if isinstance(stdin, str) else stdin
    try:
        p = subprocess.run(argv, input=data, stdin=subprocess.DEVNULL if data is None else None,
                           capture_output=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as e:
        return Result(NOT_RUN, '', '%s: %s' % (argv[0], e))
    return Result(p.returncode, p.stdout.decode('utf-8', 'replace'), p.stderr.decode('utf-8', 'replace'))


def plan(pciplan, xml, policy, fmt, *options, timeout=60):
    """`pciplan plan --policy POLICY --format FMT [OPTIONS] -` of the domain `xml`."""
    return run(pciplan, ['plan', '--policy', policy, '--format', fmt, *options, '-'], xml, timeout)


def check(pciplan, machine, lines, timeout=60):
    """`pciplan check --machine NAME -` of a QEMU layout (`lines`, one argument a line)."""
    return run(pciplan, ['check', '--machine', machine.check_name, '-'], '\n'.join(lines) + '\n', timeout)
