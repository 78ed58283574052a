# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fabric model filters (plugins/filter/fabric.py), fabric_differences on the sysfs fixture,
and playbooks/validate_fabric.yml end to end on the fixture."""

from __future__ import annotations

import copy
import json
import os
import sys

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.rdma.ha_storage.plugins.filter.fabric import FilterModule
from ansible_collections.rdma.ha_storage.plugins.module_utils.rdma_sysfs import RdmaSysfs
from helpers import run

TESTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..')
TOP = os.path.normpath(os.path.join(TESTS, '..'))
SYSFS = os.path.join(TESTS, 'fixtures', 'sysfs')
with open(os.path.join(TESTS, 'fixtures', 'fabric', 'example.yml')) as _handle:
    _EXAMPLE = yaml.safe_load(_handle)['rdma_fabric']

F = FilterModule().filters()


@pytest.fixture
def fabric():
    return copy.deepcopy(_EXAMPLE)


@pytest.fixture
def facts():
    return RdmaSysfs(SYSFS).gather()


def node(fabric, name):
    return next(n for n in fabric['nodes'] if n['name'] == name)


def test_every_documented_filter_is_provided():
    # every filter plugin file's filters (fabric.py and the others, such as cluster.py)
    from ansible_collections.rdma.ha_storage.plugins.filter import cluster
    provided = dict(F)
    provided.update(cluster.FilterModule().filters())
    folder = os.path.join(TOP, 'plugins', 'filter')
    documented = sorted(f[:-4] for f in os.listdir(folder) if f.endswith('.yml'))
    assert documented == sorted(provided)
    assert sorted(f for f in os.listdir(folder) if f.endswith('.py') and f != '__init__.py') == ['cluster.py', 'fabric.py']
    for name in ('fabric_host_slice', 'fabric_errors', 'canonical_guid', 'srpt_wwn', 'srp_port_id', 'pkey_interface',
                 'ipoib_max_mtu', 'fabric_differences', 'fabric_slice_differences'):
        assert name in F


# --- single values ----------------------------------------------------------------------------
def test_canonical_guid():
    assert F['canonical_guid']('0002:C903:000E:8ACD') == '0x0002c903000e8acd'


def test_canonical_guid_error_names_filter_and_value():
    with pytest.raises(AnsibleFilterError, match="canonical_guid: guid 'ib0' is not a GUID"):
        F['canonical_guid']('ib0')


@pytest.mark.parametrize('value,kwargs,expected', [
    ('0x0002c903000e8acd', {}, 'ib.fe800000000000000002c903000e8acd'),
    ('0002:c903:000e:8acd', {'form': 'configfs'}, '0xfe800000000000000002c903000e8acd'),
    ('0002:c903:000e:8acd', {'form': 'guid'}, '0002:c903:000e:8acd'),
    ('fe80:0000:0000:0000:0002:c903:000e:8acd', {}, 'ib.fe800000000000000002c903000e8acd'),
    ('fe80::5054:ff:fe12:3456', {'form': 'configfs'}, '0xfe80000000000000505400fffe123456'),
    ('ib.FE800000000000000002C903000E8ACD', {'form': 'configfs'}, '0xfe800000000000000002c903000e8acd'),
    ('0x0002c903000e8acd', {'subnet_prefix': 'fec0000000000001'}, 'ib.fec00000000000010002c903000e8acd'),
])
def test_srpt_wwn(value, kwargs, expected):
    assert F['srpt_wwn'](value, **kwargs) == expected


def test_srpt_wwn_of_rxe_port_from_mac():
    # LAB-NOTES: the target port named in GID form 0xfe80000000000000<port GUID> accepted RDMA/CM logins
    guid = F['mac_to_guid']('52:54:00:12:34:56')
    assert guid == '0x505400fffe123456'
    assert F['srpt_wwn'](guid, form='configfs') == '0xfe80000000000000505400fffe123456'


def test_srpt_wwn_bad_form():
    with pytest.raises(AnsibleFilterError, match="srpt_wwn: form 'gid' is not one of"):
        F['srpt_wwn']('0x0002c903000e8acd', form='gid')


@pytest.mark.parametrize('value,kwargs,expected', [
    ('0x0002c903001a2b01', {}, '0xfe800000000000000002c903001a2b01'),
    ('0x0002c903001a2b01', {'initiator_ext': '0x0000000000000001'}, '0x00000000000000010002c903001a2b01'),
    ('fe80::2:c903:1a:2b01', {}, '0xfe800000000000000002c903001a2b01'),
    ('0x0002c903001a2b01', {'form': 'rtslib'}, 'ib.fe800000000000000002c903001a2b01'),
])
def test_srp_port_id(value, kwargs, expected):
    assert F['srp_port_id'](value, **kwargs) == expected


@pytest.mark.parametrize('parent,pkey,expected', [
    ('ib0', 0x8001, 'ib0.8001'), ('ib0', '0x0001', 'ib0.8001'), ('ib1', 32770, 'ib1.8002'), ('ib0', 0x7fff, 'ib0'),
])
def test_pkey_interface(parent, pkey, expected):
    assert F['pkey_interface'](parent, pkey) == expected


@pytest.mark.parametrize('parent,pkey,message', [
    ('ib0', 0x8000, 'pkey 0x8000 is invalid'),
    ('ib/0', 0x8001, "parent interface 'ib/0' is not a network interface name"),
    ('ibp129s0f0d1', 0x8001, 'is longer than 15 characters'),
])
def test_pkey_interface_errors(parent, pkey, message):
    with pytest.raises(AnsibleFilterError, match=message):
        F['pkey_interface'](parent, pkey)


def test_ipoib_max_mtu():
    assert (F['ipoib_max_mtu']('datagram'), F['ipoib_max_mtu']('Connected')) == (4092, 65520)
    with pytest.raises(AnsibleFilterError, match="ipoib mode 'cm' is not one of"):
        F['ipoib_max_mtu']('cm')


def test_lio_wwid():
    assert F['lio_wwid']('5a1e0d3f0000') == '360014055a1e0d3f00000000000000000'


def test_missing_argument_is_a_filter_error():
    with pytest.raises(AnsibleFilterError, match='pkey_interface'):
        F['pkey_interface']('ib0')


# --- model filters ----------------------------------------------------------------------------
def test_fabric_errors(fabric):
    assert F['fabric_errors'](fabric) == []
    node(fabric, 'stor-b')['ports'][0]['guid'] = '0x0002c903000e8acd'
    assert F['fabric_errors'](fabric) == ['node stor-b port mlx4_0/1: guid 0x0002c903000e8acd is also used by stor-a']


def test_fabric_warnings(fabric):
    fabric['nodes'][0]['speed'] = 1
    assert F['fabric_warnings'](fabric) == [
        "node stor-a: unknown field 'speed' ignored (known: hostname, interfaces, kind, name, ports)"]


def test_fabric_warnings_pkey_that_looks_like_hex(fabric):
    fabric['partitions'][0]['pkey'] = '8001'
    assert F['fabric_errors'](fabric) == []
    assert F['fabric_warnings'](fabric) == [
        'partition storage: pkey 8001 is read as decimal 8001 = 0x1f41 (full member 0x9f41); if you meant hex write '
        '"0x8001" (or "0x1f41" to keep this value without the warning)']


def test_fabric_host_slice_null_means_default(fabric):
    # what `initial_primary:` and `hostname:` (bare keys) give: the defaults, never None
    fabric['ha_pairs'][0]['initial_primary'] = None
    node(fabric, 'stor-b')['hostname'] = None
    result = F['fabric_host_slice'](fabric, 'stor-a')
    assert (result['ha_pair']['initial_primary'], result['ha_pair']['is_initial_primary']) == ('stor-a', True)
    assert result['ha_pair']['nodes'][1]['hostname'] == 'stor-b'


def test_fabric_host_slice(fabric):
    result = F['fabric_host_slice'](fabric, 'stor-a')
    assert result['ha_pair']['is_initial_primary'] is True
    assert result['node']['interfaces'][0]['netdev'] == 'ib0.8001'
    json.dumps(result)   # plain data only


def test_fabric_host_slice_invalid_model(fabric):
    fabric['partitions'][0]['pkey'] = 0x8000
    with pytest.raises(AnsibleFilterError, match='fabric_host_slice: rdma_fabric is invalid'):
        F['fabric_host_slice'](fabric, 'stor-a')


# --- fabric_differences on the sysfs fixture (stor-a of the example) ----------------------------
def test_differences_of_fixture_host(fabric, facts):
    assert F['fabric_differences'](fabric, 'stor-a', facts) == [
        'node stor-a port mlx4_0/2: port is down (state DOWN, physical state Polling)']


def test_differences_accept_wrapped_facts(fabric, facts):
    assert len(F['fabric_differences'](fabric, 'stor-a', {'rdma_facts': facts})) == 1


def test_slice_differences_are_the_models(fabric, facts):
    # the slice fabric_validate returns (JSON text, parsed) gives the same messages as the whole model
    for name in ('stor-a', 'stor-b', 'init-2'):
        host_slice = json.loads(json.dumps(F['fabric_host_slice'](fabric, name)))
        assert F['fabric_slice_differences'](host_slice, facts) == F['fabric_differences'](fabric, name, facts)


def test_slice_differences_need_a_slice(fabric, facts):
    with pytest.raises(AnsibleFilterError, match='fabric_slice_differences: host slice must be the mapping returned by '
                                                 'rdma.ha_storage.fabric_host_slice, got mapping'):
        F['fabric_slice_differences'](fabric, facts)
    with pytest.raises(AnsibleFilterError, match='fabric_slice_differences: rdma_facts must be the mapping'):
        F['fabric_slice_differences'](F['fabric_host_slice'](fabric, 'stor-a'), [])


def test_difference_guid_missing(fabric, facts):
    assert F['fabric_differences'](fabric, 'stor-b', facts) == [
        'node stor-b port mlx4_0/1: declared guid 0x0002c903000e9b11 not found on the host; mlx4_0/1 has guid '
        '0x0002c903000e8acd',
        'node stor-b port mlx4_0/2: declared guid 0x0002c903000e9b12 not found on the host; mlx4_0/2 has guid '
        '0x0002c903000e8ace']


def test_difference_guid_missing_on_host_without_rdma(fabric):
    empty = {'devices': {}, 'ports': [], 'ipoib': {}}
    assert F['fabric_differences'](fabric, 'init-2', empty) == [
        'node init-2 port mlx5_0/1: declared guid 0x248a070300a1b2c1 not found on the host (found: no RDMA ports)']


def test_difference_rate_below_declared(fabric, facts):
    node(fabric, 'stor-a')['ports'][0]['rate'] = 100
    assert 'node stor-a port mlx4_0/1: rate 56 Gb/s is below the declared 100 Gb/s' in \
        F['fabric_differences'](fabric, 'stor-a', facts)


def test_difference_link_layer(fabric, facts):
    node(fabric, 'stor-a')['ports'].append({'device': 'rxe0', 'port': 1, 'guid': '0x505400fffe123456',
                                            'link_layer': 'infiniband'})
    assert 'node stor-a port rxe0/1: link layer is ethernet, the model says infiniband' in \
        F['fabric_differences'](fabric, 'stor-a', facts)


def test_roce_port_matches(fabric, facts):
    node(fabric, 'stor-a')['ports'].append({'device': 'rxe0', 'port': 1, 'guid': '50:54:00:ff:fe:12:34:56',
                                            'link_layer': 'ethernet', 'rate': 10, 'netdev': 'eth1'})
    assert len(F['fabric_differences'](fabric, 'stor-a', facts)) == 1      # only mlx4_0/2 down


def test_difference_guid_on_other_port(fabric, facts):
    node(fabric, 'stor-a')['ports'].append({'device': 'rxe_eth1', 'port': 1, 'guid': '0x505400fffe123456',
                                            'link_layer': 'ethernet', 'netdev': 'eth1'})
    assert 'node stor-a port rxe_eth1/1: guid 0x505400fffe123456 is on rxe0/1, the model says rxe_eth1/1' in \
        F['fabric_differences'](fabric, 'stor-a', facts)


def test_difference_netdev(fabric, facts):
    node(fabric, 'stor-a')['ports'][0]['netdev'] = 'ib2'
    assert 'node stor-a port mlx4_0/1: netdev ib2 not found for this port (found: ib0)' in \
        F['fabric_differences'](fabric, 'stor-a', facts)


def test_difference_pkey_not_in_port_table(fabric, facts):
    fabric['partitions'][0]['pkey'] = 0x8002
    assert 'node stor-a interface storage: P_Key 0x8002 of partition storage is not in the P_Key table of port ' \
        'mlx4_0/1 (found: 0xffff, 0x8001); the subnet manager must add the port to the partition' in \
        F['fabric_differences'](fabric, 'stor-a', facts)


def test_difference_limited_pkey_membership(fabric, facts):
    facts['ports'][0]['pkeys'] = ['0xffff', '0x0001']
    assert 'node stor-a interface storage: port mlx4_0/1 is only a limited member of partition storage (P_Key 0x0001 ' \
        'in its table); limited members cannot talk to each other' in F['fabric_differences'](fabric, 'stor-a', facts)


def test_differences_bad_facts(fabric):
    with pytest.raises(AnsibleFilterError, match='rdma_facts has no list "ports"'):
        F['fabric_differences'](fabric, 'stor-a', {'devices': {}})
    with pytest.raises(AnsibleFilterError, match='rdma_facts must be the mapping'):
        F['fabric_differences'](fabric, 'stor-a', 'facts')


# --- the playbook, end to end on the fixture (filters loaded by Ansible itself) ------------------
def test_validate_fabric_playbook_reports_and_fails(tmp_path):
    (tmp_path / 'group_vars').mkdir()
    (tmp_path / 'group_vars' / 'all.yml').write_text(yaml.safe_dump({'rdma_fabric': _EXAMPLE}))
    (tmp_path / 'hosts.yml').write_text(yaml.safe_dump({'all': {
        'hosts': {'stor-a': {}, 'esx-1': {}},
        'vars': {'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable}}}))
    env = dict(ANSIBLE_NOCOLOR='1', ANSIBLE_STDOUT_CALLBACK='default',
               ANSIBLE_COLLECTIONS_PATH=os.environ.get('RDMA_COLLECTIONS') or os.path.join(TOP, '.cache', 'collections'))
    proc = run(
        [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', str(tmp_path / 'hosts.yml'),
         os.path.join(TOP, 'playbooks', 'validate_fabric.yml'), '-e', 'rdma_validate_sysfs_root=' + SYSFS],
        cwd=str(tmp_path), env=env, timeout=300)
    out = proc.stdout
    assert proc.returncode == 2, out
    assert 'node stor-a port mlx4_0/2: port is down (state DOWN, physical state Polling)' in out
    assert 'esx-1 matches the model (ESX host: not inspected)' in out
    assert 'Nodes of rdma_fabric not in this play: stor-b, init-1, init-2, esx-2' in out
    assert 'TASK [Fail if any node differs from the model]' in out
