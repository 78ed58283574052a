"""Every container Molecule scenario as a pytest test, two scenarios at a time.

The scenarios start in a thread pool when the first test needs one; each test waits for its own
run, so pytest's -x still stops at the first failed scenario and the summary counts each one.
The lab scenario (ha_pair, QEMU VMs) is not here: tests/integration/test_lab.py runs it alone,
after these, because it needs the whole machine.
"""
import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from helpers import TOP, run, tail

LAB_SCENARIOS = {"ha_pair"}
PARALLEL = int(os.environ.get("RDMA_MOLECULE_PARALLEL", "2"))


def container_scenarios():
    return sorted(p.parent.name for p in (TOP / "molecule").glob("*/molecule.yml") if p.parent.name not in LAB_SCENARIOS)


@pytest.fixture(scope="session")
def molecule_runs():
    pool = ThreadPoolExecutor(max_workers=PARALLEL)
    futures = {name: pool.submit(run, ["molecule", "test", "-s", name], TOP, 1800, None, f"molecule-{name}.log")
               for name in container_scenarios()}
    yield futures
    for fut in futures.values():
        fut.cancel()
    pool.shutdown(wait=True)


@pytest.mark.parametrize("scenario", container_scenarios())
def test_molecule_scenario(scenario, molecule_runs):
    proc = molecule_runs[scenario].result()
    assert proc.returncode == 0, f"molecule test -s {scenario} failed (.cache/logs/molecule-{scenario}.log):\n" + tail(proc.stdout, 80)
