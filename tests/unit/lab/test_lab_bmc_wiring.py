"""The lab's BMC wired into the lab: QEMU's guestfwd, the inventory, LabPower on the lab's power
controls (faked), and the BMC process `lab up` starts and `lab down` stops."""
import shutil
import sys
from pathlib import Path

import pytest

from lab import bmc, config, inventory, qemu, runtime

needs_openssl = pytest.mark.skipif(not shutil.which("openssl"), reason="openssl CLI not installed")


def test_guestfwd_only_on_the_storage_vms():
    def netdev(name, bmc_port):
        vm = config.vm_by_name(name)
        argv = qemu.qemu_argv(vm, kernel=Path("/k"), initrd=Path("/i"), overlay=Path("/o"),
                              disks={role: Path(f"/{role}") for role in dict(vm.disks)}, run_dir=Path("/run"),
                              ssh_port=2270, pubkey="ssh-ed25519 AAAA x", bmc_port=bmc_port)
        return [a for a in argv if a.startswith("user,")][0]

    a = netdev("storage-a", 2279)
    fwd = [o for o in a.split(",") if o.startswith("guestfwd=")]
    assert fwd == [f"guestfwd=tcp:10.0.2.100:443-cmd:{sys.executable} {Path(bmc.__file__).resolve()} relay 2279"]
    assert "restrict=on" in a and "hostfwd=tcp:127.0.0.1:2270-:22" in a
    assert "guestfwd" not in netdev("initiator-1", 2279)
    assert "guestfwd" not in netdev("storage-b", None)


def test_inventory_gives_the_storage_vms_the_bmc(tmp_path):
    b = {"port": 2279, "username": "rdma-lab", "password": "pw", "certfile": "/r/bmc-cert.pem", "keyfile": "/r/k",
         "log": "/r/bmc.log"}
    h = inventory.hosts(tmp_path, {vm.name: 2270 + i for i, vm in enumerate(config.VMS)}, Path("/l"), {}, b)
    hosts = h["all"]["children"]["rdma_lab"]["hosts"]
    assert hosts["storage-a"]["rdma_lab_bmc"] == hosts["storage-b"]["rdma_lab_bmc"] == {
        "address": "10.0.2.100", "port": 443, "username": "rdma-lab", "password": "pw", "ssl_insecure": True,
        "systems": {"storage-a": "/redfish/v1/Systems/storage-a", "storage-b": "/redfish/v1/Systems/storage-b"},
        "controller_address": "127.0.0.1", "controller_port": 2279, "certificate": "/r/bmc-cert.pem",
        "log": "/r/bmc.log"}
    assert "rdma_lab_bmc" not in hosts["initiator-1"]
    assert "keyfile" not in str(h)
    no_bmc = inventory.hosts(tmp_path, {vm.name: 2270 for vm in config.VMS}, Path("/l"), {})
    assert "rdma_lab_bmc" not in str(no_bmc)
    assert "cluster_fence_devices" not in str(no_bmc)


def test_inventory_gives_the_pair_one_fence_redfish_device_per_storage_vm(tmp_path):
    b = {"port": 2279, "username": "rdma-lab", "password": "pw", "certfile": "/r/c", "keyfile": "/r/k", "log": "/r/l"}
    hosts = inventory.hosts(tmp_path, {vm.name: 2270 for vm in config.VMS}, Path("/l"), {}, b)["all"]["children"][
        "rdma_lab"]["hosts"]
    devices = hosts["storage-a"]["cluster_fence_devices"]
    assert devices == hosts["storage-b"]["cluster_fence_devices"]
    assert "cluster_fence_devices" not in hosts["initiator-1"]
    assert [d["id"] for d in devices] == ["fence_storage-a", "fence_storage-b"]
    for d in devices:
        target = d["id"].removeprefix("fence_")
        attrs = {a["name"]: a["value"] for a in d["instance_attrs"][0]["attrs"]}
        assert d["agent"] == "stonith:fence_redfish"
        assert attrs == {"ip": "10.0.2.100", "ipport": "443", "username": "rdma-lab", "password": "pw",
                         "ssl_insecure": "1", "systems_uri": f"/redfish/v1/Systems/{target}", "pcmk_host_list": target,
                         "pcmk_reboot_timeout": "120s"}
        # fence_redfish under TCG needs more than Pacemaker's default 20 s per start/monitor
        assert [(o["action"], {a["name"]: a["value"] for a in o["attrs"]}["timeout"]) for o in d["operations"]] == [
            ("start", "120s"), ("monitor", "120s")]


