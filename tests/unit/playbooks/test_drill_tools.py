# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The failover drill's tools (playbooks/files/drill/) on files standing in for the volume: the
writer's blocks, the checker's verdicts (lost, corrupted, a write in flight), the waiter, the
journal classifier, the clock probe and the report's phases and problems."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

DRILL = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..',
                                      'playbooks', 'files', 'drill'))
sys.path.insert(0, DRILL)

import drill_events  # noqa: E402
import drill_report  # noqa: E402
import srp_disks  # noqa: E402
import writer  # noqa: E402

BLOCKS = 8


def tool(name, *args, stdin=None, timeout=60):
    return subprocess.run([sys.executable, os.path.join(DRILL, name), *map(str, args)], input=stdin,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=timeout,
                          check=False)


@pytest.fixture
def volume(tmp_path):
    """A zeroed 'device' of BLOCKS blocks on a file system that takes O_DIRECT (tmpfs does not)."""
    path = tmp_path / 'vol'
    path.write_bytes(b'\0' * writer.BLOCK * BLOCKS)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_DIRECT))
    except OSError:
        pytest.skip('O_DIRECT is not supported on %s' % tmp_path)
    return path


def write_run(volume, log, seconds='0.3'):
    r = tool('writer.py', volume, log, '--blocks', BLOCKS, '--seconds', seconds)
    assert r.returncode == 0, r.stderr
    return log.read_text()


def test_writer_logs_every_acknowledged_write_and_the_checker_finds_them(volume, tmp_path):
    text = write_run(volume, tmp_path / 'log')
    acks = [line for line in text.splitlines() if line.endswith(' ok')]
    assert len(acks) > BLOCKS   # several rounds over the slots
    assert text.startswith('start ') and text.splitlines()[-1].startswith('end ')
    r = tool('check_writes.py', volume, BLOCKS, stdin=text)
    result = json.loads(r.stdout)
    assert r.returncode == 0
    assert result['acknowledged'] == len(acks) and result['slots'] == BLOCKS
    assert result['lost'] == [] and result['corrupted'] == [] and result['errors'] == []
    assert result['longest_pause']['seconds'] >= 0 and result['first_wall'] <= result['last_wall']


def test_an_older_block_is_lost_and_a_damaged_one_corrupted(volume, tmp_path):
    text = write_run(volume, tmp_path / 'log')
    acks = [line.split() for line in text.splitlines() if line.endswith(' ok')]
    last = {int(a[0]) % BLOCKS: int(a[0]) for a in acks}
    with open(volume, 'r+b') as handle:
        # slot 1: the previous round's write (what a node that missed the last write would hold)
        older = last[1] - BLOCKS
        handle.seek(1 * writer.BLOCK)
        handle.write(writer.block_for(older, 0.0) if older >= 0 else b'\0' * writer.BLOCK)
        # slot 2: one flipped byte in the pattern
        handle.seek(2 * writer.BLOCK + 100)
        byte = handle.read(1)
        handle.seek(2 * writer.BLOCK + 100)
        handle.write(bytes([byte[0] ^ 0xff]))
        # slot 3: a valid block of slot 4 (a misdirected write)
        handle.seek(3 * writer.BLOCK)
        handle.write(writer.block_for(last[4], 0.0))
    r = tool('check_writes.py', volume, BLOCKS, stdin=text)
    result = json.loads(r.stdout)
    assert r.returncode == 1
    assert [x['slot'] for x in result['lost']] == [1]
    assert sorted(x['slot'] for x in result['corrupted']) == [2, 3]
    assert 'checksum' in result['corrupted'][0]['found'] and 'of slot 4' in result['corrupted'][1]['found']


def test_a_write_in_flight_at_the_cut_is_not_lost_but_one_never_issued_is_corrupt(volume, tmp_path):
    text = write_run(volume, tmp_path / 'log')
    acks = [int(line.split()[0]) for line in text.splitlines() if line.endswith(' ok')]
    highest = acks[-1]
    # the writer issued highest + 1 when the node died: on disk, no acknowledgement
    in_flight = highest + 1
    with open(volume, 'r+b') as handle:
        handle.seek((in_flight % BLOCKS) * writer.BLOCK)
        handle.write(writer.block_for(in_flight, 0.0))
    assert json.loads(tool('check_writes.py', volume, BLOCKS, stdin=text).stdout)['corrupted'] == []
    with open(volume, 'r+b') as handle:
        never = highest + 1 + BLOCKS
        handle.seek((never % BLOCKS) * writer.BLOCK)
        handle.write(writer.block_for(never, 0.0))
    result = json.loads(tool('check_writes.py', volume, BLOCKS, stdin=text).stdout)
    assert [x['slot'] for x in result['corrupted']] == [never % BLOCKS]
    assert 'never issued' in result['corrupted'][0]['found']


