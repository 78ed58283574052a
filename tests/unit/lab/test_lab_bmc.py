"""lab/bmc.py: the lab's Redfish BMC, driven with urllib and with Debian's real fence_redfish
(a fake power backend; no VM needed)."""
import base64
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from lab import bmc, config, proc

FENCE_REDFISH = shutil.which("fence_redfish") or "/usr/sbin/fence_redfish"
needs_openssl = pytest.mark.skipif(not shutil.which("openssl"), reason="openssl CLI not installed")
needs_fence_redfish = pytest.mark.skipif(not os.access(FENCE_REDFISH, os.X_OK),
                                         reason="fence_redfish not installed (Debian 12: apt-get install fence-agents)")


class FakePower(bmc.PowerBackend):
    """Two systems; records every reset; ForceOff of an off system is success, like the lab's."""

    def __init__(self):
        self.state = {"storage-a": "On", "storage-b": "On"}
        self.calls = []
        self.fail = None

    def systems(self):
        return list(self.state)

    def power_state(self, name):
        return self.state[name]

    def reset(self, name, reset_type):
        self.calls.append((name, reset_type))
        if self.fail:
            raise bmc.PowerError(self.fail)
        was = self.state[name]
        if reset_type in ("ForceOff", "GracefulShutdown"):
            self.state[name] = "Off"
            return {"result": "ok (already off)"} if was == "Off" else {"power_off_time": 1.5}
        self.state[name] = "On"
        return {}


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    if not shutil.which("openssl"):
        pytest.skip("openssl CLI not installed")
    return bmc.make_certificate(tmp_path_factory.mktemp("bmc-cert"), config.BMC_GUEST_ADDRESS)


@pytest.fixture
def service(tmp_path, tls):
    power = FakePower()
    cert, key = tls
    svc = bmc.BMC(power, username="lab", password="s3cret-pw", certfile=cert, keyfile=key,
                  log_path=tmp_path / "bmc.log").start()
    svc.fake = power
    svc.cert = cert
    yield svc
    svc.stop()


def log_entries(svc):
    return [json.loads(line) for line in svc.log_path.read_text().splitlines()]


def call(svc, path, body=None, password="s3cret-pw", method=None):
    """(status, parsed body or None, headers) of one request, certificate verified against the run's own."""
    ctx = ssl.create_default_context(cafile=str(svc.cert))
    headers = {"Accept": "application/json"}
    if password is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(f"lab:{password}".encode()).decode()
    data = None if body is None else json.dumps(body).encode()
    if data is not None:
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(f"https://127.0.0.1:{svc.port}{path}", data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10, context=ctx) as r:
            raw = r.read()
            return r.status, (json.loads(raw) if raw else None), r.headers
    except urllib.error.HTTPError as e:
        raw = e.read()
        return e.code, (json.loads(raw) if raw else None), e.headers


# --- urllib -----------------------------------------------------------------------------------------
def test_service_root_needs_no_auth_and_names_the_systems(service):
    status, body, _headers = call(service, "/redfish/v1/", password=None)
    assert status == 200 and body["Systems"] == {"@odata.id": "/redfish/v1/Systems"}
    assert body["RedfishVersion"]


def test_systems_need_the_password(service):
    for password in (None, "wrong"):
        status, _body, headers = call(service, "/redfish/v1/Systems", password=password)
        assert status == 401 and headers["WWW-Authenticate"].startswith("Basic")
    status, body, _headers = call(service, "/redfish/v1/Systems")
    assert status == 200
    assert body["Members"] == [{"@odata.id": "/redfish/v1/Systems/storage-a"},
                               {"@odata.id": "/redfish/v1/Systems/storage-b"}]
    assert body["Members@odata.count"] == 2


