"""lab/proc.py: the one subprocess helper of lab/ and tests/."""
import sys

import pytest

from lab import proc

PY = sys.executable


def test_output_rc_and_stdin_is_devnull():
    r = proc.run([PY, "-c", "import sys; print('out'); print('err', file=sys.stderr); print(repr(sys.stdin.read()))"],
                 timeout=60)
    assert (r.returncode, r.stdout, r.stderr, r.timed_out) == (0, "out\n''\n", "err\n", False)


def test_input_env_cwd_and_merge(tmp_path):
    r = proc.run([PY, "-c", "import os, sys; print(sys.stdin.read(), os.environ['LAB_X'], os.environ['PATH'] != '', "
                            "os.getcwd(), flush=True); print('e', file=sys.stderr)"],
                 timeout=60, input="in", env={"LAB_X": 1}, cwd=tmp_path, merge=True)
    assert r.returncode == 0 and r.stderr == ""
    assert r.stdout.startswith(f"in 1 True {tmp_path}\n") and "e\n" in r.stdout


def test_timeout_is_rc_124_with_a_clear_message():
    r = proc.run([PY, "-c", "import time; print('started', flush=True); time.sleep(30)"], timeout=1)
    assert r.returncode == proc.TIMEOUT_RC == 124 and r.timed_out
    assert r.stderr.endswith("no answer within 1 s (killed)\n") and r.stdout.startswith("started")


def test_a_program_that_cannot_start_is_rc_127():
    r = proc.run(["/nonexistent/prog", "x"], timeout=5, merge=True)
    assert r.returncode == proc.NOT_STARTED_RC == 127 and not r.timed_out
    assert r.stderr.startswith("cannot run /nonexistent/prog: ") and r.stdout == r.stderr


def test_check_raises_with_the_command_and_what_it_said():
    with pytest.raises(proc.ProcError) as info:
        proc.run([PY, "-c", "import sys; sys.exit('bad thing')"], timeout=60, check=True)
    assert info.value.proc.returncode == 1
    assert str(info.value).endswith("failed (rc 1): bad thing")


def test_log_file_object_streams_and_log_path_keeps_a_copy(tmp_path):
    with open(tmp_path / "stream.log", "w") as logf:
        logf.write("$ header\n")
        r = proc.run([PY, "-c", "import sys; print('o'); print('e', file=sys.stderr)"], timeout=60, log=logf)
    assert r.returncode == 0 and r.stdout == "" and r.stderr == ""
    assert sorted((tmp_path / "stream.log").read_text().splitlines()) == ["$ header", "e", "o"]
    r = proc.run([PY, "-c", "print('kept')"], timeout=60, log=tmp_path / "logs" / "copy.log")
    assert r.stdout == "kept\n" and (tmp_path / "logs" / "copy.log").read_text() == "kept\n"


def test_bytes_in_and_out():
    r = proc.run(["cat"], timeout=60, input=b"\x00\x01", text=False)
    assert r.stdout == b"\x00\x01" and r.stderr == b""
    r = proc.run(["/nonexistent/prog"], timeout=5, text=False)
    assert r.returncode == 127 and r.stderr.startswith(b"cannot run")
