"""The pciplan tool as users run it: exit status, standard output and standard error.

Usage: python3 cli_test.py PATH/TO/pciplan EXAMPLES_DIR
Each case runs the tool and checks the documented contract: 0 with the result on stdout,
1 when planning fails, 2 for usage errors and invalid input, and nothing on stdout
unless the status is 0. Prints one line per case and `N of M cases passed`.
The tool is run, and the domains are written, by the Python test kit (tests/python/).
"""
import json
import os
import sys
import tempfile
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'python'))
from pciplan_testkit import domain_xml as dx  # noqa: E402
from pciplan_testkit import tool  # noqa: E402

TOOL = sys.argv[1]
EXAMPLES = sys.argv[2]
failures = []
count = 0


def domain(devices, machine="q35", arch="x86_64", metadata=""):
    """A minimal domain: <name>t</name>, the metadata (whole lines), <os>, the devices."""
    return dx.document(devices, name="t", arch=arch, machine=machine, metadata=metadata)


def nic(model="virtio", alias=None, address=None):
    """An <interface>; `address`: the attributes of an <address type='pci'> after its type."""
    return dx.interface(model, alias, f"<address type='pci' {address}/>" if address else "")


def run(name, args, stdin=None, status=0, stdout_has=None, stderr_has=None, check=None, report=False):
    """report: the command's result is a report on stdout whatever the status (check)."""
    global count
    count += 1
    returned, out, err = tool.run(TOOL, args, stdin)
    problems = []
    if returned != status:
        problems.append(f"exit status {returned}, expected {status}")
    if status != 0 and out and not report:
        problems.append(f"stdout is not empty: {out[:120]!r}")
    if status != 0 and not err.strip() and not report:
        problems.append("stderr says nothing")
    for want in ([stdout_has] if isinstance(stdout_has, str) else stdout_has or []):
        if want not in out:
            problems.append(f"stdout lacks {want!r}")
    for want in ([stderr_has] if isinstance(stderr_has, str) else stderr_has or []):
        if want not in err:
            problems.append(f"stderr lacks {want!r}: {err[:300]!r}")
    if check and not problems:
        try:
            check(out)
        except Exception as e:  # noqa: BLE001 — any failure of the check fails the case
            problems.append(f"check failed: {e}")
    print(("ok   " if not problems else "FAIL ") + name + ("" if not problems else ": " + "; ".join(problems)))
    if problems:
        failures.append(name)


def with_file(text, binary=False):
    f = tempfile.NamedTemporaryFile("wb" if binary else "w", suffix=".xml", delete=False)
    f.write(text)
    f.close()
    return f.name


# ---- usage -----------------------------------------------------------------------
run("help", ["--help"], stdout_has=["usage: pciplan plan", "exit status", "--format", "--policy"])
run("plan --help", ["plan", "--help"], stdout_has="usage: pciplan plan")
run("no command", [], status=2, stderr_has="no command")
run("unknown command", ["frobnicate"], status=2, stderr_has="unknown command")
run("unknown option", ["plan", "--frob", "x.xml"], status=2, stderr_has="unknown option '--frob'")
run("bad policy", ["plan", "--policy", "qemu", "x.xml"], status=2, stderr_has="--policy must be")
run("bad format", ["plan", "--format", "yaml", "x.xml"], status=2, stderr_has="--format must be")
run("bad spare ports", ["plan", "--spare-ports", "many", "x.xml"], status=2, stderr_has="--spare-ports needs")
run("option without value", ["plan", "--policy"], status=2, stderr_has="needs a value")
run("no file", ["plan"], status=2, stderr_has="no FILE")
run("two files", ["plan", "a.xml", "b.xml"], status=2, stderr_has="only one FILE")
run("missing file", ["plan", "/nonexistent/dom.xml"], status=2, stderr_has="cannot open /nonexistent/dom.xml")

# ---- invalid input: exit 2, nothing on stdout ---------------------------------------
run("malformed xml", ["plan", "-"], stdin=b"<domain><os>", status=2, stderr_has=["not well-formed", "line 1"])
run("binary junk", ["plan", "-"], stdin=bytes(range(256)) * 64, status=2, stderr_has="pciplan: <stdin>:")
run("empty input", ["plan", "-"], stdin=b"", status=2, stderr_has="pciplan: <stdin>:")
run("not a domain", ["plan", "-"], stdin=b"<network><name>x</name></network>", status=2,
    stderr_has="not a libvirt domain")
