"""One QEMU process for a plan: its command line, start-up with a QMP socket, and stop.

`qemu_arguments` is the command line a VMM would run for a pciplan plan: the plan's lines as
they are (`-device`, `-object`, `-numa`), `-S -nodefaults -display none -machine
TYPE,accel=tcg`, `-m` as the domain's <memory>, and the backends a VMM adds (a null-co block
device behind each virtio disk, an nvme serial, a silent audiodev). `Qemu` starts it in a
private directory and connects QMP; when QEMU exits first, `QemuRefused` carries its
message. `accepts` is QEMU as a judge of a layout: accepted when it starts.
"""
import os
import re
import shutil
import subprocess
import tempfile
import time

from .qmp import Qmp

# Devices that need a backend before QEMU accepts them; added the way a VMM would.
NEEDS_DRIVE = re.compile(r'^virtio-blk-(pci|device)')


class QemuRefused(Exception):
    pass


class Qemu:
    """One QEMU process with a QMP socket in a private directory."""

    def __init__(self, args, workdir, timeout=60.0):
        self.sock_path = os.path.join(workdir, 'qmp.sock')
        self.args = args + ['-qmp', 'unix:%s,server=on,wait=off' % self.sock_path]
        self.timeout = timeout
        self.proc = None
        self.qmp = None
        self.stderr_path = os.path.join(workdir, 'qemu.stderr')

    def start(self):
        with open(self.stderr_path, 'wb') as err:
            self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=err, stderr=err)
        deadline = time.monotonic() + self.timeout
        while True:
            if self.proc.poll() is not None:
                raise QemuRefused(self.messages() or 'QEMU exited with status %d' % self.proc.returncode)
            if os.path.exists(self.sock_path):
                try:
                    self.qmp = Qmp(self.sock_path, self.timeout)
                    return
                except (ConnectionRefusedError, FileNotFoundError):
                    pass
                except (EOFError, OSError, ValueError) as e:
                    try:
                        self.proc.wait(timeout=self.timeout)
                    except subprocess.TimeoutExpired:
                        pass
                    raise QemuRefused(self.messages() or 'QMP failed: %s' % e) from e
            if time.monotonic() > deadline:
                raise QemuRefused('QEMU did not open its QMP socket within %d s' % self.timeout)
            time.sleep(0.005)

    def messages(self):
        try:
            with open(self.stderr_path, encoding='utf-8', errors='replace') as f:
                return f.read().strip()
        except OSError:
            return ''

    def stop(self):
        if self.qmp:
            try:
                self.qmp.call('quit')
            except (OSError, EOFError, ValueError):
                pass
            self.qmp.close()
        if self.proc and self.proc.poll() is None:
            try:
                self.proc.wait(timeout=10 if self.qmp else 0.5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def wait_for_log(path, found, timeout, interval=0.01):
    """Read the firmware log at `path` until `found(text)` gives something true, or `timeout`
    seconds pass. Returns (text, what found gave: None when time ran out)."""
    deadline = time.monotonic() + timeout
    text = ''
    while time.monotonic() < deadline:
        try:
            with open(path, encoding='utf-8', errors='replace') as f:
                text = f.read()
        except OSError:
            text = ''
        hit = found(text)
        if hit:
            return text, hit
        time.sleep(interval)
    return text, None


def qemu_arguments(machine, machine_type, memory_kib, plan_lines, firmware_log=None):
    """The QEMU command line for a plan: the tool's lines as they are, plus backends.
    With `firmware_log`, the guest runs (no -S) and SeaBIOS's debug output goes there."""
    args = [shutil.which(machine.binary) or machine.binary]
    if firmware_log is None:
        args.append('-S')
    args += ['-nodefaults', '-no-user-config', '-display', 'none', '-machine', '%s,accel=tcg' % machine_type,
             '-m', '%dK' % memory_kib]
    if firmware_log is not None:
        args += ['-chardev', 'file,id=seabios-log,path=%s' % firmware_log,
                 '-device', 'isa-debugcon,iobase=0x402,chardev=seabios-log']
    audio = False
    drives = 0
    for line in plan_lines:
        option, _, value = line.partition(' ')
        if option != '-device':
            args += [option, value]
            continue
        driver = value.split(',', 1)[0]
        if NEEDS_DRIVE.match(driver):
            drives += 1
            args += ['-blockdev', 'driver=null-co,node-name=null%d' % drives]
            value += ',drive=null%d' % drives
        elif driver == 'nvme':
            value += ',serial=nvme%d' % len(args)
        elif driver in ('AC97', 'ES1370'):
            if not audio:
                args += ['-audiodev', 'none,id=noaudio']
                audio = True
            value += ',audiodev=noaudio'
        args += ['-device', value]
    return args


def accepts(machine, machine_type, memory_kib, lines, workroot, timeout=30.0):
    """(whether QEMU starts with the layout `lines`, its message when it does not)."""
    workdir = tempfile.mkdtemp(prefix='va-', dir=workroot)
    q = Qemu(qemu_arguments(machine, machine_type, memory_kib, lines), workdir, timeout=timeout)
    try:
        q.start()
        return True, ''
    except QemuRefused as e:
        return False, str(e)
    finally:
        q.stop()
        shutil.rmtree(workdir, ignore_errors=True)
