"""QEMU and vde_switch command lines (pure) and a minimal QMP client."""

from __future__ import annotations

import json
import socket
import sys
import time
from pathlib import Path

from lab import config

QEMU = "qemu-system-x86_64"
VDE_SWITCH = "vde_switch"
# PCI slots fix the guest's device order: eth0 mgmt, eth1 fabric, eth2 replication; vda, vdb.
NIC_SLOT = {0: 3, 1: 4, 2: 5}
RNG_SLOT, ROOT_SLOT, FIRST_DISK_SLOT = 7, 8, 9
PROCESS_PREFIX = "rdma-lab-"


def qemu_argv(vm: config.VM, *, kernel: Path, initrd: Path, overlay: Path, disks: dict[str, Path],
              run_dir: Path, ssh_port: int, pubkey: str, bmc_port: int | None = None) -> list[str]:
    """The QEMU command line of one lab VM (daemonised; QMP socket, console log, pidfile in run_dir).

    bmc_port: the lab's BMC on 127.0.0.1 (lab/bmc.py); a storage VM then reaches it at
    https://10.0.2.100:443 through its management netdev (guestfwd)."""
    argv = [
        QEMU, "-name", f"{vm.name},process={PROCESS_PREFIX}{vm.name}",
        "-machine", "pc", "-accel", "tcg,thread=multi,tb-size=128", "-cpu", "max", "-smp", "1",
        "-m", str(vm.memory_mb),
        "-nodefaults", "-no-user-config", "-display", "none", "-vga", "none",
        "-kernel", str(kernel), "-initrd", str(initrd), "-append", config.kernel_cmdline(vm, pubkey),
        "-drive", f"file={overlay},if=none,id=root,format=qcow2,discard=unmap",
        "-device", f"virtio-blk-pci,drive=root,addr={ROOT_SLOT:#x},serial=rdma-lab-root",
    ]
    # The VM's extra disks in its declared order: consecutive PCI slots, so vdb, vdc, vdd ...
    for i, (role, _size) in enumerate(vm.disks):
        argv += ["-drive", f"file={disks[role]},if=none,id={role},format=qcow2,discard=unmap",
                 "-device", f"virtio-blk-pci,drive={role},addr={FIRST_DISK_SLOT + i:#x},serial=rdma-lab-{role}"]
    # Management: user networking, nothing reachable from the guest (restrict=on); ssh forwarded
    # to the controller's loopback only.
    mgmt = f"user,id=mgmt,restrict=on,hostfwd=tcp:127.0.0.1:{ssh_port}-:22"
    if bmc_port and vm.kind == "storage":
        mgmt += "," + bmc_guestfwd(bmc_port)
    argv += ["-netdev", mgmt,
             "-device", f"virtio-net-pci,netdev=mgmt,mac={vm.mac(0)},addr={NIC_SLOT[0]:#x}"]
    # Private networks: each is a vde_switch reached through unix sockets in the run dir, so the
    # VM-to-VM traffic never touches a host IP address (QEMU's vde netdev, libvdeplug).
    for net in vm.nets:
        argv += ["-netdev", f"vde,id={net.name},sock={config.switch_dir(run_dir, net)}",
                 "-device", f"virtio-net-pci,netdev={net.name},mac={vm.mac(net.index)},addr={NIC_SLOT[net.index]:#x}"]
    argv += [
        "-object", "rng-random,filename=/dev/urandom,id=rng0",
        "-device", f"virtio-rng-pci,rng=rng0,addr={RNG_SLOT:#x}",
        "-serial", f"file:{run_dir / (vm.name + '.console.log')}",
        "-qmp", f"unix:{run_dir / (vm.name + '.qmp')},server=on,wait=off",
        "-pidfile", str(run_dir / (vm.name + ".pid")),
        "-daemonize",
    ]
    return argv


def bmc_guestfwd(bmc_port: int) -> str:
    """The guestfwd option that takes a guest's TCP connection to 10.0.2.100:443 to the lab's BMC
    on 127.0.0.1: `cmd:` starts lab/bmc.py's relay for each connection (the chardev form,
    `-tcp:127.0.0.1:PORT`, is one byte stream opened at QEMU's start and shared by every guest
    connection, while fence_redfish opens one connection per request). restrict=on leaves
    explicit forwards working. Commas are doubled: QEMU's option syntax."""
    relay = f"{sys.executable} {config.BMC_SCRIPT} relay {bmc_port}"
    return (f"guestfwd=tcp:{config.BMC_GUEST_ADDRESS}:{config.BMC_GUEST_PORT}-cmd:" + relay.replace(",", ",,"))


def switch_argv(net: config.Net, run_dir: Path) -> list[str]:
    """The vde_switch of one lab network: daemonised, pidfile and control directory in run_dir,
    no management socket and no tap (it never attaches to a host interface)."""
    return [VDE_SWITCH, "--sock", str(config.switch_dir(run_dir, net)), "--mode", "0600", "--dirmode", "0700",
            "--daemon", "--pidfile", str(run_dir / f"vde-{net.name}.pid")]


class QMPError(RuntimeError):
    pass


def qmp(path: Path, command: str, arguments: dict | None = None, timeout: float = 10.0) -> object:
    """Run one QMP command on the socket at `path` and return its result."""
    deadline = time.monotonic() + timeout
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        try:
            s.connect(str(path))
        except OSError as e:
            raise QMPError(f"cannot connect to QMP socket {path}: {e}") from None
        f = s.makefile("rwb")

        def read() -> dict:
            while time.monotonic() < deadline:
                line = f.readline()
                if not line:
                    raise QMPError(f"QMP socket {path} closed")
                msg = json.loads(line)
                if "event" in msg:
                    continue
                return msg
            raise QMPError(f"QMP {command}: timeout")

        def send(cmd: str, args: dict | None) -> object:
            req = {"execute": cmd}
            if args:
                req["arguments"] = args
            f.write(json.dumps(req).encode() + b"\n")
            f.flush()
            if cmd == "quit":
                return None
            reply = read()
            if "error" in reply:
                raise QMPError(f"QMP {cmd}: {reply['error'].get('desc', reply['error'])}")
            return reply.get("return")

        greeting = read()
        if "QMP" not in greeting:
            raise QMPError(f"unexpected QMP greeting: {greeting}")
        send("qmp_capabilities", None)
        return send(command, arguments)
