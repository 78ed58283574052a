"""lab/qemu.py command lines and lab/checks.py evaluation (no VM needed)."""
import re
from pathlib import Path

import pytest

from lab import checks, config, qemu


def argv_for(name):
    vm = config.vm_by_name(name)
    return qemu.qemu_argv(vm, kernel=Path("/img/vmlinuz"), initrd=Path("/img/initrd.img"), overlay=Path("/run/o.qcow2"),
                          data_disk=Path("/run/d.qcow2") if vm.data_disk_mb else None, run_dir=Path("/run"),
                          ssh_port=2270, mcast_ports={"fabric": 41000, "replication": 41001}, pubkey="ssh-ed25519 AAAA x")


def opt(argv, flag):
    return [argv[i + 1] for i, a in enumerate(argv) if a == flag]


def test_storage_vm_command_line():
    argv = argv_for("storage-a")
    assert argv[0] == "qemu-system-x86_64"
    assert opt(argv, "-accel") == ["tcg,thread=multi,tb-size=128"] and opt(argv, "-m") == ["768"]
    netdevs = opt(argv, "-netdev")
    assert netdevs[0] == "user,id=mgmt,restrict=on,hostfwd=tcp:127.0.0.1:2270-:22"
    assert "socket,id=fabric,mcast=239.77.1.1:41000,localaddr=127.0.0.1" in netdevs
    assert "socket,id=replication,mcast=239.77.2.1:41001,localaddr=127.0.0.1" in netdevs
    devs = opt(argv, "-device")
    assert "virtio-net-pci,netdev=fabric,mac=52:54:00:77:01:11,addr=0x4" in devs
    assert any(d.startswith("virtio-blk-pci,drive=data") for d in devs)
    assert "-daemonize" in argv and opt(argv, "-qmp") == ["unix:/run/storage-a.qmp,server=on,wait=off"]


def test_initiator_has_no_replication_nic_and_no_data_disk():
    argv = argv_for("initiator-1")
    assert opt(argv, "-m") == ["512"]
    assert not any("replication" in n for n in opt(argv, "-netdev"))
    assert not any("drive=data" in d for d in opt(argv, "-device"))


def test_host_side_addresses_are_loopback_or_the_labs_multicast_groups():
    for vm in config.VMS:
        argv = argv_for(vm.name)
        host_side = " ".join(a for i, a in enumerate(argv) if i == 0 or argv[i - 1] != "-append")
        for ip in re.findall(r"\b\d+\.\d+\.\d+\.\d+\b", host_side):
            assert ip == "127.0.0.1" or ip.startswith("239.77."), ip


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
