# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a module's main() in a unit test with its commands answered by the test.

tests/conftest.py puts tests/ on sys.path, so unit tests import this as `module_harness`.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleExit(Exception):
    """Raised instead of exit_json / fail_json; carries the result and whether it failed."""

    def __init__(self, result, failed):
        super(ModuleExit, self).__init__(result.get('msg'))
        self.result = result
        self.failed = failed


def patch_module(monkeypatch, module_class, run_command):
    """Make module_class.exit_json/fail_json raise ModuleExit, answer run_command with
    run_command(cmd, data) and find every binary in /usr/sbin."""

    def fake_run_command(self, cmd, data=None, **kwargs):
        return run_command(cmd, data)

    def fake_exit(self, **kwargs):
        raise ModuleExit(kwargs, False)

    def fake_fail(self, **kwargs):
        raise ModuleExit(kwargs, True)

    monkeypatch.setattr(module_class, 'run_command', fake_run_command)
    monkeypatch.setattr(module_class, 'exit_json', fake_exit)
    monkeypatch.setattr(module_class, 'fail_json', fake_fail)
    monkeypatch.setattr(module_class, 'get_bin_path',
                        lambda self, name, required=False, opt_dirs=None: '/usr/sbin/' + name)


def table_answer(table, calls):
    """A run_command answer for patch_module: looks the argv after the binary (a tuple) up in
    table, which maps it to (rc, stdout, stderr), and records the tuple in calls. A command not
    in the table fails the test."""

    def answer(cmd, data):
        key = tuple(cmd[1:])
        calls.append(key)
        if key not in table:
            raise AssertionError('unexpected command %r' % (cmd,))
        return table[key]

    return answer


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


def run_main(module, args):
    """Run module.main() with args as its module arguments (patch_module must have replaced
    exit_json/fail_json) and return the ModuleExit it ended with."""
    with module_args(args):
        try:
            module.main()
        except ModuleExit as exc:
            return exc
    raise AssertionError('%s.main() returned without exit_json or fail_json' % module.__name__)
