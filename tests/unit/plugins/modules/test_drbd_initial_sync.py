# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""drbd_initial_sync: promote only a brand-new pair; never touch data."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import pytest

from ansible_collections.rdma.ha_storage.plugins.modules import drbd_initial_sync
from module_harness import RunCommandMock, call, patch_module, run_main

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'fixtures', 'drbd')
DRBDADM = '/usr/sbin/drbdadm'
FRESH_GI = '0000000000000004:0000000000000000:0000000000000000:0000000000000000:0:0:0:0:0:0:0\n'
USED_GI = 'DAF4CF8B81E8C85D:0000000000000000:DB5ED3C3D7D3AEBA:DB5DD3C3D7D3AEBB:1:1:1:1:0:0:0\n'
NEW_PAIR = ('version: 8.4.11 (api:1/proto:86-101)\n'
            ' 0: cs:Connected ro:Secondary/Secondary ds:Inconsistent/Inconsistent C r-----\n'
            '    ns:0 nr:0 dw:0 dr:0 al:0 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:1048576\n')
# drbd_status's reading of the names of the 8.4 minors
NAMES = [call([DRBDADM, 'sh-resources'], out='vol0\n'), call([DRBDADM, 'sh-minor', 'vol0'], out='0\n')]


def gi(text):
    return call([DRBDADM, 'get-gi', 'vol0'], out=text)


@pytest.fixture
def host(monkeypatch):
    """host(proc, *calls): /proc/drbd reads proc; the commands after the names are `calls`."""
    def make(proc, *calls):
        monkeypatch.setattr('ansible_collections.rdma.ha_storage.plugins.module_utils.drbd.read_file',
                            lambda path: proc)
        mock = RunCommandMock((NAMES if proc else []) + list(calls))
        patch_module(monkeypatch, drbd_initial_sync.AnsibleModule, mock)
        return mock
    return make


def run(mock, args):
    base = {'resource': 'vol0', 'peer_fresh': True}
    base.update(args)
    exc = run_main(drbd_initial_sync, base, mock)
    return exc.result, exc.failed


def test_full_sync_promotion_of_new_pair(host):
    mock = host(NEW_PAIR, gi(FRESH_GI), call([DRBDADM, 'primary', '--force', 'vol0']))
    result, failed = run(mock, {})
    assert not failed, result
    assert result['changed'] and result['promoted'] and result['method'] == 'full-sync'


def test_skip_initial_sync_clears_bitmap_then_promotes(host):
    mock = host(NEW_PAIR, gi(FRESH_GI),
                call([DRBDADM, '--', '--clear-bitmap', 'new-current-uuid', 'vol0']),
                call([DRBDADM, 'primary', 'vol0']))
    result, failed = run(mock, {'skip_initial_sync': True})
    assert not failed, result
    assert result['method'] == 'clear-bitmap'


def test_config_file_is_given_to_every_drbdadm_call(host, monkeypatch):
    conf = [DRBDADM, '-c', '/etc/drbd.lab.conf']
    monkeypatch.setattr('ansible_collections.rdma.ha_storage.plugins.module_utils.drbd.read_file',
                        lambda path: NEW_PAIR)
    mock = RunCommandMock([call(conf + ['sh-resources'], out='vol0\n'), call(conf + ['sh-minor', 'vol0'], out='0\n'),
                           call(conf + ['get-gi', 'vol0'], out=FRESH_GI), call(conf + ['primary', '--force', 'vol0'])])
    patch_module(monkeypatch, drbd_initial_sync.AnsibleModule, mock)
    result, failed = run(mock, {'config': '/etc/drbd.lab.conf'})
    assert not failed and result['promoted']


def test_pair_with_data_is_never_touched(host):
    with open(os.path.join(FIXTURES, 'proc_drbd_84_ganeti.txt')) as handle:
        proc = handle.read()
    mock = host(proc, gi(USED_GI))
    result, failed = run(mock, {'skip_initial_sync': True})
    assert not failed
    assert result['changed'] is False and result['promoted'] is False
    assert 'Primary' in result['reason']


def test_used_local_metadata_is_not_promoted(host):
    mock = host(NEW_PAIR, gi(USED_GI))
    result, failed = run(mock, {})
    assert not failed and result['promoted'] is False
    assert 'not brand new' in result['reason']


def test_peer_not_vouched_fresh(host):
    mock = host(NEW_PAIR, gi(FRESH_GI))
    result, failed = run(mock, {'peer_fresh': False})
    assert not failed and result['promoted'] is False and 'peer' in result['reason']


def test_check_mode_reports_without_promoting(host):
    # no primary: the mock fails the test on any command not listed
    mock = host(NEW_PAIR, gi(FRESH_GI))
    result, failed = run(mock, {'_ansible_check_mode': True})
    assert not failed and result['changed'] and result['promoted']


def test_no_kernel_module_fails_clearly(host):
    mock = host(None)
    result, failed = run(mock, {})
    assert failed and 'not loaded' in result['msg']


def test_promotion_failure_reports_rc(host):
    mock = host(NEW_PAIR, gi(FRESH_GI),
                call([DRBDADM, 'primary', '--force', 'vol0'], rc=11,
                     err='0: State change failed: (-2) Need access to UpToDate data\n'))
    result, failed = run(mock, {})
    assert failed and result['rc'] == 11 and 'UpToDate' in result['stderr']
    assert result['msg'] == 'resource vol0: drbdadm primary --force vol0 failed'
    assert result['cmd'] == [DRBDADM, 'primary', '--force', 'vol0']