def test_system_has_power_state_and_reset_action(service):
    status, body, _headers = call(service, "/redfish/v1/Systems/storage-b")
    assert status == 200 and body["Id"] == "storage-b" and body["PowerState"] == "On"
    action = body["Actions"]["#ComputerSystem.Reset"]
    assert action["target"] == "/redfish/v1/Systems/storage-b/Actions/ComputerSystem.Reset"
    assert action["ResetType@Redfish.AllowableValues"] == ["On", "ForceOff", "GracefulShutdown",
                                                           "ForceRestart", "PowerCycle"]
    assert call(service, "/redfish/v1/Systems/nope")[0] == 404


@pytest.mark.parametrize("reset_type", bmc.RESET_TYPES)
def test_every_reset_type_reaches_the_backend(service, reset_type):
    target = "/redfish/v1/Systems/storage-a/Actions/ComputerSystem.Reset"
    status, body, _headers = call(service, target, {"ResetType": reset_type})
    assert (status, body) == (204, None)
    assert service.fake.calls == [("storage-a", reset_type)]
    entry = log_entries(service)[-1]
    assert entry["vm"] == "storage-a" and entry["action"] == reset_type and entry["status"] == 204
    assert entry["result"] == "ok" and abs(entry["time"] - time.time()) < 60 and entry["iso"].endswith("Z")


def test_force_off_of_an_off_system_is_success(service):
    target = "/redfish/v1/Systems/storage-a/Actions/ComputerSystem.Reset"
    assert call(service, target, {"ResetType": "ForceOff"})[0] == 204
    assert call(service, target, {"ResetType": "ForceOff"})[0] == 204
    first, second = log_entries(service)[-2:]
    assert first["power_off_time"] == 1.5 and first["result"] == "ok"
    assert second["result"] == "ok (already off)"
    assert call(service, "/redfish/v1/Systems/storage-a")[1]["PowerState"] == "Off"


def test_bad_requests_are_refused_and_logged(service):
    target = "/redfish/v1/Systems/storage-a/Actions/ComputerSystem.Reset"
    assert call(service, target, {"ResetType": "Nmi"})[0] == 400
    assert call(service, target, method="GET")[0] == 405
    assert call(service, target, {"ResetType": "On"}, password="wrong")[0] == 401
    assert service.fake.calls == []
    service.fake.fail = "QMP socket gone"
    status, body, _headers = call(service, target, {"ResetType": "ForceOff"})
    assert status == 500 and "QMP socket gone" in body["error"]["message"]
    assert [e["status"] for e in log_entries(service)] == [400, 405, 401, 500]
    assert log_entries(service)[-1]["result"] == "failed: QMP socket gone"


def test_probe_is_what_lab_check_asks(service):
    assert bmc.probe(service.port, "lab", "s3cret-pw", service.cert) == {"storage-a": "On", "storage-b": "On"}


def test_it_listens_on_loopback_only(tls):
    with pytest.raises(ValueError):
        bmc.BMC(FakePower(), username="u", password="p", certfile=tls[0], keyfile=tls[1],
                log_path=Path("/dev/null"), host="0.0.0.0")


@needs_openssl
def test_the_certificate_names_the_guests_address(tls):
    r = proc.run(["openssl", "x509", "-in", str(tls[0]), "-noout", "-ext", "subjectAltName"], timeout=30, check=True)
    assert "IP Address:10.0.2.100" in r.stdout and "IP Address:127.0.0.1" in r.stdout


# --- Debian's fence_redfish ---------------------------------------------------------------------------
def fence(svc, action, password="s3cret-pw", systems_uri="/redfish/v1/Systems/storage-a"):
    argv = [FENCE_REDFISH, "--ip", "127.0.0.1", "--ipport", str(svc.port), "--username", "lab",
            "--password", password, "--ssl-insecure", "-o", action]
    if systems_uri:
        argv += ["--systems-uri", systems_uri]
    return proc.run(argv, timeout=120)


def requests_since(svc, n):
    return [(e["method"], e["path"], e.get("action")) for e in log_entries(svc)[n:]]


SYSTEM = ("GET", "/redfish/v1/Systems/storage-a", None)
RESET = "POST", "/redfish/v1/Systems/storage-a/Actions/ComputerSystem.Reset"


