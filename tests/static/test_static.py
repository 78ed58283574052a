"""Static checks of the collection, run by `make test` before the unit and Molecule tests.

Each test runs the real tool and asserts on its result; the full output is kept under
.cache/logs/ for post-mortems.
"""
import hashlib
import re
import tarfile
import tempfile
from pathlib import Path

import pytest

from helpers import TOP, run, tail

PLUGIN_DIRS = {"module": "plugins/modules", "filter": "plugins/filter", "test": "plugins/test"}


def test_ansible_lint_production_profile():
    proc = run(["ansible-lint", "--profile", "production", "--offline", "--nocolor"], log="ansible-lint.log")
    assert proc.returncode == 0, tail(proc.stdout)


def test_changelog_fragments_lint():
    proc = run(["antsibull-changelog", "lint"], log="changelog-lint.log")
    assert proc.returncode == 0 and not proc.stdout.strip(), tail(proc.stdout)


def _collection_copy():
    """A copy of the tracked and untracked-but-not-ignored files for ansible-test.

    ansible-test needs a real ansible_collections/rdma/ha_storage folder (it resolves symlinks)
    and must not see a parent git checkout (it would list that checkout's files instead), so the
    copy lives outside the checkout.
    """
    # one copy per checkout, so that two checkouts can run their tests side by side
    tree = "rdma-ha-storage-ansible-test-" + hashlib.sha256(str(TOP).encode()).hexdigest()[:8]
    dest = Path(tempfile.gettempdir()) / tree / "ansible_collections" / "rdma" / "ha_storage"
    dest.mkdir(parents=True, exist_ok=True)
    files = run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"]).stdout
    files = "\0".join(f for f in files.split("\0") if f and (TOP / f).exists())
    proc = run(["rsync", "-a", "--delete", "--from0", "--files-from=-", f"{TOP}/", f"{dest}/"], input=files,
               timeout=600)
    assert proc.returncode == 0, proc.stdout
    # --delete only acts on transferred folders: remove files that left the checkout
    wanted = set(files.split("\0"))
    for path in dest.rglob("*"):
        rel = str(path.relative_to(dest))
        if path.is_file() and rel not in wanted and not rel.startswith("tests/output/"):
            path.unlink()
    return dest


def test_ansible_test_sanity():
    dest = _collection_copy()
    proc = run(["ansible-test", "sanity", "--venv", "--python", "3.11", "--color", "no"],
               cwd=dest, log="ansible-test-sanity.log", timeout=2400)
    assert proc.returncode == 0, tail(proc.stdout, 80)


def test_collection_build_leaves_out_local_artefacts(tmp_path):
    proc = run(["ansible-galaxy", "collection", "build", "--output-path", str(tmp_path)], log="galaxy-build.log")
    assert proc.returncode == 0, tail(proc.stdout)
    tarballs = list(tmp_path.glob("rdma-ha_storage-*.tar.gz"))
    assert len(tarballs) == 1, proc.stdout
    with tarfile.open(tarballs[0]) as tar:
        names = tar.getnames()
    forbidden = re.compile(r"(^|/)(\.venv|\.cache|\.git|\.molecule|__pycache__|\.pytest_cache)(/|$)"
                           r"|^tests/output(/|$)|\.(qcow2|raw|img|log|pyc)$")
    assert not [n for n in names if forbidden.search(n)]
    for expected in ("MANIFEST.json", "FILES.json", "meta/runtime.yml", "README.md"):
        assert expected in names, expected
    assert "roles/rdma_core/tasks/main.yml" in names


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
