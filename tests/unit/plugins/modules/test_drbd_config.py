# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""drbd_config: validate the whole resulting configuration with drbdadm, then install atomically.

Most tests answer drbdadm with FakeDrbdadm, which reads the validation drbd.conf the module
wrote, follows its include statements like drbdadm (globs, in order) and rejects a file with an
unknown option. The last tests run the real drbdadm when it is installed (Debian: drbd-utils).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import glob
import json
import os
import re
import shutil
import socket
import stat

import pytest

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.rdma.ha_storage.plugins.modules import drbd_config
from module_harness import C_LOCALE, RunCommandMock, env, patch_module, run_main

SECRET = 'unit-not-a-secret-7f3a'
GLOBAL = ('global { usage-count no; }\n'
          'common {\n    net {\n        cram-hmac-alg sha256;\n        shared-secret "%s";\n    }\n}\n')


def res_text(name, minor, host='stor-a', extra=''):
    return ('resource %s {\n    on %s {\n        device /dev/drbd%d minor %d;\n        disk /dev/sdb;\n'
            '        address ipv4 10.20.0.11:%d;\n        meta-disk internal;\n    }\n%s}\n'
            % (name, host, minor, minor, 7789 + minor, extra))


def files(secret=SECRET, vol0_extra='', global_extra=''):
    return [
        {'name': 'global_common.conf', 'content': (GLOBAL % secret).replace('    }\n}', '    %s}\n}' % global_extra), 'mode': '0600'},
        {'name': 'vol0.res', 'content': res_text('vol0', 0, extra=vol0_extra)},
        {'name': 'vol1.res', 'content': res_text('vol1', 1), 'mode': '0644'},
    ]


class FakeDrbdadm(object):
    """Answers `drbdadm -c CONF dump RES` from the files CONF includes.

    Include statements are followed like drbdadm does (measured with drbd-utils 9.22 in a
    Debian 12 container): globs expanded in sorted order, relative paths resolved next to the
    including file, recursively. A line with an unknown option ('no-such-option') is a parse
    error (rc 10); a resource defined nowhere is rc 1. It is more talkative than drbdadm on
    errors (it quotes the offending line and prints the dump so far on stdout) so that the
    tests can prove the module masks whatever drbdadm says.
    """

    INCLUDE = re.compile(r'^\s*include\s+"([^"]+)"\s*;', re.M)

    def __init__(self):
        self.calls = []

    def expand(self, path, out):
        with open(path) as handle:
            text = handle.read()
        out.append((path, text))
        for pattern in self.INCLUDE.findall(text):
            if not os.path.isabs(pattern):
                pattern = os.path.join(os.path.dirname(path), pattern)
            matches = sorted(glob.glob(pattern))
            if not matches and not glob.has_magic(pattern):
                raise IOError("%s: Failed to open include file '%s'." % (path, pattern))
            for match in matches:
                self.expand(match, out)

    def __call__(self, cmd, data=None, **kwargs):
        # the whole command: drbdadm -c <private copy>/drbd.conf dump RES, nothing on stdin
        conf, res = cmd[2], cmd[4]
        tmpdir = os.path.dirname(conf)
        assert cmd == ['/usr/sbin/drbdadm', '-c', os.path.join(tmpdir, 'drbd.conf'), 'dump', res], cmd
        assert data is None and kwargs['check_rc'] is False, kwargs
        # the validation copy is private
        assert stat.S_IMODE(os.stat(tmpdir).st_mode) == 0o700
        copy_dir = os.path.join(tmpdir, 'drbd.d')
        read = []
        try:
            self.expand(conf, read)
        except IOError as exc:
            return 10, '', '%s\n' % exc
        read = read[1:]  # conf itself
        self.calls.append({'argv': list(cmd), 'environ': dict(kwargs.get('environ_update') or {}),
                           'files': dict((os.path.basename(p), t) for p, t in read),
                           'order': [os.path.basename(p) for p, t in read],
                           'copy': sorted(os.listdir(copy_dir)), 'tmpdir': tmpdir})
        dump = ''.join(t for p, t in read)
        for path, text in read:
            for number, line in enumerate(text.splitlines(), 1):
                if 'no-such-option' in line:
                    return (10, dump, "%s:%d: Parse error: 'an option keyword' expected,\n\tbut got 'no-such-option' in %r\n"
                            % (path, number, line.strip()))
        if res != 'all' and not re.search(r'^resource\s+%s\s*\{' % re.escape(res), dump, re.M):
            return 1, '', "'%s' not defined in your config (for this host).\n" % res
        return 0, '# %s\n%s' % (conf, dump), ''


