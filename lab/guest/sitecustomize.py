# Baked into the lab image as /etc/python3.11/sitecustomize.py (lab/image.py). Lab only.
#
# Why: Ansible runs every module as a zip (AnsiballZ) that Python imports with zipimport, which
# compiles every source file again on each run (twice in fact: for get_filename and for get_code),
# because the zip holds no bytecode. Under QEMU/TCG that compile costs about 4 s of a 7 s module
# run (measured in a guest: `command: true` 6.5-7.9 s from the zip, 2.5-3.2 s with bytecode);
# a real machine compiles it in ~0.1 s. This keeps the compiled code of
# each source text, keyed by its SHA-256 and the interpreter's magic number, in a root-only
# directory. The code run is the same: only the compile is skipped, and the file name in the
# cached code is set back to the current path so tracebacks stay right. On any error it
# compiles as Python would.
#
# Debian's own sitecustomize.py (the apport hook, a no-op without apport) is kept below.
import zipimport as _zipimport

_CACHE_DIR = "/var/cache/rdma-lab-zipimport"
_compile_source = _zipimport._compile_source


def _cached_compile_source(pathname, source):
    try:
        import _imp
        import marshal
        import os
        from _sha256 import sha256
        from importlib.util import MAGIC_NUMBER

        path = os.path.join(_CACHE_DIR, sha256(MAGIC_NUMBER + source).hexdigest())
    except Exception:  # noqa: BLE001  a cache that fails must not change what Python does
        return _compile_source(pathname, source)
    try:
        with open(path, "rb") as f:
            code = marshal.loads(f.read())
        _imp._fix_co_filename(code, pathname)  # what importlib does with a .pyc
        return code
    except Exception:  # noqa: BLE001  missing or unreadable: compile, and write it (again)
        pass
    code = _compile_source(pathname, source)
    try:
        if os.geteuid() == 0:
            os.makedirs(_CACHE_DIR, mode=0o700, exist_ok=True)
            tmp = f"{path}.{os.getpid()}"
            with open(tmp, "wb") as f:
                f.write(marshal.dumps(code))
            os.replace(tmp, path)
    except OSError:
        pass
    return code


_zipimport._compile_source = _cached_compile_source

# install the apport exception handler if available
try:
    import apport_python_hook
except ImportError:
    pass
else:
    apport_python_hook.install()
