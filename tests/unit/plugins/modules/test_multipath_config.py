# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""multipath_config: multipath -t reads the candidate in a private mount namespace before anything
is installed; its complaints on stderr (it exits 0 anyway) refuse the candidate.

The first tests pin the whole command (unshare, the script, its arguments, the candidate on
stdin). The last one runs the real script under unshare with a stand-in for multipath that
reads the configuration from the overlaid directory, when this machine allows a mount namespace."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import stat
import subprocess

import pytest

from ansible_collections.rdma.ha_storage.plugins.modules import multipath_config
from module_harness import RunCommandMock, call, patch_module, run_main

GOOD = 'defaults {\n    user_friendly_names no\n}\n'
BAD = 'defaults {\n    user_friendly_names no\n    no_such_keyword 1\n}\n'
# what multipath-tools 0.9.4 (Debian 12) printed for such a file, measured in a container
BAD_STDERR = ('12819.737306 | /etc/multipath.conf line 3, invalid keyword in the defaults section: no_such_keyword\n'
              '12819.737624 | /etc/multipath.conf line 4, invalid value for find_multipaths: "bogus"\n')


@pytest.fixture
def task(monkeypatch, tmp_path):
    etc = tmp_path / 'etc'
    etc.mkdir()
    private = tmp_path / 'private'
    mock = RunCommandMock()
    patch_module(monkeypatch, multipath_config.AnsibleModule, mock)
    monkeypatch.setattr(multipath_config.MultipathConfig, 'OWNER', (os.getuid(), os.getgid()))

    def mkdtemp(prefix=''):
        private.mkdir()
        return str(private)
    monkeypatch.setattr(multipath_config.tempfile, 'mkdtemp', mkdtemp)
    conf = etc / 'multipath.conf'

    def expect(content, rc=0, err=''):
        mock.add(call(['/usr/sbin/unshare', '--mount', '--propagation', 'private', '--', '/bin/sh', '-c',
                       multipath_config.VALIDATE_SCRIPT, 'multipath_config', str(private), str(etc), 'multipath.conf',
                       '/usr/sbin/multipath'], rc=rc, err=err, data=content))

    def run(content, check_mode=False, diff=False, **args):
        full = dict(content=content, path=str(conf))
        full.update(args)
        if check_mode:
            full['_ansible_check_mode'] = True
        if diff:
            full['_ansible_diff'] = True
        return run_main(multipath_config, full, mock)
    return conf, private, expect, run


def test_valid_candidate_is_installed_then_idempotent(task):
    conf, private, expect, run = task
    expect(GOOD)
    res = run(GOOD, diff=True)
    assert not res.failed and res.result['changed'] and res.result['validated']
    assert conf.read_text() == GOOD and stat.S_IMODE(conf.stat().st_mode) == 0o644
    assert res.result['diff']['before_header'].endswith('(absent)') and res.result['diff']['after'] == GOOD
    assert not private.exists()      # the private mount point is removed
    expect(GOOD)
    assert run(GOOD).result['changed'] is False
    assert os.listdir(str(conf.parent)) == ['multipath.conf']


def test_rejected_candidate_is_never_installed_and_multipath_is_quoted(task):
    conf, private, expect, run = task
    conf.write_text(GOOD)
    expect(BAD, err=BAD_STDERR)
    res = run(BAD)
    assert res.failed
    assert res.result['msg'] == (
        'multipath rejected the configuration (nothing was installed in %s): /etc/multipath.conf line 3, invalid keyword '
        'in the defaults section: no_such_keyword; /etc/multipath.conf line 4, invalid value for find_multipaths: "bogus"' % conf)
    assert res.result['stderr'] == BAD_STDERR and len(res.result['problems']) == 2
    assert conf.read_text() == GOOD


def test_ignored_messages(task):
    conf, private, expect, run = task
    expect(BAD, err=BAD_STDERR)
    res = run(BAD, ignore_messages=['no_such_keyword', 'find_multipaths'])
    assert not res.failed and conf.read_text() == BAD
    assert res.result['messages'][0] == '/etc/multipath.conf line 3, invalid keyword in the defaults section: no_such_keyword'


def test_check_mode_validates_and_installs_nothing(task):
    conf, private, expect, run = task
    expect(GOOD)
    res = run(GOOD, check_mode=True)
    assert res.result['changed'] and not conf.exists()
    expect(BAD, err=BAD_STDERR)
    assert run(BAD, check_mode=True).failed


