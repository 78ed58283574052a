# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fabric model rules, one test per rule: the documented example (tests/fixtures/fabric/example.yml,
same as docs/fabric.md) is valid; each broken variant fails with the expected message."""

from __future__ import annotations

import copy
import os
import re

import pytest
import yaml

from ansible_collections.rdma.ha_storage.plugins.module_utils.fabric import fields as fabric_fields
from ansible_collections.rdma.ha_storage.plugins.module_utils.fabric import ids as fabric_ids
from ansible_collections.rdma.ha_storage.plugins.module_utils.fabric import model as fabric_model
from ansible_collections.rdma.ha_storage.plugins.module_utils.fabric import slices as fabric_slices
from ansible_collections.rdma.ha_storage.plugins.module_utils.fabric.errors import FabricError

EXAMPLE = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'fixtures', 'fabric', 'example.yml')
DOC = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'docs', 'fabric.md')

with open(EXAMPLE) as _handle:
    _EXAMPLE = yaml.safe_load(_handle)['rdma_fabric']


@pytest.fixture
def fabric():
    return copy.deepcopy(_EXAMPLE)


def node(fabric, name):
    return next(n for n in fabric['nodes'] if n['name'] == name)


def errors(fabric):
    return fabric_model.fabric_errors(fabric)


def warnings(fabric):
    return fabric_model.fabric_warnings(fabric)


# --- the example ------------------------------------------------------------------------------
def test_example_is_valid_without_warnings(fabric):
    model = fabric_model.analyse(fabric)
    assert model.errors == []
    assert model.warnings == []
    assert sorted(model.nodes) == ['esx-1', 'esx-2', 'init-1', 'init-2', 'stor-a', 'stor-b']


def test_docs_example_is_the_fixture():
    """docs/fabric.md carries the same example as the fixture (the fixture is the tested copy)."""
    with open(DOC) as handle:
        text = handle.read()
    start = text.index('```yaml\nrdma_fabric:')
    block = text[start + len('```yaml\n'):text.index('```', start + 8)]
    assert yaml.safe_load(block)['rdma_fabric'] == _EXAMPLE


def test_minimal_model_uses_defaults():
    model = fabric_model.analyse({'nodes': [{'name': 'init-1', 'kind': 'initiator',
                                             'ports': [{'device': 'mlx5_0', 'port': 1, 'guid': 1}]}]})
    assert model.errors == []
    assert model.nodes['init-1']['hostname'] == 'init-1'
    assert model.nodes['init-1']['ports'][0]['link_layer'] == 'infiniband'
    assert model.srp == {'reconnect_delay': 10, 'fast_io_fail_tmo': 15, 'dev_loss_tmo': 600, 'scsi_timeout': 30,
                         'initiator_ext': 'fe80000000000000', 'rdma_cm_port': 5555}
    assert model.warnings == ['node init-1: initiator node is not named by any volume\'s initiators']


# --- GUIDs ------------------------------------------------------------------------------------
@pytest.mark.parametrize('spelling', [
    '0x0002c903000e8acd', '0X0002C903000E8ACD', '0x2c903000e8acd', '0002c903000e8acd', '0002:c903:000e:8acd',
    '2:c903:e:8acd', '0002.c903.000e.8acd', '00:02:c9:03:00:0e:8a:cd', '00-02-C9-03-00-0E-8A-CD',
    ' 0002:c903:000e:8acd\n', 0x0002c903000e8acd,
])
def test_guid_spellings_normalise_to_one_form(spelling):
    assert fabric_ids.canonical_guid(spelling) == '0x0002c903000e8acd'


@pytest.mark.parametrize('bad', ['', '0x', 'zz', '2c903000e8acd', '0x00002c903000e8acd0', '0002:c903:000e',
                                 '00:02:c9:03:00:0e:8a', 2 ** 64, -1, True, 1.5, None, [1]])
def test_guid_syntax_is_checked(bad):
    with pytest.raises(FabricError):
        fabric_ids.canonical_guid(bad)


def test_model_reports_bad_guid_syntax(fabric):
    node(fabric, 'init-1')['ports'][0]['guid'] = '0002:c903:zzzz:2b01'
    assert errors(fabric) == [
        "node init-1 port mlx4_0/1: guid '0002:c903:zzzz:2b01' is not a GUID (expected e.g. 0x0002c903000e8acd, "
        "0002:c903:000e:8acd or 00:02:c9:03:00:0e:8a:cd)"]


def test_zero_guid_is_refused(fabric):
    node(fabric, 'init-1')['ports'][0]['guid'] = '0000:0000:0000:0000'
    assert errors(fabric) == ['node init-1 port mlx4_0/1: guid 0x0000000000000000 is not a valid port GUID']


def test_guid_unique_across_nodes_in_any_spelling(fabric):
    node(fabric, 'stor-b')['ports'][0]['guid'] = '00:02:c9:03:00:0e:8a:cd'   # stor-a mlx4_0/1 in another spelling
    assert errors(fabric) == ['node stor-b port mlx4_0/1: guid 0x0002c903000e8acd is also used by stor-a']


def test_guid_unique_within_a_node(fabric):
    node(fabric, 'esx-1')['ports'][1]['guid'] = node(fabric, 'esx-1')['ports'][0]['guid']
    assert errors(fabric) == [
        'node esx-1 port vmhba32/2: guid 0x0002c9030021c0d1 is also used by port vmhba32/1 of the same node']


def test_port_declared_twice(fabric):
    node(fabric, 'esx-2')['ports'][1]['port'] = 1
    assert errors(fabric) == ['node esx-2 port vmhba32/1: port is declared twice']


# --- names and addresses ----------------------------------------------------------------------
def test_node_names_unique(fabric):
    node(fabric, 'init-2')['name'] = 'init-1'
    found = errors(fabric)
    assert 'node init-1: name is not unique (nodes[2] has the same name)' in found


def test_hostnames_unique(fabric):
    node(fabric, 'init-2')['hostname'] = 'init-1'
    assert errors(fabric) == ['node init-2: hostname init-1 is also used by node init-1']


def test_addresses_unique(fabric):
    node(fabric, 'init-2')['interfaces'][0]['address'] = '10.10.0.21'
    assert errors(fabric) == ['node init-2 interface storage: address 10.10.0.21 is also used by init-1']


def test_address_inside_its_network(fabric):
    node(fabric, 'init-2')['interfaces'][0]['address'] = '10.10.1.22'
    assert errors(fabric) == [
        'node init-2 interface storage: address 10.10.1.22 is outside network storage (10.10.0.0/24)']


def test_address_not_network_or_broadcast(fabric):
    node(fabric, 'init-2')['interfaces'][0]['address'] = '10.10.0.255'
    assert errors(fabric) == [
        'node init-2 interface storage: address 10.10.0.255 is the broadcast address of network storage (10.10.0.0/24)']


def test_address_syntax(fabric):
    node(fabric, 'init-2')['interfaces'][0]['address'] = '10.10.0.300'
    assert errors(fabric) == ["node init-2 interface storage: address '10.10.0.300' is not an IP address"]


def test_one_address_per_node_and_network(fabric):
    node(fabric, 'init-2')['interfaces'].append({'network': 'storage', 'address': '10.10.0.23', 'port': 'mlx5_0/1'})
    assert errors(fabric) == [
        'node init-2 interface storage: a second address on network storage (one address per node and network)']


def test_interface_network_must_exist(fabric):
    node(fabric, 'init-2')['interfaces'][0]['network'] = 'nowhere'
    assert errors(fabric) == ["node init-2 interface nowhere: network 'nowhere' is not a declared network"]


# --- networks ---------------------------------------------------------------------------------
def test_networks_do_not_overlap(fabric):
    fabric['networks'].append({'name': 'mgmt', 'cidr': '10.20.0.128/25', 'transport': 'ethernet',
                               'purpose': 'management'})
    assert errors(fabric) == ['network mgmt: cidr 10.20.0.128/25 overlaps network replication (10.20.0.0/24)']


def test_network_cidr_host_bits(fabric):
    fabric['networks'][1]['cidr'] = '10.20.0.1/24'
    found = errors(fabric)
    assert found[0] == 'network replication: cidr 10.20.0.1/24 has host bits set (did you mean 10.20.0.0/24?)'


def test_ipv6_networks_are_supported(fabric):
    fabric['networks'][1]['cidr'] = 'fd00:20::/64'
    for name, address in (('stor-a', 'fd00:20::11'), ('stor-b', 'fd00:20::12')):
        node(fabric, name)['interfaces'][1]['address'] = address
    assert errors(fabric) == []


def test_ipoib_network_needs_a_declared_partition(fabric):
    fabric['networks'][0]['partition'] = 'other'
    found = errors(fabric)
    assert found[0] == "network storage: partition 'other' is not a declared partition"


def test_ethernet_network_takes_no_partition(fabric):
    fabric['networks'][1]['partition'] = 'storage'
    assert errors(fabric) == ['network replication: partition is only meaningful with transport ipoib']


def test_transport_is_checked(fabric):
    fabric['networks'][1]['transport'] = 'iwarp'
    assert "network replication: transport 'iwarp' is not one of ipoib, ethernet" in errors(fabric)


# --- partitions, P_Keys, MTU --------------------------------------------------------------------
@pytest.mark.parametrize('given,expected', [
    (0x8001, 0x8001), (0x0001, 0x8001), ('0x8001', 0x8001), ('0x0001', 0x8001), (32769, 0x8001), ('32769', 0x8001),
    ('0X7FFF', 0xFFFF), (0x1234, 0x9234),
])
def test_pkey_normalised_with_full_membership(given, expected):
    assert fabric_ids.normalize_pkey(given) == expected


@pytest.mark.parametrize('bad,message', [
    (0x0000, 'pkey 0x0000 is invalid (0x0000 and 0x8000 are reserved: the low 15 bits must not be 0)'),
    (0x8000, 'pkey 0x8000 is invalid (0x0000 and 0x8000 are reserved: the low 15 bits must not be 0)'),
    ('0x8000', 'pkey 0x8000 is invalid (0x0000 and 0x8000 are reserved: the low 15 bits must not be 0)'),
    (0x18001, 'pkey 98305 does not fit 16 bits (15-bit P_Key plus the membership bit)'),
    (-1, 'pkey -1 does not fit 16 bits (15-bit P_Key plus the membership bit)'),
])
def test_pkey_rules(fabric, bad, message):
    fabric['partitions'][0]['pkey'] = bad
    assert errors(fabric) == ['partition storage: ' + message]


def test_pkey_syntax(fabric):
    fabric['partitions'][0]['pkey'] = 'storage'
    assert errors(fabric) == [
        "partition storage: pkey 'storage' is not a P_Key (expected an integer or a hex string such as \"0x8001\")"]


def test_pkeys_unique(fabric):
    fabric['partitions'].append({'name': 'backup', 'pkey': 0x0001})
    assert errors(fabric) == ['partition backup: pkey 0x8001 is also used by partition storage']


@pytest.mark.parametrize('mode,mtu,ok', [
    ('datagram', 4092, True), ('datagram', 4093, False), ('datagram', 2044, True),
    ('connected', 65520, True), ('connected', 65521, False), ('connected', 67, False),
])
def test_ipoib_mtu_limits(fabric, mode, mtu, ok):
    fabric['partitions'][0].update({'ipoib_mode': mode, 'mtu': mtu})
    found = errors(fabric)
    if ok:
        assert found == []
    elif mtu < 68:
        assert found == ['partition storage: mtu 67 is out of range (68..1000000000)']
    else:
        assert found == ['partition storage: mtu %d is too large for ipoib_mode %s (at most %d)'
                         % (mtu, mode, fabric_ids.ipoib_max_mtu(mode))]


def test_ipoib_mtu_default_depends_on_mode(fabric):
    del fabric['partitions'][0]['mtu']
    fabric['partitions'][0]['ipoib_mode'] = 'datagram'
    assert fabric_model.analyse(fabric).partitions['storage']['mtu'] == 2044


def test_ipoib_mode_is_checked(fabric):
    fabric['partitions'][0]['ipoib_mode'] = 'cm'
    assert errors(fabric) == ["partition storage: ipoib_mode 'cm' is not one of datagram, connected"]


# --- IPoIB interfaces -------------------------------------------------------------------------
def test_ipoib_only_on_infiniband_link_layer(fabric):
    node(fabric, 'init-2')['ports'][0]['link_layer'] = 'ethernet'
    assert errors(fabric) == [
        'node init-2 interface storage: IPoIB needs an InfiniBand port but mlx5_0/1 has link_layer ethernet']


def test_ipoib_interface_needs_a_port(fabric):
    del node(fabric, 'init-2')['interfaces'][0]['port']
    assert errors(fabric) == ['node init-2 interface storage: port is required on an ipoib network '
                              '(the HCA port whose netdev gets the P_Key child)']


def test_ipoib_port_must_exist(fabric):
    node(fabric, 'init-2')['interfaces'][0]['port'] = 'mlx5_0/2'
    assert errors(fabric) == ['node init-2 interface storage: port mlx5_0/2 is not a port of this node']


def test_ipoib_port_needs_a_netdev(fabric):
    del node(fabric, 'init-2')['ports'][0]['netdev']
    assert errors(fabric) == [
        'node init-2 interface storage: port mlx5_0/1 has no netdev; IPoIB needs the parent interface (e.g. ib0)']


def test_pkey_child_name_length(fabric):
    node(fabric, 'init-2')['ports'][0]['netdev'] = 'ibp129s0f0'         # ibp129s0f0.8001: 15 characters, fits
    assert errors(fabric) == []
    node(fabric, 'init-2')['ports'][0]['netdev'] = 'ibp129s0f0d1'
    assert errors(fabric) == ['node init-2 interface storage: P_Key child interface name ibp129s0f0d1.8001 is longer '
                              'than 15 characters; use a shorter parent name']


def test_ipoib_netdev_is_derived(fabric):
    slice_ = fabric_slices.host_slice(fabric, 'init-2')
    iface = slice_['node']['interfaces'][0]
    assert (iface['netdev'], iface['parent'], iface['pkey'], iface['mtu'], iface['ipoib_mode']) == \
        ('ib0.8001', 'ib0', 0x8001, 65520, 'connected')


def test_ipoib_explicit_netdev_must_match(fabric):
    node(fabric, 'init-2')['interfaces'][0]['netdev'] = 'ib0.8002'
    assert errors(fabric) == ['node init-2 interface storage: netdev ib0.8002 differs from the P_Key child ib0.8001 '
                              'derived from port mlx5_0/1 and partition storage; leave netdev out']


def test_ethernet_interface_needs_a_netdev(fabric):
    del node(fabric, 'stor-b')['interfaces'][1]['netdev']
    assert errors(fabric) == ['node stor-b interface replication: netdev is required on an ethernet network '
                              '(or a port that has a netdev)']


def test_ethernet_interface_on_roce_port_takes_its_netdev(fabric):
    node(fabric, 'stor-b')['ports'].append({'device': 'rxe0', 'port': 1, 'guid': '50:54:00:ff:fe:12:34:56',
                                            'link_layer': 'ethernet', 'netdev': 'eth2'})
    node(fabric, 'stor-b')['interfaces'][1] = {'network': 'replication', 'address': '10.20.0.12', 'port': 'rxe0/1'}
    assert errors(fabric) == []
    assert fabric_slices.host_slice(fabric, 'stor-b')['node']['interfaces'][1]['netdev'] == 'eth2'


def test_ethernet_interface_not_on_infiniband_port(fabric):
    node(fabric, 'stor-b')['interfaces'][1]['port'] = 'mlx4_0/2'
    assert errors(fabric) == ['node stor-b interface replication: transport ethernet but port mlx4_0/2 has link_layer '
                              'infiniband (use an ipoib network)']


# --- HA pairs ---------------------------------------------------------------------------------
def test_pair_needs_exactly_two_nodes(fabric):
    fabric['ha_pairs'][0]['nodes'] = ['stor-a']
    assert 'ha_pair pair1: nodes must list exactly two storage nodes, got 1' in errors(fabric)


def test_pair_nodes_distinct(fabric):
    fabric['ha_pairs'][0]['nodes'] = ['stor-a', 'stor-a']
    assert 'ha_pair pair1: nodes names stor-a twice; a pair needs two different storage nodes' in errors(fabric)


def test_pair_nodes_are_storage_nodes(fabric):
    fabric['ha_pairs'][0]['nodes'] = ['stor-a', 'init-1']
    assert 'ha_pair pair1: node init-1 is of kind initiator, not storage' in errors(fabric)


def test_pair_nodes_exist(fabric):
    fabric['ha_pairs'][0]['nodes'] = ['stor-a', 'stor-c']
    assert "ha_pair pair1: node 'stor-c' is not a declared node" in errors(fabric)


def test_node_in_one_pair_only(fabric):
    stor_c_port = {'device': 'mlx4_0', 'port': 1, 'guid': '0x0002c903000e7c01'}
    fabric['nodes'].append({'name': 'stor-c', 'kind': 'storage', 'ports': [stor_c_port],
                            'interfaces': [{'network': 'replication', 'address': '10.20.0.13', 'netdev': 'eth2'}]})
    fabric['ha_pairs'].append({'name': 'pair2', 'nodes': ['stor-a', 'stor-c'], 'replication_network': 'replication',
                               'client_network': 'storage'})
    assert 'ha_pair pair2: node stor-a is already in ha_pair pair1 (a node belongs to one pair)' in errors(fabric)


def test_pair_nodes_on_replication_network(fabric):
    del node(fabric, 'stor-b')['interfaces'][1]
    assert errors(fabric) == ['ha_pair pair1: node stor-b has no address on replication network replication']


def test_pair_nodes_on_client_network(fabric):
    del node(fabric, 'stor-b')['interfaces'][0]
    assert errors(fabric) == ['ha_pair pair1: node stor-b has no address on client network storage']


def test_pair_storage_nodes_have_ports(fabric):
    node(fabric, 'stor-b')['ports'] = []
    node(fabric, 'stor-b')['interfaces'][0] = {'network': 'storage', 'address': '10.10.0.12', 'port': 'mlx4_0/1'}
    found = errors(fabric)
    assert 'ha_pair pair1: node stor-b has no HCA ports to export volumes on' in found


def test_replication_and_client_networks_distinct_is_an_error(fabric):
    fabric['ha_pairs'][0]['client_network'] = 'replication'
    found = errors(fabric)
    assert found[0].startswith('ha_pair pair1: replication_network and client_network are both replication; '
                               'they must be distinct networks')


def test_replication_and_client_on_same_netdev_is_a_warning(fabric):
    fabric['networks'][0] = {'name': 'storage', 'cidr': '10.10.0.0/24', 'transport': 'ethernet', 'purpose': 'client'}
    for name in ('stor-a', 'stor-b', 'init-1', 'init-2'):
        node(fabric, name)['interfaces'][0] = dict(node(fabric, name)['interfaces'][0], netdev='eth2')
        del node(fabric, name)['interfaces'][0]['port']
    assert errors(fabric) == []
    assert warnings(fabric) == [
        'ha_pair pair1: node stor-a carries replication network replication and client network storage on the same '
        'netdev eth2; one link failure cuts both',
        'ha_pair pair1: node stor-b carries replication network replication and client network storage on the same '
        'netdev eth2; one link failure cuts both']


def test_pair_network_purpose_mismatch_is_a_warning(fabric):
    fabric['networks'][1]['purpose'] = 'management'
    assert warnings(fabric) == ['ha_pair pair1: replication_network replication has purpose management, '
                                'expected replication']


def test_initial_primary_is_a_member(fabric):
    fabric['ha_pairs'][0]['initial_primary'] = 'stor-c'
    assert errors(fabric) == ["ha_pair pair1: initial_primary 'stor-c' is not one of the pair's nodes"]


def test_storage_node_outside_pairs_is_a_warning(fabric):
    stor_c_port = {'device': 'mlx4_0', 'port': 1, 'guid': '0x0002c903000e7c01'}
    fabric['nodes'].append({'name': 'stor-c', 'kind': 'storage', 'ports': [stor_c_port]})
    assert errors(fabric) == []
    assert warnings(fabric) == ['node stor-c: storage node is not in any ha_pair']


# --- volumes ----------------------------------------------------------------------------------
def test_lun_defaults_to_the_volume_position(fabric):
    model = fabric_model.analyse(fabric)
    assert [v['lun'] for v in model.pairs['pair1']['volumes']] == [0, 1]


def test_lun_explicit_and_unique_in_the_pair(fabric):
    fabric['ha_pairs'][0]['volumes'][0]['lun'] = 7
    assert errors(fabric) == []
    assert [v['lun'] for v in fabric_model.analyse(fabric).pairs['pair1']['volumes']] == [7, 1]
    fabric['ha_pairs'][0]['volumes'][0]['lun'] = 1
    assert errors(fabric) == [
        'ha_pair pair1 volume vol1: lun 1 is also used by ha_pair pair1 volume vol0 (a LUN number is unique in a '
        'pair: both nodes export every volume of the pair on the same target ports)']


@pytest.mark.parametrize('bad', [-1, 512, 'first'])
def test_lun_range(fabric, bad):
    fabric['ha_pairs'][0]['volumes'][0]['lun'] = bad
    problems = errors(fabric)
    assert len(problems) == 1 and problems[0].startswith('ha_pair pair1 volume vol0: lun ')


def test_rdma_cm_port(fabric):
    assert fabric_model.analyse(fabric).srp['rdma_cm_port'] == 5555
    fabric['srp']['rdma_cm_port'] = 4420
    assert fabric_model.analyse(fabric).srp['rdma_cm_port'] == 4420
    fabric['srp']['rdma_cm_port'] = 70000
    problems = errors(fabric)
    assert len(problems) == 1 and problems[0].startswith('srp: rdma_cm_port 70000')


def test_drbd_minor_unique_per_node(fabric):
    fabric['ha_pairs'][0]['volumes'][1]['drbd_minor'] = 0
    assert errors(fabric) == [
        'ha_pair pair1 volume vol1: drbd_minor 0 on stor-a is also used by ha_pair pair1 volume vol0',
        'ha_pair pair1 volume vol1: drbd_minor 0 on stor-b is also used by ha_pair pair1 volume vol0']


def test_drbd_port_unique_per_node(fabric):
    fabric['ha_pairs'][0]['volumes'][1]['drbd_port'] = '7789'
    assert errors(fabric) == [
        'ha_pair pair1 volume vol1: drbd_port 7789 on stor-a is also used by ha_pair pair1 volume vol0',
        'ha_pair pair1 volume vol1: drbd_port 7789 on stor-b is also used by ha_pair pair1 volume vol0']


def test_drbd_minor_and_port_ranges(fabric):
    fabric['ha_pairs'][0]['volumes'][1].update({'drbd_minor': 1 << 20, 'drbd_port': 70000})
    assert errors(fabric) == ['ha_pair pair1 volume vol1: drbd_minor 1048576 is out of range (0..1048575)',
                              'ha_pair pair1 volume vol1: drbd_port 70000 is out of range (1..65535)']


def test_same_minor_on_other_nodes_is_fine(fabric):
    fabric['nodes'] += [
        {'name': n, 'kind': 'storage', 'ports': [{'device': 'mlx4_0', 'port': 1, 'guid': g, 'netdev': 'ib0'}],
         'interfaces': [{'network': 'storage', 'address': c, 'port': 'mlx4_0/1'},
                        {'network': 'replication', 'address': r, 'netdev': 'eth2'}]}
        for n, g, c, r in (('stor-c', 0x2c903000e7c01, '10.10.0.13', '10.20.0.13'),
                           ('stor-d', 0x2c903000e7d01, '10.10.0.14', '10.20.0.14'))]
    pair2 = copy.deepcopy(fabric['ha_pairs'][0])
    pair2.update({'name': 'pair2', 'nodes': ['stor-c', 'stor-d'], 'initial_primary': 'stor-c'})
    for index, volume in enumerate(pair2['volumes']):
        volume['lun_serial'] = '6b2f1e4a000%d' % index
    pair2['volumes'][1]['backing_device'] = '/dev/sdc'
    fabric['ha_pairs'].append(pair2)
    assert errors(fabric) == []


def test_backing_device_unique_per_node(fabric):
    fabric['ha_pairs'][0]['volumes'][1]['backing_device'] = {'stor-a': '/dev/sdb', 'stor-b': '/dev/sdd'}
    assert errors(fabric) == [
        'ha_pair pair1 volume vol1: backing_device /dev/sdb on stor-a is also used by ha_pair pair1 volume vol0']


def test_backing_device_mapping_covers_both_nodes(fabric):
    fabric['ha_pairs'][0]['volumes'][1]['backing_device'] = {'stor-a': '/dev/sdc', 'stor-c': '/dev/sdd'}
    assert errors(fabric) == [
        "ha_pair pair1 volume vol1: backing_device names 'stor-c', which is not a node of this pair",
        'ha_pair pair1 volume vol1: backing_device has no entry for node stor-b']


def test_backing_device_is_an_absolute_path(fabric):
    fabric['ha_pairs'][0]['volumes'][0]['backing_device'] = 'sdb'
    assert errors(fabric) == ["ha_pair pair1 volume vol0: backing_device 'sdb' is not an absolute device path"]


def test_volume_names_unique_in_pair(fabric):
    fabric['ha_pairs'][0]['volumes'][1]['name'] = 'vol0'
    assert 'ha_pair pair1 volume vol0: name is not unique (ha_pair pair1 volumes[0] has the same name)' \
        in errors(fabric)


def test_lun_serials_unique(fabric):
    fabric['ha_pairs'][0]['volumes'][1]['lun_serial'] = '5a1e0d3f0000'
    assert errors(fabric) == [
        'ha_pair pair1 volume vol1: lun_serial 5a1e0d3f0000 is also used by ha_pair pair1 volume vol0']


def test_lun_serials_give_distinct_wwids(fabric):
    fabric['ha_pairs'][0]['volumes'][0]['lun_serial'] = '0123456789abcdef012345678-a'
    fabric['ha_pairs'][0]['volumes'][1]['lun_serial'] = '0123456789abcdef012345678-b'
    assert errors(fabric) == [
        'ha_pair pair1 volume vol1: lun_serial 0123456789abcdef012345678-b gives the same LUN WWID '
        '360014050123456789abcdef012345678 as ha_pair pair1 volume vol0 (LIO uses only the first 25 hex digits)']


def test_lun_serial_syntax(fabric):
    fabric['ha_pairs'][0]['volumes'][1]['lun_serial'] = 'has space'
    assert errors(fabric) == ["ha_pair pair1 volume vol1: lun_serial 'has space' is invalid (letters, digits, \".\", "
                              "\"_\", \":\" and \"-\", at most 253 characters)"]


def test_lio_wwid_matches_kernel_derivation():
    # 25 hex digits of the serial, non-hex skipped, padded with zeros, after 3 + NAA 6 + company id 001405
    assert fabric_ids.lio_wwid('5a1e0d3f0000') == '360014055a1e0d3f00000000000000000'
    assert fabric_ids.lio_wwid('a1b2c3d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d') == '36001405a1b2c3d45e6f4a7b8c9d0e1f2'


def test_initiators_must_exist(fabric):
    fabric['ha_pairs'][0]['volumes'][0]['initiators'].append('init-9')
    assert errors(fabric) == ["ha_pair pair1 volume vol0: initiator 'init-9' is not a declared node"]


def test_initiators_are_initiator_or_esx_nodes(fabric):
    fabric['ha_pairs'][0]['volumes'][0]['initiators'].append('stor-b')
    assert errors(fabric) == [
        'ha_pair pair1 volume vol0: initiator stor-b is a storage node, not an initiator or esx node']


def test_initiators_have_ports(fabric):
    node(fabric, 'esx-2')['ports'] = []
    assert errors(fabric) == ['ha_pair pair1 volume vol0: initiator esx-2 has no HCA ports',
                              'ha_pair pair1 volume vol1: initiator esx-2 has no HCA ports']


def test_roce_initiator_needs_client_address(fabric):
    node(fabric, 'esx-2')['ports'] = [{'device': 'vmhba33', 'port': 1, 'guid': '0x0250560000a0b0c1',
                                       'link_layer': 'ethernet'}]
    assert errors(fabric) == [
        'ha_pair pair1 volume vol0: initiator esx-2 has only RoCE ports and no address on client network storage; '
        'SRP over RDMA/CM needs one',
        'ha_pair pair1 volume vol1: initiator esx-2 has only RoCE ports and no address on client network storage; '
        'SRP over RDMA/CM needs one']


def test_volume_without_initiators_is_a_warning(fabric):
    fabric['ha_pairs'][0]['volumes'][1]['initiators'] = []
    assert errors(fabric) == []
    assert warnings(fabric) == ['ha_pair pair1 volume vol1: initiators is empty: the volume is exported to no initiator']


# --- SRP timers (srp_tmo_valid() in drivers/scsi/scsi_transport_srp.c + the SCSI command timeout) ---
@pytest.mark.parametrize('timers,message', [
    ({'reconnect_delay': 0}, 'reconnect_delay 0 is invalid; use a positive number of seconds or "off"'),
    ({'reconnect_delay': 'off', 'fast_io_fail_tmo': 'off', 'dev_loss_tmo': -1},
     'reconnect_delay, fast_io_fail_tmo and dev_loss_tmo are all "off"; the kernel refuses this '
     '(a failed path would never be reported to multipath)'),
    ({'fast_io_fail_tmo': 600, 'dev_loss_tmo': 600, 'scsi_timeout': 700},
     'fast_io_fail_tmo 600 must be below dev_loss_tmo 600'),
    ({'fast_io_fail_tmo': 601, 'dev_loss_tmo': 3600, 'scsi_timeout': 700},
     'fast_io_fail_tmo 601 must not exceed 600 s (SCSI_DEVICE_BLOCK_MAX_TIMEOUT)'),
    ({'fast_io_fail_tmo': 'off', 'dev_loss_tmo': 601},
     'dev_loss_tmo 601 must not exceed 600 s while fast_io_fail_tmo is "off" (SCSI_DEVICE_BLOCK_MAX_TIMEOUT)'),
    ({'fast_io_fail_tmo': 30, 'scsi_timeout': 30},
     'fast_io_fail_tmo 30 must be below scsi_timeout 30 (the SCSI command timeout), or I/O on a dead path waits for '
     'the command timeout first'),
    ({'scsi_timeout': 0}, 'scsi_timeout 0 is not a positive number of seconds'),
    ({'dev_loss_tmo': 'never'}, "dev_loss_tmo 'never' is not a number of seconds or \"off\""),
    ({'dev_loss_tmo': 2 ** 31}, 'dev_loss_tmo 2147483648 is out of range (the kernel parses it as a 32-bit int)'),
])
def test_srp_timer_rules(fabric, timers, message):
    fabric['srp'].update(timers)
    assert errors(fabric) == ['srp: ' + message]


@pytest.mark.parametrize('timers,expected', [
    ({'reconnect_delay': 'off'}, {'reconnect_delay': 'off'}),
    ({'reconnect_delay': -5, 'fast_io_fail_tmo': 'OFF'}, {'reconnect_delay': 'off', 'fast_io_fail_tmo': 'off'}),
    ({'fast_io_fail_tmo': 'off', 'dev_loss_tmo': 600}, {'fast_io_fail_tmo': 'off', 'dev_loss_tmo': 600}),
    ({'dev_loss_tmo': 'off'}, {'dev_loss_tmo': 'off'}),                        # fast_io_fail 15 stays on
    ({'fast_io_fail_tmo': 5, 'dev_loss_tmo': 86400, 'scsi_timeout': 30}, {'dev_loss_tmo': 86400}),
])
def test_srp_timers_the_kernel_accepts(fabric, timers, expected):
    fabric['srp'].update(timers)
    model = fabric_model.analyse(fabric)
    assert model.errors == []
    for key, value in expected.items():
        assert model.srp[key] == value


def test_srp_initiator_ext(fabric):
    fabric['srp']['initiator_ext'] = 'nothex'
    assert errors(fabric) == ["srp: initiator_ext 'nothex' is not 16 hex digits (e.g. fe80000000000000)"]


# --- structure, unknown fields, all problems in one pass -----------------------------------------
@pytest.mark.parametrize('bad', [None, [], 'rdma', 3])
def test_model_must_be_a_mapping(bad):
    assert len(fabric_model.fabric_errors(bad)) == 1
    assert fabric_model.fabric_errors(bad)[0].startswith('rdma_fabric: must be a mapping')


def test_nodes_are_required():
    assert fabric_model.fabric_errors({}) == ['rdma_fabric: nodes is required']
    assert fabric_model.fabric_errors({'nodes': []}) == ['rdma_fabric: nodes is empty: declare at least the storage nodes']


def test_wrong_types_are_reported_not_raised(fabric):
    fabric['nodes'][0]['ports'] = 'mlx4_0'
    fabric['networks'][1] = ['replication']
    fabric['ha_pairs'][0]['volumes'][0]['drbd_minor'] = True
    found = errors(fabric)
    assert 'node stor-a: ports must be a list, got string' in found
    assert 'networks[1]: must be a mapping, got list' in found
    assert 'ha_pair pair1 volume vol0: drbd_minor true is not an integer' in found


def test_unknown_fields_are_warnings(fabric):
    fabric['partitions'][0]['pkeys'] = [1]
    fabric['nodes'][0]['ports'][0]['speed'] = 56
    assert errors(fabric) == []
    assert warnings(fabric) == [
        "partition storage: unknown field 'pkeys' ignored (known: ipoib_mode, mtu, name, pkey)",
        "node stor-a port mlx4_0/1: unknown field 'speed' ignored (known: device, guid, link_layer, netdev, port, rate, soft, "
        "subnet_prefix, vmnic)"]


def test_all_problems_in_one_pass(fabric):
    node(fabric, 'stor-b')['ports'][0]['guid'] = '0002:c903:000e:8acd'
    fabric['partitions'][0]['mtu'] = 70000
    fabric['ha_pairs'][0]['volumes'][1]['lun_serial'] = '5a1e0d3f0000'
    fabric['srp']['reconnect_delay'] = 0
    node(fabric, 'init-2')['interfaces'][0]['address'] = '10.10.0.21'
    assert errors(fabric) == [
        'partition storage: mtu 70000 is too large for ipoib_mode connected (at most 65520)',
        'node stor-b port mlx4_0/1: guid 0x0002c903000e8acd is also used by stor-a',
        'node init-2 interface storage: address 10.10.0.21 is also used by init-1',
        'ha_pair pair1 volume vol1: lun_serial 5a1e0d3f0000 is also used by ha_pair pair1 volume vol0',
        'srp: reconnect_delay 0 is invalid; use a positive number of seconds or "off"',
    ]


# --- the host slice ---------------------------------------------------------------------------
def test_slice_of_storage_node(fabric):
    result = fabric_slices.host_slice(fabric, 'stor-b')
    assert result['node']['kind'] == 'storage'
    assert [p['guid'] for p in result['node']['ports']] == ['0x0002c903000e9b11', '0x0002c903000e9b12']
    assert result['node']['ports'][0]['srpt_wwn'] == 'ib.fe800000000000000002c903000e9b11'
    pair = result['ha_pair']
    assert (pair['name'], pair['peer'], pair['is_initial_primary'], pair['initial_primary']) == \
        ('pair1', 'stor-a', False, 'stor-a')
    assert [(n['name'], n['replication_address'], n['client_address']) for n in pair['nodes']] == \
        [('stor-a', '10.20.0.11', '10.10.0.11'), ('stor-b', '10.20.0.12', '10.10.0.12')]
    vol1 = pair['volumes'][1]
    assert (vol1['drbd_device'], vol1['backing_device'], vol1['backing_devices']) == \
        ('/dev/drbd1', '/dev/sdd', {'stor-a': '/dev/sdc', 'stor-b': '/dev/sdd'})
    assert vol1['wwid'] == '360014055a1e0d3f00010000000000000'
    assert sorted(result['initiators']) == ['esx-1', 'esx-2', 'init-1', 'init-2']
    assert [p['srp_port_id'] for p in result['initiators']['init-1']['ports']] == \
        ['0xfe800000000000000002c903001a2b01', '0xfe800000000000000002c903001a2b02']
    assert result['initiators']['init-1']['client_address'] == '10.10.0.21'
    assert result['targets'] == []
    assert result['srp']['dev_loss_tmo'] == 600


def test_slice_of_initiator(fabric):
    result = fabric_slices.host_slice(fabric, 'init-1')
    assert result['ha_pair'] is None
    assert result['initiators'] == {}
    assert [(t['pair'], t['volume'], t['lun_serial']) for t in result['targets']] == [('pair1', 'vol0', '5a1e0d3f0000')]
    assert [(n['name'], n['client_address']) for n in result['targets'][0]['nodes']] == \
        [('stor-a', '10.10.0.11'), ('stor-b', '10.10.0.12')]


def test_slice_of_esx_host(fabric):
    result = fabric_slices.host_slice(fabric, 'esx-2')
    assert result['node']['kind'] == 'esx'
    assert [t['volume'] for t in result['targets']] == ['vol0', 'vol1']


def test_slice_refuses_invalid_model(fabric):
    fabric['srp']['reconnect_delay'] = 0
    with pytest.raises(FabricError, match='rdma_fabric is invalid \\(1 problem\\): srp: reconnect_delay 0'):
        fabric_slices.host_slice(fabric, 'stor-a')


def test_slice_of_unknown_host(fabric):
    with pytest.raises(FabricError, match="host 'stor-z' is not a node of rdma_fabric"):
        fabric_slices.host_slice(fabric, 'stor-z')


def test_summary_counts(fabric):
    counts = fabric_model.summary(fabric_model.analyse(fabric))['counts']
    assert counts == {'partitions': 1, 'networks': 2, 'nodes': 6, 'ports': 11, 'interfaces': 6, 'ha_pairs': 1,
                      'volumes': 2}


# --- regressions found by the fuzz tests -----------------------------------------------------------
def test_unicode_digits_are_not_a_pkey():
    # str.isdigit() is True for '²' but int('²') raises: found by test_pkey_normalisation_is_idempotent
    with pytest.raises(FabricError, match="pkey '²' is not a P_Key"):
        fabric_ids.normalize_pkey('²')


def test_trailing_newline_is_not_part_of_a_name(fabric):
    # '$' in a regex also matches before a final newline; names and netdevs must not end in one
    node(fabric, 'esx-2')['name'] = 'esx-2\n'
    node(fabric, 'init-2')['ports'][0]['netdev'] = 'ib0\n'
    found = errors(fabric)
    assert "nodes[5]: name 'esx-2\n' is invalid (letters, digits, \"_\", \".\" and \"-\", at most 63 characters)" in found
    assert "node init-2 port mlx5_0/1: netdev 'ib0\n' is not a network interface name (1-15 characters, no \"/\", " \
        "\":\" or spaces)" in found


# --- an explicit null is the field left out (a bare `key:` in YAML gives null) -----------------------
def _outcome(fabric):
    """Everything the model gives the roles: problems, the summary and every host's slice."""
    model = fabric_model.analyse(fabric)
    slices = {} if model.errors else dict((name, fabric_slices.host_slice(fabric, name, model)) for name in model.nodes)
    return model.errors, model.warnings, fabric_model.summary(model), slices