run("no os type", ["plan", "-"], stdin=b"<domain><devices/></domain>", status=2, stderr_has="<os><type")
run("unknown machine", ["plan", "-"], stdin=domain("", machine="isapc").encode(), status=2,
    stderr_has=["<type> at line 4", "machine type 'isapc'"])
run("unknown arch", ["plan", "-"], stdin=domain("", arch="m68k", machine="q800").encode(), status=2,
    stderr_has="arch 'm68k'")
run("duplicate alias", ["plan", "-"], stdin=domain(nic(alias="ua-a") + nic(alias="ua-a")).encode(), status=2,
    stderr_has=["<interface> at line 12: alias 'ua-a' is used by two devices"])
run("slot out of range", ["plan", "-"],
    stdin=domain(nic(address="domain='0x0000' bus='0x00' slot='0x20' function='0x0'")).encode(), status=2,
    stderr_has=["<address> at line", "slot='0x20' is out of range"])
run("function not a number", ["plan", "-"],
    stdin=domain(nic(address="bus='0x00' slot='0x03' function='x'")).encode(), status=2,
    stderr_has="function='x' is not a number")
run("duplicate address", ["plan", "--policy", "libvirt", "-"],
    stdin=domain(nic(model="e1000", address="bus='0x00' slot='0x05' function='0x0'") +
                 nic(model="e1000", address="bus='0x00' slot='0x05' function='0x0'"), machine="pc").encode(),
    status=2, stderr_has="already in use")
# a bus no controller provides is added, as libvirt adds it (RULES.md L4.3); a slot that no
# controller added there has is refused, as libvirt refuses it
run("address on a missing bus", ["plan", "-"],
    stdin=domain(nic(address="bus='0x07' slot='0x00' function='0x0'"), machine="q35").encode(),
    stdout_has=["<controller type='pci' index='7' model='pcie-root-port'>",
                "<address type='pci' domain='0x0000' bus='0x07' slot='0x00' function='0x0'/>"])
run("address on a missing bus, at a slot its controller lacks", ["plan", "--policy", "libvirt", "-"],
    stdin=domain(nic(address="bus='0x07' slot='0x03' function='0x0'"), machine="q35").encode(), status=2,
    stderr_has="net0: has an address on a slot its bus does not have")
run("duplicate controller index", ["plan", "-"],
    stdin=domain(dx.pci_controller("pcie-root-port", 1) + dx.pci_controller("pcie-root-port", 1)).encode(),
    status=2, stderr_has="index 1 is used twice")
run("unknown controller model", ["plan", "-"],
    stdin=domain(dx.pci_controller("pcie-frobnicator", 1)).encode(), status=2,
    stderr_has="unknown PCI controller model 'pcie-frobnicator'")
run("wrong root", ["plan", "-"], stdin=domain(dx.pci_controller("pcie-root", 0),
                                              machine="pc").encode(), status=2, stderr_has="root")
meta = dx.plan_metadata({"ua-old": {"link": "pcie"}}, prefix="pp")
run("contradicting constraint", ["plan", "-"], stdin=domain(nic(model="e1000", alias="ua-old"), metadata=meta).encode(),
    status=2, stderr_has=["ua-old", "conventional PCI only"])
run("constraint for a missing alias", ["plan", "-"], stdin=domain(nic(alias="ua-x"), metadata=meta).encode(), status=2,
    stderr_has="no PCI device has alias 'ua-old'")
bad_meta = dx.plan_metadata({"ua-old": {"hotplug": "sometimes"}}, prefix="pp")
run("bad constraint value", ["plan", "-"], stdin=domain(nic(alias="ua-old"), metadata=bad_meta).encode(), status=2,
    stderr_has="hotplug must be 'yes' or 'no'")
run("deeply nested", ["plan", "-"], stdin=(domain("").replace("</devices>", "<x>" * 100000 + "</x>" * 100000 +
                                                            "</devices>")).encode(), status=2,
    stderr_has="more than 64 levels")
