# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Soft RDMA devices in the model (ports with `soft: rxe|siw`): rules, slice, and the split port check."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.rdma.ha_storage.plugins.module_utils.fabric.errors import FabricError
from ansible_collections.rdma.ha_storage.plugins.module_utils.fabric.differences import slice_differences
from ansible_collections.rdma.ha_storage.plugins.module_utils.fabric.model import analyse
from ansible_collections.rdma.ha_storage.plugins.module_utils.fabric.slices import Slicer


def fabric(*ports):
    return {'nodes': [{'name': 'ini1', 'kind': 'initiator', 'ports': list(ports)}]}


RXE = {'device': 'rxe0', 'port': 1, 'guid': '0x505400fffe770121', 'soft': 'rxe', 'netdev': 'eth1'}
HCA = {'device': 'mlx5_0', 'port': 1, 'guid': '0x248a070300a1b2c1', 'netdev': 'ib0'}


def errors(*ports):
    return analyse(fabric(*ports)).errors


def test_a_soft_port_defaults_to_the_ethernet_link_layer_and_is_in_the_slice():
    model = analyse(fabric(RXE, HCA))
    assert model.errors == []
    node = Slicer(model).slice('ini1')['node']
    assert [(p['name'], p['link_layer'], p['soft']) for p in node['ports']] == [
        ('rxe0/1', 'ethernet', 'rxe'), ('mlx5_0/1', 'infiniband', None)]
    assert node['soft_devices'] == [{'name': 'rxe0', 'type': 'rxe', 'netdev': 'eth1'}]


@pytest.mark.parametrize('change, message', [
    ({'soft': 'roce'}, "node ini1 port rxe0/1: soft 'roce' is not one of rxe, siw"),
    ({'netdev': None}, 'node ini1 port rxe0/1: netdev is required with soft: rxe (the Ethernet interface the rxe '
                       'device runs on, e.g. eth1)'),
    ({'link_layer': 'infiniband'}, 'node ini1 port rxe0/1: link_layer infiniband: a soft device (soft: rxe) has an '
                                   'Ethernet link layer; leave link_layer out or set it to ethernet'),
    ({'port': 2}, 'node ini1 port rxe0/2: port 2: a soft device (soft: rxe) has one port, number 1'),
])
def test_the_rules_of_a_soft_port_name_node_port_and_field(change, message):
    port = dict(RXE, **change)
    assert errors(port) == [message]


def test_an_explicit_ethernet_link_layer_is_accepted():
    assert errors(dict(RXE, link_layer='ethernet', soft='siw')) == []


def facts(*ports):
    return {'ports': [dict(p, state='ACTIVE', phys_state='LinkUp') for p in ports]}


def test_the_port_check_splits_hardware_ports_from_soft_devices():
    host_slice = Slicer(analyse(fabric(RXE, HCA))).slice('ini1')
    # before rdma_core runs: only the HCA exists
    before = facts({'device': 'mlx5_0', 'port': 1, 'guid': '0x248a070300a1b2c1', 'link_layer': 'infiniband',
                    'netdevs': ['ib0']})
    assert slice_differences(host_slice, before, soft=False) == []
    assert slice_differences(host_slice, before, soft=True) == [
        'node ini1 port rxe0/1: declared guid 0x505400fffe770121 not found on the host '
        '(found: mlx5_0/1=0x248a070300a1b2c1)']
    assert len(slice_differences(host_slice, before)) == 1
    # rxe0 created on the MAC of another netdev: the kernel's GUID is not the model's
    after = {'ports': before['ports'] + facts({'device': 'rxe0', 'port': 1, 'guid': '0x505400fffe770199',
                                               'link_layer': 'ethernet', 'netdevs': ['eth1']})['ports']}
    assert slice_differences(host_slice, after, soft=True) == [
        'node ini1 port rxe0/1: declared guid 0x505400fffe770121 not found on the host; rxe0/1 has guid '
        '0x505400fffe770199']


def test_soft_must_be_a_boolean():
    host_slice = Slicer(analyse(fabric(RXE))).slice('ini1')
    with pytest.raises(FabricError, match='soft must be true, false or omitted'):
        slice_differences(host_slice, {'ports': []}, soft='yes')