def _at(fabric, path):
    """The mapping that holds the last key of ``path`` (nodes are named, not numbered), and that key."""
    parent = fabric
    for key in path[:-1]:
        parent = node({'nodes': parent}, key) if isinstance(key, str) and isinstance(parent, list) else parent[key]
    return parent, path[-1]


# every field with a documented default (or none, like rate), where it is given and where it is not
DEFAULTED = [
    ('partitions',), ('networks',), ('ha_pairs',), ('srp',),
    ('partitions', 0, 'ipoib_mode'), ('partitions', 0, 'mtu'),
    ('networks', 0, 'purpose'), ('networks', 1, 'purpose'), ('networks', 1, 'mtu'), ('networks', 1, 'partition'),
    ('nodes', 'stor-a', 'hostname'), ('nodes', 'init-2', 'hostname'),
    ('nodes', 'esx-1', 'ports'), ('nodes', 'esx-1', 'interfaces'), ('nodes', 'init-1', 'interfaces'),
    ('nodes', 'stor-b', 'ports', 0, 'link_layer'), ('nodes', 'stor-b', 'ports', 0, 'rate'),
    ('nodes', 'stor-b', 'ports', 1, 'netdev'), ('nodes', 'stor-b', 'ports', 0, 'subnet_prefix'),
    ('nodes', 'stor-a', 'interfaces', 0, 'netdev'), ('nodes', 'stor-a', 'interfaces', 1, 'port'),
    ('ha_pairs', 0, 'initial_primary'), ('ha_pairs', 0, 'cluster_manager'), ('ha_pairs', 0, 'volumes'), ('ha_pairs', 0, 'volumes', 1, 'initiators'),
    ('srp', 'reconnect_delay'), ('srp', 'fast_io_fail_tmo'), ('srp', 'dev_loss_tmo'), ('srp', 'scsi_timeout'),
    ('srp', 'initiator_ext'),
]


