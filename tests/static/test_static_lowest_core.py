"""The lowest ansible-core the collection claims (meta/runtime.yml requires_ansible) is tested:
the unit tests and ansible-test sanity run again with the second virtualenv, .venv-lowest
($RDMA_VENV_LOWEST, built by `make setup` from requirements-lowest.txt).

pytest runs the files of a folder in name order: this file sorts after test_static.py so that
the checks on the main ansible-core report first.
"""
import os
import re
from pathlib import Path

import pytest
import yaml

from helpers import TOP, run, tail

VENV = Path(os.environ.get("RDMA_VENV_LOWEST", TOP / ".venv-lowest"))
# the lowest venv first on PATH: ansible-test, ansible-* and python3.11 are its own
ENV = {"PATH": f"{VENV}/bin:{os.environ.get('PATH', '')}"}


def _minor(version):
    return tuple(int(part) for part in version.split(".")[:2])


def _pinned_core():
    pins = re.findall(r"^ansible-core==(\S+)$", (TOP / "requirements-lowest.txt").read_text(), re.M)
    assert len(pins) == 1, "requirements-lowest.txt pins ansible-core once (make requirements)"
    return pins[0]


@pytest.fixture(scope="module")
def lowest_python():
    python = VENV / "bin" / "python"
    assert python.exists(), f"{VENV} is missing: make setup builds it"
    proc = run([str(python), "-c", "import ansible.release; print(ansible.release.__version__)"])
    assert proc.returncode == 0, tail(proc.stdout)
    assert proc.stdout.strip() == _pinned_core(), f"{VENV} is not built from requirements-lowest.txt: make setup"
    return python


def test_lowest_venv_is_the_claimed_ansible_core():
    claim = yaml.safe_load((TOP / "meta" / "runtime.yml").read_text())["requires_ansible"]
    match = re.fullmatch(r">=\s*(\d+\.\d+)(\.\d+)?", claim)
    assert match, f"requires_ansible {claim!r}: the lowest version is read from '>=X.Y[.Z]'"
    assert _minor(_pinned_core()) == _minor(match.group(1)), (claim, _pinned_core())


def test_unit_tests_on_lowest_ansible_core(lowest_python):
    proc = run([str(lowest_python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/unit"],
               env=ENV, log="unit-lowest-core.log", timeout=1800)
    assert proc.returncode == 0, tail(proc.stdout)


def test_playbooks_and_roles_parse_on_lowest_ansible_core(lowest_python):
    """The playbooks with every role task (all imported statically) parse, and the roles'
    argument specs load: the roles run on the managed nodes in Molecule and the lab with the main
    ansible-core only."""
    for playbook in sorted((TOP / "playbooks").glob("*.yml")):
        proc = run([str(VENV / "bin" / "ansible-playbook"), "--syntax-check", "-i", "localhost,", str(playbook)],
                   env=ENV, log=f"syntax-check-lowest-core-{playbook.stem}.log")
        # The groups that site.yml builds from the model are empty in a syntax check. The
        # community.vmware here is the ansible 12 wheel's (5.x), whose meta/runtime.yml asks for a
        # newer ansible-core than the lowest; on that core the esx_initiator role needs an older
        # community.vmware (galaxy.yml allows >=4.2.0, docs/esx.md), which this venv does not have.
        warnings = [line for line in proc.stdout.splitlines()
                    if "WARNING" in line and "Could not match supplied host pattern" not in line
                    and "Collection community.vmware does not support Ansible version" not in line]
        assert proc.returncode == 0 and not warnings, tail(proc.stdout)
    for role in sorted(p.parent.parent.name for p in (TOP / "roles").glob("*/meta/argument_specs.yml")):
        proc = run([str(VENV / "bin" / "ansible-doc"), "-t", "role", f"rdma.ha_storage.{role}"],
                   env=ENV, log=f"role-spec-lowest-core-{role}.log")
        out = "\n".join(line for line in proc.stdout.splitlines()
                        if "Collection community.vmware does not support Ansible version" not in line)  # see above
        assert proc.returncode == 0 and "WARNING" not in out and "ERROR" not in out, tail(proc.stdout)


def test_ansible_test_sanity_on_lowest_ansible_core(lowest_python, collection_copy):
    dest = collection_copy("-lowest")
    proc = run([str(VENV / "bin" / "ansible-test"), "sanity", "--venv", "--python", "3.11", "--color", "no"],
               cwd=dest, env=ENV, log="ansible-test-sanity-lowest-core.log", timeout=2400)
    assert proc.returncode == 0, tail(proc.stdout, 80)
