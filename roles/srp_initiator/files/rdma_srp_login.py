# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""rdma-srp-login: keep this SRP initiator logged in to its targets over RDMA/CM, and take a dead
storage node's path out of the way at once.

Installed by the Ansible role rdma.ha_storage.srp_initiator as /usr/local/sbin/rdma-srp-login (this
file behind a #!/usr/bin/python3 line, templates/rdma-srp-login.j2) and run by
rdma-srp-login.service; configured by /etc/rdma-ha-storage/srp-login.json (the role renders
it from the fabric model). Python 3 standard library only.

On RoCE (and Soft-RoCE) there is no subnet manager to discover SRP targets, so nothing logs in by
itself: ib_srp logs in when a login string is written to the add_target attribute of its SRP host
(/sys/class/infiniband_srp/srp-<device>-<port>):

    id_ext=<16 hex>,ioc_guid=<16 hex>,initiator_ext=<16 hex>,dest=<address>:<port>[,tl_retry_count=6,...]

Every `interval` seconds the service writes that string for each configured target that is not
logged in. Which targets are logged in is read from sysfs: each login is a SCSI host of ib_srp
(/sys/class/scsi_host/hostN, proc_name ib_srp) whose local_ib_device, local_ib_port, id_ext and
ioc_guid identify it. These are the attributes ib_srp's own uniqueness check compares
(srp_conn_unique(): id_ext, ioc_guid and initiator_ext per SRP host; initiator_ext is not shown in
sysfs, and the configuration has one per target); a second login of the same target fails with
EEXIST, which is counted as logged in. While a SCSI host exists, ib_srp reconnects it by itself
(reconnect_delay) until dev_loss_tmo removes it; the service only logs in what has no SCSI host.

Dead targets: every ping interval (0.25 s) the service pings each storage node. A node that
answered before and misses `misses` pings in a row while one of its targets is logged in is
declared lost, and the service

  1. blocks the route to it (a `prohibit` route in a table of its own, selected by an `ip rule`
     that leaves ICMP out: ib_srp's reconnects fail at once instead of hanging ~100 s on the dead
     address, and the pings, and their replies through rp_filter, still get through, so the
     service sees the node come back), and
  2. queues one TEST UNIT READY per CPU through an sg device of each SCSI host of the lost target
     (Kernel.flush_sends: it steps around an ib_srp bug), then
     sends a SCSI host reset to each SCSI host of the lost target (the SG_SCSI_RESET ioctl with
     SG_SCSI_RESET_HOST on one of its sg devices, what `sg_reset -H` does): ib_srp's reset
     handler reconnects, which fails at once, so the commands stuck on the dead path end and
     dm-multipath queues them (no_path_retry queue) until the other node's path appears.

When the node answers again, the route is unblocked; ib_srp reconnects the SCSI host that still
exists, or the service logs in again once it is gone.

Failed ports are removed after dev_loss_tmo. A host reset that fails puts the remote port in
state fail-fast straight from running, and the kernel then starts no dev_loss timer (that timer
starts only on running -> blocked): the port stays, and ib_srp retries its reconnect with a delay
that grows by reconnect_delay after each of the tenth and later failures (measured in the lab: 21,
27, 31 s apart after 6 minutes). A node that returns and exports again, a fail-back, then waits for
that retry. So the service deletes a remote port (its sysfs `delete` attribute, what dev_loss_tmo
does) once it has been fail-fast for dev_loss_tmo seconds (never when that is off); the next
login pass logs in anew. A fail-fast port has no command in flight: ib_srp ended them all.

Logins and resets run in worker threads (a login to a node that is starting can take seconds);
the loop itself never blocks on them. A login is written by a child process, killed after
login_timeout seconds (15): ib_srp waits for the target's answer without a limit of its own (about
98 s of CM retries on RoCE) and holds the SRP host's add_target mutex meanwhile, so one unanswered
login would hold up every other through that SRP host, the survivor's of a takeover too. A login
still waiting in the kernel after SLOW_LOGIN seconds is said once, and how long it took when it
ends; the same failure again and again is summed up every FAILURES_SUMMED_EVERY seconds. The log
says only changes otherwise, and a takeover's late login would leave no trace.

SIGHUP reloads the configuration (a bad one is refused and the old one kept); SIGTERM removes the
rule and the routes and ends.

  rdma-srp-login [--config FILE]          run the service (logs state changes on stdout)
  rdma-srp-login --check-config FILE      validate FILE, print the login strings; exit 2 if invalid
  rdma-srp-login --once [--config FILE]   one pass; exit 0 when every target is logged in, else 1
