"""A Linux guest for hot-plug checks: the host's kernel and a busybox initramfs, no disk.

No firmware assigns the BARs of a device hot-plugged after boot; the guest OS does. A test
that wants to know whether a port's windows hold a hot-plugged device therefore boots a real
kernel: `prepare(directory)` finds one (the newest /boot/vmlinuz-*, a -cloud- one first: it
boots fastest) and a statically linked busybox (/bin/busybox, checked for having no ELF
interpreter), and writes an initramfs into `directory` (a gzip'ed newc cpio made here in
Python: /init, /bin/busybox, /dev/console). The /init script mounts proc and sysfs, prints
READY on the serial console and sleeps, so the guest's PCI messages ("BAR 2 [...]: assigned",
"... failed to assign") are nearly all that follows on the console. Debian packages:
linux-image-cloud-amd64 and busybox-static (PACKAGES); `GuestMissing` names them when either
is not there.

`Guest.arguments(serial_log)` gives the extra QEMU arguments of a boot (`-kernel`, `-initrd`,
`-append`, `-serial file:...`, `-no-reboot`); QEMU loads the kernel through SeaBIOS, which
still is the firmware and so programs the windows the plan computed (the guest's Linux keeps
them when a device is hot-plugged: without pci=realloc it does not grow a port's windows, which
is what makes a too small reserve visible). `wait_ready(serial_log, timeout)` waits
for READY with `qemu.wait_for_log`. `bar_states(serial_text, address)` reads what the guest
said of each BAR of the device at a PCI address after READY, with the address it chose: the
guest's word is needed besides query-pci's, because Linux turns on memory decoding of a device
hot-plugged into a PCIe port (native hot-plug) only when a driver enables it, and until then
QEMU reports its BARs as unmapped. Python 3 standard library only.
"""
import glob
import gzip
import os
import re
import struct

from .qemu import wait_for_log

READY = 'pciplan-guest: ready'
PACKAGES = 'linux-image-cloud-amd64 busybox-static'
APPEND = 'console=ttyS0 panic=-1 loglevel=7'
INIT = ('#!/bin/busybox sh\n'
        '/bin/busybox mkdir -p /proc /sys\n'
        '/bin/busybox mount -t proc proc /proc\n'
        '/bin/busybox mount -t sysfs sys /sys\n'
        'echo "%s"\n'
        'while true; do /bin/busybox sleep 3600; done\n' % READY)
PT_INTERP = 3


class GuestMissing(Exception):
    """The kernel or busybox is not there; the message says what to install."""


def _version_key(path):
    """Sorts vmlinuz-6.1.0-57-cloud-amd64 after vmlinuz-6.1.0-9-...: numbers as numbers."""
    return [(0, int(p), '') if p.isdigit() else (1, 0, p) for p in re.split(r'(\d+)', os.path.basename(path))]


def find_kernel(boot='/boot'):
    """The newest readable vmlinuz-* in `boot`, a -cloud- one when there is one; None when none."""
    kernels = [k for k in glob.glob(os.path.join(boot, 'vmlinuz-*')) if os.access(k, os.R_OK)]
    cloud = [k for k in kernels if '-cloud-' in os.path.basename(k)]
    chosen = sorted(cloud or kernels, key=_version_key)
    return chosen[-1] if chosen else None


def is_static_elf(path):
    """Whether `path` is an ELF executable without a PT_INTERP program header (statically linked)."""
    try:
        with open(path, 'rb') as f:
            head = f.read(64)
            if len(head) < 64 or head[:4] != b'\x7fELF':
                return False
            wide, order = head[4] == 2, '<' if head[5] == 1 else '>'
            if wide:
                phoff, = struct.unpack_from(order + 'Q', head, 32)
                phentsize, phnum = struct.unpack_from(order + 'HH', head, 54)
            else:
                phoff, = struct.unpack_from(order + 'I', head, 28)
                phentsize, phnum = struct.unpack_from(order + 'HH', head, 42)
            f.seek(phoff)
            table = f.read(phentsize * phnum)
    except OSError:
        return False
    for k in range(phnum):
        if len(table) < (k + 1) * phentsize:
            return False
        kind, = struct.unpack_from(order + 'I', table, k * phentsize)
        if kind == PT_INTERP:
            return False
    return True