def test_the_checker_reports_the_writers_errors_and_refuses_bad_arguments(volume, tmp_path):
    log = '0 1.0 100.0 ok\n1 5.0 104.0 error 5 Input/output error\n'
    with open(volume, 'r+b') as handle:
        handle.write(writer.block_for(0, 100.0))
    result = json.loads(tool('check_writes.py', volume, BLOCKS, stdin=log).stdout)
    assert result['errors'] == ['1 5.0 104.0 error 5 Input/output error'] and result['lost'] == []
    r = tool('check_writes.py', volume, 'x', stdin=log)
    assert r.returncode == 2 and 'usage' in r.stderr


def test_wait_acks_counts_only_later_writes_and_stops_the_writer(tmp_path):
    log = tmp_path / 'log'
    log.write_text('0 1.0 100.0 ok\n')   # an earlier run's, by its monotonic time
    stop = tmp_path / 'stop'
    r = tool('wait_acks.py', log, 1, '--timeout', '0.5', '--stop', stop)
    assert r.returncode == 1 and 'only 0 of 1' in r.stderr and stop.exists()
    stop.unlink()
    proc = subprocess.Popen([sys.executable, os.path.join(DRILL, 'wait_acks.py'), str(log), '2', '--stop', str(stop),
                             '--timeout', '20'], stdout=subprocess.PIPE, universal_newlines=True)
    import time
    time.sleep(0.5)
    now = time.monotonic()
    with open(log, 'a') as handle:
        handle.write('1 %f 101.0 ok\n2 %f 102.0 ok\n' % (now, now + 0.01))
    out = proc.communicate(timeout=30)[0]
    assert proc.returncode == 0 and json.loads(out)['acknowledged'] == 2 and stop.exists()


def test_wait_acks_gives_up_at_the_writers_first_error(tmp_path):
    import time
    log = tmp_path / 'log'
    log.write_text('1 %f 101.0 error 5 Input/output error\n' % (time.monotonic() + 5))
    r = tool('wait_acks.py', log, 10, '--timeout', '30')
    assert r.returncode == 1 and 'I/O error' in r.stderr


JOURNAL = [
    {'__REALTIME_TIMESTAMP': '1000000000', 'SYSLOG_IDENTIFIER': 'corosync',
     'MESSAGE': 'A processor failed, forming new configuration: token timed out (1000ms)'},
    {'__REALTIME_TIMESTAMP': '1001000000', 'SYSLOG_IDENTIFIER': 'pacemaker-controld',
     'MESSAGE': 'Requesting fencing (reboot) targeting node storage-a'},
    {'__REALTIME_TIMESTAMP': '1005000000', 'SYSLOG_IDENTIFIER': 'pacemaker-fenced',
     'MESSAGE': "Operation 'reboot' [1234] targeting storage-a using fence_storage-a returned 0 (OK)"},
    {'__REALTIME_TIMESTAMP': '1006000000', 'SYSLOG_IDENTIFIER': 'kernel',
     'MESSAGE': 'block drbd0: role( Secondary -> Primary ) '},
    {'__REALTIME_TIMESTAMP': '1007000000', 'SYSLOG_IDENTIFIER': 'pacemaker-controld',
     'MESSAGE': 'Result of start operation for srpt_lab on storage-b: ok'},
    {'__REALTIME_TIMESTAMP': '1007500000', 'SYSLOG_IDENTIFIER': 'systemd', 'MESSAGE': 'Started something.'},
    {'__REALTIME_TIMESTAMP': '1008000000', 'SYSLOG_IDENTIFIER': 'kernel', 'MESSAGE': list(b'drbd vol0: Split-Brain detected')},
    {'__REALTIME_TIMESTAMP': '1009000000', 'SYSLOG_IDENTIFIER': 'crm-unfence-peer.sh', 'MESSAGE': 'DRBD_CONF=/etc/drbd.conf'},
    {'__REALTIME_TIMESTAMP': '1009100000', 'SYSLOG_IDENTIFIER': 'kernel',
     'MESSAGE': 'drbd vol0: fence-peer helper returned 4 (peer was fenced)'},
]


