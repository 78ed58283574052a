"""`make idle-soak MINUTES=30` (python -m lab soak): does the pair raise a false alarm when nothing is
wrong, and how close does it come? Run on a converged lab under Pacemaker, nothing else running.

For MINUTES, each storage VM pings its peer on the replication network (DRBD, Corosync link 0) and
on the fabric (Corosync link 1) twice a second. Afterwards the soak reads each storage VM's journal
of the window and Corosync's knet link statistics. It reports:
  false alarms  Corosync's "A processor failed" (a token lost), fencing requests, DRBD connection
                losses ("PingAck did not arrive in time", conn( Connected -> ...)), knet links down;
  margins       the worst network round trip against DRBD's ping-timeout and Corosync's token, the
                longest token gap Corosync warned about ("Token has not been received in N ms", logged
                once a gap passes token_warning, 75 % of the token by default) against the token, and
                knet's own worst link latency (since the link came up, converge included).
The ICMP round trip is a stand-in for DRBD's PingAck: both are answered by the guest kernel, with no
user process in the way. Standard library only; the timers are read from the VMs, not assumed.
"""

from __future__ import annotations

import json
import re
import time

from lab import checks, config, runtime
from lab.runtime import LabError, log

PING_INTERVAL = 0.5
PATTERNS = {
    "token_lost": re.compile(r"A processor failed, forming new configuration"),
    "token_warning": re.compile(r"Token has not been received in (\d+) ms"),
    "fence_requested": re.compile(r"Requesting fencing|wants to fence"),
    "drbd_ping_missed": re.compile(r"PingAck did not arrive in time"),
    "drbd_connection_lost": re.compile(r"conn\( (Connected|SyncSource|SyncTarget) -> "),
    "knet_link_down": re.compile(r"link: host: \d+ link: \d+ is down"),
}
# The timers in force, read on the VM: corosync's runtime token, DRBD's net options (drbdsetup show
# prints only what differs from the defaults, so the defaults are printed too).
READ_TIMERS = r"""
echo "token=$(corosync-cmapctl -g runtime.config.totem.token 2>/dev/null | sed 's/.*= //')"
echo "token_warning=$(corosync-cmapctl -g runtime.config.totem.token_warning 2>/dev/null | sed 's/.*= //')"
drbdsetup show --show-defaults 2>/dev/null | grep -E '^\s*(ping-int|ping-timeout|timeout)\s' | sort -u \
  | sed -E 's/^\s*([a-z-]+)\s+([0-9]+).*/drbd_\1=\2/; s/-/_/g'
"""
KNET_STATS = "corosync-cmapctl -m stats 2>/dev/null | grep -E 'knet\\.node[0-9]+\\.link[0-9]+\\.(latency_max|latency_ave|down_count)'"
PING_SUMMARY = re.compile(r"(\d+) packets transmitted, (\d+) received.*?rtt min/avg/max/mdev = "
                          r"([\d.]+)/([\d.]+)/([\d.]+)/([\d.]+) ms", re.S)


def parse_knet(text: str) -> dict[str, dict[str, int]]:
    """`stats.knet.node2.link0.latency_max (u32) = 1234` lines -> {"node2.link0": {"latency_max": 1234}}."""
    out: dict[str, dict[str, int]] = {}
    for m in re.finditer(r"knet\.(node\d+\.link\d+)\.(\w+) \(\w+\) = (\d+)", text):
        out.setdefault(m.group(1), {})[m.group(2)] = int(m.group(3))
    return out


def parse_ping(text: str) -> dict | None:
    m = PING_SUMMARY.search(text)
    if not m:
        return None
    sent, got, mn, avg, mx = m.groups()[:5]
    return {"sent": int(sent), "received": int(got), "rtt_min_ms": float(mn), "rtt_avg_ms": float(avg),
            "rtt_max_ms": float(mx)}


def journal_findings(lines: list[str]) -> dict:
    """journalctl -o cat lines -> counts per pattern, the longest token gap warned about, examples."""
    counts = {k: 0 for k in PATTERNS}
    worst_gap, examples = 0, []
    for line in lines:
        for key, pattern in PATTERNS.items():
            m = pattern.search(line)
            if m:
                counts[key] += 1
                if key == "token_warning":
                    worst_gap = max(worst_gap, int(m.group(1)))
                if len(examples) < 20:
                    examples.append(line.strip()[:200])
    return {"counts": counts, "worst_token_gap_ms": worst_gap or None, "examples": examples}


def peers() -> dict[str, dict[str, str]]:
    """Each storage VM's peer addresses: {"storage-a": {"replication": addr, "fabric": addr}}."""
    nodes = config.HA_PAIR["nodes"]
    out = {}
    for name in nodes:
        peer = config.vm_by_name([n for n in nodes if n != name][0])
        out[name] = {"replication": config.REPLICATION.address(peer.host), "fabric": config.FABRIC.address(peer.host)}
    return out


