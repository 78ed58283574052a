# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Safety checks of drbd_metadata: create-md only on a blank device without metadata."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import io
import os
import re
import stat

import pytest

from ansible_collections.rdma.ha_storage.plugins.modules import drbd_metadata
from module_harness import RunCommandMock, call, patch_module, run_main

DRBDADM = '/usr/sbin/drbdadm'
NO_MD = dict(rc=255, err='No valid meta data found\n')
FRESH_GI = dict(out='0000000000000004:0000000000000000:0000000000000000:0000000000000000:0:0:0:0:0:0:0\n')
USED_GI = dict(out='DAF4CF8B81E8C85D:0000000000000000:DB5ED3C3D7D3AEBA:DB5DD3C3D7D3AEBB:1:1:1:1:0:0:0\n')
CREATED = dict(out='New drbd meta data block successfully created.\n')


def adm(*args, **answer):
    return call([DRBDADM] + list(args), **answer)


def blkid(rc=2, out=''):
    return call(['/usr/sbin/blkid', '-p', '-o', 'export', '/dev/sdb'], rc=rc, out=out)


def wipefs(out=''):
    return call(['/usr/sbin/wipefs', '--no-act', '--parsable', '/dev/sdb'], out=out)


# drbd_status's reading of the names of the 8.4 minors (the module first looks whether the
# resource is attached)
NAMES = [adm('sh-resources', out='vol0\n'), adm('sh-minor', 'vol0', out='0\n')]
# no metadata, nothing on the device
BLANK = NAMES + [adm('get-gi', 'vol0', **NO_MD), blkid(), wipefs()]


@pytest.fixture
def host(monkeypatch, tmp_path):
    """A host whose /dev/sdb is a block device and whose /proc/drbd shows nothing attached."""
    proc = tmp_path / 'drbd'
    proc.write_text('version: 8.4.11 (api:1/proto:86-101)\nsrcversion: 0\n')
    monkeypatch.setattr('ansible_collections.rdma.ha_storage.plugins.module_utils.drbd.read_file',
                        lambda path: proc.read_text())
    real_stat = os.stat

    class BlockStat(object):
        st_mode = stat.S_IFBLK | 0o660

    def fake_stat(path, *args, **kwargs):
        return BlockStat() if path == '/dev/sdb' else real_stat(path, *args, **kwargs)

    monkeypatch.setattr(drbd_metadata.os, 'stat', fake_stat)

    def make(calls, start=b'\0' * (68 * 1024), missing=()):
        """calls: every command, in order; start: the device's first bytes (what drbdmeta
        probes), all zero unless a test says."""
        mock = RunCommandMock(calls)
        patch_module(monkeypatch, drbd_metadata.AnsibleModule, mock, missing=missing)
        real_open = open

        def fake_open(path, *args, **kwargs):
            if path == '/dev/sdb':
                return io.BytesIO(start)
            return real_open(path, *args, **kwargs)
        monkeypatch.setattr(drbd_metadata, 'open', fake_open, raising=False)
        return mock
    return make


def run(mock, args):
    base = {'resource': 'vol0', 'backing_device': '/dev/sdb'}
    base.update(args)
    exc = run_main(drbd_metadata, base, mock)
    return exc.result, exc.failed


def test_blank_device_gets_metadata(host):
    # safe mode: no --force, and "no" answers any question drbdmeta might still ask
    mock = host(BLANK + [adm('create-md', 'vol0', data='no', **CREATED), adm('get-gi', 'vol0', **FRESH_GI)])
    result, failed = run(mock, {})
    assert not failed, result
    assert result['changed'] is True and result['created'] is True
    assert result['metadata_found'] is False
    assert result['fresh'] is True and result['current_uuid'] == '0000000000000004'
    assert result['stdout'] == CREATED['out']


def test_without_wipefs_blkid_alone_decides(host):
    mock = host(NAMES + [adm('get-gi', 'vol0', **NO_MD), blkid(),
                         adm('create-md', 'vol0', data='no', **CREATED), adm('get-gi', 'vol0', **FRESH_GI)],
                missing=('wipefs',))
    result, failed = run(mock, {})
    assert not failed, result
    assert result['created'] is True


def test_missing_blkid_names_the_package(host):
    mock = host(NAMES + [adm('get-gi', 'vol0', **NO_MD)], missing=('blkid',))
    result, failed = run(mock, {})
    assert failed
    assert result['msg'] == 'resource vol0, backing device /dev/sdb: blkid not found on this host: install util-linux'


def test_blkid_failure_is_reported_with_its_output(host):
    mock = host(NAMES + [adm('get-gi', 'vol0', **NO_MD),
                         call(['/usr/sbin/blkid', '-p', '-o', 'export', '/dev/sdb'], rc=4, err='usage\n')])
    result, failed = run(mock, {})
    assert failed
    assert result['msg'] == 'resource vol0, backing device /dev/sdb: blkid -p failed'
    assert result['rc'] == 4 and result['stderr'] == 'usage\n'
    assert result['cmd'] == ['/usr/sbin/blkid', '-p', '-o', 'export', '/dev/sdb']


