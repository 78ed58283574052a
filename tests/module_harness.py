# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a module's main() in a unit test with its commands answered by the test.

tests/conftest.py puts tests/ on sys.path, so unit tests import this as `module_harness`.

RunCommandMock (in the spirit of community.general's tests) answers AnsibleModule.run_command
from a list of expected calls and asserts, call by call and in order, the WHOLE argv (binary
path included), the environ_update and the data of each; a call that is not expected, or an
expected call that did not come, fails the test.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

# Where patch_module finds every binary, and the environment every runner call carries.
BIN = '/usr/sbin/'
C_LOCALE = {'LC_ALL': 'C', 'LANG': 'C', 'LANGUAGE': 'C'}


class ModuleExit(Exception):
    """Raised instead of exit_json / fail_json; carries the result and whether it failed."""

    def __init__(self, result, failed):
        super(ModuleExit, self).__init__(result.get('msg'))
        self.result = result
        self.failed = failed


class Call(object):
    """One expected run_command call and its answer."""

    def __init__(self, argv, rc=0, out='', err='', environ=None, data=None, effect=None):
        self.argv = list(argv)
        self.environ = dict(C_LOCALE if environ is None else environ)
        self.data = data
        self.answer = (rc, out, err)
        self.effect = effect

    def __repr__(self):
        return 'Call(%r, environ=%r, data=%r)' % (self.argv, self.environ, self.data)


def call(argv, rc=0, out='', err='', environ=None, data=None, effect=None):
    """An expected call: argv is the whole command (binary path first); environ the whole
    environ_update (default: the C locale alone); data what goes to stdin; effect a function
    called (without arguments) when the command runs, for what the command does to the host."""
    return Call(argv, rc=rc, out=out, err=err, environ=environ, data=data, effect=effect)


def env(**extra):
    """The C locale plus extra variables: the environ_update of a runner with an environ."""
    value = dict(extra)
    value.update(C_LOCALE)
    return value


class RunCommandMock(object):
    """Answers run_command from `expected` (Call objects, consumed in order) and records every
    call as a dict (argv, environ, data, kwargs) in `calls`."""

    def __init__(self, expected=()):
        self.expected = list(expected)
        self.calls = []

    def add(self, *expected):
        self.expected.extend(expected)
        return self

    def __call__(self, args, data=None, environ_update=None, **kwargs):
        got = dict(argv=list(args), environ=dict(environ_update or {}), data=data, kwargs=kwargs)
        self.calls.append(got)
        assert kwargs.get('check_rc', False) is False, 'run_command with check_rc: %r' % (got,)
        assert not kwargs.get('use_unsafe_shell'), 'run_command through a shell: %r' % (got,)
        if not self.expected:
            raise AssertionError('unexpected command (none more expected): %r' % (got,))
        want = self.expected.pop(0)
        assert got['argv'] == want.argv, 'command #%d: argv %r, expected %r' % (
            len(self.calls), got['argv'], want.argv)
        assert got['environ'] == want.environ, 'command #%d %r: environ_update %r, expected %r' % (
            len(self.calls), got['argv'], got['environ'], want.environ)
        assert got['data'] == want.data, 'command #%d %r: data %r, expected %r' % (
            len(self.calls), got['argv'], got['data'], want.data)
        if want.effect is not None:
            want.effect()
        return want.answer

    def argvs(self):
        return [c['argv'] for c in self.calls]

    def assert_done(self):
        assert not self.expected, 'expected commands that did not run: %r' % (self.expected,)


def patch_module(monkeypatch, module_class, run_command, missing=()):
    """Make module_class.exit_json/fail_json raise ModuleExit, answer run_command and find every
    binary in /usr/sbin (except those named in missing: not installed).

    run_command is a RunCommandMock (it sees every keyword argument) or, for older tests, a
    function run_command(cmd, data)."""

    if isinstance(run_command, RunCommandMock):
        def fake_run_command(self, cmd, **kwargs):
            return run_command(cmd, **kwargs)
    else:
        def fake_run_command(self, cmd, data=None, **kwargs):
            return run_command(cmd, data)

    def fake_exit(self, **kwargs):
        raise ModuleExit(kwargs, False)

    def fake_fail(self, **kwargs):
        raise ModuleExit(kwargs, True)

    def fake_get_bin_path(self, name, required=False, opt_dirs=None):
        return None if name in missing else BIN + name

    monkeypatch.setattr(module_class, 'run_command', fake_run_command)
    monkeypatch.setattr(module_class, 'exit_json', fake_exit)
    monkeypatch.setattr(module_class, 'fail_json', fake_fail)
    monkeypatch.setattr(module_class, 'get_bin_path', fake_get_bin_path)


def module_args(args):
    """The context manager that hands args to the next AnsibleModule: ansible-core's
    patch_module_args (ansible.module_utils.testing, 2.19+), else the older way (basic._ANSIBLE_ARGS,
    the JSON a module reads on stdin), so that the unit tests run on the lowest ansible-core that
    meta/runtime.yml claims too. The only place that knows how."""
    try:
        from ansible.module_utils.testing import patch_module_args
    except ImportError:  # ansible-core < 2.19
        import json
        from unittest import mock
        from ansible.module_utils import basic

        return mock.patch.object(basic, '_ANSIBLE_ARGS', json.dumps({'ANSIBLE_MODULE_ARGS': args or {}}).encode())
    return patch_module_args(args)


def run_main(module, args, mock=None):
    """Run module.main() with args as its module arguments (patch_module must have replaced
    exit_json/fail_json) and return the ModuleExit it ended with. With mock (a RunCommandMock),
    also assert that every expected command ran."""
    with module_args(args):
        try:
            module.main()
        except ModuleExit as exc:
            if mock is not None:
                mock.assert_done()
            return exc
    raise AssertionError('%s.main() returned without exit_json or fail_json' % module.__name__)
