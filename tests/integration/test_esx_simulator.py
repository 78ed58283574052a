"""The esx_* modules and the esx_initiator role against tests/esxsim, a simulated ESX host built
here from Debian's govmomi.

The simulator is built once per version of its main.go (.cache/esxsim/), started on 127.0.0.1 on
a free port with the lab's ESX host: SRP HBA vmhba32 and vol1, the volume the lab's model exports
to esx-1, with the serial and NAA LIO gives it. tests/integration/esx/esx_srp.yml runs the
modules against it (info, path policy with check mode and idempotence, a failover and the
rescan that follows, and the wrong-input failures); tests/integration/esx/esx_role.yml applies
the role with the lab's model: check mode, the run that rescans and sets the policy, the re-run
that changes nothing, and its refusals.
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
    digest = hashlib.sha256((SIM_DIR / "main.go").read_bytes() + (SIM_DIR / "build.sh").read_bytes()).hexdigest()[:16]
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


def start_simulator(binary, path, serving):
    """Start esxsim with the lab's ESX host (serving: the pair's node that presents the LUN at
    start, or None); returns (process, port)."""
    volume = esx_volume()
    naa = lio_naa(volume["lun_serial"])
    cfg = {
        "listen": "127.0.0.1:0", "username": "root", "password": PASSWORD,
        "hba": {"device": lab_config.ESX_NODE["ports"][0]["device"], "model": "MT26428 ConnectX VPI (ib_srp)"},
        "targets": [{"name": name, "port_id": f"0x{index:016x}"} for index, name in enumerate(lab_config.HA_PAIR["nodes"], 1)],
        "luns": [{"name": volume["name"], "number": 0, "naa": naa, "serial": volume["lun_serial"],
                  "vendor": "LIO-ORG", "model": volume["name"], "size_mib": 32}],
        "serving": serving or "",
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
    proc, port = start_simulator(build_simulator(), tmp_path / "config.json", None)
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


def run_role(tmp_path, port, password=PASSWORD, check=False, name="role"):
    inv = {"all": {"hosts": {"esx-1": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable,
        "rdma_fabric": lab_inventory.fabric_model(),
        "esx_initiator_api_host": "127.0.0.1", "esx_initiator_api_port": port,
        "esx_initiator_password": password, "esx_initiator_validate_certs": False}}}}
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
    assert check.returncode == 0 and recap(check)["changed"] == 0, tail(check.stdout)
    assert "labvol1 not visible yet; a real run rescans first" in plain(check.stdout)
    first = run_role(tmp_path, port, name="role-first")
    assert first.returncode == 0, tail(first.stdout)
    assert recap(first)["changed"] == 2, tail(first.stdout)    # the rescan, the policy
    again = run_role(tmp_path, port, name="role-again")
    assert again.returncode == 0 and recap(again)["changed"] == 0, tail(again.stdout)


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