huge = with_file(domain("    <!-- " + "x" * (65 << 20) + " -->\n"))
run("huge document", ["plan", huge], status=2, stderr_has="larger than 64 MiB")
os.unlink(huge)

# ---- planning fails: exit 1 ---------------------------------------------------------
many = "".join(f"    <disk type='file'><source file='/d{i}'/><target dev='vd{i}' bus='virtio'/></disk>\n"
               for i in range(40))
run("microvm runs out of virtio-mmio transports", ["plan", "-"], stdin=domain(many, machine="microvm").encode(),
    status=1, stderr_has="virtio-mmio transport")
ports = dx.pci_controller("pcie-root", 0) + "".join(dx.pci_controller("pcie-root-port") for _ in range(241))
run("too many root ports (libvirt)", ["plan", "--policy", "libvirt", "-"], stdin=domain(ports).encode(), status=1,
    stderr_has="controller")

# ---- success ------------------------------------------------------------------------
desktop = os.path.join(EXAMPLES, "q35-desktop.xml")


def xml_with_addresses(out):
    root = ET.fromstring(out)
    devs = root.find("devices")
    assert devs.find("interface/address").get("type") == "pci"
    assert any(c.get("model") == "pcie-root-port" for c in devs.findall("controller"))
    assert root.find("name").text == "fedora-desktop"


def qemu_lines(out):
    lines = out.splitlines()
    assert lines and all(line.startswith("-device ") for line in lines), lines[:3]
    assert any("id=net0" in line for line in lines)


def json_plan(out):
    doc = json.loads(out)
    assert doc["machine"] == "q35", doc["machine"]
    assert any(d["name"] == "net0" for d in doc["devices"])


run("xml", ["plan", desktop], check=xml_with_addresses)
run("xml from stdin", ["plan", "-"], stdin=open(desktop, "rb").read(), check=xml_with_addresses)
run("qemu", ["plan", "--format", "qemu", desktop], check=qemu_lines)
run("tree", ["plan", "--format", "tree", desktop], stdout_has=["pcie-root-port", "net0 virtio-net-pci"])
run("json", ["plan", "--format", "json", desktop], check=json_plan)
run("explain xml", ["plan", "--explain", desktop], stdout_has="<!-- net0 is at", check=lambda out: ET.fromstring(out))
run("explain tree", ["plan", "--explain", "--format", "tree", desktop], stdout_has="# net0 is at")
run("spare ports", ["plan", "--spare-ports", "0", "--format", "json", desktop],
    check=lambda out: json.loads(out))
run("qemu with NUMA nodes: -object and -numa lines first", ["plan", "--format", "qemu",
    os.path.join(EXAMPLES, "q35-numa.xml")],
    check=lambda out: out.startswith("-object memory-backend-ram,id=ram-node0,size=8388608K\n"
                                     "-numa node,nodeid=0,memdev=ram-node0\n-numa node,nodeid=1\n-device ") or
    (_ for _ in ()).throw(AssertionError(out[:200])))
run("qemu on q35: the built-in SATA controller gets no -device", ["plan", "--format", "qemu", desktop],
    check=lambda out: "ich9-ahci" not in out or (_ for _ in ()).throw(AssertionError("ich9-ahci emitted")))
run("libvirt policy", ["plan", "--policy", "libvirt", "--format", "tree", desktop], stdout_has="pcie-root-port")

# ---- BARs and the hot-plug budget: --hotplug-budget, metadata hotplug-budget and bars ----
gpu = ("    <hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x0000' bus='0x41' "
       "slot='0x00' function='0x0'/></source><alias name='ua-gpu'/></hostdev>\n")


def gpu_domain(plan_attributes='spare-ports="2" hotplug-budget="mem32:16M,pref64:64G"',
               gpu_bars="mem32:16M,pref64:32G,pref64:32M"):
    meta = ('  <metadata>\n    <pp:plan xmlns:pp="urn:pciplan:plan:1" %s>\n'
            '      <pp:device alias="ua-gpu" bars="%s"/>\n    </pp:plan>\n  </metadata>\n' % (plan_attributes, gpu_bars))
    return dx.document(gpu, name="t", metadata=meta, memory_kib=16 << 20).encode()