# The initiator's lines, as its journal held them in a lab drill (2026-12-02), times shifted
INITIATOR_JOURNAL = [
    {'__REALTIME_TIMESTAMP': '1002300000', 'SYSLOG_IDENTIFIER': 'rdma-srp-login',
     'MESSAGE': 'target storage-a (10.77.1.11:5555 via srp-rxe0-1): does not answer pings (2 missed)'},
    {'__REALTIME_TIMESTAMP': '1002400000', 'SYSLOG_IDENTIFIER': 'rdma-srp-login',
     'MESSAGE': 'target storage-a (10.77.1.11): lost while logged in (SCSI host 3; volumes vol0)'},
    {'__REALTIME_TIMESTAMP': '1002500000', 'SYSLOG_IDENTIFIER': 'multipathd', 'MESSAGE': 'vol0: remaining active paths: 0'},
    {'__REALTIME_TIMESTAMP': '1003000000', 'SYSLOG_IDENTIFIER': 'rdma-srp-login',
     'MESSAGE': 'target storage-a (10.77.1.11:5555 via srp-rxe0-1): login accepted'},
    {'__REALTIME_TIMESTAMP': '1003500000', 'SYSLOG_IDENTIFIER': 'rdma-srp-login',
     'MESSAGE': 'target storage-b (10.77.1.12:5555 via srp-rxe0-1): login failed: Connection reset by peer (ECONNRESET); retrying'},
    {'__REALTIME_TIMESTAMP': '1004000000', 'SYSLOG_IDENTIFIER': 'rdma-srp-login',
     'MESSAGE': 'target storage-b (10.77.1.12:5555 via srp-rxe0-1): the login has been waiting for the kernel for over 5 s '
                '(no answer from the node yet); no other login to it starts meanwhile'},
    {'__REALTIME_TIMESTAMP': '1007900000', 'SYSLOG_IDENTIFIER': 'rdma-srp-login',
     'MESSAGE': 'target storage-b: that login took 9 s in the kernel'},
    {'__REALTIME_TIMESTAMP': '1007950000', 'SYSLOG_IDENTIFIER': 'rdma-srp-login',
     'MESSAGE': 'target storage-b: 40 logins failed in a row in 60 s (the last: Connection reset by peer (ECONNRESET)); retrying'},
    {'__REALTIME_TIMESTAMP': '1008000000', 'SYSLOG_IDENTIFIER': 'rdma-srp-login',
     'MESSAGE': 'target storage-b (10.77.1.12:5555 via srp-rxe0-1): login accepted'},
    {'__REALTIME_TIMESTAMP': '1009000000', 'SYSLOG_IDENTIFIER': 'multipathd', 'MESSAGE': 'sdb [8:16]: path added to devmap vol0'},
    {'__REALTIME_TIMESTAMP': '1009100000', 'SYSLOG_IDENTIFIER': 'multipathd', 'MESSAGE': '8:16: reinstated'},
]


def test_drill_events_classifies_the_initiators_lines():
    events = drill_events.events_from([json.dumps(e) for e in INITIATOR_JOURNAL])
    assert [e['phase'] for e in events] == ['target_lost', 'target_login'] + ['login_trouble'] * 4 + [
        'target_login', 'path_up', 'path_up']
    assert events[0]['unit'] == 'rdma-srp-login' and events[7]['unit'] == 'multipathd'


def test_drill_events_classifies_journal_lines():
    events = drill_events.events_from([json.dumps(e) for e in JOURNAL] + ['not json'])
    assert [e['phase'] for e in events] == ['peer_lost', 'fence_requested', 'fence_confirmed', 'promoted', 'op',
                                            'split_brain', 'unfence_peer', 'fence_peer']
    assert events[0]['time'] == 1000.0 and events[0]['unit'] == 'corosync'
    assert drill_events.summary(events)['fence_confirmed'] == 1005.0


