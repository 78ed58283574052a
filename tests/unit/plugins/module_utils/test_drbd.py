# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parsers and safety decisions of module_utils/drbd.py, on real captured outputs
(tests/fixtures/drbd/README.md says where each one comes from)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os

import pytest

from ansible_collections.rdma.ha_storage.plugins.module_utils import drbd

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'fixtures', 'drbd')


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return handle.read()


# ---------------------------------------------------------------- /proc/drbd (8.4)

def test_proc_ganeti_version_and_devices():
    parsed = drbd.parse_proc_drbd(fixture('proc_drbd_84_ganeti.txt'))
    assert parsed['version'] == '8.4.2'
    assert parsed['api'] == '1'
    assert parsed['proto'] == '86-101'
    assert [d['minor'] for d in parsed['devices']] == [0, 1, 2, 4, 6, 8]
    first = parsed['devices'][0]
    assert (first['cs'], first['role'], first['peer_role']) == ('Connected', 'Primary', 'Secondary')
    assert (first['disk_state'], first['peer_disk_state']) == ('UpToDate', 'UpToDate')
    assert (first['protocol'], first['flags']) == ('C', 'r-----')
    assert first['stats']['ns'] == 1048576
    assert first['stats']['oos'] == 0
    assert first['stats']['wo'] == 'f'
    assert first['sync'] is None


def test_proc_standalone_without_protocol_letter():
    parsed = drbd.parse_proc_drbd(fixture('proc_drbd_84_ganeti.txt'))
    dev = [d for d in parsed['devices'] if d['minor'] == 8][0]
    assert dev['cs'] == 'StandAlone'
    assert dev['protocol'] is None
    assert dev['flags'] == 'r-----'
    assert dev['stats']['oos'] == 1048320


def test_proc_unconfigured_minor_has_no_state():
    parsed = drbd.parse_proc_drbd(fixture('proc_drbd_84_ganeti.txt'))
    dev = [d for d in parsed['devices'] if d['minor'] == 2][0]
    assert dev['cs'] == 'Unconfigured'
    assert dev['role'] is None and dev['stats'] == {}


def test_proc_sync_progress_in_kib():
    parsed = drbd.parse_proc_drbd(fixture('proc_drbd_84_ganeti_sync.txt'))
    dev = [d for d in parsed['devices'] if d['minor'] == 5][0]
    assert dev['cs'] == 'SyncSource'
    assert dev['flags'] == 'r---n-'
    assert dev['sync'] == {
        'kind': 'resync', 'percent': 68.5, 'left_kib': 335744, 'total_kib': 1048576,
        'finish': '0:00:05', 'speed_kib_s': 64800, 'average_speed_kib_s': 64800, 'want_kib_s': None,
    }


def test_proc_8411_sync_in_mib_with_want():
    parsed = drbd.parse_proc_drbd(fixture('proc_drbd_8411_cockpit_17042.txt'))
    assert parsed['version'] == '8.4.11'
    assert parsed['srcversion'] == 'C83CE761848B9DE61379370'
    source, target = parsed['devices']
    assert source['sync']['percent'] == 17.9
    assert source['sync']['left_kib'] == 3134016 * 1024
    assert source['sync']['total_kib'] == 3815352 * 1024
    assert target['cs'] == 'SyncTarget'
    assert target['sync']['want_kib_s'] == 113600
    assert target['sync']['speed_kib_s'] == 100404
    assert target['stats']['oos'] == 1389772624


def test_normalise_84_maps_states_to_drbd9_words():
    parsed = drbd.parse_proc_drbd(fixture('proc_drbd_84_ganeti.txt'))
    res = drbd.normalise_84(parsed, {0: 'vol0', 4: 'vol4'})
    assert sorted(res) == ['minor1', 'minor6', 'minor8', 'vol0', 'vol4']  # minor 2 is Unconfigured
    vol0 = res['vol0']
    assert vol0['connection_state'] == 'Connected'
    assert vol0['replication_state'] == 'Established'
    assert vol0['healthy'] is True
    assert vol0['device'] == '/dev/drbd0'
    assert vol0['out_of_sync_kib'] == 0
    vol4 = res['vol4']
    assert vol4['cs'] == 'WFConnection'
    assert vol4['connection_state'] == 'Connecting'
    assert vol4['replication_state'] == 'Off'
    assert vol4['peer_role'] == 'Unknown' and vol4['peer_disk_state'] == 'DUnknown'
    assert vol4['healthy'] is False
    assert vol4['out_of_sync_kib'] == 1048320
    assert res['minor6']['disk_state'] == 'Diskless'
    assert res['minor6']['healthy'] is False
    assert res['minor8']['connection_state'] == 'StandAlone'


