"""Command line of the lab tool: ``python -m lab <command>`` (see ``python -m lab --help``)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from lab import checks, config, image, proc, runtime, soak
from lab.runtime import LabError, log

# The collection's layers and what the lab does about each (for `run` / `summary`).
LAYERS = (
    ("roles/rdma_core", "RDMA user space and the rxe0 links (rdma_core role, from the model's soft: rxe ports), port check"),
    ("roles/ipoib", "IPoIB (ipoib role; cannot run on rxe: config validation only in the lab)"),
    ("roles/drbd", "DRBD replication (drbd role)"),
    ("roles/srp_target", "SRP target, LIO ib_srpt (srp_target role)"),
    ("roles/srp_initiator", "SRP initiator, ib_srp (srp_initiator role)"),
    ("roles/multipath", "dm-multipath (multipath role)"),
    ("roles/cluster", "Pacemaker/Corosync (cluster role)"),
    ("playbooks/site.yml", "site playbook"),
    ("playbooks/failover_drill.yml", "failover drill playbook"),
)


def _env() -> None:
    os.environ["PATH"] = ":".join(dict.fromkeys(os.environ.get("PATH", "").split(":") + ["/usr/sbin", "/sbin"]))


def timings_path() -> Path:
    return runtime.run_dir() / "timings.json"


def record(step: str, seconds: float, **extra) -> None:
    p = timings_path()
    try:
        data = json.loads(p.read_text())
    except (OSError, ValueError):
        data = {"steps": []}
    data["steps"].append(dict(step=step, seconds=round(seconds, 1), **extra))
    if p.parent.is_dir():
        p.write_text(json.dumps(data, indent=1) + "\n")


# --- commands ------------------------------------------------------------------------------------
def cmd_image(a) -> int:
    t0 = time.monotonic()
    paths = image.build(force=a.force)
    rec = json.loads(paths["recipe"].read_text())
    log(f"image {paths['dir'].name}: kernel {rec.get('kernel_installed')}, {time.monotonic() - t0:.1f} s "
        f"({'built' if time.monotonic() - t0 > 5 else 'cached'})")
    return 0


def do_up(rxe: str = "auto", timeout: float = runtime.BOOT_TIMEOUT,
          cluster_manager: str = config.DEFAULT_CLUSTER_MANAGER, timers: str = config.DEFAULT_TIMERS) -> dict:
    """Image (cached), fresh run dir, boot all VMs, rxe, inventory, checks. Returns the state."""
    t0 = time.monotonic()
    paths = image.build()
    t_img = time.monotonic() - t0
    if runtime.load_state() or runtime.run_dir().exists():
        log("a previous run exists: stopping it first")
        runtime.teardown(graceful=False)
    st = runtime.create_run(paths["dir"].name)
    st["rxe_owner"] = runtime.rxe_owner(rxe)
    st["cluster_manager"] = cluster_manager
    st["timers"] = timers
    runtime.save_state(st)
    record("image (cached)" if t_img < 5 else "image (built)", t_img)
    b = runtime.ensure_bmc(st)   # before the VMs: their guestfwd names its port
    log(f"BMC (Redfish, lab/bmc.py) on 127.0.0.1:{b['port']}; storage VMs: "
        f"https://{config.BMC_GUEST_ADDRESS}:{config.BMC_GUEST_PORT}")
    log(f"booting {', '.join(st['vms'])} (TCG; rxe brought up by the {st['rxe_owner']}; "
        f"the pair run by {cluster_manager}, {timers} timers)")
    t1 = time.monotonic()
    boots = runtime.boot_all(st, list(st["vms"]), timeout)
    record("boot VMs (parallel)", time.monotonic() - t1, per_vm={n: round(s, 1) for n, s in boots.items()})
    inv = runtime.write_inventory(st)
    log(f"inventory: {inv['hosts']} (+ {inv['fabric'].relative_to(runtime.inventory_dir())})")
    t2 = time.monotonic()
    rc = report_checks(st, require_rxe=st["rxe_owner"] == "lab")
    record("lab checks", time.monotonic() - t2)
    st = runtime.load_state()
    st["up_seconds"] = round(time.monotonic() - t0, 1)
    runtime.save_state(st)
    if rc:
        raise LabError("lab checks failed (see above); the VMs are left running for inspection")
    return st


def cmd_up(a) -> int:
    with runtime.lock():
        st = do_up(a.rxe, a.timeout, a.cluster_manager, a.timers)
    print_access(st)
    return 0


def cmd_down(a) -> int:
    with runtime.lock():
        done = runtime.teardown(graceful=not a.fast)
    log("lab stopped" if done else "nothing was running; run dir cleaned")
    return 0


def vm_table(st: dict, probes: dict | None = None) -> list[str]:
    rows = [f"  {'VM':<12} {'state':<8} {'ssh':<17} {'boot s':>6} {'RSS MB':>7} {'guest MB':>9} {'avail MB':>9}  rxe0"]
    for n, v in st["vms"].items():
        pid = runtime.qemu_pid(n)
        rss = runtime.rss_mb(pid) if pid else None
        kv = (probes or {}).get(n, {})
        mem = config.vm_by_name(n).memory_mb
        avail = f"{int(kv['mem_available_kb']) // 1024}" if kv.get("mem_available_kb") else "-"
        rxe = kv.get("rxe_state", "-")
        if rxe not in ("-", "absent"):
            rxe += f" {kv.get('rxe_guid', '')} on {kv.get('rxe_netdev', '?')}"
        rows.append(f"  {n:<12} {('running' if pid else v.get('state', 'off')):<8} "
                    f"{'127.0.0.1:' + str(v['ssh_port']):<17} {v.get('boot_seconds', '-')!s:>6} "
                    f"{(f'{rss:.0f}' if rss else '-'):>7} {mem:>9} {avail:>9}  {rxe}")
    return rows


def report_checks(st: dict, require_rxe: bool = True, validate: bool = True) -> int:
    problems, probes, summaries = checks.run_checks(st, require_rxe=require_rxe)
    for row in vm_table(st, probes):
        print(row)
    nets = []
    for n, kv in probes.items():
        ok = sorted(k[5:] for k, v in kv.items() if k.startswith("ping_") and v == "ok")
        nets.append(f"{n}: {len(ok)} peer link(s) ok")
    log("fabric/replication reachability: " + "; ".join(nets))
    for name, summary in summaries.items():
        log(f"{name}: {summary}")
    if validate:
        status, msgs = checks.validate_model()
        if status == "ok":
            log("fabric model of the lab: valid (rdma.ha_storage.fabric_errors returned no error)")
        elif status == "skipped":
            log(f"fabric model of the lab: not validated ({msgs[0]})")
        else:
            problems += [f"fabric model: {m}" for m in msgs]
    if not require_rxe and any(kv.get("rxe_state") == "absent" for kv in probes.values()):
        log(f"{config.RXE_DEVICE} not checked yet: roles/rdma_core brings it up at converge")
    for p in problems:
        log(f"FAIL {p}")
    if not problems:
        log("lab checks: all passed")
    return 1 if problems else 0


def cmd_check(a) -> int:
    st = runtime.require_state()
    return report_checks(st, require_rxe=not a.no_rxe, validate=not a.no_validate)


def print_access(st: dict) -> None:
    inv = runtime.inventory_dir()
    print(f"""