@pytest.mark.parametrize('message, phase', [
    ('Initiating notify operation drbd_vol0_pre_notify_promote_0 locally on storage-b', 'op_initiated'),
    ('Initiating promote operation drbd_vol0_promote_0 on storage-b', 'op_initiated'),
    ('Result of notify operation for drbd_vol0 on storage-b: ok', 'op'),
    ('High CPU load detected: 3.460000', 'throttle'),
    ('Extreme CIB load detected: 1.250000', 'throttle'),
    ('srpt_lab_start_0[2345] error output [ lio_srpt: start took 0.85 s ]', 'agent_took'),
    ('Initiating start of the hypothetical', None),
])
def test_drill_events_classifies_the_transition_steps(message, phase):
    assert drill_events.classify(message, 'pacemaker-controld') == phase


def test_srp_disks_waits_for_a_running_path_under_the_map(monkeypatch, capsys):
    states = iter([
        {'srp_hosts': {}, 'disks': []},
        {'srp_hosts': {}, 'disks': [{'name': 'sdb', 'maps': ['vol0'], 'state': 'blocked'}]},
        {'srp_hosts': {}, 'disks': [{'name': 'sdb', 'maps': ['vol0'], 'state': 'running'},
                                    {'name': 'sdc', 'maps': ['vol1'], 'state': 'running'}]},
    ])
    monkeypatch.setattr(srp_disks, 'collect', lambda: next(states))
    monkeypatch.setattr(srp_disks.time, 'sleep', lambda seconds: None)
    srp_disks.main(['--wait-map', 'vol0', '--timeout', '60'])
    printed = json.loads(capsys.readouterr().out)
    assert [d['name'] for d in srp_disks.running_under(printed, 'vol0')] == ['sdb']


def test_srp_disks_prints_what_it_has_when_no_path_comes():
    r = tool('srp_disks.py', '--wait-map', 'vol0', '--timeout', '1.5')
    assert r.returncode == 0 and srp_disks.running_under(json.loads(r.stdout), 'vol0') == []


def drill(**extra):
    events = {'storage-b': {'events': drill_events.events_from([json.dumps(e) for e in JOURNAL[:5]])}}
    data = {
        'kind': 'power_cut', 'pair': 'lab', 'volume': 'vol0', 'initiator': 'initiator-1',
        'nodes': ['storage-a', 'storage-b'], 'primary_before': 'storage-a', 'serving': 'storage-b',
        'cut': {'node': 'storage-a', 'method': 'lab', 'time': 999.5, 'netdev': None},
        # the initiator's clock is 2 s ahead of the controller's, storage-b's 0.5 s behind
        'clocks': {'initiator-1': {'offset': 2.0, 'error': 0.01}, 'storage-b': {'offset': -0.5, 'error': 0.01}},
        'writer_log': 'start 1 1 blocks 8\n0 10.0 1000.0 ok\n1 10.1 1001.4 ok\n2 18.0 1009.5 ok\n3 18.1 1009.6 ok\n',
        'check': {'acknowledged': 4, 'slots': 4, 'lost': [], 'corrupted': [], 'errors': [],
                  'longest_pause': {'seconds': 7.9}},
        'events': events, 'restore': {'time': 1020.0, 'settled_time': 1100.0},
    }
    data.update(extra)
    return data


def test_report_puts_the_phases_on_the_controllers_clock():
    r = drill_report.report(drill())
    p = r['phases']
    assert r['passed'] and r['problems'] == []
    assert p['peer_lost'] == 1.0          # 1000.0 on storage-b = 1000.5 on the controller, cut at 999.5
    assert p['fence_confirmed'] == 6.0 and p['promoted'] == 7.0 and p['export_started'] == 8.0
    assert p['last_ack_before_cut'] == -0.1 and p['first_ack_after_cut'] == 8.0   # 1009.5 - 2 - 999.5
    assert p['io_pause'] == 8.1 and p['io_resumed'] == 8.0 and p['resynced'] == 80.0


def test_report_times_the_initiators_side_and_the_login_to_the_node_that_took_over():
    events = {'storage-b': {'events': drill_events.events_from([json.dumps(e) for e in JOURNAL[:5]])},
              'initiator-1': {'events': drill_events.events_from([json.dumps(e) for e in INITIATOR_JOURNAL])}}
    p = drill_report.report(drill(events=events))['phases']
    # the initiator's clock is 2 s ahead: storage-a lost at 1002.4 there is 1000.4 here, the cut 999.5
    assert p['target_lost'] == 0.9
    # a login to storage-a (1003.0) is not the survivor's; storage-b's at 1008.0 is
    assert p['target_login'] == 6.5 and p['path_up'] == 7.5
    assert drill_report.report(drill())['phases']['target_login'] is None   # no initiator journal


