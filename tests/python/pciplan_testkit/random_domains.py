"""The random domain generator: valid libvirt domain XMLs for a machine, fixed by a seed.

`make_domain(seed, machine, index, profile)` makes domain `index` of `seed`: 0 to 40 devices
(virtio, e1000, e1000e, rtl8139 and vmxnet3 NICs, virtio disks, SCSI, USB and virtio-serial
controllers, sound, video, balloon, rng, virtio input, watchdog, pci-serial, pvpanic), PCI
controllers written by the user (root ports, switches, bridges, expander buses), NUMA cells
and virtio-mmio addresses. Every choice comes from one random generator seeded from
(profile, seed, machine, index), so a domain is always the same document and a failing
case can be made again alone.

A Profile says what the domains exercise, and each choice it switches off draws nothing
from the generator, so a profile never changes the domains of another:
  QEMU_SUITE             <pciplan:plan> constraints (hotplug, link, numa-node, multifunction
                         and isolation groups, order, spare-ports); the user's controllers
                         all with an index, before the devices, some with a ua- alias. The
                         QEMU suites use it.
  LIBVIRT_DIFFERENTIAL   what libvirt itself assigns: no constraints (libvirt has none), but
                         full or empty PCI addresses written by the user, index-less user
                         controllers among the devices (mostly with the root controller
                         declared), disk targets out of document order, MAC addresses, and
                         vsock, virtio-iommu, SATA, qxl and a second video; user controllers
                         in more domains, but no PCIe switch (see the profile).
  LIBVIRT_FIDELITY       libvirt's assignment element by element, made by its own maker
                         (fidelity_domains.py): every device element the pciplan libvirt
                         reader maps to PCI (and SATA, SCSI and IDE disks, smartcards), every
                         user PCI controller kind with and without index, address and alias,
                         fixed addresses on user, missing and chipset buses, numbers in hex,
                         decimal and octal, empty domains and buses at their slot limit. It
                         reads only the `panic` and `root_controller` fields of a Profile.
The two libvirt profiles write <domain type='qemu'> on every machine (libvirt refuses 'kvm'
where there is no /dev/kvm); QEMU_SUITE keeps 'kvm' on x86.
"""
import dataclasses
import random

from . import domain_xml as dx
from .fidelity_domains import FidelityMaker

NIC_MODELS = ['virtio', 'virtio', 'virtio', 'virtio-transitional', 'virtio-non-transitional', 'e1000', 'e1000e',
              'rtl8139', 'vmxnet3', None]
DISK_MODELS = [None, None, None, 'virtio-transitional', 'virtio-non-transitional']
SCSI_MODELS = ['virtio-scsi', 'virtio-scsi', 'lsilogic', 'lsisas1068', 'lsisas1078', 'vmpvscsi', 'virtio-transitional',
               'virtio-non-transitional', 'dc390', 'am53c974', None]
USB_MODELS = ['qemu-xhci', 'qemu-xhci', 'nec-xhci', 'ehci', 'pci-ohci', 'piix3-uhci', 'piix4-uhci']
SOUND_MODELS = ['ich9', 'ich6', 'ac97', 'es1370']
INPUT_TYPES = ['keyboard', 'mouse', 'tablet']


@dataclasses.dataclass(frozen=True)
class Profile:
    """What a family of random domains exercises (see the top of this module)."""
    name: str                           # the seed's stream and the <name>: NAME-MACHINE-INDEX
    constraints: bool = True            # <pciplan:plan> metadata, multifunction groups among it
    panic: bool = True                  # pvpanic on aarch64 and riscv64 virt (libvirt 9.0 refuses it)
    user_controllers: float = 0.3       # share of domains with PCI controllers written by the user
    switches: bool = True               # PCIe switches among them (see LIBVIRT_DIFFERENTIAL)
    user_addresses: bool = False        # devices and controllers with a full or empty PCI address
    indexless_controllers: bool = False  # user PCI controllers mostly without index, among the devices
    root_controller: float = 0.0        # share of those domains that declare the root controller
    shuffled_disks: float = 0.0         # share of domains whose disk targets are not in document order
    libvirt_devices: bool = False       # MACs, vsock, virtio-iommu, SATA, qxl and a second video
    domain_type: str = ''               # <domain type=...>; '' is 'kvm' on x86 and 'qemu' elsewhere
    fidelity: bool = False              # made by fidelity_domains.FidelityMaker instead
    controller_aliases: float = 0.0     # share of user PCI controllers with a ua- alias (drawn
                                        # from a stream of their own: nothing else changes)