def test_config_file_is_given_to_every_drbdadm_call(host):
    conf = [DRBDADM, '-c', '/etc/drbd.lab.conf']
    mock = host([call(conf + ['sh-resources'], out='vol0\n'), call(conf + ['sh-minor', 'vol0'], out='0\n'),
                 call(conf + ['get-gi', 'vol0'], **USED_GI)])
    result, failed = run(mock, {'config': '/etc/drbd.lab.conf'})
    assert not failed and result['metadata_found'] is True


def test_existing_metadata_is_left_alone(host):
    # neither probes nor create-md: the mock fails the test on any command not listed
    mock = host(NAMES + [adm('get-gi', 'vol0', **USED_GI)])
    result, failed = run(mock, {})
    assert not failed
    assert result['changed'] is False and result['created'] is False
    assert result['metadata_found'] is True and result['fresh'] is False
    assert result['current_uuid'] == 'DAF4CF8B81E8C85D'


def test_existing_metadata_with_a_filesystem_on_top_is_left_alone(host):
    """A DRBD device holding a filesystem shows that filesystem at the start of its backing
    device: metadata is found first, so the signature is never even looked at."""
    mock = host(NAMES + [adm('get-gi', 'vol0', **USED_GI)])
    result, failed = run(mock, {'safe_mode': True})
    assert not failed and result['changed'] is False


@pytest.mark.parametrize('probe_rc, probe_out, wipefs_out, expect', [
    (0, 'DEVNAME=/dev/sdb\nUUID=1b2c\nTYPE=ext4\nUSAGE=filesystem\n', '0x438,1b2c,,ext4\n', 'ext4'),
    (0, 'PTTYPE=gpt\n', '0x200,,,gpt\n', 'partition table gpt'),
    (0, 'TYPE=LVM2_member\nUSAGE=raid\n', '0x218,abc,,LVM2_member\n', 'LVM2_member'),
    (8, '', '0x438,u,,ext4\n0x0,,,xfs\n', 'ambivalent'),
])
def test_foreign_signature_is_refused_in_safe_mode(host, probe_rc, probe_out, wipefs_out, expect):
    mock = host(NAMES + [adm('get-gi', 'vol0', **NO_MD), blkid(probe_rc, probe_out), wipefs(wipefs_out)])
    result, failed = run(mock, {})
    assert failed
    assert expect in result['msg']
    assert 'vol0' in result['msg'] and '/dev/sdb' in result['msg']
    assert 'safe_mode=false' in result['msg']


def test_foreign_signature_overwritten_when_safe_mode_off(host):
    mock = host(NAMES + [adm('get-gi', 'vol0', **NO_MD), blkid(0, 'TYPE=ext4\nUSAGE=filesystem\n'),
                         wipefs('0x438,u,,ext4\n'), adm('--', '--force', 'create-md', 'vol0', **CREATED),
                         adm('get-gi', 'vol0', **FRESH_GI)])
    result, failed = run(mock, {'safe_mode': False})
    assert not failed, result
    assert result['created'] is True and result['signatures'] == ['ext4 (filesystem)']


def test_check_mode_does_not_create(host):
    mock = host(BLANK)
    result, failed = run(mock, {'_ansible_check_mode': True, '_ansible_diff': True})
    assert not failed
    assert result['changed'] is True and result['created'] is True and result['fresh'] is True
    assert result['diff']['before'] == 'metadata: absent\n'


def test_unclear_answer_is_an_error_not_a_permission(host):
    busy = dict(rc=20, err='open(/dev/sdb) failed: Device or resource busy\n')
    mock = host(NAMES + [adm('get-gi', 'vol0', **busy), adm('dump-md', 'vol0', **busy)])
    result, failed = run(mock, {'safe_mode': False})
    assert failed
    assert result['rc'] == 20 and 'busy' in result['stderr']
    assert result['cmd'] == [DRBDADM, 'dump-md', 'vol0']
    assert 'nothing was changed' in result['msg']


def test_unclear_get_gi_but_dump_md_shows_metadata(host):
    mock = host(NAMES + [adm('get-gi', 'vol0', rc=20, err='strange\n'),
                         adm('dump-md', 'vol0', out='# DRBD meta data dump\nversion "v08";\n'),
                         adm('get-gi', 'vol0', **USED_GI)])
    result, failed = run(mock, {})
    assert not failed, result
    assert result['metadata_found'] is True and result['current_uuid'] == 'DAF4CF8B81E8C85D'


