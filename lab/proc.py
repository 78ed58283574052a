"""The one way lab/ and tests/ run a program: `run()`, a thin layer on subprocess.run.

* Nothing raises for the program's sake: a timeout becomes a CompletedProcess with rc 124 (like
  timeout(1)) and a clear stderr, a program that cannot be started (OSError) one with rc 127
  (like a shell). Only check=True raises, ProcError, for any rc but 0.
* Standard input is /dev/null unless `input` is given (or the output goes to the terminal), so
  that no program waits for a terminal.
* `env` adds to (and overrides in) the caller's environment; it does not replace it.
* `log`: an open file takes stdout and stderr (merged) as they come, for long builds; a path
  (str or Path) receives the captured output once the program ended, for post-mortems.

The collection's modules (plugins/) never import this: they run commands through
plugins/module_utils/runner.py, on the managed host.
"""
from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

TIMEOUT_RC = 124
NOT_STARTED_RC = 127
# what run() returns (for annotations elsewhere)
CompletedProcess = subprocess.CompletedProcess


class ProcError(RuntimeError):
    """run(check=True) of a program that did not exit 0; .proc is its CompletedProcess."""

    def __init__(self, proc: subprocess.CompletedProcess):
        self.proc = proc
        said = _text(proc.stderr) or _text(proc.stdout)
        said = " ".join(said.split())[-500:]
        super().__init__(f"`{command_line(proc.args)}` failed (rc {proc.returncode})" + (f": {said}" if said else ""))


def _text(value) -> str:
    if value is None:
        return ""
    return value.decode(errors="replace") if isinstance(value, bytes) else value


def command_line(argv) -> str:
    return " ".join(shlex.quote(str(a)) for a in argv)


def _as(text: bool, value):
    """value (str, bytes or None) as the kind the caller asked for."""
    if value is None:
        return "" if text else b""
    if text:
        return value.decode(errors="replace") if isinstance(value, bytes) else value
    return value if isinstance(value, bytes) else value.encode()


def run(argv, *, timeout: float | None, input=None, cwd=None, env: dict | None = None, log=None,
        check: bool = False, merge: bool = False, text: bool = True,
        capture: bool = True) -> subprocess.CompletedProcess:
    """Run argv (a list, never through a shell) and return its CompletedProcess, which also
    says whether the program was killed for its timeout (.timed_out).

    timeout: seconds, or None for no limit (say so explicitly); on expiry the program is killed
        and the result has rc 124 and stderr "<program>: no answer within N s (killed)".
    input: text (or bytes with text=False) for its standard input.
    env: variables added to os.environ for the program.
    log: an open file (output streamed into it, stderr merged; .stdout/.stderr are empty) or a
        path (the captured output is written there afterwards, the folder created).
    check: raise ProcError unless rc is 0.
    merge: stderr into stdout (.stderr is then empty, but for the message of a timeout or of a
        program that did not start, which is on both).
    text: str in and out (False: bytes).
    capture: False lets the output go to this process's stdout/stderr (and stdin too).
    """
    argv = [str(a) for a in argv]
    full_env = None
    if env is not None:
        full_env = dict(os.environ)
        full_env.update({k: str(v) for k, v in env.items()})
    stream = log if log is not None and hasattr(log, "write") else None
    kwargs: dict = {"cwd": cwd, "env": full_env, "text": text}
    if input is not None:
        kwargs["input"] = input
    elif capture or stream is not None:
        kwargs["stdin"] = subprocess.DEVNULL
    if stream is not None:
        stream.flush()
        kwargs.update(stdout=stream, stderr=subprocess.STDOUT)
    elif capture:
        kwargs.update(stdout=subprocess.PIPE, stderr=subprocess.STDOUT if merge else subprocess.PIPE)
    try:
        proc = subprocess.run(argv, timeout=timeout, check=False, **kwargs)
        proc.stdout = _as(text, proc.stdout)
        proc.stderr = _as(text, proc.stderr)
        proc.timed_out = False
    except subprocess.TimeoutExpired as exc:
        proc = _failed(argv, TIMEOUT_RC, f"{Path(argv[0]).name}: no answer within {timeout:g} s (killed)",
                       exc.stdout, exc.stderr, text=text, merge=merge, stream=stream)
        proc.timed_out = True
    except OSError as exc:
        proc = _failed(argv, NOT_STARTED_RC, f"cannot run {argv[0]}: {exc.strerror or exc}", None, None,
                       text=text, merge=merge, stream=stream)
        proc.timed_out = False
    if log is not None and stream is None:
        path = Path(log)
        path.parent.mkdir(parents=True, exist_ok=True)
        output = _text(proc.stdout) + ("" if merge else _text(proc.stderr))
        path.write_text(output)
    if check and proc.returncode != 0:
        raise ProcError(proc)
    return proc


def _failed(argv, rc: int, message: str, stdout, stderr, *, text: bool, merge: bool, stream):
    """The CompletedProcess of a program that timed out or did not start: message at the end of
    stderr (also of stdout when stderr is merged, and in the log file)."""
    if stream is not None:
        stream.write(f"\n{message}\n")
        stream.flush()
        stdout = stderr = None
    line = _as(text, message + "\n")
    out = _as(text, stdout)
    err = _as(text, stderr) + line
    if merge:
        out = out + line
    return subprocess.CompletedProcess(argv, rc, out, err)