@needs_fence_redfish
def test_fence_redfish_status_off_on_reboot(service):
    """fence-agents 4.12.1 (Debian 12): status = one GET of the system; off = GET (status), GET (the
    action's target), POST ForceOff, GET until Off; on likewise with On; reboot = off then on."""
    r = fence(service, "status")
    assert (r.returncode, r.stdout.strip()) == (0, "Status: ON")
    assert requests_since(service, 0) == [SYSTEM]

    n = len(log_entries(service))
    r = fence(service, "off")
    assert (r.returncode, r.stdout.strip()) == (0, "Success: Powered OFF")
    assert requests_since(service, n) == [SYSTEM, SYSTEM, (*RESET, "ForceOff"), SYSTEM]
    assert service.fake.calls == [("storage-a", "ForceOff")]

    r = fence(service, "status")
    assert (r.returncode, r.stdout.strip()) == (2, "Status: OFF")     # fence agents: 2 = off

    n = len(log_entries(service))
    r = fence(service, "off")                      # already off: success without a reset
    assert r.returncode == 0 and requests_since(service, n) == [SYSTEM]

    n = len(log_entries(service))
    r = fence(service, "on")
    assert (r.returncode, r.stdout.strip()) == (0, "Success: Powered ON")
    assert requests_since(service, n) == [SYSTEM, SYSTEM, (*RESET, "On"), SYSTEM]

    n = len(log_entries(service))
    r = fence(service, "reboot")
    assert (r.returncode, r.stdout.strip()) == (0, "Success: Rebooted")
    assert requests_since(service, n) == [SYSTEM, SYSTEM, (*RESET, "ForceOff"), SYSTEM,
                                          SYSTEM, (*RESET, "On"), SYSTEM]
    assert service.fake.calls[-2:] == [("storage-a", "ForceOff"), ("storage-a", "On")]


@needs_fence_redfish
def test_fence_redfish_finds_the_system_and_refuses_a_wrong_password(service):
    r = fence(service, "status", systems_uri=None)   # no systems-uri: the root, the collection, the last member
    assert r.returncode == 0
    assert requests_since(service, 0)[:2] == [("GET", "/redfish/v1", None), ("GET", "/redfish/v1/Systems", None)]
    assert requests_since(service, 0)[2][1] == "/redfish/v1/Systems/storage-b"
    n = len(log_entries(service))
    r = fence(service, "off", password="wrong")
    assert r.returncode != 0 and service.fake.calls == []
    assert [e["status"] for e in log_entries(service)[n:]] == [401]


# --- the relay QEMU's guestfwd starts per guest connection -------------------------------------------
def test_relay_copies_both_ways():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]

        def echo():
            conn = listener.accept()[0]
            with conn:
                data = b""
                while chunk := conn.recv(1024):
                    data += chunk
                conn.sendall(data.upper())

        t = threading.Thread(target=echo, daemon=True)
        t.start()
        guest, qemu_end = socket.socketpair()
        with guest, qemu_end:
            f = qemu_end.makefile("rwb", buffering=0)
            done = threading.Thread(target=bmc.relay, args=(port,), kwargs={"stdin": f, "stdout": f}, daemon=True)
            done.start()
            guest.sendall(b"hello bmc")
            guest.shutdown(socket.SHUT_WR)
            done.join(10)                 # the BMC side closed: the relay ends (its process exits)
            f.close()
            qemu_end.close()
            guest.settimeout(10)
            got = b""
            while chunk := guest.recv(1024):
                got += chunk
    assert got == b"HELLO BMC" and not done.is_alive()


def test_relay_script_runs_without_the_lab_on_the_path(tmp_path):
    """QEMU runs `python3 lab/bmc.py relay PORT` through /bin/sh from its own working directory."""
    script = Path(bmc.__file__).resolve()
    r = subprocess.run([sys.executable, str(script), "relay", "1"], cwd=tmp_path, stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=30, env={"PATH": os.environ.get("PATH", "")}, check=False)
    assert r.returncode == 1 and r.stderr == b""      # nothing listens on port 1; stderr stays clean