"""

from __future__ import absolute_import, division, print_function

import argparse
import collections
import ctypes
import errno
import fcntl
import glob
import ipaddress
import json
import os
import random
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import warnings

CONFIG = '/etc/rdma-ha-storage/srp-login.json'
CONFIG_VERSION = 1

# <scsi/sg.h>
SG_SCSI_RESET = 0x2284
SG_SCSI_RESET_HOST = 3
SG_DXFER_NONE = -1
# struct sg_io_hdr, the sg driver's v3 interface ('S'), native layout (88 bytes on x86_64):
# interface_id, dxfer_direction, cmd_len, mx_sb_len, iovec_count, dxfer_len, dxferp, cmdp, sbp,
# timeout, flags, pack_id, usr_ptr, then what the driver fills in (status ... info)
SG_IO_HDR = struct.Struct('@iiBBHIPPPIIiPBBBBHHiII0P')   # 0P: C's trailing padding
TEST_UNIT_READY = bytes(6)
TEST_UNIT_READY_TIMEOUT_MS = 30000

ICMP_ECHO_REQUEST, ICMP_ECHO_REPLY = 8, 0
ICMPV6_ECHO_REQUEST, ICMPV6_ECHO_REPLY = 128, 129
PROTO_ICMP, PROTO_ICMPV6 = 1, 58

EXIT_OK, EXIT_NOT_CONNECTED, EXIT_CONFIG = 0, 1, 2

# seconds: a login that waits this long in the kernel is said; the same login failure is summed up this often
SLOW_LOGIN = 5.0
FAILURES_SUMMED_EVERY = 60.0

DEFAULTS = {
    'interval': 1.0,
    'failover_interval': 0.25,
    'retry_max': 30.0,
    'login_timeout': 15.0,
    'ping': {'method': 'auto', 'interval': 0.25, 'timeout': 0.3, 'misses': 2},
    'on_loss': {'block_route': True, 'reset_host': True, 'route_table': 4791, 'rule_priority': 4791},
}
TARGET_KEYS = ('name', 'pair', 'volumes', 'srp_host', 'id_ext', 'ioc_guid', 'initiator_ext', 'dest', 'options')
TARGET_REQUIRED = ('name', 'srp_host', 'id_ext', 'ioc_guid', 'initiator_ext', 'dest')

_HEX16_RE = re.compile(r'^[0-9a-f]{16}$')
_SRP_HOST_RE = re.compile(r'^srp-(.+)-([0-9]+)$')
_OPTION_RE = re.compile(r'^[a-z_]+$')
_OPTION_VALUE_RE = re.compile(r'^[A-Za-z0-9_.:]+$')
_NAME_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,127}$')
# options the service writes itself; not allowed in a target's options
_OWN_OPTIONS = ('id_ext', 'ioc_guid', 'initiator_ext', 'dest', 'dgid', 'pkey', 'service_id')


class ConfigError(Exception):
    """The configuration is unusable; ``problems`` lists every reason, each naming its field."""

    def __init__(self, problems):
        super(ConfigError, self).__init__('; '.join(problems))
        self.problems = list(problems)


# --------------------------------------------------------------------------------------- config
def _number(problems, where, value, minimum, maximum=None, integer=False):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not isinstance(value, int)):
        problems.append('%s: %r is not %s' % (where, value, 'an integer' if integer else 'a number'))
        return None
    if value < minimum or (maximum is not None and value > maximum):
        problems.append('%s: %r is out of range (%s to %s)' % (where, value, minimum, 'any' if maximum is None else maximum))
        return None
    return value


def _merge(problems, where, given, defaults):
    if not isinstance(given, dict):
        problems.append('%s: must be a mapping, not %s' % (where, type(given).__name__))
        return dict(defaults)
    for key in given:
        if key not in defaults:
            problems.append('%s.%s: unknown setting (known: %s)' % (where, key, ', '.join(sorted(defaults))))
    merged = dict(defaults)
    merged.update((k, v) for k, v in given.items() if k in defaults)
    return merged


def parse_dest(text):
    """'10.0.0.1:5555' or '[fd00::1]:5555' -> (ipaddress object, port). Raises ValueError."""
    if not isinstance(text, str):
        raise ValueError('is not a string')
    match = re.match(r'^\[([0-9A-Fa-f:.]+)\]:([0-9]+)$', text) or re.match(r'^([0-9.]+):([0-9]+)$', text)
    if not match:
        raise ValueError('is not <IPv4 address>:<port> or [<IPv6 address>]:<port>')
    address = ipaddress.ip_address(match.group(1))
    if address.version == 6 and not text.startswith('['):
        raise ValueError('an IPv6 address is written in brackets: [%s]:<port>' % address)
    port = int(match.group(2))
    if not 1 <= port <= 65535:
        raise ValueError('port %d is out of range (1 to 65535)' % port)
    return address, port


def _target(problems, index, item):
    where = 'targets[%d]' % index
    if not isinstance(item, dict):
        problems.append('%s: must be a mapping, not %s' % (where, type(item).__name__))
        return None
    if isinstance(item.get('name'), str) and _NAME_RE.match(item['name']):
        where = 'targets[%d] (%s)' % (index, item['name'])
    for key in item:
        if key not in TARGET_KEYS:
            problems.append('%s.%s: unknown setting (known: %s)' % (where, key, ', '.join(TARGET_KEYS)))
    for key in TARGET_REQUIRED:
        if key not in item:
            problems.append('%s.%s: required' % (where, key))
    before = len(problems)
    name = item.get('name')
    if 'name' in item and not (isinstance(name, str) and _NAME_RE.match(name)):
        problems.append('%s.name: %r is not a name (letters, digits, _ . : / -, at most 128)' % (where, name))
    srp_host = item.get('srp_host')
    if 'srp_host' in item and not (isinstance(srp_host, str) and os.path.isabs(srp_host)
                                   and _SRP_HOST_RE.match(os.path.basename(srp_host.rstrip('/')))):
        problems.append('%s.srp_host: %r is not the path of an SRP host '
                        '(/sys/class/infiniband_srp/srp-<device>-<port>)' % (where, srp_host))
    for key in ('id_ext', 'ioc_guid', 'initiator_ext'):
        if key in item and not (isinstance(item[key], str) and _HEX16_RE.match(item[key])):
            problems.append('%s.%s: %r is not 16 lower-case hex digits (no 0x)' % (where, key, item[key]))
    address = None
    if 'dest' in item:
        try:
            address = parse_dest(item['dest'])[0]
        except ValueError as exc:
            problems.append('%s.dest: %r %s' % (where, item['dest'], exc))
    options = item.get('options', {})
    if not isinstance(options, dict):
        problems.append('%s.options: must be a mapping, not %s' % (where, type(options).__name__))
        options = {}
    for key, value in options.items():
        if not _OPTION_RE.match(str(key)) or key in _OWN_OPTIONS:
            problems.append('%s.options.%s: not a login option this service lets you set' % (where, key))
        elif isinstance(value, bool) or not _OPTION_VALUE_RE.match(str(value)):
            problems.append('%s.options.%s: %r is not a login option value' % (where, key, value))
    if 'tl_retry_count' in options and isinstance(options['tl_retry_count'], int) and not 2 <= options['tl_retry_count'] <= 7:
        problems.append('%s.options.tl_retry_count: %r is out of range (2 to 7)' % (where, options['tl_retry_count']))
    volumes = item.get('volumes', [])
    if not isinstance(volumes, list) or not all(isinstance(v, str) for v in volumes):
        problems.append('%s.volumes: must be a list of names' % where)
        volumes = []
    if 'pair' in item and not isinstance(item['pair'], str):
        problems.append('%s.pair: must be a string' % where)
    if len(problems) > before or any(key not in item for key in TARGET_REQUIRED):
        return None
    return Target(name, srp_host.rstrip('/'), item['id_ext'], item['ioc_guid'], item['initiator_ext'], item['dest'],
                  address, options, item.get('pair', ''), volumes)


def load_config(text):
    """The Config of a JSON text; ConfigError listing every problem."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ConfigError(['not JSON: %s' % exc]) from None
    if not isinstance(data, dict):
        raise ConfigError(['the configuration must be a JSON object'])
    problems = []
    known = ('version', 'interval', 'failover_interval', 'retry_max', 'login_timeout', 'ping', 'on_loss', 'targets')
    for key in data:
        if key not in known:
            problems.append('%s: unknown setting (known: %s)' % (key, ', '.join(known)))
    if data.get('version') != CONFIG_VERSION:
        problems.append('version: %r is not %d (the version this rdma-srp-login reads)' % (data.get('version'), CONFIG_VERSION))
    interval = _number(problems, 'interval', data.get('interval', DEFAULTS['interval']), 0.05, 3600)
    failover = _number(problems, 'failover_interval', data.get('failover_interval', DEFAULTS['failover_interval']), 0.05, 3600)
    retry_max = _number(problems, 'retry_max', data.get('retry_max', DEFAULTS['retry_max']), 0.05, 86400)
    login_timeout = _number(problems, 'login_timeout', data.get('login_timeout', DEFAULTS['login_timeout']), 1, 3600)
    ping = _merge(problems, 'ping', data.get('ping', {}), DEFAULTS['ping'])
    if ping['method'] not in ('auto', 'icmp', 'command', 'none'):
        problems.append('ping.method: %r is not one of auto, icmp, command, none' % (ping['method'],))
    _number(problems, 'ping.interval', ping['interval'], 0.05, 60)
    _number(problems, 'ping.timeout', ping['timeout'], 0.05, 60)
    _number(problems, 'ping.misses', ping['misses'], 1, 100, integer=True)
    on_loss = _merge(problems, 'on_loss', data.get('on_loss', {}), DEFAULTS['on_loss'])
    for key in ('block_route', 'reset_host'):
        if not isinstance(on_loss[key], bool):
            problems.append('on_loss.%s: %r is not true or false' % (key, on_loss[key]))
    _number(problems, 'on_loss.route_table', on_loss['route_table'], 1, 4294967295, integer=True)
    _number(problems, 'on_loss.rule_priority', on_loss['rule_priority'], 1, 32765, integer=True)
    if on_loss['route_table'] in (253, 254, 255):
        problems.append('on_loss.route_table: %r is a table of the kernel (default, main, local)' % on_loss['route_table'])
    targets = []
    items = data.get('targets')
    if not isinstance(items, list):
        problems.append('targets: a list of targets is required (it may be empty: nothing to log in to)')
        items = []
    for index, item in enumerate(items):
        target = _target(problems, index, item)
        if target is not None:
            targets.append(target)
    seen_names, seen_ids = {}, {}
    for target in targets:
        if target.name in seen_names:
            problems.append('targets (%s): the name is also used by another target' % target.name)
        seen_names[target.name] = target
        if target.key in seen_ids:
            problems.append('targets (%s): same SRP host, id_ext and ioc_guid as %s: ib_srp would refuse the second '
                            'login (EEXIST); the storage nodes need different GUIDs' % (target.name, seen_ids[target.key].name))
        seen_ids[target.key] = target
    if problems:
        raise ConfigError(problems)
    return Config(interval, failover, retry_max, ping, on_loss, targets, login_timeout)