def test_attached_resource_counts_as_metadata(host, monkeypatch):
    proc = ('version: 8.4.11 (api:1/proto:86-101)\n'
            ' 0: cs:Connected ro:Primary/Secondary ds:UpToDate/UpToDate C r-----\n'
            '    ns:0 nr:0 dw:0 dr:0 al:0 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:0\n')
    mock = host(NAMES + [adm('get-gi', 'vol0', **USED_GI)])
    monkeypatch.setattr('ansible_collections.rdma.ha_storage.plugins.module_utils.drbd.read_file', lambda path: proc)
    result, failed = run(mock, {})
    assert not failed
    assert result['attached'] is True and result['changed'] is False


def test_create_md_failure_reports_output(host):
    mock = host(BLANK + [adm('create-md', 'vol0', data='no', rc=10, err='Operation refused.\n')])
    result, failed = run(mock, {})
    assert failed and result['rc'] == 10 and 'refused' in result['stderr']
    assert result['cmd'] == [DRBDADM, 'create-md', 'vol0']
    assert 'drbdmeta said: "Operation refused."' in result['msg']


# What drbdmeta printed in the lab (tests/fixtures/drbd/README.md) on a disk that had held ext4
# and was then cleaned with `wipefs -a` only: "Found some data", no wait for an answer, rc 1.
FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'fixtures', 'drbd')


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return handle.read()


DRBDMETA_FOUND_SOME_DATA = (fixture('create_md_found_some_data_84.stdout'),
                            fixture('create_md_found_some_data_84.stderr'))

EXT4_START = b'\0' * 1024 + b'\x80\x10\x00\x00' + b'\x01' * 1020 + b'\0' * (67 * 1024)
LEFTOVERS = b'\0' * 2048 + b'\x01\x02' + b'\0' * (68 * 1024 - 2050)   # ext4 after wipefs: magic gone


def advised_commands(msg):
    return re.findall(r'`([^`]+)`', msg)


def test_ext4_refusal_gives_the_commands_that_let_the_next_run_proceed(host):
    mock = host(NAMES + [adm('get-gi', 'vol0', **NO_MD), blkid(0, 'TYPE=ext4\nUSAGE=filesystem\n'),
                         wipefs('0x438,u,,ext4\n')], start=EXT4_START)
    result, failed = run(mock, {})
    assert failed
    assert result['msg'].startswith('resource vol0, backing device /dev/sdb: refusing to create DRBD metadata: '
                                    'the device carries ext4 (filesystem)')
    assert advised_commands(result['msg']) == [
        'wipefs --all /dev/sdb', 'dd if=/dev/zero of=/dev/sdb bs=68K count=1 oflag=direct']
    assert 'drbd_safe_mode=false' in result['msg']
    assert result['first_nonzero_offset'] == 1024


def test_leftovers_after_wipefs_are_refused_in_safe_mode_with_the_dd_that_clears_them(host):
    """No signature is left (wipefs ran), but drbdmeta would still find "some data": refuse in
    safe mode, before drbdmeta is asked, naming the one command still needed."""
    mock = host(BLANK, start=LEFTOVERS)
    result, failed = run(mock, {'_ansible_check_mode': True})
    assert failed
    assert 'no signature is left' in result['msg'] and 'first 68 KiB are not all zero (byte 2048 is not)' in result['msg']
    assert 'Found some data' in result['msg']
    assert advised_commands(result['msg']) == ['dd if=/dev/zero of=/dev/sdb bs=68K count=1 oflag=direct']
    assert result['signatures'] == [] and result['first_nonzero_offset'] == 2048


def test_leftovers_are_overwritten_with_force_when_safe_mode_is_off(host):
    mock = host(BLANK + [adm('--', '--force', 'create-md', 'vol0', **CREATED), adm('get-gi', 'vol0', **FRESH_GI)],
                start=LEFTOVERS)
    result, failed = run(mock, {'safe_mode': False})
    assert not failed, result
    assert result['created'] is True


def test_drbdmeta_asking_anyway_is_reported_in_its_own_words_with_the_way_out(host):
    """Should drbdmeta find data the module's probes did not (a race, a device that changed),
    its question gets "no"; the message quotes it and says what lets the next run proceed."""
    out, err = DRBDMETA_FOUND_SOME_DATA
    mock = host(BLANK + [adm('create-md', 'vol0', data='no', rc=1, out=out, err=err)])
    result, failed = run(mock, {})
    assert failed and result['rc'] == 1
    assert ('drbdmeta said: "md_offset 16773120 al_offset 16740352 bm_offset 16736256 Found some data ==> This '
            'might destroy existing data! <== Operation canceled. Do you want to proceed? stdin not a TTY, not '
            'waiting for confirmation"') in result['msg']
    assert advised_commands(result['msg']) == ['dd if=/dev/zero of=/dev/sdb bs=68K count=1 oflag=direct']
    assert 'drbd_safe_mode=false' in result['msg']


def test_missing_backing_device(host):
    mock = host([])
    result, failed = run(mock, {'backing_device': '/nonexistent/sdz'})
    assert failed and 'cannot stat' in result['msg'] and 'vol0' in result['msg']
