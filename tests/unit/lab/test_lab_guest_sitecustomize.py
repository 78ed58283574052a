"""lab/guest/sitecustomize.py: the guests' bytecode cache for zip imports (Ansible's AnsiballZ).

Run in a child interpreter, so that this session's zipimport is never patched: the cache must
be filled on the first import, used on the second (no compile), give the code the current zip's
path, and fall back to a plain compile when the cache is broken.
"""
import json
import subprocess
import sys
import zipfile

from helpers import TOP

SITECUSTOMIZE = TOP / "lab" / "guest" / "sitecustomize.py"

CHILD = r"""
import json, runpy, sys, zipimport
ns = runpy.run_path(sys.argv[1])
zipimport._compile_source.__globals__["_CACHE_DIR"] = sys.argv[2]
compiles = []
real = ns["_compile_source"]
def counting(pathname, source):
    compiles.append(pathname)
    return real(pathname, source)
zipimport._compile_source.__globals__["_compile_source"] = counting
sys.path.insert(0, sys.argv[3])
import payload_mod
try:
    payload_mod.boom()
except RuntimeError as e:
    tb_file = e.__traceback__.tb_next.tb_frame.f_code.co_filename
print(json.dumps({"value": payload_mod.VALUE, "compiles": len(compiles), "file": payload_mod.boom.__code__.co_filename,
                  "tb_file": tb_file}))
"""


def _zip(path, value):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("payload_mod.py", f"VALUE = {value!r}\n\ndef boom():\n    raise RuntimeError('x')\n")
    return path


def _run(tmp_path, cache, archive):
    out = subprocess.run([sys.executable, "-S", "-c", CHILD, str(SITECUSTOMIZE), str(cache), str(archive)],
                         capture_output=True, text=True, check=True, cwd=tmp_path)
    return json.loads(out.stdout)


def test_second_import_of_the_same_source_is_not_compiled_and_names_the_current_zip(tmp_path):
    cache = tmp_path / "cache"
    first = _run(tmp_path, cache, _zip(tmp_path / "run1.zip", 1))
    assert first["compiles"] == 1 and first["value"] == 1
    assert len(list(cache.iterdir())) == 1
    # the same source in another zip (Ansible's next run, another temp path): no compile
    second = _run(tmp_path, cache, _zip(tmp_path / "run2.zip", 1))
    assert second["compiles"] == 0 and second["value"] == 1
    assert second["file"].endswith("run2.zip/payload_mod.py") and second["tb_file"] == second["file"]
    # another source text is compiled, not taken from the cache
    third = _run(tmp_path, cache, _zip(tmp_path / "run3.zip", 2))
    assert third["compiles"] == 1 and third["value"] == 2


def test_a_broken_cache_entry_falls_back_to_compiling(tmp_path):
    cache = tmp_path / "cache"
    _run(tmp_path, cache, _zip(tmp_path / "run1.zip", 1))
    for entry in cache.iterdir():
        entry.write_bytes(b"not marshal data")
    again = _run(tmp_path, cache, _zip(tmp_path / "run2.zip", 1))
    assert again["value"] == 1 and again["compiles"] == 1