def budget_reserves(out):
    """qemu output for gpu_domain(): the 64-bit hole first, then two spare root ports that
    reserve 30 MiB (16 + 16 - 2) of 32-bit memory and 128 GiB - 2 MiB of 64-bit memory."""
    lines = out.splitlines()
    assert lines[0].startswith("-global q35-pcihost.pci-hole64-size="), lines[:2]
    assert int(lines[0].split("=")[1].rstrip("G")) > 2 * 128 + 32, lines[0]   # two reserves and the GPU's BARs
    ports = [line for line in lines if "reserve=" in line and "io-reserve=0" not in line]
    assert len(ports) == 2, ports
    for line in ports:
        assert line.startswith("-device pcie-root-port,") and "mem-reserve=30M" in line, line
        assert "pref64-reserve=131070M" in line, line


def xml_mem_reserve(out):
    """XML output for gpu_domain(): libvirt's memReserve (KiB) on the two spare ports, and
    no attribute for what libvirt cannot say (pref64-reserve)."""
    targets = [c.find("target") for c in ET.fromstring(out).find("devices").findall("controller")]
    reserves = [t.get("memReserve") for t in targets if t is not None and t.get("memReserve")]
    assert reserves == ["30720", "30720"], reserves
    assert all(not k.lower().startswith(("pref", "io")) for t in targets if t is not None for k in t.keys()), targets


run("help: --hotplug-budget", ["--help"], stdout_has=["--hotplug-budget SPEC", 'bars="mem32:16M,pref64:32G,pref64:32M"',
                                                       'hotplug-budget="mem32:16M,pref64:64G"'])
run("metadata hotplug-budget: qemu reserves and the 64-bit hole", ["plan", "--format", "qemu", "-"],
    stdin=gpu_domain(), check=budget_reserves)
run("metadata hotplug-budget: xml memReserve only", ["plan", "-"], stdin=gpu_domain(), check=xml_mem_reserve)
run("--hotplug-budget overrides the metadata's", ["plan", "--format", "qemu", "--hotplug-budget", "pref64:8G", "-"],
    stdin=gpu_domain(), stdout_has="pref64-reserve=16382M",
    check=lambda out: "mem-reserve" not in out or (_ for _ in ()).throw(AssertionError("mem-reserve emitted")))
run("--hotplug-budget without metadata", ["plan", "--format", "qemu", "--hotplug-budget", "mem32:16M,pref64:64G", "-"],
    stdin=gpu_domain(plan_attributes='spare-ports="2"'), check=budget_reserves)
run("bad --hotplug-budget: exit 2 naming the entry", ["plan", "--hotplug-budget", "mem32:16M,pref64:lots", desktop],
    status=2, stderr_has="--hotplug-budget 'mem32:16M,pref64:lots' is not a BAR list: BAR entry 'pref64:lots': the "
    "size must be a number of bytes, or a number with K, M, G or T")
run("bad --hotplug-budget space", ["plan", "--hotplug-budget", "vram:1G", desktop], status=2,
    stderr_has="BAR entry 'vram:1G': the space must be io, mem32, mem64, pref32 or pref64")
run("--hotplug-budget needs a value", ["plan", "--hotplug-budget"], status=2, stderr_has="--hotplug-budget needs a value")
budget_layout = (b"-m 4G\n"
                 b"-device pcie-root-port,id=rp1,chassis=1,bus=pcie.0,addr=0x2,pref64-reserve=16382M\n"
                 b"-device pcie-root-port,id=rp2,chassis=2,bus=pcie.0,addr=0x3,pref64-reserve=8G\n")
run("check --hotplug-budget: the port that cannot take it, and the reserve that would",
    ["check", "--machine", "q35", "--hotplug-budget", "pref64:8G", "-"], stdin=budget_layout, report=True,
    stdout_has=["<stdin>:3: warning: -device pcie-root-port,id=rp2", "cannot hold the hot-plug budget's BARs",
                "set pref64-reserve=16382M [qemu rule 29]", "0 errors, 1 warning:"])
run("check without a budget: no such warning", ["check", "--machine", "q35", "-"], stdin=budget_layout, report=True,
    stdout_has="0 errors, 0 warnings")
run("check: bad --hotplug-budget is a usage error", ["check", "--machine", "q35", "--hotplug-budget", "pref64", "-"],
    stdin=budget_layout, status=2, stderr_has="BAR entry 'pref64': an entry is space:size")