@pytest.fixture
def drbdadm(monkeypatch):
    fake = FakeDrbdadm()
    patch_module(monkeypatch, AnsibleModule, RunCommandMock())
    monkeypatch.setattr(AnsibleModule, 'run_command', lambda self, cmd, data=None, **kwargs: fake(cmd, data, **kwargs))
    # files are installed owned by root:root; as root (the project's test machines) this is
    # exactly that, without root the test user stands in for root
    monkeypatch.setattr(drbd_config.DrbdConfig, 'OWNER', (os.geteuid(), os.getegid()))
    return fake


@pytest.fixture
def confdir(tmp_path):
    return tmp_path / 'drbd.d'


def run(args, check=False, diff=True):
    base = {'_ansible_check_mode': check, '_ansible_diff': diff}
    base.update(args)
    exc = run_main(drbd_config, base)
    return exc.result, exc.failed


def snapshot(directory):
    """{name: (bytes, mode, inode)} of every entry, hidden ones included."""
    out = {}
    if not directory.exists():
        return out
    for entry in sorted(directory.iterdir()):
        st = entry.stat()
        out[entry.name] = (entry.read_bytes(), stat.S_IMODE(st.st_mode), st.st_ino)
    return out


def leftovers(drbdadm):
    return [c['tmpdir'] for c in drbdadm.calls if os.path.exists(c['tmpdir'])]


def test_first_install_validates_then_installs(drbdadm, confdir):
    result, failed = run({'files': files(), 'config_dir': str(confdir), 'secret': SECRET, 'driver_version': '8.4.0'})
    assert not failed, result
    assert result['changed'] is True
    assert result['changed_files'] == ['global_common.conf', 'vol0.res', 'vol1.res']
    assert result['validated'] == ['vol0', 'vol1'] and result['unmanaged'] == []
    # the config dir was created 0755; files have their modes
    assert stat.S_IMODE(confdir.stat().st_mode) == 0o755
    assert stat.S_IMODE((confdir / 'global_common.conf').stat().st_mode) == 0o600
    assert stat.S_IMODE((confdir / 'vol0.res').stat().st_mode) == 0o644
    assert (confdir / 'global_common.conf').read_text() == GLOBAL % SECRET
    assert (confdir / 'vol1.res').read_text() == res_text('vol1', 1)
    assert (confdir / 'global_common.conf').stat().st_uid == os.geteuid()
    # one drbdadm dump per resource, against the private copy, C locale, dialect forced
    assert [c['argv'][3:] for c in drbdadm.calls] == [['dump', 'vol0'], ['dump', 'vol1']]
    for call in drbdadm.calls:
        assert not call['argv'][2].startswith(str(confdir))
        assert call['environ'] == env(DRBD_DRIVER_VERSION_OVERRIDE='8.4.0')
        # global_common.conf first, like Debian's /etc/drbd.conf
        assert call['order'] == ['global_common.conf', 'vol0.res', 'vol1.res']
    assert leftovers(drbdadm) == []
    # no temporary file left in the configuration directory
    assert sorted(p.name for p in confdir.iterdir()) == ['global_common.conf', 'vol0.res', 'vol1.res']
    # the diff shows new files, secret masked; drbdadm's dump (which carries it) is not returned
    assert [d['before_header'] for d in result['diff']] == [
        '%s/%s (absent)' % (confdir, n) for n in ('global_common.conf', 'vol0.res', 'vol1.res')]
    assert SECRET not in json.dumps(result)
    assert 'shared-secret "********";' in result['diff'][0]['after']


def test_second_run_changes_nothing(drbdadm, confdir):
    args = {'files': files(), 'config_dir': str(confdir), 'secret': SECRET}
    run(args)
    before = snapshot(confdir)
    result, failed = run(args)
    assert not failed, result
    assert result['changed'] is False and result['changed_files'] == [] and result['diff'] == []
    assert result['validated'] == ['vol0', 'vol1']
    # not even rewritten: same inodes
    assert snapshot(confdir) == before
    # no override unless driver_version is given
    assert all(c['environ'] == C_LOCALE for c in drbdadm.calls)


