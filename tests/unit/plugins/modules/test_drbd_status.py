# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""drbd_status module on real captured outputs (tests/fixtures/drbd), every command pinned."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.rdma.ha_storage.plugins.modules import drbd_status
from module_harness import RunCommandMock, call, patch_module, run_main

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'fixtures', 'drbd')
DRBDADM = '/usr/sbin/drbdadm'
DRBDSETUP = '/usr/sbin/drbdsetup'


def run_module(monkeypatch, args, expected):
    """Run drbd_status.main() with run_command answered by the expected calls, in order (every
    one of them must run). Returns (result, failed, argvs)."""
    mock = RunCommandMock(expected)
    patch_module(monkeypatch, drbd_status.AnsibleModule, mock)
    exc = run_main(drbd_status, args, mock)
    return exc.result, exc.failed, mock.argvs()


def names(*pairs):
    """The calls drbdadm makes to map 8.4 minors to names: sh-resources, then sh-minor of each."""
    calls = [call([DRBDADM, 'sh-resources'], out=' '.join(name for name, dummy in pairs) + '\n')]
    calls += [call([DRBDADM, 'sh-minor', name], out='%d\n' % minor) for name, minor in pairs]
    return calls


def fixture_path(name):
    return os.path.join(FIXTURES, name)


def test_84_with_names_from_config(monkeypatch):
    commands = names(('vol0', 0), ('vol4', 4))
    result, failed, dummy = run_module(
        monkeypatch, {'proc_path': fixture_path('proc_drbd_84_ganeti.txt'), 'resource': 'vol0'}, commands)
    assert not failed
    assert result['changed'] is False
    assert result['kernel_loaded'] is True
    assert result['kernel_version'] == '8.4.2'
    assert result['version_family'] == '8.4'
    assert result['source'] == 'proc'
    assert result['exists'] is True
    assert result['resource']['role'] == 'Primary'
    assert result['resource']['healthy'] is True
    assert result['resources']['vol4']['connection_state'] == 'Connecting'


def test_84_sync_progress(monkeypatch):
    commands = names(('r1', 1), ('r2', 2))
    result, failed, dummy = run_module(
        monkeypatch, {'proc_path': fixture_path('proc_drbd_8411_cockpit_17042.txt'), 'resource': 'r2'}, commands)
    assert not failed
    assert result['kernel_version'] == '8.4.11'
    assert result['resource']['replication_state'] == 'SyncTarget'
    assert result['resource']['sync_percent'] == 28.9
    assert result['resource']['out_of_sync_kib'] == 1389772624


def test_config_path_is_passed_to_drbdadm(monkeypatch):
    commands = [call([DRBDADM, '-c', '/tmp/x.conf', 'sh-resources'], out='vol0\n'),
                call([DRBDADM, '-c', '/tmp/x.conf', 'sh-minor', 'vol0'], out='0\n')]
    result, failed, dummy = run_module(
        monkeypatch, {'proc_path': fixture_path('proc_drbd_84_ganeti.txt'), 'config': '/tmp/x.conf'}, commands)
    assert not failed
    assert 'vol0' in result['resources']


def test_9_json(monkeypatch, tmp_path):
    proc = tmp_path / 'drbd'
    # DRBD 9's /proc/drbd carries only the version lines (no per-device lines).
    proc.write_text('version: 9.0.19-1 (api:2/proto:86-115)\n')
    with open(fixture_path('status_json_9_ha_cluster_exporter_issue25.json')) as handle:
        out = handle.read()
    result, failed, calls = run_module(
        monkeypatch, {'proc_path': str(proc), 'resource': '1-single-0'}, [call([DRBDSETUP, 'status', '--json'], out=out)])
    assert not failed
    assert result['source'] == 'json'
    assert result['version_family'] == '9'
    assert result['resource']['peer'] == 'SLE15-sp1-gm-drbd1145296-node2'
    assert result['resource']['healthy'] is True
    assert calls == [[DRBDSETUP, 'status', '--json']]


def test_no_kernel_module_is_not_an_error(monkeypatch, tmp_path):
    result, failed, calls = run_module(monkeypatch, {'proc_path': str(tmp_path / 'absent'), 'resource': 'vol0'}, [])
    assert not failed
    assert result['kernel_loaded'] is False
    assert result['resources'] == {} and result['resource'] is None and result['exists'] is False
    assert calls == []


def test_unknown_resource(monkeypatch):
    result, failed, dummy = run_module(
        monkeypatch, {'proc_path': fixture_path('proc_drbd_84_ganeti.txt'), 'resource': 'nope'}, names(('vol0', 0)))
    assert not failed
    assert result['exists'] is False and result['resource'] is None


def test_json_failure_reports_rc_and_output(monkeypatch, tmp_path):
    proc = tmp_path / 'drbd'
    proc.write_text('version: 9.2.12 (api:2/proto:86-122)\n')
    result, failed, dummy = run_module(
        monkeypatch, {'proc_path': str(proc)},
        [call([DRBDSETUP, 'status', '--json'], rc=20, err='Could not connect to netlink\n')])
    assert failed
    assert result['msg'] == 'drbdsetup status --json failed'
    assert result['rc'] == 20 and 'netlink' in result['stderr']
    assert result['cmd'] == [DRBDSETUP, 'status', '--json']


def test_json_that_does_not_parse_is_an_error_with_the_output(monkeypatch, tmp_path):
    proc = tmp_path / 'drbd'
    proc.write_text('version: 9.2.12 (api:2/proto:86-122)\n')
    result, failed, dummy = run_module(
        monkeypatch, {'proc_path': str(proc)}, [call([DRBDSETUP, 'status', '--json'], out='{"not": "a list"}')])
    assert failed
    assert result['msg'].startswith('cannot parse drbdsetup status --json: ')
    assert result['rc'] == 0 and result['stdout'] == '{"not": "a list"}'


def test_a_configuration_drbdadm_cannot_read_gives_minor_keys(monkeypatch):
    result, failed, dummy = run_module(
        monkeypatch, {'proc_path': fixture_path('proc_drbd_84_ganeti.txt')},
        [call([DRBDADM, 'sh-resources'], rc=10, err="no resources defined!\n")])
    assert not failed
    assert 'minor0' in result['resources'] and all(name.startswith('minor') for name in result['resources'])


def test_missing_drbdsetup_names_the_package(monkeypatch, tmp_path):
    proc = tmp_path / 'drbd'
    proc.write_text('version: 9.2.12 (api:2/proto:86-122)\n')
    mock = RunCommandMock()
    patch_module(monkeypatch, drbd_status.AnsibleModule, mock, missing=('drbdsetup',))
    exc = run_main(drbd_status, {'proc_path': str(proc)}, mock)
    assert exc.failed and exc.result == {'msg': 'drbdsetup not found on this host: install drbd-utils'}


def test_check_mode_runs_the_same(monkeypatch):
    result, failed, dummy = run_module(
        monkeypatch, {'proc_path': fixture_path('proc_drbd_84_ganeti.txt'), 'resource': 'vol0',
                      '_ansible_check_mode': True}, names(('vol0', 0)))
    assert not failed and result['changed'] is False and result['resource']['healthy'] is True
