"""lab/cli.py: the `drill` command's distribution, the `bench` table and the options of `up` / `run` / `drill` / `bench`."""
import json

import pytest

from lab import cli, config


def report(node, passed=True, **phases):
    return {"cut": {"node": node}, "passed": passed, "phases": phases, "writes": {"acknowledged": 200},
            "lost": 0, "corrupted": 0, "io_errors": 0}


def test_percentile_is_nearest_rank():
    assert cli.percentile([3.0], 0.5) == 3.0
    assert cli.percentile([5.0, 1.0, 3.0], 0.5) == 3.0
    assert cli.percentile(list(map(float, range(1, 11))), 0.9) == 9.0
    assert cli.percentile([1.0, 2.0], 1.0) == 2.0


def test_distribution_over_the_drills():
    lines = cli.drill_distribution([
        report("storage-a", peer_lost=2.0, first_ack_after_cut=20.0, io_pause=21.0),
        report("storage-b", peer_lost=4.0, first_ack_after_cut=30.0, io_pause=31.0),
        report("storage-a", passed=False, peer_lost=3.0, first_ack_after_cut=None)])
    rows = {line.split()[0]: line.split() for line in lines[1:-2]}
    assert rows["peer_lost"][1:] == ["3", "2.0", "3.0", "4.0", "4.0"]
    assert rows["first_ack_after_cut"][1:] == ["2", "20.0", "20.0", "30.0", "30.0"]   # even n: the lower median
    assert rows["fence_confirmed"][1:] == ["0", "-", "-", "-", "-"]
    assert lines[-2] == "  writes: 600 acknowledged; lost 0, corrupted 0, I/O errors 0"
    assert lines[-1] == "  drills: 2 of 3 passed; cut: storage-a, storage-b, storage-a"


def test_parser_knows_the_cluster_manager_and_the_drill():
    p = cli.build_parser()
    assert p.parse_args(["up"]).cluster_manager == config.DEFAULT_CLUSTER_MANAGER == "pacemaker"
    assert p.parse_args(["run", "--cluster-manager", "none"]).cluster_manager == "none"
    a = p.parse_args(["drill", "--count", "20"])
    assert (a.count, a.kind, a.func) == (20, "power_cut", cli.cmd_drill)
    assert p.parse_args(["drill", "--kind", "fabric_cut"]).kind == "fabric_cut"
    with pytest.raises(SystemExit):
        p.parse_args(["drill", "--kind", "cable_cut"])

    assert p.parse_args(["up"]).timers == config.DEFAULT_TIMERS == "lab"
    assert p.parse_args(["run", "--timers", "stock"]).timers == "stock"
    with pytest.raises(SystemExit):
        p.parse_args(["up", "--timers", "fast"])
    a = p.parse_args(["bench"])
    assert (a.count, a.profiles, a.func) == (5, "stock,tuned", cli.cmd_bench)


def test_median_of_an_even_count_is_the_mean_of_the_middle_two():
    assert cli.median([4.0, 1.0, 3.0]) == 3.0
    assert cli.median([4.0, 1.0, 3.0, 2.0]) == 2.5


def test_bench_table_compares_tuned_with_stock():
    lines = cli.bench_table({
        "stock": [report("storage-a", io_resumed=40.0, promoted=20.0),
                  report("storage-b", io_resumed=50.0, promoted=22.0),
                  report("storage-a", io_resumed=60.0, promoted=None)],
        "tuned": [report("storage-a", io_resumed=10.0), report("storage-b", passed=False, io_resumed=14.0)]})
    assert lines[0].split()[-1] == "tuned/stock"
    rows = {line.split()[0]: line.split()[1:] for line in lines[1:-2]}
    assert rows["io_resumed"] == ["50.0", "60.0", "12.0", "14.0", "0.24"]
    assert rows["promoted"] == ["21.0", "22.0", "-", "-", "-"]
    assert rows["peer_lost"] == ["-", "-", "-", "-", "-"]
    assert lines[-2] == "  stock: 3 of 3 drills passed; writes 600 acknowledged, lost 0, corrupted 0, I/O errors 0"
    assert lines[-1].startswith("  tuned: 1 of 2 drills passed; writes 400 acknowledged")


def test_bench_table_pools_earlier_runs(tmp_path, capsys):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "bench.json").write_text(json.dumps({"count": 1, "results": {"tuned": [report("storage-a", io_resumed=10.0)]}}))
    (tmp_path / "b" / "bench.json").write_text(json.dumps({"count": 2, "results": {
        "stock": [report("storage-a", io_resumed=30.0), report("storage-b", io_resumed=50.0)],
        "tuned": [report("storage-b", io_resumed=20.0)]}}))
    assert cli.cmd_bench(cli.build_parser().parse_args(["bench", "--table", str(tmp_path / "a"), str(tmp_path / "b")])) == 0
    rows = {line.split()[0]: line.split()[1:] for line in capsys.readouterr().out.splitlines()}
    assert rows["io_resumed"] == ["15.0", "20.0", "40.0", "50.0", "0.38"]   # tuned first: the order the runs gave
    with pytest.raises(cli.LabError, match="cannot read"):
        cli.bench_results([str(tmp_path / "nowhere")])


def test_bench_refuses_an_unknown_profile():
    a = cli.build_parser().parse_args(["bench", "--profiles", "stock,fast"])
    with pytest.raises(cli.LabError, match="stock,fast"):
        cli.cmd_bench(a)