def test_the_io_pause_of_a_replication_cut_comes_after_the_cut():
    # the writes go on for 2 s after the cut, then wait 7 s for the fence-peer handler
    log = '0 1.0 1000.0 ok\n1 1.1 1001.0 ok\n2 3.1 1003.0 ok\n3 10.1 1010.0 ok\n4 10.2 1010.1 ok\n'
    r = drill_report.report(drill(kind='replication_cut', serving='storage-a', writer_log=log, events={},
                                  clocks={}, cut={'node': 'storage-a', 'method': 'lab', 'time': 1001.5}))
    assert r['passed'], r['problems']
    assert r['phases']['first_ack_after_cut'] == 1.5 and r['phases']['io_pause'] == 7.0
    assert r['phases']['io_resumed'] == 8.5


def test_a_fabric_cut_is_a_switchover_the_demotion_before_the_promotion():
    def line(t, unit, message):
        return json.dumps({'__REALTIME_TIMESTAMP': str(int(t * 1e6)), 'SYSLOG_IDENTIFIER': unit, 'MESSAGE': message})
    events = {
        'storage-a': {'events': drill_events.events_from([line(1004.0, 'kernel', 'block drbd0: role( Primary -> Secondary ) ')])},
        'storage-b': {'events': drill_events.events_from([
            line(1005.0, 'kernel', 'block drbd0: role( Secondary -> Primary ) '),
            line(1007.0, 'pacemaker-controld', 'Result of start operation for srpt_lab on storage-b: ok')])},
    }
    r = drill_report.report(drill(kind='fabric_cut', events=events, clocks={}))
    assert r['passed'], r['problems']
    assert r['phases']['demoted'] == 4.5 and r['phases']['promoted'] == 5.5 and r['phases']['export_started'] == 7.5
    assert r['phases']['fence_requested'] is None


def test_a_write_acknowledged_just_after_the_cut_is_not_the_takeover():
    # the old Primary acknowledged a write in flight 0.04 s after the cut; the new path's first is at 175 s
    log = '0 1.0 1000.0 ok\n1 1.1 1001.46 ok\n2 176.0 1176.6 ok\n3 176.1 1176.7 ok\n'
    r = drill_report.report(drill(writer_log=log, clocks={}, cut={'node': 'storage-a', 'method': 'lab', 'time': 1001.42}))
    p = r['phases']
    assert p['first_ack_after_cut'] == 0.04 and p['io_pause'] == 175.14 and p['io_resumed'] == 175.18


@pytest.mark.parametrize('change, problem', [
    ({'check': {'acknowledged': 4, 'lost': [{'slot': 1}], 'corrupted': [], 'errors': []}}, '1 acknowledged write(s) lost'),
    ({'check': {'acknowledged': 4, 'lost': [], 'corrupted': [], 'errors': ['5 1 1 error 5 EIO']}}, 'I/O errors'),
    ({'check': {}}, 'not checked'),
    ({'serving': 'storage-a'}, 'not by its peer storage-b'),
    ({'writer_log': '0 10.0 990.0 ok\n'}, 'no write was acknowledged after the cut'),
    ({'kind': 'replication_cut', 'serving': 'storage-a'}, 'two Primaries: storage-b was promoted'),
    ({'kind': 'replication_cut'}, 'moved to storage-b on a replication cut'),
    ({'kind': 'fabric_cut', 'serving': 'storage-a'}, 'after the fabric cut of storage-a the volume is served by storage-a'),
    # JOURNAL[:5]: storage-b fenced storage-a and was promoted, and storage-a never demoted
    ({'kind': 'fabric_cut'}, 'two Primaries: storage-b was promoted before storage-a was demoted'),
    ({'kind': 'fabric_cut'}, 'storage-b asked to fence storage-a after a fabric cut'),
])
def test_report_names_what_failed(change, problem):
    r = drill_report.report(drill(**change))
    assert not r['passed'] and any(problem in p for p in r['problems']), r['problems']


