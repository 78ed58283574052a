"""The lab's own checks: rxe ACTIVE with the GUID the model says, fabric/replication reachability,
hostnames, memory; the fabric model validated by the collection's filter; and observations of
what the roles deployed (DRBD, LIO, SRP, multipath, cluster) for the summary."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
import threading
from pathlib import Path

from lab import config, hostnet, proc, runtime


def parse_kv(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        k, sep, v = line.partition("=")
        if sep:
            out[k.strip()] = v.strip()
    return out


def vm_probe_script(vm: config.VM) -> str:
    """Shell run on a VM: prints key=value lines (rxe, pings to peers, memory)."""
    dev = config.RXE_DEVICE
    lines = [
        "echo hostname=$(uname -n)",
        "echo uptime=$(cut -d' ' -f1 /proc/uptime)",
        "awk '/^MemTotal:/ {print \"mem_total_kb=\" $2} /^MemAvailable:/ {print \"mem_available_kb=\" $2}' /proc/meminfo",
        f"if [ -d /sys/class/infiniband/{dev} ]; then",
        f"  echo rxe_state=$(sed 's/^[0-9]*: *//' /sys/class/infiniband/{dev}/ports/1/state)",
        f"  echo rxe_guid=$(cat /sys/class/infiniband/{dev}/node_guid)",
        f"  echo rxe_netdev=$(cat /sys/class/infiniband/{dev}/ports/1/gid_attrs/ndevs/0 2>/dev/null)",
        f"  echo rxe_mtu=$(cat /sys/class/infiniband/{dev}/ports/1/active_mtu 2>/dev/null)",
        "else echo rxe_state=absent; fi",
    ]
    for peer in config.VMS:
        if peer is vm:
            continue
        for net in vm.nets:
            if net in peer.nets:
                ip = net.address(peer.host)
                lines.append(f"ping -q -c 2 -i 0.3 -W 3 {ip} >/dev/null 2>&1 && echo ping_{net.name}_{peer.name}=ok "
                             f"|| echo ping_{net.name}_{peer.name}=FAIL")
    return "\n".join(lines) + "\n"


def evaluate(vm: config.VM, kv: dict[str, str], require_rxe: bool) -> list[str]:
    """Problems seen in one VM's probe output (empty list: all good)."""
    problems = []
    if kv.get("hostname") != vm.name:
        problems.append(f"{vm.name}: hostname is {kv.get('hostname')!r}")
    want_guid = config.sysfs_guid(config.guid_from_mac(vm.mac(config.FABRIC.index)))
    state = kv.get("rxe_state", "absent")
    if state == "absent":
        if require_rxe:
            problems.append(f"{vm.name}: no RDMA device {config.RXE_DEVICE}")
    else:
        if state != "ACTIVE":
            problems.append(f"{vm.name}: {config.RXE_DEVICE} port 1 is {state}, not ACTIVE")
        if kv.get("rxe_guid") != want_guid:
            problems.append(f"{vm.name}: {config.RXE_DEVICE} GUID {kv.get('rxe_guid')} != model's {want_guid}")
        if kv.get("rxe_netdev") not in (None, "", config.FABRIC.netdev):
            problems.append(f"{vm.name}: {config.RXE_DEVICE} runs on {kv.get('rxe_netdev')}, not {config.FABRIC.netdev}")
    for k, v in kv.items():
        if k.startswith("ping_") and v != "ok":
            _ping, net, peer = k.split("_", 2)
            problems.append(f"{vm.name}: cannot reach {peer} on the {net} network")
    return problems


