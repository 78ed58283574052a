# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/srp: the kernel's timer rules, the order of timer writes, modinfo and sysfs reading."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import itertools

import pytest
import yaml

from ansible_collections.rdma.ha_storage.plugins.module_utils import srp
from ansible_collections.rdma.ha_storage.plugins.module_utils.fabric.errors import FabricError
from ansible_collections.rdma.ha_storage.plugins.module_utils.fabric.slices import host_slice
from helpers import TOP
from srp_sysfs_tree import MODINFO, make_tree

OFF = -1


@pytest.mark.parametrize('text,value', [('off', OFF), ('-1', OFF), (-5, OFF), ('10', 10), (600, 600), (' 15\n', 15), ('0', 0)])
def test_timer_value(text, value):
    assert srp.timer_value(text) == value


@pytest.mark.parametrize('bad', ['', 'on', '1.5', True, '0x10', str(2 ** 31), None])
def test_timer_value_refuses(bad):
    with pytest.raises(ValueError):
        srp.timer_value(bad)


def test_timer_text():
    assert [srp.timer_text(v) for v in (OFF, 0, 10)] == ['off', '0', '10']


@pytest.mark.parametrize('values,problem', [
    ((10, 15, 600), None),
    ((OFF, OFF, 60), None),
    ((10, OFF, 600), None),
    ((OFF, OFF, OFF), 'cannot all be off'),
    ((0, 15, 600), 'reconnect_delay cannot be 0'),
    ((10, 601, OFF), 'fast_io_fail_tmo 601 is above 600'),
    ((10, OFF, 601), 'dev_loss_tmo 601 is above 600 while fast_io_fail_tmo is off'),
    ((10, 15, 15), 'fast_io_fail_tmo 15 must be below dev_loss_tmo 15'),
    ((10, 15, OFF), None),
])
def test_tmo_problem_is_the_kernels_srp_tmo_valid(values, problem):
    got = srp.tmo_problem(*values)
    assert (got is None) if problem is None else (problem in got)


def _state(rd, fio, dl):
    return {'reconnect_delay': rd, 'fast_io_fail_tmo': fio, 'dev_loss_tmo': dl}


def test_write_order_nothing_to_do():
    assert srp.write_order(_state(10, 15, 600), _state(10, 15, 600)) == []


def test_write_order_lowers_fast_io_fail_before_dev_loss():
    # dev_loss 600 -> 10 first would leave fast_io_fail 15 >= 10: refused by the kernel
    assert srp.write_order(_state(10, 15, 600), _state(5, 5, 10)) == [
        ('reconnect_delay', 5), ('fast_io_fail_tmo', 5), ('dev_loss_tmo', 10)]


def test_write_order_raises_dev_loss_before_fast_io_fail():
    order = srp.write_order(_state(5, 5, 10), _state(5, 30, 60))
    assert order == [('dev_loss_tmo', 60), ('fast_io_fail_tmo', 30)]


def test_write_order_fast_io_fail_on_before_dev_loss_above_600_is_impossible_the_other_way():
    # fast_io_fail off with dev_loss 600; wanted: fast_io_fail 15, dev_loss off (infinite):
    # dev_loss off first is fine (off is not above 600), then fast_io_fail 15
    order = srp.write_order(_state(10, OFF, 600), _state(10, 15, OFF))
    assert sorted(order) == [('dev_loss_tmo', OFF), ('fast_io_fail_tmo', 15)]
    state = _state(10, OFF, 600)
    for name, value in order:
        state[name] = value
        assert srp.tmo_problem(state['reconnect_delay'], state['fast_io_fail_tmo'], state['dev_loss_tmo']) is None


def test_write_order_every_valid_pair_of_states_has_an_accepted_order():
    values = (OFF, 1, 5, 15, 600)
    states = [_state(*v) for v in itertools.product((OFF, 1, 10), values, values)
              if srp.tmo_problem(*v) is None]
    for current, wanted in itertools.product(states, states):
        order = srp.write_order(current, wanted)
        state = dict(current)
        for name, value in order:
            state[name] = value
            assert srp.tmo_problem(*[state[n] for n in srp.TIMERS]) is None, (current, wanted, order)
        assert state == wanted


