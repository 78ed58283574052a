"""The Ansible inventory the lab writes: hosts with their connection variables, and the fabric
model `rdma_fabric` (the contract of docs/fabric.md) describing the lab's VMs."""

from __future__ import annotations

import re
from pathlib import Path

from lab import config

HEADER = "# Written by the rdma-lab tool (lab/inventory.py) for the running lab; rewritten by `python -m lab up`.\n"


def timer_profile(timers: str) -> dict:
    """The timer profile named `timers` (config.TIMER_PROFILES)."""
    if timers not in config.TIMER_PROFILES:
        raise ValueError(f"timer profile {timers!r}: one of {', '.join(config.TIMER_PROFILES)}")
    return config.TIMER_PROFILES[timers]


def fabric_model(cluster_manager: str = config.DEFAULT_CLUSTER_MANAGER, timers: str = config.DEFAULT_TIMERS) -> dict:
    """`rdma_fabric` for the lab: Soft-RoCE (rxe, Ethernet link layer) on eth1, Ethernet replication;
    the pair run by `cluster_manager` (config.CLUSTER_MANAGERS), the SRP timers of the profile `timers`."""
    if cluster_manager not in config.CLUSTER_MANAGERS:
        raise ValueError(f"cluster manager {cluster_manager!r}: one of {', '.join(config.CLUSTER_MANAGERS)}")
    profile = timer_profile(timers)
    nodes = []
    for vm in config.VMS:
        ports = [{"device": config.RXE_DEVICE, "port": 1, "guid": config.guid_from_mac(vm.mac(config.FABRIC.index)),
                  "link_layer": "ethernet", "netdev": config.FABRIC.netdev, "soft": "rxe"}]
        interfaces = [{"network": n.name, "address": n.address(vm.host), "netdev": n.netdev} for n in vm.nets]
        nodes.append({"name": vm.name, "hostname": vm.name, "kind": vm.kind, "ports": ports,
                      "interfaces": interfaces})
    nodes.append({**config.ESX_NODE, "ports": [dict(p) for p in config.ESX_NODE["ports"]]})
    return {
        "partitions": [],
        "networks": [{"name": n.name, "cidr": n.cidr, "transport": "ethernet", "purpose": n.purpose}
                     for n in config.NETS],
        "nodes": nodes,
        "ha_pairs": [{
            "name": config.HA_PAIR["name"],
            "nodes": list(config.HA_PAIR["nodes"]),
            "initial_primary": config.HA_PAIR["initial_primary"],
            "cluster_manager": cluster_manager,
            "replication_network": config.REPLICATION.name,
            "client_network": config.FABRIC.name,
            "volumes": [dict(v, initiators=list(v["initiators"])) for v in config.VOLUMES],
        }],
        "srp": dict(profile["srp"]),
    }


# The cluster role's operation timings for TCG guests (its defaults are for real hardware): with
# them, drbd monitors timed out at 20 s while the guests were busy (2026-12-02; 3 VMs on 2 host
# cores), and Pacemaker recovered the resources, stopping the export. Longer intervals also leave
# the guests more CPU. A power cut is seen by Corosync (token), not by these monitors.
CLUSTER_TIMINGS = {
    "drbd_monitor_promoted_interval": "59s",
    "drbd_monitor_unpromoted_interval": "61s",
    "drbd_monitor_timeout": "120s",
    "drbd_promote_timeout": "180s",
    "drbd_demote_timeout": "180s",
    "drbd_notify_timeout": "180s",
    "export_monitor_interval": "30s",
    "export_monitor_timeout": "120s",
    "export_start_timeout": "180s",
    "export_stop_timeout": "180s",
    # The fabric monitor is a Python agent: one monitor took 1.4 s (1.1 s of CPU) in a TCG storage VM
    # (2026-12-03), so every 5 s (the role's default) it used about a fifth of the VM's CPU. Every
    # 31 s it uses about 4 %; a fabric cut is then noticed up to 31 s later (drill (d) only).
    "fabric_monitor_interval": "31s",
    "fabric_monitor_timeout": "120s",
}

# Fencing powers the node off and leaves it off (Pacemaker's default is a reboot). A TCG VM is back
# from a reboot in about 45 s, before the survivor has promoted DRBD; its node is then "pending"
# until its Pacemaker joins, the export's probe there is unrunnable, and the export's start on the
# survivor waits for it: 90-130 s after the promotion in all four power cuts of 2026-12-02. Off is
# also what many sites choose (a node that failed is looked at before it rejoins); the drills and
# verify_lab_controls power the cut node on themselves once the survivor serves.
CLUSTER_CRM_CONFIG = {"stonith-action": "off"}