class Target(object):
    """One SRP target port to keep logged in (one storage node seen from one local SRP host)."""

    def __init__(self, name, srp_host, id_ext, ioc_guid, initiator_ext, dest, address, options, pair='', volumes=()):
        self.name = name
        self.srp_host = srp_host
        self.id_ext = id_ext
        self.ioc_guid = ioc_guid
        self.initiator_ext = initiator_ext
        self.dest = dest
        self.address = address
        self.options = dict(options)
        self.pair = pair
        self.volumes = list(volumes)
        match = _SRP_HOST_RE.match(os.path.basename(srp_host))
        self.device, self.port = match.group(1), int(match.group(2))

    @property
    def key(self):
        """What identifies its login in sysfs: (device, port, id_ext, ioc_guid)."""
        return (self.device, self.port, self.id_ext, self.ioc_guid)

    @property
    def login(self):
        """The string written to add_target."""
        parts = ['id_ext=%s' % self.id_ext, 'ioc_guid=%s' % self.ioc_guid, 'initiator_ext=%s' % self.initiator_ext,
                 'dest=%s' % self.dest]
        parts += ['%s=%s' % (key, value) for key, value in self.options.items()]
        return ','.join(parts)

    def same(self, other):
        return other is not None and (self.login, self.srp_host) == (other.login, other.srp_host)

    def __repr__(self):
        return 'Target(%s)' % self.name


# A valid configuration: the pacing (seconds), the ping and on_loss settings, the Targets, how long
# one login may wait in the kernel (seconds).
Config = collections.namedtuple('Config', 'interval failover_interval retry_max ping on_loss targets login_timeout',
                                defaults=(DEFAULTS['login_timeout'],))


