# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""drbd_initial_sync: promote only a brand-new pair; never touch data."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import pytest

from ansible_collections.rdma.ha_storage.plugins.modules import drbd_initial_sync
from module_harness import patch_module, run_main, table_answer

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'fixtures', 'drbd')
FRESH_GI = (0, '0000000000000004:0000000000000000:0000000000000000:0000000000000000:0:0:0:0:0:0:0\n', '')
USED_GI = (0, 'DAF4CF8B81E8C85D:0000000000000000:DB5ED3C3D7D3AEBA:DB5DD3C3D7D3AEBB:1:1:1:1:0:0:0\n', '')
NEW_PAIR = ('version: 8.4.11 (api:1/proto:86-101)\n'
            ' 0: cs:Connected ro:Secondary/Secondary ds:Inconsistent/Inconsistent C r-----\n'
            '    ns:0 nr:0 dw:0 dr:0 al:0 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:1048576\n')


@pytest.fixture
def host(monkeypatch):
    def make(proc, commands):
        calls = []
        monkeypatch.setattr('ansible_collections.rdma.ha_storage.plugins.module_utils.drbd.read_file',
                            lambda path: proc)
        table = {('sh-resources',): (0, 'vol0\n', ''), ('sh-minor', 'vol0'): (0, '0\n', '')}
        table.update(commands)
        patch_module(monkeypatch, drbd_initial_sync.AnsibleModule, table_answer(table, calls))
        return calls
    return make


def run(args):
    base = {'resource': 'vol0', 'peer_fresh': True}
    base.update(args)
    exc = run_main(drbd_initial_sync, base)
    return exc.result, exc.failed


def test_full_sync_promotion_of_new_pair(host):
    calls = host(NEW_PAIR, {('get-gi', 'vol0'): FRESH_GI, ('primary', '--force', 'vol0'): (0, '', '')})
    result, failed = run({})
    assert not failed, result
    assert result['changed'] and result['promoted'] and result['method'] == 'full-sync'
    assert ('primary', '--force', 'vol0') in calls


def test_skip_initial_sync_clears_bitmap_then_promotes(host):
    calls = host(NEW_PAIR, {('get-gi', 'vol0'): FRESH_GI,
                            ('--', '--clear-bitmap', 'new-current-uuid', 'vol0'): (0, '', ''),
                            ('primary', 'vol0'): (0, '', '')})
    result, failed = run({'skip_initial_sync': True})
    assert not failed, result
    assert result['method'] == 'clear-bitmap'
    assert calls.index(('--', '--clear-bitmap', 'new-current-uuid', 'vol0')) < calls.index(('primary', 'vol0'))
    assert ('primary', '--force', 'vol0') not in calls


def test_pair_with_data_is_never_touched(host):
    with open(os.path.join(FIXTURES, 'proc_drbd_84_ganeti.txt')) as handle:
        proc = handle.read()
    calls = host(proc, {('get-gi', 'vol0'): USED_GI})
    result, failed = run({'skip_initial_sync': True})
    assert not failed
    assert result['changed'] is False and result['promoted'] is False
    assert 'Primary' in result['reason']
    assert not [c for c in calls if 'primary' in c or 'new-current-uuid' in c]


def test_used_local_metadata_is_not_promoted(host):
    calls = host(NEW_PAIR, {('get-gi', 'vol0'): USED_GI})
    result, failed = run({})
    assert not failed and result['promoted'] is False
    assert 'not brand new' in result['reason']
    assert ('primary', '--force', 'vol0') not in calls


def test_peer_not_vouched_fresh(host):
    host(NEW_PAIR, {('get-gi', 'vol0'): FRESH_GI})
    result, failed = run({'peer_fresh': False})
    assert not failed and result['promoted'] is False and 'peer' in result['reason']


def test_check_mode_reports_without_promoting(host):
    calls = host(NEW_PAIR, {('get-gi', 'vol0'): FRESH_GI})
    result, failed = run({'_ansible_check_mode': True})
    assert not failed and result['changed'] and result['promoted']
    assert ('primary', '--force', 'vol0') not in calls


def test_no_kernel_module_fails_clearly(host):
    host(None, {})
    result, failed = run({})
    assert failed and 'not loaded' in result['msg']


def test_promotion_failure_reports_rc(host):
    host(NEW_PAIR, {('get-gi', 'vol0'): FRESH_GI,
                    ('primary', '--force', 'vol0'): (11, '', '0: State change failed: (-2) Need access to UpToDate data\n')})
    result, failed = run({})
    assert failed and result['rc'] == 11 and 'UpToDate' in result['stderr']
