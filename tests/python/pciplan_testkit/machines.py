"""The machine types the tests cover: pc and q35 on x86_64, virt on aarch64 and on riscv64.

A Machine says what a random domain for it may hold (PCI Express root, NUMA expanders,
virtio-mmio transports), which QEMU runs it and what `pciplan check --machine` calls it.
"""
import shutil


class Machine:
    def __init__(self, key, arch, types, pcie, numa, mmio, x86, check_name):
        self.key = key                # the name used in reports, --machines and --only
        self.arch = arch              # <type arch=...> and qemu-system-ARCH
        self.types = types            # <type machine=...> choices (QEMU 7.2 knows them all)
        self.pcie = pcie              # PCI Express root bus
        self.numa = numa              # an expander QEMU has for NUMA nodes (pxb / pxb-pcie)
        self.mmio = mmio              # virtio-mmio transports (0: none)
        self.x86 = x86
        self.check_name = check_name  # `pciplan check --machine NAME`

    @property
    def binary(self):
        return 'qemu-system-' + self.arch


MACHINES = {
    'pc': Machine('pc', 'x86_64', ('pc', 'pc-i440fx-7.2'), pcie=False, numa=True, mmio=0, x86=True,
                  check_name='pc'),
    'q35': Machine('q35', 'x86_64', ('q35', 'pc-q35-7.2'), pcie=True, numa=True, mmio=0, x86=True,
                   check_name='q35'),
    'aarch64': Machine('aarch64', 'aarch64', ('virt', 'virt-7.2'), pcie=True, numa=True, mmio=32, x86=False,
                       check_name='virt'),
    # qemu-system-riscv64 7.2 has no pxb-pcie, so riscv64 domains get no NUMA cells
    'riscv64': Machine('riscv64', 'riscv64', ('virt',), pcie=True, numa=False, mmio=8, x86=False,
                       check_name='riscv64:virt'),
}

# the two planning policies of `pciplan plan --policy`
POLICIES = ('libvirt', 'pciplan')

# what a Debian user installs for the QEMU binaries of MACHINES
QEMU_PACKAGES = 'Debian: qemu-system-x86, qemu-system-arm, qemu-system-misc'


def parse_list(text, aliases=None):
    """The Machines of a comma-separated list of keys; KeyError names an unknown one."""
    aliases = aliases or {}
    return [MACHINES[aliases.get(k, k)] for k in (k.strip() for k in text.split(',')) if k]


def missing_binaries(machines):
    """The qemu-system binaries of `machines` that are not on PATH."""
    return sorted({m.binary for m in machines if shutil.which(m.binary) is None})
