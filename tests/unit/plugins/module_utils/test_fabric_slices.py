# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every host's slice from one analysis (fabric.slices.host_slices) is what the filter gives host by host;
slices share no object; the differences of a slice are those of the whole model."""

from __future__ import annotations

import copy
import json
import os

import pytest
import yaml

from ansible_collections.rdma.ha_storage.plugins.module_utils.fabric import differences as fabric_differences
from ansible_collections.rdma.ha_storage.plugins.module_utils.fabric import model as fabric_model
from ansible_collections.rdma.ha_storage.plugins.module_utils.fabric import slices as fabric_slices
from ansible_collections.rdma.ha_storage.plugins.module_utils.fabric.errors import FabricError
from ansible_collections.rdma.ha_storage.plugins.module_utils.rdma_sysfs import RdmaSysfs

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'fixtures')
with open(os.path.join(FIXTURES, 'fabric', 'example.yml')) as _handle:
    _EXAMPLE = yaml.safe_load(_handle)['rdma_fabric']
with open(os.path.join(FIXTURES, 'rdma_facts', 'lab_storage_a.json')) as _handle:
    _LAB = json.load(_handle)


@pytest.fixture
def fabric():
    return copy.deepcopy(_EXAMPLE)


def many_pairs(pairs, initiators):
    """A valid model of ``pairs`` pairs; initiator i may reach the volumes of pairs i % pairs and (i + 1) % pairs."""
    nodes, ha_pairs = [], []
    for index in range(2 * pairs + initiators):
        kind = 'storage' if index < 2 * pairs else 'initiator'
        node = {'name': 'n%d' % index, 'kind': kind,
                'ports': [{'device': 'mlx5_0', 'port': 1, 'guid': '0x%016x' % (index + 1), 'netdev': 'ib0'}],
                'interfaces': [{'network': 'client', 'address': '10.0.%d.%d' % (index // 250, index % 250 + 1),
                                'port': 'mlx5_0/1'}]}
        if kind == 'storage':
            node['interfaces'].append({'network': 'repl', 'address': '10.1.%d.%d' % (index // 250, index % 250 + 1),
                                       'netdev': 'eth1'})
        nodes.append(node)
    for p in range(pairs):
        allowed = ['n%d' % (2 * pairs + i) for i in range(initiators) if p in (i % pairs, (i + 1) % pairs)]
        ha_pairs.append({'name': 'p%d' % p, 'nodes': ['n%d' % (2 * p), 'n%d' % (2 * p + 1)],
                         'replication_network': 'repl', 'client_network': 'client',
                         'volumes': [{'name': 'v%d' % v, 'backing_device': '/dev/sd%s' % 'bc'[v], 'drbd_minor': v,
                                      'drbd_port': 7789 + v, 'lun_serial': 'a%04x%d' % (p, v), 'initiators': allowed}
                                     for v in range(2)]})
    return {'partitions': [{'name': 'client', 'pkey': '0x8001'}],
            'networks': [{'name': 'client', 'cidr': '10.0.0.0/16', 'transport': 'ipoib', 'partition': 'client'},
                         {'name': 'repl', 'cidr': '10.1.0.0/16', 'transport': 'ethernet', 'purpose': 'replication'}],
            'nodes': nodes, 'ha_pairs': ha_pairs}


@pytest.mark.parametrize('make', [lambda: copy.deepcopy(_EXAMPLE), lambda: many_pairs(5, 23),
                                  lambda: copy.deepcopy(_LAB['rdma_fabric'])], ids=['example', 'many_pairs', 'lab'])
def test_every_slice_is_the_filters_slice(make):
    fabric = make()
    model = fabric_model.analyse(fabric)
    assert model.errors == []
    result = fabric_slices.host_slices(model)
    assert list(result) == model.node_order
    for name in model.node_order:
        assert result[name] == fabric_slices.host_slice(fabric, name)


def test_targets_of_an_initiator_in_model_order():
    result = fabric_slices.host_slices(fabric_model.analyse(many_pairs(5, 23)))
    # initiator 14 (n24) reaches pairs 4 and 0; targets are listed in pair order, then volume order
    assert [(t['pair'], t['volume']) for t in result['n24']['targets']] == \
        [('p0', 'v0'), ('p0', 'v1'), ('p4', 'v0'), ('p4', 'v1')]
    assert sorted(result['n0']['initiators']) == sorted(t for t in result if t != 'n0' and any(
        x['pair'] == 'p0' for x in result[t]['targets']))


def _ids(value, seen):
    if isinstance(value, (dict, list)):
        seen.append(id(value))
        for item in value.values() if isinstance(value, dict) else value:
            _ids(item, seen)
    return seen


def test_slices_share_no_object():
    result = fabric_slices.host_slices(fabric_model.analyse(many_pairs(3, 10)))
    seen = _ids(result, [])
    assert len(seen) == len(set(seen))


def test_slices_of_some_hosts(fabric):
    model = fabric_model.analyse(fabric)
    assert list(fabric_slices.host_slices(model, ['init-2', 'stor-a'])) == ['init-2', 'stor-a']
    assert fabric_slices.host_slices(model, []) == {}
    with pytest.raises(FabricError, match="host 'nope' is not a node of rdma_fabric"):
        fabric_slices.host_slices(model, ['nope'])


def test_slices_of_an_invalid_model(fabric):
    fabric['srp']['reconnect_delay'] = 0
    with pytest.raises(FabricError, match='rdma_fabric is invalid \\(1 problem\\): srp: reconnect_delay 0'):
        fabric_slices.host_slices(fabric_model.analyse(fabric))


def test_differences_of_a_slice_are_the_models():
    facts = RdmaSysfs(os.path.join(FIXTURES, 'sysfs')).gather()
    for fabric, chosen in ((copy.deepcopy(_EXAMPLE), facts), (copy.deepcopy(_LAB['rdma_fabric']), _LAB['rdma_facts'])):
        model = fabric_model.analyse(fabric)
        for name, host_slice in fabric_slices.host_slices(model).items():
            assert fabric_differences.slice_differences(host_slice, chosen) == \
                fabric_differences.differences(fabric, name, chosen)
    assert fabric_differences.slice_differences(fabric_slices.host_slice(_LAB['rdma_fabric'], _LAB['host']),
                                                _LAB['rdma_facts']) == []


def test_differences_of_a_slice_are_reported():
    port = copy.deepcopy(_LAB['rdma_facts'])
    port['ports'][0].update(state='DOWN', phys_state='Polling')
    host_slice = fabric_slices.host_slice(_LAB['rdma_fabric'], _LAB['host'])
    assert fabric_differences.slice_differences(host_slice, port) == \
        ['node storage-a port rxe0/1: port is down (state DOWN, physical state Polling)']
    with pytest.raises(FabricError, match='host slice must be the mapping returned by'):
        fabric_differences.slice_differences({'nodes': []}, port)


def test_differences_check_the_p_key_table_of_every_bond_port(fabric):
    iface = next(n for n in fabric['nodes'] if n['name'] == 'stor-a')['interfaces'][0]
    del iface['port']
    iface['bond'] = {'name': 'bond0', 'ports': ['mlx4_0/1', 'mlx4_0/2']}
    facts = {'ports': [
        {'device': 'mlx4_0', 'port': 1, 'guid': '0x0002c903000e8acd', 'state': 'ACTIVE', 'phys_state': 'LinkUp',
         'rate': 56, 'link_layer': 'InfiniBand', 'netdevs': ['ib0'], 'pkeys': ['0xffff', '0x8001']},
        {'device': 'mlx4_0', 'port': 2, 'guid': '0x0002c903000e8ace', 'state': 'ACTIVE', 'phys_state': 'LinkUp',
         'rate': 56, 'link_layer': 'InfiniBand', 'netdevs': ['ib1'], 'pkeys': ['0xffff']},
    ]}
    host_slice = fabric_slices.host_slice(fabric, 'stor-a')
    expected = ['node stor-a interface storage: P_Key 0x8001 of partition storage is not in the P_Key table of port '
                'mlx4_0/2 (found: 0xffff); the subnet manager must add the port to the partition']
    assert fabric_differences.slice_differences(host_slice, facts) == expected
    assert fabric_differences.differences(fabric, 'stor-a', facts) == expected
