"""Static checks of the collection, run by `make test` before the unit and Molecule tests.

Each test runs the real tool and asserts on its result; the full output is kept under
.cache/logs/ for post-mortems.
"""
import ast
import re
import sys
import tarfile

import pytest
import yaml

from helpers import TOP, run, tail

PLUGIN_DIRS = {"module": "plugins/modules", "filter": "plugins/filter", "test": "plugins/test"}


def test_ansible_lint_production_profile():
    proc = run(["ansible-lint", "--profile", "production", "--offline", "--nocolor"], log="ansible-lint.log")
    assert proc.returncode == 0, tail(proc.stdout)


def test_changelog_fragments_lint():
    proc = run(["antsibull-changelog", "lint"], log="changelog-lint.log")
    assert proc.returncode == 0 and not proc.stdout.strip(), tail(proc.stdout)


def test_ansible_test_sanity(collection_copy):
    dest = collection_copy()
    proc = run(["ansible-test", "sanity", "--venv", "--python", "3.11", "--color", "no"],
               cwd=dest, log="ansible-test-sanity.log", timeout=2400)
    assert proc.returncode == 0, tail(proc.stdout, 80)


# What the collection tarball holds at its top level: what a user of the collection needs. The
# lab, tools/, tests/, molecule/, the Makefile and the development requirements and tool
# configuration stay in the repository (galaxy.yml build_ignore).
TARBALL_TOP = {"MANIFEST.json", "FILES.json", "README.md", "COPYING", "requirements.txt",
               "meta", "plugins", "roles", "playbooks", "docs", "changelogs"}
TARBALL_LEFT_OUT = ("lab", "tools", "tests", "molecule", "Makefile", ".ci", ".ansible-lint", ".gitignore",
                    "pytest.ini", "requirements-dev.in", "requirements-dev.txt", "requirements-lowest.in",
                    "requirements-lowest.txt", "changelogs/config.yaml", "changelogs/fragments")


def test_collection_build_holds_the_collection_only(tmp_path):
    proc = run(["ansible-galaxy", "collection", "build", "--output-path", str(tmp_path)], log="galaxy-build.log")
    assert proc.returncode == 0, tail(proc.stdout)
    tarballs = list(tmp_path.glob("rdma-ha_storage-*.tar.gz"))
    assert len(tarballs) == 1, proc.stdout
    with tarfile.open(tarballs[0]) as tar:
        names = [n.rstrip("/") for n in tar.getnames()]
    forbidden = re.compile(r"(^|/)(\.venv[^/]*|\.cache|\.git|\.molecule|__pycache__|\.pytest_cache|\.hypothesis)(/|$)"
                           r"|\.(qcow2|raw|img|log|pyc|tar\.gz)$")
    assert not [n for n in names if forbidden.search(n)]
    assert {n.split("/")[0] for n in names} == TARBALL_TOP
    for left_out in TARBALL_LEFT_OUT:
        assert not [n for n in names if n == left_out or n.startswith(left_out + "/")], left_out
    assert [n for n in names if n.startswith("changelogs/")] == ["changelogs/changelog.yaml"]
    # every tracked file of what a user needs is in it (a build_ignore pattern that is too wide fails here)
    wanted = run(["git", "ls-files", "--", "meta", "plugins", "roles", "playbooks", "docs"]).stdout.split()
    assert wanted and not sorted(set(wanted) - set(names))
    for expected in ("README.md", "COPYING", "requirements.txt", "meta/runtime.yml", "meta/execution-environment.yml",
                     "changelogs/changelog.yaml", "roles/rdma_core/tasks/main.yml", "plugins/modules/fabric_validate.py"):
        assert expected in names, expected


def test_collection_python_requirements_for_execution_environments():
    """ansible-builder installs requirements.txt (named by meta/execution-environment.yml) into
    every execution environment that holds the collection: only what the plugins need on the
    controller belongs there, never the development pins (requirements-dev.txt)."""
    meta = yaml.safe_load((TOP / "meta" / "execution-environment.yml").read_text())
    assert meta == {"version": 1, "dependencies": {"python": "requirements.txt"}}
    requirements = [line.strip() for line in (TOP / "requirements.txt").read_text().splitlines()]
    entries = [line for line in requirements if line and not line.startswith("#")]
    # Every package a plugin imports beyond ansible-core and the standard library is in requirements.txt,
    # and nothing else is: today pyVmomi (its pyVim and pyVmomi modules), for the esx_* modules, which run
    # on the controller. A plugin that imports another package makes this fail: then list the package in
    # requirements.txt if it runs on the controller (or document it for the managed nodes), and add it here.
    distribution = {"pyVim": "pyvmomi", "pyVmomi": "pyvmomi"}
    third_party = set()
    for path in (TOP / "plugins").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                third_party.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                third_party.add(node.module.split(".")[0])
    third_party -= set(sys.stdlib_module_names) | {"ansible", "ansible_collections"}
    listed = sorted(re.split(r"[<>=!~ ;\[]", entry, maxsplit=1)[0].lower() for entry in entries)
    assert sorted({distribution.get(name, name) for name in third_party}) == listed == ["pyvmomi"]


def _plugins(kind):
    folder = TOP / PLUGIN_DIRS[kind]
    if kind == "module":
        return sorted(p.stem for p in folder.glob("*.py") if p.stem != "__init__")
    # filters and tests are documented by a YAML file per plugin next to the plugin files
    return sorted(p.stem for p in folder.glob("*.yml"))


def _doc_params():
    params = [(kind, name) for kind in PLUGIN_DIRS for name in _plugins(kind)]
    params += [("role", p.name) for p in sorted((TOP / "roles").iterdir()) if (p / "meta" / "argument_specs.yml").exists()]
    return params


@pytest.mark.parametrize("kind,name", _doc_params())
def test_ansible_doc_renders(kind, name):
    proc = run(["ansible-doc", "-t", kind, f"rdma.ha_storage.{name}"], log=f"ansible-doc-{kind}-{name}.log")
    assert proc.returncode == 0, tail(proc.stdout)
    assert "ERROR" not in proc.stdout and "WARNING" not in proc.stdout, tail(proc.stdout)
    assert name in proc.stdout
