"""lab/qemu.py command lines and lab/checks.py evaluation (no VM needed)."""
import ipaddress
import re
import sys
from pathlib import Path

import pytest

from lab import checks, config, qemu


def argv_for(name, bmc_port=None):
    vm = config.vm_by_name(name)
    return qemu.qemu_argv(vm, kernel=Path("/img/vmlinuz"), initrd=Path("/img/initrd.img"), overlay=Path("/run/o.qcow2"),
                          disks={role: Path(f"/run/{role}.qcow2") for role in dict(vm.disks)}, run_dir=Path("/run"),
                          ssh_port=2270, pubkey="ssh-ed25519 AAAA x", bmc_port=bmc_port)


def opt(argv, flag):
    return [argv[i + 1] for i, a in enumerate(argv) if a == flag]


def test_storage_vm_command_line():
    argv = argv_for("storage-a")
    assert argv[0] == "qemu-system-x86_64"
    assert opt(argv, "-accel") == ["tcg,thread=multi,tb-size=128"] and opt(argv, "-m") == ["768"]
    netdevs = opt(argv, "-netdev")
    assert netdevs[0] == "user,id=mgmt,restrict=on,hostfwd=tcp:127.0.0.1:2270-:22"
    assert "vde,id=fabric,sock=/run/vde-fabric" in netdevs
    assert "vde,id=replication,sock=/run/vde-replication" in netdevs
    assert len(netdevs) == 3
    devs = opt(argv, "-device")
    assert "virtio-net-pci,netdev=fabric,mac=52:54:00:77:01:11,addr=0x4" in devs
    assert any(d.startswith("virtio-blk-pci,drive=data") for d in devs)
    # vda root, vdb data, vdc scratch, vdd data1: the guest names disks in PCI slot order
    blk = [d for d in devs if d.startswith("virtio-blk-pci")]
    assert [re.search(r"drive=(\w+)", d).group(1) for d in blk] == ["root", "data", "scratch", "data1"]
    assert [int(re.search(r"addr=(0x[0-9a-f]+)", d).group(1), 16) for d in blk] == [8, 9, 10, 11]
    assert "file=/run/data1.qcow2,if=none,id=data1,format=qcow2,discard=unmap" in opt(argv, "-drive")
    assert [config.DISK_DEVICES[role] for role in dict(config.vm_by_name("storage-a").disks)] == [
        "/dev/vdb", "/dev/vdc", "/dev/vdd"]
    assert "-daemonize" in argv and opt(argv, "-qmp") == ["unix:/run/storage-a.qmp,server=on,wait=off"]


def test_initiator_has_no_replication_nic_and_no_data_disk():
    argv = argv_for("initiator-1")
    assert opt(argv, "-m") == ["512"]
    assert not any("replication" in n for n in opt(argv, "-netdev"))
    assert not any(d.startswith("virtio-blk-pci") and "drive=root" not in d for d in opt(argv, "-device"))


IPV4 = re.compile(r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d.])")


@pytest.mark.parametrize("bmc_port", [None, 2279])
@pytest.mark.parametrize("name", [vm.name for vm in config.VMS])
def test_no_qemu_command_line_names_a_host_address_outside_loopback(name, bmc_port):
    """The network rule: on the host, traffic only to 127.0.0.0/8. The guest side (-append: the
    guest's own addresses, slirp's guest-side hostfwd target, and guestfwd's guest-side address
    10.0.2.100:443, which exists inside slirp's virtual network only) is the VM's, not the host's."""
    argv = argv_for(name, bmc_port)
    guest_side = f"guestfwd=tcp:{config.BMC_GUEST_ADDRESS}:{config.BMC_GUEST_PORT}-"
    host_side = [a.replace(guest_side, "guestfwd=") for i, a in enumerate(argv) if argv[i - 1] != "-append"]
    found = [ip for a in host_side for ip in IPV4.findall(a)]
    assert found, "the ssh forward on 127.0.0.1 must be found: the pattern works"
    assert all(ipaddress.ip_address(ip).is_loopback for ip in found), found
    netdevs = opt(argv, "-netdev")
    assert all(n.startswith(("user,", "vde,")) for n in netdevs), netdevs
    user = [n for n in netdevs if n.startswith("user,")]
    assert user == [n for n in user if "restrict=on" in n and "hostfwd=tcp:127.0.0.1:" in n]
    assert not any(re.search(r"\b(mcast|udp|connect|listen|localaddr)=", n) for n in netdevs)


def test_switch_command_line_uses_unix_sockets_only():
    net = config.FABRIC
    argv = qemu.switch_argv(net, Path("/run"))
    assert argv[0] == "vde_switch"
    assert opt(argv, "--sock") == ["/run/vde-fabric"] and opt(argv, "--pidfile") == ["/run/vde-fabric.pid"]
    assert "--daemon" in argv and not {"--tap", "-t", "--mgmt", "-M"} & set(argv)
    assert not IPV4.findall(" ".join(argv))