How to use the lab (it keeps running until `make lab-down` / `python -m lab down`):
  ssh in:        lab/labctl ssh storage-a        (or: ssh -i {runtime.ssh_dir() / 'id_ed25519'} -p {st['vms']['storage-a']['ssh_port']} root@127.0.0.1)
  inventory:     {inv}/hosts.yml  and  {inv}/group_vars/all/rdma_fabric.yml
  playbooks:     ansible-playbook -i {inv} playbooks/site.yml
  controls:      lab/labctl power-off|start|restart [--hard] NAME;  lab/labctl link NAME fabric|replication down|up
  status/checks: lab/labctl status;  lab/labctl check
  BMC (Redfish): {('https://127.0.0.1:' + str(st['bmc']['port']) + ', log ' + st['bmc']['log']) if st.get('bmc') else 'none'}; inventory var rdma_lab_bmc
  consoles:      {runtime.run_dir()}/<vm>.console.log""")


def cmd_status(a) -> int:
    st = runtime.load_state()
    if not st:
        log("the lab is not up")
        return 3
    probes = checks.probe_all(st) if not a.quick else None
    for row in vm_table(st, probes):
        print(row)
    down = {n: v.get("links_down") for n, v in st["vms"].items() if v.get("links_down")}
    if down:
        log(f"links cut: {down}")
    if a.json:
        print(json.dumps({"state": st, "probes": probes}, indent=1))
    return 0


def cmd_ssh(a) -> int:
    st = runtime.require_state()
    config.vm_by_name(a.name)
    argv = runtime.ssh_argv(st, a.name)
    if a.command:
        argv += ["--", " ".join(a.command)]  # like ssh: the words form one remote shell command
    else:
        argv.insert(1, "-t")
    os.execvp(argv[0], argv)
    return 0


def _event(a, action: str, name: str, t: float, **extra) -> None:
    ev = dict(action=action, vm=name, time=round(t, 3), **extra)
    print(json.dumps(ev) if a.json else f"[lab] {name}: {action} at {time.strftime('%H:%M:%S', time.localtime(t))}"
          f".{int((t % 1) * 1000):03d}" + "".join(f" {k}={v}" for k, v in extra.items()), flush=True)


def cmd_power_off(a) -> int:
    st = runtime.require_state()
    t = runtime.power_off(st, a.name)
    _event(a, "power-off", a.name, t)
    return 0


def cmd_start(a) -> int:
    st = runtime.require_state()
    t = time.time()
    secs = runtime.start(st, a.name, a.timeout)
    _event(a, "start", a.name, t, boot_seconds=round(secs, 1))
    return 0


def cmd_restart(a) -> int:
    st = runtime.require_state()
    t = time.time()
    secs = runtime.restart(st, a.name, hard=a.hard, timeout=a.timeout)
    _event(a, "reset" if a.hard else "reboot", a.name, t, boot_seconds=round(secs, 1))
    return 0


def cmd_link(a) -> int:
    st = runtime.require_state()
    t = time.time()
    runtime.set_link(st, a.name, a.net, a.state == "up")
    _event(a, f"link {a.net} {a.state}", a.name, t)
    return 0


def cmd_inventory(a) -> int:
    st = runtime.require_state()
    if a.write:
        runtime.write_inventory(st)
    print(runtime.inventory_dir())
    return 0


def layer_status() -> list[tuple[str, str, bool]]:
    return [(path, desc, (config.TOP / path).exists()) for path, desc in LAYERS]


def cmd_summary(a) -> int:
    st = runtime.require_state()
    print_summary(st)
    return 0


def print_summary(st: dict, results: dict | None = None) -> None:
    print("\n=== rdma-lab summary " + "=" * 60)
    try:
        data = json.loads(timings_path().read_text())
    except (OSError, ValueError):
        data = {}
    steps = data.get("steps", [])
    if steps:
        print("Steps (wall clock):")
        total = 0.0
        for s in steps:
            total += s["seconds"]
            extra = f"  {s['result']}" if s.get("result") else ""
            print(f"  {s['step']:<44} {s['seconds']:>7.1f} s{extra}")
        print(f"  {'sum of the steps':<44} {total:>7.1f} s")
        if data.get("wall_seconds"):
            print(f"  {'make lab, wall clock (set-up excluded)':<44} {data['wall_seconds']:>7.1f} s")
    probes = checks.probe_all(st)
    print("VMs:")
    for row in vm_table(st, probes):
        print(row)
    obs = checks.observe(st)
    print("Deployed, as seen on the VMs now:")
    seen = False
    for n, kv in obs.items():
        for k, v in kv.items():
            print(f"  {n:<12} {k}: {v}")
            seen = True
    if not seen:
        print("  nothing beyond the lab itself (no DRBD, LIO, SRP, multipath or cluster state found)")
    print("Layers of the collection:")
    for path, desc, present in layer_status():
        print(f"  {'present' if present else 'NOT THERE YET':<13}  {desc:<72} ({path})")
    print_access(st)


def run_playbook(name: str, inv: Path, extra_vars: dict | None = None) -> tuple[int, float]:
    pb = config.TOP / "playbooks" / name
    t0 = time.monotonic()
    extra = ["-e", json.dumps(extra_vars)] if extra_vars else []
    log(f"ansible-playbook -i {inv} {pb.relative_to(config.TOP)}" + (f" -e '{extra[1]}'" if extra else ""))
    # output to the terminal as it comes; a playbook takes as long as it takes
    r = proc.run([checks.ansible_bin("ansible-playbook"), "-i", str(inv), *extra, str(pb)], cwd=config.TOP,
                 env=checks.ansible_env(), timeout=None, capture=False)
    return r.returncode, time.monotonic() - t0


def drill_reports_dir() -> Path:
    return runtime.run_dir() / "drills"


# The drill report's phases the distribution is printed for (seconds after the cut, drill_report.py)
DRILL_PHASES = ("peer_lost", "fence_confirmed", "replication_lost", "fence_peer", "promoted", "export_started",
                "target_login", "path_up", "first_ack_after_cut", "io_pause", "io_resumed", "resynced")


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of `values`, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(q * (len(ordered) - 1)))))]


def drill_distribution(reports: list[dict]) -> list[str]:
    """Lines: per phase n, min, median, p90, max over the reports; then the writes and the verdicts."""
    lines = [f"  {'phase (s after the cut)':<24} {'n':>3} {'min':>7} {'median':>7} {'p90':>7} {'max':>7}"]
    for phase in DRILL_PHASES:
        vals = [r["phases"][phase] for r in reports if r.get("phases", {}).get(phase) is not None]
        if vals:
            lines.append(f"  {phase:<24} {len(vals):>3} {min(vals):>7.1f} {percentile(vals, 0.5):>7.1f} "
                         f"{percentile(vals, 0.9):>7.1f} {max(vals):>7.1f}")
        else:
            lines.append(f"  {phase:<24} {0:>3} {'-':>7} {'-':>7} {'-':>7} {'-':>7}")
    acked = sum((r.get("writes") or {}).get("acknowledged") or 0 for r in reports)
    lines.append(f"  writes: {acked} acknowledged; lost {sum(r.get('lost', 0) for r in reports)}, corrupted "
                 f"{sum(r.get('corrupted', 0) for r in reports)}, I/O errors {sum(r.get('io_errors', 0) for r in reports)}")
    lines.append(f"  drills: {sum(1 for r in reports if r.get('passed'))} of {len(reports)} passed; cut: "
                 + ", ".join(f"{r['cut']['node']}" for r in reports))
    return lines


def run_drills(count: int, kind: str, out: Path) -> tuple[list[dict], int]:
    """`count` drills of `kind` in a row on the running lab, their reports written to `out`; stops at
    the first failure. Returns the reports and the last playbook's rc."""
    out.mkdir(parents=True, exist_ok=True)
    reports, rc = [], 0
    for i in range(1, count + 1):
        log(f"drill {i} of {count}: {kind}")
        before = set(out.glob("drill-*.json"))
        rc, secs = run_playbook("failover_drill.yml", runtime.inventory_dir(),
                                {"drill_kind": kind, "drill_report_dir": str(out)})
        new = sorted(set(out.glob("drill-*.json")) - before)
        if new:
            reports.append(json.loads(new[-1].read_text()))
        log(f"drill {i}: {'passed' if rc == 0 else f'FAILED (rc {rc})'} in {secs:.0f} s")
        if rc:
            break
    return reports, rc


