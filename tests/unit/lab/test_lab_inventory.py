"""lab/inventory.py: the inventory and `rdma_fabric` model the lab writes."""
import ipaddress
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from lab import config, inventory


def test_fabric_model_follows_the_contract():
    m = inventory.fabric_model()
    assert set(m) == {"partitions", "networks", "nodes", "ha_pairs", "srp"}
    nets = {n["name"]: n for n in m["networks"]}
    assert nets["fabric"] == {"name": "fabric", "cidr": "10.77.1.0/24", "transport": "ethernet", "purpose": "client"}
    assert nets["replication"]["purpose"] == "replication" and nets["replication"]["transport"] == "ethernet"
    nodes = {n["name"]: n for n in m["nodes"]}
    assert [n["kind"] for n in m["nodes"]] == ["storage", "storage", "initiator", "esx"]
    assert [n["name"] for n in m["nodes"]] == [vm.name for vm in config.VMS] + ["esx-1"]
    a = nodes["storage-a"]
    assert a["ports"] == [{"device": "rxe0", "port": 1, "guid": "0x505400fffe770111", "link_layer": "ethernet",
                           "netdev": "eth1", "soft": "rxe"}]
    assert a["interfaces"] == [{"network": "fabric", "address": "10.77.1.11", "netdev": "eth1"},
                               {"network": "replication", "address": "10.77.2.11", "netdev": "eth2"}]
    assert [i["network"] for i in nodes["initiator-1"]["interfaces"]] == ["fabric"]
    pair = m["ha_pairs"][0]
    assert pair["nodes"] == ["storage-a", "storage-b"] and pair["initial_primary"] == "storage-a"
    assert pair["cluster_manager"] == "pacemaker"
    assert pair["replication_network"] == "replication" and pair["client_network"] == "fabric"
    assert pair["volumes"] == [
        {"name": "vol0", "backing_device": "/dev/vdb", "drbd_minor": 0, "drbd_port": 7789,
         "lun_serial": "labvol0", "initiators": ["initiator-1"]},
        # exported to the ESX node only: the lab proves initiator-1 does not see it
        {"name": "vol1", "backing_device": "/dev/vdd", "drbd_minor": 1, "drbd_port": 7790,
         "lun_serial": "labvol1", "initiators": ["esx-1"]}]
    srp = m["srp"]
    assert srp["fast_io_fail_tmo"] < srp["dev_loss_tmo"] and srp["reconnect_delay"] > 0


def test_every_interface_address_is_inside_its_network():
    m = inventory.fabric_model()
    cidrs = {n["name"]: ipaddress.ip_network(n["cidr"]) for n in m["networks"]}
    for node in m["nodes"]:
        for itf in node.get("interfaces", []):
            assert ipaddress.ip_address(itf["address"]) in cidrs[itf["network"]]


def test_model_guid_is_what_rxe_derives_from_the_fabric_mac():
    vms = {vm.name: vm for vm in config.VMS}
    for node in inventory.fabric_model()["nodes"]:
        if node["name"] not in vms:
            continue  # esx-1: a node of the model without a VM
        vm = vms[node["name"]]
        assert node["ports"][0]["guid"] == config.guid_from_mac(vm.mac(config.FABRIC.index))


def test_hosts_inventory_connection_vars(tmp_path):
    ports = {"storage-a": 2270, "storage-b": 2271, "initiator-1": 2272}
    h = inventory.hosts(tmp_path, ports, Path("/top/lab/labctl"))
    grp = h["all"]["children"]["rdma_lab"]
    assert grp["hosts"]["storage-b"] == {"ansible_host": "127.0.0.1", "ansible_port": 2271,
                                         **config.TIMER_PROFILES[config.DEFAULT_TIMERS]["storage_vars"]}
    assert grp["hosts"]["initiator-1"] == {"ansible_host": "127.0.0.1", "ansible_port": 2272}
    v = grp["vars"]
    assert v["ansible_user"] == "root" and v["ansible_python_interpreter"] == "/usr/bin/python3"
    assert v["ansible_ssh_private_key_file"] == str(tmp_path / "ssh" / "id_ed25519")
    assert v["ansible_control_path_dir"].startswith(str(tmp_path))  # per-run ssh masters
    assert "StrictHostKeyChecking=no" in v["ansible_ssh_common_args"]
    # the same for the lab's executor (Mitogen reads variables, not the ssh options)
    assert v["ansible_host_key_checking"] is False and v["ansible_ssh_timeout"] == 60
    assert (v["mitogen_ssh_keepalive_interval"], v["mitogen_ssh_keepalive_count"]) == (5, 4)


def test_written_files_load_as_the_model(tmp_path):
    ports = {vm.name: 3000 + i for i, vm in enumerate(config.VMS)}
    paths = inventory.write(tmp_path / "inv", tmp_path, ports, Path("/x/labctl"))
    assert paths["fabric"] == tmp_path / "inv" / "group_vars" / "all" / "rdma_fabric.yml"
    assert yaml.safe_load(paths["fabric"].read_text()) == {"rdma_fabric": inventory.fabric_model()}
    hosts = yaml.safe_load(paths["hosts"].read_text())
    assert hosts == inventory.hosts(tmp_path, ports, Path("/x/labctl"))
    # the GUID must stay a string: a plain 0x... scalar would be read as an integer
    assert '"0x505400fffe770111"' in paths["fabric"].read_text()


