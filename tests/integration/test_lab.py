"""The lab scenario: the HA pair deployed into QEMU VMs running Debian's kernel (molecule/ha_pair).

Runs after the container scenarios (it needs both cores). RDMA_SKIP_LAB=1 skips it, e.g. for a
quick local loop; `make test` and CI never set it.
"""
import os
import re
import sys

import pytest

from helpers import TOP, plain, run, tail

if str(TOP) not in sys.path:
    sys.path.insert(0, str(TOP))
from lab import config, runtime  # noqa: E402  (the lab tool is a plain package at the top)


@pytest.mark.skipif(os.environ.get("RDMA_SKIP_LAB") == "1", reason="RDMA_SKIP_LAB=1")
@pytest.mark.skipif(not (TOP / "molecule" / "ha_pair" / "molecule.yml").exists(), reason="no lab scenario yet")
def test_ha_pair_in_the_lab():
    """molecule test -s ha_pair: create (boot), converge, verify (`lab check`
    included: every IP socket of the lab's QEMU and vde_switch processes is on loopback), destroy
    (`lab down`); then no process of the lab may be left: no QEMU, no vde_switch, no ssh master."""
    proc = run(["molecule", "test", "-s", "ha_pair"], TOP, 4500, None, "molecule-ha_pair.log")
    assert proc.returncode == 0, "molecule test -s ha_pair failed (.cache/logs/molecule-ha_pair.log):\n" + tail(proc.stdout, 100)
    # Molecule wraps the output at the terminal's width: search the words, not the lines
    printed = plain(proc.stdout)
    assert re.search(r"\[lab\] host network: \d+ IP socket\(s\) held by the lab's \d+ processes [^[]*: all on loopback", printed), \
        "the lab check of the host network rule did not run or did not pass"
    left = {pid: runtime.cmdline(pid) for pid in runtime.stray_pids(str(config.RUN_DIR))}
    assert not left, f"`lab down` left processes of the lab behind: {left}"