def cmd_drill(a) -> int:
    """`make drill N=`: N drills in a row on the running lab (each cuts the Primary of the moment, so
    power cuts alternate the Primary), then the distribution of the phases."""
    runtime.require_state()
    out = drill_reports_dir() / time.strftime("%Y%m%dT%H%M%S")
    t0 = time.monotonic()
    reports, rc = run_drills(a.count, a.kind, out)
    summary = "\n".join(drill_distribution(reports)) + "\n"
    print(f"\n=== {len(reports)} {a.kind} drill(s) in {time.monotonic() - t0:.0f} s; reports in {out} ===")
    print(summary, end="")
    (out / "summary.txt").write_text(summary)
    return 1 if rc or len(reports) < a.count else 0


# The phases the bench compares (seconds after the cut); io_resumed is the goal's figure.
BENCH_PHASES = ("peer_lost", "fence_confirmed", "promoted", "export_started", "target_login", "io_resumed")


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def bench_table(results: dict[str, list[dict]]) -> list[str]:
    """Lines: per phase, each profile's median and worst over its drills, and tuned / stock."""
    names = list(results)
    head = f"  {'phase (s after the cut)':<24}" + "".join(f" {n + ' median':>14} {n + ' worst':>13}" for n in names)
    if {"stock", "tuned"} <= set(names):
        head += f" {'tuned/stock':>12}"
    lines = [head]
    for phase in BENCH_PHASES:
        row, meds = f"  {phase:<24}", {}
        for n in names:
            vals = [r["phases"][phase] for r in results[n] if r.get("phases", {}).get(phase) is not None]
            if vals:
                meds[n] = median(vals)
                row += f" {meds[n]:>14.1f} {max(vals):>13.1f}"
            else:
                row += f" {'-':>14} {'-':>13}"
        if {"stock", "tuned"} <= set(names):
            row += f" {meds['tuned'] / meds['stock']:>12.2f}" if meds.get("stock") and "tuned" in meds else f" {'-':>12}"
        lines.append(row)
    for n in names:
        rs = results[n]
        lines.append(f"  {n}: {sum(1 for r in rs if r.get('passed'))} of {len(rs)} drills passed; writes "
                     f"{sum((r.get('writes') or {}).get('acknowledged') or 0 for r in rs)} acknowledged, lost "
                     f"{sum(r.get('lost', 0) for r in rs)}, corrupted {sum(r.get('corrupted', 0) for r in rs)}, "
                     f"I/O errors {sum(r.get('io_errors', 0) for r in rs)}")
    return lines


