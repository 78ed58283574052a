# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/runner.py: argv, environment, masking in results and errors, typed errors,
check-mode skip, missing binary. The last test runs a real command through AnsibleModule."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.rdma.ha_storage.plugins.module_utils.runner import (
    C_LOCALE, MASK, CommandError, CommandResult, MissingBinaryError, Runner, RunnerError, command_line, exit_with,
    one_line)
from module_harness import RunCommandMock, call, env, module_args

SECRET = 'unit-not-a-secret-51d0'


class FakeModule(object):
    """What a Runner uses of AnsibleModule: run_command, get_bin_path, check_mode."""

    def __init__(self, mock, check_mode=False, bins=None):
        self.run_command = mock
        self.check_mode = check_mode
        self.bins = {'drbdadm': '/usr/sbin/drbdadm', 'modprobe': '/sbin/modprobe'} if bins is None else bins
        self.lookups = []

    def get_bin_path(self, name, required=False, opt_dirs=None):
        self.lookups.append((name, required, opt_dirs))
        return self.bins.get(name)


def test_argv_environment_and_data_of_a_call():
    mock = RunCommandMock([call(['/usr/sbin/drbdadm', '-c', '/etc/x.conf', 'create-md', 'vol0'], out='done\n',
                                data='no')])
    runner = Runner(FakeModule(mock), 'drbdadm', prefix=['-c', '/etc/x.conf'])
    result = runner.run(['create-md', 'vol0'], data='no')
    mock.assert_done()
    assert (result.cmd, result.rc, result.stdout, result.stderr, result.skipped) == (
        ['/usr/sbin/drbdadm', '-c', '/etc/x.conf', 'create-md', 'vol0'], 0, 'done\n', '', False)
    assert mock.calls[0]['environ'] == {'LC_ALL': 'C', 'LANG': 'C', 'LANGUAGE': 'C'} == C_LOCALE
    # never through a shell, never expanding $VARS or ~ in arguments, never failing by itself
    assert mock.calls[0]['kwargs'] == {'check_rc': False, 'binary_data': False, 'expand_user_and_vars': False}


def test_extra_environment_of_the_runner_and_the_call_and_the_c_locale_wins():
    mock = RunCommandMock([call(['/usr/sbin/drbdadm', 'dump', 'all'],
                                environ=env(DRBD_DRIVER_VERSION_OVERRIDE='8.4.0', EXTRA='1'))])
    runner = Runner(FakeModule(mock), 'drbdadm',
                    environ={'DRBD_DRIVER_VERSION_OVERRIDE': '8.4.0', 'LC_ALL': 'de_DE.UTF-8'})
    runner.run(['dump', 'all'], environ={'EXTRA': '1', 'LANGUAGE': 'de'})
    mock.assert_done()


def test_binary_is_looked_up_once_per_runner_with_its_directories():
    module = FakeModule(RunCommandMock([call(['/sbin/modprobe', '--', 'drbd'])] * 3))
    runner = Runner(module, 'modprobe', package='kmod', opt_dirs=['/sbin', '/usr/sbin'])
    for dummy in range(3):
        runner.run(['--', 'drbd'])
    assert module.lookups == [('modprobe', False, ['/sbin', '/usr/sbin'])]
    assert runner.path == '/sbin/modprobe' and runner.available()


def test_missing_binary_is_a_typed_error_naming_binary_and_package():
    mock = RunCommandMock()
    runner = Runner(FakeModule(mock, bins={}), 'wipefs', package='util-linux')
    assert not runner.available()
    with pytest.raises(MissingBinaryError) as info:
        runner.run(['--no-act', '/dev/sdb'])
    assert info.value.binary == 'wipefs' and info.value.package == 'util-linux'
    assert info.value.fail_kwargs() == {'msg': 'wipefs not found on this host: install util-linux'}
    assert isinstance(info.value, RunnerError)
    assert mock.calls == []
    # the package defaults to the binary's name
    assert Runner(FakeModule(mock, bins={}), 'blkid').package == 'blkid'


def test_non_zero_rc_raises_command_error_with_everything_for_fail_json():
    mock = RunCommandMock([call(['/usr/sbin/drbdadm', 'up', 'vol0'], rc=10, out='partial\n',
                                err='vol0: Failure: (102) Local address(port) already in use.\n')])
    with pytest.raises(CommandError) as info:
        Runner(FakeModule(mock), 'drbdadm').run(['up', 'vol0'])
    error = info.value
    assert error.fail_kwargs() == {
        'msg': 'drbdadm up vol0 failed (rc 10): vol0: Failure: (102) Local address(port) already in use.',
        'cmd': ['/usr/sbin/drbdadm', 'up', 'vol0'], 'rc': 10, 'stdout': 'partial\n',
        'stderr': 'vol0: Failure: (102) Local address(port) already in use.\n'}


