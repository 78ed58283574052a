# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/srp: the kernel's timer rules, the order of timer writes, modinfo and sysfs reading."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import itertools

import pytest

from ansible_collections.rdma.ha_storage.plugins.module_utils import srp
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
