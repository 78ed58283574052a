# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kmod: modinfo -p parsing, options-line values and their comparison with sysfs."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.rdma.ha_storage.plugins.module_utils import kmod

# modinfo -p ib_ipoib in its format (name:description (type) per line), written after the module_param
# lines of drivers/infiniband/ulp/ipoib/ipoib_main.c and ipoib_cm.c (Linux 6.1), not captured from a host
MODINFO_IPOIB = ('max_nonsrq_conn_qp:Max number of connected-mode QPs per interface (applied only if shared receive queue is not available) (int)\n'
                 'mcast_debug_level:Enable multicast debug tracing if > 0 (int)\n'
                 'send_queue_size:Number of descriptors in send queue (int)\n'
                 'recv_queue_size:Number of descriptors in receive queue (int)\n'
                 'debug_level:Enable debug tracing if > 0 (int)\n')


def test_parse_modinfo_parameters():
    assert kmod.parse_modinfo_parameters(MODINFO_IPOIB) == [
        'max_nonsrq_conn_qp', 'mcast_debug_level', 'send_queue_size', 'recv_queue_size', 'debug_level']
    assert kmod.parse_modinfo_parameters('') == []
    assert kmod.parse_modinfo_parameters(None) == []


def test_srp_uses_the_same_parser():
    from ansible_collections.rdma.ha_storage.plugins.module_utils import srp
    assert srp.parse_modinfo_parameters is kmod.parse_modinfo_parameters


@pytest.mark.parametrize('value, text', [
    (True, '1'), (False, '0'), (1024, '1024'), (-1, '-1'), ('0x10', '0x10'), ([1, 2, 3], '1,2,3'), ('Y', 'Y')])
def test_parameter_text(value, text):
    assert kmod.parameter_text(value) == text


@pytest.mark.parametrize('value', ['', 'a b', 'x#y', '"q"', [], None, {'a': 1}, 'line\nbreak'])
def test_parameter_text_refuses(value):
    with pytest.raises(ValueError):
        kmod.parameter_text(value)


@pytest.mark.parametrize('wanted, live, same', [
    ('1', 'Y', True), ('0', 'N', True), ('1', 'N', False), ('y', 'Y', True),
    ('1024', '1024', True), ('0x400', '1024', True), ('256', '1024', False), ('abc', 'abd', False),
    ('1', None, None)])
def test_same_value(wanted, live, same):
    assert kmod.same_value(wanted, live) is same


def test_options_lines_sorted_and_empty_modules_left_out():
    assert kmod.options_lines({'mlx4_core': {'b': '2', 'a': '1'}, 'ib_ipoib': {'send_queue_size': '512'}, 'x': {}}) == [
        'options ib_ipoib send_queue_size=512', 'options mlx4_core a=1 b=2']


@pytest.mark.parametrize('name, ok', [('ib_ipoib', True), ('mlx4-core', True), ('a b', False), ('', False), (3, False)])
def test_module_name_problem(name, ok):
    assert (kmod.module_name_problem(name) is None) is ok
    assert kmod.canonical_module('mlx4-core') == 'mlx4_core'