run("bad metadata bars: exit 2 naming the attribute and the entry", ["plan", "-"],
    stdin=gpu_domain(gpu_bars="mem32:16M,pref64"), status=2,
    stderr_has="<pp:device> at line 5: attribute bars='mem32:16M,pref64': BAR entry 'pref64': an entry is space:size")
run("bad metadata hotplug-budget", ["plan", "-"], stdin=gpu_domain(plan_attributes='hotplug-budget="pref64:0"'),
    status=2, stderr_has="attribute hotplug-budget='pref64:0': BAR entry 'pref64:0': the size must be more than 0")
run("<shmem> size not a power of two: exit 2 naming the device", ["plan", "-"],
    stdin=domain("    <shmem name='lg'><model type='ivshmem-plain'/><size unit='M'>48</size></shmem>\n").encode(),
    status=2, stderr_has="<shmem> at line 7: the size of shmem 'lg', 50331648 bytes, is not a power of two")
run("<shmem> size: BAR 2 in the 64-bit hole", ["plan", "--format", "qemu", "-"],
    stdin=domain("    <shmem name='lg'><model type='ivshmem-plain'/><size unit='G'>64</size></shmem>\n").encode(),
    stdout_has=["-global q35-pcihost.pci-hole64-size=", "-device ivshmem-plain,id=shmem0,"])
# libvirt's answer that QEMU cannot build (RULES.md L2.4): an lsilogic controller moved
# onto virtio-mmio beside a virtio-mmio rng; xml has it with a warning, qemu refuses
lsi_on_mmio = domain("<rng model='virtio'><backend model='random'>/dev/urandom</backend>"
                     "<address type='virtio-mmio'/></rng>\n<controller type='scsi' model='lsilogic'/>\n",
                     machine="virt", arch="aarch64").encode()
run("libvirt answer QEMU cannot build: xml, with the warning", ["plan", "--policy", "libvirt", "-"],
    stdin=lsi_on_mmio, stdout_has="<address type='virtio-mmio'/>",
    stderr_has="pciplan: warning: libvirt moves devices that have no virtio-mmio variant")
run("libvirt answer QEMU cannot build: no qemu arguments", ["plan", "--policy", "libvirt", "--format", "qemu", "-"],
    stdin=lsi_on_mmio, status=2, stderr_has="<stdin>: no QEMU arguments: libvirt moves devices")
run("the same domain under the pciplan policy: qemu arguments", ["plan", "--format", "qemu", "-"],
    stdin=lsi_on_mmio, stdout_has="-device lsi53c895a,id=scsi0")
run("NUMA constraints under the libvirt policy", ["plan", "--policy", "libvirt", os.path.join(EXAMPLES, "q35-numa.xml")],
    status=2, stderr_has="libvirt does not place devices by NUMA node")
for name in sorted(os.listdir(EXAMPLES)):
    if name.endswith(".xml"):
        for policy in ("libvirt", "pciplan"):
            if policy == "libvirt" and name == "q35-numa.xml":
                continue
            run(f"example {name} ({policy})", ["plan", "--policy", policy, os.path.join(EXAMPLES, name)],
                check=lambda out: ET.fromstring(out))

# pciplan check: a hand-written layout against QEMU's rules
MACHINE_OF = {"q35-desktop.xml": "q35", "q35-numa.xml": "q35", "pc-40-disks.xml": "pc", "aarch64-server.xml": "virt"}
for name, machine in sorted(MACHINE_OF.items()):
    for policy in ("libvirt", "pciplan"):
        if policy == "libvirt" and name == "q35-numa.xml":
            continue
        planned = tool.run(TOOL, ["plan", "--policy", policy, "--format", "qemu", os.path.join(EXAMPLES, name)]).stdout
        run(f"check: the planned {name} ({policy}) passes on {machine}", ["check", "--machine", machine, "-"],
            stdin=planned, stdout_has=["0 errors, 0 warnings: QEMU accepts this layout"])