@pytest.mark.parametrize('path', DEFAULTED, ids=['.'.join(str(k) for k in p) for p in DEFAULTED])
def test_null_is_the_default(fabric, path):
    missing = copy.deepcopy(fabric)
    parent, key = _at(missing, path)
    parent.pop(key, None)
    parent, key = _at(fabric, path)
    parent[key] = None
    assert _outcome(fabric) == _outcome(missing)


def test_null_initial_primary_is_the_first_node(fabric):
    fabric['ha_pairs'][0].update({'nodes': ['stor-b', 'stor-a'], 'initial_primary': None})
    assert errors(fabric) == []
    pair = fabric_slices.host_slice(fabric, 'stor-b')['ha_pair']
    assert (pair['initial_primary'], pair['is_initial_primary']) == ('stor-b', True)
    assert fabric_slices.host_slice(fabric, 'init-1')['targets'][0]['initial_primary'] == 'stor-b'


def test_null_hostname_is_the_node_name(fabric):
    node(fabric, 'stor-b')['hostname'] = None
    node(fabric, 'init-2')['hostname'] = None
    assert errors(fabric) == []
    assert fabric_slices.host_slice(fabric, 'stor-b')['node']['hostname'] == 'stor-b'
    result = fabric_slices.host_slice(fabric, 'stor-a')
    assert [n['hostname'] for n in result['ha_pair']['nodes']] == ['stor-a', 'stor-b']   # the peer's DRBD "on"
    assert result['initiators']['init-2']['hostname'] == 'init-2'
    assert [n['hostname'] for n in fabric_slices.host_slice(fabric, 'init-2')['targets'][0]['nodes']] == \
        ['stor-a', 'stor-b']


