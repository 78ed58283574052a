# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""drbd_resource: `up` only for resources that are not up, `adjust` for those that are, check
mode, every failure reported with the secret masked. Every command pinned (argv, environment)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

import pytest

from ansible_collections.rdma.ha_storage.plugins.modules import drbd_resource
from module_harness import RunCommandMock, call, patch_module, run_main

DRBDADM = '/usr/sbin/drbdadm'
DRBDSETUP = '/usr/sbin/drbdsetup'
SECRET = 'unit-not-a-secret-93c1'
# vol0 (minor 0) is up, vol1 (minor 1) is not
PROC_VOL0_UP = ('version: 8.4.11 (api:1/proto:86-101)\n'
                ' 0: cs:Connected ro:Secondary/Secondary ds:UpToDate/UpToDate C r-----\n'
                '    ns:0 nr:0 dw:0 dr:0 al:0 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:0\n')
NAMES = [
    call([DRBDADM, 'sh-resources'], out='vol0 vol1\n'),
    call([DRBDADM, 'sh-minor', 'vol0'], out='0\n'),
    call([DRBDADM, 'sh-minor', 'vol1'], out='1\n'),
]
# what drbdadm 9.22 (drbdadm-84) prints when the peer's net options do not match
NET_FAILED = ("vol1: Failure: (158) Unknown cram-hmac-alg\nadditional info from kernel:\nnetlink error\n"
              "Command 'drbdsetup-84 net vol1 ipv4:10.20.0.11:7790 ipv4:10.20.0.12:7790 --protocol=C "
              "--cram-hmac-alg=sha999 --shared-secret=%s' terminated with exit code 10\n" % SECRET)


@pytest.fixture
def host(monkeypatch):
    def make(proc, *calls):
        monkeypatch.setattr('ansible_collections.rdma.ha_storage.plugins.module_utils.drbd.read_file',
                            lambda path: proc)
        mock = RunCommandMock(calls)
        patch_module(monkeypatch, drbd_resource.AnsibleModule, mock)
        return mock
    return make


def run(mock, **args):
    exc = run_main(drbd_resource, args, mock)
    return exc.result, exc.failed


def test_up_brings_up_only_what_is_not_up(host):
    mock = host(PROC_VOL0_UP, *(NAMES + [call([DRBDADM, 'up', 'vol1'])]))
    result, failed = run(mock, resources=['vol0', 'vol1'])
    assert not failed, result
    assert result['changed'] is True
    assert result['brought_up'] == ['vol1'] and result['adjusted'] == []
    assert result['already_up'] == ['vol0']
    assert result['commands'] == ['/usr/sbin/drbdadm up vol1']


def test_up_changes_nothing_when_all_are_up(host):
    mock = host(PROC_VOL0_UP, *NAMES)
    result, failed = run(mock, resources=['vol0'], state='up')
    assert not failed, result
    assert result['changed'] is False and result['commands'] == [] and result['brought_up'] == []


def test_adjusted_adjusts_what_is_up_and_brings_up_the_rest_in_order(host):
    mock = host(PROC_VOL0_UP, *(NAMES + [call([DRBDADM, 'up', 'vol1']), call([DRBDADM, 'adjust', 'vol0'])]))
    result, failed = run(mock, resources=['vol1', 'vol0', 'vol1'], state='adjusted')
    assert not failed, result
    assert result['changed'] is True
    assert result['adjusted'] == ['vol0'] and result['brought_up'] == ['vol1']
    assert result['commands'] == ['/usr/sbin/drbdadm up vol1', '/usr/sbin/drbdadm adjust vol0']


def test_config_file_is_given_to_every_drbdadm_call(host):
    conf = ['-c', '/etc/drbd.lab.conf']
    mock = host(PROC_VOL0_UP,
                call([DRBDADM] + conf + ['sh-resources'], out='vol0\n'),
                call([DRBDADM] + conf + ['sh-minor', 'vol0'], out='0\n'),
                call([DRBDADM] + conf + ['adjust', 'vol0']))
    result, failed = run(mock, resources=['vol0'], state='adjusted', config='/etc/drbd.lab.conf')
    assert not failed, result
    assert result['commands'] == ['/usr/sbin/drbdadm -c /etc/drbd.lab.conf adjust vol0']