def test_write_order_takes_a_detour_when_no_direct_order_exists():
    # dev_loss off first: all three off; fast_io_fail 1 first: not below dev_loss 1
    assert srp.write_order(_state(OFF, OFF, 1), _state(OFF, 1, OFF)) == [
        ('dev_loss_tmo', 600), ('fast_io_fail_tmo', 1), ('dev_loss_tmo', OFF)]


def test_write_order_refuses_an_invalid_target():
    with pytest.raises(ValueError, match='cannot be 0'):
        srp.write_order(_state(10, 15, 600), _state(0, 15, 600))


def test_parse_modinfo_parameters():
    names = srp.parse_modinfo_parameters(MODINFO)
    assert names[:2] == ['srp_sg_tablesize', 'cmd_sg_entries']
    assert set(srp.TIMERS + srp.LOAD_TIME) <= set(names)
    assert 'tl_retry_count' not in names   # a login option, not a module parameter
    assert srp.parse_modinfo_parameters('') == []


def test_sysfs_reads_srp_hosts_ports_and_disks(tmp_path):
    sysfs = make_tree(tmp_path, hosts={0: 'ata_piix', 5: 'ib_srp', 7: 'ib_srp'},
                      ports=[('port-5:1', 'running', 10, 15, 600), ('port-7:1', 'lost', 'off', 5, 60), ('junk', 'x', 1, 2, 3)],
                      disks=[('0:0:0:0', 0, 30), ('5:0:0:0', 0, 30), ('5:0:0:1', 0, 5), ('5:0:0:2', 5, 30), ('7:0:0:0', 0, 30)],
                      params={'reconnect_delay': 10})
    assert sysfs.module_loaded()
    assert sysfs.parameter('reconnect_delay') == '10' and sysfs.parameter('ch_count') is None
    assert sysfs.srp_hosts() == [5, 7]
    ports = sysfs.remote_ports()
    assert [(p['name'], p['host'], p['state'], p['reconnect_delay']) for p in ports] == [
        ('port-5:1', 5, 'running', '10'), ('port-7:1', 7, 'lost', 'off')]
    assert [(d['name'], d['timeout']) for d in sysfs.srp_disks()] == [('5:0:0:0', '30'), ('5:0:0:1', '5'), ('7:0:0:0', '30')]
    assert [d['name'] for d in sysfs.srp_disks([5])] == ['5:0:0:0', '5:0:0:1']


def test_sysfs_without_ib_srp(tmp_path):
    sysfs = srp.SrpSysfs(str(tmp_path))
    assert not sysfs.module_loaded()
    assert sysfs.srp_hosts() == [] and sysfs.remote_ports() == [] and sysfs.srp_disks() == []


# ---------------------------------------------------------------------- login targets
EXAMPLE = yaml.safe_load((TOP / 'tests' / 'fixtures' / 'fabric' / 'example.yml').read_text())['rdma_fabric']


def roce_fabric():
    """The lab's shape: Soft-RoCE ports, interfaces given by netdev only, one pair, one initiator."""
    def node(name, kind, host, nets):
        return {'name': name, 'kind': kind,
                'ports': [{'device': 'rxe0', 'port': 1, 'guid': '0x505400fffe7701%02d' % host, 'link_layer': 'ethernet',
                           'netdev': 'eth1'}],
                'interfaces': [{'network': n, 'address': '10.77.%d.%d' % (i + 1, host), 'netdev': 'eth%d' % (i + 1)}
                               for i, n in enumerate(nets)]}
    return {
        'networks': [{'name': 'fabric', 'cidr': '10.77.1.0/24', 'transport': 'ethernet'},
                     {'name': 'replication', 'cidr': '10.77.2.0/24', 'transport': 'ethernet', 'purpose': 'replication'}],
        'nodes': [node('storage-a', 'storage', 11, ['fabric', 'replication']),
                  node('storage-b', 'storage', 12, ['fabric', 'replication']),
                  node('initiator-1', 'initiator', 21, ['fabric'])],
        'ha_pairs': [{'name': 'lab', 'nodes': ['storage-a', 'storage-b'], 'replication_network': 'replication',
                      'client_network': 'fabric', 'volumes': [
                          {'name': 'vol0', 'backing_device': '/dev/vdb', 'drbd_minor': 0, 'drbd_port': 7789,
                           'lun_serial': 'labvol0', 'initiators': ['initiator-1']},
                          {'name': 'vol1', 'backing_device': '/dev/vdc', 'drbd_minor': 1, 'drbd_port': 7790,
                           'lun_serial': 'labvol1', 'initiators': ['initiator-1']}]}],
        'srp': {'initiator_ext': '0000000000000001'},
    }