def _kv_from_each(st: dict, names: list[str], script_for, timeout: int, keep: int) -> dict[str, dict[str, str]]:
    """Run a key=value script on the named VMs in parallel; a failed ssh gives {"error": tail}."""
    out: dict[str, dict[str, str]] = {}

    def one(n: str) -> None:
        r = runtime.ssh(st, n, script_for(n), timeout=timeout)
        out[n] = parse_kv(r.stdout) if r.returncode == 0 else {"error": (r.stderr or r.stdout).strip()[-keep:]}

    threads = [threading.Thread(target=one, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def probe_all(st: dict, names: list[str] | None = None) -> dict[str, dict[str, str]]:
    names = names or [n for n in st["vms"] if runtime.qemu_pid(n)]
    return _kv_from_each(st, names, lambda n: vm_probe_script(config.vm_by_name(n)), timeout=90, keep=300)


def host_network_check(st: dict) -> tuple[list[str], str]:
    """(problems, summary): every IP socket of the lab's processes is on loopback (lab/hostnet.py)."""
    pids = runtime.lab_pids(st)
    sockets = hostnet.inet_sockets(list(pids.values()))
    names = {pid: name for name, pid in pids.items()}
    problems = [f"host network rule: {names.get(s.pid, '?')}: {s}: {why}" for s, why in hostnet.violations(sockets)]
    addrs = sorted({f"{s.proto} {s.local}:{s.local_port}" for s in sockets})
    summary = (f"{len(sockets)} IP socket(s) held by the lab's {len(pids)} processes"
               f" ({', '.join(addrs) if addrs else 'none'}): " + ("all on loopback" if not problems else "NOT all on loopback"))
    return problems, summary


def bmc_check(st: dict) -> tuple[list[str], str]:
    """(problems, summary): the lab's BMC runs and answers over TLS with the run's password."""
    from lab import bmc
    b = st.get("bmc")
    if not b:
        return [], "none in this run"
    if not runtime.bmc_pid():
        return [f"BMC: not running (127.0.0.1:{b['port']}); see {runtime.run_dir() / 'bmc.out'}"], "NOT running"
    try:
        power = bmc.probe(b["port"], b["username"], b["password"], Path(b["certfile"]))
    except (OSError, ValueError, KeyError) as e:
        return [f"BMC: 127.0.0.1:{b['port']} does not answer: {e}"], "NOT answering"
    return [], f"127.0.0.1:{b['port']} answers: " + ", ".join(f"{n} {s}" for n, s in power.items())


def run_checks(st: dict, require_rxe: bool = True) -> tuple[list[str], dict[str, dict[str, str]], dict[str, str]]:
    """(problems, the VMs' probes, {"host network": summary, "BMC": summary}): each check runs once."""
    problems, host_summary = host_network_check(st)
    bmc_problems, bmc_summary = bmc_check(st)
    problems += bmc_problems
    probes = probe_all(st, list(st["vms"]))
    for name, kv in probes.items():
        vm = config.vm_by_name(name)
        if "error" in kv:
            problems.append(f"{name}: unreachable over ssh: {kv['error']}")
            continue
        problems += evaluate(vm, kv, require_rxe)
    for name in st["vms"]:
        if name not in probes:
            problems.append(f"{name}: not running")
    return problems, probes, {"host network": host_summary, "BMC": bmc_summary}


def ansible_bin(tool: str) -> str:
    cand = Path(sys.executable).parent / tool
    return str(cand) if cand.exists() else tool


def fabric_filter_available() -> bool:
    d = config.TOP / "plugins" / "filter"
    return d.is_dir() and any("fabric_errors" in p.read_text(errors="replace") for p in d.glob("*.py"))


def validate_model() -> tuple[str, list[str]]:
    """('ok'|'errors'|'skipped'|'failed', messages): the lab's model through rdma.ha_storage.fabric_errors."""
    if not fabric_filter_available():
        return "skipped", ["filter rdma.ha_storage.fabric_errors is not in the collection yet"]
    inv = runtime.inventory_dir()
    host = config.VMS[0].name
    r = proc.run([ansible_bin("ansible"), host, "-i", str(inv), "-c", "local", "-o", "-m", "ansible.builtin.debug",
                  "-a", "msg={{ rdma_fabric | rdma.ha_storage.fabric_errors | to_json }}"],
                 timeout=180, cwd=config.TOP, env=ansible_env())
    if r.returncode != 0:
        return "failed", [(r.stderr or r.stdout).strip()[-800:]]
    try:
        out = re.sub(r"\x1b\[[0-9;]*m", "", r.stdout)
        msg = json.JSONDecoder().raw_decode(out[out.index("{"):])[0]["msg"]
        errors = json.loads(msg) if isinstance(msg, str) else msg
    except (ValueError, KeyError) as e:
        return "failed", [f"cannot read the filter's answer ({e}): {r.stdout[-400:]}"]
    return ("ok" if not errors else "errors"), list(errors)


DEFAULT_LAB_STRATEGY = "linear"


def lab_strategy_env(environ: dict[str, str]) -> dict[str, str]:
    """ANSIBLE_STRATEGY(_PLUGINS) of the lab's executor (docs/lab.md, "The lab's executor"): Ansible's
    own linear strategy unless RDMA_LAB_STRATEGY names Mitogen's (mitogen_linear, from this venv)."""
    strategy = environ.get("RDMA_LAB_STRATEGY") or DEFAULT_LAB_STRATEGY
    if not strategy.startswith("mitogen"):
        return {"ANSIBLE_STRATEGY": strategy}
    # the interpreter running the lab is the venv's: its ansible_mitogen is the one to use
    spec = importlib.util.find_spec("ansible_mitogen")
    plugins = str(Path(spec.origin).parent / "plugins" / "strategy") if spec and spec.origin else ""
    if not Path(plugins, f"{strategy}.py").is_file():
        raise runtime.LabError(f"the lab's executor {strategy} is not installed in {Path(sys.executable).parent.parent} "
                               "(Mitogen): run `make setup`, or set RDMA_LAB_STRATEGY=linear for Ansible's own")
    return {"ANSIBLE_STRATEGY": strategy, "ANSIBLE_STRATEGY_PLUGINS": plugins}


def ansible_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(lab_strategy_env(env))
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(config.CACHE / "collections"))
    env.setdefault("ANSIBLE_COLLECTIONS_SCAN_SYS_PATH", "false")
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    env["ANSIBLE_FORCE_COLOR"] = "0"
    env["ANSIBLE_NOCOLOR"] = "1"
    return env


# --- what the roles deployed, as seen on the VMs (for the summary) ------------------------------
OBSERVE = r"""
if systemctl is-active --quiet rdma-ha-storage-links.service 2>/dev/null; then
  echo "rdma_links=$(rdma link show 2>/dev/null | awk '{print $2, $4, "on", $8}' | paste -sd ';' -) (rdma_core role: rdma-ha-storage-links.service active)"
fi
if [ -r /proc/drbd ]; then
  # every minor on one line (one key per VM)
  d=$(grep -E '^ *[0-9]+: cs:' /proc/drbd | sed -E 's/^ *([0-9]+): (cs:[^ ]+) (ro:[^ ]+) (ds:[^ ]+).*/minor \1 \2 \3 \4/' | paste -sd ';' -)
  [ -n "$d" ] && echo "drbd=$d"
fi
if [ -d /sys/kernel/config/target/srpt ]; then
  t=$(ls /sys/kernel/config/target/srpt 2>/dev/null | grep -v discovery_auth | tr '\n' ' ')
  [ -n "$t" ] && echo "lio_srpt=$t"
fi
if [ -d /sys/class/infiniband_srp ]; then
  n=$(ls /sys/class/scsi_host 2>/dev/null | while read h; do [ "$(cat /sys/class/scsi_host/$h/proc_name 2>/dev/null)" = ib_srp ] && echo $h; done | wc -l)
  echo "srp_hosts=$n"
fi
command -v lsscsi >/dev/null 2>&1 && { d=$(lsscsi 2>/dev/null | grep -c LIO-ORG); [ "$d" -gt 0 ] && echo "lio_disks=$d"; }
command -v multipath >/dev/null 2>&1 && pidof multipathd >/dev/null 2>&1 && {
  m=$(multipath -l 2>/dev/null | grep -c 'LIO-ORG'); echo "multipath_maps=$m"; }
command -v crm_mon >/dev/null 2>&1 && pidof pacemakerd >/dev/null 2>&1 && echo "cluster=$(crm_mon -1 -s 2>/dev/null | head -n1)"
true
"""


def observe(st: dict) -> dict[str, dict[str, str]]:
    names = [n for n in st["vms"] if runtime.qemu_pid(n)]
    return _kv_from_each(st, names, lambda n: OBSERVE, timeout=60, keep=200)
