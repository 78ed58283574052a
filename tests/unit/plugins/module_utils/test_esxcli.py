# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/esxcli.py: the parsers against public esxcli samples, the ssh argv, ssh failures."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import pytest

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.rdma.ha_storage.plugins.module_utils import esxcli
from module_harness import RunCommandMock, call, patch_module, run_main  # noqa: F401 (patch_module, call used)

FIXTURES = os.path.join(os.path.dirname(__file__), '..', 'modules', 'fixtures', 'esxcli')


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return handle.read()


def test_satp_rule_list_in_two_column_groups_is_one_table():
    rules = esxcli.parse_satp_rules(fixture('satp_rule_list_netapp_vsphere7.txt'))
    assert rules == [{
        'satp': 'VMW_SATP_ALUA', 'device': '', 'vendor': 'NETAPP', 'model': '', 'driver': '', 'transport': '',
        'options': 'reset_on_attempted_reserve', 'rule_group': 'system', 'claim_options': 'tpgs_on',
        'psp': 'VMW_PSP_RR', 'psp_options': '', 'description': 'NetApp arrays with ALUA support'}]


def test_satp_rule_list_with_a_user_rule():
    rules = esxcli.parse_satp_rules(fixture('satp_rule_list_lio_user_rule.txt'))
    assert [(r['vendor'], r['rule_group'], r['psp'], r['description']) for r in rules] == [
        ('NETAPP', 'system', 'VMW_PSP_RR', 'NetApp arrays with ALUA support'),
        ('LIO-ORG', 'user', 'VMW_PSP_MRU', 'rdma.ha_storage LIO SRP pair')]
    assert rules[1]['options'] == '' and rules[1]['claim_options'] == 'tpgs_on'


def test_one_wide_table_reads_the_same():
    """esxcli prints one table when its output is not cut (a pipe): the same rows."""
    groups = fixture('satp_rule_list_lio_user_rule.txt').split('\n\n\n')
    left, right = [g.strip('\n').split('\n') for g in groups]
    right[1] = right[1][1:]     # the published dashes line is shifted by one space
    width = max(len(line) for line in left)
    joined = '\n'.join('%s  %s' % (a.ljust(width), b) for a, b in zip(left, right)) + '\n'
    assert esxcli.parse_satp_rules(joined) == esxcli.parse_satp_rules(fixture('satp_rule_list_lio_user_rule.txt'))


def test_column_groups_of_different_lengths_are_an_error():
    text = fixture('satp_rule_list_netapp_vsphere7.txt') + 'user        tpgs_on        VMW_PSP_MRU\n'
    with pytest.raises(ValueError, match='different numbers of rows'):
        esxcli.parse_table(text)


def test_vib_list():
    assert esxcli.parse_vibs(fixture('vib_list_esxi50_elatov.txt')) == [{
        'name': 'lsiprovider', 'version': '500.04.V0.32-0003', 'vendor': 'LSI',
        'acceptance_level': 'VMwareAccepted', 'install_date': '2014-01-03'}]
    names = [v['name'] for v in esxcli.parse_vibs(fixture('vib_list_ofed_1824.txt'))]
    assert 'scsi-ib-srp' in names and len(names) == 11


def test_empty_output_is_no_rows_and_a_stray_line_an_error():
    assert esxcli.parse_table('') == []
    with pytest.raises(ValueError, match='before the table header'):
        esxcli.parse_vibs('Usage: esxcli software vib {cmd} [cmd options]\n')


def test_nmp_device_list():
    devices = esxcli.parse_nmp_devices(fixture('nmp_device_list_netapp_vsphere7.txt'))
    assert devices == {'naa.600a098038313530772b4d673979372f': {
        'display_name': 'NETAPP Fibre Channel Disk (naa.600a098038313530772b4d673979372f)',
        'satp': 'VMW_SATP_ALUA', 'psp': 'VMW_PSP_RR', 'working_paths': ['vmhba3:C0:T3:L21', 'vmhba4:C0:T2:L21']}}
    lio = esxcli.parse_nmp_devices(fixture('nmp_device_list_lio_local.txt'))
    assert sorted((name, d['satp'], d['psp']) for name, d in lio.items()) == [
        ('naa.6001405ab10000000000000000000000', 'VMW_SATP_LOCAL', 'VMW_PSP_FIXED'),
        ('naa.6001405ab20000000000000000000000', 'VMW_SATP_LOCAL', 'VMW_PSP_FIXED'),
        ('naa.600605b001f819701a2d10d113694cbf', 'VMW_SATP_LOCAL', 'VMW_PSP_FIXED')]


def test_core_device_list_vendor_is_stripped():
    devices = esxcli.parse_core_devices(fixture('core_device_list_esxi50_elatov.txt'))
    assert devices['naa.600605b001f819701a2d10d113694cbf']['vendor'] == 'LSI'
    assert devices['naa.600605b001f819701a2d10d113694cbf']['model'] == 'MegaRAID 8704ELP'
    lio = esxcli.parse_core_devices(fixture('core_device_list_lio.txt'))
    assert sorted(n for n, d in lio.items() if d['vendor'] == 'LIO-ORG') == [
        'naa.6001405ab10000000000000000000000', 'naa.6001405ab20000000000000000000000']


def test_blocks_refuse_a_field_before_a_record():
    with pytest.raises(ValueError):
        esxcli.parse_blocks('   Vendor: LSI\n')