def bmc_vars(bmc: dict) -> dict:
    """`rdma_lab_bmc`, set on the storage VMs: the lab's Redfish BMC as they reach it (for the
    cluster role's fence_redfish: ip, ipport, username, password, ssl_insecure, systems_uri) and
    where it lives on the controller (docs/lab-fencing.md)."""
    from lab import bmc as bmc_service
    return {
        "address": config.BMC_GUEST_ADDRESS,
        "port": config.BMC_GUEST_PORT,
        "username": bmc["username"],
        "password": bmc["password"],
        # The certificate is self-signed per run and the guests do not trust it: fence_redfish's
        # ssl_insecure=1. The path never leaves the machine (guest -> slirp -> 127.0.0.1).
        "ssl_insecure": True,
        "systems": {name: f"{bmc_service.SYSTEMS}/{name}" for name in config.bmc_systems()},
        "controller_address": "127.0.0.1",
        "controller_port": bmc["port"],
        "certificate": bmc["certfile"],
        "log": bmc["log"],
    }


def fence_devices(bmc: dict) -> list[dict]:
    """`cluster_fence_devices` for the storage VMs (the cluster role's ha_cluster-shaped stonith
    primitives): one fence_redfish device per storage VM, each fencing only that VM through the
    lab's BMC, with systems_uri always given (without it fence_redfish takes the last system of
    the collection, docs/lab-fencing.md)."""
    rb = bmc_vars(bmc)
    return [{
        "id": f"fence_{name}",
        "agent": "stonith:fence_redfish",
        "instance_attrs": [{"attrs": [
            {"name": "ip", "value": rb["address"]},
            {"name": "ipport", "value": str(rb["port"])},
            {"name": "username", "value": rb["username"]},
            {"name": "password", "value": rb["password"]},
            {"name": "ssl_insecure", "value": "1"},
            {"name": "systems_uri", "value": rb["systems"][name]},
            {"name": "pcmk_host_list", "value": name},
            # a reboot is ForceOff, then On; the VM's power-on answers once QEMU runs
            {"name": "pcmk_reboot_timeout", "value": "120s"},
        ]}],
        # fence_redfish is a Python process that imports python-requests: 5-12 s per run in a TCG
        # guest, and a start (a monitor) timed out at Pacemaker's default 20 s while site.yml ran.
        "operations": [{"action": "start", "attrs": [{"name": "timeout", "value": "120s"}]},
                       {"action": "monitor", "attrs": [{"name": "interval", "value": "120s"},
                                                       {"name": "timeout", "value": "120s"}]}],
    } for name in config.bmc_systems()]


