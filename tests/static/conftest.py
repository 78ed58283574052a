"""Fixtures of the static checks."""
import hashlib
import tempfile
from pathlib import Path

import pytest

from helpers import TOP, run


def _collection_copy(tag=""):
    """A copy of the tracked and untracked-but-not-ignored files for ansible-test.

    ansible-test needs a real ansible_collections/rdma/ha_storage folder (it resolves symlinks)
    and must not see a parent git checkout (it would list that checkout's files instead), so the
    copy lives outside the checkout. tag: a separate copy (its own tests/output) for another
    ansible-test, such as the lowest ansible-core's.
    """
    # one copy per checkout, so that two checkouts can run their tests side by side
    tree = "rdma-ha-storage-ansible-test-" + hashlib.sha256(str(TOP).encode()).hexdigest()[:8] + tag
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


@pytest.fixture
def collection_copy():
    """_collection_copy: call it (with a tag for a separate copy) to get the copy's path."""
    return _collection_copy
