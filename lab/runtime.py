"""The running lab: run directory, state file, QEMU processes, ssh, and the controls the failover
drills need (power cut, link cut/restore, restart)."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import secrets
import signal
import socket
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from lab import config, image, inventory, proc, qemu

STATE_FILE = "state.json"
BOOT_TIMEOUT = 360       # s; a cold 3-VM boot under TCG takes ~40-90 s on 2 busy cores: 3x+ margin
SSH_TIMEOUT = 120        # s for a single command
RXE_SCRIPT = f"""set -e
modprobe rdma_rxe
rdma link show {config.RXE_DEVICE}/1 >/dev/null 2>&1 || rdma link add {config.RXE_DEVICE} type rxe netdev {config.FABRIC.netdev}
i=0
until grep -q ACTIVE /sys/class/infiniband/{config.RXE_DEVICE}/ports/1/state 2>/dev/null; do
    i=$((i + 1)); [ $i -lt 100 ] || break; sleep 0.2
done
cat /sys/class/infiniband/{config.RXE_DEVICE}/ports/1/state
"""


class LabError(RuntimeError):
    pass


def log(msg: str) -> None:
    print(f"[lab] {msg}", flush=True)


def run_dir() -> Path:
    return config.RUN_DIR


def inventory_dir() -> Path:
    return config.RUN_DIR / "inventory"


@contextmanager
def lock():
    """One lab operation that changes VMs at a time (per checkout)."""
    config.LAB_CACHE.mkdir(parents=True, exist_ok=True)
    with open(config.LAB_CACHE / "lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        yield


def load_state() -> dict | None:
    try:
        return json.loads((run_dir() / STATE_FILE).read_text())
    except (OSError, ValueError):
        return None


def save_state(st: dict) -> None:
    p = run_dir() / STATE_FILE
    tmp = p.with_suffix(".tmp")
    tmp.write_text(json.dumps(st, indent=1) + "\n")
    tmp.replace(p)


def require_state() -> dict:
    st = load_state()
    if not st:
        raise LabError("the lab is not up (no state in %s); run `python -m lab up`" % run_dir())
    return st


# --- processes --------------------------------------------------------------------------------
def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is not alive
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def qemu_pid(name: str) -> int | None:
    """The pid of this lab's QEMU for VM `name`, verified by its command line (stale pidfiles lie)."""
    pf = run_dir() / f"{name}.pid"
    try:
        pid = int(pf.read_text().strip())
    except (OSError, ValueError):
        return None
    if pid_alive(pid) and f"process={qemu.PROCESS_PREFIX}{name}" in cmdline(pid) and str(run_dir()) in cmdline(pid):
        return pid
    return None


def stray_pids(marker: str) -> list[int]:
    """Processes whose command line mentions `marker` (this lab's run dir): leftovers of a lost run."""
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit() and int(d.name) != os.getpid() and marker in cmdline(int(d.name)):
            out.append(int(d.name))
    return out


def rss_mb(pid: int | None) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, TypeError):
        pass
    return None