def test_changed_content_gives_a_diff_and_masks_old_and_new_secret(drbdadm, confdir):
    run({'files': files(secret='old-secret-1234'), 'config_dir': str(confdir), 'secret': 'old-secret-1234'})
    new = files()
    new[1]['content'] = res_text('vol0', 0, extra='    # moved\n')
    result, failed = run({'files': new, 'config_dir': str(confdir), 'secret': SECRET})
    assert not failed, result
    assert result['changed'] is True
    assert result['changed_files'] == ['global_common.conf', 'vol0.res']
    by_header = dict((d['before_header'], d) for d in result['diff'])
    vol0 = by_header['%s/vol0.res' % confdir]
    assert '# moved' in vol0['after'] and '# moved' not in vol0['before']
    gc = by_header['%s/global_common.conf' % confdir]
    # the old secret is not known to the module as a secret, it is masked all the same
    assert 'old-secret-1234' not in json.dumps(result) and SECRET not in json.dumps(result)
    assert gc['before'] == gc['after']  # only the secret changed: both sides show it masked
    assert (confdir / 'global_common.conf').read_text() == GLOBAL % SECRET
    assert '# moved' in (confdir / 'vol0.res').read_text()


def test_rejected_configuration_installs_nothing_and_masks_the_secret(drbdadm, confdir):
    args = {'files': files(), 'config_dir': str(confdir), 'secret': SECRET}
    run(args)
    before = snapshot(confdir)
    calls_before = len(drbdadm.calls)
    bad = files(global_extra='no-such-option 1; shared-secret-again "%s";\n' % SECRET)
    bad[2]['content'] = res_text('vol1', 1, extra='    # changed too\n')
    result, failed = run({'files': bad, 'config_dir': str(confdir), 'secret': SECRET})
    assert failed
    assert snapshot(confdir) == before
    msg = result['msg']
    assert 'vol0' in msg and 'vol1' in msg and 'no-such-option' in msg
    assert 'nothing was installed' in msg
    # paths are shown as they will be installed, not as the vanished temporary copy
    assert '%s/global_common.conf:' % confdir in msg
    assert result['rc'] == 10
    assert [f['resource'] for f in result['failures']] == ['vol0', 'vol1']
    # drbdadm's stdout (the dump) and stderr (quoting the line) carried the secret: masked
    text = json.dumps(result)
    assert SECRET not in text
    assert '********' in result['stdout'] and '********' in result['stderr']
    assert result['changed_files'] == []
    assert leftovers(drbdadm) == []
    assert len(drbdadm.calls) == calls_before + 2


def test_check_mode_validates_but_installs_nothing(drbdadm, confdir):
    result, failed = run({'files': files(), 'config_dir': str(confdir), 'secret': SECRET}, check=True)
    assert not failed, result
    assert result['changed'] is True and result['changed_files'] == ['global_common.conf', 'vol0.res', 'vol1.res']
    assert not confdir.exists()
    assert [c['argv'][4] for c in drbdadm.calls] == ['vol0', 'vol1']
    assert leftovers(drbdadm) == []


def test_check_mode_reports_a_rejected_configuration(drbdadm, confdir):
    result, failed = run({'files': files(vol0_extra='    no-such-option 1;\n'), 'config_dir': str(confdir)}, check=True)
    assert failed and 'no-such-option' in result['msg']
    assert not confdir.exists()


