"""The esx_* modules and the esx_initiator role against tests/esxsim, a simulated ESX host built
here from Debian's govmomi.

The simulator is built once per version of its main.go (.cache/esxsim/), started on 127.0.0.1 on
a free port with the lab's ESX host: SRP HBA vmhba32 and vol1, the volume the lab's model exports
to esx-1, with the serial and NAA LIO gives it. tests/integration/esx/esx_srp.yml runs the
modules against it (info, path policy with check mode and idempotence, a failover and the
rescan that follows, and the wrong-input failures); tests/integration/esx/esx_role.yml applies
the role with the lab's model, to which run_role adds esx-1's IPoIB uplink (the port's vmnic
vmnic_ib0, an address on an IPoIB network): check mode, the run that rescans and sets the policy, the re-run
that changes nothing, and its refusals. tests/integration/esx/esx_vmfs.yml runs community.vmware's
datastore and rescan modules against two simulated hosts that share the LUN (a VMFS made on one,
found by the other's VMFS rescan); tests/integration/esx/esx_network.yml its vSwitch, port group
and VMkernel modules on a host with IPoIB uplinks (vmnic_ib0, vmnic_ib1, driver ib_ipoib).
community.vmware is one of the collections tools/setup.sh unpacks from the ansible wheel.
"""
import hashlib
import json
import re
import select
import socket
import ssl
import subprocess
import sys
import time
import urllib.request

import pytest

from helpers import CACHE, TOP, plain, run, tail

if str(TOP) not in sys.path:
    sys.path.insert(0, str(TOP))
from lab import config as lab_config, inventory as lab_inventory  # noqa: E402

SIM_DIR = TOP / "tests" / "esxsim"
PASSWORD = "esxsim-secret"


def lio_naa(serial):
    """The NAA identifier LIO gives ``serial`` (the collection's lio_wwid, without udev's leading 3)."""
    sys.path.insert(0, str(CACHE / "collections"))
    try:
        from ansible_collections.rdma.ha_storage.plugins.module_utils.fabric import ids
    finally:
        sys.path.pop(0)
    return ids.lio_wwid(serial)[1:]


def esx_volume():
    (volume,) = [v for v in lab_config.VOLUMES if lab_config.ESX_NODE["name"] in v["initiators"]]
    return volume


