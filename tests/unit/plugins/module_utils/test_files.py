# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/files.py: modes, staged and private files, what is installed."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import stat

import pytest

from ansible_collections.rdma.ha_storage.plugins.module_utils import files


@pytest.mark.parametrize('value, mode', [
    ('0644', 0o644), ('644', 0o644), ('0600', 0o600), ('1777', 0o1777), ('0o640', 0o640), (0o600, 0o600), (420, 0o644),
])
def test_parse_mode(value, mode):
    assert files.parse_mode(value) == mode


@pytest.mark.parametrize('value', ['u=rw', '0999', '64', '00644', '', -1, 0o10000, True, None])
def test_parse_mode_rejects(value):
    with pytest.raises(ValueError):
        files.parse_mode(value)


def test_stage_file_is_hidden_private_until_chmod_and_complete(tmp_path):
    tmp = files.stage_file(str(tmp_path), 'vol0.res', b'content', 0o640, -1, -1)
    name = os.path.basename(tmp)
    assert name.startswith('.vol0.res.') and name.endswith('.tmp')
    assert open(tmp, 'rb').read() == b'content'
    assert stat.S_IMODE(os.stat(tmp).st_mode) == 0o640


def test_read_installed(tmp_path):
    path = tmp_path / 'a.res'
    assert files.read_installed(str(path)) is None
    path.write_bytes(b'abc')
    os.chmod(str(path), 0o600)
    got = files.read_installed(str(path))
    assert got['content'] == b'abc' and got['mode'] == 0o600 and got['uid'] == os.stat(str(path)).st_uid


def test_write_private_file_is_0600_and_never_overwrites(tmp_path):
    path = str(tmp_path / 'x.conf')
    files.write_private_file(path, 'text')
    assert open(path).read() == 'text' and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with pytest.raises(OSError):
        files.write_private_file(path, b'bytes')


def test_remove_quietly_and_fsync_dir_never_raise(tmp_path):
    files.remove_quietly(str(tmp_path / 'absent'))
    files.fsync_dir(str(tmp_path / 'absent'))
    files.fsync_dir(str(tmp_path))


def test_install_file_makes_the_directory_replaces_atomically_and_leaves_nothing_behind(tmp_path):
    path = tmp_path / 'modprobe.d' / 'x.conf'
    files.install_file(str(path), b'one\n', 0o644, -1, -1)
    assert path.read_bytes() == b'one\n' and stat.S_IMODE(path.stat().st_mode) == 0o644
    files.install_file(str(path), b'two\n', 0o600, -1, -1)
    assert path.read_bytes() == b'two\n' and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert os.listdir(str(path.parent)) == ['x.conf']


def test_install_file_says_which_step_failed(tmp_path):
    blocker = tmp_path / 'file'
    blocker.write_text('not a directory')
    with pytest.raises(files.InstallError) as exc:
        files.install_file(str(blocker / 'x.conf'), b'x', 0o644, -1, -1)
    assert exc.value.step == 'write' and str(exc.value).startswith('cannot write: ')
    target = tmp_path / 'dir'
    (target / 'x.conf').mkdir(parents=True)         # a directory where the file goes: rename fails
    with pytest.raises(files.InstallError) as exc:
        files.install_file(str(target / 'x.conf'), b'x', 0o644, -1, -1)
    assert exc.value.step == 'install'
    assert os.listdir(str(target)) == ['x.conf']     # the staged file was removed
