"""Small helpers shared by the static and integration tests (programs run with the project env).

Programs are run through lab/proc.py, the one subprocess helper of lab/ and tests/.
"""
import os
import re
import sys
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("RDMA_CACHE", TOP / ".cache"))
# lab/ is a plain package at the top of the checkout (tests/unit/lab/conftest.py does the same)
if str(TOP) not in sys.path:
    sys.path.insert(0, str(TOP))

from lab import proc  # noqa: E402  (needs TOP on sys.path)


def run(cmd, cwd=TOP, timeout=1800, env=None, log=None, input=None):
    """Run a command; return CompletedProcess with stdout+stderr merged in .stdout.

    env adds to os.environ. A timeout gives rc 124 (its message ends .stdout). With ``log`` the
    output also goes to that file under .cache/logs (kept for post-mortems).
    """
    return proc.run(cmd, cwd=cwd, timeout=timeout, env=env, merge=True, input=input,
                    log=CACHE / "logs" / log if log else None)


def tail(text, lines=60):
    return "\n".join(text.splitlines()[-lines:])


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_BOX_PREFIX = re.compile(r"^[\s\u2500-\u257f]*", re.MULTILINE)


def plain(text):
    """Molecule's console output as one line of words: no colour codes, no box-drawing margin, and
    the lines it wrapped at the terminal's width joined again (so a phrase can be searched)."""
    return " ".join(_BOX_PREFIX.sub("", _ANSI.sub("", text)).split())