def test_pci_slots_give_eth0_eth1_eth2_in_order():
    argv = argv_for("storage-b")
    nics = [d for d in opt(argv, "-device") if d.startswith("virtio-net-pci")]
    slots = [int(re.search(r"addr=(0x[0-9a-f]+)", d).group(1), 16) for d in nics]
    assert [re.search(r"netdev=(\w+)", d).group(1) for d in nics] == ["mgmt", "fabric", "replication"]
    assert slots == sorted(slots)


GOOD = {"hostname": "storage-a", "rxe_state": "ACTIVE", "rxe_guid": "5054:00ff:fe77:0111", "rxe_netdev": "eth1",
        "ping_fabric_storage-b": "ok", "ping_replication_storage-b": "ok", "ping_fabric_initiator-1": "ok"}


def test_evaluate_good_probe():
    assert checks.evaluate(config.vm_by_name("storage-a"), dict(GOOD), require_rxe=True) == []


@pytest.mark.parametrize("change, expect", [
    ({"rxe_state": "DOWN"}, "DOWN, not ACTIVE"),
    ({"rxe_guid": "5054:00ff:fe77:0112"}, "GUID"),
    ({"rxe_netdev": "eth0"}, "runs on eth0"),
    ({"hostname": "rdma-lab"}, "hostname"),
    ({"ping_replication_storage-b": "FAIL"}, "cannot reach storage-b on the replication network"),
    ({"rxe_state": "absent"}, "no RDMA device rxe0"),
])
def test_evaluate_reports_each_problem(change, expect):
    problems = checks.evaluate(config.vm_by_name("storage-a"), dict(GOOD, **change), require_rxe=True)
    assert len(problems) == 1 and expect in problems[0] and problems[0].startswith("storage-a: ")


def test_evaluate_absent_rxe_is_fine_before_the_rdma_role():
    kv = dict(GOOD, rxe_state="absent")
    assert checks.evaluate(config.vm_by_name("storage-a"), kv, require_rxe=False) == []


def test_probe_script_pings_every_peer_on_shared_networks():
    script = checks.vm_probe_script(config.vm_by_name("storage-a"))
    assert "10.77.1.12" in script and "10.77.2.12" in script and "10.77.1.21" in script
    script = checks.vm_probe_script(config.vm_by_name("initiator-1"))
    assert "10.77.2." not in script and "10.77.1.11" in script and "10.77.1.12" in script


def test_parse_kv():
    assert checks.parse_kv("a=1\nnoise\nb = x=y\n") == {"a": "1", "b": "x=y"}


# --- the lab's executor (docs/lab.md, "The lab's executor") -------------------------------------------
def test_lab_executor_is_ansibles_own_by_default():
    assert checks.lab_strategy_env({}) == {"ANSIBLE_STRATEGY": "linear"}
    assert checks.lab_strategy_env({"RDMA_LAB_STRATEGY": "linear"}) == {"ANSIBLE_STRATEGY": "linear"}


def test_lab_executor_mitogen_comes_from_the_running_interpreter(tmp_path, monkeypatch):
    # a stand-in ansible_mitogen on sys.path: the lookup, whichever venv runs the unit tests
    strategy = tmp_path / "ansible_mitogen" / "plugins" / "strategy"
    strategy.mkdir(parents=True)
    (tmp_path / "ansible_mitogen" / "__init__.py").write_text("")
    (strategy / "mitogen_linear.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "ansible_mitogen", raising=False)
    env = checks.lab_strategy_env({"RDMA_LAB_STRATEGY": "mitogen_linear"})
    assert env == {"ANSIBLE_STRATEGY": "mitogen_linear", "ANSIBLE_STRATEGY_PLUGINS": str(strategy)}


def test_lab_executor_mitogen_is_in_the_dev_venv():
    # the lab runs from .venv (requirements-dev.txt pins mitogen); .venv-lowest has no lab tools
    pytest.importorskip("ansible_mitogen", reason="not the lab's venv (requirements-dev.txt)")
    env = checks.lab_strategy_env({"RDMA_LAB_STRATEGY": "mitogen_linear"})
    assert (Path(env["ANSIBLE_STRATEGY_PLUGINS"]) / "mitogen_linear.py").is_file()


def test_lab_executor_linear_said_explicitly():
    assert checks.lab_strategy_env({"RDMA_LAB_STRATEGY": "linear"}) == {"ANSIBLE_STRATEGY": "linear"}


def test_lab_executor_missing_names_the_fix(monkeypatch):
    monkeypatch.setattr(checks.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(checks.runtime.LabError, match=r"make setup.*RDMA_LAB_STRATEGY=linear"):
        checks.lab_strategy_env({"RDMA_LAB_STRATEGY": "mitogen_linear"})


def test_ansible_env_carries_the_lab_executor(monkeypatch):
    monkeypatch.setenv("RDMA_LAB_STRATEGY", "linear")
    assert checks.ansible_env()["ANSIBLE_STRATEGY"] == "linear"
