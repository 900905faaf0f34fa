"""The LIBVIRT_FIDELITY domains: every PCI fact of libvirt's address assignment, one draw at a time.

random_domains.make_domain hands a LIBVIRT_FIDELITY profile to `FidelityMaker`, which draws
from the same seeded generator (the profile's name keeps its stream apart). A domain is one
of three scenarios:
  empty   no devices at all; sometimes USB and the balloon switched off too;
  limits  a bus at its slot limit: the root bus filled with fixed addresses (all free slots,
          or all but one or two) and a few address-less devices after them, a user bridge
          with a device on each of its 31 slots, or 25-34 address-less conventional PCI
          NICs (pc's root bus, the pcie-to-pci-bridge libvirt adds elsewhere), on x86
          sometimes after an ICH9 USB2 set;
  mixed   0 to 30 devices of every element the pciplan libvirt reader maps to PCI (see
          DEVICE_WEIGHTS), PCI controllers of every kind written by the user, and addresses.
Controllers (pcie-root-port, PCIe switch ports, pcie-to-pci-bridge, dmi-to-pci-bridge,
pci-bridge, pci- and pcie-expander-bus) come with and without index, with and without
address and <alias name='ua-…'/>, interleaved with the devices; the root controller is
declared in the share `profile.root_controller` of the domains with an index-less one.
Addresses are full (on a user bus, a free root slot, a bus index no controller has, a
chipset slot, or a multifunction slot) or empty (<address type='pci'/>), and their numbers
are written in one style per domain: hex (0x1f), decimal, octal (a leading 0: slot='010'
is 8) or mixed; in a quarter of the octal and mixed domains controller indexes, which
libvirt reads as decimal, carry a leading 0 (index='010' is 10), and rarely one is a hex
number (which libvirt refuses).

Choices that libvirt 9.0 and 11.3 answer differently (pvpanic, virtio sound, virtio-crypto)
or that both refuse (qusb, buslogic, ncr53c90, ich7 sound, a hex controller index) are rare
on purpose, so that most domains compare addresses; `profile.panic` switches pvpanic off.
"""
from . import domain_xml as dx

# root-bus slots a user address may take (pc: 0 host bridge, 1 PIIX3; q35: 0 host bridge,
# 0x1f ICH9; virt: 0 host bridge)
ROOT_SLOTS = {'pc': range(2, 32), 'q35': range(1, 0x1f), 'aarch64': range(1, 32), 'riscv64': range(1, 32)}
# (slot, function) of the root bus where the chipset sits or which libvirt treats specially:
# 00:00.x (x > 0) is "no address" to libvirt, pc's 00:01.1 is free without an IDE controller
CHIPSET_ADDRESSES = {'pc': [(1, 1), (1, 3), (1, 4), (1, 6), (0, 1), (0, 5)],
                     'q35': [(0x1f, 0), (0x1f, 2), (0x1f, 4), (0x1f, 6), (0x1e, 0), (0x1d, 0), (0, 1)],
                     'aarch64': [(0, 1), (0, 4)], 'riscv64': [(0, 2)]}

NIC_MODELS = ([('virtio', 6), ('virtio-transitional', 1), ('virtio-non-transitional', 1), ('e1000', 2),
               ('e1000e', 2), ('rtl8139', 1), ('vmxnet3', 1), ('igb', 1), (None, 1)])
PCIE_NICS = ('virtio', 'virtio-non-transitional', 'e1000e', 'igb')
SCSI_MODELS = [('virtio-scsi', 4), ('lsilogic', 2), ('lsisas1068', 1), ('lsisas1078', 1), ('vmpvscsi', 1),
               ('virtio-transitional', 1), ('virtio-non-transitional', 1), ('am53c974', 1), ('dc390', 1),
               ('auto', 1), (None, 1), ('buslogic', 0.1), ('ncr53c90', 0.1)]
USB_MODELS = [('qemu-xhci', 4), ('nec-xhci', 1), ('ehci', 1), ('pci-ohci', 1), ('piix3-uhci', 1),
              ('piix4-uhci', 1), ('vt82c686b-uhci', 1), ('ich9-set', 1), ('ich9-ehci1', 0.3), (None, 0.3),
              ('qusb2', 0.05)]