clash = b"-device e1000,id=a,addr=0x3\n# a comment\n-device '{\"driver\":\"virtio-net-pci\",\"addr\":\"0x3\"}'\n"
run("check: a refused layout exits 1 with QEMU's words, file and line", ["check", "--machine", "q35", with_file(clash, binary=True)],
    status=1, report=True,
    stdout_has=[":3: error: -device {\"driver\":\"virtio-net-pci\",\"addr\":\"0x3\"}: PCI: slot 3 function 0 "
                "not available for virtio-net-pci, in use by e1000,id=a [qemu rule 1]", "QEMU refuses this layout"])
run("check: warnings alone exit 0", ["check", "--machine", "q35", "-"], stdin=b"-device e1000e,addr=0x4\n",
    stdout_has=["warning: -device e1000e,addr=0x4:", "[qemu rule 7]", "0 errors, 1 warning: QEMU accepts"])
run("check: ARCH:MACHINE", ["check", "--machine", "riscv64:virt", "-"], stdin=b"-device e1000,addr=0x0\n", status=1,
    report=True, stdout_has="in use by gpex-root,id=(null)")
run("check: --machine is required", ["check", "-"], stdin=b"", status=2, stderr_has="check needs --machine")
run("check: unknown machine", ["check", "--machine", "isapc", "-"], stdin=b"", status=2,
    stderr_has="--machine 'isapc' is not a machine pciplan checks")
run("check: plan's options are refused", ["check", "--machine", "q35", "--policy", "libvirt", "-"], stdin=b"", status=2,
    stderr_has="unknown option '--policy' for check")
run("check: unreadable file", ["check", "--machine", "q35", "/nonexistent/layout"], status=2, stderr_has="cannot open")

# pciplan show: a plan written as JSON, read back and printed without the domain
numa_json = tool.run(TOOL, ["plan", "--format", "json", os.path.join(EXAMPLES, "q35-numa.xml")]).stdout
numa_qemu = tool.run(TOOL, ["plan", "--format", "qemu", os.path.join(EXAMPLES, "q35-numa.xml")]).stdout
numa_tree = tool.run(TOOL, ["plan", "--format", "tree", os.path.join(EXAMPLES, "q35-numa.xml")]).stdout
plan_file = with_file(numa_json)
run("show: a plan's QEMU lines, as plan --format qemu wrote them (NUMA lines from the plan)", ["show", plan_file],
    check=lambda out: out.startswith("-object memory-backend-ram,id=ram-node0,size=128M\n") and
    out.split("\n", 3)[3] == numa_qemu.split("\n", 3)[3] or (_ for _ in ()).throw(AssertionError(out[:300])))
run("show: tree", ["show", "--format", "tree", plan_file],
    check=lambda out: out == numa_tree or (_ for _ in ()).throw(AssertionError(out[:300])))
run("show: json is written back unchanged", ["show", "--format", "json", "-"], stdin=numa_json,
    check=lambda out: out == numa_json or (_ for _ in ()).throw(AssertionError("differs")))
planned_show = tool.run(TOOL, ["show", plan_file]).stdout
run("check: the lines of show pass", ["check", "--machine", "q35", "-"], stdin=planned_show,
    stdout_has="0 errors, 0 warnings: QEMU accepts this layout")
os.unlink(plan_file)
run("show: not JSON: line and column", ["show", "-"], stdin=b'{"format": "pciplan-plan",\n "version": 1,,}', status=2,
    stderr_has="pciplan: <stdin>: plan JSON, line 2, column 15: ")
run("show: not a plan: where", ["show", "-"], stdin=numa_json.replace('"machine": "q35"', '"machine": "vax"').encode(),
    status=2, stderr_has="pciplan: <stdin>: plan JSON, machine: 'vax' is not a machine type pciplan knows")
run("show: xml is not a show format", ["show", "--format", "xml", "-"], stdin=b"", status=2,
    stderr_has="show --format must be qemu, tree or json")
run("show: plan's options are refused", ["show", "--policy", "libvirt", "-"], stdin=b"", status=2,
    stderr_has="unknown option '--policy' for show")

# pciplan attach / detach: a device into a domain's definition or its running guest
running = with_file(tool.run(TOOL, ["plan", desktop]).stdout)  # every address given; spare root ports 7 to 10
new_nic = with_file("<interface type='user'>\n  <mac address='52:54:00:aa:bb:cc'/>\n  <model type='virtio'/>\n"
                    "</interface>\n")


