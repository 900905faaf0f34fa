"""Writers of libvirt domain XML, as text, in the layout the tests rely on.

A device element is a block of lines: the element at four spaces, its children at six,
one a line (`element`). `document` wraps the device blocks into a <domain>, with optional
<metadata>, <memory>, <vcpu>, <os firmware>, <features>, <cpu> and <emulator>; every part is whole lines, so the line
numbers a test expects in pciplan's messages follow from what it passes. The random domain
generator and the CLI tests write their domains with these.
"""


def element(tag, attrs='', *body):
    """`<tag attrs>` with one child per line, or `<tag attrs/>` when every child is empty."""
    body = [b for b in body if b]
    if body:
        return '    <%s%s>\n%s    </%s>\n' % (tag, attrs, ''.join('      %s\n' % b for b in body), tag)
    return '    <%s%s/>\n' % (tag, attrs)


def alias(name):
    """<alias name=.../>, or nothing without a name."""
    return "<alias name='%s'/>" % name if name else ''


def pci_address(bus, slot, function=0):
    """A full PCI <address> (bus is libvirt's: a controller index)."""
    return ("<address type='pci' domain='0x0000' bus='0x%02x' slot='0x%02x' function='0x%x'/>"
            % (bus, slot, function))


EMPTY_PCI_ADDRESS = "<address type='pci'/>"
VIRTIO_MMIO_ADDRESS = "<address type='virtio-mmio'/>"


def disk_name(prefix, n):
    """The n-th (from 0) disk target name: vda ... vdz, vdaa, ..."""
    letters = ''
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        letters = chr(ord('a') + r) + letters
    return prefix + letters


def interface(model=None, alias_name=None, *extra, mac=None):
    """<interface type='network'> on the default network; `extra` children come last."""
    return element('interface', " type='network'", "<mac address='%s'/>" % mac if mac else '',
                   "<source network='default'/>", "<model type='%s'/>" % model if model else '',
                   alias(alias_name), *extra)


def virtio_disk(name, model=None, alias_name=None, *extra):
    """A raw file <disk> on the virtio bus, target `name`."""
    return element('disk', " type='file' device='disk'" + (" model='%s'" % model if model else ''),
                   "<driver name='qemu' type='raw'/>", "<source file='/var/lib/libvirt/images/%s.img'/>" % name,
                   "<target dev='%s' bus='virtio'/>" % name, alias(alias_name), *extra)


def pci_controller(model, index=None, *body):
    """<controller type='pci'>, with an index when given."""
    return element('controller', " type='pci'%s model='%s'" % ('' if index is None else " index='%d'" % index, model),
                   *body)


def plan_metadata(devices, spare_ports=None, prefix='pciplan'):
    """<metadata> with a <PREFIX:plan>: `devices` maps an alias to its constraint attributes
    (written sorted by alias and by name), `spare_ports` becomes spare-ports."""
    spare = '' if spare_ports is None else ' spare-ports="%d"' % spare_ports
    lines = ''.join('      <%s:device alias="%s"%s/>\n'
                    % (prefix, a, ''.join(' %s="%s"' % kv for kv in sorted(attrs.items())))
                    for a, attrs in sorted(devices.items()))
    return ('  <metadata>\n    <%s:plan xmlns:%s="urn:pciplan:plan:1"%s>\n%s    </%s:plan>\n  </metadata>\n'
            % (prefix, prefix, spare, lines, prefix))


def numa_cpu(cells, memory_kib):
    """<cpu> with `cells` NUMA cells of one vCPU each, sharing `memory_kib` evenly."""
    per = memory_kib // cells
    text = ''.join("      <cell id='%d' cpus='%d' memory='%d' unit='KiB'/>\n" % (c, c, per) for c in range(cells))
    return '  <cpu>\n    <numa>\n%s    </numa>\n  </cpu>\n' % text


def document(devices, name='t', arch='x86_64', machine='q35', domain_type='kvm', metadata='', memory_kib=None,
             vcpus=None, cpu='', emulator=None, firmware=None, features=''):
    """The <domain>: `devices` is the device blocks, `metadata`, `features` and `cpu` whole
    lines or ''; `firmware` becomes <os firmware=...> (e.g. 'efi')."""
    out = ["<domain type='%s'>\n" % domain_type, '  <name>%s</name>\n' % name, metadata]
    if memory_kib is not None:
        out.append("  <memory unit='KiB'>%d</memory>\n" % memory_kib)
    if vcpus is not None:
        out.append('  <vcpu>%d</vcpu>\n' % vcpus)
    out.append("  <os%s>\n    <type arch='%s' machine='%s'>hvm</type>\n  </os>\n"
               % (" firmware='%s'" % firmware if firmware else '', arch, machine))
    out += [features, cpu, '  <devices>\n']
    if emulator:
        out.append('    <emulator>%s</emulator>\n' % emulator)
    out += [devices, '  </devices>\n</domain>\n']
    return ''.join(out)