def build_simulator():
    sources = sorted(SIM_DIR.glob("*.go")) + [SIM_DIR / "build.sh"]
    digest = hashlib.sha256(b"".join(path.read_bytes() for path in sources)).hexdigest()[:16]
    binary = CACHE / "esxsim" / f"esxsim-{digest}"
    if not binary.exists():
        binary.parent.mkdir(parents=True, exist_ok=True)
        proc = run([str(SIM_DIR / "build.sh"), str(binary)], TOP, 600, None, "esxsim-build.log")
        assert proc.returncode == 0, "building tests/esxsim failed (.cache/logs/esxsim-build.log):\n" + tail(proc.stdout)
    return binary


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_simulator(binary, path, serving, **extra):
    """Start esxsim with the lab's ESX host (serving: the pair's node that presents the LUN at
    start, or None; extra: more config, host_name, shared_dir, vmnics); returns (process, port)."""
    volume = esx_volume()
    naa = lio_naa(volume["lun_serial"])
    cfg = {
        "listen": "127.0.0.1:0", "username": "root", "password": PASSWORD,
        "hba": {"device": lab_config.ESX_NODE["ports"][0]["device"], "model": "MT26428 ConnectX VPI (ib_srp)"},
        "targets": [{"name": name, "port_id": f"0x{index:016x}"} for index, name in enumerate(lab_config.HA_PAIR["nodes"], 1)],
        "luns": [{"name": volume["name"], "number": 0, "naa": naa, "serial": volume["lun_serial"],
                  "vendor": "LIO-ORG", "model": volume["name"], "size_mib": 32}],
        "serving": serving or "",
        **extra,
    }
    path.write_text(json.dumps(cfg))
    proc = subprocess.Popen([str(binary), "-config", str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    readable = select.select([proc.stdout], [], [], 30)[0]
    line = proc.stdout.readline() if readable else b""
    if not line:
        proc.kill()
        pytest.fail("esxsim did not say where it listens within 30 s: " + proc.stderr.read().decode(errors="replace")[-2000:])
    url = json.loads(line)["url"]
    return proc, int(url.rsplit(":", 1)[1].split("/")[0])


def stop(proc):
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


IPOIB_VMNICS = [{"device": "vmnic_ib0", "driver": "ib_ipoib", "max_mtu": 4092},
                {"device": "vmnic_ib1", "driver": "ib_ipoib", "max_mtu": 4092}]


@pytest.fixture
def esxsim(tmp_path):
    """A simulator whose LUN the pair's initial Primary presents from the start."""
    volume = esx_volume()
    proc, port = start_simulator(build_simulator(), tmp_path / "config.json", lab_config.HA_PAIR["initial_primary"])
    yield {"port": port, "naa": lio_naa(volume["lun_serial"]), "serial": volume["lun_serial"]}
    stop(proc)


@pytest.fixture
def esxsim_unscanned(tmp_path):
    """A simulator that scanned before the pair exported anything."""
    shared = tmp_path / "luns"
    shared.mkdir()
    proc, port = start_simulator(build_simulator(), tmp_path / "config.json", None,
                                 host_name="esx-1", vmnics=IPOIB_VMNICS, shared_dir=str(shared))
    yield port
    stop(proc)


def test_esx_modules_against_the_simulator(esxsim):
    extra = {"esx_port": esxsim["port"], "esx_password": PASSWORD, "esx_naa": esxsim["naa"],
             "esx_serial": esxsim["serial"], "esx_closed_port": free_port()}
    t0 = time.monotonic()
    proc = run(["ansible-playbook", "-i", "localhost,", "-e", json.dumps(extra),
                str(TOP / "tests" / "integration" / "esx" / "esx_srp.yml")], TOP, 900, None, "esx-simulator.log")
    assert proc.returncode == 0, f"tests/integration/esx/esx_srp.yml failed after {time.monotonic() - t0:.0f} s " \
                                 f"(.cache/logs/esx-simulator.log):\n" + tail(proc.stdout, 80)
    assert "failed=0" in proc.stdout


def serve(port, target):
    """The simulator's control endpoint: the pair's node that presents the LUN now ('' for none)."""
    ctx = ssl._create_unverified_context()  # the simulator's own self-signed certificate
    req = urllib.request.Request(f"https://127.0.0.1:{port}/esxsim/serve?target={target}", method="POST")
    with urllib.request.urlopen(req, context=ctx, timeout=10) as answer:
        assert answer.status == 200


def fabric_with_ipoib_uplink():
    """The lab's model with esx-1's IPoIB uplink for vMotion: its port's vmnic (vmnic_ib0, one of the
    simulator's IPOIB_VMNICS) and an address on an IPoIB network of the default partition (datagram,
    4092 on a 4K IB MTU fabric). The role takes the vSwitch, port group and VMkernel NIC from it."""
    fabric = lab_inventory.fabric_model()
    fabric["partitions"].append({"name": "ib-default", "pkey": "0xffff", "ipoib_mode": "datagram", "mtu": 4092})
    fabric["networks"].append({"name": "vmotion", "cidr": "192.168.100.0/24", "transport": "ipoib",
                               "partition": "ib-default", "purpose": "management"})
    (esx,) = [n for n in fabric["nodes"] if n["name"] == lab_config.ESX_NODE["name"]]
    esx["ports"][0]["vmnic"] = "vmnic_ib0"
    esx["interfaces"] = [{"network": "vmotion", "address": "192.168.100.11", "port": "vmhba32/1"}]
    return fabric


def run_role(tmp_path, port, password=PASSWORD, check=False, name="role", datastore="srp-vol1"):
    inv = {"all": {"hosts": {"esx-1": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable,
        "rdma_fabric": fabric_with_ipoib_uplink(),
        "esx_initiator_api_host": "127.0.0.1", "esx_initiator_api_port": port,
        "esx_initiator_password": password, "esx_initiator_validate_certs": False,
        # esxcli over SSH is not simulated: esx_satp_rule's tests replay recorded esxcli output
        # (tests/unit/plugins/modules/test_esx_satp_rule.py)
        "esx_initiator_claim_rule": False,
        "esx_initiator_datastores": [{"name": datastore, "lun_serial": esx_volume()["lun_serial"]}]}}}}
    path = tmp_path / "inventory.json"
    path.write_text(json.dumps(inv))
    cmd = ["ansible-playbook", "-i", str(path), str(TOP / "tests" / "integration" / "esx" / "esx_role.yml")]
    return run(cmd + (["--check"] if check else []), TOP, 600, None, f"esx-simulator-{name}.log")


def recap(proc):
    match = re.search(r"esx-1\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=\d+\s+failed=(\d+)", proc.stdout)
    assert match, tail(proc.stdout)
    return {"ok": int(match[1]), "changed": int(match[2]), "failed": int(match[3])}


def test_esx_initiator_role_rescans_sets_the_policy_and_then_changes_nothing(tmp_path, esxsim_unscanned):
    port = esxsim_unscanned
    serve(port, lab_config.HA_PAIR["initial_primary"])      # exported after the host's last scan
    check = run_role(tmp_path, port, check=True, name="role-check")
    assert check.returncode == 0 and recap(check)["changed"] == 1, tail(check.stdout)   # the vSwitch
    assert "labvol1 not visible yet; a real run rescans first" in plain(check.stdout)
    assert "Check mode: vSwitchIB would be made; its port group vmotion" in plain(check.stdout)
    first = run_role(tmp_path, port, name="role-first")
    assert first.returncode == 0, tail(first.stdout)
    # the rescan, the policy, the datastore, the vSwitch, the port group, the VMkernel NIC (from the model)
    assert recap(first)["changed"] == 6, tail(first.stdout)
    assert "changed: [esx-1 -> localhost] => (item=192.168.100.11 on vmotion)" in plain(first.stdout)
    assert "changed: [esx-1 -> localhost] => (item=srp-vol1 on labvol1)" in plain(first.stdout)
    again = run_role(tmp_path, port, name="role-again")
    assert again.returncode == 0 and recap(again)["changed"] == 0, tail(again.stdout)
    # safe mode: another datastore name on the LUN that holds srp-vol1 is refused, nothing formatted
    other = run_role(tmp_path, port, name="role-other-datastore", datastore="srp-other")
    assert other.returncode == 2 and recap(other)["changed"] == 0, tail(other.stdout)
    assert "datastore srp-other: naa." in plain(other.stdout)
    assert "holds the VMFS volume(s) srp-vol1, so the role does not format it" in plain(other.stdout)


def test_esx_initiator_role_names_what_to_check_when_a_volume_stays_invisible(tmp_path, esxsim_unscanned):
    port = esxsim_unscanned                                  # nothing exported: the pair is down
    proc = run_role(tmp_path, port, name="role-invisible")
    assert proc.returncode == 2, tail(proc.stdout)
    guid = lab_config.ESX_NODE["ports"][0]["guid"]
    assert (f"esx-1: the volume(s) labvol1 of the model are not visible through vmhba32 (after a rescan). "
            f"Check that the pair's Primary exports them to this host's port GUID(s) {guid}") in plain(proc.stdout)


def test_esx_initiator_role_with_a_wrong_password(tmp_path, esxsim):
    proc = run_role(tmp_path, esxsim["port"], password="not-the-password", name="role-password")
    assert proc.returncode == 2, tail(proc.stdout)
    assert f"127.0.0.1:{esxsim['port']}: the login as 'root' was refused: wrong username or password" in proc.stdout
    assert "not-the-password" not in proc.stdout


def run_playbook(name, extra, log):
    t0 = time.monotonic()
    proc = run(["ansible-playbook", "-i", "localhost,", "-e", json.dumps(extra),
                str(TOP / "tests" / "integration" / "esx" / name)], TOP, 900, None, log)
    assert proc.returncode == 0, f"tests/integration/esx/{name} failed after {time.monotonic() - t0:.0f} s " \
                                 f"(.cache/logs/{log}):\n" + tail(proc.stdout, 80)
    assert "failed=0" in proc.stdout
    return proc


def test_vmfs_on_one_host_then_mounted_by_the_other(tmp_path):
    """Two ESX hosts (two simulators) that share the LUN's content: community.vmware makes the
    VMFS on esx-1, esx-2 mounts it after its VMFS rescan."""
    binary = build_simulator()
    shared = tmp_path / "luns"
    shared.mkdir()
    volume = esx_volume()
    procs = []
    try:
        ports = {}
        for name in ("esx-1", "esx-2"):
            proc, ports[name] = start_simulator(binary, tmp_path / f"{name}.json", lab_config.HA_PAIR["initial_primary"],
                                                host_name=name, shared_dir=str(shared))
            procs.append(proc)
        extra = {"esx_port_1": ports["esx-1"], "esx_port_2": ports["esx-2"], "esx_password": PASSWORD,
                 "esx_naa": lio_naa(volume["lun_serial"])}
        run_playbook("esx_vmfs.yml", extra, "esx-simulator-vmfs.log")
    finally:
        for proc in procs:
            stop(proc)


def test_ipoib_uplinks_vswitch_portgroup_vmknic(tmp_path):
    proc, port = start_simulator(build_simulator(), tmp_path / "config.json", lab_config.HA_PAIR["initial_primary"],
                                 host_name="esx-1", vmnics=IPOIB_VMNICS)
    try:
        run_playbook("esx_network.yml", {"esx_port": port, "esx_password": PASSWORD}, "esx-simulator-network.log")
    finally:
        stop(proc)
