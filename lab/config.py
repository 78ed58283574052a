"""What the lab is made of: VMs, networks, addresses, MACs (pure data and pure functions)."""

from __future__ import annotations

import functools
import hashlib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

TOP = Path(os.environ.get("RDMA_TOP") or Path(__file__).resolve().parent.parent)
LAB_DIR = Path(__file__).resolve().parent
# The BMC service and the relay QEMU starts per guest connection (lab/runtime.py, lab/qemu.py)
BMC_SCRIPT = LAB_DIR / "bmc.py"
CACHE = Path(os.environ.get("RDMA_CACHE") or TOP / ".cache")
LAB_CACHE = CACHE / "lab"
IMAGE_DIR = LAB_CACHE / "image"
RUN_DIR = LAB_CACHE / "run"
DEB_CACHE = LAB_CACHE / "debs"

# Management network: QEMU user networking (slirp) with restrict=on, so the guest reaches
# nothing outside; the only way in is the ssh port forwarded to 127.0.0.1 on the controller.
MGMT_GUEST_ADDRESS = "10.0.2.15/24"
SSH_PORT_BASE = 2270
# The lab's BMC (lab/bmc.py, docs/lab-fencing.md): one Redfish service per lab on the controller's
# loopback (the first free port from BMC_PORT_BASE); the storage VMs reach it at
# https://BMC_GUEST_ADDRESS:BMC_GUEST_PORT through their management netdev (slirp guestfwd).
BMC_PORT_BASE = 2279
BMC_GUEST_ADDRESS = "10.0.2.100"
BMC_GUEST_PORT = 443
BMC_USERNAME = "rdma-lab"


@dataclass(frozen=True)
class Net:
    """A private L2 network between VMs: one vde_switch (unix sockets only, no host IP address)."""

    name: str          # model network name and QEMU netdev id
    index: int         # third octet of the MACs and addresses
    netdev: str        # guest netdev name (eth1, eth2)
    cidr: str
    purpose: str       # fabric model purpose: client | replication

    @property
    def prefixlen(self) -> int:
        return int(self.cidr.split("/")[1])

    def address(self, host: int) -> str:
        base = self.cidr.split("/")[0].rsplit(".", 1)[0]
        return f"{base}.{host}"


FABRIC = Net("fabric", 1, "eth1", "10.77.1.0/24", "client")
REPLICATION = Net("replication", 2, "eth2", "10.77.2.0/24", "replication")
NETS = (FABRIC, REPLICATION)


@dataclass(frozen=True)
class VM:
    name: str
    kind: str          # storage | initiator
    host: int          # last octet of its addresses, last byte of its MACs
    memory_mb: int
    nets: tuple = field(default=())
    # Extra disks, (role, MiB) in PCI slot order, so the guest names them /dev/vdb, /dev/vdc, ...
    # (DISK_DEVICES): data = vol0's backing device, scratch = tests that need a disk of their own,
    # data1 = vol1's backing device.
    disks: tuple = field(default=())

    @property
    def data_disk_mb(self) -> int:
        return dict(self.disks).get("data", 0)

    def mac(self, index: int) -> str:
        """Fixed MAC of NIC `index` (0 = management eth0, 1 = fabric eth1, 2 = replication eth2)."""
        return mac_for(index, self.host)

    @property
    def machine_id(self) -> str:
        return hashlib.sha256(f"rdma-lab {self.name}".encode()).hexdigest()[:32]


STORAGE_DISKS = (("data", 256), ("scratch", 16), ("data1", 32))
DISK_DEVICES = {"data": "/dev/vdb", "scratch": "/dev/vdc", "data1": "/dev/vdd"}
VMS = (
    VM("storage-a", "storage", 11, 768, (FABRIC, REPLICATION), STORAGE_DISKS),
    VM("storage-b", "storage", 12, 768, (FABRIC, REPLICATION), STORAGE_DISKS),
    VM("initiator-1", "initiator", 21, 512, (FABRIC,)),
)
HA_PAIR = {"name": "lab", "nodes": ["storage-a", "storage-b"], "initial_primary": "storage-a"}
# Who runs the pair (the model's ha_pairs[].cluster_manager): `lab up --cluster-manager`. Pacemaker
# (the cluster role, fencing through the lab's BMC) by default; none leaves promotion to the
# playbooks (the drbd and srp_target roles start the initial Primary).
CLUSTER_MANAGERS = ("pacemaker", "none")
DEFAULT_CLUSTER_MANAGER = "pacemaker"
VOLUMES = (
    {"name": "vol0", "backing_device": DISK_DEVICES["data"], "drbd_minor": 0, "drbd_port": 7789,
     "lun_serial": "labvol0", "initiators": ["initiator-1"]},
    # Exported to the ESX host only: initiator-1 must not see it (the targets' ACLs)
    {"name": "vol1", "backing_device": DISK_DEVICES["data1"], "drbd_minor": 1, "drbd_port": 7790,
     "lun_serial": "labvol1", "initiators": ["esx-1"]},
)
# A node of the model that is no VM (yet): an ESX host on native InfiniBand SRP, so that the lab's
# model has a volume initiator-1 may not see. It is in no inventory group and nothing logs in as it.
ESX_NODE = {"name": "esx-1", "kind": "esx",
            "ports": [{"device": "vmhba32", "port": 1, "guid": "0x0002c9030021c0d1", "link_layer": "infiniband"}]}
