"""Stand-in for get-pip.py used by ansible-test's pip bootstrap.

ansible-test downloads get-pip from a host this project cannot reach. This file, copied by
tools/setup.sh to ~/.ansible/test/cache/get_pip_<pip version>.py (one copy per ansible-test in
use: each asks for its own pip version), installs pip with ensurepip and then installs the
packages ansible-test asked for.
"""
import subprocess
import sys

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"])
pkgs = [a for a in args if not a.startswith("-")]
opts = [a for a in args if a.startswith("-")]
if pkgs:
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--disable-pip-version-check"] + opts + pkgs)