def bench_results(dirs: list[str]) -> dict[str, list[dict]]:
    """The drill reports of earlier bench runs (their bench.json), profile by profile, in order."""
    results: dict[str, list[dict]] = {}
    for d in dirs:
        path = Path(d) / "bench.json"
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise LabError(f"--table {d}: cannot read {path}: {exc}") from exc
        for profile, reports in data.get("results", {}).items():
            results.setdefault(profile, []).extend(reports)
    return results


def cmd_bench(a) -> int:
    """`make failover-bench`: per timer profile, a fresh lab, site.yml, N power cuts (alternating the
    Primary); then one table. Reports under .cache/lab/bench/<UTC>/<profile>/; the last lab is left running.
    With --table DIR...: only the table of earlier runs, their drills pooled per profile."""
    if a.table:
        print("\n".join(bench_table(bench_results(a.table))))
        return 0
    profiles = [p for p in a.profiles.split(",") if p]
    unknown = [p for p in profiles if p not in config.TIMER_PROFILES]
    if unknown or not profiles:
        raise LabError(f"--profiles {a.profiles!r}: a comma-separated list of {', '.join(config.TIMER_PROFILES)}")
    out = config.TOP / ".cache" / "lab" / "bench" / time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    results, failed = {}, []
    for profile in profiles:
        t0 = time.monotonic()
        with runtime.lock():
            do_up(timers=profile)
        rc, secs = run_playbook("site.yml", runtime.inventory_dir())
        log(f"{profile}: site.yml rc {rc} in {secs:.0f} s")
        reports = []
        if rc == 0:
            reports, rc = run_drills(a.count, "power_cut", out / profile)
        results[profile] = reports
        log(f"{profile}: {len(reports)} drill(s), {time.monotonic() - t0:.0f} s in all")
        if rc or len(reports) < a.count:
            failed.append(profile)
    lines = bench_table(results)
    text = "\n".join(lines) + "\n"
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.txt").write_text(text)
    (out / "bench.json").write_text(json.dumps({"count": a.count, "results": results}, indent=1) + "\n")
    print(f"\n=== failover bench: {a.count} power cut(s) per profile; reports in {out} ===")
    print(text, end="")
    if failed:
        log(f"FAILED: {', '.join(failed)} (a drill or site.yml failed; the last lab is left running)")
        return 1
    return 0