def test_normalise_84_resync_is_connected_and_reports_progress():
    parsed = drbd.parse_proc_drbd(fixture('proc_drbd_8411_cockpit_17042.txt'))
    res = drbd.normalise_84(parsed, {1: 'r1', 2: 'r2'})
    assert res['r1']['connection_state'] == 'Connected'
    assert res['r1']['replication_state'] == 'SyncSource'
    assert res['r1']['resyncing'] is True
    assert res['r1']['sync_percent'] == 17.9
    assert res['r1']['healthy'] is False
    assert res['r2']['replication_state'] == 'SyncTarget'
    assert res['r2']['disk_state'] == 'Inconsistent'
    assert res['r2']['sync_percent'] == 28.9
    assert res['r2']['out_of_sync_kib'] == 1389772624


def test_empty_proc_text():
    parsed = drbd.parse_proc_drbd('')
    assert parsed['version'] is None and parsed['devices'] == []
    assert drbd.normalise_84(parsed) == {}


@pytest.mark.parametrize('version, family', [('8.4.11', '8.4'), ('8.3.8', '8.3'), ('9.2.12', '9'), (None, None)])
def test_version_family(version, family):
    assert drbd.version_family(version) == family


# ---------------------------------------------------------------- drbdsetup status --json (9)

def test_json_issue25_primary_connected():
    res = drbd.normalise_9(drbd.parse_status_json(fixture('status_json_9_ha_cluster_exporter_issue25.json')))
    entry = res['1-single-0']
    assert entry['role'] == 'Primary'
    assert entry['peer_role'] == 'Secondary'
    assert entry['peer'] == 'SLE15-sp1-gm-drbd1145296-node2'
    assert entry['connection_state'] == 'Connected'
    assert entry['replication_state'] == 'Established'
    assert (entry['disk_state'], entry['peer_disk_state']) == ('UpToDate', 'UpToDate')
    assert entry['minor'] == 2 and entry['device'] == '/dev/drbd2'
    assert entry['out_of_sync_kib'] == 0
    assert entry['volumes'][0]['in_sync_percent'] == 100.0
    assert entry['resyncing'] is False and entry['sync_percent'] is None
    assert entry['healthy'] is True
    assert entry['suspended'] is False
    assert entry['connections'] == [{'name': 'SLE15-sp1-gm-drbd1145296-node2', 'peer_node_id': 2,
                                     'connection_state': 'Connected', 'peer_role': 'Secondary'}]


def test_json_exporter_two_resources_secondary():
    res = drbd.normalise_9(drbd.parse_status_json(fixture('status_json_9_ha_cluster_exporter_test.json')))
    assert sorted(res) == ['1-single-0', '1-single-1']
    for entry in res.values():
        assert entry['role'] == 'Secondary' and entry['peer_role'] == 'Primary'
        assert entry['healthy'] is True
    assert res['1-single-1']['minor'] == 3


def test_json_resync_built_from_drbdsetup_source():
    """No public capture of a DRBD 9 resync in JSON was found. This input follows the printf
    formats of drbd-utils user/v9/drbdsetup.c (resource_status_json, device_status_json,
    connection_status_json, peer_device_status_json with has-sync-details); values are ours."""
    text = '''[
{
  "name": "vol0", "node-id": 1, "role": "Secondary", "suspended": false, "write-ordering": "flush",
  "devices": [ { "volume": 0, "minor": 0, "disk-state": "Inconsistent", "client": false, "quorum": true,
                 "size": 1048576, "read": 0, "written": 524288, "al-writes": 0, "bm-writes": 0,
                 "upper-pending": 0, "lower-pending": 0 } ],
  "connections": [ { "peer-node-id": 0, "name": "stor-a", "connection-state": "Connected", "congested": false,
    "peer-role": "Primary", "ap-in-flight": 0, "rs-in-flight": 4096,
    "peer_devices": [ { "volume": 0, "replication-state": "SyncTarget", "peer-disk-state": "UpToDate",
      "peer-client": false, "resync-suspended": "no", "received": 524288, "sent": 0, "out-of-sync": 524288,
      "pending": 0, "unacked": 0, "has-sync-details": true, "has-online-verify-details": false,
      "percent-in-sync": 50.00, "rs-total": 2097152, "rs-dt-start-ms": 8000, "rs-paused-ms": 0,
      "rs-dt0-ms": 1000, "rs-db0-sectors": 131072, "rs-dt1-ms": 1000, "rs-db1-sectors": 131072,
      "rs-failed": 0, "rs-same-csum": 0, "want": 0.00, "db0/dt0 [MiB/s]": 64.00, "db1/dt1 [MiB/s]": 64.00,
      "estimated-seconds-to-finish": 8, "db/dt [MiB/s]": 64.00, "percent-resync-done": 50.00 } ] } ]
}
]'''
    entry = drbd.normalise_9(drbd.parse_status_json(text))['vol0']
    assert entry['replication_state'] == 'SyncTarget'
    assert entry['resyncing'] is True
    assert entry['sync_percent'] == 50.0
    assert entry['out_of_sync_kib'] == 524288
    assert entry['healthy'] is False