def _cpio_entry(name, mode, data=b'', rdev=(0, 0)):
    """One newc cpio member (owner root, one link, mtime 0)."""
    raw = name.encode() + b'\0'
    fields = (0, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(raw), 0)
    out = ('070701' + ''.join('%08X' % v for v in fields)).encode() + raw
    out += b'\0' * (-len(out) % 4) + data
    return out + b'\0' * (-len(data) % 4)


def build_initramfs(directory, busybox):
    """Writes DIRECTORY/initramfs.cpio.gz (/init, /bin/busybox, /dev/console); returns its path."""
    with open(busybox, 'rb') as f:
        binary = f.read()
    blob = (_cpio_entry('bin', 0o40755) + _cpio_entry('bin/busybox', 0o100755, binary)
            + _cpio_entry('init', 0o100755, INIT.encode()) + _cpio_entry('dev', 0o40755)
            + _cpio_entry('dev/console', 0o20600, rdev=(5, 1)) + _cpio_entry('TRAILER!!!', 0))
    path = os.path.join(directory, 'initramfs.cpio.gz')
    with open(path, 'wb') as f:
        f.write(gzip.compress(blob, compresslevel=1))
    return path


class Guest:
    """A kernel and its initramfs: the QEMU arguments that boot them."""

    def __init__(self, kernel, initrd):
        self.kernel = kernel
        self.initrd = initrd

    def arguments(self, serial_log):
        return ['-kernel', self.kernel, '-initrd', self.initrd, '-append', APPEND, '-no-reboot',
                '-serial', 'file:%s' % serial_log]


def prepare(directory, boot='/boot', busybox='/bin/busybox'):
    """The guest: finds the kernel and busybox, writes the initramfs into `directory` (once per
    run). Raises GuestMissing naming the Debian packages when either is missing."""
    kernel = find_kernel(boot)
    missing = []
    if not kernel:
        missing.append('no readable %s/vmlinuz-*' % boot)
    if not os.path.isfile(busybox):
        missing.append('no %s' % busybox)
    elif not is_static_elf(busybox):
        missing.append('%s is not statically linked' % busybox)
    if missing:
        raise GuestMissing('%s (Debian: apt-get install %s)' % ('; '.join(missing), PACKAGES))
    return Guest(kernel, build_initramfs(directory, busybox))


def wait_ready(serial_log, timeout=60):
    """Waits until the guest prints READY; (the serial text, whether it did)."""
    text, hit = wait_for_log(serial_log, lambda t: READY in t, timeout, interval=0.05)
    return text, bool(hit)


# "pci 0000:01:00.0: BAR 2 [mem 0x100000000-0x1ffffffff 64bit pref]: assigned" (Linux 6.8 on,
# and Debian's 6.1 kernels), "... BAR 2 [mem size 0x100000000 64bit pref]: failed to assign";
# before: "... BAR 2: assigned [mem 0x100000000-0x1ffffffff 64bit pref]", "... BAR 2: failed to
# assign [mem size 0x100000000 64bit pref]"
_BAR_SAID = (r'%s: BAR (?P<bar>\d+)(?: \[(?P<new>[^\]]*)\]: (?P<what>assigned|failed to assign)'
             r'|: (?P<what_old>assigned|failed to assign) \[(?P<old>[^\]]*)\])')
_RANGE = re.compile(r'(?:mem|io)\s+0x([0-9a-f]+)-0x([0-9a-f]+)')


def bar_states(serial_text, address):
    """What the guest said after READY of each BAR of the device at the PCI address `address`
    ('0000:01:00.0'), the last time it said something: BAR -> (True, start, end) when it
    assigned it, (False, None, None) when it failed to. A BAR it said nothing of is missing."""
    after = serial_text.split(READY, 1)[1] if READY in serial_text else ''
    states = {}
    for m in re.finditer(_BAR_SAID % re.escape(address), after):
        what = m.group('what') or m.group('what_old')
        if what == 'assigned':
            r = _RANGE.search(m.group('new') or m.group('old') or '')
            states[int(m.group('bar'))] = (True, int(r.group(1), 16), int(r.group(2), 16)) if r else (True, None, None)
        else:
            states[int(m.group('bar'))] = (False, None, None)
    return states