def hosts(run_dir: Path, ssh_ports: dict[str, int], labctl: Path, secrets: dict[str, str] | None = None,
          bmc: dict | None = None, timers: str = config.DEFAULT_TIMERS) -> dict:
    """The hosts inventory (YAML inventory plugin layout): every lab VM in group `rdma_lab`; with
    the lab's BMC (`bmc`: the run's state "bmc"), `rdma_lab_bmc` on each storage VM; the storage
    VMs' variables of the timer profile `timers`."""
    profile = timer_profile(timers)
    ssh_dir = run_dir / "ssh"
    common = ("-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR "
              "-o IdentitiesOnly=yes -o ServerAliveInterval=5 -o ServerAliveCountMax=4")
    host_vars = {vm.name: {"ansible_host": "127.0.0.1", "ansible_port": ssh_ports[vm.name]} for vm in config.VMS}
    if bmc:
        for name in config.bmc_systems():
            host_vars[name]["rdma_lab_bmc"] = bmc_vars(bmc)
            host_vars[name]["cluster_fence_devices"] = fence_devices(bmc)
            host_vars[name]["cluster_timings"] = dict(CLUSTER_TIMINGS)
            host_vars[name]["cluster_crm_config"] = {**CLUSTER_CRM_CONFIG, **profile["crm_config"]}
    for name in config.bmc_systems():
        host_vars[name].update(profile["storage_vars"])
    return {"all": {"children": {"rdma_lab": {
        "hosts": host_vars,
        "vars": {
            "ansible_user": "root",
            "ansible_ssh_private_key_file": str(ssh_dir / "id_ed25519"),
            "ansible_ssh_common_args": common,
            "ansible_control_path_dir": str(ssh_dir / "ansible"),
            "ansible_pipelining": True,
            "ansible_python_interpreter": "/usr/bin/python3",
            # Said as variables too, because Mitogen (the lab's opt-in executor, docs/lab.md) reads these and
            # not the ssh options above: no host key check (a new key every run), a connect timeout
            # for a TCG guest that is busy (Mitogen's first connection starts its interpreter there),
            # and a dead VM noticed in 20 s, as ServerAlive* above (its default is 300 s).
            "ansible_host_key_checking": False,
            "ansible_ssh_timeout": 60,
            "mitogen_ssh_keepalive_interval": 5,
            "mitogen_ssh_keepalive_count": 4,
            # The lab's controls (power cut, link cut, restart) for playbooks run on the controller:
            # ansible.builtin.command: argv: ["{{ rdma_lab_ctl }}", power-off, storage-a]
            "rdma_lab_ctl": str(labctl),
            # This inventory, for playbooks that run ansible-playbook against the lab as a user would
            # (Molecule passes its own inventory first, so ansible_inventory_sources[0] is not it).
            "rdma_lab_inventory": str(run_dir / "inventory"),
            # Per-run secrets the roles require (random, made by `lab up`; a real site keeps them in Vault).
            **(secrets or {}),
        },
    }}}}


def write(inv_dir: Path, run_dir: Path, ssh_ports: dict[str, int], labctl: Path,
          secrets: dict[str, str] | None = None, bmc: dict | None = None,
          cluster_manager: str = config.DEFAULT_CLUSTER_MANAGER, timers: str = config.DEFAULT_TIMERS) -> dict[str, Path]:
    """Write <inv_dir>/hosts.yml and <inv_dir>/group_vars/all/rdma_fabric.yml; return their paths."""
    gv = inv_dir / "group_vars" / "all"
    gv.mkdir(parents=True, exist_ok=True)
    h = inv_dir / "hosts.yml"
    f = gv / "rdma_fabric.yml"
    h.write_text(HEADER + to_yaml(hosts(run_dir, ssh_ports, labctl, secrets, bmc, timers)))
    f.write_text(HEADER + to_yaml({"rdma_fabric": fabric_model(cluster_manager, timers)}))
    return {"hosts": h, "fabric": f}


# --- a small YAML emitter (stdlib only; data here is dicts, lists, str, int, bool, None) ---------
_PLAIN = re.compile(r"[A-Za-z_/][A-Za-z0-9_./@-]*")
_RESERVED = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"}


def _scalar(v: object) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    s = str(v)
    if _PLAIN.fullmatch(s) and s.lower() not in _RESERVED:
        return s
    return _quote(s)


def _quote(s: str) -> str:
    """A YAML double-quoted scalar: printable ASCII as is, everything else escaped (\\uXXXX / \\UXXXXXXXX)."""
    out = []
    for ch in s:
        o = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif 0x20 <= o < 0x7F:
            out.append(ch)
        elif o <= 0xFFFF:
            out.append(f"\\u{o:04x}")
        else:
            out.append(f"\\U{o:08x}")
    return '"' + "".join(out) + '"'


def to_yaml(data: object, indent: int = 0) -> str:
    pad = "  " * indent
    out: list[str] = []
    if isinstance(data, dict):
        if not data:
            return pad + "{}\n"
        for k, v in data.items():
            key = _scalar(k)
            if isinstance(v, (dict, list)) and v:
                out.append(f"{pad}{key}:\n{to_yaml(v, indent + 1)}")
            else:
                out.append(f"{pad}{key}: {_inline(v)}\n")
    elif isinstance(data, list):
        if not data:
            return pad + "[]\n"
        for item in data:
            if isinstance(item, (dict, list)) and item:
                body = to_yaml(item, indent + 1)
                out.append(f"{pad}- {body.lstrip()}")
            else:
                out.append(f"{pad}- {_inline(item)}\n")
    else:
        out.append(pad + _scalar(data) + "\n")
    return "".join(out)


def _inline(v: object) -> str:
    if isinstance(v, dict) and not v:
        return "{}"
    if isinstance(v, list) and not v:
        return "[]"
    return _scalar(v)