def test_default_message_falls_back_to_stdout_then_to_nothing():
    mock = RunCommandMock([call(['/usr/sbin/drbdadm', 'x'], rc=1, out='only stdout\n'),
                           call(['/usr/sbin/drbdadm', 'x'], rc=2)])
    runner = Runner(FakeModule(mock), 'drbdadm')
    with pytest.raises(CommandError) as info:
        runner.run(['x'])
    assert info.value.msg == 'drbdadm x failed (rc 1): only stdout'
    with pytest.raises(CommandError) as info:
        runner.run(['x'])
    assert info.value.msg == 'drbdadm x failed (rc 2)'


def test_the_caller_names_the_fine_return_codes_and_the_message():
    mock = RunCommandMock([call(['/usr/sbin/blkid', '-p', '/dev/sdb'], rc=2),
                           call(['/usr/sbin/blkid', '-p', '/dev/sdb'], rc=4, err='bad\n'),
                           call(['/usr/sbin/blkid', '-p', '/dev/sdb'], rc=4)])
    runner = Runner(FakeModule(mock, bins={'blkid': '/usr/sbin/blkid'}), 'blkid')
    assert runner.run(['-p', '/dev/sdb'], ok_rcs=(0, 2, 8)).rc == 2
    with pytest.raises(CommandError) as info:
        runner.run(['-p', '/dev/sdb'], ok_rcs=(0, 2, 8), msg='blkid -p failed')
    assert info.value.msg == 'blkid -p failed' and info.value.rc == 4 and info.value.stderr == 'bad\n'
    assert runner.run(['-p', '/dev/sdb'], ok_rcs=None).rc == 4
    mock.assert_done()


def test_secrets_are_masked_in_results():
    mock = RunCommandMock([call(['/usr/sbin/drbdadm', '--secret=' + SECRET, 'x'], out='has %s\n' % SECRET,
                                err='and %s\n' % SECRET)])
    runner = Runner(FakeModule(mock), 'drbdadm', secrets=[SECRET, ''])
    result = runner.run(['--secret=' + SECRET, 'x'])
    # the real secret went to the command, the masked one comes back
    assert mock.calls[0]['argv'][1] == '--secret=' + SECRET
    assert result.cmd == ['/usr/sbin/drbdadm', '--secret=' + MASK, 'x']
    assert result.stdout == 'has ********\n' and result.stderr == 'and ********\n'
    assert result.as_dict() == {'cmd': result.cmd, 'rc': 0, 'stdout': result.stdout, 'stderr': result.stderr}


def test_secrets_are_masked_in_errors_and_their_messages():
    mock = RunCommandMock([call(['/usr/sbin/drbdadm', 'net', SECRET], rc=10, out=SECRET, err='rejected %s\n' % SECRET)] * 2)
    runner = Runner(FakeModule(mock), 'drbdadm', secrets=[SECRET])
    with pytest.raises(CommandError) as info:
        runner.run(['net', SECRET])
    text = repr(info.value.fail_kwargs())
    assert SECRET not in text
    assert info.value.msg == "drbdadm net '********' failed (rc 10): rejected ********"
    with pytest.raises(CommandError) as info:
        runner.run(['net', SECRET], msg='net with %s failed' % SECRET)
    assert info.value.msg == 'net with ******** failed'


def test_the_masker_hides_what_the_caller_does_not_know_by_value():
    mock = RunCommandMock([call(['/usr/sbin/drbdadm', 'x'], out='key=abc key=def\n')])
    runner = Runner(FakeModule(mock), 'drbdadm', masker=lambda text: text.replace('abc', MASK).replace('def', MASK))
    assert runner.run(['x']).stdout == 'key=******** key=********\n'
    assert runner.mask(None) is None and runner.mask('') == ''


def test_a_command_that_changes_state_is_skipped_in_check_mode():
    mock = RunCommandMock([call(['/usr/sbin/drbdadm', 'dump', 'vol0'], out='resource vol0 {}\n')])
    runner = Runner(FakeModule(mock, check_mode=True), 'drbdadm', secrets=[SECRET])
    skipped = runner.run(['up', 'vol0', SECRET], changes=True)
    assert (skipped.cmd, skipped.rc, skipped.stdout, skipped.stderr, skipped.skipped) == (
        ['/usr/sbin/drbdadm', 'up', 'vol0', MASK], 0, '', '', True)
    # a read runs in check mode too
    assert runner.run(['dump', 'vol0']).stdout == 'resource vol0 {}\n'
    mock.assert_done()
    assert [c['argv'] for c in mock.calls] == [['/usr/sbin/drbdadm', 'dump', 'vol0']]