@pytest.mark.parametrize('path,message', [
    (('nodes',), 'rdma_fabric: nodes is required'),
    (('partitions', 0, 'name'), 'partitions[0]: name is required'),
    (('partitions', 0, 'pkey'), 'partition storage: pkey is required'),
    (('networks', 0, 'cidr'), 'network storage: cidr is required'),
    (('networks', 1, 'transport'), 'network replication: transport is required (one of ipoib, ethernet)'),
    (('networks', 0, 'partition'), 'network storage: partition is required for transport ipoib'),
    (('nodes', 'esx-1', 'kind'), 'node esx-1: kind is required (one of storage, initiator, esx)'),
    (('nodes', 'esx-1', 'ports', 0, 'device'),
     'node esx-1 ports[0]: device is required (RDMA device name such as mlx4_0 or rxe0)'),
    (('nodes', 'esx-1', 'ports', 0, 'port'),
     'node esx-1 ports[0]: port is required (port number, 1 for single-port devices)'),
    (('nodes', 'esx-1', 'ports', 0, 'guid'), 'node esx-1 port vmhba32/1: guid is required'),
    (('nodes', 'init-1', 'interfaces', 0, 'network'), 'node init-1 interfaces[0]: network is required'),
    (('nodes', 'init-1', 'interfaces', 0, 'address'), 'node init-1 interface storage: address is required'),
    (('nodes', 'init-1', 'interfaces', 0, 'port'), 'node init-1 interface storage: port is required on an ipoib '
                                                   'network (the HCA port whose netdev gets the P_Key child)'),
    (('nodes', 'stor-a', 'interfaces', 1, 'netdev'), 'node stor-a interface replication: netdev is required on an '
                                                     'ethernet network (or a port that has a netdev)'),
    (('ha_pairs', 0, 'name'), 'ha_pairs[0]: name is required'),
    (('ha_pairs', 0, 'nodes'), 'ha_pair pair1: nodes is required (exactly two storage nodes)'),
    (('ha_pairs', 0, 'replication_network'), 'ha_pair pair1: replication_network is required'),
    (('ha_pairs', 0, 'client_network'), 'ha_pair pair1: client_network is required'),
    (('ha_pairs', 0, 'volumes', 0, 'name'), 'ha_pair pair1 volumes[0]: name is required'),
    (('ha_pairs', 0, 'volumes', 0, 'backing_device'), 'ha_pair pair1 volume vol0: backing_device is required'),
    (('ha_pairs', 0, 'volumes', 0, 'drbd_minor'), 'ha_pair pair1 volume vol0: drbd_minor is required'),
    (('ha_pairs', 0, 'volumes', 0, 'drbd_port'), 'ha_pair pair1 volume vol0: drbd_port is required'),
    (('ha_pairs', 0, 'volumes', 0, 'lun_serial'), 'ha_pair pair1 volume vol0: lun_serial is required'),
])
def test_null_required_field_is_required(fabric, path, message):
    missing = copy.deepcopy(fabric)
    parent, key = _at(missing, path)
    del parent[key]
    parent, key = _at(fabric, path)
    parent[key] = None
    assert message in errors(fabric)
    assert errors(fabric) == errors(missing)


