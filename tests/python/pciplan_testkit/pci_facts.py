"""The PCI facts of a libvirt domain, and the differences between two domains' facts.

The same comparison as tests/libvirt/pci_facts.hpp (the C++ conformance test's), in Python
for the development scripts that hold pciplan's libvirt policy against a real libvirt:
  - every <controller type='pci'>: index, model, <model name>, <target> chassisNr/chassis/
    port/busNr/index/hotplug and <node>, <address>;
  - every other <controller> (keyed by type + index, + model for the ICH9 USB2 companions
    that share an index) and every device with an <address type='pci'>: disks by <target
    dev>, interfaces by <mac>, other elements by name + position among the elements of
    that name.
Numbers compare by value (0x1f == 31 == 037); an index-less controller gets the index libvirt
would give it. `pci_differences(expected_root, got_root)` takes two ElementTree roots and
gives one sentence per difference ("KEY: expected ..., got ...", "KEY: missing ...",
"KEY: unexpected ..."), none when the facts are the same.
"""
import re


def number(text, base=0):
    """The value of `text` as C's strtoull reads it: base 0 (libvirt's addresses) is 0x hex,
    a leading 0 octal ('010' is 8), else decimal; base 10 (indexes) is decimal ('010' is
    10). None when it is not a whole non-negative number."""
    if text is None:
        return None
    t = text.strip()
    if base == 10:
        return int(t) if re.fullmatch(r'[0-9]+', t) else None
    if re.fullmatch(r'0[xX][0-9a-fA-F]+', t):
        return int(t[2:], 16)
    if re.fullmatch(r'0[0-7]*', t):
        return int(t, 8)
    return int(t) if re.fullmatch(r'[1-9][0-9]*', t) else None


def normalised(text, fmt, base=0):
    n = number(text, base)
    return text if n is None else fmt % n


def is_pci(v):
    return v.startswith('pci ')


def address_value(el):
    a = el.find('address')
    if a is None:
        return 'no address'
    t = a.get('type', '')
    if t != 'pci':
        return (t or 'untyped') + ' address'
    parts = [('domain', '%04x'), ('bus', '%02x'), ('slot', '%02x'), ('function', '%x')]
    text, all_zero = [], True
    for name, fmt in parts:
        v = a.get(name)
        text.append(normalised(v, fmt) if v is not None else fmt % 0)
        if v is not None and (number(v) if number(v) is not None else 1) != 0:
            all_zero = False
    out = 'pci (unassigned)' if all_zero else 'pci %s:%s:%s.%s' % tuple(text)
    if a.get('multifunction') == 'on':
        out += ' multifunction=on'
    return out


def same_address(a, b):
    return a == b or (not is_pci(a) and not is_pci(b))


USB2 = ('ich9-ehci1', 'ich9-uhci1', 'ich9-uhci2', 'ich9-uhci3')


def is_usb2_companion(t, m):
    return t == 'usb' and m in USB2


def controller_indexes(devices):
    all_ = []
    for c in devices.findall('controller'):
        e = {'type': c.get('type', ''), 'model': c.get('model', ''), 'index': None, 'text': None}
        if c.get('index') is not None:
            e['given'] = True
            e['index'] = number(c.get('index'), 10)
            e['text'] = str(e['index']) if e['index'] is not None else c.get('index')
        else:
            e['given'] = False
        all_.append(e)

    def taken(t, i):
        return any(e['type'] == t and e['index'] == i for e in all_)

    for i, e in enumerate(all_):
        if e['given']:
            continue
        chosen = None
        if is_usb2_companion(e['type'], e['model']):
            for j in range(i - 1, -1, -1):
                prev = all_[j]
                if prev['type'] != 'usb':
                    continue
                if is_usb2_companion(prev['type'], prev['model']) and prev['index'] is not None:
                    if not any(o['type'] == 'usb' and o['model'] == e['model'] and o['index'] == prev['index']
                               for o in all_):
                        chosen = prev['index']
                break
        if chosen is None:
            chosen = 0
            while taken(e['type'], chosen):
                chosen += 1
        e['index'] = chosen
        e['text'] = str(chosen)
    return [e['text'] for e in all_]


FIELD_ORDER = ('model', 'name', 'chassisNr', 'chassis', 'port', 'busNr', 'targetIndex', 'hotplug', 'node',
               'address')


