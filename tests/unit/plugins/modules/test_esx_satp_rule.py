# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""esx_satp_rule, run for real (AnsibleModule.run_command, a subprocess) against a fake `ssh` put
first on PATH. The fake answers each remote esxcli command line with a recorded public output
(fixtures/esxcli/, README.md there says where each comes from), moves a small state machine on
(the rule list after `rule add` is another file) and records every call, so that the tests pin the
exact commands, that check mode runs no change, and that a second run changes nothing."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import stat
import sys

import pytest

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.rdma.ha_storage.plugins.modules import esx_satp_rule
from module_harness import ModuleExit, module_args

FIXTURES = os.path.join(os.path.dirname(__file__), 'fixtures', 'esxcli')
HOST = 'esx-1.example.net'
SSH_PREFIX = ['-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10', '-o', 'StrictHostKeyChecking=yes', '--', 'root@' + HOST]
LIO1, LIO2 = 'naa.6001405ab10000000000000000000000', 'naa.6001405ab20000000000000000000000'

VIBS = 'esxcli software vib list'
RULES = 'esxcli storage nmp satp rule list'
NMP = 'esxcli storage nmp device list'
CORE = 'esxcli storage core device list'
ADD = ("esxcli storage nmp satp rule add --satp=VMW_SATP_ALUA --vendor=LIO-ORG --claim-option=tpgs_on "
       "--psp=VMW_PSP_MRU '--description=rdma.ha_storage LIO SRP pair'")
REMOVE = ADD.replace(' add ', ' remove ')
RECLAIM = 'esxcli storage core claiming reclaim --device=%s'

FAKE_SSH = r'''#!%(python)s
"""A fake ssh: answers the remote command (the last argument) from a scenario, records the call."""
import json, os, sys
scenario_file = os.environ['FAKE_ESX_SCENARIO']
with open(scenario_file) as f:
    scenario = json.load(f)
with open(os.environ['FAKE_ESX_CALLS'], 'a') as f:
    f.write(json.dumps(sys.argv[1:]) + '\n')
if scenario.get('ssh'):
    sys.stderr.write(scenario['ssh']['err'])
    sys.exit(scenario['ssh']['rc'])
command = sys.argv[-1]
state = scenario['state']
answer = scenario['answers'].get(state, {}).get(command) or scenario['answers'].get('*', {}).get(command)
if answer is None:
    sys.stderr.write('fake ssh: no recorded answer for %%r in state %%r\n' %% (command, state))
    sys.exit(127)
if answer.get('out'):
    with open(os.path.join(os.environ['FAKE_ESX_FIXTURES'], answer['out'])) as f:
        sys.stdout.write(f.read())
sys.stderr.write(answer.get('err', ''))
if answer.get('then'):
    scenario['state'] = answer['then']
    with open(scenario_file, 'w') as f:
        json.dump(scenario, f)
sys.exit(answer.get('rc', 0))
'''


class FakeEsx(object):
    """The fake ssh and its scenario: state -> {remote command: answer}; '*' answers in any state."""

    def __init__(self, tmp_path, monkeypatch):
        self.bin = tmp_path / 'bin'
        self.bin.mkdir()
        ssh = self.bin / 'ssh'
        ssh.write_text(FAKE_SSH % dict(python=sys.executable))
        ssh.chmod(ssh.stat().st_mode | stat.S_IXUSR)
        self.scenario = tmp_path / 'scenario.json'
        self.calls_file = tmp_path / 'calls.jsonl'
        self.calls_file.write_text('')
        monkeypatch.setenv('PATH', '%s%s%s' % (self.bin, os.pathsep, os.environ.get('PATH', '')))
        monkeypatch.setenv('FAKE_ESX_SCENARIO', str(self.scenario))
        monkeypatch.setenv('FAKE_ESX_CALLS', str(self.calls_file))
        monkeypatch.setenv('FAKE_ESX_FIXTURES', FIXTURES)
        self.set('start', {})

    def set(self, state, answers, ssh=None):
        data = dict(state=state, answers=answers)
        if ssh:
            data['ssh'] = ssh
        self.scenario.write_text(json.dumps(data))

    @property
    def state(self):
        return json.loads(self.scenario.read_text())['state']

    def calls(self):
        """The remote commands run since the last call of calls(), each checked for the ssh options."""
        lines = [json.loads(line) for line in self.calls_file.read_text().splitlines() if line]
        self.calls_file.write_text('')
        for argv in lines:
            assert argv[:-1] == SSH_PREFIX, argv
        return [argv[-1] for argv in lines]


WARNINGS = []