def test_every_field_is_read_through_field():
    # the null rule lives in fabric.fields._field; a dict.get() on the model would bypass it
    with open(fabric_fields.__file__) as handle:
        fields_source = handle.read()
    assert re.findall(r'\b(?!dict\b)\w+\.get\(', fields_source) == ['mapping.get(']   # _field (and its docstring)
    with open(fabric_model.__file__) as handle:
        parse = handle.read()
    parse = parse[parse.index('# Partitions'):parse.index('# Public API')]
    # the entity parsers read user mappings only through the tables (Entity.read / Entity.raw)
    assert re.findall(r'\b(?:item|v_item|data|raw|fabric|mapping|value)\.get\(', parse) == []
    assert re.findall(r'\b(?:item|v_item|data|raw|fabric|mapping)\[', parse) == []
    assert '_field(' not in parse


def test_every_field_of_the_schema_is_in_a_table():
    # the known keys of each entity are its table; docs/fabric.md lists the same fields
    with open(DOC) as handle:
        doc = handle.read()
    for section, table in (('partitions', fabric_fields.PARTITION), ('networks', fabric_fields.NETWORK),
                           ('nodes', fabric_fields.NODE), ('nodes[].ports', fabric_fields.PORT),
                           ('nodes[].interfaces', fabric_fields.INTERFACE),
                           ('nodes[].interfaces[].bond', fabric_fields.BOND), ('ha_pairs', fabric_fields.PAIR),
                           ('ha_pairs[].volumes', fabric_fields.VOLUME), ('srp', fabric_fields.SRP)):
        heading = re.search(r'\n#+ %s\n' % re.escape(section), doc)
        body = doc[heading.end():doc.index('\n#', heading.end())]
        documented = re.findall(r'^\| `([a-z_]+)` \|', body, re.M)
        assert documented == list(table.fields), section