def test_json_standalone_without_connections():
    text = json.dumps([{'name': 'vol0', 'node-id': 0, 'role': 'Primary', 'suspended': False,
                        'write-ordering': 'flush',
                        'devices': [{'volume': 0, 'minor': 0, 'disk-state': 'UpToDate', 'client': False,
                                     'quorum': True}],
                        'connections': []}])
    entry = drbd.normalise_9(drbd.parse_status_json(text))['vol0']
    assert entry['connection_state'] == 'StandAlone'
    assert entry['peer_role'] == 'Unknown' and entry['peer_disk_state'] == 'DUnknown'
    assert entry['healthy'] is False


def test_json_not_a_list():
    with pytest.raises(ValueError):
        drbd.parse_status_json('{"name": "x"}')
    with pytest.raises(ValueError):
        drbd.parse_status_json('status: unrecognized option')


# ---------------------------------------------------------------- generation identifiers

@pytest.mark.parametrize('text, uuid', [
    ('0000000000000004:0000000000000000:0000000000000000:0000000000000000:0:0:0:0:0:0:0\n', 4),
    ('DAF4CF8B81E8C85D:0000000000000000:DB5ED3C3D7D3AEBA:DB5DD3C3D7D3AEBB:1:1:1:1:0:0:0\n', 0xDAF4CF8B81E8C85D),
    ('vol0/0 stor-b: 0000000000000004:0000000000000000:0000000000000000:0000000000000000:0:0:0:0:0:0\n', 4),
    ('No valid meta data found\n', None),
    ('', None),
])
def test_parse_gi(text, uuid):
    assert drbd.parse_gi(text) == uuid


@pytest.mark.parametrize('uuid, fresh', [(4, True), (5, True), (0xDAF4CF8B81E8C85C, False), (0, False), (None, False)])
def test_is_fresh_uuid(uuid, fresh):
    assert drbd.is_fresh_uuid(uuid) is fresh


# ---------------------------------------------------------------- initial promotion safety

def _status(**kw):
    base = dict(role='Secondary', peer_role='Secondary', connection_state='Connected',
                disk_state='Inconsistent', peer_disk_state='Inconsistent')
    base.update(kw)
    return base


def test_initial_sync_allowed_only_for_brand_new_pair():
    allowed, reason = drbd.initial_sync_decision(_status(), True, True)
    assert allowed, reason


@pytest.mark.parametrize('status, local_fresh, peer_fresh, why', [
    (None, True, True, 'not up'),
    (_status(role='Primary'), True, True, 'already Primary'),
    (_status(peer_role='Primary'), True, True, 'already Primary'),
    (_status(disk_state='UpToDate'), True, True, 'UpToDate data'),
    (_status(peer_disk_state='UpToDate'), True, True, 'UpToDate data'),
    (_status(connection_state='Connecting', peer_disk_state='DUnknown'), True, True, 'not connected'),
    (_status(disk_state='Outdated'), True, True, 'not Inconsistent/Inconsistent'),
    (_status(), False, True, 'local metadata is not brand new'),
    (_status(), True, False, "peer's metadata"),
])
def test_initial_sync_refused(status, local_fresh, peer_fresh, why):
    allowed, reason = drbd.initial_sync_decision(status, local_fresh, peer_fresh)
    assert not allowed
    assert why in reason


def test_initial_sync_refused_on_real_uptodate_pair():
    res = drbd.normalise_84(drbd.parse_proc_drbd(fixture('proc_drbd_84_ganeti.txt')), {0: 'vol0'})
    allowed, reason = drbd.initial_sync_decision(res['vol0'], True, True)
    assert not allowed and 'Primary' in reason


def test_initial_sync_refused_during_real_resync():
    res = drbd.normalise_84(drbd.parse_proc_drbd(fixture('proc_drbd_8411_cockpit_17042.txt')), {2: 'r2'})
    allowed, reason = drbd.initial_sync_decision(res['r2'], True, True)
    assert not allowed


