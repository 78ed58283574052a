# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""rdma_link: create only the missing soft devices, refuse a different existing one, check mode, diff.

Every rdma call is pinned (whole argv, in order); sysfs is a tmp tree."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os

import pytest

from ansible_collections.rdma.ha_storage.plugins.modules import rdma_link
from module_harness import RunCommandMock, call, patch_module, run_main

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'fixtures', 'rdma_link')
with open(os.path.join(FIXTURES, 'link_show_rxe0.json')) as _f:
    FIXTURE_RXE0 = _f.read()
with open(os.path.join(FIXTURES, 'link_show_empty.json')) as _f:
    FIXTURE_EMPTY = _f.read()
RDMA = '/usr/sbin/rdma'
SHOW = [RDMA, '-j', 'link', 'show']


def link_json(*links):
    """`rdma -j link show` output (the shape iproute2 6.1 prints) for (name, state, netdev) triples."""
    return json.dumps([{'ifindex': i, 'ifname': name, 'port': 1, 'state': state,
                        'physical_state': 'LINK_UP' if state == 'ACTIVE' else 'DISABLED',
                        'netdev': netdev, 'netdev_index': 3} for i, (name, state, netdev) in enumerate(links)])


class FakeSysfs(object):
    def __init__(self, root):
        self.root = root
        self.mock = RunCommandMock()
        (root / 'class' / 'net').mkdir(parents=True)
        (root / 'class' / 'infiniband').mkdir(parents=True)

    def netdev(self, name):
        (self.root / 'class' / 'net' / name).mkdir()

    def device(self, name, node_type='1: CA'):
        path = self.root / 'class' / 'infiniband' / name
        path.mkdir()
        (path / 'node_type').write_text(node_type + '\n')


MOCK = []


@pytest.fixture
def sysfs(monkeypatch, tmp_path):
    fake = FakeSysfs(tmp_path)
    patch_module(monkeypatch, rdma_link.AnsibleModule, fake.mock)
    real_init = rdma_link.RdmaLinks.__init__

    def init(self, module, sysfs=None):
        real_init(self, module, sysfs=str(tmp_path))
    monkeypatch.setattr(rdma_link.RdmaLinks, '__init__', init)
    MOCK[:] = [fake.mock]
    return fake


def run(args, check_mode=False, diff=False):
    args = dict(args)
    if check_mode:
        args['_ansible_check_mode'] = True
    if diff:
        args['_ansible_diff'] = True
    return run_main(rdma_link, args, MOCK[0])


RXE0 = {'links': [{'name': 'rxe0', 'type': 'rxe', 'netdev': 'eth1'}]}


def test_creates_a_missing_device_and_waits_for_active(sysfs):
    sysfs.netdev('eth1')

    def appear():
        sysfs.device('rxe0')
    sysfs.mock.add(call(SHOW, out=link_json()),
                   call([RDMA, 'link', 'add', 'rxe0', 'type', 'rxe', 'netdev', 'eth1'], effect=appear),
                   call(SHOW, out=link_json(('rxe0', 'DOWN', 'eth1'))),
                   call(SHOW, out=link_json(('rxe0', 'ACTIVE', 'eth1'))))
    out = run(RXE0, diff=True)
    assert not out.failed, out.result
    assert out.result['changed'] is True and out.result['created'] == ['rxe0']
    assert out.result['links'] == [{'name': 'rxe0', 'port': 1, 'state': 'ACTIVE', 'physical_state': 'LINK_UP',
                                    'netdev': 'eth1'}]
    assert out.result['diff']['before'] == '' and out.result['diff']['after'] == 'rxe0 rxe eth1\n'


def test_an_existing_matching_device_changes_nothing(sysfs):
    sysfs.netdev('eth1')
    sysfs.device('rxe0')
    sysfs.mock.add(call(SHOW, out=link_json(('mlx5_0', 'ACTIVE', None), ('rxe0', 'ACTIVE', 'eth1'))))
    out = run(RXE0)
    assert not out.failed and out.result['changed'] is False and out.result['created'] == []


def test_check_mode_creates_nothing(sysfs):
    sysfs.netdev('eth1')
    sysfs.mock.add(call(SHOW, out=link_json()))
    out = run(RXE0, check_mode=True)
    assert out.result['changed'] is True and out.result['created'] == ['rxe0']
    assert sysfs.mock.argvs() == [SHOW]