# --- P_Keys that look like hex ----------------------------------------------------------------
HEX_LOOKALIKE = ('partition storage: pkey 8001 is read as decimal 8001 = 0x1f41 (full member 0x9f41); if you meant '
                 'hex write "0x8001" (or "0x1f41" to keep this value without the warning)')


@pytest.mark.parametrize('pkey', ['8001', 8001, ' 8001', '08001'])
def test_decimal_pkey_that_looks_like_hex_is_a_warning(fabric, pkey):
    fabric['partitions'][0]['pkey'] = pkey
    model = fabric_model.analyse(fabric)
    assert model.errors == []
    assert model.warnings == [HEX_LOOKALIKE.replace('pkey 8001 ', 'pkey %s ' % str(pkey).strip())]
    assert model.partitions['storage']['pkey_hex'] == '0x9f41'              # still read as decimal
    assert fabric_slices.host_slice(fabric, 'init-1')['node']['interfaces'][0]['netdev'] == 'ib0.9f41'


def test_zero_padded_decimal_pkey_is_a_warning(fabric):
    fabric['partitions'][0]['pkey'] = '0010'
    assert warnings(fabric) == ['partition storage: pkey 0010 is read as decimal 10 = 0x000a (full member 0x800a); if '
                                'you meant hex write "0x0010" (or "0x000a" to keep this value without the warning)']


@pytest.mark.parametrize('pkey', [
    '0x8001', 0x8001, 32769, '32769', '0x1f41',      # hex spelled as hex; five decimal digits do not fit as hex
    2, '2', 10, 100, 999, '0001', '0009',            # fewer than four digits, or the same in both readings
    8000,                                            # as hex 0x8000 is reserved: no other reading
])
def test_unambiguous_pkey_is_no_warning(fabric, pkey):
    fabric['partitions'][0]['pkey'] = pkey
    assert errors(fabric) == []
    assert warnings(fabric) == []