def soak(minutes: float) -> dict:
    st = runtime.require_state()
    if st.get("cluster_manager") != "pacemaker":
        raise LabError("the idle soak needs the pair under Pacemaker (lab up --cluster-manager pacemaker, then site.yml)")
    seconds = int(minutes * 60)
    addrs = peers()
    timers = {}
    for name in addrs:
        r = runtime.ssh(st, name, READ_TIMERS, timeout=60)
        timers[name] = checks.parse_kv(r.stdout)
        if not timers[name].get("token"):
            raise LabError(f"{name}: Corosync is not running (no runtime token): converge the pair first (site.yml)")
    since = int(time.time())
    log(f"idle soak: {minutes:g} min on {', '.join(addrs)} (timers {st.get('timers', config.DEFAULT_TIMERS)}); "
        f"nothing else should run meanwhile")
    for name, nets in addrs.items():
        script = "\n".join(f"nohup ping -q -i {PING_INTERVAL} -w {seconds} {addr} > /run/rdma-lab-soak-{net}.txt 2>&1 &"
                           for net, addr in nets.items())
        runtime.ssh(st, name, script, timeout=60, check=True)
    time.sleep(seconds + 5)
    result = {"minutes": minutes, "since": since, "timer_profile": st.get("timers", config.DEFAULT_TIMERS), "nodes": {}}
    for name, nets in addrs.items():
        pings = {}
        for net in nets:
            r = runtime.ssh(st, name, f"cat /run/rdma-lab-soak-{net}.txt", timeout=60)
            pings[net] = parse_ping(r.stdout)
        j = runtime.ssh(st, name, f"journalctl -o cat --no-pager --since @{since}", timeout=120)
        k = runtime.ssh(st, name, KNET_STATS, timeout=60)
        result["nodes"][name] = {"timers": timers[name], "ping": pings, "knet": parse_knet(k.stdout),
                                 **journal_findings(j.stdout.splitlines())}
    return result


def summary_lines(result: dict) -> list[str]:
    lines = []
    for name, n in result["nodes"].items():
        t = n["timers"]
        token = int(t.get("token") or 0)
        ping_timeout_ms = int(t.get("drbd_ping_timeout") or 0) * 100
        c = n["counts"]
        alarms = c["token_lost"] + c["fence_requested"] + c["drbd_connection_lost"] + c["knet_link_down"]
        lines.append(f"  {name}: false alarms {alarms} (token lost {c['token_lost']}, fencing requested "
                     f"{c['fence_requested']}, DRBD connection lost {c['drbd_connection_lost']}, DRBD pings missed "
                     f"{c['drbd_ping_missed']}, knet links down {c['knet_link_down']})")
        gap = n["worst_token_gap_ms"]
        warn = t.get("token_warning") or "75"
        if gap:
            lines.append(f"    token {token} ms: longest gap warned about {gap} ms ({gap / token:.0%} of the token)")
        else:
            lines.append(f"    token {token} ms: no gap reached token_warning ({warn} % = {token * int(warn) // 100} ms)")
        for net, p in n["ping"].items():
            if not p:
                lines.append(f"    ping {net}: no summary (did ping run?)")
                continue
            against = (f"DRBD ping-timeout {ping_timeout_ms} ms: {p['rtt_max_ms'] / ping_timeout_ms:.0%}; "
                       if net == "replication" and ping_timeout_ms else "")
            lines.append(f"    ping {net}: {p['received']}/{p['sent']} answered, rtt max {p['rtt_max_ms']:.1f} ms, "
                         f"avg {p['rtt_avg_ms']:.1f} ({against}token: {p['rtt_max_ms'] / token:.0%})")
        for link, s in sorted(n["knet"].items()):
            if "latency_max" in s:
                lines.append(f"    knet {link}: latency max {s['latency_max'] / 1000:.1f} ms, avg "
                             f"{s.get('latency_ave', 0) / 1000:.1f} ms, down {s.get('down_count', 0)} times (since link up)")
    return lines


def cmd_soak(a) -> int:
    result = soak(a.minutes)
    out = runtime.run_dir() / "soaks"
    out.mkdir(parents=True, exist_ok=True)
    path = out / time.strftime("idle-soak-%Y%m%dT%H%M%SZ.json", time.gmtime())
    path.write_text(json.dumps(result, indent=1) + "\n")
    lines = summary_lines(result)
    print(f"\n=== idle soak: {a.minutes:g} min, {result['timer_profile']} timers; report {path} ===")
    print("\n".join(lines))
    alarms = sum(n["counts"][k] for n in result["nodes"].values()
                 for k in ("token_lost", "fence_requested", "drbd_connection_lost", "knet_link_down"))
    return 1 if alarms else 0