def kill_pid(pid: int, grace: float = 3.0) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    end = time.monotonic() + grace
    while time.monotonic() < end and pid_alive(pid):
        time.sleep(0.1)
    if pid_alive(pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


# --- ssh ---------------------------------------------------------------------------------------
def ssh_dir() -> Path:
    return run_dir() / "ssh"


def ssh_argv(st: dict, name: str, *, connect_timeout: int = 10) -> list[str]:
    return ["ssh", "-i", str(ssh_dir() / "id_ed25519"), "-p", str(st["vms"][name]["ssh_port"]),
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
            "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", f"ConnectTimeout={connect_timeout}",
            "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=4",
            "-o", "ControlMaster=auto", "-o", f"ControlPath={ssh_dir() / ('cm-' + name)}",
            "-o", "ControlPersist=600", "root@127.0.0.1"]


def ssh(st: dict, name: str, script: str, timeout: float = SSH_TIMEOUT, check: bool = False,
        connect_timeout: int = 10) -> proc.CompletedProcess:
    r = proc.run(ssh_argv(st, name, connect_timeout=connect_timeout) + ["--", script], timeout=timeout)
    if r.timed_out:
        r.stderr = f"ssh to {name}: no answer within {timeout:.0f} s"
    if check and r.returncode != 0:
        raise LabError(f"{name}: `{script.strip().splitlines()[0]}...` failed (rc {r.returncode}): "
                       f"{(r.stderr or r.stdout).strip()[-500:]}")
    return r


def close_master(name_or_socket: str | Path) -> None:
    sock = Path(name_or_socket) if "/" in str(name_or_socket) else ssh_dir() / f"cm-{name_or_socket}"
    if sock.exists():
        proc.run(["ssh", "-o", f"ControlPath={sock}", "-O", "exit", "lab"], timeout=10)
        try:
            sock.unlink()
        except OSError:
            pass


def close_all_masters() -> None:
    d = ssh_dir()
    if d.is_dir():
        for sock in d.rglob("*"):
            if sock.is_socket():
                close_master(sock)
    # Masters whose socket is gone but whose process lives on (they would hang the next run).
    for pid in stray_pids(str(d)):
        if "ssh" in cmdline(pid).split(" ", 1)[0]:
            kill_pid(pid, grace=1)


def boot_id(st: dict, name: str, connect_timeout: int = 5, timeout: float = 25) -> str | None:
    r = ssh(st, name, "cat /proc/sys/kernel/random/boot_id", timeout=timeout, connect_timeout=connect_timeout)
    return r.stdout.strip() if r.returncode == 0 and r.stdout.strip() else None


def wait_ssh(st: dict, name: str, t_start: float, timeout: float = BOOT_TIMEOUT, not_boot_id: str | None = None) -> float:
    """Wait until VM `name` answers over ssh (with a boot id other than `not_boot_id`); seconds since t_start."""
    end = t_start + timeout
    while time.monotonic() < end:
        if not qemu_pid(name):
            raise LabError(f"{name}: QEMU exited while booting; see {run_dir() / (name + '.console.log')} "
                           f"and {run_dir() / (name + '.qemu.log')}")
        bid = boot_id(st, name)
        if bid and bid != not_boot_id:
            return time.monotonic() - t_start
        if bid:  # still the old boot: drop the master connection to it
            close_master(name)
        time.sleep(1)
    raise LabError(f"{name}: no ssh within {timeout:.0f} s; console log: {run_dir() / (name + '.console.log')}")


# --- VMs ---------------------------------------------------------------------------------------
def free_port(start: int, taken: set[int] | frozenset[int] = frozenset()) -> int:
    """The first port from `start` on (steps of 10) that is free on 127.0.0.1 and not in `taken`
    (ports this lab already gave out but nothing listens on yet)."""
    port = start
    while port < 65000:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT of a previous run is fine
            try:
                if port not in taken:
                    s.bind(("127.0.0.1", port))
                    return port
            except OSError:
                pass
        port += 10
    raise LabError("no free TCP port on 127.0.0.1 for ssh forwarding")


def switch_pid(net: config.Net) -> int | None:
    """The pid of this lab's vde_switch for `net`, verified by its command line."""
    try:
        pid = int((run_dir() / f"vde-{net.name}.pid").read_text().strip())
    except (OSError, ValueError):
        return None
    if pid_alive(pid) and str(config.switch_dir(run_dir(), net)) in cmdline(pid):
        return pid
    return None


def ensure_switches() -> dict[str, int]:
    """Start the vde_switch of every lab network that is not running; returns net name -> pid."""
    config.check_socket_paths(run_dir())
    pids = {}
    for net in config.NETS:
        pid = switch_pid(net)
        if not pid:
            argv = qemu.switch_argv(net, run_dir())
            with open(run_dir() / f"vde-{net.name}.log", "a") as logf:
                r = proc.run(argv, timeout=30, log=logf)
            # the daemon writes its pidfile after the fork; on a loaded 2-core host that took over 10 s once
            end = time.monotonic() + 60
            while r.returncode == 0 and not ((config.switch_dir(run_dir(), net) / "ctl").exists()
                                             and switch_pid(net)) and time.monotonic() < end:
                time.sleep(0.1)
            pid = switch_pid(net)
            if r.returncode != 0 or not pid:
                raise LabError(f"vde_switch for network {net.name} did not start (rc {r.returncode}); "
                               f"see {run_dir() / ('vde-' + net.name + '.log')} (is the vde2 package installed? "
                               f"`make setup` installs it)")
        pids[net.name] = pid
    return pids


def lab_pids(st: dict | None) -> dict[str, int]:
    """The running processes of this lab: QEMU per VM, vde_switch per network, the BMC."""
    pids = {f"qemu {n}": qemu_pid(n) for n in (st or {}).get("vms", {})}
    pids.update({f"vde_switch {net.name}": switch_pid(net) for net in config.NETS})
    pids["bmc"] = bmc_pid()
    return {k: v for k, v in pids.items() if v}


# --- the BMC (lab/bmc.py, docs/lab-fencing.md) -----------------------------------------------------


def bmc_pid() -> int | None:
    """The pid of this lab's BMC, verified by its command line."""
    try:
        pid = int((run_dir() / "bmc.pid").read_text().strip())
    except (OSError, ValueError):
        return None
    line = cmdline(pid)
    if pid_alive(pid) and "bmc.py serve" in line and str(run_dir()) in line:
        return pid
    return None


def ensure_bmc(st: dict) -> dict:
    """Start the lab's BMC unless it runs: the first time in a run, its port, per-run password and
    self-signed certificate go into the state ("bmc"). Before the VMs boot: their guestfwd names
    its port. Returns st["bmc"]."""
    from lab import bmc
    b = st.get("bmc")
    if not b:
        port = free_port(config.BMC_PORT_BASE, {v["ssh_port"] for v in st["vms"].values()})
        cert, key = bmc.make_certificate(run_dir(), config.BMC_GUEST_ADDRESS)
        b = st["bmc"] = {"port": port, "username": config.BMC_USERNAME, "password": secrets.token_urlsafe(18),
                         "certfile": str(cert), "keyfile": str(key), "log": str(run_dir() / "bmc.log")}
        save_state(st)
    if not bmc_pid():
        r = proc.run([sys.executable, str(config.BMC_SCRIPT), "serve", "--daemon", str(run_dir())], timeout=30,
                     env={"RDMA_TOP": str(config.TOP), "RDMA_CACHE": str(config.CACHE)})
        if r.returncode != 0 or not bmc_pid():
            raise LabError(f"the lab's BMC did not start (rc {r.returncode}): "
                           f"{(r.stderr or r.stdout).strip()[-500:]}; see {run_dir() / 'bmc.out'}")
    b["pid"] = bmc_pid()
    save_state(st)
    return b


def stop_bmc() -> list[str]:
    pid = bmc_pid()
    if pid:
        kill_pid(pid)
        return ["BMC stopped"]
    return []


def stop_switches() -> list[str]:
    done = []
    for net in config.NETS:
        pid = switch_pid(net)
        if pid:
            kill_pid(pid)
            done.append(f"switch {net.name} stopped")
    return done


def launch(st: dict, name: str) -> None:
    """Start the QEMU of VM `name` (its overlay keeps the disk state of earlier boots of this run)."""
    vm = config.vm_by_name(name)
    v = st["vms"][name]
    img = image.image_paths(st["image_key"])
    pubkey = (ssh_dir() / "id_ed25519.pub").read_text()
    st["switches"] = ensure_switches()
    argv = qemu.qemu_argv(vm, kernel=img["kernel"], initrd=img["initrd"], overlay=Path(v["overlay"]),
                          disks={role: Path(path) for role, path in v.get("disks", {}).items()},
                          run_dir=run_dir(), ssh_port=v["ssh_port"], pubkey=pubkey,
                          bmc_port=(st.get("bmc") or {}).get("port"))
    (run_dir() / f"{name}.argv.json").write_text(json.dumps(argv, indent=1) + "\n")
    (run_dir() / f"{name}.pid").unlink(missing_ok=True)
    with open(run_dir() / f"{name}.qemu.log", "a") as logf:
        r = proc.run(argv, timeout=60, log=logf)
    if r.returncode != 0:
        raise LabError(f"{name}: QEMU failed to start (rc {r.returncode}); see {run_dir() / (name + '.qemu.log')}")
    pid = qemu_pid(name)
    if not pid:
        raise LabError(f"{name}: QEMU started but its pid is unknown; see {run_dir() / (name + '.qemu.log')}")
    v.update(pid=pid, state="booting", started=time.time())


def create_run(key: str) -> dict:
    """A fresh run directory: ssh key, clean overlays on the cached image, fresh data disks."""
    rd = run_dir()
    rd.mkdir(parents=True)
    ssh_dir().mkdir(mode=0o700)
    (ssh_dir() / "ansible").mkdir(mode=0o700)
    proc.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "rdma-lab", "-f", str(ssh_dir() / "id_ed25519")],
             timeout=60, check=True)
    img = image.image_paths(key)
    st = {"image_key": key, "created": time.time(), "vms": {},
          "switches": {},
          "rxe_owner": None,
          # DRBD's shared secret (cram-hmac) and Corosync's key for this run; the roles take them
          # from the inventory (256 characters: the cluster role wants 128 to 1024).
          "secrets": {"drbd_shared_secret": secrets.token_hex(16),
                      "cluster_corosync_authkey": secrets.token_urlsafe(192)}}
    used: set[int] = set()
    for i, vm in enumerate(config.VMS):
        port = free_port(config.SSH_PORT_BASE + i, used)
        used.add(port)
        overlay = rd / f"{vm.name}.qcow2"
        proc.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", str(img["rootfs"]), str(overlay)],
                 timeout=120, check=True)
        disks = {}
        for role, size_mb in vm.disks:
            disks[role] = str(rd / f"{vm.name}-{role}.qcow2")
            proc.run(["qemu-img", "create", "-q", "-f", "qcow2", disks[role], f"{size_mb}M"],
                     timeout=120, check=True)
        st["vms"][vm.name] = {"ssh_port": port, "overlay": str(overlay), "disks": disks,
                              "qmp": str(rd / f"{vm.name}.qmp"), "state": "created"}
    save_state(st)
    return st