# ib_srp / multipath timers for the lab (TCG is slow: generous but bounded).
SRP_TIMERS = {"reconnect_delay": 5, "fast_io_fail_tmo": 5, "dev_loss_tmo": 60, "scsi_timeout": 15}
# DRBD's peer timeouts on the storage VMs (the drbd role's defaults, 0.5 s ping / 1 s timeout, are
# for real hardware): with 3 TCG guests on 2 host cores a busy guest missed PingAcks and dropped the
# connection (2026-12-02, with Pacemaker; resource-and-stonith then froze the I/O for the fence-peer
# handler). Tenths of a second; timeout stays below ping-int (2 s).
DRBD_TCG_TIMERS = {"drbd_ping_timeout": 20, "drbd_timeout": 15}
# The takeover's timers, as a profile (`lab up --timers`, `make failover-bench`, docs/failover-tuning.md):
#   lab:   the default (make lab, make test): the roles' defaults (Corosync token 1000 ms, DRBD
#          ping-int 2 s, notifications on, Pacemaker's load throttle) with the TCG adaptations above;
#          what the 20-drill soak and CI ran;
#   tuned: lab with the DRBD clones without notifications (the cluster role's cluster_drbd_notify:
#          four agent rounds less per takeover). Not in it: load-threshold 10000 % (the throttle off).
#          It ran the bench's 4 drills of 2026-12-04, but with it a node back from a power cut was
#          fenced again (its controller starved of the one vCPU, killed by pacemakerd after 5 IPC
#          checks), and so was a storage VM while the cluster first started in a CI run. On one vCPU
#          the throttle's one-action-at-a-time costs little: the actions are CPU-bound anyway.
#          node-action-limit stays at 2 x cores for the same reason;
#   stock: what an untuned DRBD + Pacemaker pair runs with: Corosync's default token (3000 ms),
#          DRBD 8.4's net defaults (ping-int 10 s, ping-timeout 0.5 s, timeout 6 s), ib_srp's and sd's
#          defaults (srp: {} in the model: reconnect_delay 10, fast_io_fail_tmo 15, dev_loss_tmo 600,
#          scsi_timeout 30), notifications on.
# The same in all: the lab's operation timeouts and monitor intervals (lab/inventory.py
# CLUSTER_TIMINGS; no monitor is on the takeover path), fencing through the lab's BMC with
# stonith-action off, the export agent and the initiator's login service (SRP has no stock ones).
TIMER_PROFILES = {
    "lab": {"srp": dict(SRP_TIMERS), "storage_vars": dict(DRBD_TCG_TIMERS), "crm_config": {}},
    "tuned": {"srp": dict(SRP_TIMERS), "storage_vars": {**DRBD_TCG_TIMERS, "cluster_drbd_notify": False},
              "crm_config": {}},
    "stock": {"srp": {},
              "storage_vars": {"cluster_corosync_token": 3000, "drbd_ping_int": 10, "drbd_ping_timeout": 5,
                               "drbd_timeout": 60},
              "crm_config": {}},
}
DEFAULT_TIMERS = "lab"
RXE_DEVICE = "rxe0"


def bmc_systems() -> list[str]:
    """The VMs the lab's BMC powers (fencing targets): the storage VMs."""
    return [vm.name for vm in VMS if vm.kind == "storage"]


def vm_by_name(name: str) -> VM:
    for vm in VMS:
        if vm.name == name:
            return vm
    raise KeyError(f"no lab VM named {name!r} (known: {', '.join(v.name for v in VMS)})")


def net_by_name(name: str) -> Net | None:
    if name in ("mgmt", "management", "eth0"):
        return None
    for net in NETS:
        if name in (net.name, net.netdev):
            return net
    raise KeyError(f"no lab network named {name!r} (known: mgmt, {', '.join(n.name for n in NETS)})")


def mac_for(index: int, host: int) -> str:
    """52:54:00:77:<net index>:<host>, both written in decimal digits so that the MAC reads like the
    address: storage-a (host 11) on the fabric (net 1) is 52:54:00:77:01:11 (GUID 0x505400fffe770111)."""
    if not 0 <= index <= 99 or not 0 <= host <= 99:
        raise ValueError(f"MAC parts out of range (0-99): index={index} host={host}")
    return f"52:54:00:77:{index:02d}:{host:02d}"