def test_hex_lookalike_warned_once_per_partition(fabric):
    # the interfaces on the partition take its normalised P_Key: no warning per interface
    fabric['partitions'][0]['pkey'] = 8001
    fabric['partitions'].append({'name': 'backup', 'pkey': '1234'})
    assert warnings(fabric) == [HEX_LOOKALIKE, 'partition backup: pkey 1234 is read as decimal 1234 = 0x04d2 (full '
                                'member 0x84d2); if you meant hex write "0x1234" (or "0x04d2" to keep this value '
                                'without the warning)']


def test_cluster_manager_defaults_to_none_and_reaches_both_nodes_slices(fabric):
    assert fabric_slices.host_slice(fabric, 'stor-a')['ha_pair']['cluster_manager'] == 'none'
    fabric['ha_pairs'][0]['cluster_manager'] = 'pacemaker'
    assert [fabric_slices.host_slice(fabric, n)['ha_pair']['cluster_manager'] for n in ('stor-a', 'stor-b')] == ['pacemaker'] * 2


def test_cluster_manager_must_be_a_known_one(fabric):
    fabric['ha_pairs'][0]['cluster_manager'] = 'corosync'
    assert fabric_model.fabric_errors(fabric) == ["ha_pair pair1: cluster_manager 'corosync' is not one of none, pacemaker"]


# --- IPoIB bonds ------------------------------------------------------------------------------
def bonded(fabric, **bond):
    """stor-a's storage address on an active-backup bond over its two ports."""
    iface = node(fabric, 'stor-a')['interfaces'][0]
    iface.pop('port', None)
    iface['bond'] = dict({'name': 'bond0', 'ports': ['mlx4_0/1', 'mlx4_0/2']}, **bond)
    return iface


def test_bond_over_two_ports_is_valid_and_sliced(fabric):
    bonded(fabric)
    assert errors(fabric) == [] and warnings(fabric) == []
    iface = fabric_slices.host_slice(fabric, 'stor-a')['node']['interfaces'][0]
    assert (iface['netdev'], iface['port'], iface['parent'], iface['pkey_hex'], iface['ipoib_mode'], iface['mtu']) == \
        ('bond0', None, None, '0x8001', 'connected', 65520)
    assert iface['bond'] == {'name': 'bond0', 'mode': 'active-backup', 'fail_over_mac': 'active', 'ports': [
        {'port': 'mlx4_0/1', 'parent': 'ib0', 'netdev': 'ib0.8001'},
        {'port': 'mlx4_0/2', 'parent': 'ib1', 'netdev': 'ib1.8001'}]}
    # the pair's client netdev is the bond
    members = fabric_slices.host_slice(fabric, 'stor-a')['ha_pair']['nodes']
    assert members[0]['client_netdev'] == 'bond0'


def test_bond_on_the_default_partition_enslaves_the_parents(fabric):
    fabric['partitions'][0]['pkey'] = '0xffff'
    bonded(fabric)
    assert errors(fabric) == []
    iface = fabric_slices.host_slice(fabric, 'stor-a')['node']['interfaces'][0]
    assert [p['netdev'] for p in iface['bond']['ports']] == ['ib0', 'ib1']


def test_an_interface_without_bond_has_bond_null(fabric):
    assert fabric_slices.host_slice(fabric, 'init-1')['node']['interfaces'][0]['bond'] is None


@pytest.mark.parametrize('change,message', [
    ({'ports': ['mlx4_0/1']}, 'bond ports must list two or more ports of the node, got 1'),
    ({'ports': 'mlx4_0/1'}, 'bond ports must list two or more ports of the node, got string'),
    ({'ports': None}, 'bond ports is required (two or more InfiniBand ports of the node, e.g. [mlx4_0/1, mlx4_0/2])'),
    ({'ports': ['mlx4_0/1', 'mlx4_0/1']}, 'bond port mlx4_0/1 is listed twice'),
    ({'ports': ['mlx4_0/1', 'mlx4_0/3']}, 'bond port mlx4_0/3 is not a port of this node'),
    ({'ports': ['mlx4_0/1', 'mlx4_0:2']}, "bond port 'mlx4_0:2' is not a port reference such as mlx4_0/1"),
    ({'name': None}, ' bond: name is required'),
    ({'name': 'a/b'}, " bond: name 'a/b' is not a network interface name (the bond's netdev, e.g. bond0)"),
    ({'name': 'ib1'}, 'bond name ib1 is the netdev of port mlx4_0/2'),
])
def test_bond_rules(fabric, change, message):
    bonded(fabric, **change)
    assert errors(fabric) == ['node stor-a interface storage' + ('' if message.startswith(' bond:') else ': ') + message]


def test_bond_ports_need_infiniband_and_a_netdev(fabric):
    bonded(fabric)
    node(fabric, 'stor-a')['ports'][1]['link_layer'] = 'ethernet'
    assert errors(fabric) == ['node stor-a interface storage: bond port mlx4_0/2 has link_layer ethernet; an IPoIB '
                              'bond needs InfiniBand ports']
    node(fabric, 'stor-a')['ports'][1]['link_layer'] = 'infiniband'
    del node(fabric, 'stor-a')['ports'][1]['netdev']
    assert errors(fabric) == ['node stor-a interface storage: bond port mlx4_0/2 has no netdev; IPoIB needs the '
                              'parent interface (e.g. ib0)']


def test_bond_p_key_children_fit_15_characters(fabric):
    bonded(fabric)
    node(fabric, 'stor-a')['ports'][1]['netdev'] = 'ibp129s0f0d1'
    assert errors(fabric) == ['node stor-a interface storage: bond port mlx4_0/2: P_Key child interface name '
                              'ibp129s0f0d1.8001 is longer than 15 characters; use a shorter parent name']


def test_bond_excludes_port_and_ethernet(fabric):
    bonded(fabric)['port'] = 'mlx4_0/1'
    assert errors(fabric) == ['node stor-a interface storage: give either port (one HCA port) or bond (several), '
                              'not both']
    fabric = copy.deepcopy(_EXAMPLE)
    node(fabric, 'stor-a')['interfaces'][1]['bond'] = {'name': 'bond1', 'ports': ['mlx4_0/1', 'mlx4_0/2']}
    assert errors(fabric) == ['node stor-a interface replication: bond is only for ipoib networks (active-backup over '
                              'InfiniBand ports); bond Ethernet netdevs outside the model']


def test_bond_netdev_must_be_its_name(fabric):
    bonded(fabric)['netdev'] = 'bond1'
    assert errors(fabric) == ['node stor-a interface storage: netdev bond1 differs from the bond name bond0; '
                              'leave netdev out']
    bonded(fabric)['netdev'] = 'bond0'
    assert errors(fabric) == []


def test_bond_unknown_field_warns(fabric):
    bonded(fabric, mode='balance-rr')
    assert errors(fabric) == []
    assert warnings(fabric) == ["node stor-a interface storage bond: unknown field 'mode' ignored (known: name, ports)"]


def test_bond_is_a_mapping(fabric):
    bonded(fabric)
    node(fabric, 'stor-a')['interfaces'][0]['bond'] = ['mlx4_0/1', 'mlx4_0/2']
    assert errors(fabric) == ['node stor-a interface storage: bond must be a mapping {name: bond0, ports: '
                              '[mlx4_0/1, mlx4_0/2]}, got list']


def test_bond_netdevs_belong_to_one_interface(fabric):
    # a second IPoIB network on the same partition, on a port the bond already holds
    fabric['networks'].append({'name': 'storage2', 'cidr': '10.30.0.0/24', 'transport': 'ipoib',
                               'partition': 'storage'})
    bonded(fabric)
    node(fabric, 'stor-a')['interfaces'].append({'network': 'storage2', 'address': '10.30.0.11', 'port': 'mlx4_0/2'})
    assert errors(fabric) == ['node stor-a interface storage2: netdev ib1.8001 is also used by interface storage '
                              '(bond port mlx4_0/2)']
    # a bond named like another interface's netdev
    fabric = copy.deepcopy(_EXAMPLE)
    bonded(fabric, name='eth2')
    assert errors(fabric) == ['node stor-a interface replication: netdev eth2 is also used by interface storage '
                              '(netdev)']