def test_check_mode_skip_needs_no_installed_binary():
    mock = RunCommandMock()
    runner = Runner(FakeModule(mock, check_mode=True, bins={}), 'drbdadm', prefix=['-c', '/x.conf'])
    assert runner.run(['up', 'vol0'], changes=True).cmd == ['drbdadm', '-c', '/x.conf', 'up', 'vol0']
    with pytest.raises(MissingBinaryError):
        runner.run(['dump', 'vol0'])


def test_a_command_that_changes_state_runs_outside_check_mode():
    mock = RunCommandMock([call(['/usr/sbin/drbdadm', 'up', 'vol0'])])
    result = Runner(FakeModule(mock), 'drbdadm').run(['up', 'vol0'], changes=True)
    assert result.skipped is False and result.rc == 0
    mock.assert_done()


def test_command_error_from_a_result_and_helpers():
    result = CommandResult(['/usr/sbin/drbdsetup', 'status', '--json'], 0, 'not json', '')
    error = CommandError.from_result(result, 'cannot parse drbdsetup status --json: x')
    assert error.fail_kwargs() == {'msg': 'cannot parse drbdsetup status --json: x', 'cmd': result.cmd,
                                   'rc': 0, 'stdout': 'not json', 'stderr': ''}
    assert command_line(['/usr/sbin/drbdadm', 'a b', '--x=1']) == "/usr/sbin/drbdadm 'a b' --x=1"
    assert result.command_line == '/usr/sbin/drbdsetup status --json'
    assert one_line(' a\n  b\tc\n') == 'a b c'
    assert one_line('x' * 700, limit=10) == '...' + 'x' * 10
    assert one_line(None) == ''


def test_a_real_command_through_ansible_module_gets_the_c_locale():
    with module_args({}):
        module = AnsibleModule(argument_spec={})
    runner = Runner(module, 'env', package='coreutils', environ={'RDMA_RUNNER_TEST': SECRET}, secrets=[SECRET])
    result = runner.run([])
    lines = result.stdout.splitlines()
    for line in ('LC_ALL=C', 'LANG=C', 'LANGUAGE=C', 'RDMA_RUNNER_TEST=********'):
        assert line in lines
    with pytest.raises(CommandError) as info:
        Runner(module, 'false').run([])
    assert info.value.rc == 1 and info.value.cmd[0].endswith('/false')


class Ended(Exception):
    """exit_json / fail_json of ExitModule."""

    def __init__(self, how, kwargs):
        super(Ended, self).__init__(how)
        self.how, self.kwargs = how, kwargs


class ExitModule(object):
    def exit_json(self, **kwargs):
        raise Ended('exit', kwargs)

    def fail_json(self, **kwargs):
        raise Ended('fail', kwargs)


def test_exit_with_a_result():
    with pytest.raises(Ended) as ended:
        exit_with(ExitModule(), lambda: {'changed': True, 'x': 1})
    assert (ended.value.how, ended.value.kwargs) == ('exit', {'changed': True, 'x': 1})


def test_exit_with_turns_a_typed_error_into_fail_json_with_every_field_and_the_message_filter():
    def run():
        raise CommandError('drbdadm up vol0 failed (rc 10)', ['/usr/sbin/drbdadm', 'up', 'vol0'], 10, 'o', 'e')
    with pytest.raises(Ended) as ended:
        exit_with(ExitModule(), run, lambda msg: 'resource vol0: ' + msg)
    assert ended.value.how == 'fail'
    assert ended.value.kwargs == {'msg': 'resource vol0: drbdadm up vol0 failed (rc 10)',
                                  'cmd': ['/usr/sbin/drbdadm', 'up', 'vol0'], 'rc': 10, 'stdout': 'o', 'stderr': 'e'}


def test_exit_with_takes_further_typed_errors():
    class OtherError(Exception):
        def fail_kwargs(self):
            return {'msg': 'other', 'path': '/x'}

    def run():
        raise OtherError()
    with pytest.raises(Ended) as ended:
        exit_with(ExitModule(), run, errors=(OtherError,))
    assert (ended.value.how, ended.value.kwargs) == ('fail', {'msg': 'other', 'path': '/x'})
    with pytest.raises(OtherError):
        exit_with(ExitModule(), run)


def test_exit_with_lets_other_exceptions_through():
    def run():
        raise KeyError('a bug is a traceback, not a module failure')
    with pytest.raises(KeyError):
        exit_with(ExitModule(), run)