def test_other_files_are_validated_with_the_new_ones_and_reported_unmanaged(drbdadm, confdir):
    confdir.mkdir()
    (confdir / 'old.res').write_text(res_text('old', 9))
    (confdir / 'extra.conf').write_text('# included by nobody\n')
    (confdir / '.hidden.res').write_text('garbage no-such-option\n')   # drbdadm ignores hidden files
    (confdir / 'vol0.res.dpkg-old').write_text('garbage no-such-option\n')  # and other suffixes
    (confdir / 'vol0.res').write_text('stale content no-such-option\n')  # replaced: not validated
    result, failed = run({'files': files(), 'config_dir': str(confdir), 'secret': SECRET})
    assert not failed, result
    assert result['unmanaged'] == ['extra.conf', 'old.res']
    assert result['changed_files'] == ['global_common.conf', 'vol0.res', 'vol1.res']
    for call in drbdadm.calls:
        assert call['copy'] == ['extra.conf', 'global_common.conf', 'old.res', 'vol0.res', 'vol1.res']
        assert call['order'] == ['global_common.conf', 'old.res', 'vol0.res', 'vol1.res']
        assert call['files']['old.res'] == res_text('old', 9)
        assert call['files']['vol0.res'] == res_text('vol0', 0)
    # never removed
    assert (confdir / 'old.res').read_text() == res_text('old', 9)
    assert (confdir / 'extra.conf').exists() and (confdir / '.hidden.res').exists()
    assert (confdir / 'vol0.res.dpkg-old').exists()


def test_a_broken_unmanaged_file_rejects_the_configuration(drbdadm, confdir):
    confdir.mkdir()
    (confdir / 'old.res').write_text('resource old {\n    no-such-option 1;\n}\n')
    result, failed = run({'files': files(), 'config_dir': str(confdir)})
    assert failed
    assert '%s/old.res:2' % confdir in result['msg']
    assert sorted(p.name for p in confdir.iterdir()) == ['old.res']


def test_relative_includes_of_a_resource_file_see_the_copied_conf_files(drbdadm, confdir):
    """A .res may include a *.conf of the directory by a relative path: the copy has it."""
    confdir.mkdir()
    (confdir / 'site.conf').write_text('# site options\nno-such-option 1;\n')
    given = files()
    given[1]['content'] = 'include "site.conf";\n' + given[1]['content']
    result, failed = run({'files': given, 'config_dir': str(confdir)})
    assert failed and '%s/site.conf:2' % confdir in result['msg']
    (confdir / 'site.conf').write_text('# site options\n')
    result, failed = run({'files': given, 'config_dir': str(confdir)})
    assert not failed, result
    assert drbdadm.calls[-1]['order'] == ['global_common.conf', 'vol0.res', 'site.conf', 'vol1.res']
    assert drbdadm.calls[-1]['files']['site.conf'] == '# site options\n'
    assert result['unmanaged'] == ['site.conf']


def test_mode_change_alone_is_a_change(drbdadm, confdir):
    args = {'files': files(), 'config_dir': str(confdir), 'secret': SECRET}
    run(args)
    os.chmod(str(confdir / 'global_common.conf'), 0o644)
    result, failed = run(args)
    assert not failed, result
    assert result['changed'] is True and result['changed_files'] == ['global_common.conf']
    assert result['diff'] == [{
        'before_header': '%s/global_common.conf (attributes)' % confdir,
        'after_header': '%s/global_common.conf (attributes)' % confdir,
        'before': 'mode 0644, owner %d:%d\n' % (os.geteuid(), os.getegid()),
        'after': 'mode 0600, owner %d:%d\n' % (os.geteuid(), os.getegid()),
    }]
    assert stat.S_IMODE((confdir / 'global_common.conf').stat().st_mode) == 0o600


@pytest.mark.skipif(os.geteuid() != 0, reason='changing a file owner needs root')
def test_owner_change_alone_is_a_change(drbdadm, confdir, monkeypatch):
    monkeypatch.setattr(drbd_config.DrbdConfig, 'OWNER', (0, 0))
    args = {'files': files(), 'config_dir': str(confdir)}
    run(args)
    os.chown(str(confdir / 'vol1.res'), 1000, 1000)
    result, failed = run(args)
    assert result['changed_files'] == ['vol1.res']
    st = (confdir / 'vol1.res').stat()
    assert (st.st_uid, st.st_gid) == (0, 0)


def test_integer_mode_is_the_numeric_mode(drbdadm, confdir):
    given = files()
    given[0]['mode'] = 0o600  # what YAML 1.1 makes of an unquoted 0600
    result, failed = run({'files': given, 'config_dir': str(confdir)})
    assert not failed, result
    assert stat.S_IMODE((confdir / 'global_common.conf').stat().st_mode) == 0o600


