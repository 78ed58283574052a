# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The OCF agent roles/cluster/files/rdma_fabric.ocf, run as Pacemaker runs it: a subprocess with
OCF_RESKEY_* in its environment, an action argument, an exit code. The ports are a temporary
sysfs tree (sysfs_root) with the kernel's state strings; attrd_updater is a script that records
its arguments."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import stat
import subprocess
import sys
from xml.etree import ElementTree

import pytest

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
AGENT = os.path.join(TOP, 'roles', 'cluster', 'files', 'rdma_fabric.ocf')

ATTRD = '''#!/bin/sh
printf '%%s\n' "$*" >> "%(log)s"
exit ${FAKE_ATTRD_RC:-0}
'''


@pytest.fixture
def bed(tmp_path):
    root = tmp_path / 'infiniband'
    log = tmp_path / 'attrd.log'
    attrd = tmp_path / 'attrd_updater'
    attrd.write_text(ATTRD % dict(log=log))
    attrd.chmod(attrd.stat().st_mode | stat.S_IEXEC)

    def port(ref, state):
        device, number = ref.split(':')
        path = root / device / 'ports' / number
        path.mkdir(parents=True, exist_ok=True)
        (path / 'state').write_text(state + '\n')

    def run(action, ports='rxe0:1', **env):
        environ = dict(os.environ, OCF_ROOT='/usr/lib/ocf', OCF_RESKEY_ports=ports,
                       OCF_RESKEY_sysfs_root=str(root), OCF_RESKEY_attrd_updater=str(attrd),
                       HA_RSCTMP=str(tmp_path / 'run'), OCF_RESOURCE_INSTANCE='fabric_pair1:0')
        environ.update(env)
        proc = subprocess.run([sys.executable, AGENT, action], env=environ, capture_output=True, text=True,
                              check=False)
        calls = log.read_text().splitlines() if log.exists() else []
        if log.exists():
            log.unlink()
        return proc, calls

    return port, run


def test_meta_data_is_valid_xml_naming_the_parameters():
    proc = subprocess.run([sys.executable, AGENT, 'meta-data'], capture_output=True, text=True, check=True)
    names = [p.get('name') for p in ElementTree.fromstring(proc.stdout).iter('parameter')]
    assert names == ['ports', 'name', 'sysfs_root', 'attrd_updater']


def test_start_monitor_stop_count_the_active_ports(bed):
    port, run = bed
    port('rxe0:1', '4: ACTIVE')
    port('mlx5_0:1', '1: DOWN')
    proc, calls = run('monitor', ports='rxe0:1 mlx5_0:1')
    assert proc.returncode == 7 and calls == []  # not started: not running, nothing set
    proc, calls = run('start', ports='rxe0:1 mlx5_0:1')
    assert proc.returncode == 0 and calls == ['-n rdma_fabric_active_ports -U 1']
    port('rxe0:1', '1: DOWN')
    proc, calls = run('monitor', ports='rxe0:1 mlx5_0:1')
    # a port down is not a failure of the resource: the attribute says it, the constraints decide
    assert proc.returncode == 0 and calls == ['-n rdma_fabric_active_ports -U 0']
    assert 'no fabric port ACTIVE: rxe0:1 1: DOWN; mlx5_0:1 1: DOWN' in proc.stderr
    port('rxe0:1', '4: ACTIVE')
    port('mlx5_0:1', '4: ACTIVE')
    proc, calls = run('monitor', ports='rxe0:1 mlx5_0:1', OCF_RESKEY_name='fabric_up')
    assert proc.returncode == 0 and calls == ['-n fabric_up -U 2']
    proc, calls = run('stop', ports='rxe0:1 mlx5_0:1')
    assert proc.returncode == 0 and calls == ['-n rdma_fabric_active_ports -D']
    proc, calls = run('monitor', ports='rxe0:1 mlx5_0:1')
    assert proc.returncode == 7
    proc, calls = run('stop')
    assert proc.returncode == 0 and calls == []  # stopped twice: nothing to undo


def test_a_port_of_the_other_node_is_not_counted(bed):
    port, run = bed
    port('rxe0:1', '4: ACTIVE')
    proc, calls = run('start', ports='mlx4_0:1 rxe0:1')
    assert proc.returncode == 0 and calls == ['-n rdma_fabric_active_ports -U 1']


@pytest.mark.parametrize('ports, rc, message', [
    ('', 6, 'parameter ports is empty'),
    ('rxe0', 6, 'ports: rxe0 is not device:port'),
    ('rxe9:1', 5, 'none of the ports rxe9:1 is on this node'),
])
def test_validate_refuses_ports_that_cannot_be_read(bed, ports, rc, message):
    port, run = bed
    port('rxe0:1', '4: ACTIVE')
    for action in ('validate-all', 'start'):
        proc, calls = run(action, ports=ports)
        assert proc.returncode == rc and calls == []
        assert 'ocf-exit-reason:' in proc.stderr and message in proc.stderr


def test_a_failing_attrd_updater_fails_the_monitor(bed):
    port, run = bed
    port('rxe0:1', '4: ACTIVE')
    assert run('start')[0].returncode == 0
    proc = run('monitor', FAKE_ATTRD_RC='1')[0]
    assert proc.returncode == 1 and 'attrd_updater' in proc.stderr and 'failed (rc 1)' in proc.stderr


def test_unknown_actions_are_unimplemented(bed):
    run = bed[1]
    assert run('promote')[0].returncode == 3
