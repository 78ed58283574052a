"""lab/soak.py: what the idle soak reads off the VMs, and its summary."""
from lab import checks, cli, config, soak

JOURNAL = [
    "[TOTEM ] Token has not been received in 765 ms",
    "[TOTEM ] Token has not been received in 912 ms",
    "drbd vol0: PingAck did not arrive in time.",
    "drbd vol0: conn( Connected -> NetworkFailure )",
    "[KNET  ] link: host: 2 link: 1 is down",
    "nothing to see",
]
PING = """--- 10.77.2.12 ping statistics ---
3600 packets transmitted, 3600 received, 0% packet loss, time 1799000ms
rtt min/avg/max/mdev = 0.412/1.870/143.220/3.101 ms
"""
KNET = """stats.knet.node2.link0.down_count (u32) = 0
stats.knet.node2.link0.latency_ave (u32) = 1650
stats.knet.node2.link0.latency_max (u32) = 211345
stats.knet.node2.link1.latency_max (u32) = 98000
"""


def test_the_journal_findings_count_each_alarm_and_keep_the_longest_token_gap():
    f = soak.journal_findings(JOURNAL)
    assert f["counts"] == {"token_lost": 0, "token_warning": 2, "fence_requested": 0, "drbd_ping_missed": 1,
                           "drbd_connection_lost": 1, "knet_link_down": 1}
    assert f["worst_token_gap_ms"] == 912 and len(f["examples"]) == 5
    assert soak.journal_findings(["quiet"])["worst_token_gap_ms"] is None


def test_ping_and_knet_statistics_are_parsed():
    assert soak.parse_ping(PING) == {"sent": 3600, "received": 3600, "rtt_min_ms": 0.412, "rtt_avg_ms": 1.87,
                                     "rtt_max_ms": 143.22}
    assert soak.parse_ping("ping: connect: Network is unreachable") is None
    assert soak.parse_knet(KNET) == {"node2.link0": {"down_count": 0, "latency_ave": 1650, "latency_max": 211345},
                                     "node2.link1": {"latency_max": 98000}}
    assert checks.parse_kv("token=1000\ndrbd_ping_timeout=20\nnoise") == {"token": "1000", "drbd_ping_timeout": "20"}


def test_each_storage_vm_pings_its_peer_on_both_networks():
    p = soak.peers()
    assert set(p) == set(config.HA_PAIR["nodes"])
    assert p["storage-a"] == {"replication": "10.77.2.12", "fabric": "10.77.1.12"}


def test_the_summary_sets_each_figure_against_its_timer():
    node = {"timers": {"token": "1000", "drbd_ping_timeout": "20"},
            "ping": {"replication": soak.parse_ping(PING), "fabric": None},
            "knet": soak.parse_knet(KNET), **soak.journal_findings(JOURNAL)}
    lines = soak.summary_lines({"nodes": {"storage-a": node}})
    assert lines[0].startswith("  storage-a: false alarms 2 (token lost 0, fencing requested 0, DRBD connection lost 1")
    assert lines[1] == "    token 1000 ms: longest gap warned about 912 ms (91% of the token)"
    assert "rtt max 143.2 ms" in lines[2] and "DRBD ping-timeout 2000 ms: 7%" in lines[2] and "token: 14%" in lines[2]
    assert lines[3] == "    ping fabric: no summary (did ping run?)"
    assert lines[4].startswith("    knet node2.link0: latency max 211.3 ms")
    quiet = dict(node, **soak.journal_findings([]))
    assert soak.summary_lines({"nodes": {"storage-a": quiet}})[1] == (
        "    token 1000 ms: no gap reached token_warning (75 % = 750 ms)")


def test_the_parser_knows_the_soak():
    a = cli.build_parser().parse_args(["soak", "--minutes", "2"])
    assert (a.minutes, a.func) == (2.0, soak.cmd_soak)