def pci_controller_fields(c):
    out = {}
    if c.get('model') is not None:
        out['model'] = c.get('model')
    mn = c.find('model')
    if mn is not None and mn.get('name') is not None:
        out['name'] = mn.get('name')
    t = c.find('target')
    if t is not None:
        for key, attr, fmt in (('chassisNr', 'chassisNr', '%d'), ('chassis', 'chassis', '%d'),
                               ('port', 'port', '0x%02x'), ('busNr', 'busNr', '%d'),
                               ('targetIndex', 'index', '%d'), ('hotplug', 'hotplug', None)):
            v = t.get(attr)
            if v is not None:
                out[key] = normalised(v, fmt) if fmt else v
        node = t.find('node')
        if node is not None:
            out['node'] = normalised(node.text or '', '%d')
    out['address'] = address_value(c)
    return out


def pci_facts(root):
    """[(key, fact)], fact = {controller, pci_controller, has_pci_address, fields}."""
    devices = root.find('devices')
    if devices is None:
        return []
    indexes = controller_indexes(devices)
    out, per_name, per_key = [], {}, {}
    ci = 0
    for e in devices:
        if not isinstance(e.tag, str):
            continue
        name = e.tag
        pos = per_name.get(name, 0)
        per_name[name] = pos + 1
        a = e.find('address')
        f = {'controller': False, 'pci_controller': False,
             'has_pci_address': a is not None and a.get('type') == 'pci'}
        if name == 'controller':
            t, m = e.get('type', ''), e.get('model', '')
            f['controller'] = True
            f['pci_controller'] = t == 'pci'
            key = 'controller %s index=%s' % (t or '?', indexes[ci])
            ci += 1
            if is_usb2_companion(t, m):
                key += ' model=' + m
            f['fields'] = pci_controller_fields(e) if t == 'pci' else {'address': address_value(e)}
        else:
            tgt, mac = e.find('target'), e.find('mac')
            if name == 'disk' and tgt is not None and tgt.get('dev') is not None:
                key = 'disk ' + tgt.get('dev')
            elif name == 'interface' and mac is not None and mac.get('address') is not None:
                key = 'interface ' + mac.get('address').lower()
            else:
                key = '%s #%d' % (name, pos)
            f['fields'] = {'address': address_value(e)}
        seen = per_key.get(key, 0)
        per_key[key] = seen + 1
        if seen:
            key += ' #%d' % seen
        out.append((key, f))
    return out


def show_field(name, v):
    if name == 'address':
        if v is None:
            return 'no address'
        return 'at ' + v[4:] if is_pci(v) else v
    return 'no ' + name if v is None else '%s=%s' % (name, v)


def describe(f):
    if not f['pci_controller']:
        return f['fields'].get('address', 'no address')
    flds = f['fields']
    model = flds.get('model')
    parts = [model if model is not None else 'no model']
    for k in FIELD_ORDER:
        if k == 'model' or k not in flds:
            continue
        if k == 'name' and flds[k] == model:
            continue
        if k == 'address' and not is_pci(flds[k]):
            continue
        parts.append(show_field(k, flds[k]))
    return ' '.join(parts)


def pci_differences(expected_root, got_root):
    want, have = pci_facts(expected_root), pci_facts(got_root)
    want_by, have_by = {}, {}
    for k, f in want:
        want_by.setdefault(k, f)
    for k, f in have:
        have_by.setdefault(k, f)

    def relevant(a, b):
        return any(x is not None and (x['controller'] or x['has_pci_address']) for x in (a, b))

    out = []
    for k, w in want:
        h = have_by.get(k)
        if not relevant(w, h):
            continue
        if h is None:
            out.append('%s: missing (expected %s)' % (k, describe(w)))
            continue
        wp, hp = [], []
        for name in FIELD_ORDER:
            a, b = w['fields'].get(name), h['fields'].get(name)
            if name == 'address':
                same = same_address(a or 'no address', b or 'no address')
            else:
                same = a == b
            if same:
                continue
            if w['pci_controller'] or h['pci_controller']:
                wp.append(show_field(name, a))
                hp.append(show_field(name, b))
            else:
                wp.append(a or 'no address')
                hp.append(b or 'no address')
        if wp:
            out.append('%s: expected %s, got %s' % (k, ' '.join(wp), ' '.join(hp)))
    for k, h in have:
        if k in want_by or not relevant(h, None):
            continue
        out.append('%s: unexpected (got %s)' % (k, describe(h)))
    return out