@pytest.mark.parametrize('index, name, words', [
    (1, '../vol0.res', ["files[1].name", "no '/'"]),
    (1, 'sub/vol0.res', ["files[1].name", "no '/'"]),
    (2, '..res', ["files[2].name", "'..'"]),
    (2, '.vol1.res', ["files[2].name", "start with '.'"]),
    (2, 'vol1.txt', ["files[2].name", 'end in .res or .conf']),
    (2, 'vol0.res', ["files[2].name", 'also the name of files[1]']),
    (0, '', ["files[0].name", 'empty']),
])
def test_bad_file_name_is_rejected_naming_the_field(drbdadm, confdir, index, name, words):
    given = files()
    given[index]['name'] = name
    result, failed = run({'files': given, 'config_dir': str(confdir)})
    assert failed
    for word in words:
        assert word in result['msg'], result['msg']
    assert drbdadm.calls == [] and not confdir.exists()


@pytest.mark.parametrize('args, words', [
    ({'files': [{'name': 'a.res', 'content': 'x', 'mode': 'u=rw'}]}, ['files[0].mode', 'a.res', 'octal']),
    ({'files': [{'name': 'a.res', 'content': 'x', 'mode': '0999'}]}, ['files[0].mode']),
    ({'files': [{'name': 'a.res', 'content': 'x', 'mode': 0o17777}]}, ['files[0].mode', 'out of range']),
    ({'files': [{'name': 'a.res', 'content': 'x'}], 'resources': ['a', '-x']}, ['resources[1]']),
    ({'files': [{'name': 'a.res', 'content': 'x'}], 'resources': ['a b']}, ['resources[0]']),
    ({'files': [{'name': 'a.res', 'content': 'x'}], 'driver_version': 'nine'}, ['driver_version']),
    ({'files': []}, ['files:', 'at least one']),
])
def test_bad_parameters_name_the_field(drbdadm, confdir, args, words):
    args = dict(args, config_dir=str(confdir))
    result, failed = run(args)
    assert failed
    for word in words:
        assert word in result['msg'], result['msg']
    assert drbdadm.calls == []


def test_config_dir_that_is_a_file(drbdadm, tmp_path):
    path = tmp_path / 'drbd.d'
    path.write_text('')
    result, failed = run({'files': files(), 'config_dir': str(path)})
    assert failed and result['msg'].startswith('config_dir:')


def test_drbdadm_missing(drbdadm, confdir, monkeypatch):
    monkeypatch.setattr(AnsibleModule, 'get_bin_path', lambda self, name, required=False, opt_dirs=None: None)
    result, failed = run({'files': files(), 'config_dir': str(confdir)})
    assert failed and result['msg'] == 'drbdadm not found on this host: install drbd-utils'
    assert not confdir.exists()


def test_drbdadm_missing_in_check_mode_warns_and_reports_changes(drbdadm, confdir, monkeypatch):
    monkeypatch.setattr(AnsibleModule, 'get_bin_path', lambda self, name, required=False, opt_dirs=None: None)
    warnings = []
    monkeypatch.setattr(AnsibleModule, 'warn', lambda self, text: warnings.append(text))
    result, failed = run({'files': files(), 'config_dir': str(confdir)}, check=True)
    assert not failed, result
    assert result['changed'] is True and result['validated'] == []
    assert len(warnings) == 1 and 'not validated' in warnings[0]
    assert drbdadm.calls == [] and not confdir.exists()


def test_explicit_resources_and_whole_config_parse(drbdadm, confdir):
    result, failed = run({'files': files(), 'config_dir': str(confdir), 'resources': ['vol1']})
    assert not failed and result['validated'] == ['vol1']
    assert [c['argv'][4] for c in drbdadm.calls] == ['vol1']
    result, failed = run({'files': [{'name': 'global_common.conf', 'content': GLOBAL % SECRET, 'mode': '0600'}],
                          'config_dir': str(confdir), 'resources': []})
    assert not failed and result['validated'] == []
    assert drbdadm.calls[-1]['argv'][4] == 'all'


def test_resource_missing_from_the_files_is_an_error(drbdadm, confdir):
    result, failed = run({'files': files(), 'config_dir': str(confdir), 'resources': ['vol0', 'vol7']})
    assert failed
    assert "vol7" in result['msg'] and 'not defined in your config' in result['msg']
    assert result['validated'] == [] and not confdir.exists()