@pytest.fixture
def esx(tmp_path, monkeypatch):
    def fake_exit(self, **kwargs):
        raise ModuleExit(kwargs, False)

    def fake_fail(self, **kwargs):
        raise ModuleExit(kwargs, True)

    monkeypatch.setattr(AnsibleModule, 'exit_json', fake_exit)
    monkeypatch.setattr(AnsibleModule, 'fail_json', fake_fail)
    monkeypatch.setattr(AnsibleModule, 'warn', lambda self, text: WARNINGS.append(text))
    del WARNINGS[:]
    return FakeEsx(tmp_path, monkeypatch)


def run(args, check=False, diff=True):
    full = dict(esx_host=HOST, _ansible_check_mode=check, _ansible_diff=diff)
    full.update(args)
    with module_args(full):
        try:
            esx_satp_rule.main()
        except ModuleExit as exc:
            return exc
    raise AssertionError('main() returned without exit_json or fail_json')


def host_without_rule(reclaim_fails=False):
    """A host with OFED 1.8.2.4, the NetApp rule only, two LIO LUNs claimed by VMW_SATP_LOCAL."""
    busy = dict(rc=1, out=None, err='Unable to unclaim all paths on device %s (test text, not recorded)\n' % LIO2)
    return {
        '*': {VIBS: dict(out='vib_list_ofed_1824.txt'), CORE: dict(out='core_device_list_lio.txt')},
        'start': {RULES: dict(out='satp_rule_list_netapp_vsphere7.txt'), ADD: dict(then='ruled'),
                  NMP: dict(out='nmp_device_list_lio_local.txt')},
        'ruled': {RULES: dict(out='satp_rule_list_lio_user_rule.txt'), NMP: dict(out='nmp_device_list_lio_local.txt'),
                  RECLAIM % LIO1: dict(then='one'), REMOVE: dict(then='start')},
        'one': {RULES: dict(out='satp_rule_list_lio_user_rule.txt'),
                NMP: dict(out='nmp_device_list_lio_one_reclaimed.txt'),
                RECLAIM % LIO2: busy if reclaim_fails else dict(then='both')},
        'both': {RULES: dict(out='satp_rule_list_lio_user_rule.txt'), NMP: dict(out='nmp_device_list_lio_alua.txt')},
    }


def test_check_mode_runs_no_change_and_says_what_would(esx):
    esx.set('start', host_without_rule())
    done = run(dict(reclaim=True), check=True)
    assert not done.failed, done.result
    assert done.result['changed'] and done.result['added']
    assert done.result['reclaimed'] == [LIO1, LIO2]
    assert done.result['commands'] == [ADD, RECLAIM % LIO1, RECLAIM % LIO2]
    assert esx.calls() == [VIBS, RULES, NMP, CORE]      # reads only
    assert esx.state == 'start'
    assert done.result['diff']['before'] == ''
    assert done.result['diff']['after'] == ("VMW_SATP_ALUA vendor=LIO-ORG claim_options=tpgs_on psp=VMW_PSP_MRU "
                                            "rule_group=user description='rdma.ha_storage LIO SRP pair'\n")


def test_adds_the_rule_reclaims_then_changes_nothing(esx):
    esx.set('start', host_without_rule())
    done = run(dict(reclaim=True))
    assert not done.failed, done.result
    assert esx.calls() == [VIBS, RULES, ADD, RULES, NMP, CORE, RECLAIM % LIO1, RECLAIM % LIO2, NMP]
    assert done.result['changed'] and done.result['added'] and done.result['removed'] == []
    assert done.result['reclaimed'] == [LIO1, LIO2] and done.result['not_reclaimed'] == []
    assert [r['vendor'] for r in done.result['vendor_rules']] == ['LIO-ORG']
    assert [v['name'] for v in done.result['vibs']][0] == 'scsi-ib-srp'
    assert esx.state == 'both'

    again = run(dict(reclaim=True))
    assert not again.failed and not again.result['changed'], again.result
    assert esx.calls() == [VIBS, RULES, NMP, CORE]
    assert again.result['commands'] == [] and again.result['diff']['before'] == again.result['diff']['after']


def test_a_busy_device_is_reported_with_the_advice_not_a_traceback(esx):
    esx.set('start', host_without_rule(reclaim_fails=True))
    done = run(dict(reclaim=True))
    assert not done.failed, done.result
    assert done.result['reclaimed'] == [LIO1]
    [busy] = done.result['not_reclaimed']
    assert busy['device'] == LIO2 and busy['satp'] == 'VMW_SATP_LOCAL'
    assert busy['error'] == 'Unable to unclaim all paths on device %s (test text, not recorded)' % LIO2
    assert 'unmount its VMFS datastore' in busy['advice'] and 'reboot' in busy['advice']
    assert [w for w in WARNINGS if LIO2 in w and 'could not be reclaimed' in w]