def test_no_mount_namespace_is_an_error_that_says_why(task):
    conf, private, expect, run = task
    expect(GOOD, rc=1, err='unshare: unshare failed: Operation not permitted\n')
    res = run(GOOD)
    assert res.failed and not conf.exists()
    assert 'could not validate %s' % conf in res.result['msg']
    assert 'unshare: unshare failed: Operation not permitted' in res.result['msg']
    assert 'CAP_SYS_ADMIN' in res.result['msg'] and res.result['rc'] == 1


def test_validate_false_runs_nothing(task):
    conf, private, expect, run = task
    res = run(BAD, validate=False)
    assert not res.failed and res.result['validated'] is False and conf.read_text() == BAD


def test_multipath_missing(task, monkeypatch):
    conf, private, expect, run = task
    patch_module(monkeypatch, multipath_config.AnsibleModule, RunCommandMock(), missing=('multipath',))
    res = run(GOOD)
    assert res.failed and res.result['msg'] == 'multipath not found on this host: install multipath-tools'


def test_check_mode_before_multipath_is_installed_warns(task, monkeypatch):
    conf, private, expect, run = task
    patch_module(monkeypatch, multipath_config.AnsibleModule, RunCommandMock(), missing=('multipath',))
    warnings = []
    monkeypatch.setattr(multipath_config.AnsibleModule, 'warn', lambda self, text: warnings.append(text))
    res = run(GOOD, check_mode=True)
    assert not res.failed and res.result['changed'] and res.result['validated'] is False
    assert len(warnings) == 1 and 'not validated in this check-mode run' in warnings[0]


def test_mode_is_corrected(task):
    conf, private, expect, run = task
    conf.write_text(GOOD)
    conf.chmod(0o600)
    expect(GOOD)
    assert run(GOOD).result['changed'] is True
    assert stat.S_IMODE(conf.stat().st_mode) == 0o644


@pytest.mark.parametrize('args,message', [
    ({'path': '/no/such/dir/multipath.conf'}, 'the directory /no/such/dir does not exist'),
    ({'ignore_messages': ['(']}, "ignore_messages[0]: '(' is not a regular expression"),
])
def test_bad_parameters(task, args, message):
    conf, private, expect, run = task
    res = run(GOOD, **args)
    assert res.failed and message in res.result['msg']


def _namespaces_allowed():
    try:
        return subprocess.run(['unshare', '--mount', '--propagation', 'private', '--', 'true'],
                              capture_output=True, timeout=10, check=False).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


@pytest.mark.skipif(not _namespaces_allowed(), reason='no private mount namespace here (unshare --mount refused)')
def test_the_validation_script_under_unshare(tmp_path):
    """The real script: the stand-in multipath sees the candidate at the installed path (and the other
    files of the directory), complains on stderr and exits 0 like multipath; outside the namespace
    nothing changed."""
    etc = tmp_path / 'etc'
    etc.mkdir()
    (etc / 'multipath.conf').write_text(GOOD)
    (etc / 'other.conf').write_text('other\n')
    fake = tmp_path / 'multipath'
    fake.write_text('#!/bin/sh\n'
                    'test "$1" = -t || exit 3\n'
                    'cat %(etc)s/other.conf >&2\n'
                    'grep -n no_such_keyword %(etc)s/multipath.conf | sed "s|^\\([0-9]*\\):.*|1.2 \\| %(etc)s/multipath.conf line \\1, '
                    'invalid keyword|" >&2\n'
                    'echo "the dump goes to stdout"\n' % {'etc': etc})
    fake.chmod(0o755)
    private = tmp_path / 'private'
    private.mkdir()
    proc = subprocess.run(['unshare', '--mount', '--propagation', 'private', '--', '/bin/sh', '-c',
                           multipath_config.VALIDATE_SCRIPT, 'multipath_config', str(private), str(etc),
                           'multipath.conf', str(fake)], input=BAD + '\n', capture_output=True, text=True, timeout=30, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ''
    assert multipath_config.multipath_messages(proc.stderr) == ['other', '%s/multipath.conf line 3, invalid keyword' % etc]
    assert (etc / 'multipath.conf').read_text() == GOOD and sorted(os.listdir(str(etc))) == ['multipath.conf', 'other.conf']
    assert os.listdir(str(private)) == []