def rxe_owner(requested: str = "auto") -> str:
    """Who brings rxe0 up: the lab, or the collection's RDMA role once it manages Soft-RoCE links.

    auto: the role when it has the soft-device tasks (roles/rdma_core/tasks/soft_devices.yml: the
    lab model's ports say `soft: rxe`), else the lab (a checkout from before the role did it)."""
    if requested in ("lab", "role"):
        return requested
    return "role" if (config.TOP / "roles" / "rdma_core" / "tasks" / "soft_devices.yml").is_file() else "lab"


def rxe_up(st: dict, name: str) -> str:
    return ssh(st, name, RXE_SCRIPT, check=True, timeout=90).stdout.strip()


# With the role owning rxe0: a VM counts as booted once the role's boot unit has run (ssh comes up
# before it); nothing to wait for before the first converge installed it.
WAIT_LINKS_UNIT = """u=rdma-ha-storage-links.service
systemctl is-enabled --quiet $u 2>/dev/null || { echo not-enabled; exit 0; }
i=0
until s=$(systemctl is-active $u); [ "$s" = active ] || [ "$s" = failed ] || [ $i -ge 600 ]; do
    i=$((i + 1)); sleep 0.5
done
echo $s
"""


def after_boot(st: dict, name: str) -> None:
    if st.get("rxe_owner") == "lab":
        rxe_up(st, name)
    elif st.get("rxe_owner") == "role":
        ssh(st, name, WAIT_LINKS_UNIT, check=True, timeout=330)