QEMU_SUITE = Profile('qemu-test', controller_aliases=0.3)
# libvirt 9.0 puts an address-less switch upstream port on one of its own downstream
# ports, a loop the libvirt policy refuses (as documented): the differential has no switches
LIBVIRT_DIFFERENTIAL = Profile('libvirt-diff', constraints=False, panic=False, user_controllers=0.7,
                               switches=False, user_addresses=True, indexless_controllers=True,
                               root_controller=0.95, shuffled_disks=0.15, libvirt_devices=True,
                               domain_type='qemu')
# the differential's default: pvpanic stays in (rare: libvirt 9.0 refuses it), PCIe switches too
LIBVIRT_FIDELITY = Profile('libvirt-fidelity', constraints=False, root_controller=0.9, domain_type='qemu',
                           fidelity=True)


@dataclasses.dataclass
class Domain:
    xml: str
    memory_kib: int
    machine_type: str          # the <type machine=...> drawn
    numa_constrained: bool     # a device names a NUMA node (the libvirt policy refuses that)
    elements: int              # children of <devices>, <emulator> aside


def make_domain(seed, machine, index, profile=QEMU_SUITE):
    """Domain `index` of `seed` for `machine` (a machines.Machine)."""
    rng = random.Random('pciplan-%s:%d:%s:%d' % (profile.name, seed, machine.key, index))
    if profile.fidelity:
        xml, memory_kib, machine_type, elements = FidelityMaker(rng, machine, index, profile).build()
        return Domain(xml, memory_kib, machine_type, False, elements)
    aliases = random.Random('pciplan-%s-aliases:%d:%s:%d' % (profile.name, seed, machine.key, index))
    return DomainMaker(rng, machine, index, profile, aliases).build()


