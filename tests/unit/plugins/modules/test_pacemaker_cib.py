# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""pacemaker_cib: the commands it runs (whole argv and environment), check mode, diff, errors,
with cibadmin's answers recorded from Pacemaker 2.1.5 (tests/fixtures/pacemaker/README.md)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
from pathlib import Path

import pytest

from ansible_collections.rdma.ha_storage.plugins.module_utils import pacemaker as pcmk
from ansible_collections.rdma.ha_storage.plugins.modules import pacemaker_cib
from module_harness import BIN, RunCommandMock, call, env, patch_module, run_main
from pacemaker_standin import STANDIN

FIXTURES = Path(__file__).resolve().parents[3] / 'fixtures' / 'pacemaker'
QUERY = [BIN + 'cibadmin', '--query', '--scope', 'configuration']

# the options that produced cib-configured.xml
ARGS = STANDIN
MODIFY = [BIN + 'cibadmin', '--modify', '--scope', 'resources', '--xml-text',
          '<primitive id="srpt_pair1"><meta_attributes id="srpt_pair1-meta_attributes">'
          '<nvpair id="srpt_pair1-meta_attributes-migration-threshold" name="migration-threshold" value="5" />'
          '</meta_attributes></primitive>']


def fixture(name):
    return (FIXTURES / name).read_text()


def recorded(name):
    """rc, stdout, stderr of a recorded cibadmin-*.txt (rc on the first line, then the output)."""
    lines = fixture(name).splitlines(True)
    return int(lines[0]), ''.join(lines[1:])


def configured_with(threshold):
    return fixture('cib-configured.xml').replace(
        'name="migration-threshold" value="3"', 'name="migration-threshold" value="%s"' % threshold)


def args_with(threshold=3, **extra):
    args = copy.deepcopy(ARGS)
    args['primitives'][1]['meta_attrs']['migration-threshold'] = threshold
    args.update(extra)
    return args


@pytest.fixture
def mock(monkeypatch):
    mock = RunCommandMock()
    patch_module(monkeypatch, pacemaker_cib.AnsibleModule, mock)
    return mock


def test_no_change_is_one_query(mock):
    mock.add(call(QUERY, out=fixture('cib-configured.xml')))
    out = run_main(pacemaker_cib, args_with(), mock)
    assert not out.failed, out.result
    assert out.result['changed'] is False and out.result['actions'] == [] and out.result['commands'] == []
    assert 'clone ms_drbd_vol0 of drbd_vol0' in out.result['state_before']


def test_a_meta_change_is_one_modify_then_a_check(mock):
    mock.add(call(QUERY, out=fixture('cib-configured.xml')), call(MODIFY),
             call(QUERY, out=configured_with(5)))
    out = run_main(pacemaker_cib, dict(args_with(5), _ansible_diff=True), mock)
    assert not out.failed, out.result
    assert out.result['changed'] is True
    assert out.result['actions'] == ['primitive srpt_pair1: set meta migration-threshold=5']
    assert out.result['commands'] == [['cibadmin'] + MODIFY[1:]]
    diff = out.result['diff']
    assert '  meta migration-threshold=3' in diff['before'] and '  meta migration-threshold=5' in diff['after']


def test_check_mode_only_reads(mock):
    mock.add(call(QUERY, out=fixture('cib-empty.xml')))
    out = run_main(pacemaker_cib, dict(args_with(), _ansible_check_mode=True, _ansible_diff=True), mock)
    assert not out.failed, out.result
    assert out.result['changed'] is True and len(out.result['actions']) == 7
    assert out.result['diff']['before'] == ''
    assert mock.argvs() == [QUERY]
    assert 'crm_config no-quorum-policy=ignore' in out.result['diff']['after']


def test_the_first_run_against_a_cib_file(mock, tmp_path):
    # every command carries CIB_file (Pacemaker's offline CIB); the creates' XML is pinned in test_pacemaker.py
    cib = str(tmp_path / 'cib.xml')
    offline = env(CIB_file=cib)
    planned = pcmk.plan(pcmk.parse_config(fixture('cib-empty.xml')), pcmk.Desired(**ARGS))
    mock.add(call(QUERY, out=fixture('cib-empty.xml'), environ=offline))
    for action in planned:
        mock.add(call([BIN + action.tool] + action.args, environ=offline))
    mock.add(call(QUERY, out=fixture('cib-configured.xml'), environ=offline))
    out = run_main(pacemaker_cib, args_with(cib_file=cib), mock)
    assert not out.failed, out.result
    assert out.result['changed'] is True
    assert [argv[0] for argv in mock.argvs()] == [BIN + 'cibadmin'] + [BIN + 'crm_attribute'] * 3 + [
        BIN + 'cibadmin'] * 5
    assert [argv[1] for argv in mock.argvs()[4:8]] == ['--create'] * 4


def test_a_failed_command_names_the_object_and_carries_rc_and_output(mock):
    rc, err = recorded('cibadmin-modify-missing.txt')
    mock.add(call(QUERY, out=fixture('cib-configured.xml')), call(MODIFY, rc=rc, err=err))
    out = run_main(pacemaker_cib, args_with(5), mock)
    assert out.failed
    assert out.result['msg'].startswith('primitive srpt_pair1: cibadmin --modify --scope resources --xml-text')
    assert out.result['msg'].endswith('failed (rc 105): Call cib_modify failed: No such device or address')
    assert out.result['rc'] == 105 and out.result['stderr'] == err and out.result['cmd'] == MODIFY


def test_a_cib_still_different_after_the_changes_is_an_error(mock):
    mock.add(call(QUERY, out=fixture('cib-configured.xml')), call(MODIFY),
             call(QUERY, out=fixture('cib-configured.xml')))
    out = run_main(pacemaker_cib, args_with(5), mock)
    assert out.failed
    assert out.result['msg'] == ('the CIB still differs after the changes: '
                                 'primitive srpt_pair1: set meta migration-threshold=5')


def test_a_conflict_fails_before_any_change(mock):
    args = args_with()
    args['primitives'][1]['agent'] = 'ocf:rdma_ha_storage:lio_srpt'
    mock.add(call(QUERY, out=fixture('cib-configured.xml')))
    out = run_main(pacemaker_cib, args, mock)
    assert out.failed and out.result['msg'].startswith('primitive srpt_pair1: the CIB has it as ocf:heartbeat:Dummy')


def test_a_query_without_a_cluster_fails_with_cibadmins_words(mock):
    mock.add(call(QUERY, rc=102, err='Could not connect to the CIB: Transport endpoint is not connected\n'))
    out = run_main(pacemaker_cib, args_with(), mock)
    assert out.failed and out.result['rc'] == 102
    assert 'Could not connect to the CIB' in out.result['msg']


def test_missing_tools_name_the_package(monkeypatch):
    mock = RunCommandMock()
    patch_module(monkeypatch, pacemaker_cib.AnsibleModule, mock, missing=('cibadmin',))
    out = run_main(pacemaker_cib, args_with(), mock)
    assert out.failed and out.result['msg'] == 'cibadmin not found on this host: install pacemaker-cli-utils'