def test_reclaim_of_named_devices_only(esx):
    esx.set('ruled', host_without_rule())
    done = run(dict(reclaim=[LIO1]))
    assert not done.failed, done.result
    assert esx.calls() == [VIBS, RULES, NMP, RECLAIM % LIO1, NMP]
    assert done.result['reclaimed'] == [LIO1] and not done.result['added']


def test_reclaim_of_a_device_that_is_not_there_names_those_that_are(esx):
    esx.set('ruled', host_without_rule())
    done = run(dict(reclaim=['naa.6001405ff']))
    assert done.failed
    assert done.result['msg'].startswith('%s: reclaim: no NMP device naa.6001405ff (its NMP devices: ' % HOST)


def test_absent_removes_only_this_modules_rule(esx):
    esx.set('ruled', host_without_rule())
    done = run(dict(state='absent'))
    assert not done.failed, done.result
    assert esx.calls() == [RULES, REMOVE, RULES]
    assert done.result['changed'] and done.result['removed'][0]['description'] == 'rdma.ha_storage LIO SRP pair'
    again = run(dict(state='absent'))
    assert not again.result['changed'] and esx.calls() == [RULES]


def test_a_foreign_rule_for_the_vendor_is_never_replaced(esx):
    esx.set('start', {'*': {VIBS: dict(out='vib_list_ofed_1824.txt'),
                            RULES: dict(out='satp_rule_list_lio_foreign_rule.txt')}})
    done = run({})
    assert done.failed
    assert done.result['msg'].startswith("%s: vendor LIO-ORG already has a rule that is not this module's: "
                                         "VMW_SATP_ALUA vendor=LIO-ORG claim_options=tpgs_on psp=VMW_PSP_RR "
                                         "psp_options=iops=1 rule_group=user description='LIO targets'." % HOST)
    assert esx.calls() == [VIBS, RULES]
    absent = run(dict(state='absent'))
    assert not absent.failed and not absent.result['changed'] and esx.calls() == [RULES]


def test_this_modules_rule_with_another_psp_is_replaced(esx):
    answers = host_without_rule()
    remove_mru = REMOVE
    add_fixed = ADD.replace('VMW_PSP_MRU', 'VMW_PSP_FIXED')
    answers['ruled'] = {RULES: dict(out='satp_rule_list_lio_user_rule.txt'), remove_mru: dict(then='start')}
    answers['start'][add_fixed] = dict(then='fixed')
    answers['fixed'] = {RULES: dict(out='satp_rule_list_netapp_vsphere7.txt')}
    esx.set('ruled', answers)
    done = run(dict(psp='VMW_PSP_FIXED'))
    # the fake's rule list after the add is the NetApp one (no FIXED file recorded): the module says so
    assert esx.calls() == [VIBS, RULES, remove_mru, add_fixed, RULES]
    assert done.failed and 'is not in the rule list after esxcli added it' in done.result['msg']


def test_missing_srp_vibs_fail_naming_the_host_and_the_bundle(esx):
    esx.set('start', {'*': {VIBS: dict(out='vib_list_esxi50_elatov.txt')}})
    done = run({})
    assert done.failed
    assert done.result['msg'].startswith('%s: the VIB(s) scsi-ib-srp, net-ib-core, net-ib-cm' % HOST)
    assert "Mellanox's OFED driver bundle for ESXi 5.x/6.0" in done.result['msg']
    assert esx.calls() == [VIBS]


def test_an_unknown_satp_fails_with_esxclis_words(esx):
    add = ADD.replace('VMW_SATP_ALUA', 'VMW_SATP_NOPE')
    said = 'Error adding SATP user rule: SATP VMW_SATP_NOPE not found (test text, not recorded)'
    esx.set('start', {'*': {VIBS: dict(out='vib_list_ofed_1824.txt'), RULES: dict(out='satp_rule_list_netapp_vsphere7.txt'),
                            add: dict(rc=1, err=said + '\n')}})
    done = run(dict(satp='VMW_SATP_NOPE'))
    assert done.failed
    assert done.result['msg'] == '%s: %s failed (rc 1): %s' % (HOST, add, said)
    assert done.result['rc'] == 1 and 'Traceback' not in done.result['msg']


def test_ssh_permission_denied_is_one_message_naming_the_host(esx):
    esx.set('start', {}, ssh=dict(rc=255, err='root@%s: Permission denied (publickey,keyboard-interactive).\r\n' % HOST))
    done = run({})
    assert done.failed
    assert done.result['msg'].startswith('%s: ssh as root failed: the login was refused: put the controller\'s public '
                                         'key into /etc/ssh/keys-root/authorized_keys' % HOST)
    assert done.result['rc'] == 255


def test_reclaim_must_be_a_boolean_or_a_list(esx):
    done = run(dict(reclaim='sometimes', required_vibs=[]))
    assert done.failed and "reclaim: 'sometimes' is neither a boolean nor a list" in done.result['msg']
    assert esx.calls() == []
