# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ipoib_links: a host slice's IPoIB interfaces as the netdevs the ipoib role configures."""

from __future__ import annotations

import copy
import os

import pytest
import yaml

from ansible_collections.rdma.ha_storage.plugins.filter.fabric import FilterModule
from ansible_collections.rdma.ha_storage.plugins.module_utils.fabric import slices as fabric_slices
from ansible_collections.rdma.ha_storage.plugins.module_utils.ipoib import IpoibError, ipoib_links

EXAMPLE = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'fixtures', 'fabric', 'example.yml')
with open(EXAMPLE) as _handle:
    _EXAMPLE = yaml.safe_load(_handle)['rdma_fabric']


def model():
    """The example plus a datagram partition on the default P_Key and a bond on stor-a."""
    fabric = copy.deepcopy(_EXAMPLE)
    fabric['partitions'].append({'name': 'default', 'pkey': '0xffff'})
    fabric['networks'].append({'name': 'mgmt-ib', 'cidr': 'fd00:30::/64', 'transport': 'ipoib', 'partition': 'default',
                               'purpose': 'management'})
    stor_a = fabric['nodes'][0]
    stor_a['interfaces'][0] = {'network': 'storage', 'address': '10.10.0.11',
                               'bond': {'name': 'bond0', 'ports': ['mlx4_0/1', 'mlx4_0/2']}}
    init_1 = fabric['nodes'][2]
    init_1['interfaces'].append({'network': 'mgmt-ib', 'address': 'fd00:30::21', 'port': 'mlx4_0/2'})
    return fabric


def test_a_p_key_child_and_a_parent_carrying_the_default_partition():
    result = ipoib_links(fabric_slices.host_slice(model(), 'init-1'))
    assert result['names'] == ['ib0.8001', 'ib1']
    child, parent = result['links']
    assert child == {'name': 'ib0.8001', 'kind': 'child', 'network': 'storage', 'parent': 'ib0', 'port': 'mlx4_0/1',
                     'pkey': 0x8001, 'pkey_hex': '0x8001', 'ipoib_mode': 'connected', 'mtu': 65520,
                     'address': '10.10.0.21', 'prefixlen': 24, 'family': 4, 'master': None, 'bond': None}
    assert parent == {'name': 'ib1', 'kind': 'parent', 'network': 'mgmt-ib', 'parent': None, 'port': 'mlx4_0/2',
                      'pkey': 0xffff, 'pkey_hex': '0xffff', 'ipoib_mode': 'datagram', 'mtu': 2044,
                      'address': 'fd00:30::21', 'prefixlen': 64, 'family': 6, 'master': None, 'bond': None}
    assert result['parents'] == [{'name': 'ib0', 'port': 'mlx4_0/1', 'children': ['ib0.8001']},
                                 {'name': 'ib1', 'port': 'mlx4_0/2', 'children': []}]


def test_a_bond_comes_after_its_ports():
    result = ipoib_links(fabric_slices.host_slice(model(), 'stor-a'))
    assert result['names'] == ['ib0.8001', 'ib1.8001', 'bond0']
    port0, port1, bond = result['links']
    assert (port0['kind'], port0['parent'], port0['master'], port0['address'], port0['ipoib_mode'], port0['mtu']) == \
        ('child', 'ib0', 'bond0', None, 'connected', 65520)
    assert port1['port'] == 'mlx4_0/2' and port1['prefixlen'] is None and port1['family'] is None
    assert bond == {'name': 'bond0', 'kind': 'bond', 'network': 'storage', 'parent': None, 'port': None,
                    'pkey': 0x8001, 'pkey_hex': '0x8001', 'ipoib_mode': None, 'mtu': 65520,
                    'address': '10.10.0.11', 'prefixlen': 24, 'family': 4, 'master': None,
                    'bond': {'mode': 'active-backup', 'fail_over_mac': 'active', 'ports': ['ib0.8001', 'ib1.8001'],
                             'primary': 'ib0.8001'}}
    assert [p['children'] for p in result['parents']] == [['ib0.8001'], ['ib1.8001']]


def test_ethernet_only_hosts_have_no_links():
    assert ipoib_links(fabric_slices.host_slice(model(), 'esx-1')) == {'links': [], 'parents': [], 'names': []}
    fabric = model()
    fabric['nodes'][1]['interfaces'] = fabric['nodes'][1]['interfaces'][1:]   # stor-b: replication only
    fabric['ha_pairs'] = []
    assert ipoib_links(fabric_slices.host_slice(fabric, 'stor-b'))['links'] == []


def test_the_filter_refuses_what_is_not_a_slice():
    with pytest.raises(IpoibError, match='expects a host slice'):
        ipoib_links({'nodes': []})
    links = FilterModule().filters()['ipoib_links']
    with pytest.raises(Exception, match='ipoib_links: expects a host slice'):
        links([])
    assert links(fabric_slices.host_slice(model(), 'init-2'))['names'] == ['ib0.8001']
