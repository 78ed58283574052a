"""The lab's BMC: a minimal Redfish service (HTTPS, Basic auth) with one ComputerSystem per lab
VM, so that the cluster runs Debian's real fence_redfish agent against the lab's power controls.

One service per lab, listening on 127.0.0.1 only. The storage VMs reach it at
https://10.0.2.100:443 through their user-mode (slirp) netdev: `guestfwd` with `cmd:` runs
`python3 lab/bmc.py relay PORT` for each connection a guest opens, which copies the bytes to
127.0.0.1:PORT (QEMU's chardev form of guestfwd carries one stream for all connections, and
fence_redfish opens a new connection per request). See docs/lab-fencing.md.

Resources (what fence_redfish reads and posts):
  GET  /redfish/v1/                                        service root (no auth, as Redfish says)
  GET  /redfish/v1/Systems                                 the collection, one member per VM
  GET  /redfish/v1/Systems/<vm>                            PowerState On | Off, the Reset action
  POST /redfish/v1/Systems/<vm>/Actions/ComputerSystem.Reset  {"ResetType": On | ForceOff |
       GracefulShutdown | ForceRestart | PowerCycle}       204 No Content

Power goes through a backend: `LabPower` calls the lab's own controls (lab/runtime.py: power_off,
start; QMP system_reset and system_powerdown through lab/qemu.py); the unit tests inject a fake.
Every request is one JSON line in the log (time, client, method, path, VM, action, result).

Standard library only; this file also runs as a script (`relay`, `serve`) without the lab on
sys.path for the relay, which QEMU starts once per guest connection.
"""

from __future__ import annotations

import argparse
import base64
import hmac
import json
import os
import select
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

RESET_TYPES = ("On", "ForceOff", "GracefulShutdown", "ForceRestart", "PowerCycle")
ROOT = "/redfish/v1"
SYSTEMS = ROOT + "/Systems"
RESET_SUFFIX = "/Actions/ComputerSystem.Reset"
REQUEST_TIMEOUT = 30.0     # s a client may take to send its request (TLS handshake included)


class PowerError(RuntimeError):
    """The backend could not do what was asked (the BMC answers 500 with the message)."""


class PowerBackend:
    """What the service needs from the machine: the systems, their power state, a reset."""

    def systems(self) -> list[str]:
        raise NotImplementedError

    def power_state(self, name: str) -> str:        # "On" | "Off"
        raise NotImplementedError

    def reset(self, name: str, reset_type: str) -> dict:
        """Do `reset_type` to `name`; returns details for the log (e.g. {"power_off_time": t})."""
        raise NotImplementedError