def test_check_mode_reports_what_would_run_and_runs_nothing_that_changes(host):
    # only the reads: no up, no adjust
    mock = host(PROC_VOL0_UP, *NAMES)
    result, failed = run(mock, resources=['vol0', 'vol1'], state='adjusted', _ansible_check_mode=True)
    assert not failed, result
    assert result['changed'] is True
    assert result['commands'] == ['/usr/sbin/drbdadm adjust vol0', '/usr/sbin/drbdadm up vol1']
    assert result['adjusted'] == ['vol0'] and result['brought_up'] == ['vol1']


def test_failure_is_reported_per_resource_with_the_secret_masked(host):
    mock = host(PROC_VOL0_UP, *(NAMES + [call([DRBDADM, 'up', 'vol1'], rc=10, err=NET_FAILED),
                                         call([DRBDADM, 'adjust', 'vol0'])]))
    result, failed = run(mock, resources=['vol1', 'vol0'], state='adjusted', secret=SECRET)
    assert failed
    # the other resource was still handled
    assert result['adjusted'] == ['vol0'] and result['changed'] is True
    assert result['msg'].startswith('drbdadm up vol1 failed (rc 10): vol1: Failure: (158) Unknown cram-hmac-alg')
    assert result['msg'].endswith("--shared-secret=********' terminated with exit code 10")
    assert result['rc'] == 10 and result['cmd'] == [DRBDADM, 'up', 'vol1']
    assert [f['resource'] for f in result['failures']] == ['vol1']
    assert SECRET not in json.dumps(result)
    assert '--shared-secret=********' in result['stderr']


def test_an_unknown_secret_is_masked_too(host):
    """A secret the module was not given (the previous one, while it changes) is still masked."""
    mock = host(PROC_VOL0_UP, *(NAMES + [call([DRBDADM, 'up', 'vol1'], rc=10, err=NET_FAILED)]))
    result, failed = run(mock, resources=['vol1'])
    assert failed and SECRET not in json.dumps(result)
    assert result['failures'][0]['stderr'].endswith("--shared-secret=********' terminated with exit code 10\n")


def test_drbd_9_state_comes_from_drbdsetup(host):
    device = {'volume': 0, 'minor': 0, 'disk-state': 'UpToDate'}
    status = json.dumps([{'name': 'vol0', 'role': 'Secondary', 'devices': [device], 'connections': []}])
    mock = host('version: 9.2.12 (api:2/proto:86-122)\n',
                call([DRBDSETUP, 'status', '--json'], out=status),
                call([DRBDADM, 'up', 'vol1']))
    result, failed = run(mock, resources=['vol0', 'vol1'])
    assert not failed, result
    assert result['already_up'] == ['vol0'] and result['brought_up'] == ['vol1']


def test_no_kernel_module_is_an_error(host):
    mock = host(None)
    result, failed = run(mock, resources=['vol0'])
    assert failed and 'kernel module is not loaded' in result['msg'] and 'vol0' in result['msg']


@pytest.mark.parametrize('bad', ['', '-x', 'a b', 'a/b'])
def test_bad_resource_names_are_rejected(host, bad):
    mock = host(PROC_VOL0_UP)
    result, failed = run(mock, resources=['vol0', bad])
    assert failed and result['msg'].startswith('resources[1]: ')


def test_missing_drbdadm_names_the_package(host, monkeypatch):
    mock = host(PROC_VOL0_UP)
    patch_module(monkeypatch, drbd_resource.AnsibleModule, mock, missing=('drbdadm', 'drbdsetup'))
    result, failed = run(mock, resources=['vol0'])
    assert failed and result['msg'] == 'drbdadm not found on this host: install drbd-utils'
