"""The esx_* modules against tests/esxsim, a simulated ESX host built here from Debian's govmomi.

The simulator is built once per version of its main.go (.cache/esxsim/), started on 127.0.0.1 on
a free port with the lab's ESX host: SRP HBA vmhba32 and vol1, the volume the lab's model exports
to esx-1, with the serial and NAA LIO gives it. tests/integration/esx/esx_srp.yml runs the
modules against it (info, path policy with check mode and idempotence, a failover and the
rescan that follows, and the wrong-input failures).
"""
import hashlib
import json
import select
import socket
import subprocess
import sys
import time

import pytest

from helpers import CACHE, TOP, run, tail

if str(TOP) not in sys.path:
    sys.path.insert(0, str(TOP))
from lab import config as lab_config  # noqa: E402

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


@pytest.fixture(scope="module")
def esxsim(tmp_path_factory):
    binary = build_simulator()
    volume = esx_volume()
    naa = lio_naa(volume["lun_serial"])
    cfg = {
        "listen": "127.0.0.1:0", "username": "root", "password": PASSWORD,
        "hba": {"device": lab_config.ESX_NODE["ports"][0]["device"], "model": "MT26428 ConnectX VPI (ib_srp)"},
        "targets": [{"name": name, "port_id": f"0x{index:016x}"} for index, name in enumerate(lab_config.HA_PAIR["nodes"], 1)],
        "luns": [{"name": volume["name"], "number": 0, "naa": naa, "serial": volume["lun_serial"],
                  "vendor": "LIO-ORG", "model": volume["name"], "size_mib": 32}],
        "serving": lab_config.HA_PAIR["initial_primary"],
    }
    path = tmp_path_factory.mktemp("esxsim") / "config.json"
    path.write_text(json.dumps(cfg))
    proc = subprocess.Popen([str(binary), "-config", str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        readable = select.select([proc.stdout], [], [], 30)[0]
        assert readable, "esxsim did not say where it listens within 30 s"
        line = proc.stdout.readline()
        assert line, "esxsim ended: " + proc.stderr.read().decode(errors="replace")[-2000:]
        url = json.loads(line)["url"]
        yield {"port": int(url.rsplit(":", 1)[1].split("/")[0]), "naa": naa, "serial": volume["lun_serial"]}
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_esx_modules_against_the_simulator(esxsim):
    extra = {"esx_port": esxsim["port"], "esx_password": PASSWORD, "esx_naa": esxsim["naa"],
             "esx_serial": esxsim["serial"], "esx_closed_port": free_port()}
    t0 = time.monotonic()
    proc = run(["ansible-playbook", "-i", "localhost,", "-e", json.dumps(extra),
                str(TOP / "tests" / "integration" / "esx" / "esx_srp.yml")], TOP, 900, None, "esx-simulator.log")
    assert proc.returncode == 0, f"tests/integration/esx/esx_srp.yml failed after {time.monotonic() - t0:.0f} s " \
                                 f"(.cache/logs/esx-simulator.log):\n" + tail(proc.stdout, 80)
    assert "failed=0" in proc.stdout