@pytest.mark.parametrize("value", ["yes", "No", "on", "null", "~", "0x10", "10.77.1.0/24", "1e3", "a: b", "- x",
                                   "#c", "", " lead", "trail ", "quote\"d", "new\nline", "end\n", "@at", "*star", "007"])
def test_to_yaml_quotes_what_yaml_would_misread(value):
    assert yaml.safe_load(inventory.to_yaml({"k": value})) == {"k": value}


_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.text(max_size=20))
_data = st.recursive(
    _scalars,
    lambda kids: st.one_of(st.lists(kids, max_size=4), st.dictionaries(st.text(min_size=1, max_size=8), kids, max_size=4)),
    max_leaves=20)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=8), _data, min_size=1, max_size=4))
def test_to_yaml_round_trips(data):
    assert yaml.safe_load(inventory.to_yaml(data)) == data


def test_to_yaml_quotes_keys_too():
    data = {"A\n": 1, "yes": 2, "0x1": 3, "plain_key": 4}
    assert yaml.safe_load(inventory.to_yaml(data)) == data


def test_the_pair_is_run_by_the_cluster_manager_asked_for(tmp_path):
    assert inventory.fabric_model("none")["ha_pairs"][0]["cluster_manager"] == "none"
    with pytest.raises(ValueError, match="one of pacemaker, none"):
        inventory.fabric_model("corosync")
    ports = {vm.name: 3000 + i for i, vm in enumerate(config.VMS)}
    paths = inventory.write(tmp_path / "inv", tmp_path, ports, Path("/x/labctl"), cluster_manager="none")
    assert yaml.safe_load(paths["fabric"].read_text())["rdma_fabric"]["ha_pairs"][0]["cluster_manager"] == "none"


def test_drbd_tcg_timers_keep_the_timeout_below_ping_int():
    """drbd.conf: timeout < ping-int (the drbd role's drbd_ping_int, 2 s = 20 tenths)."""
    defaults = yaml.safe_load((config.TOP / "roles" / "drbd" / "defaults" / "main.yml").read_text())
    timers = config.DRBD_TCG_TIMERS
    assert set(timers) <= set(defaults)
    assert timers["drbd_timeout"] < defaults["drbd_ping_int"] * 10
    assert timers["drbd_ping_timeout"] > defaults["drbd_ping_timeout"]


@pytest.mark.parametrize("timers", sorted(config.TIMER_PROFILES))
def test_each_timer_profile_gives_a_valid_model(timers):
    from ansible_collections.rdma.ha_storage.plugins.module_utils.fabric import model
    assert model.fabric_errors(inventory.fabric_model(timers=timers)) == []


def test_the_timer_profiles_reach_the_storage_vms_and_the_model(tmp_path):
    ports = {vm.name: 3000 + i for i, vm in enumerate(config.VMS)}
    bmc = {"username": "u", "password": "p", "port": 4443, "certfile": "/x/bmc.pem", "log": "/x/bmc.log"}

    def storage_vars(timers):
        h = inventory.hosts(tmp_path, ports, Path("/x/labctl"), bmc=bmc, timers=timers)
        return h["all"]["children"]["rdma_lab"]["hosts"]["storage-a"]

    lab, tuned, stock = storage_vars("lab"), storage_vars("tuned"), storage_vars("stock")
    assert lab["cluster_crm_config"] == tuned["cluster_crm_config"] == stock["cluster_crm_config"] == {
        "stonith-action": "off"}                                      # fencing the lab's way in all
    assert tuned["cluster_drbd_notify"] is False and "cluster_drbd_notify" not in lab and "cluster_drbd_notify" not in stock
    assert "cluster_corosync_token" not in tuned and stock["cluster_corosync_token"] == 3000
    assert (stock["drbd_ping_int"], stock["drbd_ping_timeout"], stock["drbd_timeout"]) == (10, 5, 60)
    assert lab["drbd_ping_timeout"] == tuned["drbd_ping_timeout"] == config.DRBD_TCG_TIMERS["drbd_ping_timeout"]
    assert tuned["cluster_timings"] == stock["cluster_timings"] == lab["cluster_timings"]   # monitors, timeouts
    assert inventory.fabric_model(timers="stock")["srp"] == {}          # the kernel's defaults
    assert inventory.fabric_model(timers="tuned")["srp"] == config.SRP_TIMERS
    with pytest.raises(ValueError, match="one of lab, tuned, stock"):
        inventory.fabric_model(timers="fast")
    paths = inventory.write(tmp_path / "inv", tmp_path, ports, Path("/x/labctl"), bmc=bmc, timers="stock")
    assert yaml.safe_load(paths["fabric"].read_text())["rdma_fabric"]["srp"] == {}


def test_stock_drbd_timers_pass_the_drbd_roles_rule():
    """The drbd role asserts timeout < ping-int and < connect-int (tenths against seconds)."""
    defaults = yaml.safe_load((config.TOP / "roles" / "drbd" / "defaults" / "main.yml").read_text())
    for profile in config.TIMER_PROFILES.values():
        v = {**defaults, **{k: val for k, val in profile["storage_vars"].items() if k.startswith("drbd_")}}
        assert v["drbd_timeout"] < v["drbd_ping_int"] * 10 and v["drbd_timeout"] < v["drbd_connect_int"] * 10