def pci_address_of(out):
    element = ET.fromstring(out)
    a = element.find("address")
    assert a is not None and a.get("type") == "pci", out
    return tuple(int(a.get(k), 16) for k in ("domain", "bus", "slot", "function"))


run("attach --live: the device element with the address of a spare port", ["attach", "--live", running, new_nic],
    check=lambda out: pci_address_of(out)[1:] == (7, 0, 0) or (_ for _ in ()).throw(AssertionError(out)))
run("attach --live --format qmp: the device_add command", ["attach", "--live", "--format", "qmp", running, new_nic],
    stdout_has='{"execute":"device_add","arguments":{"driver":"virtio-net-pci","id":"net1","bus":"pci.7","addr":"0x0"}}')
run("attach --live --format hmp", ["attach", "--live", "--format", "hmp", running, new_nic],
    stdout_has="device_add virtio-net-pci,id=net1,bus=pci.7,addr=0x0\n")
run("attach --live --format json: the guest's plan with the device", ["attach", "--live", "--format", "json", running, new_nic],
    check=lambda out: [d for d in json.loads(out)["devices"] if d["name"] == "net1"] or
    (_ for _ in ()).throw(AssertionError("net1 missing")))
run("attach --live, device from standard input, libvirt policy", ["attach", "--live", "--policy", "libvirt", running, "-"],
    stdin=b"<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>", check=pci_address_of)
run("attach (config): planned into the definition", ["attach", running, new_nic], check=pci_address_of)
# fill the four spare ports one by one, then the fifth is refused (exit 1) in the running guest,
# not in the definition
full = open(running).read()
full_file = with_file(full)
for mac in ("01", "02", "03", "04"):
    placed = tool.run(TOOL, ["attach", "--live", full_file, "-"],
                      stdin=f"<interface type='user'><mac address='52:54:00:00:aa:{mac}'/><model type='virtio'/></interface>".encode())
    assert placed[0] == 0, placed
    full = full.replace("</devices>", "  " + placed[1].strip() + "\n  </devices>")
    with open(full_file, "w") as f:
        f.write(full)
run("attach --live: no spare port left: exit 1, the device and the reason", ["attach", "--live", full_file, new_nic],
    status=1, stderr_has="has no free hot-pluggable slot left in the running guest")
run("attach (config) of the same: a new root port in the definition", ["attach", full_file, new_nic],
    check=pci_address_of, stderr_has="pciplan: note: the definition also gets controller index")
run("attach --live on pcie.0: not hot-pluggable", ["attach", "--live", running, "-"],
    stdin=b"<interface type='user'><model type='virtio'/>"
          b"<address type='pci' domain='0' bus='0' slot='0x1d' function='0'/></interface>",
    status=1, stderr_has="would go on a bus that does not take hot-plugged devices")
run("attach --live of a PCI controller: refused", ["attach", "--live", running, "-"],
    stdin=b"<controller type='pci' model='pcie-root-port'/>", status=1, stderr_has="cannot be hot-added")
run("attach --live: a definition without addresses is not a running guest", ["attach", "--live", desktop, new_nic],
    status=2, stderr_has="is not a running guest's definition")
run("attach: two elements", ["attach", running, "-"], stdin=b"<a/><b/>", status=2, stderr_has="exactly one element")
run("attach: needs DEVICE", ["attach", running], status=2, stderr_has="attach needs DOMAIN and DEVICE")
run("attach: qmp needs --live", ["attach", "--format", "qmp", running, new_nic], status=2, stderr_has="needs --live")
run("attach: tree is not an attach format", ["attach", "--format", "tree", running, new_nic], status=2,
    stderr_has="attach --format must be xml, qmp, hmp or json")
run("--live belongs to attach and detach", ["plan", "--live", desktop], status=2, stderr_has="--live belongs to")
by_address = b"<interface type='network'><address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/></interface>"
run("detach: the domain without the device", ["detach", running, "-"], stdin=by_address,
    check=lambda out: ET.fromstring(out).find("devices/interface") is None or
    (_ for _ in ()).throw(AssertionError("interface still there")))
run("detach --live --format qmp: device_del", ["detach", "--live", "--format", "qmp", running, "-"], stdin=by_address,
    stdout_has='{"execute":"device_del","arguments":{"id":"net0"}}\n')
