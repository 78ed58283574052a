"""The lab scenario: the HA pair deployed into QEMU VMs running Debian's kernel (molecule/ha_pair).

Runs after the container scenarios (it needs both cores). RDMA_SKIP_LAB=1 skips it, e.g. for a
quick local loop; `make test` and CI never set it.
"""
import os

import pytest

from helpers import TOP, run, tail


@pytest.mark.skipif(os.environ.get("RDMA_SKIP_LAB") == "1", reason="RDMA_SKIP_LAB=1")
@pytest.mark.skipif(not (TOP / "molecule" / "ha_pair" / "molecule.yml").exists(), reason="no lab scenario yet")
def test_ha_pair_in_the_lab():
    proc = run(["molecule", "test", "-s", "ha_pair"], TOP, 2700, None, "molecule-ha_pair.log")
    assert proc.returncode == 0, "molecule test -s ha_pair failed (.cache/logs/molecule-ha_pair.log):\n" + tail(proc.stdout, 100)