class FakeRuntime:
    """runtime's power functions for LabPower, recording what is called."""

    def __init__(self, monkeypatch, running):
        self.running = set(running)
        self.calls = []
        st = {"vms": {n: {"qmp": f"/run/{n}.qmp"} for n in ("storage-a", "storage-b")}}
        monkeypatch.setattr(runtime, "require_state", lambda: st)
        monkeypatch.setattr(runtime, "qemu_pid", lambda n: 4242 if n in self.running else None)
        monkeypatch.setattr(runtime, "power_off", self.power_off)
        monkeypatch.setattr(runtime, "start", self.start)
        monkeypatch.setattr(runtime, "close_master", lambda n: None)
        monkeypatch.setattr(qemu, "qmp", lambda path, cmd, args=None, timeout=10: self.calls.append(("qmp", str(path), cmd)))

    def power_off(self, st, name):
        self.calls.append(("power_off", name))
        self.running.discard(name)
        return 1000.25

    def start(self, st, name, timeout=None):
        self.calls.append(("start", name))
        self.running.add(name)
        return 30.0


def test_lab_power_uses_the_labs_controls(monkeypatch):
    rt = FakeRuntime(monkeypatch, running={"storage-a"})
    logged = []
    power = bmc.LabPower(["storage-a", "storage-b"], log=lambda **e: logged.append(e))
    assert power.power_state("storage-a") == "On" and power.power_state("storage-b") == "Off"
    assert power.reset("storage-a", "ForceOff") == {"power_off_time": 1000.25}
    assert power.reset("storage-a", "ForceOff") == {"result": "ok (already off)"}
    assert rt.calls == [("power_off", "storage-a")]
    assert "power_on_time" in power.reset("storage-a", "On")
    assert power.reset("storage-a", "On") == {"result": "ok (already on)"}
    power.booting["storage-a"].join(10)
    assert logged == [{"method": "-", "path": "-", "vm": "storage-a", "action": "boot",
                       "result": "booted: ssh answers 30.0 s after the start"}]
    power.reset("storage-a", "ForceRestart")
    power.reset("storage-a", "GracefulShutdown")
    assert rt.calls[1:] == [("start", "storage-a"), ("qmp", "/run/storage-a.qmp", "system_reset"),
                            ("qmp", "/run/storage-a.qmp", "system_powerdown")]
    rt.calls.clear()
    details = power.reset("storage-a", "PowerCycle")
    assert rt.calls == [("power_off", "storage-a"), ("start", "storage-a")] and "power_on_time" in details


def test_lab_power_reports_a_failed_start(monkeypatch):
    rt = FakeRuntime(monkeypatch, running=set())
    monkeypatch.setattr(runtime, "start", lambda st, name, timeout=None: rt.calls.append(("start", name)))
    with pytest.raises(bmc.PowerError, match="did not start"):
        bmc.LabPower(["storage-a"]).reset("storage-a", "On")


@needs_openssl
def test_lab_starts_and_stops_its_bmc(tmp_path, monkeypatch):
    """ensure_bmc: port, password, certificate in the state; a daemon that answers; stop_bmc ends it."""
    run = tmp_path / "run"
    run.mkdir()
    monkeypatch.setattr(config, "RUN_DIR", run)
    monkeypatch.setattr(config, "CACHE", tmp_path)
    monkeypatch.setattr(config, "BMC_PORT_BASE", 23179)
    st = {"vms": {n: {"ssh_port": 2270, "qmp": str(run / f"{n}.qmp")} for n in ("storage-a", "storage-b")}}
    runtime.save_state(st)
    b = runtime.ensure_bmc(st)
    try:
        assert runtime.bmc_pid() == b["pid"] and b["port"] >= 23179 and len(b["password"]) >= 20
        assert runtime.load_state()["bmc"]["password"] == b["password"]
        assert bmc.probe(b["port"], b["username"], b["password"], Path(b["certfile"])) == {
            "storage-a": "Off", "storage-b": "Off"}
        assert "bmc" in runtime.lab_pids(st)
        assert runtime.ensure_bmc(st)["pid"] == b["pid"]          # running: left alone
    finally:
        assert runtime.stop_bmc() == ["BMC stopped"]
    assert runtime.bmc_pid() is None
    assert "started" in (run / "bmc.log").read_text()