def test_login_targets_of_the_lab_shape():
    got = srp.login_targets(host_slice(roce_fabric(), 'initiator-1'), options={'tl_retry_count': 6})
    assert got['skipped'] == []
    assert got['targets'] == [
        {'name': 'storage-a', 'pair': 'lab', 'volumes': ['vol0', 'vol1'], 'srp_host': '/sys/class/infiniband_srp/srp-rxe0-1',
         'id_ext': '505400fffe770111', 'ioc_guid': '505400fffe770111', 'initiator_ext': '0000000000000001',
         'dest': '10.77.1.11:5555', 'options': {'tl_retry_count': 6}},
        {'name': 'storage-b', 'pair': 'lab', 'volumes': ['vol0', 'vol1'], 'srp_host': '/sys/class/infiniband_srp/srp-rxe0-1',
         'id_ext': '505400fffe770112', 'ioc_guid': '505400fffe770112', 'initiator_ext': '0000000000000001',
         'dest': '10.77.1.12:5555', 'options': {'tl_retry_count': 6}},
    ]


def test_login_targets_on_ipoib_use_the_interfaces_port_and_guid_overrides():
    got = srp.login_targets(host_slice(EXAMPLE, 'init-2'), rdma_cm_port=4000, target_guids={'stor-b': '0002:c903:000e:9b10'})
    assert [(t['name'], t['srp_host'], t['id_ext'], t['dest']) for t in got['targets']] == [
        ('stor-a', '/sys/class/infiniband_srp/srp-mlx5_0-1', '0002c903000e8acd', '10.10.0.11:4000'),
        ('stor-b', '/sys/class/infiniband_srp/srp-mlx5_0-1', '0002c903000e9b10', '10.10.0.12:4000')]
    with pytest.raises(FabricError):
        srp.login_targets(host_slice(EXAMPLE, 'init-2'), target_guids={'stor-b': 'nonsense'})


def test_login_targets_that_cannot_be_reached_over_rdma_cm_are_skipped():
    fabric = roce_fabric()
    fabric['nodes'][2]['ports'][0]['netdev'] = 'eth9'        # the address is on no RDMA port
    got = srp.login_targets(host_slice(fabric, 'initiator-1'))
    assert got['targets'] == [] and len(got['skipped']) == 2
    assert got['skipped'][0] == {'pair': 'lab', 'volume': 'vol0', 'reason':
                                 'its address on fabric (eth1) is on no RDMA port of the node (give the interface its port)'}
    fabric = copy.deepcopy(EXAMPLE)
    init1 = next(n for n in fabric['nodes'] if n['name'] == 'init-1')
    init1['interfaces'] = []                                  # InfiniBand without IPoIB: allowed by the model
    got = srp.login_targets(host_slice(fabric, 'init-1'))
    assert got['targets'] == [] and 'no address on the client network storage' in got['skipped'][0]['reason']


def test_login_targets_ipv6_destination():
    fabric = roce_fabric()
    fabric['networks'][0]['cidr'] = 'fd00:77::/64'
    for node in fabric['nodes']:
        node['interfaces'][0]['address'] = 'fd00:77::%d' % int(node['ports'][0]['guid'][-2:])
    got = srp.login_targets(host_slice(fabric, 'initiator-1'))
    assert got['targets'][0]['dest'] == '[fd00:77::11]:5555'


def test_login_targets_of_hosts_without_targets():
    assert srp.login_targets(host_slice(EXAMPLE, 'stor-a')) == {'targets': [], 'skipped': []}


def test_login_port_defaults_to_the_models_rdma_cm_port():
    fabric = copy.deepcopy(EXAMPLE)
    fabric.setdefault('srp', {})['rdma_cm_port'] = 4420
    got = srp.login_targets(host_slice(fabric, 'init-1'))
    assert got['targets'] and all(t['dest'].endswith(':4420') for t in got['targets'])