# --------------------------------------------------------------------------------------- kernel
class Kernel(object):
    """ib_srp in sysfs below ``root``: logins, add_target, SCSI host resets (``ioctl``: fcntl.ioctl,
    replaced in tests)."""

    def __init__(self, root='/', ioctl=None):
        self.root = root
        self.ioctl = ioctl or fcntl.ioctl

    def path(self, *parts):
        return os.path.join(self.root, *[p.lstrip('/') for p in parts])

    @staticmethod
    def read(path):
        try:
            with open(path, encoding='utf-8') as handle:
                return handle.read().strip()
        except (IOError, OSError, UnicodeDecodeError):
            return None

    def logins(self):
        """{(device, port, id_ext, ioc_guid): [{'host': N, 'state': rport state or None, 'port': the
        remote port's sysfs directory or None, 'dev_loss_tmo': seconds, or None when off or unknown}]}"""
        found = {}
        base = self.path('sys', 'class', 'scsi_host')
        for host_dir in sorted(glob.glob(os.path.join(base, 'host[0-9]*'))):
            if self.read(os.path.join(host_dir, 'proc_name')) != 'ib_srp':
                continue
            values = [self.read(os.path.join(host_dir, name)) for name in ('local_ib_device', 'local_ib_port', 'id_ext', 'ioc_guid')]
            if None in values or not values[1].isdigit():
                continue
            number = int(os.path.basename(host_dir)[4:])
            key = (values[0], int(values[1]), values[2].lower().replace('0x', '', 1), values[3].lower().replace('0x', '', 1))
            ports = sorted(glob.glob(self.path('sys', 'class', 'srp_remote_ports', 'port-%d:*' % number)))
            port = ports[0] if ports else None
            state, dev_loss = (self.read(os.path.join(port, name)) if port else None for name in ('state', 'dev_loss_tmo'))
            found.setdefault(key, []).append({'host': number, 'state': state, 'port': port,
                                              'dev_loss_tmo': int(dev_loss) if dev_loss and dev_loss.isdigit() else None})
        return found

    def delete_port(self, port):
        """Delete a remote port (its SCSI host goes, as after dev_loss_tmo); raises OSError."""
        with open(os.path.join(port, 'delete'), 'w', encoding='ascii') as handle:
            handle.write('1')

    def srp_host_exists(self, target):
        return os.path.isfile(self.path(target.srp_host, 'add_target'))

    def add_target(self, target, timeout):
        """Write the login string; raises OSError (errno EEXIST: already logged in; LoginTimeout: no
        answer within ``timeout`` seconds).

        The write is made by a child process that is killed when time is up. ib_srp
        waits for the target's answer to its connect request without a timeout of its own (about
        98 s of CM retries on RoCE when none comes), holding the SRP host's add_target mutex all the
        while: every other login through the same SRP host, the other node's of the pair too, would
        wait behind it. A fatal signal ends that wait; ib_srp then drops the half-made login."""
        write_with_timeout(self.path(target.srp_host, 'add_target'), target.login.encode('ascii'), timeout)

    def scsi_devices(self, host):
        """Device nodes to reset SCSI host ``host`` through: its sg devices, else its disks."""
        base = self.path('sys', 'class', 'scsi_host', 'host%d' % host, 'device')
        found = []
        for pattern, dev in (('scsi_generic', 'sg*'), ('block', 'sd*')):
            for entry in sorted(glob.glob(os.path.join(base, 'target*', '*', pattern, dev))):
                found.append(self.path('dev', os.path.basename(entry)))
        return found

    def reset_host(self, host):
        """SG_SCSI_RESET / SG_SCSI_RESET_HOST on the first device of the host that takes it; returns
        (device, note): note is '' or why the send queues could not be flushed first (see
        flush_sends). Raises OSError (EAGAIN: the host is in error recovery already; ENODEV: none)."""
        devices = self.scsi_devices(host)
        if not devices:
            raise OSError(errno.ENODEV, 'SCSI host %d has no sg or disk device to send the reset through' % host)
        last = None
        note = 'no sg device'     # until the queues are flushed through one (sg devices come first)
        for device in devices:
            try:
                fd = os.open(device, os.O_RDWR | os.O_NONBLOCK)
            except OSError as exc:
                last = exc
                continue
            try:
                if os.path.basename(device).startswith('sg') and note == 'no sg device':
                    note = self.flush_sends(fd)
                self.ioctl(fd, SG_SCSI_RESET, struct.pack('i', SG_SCSI_RESET_HOST))
                return device, note
            except OSError as exc:
                exc.flush_note = note      # said with the failure too (a reset of a lost node fails)
                if exc.errno == errno.EAGAIN:
                    raise
                last = exc
            finally:
                os.close(fd)
        raise last

    def flush_sends(self, fd, cpus=None):
        """Queue one TEST UNIT READY through sg device ``fd`` from each CPU, without waiting for
        the answers; returns '' or why not every one could be queued.

        This steps around a bug of ib_srp (Debian's 6.1 kernels at least). Its send queue is
        polled only when a command is queued (__srp_get_tx_iu) or the queue pair is destroyed. A
        reconnect whose new CM ID cannot be made (the route to the dead node blocked, or its
        address not resolved) keeps the old queue pair, yet puts every information unit back on
        the free list (srp_rport_reconnect). A send that had completed before the node died and
        was not polled yet is then put on that list a second time when the old queue pair goes
        (dev_loss_tmo, a deleted port, or a later reconnect): list corruption, and with
        CONFIG_DEBUG_LIST a kernel BUG in srp_free_ch_ib that leaves the initiator's I/O hung (seen
        in the lab, 2026-12-04). A command queued before the reset polls those completions while
        the channel is still whole. A CPU's commands go through its own channel (blk-mq hardware
        queue), hence one per CPU. The commands themselves go nowhere: the reset ends them."""
        cdb = ctypes.create_string_buffer(TEST_UNIT_READY, len(TEST_UNIT_READY))
        header = SG_IO_HDR.pack(ord('S'), SG_DXFER_NONE, len(TEST_UNIT_READY), 0, 0, 0, 0,
                                ctypes.addressof(cdb), 0, TEST_UNIT_READY_TIMEOUT_MS, 0, 0, 0,
                                0, 0, 0, 0, 0, 0, 0, 0, 0)
        try:
            original = os.sched_getaffinity(0)
        except OSError as exc:
            return 'the CPUs are not known: %s' % describe_error(exc)
        problems = []
        try:
            for cpu in sorted(original if cpus is None else cpus):
                try:
                    os.sched_setaffinity(0, {cpu})     # this thread only
                    os.write(fd, header)
                except OSError as exc:
                    problems.append('CPU %d: %s' % (cpu, describe_error(exc)))
        finally:
            try:
                os.sched_setaffinity(0, original)
            except OSError:
                pass
        return '; '.join(problems)


class LoginTimeout(OSError):
    """A login that got no answer within its time and was abandoned."""

    def __init__(self, seconds):
        super(LoginTimeout, self).__init__(errno.ETIMEDOUT, 'no answer within %g s' % seconds)
        self.seconds = seconds


def write_with_timeout(path, data, timeout, poll=0.02, clock=time.monotonic):
    """Write ``data`` to ``path`` in a child process (one open and one write: nothing in it needs a
    lock another thread may hold at the fork), killed after ``timeout`` seconds. Raises OSError with
    the write's errno, or LoginTimeout."""
    with warnings.catch_warnings():
        # Python 3.12+ warns of fork() in a threaded process (a lock held by another thread stays
        # held in the child); this child takes none: os.open, os.write, os._exit
        warnings.simplefilter('ignore', DeprecationWarning)
        pid = os.fork()
    if pid == 0:     # the child: its exit status is the errno (0: written)
        code = 255
        try:
            fd = os.open(path, os.O_WRONLY)
            try:
                os.write(fd, data)
                code = 0
            finally:
                os.close(fd)
        except OSError as exc:
            code = exc.errno if exc.errno and 0 < exc.errno < 255 else 255
        finally:
            os._exit(code)
    deadline = clock() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if clock() >= deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise LoginTimeout(timeout)
        time.sleep(poll)
    code = os.waitstatus_to_exitcode(status)
    if code == 0:
        return
    if code < 0:
        raise OSError(errno.EINTR, 'the login writer ended by signal %d' % -code)
    if code == 255:
        raise OSError(errno.EIO, 'the login writer failed')
    raise OSError(code, os.strerror(code))