# --- the service -----------------------------------------------------------------------------------
class BMC:
    """The Redfish service: configuration, request log, and the HTTPS server once started."""

    def __init__(self, backend: PowerBackend, *, username: str, password: str, certfile: Path,
                 keyfile: Path, log_path: Path, host: str = "127.0.0.1", port: int = 0):
        if not host.startswith("127."):
            raise ValueError(f"the lab's BMC listens on loopback only, not {host}")
        self.backend = backend
        self.username = username
        self.password = password
        self.log_path = Path(log_path)
        self._log_lock = threading.Lock()
        self.power_lock = threading.Lock()     # one power action at a time
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(certfile), str(keyfile))
        self.tls = ctx
        self.server = _Server((host, port), _Handler)
        self.server.bmc = self
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def start(self) -> "BMC":
        self._thread = threading.Thread(target=self.server.serve_forever, name="bmc", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.server.serve_forever()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def log(self, **entry) -> None:
        entry.setdefault("time", round(time.time(), 3))
        ms = round(entry["time"] * 1000)
        entry["iso"] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"
        line = json.dumps(entry, sort_keys=True)
        with self._log_lock, open(self.log_path, "a") as f:
            f.write(line + "\n")

    def authorized(self, header: str | None) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        try:
            user, pw = base64.b64decode(header[6:], validate=True).decode().split(":", 1)
        except (ValueError, UnicodeDecodeError):
            return False
        return hmac.compare_digest(user.encode(), self.username.encode()) & \
            hmac.compare_digest(pw.encode(), self.password.encode())

    # Redfish documents
    def root(self) -> dict:
        return {"@odata.id": ROOT + "/", "@odata.type": "#ServiceRoot.v1_5_0.ServiceRoot", "Id": "RootService",
                "Name": "rdma-lab BMC", "RedfishVersion": "1.6.0", "Systems": {"@odata.id": SYSTEMS}}

    def collection(self) -> dict:
        members = [{"@odata.id": f"{SYSTEMS}/{n}"} for n in self.backend.systems()]
        return {"@odata.id": SYSTEMS, "@odata.type": "#ComputerSystemCollection.ComputerSystemCollection",
                "Name": "Computer System Collection", "Members@odata.count": len(members), "Members": members}

    def system(self, name: str) -> dict:
        return {"@odata.id": f"{SYSTEMS}/{name}", "@odata.type": "#ComputerSystem.v1_10_0.ComputerSystem",
                "Id": name, "Name": name, "SystemType": "Virtual", "Manufacturer": "QEMU (rdma-lab)",
                "PowerState": self.backend.power_state(name),
                "Actions": {"#ComputerSystem.Reset": {
                    "target": f"{SYSTEMS}/{name}{RESET_SUFFIX}",
                    "ResetType@Redfish.AllowableValues": list(RESET_TYPES)}}}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    bmc: BMC


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "rdma-lab-bmc/1"

    def setup(self) -> None:
        # TLS per connection, in the connection's own thread (a slow client blocks no one else).
        self.request.settimeout(REQUEST_TIMEOUT)
        try:
            self.request = self.server.bmc.tls.wrap_socket(self.request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            self.server.bmc.log(client=self.client_address[0], method="-", path="-", status=0,
                                result=f"TLS handshake failed: {e}")
            self._tls_failed = True
        else:
            self._tls_failed = False
        super().setup()

    def handle(self) -> None:
        if not self._tls_failed:
            super().handle()

    def log_message(self, format: str, *args) -> None:   # noqa: A002 - the base class's name
        pass                                               # our own log instead (BMC.log)

    def _send(self, status: int, body: dict | None = None, headers: dict | None = None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json")
            self.send_header("OData-Version", "4.0")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data and self.command != "HEAD":
            self.wfile.write(data)

    @staticmethod
    def _error(message: str) -> dict:
        return {"error": {"code": "Base.1.0.GeneralError", "message": message}}

    def _dispatch(self) -> None:
        bmc = self.server.bmc
        t0 = time.time()
        path = self.path.split("?", 1)[0].rstrip("/") or "/"
        entry = {"time": round(t0, 3), "client": self.client_address[0], "method": self.command, "path": self.path}
        status, body, headers = 404, self._error(f"no resource {self.path}"), {}
        try:
            body_in = b""
            if self.command == "POST":
                body_in = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            systems = bmc.backend.systems()
            vm = None
            if path.startswith(SYSTEMS + "/"):
                vm = path[len(SYSTEMS) + 1:].split("/", 1)[0]
                entry["vm"] = vm
            if path in (ROOT, "/redfish") and self.command == "GET":
                status, body = 200, bmc.root()           # the service root needs no authentication
            elif not bmc.authorized(self.headers.get("Authorization")):
                status, body = 401, self._error("authentication required")
                headers = {"WWW-Authenticate": 'Basic realm="rdma-lab-bmc"'}
            elif path == SYSTEMS and self.command == "GET":
                status, body = 200, bmc.collection()
            elif vm is not None and vm not in systems:
                status, body = 404, self._error(f"no system {vm!r}")
            elif path == f"{SYSTEMS}/{vm}" and self.command == "GET":
                status, body = 200, bmc.system(vm)
                entry["power_state"] = body["PowerState"]
            elif path == f"{SYSTEMS}/{vm}{RESET_SUFFIX}":
                if self.command != "POST":
                    status, body = 405, self._error("use POST")
                else:
                    status, body = self._reset(vm, body_in, entry)
            elif self.command != "GET":
                status, body = 405, self._error(f"{self.command} not allowed on {self.path}")
        except Exception as e:  # noqa: BLE001 - a BMC answers 500, it does not die
            status, body = 500, self._error(f"{type(e).__name__}: {e}")
        entry.update(status=status, seconds=round(time.time() - t0, 3))
        if status >= 400 and body and "result" not in entry:
            entry["result"] = body["error"]["message"]
        bmc.log(**entry)
        self._send(status, body if status != 204 else None, headers)

    def _reset(self, vm: str, raw: bytes, entry: dict) -> tuple[int, dict | None]:
        bmc = self.server.bmc
        try:
            reset_type = json.loads(raw or b"{}").get("ResetType")
        except (ValueError, AttributeError):
            return 400, self._error("the body is not a JSON object")
        entry["action"] = reset_type
        if reset_type not in RESET_TYPES:
            return 400, self._error(f"ResetType {reset_type!r} is not one of {', '.join(RESET_TYPES)}")
        with bmc.power_lock:
            try:
                details = bmc.backend.reset(vm, reset_type) or {}
            except PowerError as e:
                entry["result"] = f"failed: {e}"
                return 500, self._error(str(e))
        result = details.pop("result", "ok")
        entry.update(details, result=result)
        return 204, None

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = _dispatch


# --- the lab's power backend ------------------------------------------------------------------------
class LabPower(PowerBackend):
    """The lab's VMs through the lab's own controls (lab/runtime.py), read fresh from the run's
    state for every request (labctl and the drills change it too)."""

    def __init__(self, names: list[str], log=None):
        self.names = list(names)
        self.log = log          # BMC.log: the boot's outcome (ssh up, or why not) goes to bmc.log too
        self.booting: dict[str, threading.Thread] = {}

    def systems(self) -> list[str]:
        return list(self.names)

    def power_state(self, name: str) -> str:
        from lab import runtime
        return "On" if runtime.qemu_pid(name) else "Off"

    def _wait_launched(self, name: str, thread: threading.Thread, timeout: float = 60) -> None:
        from lab import runtime
        end = time.monotonic() + timeout
        while time.monotonic() < end and thread.is_alive() and not runtime.qemu_pid(name):
            time.sleep(0.05)
        if not runtime.qemu_pid(name):
            raise PowerError(f"{name}: QEMU did not start (see the run dir's {name}.qemu.log)")

    def _power_on(self, name: str) -> dict:
        """The lab's start in a thread of its own: the answer comes once QEMU runs (as a real BMC
        answers once the power is on); the wait for ssh and the lab's after-boot step go on."""
        from lab import runtime

        def boot() -> None:
            try:
                secs = runtime.start(runtime.require_state(), name)
                result = f"booted: ssh answers {secs:.1f} s after the start"
            except Exception as e:  # noqa: BLE001 - logged, the BMC goes on
                result = f"boot failed: {e}"
                print(f"[lab bmc] {name}: start: {e}", file=sys.stderr, flush=True)
            if self.log:
                self.log(method="-", path="-", vm=name, action="boot", result=result)

        t = threading.Thread(target=boot, name=f"start-{name}", daemon=True)
        self.booting[name] = t
        t.start()
        self._wait_launched(name, t)
        return {"power_on_time": round(time.time(), 3)}

    def reset(self, name: str, reset_type: str) -> dict:
        from lab import qemu, runtime
        st = runtime.require_state()
        on = bool(runtime.qemu_pid(name))
        qmp = Path(st["vms"][name]["qmp"])
        try:
            if reset_type == "ForceOff":
                if not on:
                    return {"result": "ok (already off)"}
                return {"power_off_time": round(runtime.power_off(st, name), 3)}
            if reset_type == "On":
                return {"result": "ok (already on)"} if on else self._power_on(name)
            if reset_type == "GracefulShutdown":
                if not on:
                    return {"result": "ok (already off)"}
                qemu.qmp(qmp, "system_powerdown")          # ACPI power button; the guest shuts down
                return {"result": "ok (ACPI power button pressed)"}
            if reset_type == "ForceRestart":
                if not on:
                    return self._power_on(name)
                qemu.qmp(qmp, "system_reset")               # the reset button: no shutdown
                runtime.close_master(name)
                return {"reset_time": round(time.time(), 3)}
            if reset_type == "PowerCycle":
                details = {"power_off_time": round(runtime.power_off(st, name), 3)} if on else {}
                return {**details, **self._power_on(name)}
        except (runtime.LabError, qemu.QMPError) as e:
            raise PowerError(str(e)) from None
        raise PowerError(f"unknown ResetType {reset_type}")


# --- per-run material, the relay, and the process the lab starts -----------------------------------
def make_certificate(directory: Path, guest_address: str, timeout: float = 60) -> tuple[Path, Path]:
    """A self-signed certificate for this run (EC P-256, 30 days) with the guests' and the host's
    address as subjectAltName, made with the openssl CLI; returns (certfile, keyfile)."""
    import subprocess
    cert, key = directory / "bmc-cert.pem", directory / "bmc-key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "30", "-subj", "/CN=rdma-lab-bmc",
                    "-addext", f"subjectAltName=IP:{guest_address},IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)],
                   check=True, timeout=timeout, stdin=subprocess.DEVNULL, capture_output=True)
    os.chmod(key, 0o600)
    return cert, key


def relay(port: int, host: str = "127.0.0.1", stdin=None, stdout=None) -> int:
    """Copy this process's stdin/stdout (QEMU's guestfwd cmd: a guest's TCP connection) to and
    from host:port until either side closes."""
    fin = stdin if stdin is not None else sys.stdin.buffer
    fout = stdout if stdout is not None else sys.stdout.buffer
    try:
        s = socket.create_connection((host, port), timeout=10)
    except OSError:
        return 1        # nothing on stderr: under guestfwd it is the guest's connection too
    with s:
        s.settimeout(None)
        return _copy(s, fin.fileno(), fout.fileno())


def _copy(s: socket.socket, in_fd: int, out_fd: int) -> int:
    open_in = True
    while True:
        ready = select.select([s, in_fd] if open_in else [s], [], [], 300)[0]
        if not ready:
            return 0                     # idle for 5 minutes: give up
        if in_fd in ready:
            data = os.read(in_fd, 65536)
            if data:
                s.sendall(data)
            else:
                open_in = False
                s.shutdown(socket.SHUT_WR)
        if s in ready:
            data = s.recv(65536)
            if not data:
                return 0                 # the BMC closed: exiting closes the guest's connection
            os.write(out_fd, data)


def serve(run_dir: Path, daemon: bool = False) -> int:
    """The lab's BMC process: configuration from <run_dir>/state.json ("bmc"), log to bmc.log.

    daemon: bind the socket, then detach (double fork, new session, output to bmc.out) and
    write bmc.pid; the starting process exits 0 once the service answers connections (like
    QEMU's -daemonize), non-zero with the reason on stderr if it cannot bind."""
    top = str(Path(__file__).resolve().parent.parent)
    if top not in sys.path:
        sys.path.insert(0, top)
    from lab import config
    st = json.loads((run_dir / "state.json").read_text())
    b = st["bmc"]
    power = LabPower(config.bmc_systems())
    bmc = BMC(power, username=b["username"], password=b["password"],
              certfile=Path(b["certfile"]), keyfile=Path(b["keyfile"]), log_path=run_dir / "bmc.log", port=b["port"])
    power.log = bmc.log
    pidfile = run_dir / "bmc.pid"
    if daemon:
        pidfile.unlink(missing_ok=True)
        if os.fork():
            end = time.monotonic() + 10
            while time.monotonic() < end and not pidfile.exists():
                time.sleep(0.02)
            return 0 if pidfile.exists() else 1
        os.setsid()
        if os.fork():
            # the first child of a double fork ends here
            os._exit(0)  # pylint: disable=protected-access
        out = os.open(run_dir / "bmc.out", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.close(null)
        os.close(out)
    tmp = pidfile.with_suffix(".tmp")
    tmp.write_text(f"{os.getpid()}\n")
    tmp.replace(pidfile)
    bmc.log(method="-", path="-", result=f"started, pid {os.getpid()}, listening on 127.0.0.1:{bmc.port}")
    print(f"[lab bmc] pid {os.getpid()} listening on 127.0.0.1:{bmc.port}", flush=True)
    try:
        bmc.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


def probe(port: int, username: str, password: str, cafile: Path, timeout: float = 10) -> dict[str, str]:
    """{system: PowerState} as the BMC on 127.0.0.1:port answers it, its certificate verified
    against the run's own (lab check). Raises OSError / ValueError when it does not answer."""
    import urllib.request
    ctx = ssl.create_default_context(cafile=str(cafile))
    auth = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()

    def get(path: str) -> dict:
        req = urllib.request.Request(f"https://127.0.0.1:{port}{path}", headers={"Authorization": auth})
        with urllib.request.urlopen(req, timeout=timeout, context=ctx) as r:
            return json.loads(r.read())

    return {m["@odata.id"].rsplit("/", 1)[1]: get(m["@odata.id"])["PowerState"]
            for m in get(SYSTEMS)["Members"]}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="lab/bmc.py", description=__doc__.split("\n\n", maxsplit=1)[0])
    sub = p.add_subparsers(dest="command", required=True)
    sp = sub.add_parser("relay", help="stdin/stdout <-> 127.0.0.1:PORT (QEMU guestfwd cmd:)")
    sp.add_argument("port", type=int)
    sp = sub.add_parser("serve", help="run the lab's BMC (the lab starts it)")
    sp.add_argument("run_dir", type=Path)
    sp.add_argument("--daemon", action="store_true", help="detach once listening (pidfile bmc.pid)")
    a = p.parse_args(argv)
    if a.command == "relay":
        return relay(a.port)
    return serve(a.run_dir, daemon=a.daemon)


if __name__ == "__main__":
    sys.exit(main())
