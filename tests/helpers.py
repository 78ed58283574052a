"""Small helpers shared by the static and integration tests (subprocess runs with the project env)."""
import os
import subprocess
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("RDMA_CACHE", TOP / ".cache"))


def run(cmd, cwd=TOP, timeout=1800, env=None, log=None):
    """Run a command; return CompletedProcess with stdout+stderr merged in .stdout.

    With ``log`` the output also goes to that file (kept for post-mortems under .cache/logs).
    """
    full_env = dict(os.environ)
    full_env.update(env or {})
    proc = subprocess.run(cmd, cwd=cwd, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=timeout, check=False)
    if log:
        path = CACHE / "logs" / log
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(proc.stdout)
    return proc


def tail(text, lines=60):
    return "\n".join(text.splitlines()[-lines:])
