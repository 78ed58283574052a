# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""lio_srpt: build, check mode, idempotence, diff, absent, refusals, on a configfs emulation.

The module runs no command: the harness's RunCommandMock expects none."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.rdma.ha_storage.plugins.module_utils import lio
from ansible_collections.rdma.ha_storage.plugins.modules import lio_srpt
from fake_configfs import FakeConfigfs
from module_harness import RunCommandMock, patch_module, run_main

PORT = '0xfe800000000000000002c903000e8acd'
INI = '0xfe800000000000000002c903001a2b01'
TPG = 'srpt/%s/tpgt_1' % PORT


@pytest.fixture
def configfs(monkeypatch, tmp_path):
    """A fake configfs (lio.FILESYSTEM replaced) and a runner for the module against it."""
    fake = FakeConfigfs.create(tmp_path / 'target')
    monkeypatch.setattr(lio, 'FILESYSTEM', fake)
    mock = RunCommandMock()
    patch_module(monkeypatch, lio_srpt.AnsibleModule, mock)
    (tmp_path / 'drbd0').write_text('')

    def run(check_mode=False, diff=False, **changes):
        args = dict(target_ports=['ib.' + PORT[2:]], configfs_root=fake.root,
                    volumes=[dict(name='vol0', device=str(tmp_path / 'drbd0'), serial='5a1e0d3f0000', lun=0,
                                  initiators=[INI])])
        args.update(changes)
        if check_mode:
            args['_ansible_check_mode'] = True
        if diff:
            args['_ansible_diff'] = True
        return run_main(lio_srpt, args, mock)
    run.fake = fake
    run.device = str(tmp_path / 'drbd0')
    return run


def test_builds_the_export_with_a_diff_then_changes_nothing(configfs):
    out = configfs(diff=True)
    assert not out.failed, out.result
    result = out.result
    assert result['changed'] is True and result['state_before'] == ['srpt rdma_cm_port=0']
    assert result['actions'][:2] == ['create HBA directory core/iblock_0', 'create backstore vol0 (core/iblock_0/vol0)']
    assert result['actions'][-1] == 'enable the TPG of target port ' + PORT
    state = lio.read_state(configfs.fake.root)
    assert result['diff']['after'] == lio.describe(state)
    assert result['diff']['before'] == 'srpt rdma_cm_port=0\n'
    assert result['diff']['before_header'] == 'LIO configfs ' + configfs.fake.root
    assert TPG + '/lun/lun_0 -> core/iblock_0/vol0' in result['diff']['after']
    again = configfs(diff=True)
    assert again.result['changed'] is False and again.result['actions'] == []
    assert again.result['diff']['before'] == again.result['diff']['after'] == result['diff']['after']
    assert again.result['state_before'] == result['diff']['after'].splitlines()


def test_check_mode_plans_and_changes_nothing(configfs):
    made = configfs.fake.user_dirs()
    out = configfs(check_mode=True, diff=True)
    assert out.result['changed'] is True and len(out.result['actions']) > 10
    assert configfs.fake.user_dirs() == made
    assert 'core/iblock_0/vol0 device=%s serial=5a1e0d3f0000 enable=1' % configfs.device in out.result['diff']['after']


def test_check_mode_without_the_kernel_modules_warns(configfs, tmp_path, monkeypatch):
    warnings = []
    monkeypatch.setattr(lio_srpt.AnsibleModule, 'warn', lambda self, text: warnings.append(text))
    out = configfs(check_mode=True, configfs_root=str(tmp_path / 'nothing' / 'target'))
    assert not out.failed and out.result['changed'] is True
    assert len(warnings) == 1 and warnings[0].startswith('configfs is not mounted on ')


def test_without_the_kernel_modules_it_fails_saying_what_to_load(configfs, tmp_path):
    (tmp_path / 'config' / 'other').mkdir(parents=True)
    out = configfs(configfs_root=str(tmp_path / 'config' / 'target'))
    assert out.failed and out.result == {
        'msg': '%s is missing: target_core_mod is not loaded (modprobe target_core_mod)' % (tmp_path / 'config' / 'target')}


def test_absent_tears_the_export_down_and_then_changes_nothing(configfs):
    configfs()
    out = configfs(state='absent', diff=True)
    assert out.result['changed'] is True
    assert out.result['actions'][0] == 'disable target port ' + PORT
    assert out.result['diff']['after'] == 'srpt rdma_cm_port=5555\n'
    assert configfs.fake.user_dirs() == ['srpt']
    assert configfs(state='absent').result['changed'] is False


def test_absent_in_check_mode_changes_nothing(configfs):
    configfs()
    made = configfs.fake.user_dirs()
    out = configfs(state='absent', check_mode=True)
    assert out.result['changed'] is True and configfs.fake.user_dirs() == made


def test_rdma_cm_port_null_leaves_it(configfs):
    configfs(rdma_cm_port=4000)
    out = configfs(rdma_cm_port=None)
    assert out.result['changed'] is False
    assert lio.read_state(configfs.fake.root)['rdma_cm_port'] == 4000
    assert configfs(rdma_cm_port='4001').result['actions'] == ['listen for RDMA/CM logins on port 4001 (was 4000)']
    out = configfs(rdma_cm_port='many')
    assert out.failed and out.result['problems'] == [
        "rdma_cm_port 'many' must be a TCP port number (1-65535) or null (leave it as it is)"]


def test_purge_removes_a_foreign_acl(configfs):
    configfs()
    configfs.fake.mkdir(configfs.fake.path(TPG + '/acls/0x' + 'ab' * 16))
    assert configfs().result['changed'] is False
    out = configfs(purge=True)
    assert out.result['actions'] == ['remove the ACL of initiator 0x%s from target port %s' % ('ab' * 16, PORT)]


def test_a_refusal_changes_nothing_and_says_why(configfs, tmp_path):
    configfs()
    made = configfs.fake.user_dirs()
    (tmp_path / 'drbd9').write_text('')
    out = configfs(volumes=[dict(name='vol0', device=str(tmp_path / 'drbd9'), serial='5a1e0d3f0000', lun=0)])
    assert out.failed
    assert out.result['msg'].startswith('refusing to change the LIO export: backstore core/iblock_0/vol0: its device is')
    assert len(out.result['problems']) == 1 and configfs.fake.user_dirs() == made


def test_an_invalid_spec_lists_every_problem(configfs):
    out = configfs(target_ports=['0002:c903:000e:8acd'],
                   volumes=[dict(name='vol0', device='/dev/drbd0', serial='a b', lun=0, initiators=['x'])])
    assert out.failed and out.result['msg'].startswith('invalid LIO export: ')
    assert len(out.result['problems']) == 3


def test_a_failed_change_names_the_path(configfs, monkeypatch):
    monkeypatch.setattr(configfs.fake, 'hca_ports', [])
    out = configfs()
    assert out.failed and out.result['path'] == configfs.fake.path('srpt/' + PORT) and out.result['op'] == 'mkdir'
    assert out.result['msg'].startswith('mkdir %s failed: Invalid argument' % configfs.fake.path('srpt/' + PORT))


def test_an_export_that_does_not_run_after_the_changes_fails(configfs, monkeypatch):
    real_write = configfs.fake.write

    def write(path, value):
        if path.endswith(TPG + '/enable'):
            return        # the kernel took the write but the TPG stays disabled
        real_write(path, value)
    monkeypatch.setattr(configfs.fake, 'write', write)
    out = configfs()
    assert out.failed
    assert out.result['msg'] == 'the export is failed, not running, after the changes: TPG %s is not enabled' % TPG