SOUND_MODELS = [('ich6', 2), ('ich9', 2), ('ac97', 2), ('es1370', 2), ('virtio', 0.2), ('ich7', 0.1)]
SECONDARY_VIDEO = ('virtio', 'qxl')


def pick(rng, weighted):
    """One value of [(value, weight)]."""
    x = rng.random() * sum(w for _, w in weighted)
    for value, w in weighted:
        x -= w
        if x < 0:
            return value
    return weighted[-1][0]


class Bus:
    """A bus a user address may name: a controller with a known index and its free slots."""

    def __init__(self, index, kind, slots):
        self.index = index
        self.kind = kind          # root, port (slot 0), bridge, pxb, expander (no slots)
        self.slots = list(slots)  # free slots, taken from the front


class FidelityMaker:
    """One LIBVIRT_FIDELITY domain (see the top of this module)."""

    def __init__(self, rng, machine, index, profile):
        self.rng, self.m, self.p, self.index = rng, machine, profile, index
        self.elements = []         # (is_controller, XML) in document order
        self.buses = []            # Bus records of the user's controllers with an index
        self.root = Bus(0, 'root', ROOT_SLOTS[machine.key])
        rng.shuffle(self.root.slots)
        self.indexes = set()       # PCI controller indexes given (0 when the root is declared)
        self.indexless = 0         # PCI controllers written without index
        self.index_policy = 'given'
        self.hex_index = False     # write the next index in hex (libvirt refuses it)
        self.bus_numbers = []      # busNr of the expander buses
        self.counts = {}           # stem -> count, for aliases, disk names, MACs
        self.once = set()          # devices a domain has at most one of
        self.cells = 0
        self.usb = None            # the USB controller written: 'none', a model, 'default' (none given)
        self.usb_devices = False   # a device that needs USB (smartcard)
        self.iommu = False
        self.videos = 0
        self.style = 'hex'
        self.zero_index = False    # some controller indexes with a leading 0
        self.fixed_share = self.empty_share = 0.0
        self.mf_slot = []          # [(bus, slot, next function)] of an open multifunction slot
        self.missing_top = 0       # the highest missing bus named

    # -- numbers and names --------------------------------------------------------------
    def number(self, value, width=2):
        style = self.style if self.style != 'mixed' else self.rng.choice(['hex', 'dec', 'oct'])
        if style == 'dec':
            return '%d' % value
        if style == 'oct':
            return '0%o' % value if value else '0'
        return '0x%0*x' % (width, value)

    def address(self, bus, slot, function=0, multifunction=False):
        domain = ''
        if self.style == 'hex' or self.rng.random() < 0.5:
            domain = " domain='%s'" % self.number(0, 4)
        return ("<address type='pci'%s bus='%s' slot='%s' function='%s'%s/>"
                % (domain, self.number(bus), self.number(slot), self.number(function, 1),
                   " multifunction='on'" if multifunction else ''))

    def index_text(self, value):
        if self.zero_index and value and self.rng.random() < 0.5:
            return '0%d' % value   # libvirt reads an index as decimal: '010' is 10
        return '%d' % value

    def next(self, stem):
        n = self.counts.get(stem, 0)
        self.counts[stem] = n + 1
        return n

    def alias(self, stem, share=0.3):
        return dx.alias('ua-%s%d' % (stem, self.next('alias-' + stem))) if self.rng.random() < share else ''

    def mac(self):
        return "<mac address='52:54:00:%02x:%02x:%02x'/>" % (self.index >> 8 & 0xff, self.index & 0xff,
                                                           self.next('mac') & 0xff)

    def add(self, tag, attrs='', *body):
        self.elements.append((False, dx.element(tag, attrs, *body)))

    # -- where a device goes -------------------------------------------------------------
    def place(self, pcie=True):
        """'' (libvirt chooses), an empty PCI address, or a full one (see fixed_address)."""
        x = self.rng.random()
        if x < self.fixed_share:
            return self.fixed_address(pcie)
        if x < self.fixed_share + self.empty_share:
            return dx.EMPTY_PCI_ADDRESS
        return ''

    def fixed_address(self, pcie):
        rng = self.rng
        if self.mf_slot:
            bus, slot, fn = self.mf_slot.pop()
            if fn < 7 and rng.random() < 0.7:
                self.mf_slot.append((bus, slot, fn + 1))
            return self.address(bus, slot, fn)
        x = rng.random()
        user = [b for b in self.buses if b.slots and (pcie or b.kind != 'port')]
        if x < 0.45 and user:
            bus = rng.choice(user)
        elif x < 0.55:
            return self.address(*self.missing_bus(pcie))
        elif x < 0.6:
            slot, fn = rng.choice(CHIPSET_ADDRESSES[self.m.key])
            return self.address(0, slot, fn)
        else:
            bus = self.root
        if not bus.slots:
            return ''
        slot = bus.slots.pop(0)
        if bus.kind != 'port' and rng.random() < 0.1:
            self.mf_slot.append((bus.index, slot, 1))
            return self.address(bus.index, slot, 0, multifunction=True)
        return self.address(bus.index, slot)

    def missing_bus(self, pcie):
        """(bus, slot) on a bus index above every index given: libvirt adds controllers up to
        it, the last of the kind the first device naming it needs (pcie-root-port, or a
        pci-bridge, whose slot 0 is not usable, behind a pcie-to-pci-bridge on PCIe machines).
        One device a missing bus: a second one of the other kind would not fit."""
        top = max(self.indexes | {b.index for b in self.buses} | {0}) + self.indexless
        self.missing_top = max(top, self.missing_top) + self.rng.randint(1, 3)
        return self.missing_top, 0 if self.m.pcie and pcie else 1 + self.rng.randrange(31)

    # -- devices -------------------------------------------------------------------------
    def nic(self, model=None, where=None):
        model = model or pick(self.rng, NIC_MODELS)
        pcie = model in PCIE_NICS or (model is None and not self.m.x86)
        self.add('interface', " type='network'", self.mac(), "<source network='default'/>",
                 "<model type='%s'/>" % model if model else '', self.alias('net'),
                 self.place(pcie) if where is None else where)

    def hostdev_nic(self):
        n = self.next('host')
        self.add('interface', " type='hostdev' managed='yes'", self.mac(),
                 "<source><address type='pci' domain='0x0000' bus='0x%02x' slot='0x00' function='0x%x'/></source>"
                 % (0x70 + n // 8, n % 8), self.alias('hostnet'), self.place())

    def disk_name(self, prefix):
        return dx.disk_name(prefix, self.next('disk-' + prefix))

    def virtio_disk(self, where=None):
        model = pick(self.rng, [(None, 4), ('virtio-transitional', 1), ('virtio-non-transitional', 1)])
        name = self.disk_name('vd')
        self.elements.append((False, dx.virtio_disk(name, model, None, self.alias('disk', 0.2),
                                                    self.place(model != 'virtio-transitional')
                                                    if where is None else where)))

    def bus_disk(self, bus):
        # sata and scsi disks share the sd names; the controller they need is implicit
        name = self.disk_name('hd' if bus == 'ide' else 'sd')
        self.add('disk', " type='file' device='disk'", "<driver name='qemu' type='raw'/>",
                 "<source file='/var/lib/libvirt/images/%s.img'/>" % name, "<target dev='%s' bus='%s'/>" % (name, bus))

    def hostdev(self):
        n = self.next('host')
        self.add('hostdev', " mode='subsystem' type='pci' managed='yes'",
                 "<source><address domain='0x0000' bus='0x%02x' slot='0x00' function='0x%x'/></source>"
                 % (0x65 + n // 8, n % 8), self.alias('hostdev'), self.place())

    def filesystem(self):
        model = pick(self.rng, [(None, 4), ('virtio-transitional', 1), ('virtio-non-transitional', 1)])
        n = self.next('fs')
        self.add('filesystem', " type='mount' accessmode='mapped'" + (" model='%s'" % model if model else ''),
                 "<source dir='/srv/share%d'/>" % n, "<target dir='share%d'/>" % n, self.alias('fs'),
                 self.place(model != 'virtio-transitional'))

    def video(self):
        # libvirt takes vga, cirrus, bochs, vmvga and ramfb only as the primary video;
        # qemu-system-aarch64/riscv64 have no qxl (and 11.3 refuses vmvga there)
        if self.videos >= 2:
            return self.nic()
        if self.videos:
            models = [m for m in SECONDARY_VIDEO if self.m.x86 or m != 'qxl']
        elif self.m.x86:
            models = ['vga', 'vga', 'cirrus', 'bochs', 'qxl', 'virtio', 'virtio', 'vmvga']
        else:
            models = ['virtio', 'virtio', 'vga', 'bochs', 'cirrus', 'ramfb']
        model = self.rng.choice(models)
        self.videos += 1
        self.add('video', '', "<model type='%s'/>" % model, self.alias('video'),
                 self.place(model in ('virtio', 'bochs')) if model != 'ramfb' else '')

    def sound(self):
        model = pick(self.rng, SOUND_MODELS)
        self.add('sound', " model='%s'" % model, self.alias('sound'), self.place(model in ('ich9', 'virtio')))

    def input_device(self):
        kind = self.rng.choice(['keyboard', 'mouse', 'tablet', 'passthrough'])
        source = "<source evdev='/dev/input/event%d'/>" % self.next('evdev') if kind == 'passthrough' else ''
        self.add('input', " type='%s' bus='virtio'" % kind, source, self.alias('input'), self.place())

    def rng_device(self):
        model = self.rng.choice(['virtio', 'virtio', 'virtio-transitional', 'virtio-non-transitional'])
        self.add('rng', " model='%s'" % model, "<backend model='random'>/dev/urandom</backend>", self.alias('rng'),
                 self.place(model != 'virtio-transitional'))

    def watchdog(self):
        if self.first('watchdog'):
            self.add('watchdog', " model='i6300esb' action='reset'", self.alias('wdt'), self.place(False))

    def shmem(self):
        n = self.next('shmem')
        if self.rng.random() < 0.5:
            self.add('shmem', " name='shmem%d'" % n, "<model type='ivshmem-plain'/>", "<size unit='M'>4</size>",
                     self.alias('shmem'), self.place(False))
        else:
            self.add('shmem', " name='shmem%d'" % n, "<model type='ivshmem-doorbell'/>",
                     "<server path='/tmp/ivshmem%d.sock'/>" % n, "<msi vectors='4' ioeventfd='on'/>",
                     self.alias('shmem'), self.place(False))

    def pci_serial(self):
        self.add('serial', " type='pty'", "<target type='pci-serial'/>", self.alias('serial'), self.place(False))

    def iommu_device(self):
        # virtio-iommu: q35 and aarch64 virt, with ACPI (on aarch64 ACPI needs UEFI)
        if self.m.key in ('q35', 'aarch64') and self.first('iommu'):
            self.iommu = True
            self.add('iommu', " model='virtio'")

    def vsock(self):
        if self.first('vsock'):
            self.add('vsock', " model='virtio'", "<cid auto='yes'/>", self.alias('vsock'), self.place())

    def crypto(self):
        # libvirt 9.0 gives virtio-crypto no PCI address, 11.3 does
        self.add('crypto', " model='virtio' type='qemu'", "<backend model='builtin' queues='1'/>",
                 self.alias('crypto'), self.place())

    def panic(self):
        # model='pvpanic' is pvpanic-pci on every machine in libvirt 11.3 (9.0 refuses it), an
        # integrated device: an address on the root bus or none
        if self.p.panic and self.first('panic'):
            where = self.place(False)
            if where and where != dx.EMPTY_PCI_ADDRESS:
                where = self.address(0, self.root.slots.pop(0)) if self.root.slots else ''
            self.add('panic', " model='pvpanic'", where)

    def smartcard(self):
        # an implicit USB CCID controller, not PCI: it needs USB
        if self.first('smartcard'):
            self.usb_devices = True
            self.add('smartcard', " mode='host'")

    def channel(self):
        n = self.next('channel')
        self.add('channel', " type='unix'", "<target type='virtio' name='org.example.channel.%d'/>" % n)

    def virtio_serial(self):
        model = self.rng.choice(['virtio', 'virtio', 'virtio-transitional', 'virtio-non-transitional', None])
        self.add('controller', " type='virtio-serial'" + (" model='%s'" % model if model else ''),
                 self.alias('vser'), self.place(model != 'virtio-transitional'))

    def scsi_controller(self):
        model = pick(self.rng, SCSI_MODELS)
        self.add('controller', " type='scsi'" + (" model='%s'" % model if model else ''), self.alias('scsi'),
                 self.place(model in ('virtio-scsi', 'virtio-non-transitional')))

    def usb_controller(self, model=None):
        model = model or pick(self.rng, USB_MODELS)
        if model == 'ich9-set':
            # the EHCI master and its three UHCI companions share one slot and one index
            index = " index='%d'" % self.rng.randint(1, 5) if self.rng.random() < 0.5 else ''
            self.add('controller', " type='usb'%s model='ich9-ehci1'" % index, self.alias('usb'))
            for n in (1, 2, 3):
                self.add('controller', " type='usb'%s model='ich9-uhci%d'" % (index, n),
                         "<master startport='%d'/>" % ((n - 1) * 2))
        else:
            self.add('controller', " type='usb'" + (" model='%s'" % model if model else ''), self.alias('usb'),
                     self.place(model in ('qemu-xhci', 'nec-xhci')) if model != 'none' else '')
        self.usb = self.usb or model or 'default'

    def multifunction_group(self):
        """2-3 NICs of one model at the functions of one slot (function 0 multifunction='on')."""
        model = self.rng.choice(['e1000', 'virtio', 'rtl8139'])
        bus = self.rng.choice([b for b in self.buses if b.slots and b.kind in ('bridge', 'pxb')] + [self.root])
        if not bus.slots:
            return self.nic()
        slot = bus.slots.pop(0)
        for fn in range(self.rng.randint(2, 3)):
            self.nic(model, self.address(bus.index, slot, fn, multifunction=fn == 0))

    def first(self, what):
        if what in self.once:
            return False
        self.once.add(what)
        return True

    DEVICE_WEIGHTS = [('nic', 20), ('virtio_disk', 14), ('sata', 3), ('scsi_disk', 3), ('ide', 2), ('hostdev', 3),
                      ('hostdev_nic', 1), ('filesystem', 3), ('video', 3), ('sound', 3), ('input_device', 3),
                      ('rng_device', 3), ('watchdog', 2), ('shmem', 2), ('pci_serial', 2), ('iommu_device', 1),
                      ('vsock', 1), ('crypto', 1), ('panic', 1), ('smartcard', 1), ('channel', 2),
                      ('virtio_serial', 2), ('scsi_controller', 4), ('usb_controller', 4),
                      ('multifunction_group', 1)]

    def random_device(self):
        what = pick(self.rng, self.DEVICE_WEIGHTS)
        if what == 'sata':
            self.bus_disk('sata')
        elif what == 'scsi_disk':
            self.bus_disk('scsi')
        elif what == 'ide':
            if self.m.key == 'pc':
                self.bus_disk('ide')
            else:
                self.nic()
        else:
            getattr(self, what)()

    # -- PCI controllers written by the user ---------------------------------------------
    def controller(self, model, given=True, address='', *body, bus_kind=None, slots=()):
        """Writes a <controller type='pci'>: with the next index when `given`, else without;
        a controller with an index becomes a Bus of `bus_kind`. Returns its index or None."""
        index = None
        attrs = " type='pci'"
        if given:
            index = self.next_index()
            text = self.index_text(index)
            if self.hex_index and index >= 1:
                text, self.hex_index = '0x%x' % index, False   # libvirt refuses it
            attrs += " index='%s'" % text
            if bus_kind:
                self.buses.append(Bus(index, bus_kind, slots))
        else:
            self.indexless += 1
        attrs += " model='%s'" % model
        self.elements.append((True, dx.element('controller', attrs, *body, self.alias('pci', 0.3), address)))
        return index

    def next_index(self):
        index = max(self.indexes | {0}) + 1
        if self.rng.random() < 0.1:
            index += self.rng.randint(1, 3)   # a gap: libvirt fills it with controllers
        self.indexes.add(index)
        return index

    def root_slot_address(self, share):
        if self.root.slots and self.rng.random() < share:
            return self.address(0, self.root.slots.pop(0))
        return ''

    def given(self):
        return self.index_policy == 'given' or (self.index_policy == 'mixed' and self.rng.random() < 0.5)

    def pcie_controllers(self, kind):
        rng = self.rng
        if kind == 'root-port':
            hotplug = "<target hotplug='off'/>" if rng.random() < 0.2 else ''
            self.controller('pcie-root-port', self.given(), self.root_slot_address(0.2), hotplug, bus_kind='port',
                            slots=[0])
        elif kind in ('switch', 'pcie-to-pci'):
            # anchored on a root port with an index (the usual case), or left to libvirt
            parent = None
            if rng.random() < 0.8:
                parent = self.controller('pcie-root-port', True, self.root_slot_address(0.2))
            if kind == 'switch':
                up = self.controller('pcie-switch-upstream-port', parent is not None or self.given(),
                                     self.address(parent, 0) if parent is not None else '')
                for slot in range(rng.randint(1, 4)):
                    anchored = up is not None and rng.random() < 0.6
                    self.controller('pcie-switch-downstream-port', anchored or self.given(),
                                    self.address(up, slot) if anchored else '', bus_kind='port', slots=[0])
            else:
                bridge = self.controller('pcie-to-pci-bridge', parent is not None or self.given(),
                                         self.address(parent, 0) if parent is not None else '', bus_kind='bridge',
                                         slots=range(1, 32))
                if rng.random() < 0.3:
                    self.pci_bridge_on(self.bus_of(bridge))
        elif kind == 'dmi':
            dmi = self.controller('dmi-to-pci-bridge', self.given(), self.root_slot_address(0.3), bus_kind='bridge',
                                  slots=range(0, 32))
            if rng.random() < 0.6:
                self.pci_bridge_on(self.bus_of(dmi))
        elif kind == 'pxb-pcie':
            pxb = self.expander('pcie-expander-bus', bus_kind='expander')
            for slot in range(rng.randint(0, 2) if pxb is not None else 0):
                self.controller('pcie-root-port', True, self.address(pxb, slot), bus_kind='port', slots=[0])

    def bus_of(self, index):
        return next((b for b in self.buses if b.index == index), None) if index is not None else None

    def pci_bridge_on(self, parent):
        """A pci-bridge on `parent` (a Bus with free slots) at a given slot, or left to libvirt."""
        if parent is not None and parent.slots and self.rng.random() < 0.7:
            self.controller('pci-bridge', True, self.address(parent.index, parent.slots.pop(0)), bus_kind='bridge',
                            slots=range(1, 32))
        else:
            self.controller('pci-bridge', self.given(), bus_kind='bridge', slots=range(1, 32))

    def expander(self, model, bus_kind):
        rng = self.rng
        free = [n for n in (140, 180, 220) if n not in self.bus_numbers]
        body = ''
        if free and rng.random() < 0.8:
            nr = rng.choice(free)
            self.bus_numbers.append(nr)
            node = "<node>%d</node>" % rng.randrange(self.cells) if self.cells and rng.random() < 0.7 else ''
            body = "<target busNr='%d'>%s</target>" % (nr, node) if node else "<target busNr='%d'/>" % nr
        return self.controller(model, self.given(), self.root_slot_address(0.2), body, bus_kind=bus_kind,
                               slots=range(0, 32) if bus_kind == 'pxb' else ())

    def user_controllers(self):
        rng, m = self.rng, self.m
        self.index_policy = rng.choice(['given', 'given', 'none', 'mixed'])
        self.hex_index = rng.random() < 0.03
        if m.pcie:
            kinds = [('root-port', 4), ('switch', 2), ('pcie-to-pci', 2), ('dmi', 1)]
            if m.numa:
                kinds.append(('pxb-pcie', 1))
        else:
            kinds = [('pci-bridge', 3), ('pxb', 1)]
        for _ in range(rng.choice([1, 1, 2, 2, 3, 4])):
            kind = pick(rng, kinds)
            if kind == 'pci-bridge':
                user = [b for b in self.buses if b.kind in ('bridge', 'pxb') and b.slots]
                self.pci_bridge_on(rng.choice(user) if user and rng.random() < 0.4 else
                                   (self.root if rng.random() < 0.3 else None))
            elif kind == 'pxb':
                pxb = self.expander('pci-expander-bus', bus_kind='pxb')
                if pxb is not None and rng.random() < 0.4:
                    self.pci_bridge_on(self.bus_of(pxb))
            else:
                self.pcie_controllers(kind)
        if self.indexless and rng.random() < self.p.root_controller:
            self.indexes.add(0)
            root = "<controller type='pci' index='0' model='%s'/>" % ('pcie-root' if m.pcie else 'pci-root')
            self.elements.insert(rng.randrange(len(self.elements) + 1), (True, '    %s\n' % root))

    # -- scenarios -----------------------------------------------------------------------
    def limits(self):
        """A bus at its slot limit (see the top of this module)."""
        rng, m = self.rng, self.m
        case = rng.choice(['root-full', 'bridge-full', 'many-conventional'])
        model = 'e1000' if not m.pcie else rng.choice(['e1000e', 'virtio'])
        if case == 'root-full':
            left = rng.choice([0, 0, 1, 2])
            while len(self.root.slots) > left:
                self.nic(model, self.address(0, self.root.slots.pop(0)))
            for _ in range(rng.randint(0, 3)):
                self.nic(model, '')
        elif case == 'bridge-full':
            if m.pcie:
                port = self.controller('pcie-root-port', True)
                parent = self.controller('pcie-to-pci-bridge', True, self.address(port, 0))
            else:
                parent = 0
            bridge = self.controller('pci-bridge', True, self.address(parent, 1 if m.pcie else self.root.slots.pop(0)))
            for slot in range(1, 32):
                self.nic('e1000', self.address(bridge, slot))
            for _ in range(rng.randint(0, 2)):
                self.nic('e1000', '')
        else:
            if m.x86 and rng.random() < 0.4:
                self.usb_controller('ich9-set')   # libvirt counts its companions' slots apart
            for _ in range(rng.randint(25, 34)):
                self.nic(rng.choice(['e1000', 'rtl8139']), '')

    def mixed(self):
        rng = self.rng
        self.fixed_share = rng.choice([0, 0.1, 0.25, 0.5])
        self.empty_share = rng.choice([0, 0, 0.1, 0.3])
        count = rng.choice([rng.randint(0, 6), rng.randint(0, 15), rng.randint(0, 30)])
        if self.m.mmio and rng.random() < 0.1:
            # one virtio device on virtio-mmio: libvirt then puts the address-less ones there
            # too, as many as the machine has transports (libvirt does not count them)
            self.add('rng', " model='virtio'", "<backend model='random'>/dev/urandom</backend>",
                     dx.VIRTIO_MMIO_ADDRESS)
            count = min(count, self.m.mmio // 2)
        if rng.random() < 0.6:
            self.user_controllers()
        for _ in range(count):
            self.random_device()

    def defaults(self, scenario):
        """The USB controller and the balloon: as libvirt adds them, or written, or off."""
        rng = self.rng
        usb = rng.random()
        if scenario == 'empty' or usb < 0.3:
            if rng.random() < 0.7 and self.usb is None and not self.usb_devices:
                self.usb_controller('none')
        elif usb < 0.45 and self.usb is None:
            self.usb_controller()
        if self.usb_devices and self.usb in (None, 'none') and not self.m.x86:
            self.usb_controller('qemu-xhci')   # a smartcard needs USB, and virt has none by default
        balloon = rng.random()
        if (scenario == 'empty' and rng.random() < 0.7) or balloon < 0.3:
            self.add('memballoon', " model='none'")
        elif balloon < 0.5:
            model = rng.choice(['virtio', 'virtio-transitional', 'virtio-non-transitional'])
            self.add('memballoon', " model='%s'" % model, self.alias('balloon'),
                     self.place(model != 'virtio-transitional'))

    def build(self):
        """(xml, memory_kib, machine_type, elements) of the domain."""
        rng, m = self.rng, self.m
        self.style = rng.choice(['hex', 'hex', 'dec', 'oct', 'mixed'])
        if self.style in ('oct', 'mixed'):
            self.zero_index = rng.random() < 0.25
        if m.numa and rng.random() < 0.2:
            self.cells = rng.choice([2, 3])
        scenario = pick(rng, [('empty', 0.06), ('limits', 0.14), ('mixed', 0.8)])
        if scenario == 'limits':
            self.limits()
        elif scenario == 'mixed':
            self.mixed()
        self.defaults(scenario)
        memory_kib = rng.choice([128, 256, 512]) * 1024
        machine_type = rng.choice(m.types)
        body = ''.join(xml for _, xml in self.elements)
        features = '  <features>\n    <acpi/>\n  </features>\n' if self.iommu else ''
        xml = dx.document(body, name='%s-%s-%d' % (self.p.name, m.key, self.index), arch=m.arch,
                          machine=machine_type, domain_type='qemu', memory_kib=memory_kib,
                          vcpus=max(1, self.cells), cpu=dx.numa_cpu(self.cells, memory_kib) if self.cells else '',
                          emulator='/usr/bin/' + m.binary, features=features,
                          firmware='efi' if self.iommu and not m.x86 else None)
        return xml, memory_kib, machine_type, len(self.elements)