# --------------------------------------------------------------------------------------- ping
def icmp_checksum(data):
    if len(data) % 2:
        data += b'\0'
    total = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    total = (total >> 16) + (total & 0xffff)
    total += total >> 16
    return ~total & 0xffff


def echo_request(version, ident, seq, payload):
    kind = ICMP_ECHO_REQUEST if version == 4 else ICMPV6_ECHO_REQUEST
    header = struct.pack('!BBHHH', kind, 0, 0, ident, seq)
    if version == 4:   # the kernel computes ICMPv6 checksums itself
        header = struct.pack('!BBHHH', kind, 0, icmp_checksum(header + payload), ident, seq)
    return header + payload


def echo_reply(version, data, raw):
    """(seq, payload) of an echo reply (raw IPv4 packets start with the IP header), or None."""
    if version == 4 and raw:
        if len(data) < 20:
            return None
        data = data[(data[0] & 0x0f) * 4:]
    if len(data) < 8:
        return None
    kind, code, dummy, dummy, seq = struct.unpack('!BBHHH', data[:8])
    if kind != (ICMP_ECHO_REPLY if version == 4 else ICMPV6_ECHO_REPLY) or code != 0:
        return None
    return seq, data[8:]


class IcmpPinger(object):
    """Echo requests to every address at once from one socket per address family: an unprivileged
    ICMP datagram socket (net.ipv4.ping_group_range) or, for root, a raw socket. Raises OSError
    from the constructor's probe when neither can be opened."""

    name = 'icmp'

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.sockets = {}
        self.seq = random.randint(0, 0xffff)
        self.token = os.urandom(8)
        self.ident = os.getpid() & 0xffff
        self.socket(4)   # probe

    def socket(self, version):
        if version not in self.sockets:
            family, proto = (socket.AF_INET, PROTO_ICMP) if version == 4 else (socket.AF_INET6, PROTO_ICMPV6)
            try:
                sock, raw = socket.socket(family, socket.SOCK_DGRAM, proto), False
            except OSError:
                sock, raw = socket.socket(family, socket.SOCK_RAW, proto), True
            sock.setblocking(False)
            self.sockets[version] = (sock, raw)
        return self.sockets[version]

    def round(self, addresses, timeout):
        """The subset of ``addresses`` (ipaddress objects) that answered within ``timeout`` seconds."""
        self.seq = (self.seq + 1) & 0xffff
        payload = b'rdma-srp-login' + self.token
        waiting = {}
        for address in addresses:
            try:
                sock, raw = self.socket(address.version)
                sock.sendto(echo_request(address.version, self.ident, self.seq, payload), (str(address), 0))
                waiting[str(address)] = address
            except OSError:
                continue      # unreachable from here (no route, blocked): no answer
        answered = set()
        deadline = self.clock() + timeout
        while waiting:
            left = deadline - self.clock()
            if left <= 0:
                break
            ready = select.select([s for s, r in self.sockets.values()], [], [], left)[0]
            for version, (sock, raw) in self.sockets.items():
                if sock not in ready:
                    continue
                while True:
                    try:
                        data, peer = sock.recvfrom(2048)
                    except (BlockingIOError, InterruptedError):
                        break
                    except OSError:
                        break
                    reply = echo_reply(version, data, raw)
                    source = str(ipaddress.ip_address(peer[0].split('%')[0]))
                    if reply and reply[0] == self.seq and reply[1] == payload and source in waiting:
                        answered.add(waiting.pop(source))
        return answered

    def close(self):
        for sock, dummy in self.sockets.values():
            sock.close()
        self.sockets = {}


