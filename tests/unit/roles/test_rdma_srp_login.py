# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""roles/srp_initiator/files/rdma_srp_login.py, the SRP login service of the srp_initiator role
(installed as /usr/local/sbin/rdma-srp-login behind a #! line, templates/rdma-srp-login.j2).

The state machine runs against fakes of everything it touches (the kernel's sysfs, the pinger,
`ip`, the clock; jobs run inline); the sysfs reading, the reset ioctl, the ICMP packets, `ip`'s
command lines and the command line interface are tested on their own, against a temporary tree
and injected system calls. Nothing here needs RDMA, root or a network."""

from __future__ import absolute_import, division, print_function

import errno
import importlib.machinery
import importlib.util
import ipaddress
import json
import os
import signal
import struct
import subprocess
import threading
import time

import pytest

from helpers import TOP

_PATH = str(TOP / 'roles' / 'srp_initiator' / 'files' / 'rdma_srp_login.py')
_LOADER = importlib.machinery.SourceFileLoader('rdma_srp_login', _PATH)
login = importlib.util.module_from_spec(importlib.util.spec_from_loader('rdma_srp_login', _LOADER))
_LOADER.exec_module(login)

A, B = '10.0.0.11', '10.0.0.12'
GUID_A, GUID_B = '505400fffe770111', '505400fffe770112'
EXT = 'fe80000000000000'
SRP_HOST = '/sys/class/infiniband_srp/srp-rxe0-1'


def target(name, address, guid, **extra):
    item = {'name': name, 'pair': 'pair1', 'volumes': ['vol0'], 'srp_host': SRP_HOST, 'id_ext': guid, 'ioc_guid': guid,
            'initiator_ext': EXT, 'dest': '%s:5555' % address, 'options': {'tl_retry_count': 6}}
    item.update(extra)
    return item


def config_dict(**extra):
    data = {'version': 1, 'interval': 1.0, 'failover_interval': 0.25, 'retry_max': 8.0,
            'ping': {'method': 'icmp', 'interval': 0.25, 'timeout': 0.3, 'misses': 2},
            'on_loss': {'block_route': True, 'reset_host': True, 'route_table': 4791, 'rule_priority': 4791},
            'targets': [target('stor-a', A, GUID_A), target('stor-b', B, GUID_B)]}
    data.update(extra)
    return data


def config(**extra):
    return login.load_config(json.dumps(config_dict(**extra)))


# ------------------------------------------------------------------------------------ config
def test_login_string_and_identity():
    cfg = config()
    a = cfg.targets[0]
    assert a.login == 'id_ext=505400fffe770111,ioc_guid=505400fffe770111,initiator_ext=fe80000000000000,dest=10.0.0.11:5555,tl_retry_count=6'
    assert a.key == ('rxe0', 1, GUID_A, GUID_A)
    assert a.address == ipaddress.ip_address(A) and a.volumes == ['vol0']
    assert cfg.ping['misses'] == 2 and cfg.on_loss['route_table'] == 4791 and cfg.retry_max == 8.0


def test_defaults_fill_what_is_left_out():
    data = {'version': 1, 'targets': [target('stor-a', A, GUID_A)]}
    cfg = login.load_config(json.dumps(data))
    assert cfg.interval == 1.0 and cfg.failover_interval == 0.25 and cfg.retry_max == 30.0
    assert cfg.ping == {'method': 'auto', 'interval': 0.25, 'timeout': 0.3, 'misses': 2}
    assert cfg.on_loss['block_route'] is True and cfg.on_loss['reset_host'] is True


def test_ipv6_destination_and_device_names_with_dashes():
    data = config_dict(targets=[target('stor-a', A, GUID_A, dest='[fd00::11]:5555',
                                       srp_host='/sys/class/infiniband_srp/srp-mlx5-bond-0-2')])
    a = login.load_config(json.dumps(data)).targets[0]
    assert a.address.version == 6 and a.login.split(',')[3] == 'dest=[fd00::11]:5555'
    assert (a.device, a.port) == ('mlx5-bond-0', 2)


def test_every_config_problem_is_named():
    data = config_dict(version=2, intervall=1, ping={'method': 'sonar', 'misses': 1.5}, on_loss={'route_table': 254, 'x': 1})
    data['targets'] = [
        target('stor-a', A, '0x505400fffe770111', dest='10.0.0.11', srp_host='/sys/class/infiniband/rxe0'),
        target('stor-a', B, GUID_B, options={'dest': '1.2.3.4:1', 'tl_retry_count': 9, 'max_sect': 'a,b'}),
        target('stor-c', B, GUID_B, initiator_ext='FE80000000000000'),
        {'name': 'stor-d', 'dest': 'fd00::1:5555', 'colour': 'red'},
        'not a mapping',
    ]
    with pytest.raises(login.ConfigError) as info:
        login.load_config(json.dumps(data))
    problems = info.value.problems
    expected = [
        'intervall: unknown setting',
        'version: 2 is not 1',
        "ping.method: 'sonar' is not one of auto, icmp, command, none",
        'ping.misses: 1.5 is not an integer',
        'on_loss.x: unknown setting',
        'on_loss.route_table: 254 is a table of the kernel',
        "targets[0] (stor-a).srp_host: '/sys/class/infiniband/rxe0' is not the path of an SRP host",
        "targets[0] (stor-a).id_ext: '0x505400fffe770111' is not 16 lower-case hex digits (no 0x)",
        "targets[0] (stor-a).dest: '10.0.0.11' is not <IPv4 address>:<port> or [<IPv6 address>]:<port>",
        'targets[1] (stor-a).options.dest: not a login option this service lets you set',
        "targets[1] (stor-a).options.max_sect: 'a,b' is not a login option value",
        'targets[1] (stor-a).options.tl_retry_count: 9 is out of range (2 to 7)',
        "targets[2] (stor-c).initiator_ext: 'FE80000000000000' is not 16 lower-case hex digits",
        'targets[3] (stor-d).colour: unknown setting',
        'targets[3] (stor-d).srp_host: required',
        "targets[3] (stor-d).dest: 'fd00::1:5555' is not <IPv4 address>:<port>",
        'targets[4]: must be a mapping, not str',
    ]
    for text in expected:
        assert any(text in p for p in problems), (text, problems)
    # the valid second target collides with nothing (the first is refused); a third with its GUID does
    data['targets'] = [target('stor-a', A, GUID_A), target('stor-a', B, GUID_B), target('stor-b', B, GUID_A)]
    with pytest.raises(login.ConfigError) as info:
        login.load_config(json.dumps(dict(config_dict(), targets=data['targets'])))
    assert info.value.problems == [
        'targets (stor-a): the name is also used by another target',
        'targets (stor-b): same SRP host, id_ext and ioc_guid as stor-a: ib_srp would refuse the second login (EEXIST); '
        'the storage nodes need different GUIDs']


@pytest.mark.parametrize('text,problem', [
    ('{', 'not JSON'), ('[]', 'must be a JSON object'), ('{"version": 1, "targets": {}}', 'targets: a list of targets is required'),
    ('{"version": 1, "interval": 0, "targets": []}', 'interval: 0 is out of range'),
])
def test_broken_configs(text, problem):
    with pytest.raises(login.ConfigError) as info:
        login.load_config(text)
    assert any(problem in p for p in info.value.problems), info.value.problems


# ------------------------------------------------------------------------------------ fakes
class FakeKernel(object):
    """Logins by key, SRP hosts that exist, add_target answers per target name (None = accepted:
    a SCSI host appears), reset_host answers per host."""

    def __init__(self):
        self.hosts = {}          # key -> [{'host': N, 'state': ...}]
        self.srp_hosts = {SRP_HOST}
        self.answers = {}        # name -> errno (int) or None
        self.reset_answers = {}  # host -> list of errno or None, consumed in order
        self.flush_notes = {}    # host -> what reset_host says of flush_sends
        self.added = []
        self.timeouts = []
        self.resets = []
        self.next_host = 5

    def logins(self):
        return dict((k, [dict(h) for h in v]) for k, v in self.hosts.items() if v)

    def srp_host_exists(self, target):
        return target.srp_host in self.srp_hosts

    def add_target(self, target, timeout=None):
        self.added.append(target.name)
        self.timeouts.append(timeout)
        answer = self.answers.get(target.name)
        if answer is not None:
            raise OSError(answer, os.strerror(answer))
        self.hosts[target.key] = [{'host': self.next_host, 'state': 'running'}]
        self.next_host += 1

    def reset_host(self, host):
        self.resets.append(host)
        answers = self.reset_answers.get(host) or [None]
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if answer is not None:
            raise OSError(answer, os.strerror(answer))
        return '/dev/sg%d' % host, self.flush_notes.get(host, '')

    def state(self, key, value):
        for host in self.hosts.get(key, []):
            host['state'] = value


class FakePinger(object):
    name = 'fake'

    def __init__(self, up=(A, B)):
        self.up = set(up)
        self.rounds = []

    def round(self, addresses, timeout):
        self.rounds.append([str(a) for a in addresses])
        return set(a for a in addresses if str(a) in self.up)

    def close(self):
        pass


class FakeRouter(object):
    def __init__(self):
        self.calls = []
        self.problem = None

    def prepare(self, versions):
        self.calls.append(('prepare', sorted(versions)))
        return []

    def block(self, address):
        self.calls.append(('block', str(address)))
        return self.problem

    def unblock(self, address):
        self.calls.append(('unblock', str(address)))
        return None

    def cleanup(self, versions):
        self.calls.append(('cleanup', sorted(versions)))


class Rig(object):
    """A Service with fakes; tick(dt) advances the clock and runs one step."""

    def __init__(self, cfg=None, up=(A, B)):
        self.kernel = FakeKernel()
        self.pinger = FakePinger(up)
        self.router = FakeRouter()
        self.messages = []
        self.now = 100.0
        self.service = login.Service(cfg or config(), self.kernel, self.pinger, self.router, login.InlineExecutor(),
                                     self.messages.append)

    def tick(self, dt=0.25, times=1):
        for dummy in range(times):
            self.now += dt
            self.service.step(self.now)

    def said(self, text):
        return [m for m in self.messages if text in m]

    def lose_a(self, misses=2):
        """stor-a logs in (first two steps), then stops answering for ``misses`` pings."""
        self.tick(0.25, times=2)
        self.pinger.up = {B}
        self.tick(0.25, times=misses)

    def state(self, name):
        return self.service.states[name]

    def key(self, name):
        return self.state(name).target.key


class HeldExecutor(login.InlineExecutor):
    """Holds the jobs of the keys in ``held`` until release(): a login the kernel keeps waiting."""

    def __init__(self):
        super(HeldExecutor, self).__init__()
        self.held = set()
        self.waiting = {}

    def busy(self, key):
        return key in self.waiting

    def start(self, key, job):
        if key in self.waiting:
            return False
        if key[:2] in self.held:
            self.waiting[key] = job
            return True
        return super(HeldExecutor, self).start(key, job)

    def release(self, kind, name):
        key = (kind, name, None)
        super(HeldExecutor, self).start(key, self.waiting.pop(key))


# ------------------------------------------------------------------------------------ state machine
def test_first_pass_logs_in_every_answering_target():
    rig = Rig()
    rig.kernel.answers['stor-b'] = errno.ECONNRESET      # the standby's target is not enabled
    rig.tick()
    assert rig.kernel.added == ['stor-a', 'stor-b']
    assert rig.pinger.rounds == [[A, B]]
    assert rig.said('target stor-a (10.0.0.11:5555 via srp-rxe0-1): login accepted')
    assert rig.said('target stor-b (10.0.0.12:5555 via srp-rxe0-1): login failed: Connection reset by peer (ECONNRESET); retrying')
    assert rig.router.calls == [('prepare', [4])]
    rig.tick()
    assert rig.said('target stor-a (10.0.0.11:5555 via srp-rxe0-1): logged in: SCSI host 5 (running)')


def test_already_logged_in_targets_are_left_alone():
    rig = Rig()
    rig.kernel.hosts[('rxe0', 1, GUID_A, GUID_A)] = [{'host': 7, 'state': 'blocked'}]
    rig.kernel.answers['stor-b'] = errno.ECONNREFUSED
    rig.tick()
    assert rig.kernel.added == ['stor-b']
    assert rig.said('stor-a (10.0.0.11:5555 via srp-rxe0-1): logged in: SCSI host 7 (blocked)')
    # a change of the remote port's state is logged once
    rig.kernel.state(rig.key('stor-a'), 'running')
    rig.tick(1.0, times=3)
    assert len(rig.said('logged in: SCSI host 7 (running)')) == 1


def test_eexist_counts_as_logged_in():
    rig = Rig(up=(A,))
    rig.kernel.answers['stor-a'] = errno.EEXIST
    rig.tick()
    assert rig.said('stor-a (10.0.0.11:5555 via srp-rxe0-1): already logged in (EEXIST)')
    assert rig.state('stor-a').failures == 0


def test_absent_srp_host_is_retried_and_said_once():
    rig = Rig()
    rig.kernel.srp_hosts = set()
    rig.tick(1.0, times=4)
    assert rig.kernel.added == []
    assert len(rig.said('SRP host /sys/class/infiniband_srp/srp-rxe0-1 is not there (ib_srp not loaded, or no such RDMA port); retrying')) == 2
    rig.kernel.srp_hosts = {SRP_HOST}
    rig.tick(1.0)
    assert rig.kernel.added == ['stor-a', 'stor-b']


def test_standby_is_asked_less_and_less_while_its_pair_is_served():
    rig = Rig()
    rig.kernel.answers['stor-b'] = errno.ECONNRESET
    attempts = []
    for dummy in range(160):          # 40 s in ping steps
        before = len(rig.kernel.added)
        rig.tick(0.25)
        if rig.kernel.added[before:].count('stor-b'):
            attempts.append(rig.now - 100.0)
    gaps = [round(b - a, 2) for a, b in zip(attempts, attempts[1:])]
    # interval 1 s doubling after each refusal, capped at retry_max 8 s
    assert gaps[:5] == [1.0, 2.0, 4.0, 8.0, 8.0], gaps


def test_without_a_running_path_every_target_is_asked_every_interval():
    rig = Rig()
    rig.kernel.answers = {'stor-a': errno.ECONNRESET, 'stor-b': errno.ECONNRESET}   # start-up: nothing enabled yet
    rig.tick(0.25, times=40)
    assert rig.kernel.added.count('stor-a') == 10 and rig.kernel.added.count('stor-b') == 10


def test_lost_target_blocks_the_route_and_resets_its_scsi_host():
    rig = Rig()
    rig.kernel.answers['stor-b'] = errno.ECONNRESET
    rig.tick()
    rig.tick()
    assert rig.state('stor-a').hosts == [{'host': 5, 'state': 'running'}]
    rig.pinger.up = {B}
    rig.tick()             # one miss: nothing yet
    assert rig.kernel.resets == [] and ('block', A) not in rig.router.calls
    rig.tick()             # two misses
    assert rig.router.calls[-1] == ('block', A)
    assert rig.kernel.resets == [5]
    assert rig.said('target stor-a (10.0.0.11): lost while logged in (SCSI host 5; volumes vol0)')
    assert rig.said('target stor-a: route to 10.0.0.11 blocked')
    assert rig.said('target stor-a: SCSI host 5 reset through /dev/sg5')
    # the survivor is now asked at the failover pace, whatever it refused before
    rig.kernel.answers.pop('stor-b')
    before = rig.kernel.added.count('stor-b')
    rig.tick(0.25, times=2)
    assert rig.kernel.added.count('stor-b') == before + 1
    assert rig.state('stor-b').connected
    # no second reset, no login to the lost node, no second block
    rig.tick(0.25, times=8)
    assert rig.kernel.resets == [5] and rig.router.calls.count(('block', A)) == 1
    assert rig.kernel.added.count('stor-a') == 1


def test_a_node_that_is_not_logged_in_is_never_declared_lost():
    rig = Rig()
    rig.kernel.answers['stor-b'] = errno.ECONNRESET
    rig.tick(0.25, times=2)
    rig.pinger.up = {A}
    rig.tick(0.25, times=12)
    assert not rig.state('stor-b').lost and rig.kernel.resets == []
    assert ('block', B) not in rig.router.calls
    assert rig.said('stor-b (10.0.0.12:5555 via srp-rxe0-1): does not answer pings (2 missed)')
    # while it does not answer, no login is tried (it would hang on the dead address)
    tried = rig.kernel.added.count('stor-b')
    rig.tick(1.0, times=20)
    assert rig.kernel.added.count('stor-b') == tried


def test_a_node_that_never_answered_is_still_asked():
    rig = Rig(up=(A,))
    rig.kernel.answers['stor-b'] = errno.ETIMEDOUT
    rig.tick(1.0, times=3)
    assert rig.kernel.added.count('stor-b') >= 2


def test_recovered_node_is_unblocked_and_logged_in_again():
    rig = Rig()
    rig.kernel.answers['stor-b'] = errno.ECONNRESET
    rig.lose_a()
    assert rig.state('stor-a').lost
    # dev_loss_tmo removes its SCSI host while it is away
    rig.kernel.hosts.pop(rig.key('stor-a'))
    rig.tick(0.25, times=4)
    assert rig.kernel.added.count('stor-a') == 1
    assert rig.said('its SCSI host is gone (dev_loss_tmo, or logged out): logging in again')
    rig.pinger.up = {A, B}
    rig.tick(0.25)
    assert rig.router.calls[-1] == ('unblock', A)
    assert rig.said('target stor-a (10.0.0.11): answers again') and rig.said('route to 10.0.0.11 unblocked')
    assert not rig.state('stor-a').lost
    assert rig.kernel.added.count('stor-a') == 2      # in the same step: no wait for the next pass
    rig.tick(0.25)
    assert rig.state('stor-a').connected


def test_recovered_node_with_its_scsi_host_is_left_to_the_kernel():
    rig = Rig()
    rig.lose_a()
    rig.kernel.state(rig.key('stor-a'), 'blocked')
    rig.pinger.up = {A, B}
    rig.tick(0.25, times=4)
    assert rig.kernel.added.count('stor-a') == 1     # ib_srp reconnects it (reconnect_delay)


def test_a_reset_whose_send_queues_were_not_flushed_says_why():
    rig = Rig()
    rig.kernel.answers['stor-b'] = errno.ECONNRESET
    rig.kernel.flush_notes[5] = 'CPU 1: Input/output error (EIO)'
    rig.tick()
    rig.tick()
    rig.pinger.up = {B}
    rig.tick(times=2)
    assert rig.said('target stor-a: SCSI host 5 reset through /dev/sg5 '
                    '(its send queues were not flushed first: CPU 1: Input/output error (EIO))')


def test_reset_of_a_host_in_error_recovery_is_retried():
    rig = Rig()
    rig.kernel.reset_answers[5] = [errno.EAGAIN, errno.EAGAIN, None]
    rig.lose_a(misses=6)
    assert rig.kernel.resets == [5, 5, 5]
    assert len(rig.said('SCSI host 5 is in error recovery; retrying the reset')) == 1
    assert rig.said('SCSI host 5 reset through /dev/sg5')


def test_a_failed_reset_is_said_and_not_repeated():
    rig = Rig()
    rig.kernel.reset_answers[5] = [errno.ENODEV]
    rig.lose_a(misses=6)
    assert rig.kernel.resets == [5]
    assert rig.said('target stor-a: SCSI host 5 reset failed: No such device (ENODEV)')


def test_a_failed_reset_also_says_why_the_send_queues_were_not_flushed(tmp_path):
    sysfs_host(tmp_path, 5)

    def ioctl(fd, request, arg):
        raise OSError(errno.ENXIO, 'reconnect failed')
    kernel = login.Kernel(str(tmp_path), ioctl=ioctl)
    kernel.flush_sends = lambda fd: 'CPU 0: Input/output error (EIO)'
    with pytest.raises(OSError) as info:
        kernel.reset_host(5)
    assert info.value.flush_note == 'CPU 0: Input/output error (EIO)'
    rig = Rig()
    failed = OSError(errno.ENXIO, 'No such device or address')
    failed.flush_note = 'CPU 0: Input/output error (EIO)'

    def reset_host(host):
        raise failed
    rig.kernel.reset_host = reset_host
    rig.lose_a(misses=6)
    assert rig.said('target stor-a: SCSI host 5 reset failed: No such device or address (ENXIO) '
                    '(its send queues were not flushed first: CPU 0: Input/output error (EIO))')


def test_loss_handling_can_be_switched_off():
    cfg = config(on_loss={'block_route': False, 'reset_host': False, 'route_table': 4791, 'rule_priority': 4791})
    rig = Rig(cfg)
    rig.lose_a(misses=4)
    assert rig.state('stor-a').lost and rig.kernel.resets == [] and rig.router.calls == []


def test_a_route_that_cannot_be_blocked_is_said():
    rig = Rig()
    rig.router.problem = 'RTNETLINK answers: Operation not permitted'
    rig.lose_a()
    assert rig.said('cannot block the route to 10.0.0.11: RTNETLINK answers: Operation not permitted')
    assert rig.kernel.resets == [5] and not rig.state('stor-a').blocked


def test_ping_method_none_never_declares_a_loss():
    cfg = config(ping={'method': 'none', 'interval': 0.25, 'timeout': 0.3, 'misses': 2})
    rig = Rig(cfg, up=())
    rig.tick(1.0, times=3)
    assert rig.pinger.rounds == [] and rig.kernel.added == ['stor-a', 'stor-b']


def test_reload_keeps_unchanged_targets_and_unblocks_removed_ones():
    rig = Rig()
    rig.lose_a()
    kept = rig.state('stor-b')
    data = config_dict()
    data['targets'] = [target('stor-b', B, GUID_B), target('stor-c', '10.0.0.13', '505400fffe770113')]
    rig.service.configure(login.load_config(json.dumps(data)))
    assert rig.state('stor-b') is kept and set(rig.service.states) == {'stor-b', 'stor-c'}
    assert rig.router.calls[-1] == ('unblock', A)
    rig.service.close()
    assert rig.router.calls[-1] == ('cleanup', [4])


def test_a_changed_target_starts_afresh():
    rig = Rig()
    rig.tick()
    data = config_dict()
    data['targets'][0]['options'] = {'tl_retry_count': 5}
    old = rig.state('stor-a')
    rig.service.configure(login.load_config(json.dumps(data)))
    assert rig.state('stor-a') is not old and rig.state('stor-b').target.login.endswith('tl_retry_count=6')


def test_step_says_when_it_is_due_again():
    rig = Rig()
    assert rig.service.step(100.0) == pytest.approx(100.25)


# ------------------------------------------------------------------------------------ sysfs
def sysfs_host(root, number, proc='ib_srp', device='rxe0', port=1, guid=GUID_A, state='running', sg=True, disk=True,
               dev_loss_tmo='60'):
    host = root / 'sys' / 'class' / 'scsi_host' / ('host%d' % number)
    host.mkdir(parents=True)
    values = {'proc_name': proc, 'local_ib_device': device, 'local_ib_port': str(port),
              'id_ext': '0x' + guid, 'ioc_guid': '0x' + guid}
    for name, value in values.items():
        (host / name).write_text(value + '\n')
    lun = host / 'device' / ('target%d:0:0' % number) / ('%d:0:0:0' % number)
    if sg:
        (lun / 'scsi_generic' / ('sg%d' % number)).mkdir(parents=True)
        (root / 'dev').mkdir(exist_ok=True)
        (root / 'dev' / ('sg%d' % number)).write_text('')
    if disk:
        (lun / 'block' / 'sdq').mkdir(parents=True)
        (root / 'dev').mkdir(exist_ok=True)
        (root / 'dev' / 'sdq').write_text('')
    if state is not None:
        rport = root / 'sys' / 'class' / 'srp_remote_ports' / ('port-%d:1' % number)
        rport.mkdir(parents=True)
        (rport / 'state').write_text(state + '\n')
        (rport / 'dev_loss_tmo').write_text(dev_loss_tmo + '\n')


def test_kernel_reads_the_logins_from_sysfs(tmp_path):
    sysfs_host(tmp_path, 5)
    sysfs_host(tmp_path, 6, guid=GUID_B, state='fail-fast', dev_loss_tmo='off')
    sysfs_host(tmp_path, 7, guid=GUID_B, device='mlx4_0', port=2, state=None)
    sysfs_host(tmp_path, 1, proc='ahci')
    kernel = login.Kernel(str(tmp_path))
    ports = str(tmp_path / 'sys' / 'class' / 'srp_remote_ports')
    assert kernel.logins() == {
        ('rxe0', 1, GUID_A, GUID_A): [{'host': 5, 'state': 'running', 'port': ports + '/port-5:1', 'dev_loss_tmo': 60}],
        ('rxe0', 1, GUID_B, GUID_B): [{'host': 6, 'state': 'fail-fast', 'port': ports + '/port-6:1', 'dev_loss_tmo': None}],
        ('mlx4_0', 2, GUID_B, GUID_B): [{'host': 7, 'state': None, 'port': None, 'dev_loss_tmo': None}],
    }
    kernel.delete_port(ports + '/port-5:1')
    assert (tmp_path / 'sys' / 'class' / 'srp_remote_ports' / 'port-5:1' / 'delete').read_text() == '1'


def test_kernel_add_target_writes_the_login_string(tmp_path):
    srp_host = tmp_path / SRP_HOST.lstrip('/')
    kernel = login.Kernel(str(tmp_path))
    a = config().targets[0]
    assert not kernel.srp_host_exists(a)
    srp_host.mkdir(parents=True)
    (srp_host / 'add_target').write_text('')
    assert kernel.srp_host_exists(a)
    kernel.add_target(a, 5)      # through the child process that write_with_timeout forks
    assert (srp_host / 'add_target').read_text() == a.login


def test_kernel_resets_through_the_sg_device_first(tmp_path):
    sysfs_host(tmp_path, 5)
    calls = []

    def ioctl(fd, request, arg):
        # the TEST UNIT READY commands were queued before the reset (flush_sends)
        calls.append((os.readlink('/proc/self/fd/%d' % fd), request, struct.unpack('i', arg)[0],
                      os.path.getsize(str(tmp_path / 'dev' / 'sg5'))))
    kernel = login.Kernel(str(tmp_path), ioctl=ioctl)
    assert kernel.scsi_devices(5) == [str(tmp_path / 'dev' / 'sg5'), str(tmp_path / 'dev' / 'sdq')]
    assert kernel.reset_host(5) == (str(tmp_path / 'dev' / 'sg5'), '')
    cpus = len(os.sched_getaffinity(0))
    assert calls == [(str(tmp_path / 'dev' / 'sg5'), 0x2284, 3, cpus * login.SG_IO_HDR.size)]


def test_flush_sends_queues_a_test_unit_ready_from_each_cpu_and_restores_the_affinity(tmp_path):
    assert login.SG_IO_HDR.size == 88       # struct sg_io_hdr on x86_64
    seen = []
    original = os.sched_getaffinity(0)
    real_write = os.write

    def write(fd, data):
        seen.append(os.sched_getaffinity(0))
        return real_write(fd, data)
    kernel = login.Kernel(str(tmp_path))
    path = tmp_path / 'sg0'
    fd = os.open(str(path), os.O_RDWR | os.O_CREAT)
    try:
        login.os.write = write
        assert kernel.flush_sends(fd) == ''
    finally:
        login.os.write = real_write
        os.close(fd)
    assert os.sched_getaffinity(0) == original
    assert seen == [{cpu} for cpu in sorted(original)]
    data = path.read_bytes()
    assert len(data) == len(original) * 88
    fields = login.SG_IO_HDR.unpack(data[:88])
    # interface 'S', no data, a 6-byte CDB at a real address, the timeout; the rest zero
    assert fields[:6] == (ord('S'), login.SG_DXFER_NONE, 6, 0, 0, 0)
    assert fields[6] == 0 and fields[7] != 0 and fields[8] == 0
    assert fields[9] == login.TEST_UNIT_READY_TIMEOUT_MS
    assert login.TEST_UNIT_READY == b'\x00' * 6


def test_flush_sends_says_what_could_not_be_queued(tmp_path):
    path = tmp_path / 'sg0'
    path.write_bytes(b'')
    fd = os.open(str(path), os.O_RDONLY)
    try:
        note = login.Kernel(str(tmp_path)).flush_sends(fd, cpus=[0])
    finally:
        os.close(fd)
    assert note == 'CPU 0: Bad file descriptor (EBADF)'


def test_kernel_reset_falls_back_to_the_disk_and_passes_eagain_on(tmp_path):
    sysfs_host(tmp_path, 5, sg=False)
    answers = [errno.EAGAIN]

    def ioctl(fd, request, arg):
        if answers:
            raise OSError(answers.pop(0), 'busy')
    kernel = login.Kernel(str(tmp_path), ioctl=ioctl)
    with pytest.raises(OSError) as info:
        kernel.reset_host(5)
    assert info.value.errno == errno.EAGAIN
    assert kernel.reset_host(5) == (str(tmp_path / 'dev' / 'sdq'), 'no sg device')
    with pytest.raises(OSError) as info:
        kernel.reset_host(9)
    assert info.value.errno == errno.ENODEV


# ------------------------------------------------------------------------------------ ping
def test_echo_request_checksum_and_reply_parsing():
    packet = login.echo_request(4, 0x1234, 7, b'payload!')
    assert login.icmp_checksum(packet) == 0
    assert packet[:2] == b'\x08\x00'
    reply = b'\x00\x00' + packet[2:]
    assert login.echo_reply(4, reply, raw=False) == (7, b'payload!')
    ip_header = bytes([0x45]) + bytes(19)
    assert login.echo_reply(4, ip_header + reply, raw=True) == (7, b'payload!')
    assert login.echo_reply(4, packet, raw=False) is None            # our own request
    v6 = login.echo_request(6, 1, 9, b'x')
    assert v6[:4] == b'\x80\x00\x00\x00'                            # the kernel fills the checksum
    assert login.echo_reply(6, b'\x81\x00' + v6[2:], raw=False) == (9, b'x')
    assert login.echo_reply(4, b'\x00', raw=False) is None


def test_icmp_pinger_on_the_loopback():
    try:
        pinger = login.IcmpPinger()
    except OSError as exc:
        pytest.skip('no ICMP socket here: %s' % exc)
    try:
        answered = pinger.round([ipaddress.ip_address('127.0.0.1')], 0.5)
    finally:
        pinger.close()
    assert answered == {ipaddress.ip_address('127.0.0.1')}


def test_command_pinger_runs_ping_for_every_address():
    started = []

    class Proc(object):
        def __init__(self, argv, **kwargs):
            started.append(argv)
            self.rc = 0 if argv[-1] == A else 1

        def wait(self, timeout=None):
            return self.rc
    pinger = login.CommandPinger(popen=Proc)
    answered = pinger.round([ipaddress.ip_address(A), ipaddress.ip_address(B)], 0.3)
    assert answered == {ipaddress.ip_address(A)}
    assert started == [['ping', '-n', '-q', '-c', '1', '-W', '0.3', A], ['ping', '-n', '-q', '-c', '1', '-W', '0.3', B]]


def test_make_pinger_falls_back_to_the_command(monkeypatch):
    def refuse(*args):
        raise PermissionError(errno.EPERM, 'Operation not permitted')
    monkeypatch.setattr(login.IcmpPinger, '__init__', refuse)
    said = []
    assert login.make_pinger('auto', said.append).name == 'command'
    assert said == ['no ICMP socket ([Errno 1] Operation not permitted): pinging with the ping command']
    with pytest.raises(OSError):
        login.make_pinger('icmp', said.append)
    assert login.make_pinger('none', said.append).name == 'none'


# ------------------------------------------------------------------------------------ routes
def test_ip_router_command_lines():
    calls = []

    def run(argv):
        calls.append(argv)
        if argv[3:4] == ['del'] and argv[2] == 'rule':
            return (2, 'RTNETLINK answers: No such file or directory') if len(calls) > 2 else (0, '')
        if argv[3:4] == ['del']:
            return 2, 'RTNETLINK answers: No such process'
        return 0, ''
    router = login.IpRouter(4791, 4791, run=run)
    assert router.prepare({4}) == []
    assert calls == [
        ['ip', '-4', 'route', 'flush', 'table', '4791'],
        ['ip', '-4', 'rule', 'del', 'priority', '4791'],      # a rule left by an earlier run
        ['ip', '-4', 'rule', 'del', 'priority', '4791'],
        ['ip', '-4', 'rule', 'add', 'priority', '4791', 'not', 'ipproto', '1', 'lookup', '4791'],
    ]
    del calls[:]
    assert router.block(ipaddress.ip_address(A)) is None
    assert router.unblock(ipaddress.ip_address(A)) is None       # already gone is fine
    assert router.block(ipaddress.ip_address('fd00::11')) is None
    router.cleanup({4, 6})
    assert calls == [
        ['ip', '-4', 'route', 'replace', 'prohibit', '10.0.0.11/32', 'table', '4791'],
        ['ip', '-4', 'route', 'del', 'prohibit', '10.0.0.11/32', 'table', '4791'],
        ['ip', '-6', 'route', 'replace', 'prohibit', 'fd00::11/128', 'table', '4791'],
        ['ip', '-4', 'route', 'flush', 'table', '4791'], ['ip', '-4', 'rule', 'del', 'priority', '4791'],
        ['ip', '-6', 'route', 'flush', 'table', '4791'], ['ip', '-6', 'rule', 'del', 'priority', '4791'],
    ]


def test_ip_router_reports_failures():
    router = login.IpRouter(4791, 4791, run=lambda argv: (2, 'RTNETLINK answers: Operation not permitted'))
    assert router.prepare({6}) == ['ip -6 rule add failed: RTNETLINK answers: Operation not permitted']
    assert router.block(ipaddress.ip_address(A)) == 'RTNETLINK answers: Operation not permitted'
    assert login.run_command(['/nonexistent/ip'])[0] == 127


# ------------------------------------------------------------------------------------ workers
def test_thread_executor_runs_one_job_per_key():
    executor = login.ThreadExecutor()
    gate = threading.Event()
    assert executor.start(('login', 'a', None), lambda: gate.wait(5) and 'done')
    assert executor.busy(('login', 'a', None))
    assert not executor.start(('login', 'a', None), lambda: 'twice')
    gate.set()
    for dummy in range(100):
        done = executor.drain()
        if done:
            break
        time.sleep(0.02)
    assert done == [(('login', 'a', None), (None, 'done'))]
    assert not executor.busy(('login', 'a', None))
    executor.start(('reset', 'a', 5), lambda: 1 / 0)
    for dummy in range(100):
        done = executor.drain()
        if done:
            break
        time.sleep(0.02)
    assert isinstance(done[0][1][0], ZeroDivisionError)


# ------------------------------------------------------------------------------------ command line
def write_config(tmp_path, data):
    path = tmp_path / 'srp-login.json'
    path.write_text(json.dumps(data))
    return str(path)


def test_check_config(tmp_path, capsys):
    path = write_config(tmp_path, config_dict())
    assert login.main(['--check-config', path]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == 'stor-a: %s > %s/add_target' % (config().targets[0].login, SRP_HOST)
    bad = write_config(tmp_path, dict(config_dict(), version=3))
    assert login.main(['--check-config', bad]) == 2
    assert capsys.readouterr().err == '%s: version: 3 is not 1 (the version this rdma-srp-login reads)\n' % bad
    assert login.main(['--check-config', str(tmp_path / 'absent.json')]) == 2
    assert 'cannot read' in capsys.readouterr().err


def test_once(tmp_path, capsys):
    data = config_dict(ping={'method': 'none', 'interval': 0.25, 'timeout': 0.3, 'misses': 2})
    path = write_config(tmp_path, data)
    root = tmp_path / 'root'
    srp_host = root / SRP_HOST.lstrip('/')
    srp_host.mkdir(parents=True)
    (srp_host / 'add_target').write_text('')
    sysfs_host(root, 5)                   # stor-a is logged in; stor-b's login "succeeds" but no host appears
    assert login.main(['--once', '--config', path, '--root', str(root)]) == 1
    out = capsys.readouterr().out
    assert 'target stor-b (10.0.0.12:5555): login accepted' in out
    assert out.splitlines()[-1] == 'logged in: stor-a; not logged in: stor-b'
    assert (srp_host / 'add_target').read_text() == config().targets[1].login
    sysfs_host(root, 6, guid=GUID_B)
    assert login.main(['--once', '--config', path, '--root', str(root)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == 'logged in: stor-a, stor-b; not logged in: none'


def test_once_skips_nodes_that_do_not_answer(tmp_path):
    cfg = config()
    kernel = FakeKernel()
    said = []
    assert login.run_once(cfg, kernel, FakePinger(up=(A,)), said.append) == 1
    assert kernel.added == ['stor-a']
    assert 'target stor-b (10.0.0.12:5555): does not answer a ping: not logging in' in said


def test_serve_reloads_on_sighup_and_cleans_up_on_sigterm(tmp_path):
    data = config_dict()
    path = write_config(tmp_path, data)
    kernel, pinger, router, said = FakeKernel(), FakePinger(), FakeRouter(), []
    clock = [0.0]
    sleeps = []

    def sleep(seconds):
        sleeps.append(seconds)
        clock[0] += seconds
        if len(sleeps) == 3:
            data['targets'] = data['targets'][:1]
            write_config(tmp_path, data)
            os.kill(os.getpid(), signal.SIGHUP)
        elif len(sleeps) == 5:
            write_config(tmp_path, dict(data, version=9))
            os.kill(os.getpid(), signal.SIGHUP)
        elif len(sleeps) == 7:
            os.kill(os.getpid(), signal.SIGTERM)
    handlers = dict((s, signal.getsignal(s)) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP))
    try:
        assert login.serve(path, login.read_config(path), kernel, pinger, router, said.append,
                           clock=lambda: clock[0], sleep=sleep) == 0
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    assert said[0].startswith('started: 2 targets, ping fake every 0.25s (lost after 2 misses), login pass every 1s')
    assert 'configuration %s reloaded' % path in said
    assert any(m.startswith('configuration %s refused, the previous one stays: version: 9' % path) for m in said)
    assert said[-1] == 'stopped' and router.calls[-1] == ('cleanup', [4])
    assert all(0.01 <= s <= 1.0 for s in sleeps)


def test_main_refuses_a_bad_config(tmp_path, capsys):
    path = write_config(tmp_path, {'version': 1})
    assert login.main(['--config', path]) == 2
    assert 'targets: a list of targets is required' in capsys.readouterr().out


def test_no_targets_is_an_idle_service(tmp_path):
    cfg = login.load_config(json.dumps(dict(config_dict(), targets=[])))
    rig = Rig(cfg)
    rig.tick(1.0, times=3)
    assert rig.kernel.added == [] and rig.router.calls == []
    assert login.run_once(cfg, FakeKernel(), FakePinger(), [].append) == 0


def test_the_program_is_the_file_behind_a_python3_line():
    template = TOP / 'roles' / 'srp_initiator' / 'templates' / 'rdma-srp-login.j2'
    assert template.read_text() == "{{ '#!' ~ srp_initiator_os_python }}\n{{ lookup('ansible.builtin.file', 'rdma_srp_login.py') }}\n"
    with open(_PATH) as handle:
        text = handle.read()
    assert not text.startswith('#!') and '{{' not in text and '{%' not in text   # nothing for Jinja to expand
    proc = subprocess.run(['python3', _PATH, '--help'], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0 and '--check-config' in proc.stdout


# ------------------------------------------------------------------------------------ failed ports
def test_a_port_fail_fast_for_dev_loss_tmo_is_removed_and_logged_in_anew():
    rig = Rig()
    rig.kernel.answers['stor-b'] = errno.ECONNRESET
    deleted = []

    def delete_port(port):
        deleted.append(port)
        rig.kernel.hosts[rig.key('stor-a')] = []
    rig.kernel.delete_port = delete_port
    rig.lose_a()
    # the failed reset left the port fail-fast (the kernel starts no dev_loss timer then)
    rig.kernel.hosts[rig.key('stor-a')] = [{'host': 5, 'state': 'fail-fast', 'port': '/sys/class/srp_remote_ports/port-5:1',
                                            'dev_loss_tmo': 60}]
    rig.tick(1.0, times=59)
    assert deleted == []
    rig.tick(1.0, times=2)
    assert deleted == ['/sys/class/srp_remote_ports/port-5:1']
    assert rig.said('target stor-a: SCSI host 5 has been fail-fast for 60 s (dev_loss_tmo 60 s; the kernel does not '
                    'remove it after a failed reset): removing it')
    assert rig.said('target stor-a: SCSI host 5 removed')
    # back and exporting: a new login, not a wait for ib_srp's reconnect of the old port
    rig.pinger.up = {A, B}
    rig.tick(0.25, times=4)
    assert rig.kernel.added.count('stor-a') == 2 and rig.state('stor-a').running


@pytest.mark.parametrize('host', [
    {'host': 5, 'state': 'fail-fast', 'port': '/p', 'dev_loss_tmo': None},      # dev_loss_tmo off
    {'host': 5, 'state': 'blocked', 'port': '/p', 'dev_loss_tmo': 60},          # the kernel's timers run
    {'host': 5, 'state': 'fail-fast'},                                           # nothing known of the port
])
def test_other_ports_are_left_to_the_kernel(host):
    rig = Rig()
    rig.kernel.delete_port = lambda port: pytest.fail('deleted %s' % port)
    rig.lose_a()
    rig.kernel.hosts[rig.key('stor-a')] = [host]
    rig.tick(1.0, times=200)


def test_a_failing_removal_is_logged_and_tried_again_after_dev_loss_tmo():
    rig = Rig()
    tries = []

    def delete_port(port):
        tries.append(rig.now)
        raise OSError(errno.EACCES, 'denied')
    rig.kernel.delete_port = delete_port
    rig.lose_a()
    rig.kernel.hosts[rig.key('stor-a')] = [{'host': 5, 'state': 'fail-fast', 'port': '/p', 'dev_loss_tmo': 10}]
    rig.tick(1.0, times=25)
    assert len(tries) == 2 and 10 <= tries[1] - tries[0] <= 12, tries
    assert rig.said('target stor-a: SCSI host 5 could not be removed: Permission denied (EACCES)')


# ------------------------------------------------------------------------------------ what a journal shows of the logins
def test_a_login_waiting_in_the_kernel_is_said_once_and_its_time_when_it_ends():
    rig = Rig()
    executor = HeldExecutor()
    rig.service.executor = executor
    executor.held.add(('login', 'stor-b'))
    rig.kernel.answers['stor-b'] = errno.EHOSTUNREACH
    rig.tick(0.25, times=4)
    assert rig.kernel.added == ['stor-a'] and not rig.said('waiting for the kernel')
    rig.tick(1.0, times=8)                          # 9 s of waiting: said once, no second login meanwhile
    waiting = rig.said('stor-b (10.0.0.12:5555 via srp-rxe0-1): the login has been waiting for the kernel for over 5 s')
    assert len(waiting) == 1 and len(rig.said('waiting for the kernel')) == 1
    assert rig.kernel.added == ['stor-a']
    executor.held.clear()
    executor.release('login', 'stor-b')
    rig.tick(0.25)
    assert rig.said('target stor-b: that login took 9 s in the kernel')
    assert rig.said('stor-b (10.0.0.12:5555 via srp-rxe0-1): login failed: No route to host (EHOSTUNREACH); retrying')
    assert rig.state('stor-b').login_started is None


def test_a_quick_login_is_not_timed_in_the_journal():
    rig = Rig()
    rig.kernel.answers['stor-b'] = errno.ECONNRESET
    rig.tick(0.25, times=8)
    assert not rig.said('that login took') and not rig.said('waiting for the kernel')


def test_the_same_refusal_is_summed_up_every_minute():
    rig = Rig()
    rig.kernel.answers['stor-b'] = errno.ECONNRESET   # a standby: refused at every try
    rig.tick(0.25, times=4 * 130)
    assert len(rig.said('stor-b (10.0.0.12:5555 via srp-rxe0-1): login failed: Connection reset by peer (ECONNRESET)')) == 1
    summed = rig.said('target stor-b: ')
    summed = [m for m in summed if 'logins failed in a row' in m]
    assert len(summed) == 2, summed
    tries = rig.kernel.added.count('stor-b')
    assert summed[-1].startswith('target stor-b: %d logins failed in a row in ' % tries) or \
        summed[-1].startswith('target stor-b: %d logins failed in a row in ' % (tries - 1)), (summed, tries)
    assert summed[-1].endswith('(the last: Connection reset by peer (ECONNRESET)); retrying')
    # accepted at last: the count starts again
    del rig.kernel.answers['stor-b']
    rig.tick(8.0)
    assert rig.state('stor-b').failures == 0 and rig.state('stor-b').failed_since is None


# ------------------------------------------------------------------------------------ a login the kernel keeps waiting
def test_each_login_is_given_the_login_timeout():
    rig = Rig(config(login_timeout=7.5))
    rig.tick()
    assert rig.kernel.timeouts == [7.5, 7.5]
    assert login.load_config(json.dumps(config_dict())).login_timeout == 15.0     # the default


@pytest.mark.parametrize('value', [0.5, 0, 'x', True, 4000])
def test_a_bad_login_timeout_is_named(value):
    with pytest.raises(login.ConfigError, match=r'login_timeout: '):
        config(login_timeout=value)


def test_write_with_timeout_writes_and_passes_the_errno_on(tmp_path):
    target_file = tmp_path / 'add_target'
    target_file.write_text('')
    login.write_with_timeout(str(target_file), b'id_ext=1', 5)
    assert target_file.read_text() == 'id_ext=1'
    with pytest.raises(OSError) as info:
        login.write_with_timeout(str(tmp_path / 'missing' / 'add_target'), b'x', 5)
    assert info.value.errno == errno.ENOENT and not isinstance(info.value, login.LoginTimeout)
    with pytest.raises(OSError) as info:
        login.write_with_timeout(str(tmp_path), b'x', 5)          # a directory: EISDIR
    assert info.value.errno == errno.EISDIR


def test_write_with_timeout_abandons_a_write_that_hangs(tmp_path):
    # a FIFO nobody reads: the open blocks in the kernel, as ib_srp's connect does without an answer
    fifo = tmp_path / 'add_target'
    os.mkfifo(str(fifo))
    started = time.monotonic()
    with pytest.raises(login.LoginTimeout) as info:
        login.write_with_timeout(str(fifo), b'id_ext=1', 0.5)
    took = time.monotonic() - started
    assert 0.5 <= took < 3.0, took
    assert info.value.errno == errno.ETIMEDOUT
    assert login.describe_error(info.value) == (
        'no answer within 0.5 s (ETIMEDOUT): abandoned, the kernel drops the half-made login')


def test_an_abandoned_login_is_said_and_tried_again():
    rig = Rig()
    rig.kernel.answers['stor-b'] = errno.ECONNRESET
    rig.lose_a()
    rig.kernel.answers['stor-b'] = None

    def hang(target, timeout=None):
        rig.kernel.added.append(target.name)
        raise login.LoginTimeout(timeout)
    rig.kernel.add_target = hang
    rig.tick(0.25, times=4)
    assert rig.said('stor-b (10.0.0.12:5555 via srp-rxe0-1): login failed: no answer within 15 s (ETIMEDOUT): '
                    'abandoned, the kernel drops the half-made login; retrying')
    assert rig.kernel.added.count('stor-b') >= 3       # the failover pace goes on
