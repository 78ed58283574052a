# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Linux SRP initiator (ib_srp) as sysfs shows it, and the kernel's rules for its timers.

What the kernel offers (drivers/infiniband/ulp/srp/ib_srp.c, drivers/scsi/scsi_transport_srp.c):

* module parameters in /sys/module/ib_srp/parameters/: ``reconnect_delay``, ``fast_io_fail_tmo``
  and ``dev_loss_tmo`` are writable at run time (mode 0644; they are the defaults of the target
  ports logged in afterwards), ``ch_count`` and ``cmd_sg_entries`` only at load time (0444);
* one SCSI host per logged-in target port (/sys/class/scsi_host/hostN, ``proc_name`` ib_srp) and
  its SRP remote port /sys/class/srp_remote_ports/port-N:M, whose ``reconnect_delay``,
  ``fast_io_fail_tmo`` and ``dev_loss_tmo`` are writable and whose ``state`` is running, blocked,
  fail-fast or lost;
* a timer is a number of seconds or ``off`` (a negative number is read back as ``off``); every
  write is checked by ``srp_tmo_valid()`` against the two other values of the same port, so three
  changes must be written in an order in which each intermediate state is valid (:func:`write_order`).

Reads files below a root (tests point it at a temporary tree); standard library only; no f-strings,
no annotations (module_utils run on the managed nodes' Python).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re

from ansible_collections.rdma.ha_storage.plugins.module_utils.fabric.ids import canonical_guid
# parse_modinfo_parameters is kmod's (one parser of `modinfo -p`), imported by srp_initiator_params from here
from ansible_collections.rdma.ha_storage.plugins.module_utils.kmod import parse_modinfo_parameters  # noqa: F401 pylint: disable=unused-import
from ansible_collections.rdma.ha_storage.plugins.module_utils.rdma_sysfs import RdmaSysfs

# writable at run time (module parameters and remote ports alike), in this order in files
TIMERS = ('reconnect_delay', 'fast_io_fail_tmo', 'dev_loss_tmo')
# module parameters read when ib_srp is loaded only
LOAD_TIME = ('ch_count', 'cmd_sg_entries')
# include/scsi/scsi_device.h
SCSI_DEVICE_BLOCK_MAX_TIMEOUT = 600
# 2**31 - 1: the kernel parses the timers with kstrtoint
INT_MAX = 2147483647
# TYPE_DISK (include/scsi/scsi_proto.h): the devices whose command timeout ib_srp sets
TYPE_DISK = '0'

_PORT_RE = re.compile(r'^port-([0-9]+):([0-9]+)$')
_HOST_RE = re.compile(r'^host([0-9]+)$')
_SDEV_RE = re.compile(r'^([0-9]+):([0-9]+):([0-9]+):([0-9]+)$')


def timer_value(value):
    """A timer as an int: seconds, or -1 for off. Accepts 'off', negative numbers (off), ints and
    decimal strings, as srp_parse_tmo() does. Raises ValueError for anything else."""
    if isinstance(value, bool):
        raise ValueError('%r is not a number of seconds or off' % (value,))
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip()
        if text == 'off':
            return -1
        if not re.match(r'^-?[0-9]+$', text):
            raise ValueError('%r is not a number of seconds or off' % (value,))
        number = int(text)
    if number > INT_MAX or number < -INT_MAX - 1:
        raise ValueError('%r does not fit the kernel\'s int' % (value,))
    return -1 if number < 0 else number


def timer_text(number):
    """The spelling sysfs reads back: the number, or 'off'."""
    return 'off' if number < 0 else str(number)


def tmo_problem(reconnect_delay, fast_io_fail_tmo, dev_loss_tmo):
    """None when srp_tmo_valid() accepts the three values (-1 = off), else why it refuses them."""
    if reconnect_delay < 0 and fast_io_fail_tmo < 0 and dev_loss_tmo < 0:
        return 'reconnect_delay, fast_io_fail_tmo and dev_loss_tmo cannot all be off'
    if reconnect_delay == 0:
        return 'reconnect_delay cannot be 0'
    if fast_io_fail_tmo > SCSI_DEVICE_BLOCK_MAX_TIMEOUT:
        return 'fast_io_fail_tmo %d is above %d' % (fast_io_fail_tmo, SCSI_DEVICE_BLOCK_MAX_TIMEOUT)
    if fast_io_fail_tmo < 0 and dev_loss_tmo > SCSI_DEVICE_BLOCK_MAX_TIMEOUT:
        return 'dev_loss_tmo %d is above %d while fast_io_fail_tmo is off' % (dev_loss_tmo, SCSI_DEVICE_BLOCK_MAX_TIMEOUT)
    if fast_io_fail_tmo >= 0 and dev_loss_tmo >= 0 and fast_io_fail_tmo >= dev_loss_tmo:
        return 'fast_io_fail_tmo %d must be below dev_loss_tmo %d' % (fast_io_fail_tmo, dev_loss_tmo)
    return None


def write_order(current, wanted):
    """The timers to write, as [(name, value)], in an order in which the kernel accepts every write.

    current, wanted: {name: int (-1 = off)} for the three TIMERS (current as read from sysfs).
    Each write is checked against the two other values of that moment, so some changes need a
    detour: from (off, off, 1) to (off, 1, off) neither timer can be written first, but through
    dev_loss_tmo 600 it works. The shortest sequence is searched (breadth first) over the wanted,
    current and a few safe values. Raises ValueError when wanted itself is invalid."""
    problem = tmo_problem(*[wanted[name] for name in TIMERS])
    if problem:
        raise ValueError(problem)
    start = tuple(current[name] for name in TIMERS)
    goal = tuple(wanted[name] for name in TIMERS)
    candidates = [sorted(set([goal[i], start[i], SCSI_DEVICE_BLOCK_MAX_TIMEOUT, 1, -1]),
                         key=lambda v, i=i: (v != goal[i], v)) for i in range(len(TIMERS))]
    seen = {start: None}
    queue = [start]
    while queue and goal not in seen:
        state = queue.pop(0)
        for index, values in enumerate(candidates):
            for value in values:
                step = state[:index] + (value,) + state[index + 1:]
                if step not in seen and tmo_problem(*step) is None:
                    seen[step] = (state, index, value)
                    queue.append(step)
    if goal not in seen:
        raise ValueError('no order of writes takes %s to %s through values the kernel accepts' % (
            ', '.join('%s=%s' % (n, timer_text(current[n])) for n in TIMERS),
            ', '.join('%s=%s' % (n, timer_text(wanted[n])) for n in TIMERS)))
    writes = []
    state = goal
    while seen[state] is not None:
        previous, index, value = seen[state]
        writes.append((TIMERS[index], value))
        state = previous
    return list(reversed(writes))


class SrpSysfs(RdmaSysfs):
    """ib_srp's module parameters, SCSI hosts, remote ports and disks below a root ('/' on a host);
    path(), read() and listdir() are RdmaSysfs'."""

    def __init__(self, root='/'):
        super(SrpSysfs, self).__init__(root)

    # ------------------------------------------------------------------ the module
    def module_loaded(self):
        return os.path.isdir(self.path('sys', 'module', 'ib_srp', 'parameters'))

    def parameter_path(self, name):
        return self.path('sys', 'module', 'ib_srp', 'parameters', name)

    def parameter(self, name):
        """The parameter's value as sysfs shows it ('10', 'off'), or None when it is not there."""
        return self.read(self.parameter_path(name))

    # ------------------------------------------------------------------ SCSI hosts and ports
    def srp_hosts(self):
        """Host numbers (ints) of the SCSI hosts ib_srp created, one per logged-in target port."""
        hosts = []
        base = self.path('sys', 'class', 'scsi_host')
        for name in self.listdir(base):
            match = _HOST_RE.match(name)
            if match and self.read(os.path.join(base, name, 'proc_name')) == 'ib_srp':
                hosts.append(int(match.group(1)))
        return sorted(hosts)

    def remote_ports(self):
        """[{'name': 'port-5:1', 'host': 5, 'path': ..., 'state': 'running', 'reconnect_delay': '10', ...}]"""
        ports = []
        base = self.path('sys', 'class', 'srp_remote_ports')
        for name in self.listdir(base):
            match = _PORT_RE.match(name)
            if not match:
                continue
            path = os.path.join(base, name)
            port = {'name': name, 'host': int(match.group(1)), 'path': path, 'state': self.read(os.path.join(path, 'state'))}
            for timer in TIMERS:
                port[timer] = self.read(os.path.join(path, timer))
            ports.append(port)
        return sorted(ports, key=lambda p: (p['host'], p['name']))

    def srp_disks(self, hosts=None):
        """SCSI disks (TYPE_DISK) on the given SRP hosts (default: every SRP host):
        [{'name': '5:0:0:1', 'host': 5, 'timeout_path': ..., 'timeout': '30'}]"""
        if hosts is None:
            hosts = self.srp_hosts()
        hosts = set(hosts)
        disks = []
        base = self.path('sys', 'class', 'scsi_device')
        for name in self.listdir(base):
            match = _SDEV_RE.match(name)
            if not match or int(match.group(1)) not in hosts:
                continue
            device = os.path.join(base, name, 'device')
            if self.read(os.path.join(device, 'type')) != TYPE_DISK:
                continue
            timeout_path = os.path.join(device, 'timeout')
            disks.append({'name': name, 'host': int(match.group(1)), 'timeout_path': timeout_path,
                          'timeout': self.read(timeout_path)})
        return disks


# ---------------------------------------------------------------------- login targets of a slice
SRP_CLASS_DIR = '/sys/class/infiniband_srp'


def _dest(address, port):
    return '[%s]:%d' % (address, port) if ':' in address else '%s:%d' % (address, port)


def _local_port(node, network):
    """(interface, port) of ``node`` (a slice's node) on ``network``: the interface's own port,
    else the Ethernet port whose netdev carries the address (RoCE); (None, None) / (iface, None)."""
    iface = next((i for i in node['interfaces'] if i['network'] == network), None)
    if iface is None:
        return None, None
    ports = node['ports']
    if iface.get('port'):
        return iface, next((p for p in ports if p['name'] == iface['port']), None)
    return iface, next((p for p in ports if p.get('netdev') == iface['netdev'] and p['link_layer'] == 'ethernet'), None)


def login_targets(host_slice, rdma_cm_port=None, target_guids=None, options=None):
    """The targets of an initiator's slice as the SRP login service logs in to them over RDMA/CM.

    One entry per storage node (all volumes of its pair are reached through one login), in the
    order of the slice: the local SRP host is the port that carries the initiator's address on
    the pair's client network; ``dest`` the node's client address and ``rdma_cm_port`` (default:
    the model's ``srp.rdma_cm_port``, which the targets listen on);
    ``id_ext`` = ``ioc_guid`` the GUID the node's ib_srpt checks the login against (its
    srpt_service_guid): ``target_guids[node]`` when given, else the node's first port of the same
    link layer (on Soft-RoCE the node GUID and the port GUID are one value; see the role's README).

    Returns {'targets': [...], 'skipped': [{'pair', 'volume', 'reason'}]} (targets the initiator
    cannot reach over RDMA/CM: no address on the client network, or no port under it)."""
    if rdma_cm_port is None:
        rdma_cm_port = host_slice['srp'].get('rdma_cm_port', 5555)
    target_guids = target_guids or {}
    options = dict(options or {})
    node = host_slice['node']
    initiator_ext = host_slice['srp']['initiator_ext']
    entries, skipped, by_node = [], [], {}
    for target in host_slice['targets']:
        iface, local = _local_port(node, target['client_network'])
        if local is None:
            reason = ('no address on the client network %s: RDMA/CM logins need one (InfiniBand hosts without '
                      'one log in through srp_daemon)' % target['client_network'] if iface is None else
                      'its address on %s (%s) is on no RDMA port of the node (give the interface its port)'
                      % (target['client_network'], iface['netdev']))
            skipped.append({'pair': target['pair'], 'volume': target['volume'], 'reason': reason})
            continue
        srp_host = '%s/srp-%s-%d' % (SRP_CLASS_DIR, local['device'], local['port'])
        for member in target['nodes']:
            key = (member['name'], srp_host)
            if key in by_node:
                if target['volume'] not in by_node[key]['volumes']:
                    by_node[key]['volumes'].append(target['volume'])
                continue
            guid = target_guids.get(member['name'])
            if not guid:
                same = [p for p in member['ports'] if p['link_layer'] == local['link_layer']]
                guid = (same or member['ports'])[0]['guid']
            guid = canonical_guid(guid)[2:]
            entry = {'name': member['name'], 'pair': target['pair'], 'volumes': [target['volume']],
                     'srp_host': srp_host, 'id_ext': guid, 'ioc_guid': guid, 'initiator_ext': initiator_ext,
                     'dest': _dest(member['client_address'], rdma_cm_port), 'options': dict(options)}
            by_node[key] = entry
            entries.append(entry)
    return {'targets': entries, 'skipped': skipped}