class CommandPinger(object):
    """`ping -c 1 -W <timeout>` per address, all at once (when no ICMP socket can be opened)."""

    name = 'command'

    def __init__(self, popen=subprocess.Popen, clock=time.monotonic):
        self.popen = popen
        self.clock = clock

    def round(self, addresses, timeout):
        procs = {}
        for address in addresses:
            try:
                procs[address] = self.popen(['ping', '-n', '-q', '-c', '1', '-W', '%g' % timeout, str(address)],
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            except OSError:
                continue
        answered = set()
        deadline = self.clock() + timeout + 1.0
        for address, proc in procs.items():
            try:
                if proc.wait(max(0.0, deadline - self.clock())) == 0:
                    answered.add(address)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        return answered

    def close(self):
        pass


class NoPinger(object):
    """ping.method none: every node counts as answering (no loss detection)."""

    name = 'none'

    def round(self, addresses, timeout):
        return set(addresses)

    def close(self):
        pass


def make_pinger(method, log):
    if method == 'none':
        return NoPinger()
    if method in ('auto', 'icmp'):
        try:
            return IcmpPinger()
        except OSError as exc:
            if method == 'icmp':
                raise
            log('no ICMP socket (%s): pinging with the ping command' % exc)
    return CommandPinger()


# --------------------------------------------------------------------------------------- routes
def run_command(argv):
    """(rc, output) of a command; rc 127 when it cannot run."""
    try:
        proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=10,
                              universal_newlines=True, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return 127, str(exc)
    return proc.returncode, proc.stdout.strip()


class IpRouter(object):
    """Blocks and unblocks routes to single addresses with `ip`: `prohibit` routes in table
    ``table``, looked up for everything but ICMP by a rule at ``priority`` (`not ipproto icmp`),
    so that pings and their replies (rp_filter's reverse lookup included) still pass."""

    def __init__(self, table, priority, run=run_command):
        self.table = str(table)
        self.priority = str(priority)
        self.run = run

    @staticmethod
    def family(version):
        return '-4' if version == 4 else '-6'

    def prepare(self, versions):
        """Start clean: flush the table and put exactly one rule of ours in place per family."""
        problems = []
        for version in sorted(versions):
            fam = self.family(version)
            self.run(['ip', fam, 'route', 'flush', 'table', self.table])
            for dummy in range(16):
                if self.run(['ip', fam, 'rule', 'del', 'priority', self.priority])[0] != 0:
                    break
            rc, out = self.run(['ip', fam, 'rule', 'add', 'priority', self.priority, 'not', 'ipproto',
                                str(PROTO_ICMP if version == 4 else PROTO_ICMPV6), 'lookup', self.table])
            if rc != 0:
                problems.append('ip %s rule add failed: %s' % (fam, out))
        return problems

    def block(self, address):
        """None, or why the route could not be blocked."""
        prefix = '%s/%d' % (address, 32 if address.version == 4 else 128)
        rc, out = self.run(['ip', self.family(address.version), 'route', 'replace', 'prohibit', prefix, 'table', self.table])
        return None if rc == 0 else out or 'rc %d' % rc

    def unblock(self, address):
        prefix = '%s/%d' % (address, 32 if address.version == 4 else 128)
        rc, out = self.run(['ip', self.family(address.version), 'route', 'del', 'prohibit', prefix, 'table', self.table])
        return None if rc == 0 or 'No such process' in out else out or 'rc %d' % rc

    def cleanup(self, versions):
        for version in sorted(versions):
            fam = self.family(version)
            self.run(['ip', fam, 'route', 'flush', 'table', self.table])
            self.run(['ip', fam, 'rule', 'del', 'priority', self.priority])


# --------------------------------------------------------------------------------------- workers
class ThreadExecutor(object):
    """Runs blocking jobs (a login, a reset) in threads; at most one per key at a time."""

    def __init__(self):
        self.lock = threading.Lock()
        self.running = set()
        self.done = []

    def busy(self, key):
        with self.lock:
            return key in self.running

    def start(self, key, job):
        with self.lock:
            if key in self.running:
                return False
            self.running.add(key)

        def work():
            try:
                outcome = (None, job())
            except Exception as exc:      # any failure is reported as the job's outcome
                outcome = (exc, None)
            with self.lock:
                self.running.discard(key)
                self.done.append((key, outcome))
        thread = threading.Thread(target=work, name='rdma-srp-login %s' % (key,))
        thread.daemon = True
        thread.start()
        return True

    def drain(self):
        with self.lock:
            done, self.done = self.done, []
        return done


class InlineExecutor(ThreadExecutor):
    """Runs each job at once in the caller (--once, and the unit tests)."""

    def start(self, key, job):
        try:
            outcome = (None, job())
        except Exception as exc:      # any failure is reported as the job's outcome
            outcome = (exc, None)
        self.done.append((key, outcome))
        return True


# --------------------------------------------------------------------------------------- service
def describe_error(exc):
    if isinstance(exc, LoginTimeout):
        return 'no answer within %g s (ETIMEDOUT): abandoned, the kernel drops the half-made login' % exc.seconds
    if isinstance(exc, OSError) and exc.errno:
        return '%s (%s)' % (os.strerror(exc.errno), errno.errorcode.get(exc.errno, exc.errno))
    return str(exc) or type(exc).__name__


class TargetState(object):
    def __init__(self, target):
        self.target = target
        self.hosts = []          # [{'host': N, 'state': rport state}] of its SCSI hosts
        self.answered = False    # the node answered a ping since the service started
        self.misses = 0          # pings missed in a row
        self.lost = False
        self.blocked = False     # its route is blocked
        self.resets = {}         # host -> 'pending' | 'running' | 'done' | 'failed', for the current loss
        self.failing = {}        # host -> when its remote port was first seen fail-fast
        self.failures = 0        # logins refused in a row
        self.last_attempt = None
        self.login_started = None   # when the running login was started (None: none running)
        self.login_waiting_said = False
        self.failed_since = None    # when the logins began to fail in a row
        self.failures_said = None   # when the failures in a row were last summed up
        self.notes = {}          # last message per topic: only changes are logged
        self.misses_needed = 1   # ping.misses of the configuration

    @property
    def connected(self):
        return bool(self.hosts)

    @property
    def running(self):
        return any(h['state'] == 'running' for h in self.hosts)

    @property
    def down(self):
        """Known to be down: it answered pings before and misses them now."""
        return self.lost or (self.answered and self.misses >= self.misses_needed)


class Service(object):
    """The state machine. step(now) does what is due at ``now`` (a monotonic clock) and returns
    when it wants to be called next. Retry pacing of the logins of a target that is not logged in:
    every failover_interval while a target of its pair is lost, every interval while no target of
    its pair has a running path (start-up, a switch-over), else (its pair is served: this is the
    standby) doubling from interval up to retry_max, so that a standby is not asked every second."""

    def __init__(self, config, kernel, pinger, router, executor, log):
        self.kernel = kernel
        self.pinger = pinger
        self.router = router
        self.executor = executor
        self.log = log
        self.states = {}
        self.next_ping = 0.0
        self.next_login = 0.0
        self.now = None
        self.versions = set()
        self.configure(config)

    # ------------------------------------------------------------------ configuration
    def configure(self, config):
        old = self.states
        self.config = config
        self.states = {}
        for target in config.targets:
            state = old.get(target.name)
            if state is not None and state.target.same(target):
                self.states[target.name] = state
            else:
                self.states[target.name] = TargetState(target)
            self.states[target.name].misses_needed = config.ping['misses']
        for name, state in old.items():
            if self.states.get(name) is not state and state.blocked and self.router is not None:
                self.router.unblock(state.target.address)    # removed or changed: its block goes
        versions = set(t.address.version for t in config.targets)
        if config.on_loss['block_route'] and self.router is not None and not versions <= self.versions:
            for problem in self.router.prepare(versions - self.versions):
                self.log('route blocking is not available: %s' % problem)
            self.versions |= versions
        self.next_ping = self.next_login = 0.0

    def note(self, state, topic, message):
        """Log message unless it is what was said last on this topic for this target."""
        if state.notes.get(topic) != message:
            state.notes[topic] = message
            target = state.target
            self.log('target %s (%s via %s): %s' % (target.name, target.dest, os.path.basename(target.srp_host), message))

    def group(self, state):
        """The states of the targets of the same HA pair (a target without pair is its own group)."""
        pair = state.target.pair
        return [s for s in self.states.values() if s is state or (pair and s.target.pair == pair)]

    # ------------------------------------------------------------------ one step
    def step(self, now):
        self.now = now
        self.collect()
        self.watch_logins(now)
        pinging = self.config.ping['method'] != 'none'
        if pinging and now >= self.next_ping:
            self.next_ping = now + self.config.ping['interval']
            self.ping()
        if now >= self.next_login:
            lost = any(s.lost for s in self.states.values())
            self.next_login = now + (self.config.failover_interval if lost else min(self.config.interval, 1.0))
            self.login_pass(now)
            self.remove_failed_ports(now)
        return min(self.next_ping, self.next_login) if pinging else self.next_login

    def collect(self):
        for (kind, name, host), (exc, value) in self.executor.drain():
            state = self.states.get(name)
            if state is None:
                continue
            if kind == 'login':
                self.login_done(state, exc)
            elif kind == 'delete':
                state.failing.pop(host, None)    # still there at the next pass: another dev_loss_tmo
                if exc is None:
                    self.log('target %s: SCSI host %d removed' % (name, host))
                else:
                    self.log('target %s: SCSI host %d could not be removed: %s' % (name, host, describe_error(exc)))
            elif kind == 'reset':
                if exc is None:
                    state.resets[host] = 'done'
                    device, note = value
                    self.log('target %s: SCSI host %d reset through %s%s' % (
                        name, host, device, '' if not note else ' (its send queues were not flushed first: %s)' % note))
                elif isinstance(exc, OSError) and exc.errno == errno.EAGAIN and state.lost:
                    state.resets[host] = 'pending'   # in error recovery already: try again
                    self.note(state, 'reset%d' % host, 'SCSI host %d is in error recovery; retrying the reset' % host)
                else:
                    state.resets[host] = 'failed'
                    note = getattr(exc, 'flush_note', '')
                    self.log('target %s: SCSI host %d reset failed: %s%s' % (
                        name, host, describe_error(exc), '' if not note else ' (its send queues were not flushed first: %s)' % note))

    def login_done(self, state, exc):
        took = None
        if state.login_started is not None and self.now is not None:
            took = self.now - state.login_started
        state.login_started = None
        if took is not None and took >= SLOW_LOGIN:
            # the kernel's connect waited (CM retries to a node that does not answer): the reason a
            # takeover's login comes late, so it is said
            self.log('target %s: that login took %.0f s in the kernel' % (state.target.name, took))
        if exc is None or (isinstance(exc, OSError) and exc.errno == errno.EEXIST):
            state.failures = 0
            state.failed_since = state.failures_said = None
            self.note(state, 'login', 'login accepted' if exc is None else 'already logged in (EEXIST)')
            return
        state.failures += 1
        message = 'login failed: %s; retrying' % describe_error(exc)
        if state.failures == 1:
            state.failed_since = state.failures_said = self.now
        if state.notes.get('login') != message:
            self.note(state, 'login', message)
            state.failures_said = self.now
        elif self.now is not None and state.failures_said is not None and self.now - state.failures_said >= FAILURES_SUMMED_EVERY:
            # the same refusal again and again (a standby): summed up now and then, so a journal
            # shows the logins went on
            state.failures_said = self.now
            self.log('target %s: %d logins failed in a row in %.0f s (the last: %s); retrying' % (
                state.target.name, state.failures, self.now - state.failed_since, describe_error(exc)))

    def watch_logins(self, now):
        """Say once per login when it has been waiting for the kernel for SLOW_LOGIN seconds."""
        for state in self.states.values():
            if state.login_started is None or state.login_waiting_said or now - state.login_started < SLOW_LOGIN:
                continue
            state.login_waiting_said = True
            self.log('target %s (%s via %s): the login has been waiting for the kernel for over %.0f s (no answer '
                     'from the node yet); no other login to it starts meanwhile' % (
                         state.target.name, state.target.dest, os.path.basename(state.target.srp_host), SLOW_LOGIN))

    def ping(self):
        self.refresh()
        addresses = set(s.target.address for s in self.states.values())
        answered = self.pinger.round(sorted(addresses, key=str), self.config.ping['timeout'])
        for state in self.states.values():
            if state.target.address in answered:
                state.misses = 0
                state.answered = True
                self.note(state, 'ping', 'answers pings')
                if state.lost:
                    self.recovered(state)
            elif state.answered:
                state.misses += 1
                if state.misses >= self.config.ping['misses']:
                    self.note(state, 'ping', 'does not answer pings (%d missed)' % self.config.ping['misses'])
                    if state.connected and not state.lost:
                        self.declare_lost(state)
        self.start_resets()

    def declare_lost(self, state):
        target = state.target
        state.lost = True
        self.log('target %s (%s): lost while logged in (SCSI host %s; volumes %s)' % (
            target.name, target.address, ', '.join(str(h['host']) for h in state.hosts), ', '.join(target.volumes) or '-'))
        if self.config.on_loss['block_route'] and self.router is not None:
            problem = self.router.block(target.address)
            if problem:
                self.log('target %s: cannot block the route to %s: %s' % (target.name, target.address, problem))
            else:
                state.blocked = True
                self.log('target %s: route to %s blocked' % (target.name, target.address))
        state.resets = {}
        if self.config.on_loss['reset_host']:
            for host in state.hosts:
                state.resets[host['host']] = 'pending'
        self.next_login = 0.0     # the other node of the pair: log in at the failover pace

    def start_resets(self):
        for state in self.states.values():
            if not state.lost:
                continue
            for host, status in sorted(state.resets.items()):
                if status == 'pending' and self.executor.start(
                        ('reset', state.target.name, host), lambda host=host: self.kernel.reset_host(host)):
                    state.resets[host] = 'running'

    def recovered(self, state):
        target = state.target
        state.lost = False
        state.resets = {}
        self.log('target %s (%s): answers again' % (target.name, target.address))
        if state.blocked:
            problem = self.router.unblock(target.address)
            if problem:
                self.log('target %s: cannot unblock the route to %s: %s' % (target.name, target.address, problem))
            else:
                self.log('target %s: route to %s unblocked' % (target.name, target.address))
            state.blocked = False
        self.next_login = 0.0

    def retry_delay(self, state):
        group = self.group(state)
        if any(s.lost for s in group):
            return self.config.failover_interval
        if state.failures == 0 or not any(s.running for s in group):
            return self.config.interval
        return min(self.config.interval * 2 ** (state.failures - 1), max(self.config.retry_max, self.config.interval))

    def refresh(self):
        """Read which targets are logged in (sysfs; a few small files per SCSI host)."""
        logins = self.kernel.logins()
        for state in self.states.values():
            state.hosts = logins.get(state.target.key, [])
            if state.connected:
                state.failures = 0
                self.note(state, 'login', 'logged in: SCSI host %s' % ', '.join(
                    '%d (%s)' % (h['host'], h['state'] or 'no remote port') for h in state.hosts))
            elif state.notes.get('login', '').startswith('logged in'):
                self.note(state, 'login', 'its SCSI host is gone (dev_loss_tmo, or logged out): logging in again')

    def login_pass(self, now):
        self.refresh()
        for state in self.states.values():
            target = state.target
            if state.connected or state.down or self.executor.busy(('login', target.name, None)):
                continue         # a login to a node that does not answer would only hang
            if state.last_attempt is not None and now < state.last_attempt + self.retry_delay(state) - 1e-6:
                continue
            if not self.kernel.srp_host_exists(target):
                self.note(state, 'login', 'SRP host %s is not there (ib_srp not loaded, or no such RDMA port); '
                                          'retrying' % target.srp_host)
                continue
            state.last_attempt = now
            state.login_started, state.login_waiting_said = now, False
            self.executor.start(('login', target.name, None),
                                lambda target=target: self.kernel.add_target(target, self.config.login_timeout))
        self.collect()

    def remove_failed_ports(self, now):
        """Delete each remote port that has been fail-fast for its dev_loss_tmo (see the top)."""
        for state in self.states.values():
            seen = set()
            for host in state.hosts:
                number = host['host']
                if host.get('state') != 'fail-fast' or host.get('port') is None or host.get('dev_loss_tmo') is None:
                    continue
                seen.add(number)
                since = state.failing.setdefault(number, now)
                if now - since < host['dev_loss_tmo'] or self.executor.busy(('delete', state.target.name, number)):
                    continue
                self.log('target %s: SCSI host %d has been fail-fast for %.0f s (dev_loss_tmo %d s; the kernel '
                         'does not remove it after a failed reset): removing it' % (
                             state.target.name, number, now - since, host['dev_loss_tmo']))
                port = host['port']
                self.executor.start(('delete', state.target.name, number), lambda port=port: self.kernel.delete_port(port))
            state.failing = {n: t for n, t in state.failing.items() if n in seen}
        self.collect()

    def close(self):
        for state in self.states.values():
            state.blocked = False
        if self.router is not None and self.versions:
            self.router.cleanup(self.versions)
        self.pinger.close()


# --------------------------------------------------------------------------------------- main
def read_config(path):
    try:
        with open(path, encoding='utf-8') as handle:
            return load_config(handle.read())
    except (IOError, OSError) as exc:
        raise ConfigError(['cannot read %s: %s' % (path, exc.strerror or exc)]) from None


def log_stdout(message):
    print(message, flush=True)


def log_stderr(message):
    print(message, file=sys.stderr, flush=True)


def check_config(path, out=print, err=log_stderr):
    try:
        config = read_config(path)
    except ConfigError as exc:
        for problem in exc.problems:
            err('%s: %s' % (path, problem))
        return EXIT_CONFIG
    for target in config.targets:
        out('%s: %s > %s/add_target' % (target.name, target.login, target.srp_host))
    return EXIT_OK


def run_once(config, kernel, pinger, log):
    """One pass: log in every target that is not logged in and whose node answers a ping (all of
    them with ping.method none), one after the other; EXIT_OK when all are logged in afterwards."""
    answered = pinger.round(sorted(set(t.address for t in config.targets), key=str), config.ping['timeout'])
    logins = kernel.logins()
    for target in config.targets:
        if target.key in logins:
            continue
        if target.address not in answered:
            log('target %s (%s): does not answer a ping: not logging in' % (target.name, target.dest))
            continue
        try:
            kernel.add_target(target, config.login_timeout)
            log('target %s (%s): login accepted' % (target.name, target.dest))
        except (IOError, OSError) as exc:
            if exc.errno != errno.EEXIST:
                log('target %s (%s): login failed: %s' % (target.name, target.dest, describe_error(exc)))
    logins = kernel.logins()
    missing = [t.name for t in config.targets if t.key not in logins]
    log('logged in: %s; not logged in: %s' % (
        ', '.join(t.name for t in config.targets if t.key in logins) or 'none', ', '.join(missing) or 'none'))
    return EXIT_OK if not missing else EXIT_NOT_CONNECTED


def serve(path, config, kernel, pinger, router, log, clock=time.monotonic, sleep=time.sleep):
    flags = {'stop': False, 'reload': False}

    def on_term(signum, frame):
        flags['stop'] = True

    def on_hup(signum, frame):
        flags['reload'] = True
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    signal.signal(signal.SIGHUP, on_hup)
    service = Service(config, kernel, pinger, router, ThreadExecutor(), log)
    log('started: %d target%s, ping %s every %gs (lost after %d misses), login pass every %gs' % (
        len(config.targets), '' if len(config.targets) == 1 else 's', pinger.name, config.ping['interval'],
        config.ping['misses'], config.interval))
    try:
        while not flags['stop']:
            if flags['reload']:
                flags['reload'] = False
                try:
                    service.configure(read_config(path))
                    log('configuration %s reloaded' % path)
                except ConfigError as exc:
                    log('configuration %s refused, the previous one stays: %s' % (path, exc))
            due = service.step(clock())
            sleep(max(0.01, min(1.0, due - clock())))
    finally:
        service.close()
        log('stopped')
    return EXIT_OK


def main(argv=None):
    parser = argparse.ArgumentParser(prog='rdma-srp-login', description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--config', default=CONFIG, help='configuration file (default %(default)s)')
    parser.add_argument('--check-config', metavar='FILE', help='validate FILE and print its login strings')
    parser.add_argument('--once', action='store_true', help='one pass; exit 0 when every target is logged in')
    parser.add_argument('--root', default='/', help=argparse.SUPPRESS)    # a sysfs tree for tests
    args = parser.parse_args(argv)
    if args.check_config:
        return check_config(args.check_config)
    try:
        config = read_config(args.config)
    except ConfigError as exc:
        for problem in exc.problems:
            log_stdout('%s: %s' % (args.config, problem))
        return EXIT_CONFIG
    kernel = Kernel(args.root)
    pinger = make_pinger(config.ping['method'], log_stdout)
    if args.once:
        return run_once(config, kernel, pinger, log_stdout)
    router = IpRouter(config.on_loss['route_table'], config.on_loss['rule_priority']) if config.on_loss['block_route'] else None
    return serve(args.config, config, kernel, pinger, router, log_stdout)


if __name__ == '__main__':
    sys.exit(main())
