"""What the lab's own processes do on the host's network: every IP socket of a QEMU or vde_switch
of this lab must be bound to, and talk to, loopback only (the project's network rule: on the host,
test traffic goes to 127.0.0.0/8 or into VMs and namespaces the project creates).

Read from /proc: a process's socket inodes (/proc/PID/fd) matched against /proc/net/{tcp,udp,raw}
and their IPv6 twins (the lab's processes live in the host's network namespace).
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

PROC_NET_TABLES = ("tcp", "tcp6", "udp", "udp6", "raw", "raw6")
TCP_LISTEN = "0A"


@dataclass(frozen=True)
class InetSocket:
    pid: int
    proto: str           # tcp | tcp6 | udp | udp6 | raw | raw6
    local: str           # address
    local_port: int
    remote: str
    remote_port: int
    state: str           # kernel state code (hex): 0A = TCP LISTEN, 07 = UDP unconnected

    def __str__(self) -> str:
        return f"pid {self.pid} {self.proto} {self.local}:{self.local_port} -> {self.remote}:{self.remote_port}"


def decode_address(hex_addr: str) -> tuple[str, int]:
    """'0100007F:0016' -> ('127.0.0.1', 22); IPv6 as four little-endian 32-bit words."""
    addr, port = hex_addr.split(":")
    raw = bytes.fromhex(addr)
    if len(raw) == 4:
        ip = ipaddress.IPv4Address(raw[::-1])
    elif len(raw) == 16:
        ip = ipaddress.IPv6Address(b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4)))
    else:
        raise ValueError(f"not a /proc/net address: {hex_addr!r}")
    return str(ip), int(port, 16)


def parse_table(proto: str, text: str) -> dict[int, tuple[str, int, str, int, str]]:
    """inode -> (local, local_port, remote, remote_port, state) of one /proc/net table."""
    out = {}
    for line in text.splitlines()[1:]:
        f = line.split()
        if len(f) < 10:
            continue
        local, lport = decode_address(f[1])
        remote, rport = decode_address(f[2])
        out[int(f[9])] = (local, lport, remote, rport, f[3])
    return out


def is_loopback(addr: str) -> bool:
    ip = ipaddress.ip_address(addr)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def is_unspecified(addr: str) -> bool:
    return ipaddress.ip_address(addr).is_unspecified


def violations(sockets: list[InetSocket]) -> list[tuple[InetSocket, str]]:
    """(socket, why) for the sockets that break the rule: bound to a non-loopback (or the wildcard)
    address, or with a non-loopback peer. An unconnected socket's peer reads 0.0.0.0:0 and is fine."""
    bad = []
    for s in sockets:
        if not is_loopback(s.local):
            bad.append((s, f"bound to {s.local}, not a loopback address"))
        elif not (is_unspecified(s.remote) and s.remote_port == 0) and not is_loopback(s.remote):
            bad.append((s, f"peer {s.remote} is not a loopback address"))
    return bad


def socket_inodes(pid: int, proc: Path = Path("/proc")) -> set[int]:
    inodes = set()
    fd_dir = proc / str(pid) / "fd"
    try:
        fds = os.listdir(fd_dir)
    except OSError:
        return inodes
    for fd in fds:
        try:
            target = os.readlink(fd_dir / fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def inet_sockets(pids: list[int], proc: Path = Path("/proc")) -> list[InetSocket]:
    """Every IPv4/IPv6 socket (TCP, UDP, raw) the given processes hold."""
    tables = {}
    for proto in PROC_NET_TABLES:
        try:
            tables[proto] = parse_table(proto, (proc / "net" / proto).read_text())
        except OSError:
            tables[proto] = {}
    out = []
    for pid in pids:
        for inode in sorted(socket_inodes(pid, proc)):
            for proto, table in tables.items():
                if inode in table:
                    out.append(InetSocket(pid, proto, *table[inode]))
    return out