def test_without_diff_mode_no_diff_is_returned(drbdadm, confdir):
    result, failed = run({'files': files(), 'config_dir': str(confdir)}, diff=False)
    assert not failed and 'diff' not in result


# --------------------------------------------------------------------------------------------
# The real drbdadm (drbd-utils); skipped where it is not installed
# --------------------------------------------------------------------------------------------

REAL_DRBDADM = shutil.which('drbdadm') or (os.path.exists('/usr/sbin/drbdadm') and '/usr/sbin/drbdadm')
REAL_RUN_COMMAND = AnsibleModule.run_command
REAL_GET_BIN_PATH = AnsibleModule.get_bin_path


@pytest.fixture
def real(monkeypatch):
    if not REAL_DRBDADM:
        pytest.skip('drbdadm (drbd-utils) is not installed here')
    patch_module(monkeypatch, AnsibleModule, RunCommandMock())
    monkeypatch.setattr(AnsibleModule, 'run_command', REAL_RUN_COMMAND)
    monkeypatch.setattr(AnsibleModule, 'get_bin_path', REAL_GET_BIN_PATH)
    monkeypatch.setattr(drbd_config.DrbdConfig, 'OWNER', (os.geteuid(), os.getegid()))
    made = []
    real_mkdtemp = drbd_config.tempfile.mkdtemp

    def mkdtemp(*args, **kwargs):
        made.append(real_mkdtemp(*args, **kwargs))
        return made[-1]
    monkeypatch.setattr(drbd_config.tempfile, 'mkdtemp', mkdtemp)
    # drbdadm dump wants this host (uname -n) in an "on" section
    return {'host': os.uname()[1] or socket.gethostname(), 'tmpdirs': made}


def real_files(host, secret=SECRET, extra=''):
    other = '    on peer-of-%s {\n        device /dev/drbd0 minor 0;\n        disk /dev/sdb;\n' \
            '        address ipv4 10.20.0.12:7789;\n        meta-disk internal;\n    }\n' % host
    return [
        {'name': 'global_common.conf', 'content': (GLOBAL % secret).replace('    }\n}', '    %s}\n}' % extra), 'mode': '0600'},
        {'name': 'vol0.res', 'content': res_text('vol0', 0, host=host, extra=other)},
    ]


@pytest.mark.parametrize('version', ['8.4.0', '9.0.0'])
def test_real_drbdadm_accepts_and_rejects(real, confdir, version):
    args = {'files': real_files(real['host']), 'config_dir': str(confdir), 'secret': SECRET, 'driver_version': version}
    result, failed = run(args)
    assert not failed, result
    assert result['validated'] == ['vol0'] and result['changed'] is True
    before = snapshot(confdir)
    result, failed = run(dict(args, files=real_files(real['host'], extra='no-such-option 1;\n')))
    assert failed
    assert 'no-such-option' in result['msg'] and 'vol0' in result['msg']
    assert '%s/global_common.conf' % confdir in result['msg']
    assert result['rc'] == 10
    assert SECRET not in json.dumps(result)
    assert snapshot(confdir) == before
    assert len(real['tmpdirs']) == 2 and not any(os.path.exists(p) for p in real['tmpdirs'])


def test_real_drbdadm_reads_unmanaged_resource_files(real, confdir):
    confdir.mkdir()
    (confdir / 'old.res').write_text('resource old {\n    bogus-keyword;\n}\n')
    result, failed = run({'files': real_files(real['host']), 'config_dir': str(confdir), 'driver_version': '8.4.0'})
    assert failed and '%s/old.res' % confdir in result['msg']
    assert sorted(p.name for p in confdir.iterdir()) == ['old.res']


def test_real_drbdadm_resolves_relative_includes_in_the_copy(real, confdir):
    confdir.mkdir()
    (confdir / 'site.conf').write_text('garbage {\n')
    given = real_files(real['host'])
    given[1]['content'] = given[1]['content'].replace('resource vol0 {', 'include "site.conf";\nresource vol0 {')
    result, failed = run({'files': given, 'config_dir': str(confdir), 'driver_version': '8.4.0'})
    assert failed and 'site.conf' in result['msg'], result
    (confdir / 'site.conf').write_text('# nothing\n')
    result, failed = run({'files': given, 'config_dir': str(confdir), 'driver_version': '8.4.0'})
    assert not failed, result
