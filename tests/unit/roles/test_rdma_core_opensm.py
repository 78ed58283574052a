# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""rdma_core's OpenSM ports and sm_priority (roles/rdma_core/tasks/opensm_priority.yml), end to end
with ansible-playbook on local-connection hosts of the example fabric (tests/fixtures/fabric):
the pair's initial_primary gets 14, its peer 13; an explicit value wins; a host outside a pair
without one, two hosts with one value, a port that is not an InfiniBand port of the host are
refused with the host and the variable named; a RoCE-only host picks no port. Facts and asserts
only: nothing on this machine changes."""

from __future__ import annotations

import copy
import os
import re
import sys

import yaml

from helpers import run

TESTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
TOP = os.path.normpath(os.path.join(TESTS, '..'))
with open(os.path.join(TESTS, 'fixtures', 'fabric', 'example.yml')) as _handle:
    _EXAMPLE = yaml.safe_load(_handle)['rdma_fabric']

PLAY = [{
    'name': 'OpenSM ports and priority', 'hosts': 'all', 'gather_facts': False,
    'tasks': [
        {'name': 'Read the slice', 'ansible.builtin.include_role': {'name': 'rdma.ha_storage.rdma_core', 'tasks_from': 'slice.yml'}},
        {'name': 'Decide ports and priority', 'ansible.builtin.include_role': {
            'name': 'rdma.ha_storage.rdma_core', 'tasks_from': 'opensm_priority.yml'}},
        {'name': 'Show them', 'ansible.builtin.debug': {
            'msg': "RESULT {{ inventory_hostname }} ports={{ _rdma_core_opensm_ib_ports | map(attribute='name') | join('+') }} "
                   "priority={{ _rdma_core_opensm_priority | default('-') }}"}},
    ],
}]


def playbook(tmp_path, hosts, host_vars=None, fabric=None):
    (tmp_path / 'hosts.yml').write_text(yaml.safe_dump({'all': {
        'hosts': dict((h, (host_vars or {}).get(h, {})) for h in hosts),
        'vars': {'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable,
                 'rdma_fabric': fabric or copy.deepcopy(_EXAMPLE)}}}))
    (tmp_path / 'play.yml').write_text(yaml.safe_dump(PLAY, sort_keys=False))
    env = dict(os.environ, ANSIBLE_NOCOLOR='1', ANSIBLE_STDOUT_CALLBACK='default',
               ANSIBLE_COLLECTIONS_PATH=os.environ.get('RDMA_COLLECTIONS') or os.path.join(TOP, '.cache', 'collections'))
    proc = run([os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', str(tmp_path / 'hosts.yml'),
                str(tmp_path / 'play.yml')], cwd=str(tmp_path), env=env, timeout=600)
    return proc.returncode, proc.stdout


def results(out):
    return sorted(re.findall(r'"msg": "RESULT ([^"]*)"', out))


def plain(out):
    return ' '.join(out.split())


def test_the_pair_gets_two_priorities_initial_primary_higher(tmp_path):
    rc, out = playbook(tmp_path, ['stor-a', 'stor-b'])
    assert rc == 0, out
    assert results(out) == ['stor-a ports=mlx4_0/1+mlx4_0/2 priority=14', 'stor-b ports=mlx4_0/1+mlx4_0/2 priority=13']


def test_the_initial_primary_follows_the_model(tmp_path):
    fabric = copy.deepcopy(_EXAMPLE)
    fabric['ha_pairs'][0]['initial_primary'] = 'stor-b'
    rc, out = playbook(tmp_path, ['stor-a', 'stor-b'], fabric=fabric)
    assert rc == 0, out
    assert results(out) == ['stor-a ports=mlx4_0/1+mlx4_0/2 priority=13', 'stor-b ports=mlx4_0/1+mlx4_0/2 priority=14']


def test_explicit_priorities_and_ports(tmp_path):
    rc, out = playbook(tmp_path, ['stor-a', 'init-1'], host_vars={
        'stor-a': {'rdma_core_opensm_priority': 2, 'rdma_core_opensm_ports': ['mlx4_0/2']},
        'init-1': {'rdma_core_opensm_priority': '0'}})
    assert rc == 0, out
    assert results(out) == ['init-1 ports=mlx4_0/1+mlx4_0/2 priority=0', 'stor-a ports=mlx4_0/2 priority=2']


def test_two_hosts_with_one_priority_are_refused(tmp_path):
    rc, out = playbook(tmp_path, ['stor-a', 'stor-b'], host_vars={'stor-a': {'rdma_core_opensm_priority': 13}})
    assert rc != 0
    text = plain(out)
    assert 'host stor-a: sm_priority 13 (rdma_core_opensm_priority) is also the priority of stor-b' in text
    assert 'host stor-b: sm_priority 13 (rdma_core_opensm_priority) is also the priority of stor-a' in text


def test_a_host_outside_a_pair_must_set_the_priority(tmp_path):
    rc, out = playbook(tmp_path, ['init-1'])
    assert rc != 0
    assert 'host init-1: rdma_core_opensm_priority is not set and the host is in no HA pair' in plain(out)


def test_out_of_range_priority_is_refused(tmp_path):
    rc, out = playbook(tmp_path, ['stor-a'], host_vars={'stor-a': {'rdma_core_opensm_priority': 16}})
    assert rc != 0
    assert 'host stor-a: rdma_core_opensm_priority must be an integer 0 .. 15 (sm_priority), got 16' in plain(out)


def test_a_port_that_is_not_an_infiniband_port_is_refused(tmp_path):
    rc, out = playbook(tmp_path, ['stor-a'], host_vars={'stor-a': {'rdma_core_opensm_ports': ['mlx4_0/9']}})
    assert rc != 0
    assert ('host stor-a: rdma_core_opensm_ports names mlx4_0/9, which is not an InfiniBand port of node stor-a in '
            'rdma_fabric (its InfiniBand ports: mlx4_0/1, mlx4_0/2)') in plain(out)


def test_a_roce_only_host_picks_no_port(tmp_path):
    fabric = copy.deepcopy(_EXAMPLE)
    init2 = next(n for n in fabric['nodes'] if n['name'] == 'init-2')
    init2['ports'][0]['link_layer'] = 'ethernet'
    init2['interfaces'] = []
    fabric['ha_pairs'][0]['volumes'][0]['initiators'].remove('init-2')
    rc, out = playbook(tmp_path, ['init-2'], fabric=fabric)
    assert rc == 0, out
    assert results(out) == ['init-2 ports= priority=-']


def test_a_host_not_in_the_model_is_refused(tmp_path):
    rc, out = playbook(tmp_path, ['stranger'])
    assert rc != 0
    assert 'host stranger: rdma_core_opensm needs the host' in plain(out)
