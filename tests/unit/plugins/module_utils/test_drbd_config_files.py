# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The DRBD configuration-file helpers of module_utils/drbd.py used by drbd_config."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import stat

import pytest

from ansible_collections.rdma.ha_storage.plugins.module_utils import drbd


@pytest.mark.parametrize('text, expect', [
    ('        shared-secret "abc";\n', '        shared-secret "********";\n'),
    ('shared-secret abc ;', 'shared-secret ******** ;'),
    # drbdadm prints failing drbdsetup command lines
    ('drbdsetup-84 net vol0 ipv4:10.20.0.11:7789 --protocol=C --shared-secret=abc --cram-hmac-alg=sha256',
     'drbdsetup-84 net vol0 ipv4:10.20.0.11:7789 --protocol=C --shared-secret=******** --cram-hmac-alg=sha256'),
    ('--shared-secret "a b"', '--shared-secret "********"'),
    # drbdadm quotes the whole failing command: the closing quote is not part of the value
    ("Command 'drbdsetup-84 net vol0 --shared-secret=abc' terminated with exit code 10",
     "Command 'drbdsetup-84 net vol0 --shared-secret=********' terminated with exit code 10"),
    # the word in a comment (Debian's default global_common.conf) is not a value
    ('# allow-two-primaries cram-hmac-alg shared-secret after-sb-0pri\n',
     '# allow-two-primaries cram-hmac-alg shared-secret after-sb-0pri\n'),
    ('my-shared-secret "x";', 'my-shared-secret "x";'),
    ('', ''),
    (None, None),
])
def test_mask_config_hides_any_shared_secret_value(text, expect):
    assert drbd.mask_config(text) == expect


def test_mask_config_also_hides_the_known_secret_anywhere():
    text = "Parse error near 'topsecret-1' in line 3\nshared-secret \"old-one\";\n"
    masked = drbd.mask_config(text, 'topsecret-1')
    assert 'topsecret-1' not in masked and 'old-one' not in masked
    assert masked.count('********') == 2


@pytest.mark.parametrize('name, error', [
    ('vol0.res', None), ('global_common.conf', None), ('r-0_a.res', None),
    ('', 'is empty'), ('a/b.res', "no '/'"), ('../x.res', "no '/'"), ('x..res', "'..'"),
    ('.x.res', "start with '.'"), ('x.txt', 'end in .res or .conf'), ('x.res~', 'end in .res or .conf'),
])
def test_file_name_error(name, error):
    got = drbd.file_name_error(name)
    if error is None:
        assert got is None
    else:
        assert error in got


def test_list_config_files_is_what_drbdadm_globs(tmp_path):
    for name in ('a.res', 'b.conf', '.hidden.res', 'c.res.dpkg-old', 'notes.txt'):
        (tmp_path / name).write_text('x')
    (tmp_path / 'dir.res').mkdir()
    os.symlink(str(tmp_path / 'a.res'), str(tmp_path / 'link.res'))
    assert drbd.list_config_files(str(tmp_path)) == ['a.res', 'b.conf', 'link.res']
    assert drbd.list_config_files(str(tmp_path / 'missing')) == []


def test_validation_tree(tmp_path):
    conf, copy = drbd.write_validation_tree(str(tmp_path), {'global_common.conf': b'g', 'vol0.res': b'r', 'x.conf': b'c'})
    assert copy == str(tmp_path / 'drbd.d')
    assert stat.S_IMODE(os.stat(copy).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(os.path.join(copy, 'global_common.conf')).st_mode) == 0o600
    lines = open(conf).read().splitlines()
    assert lines[1:] == ['include "%s/global_common.conf";' % copy, 'include "%s/*.res";' % copy]
    # without global_common.conf only the resource files are included
    assert 'global_common' not in drbd.validation_conf_text('/t/drbd.d', ['vol0.res'])