def test_a_device_on_another_netdev_is_refused_not_recreated(sysfs):
    sysfs.netdev('eth1')
    sysfs.device('rxe0')
    sysfs.mock.add(call(SHOW, out=link_json(('rxe0', 'ACTIVE', 'eth2'))))
    out = run(RXE0)
    assert out.failed
    assert out.result['msg'] == (
        'RDMA device rxe0 exists as a CA on netdev eth2, the model says rxe (CA) on eth1. It is not changed here: '
        'remove it with "rdma link delete rxe0" (its RDMA users lose it) if it must go, or fix the model')


def test_a_siw_device_where_rxe_is_declared_is_refused(sysfs):
    sysfs.netdev('eth1')
    sysfs.device('rxe0', node_type='4: RNIC')
    sysfs.mock.add(call(SHOW, out=link_json(('rxe0', 'ACTIVE', 'eth1'))))
    out = run(RXE0)
    assert out.failed and 'exists as a RNIC on netdev eth1, the model says rxe (CA)' in out.result['msg']


def test_a_missing_netdev_is_named_with_what_the_host_has(sysfs):
    sysfs.netdev('eth0')
    sysfs.netdev('lo')
    sysfs.mock.add(call(SHOW, out=link_json()))
    out = run(RXE0)
    assert out.failed
    assert out.result['msg'] == 'RDMA device rxe0: netdev eth1 does not exist on this host (it has: eth0, lo)'


def test_a_failing_rdma_link_add_is_reported_with_its_stderr(sysfs):
    sysfs.netdev('eth1')
    sysfs.mock.add(call(SHOW, out=link_json()),
                   call([RDMA, 'link', 'add', 'rxe0', 'type', 'rxe', 'netdev', 'eth1'], rc=2,
                        err='error: Operation not supported\n'))
    (sysfs.root / 'module' / 'rdma_rxe').mkdir(parents=True)
    out = run(RXE0)
    assert out.failed and out.result['rc'] == 2
    assert out.result['msg'] == 'rdma link add rxe0 type rxe netdev eth1 failed (rc 2): error: Operation not supported'


def test_a_type_whose_driver_the_kernel_lacks_says_so(sysfs):
    # measured in the lab (Debian 12, 6.1): no siw module; rdma link add says only "Invalid argument"
    sysfs.netdev('eth2')
    sysfs.mock.add(call(SHOW, out=FIXTURE_EMPTY),
                   call([RDMA, 'link', 'add', 'siw0', 'type', 'siw', 'netdev', 'eth2'], rc=1,
                        err='error: Invalid argument\n'))
    out = run({'links': [{'name': 'siw0', 'type': 'siw', 'netdev': 'eth2'}]})
    assert out.failed
    assert out.result['msg'] == (
        'rdma link add siw0 type siw netdev eth2 failed (rc 1): error: Invalid argument; kernel module siw is not '
        'loaded and the kernel did not load it: this kernel may not have it (the Debian 12 kernel, 6.1, builds '
        'rdma_rxe but not siw); try "modprobe siw"')


def test_the_real_output_of_rdma_link_show_parses():
    assert rdma_link.parse_links(FIXTURE_RXE0) == [
        {'name': 'rxe0', 'port': 1, 'state': 'ACTIVE', 'physical_state': 'LINK_UP', 'netdev': 'eth1'}]
    assert rdma_link.parse_links(FIXTURE_EMPTY) == []


def test_output_that_is_not_json_is_an_error(sysfs):
    sysfs.mock.add(call(SHOW, out='0/1: rxe0/1: state ACTIVE\n'))
    out = run(RXE0)
    assert out.failed and 'not the JSON list expected' in out.result['msg']


def test_a_device_listed_twice_is_refused(sysfs):
    out = run({'links': [RXE0['links'][0], dict(RXE0['links'][0], netdev='eth2')]})
    assert out.failed and out.result['msg'] == 'links[1]: device rxe0 is listed twice'


@pytest.mark.parametrize('text, want', [('1: CA\n', 'CA'), ('4: RNIC', 'RNIC'), ('', None), (None, None)])
def test_node_type(text, want):
    assert rdma_link.node_type(text) == want