def boot_all(st: dict, names: list[str], timeout: float = BOOT_TIMEOUT) -> dict[str, float]:
    """Launch VMs and wait for ssh in parallel; returns boot seconds per VM."""
    starts = {}
    for name in names:
        launch(st, name)
        starts[name] = time.monotonic()
    save_state(st)
    results: dict[str, float | Exception] = {}

    def waiter(n: str) -> None:
        try:
            results[n] = wait_ssh(st, n, starts[n], timeout)
            after_boot(st, n)
        except Exception as e:  # noqa: BLE001 - reported below, per VM
            results[n] = e

    threads = [threading.Thread(target=waiter, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    errors = [f"{n}: {r}" for n, r in results.items() if isinstance(r, Exception)]
    for n, r in results.items():
        if not isinstance(r, Exception):
            st["vms"][n].update(state="running", boot_seconds=round(r, 1))
    save_state(st)
    if errors:
        raise LabError("; ".join(errors))
    return {n: float(r) for n, r in results.items()}


def teardown(graceful: bool = True, quiet: bool = False) -> list[str]:
    """Stop every VM of this lab (also of a stale or half-dead run), close ssh masters, remove the run dir."""
    done = []
    st = load_state()
    if st and graceful:
        running = [n for n in st["vms"] if qemu_pid(n)]
        for n in running:
            ssh(st, n, "systemctl poweroff --no-block", timeout=15, connect_timeout=5)
        end = time.monotonic() + 60
        while time.monotonic() < end and any(qemu_pid(n) for n in running):
            time.sleep(0.5)
        done += [f"{n} shut down" for n in running if not qemu_pid(n)]
    if st:
        for n in st["vms"]:
            pid = qemu_pid(n)
            if pid:
                try:
                    qemu.qmp(Path(st["vms"][n]["qmp"]), "quit", timeout=3)
                except (qemu.QMPError, OSError, ValueError):
                    pass
                kill_pid(pid)
                done.append(f"{n} stopped (QEMU quit)")
    done += stop_switches()
    done += stop_bmc()
    for pid in stray_pids(str(run_dir())):
        prog = Path(cmdline(pid).split(" ", 1)[0]).name
        if prog.startswith("qemu-system") or prog == qemu.VDE_SWITCH or "bmc.py serve" in cmdline(pid):
            kill_pid(pid)
            done.append(f"stray {prog} {pid} killed")
    close_all_masters()
    if run_dir().exists():
        shutil.rmtree(run_dir())
    if not quiet:
        for d in done:
            log(d)
    return done


def set_link(st: dict, name: str, net: str, up: bool) -> None:
    n = config.net_by_name(net)
    vm = config.vm_by_name(name)
    if n is not None and n not in vm.nets:
        raise LabError(f"{name} has no NIC on network {n.name}")
    netdev = "mgmt" if n is None else n.name
    if not qemu_pid(name):
        raise LabError(f"{name} is not running")
    qemu.qmp(Path(st["vms"][name]["qmp"]), "set_link", {"name": netdev, "up": up})
    st["vms"][name].setdefault("links_down", [])
    links = set(st["vms"][name]["links_down"])
    (links.discard if up else links.add)(netdev)
    st["vms"][name]["links_down"] = sorted(links)
    save_state(st)


def power_off(st: dict, name: str) -> float:
    """Power cut: the QEMU process is killed (SIGKILL), the guest gets no shutdown. Returns the time."""
    config.vm_by_name(name)
    pid = qemu_pid(name)
    if not pid:
        raise LabError(f"{name} is not running")
    t = time.time()
    os.kill(pid, signal.SIGKILL)
    while pid_alive(pid):
        time.sleep(0.02)
    close_master(name)
    st["vms"][name].update(state="off", pid=None, powered_off=t, links_down=[])
    save_state(st)
    return t


def start(st: dict, name: str, timeout: float = BOOT_TIMEOUT) -> float:
    config.vm_by_name(name)
    if qemu_pid(name):
        raise LabError(f"{name} is already running")
    close_master(name)
    st["vms"][name]["links_down"] = []
    return boot_all(st, [name], timeout)[name]


def restart(st: dict, name: str, hard: bool = False, timeout: float = BOOT_TIMEOUT) -> float:
    """Reboot VM `name` (hard: a reset button press, no shutdown) and wait for it; seconds to ssh."""
    config.vm_by_name(name)
    if not qemu_pid(name):
        raise LabError(f"{name} is not running (use `start`)")
    old = boot_id(st, name)
    t0 = time.monotonic()
    if hard:
        qemu.qmp(Path(st["vms"][name]["qmp"]), "system_reset")
    else:
        ssh(st, name, "systemctl reboot --no-block", timeout=20)
    close_master(name)
    secs = wait_ssh(st, name, t0, timeout, not_boot_id=old)
    after_boot(st, name)
    st["vms"][name].update(state="running", boot_seconds=round(secs, 1))
    save_state(st)
    return secs


def write_inventory(st: dict) -> dict[str, Path]:
    ports = {n: v["ssh_port"] for n, v in st["vms"].items()}
    return inventory.write(inventory_dir(), run_dir(), ports, config.TOP / "lab" / "labctl", st.get("secrets"),
                           bmc=st.get("bmc"), cluster_manager=st.get("cluster_manager", config.DEFAULT_CLUSTER_MANAGER),
                           timers=st.get("timers", config.DEFAULT_TIMERS))
