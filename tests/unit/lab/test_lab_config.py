"""Pure logic of lab/config.py: MACs, Soft-RoCE GUIDs, addresses, kernel command line."""
import base64
import ipaddress
from pathlib import Path

import pytest

from lab import config

TOP = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("mac, guid", [
    ("52:54:00:12:34:56", "0x505400fffe123456"),       # the example of the issue
    ("52:54:00:77:01:11", "0x505400fffe770111"),
    ("00:1b:21:aa:bb:cc", "0x021b21fffeaabbcc"),       # universal MAC: the U/L bit is set
    ("02:00:00:00:00:01", "0x000000fffe000001"),       # local MAC: the U/L bit is cleared
    ("52-54-00-AB-CD-EF", "0x505400fffeabcdef"),       # dashes and upper case
])
def test_guid_from_mac(mac, guid):
    assert config.guid_from_mac(mac) == guid


@pytest.mark.parametrize("bad", ["", "52:54:00:12:34", "52:54:00:12:34:56:78", "52:54:00:12:34:zz", "525400123456"])
def test_guid_from_mac_rejects_non_macs(bad):
    with pytest.raises(ValueError, match="not a MAC"):
        config.guid_from_mac(bad)


def test_sysfs_guid_spelling():
    assert config.sysfs_guid("0x505400fffe770111") == "5054:00ff:fe77:0111"


def test_mac_for_reads_like_the_address():
    assert config.mac_for(1, 11) == "52:54:00:77:01:11"
    assert config.mac_for(0, 21) == "52:54:00:77:00:21"
    with pytest.raises(ValueError):
        config.mac_for(1, 100)


def test_macs_and_guids_unique_across_the_lab():
    macs = [vm.mac(i) for vm in config.VMS for i in [0] + [n.index for n in vm.nets]]
    assert len(macs) == len(set(macs))
    guids = [config.guid_from_mac(vm.mac(config.FABRIC.index)) for vm in config.VMS]
    assert len(guids) == len(set(guids))


def test_addresses_are_in_their_networks_and_unique():
    for net in config.NETS:
        cidr = ipaddress.ip_network(net.cidr)
        addrs = [net.address(vm.host) for vm in config.VMS if net in vm.nets]
        assert len(addrs) == len(set(addrs))
        assert all(ipaddress.ip_address(a) in cidr for a in addrs)


def test_storage_vms_have_replication_and_a_data_disk():
    for vm in config.VMS:
        if vm.kind == "storage":
            assert config.REPLICATION in vm.nets and vm.data_disk_mb > 0 and vm.memory_mb >= 768
        else:
            assert config.REPLICATION not in vm.nets and vm.data_disk_mb == 0


def test_lookup_errors_name_the_choices():
    with pytest.raises(KeyError, match="storage-a"):
        config.vm_by_name("nope")
    with pytest.raises(KeyError, match="fabric"):
        config.net_by_name("nope")
    assert config.net_by_name("mgmt") is None
    assert config.net_by_name("eth2") is config.REPLICATION


def test_kernel_cmdline_carries_identity_addresses_and_key():
    vm = config.vm_by_name("storage-b")
    line = config.kernel_cmdline(vm, "ssh-ed25519 AAAAC3Nza rdma-lab\n")
    args = dict(a.split("=", 1) for a in line.split() if "=" in a)
    assert args["systemd.hostname"] == "storage-b"
    assert args["net.ifnames"] == "0" and args["root"] == "/dev/vda"
    assert args["rdmalab.net"] == "eth1:10.77.1.12/24,eth2:10.77.2.12/24"
    assert base64.b64decode(args["rdmalab.key"]).decode() == "ssh-ed25519 AAAAC3Nza rdma-lab"
    assert len(args["systemd.machine_id"]) == 32
    assert args["systemd.machine_id"] != config.vm_by_name("storage-a").machine_id
    assert len(line) < 2048  # the kernel's command line limit


def test_each_network_has_its_own_switch_directory_per_checkout(tmp_path):
    a = {n.name: config.switch_dir(tmp_path / "a", n) for n in config.NETS}
    b = {n.name: config.switch_dir(tmp_path / "b", n) for n in config.NETS}
    assert len(set(a.values())) == len(config.NETS)
    assert all(p.parent == tmp_path / "a" for p in a.values())
    assert set(a.values()).isdisjoint(b.values())


def test_a_run_dir_too_deep_for_unix_sockets_is_refused_with_the_fix(tmp_path):
    config.check_socket_paths(tmp_path)
    with pytest.raises(ValueError, match="too long for unix sockets.*RDMA_CACHE"):
        config.check_socket_paths(tmp_path / ("d" * 100))


def test_guid_from_mac_is_the_collections_rule():
    # one copy of the MAC -> GUID rule: lab/ imports the collection's (plugins/module_utils/fabric/ids.py)
    ids = config._fabric_ids()
    assert Path(ids.__file__).resolve() == TOP / "plugins" / "module_utils" / "fabric" / "ids.py"
    for vm in config.VMS:
        mac = vm.mac(config.FABRIC.index)
        assert config.guid_from_mac(mac) == ids.mac_to_guid(mac)
    assert (config.collection_path() / "ansible_collections" / "rdma" / "ha_storage").resolve() == TOP


def test_collection_path_must_lead_to_this_checkout(tmp_path, monkeypatch):
    other = tmp_path / "ansible_collections" / "rdma"
    other.mkdir(parents=True)
    (other / "ha_storage").symlink_to(tmp_path)          # another checkout
    monkeypatch.setenv("RDMA_COLLECTIONS", str(tmp_path))
    assert config.collection_path() != tmp_path           # skipped for the next candidate
    monkeypatch.setattr(config, "CACHE", tmp_path)
    monkeypatch.setattr(config, "_CHECKOUT", tmp_path / "nowhere")
    with pytest.raises(ImportError, match="cannot be imported"):
        config.collection_path()