def cmd_run(a) -> int:
    """`make lab`: image (cached), up, site.yml, failover_drill.yml, checks, summary."""
    t0 = time.monotonic()
    failed = []
    with runtime.lock():
        st = do_up(a.rxe, a.timeout, a.cluster_manager, a.timers)
    inv = runtime.inventory_dir()
    for pbname in ("site.yml", "failover_drill.yml"):
        if not (config.TOP / "playbooks" / pbname).is_file():
            log(f"playbooks/{pbname} is not in the collection yet: skipped")
            record(f"playbooks/{pbname}", 0.0, result="not there yet")
            continue
        rc, secs = run_playbook(pbname, inv, {"drill_report_dir": str(drill_reports_dir())}
                                if pbname == "failover_drill.yml" else None)
        record(f"playbooks/{pbname}", secs, result="ok" if rc == 0 else f"FAILED (rc {rc})")
        if rc:
            failed.append(pbname)
            break
    st = runtime.require_state()
    t = time.monotonic()
    rc = report_checks(st, require_rxe=True, validate=False)
    record("lab checks after converge", time.monotonic() - t, result="ok" if rc == 0 else "FAILED")
    if rc:
        failed.append("lab checks")
    p = timings_path()
    data = json.loads(p.read_text())
    data["wall_seconds"] = round(time.monotonic() - t0, 1)
    p.write_text(json.dumps(data, indent=1) + "\n")
    print_summary(st)
    if failed:
        log(f"FAILED: {', '.join(failed)} (the lab is left running for inspection)")
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m lab", description="The rdma.ha_storage software lab (QEMU/TCG VMs).")
    sub = p.add_subparsers(dest="command", required=True)

    def add(name: str, func, help_: str):
        sp = sub.add_parser(name, help=help_, description=help_)
        sp.set_defaults(func=func)
        return sp

    sp = add("image", cmd_image, "build the VM image (cached; rebuilt only when its recipe changes)")
    sp.add_argument("--force", action="store_true", help="rebuild even if cached")
    for name, func, help_ in (("up", cmd_up, "boot the lab from clean overlays: VMs, rxe, inventory, checks"),
                              ("run", cmd_run, "what `make lab` does: up, site.yml, failover drill, checks, summary")):
        sp = add(name, func, help_)
        sp.add_argument("--rxe", choices=("auto", "lab", "role"), default="auto",
                        help="who brings rxe0 up: the lab, or roles/rdma_core (auto: the role if it exists)")
        sp.add_argument("--timeout", type=float, default=runtime.BOOT_TIMEOUT, help="boot timeout per VM (s)")
        sp.add_argument("--cluster-manager", choices=config.CLUSTER_MANAGERS, default=config.DEFAULT_CLUSTER_MANAGER,
                        help="who runs the pair: pacemaker (the cluster role, fencing through the lab's BMC) or "
                             "none (the playbooks promote the initial Primary); default %(default)s")
        sp.add_argument("--timers", choices=tuple(config.TIMER_PROFILES), default=config.DEFAULT_TIMERS,
                        help="the takeover's timers: lab (the roles' defaults, TCG-adapted), tuned (lab without "
                             "DRBD notifications) or stock (upstream defaults); docs/failover-tuning.md; "
                             "default %(default)s")
    sp = add("down", cmd_down, "stop the lab (clean shutdown, then QEMU quit) and remove its run dir")
    sp.add_argument("--fast", action="store_true", help="no guest shutdown, just stop QEMU")
    sp = add("status", cmd_status, "VMs, ports, memory, rxe state")
    sp.add_argument("--quick", action="store_true", help="do not ssh into the VMs")
    sp.add_argument("--json", action="store_true")
    sp = add("check", cmd_check, "the lab's checks: rxe ACTIVE with the model's GUID, peers reachable, model valid")
    sp.add_argument("--no-rxe", action="store_true", help="do not require rxe0 (before the RDMA role ran)")
    sp.add_argument("--no-validate", action="store_true", help="do not validate the fabric model")
    sp = add("ssh", cmd_ssh, "ssh into a VM (optionally run a command)")
    sp.add_argument("name")
    sp.add_argument("command", nargs=argparse.REMAINDER)
    for name, func, help_ in (("power-off", cmd_power_off, "power cut: kill the VM's QEMU, no guest shutdown"),
                              ("start", cmd_start, "boot a powered-off VM (its disks keep their state)"),
                              ("restart", cmd_restart, "reboot a VM and wait for ssh (--hard: reset, no shutdown)")):
        sp = add(name, func, help_)
        sp.add_argument("name")
        sp.add_argument("--json", action="store_true", help="print the event as JSON")
        if name != "power-off":
            sp.add_argument("--timeout", type=float, default=runtime.BOOT_TIMEOUT)
        if name == "restart":
            sp.add_argument("--hard", action="store_true")
    sp = add("link", cmd_link, "cut or restore one VM's link on a network (QMP set_link)")
    sp.add_argument("name")
    sp.add_argument("net", help="fabric | replication | mgmt")
    sp.add_argument("state", choices=("down", "up"))
    sp.add_argument("--json", action="store_true")
    sp = add("inventory", cmd_inventory, "print the inventory directory of the running lab")
    sp.add_argument("--write", action="store_true", help="rewrite it from the lab's state first")
    add("summary", cmd_summary, "what is deployed and verified, timings, how to get in")
    sp = add("drill", cmd_drill, "run playbooks/failover_drill.yml N times on the running lab; print the distribution")
    sp.add_argument("--count", type=int, default=1, help="drills in a row (default 1); stops at the first failure")
    sp.add_argument("--kind", choices=("power_cut", "replication_cut", "fabric_cut"), default="power_cut")
    sp = add("soak", soak.cmd_soak, "idle soak: the converged pair left alone for N minutes; false alarms and margins")
    sp.add_argument("--minutes", type=float, default=30.0, help="how long (default 30)")
    sp = add("bench", cmd_bench, "per timer profile: a fresh lab, site.yml, N power cuts; one table of the phases")
    sp.add_argument("--count", type=int, default=5, help="power cuts per profile (default 5)")
    sp.add_argument("--profiles", default="stock,tuned", help="comma-separated timer profiles (default stock,tuned)")
    sp.add_argument("--table", nargs="+", metavar="DIR", help="print the table of earlier runs (their bench.json) instead")
    return p


def main(argv: list[str] | None = None) -> int:
    _env()
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (LabError, image.ImageError, proc.ProcError, KeyError) as e:
        msg = e.args[0] if isinstance(e, KeyError) and e.args else e
        print(f"[lab] error: {msg}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("[lab] interrupted", file=sys.stderr)
        return 130