def guid_from_mac(mac: str) -> str:
    """The EUI-64 Soft-RoCE derives its node/port GUID from: flip the U/L bit, insert ff:fe.

    52:54:00:12:34:56 -> 0x505400fffe123456 (canonical "0x%016x" form of the fabric model).
    The collection's rule (filter mac_to_guid, plugins/module_utils/fabric/ids.py), not a copy:
    the lab and the model cannot disagree.  A non-MAC raises ValueError.
    """
    return _fabric_ids().mac_to_guid(mac)


# The checkout this lab/ belongs to; the collection must be imported from it, not from another one.
_CHECKOUT = Path(__file__).resolve().parent.parent


def collection_path() -> Path:
    """The directory that makes this checkout importable as ansible_collections.rdma.ha_storage.

    The first of $RDMA_COLLECTIONS (tools/env.sh), $RDMA_CACHE/collections (tools/setup.sh links
    the checkout there) and the directory above the checkout when it is itself installed as
    .../ansible_collections/rdma/ha_storage, whose ansible_collections/rdma/ha_storage is this
    checkout.  The collection never imports lab/; lab/ imports the collection.
    """
    candidates = [os.environ.get("RDMA_COLLECTIONS"), str(CACHE / "collections"), str(_CHECKOUT.parent.parent.parent)]
    for candidate in candidates:
        if not candidate:
            continue
        try:
            if (Path(candidate) / "ansible_collections" / "rdma" / "ha_storage").resolve() == _CHECKOUT:
                return Path(candidate)
        except OSError:
            continue
    raise ImportError(f"the collection rdma.ha_storage of {_CHECKOUT} cannot be imported: none of "
                      f"{', '.join(c for c in candidates if c)} has ansible_collections/rdma/ha_storage "
                      f"pointing at it (make setup links it into .cache/collections)")


@functools.lru_cache(maxsize=None)
def _fabric_ids():
    """plugins/module_utils/fabric/ids.py of this checkout, imported on first use."""
    root = str(collection_path())
    if root not in sys.path:
        sys.path.append(root)
    from ansible_collections.rdma.ha_storage.plugins.module_utils.fabric import ids
    if not Path(ids.__file__).resolve().is_relative_to(_CHECKOUT):
        raise ImportError(f"ansible_collections.rdma.ha_storage is already imported from {ids.__file__}, "
                          f"not from this checkout {_CHECKOUT}")
    return ids


def sysfs_guid(guid: str) -> str:
    """0x505400fffe123456 -> 5054:00ff:fe12:3456 (the spelling of /sys/class/infiniband/*/node_guid)."""
    h = guid[2:] if guid.startswith("0x") else guid
    return ":".join(h[i:i + 4] for i in range(0, 16, 4))


def ssh_port(vm: VM, base: int = SSH_PORT_BASE) -> int:
    return base + VMS.index(vm)


# A unix socket path holds at most 107 bytes; libvdeplug adds its own socket names (~20 bytes)
# inside the switch's directory.
UNIX_PATH_MAX = 107
VDE_CLIENT_NAME_RESERVE = 24


def switch_dir(run_dir: Path, net: Net) -> Path:
    """The vde_switch of network `net`: its control directory (QEMU's `-netdev vde,sock=`), one per
    lab checkout, so that two checkouts on one machine never share a segment."""
    return run_dir / f"vde-{net.name}"


def check_socket_paths(run_dir: Path) -> None:
    """Fail early, with the fix, when the checkout is too deep for unix socket paths."""
    for net in NETS:
        longest = len(str(switch_dir(run_dir, net))) + VDE_CLIENT_NAME_RESERVE
        if longest > UNIX_PATH_MAX:
            raise ValueError(f"the lab's run directory {run_dir} is too long for unix sockets "
                             f"({longest} > {UNIX_PATH_MAX} bytes for network {net.name}): "
                             f"set RDMA_CACHE to a shorter directory")


def kernel_cmdline(vm: VM, pubkey: str) -> str:
    """Kernel command line: the guest's boot unit (lab/guest/rdma-lab-boot) reads the rdmalab.* keys."""
    import base64

    nets = ",".join(f"{n.netdev}:{n.address(vm.host)}/{n.prefixlen}" for n in vm.nets)
    key = base64.b64encode(pubkey.strip().encode()).decode()
    return " ".join([
        "console=ttyS0", "root=/dev/vda", "rw", "net.ifnames=0", "quiet", "loglevel=4",
        "systemd.show_status=error", f"systemd.hostname={vm.name}", f"systemd.machine_id={vm.machine_id}",
        f"rdmalab.mgmt=eth0:{MGMT_GUEST_ADDRESS}", f"rdmalab.net={nets}", f"rdmalab.key={key}",
    ])
