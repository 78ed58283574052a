# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared DRBD code for the rdma.ha_storage modules.

Pure functions (parsers and safety decisions) are kept free of Ansible imports so that they
can be unit-tested on captured outputs; DrbdCli gives drbdadm and drbdsetup one Runner each
(module_utils/runner.py, the collection's one way to run a command).

Two status sources are understood:

* ``/proc/drbd`` of the in-tree DRBD 8.4 module (the only status source with a stable format
  on 8.4: ``drbdsetup-84`` has no ``--json``);
* ``drbdsetup status --json`` of DRBD 9 (format defined by drbd-utils ``user/v9/drbdsetup.c``,
  ``resource_status_json`` / ``peer_device_status_json``).

Both are normalised to one shape (see ``normalise_84`` / ``normalise_9``), with DRBD 9 names:
``connection_state`` is ``Connected``/``Connecting``/``StandAlone``/..., ``replication_state``
is ``Established``/``SyncSource``/``SyncTarget``/..., so callers test one set of words.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import fnmatch
import json
import os
import re

from ansible_collections.rdma.ha_storage.plugins.module_utils.files import read_file, write_private_file
from ansible_collections.rdma.ha_storage.plugins.module_utils.runner import CommandError, Runner

# --------------------------------------------------------------------------------------------
# /proc/drbd (DRBD 8.4)
# --------------------------------------------------------------------------------------------

_VERSION_RE = re.compile(r'^version:\s*(?P<version>\S+)\s*(?:\((?P<extra>[^)]*)\))?')
_DEVICE_RE = re.compile(r'^\s*(?P<minor>\d+):\s+cs:(?P<cs>\S+)(?P<rest>.*)$')
_STATE_RE = re.compile(r'ro:(?P<role>[^/\s]+)/(?P<peer_role>\S+)\s+ds:(?P<disk>[^/\s]+)/(?P<peer_disk>\S+)(?P<tail>.*)$')
_KV_RE = re.compile(r'(?P<key>[a-z]+):(?P<value>\S+)')
_SYNC_RE = re.compile(
    r"(?P<kind>sync'ed|verified):\s*(?P<percent>[\d.]+)%\s*"
    r"\((?P<left>\d+)/(?P<total>\d+)\)(?P<unit>[KMG])?")
_FINISH_RE = re.compile(
    r'finish:\s*(?P<finish>\S+)\s+speed:\s*(?P<speed>[\d,]+)\s*\((?P<avg>[\d,]+)\)'
    r'(?:\s+want:\s*(?P<want>[\d,]+))?\s*K/sec')

# 8.4 connection states (cs:) -> (DRBD 9 connection state, DRBD 9 replication state)
_CS_84 = {
    'StandAlone': ('StandAlone', 'Off'),
    'Disconnecting': ('Disconnecting', 'Off'),
    'Unconnected': ('Unconnected', 'Off'),
    'Timeout': ('Timeout', 'Off'),
    'BrokenPipe': ('BrokenPipe', 'Off'),
    'NetworkFailure': ('NetworkFailure', 'Off'),
    'ProtocolError': ('ProtocolError', 'Off'),
    'TearDown': ('TearDown', 'Off'),
    'WFConnection': ('Connecting', 'Off'),
    'WFReportParams': ('Connecting', 'Off'),
    'Connected': ('Connected', 'Established'),
}
# every other cs of a connected pair is a replication state (SyncSource, WFBitMapS, ...)

RESYNC_STATES = frozenset([
    'StartingSyncS', 'StartingSyncT', 'WFBitMapS', 'WFBitMapT', 'WFSyncUUID',
    'SyncSource', 'SyncTarget', 'PausedSyncS', 'PausedSyncT',
])


def _int(value):
    try:
        return int(str(value).replace(',', ''))
    except (TypeError, ValueError):
        return None


def parse_proc_drbd(text):
    """Parse the text of /proc/drbd (DRBD 8.x).

    Returns {"version": "8.4.11", "api": "1", "proto": "86-101", "srcversion": ...,
    "devices": [{"minor", "cs", "role", "peer_role", "disk_state", "peer_disk_state",
    "protocol", "flags", "stats": {ns, nr, ..., oos}, "sync": {...} or None}]}.
    Unknown lines are ignored; an empty text gives no version and no devices.
    """
    result = {'version': None, 'api': None, 'proto': None, 'srcversion': None, 'devices': []}
    current = None
    for line in text.splitlines():
        if not line.strip():
            continue
        match = _VERSION_RE.match(line)
        if match:
            result['version'] = match.group('version')
            extra = match.group('extra') or ''
            api = re.search(r'api:(\S+?)(?:/|$)', extra)
            proto = re.search(r'proto:(\S+)', extra)
            result['api'] = api.group(1) if api else None
            result['proto'] = proto.group(1) if proto else None
            continue
        if line.startswith('srcversion:'):
            result['srcversion'] = line.split(':', 1)[1].strip()
            continue
        match = _DEVICE_RE.match(line)
        if match:
            current = {
                'minor': int(match.group('minor')),
                'cs': match.group('cs'),
                'role': None, 'peer_role': None, 'disk_state': None, 'peer_disk_state': None,
                'protocol': None, 'flags': None, 'stats': {}, 'sync': None,
            }
            state = _STATE_RE.search(match.group('rest'))
            if state:
                current.update(role=state.group('role'), peer_role=state.group('peer_role'),
                               disk_state=state.group('disk'), peer_disk_state=state.group('peer_disk'))
                tail = state.group('tail').split()
                if len(tail) >= 2:
                    current['protocol'], current['flags'] = tail[0], tail[1]
                elif len(tail) == 1:
                    current['flags'] = tail[0]
            result['devices'].append(current)
            continue
        if current is None:
            continue
        stripped = line.strip()
        match = _SYNC_RE.search(stripped)
        if match:
            unit = match.group('unit') or 'K'
            factor = {'K': 1, 'M': 1024, 'G': 1024 * 1024}[unit]
            current['sync'] = current['sync'] or {}
            current['sync'].update({
                'kind': 'resync' if match.group('kind') == "sync'ed" else 'verify',
                'percent': float(match.group('percent')),
                'left_kib': int(match.group('left')) * factor,
                'total_kib': int(match.group('total')) * factor,
            })
            continue
        match = _FINISH_RE.search(stripped)
        if match:
            current['sync'] = current['sync'] or {}
            current['sync'].update({
                'finish': match.group('finish'),
                'speed_kib_s': _int(match.group('speed')),
                'average_speed_kib_s': _int(match.group('avg')),
                'want_kib_s': _int(match.group('want')) if match.group('want') else None,
            })
            continue
        if stripped.startswith('ns:') or ' oos:' in stripped:
            for kv in _KV_RE.finditer(stripped):
                value = kv.group('value')
                current['stats'][kv.group('key')] = _int(value) if _int(value) is not None else value
    return result


def version_family(version):
    """'8.4.11' -> '8.4'; '9.2.12' -> '9'; None -> None."""
    if not version:
        return None
    if version.startswith('8.'):
        return '.'.join(version.split('.')[:2])
    return version.split('.')[0]


def _healthy(connection_state, volumes):
    return connection_state == 'Connected' and bool(volumes) and all(
        v['disk_state'] == 'UpToDate' and v['peer_disk_state'] == 'UpToDate' and not v['resyncing']
        for v in volumes)


def normalise_84(parsed, names=None):
    """Turn parse_proc_drbd() output into per-resource entries.

    names maps minor (int) -> resource name (from the configuration: /proc/drbd of 8.4 shows
    minors only). Minors without a known name are keyed "minor<N>". Unconfigured minors are
    left out. One 8.4 minor is one volume; volumes of one resource are grouped.
    """
    names = names or {}
    resources = {}
    for dev in parsed.get('devices', []):
        if dev['cs'] == 'Unconfigured':
            continue
        name = names.get(dev['minor']) or 'minor%d' % dev['minor']
        conn, repl = _CS_84.get(dev['cs'], ('Connected', dev['cs']))
        sync = dev.get('sync')
        resyncing = repl in RESYNC_STATES
        volume = {
            'volume': len(resources.get(name, {}).get('volumes', [])),
            'minor': dev['minor'],
            'device': '/dev/drbd%d' % dev['minor'],
            'disk_state': dev['disk_state'],
            'peer_disk_state': dev['peer_disk_state'],
            'replication_state': repl,
            'out_of_sync_kib': dev['stats'].get('oos'),
            'resyncing': resyncing,
            'sync_percent': sync['percent'] if (sync and sync.get('kind') == 'resync') else None,
            'verify_percent': sync['percent'] if (sync and sync.get('kind') == 'verify') else None,
            'sync': sync,
        }
        res = resources.setdefault(name, {
            'name': name,
            'role': dev['role'],
            'peer_role': dev['peer_role'],
            'peer': None,
            'suspended': None,
            'cs': dev['cs'],
            'connection_state': conn,
            'protocol': dev['protocol'],
            'flags': dev['flags'],
            'volumes': [],
            'connections': [{'name': None, 'peer_node_id': None, 'connection_state': conn,
                             'peer_role': dev['peer_role']}],
        })
        res['volumes'].append(volume)
    for res in resources.values():
        _summarise(res)
    return resources


def _summarise(res):
    """Copy the first volume's fields to the resource (one volume per resource in this project)."""
    vols = res['volumes']
    first = vols[0] if vols else {}
    for key in ('minor', 'device', 'disk_state', 'peer_disk_state', 'replication_state',
                'sync_percent'):
        res[key] = first.get(key)
    oos = [v['out_of_sync_kib'] for v in vols if v.get('out_of_sync_kib') is not None]
    res['out_of_sync_kib'] = sum(oos) if oos else None
    res['resyncing'] = any(v.get('resyncing') for v in vols)
    res['healthy'] = _healthy(res['connection_state'], vols)


def parse_status_json(text):
    """Parse `drbdsetup status --json` (DRBD 9); raises ValueError on anything not a JSON list."""
    data = json.loads(text)
    if not isinstance(data, list):
        raise ValueError('drbdsetup status --json did not return a list')
    return data


def normalise_9(data):
    """Turn parse_status_json() output into per-resource entries (same shape as normalise_84).

    With two nodes there is one connection; with more, the flat peer fields describe the first
    connection and "connections" lists all of them.
    """
    resources = {}
    for item in data:
        connections = item.get('connections') or []
        conns = [{
            'name': c.get('name'),
            'peer_node_id': c.get('peer-node-id'),
            'connection_state': c.get('connection-state'),
            'peer_role': c.get('peer-role'),
        } for c in connections]
        first = connections[0] if connections else {}
        peer_devices = {pd.get('volume'): pd for pd in first.get('peer_devices') or []}
        volumes = []
        for dev in item.get('devices') or []:
            pd = peer_devices.get(dev.get('volume'), {})
            repl = pd.get('replication-state', 'Off')
            resyncing = repl in RESYNC_STATES
            percent = pd.get('percent-resync-done')
            volumes.append({
                'volume': dev.get('volume'),
                'minor': dev.get('minor'),
                'device': '/dev/drbd%d' % dev['minor'] if dev.get('minor') is not None else None,
                'disk_state': dev.get('disk-state'),
                'peer_disk_state': pd.get('peer-disk-state', 'DUnknown'),
                'replication_state': repl,
                'out_of_sync_kib': pd.get('out-of-sync'),
                'in_sync_percent': pd.get('percent-in-sync'),
                'resyncing': resyncing,
                'sync_percent': (float(percent) if percent is not None
                                 else (float(pd['percent-in-sync']) if resyncing and 'percent-in-sync' in pd else None)),
                'verify_percent': None,
                'sync': None,
            })
        res = {
            'name': item.get('name'),
            'role': item.get('role'),
            'peer_role': first.get('peer-role', 'Unknown') if connections else 'Unknown',
            'peer': first.get('name'),
            'suspended': item.get('suspended'),
            'cs': None,
            'connection_state': first.get('connection-state', 'StandAlone') if connections else 'StandAlone',
            'protocol': None,
            'flags': None,
            'volumes': volumes,
            'connections': conns,
        }
        _summarise(res)
        resources[res['name']] = res
    return resources


# --------------------------------------------------------------------------------------------
# Generation identifiers and safety decisions
# --------------------------------------------------------------------------------------------

UUID_JUST_CREATED = 4  # drbd_int.h / drbd_meta_data: current UUID of freshly created metadata


def parse_gi(text):
    """First generation identifier (the current UUID) from `drbdadm get-gi RES`.

    8.4 prints "CURRENT:BITMAP:HIST1:HIST2:flags..."; DRBD 9 may prefix "RES/VOL PEER: ".
    Returns the current UUID as int, or None when the text has no 16-hex-digit field.
    """
    match = re.search(r'(?:^|[\s:])([0-9A-Fa-f]{16}):', text or '')
    if not match:
        return None
    return int(match.group(1), 16)


def is_fresh_uuid(uuid):
    """True for the UUID of metadata that was never part of a sync or promotion.

    The lowest bit of DRBD UUIDs is the "was primary" flag and is ignored.
    """
    return uuid is not None and (uuid & ~1) == UUID_JUST_CREATED


def initial_sync_decision(status, local_fresh, peer_fresh):
    """Decide whether the initial promotion may run on this node.

    status: one normalised resource entry (or None). Returns (allowed: bool, reason: str).
    Allowed only when the pair is connected, both sides are Secondary and Inconsistent, and
    both metadata sets are brand new. Anything with UpToDate data or a Primary is left alone.
    """
    if not status:
        return False, 'the resource is not up on this node'
    if status.get('role') == 'Primary' or status.get('peer_role') == 'Primary':
        return False, 'a node of the pair is already Primary'
    if 'UpToDate' in (status.get('disk_state'), status.get('peer_disk_state')):
        return False, 'a node of the pair already holds UpToDate data'
    if status.get('connection_state') != 'Connected':
        return False, 'the pair is not connected (connection state %s)' % status.get('connection_state')
    if status.get('disk_state') != 'Inconsistent' or status.get('peer_disk_state') != 'Inconsistent':
        return False, 'disk states are %s/%s, not Inconsistent/Inconsistent' % (
            status.get('disk_state'), status.get('peer_disk_state'))
    if not local_fresh:
        return False, 'the local metadata is not brand new (current UUID is not the just-created one)'
    if not peer_fresh:
        return False, "the peer's metadata is not known to be brand new"
    return True, 'both nodes are Secondary, Inconsistent and carry brand-new metadata'


# --------------------------------------------------------------------------------------------
# Backing device signatures
# --------------------------------------------------------------------------------------------

def parse_blkid_export(text):
    """Parse `blkid -p -o export DEV` output into a dict (KEY=value lines)."""
    values = {}
    for line in (text or '').splitlines():
        if '=' in line:
            key, value = line.split('=', 1)
            values[key.strip()] = value.strip()
    return values


def parse_wipefs(text):
    """Parse `wipefs --no-act --parsable DEV` lines "offset,uuid,label,type" into dicts.

    Comment lines (starting with '#') are skipped.
    """
    found = []
    for line in (text or '').splitlines():
        line = line.strip()
        if not line or line.startswith('#'):
            continue
        parts = line.split(',')
        if len(parts) < 4:
            continue
        found.append({'offset': parts[0], 'uuid': parts[1], 'label': ','.join(parts[2:-1]), 'type': parts[-1]})
    return found


def classify_signatures(blkid_rc, blkid_values, wipefs_entries):
    """Return (foreign: list of str, drbd: bool) from blkid/wipefs probing of a backing device.

    blkid -p exits 0 when it found something, 2 when nothing, 8 when the result is ambivalent
    (several signatures: foreign by definition). DRBD's own metadata is reported by
    util-linux as TYPE=drbd and is not foreign.
    """
    foreign = []
    drbd = False
    if blkid_rc == 8:
        foreign.append('ambivalent probe result (several signatures)')
    if blkid_rc == 0:
        fstype = blkid_values.get('TYPE')
        if fstype == 'drbd':
            drbd = True
        elif fstype:
            foreign.append('%s (%s)' % (fstype, blkid_values.get('USAGE', 'signature')))
        if blkid_values.get('PTTYPE'):
            foreign.append('partition table %s' % blkid_values['PTTYPE'])
    for entry in wipefs_entries:
        kind = entry['type']
        if kind == 'drbd':
            drbd = True
            continue
        label = kind if kind not in ('dos', 'gpt', 'PMBR') else 'partition table %s' % kind
        if not any(label == f or f.startswith(label + ' ') for f in foreign):
            foreign.append(label)
    return foreign, drbd


# drbdmeta create-md reads the first 68 KiB of the device (SO_MUCH in drbdmeta.c: reiserfs keeps
# its superblock at 64 KiB, rounded up to 4 KiB) and, unless every byte is zero, reports "Found
# some data" (or the file system it recognises) and asks for a typed "yes" before it goes on.
# wipefs removes only signatures (magic bytes), so a disk that held a file system still fails it.
DRBDMETA_PROBE_BYTES = 68 * 1024


def first_nonzero_offset(data):
    """Offset of the first non-zero byte of `data` (bytes), or None when all are zero."""
    stripped = data.lstrip(b'\0')
    return None if not stripped else len(data) - len(stripped)


def erase_advice(device, signatures_left):
    """The commands, in order, that make a device acceptable to safe mode and drbdmeta: wipefs
    (when signatures remain), then zeroing the bytes drbdmeta probes. Each destroys what is there."""
    commands = []
    if signatures_left:
        commands.append('wipefs --all %s' % device)
    commands.append('dd if=/dev/zero of=%s bs=%dK count=1 oflag=direct' % (device, DRBDMETA_PROBE_BYTES // 1024))
    return commands


def drbdmeta_words(stdout, stderr, limit=600):
    """What drbdmeta itself said, on one line (its questions and warnings), for an error message."""
    words = ' '.join(' '.join((stdout or '', stderr or '')).split())
    return words if len(words) <= limit else '...' + words[-limit:]


def metadata_state(rc, stdout, stderr):
    """Interpret `drbdadm dump-md RES`: 'present', 'absent' or 'unknown'.

    rc 0 with a dump -> present; "No valid meta data found" -> absent; "is configured" (the
    device is attached, so metadata exists and is in use) or 'Found meta data is "unclean"'
    (metadata with an activity log to apply) -> present. Anything else is 'unknown' and must
    never be taken as permission to create metadata.
    """
    out = '%s\n%s' % (stdout or '', stderr or '')
    if rc == 0 and ('meta data dump' in out.lower() or 'version' in out):
        return 'present'
    if 'No valid meta data found' in out:
        return 'absent'
    if re.search(r'is configured|Device .* is in use|is attached|meta data is "unclean"', out):
        return 'present'
    return 'unknown'


def mask(text, secret):
    """Replace a secret in command output before it is returned or logged."""
    if not text or not secret:
        return text
    return text.replace(secret, '********')


# shared-secret "x"; / shared-secret x; in configuration text (the value must be followed by
# ';', so the word in a comment such as "# cram-hmac-alg shared-secret after-sb-0pri" is kept),
# and --shared-secret=x on the drbdsetup command lines drbdadm prints when a command fails.
_SECRET_VALUE_RES = (
    re.compile(r'(?<![-\w])(shared-secret\s+)("[^"\n]*"|[^\s;"]+)(?=\s*;)'),
    re.compile(r'(--shared-secret[=\s]+)("[^"\n]*"|\'[^\'\n]*\'|[^\s\'"]+)'),
)


def mask_config(text, secret=None):
    """mask(), and also every shared-secret value in DRBD configuration text or command lines.

    The second part also hides secrets the caller does not know (the previous secret in the
    "before" side of a diff when the secret is being changed).
    """
    text = mask(text, secret)
    if not text:
        return text
    for regex in _SECRET_VALUE_RES:
        text = regex.sub(lambda m: m.group(1) + ('"********"' if m.group(2).startswith('"') else '********'), text)
    return text


# --------------------------------------------------------------------------------------------
# drbdadm / drbdsetup (runners of module_utils/runner.py)
# --------------------------------------------------------------------------------------------

DRBD_PACKAGE = 'drbd-utils'


class DrbdCli(object):
    """drbdadm and drbdsetup, one Runner each (C locale, secrets masked, typed errors).

    config: the configuration file drbdadm reads (``drbdadm -c CONFIG``; default drbdadm's own).
    environ: further environment variables for drbdadm (e.g. DRBD_DRIVER_VERSION_OVERRIDE).
    secret: the shared secret; it is masked in everything handed back, and so is every other
        ``shared-secret`` / ``--shared-secret=`` value (mask_config), known or not.
    """

    def __init__(self, module, config=None, environ=None, secret=None):
        secrets = [secret] if secret else []
        self.drbdadm = Runner(module, 'drbdadm', package=DRBD_PACKAGE, prefix=['-c', config] if config else [],
                              environ=environ, secrets=secrets, masker=mask_config)
        self.drbdsetup = Runner(module, 'drbdsetup', package=DRBD_PACKAGE, secrets=secrets, masker=mask_config)

    def adm(self, *args, **kwargs):
        """drbdadm [-c CONFIG] ARGS; keyword arguments as for Runner.run."""
        return self.drbdadm.run(list(args), **kwargs)

    def setup(self, *args, **kwargs):
        """drbdsetup ARGS; keyword arguments as for Runner.run."""
        return self.drbdsetup.run(list(args), **kwargs)

    def mask(self, text):
        return self.drbdadm.mask(text)

    def minor_names(self):
        """minor -> resource name, from the configuration (`drbdadm sh-resources` + `sh-minor`).

        A configuration drbdadm cannot read gives no names (8.4 minors are then keyed minor<N>).
        """
        names = {}
        listed = self.adm('sh-resources', ok_rcs=None)
        if listed.rc != 0:
            return names
        for res in listed.stdout.split():
            minors = self.adm('sh-minor', res, ok_rcs=None)
            if minors.rc != 0:
                continue
            for token in minors.stdout.split():
                if token.isdigit():
                    names[int(token)] = res
        return names


def collect_status(cli, proc_path='/proc/drbd', source='auto'):
    """Return (loaded, kernel_version, family, source_used, resources).

    Raises CommandError when `drbdsetup status --json` fails or prints what does not parse.
    """
    proc = read_file(proc_path)
    if proc is None and source != 'json':
        return False, None, None, None, {}
    parsed = parse_proc_drbd(proc or '')
    family = version_family(parsed['version'])
    if source == 'proc' or (source == 'auto' and family is not None and family.startswith('8')):
        return True, parsed['version'], family, 'proc', normalise_84(parsed, cli.minor_names())
    result = cli.setup('status', '--json', msg='drbdsetup status --json failed')
    try:
        data = parse_status_json(result.stdout)
    except ValueError as exc:
        raise CommandError.from_result(result, 'cannot parse drbdsetup status --json: %s' % exc)
    return True, parsed['version'], family or '9', 'json', normalise_9(data)


# --------------------------------------------------------------------------------------------
# Configuration files (drbd_config)
# --------------------------------------------------------------------------------------------

# What Debian's /etc/drbd.conf makes drbdadm read from /etc/drbd.d is global_common.conf and
# *.res; *.conf files may be included by those (relative includes resolve next to the
# including file), so both kinds are copied for validation.
CONFIG_PATTERNS = ('*.res', '*.conf')
GLOBAL_COMMON = 'global_common.conf'


def file_name_error(name):
    """Why name cannot be a file of the DRBD configuration directory, or None when it can."""
    if not name:
        return 'is empty'
    if '/' in name or '\0' in name:
        return "%r must be a plain file name (no '/')" % name
    if '..' in name or name.startswith('.'):
        return "%r must not contain '..' or start with '.' (drbdadm ignores hidden files)" % name
    if not any(fnmatch.fnmatchcase(name, pattern) for pattern in CONFIG_PATTERNS):
        return '%r is not read by drbdadm: names must end in .res or .conf' % name
    return None


def list_config_files(config_dir):
    """Names of the files in config_dir that drbdadm may read (*.res, *.conf; no hidden files).

    Only regular files (symbolic links followed) are listed. A missing directory lists nothing.
    """
    try:
        names = os.listdir(config_dir)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return []
        raise
    found = []
    for name in names:
        if name.startswith('.'):
            continue
        if not any(fnmatch.fnmatchcase(name, pattern) for pattern in CONFIG_PATTERNS):
            continue
        if os.path.isfile(os.path.join(config_dir, name)):
            found.append(name)
    return sorted(found)


def validation_conf_text(conf_dir, names):
    """Text of the top-level drbd.conf that makes drbdadm read conf_dir like /etc/drbd.conf
    makes it read /etc/drbd.d: global_common.conf (when among names) first, then *.res."""
    lines = ['# rdma.ha_storage.drbd_config: validation copy of the configuration directory']
    if GLOBAL_COMMON in names:
        lines.append('include "%s";' % os.path.join(conf_dir, GLOBAL_COMMON))
    lines.append('include "%s";' % os.path.join(conf_dir, '*.res'))
    return '\n'.join(lines) + '\n'


def write_validation_tree(tmpdir, files):
    """Write files ({name: bytes}) into tmpdir/drbd.d and a drbd.conf including them.

    Returns (path of drbd.conf, path of the drbd.d copy). Everything is created 0600/0700.
    """
    conf_dir = os.path.join(tmpdir, 'drbd.d')
    os.mkdir(conf_dir, 0o700)
    for name, content in files.items():
        write_private_file(os.path.join(conf_dir, name), content)
    conf = os.path.join(tmpdir, 'drbd.conf')
    write_private_file(conf, validation_conf_text(conf_dir, sorted(files)))
    return conf, conf_dir