run("detach --live of the integrated SATA controller: exit 1", ["detach", "--live", running, "-"],
    stdin=b"<controller type='sata'><address type='pci' domain='0' bus='0' slot='0x1f' function='2'/></controller>",
    status=1, stderr_has="cannot be unplugged")
run("detach: no such device", ["detach", running, "-"], stdin=b"<interface type='network'><mac address='00:00:00:00:00:01'/></interface>",
    status=2, stderr_has="no device of the domain is the one the device element names")
# pc: pci.0 takes hot-plugged devices only with ACPI (QEMU 7.2 without it: "Bus 'pci.0' does not
# support hotplugging"); a pci-bridge still does
for acpi, status in (("  <features><acpi/></features>\n", 0), ("", 1)):
    pc_running = with_file(tool.run(TOOL, ["plan", "--policy", "libvirt", "-"],
                                    stdin=dx.document(nic("e1000"), name="t", machine="pc", features=acpi).encode())[1])
    run(f"attach --live on pc {'with' if acpi else 'without'} ACPI", ["attach", "--live", "--policy", "libvirt",
        pc_running, new_nic], status=status,
        stderr_has=None if status == 0 else "would go on a bus that does not take hot-plugged devices")
    os.unlink(pc_running)
# a running domain's XML gives the ICH9 USB2 companions their EHCI's alias
usb2 = "".join(
    f"    <controller type='usb' index='0' model='{m}'><alias name='usb'/>{master}"
    f"<address type='pci' domain='0' bus='0' slot='0x1d' function='{f}'/></controller>\n"
    for m, f, master in (("ich9-ehci1", 7, ""), ("ich9-uhci1", 0, "<master startport='0'/>"),
                         ("ich9-uhci2", 1, "<master startport='2'/>"), ("ich9-uhci3", 2, "<master startport='4'/>")))
usb2_running = with_file(tool.run(TOOL, ["plan", "--policy", "libvirt", "-"],
                                  stdin=domain(usb2 + "    <controller type='usb' index='1' model='qemu-xhci'>"
                                               "<alias name='usb1'/></controller>\n").encode())[1])
run("attach --live: USB2 companions sharing their EHCI's alias", ["attach", "--live", "--policy", "libvirt",
    usb2_running, new_nic], check=pci_address_of)
run("attach --live --policy libvirt of a USB controller: libvirt hot-plugs SCSI controllers only",
    ["attach", "--live", "--policy", "libvirt", usb2_running, "-"], stdin=b"<controller type='usb' model='qemu-xhci'/>",
    status=1, stderr_has="'usb' controller cannot be hot plugged")
run("attach --live --policy pciplan of a USB controller: QEMU takes it", ["attach", "--live", usb2_running, "-"],
    stdin=b"<controller type='usb' index='2' model='qemu-xhci'/>", check=pci_address_of)
run("attach --live of a display adapter: QEMU does not hot-plug it", ["attach", "--live", usb2_running, "-"],
    stdin=b"<video><model type='virtio'/></video>", status=1, stderr_has="is a device QEMU does not hot-plug")
os.unlink(usb2_running)
# aarch64 with a virtio-mmio device: libvirt's config path follows it onto virtio-mmio, its live path uses PCI
mmio_running = with_file(tool.run(TOOL, ["plan", "--policy", "libvirt", "-"], stdin=domain(
    "<rng model='virtio'><backend model='random'>/dev/urandom</backend><address type='virtio-mmio'/></rng>\n"
    "<controller type='pci' index='0' model='pcie-root'/>\n<controller type='pci' index='1' model='pcie-root-port'/>\n",
    machine="virt", arch="aarch64").encode())[1])
rng = b"<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>"
run("attach (config) on virt with virtio-mmio: virtio-mmio, as libvirt", ["attach", "--policy", "libvirt",
    mmio_running, "-"], stdin=rng, stdout_has="<address type='virtio-mmio'")
run("attach --live on virt with virtio-mmio: PCI, as libvirt", ["attach", "--live", "--policy", "libvirt",
    mmio_running, "-"], stdin=rng, check=pci_address_of)
os.unlink(mmio_running)
for f in (running, new_nic, full_file):
    os.unlink(f)

print(f"{count - len(failures)} of {count} cases passed")
sys.exit(1 if failures else 0)