# --- ESX nodes: IPoIB uplinks (vmnic) ---------------------------------------------------------
def esx_ipoib(fabric, **iface):
    """esx-1 with its ports' uplinks vmnic_ib0/1 and an address on an IPoIB network (vmotion) of the default partition."""
    fabric['partitions'].append({'name': 'default', 'pkey': '0xffff'})
    fabric['networks'].append({'name': 'vmotion', 'cidr': '192.168.100.0/24', 'transport': 'ipoib',
                               'partition': 'default', 'purpose': 'management'})
    esx = node(fabric, 'esx-1')
    for port, vmnic in zip(esx['ports'], ('vmnic_ib0', 'vmnic_ib1')):
        port['vmnic'] = vmnic
    esx['interfaces'] = [dict({'network': 'vmotion', 'address': '192.168.100.11', 'port': 'vmhba32/1'}, **iface)]
    return esx['interfaces'][0]


def esx_uplinks(fabric):
    return [i for i in fabric_slices.host_slice(fabric, 'esx-1')['node']['interfaces'] if i['vmnics']]


def test_esx_node_with_a_vmnic_and_an_ipoib_interface_is_valid_and_sliced(fabric):
    esx_ipoib(fabric)
    assert errors(fabric) == [] and warnings(fabric) == []
    node_slice = fabric_slices.host_slice(fabric, 'esx-1')['node']
    assert [p['vmnic'] for p in node_slice['ports']] == ['vmnic_ib0', 'vmnic_ib1']
    (iface,) = node_slice['interfaces']
    assert dict((k, iface[k]) for k in ('network', 'purpose', 'address', 'netmask', 'prefixlen', 'mtu', 'vmnics')) == {
        'network': 'vmotion', 'purpose': 'management', 'address': '192.168.100.11', 'netmask': '255.255.255.0',
        'prefixlen': 24, 'mtu': 2044, 'vmnics': ['vmnic_ib0']}
    assert (iface['transport'], iface['port'], iface['netdev'], iface['parent'], iface['bond'], iface['ipoib_mode'],
            iface['pkey_hex']) == ('ipoib', 'vmhba32/1', None, None, None, 'datagram', '0xffff')
    # a Linux node's interfaces have the new keys too: vmnics null, netmask of the network
    linux = fabric_slices.host_slice(fabric, 'init-1')['node']['interfaces'][0]
    assert (linux['vmnics'], linux['netmask'], linux['netdev']) == (None, '255.255.255.0', 'ib0.8001')
    assert fabric_slices.host_slice(fabric, 'init-1')['node']['ports'][0]['vmnic'] is None


def test_esx_bond_makes_the_ports_vmnics_active_then_standby(fabric):
    iface = esx_ipoib(fabric)
    del iface['port']
    iface['bond'] = {'ports': ['vmhba32/2', 'vmhba32/1']}
    fabric['partitions'][-1].update(mtu=4092)
    assert errors(fabric) == []
    (uplink,) = esx_uplinks(fabric)
    assert (uplink['vmnics'], uplink['port'], uplink['bond'], uplink['mtu']) == (['vmnic_ib1', 'vmnic_ib0'], None, None, 4092)


def test_vmnic_on_a_storage_node_is_refused(fabric):
    node(fabric, 'stor-a')['ports'][0]['vmnic'] = 'vmnic_ib0'
    assert errors(fabric) == [
        "node stor-a port mlx4_0/1: vmnic vmnic_ib0: vmnic is only for esx nodes (the ESX uplink of the port's IPoIB "
        "interface); a storage node's IPoIB interface is on the port's netdev"]


def test_vmnic_needs_an_infiniband_port_and_is_unique_in_the_node(fabric):
    esx_ipoib(fabric)
    node(fabric, 'esx-1')['ports'][1]['vmnic'] = 'vmnic_ib0'
    assert errors(fabric) == ['node esx-1 port vmhba32/2: vmnic vmnic_ib0 is also the vmnic of port vmhba32/1']
    node(fabric, 'esx-1')['ports'][1].update(vmnic='vmnic_ib1', link_layer='ethernet')
    assert errors(fabric) == ['node esx-1 port vmhba32/2: vmnic vmnic_ib1: an IPoIB uplink needs link_layer '
                              'infiniband, the port has ethernet']


def test_esx_interface_on_a_port_without_vmnic_is_refused(fabric):
    esx_ipoib(fabric)
    del node(fabric, 'esx-1')['ports'][0]['vmnic']
    assert errors(fabric) == [
        "node esx-1 interface vmotion: port vmhba32/1 has no vmnic; an ESX IPoIB interface runs on the uplink of the "
        "HCA port: add vmnic (the uplink name Mellanox's OFED bundle gives it, e.g. vmnic_ib0) to port vmhba32/1"]
    # in a bond too
    iface = node(fabric, 'esx-1')['interfaces'][0]
    del iface['port']
    iface['bond'] = {'ports': ['vmhba32/2', 'vmhba32/1']}
    assert errors(fabric) == [
        "node esx-1 interface vmotion: bond port vmhba32/1 has no vmnic; an ESX IPoIB interface runs on the uplink of "
        "the HCA port: add vmnic (the uplink name Mellanox's OFED bundle gives it, e.g. vmnic_ib0) to port vmhba32/1"]


def test_esx_interface_on_a_connected_mode_partition_is_refused(fabric):
    esx_ipoib(fabric)
    fabric['networks'][-1]['partition'] = 'storage'        # ipoib_mode connected, mtu 65520
    assert errors(fabric) == [
        "node esx-1 interface vmotion: partition storage has ipoib_mode connected; ESX's IPoIB (Mellanox's OFED "
        "bundle) runs in datagram mode only: put network vmotion on a partition with ipoib_mode datagram"]


def test_esx_interface_on_another_partition_is_not_supported_yet(fabric):
    esx_ipoib(fabric)
    fabric['partitions'][-1]['pkey'] = '0x8002'
    assert errors(fabric) == [
        'node esx-1 interface vmotion: partition default has pkey 0x8002; a partition other than the default '
        '(0x7fff/0xffff) is not supported on esx nodes yet (the collection does not set P_Keys on ESX hosts; '
        'docs/fabric.md, "ESX nodes")']
    fabric['partitions'][-1]['pkey'] = '0x7fff'             # the default partition, limited spelling
    assert errors(fabric) == []


@pytest.mark.parametrize('change, message', [
    ({'netdev': 'vmk1'}, "netdev vmk1: an esx node's IPoIB interface has no netdev (ESX names its VMkernel NIC "
                         "itself); leave netdev out"),
    ({'port': None}, 'port is required on an ipoib network (the HCA port whose vmnic is the uplink), or bond with '
                     'several ports'),
    ({'port': None, 'bond': {'name': 'bond0', 'ports': ['vmhba32/1', 'vmhba32/2']}},
     "bond name 'bond0': an esx node has no bond device (its vSwitch teams the ports' uplinks); leave name out"),
    ({'port': None, 'bond': {'ports': ['vmhba32/1']}}, 'bond ports must list two or more ports of the node, got 1'),
    ({'bond': {'ports': ['vmhba32/1', 'vmhba32/2']}}, 'give either port (one HCA port) or bond (several), not both'),
])
def test_esx_interface_rules(fabric, change, message):
    iface = esx_ipoib(fabric)
    for key, value in change.items():
        if value is None:
            del iface[key]
        else:
            iface[key] = value
    assert errors(fabric) == ['node esx-1 interface vmotion: ' + message]


def test_an_esx_uplink_belongs_to_one_interface(fabric):
    esx_ipoib(fabric)
    fabric['networks'].append({'name': 'vmotion2', 'cidr': '192.168.101.0/24', 'transport': 'ipoib',
                               'partition': 'default'})
    node(fabric, 'esx-1')['interfaces'].append({'network': 'vmotion2', 'address': '192.168.101.11',
                                                'bond': {'ports': ['vmhba32/2', 'vmhba32/1']}})
    assert errors(fabric) == ['node esx-1 interface vmotion2: vmnic vmnic_ib0 is also an uplink of interface vmotion '
                              '(an ESX uplink belongs to one vSwitch)']


def test_docs_esx_example_is_valid():
    with open(DOC) as handle:
        text = handle.read()
    section = text[text.index('\n#### ESX nodes\n'):]
    start = section.index('```yaml\n') + len('```yaml\n')
    example = yaml.safe_load(section[start:section.index('```', start)])
    model = fabric_model.analyse(example)
    assert model.errors == []
    (iface,) = fabric_slices.host_slice(example, 'esx-1')['node']['interfaces']
    assert (iface['vmnics'], iface['netmask'], iface['mtu']) == (['vmnic_ib0', 'vmnic_ib1'], '255.255.255.0', 2044)