# ---------------------------------------------------------------- backing device signatures

def test_blkid_and_wipefs_parsers():
    values = drbd.parse_blkid_export('DEVNAME=/dev/sdb\nUUID=1b2c\nVERSION=1.0\nTYPE=ext4\nUSAGE=filesystem\n')
    assert values['TYPE'] == 'ext4' and values['USAGE'] == 'filesystem'
    entries = drbd.parse_wipefs('# offset,uuid,label,type\n0x438,1b2c-33,,ext4\n0x1fe,,,dos\n')
    assert entries == [{'offset': '0x438', 'uuid': '1b2c-33', 'label': '', 'type': 'ext4'},
                       {'offset': '0x1fe', 'uuid': '', 'label': '', 'type': 'dos'}]


@pytest.mark.parametrize('rc, blkid, wipefs, foreign, is_drbd', [
    (2, '', '', [], False),                                                     # blank disk
    (0, 'TYPE=ext4\nUSAGE=filesystem\n', '0x438,u,,ext4\n', ['ext4 (filesystem)'], False),
    (0, 'PTTYPE=gpt\n', '0x200,,,gpt\n0x1fe,,,PMBR\n', ['partition table gpt', 'partition table PMBR'], False),
    (0, 'TYPE=LVM2_member\nUSAGE=raid\n', '0x218,u,,LVM2_member\n', ['LVM2_member (raid)'], False),
    (0, 'TYPE=drbd\nUSAGE=raid\n', '0x3ffff000,,,drbd\n', [], True),           # DRBD's own metadata
    (8, '', '0x438,u,,ext4\n0x0,,,xfs\n', ['ambivalent probe result (several signatures)', 'ext4', 'xfs'], False),
    (2, '', '0x0,,,swap\n', ['swap'], False),                                   # found by wipefs only
])
def test_classify_signatures(rc, blkid, wipefs, foreign, is_drbd):
    found, drbd_md = drbd.classify_signatures(rc, drbd.parse_blkid_export(blkid), drbd.parse_wipefs(wipefs))
    assert found == foreign
    assert drbd_md is is_drbd


@pytest.mark.parametrize('rc, out, err, state', [
    (0, '# DRBD meta data dump\n# 2026-11-26\nversion "v08";\n', '', 'present'),
    (255, '', 'No valid meta data found\n', 'absent'),
    (255, 'No valid meta data found\n', "Command 'drbdmeta 0 v08 /dev/vdb internal dump-md' terminated with exit code 255\n",
     'absent'),
    (20, '', "Device '0' is configured!\n", 'present'),
    (255, '', 'Found meta data is "unclean", please apply-al first\n', 'present'),
    (20, '', "'/var/tmp/a.img' is not a block device!\n", 'unknown'),
    (255, '', '', 'unknown'),
    (0, '', '', 'unknown'),
])
def test_metadata_state(rc, out, err, state):
    assert drbd.metadata_state(rc, out, err) == state


def test_mask_hides_secret():
    cmd = "Command 'drbdsetup-84 connect vol0 --shared-secret=s3cr3t --cram-hmac-alg=sha256' terminated"
    assert 's3cr3t' not in drbd.mask(cmd, 's3cr3t')
    assert drbd.mask(cmd, '') == cmd


# ---------------------------------------------------------------- this project's lab (8.4.11)

@pytest.mark.parametrize('name, role, peer_role, ns, nr', [
    ('proc_drbd_8411_lab_primary.txt', 'Primary', 'Secondary', 262100, 0),
    ('proc_drbd_8411_lab_secondary.txt', 'Secondary', 'Primary', 0, 262100),
])
def test_lab_pair_after_initial_sync(name, role, peer_role, ns, nr):
    parsed = drbd.parse_proc_drbd(fixture(name))
    assert parsed['version'] == '8.4.11'
    assert parsed['srcversion'] == 'B536C32A3EADA868561EFD9'
    (dev,) = parsed['devices']
    assert dev['stats']['ns'] == ns and dev['stats']['nr'] == nr
    vol0 = drbd.normalise_84(parsed, {0: 'vol0'})['vol0']
    assert (vol0['role'], vol0['peer_role']) == (role, peer_role)
    assert vol0['connection_state'] == 'Connected' and vol0['replication_state'] == 'Established'
    assert vol0['healthy'] is True and vol0['out_of_sync_kib'] == 0
    # a synced pair with a Primary is never promoted again
    allowed, dummy = drbd.initial_sync_decision(vol0, True, True)
    assert not allowed
