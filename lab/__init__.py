"""rdma-lab: the software lab of rdma.ha_storage (QEMU/TCG VMs with Soft-RoCE, DRBD, LIO, SRP).

Stdlib only. Run it from the collection's root with the project's virtualenv:
``python -m lab <command>`` (or ``lab/labctl <command>``). See docs/lab.md.
"""

__version__ = "1.0.0"