def test_report_is_written_and_bad_input_is_refused(tmp_path):
    r = tool('drill_report.py', 'report', '--dir', tmp_path, stdin=json.dumps(drill()))
    out = json.loads(r.stdout)
    assert r.returncode == 0 and out['passed'] and os.path.basename(out['file']).startswith('drill-power_cut-')
    assert json.load(open(out['file']))['phases'] == out['phases']
    r = tool('drill_report.py', 'report', stdin='{"kind": "power_cut"}')
    assert r.returncode == 2 and 'bad input' in r.stderr


def test_preflight_lists_everything_that_keeps_the_pair_from_a_drill():
    ok = {'role': 'Primary', 'disk': 'UpToDate', 'connection': 'Connected', 'fence_constraints': False}
    states = {'volume': 'vol0', 'initiator': 'initiator-1', 'paths': 1,
              'nodes': {'storage-a': ok, 'storage-b': dict(ok, role='Secondary')}}
    assert drill_report.preflight(states) == {'problems': [], 'primary': 'storage-a'}
    bad = dict(states, paths=0, nodes={
        'storage-a': dict(ok, disk='Inconsistent', connection='StandAlone', fence_constraints=True),
        'storage-b': {'role': 'down'}})
    r = drill_report.preflight(bad)
    assert r['primary'] == 'storage-a'
    assert r['problems'] == [
        'storage-a: vol0 is Inconsistent, not UpToDate (a resync not finished, or failed)',
        'storage-a: vol0 is StandAlone, not Connected to its peer',
        'storage-a: the CIB holds drbd-fence-by-handler constraints (they go when the peer has resynced)',
        'storage-b: DRBD resource vol0 is not up',
        'initiator-1: no running SRP path under the multipath map vol0']
    two = dict(states, nodes={'storage-a': ok, 'storage-b': ok})
    assert drill_report.preflight(two)['problems'] == ['the pair has 2 Primaries of vol0 (storage-a, storage-b), not one']


def test_clock_probe_measures_a_local_shell():
    # `bash -c 'eval "$*"' x` stands in for ssh: it joins the words into one shell command, as ssh does
    r = tool('clock_probe.py', stdin=json.dumps({'here': ['bash', '-c', 'eval "$*"', 'x'],
                                                 'gone': ['false']}))
    out = json.loads(r.stdout)
    assert abs(out['here']['offset']) < 0.05 and out['here']['error'] < 0.05
    assert 'error_text' in out['gone'] and r.returncode == 1


def test_drill_events_keeps_the_srp_kernel_lines():
    lines = [
        {'__REALTIME_TIMESTAMP': '1000000000', 'SYSLOG_IDENTIFIER': 'kernel', 'MESSAGE': 'scsi host3: ib_srp: REJ received'},
        {'__REALTIME_TIMESTAMP': '1000100000', 'SYSLOG_IDENTIFIER': 'kernel',
         'MESSAGE': 'ib_srpt Received SRP_LOGIN_REQ with i_port_id fe80:0000:0000:0000'},
        {'__REALTIME_TIMESTAMP': '1000200000', 'SYSLOG_IDENTIFIER': 'kernel',
         'MESSAGE': 'INFO: task kworker/0:1:42 blocked for more than 120 seconds.'},
        {'__REALTIME_TIMESTAMP': '1000300000', 'SYSLOG_IDENTIFIER': 'kernel', 'MESSAGE': 'eth0: link up'},
        # the login service names ib_srp too; its lines are its own phases, or none
        {'__REALTIME_TIMESTAMP': '1000400000', 'SYSLOG_IDENTIFIER': 'rdma-srp-login',
         'MESSAGE': 'target a (10.0.0.1:5555 via srp-rxe0-1): SRP host /x is not there (ib_srp not loaded); retrying'},
    ]
    events = drill_events.events_from([json.dumps(e) for e in lines])
    assert [e['phase'] for e in events] == ['srp_kernel'] * 3


def test_drill_events_caps_the_srp_kernel_lines_only():
    events = [{'phase': 'srp_kernel', 'n': n} for n in range(drill_events.KERNEL_EVENTS + 50)] + [{'phase': 'promoted'}]
    kept = drill_events.capped(events)
    assert len(kept) == drill_events.KERNEL_EVENTS + 1 and kept[-1] == {'phase': 'promoted'}
    assert kept[drill_events.KERNEL_EVENTS - 1]['n'] == drill_events.KERNEL_EVENTS - 1