def test_rule_options_are_esxclis_long_options():
    rule = dict(satp='VMW_SATP_ALUA', vendor='LIO-ORG', model='', claim_options='tpgs_on', psp='VMW_PSP_MRU',
                psp_options='', description='rdma.ha_storage LIO SRP pair')
    assert esxcli.rule_options(rule) == ['--satp=VMW_SATP_ALUA', '--vendor=LIO-ORG', '--claim-option=tpgs_on',
                                         '--psp=VMW_PSP_MRU', '--description=rdma.ha_storage LIO SRP pair']
    assert esxcli.Esxcli.remote_command(['storage', 'nmp', 'satp', 'rule', 'add'] + esxcli.rule_options(rule)) == (
        "esxcli storage nmp satp rule add --satp=VMW_SATP_ALUA --vendor=LIO-ORG --claim-option=tpgs_on "
        "--psp=VMW_PSP_MRU '--description=rdma.ha_storage LIO SRP pair'")


PARAMS = dict(esx_host='esx-1.example.net', esx_user='root', esx_port=22, ssh_private_key_file=None,
              ssh_strict_host_key_checking='yes', ssh_timeout=10)


class FakeModule(object):
    check_mode = False

    def __init__(self, mock):
        self.mock = mock

    def get_bin_path(self, name, required=False, opt_dirs=None):
        return '/usr/bin/' + name

    def run_command(self, args, **kwargs):
        return self.mock(args, **kwargs)


def test_the_ssh_argv_and_options():
    params = dict(PARAMS, esx_port=2222, ssh_private_key_file='/keys/esx', ssh_strict_host_key_checking='accept-new',
                  ssh_timeout=5)
    mock = RunCommandMock([call(['/usr/bin/ssh', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=5', '-p', '2222',
                                 '-i', '/keys/esx', '-o', 'StrictHostKeyChecking=accept-new', '--',
                                 'root@esx-1.example.net', 'esxcli software vib list'],
                                out=fixture('vib_list_esxi50_elatov.txt'))])
    assert esxcli.Esxcli(FakeModule(mock), params).vibs()[0]['name'] == 'lsiprovider'
    mock.assert_done()


@pytest.mark.parametrize('stderr, words', [
    ('root@esx-1.example.net: Permission denied (publickey,keyboard-interactive).\r\n',
     'the login was refused: put the controller\'s public key into /etc/ssh/keys-root/authorized_keys'),
    ('Host key verification failed.\r\n', 'its SSH host key is not the one the controller knows'),
    ('ssh: connect to host esx-1.example.net port 22: Connection refused\r\n', 'start the host\'s SSH service'),
    ('ssh: connect to host esx-1.example.net port 22: Connection timed out\r\n', 'unreachable'),
    ('ssh: Could not resolve hostname esx-1.example.net: Name or service not known\r\n', 'the name does not resolve'),
])
def test_ssh_failures_are_one_message_naming_the_host(stderr, words):
    mock = RunCommandMock([call(['/usr/bin/ssh', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10', '-o',
                                 'StrictHostKeyChecking=yes', '--', 'root@esx-1.example.net',
                                 'esxcli storage nmp satp rule list'], rc=255, err=stderr)])
    with pytest.raises(esxcli.SshError) as info:
        esxcli.Esxcli(FakeModule(mock), PARAMS).satp_rules()
    assert info.value.msg.startswith('esx-1.example.net: ssh as root failed: ')
    assert words in info.value.msg and '\n' not in info.value.msg
    assert info.value.fail_kwargs()['rc'] == 255


def test_an_esxcli_failure_says_the_command_and_esxclis_words():
    mock = RunCommandMock([call(['/usr/bin/ssh', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10', '-o',
                                 'StrictHostKeyChecking=yes', '--', 'root@esx-1.example.net',
                                 'esxcli storage core claiming reclaim --device=naa.1'], rc=1,
                                out='Unable to reclaim naa.1 (test text, not recorded)\n')])
    with pytest.raises(esxcli.EsxcliCommandError) as info:
        esxcli.Esxcli(FakeModule(mock), PARAMS).reclaim('naa.1')
    assert info.value.output == 'Unable to reclaim naa.1 (test text, not recorded)'
    assert info.value.msg == ('esx-1.example.net: esxcli storage core claiming reclaim --device=naa.1 failed (rc 1): '
                              'Unable to reclaim naa.1 (test text, not recorded)')


def test_unreadable_output_is_a_parse_error_naming_the_host():
    mock = RunCommandMock([call(['/usr/bin/ssh', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10', '-o',
                                 'StrictHostKeyChecking=yes', '--', 'root@esx-1.example.net',
                                 'esxcli storage nmp device list'], out='naa.1\n   no colon here\n')])
    with pytest.raises(esxcli.EsxcliParseError, match='^esx-1.example.net: cannot read the output of esxcli'):
        esxcli.Esxcli(FakeModule(mock), PARAMS).nmp_devices()


def test_check_mode_does_not_run_a_change():
    module = FakeModule(RunCommandMock())
    module.check_mode = True
    cli = esxcli.Esxcli(module, PARAMS)
    assert cli.reclaim('naa.1').skipped
    assert cli.changes_run == ['esxcli storage core claiming reclaim --device=naa.1']


def test_no_ssh_client_says_what_to_install(monkeypatch):
    patch_module(monkeypatch, AnsibleModule, RunCommandMock(), missing=('ssh',))
    from ansible_collections.rdma.ha_storage.plugins.modules import esx_satp_rule
    done = run_main(esx_satp_rule, dict(esx_host='esx-1.example.net'))
    assert done.failed and done.result['msg'].startswith('ssh not found on this host: install openssh-client')
