"""pciplan's Python test kit: what the Python tests and development scripts share.

Python 3 standard library only. A script finds the kit by a path relative to itself (and writes
no __pycache__ into the source tree):

    sys.dont_write_bytecode = True
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'python'))
    from pciplan_testkit import machines, random_domains, tool

One idea per module:

  machines        the machine types the tests cover (pc, q35, aarch64 virt, riscv64 virt)
  domain_xml      writers of libvirt domain XML: elements, addresses, metadata, the document
  random_domains  the random domain generator, with profiles (QEMU suite, libvirt differential,
                  libvirt fidelity)
  fidelity_domains  the libvirt fidelity profile's domains (random_domains calls it)
  tool            running the pciplan binary: status, stdout, stderr
  qmp             a minimal QMP client
  qemu            one QEMU process: command line for a plan, start, QMP, stop
  guest           a tiny Linux guest (the host's kernel, busybox, an initramfs) for tests
                  that need a guest OS to assign hot-plugged BARs
  qtree           QEMU's `info qtree` as a PCI topology, with firmware bus numbering
  plan_output     what `pciplan plan` says of one domain (json, qemu lines, tree ranges)
  qemu_checks     the QEMU suite's checks of one plan against the topology QEMU built
  qemu_case       the QEMU suite's case: plan a domain, start it, check it, report it
  hotplug_case    the hot-plug suite's guest: start it, hot-add devices where `pciplan attach
                  --live` says until it refuses, check each answer in QEMU, report it
  mutations       planned QEMU layouts made wrong on purpose (the validator agreement)
  pci_facts       the PCI facts of a libvirt domain and their comparison
"""