class DomainMaker:
    """One random domain. Constraints are kept to what a valid domain may say: links only on
    devices that can use both, NUMA nodes only below cells that exist, one NUMA node per
    multifunction group, address-less controllers in an order libvirt accepts."""

    def __init__(self, rng, machine, index, profile, alias_rng=None):
        self.rng = rng
        self.alias_rng = alias_rng  # the aliases of user PCI controllers (profile.controller_aliases)
        self.m = machine
        self.p = profile
        self.index = index
        self.devices = []        # XML of the <devices> children, in document order
        self.controllers = []    # XML of the user's <controller type='pci'> elements
        self.meta = {}           # alias -> {attribute: value} for <pciplan:device>
        self.flexible = []       # aliases of virtio devices whose link may be pci or pcie
        self.plain = []          # aliases that may take any constraint
        self.numbers = {}        # alias stem -> next number
        self.has_usb = False     # a USB controller was written (then no model='none')
        self.bus_numbers = set()  # busNr of the expanders written
        self.channels = 0
        self.disk_count = 0
        self.disk_names = set()  # the vd* targets written
        self.scsi_disks = 0
        self.cells = 0
        self.mmio = False
        self.numa_constrained = False
        # user addresses (LIBVIRT_DIFFERENTIAL): drawn in build()
        self.fixed_share = self.empty_share = 0.0
        self.free_root_slots = []     # root bus slots a user address may take, drawn from the end
        self.root_port_indexes = []   # explicit indexes of user root ports no device names yet
        self.shuffle_disks = False
        self.macs = 0

    # -- small helpers ------------------------------------------------------------------
    def alias(self, stem, force=False):
        if not force and self.rng.random() >= 0.45:
            return None
        n = self.numbers.get(stem, 0)
        self.numbers[stem] = n + 1
        return 'ua-%s%d' % (stem, n)

    def add(self, tag, attrs, *body):
        self.devices.append(dx.element(tag, attrs, *body))

    def mmio_xml(self, allowed=True):
        return dx.VIRTIO_MMIO_ADDRESS if allowed and self.mmio and self.rng.random() < 0.5 else ''

    def user_address(self, pcie):
        """In profiles with user addresses, sometimes a full PCI address (a free root slot, or
        slot 0 of a user root port with an index) or an empty one. `pcie`: the device may sit
        on a PCI Express root bus."""
        if not self.p.user_addresses:
            return ''
        x = self.rng.random()
        if x < self.fixed_share:
            if self.m.pcie and self.root_port_indexes and self.rng.random() < 0.5:
                return dx.pci_address(self.root_port_indexes.pop(), 0)
            if (pcie or not self.m.pcie) and self.free_root_slots:
                return dx.pci_address(0, self.free_root_slots.pop())
        elif x < self.fixed_share + self.empty_share:
            return dx.EMPTY_PCI_ADDRESS
        return ''

    def place(self, pcie, mmio=''):
        """The address of a device: its virtio-mmio one, or a user address."""
        return mmio or self.user_address(pcie)

    def mac(self):
        if not self.p.libvirt_devices:
            return None
        self.macs += 1
        return '52:54:00:%02x:%02x:%02x' % (self.index >> 8 & 0xff, self.index & 0xff, self.macs & 0xff)

    def next_disk_name(self):
        if self.shuffle_disks:
            free = [k for k in range(self.disk_count + 8) if dx.disk_name('vd', k) not in self.disk_names]
            name = dx.disk_name('vd', self.rng.choice(free))
        else:
            name = dx.disk_name('vd', self.disk_count)
        self.disk_count += 1
        self.disk_names.add(name)
        return name

    def note(self, alias, flexible=False):
        if alias:
            self.plain.append(alias)
            if flexible:
                self.flexible.append(alias)

    # -- devices ------------------------------------------------------------------------
    def nic(self, model=None, alias=None, choose=True, mmio=True):
        if choose:
            model = self.rng.choice(NIC_MODELS)
        alias = alias or self.alias('nic')
        virtio = model == 'virtio' or (model is None and not self.m.x86)
        extra = self.mmio_xml(mmio and virtio)
        pcie = virtio or model in ('virtio-non-transitional', 'e1000e')
        self.devices.append(dx.interface(model, alias, self.place(pcie, extra), mac=self.mac()))
        self.note(alias, flexible=virtio and not extra)
        return alias

    def disk(self, model=None, alias=None, choose=True, mmio=True):
        if choose:
            model = self.rng.choice(DISK_MODELS)
        alias = alias or self.alias('disk')
        name = self.next_disk_name()
        extra = self.mmio_xml(mmio and model is None)
        pcie = model != 'virtio-transitional'
        self.devices.append(dx.virtio_disk(name, model, alias, self.place(pcie, extra)))
        self.note(alias, flexible=model is None and not extra)
        return alias

    def scsi_controller(self):
        model = self.rng.choice(SCSI_MODELS)
        alias = self.alias('scsi')
        self.add('controller', " type='scsi'" + (" model='%s'" % model if model else ''), dx.alias(alias),
                 self.user_address(model in ('virtio-scsi', 'virtio-non-transitional')))
        self.note(alias, flexible=model == 'virtio-scsi')

    def scsi_disk(self):
        # its SCSI controller is implicit: libvirt (and the reader) add one
        name = dx.disk_name('sd', self.scsi_disks)
        self.scsi_disks += 1
        self.add('disk', " type='file' device='disk'", "<source file='/var/lib/libvirt/images/%s.img'/>" % name,
                 "<target dev='%s' bus='scsi'/>" % name)

    def usb(self):
        self.has_usb = True
        alias = self.alias('usb')
        model = self.rng.choice(USB_MODELS)
        self.add('controller', " type='usb' model='%s'" % model, dx.alias(alias),
                 self.user_address(model.endswith('xhci')))
        self.note(alias)

    def usb_ich9_set(self):
        # an ICH9 USB2 set: the EHCI master and its three UHCI companions share one slot
        # (and one controller index, given or not)
        self.has_usb = True
        index = ''
        if self.p.libvirt_devices and self.rng.random() < 0.5:
            index = " index='%d'" % self.rng.randint(1, 9)
        self.add('controller', " type='usb'%s model='ich9-ehci1'" % index)
        for n in (1, 2, 3):
            self.add('controller', " type='usb'%s model='ich9-uhci%d'" % (index, n),
                     "<master startport='%d'/>" % ((n - 1) * 2))

    def sound(self):
        alias = self.alias('sound')
        self.add('sound', " model='%s'" % self.rng.choice(SOUND_MODELS), dx.alias(alias), self.user_address(False))
        self.note(alias)

    def rng_device(self):
        alias = self.alias('rng')
        model = self.rng.choice(['virtio', 'virtio', 'virtio-transitional'])
        extra = self.mmio_xml(model == 'virtio')
        self.add('rng', " model='%s'" % model, "<backend model='random'>/dev/urandom</backend>", dx.alias(alias),
                 self.place(model == 'virtio', extra))
        self.note(alias)

    def channel(self):
        # a virtio channel: its virtio-serial controller is implicit
        self.add('channel', " type='unix'", "<target type='virtio' name='org.example.channel.%d'/>" % self.channels)
        self.channels += 1

    def virtio_serial(self):
        alias = self.alias('vser')
        self.add('controller', " type='virtio-serial'", dx.alias(alias), self.user_address(True))
        self.note(alias, flexible=True)

    def input_device(self):
        alias = self.alias('input')
        self.add('input', " type='%s' bus='virtio'" % self.rng.choice(INPUT_TYPES), dx.alias(alias),
                 self.user_address(True))
        self.note(alias)

    def video(self):
        # libvirt takes vga, cirrus and bochs only as the primary (first) video; qemu-system-
        # aarch64 has no qxl
        qxl = ['qxl'] if self.p.libvirt_devices and self.m.x86 else []
        if any('<video' in d for d in self.devices):
            models = ['virtio'] + qxl
        else:
            models = ['vga', 'virtio', 'bochs', 'cirrus'] if self.m.x86 else ['virtio', 'virtio', 'vga', 'bochs']
            models += qxl
        alias = self.alias('video')
        model = self.rng.choice(models)
        self.add('video', '', "<model type='%s'/>" % model, dx.alias(alias),
                 self.user_address(model in ('virtio', 'bochs')))
        self.note(alias)

    def watchdog(self):
        alias = self.alias('wdt')
        self.add('watchdog', " model='i6300esb' action='reset'", dx.alias(alias), self.user_address(False))
        self.note(alias)

    def pci_serial(self):
        alias = self.alias('pser')
        self.add('serial', " type='pty'", "<target type='pci-serial'/>", dx.alias(alias), self.user_address(False))
        self.note(alias)

    def panic(self):
        # pvpanic-pci: an integrated endpoint of the root bus (no constraints)
        self.add('panic', " model='pvpanic'")

    def vsock(self):
        self.add('vsock', " model='virtio'", "<cid auto='yes'/>", self.user_address(True))

    def iommu(self):
        # an integrated device of the root bus: its address is the planners' business
        self.add('iommu', " model='virtio'")

    def sata(self):
        self.add('controller', " type='sata'", self.user_address(False))

    # -- PCI controllers written by the user ---------------------------------------------
    def user_controllers(self):
        """A few PCI controllers as a user writes them: index given, no address (or, with
        indexless_controllers, mostly without index, some with an address)."""
        rng = self.rng
        index = 1

        def controller(model, *body):
            nonlocal index
            given = index
            if self.p.indexless_controllers:
                given = None
                if model == 'pcie-root-port' and rng.random() < 0.3:
                    n = rng.randrange(1, 12)
                    if n not in self.root_port_indexes:
                        given = n
                        self.root_port_indexes.append(n)
            if (self.p.user_addresses and self.free_root_slots and model in
                    ('pcie-root-port', 'pci-bridge', 'dmi-to-pci-bridge', 'pcie-expander-bus', 'pci-expander-bus')
                    and rng.random() < 0.15):
                body += (dx.pci_address(0, self.free_root_slots.pop()),)
            if self.p.controller_aliases and self.alias_rng.random() < self.p.controller_aliases:
                body += (dx.alias('ua-pci%d' % index),)
            self.controllers.append(dx.pci_controller(model, given, *body))
            index += 1

        def hotplug_off(p):
            return "<target hotplug='off'/>" if rng.random() < p else ''

        for _ in range(rng.randint(1, 3)):
            if self.m.pcie:
                kinds = ['root-port', 'root-port'] + (['switch'] if self.p.switches else []) + ['pcie-to-pci', 'dmi']
                if self.m.numa:
                    kinds.append('pxb-pcie')
            else:
                kinds = ['pci-bridge', 'pci-bridge', 'pxb']
            kind = rng.choice(kinds)
            if kind == 'root-port':
                controller('pcie-root-port', hotplug_off(0.4))
            elif kind == 'switch':
                controller('pcie-switch-upstream-port')
                for _ in range(rng.randint(1, 4)):
                    controller('pcie-switch-downstream-port', hotplug_off(0.3))
            elif kind == 'pcie-to-pci':
                controller('pcie-to-pci-bridge')
            elif kind == 'dmi':
                controller('dmi-to-pci-bridge')
                if rng.random() < 0.6:
                    controller('pci-bridge')
            elif kind == 'pci-bridge':
                controller('pci-bridge')
            else:
                # bus numbers far above the <= ~60 the main hierarchy uses, and 40 apart,
                # so that nothing collides; never two expanders on one number
                free = [n for n in (140, 180, 220) if n not in self.bus_numbers]
                if not free:
                    continue
                nr = rng.choice(free)
                self.bus_numbers.add(nr)
                node = "<node>%d</node>" % rng.randrange(self.cells) if self.cells and rng.random() < 0.7 else ''
                controller('pci-expander-bus' if kind == 'pxb' else 'pcie-expander-bus',
                           "<target busNr='%d'>%s</target>" % (nr, node) if node else "<target busNr='%d'/>" % nr)
        # libvirt gives an index-less PCI controller the lowest free index, 0 too: mostly
        # declare the root controller then
        if (self.p.indexless_controllers and any(" index=" not in c for c in self.controllers)
                and rng.random() < self.p.root_controller):
            root = dx.pci_controller('pcie-root' if self.m.pcie else 'pci-root', 0)
            self.controllers.insert(rng.randrange(len(self.controllers) + 1), root)

    # -- the whole domain ---------------------------------------------------------------
    def build(self):
        rng, m, p = self.rng, self.m, self.p
        if p.user_addresses:
            self.fixed_share = rng.choice([0, 0, 0.1, 0.3])
            self.empty_share = rng.choice([0, 0, 0.1, 0.3])
            self.free_root_slots = list(range(2, 0x1d))
            rng.shuffle(self.free_root_slots)
        if p.shuffled_disks:
            self.shuffle_disks = rng.random() < p.shuffled_disks
        if m.numa and rng.random() < 0.35:
            self.cells = rng.choice([2, 2, 3])
        if m.mmio and not self.cells and rng.random() < 0.2:
            self.mmio = True
        memory_mib = rng.choice([128, 256, 512])
        count = rng.choice([rng.randint(0, 8), rng.randint(0, 20), rng.randint(0, 40)])
        if self.mmio:
            count = min(count, m.mmio - 4)
        if rng.random() < p.user_controllers:
            self.user_controllers()
        self.random_devices(count)
        groups = self.multifunction_groups() if p.constraints else []
        if p.constraints:
            self.constraints(groups)

        # default devices: USB and balloon as libvirt adds them, or switched off
        usb_choice = rng.random()
        if usb_choice < 0.3 and not self.has_usb:
            self.add('controller', " type='usb' model='none'")
        elif usb_choice < 0.45:
            self.add('controller', " type='usb' model='qemu-xhci'", self.user_address(True))
        balloon = rng.random()
        if balloon < 0.3:
            self.add('memballoon', " model='none'")
        elif balloon < 0.5:
            model = rng.choice(['virtio', 'virtio-transitional'])
            self.add('memballoon', " model='%s'" % model, self.user_address(model == 'virtio'))

        metadata = ''
        if p.constraints:
            spare = rng.randint(0, 8) if rng.random() < 0.3 else None
            if self.meta or spare is not None:
                metadata = dx.plan_metadata(self.meta, spare)
        memory_kib = memory_mib * 1024
        machine_type = rng.choice(m.types)
        if p.indexless_controllers:
            elements = list(self.devices)
            positions = sorted(rng.randrange(len(elements) + 1) for _ in self.controllers)
            for k, (at, c) in enumerate(zip(positions, self.controllers)):
                elements.insert(at + k, c)
        else:
            elements = self.controllers + self.devices
        xml = dx.document(''.join(elements), name='%s-%s-%d' % (p.name, m.key, self.index), arch=m.arch,
                          machine=machine_type, domain_type=p.domain_type or ('kvm' if m.x86 else 'qemu'),
                          metadata=metadata,
                          memory_kib=memory_kib, vcpus=max(1, self.cells),
                          cpu=dx.numa_cpu(self.cells, memory_kib) if self.cells else '',
                          emulator='/usr/bin/' + m.binary)
        return Domain(xml, memory_kib, machine_type, self.numa_constrained, len(elements))

    def random_devices(self, count):
        rng, m = self.rng, self.m
        makers = [(self.nic, 30), (self.disk, 25), (self.scsi_controller, 5), (self.scsi_disk, 3), (self.usb, 4),
                  (self.sound, 4), (self.rng_device, 3), (self.channel, 3), (self.virtio_serial, 2),
                  (self.input_device, 4), (self.video, 3), (self.pci_serial, 2)]
        if m.x86:
            makers.append((self.usb_ich9_set, 1))
        once = {self.video: 1, self.usb_ich9_set: 1}
        if self.p.libvirt_devices:
            makers.append((self.vsock, 1))
            if m.key in ('q35', 'aarch64'):   # virtio-iommu: an integrated endpoint of a PCIe root
                makers.append((self.iommu, 1))
            if m.key == 'q35':
                makers.append((self.sata, 1))
            once.update({self.video: 2, self.vsock: 1, self.iommu: 1})
        functions = [f for f, w in makers for _ in range(w)]
        made = {}
        for _ in range(count):
            f = rng.choice(functions)
            if f in once and made.get(f, 0) >= once[f]:
                f = self.nic
            made[f] = made.get(f, 0) + 1
            f()
        if rng.random() < 0.25:
            self.watchdog()
        if self.p.panic and not m.x86 and rng.random() < 0.3:
            self.panic()

    def multifunction_groups(self):
        """2-3 devices of one kind that share a slot (not in domains using virtio-mmio,
        where libvirt's sticky rule sends address-less virtio devices)."""
        rng = self.rng
        groups = []
        group_count = 0 if self.mmio else (rng.random() < 0.25) + (rng.random() < 0.1)
        for g in range(1, 1 + group_count):
            make = rng.choice([self.nic, self.disk])
            members = []
            for _ in range(rng.randint(2, 3)):
                a = self.alias('mf', force=True)
                if make == self.nic:
                    self.nic('virtio', alias=a, choose=False, mmio=False)
                else:
                    self.disk(None, alias=a, choose=False, mmio=False)
                self.plain.remove(a)
                members.append(a)
            groups.append(members)
            for f, a in enumerate(members):
                self.meta[a] = {'multifunction-group': str(g), 'function': str(f)}
        return groups

    def constraints(self, groups):
        """Constraints on single devices; NUMA nodes in half of the domains with cells (the
        libvirt policy refuses those, as documented, and plans the others)."""
        rng, m = self.rng, self.m
        numa_devices = self.cells and rng.random() < 0.5
        for a in self.plain:
            attrs = {}
            if rng.random() < 0.15:
                attrs['hotplug'] = 'no'
            elif rng.random() < 0.05:
                attrs['hotplug'] = 'yes'
            if a in self.flexible and rng.random() < 0.15:
                attrs['link'] = rng.choice(['pci', 'either'] + (['pcie'] if m.pcie else []))
            if not self.mmio and rng.random() < 0.08:
                attrs['isolation-group'] = str(rng.randint(1, 3))
            if rng.random() < 0.1:
                attrs['order'] = str(rng.randint(0, 1000))
            if numa_devices and rng.random() < 0.3:
                attrs['numa-node'] = str(rng.randrange(self.cells))
            if attrs:
                self.meta[a] = attrs
        if numa_devices and groups and rng.random() < 0.5:
            node = str(rng.randrange(self.cells))
            for a in groups[0]:
                self.meta[a]['numa-node'] = node
        self.numa_constrained = any('numa-node' in v for v in self.meta.values())
