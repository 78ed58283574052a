# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The LIO SRP export (target_core_mod, target_core_iblock, ib_srpt) on configfs, directly.

The one implementation of the export: the module rdma.ha_storage.lio_srpt and the OCF resource
agent roles/srp_target/files/lio_srpt.ocf (which imports this very file on the storage node,
outside Ansible) both call it. So: Python standard library only, no Ansible import, Python 3.8
syntax (no f-strings, no dataclasses, no type annotations).

The flow: ``spec_from_dict()`` (or ``ExportSpec``) checks what should be exported;
``read_state(root)`` reads what configfs holds as plain data; ``plan()`` / ``plan_stop()`` turn
the difference into an ordered list of ``Action`` (mkdir, write, symlink, unlink, rmdir);
``apply()`` performs them; ``monitor()`` says whether the export runs. ``simulate()`` gives the
state a plan leads to without touching anything (check mode, diffs); ``describe()`` renders a
state as sorted lines.

Layout (kernel 6.1, as captured in tests/fixtures/lio/), below the root
(/sys/kernel/config/target):

    core/iblock_N/NAME/            backstore (control, udev_path, enable, wwn/vpd_unit_serial)
    srpt/                          the fabric (mkdir srpt works once ib_srpt is loaded)
    srpt/discovery_auth/rdma_cm_port
    srpt/PORT/tpgt_1/              the TPG of target port PORT (enable, attrib/, lun/, acls/);
                                   tpgt_1 as targetcli names it, which lists only tpgt_* TPGs
    srpt/PORT/tpgt_1/lun/lun_L/NAME -> core/iblock_N/NAME
    srpt/PORT/tpgt_1/acls/INI/lun_L/NAME -> srpt/PORT/tpgt_1/lun/lun_L

Every path in a state, an action or a message is relative to the root. Links are made with
absolute targets (configfs resolves a relative one against the creator's current directory)
and read back relative to the configfs mount (../../../../../../target/core/iblock_0/vol0).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import os
import re

DEFAULT_ROOT = '/sys/kernel/config/target'
DEFAULT_MODULES_DIR = '/sys/module'
FABRIC = 'srpt'
TPG_NAME = 'tpgt_1'
RDMA_CM_PORT = 'srpt/discovery_auth/rdma_cm_port'
BACKSTORE_PLUGIN = 'iblock'
# INQUIRY_VPD_SERIAL_LEN is 254 with the terminating NUL; the value is written without a newline
SERIAL_MAX = 253
LUN_MAX = 16383
SERIAL_PREFIX = 'T10 VPD Unit Serial Number:'

# default groups the kernel puts into a target port directory (every other directory is a TPG)
PORT_DEFAULT_GROUPS = ('fabric_statistics', 'param')

_NAME_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}\Z')
_HBA_RE = re.compile(r'^([a-z][a-z_]*)_([0-9]+)\Z')
_LUN_RE = re.compile(r'^lun_([0-9]+)\Z')
_HEX32_RE = re.compile(r'^[0-9a-f]{32}\Z')
_HEX_GROUP_RE = re.compile(r'^[0-9a-f]{1,4}\Z')
_SERIAL_RE = re.compile(r'^[\x21-\x7e]+\Z')
_UDEV_PATH_RE = re.compile(r'UDEV PATH:\s*(\S+)')


# ------------------------------------------------------------------------------------ errors
class LioError(Exception):
    """Base of this file's errors: ``msg`` is one sentence for a person; ``fail_kwargs()`` the
    arguments of an Ansible fail_json (the same shape as the runner's errors)."""

    def __init__(self, msg):
        super(LioError, self).__init__(msg)
        self.msg = msg

    def fail_kwargs(self):
        return dict(msg=self.msg)


class ProblemsError(LioError):
    """An error made of several problems (sentences), all listed in ``problems``."""

    PREFIX = ''

    def __init__(self, problems):
        self.problems = list(problems)
        super(ProblemsError, self).__init__(self.PREFIX + '; '.join(self.problems))

    def fail_kwargs(self):
        return dict(msg=self.msg, problems=self.problems)


class SpecError(ProblemsError):
    """The export specification is not valid."""

    PREFIX = 'invalid LIO export: '


class RefusedError(ProblemsError):
    """What configfs holds contradicts the specification and changing it would destroy or
    swap something in use; nothing was changed."""

    PREFIX = 'refusing to change the LIO export: '


class SetupError(LioError):
    """configfs, target_core_mod or ib_srpt is not there: the export cannot be built."""


class ApplyError(LioError):
    """An action failed; ``action`` is the Action, ``errno`` the error number. The actions
    before it were performed."""

    def __init__(self, action, exc, hint=None, root=DEFAULT_ROOT):
        self.action = action
        self.path = os.path.join(root, action.path)
        self.errno = getattr(exc, 'errno', None)
        reason = os.strerror(self.errno) if self.errno else str(exc)
        msg = '%s %s failed: %s (while trying to %s)' % (action.op, self.path, reason, action.sentence)
        if hint:
            msg += '. ' + hint
        super(ApplyError, self).__init__(msg)

    def fail_kwargs(self):
        return dict(msg=self.msg, path=self.path, op=self.action.op)


# ------------------------------------------------------------------------------------ names
def port_name(value, what='target port'):
    """An SRP port name in configfs spelling, ``0x`` + 32 lower-case hex digits (the GID form).

    Accepts that spelling, targetcli's ``ib.fe80...``, the bare 32 digits and a GID written
    with colons (``fe80:0000:...:8acd``). The GUID form (four groups) is refused: RDMA/CM
    logins to a target port of that name are rejected."""
    if not isinstance(value, str):
        raise SpecError(['%s %r is not a string' % (what, value)])
    text = value.strip().lower()
    body = None
    if text.startswith('ib.'):
        body = text[3:]
    elif text.startswith('0x'):
        body = text[2:]
    elif ':' in text:
        groups = text.split(':')
        if len(groups) == 8 and all(_HEX_GROUP_RE.match(g) for g in groups):
            body = ''.join(g.rjust(4, '0') for g in groups)
        elif len(groups) == 4 and all(_HEX_GROUP_RE.match(g) for g in groups):
            raise SpecError(['%s %r is a GUID-form name: use the GID form 0xfe80000000000000%s '
                             '(RDMA/CM logins to GUID-form names are rejected)'
                             % (what, value, ''.join(g.rjust(4, '0') for g in groups))])
    else:
        body = text
    if body is None or not _HEX32_RE.match(body):
        raise SpecError(['%s %r is not an SRP port name (0x followed by 32 hex digits, or '
                         'ib.fe80... as targetcli writes it)' % (what, value)])
    return '0x' + body


# ------------------------------------------------------------------------------------ spec
class Volume(object):
    """One exported volume: backstore ``name`` on block ``device`` with unit ``serial``, at TPG
    LUN ``lun``, mapped (same number) to each initiator port of ``initiators``."""

    def __init__(self, name, device, serial, lun, initiators=()):
        self.name = name
        self.device = device
        self.serial = serial
        self.lun = lun
        self.initiators = list(initiators)

    @property
    def lun_dir(self):
        return 'lun_%d' % self.lun

    def as_dict(self):
        return dict(name=self.name, device=self.device, serial=self.serial, lun=self.lun,
                    initiators=list(self.initiators))


class ExportSpec(object):
    """What one storage node exports (already checked: build it with ``spec_from_dict``)."""

    def __init__(self, volumes, target_ports, rdma_cm_port=None, generate_node_acls=False):
        self.volumes = list(volumes)
        self.target_ports = list(target_ports)
        self.rdma_cm_port = rdma_cm_port
        self.generate_node_acls = generate_node_acls

    def initiators(self):
        """Every initiator port of the volumes, in order of first appearance."""
        seen = []
        for volume in self.volumes:
            seen.extend(i for i in volume.initiators if i not in seen)
        return seen

    def as_dict(self):
        return dict(volumes=[v.as_dict() for v in self.volumes], target_ports=list(self.target_ports),
                    rdma_cm_port=self.rdma_cm_port, generate_node_acls=self.generate_node_acls)


SPEC_KEYS = ('volumes', 'target_ports', 'rdma_cm_port', 'generate_node_acls')
VOLUME_KEYS = ('name', 'device', 'serial', 'lun', 'initiators')


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _check_volume(index, item, problems):
    """A Volume from a dict, or None; every problem is appended to problems."""
    if not isinstance(item, dict):
        problems.append('volumes[%d] is not a mapping' % index)
        return None
    name = item.get('name')
    where = 'volume %s' % name if isinstance(name, str) and _NAME_RE.match(name) else 'volumes[%d]' % index
    before = len(problems)
    for key in sorted(set(item) - set(VOLUME_KEYS)):
        problems.append('%s: unknown key %s' % (where, key))
    if not isinstance(name, str) or not _NAME_RE.match(name):
        problems.append('%s: name %r must be 1-63 letters, digits, "_", "." or "-", starting with a '
                        'letter or digit' % (where, name))
    device = item.get('device')
    if not isinstance(device, str) or not device.startswith('/') or os.path.normpath(device) != device \
            or any(c.isspace() or c == ',' for c in device):
        problems.append('%s: device %r must be an absolute, normalised path without spaces or commas '
                        '(such as /dev/drbd0)' % (where, device))
    serial = item.get('serial')
    if _is_int(serial):
        serial = str(serial)
    if not isinstance(serial, str) or not 1 <= len(serial) <= SERIAL_MAX or not _SERIAL_RE.match(serial):
        problems.append('%s: serial %r must be 1-%d printable characters without spaces'
                        % (where, item.get('serial'), SERIAL_MAX))
    lun = item.get('lun')
    if isinstance(lun, str) and lun.isdigit():
        lun = int(lun)
    if not _is_int(lun) or not 0 <= lun <= LUN_MAX:
        problems.append('%s: lun %r must be an integer from 0 to %d' % (where, item.get('lun'), LUN_MAX))
    initiators = item.get('initiators')
    if initiators is None:
        initiators = []
    names = []
    if not isinstance(initiators, list):
        problems.append('%s: initiators must be a list of SRP initiator port ids' % where)
    else:
        for position, value in enumerate(initiators):
            try:
                normal = port_name(value, what='%s: initiators[%d]' % (where, position))
            except SpecError as exc:
                problems.extend(exc.problems)
                continue
            if normal not in names:
                names.append(normal)
    if len(problems) > before:
        return None
    return Volume(name, device, serial, lun, names)


def spec_from_dict(data):
    """An ExportSpec from plain data (the module's options, the agent's JSON file):
    ``volumes`` (list of {name, device, serial, lun, initiators}), ``target_ports``,
    ``rdma_cm_port`` (int or None: leave it), ``generate_node_acls`` (bool, default False).
    Raises SpecError listing every problem."""
    if not isinstance(data, dict):
        raise SpecError(['the export must be a mapping with the keys %s' % ', '.join(SPEC_KEYS)])
    problems = ['unknown key %s' % key for key in sorted(set(data) - set(SPEC_KEYS))]
    volumes = []
    raw_volumes = data.get('volumes')
    if raw_volumes is None:
        raw_volumes = []
    if not isinstance(raw_volumes, list):
        problems.append('volumes must be a list')
        raw_volumes = []
    for index, item in enumerate(raw_volumes):
        volume = _check_volume(index, item, problems)
        if volume is not None:
            volumes.append(volume)
    for field in ('name', 'device', 'serial', 'lun'):
        seen = {}
        for volume in volumes:
            value = getattr(volume, field)
            if value in seen:
                problems.append('volume %s: %s %s is also the %s of volume %s' % (
                    volume.name, field, value, field, seen[value]))
            else:
                seen[value] = volume.name
    ports = []
    raw_ports = data.get('target_ports')
    if not isinstance(raw_ports, list) or not raw_ports:
        problems.append('target_ports must be a non-empty list of SRP target port names')
        raw_ports = []
    for position, value in enumerate(raw_ports):
        try:
            normal = port_name(value, what='target_ports[%d]' % position)
        except SpecError as exc:
            problems.extend(exc.problems)
            continue
        if normal in ports:
            problems.append('target_ports[%d]: %s is listed twice' % (position, normal))
        else:
            ports.append(normal)
    rdma_cm_port = data.get('rdma_cm_port')
    if isinstance(rdma_cm_port, str) and rdma_cm_port.strip().isdigit():
        rdma_cm_port = int(rdma_cm_port)
    if rdma_cm_port is not None and (not _is_int(rdma_cm_port) or not 1 <= rdma_cm_port <= 65535):
        problems.append('rdma_cm_port %r must be a TCP port number (1-65535) or null (leave it as it is)'
                        % (rdma_cm_port,))
    generate = data.get('generate_node_acls', False)
    if generate is None:
        generate = False
    if not isinstance(generate, bool):
        problems.append('generate_node_acls %r must be true or false' % (generate,))
    if problems:
        raise SpecError(problems)
    return ExportSpec(volumes, ports, rdma_cm_port, generate)


# ------------------------------------------------------------------------------------ reading
class DiskTree(object):
    """Reads a configfs tree (or a copy of one) below root."""

    def __init__(self, root):
        self.root = root

    def _path(self, rel):
        return os.path.join(self.root, rel) if rel else self.root

    def isdir(self, rel):
        path = self._path(rel)
        return os.path.isdir(path) and not os.path.islink(path)

    def islink(self, rel):
        return os.path.islink(self._path(rel))

    def readlink(self, rel):
        return os.readlink(self._path(rel))

    def listdir(self, rel):
        try:
            return sorted(os.listdir(self._path(rel)))
        except OSError:
            return []

    def read(self, rel):
        """The text of an attribute, None when it is absent or cannot be read (write-only)."""
        try:
            with open(self._path(rel)) as handle:
                return handle.read()
        except (IOError, OSError, UnicodeDecodeError):
            return None


class FlatTree(object):
    """A tree held as {path: ('dir', None) | ('file', text) | ('link', target)}; '' is the root."""

    def __init__(self, entries):
        self.entries = entries

    def isdir(self, rel):
        return self.entries.get(rel, (None,))[0] == 'dir'

    def islink(self, rel):
        return self.entries.get(rel, (None,))[0] == 'link'

    def readlink(self, rel):
        return self.entries[rel][1]

    def listdir(self, rel):
        prefix = rel + '/' if rel else ''
        return sorted(set(p[len(prefix):].split('/', 1)[0] for p in self.entries
                          if p.startswith(prefix) and p != rel and p[len(prefix):]))

    def read(self, rel):
        kind, value = self.entries.get(rel, (None, None))
        return value if kind == 'file' else None

    def perform(self, action):
        if action.op == 'mkdir':
            self.entries[action.path] = ('dir', None)
        elif action.op == 'write':
            # an optional attribute is taken to exist (kernel 6.1 has rdma_cm_port)
            self.entries[action.path] = ('file', action.value)
        elif action.op == 'symlink':
            self.entries[action.path] = ('link', action.value)
        elif action.op == 'unlink':
            self.entries.pop(action.path, None)
        elif action.op == 'rmdir':
            prefix = action.path + '/'
            for path in [p for p in self.entries if p == action.path or p.startswith(prefix)]:
                del self.entries[path]


def _text(value):
    return value.strip() if value is not None else None


def _parse_serial(text):
    text = _text(text)
    if text and text.startswith(SERIAL_PREFIX):
        text = text[len(SERIAL_PREFIX):].strip()
    return text or None


def _parse_int(text):
    text = _text(text)
    try:
        return int(text, 0) if text else None
    except ValueError:
        return None


def _parts(target):
    return [p for p in target.split('/') if p not in ('', '.', '..')]


def _backstore_key(target):
    """'iblock_0/vol0' for a link that ends in core/iblock_0/vol0, '?TARGET' for any other."""
    parts = _parts(target)
    if len(parts) >= 3 and parts[-3] == 'core' and _HBA_RE.match(parts[-2]):
        return '/'.join(parts[-2:])
    return '?' + target


def _lun_key(target, tpg):
    """'lun_0' for a mapped-LUN link that ends in TPG/lun/lun_0 (tpg: srpt/PORT/TPG; the older
    relative spelling ../../../lun/lun_0 too), '?TARGET' for any other."""
    parts = _parts(target)
    if len(parts) >= 2 and parts[-2] == 'lun' and _LUN_RE.match(parts[-1]):
        if len(parts) == 2 or parts[-5:-2] == tpg.split('/'):
            return parts[-1]
    return '?' + target


def _links(tree, rel, key):
    return dict((name, key(tree.readlink(rel + '/' + name)))
                for name in tree.listdir(rel) if tree.islink(rel + '/' + name))


def _read_backstore(tree, rel, hba, name):
    device = _text(tree.read(rel + '/udev_path'))
    if not device:
        # the kernel fills udev_path only when it is written itself; info always says
        match = _UDEV_PATH_RE.search(tree.read(rel + '/info') or '')
        device = match.group(1) if match else None
    return dict(hba=hba, name=name, device=device or None, serial=_parse_serial(tree.read(rel + '/wwn/vpd_unit_serial')),
                enabled=_text(tree.read(rel + '/enable')) == '1')


def _read_tpg(tree, rel):
    attrib = {}
    for name in tree.listdir(rel + '/attrib'):
        value = _text(tree.read(rel + '/attrib/' + name))
        if value is not None:
            attrib[name] = value
    luns = {}
    for lun in tree.listdir(rel + '/lun'):
        if _LUN_RE.match(lun) and tree.isdir(rel + '/lun/' + lun):
            luns[lun] = dict(links=_links(tree, rel + '/lun/' + lun, _backstore_key))
    acls = {}
    for acl in tree.listdir(rel + '/acls'):
        base = rel + '/acls/' + acl
        if tree.isdir(base):
            acls[acl] = dict(mapped_luns=dict(
                (m, dict(links=_links(tree, base + '/' + m, lambda target: _lun_key(target, rel))))
                for m in tree.listdir(base) if _LUN_RE.match(m) and tree.isdir(base + '/' + m)))
    return dict(enabled=_text(tree.read(rel + '/enable')) == '1', attrib=attrib, luns=luns, acls=acls)


def _read(tree):
    state = dict(configfs=tree.isdir(''), core=tree.isdir('core'), hbas=[], backstores={},
                 fabric=tree.isdir(FABRIC), rdma_cm_port=None, ports={}, other_exports={})
    for hba in tree.listdir('core'):
        if not _HBA_RE.match(hba) or not tree.isdir('core/' + hba):
            continue
        state['hbas'].append(hba)
        for name in tree.listdir('core/' + hba):
            if tree.isdir('core/%s/%s' % (hba, name)):
                state['backstores']['%s/%s' % (hba, name)] = _read_backstore(
                    tree, 'core/%s/%s' % (hba, name), hba, name)
    if state['fabric']:
        state['rdma_cm_port'] = _parse_int(tree.read(RDMA_CM_PORT))
        for port in tree.listdir(FABRIC):
            base = '%s/%s' % (FABRIC, port)
            if port == 'discovery_auth' or not tree.isdir(base):
                continue
            state['ports'][port] = dict(tpgs=dict(
                (tpg, _read_tpg(tree, base + '/' + tpg)) for tpg in tree.listdir(base)
                if tpg not in PORT_DEFAULT_GROUPS and tree.isdir(base + '/' + tpg)))
    # LUNs of other fabrics (iscsi, loopback, ...): they keep a backstore busy
    for fabric in tree.listdir(''):
        if fabric in ('core', FABRIC) or not tree.isdir(fabric):
            continue
        for wwn in tree.listdir(fabric):
            for tpg in tree.listdir('%s/%s' % (fabric, wwn)):
                lun_dir = '%s/%s/%s/lun' % (fabric, wwn, tpg)
                for lun in tree.listdir(lun_dir):
                    for key in _links(tree, lun_dir + '/' + lun, _backstore_key).values():
                        state['other_exports'].setdefault(key, []).append(lun_dir + '/' + lun)
    return state


def read_state(root=DEFAULT_ROOT):
    """What configfs holds below root, as plain data (JSON-ready): every backstore, every srpt
    target port with its TPGs, LUNs, ACLs and mapped LUNs, whether or not a spec names them.

    {'configfs': bool (root exists), 'core': bool, 'hbas': ['iblock_0', ...],
     'backstores': {'iblock_0/vol0': {'hba', 'name', 'device', 'serial', 'enabled'}},
     'fabric': bool (srpt/ exists), 'rdma_cm_port': int or None,
     'ports': {PORT: {'tpgs': {TPG: {'enabled': bool, 'attrib': {name: text},
               'luns': {'lun_0': {'links': {link name: 'iblock_0/vol0'}}},
               'acls': {INI: {'mapped_luns': {'lun_0': {'links': {link name: 'lun_0'}}}}}}}}},
     'other_exports': {'iblock_0/vol0': ['iscsi/IQN/tpgt_1/lun/lun_0']}}

    A link that does not point where LIO links point reads as '?' + its target."""
    return _read(DiskTree(root))


def read_tree(tree):
    """read_state of a tree that is not on disk, such as a FlatTree of a captured configfs."""
    return _read(tree)


def _flatten(state):
    """The FlatTree entries of a state: read back with _read, they give the same state."""
    if not state['configfs']:
        return {}
    entries = {'': ('dir', None)}

    def add_dir(path):
        entries[path] = ('dir', None)

    if state['core']:
        add_dir('core')
    for hba in state['hbas']:
        add_dir('core/' + hba)
    for key, backstore in state['backstores'].items():
        base = 'core/' + key
        add_dir(base)
        add_dir(base + '/wwn')
        entries[base + '/enable'] = ('file', '1' if backstore['enabled'] else '0')
        if backstore['device']:
            entries[base + '/udev_path'] = ('file', backstore['device'])
        if backstore['serial']:
            entries[base + '/wwn/vpd_unit_serial'] = ('file', backstore['serial'])
    if state['fabric']:
        add_dir(FABRIC)
        if state['rdma_cm_port'] is not None:
            add_dir(os.path.dirname(RDMA_CM_PORT))
            entries[RDMA_CM_PORT] = ('file', str(state['rdma_cm_port']))
    for port, port_state in state['ports'].items():
        add_dir('%s/%s' % (FABRIC, port))
        for tpg, tpg_state in port_state['tpgs'].items():
            base = '%s/%s/%s' % (FABRIC, port, tpg)
            for sub in ('', '/attrib', '/lun', '/acls'):
                add_dir(base + sub)
            entries[base + '/enable'] = ('file', '1' if tpg_state['enabled'] else '0')
            for name, value in tpg_state['attrib'].items():
                entries[base + '/attrib/' + name] = ('file', value)
            for lun, lun_state in tpg_state['luns'].items():
                add_dir(base + '/lun/' + lun)
                for name, key in lun_state['links'].items():
                    entries[base + '/lun/%s/%s' % (lun, name)] = ('link', _link_target(key))
            for acl, acl_state in tpg_state['acls'].items():
                add_dir(base + '/acls/' + acl)
                for mapped, mapped_state in acl_state['mapped_luns'].items():
                    add_dir(base + '/acls/%s/%s' % (acl, mapped))
                    for name, lun in mapped_state['links'].items():
                        target = lun[1:] if lun.startswith('?') else '%s/lun/%s' % (base, lun)
                        entries[base + '/acls/%s/%s/%s' % (acl, mapped, name)] = ('link', target)
    for key, luns in state['other_exports'].items():
        for lun_path in luns:
            parts = lun_path.split('/')
            for depth in range(1, len(parts) + 1):
                add_dir('/'.join(parts[:depth]))
            entries[lun_path + '/' + key.replace('/', '_')] = ('link', _link_target(key))
    return entries


def _link_target(key):
    """The target (relative to the root) of a link to backstore key."""
    return key[1:] if key.startswith('?') else 'core/' + key


def simulate(state, actions):
    """The state the actions lead to from state, worked out on a copy (nothing is touched)."""
    tree = FlatTree(_flatten(state))
    for action in actions:
        tree.perform(action)
    return _read(tree)


# ------------------------------------------------------------------------------------ actions
class Action(object):
    """One step of a plan: op (mkdir, write, symlink, unlink, rmdir), path (relative to the
    root), value (what write writes; for symlink the target, relative to the root too),
    sentence (for a person).
    optional: a write skipped when its attribute does not exist (a kernel without it)."""

    OPS = ('mkdir', 'write', 'symlink', 'unlink', 'rmdir')

    def __init__(self, op, path, value=None, sentence='', optional=False):
        if op not in self.OPS:
            raise ValueError('unknown action %r' % (op,))
        self.op = op
        self.path = path
        self.value = value
        self.sentence = sentence
        self.optional = optional

    def as_dict(self):
        return dict(op=self.op, path=self.path, value=self.value, sentence=self.sentence)

    def __eq__(self, other):
        return isinstance(other, Action) and self.as_dict() == other.as_dict()

    def __ne__(self, other):
        return not self == other

    def __repr__(self):
        return 'Action(%r, %r, %r)' % (self.op, self.path, self.value)


def _tpg_path(port, tpg=None):
    return '%s/%s/%s' % (FABRIC, port, TPG_NAME if tpg is None else tpg)


def _where(port, tpg=None):
    """A TPG for a sentence: 'target port P' when it is the port's own TPG (tpgt_1)."""
    if tpg is None or tpg == TPG_NAME:
        return 'target port %s' % port
    return 'TPG %s of target port %s' % (tpg, port)


def _lun_number(lun_dir):
    return lun_dir.split('_', 1)[1]


def _iblock_backstores(state, name):
    """Keys of the iblock backstores called name (in any iblock_N)."""
    return sorted(key for key, b in state['backstores'].items()
                  if b['name'] == name and b['hba'].startswith(BACKSTORE_PLUGIN + '_'))


def _exports_of(state, key):
    """Every LUN (srpt and other fabrics) that links to backstore key."""
    found = []
    for port, port_state in sorted(state['ports'].items()):
        for tpg, tpg_state in sorted(port_state['tpgs'].items()):
            for lun, lun_state in sorted(tpg_state['luns'].items()):
                if key in lun_state['links'].values():
                    found.append('%s/lun/%s' % (_tpg_path(port, tpg), lun))
    return found + sorted(state['other_exports'].get(key, []))


class _Removal(object):
    """What a teardown removes, widened to everything below each removed object."""

    def __init__(self, state):
        self.state = state
        self.tpgs = set()          # (port, tpg)
        self.ports = set()
        self.luns = set()          # (port, tpg, lun)
        self.acls = set()          # (port, tpg, acl)
        self.mapped = set()        # (port, tpg, acl, mapped lun)
        self.backstores = set()    # keys
        self.hbas = set()

    def port(self, port):
        self.ports.add(port)
        for tpg in self.state['ports'][port]['tpgs']:
            self.tpg(port, tpg)

    def tpg(self, port, tpg):
        self.tpgs.add((port, tpg))
        tpg_state = self.state['ports'][port]['tpgs'][tpg]
        for lun in tpg_state['luns']:
            self.lun(port, tpg, lun)
        for acl in tpg_state['acls']:
            self.acl(port, tpg, acl)

    def lun(self, port, tpg, lun):
        self.luns.add((port, tpg, lun))
        # mapped LUNs that reach this LUN go first
        for acl, acl_state in self.state['ports'][port]['tpgs'][tpg]['acls'].items():
            for mapped, mapped_state in acl_state['mapped_luns'].items():
                if lun in mapped_state['links'].values():
                    self.mapped.add((port, tpg, acl, mapped))

    def acl(self, port, tpg, acl):
        self.acls.add((port, tpg, acl))
        for mapped in self.state['ports'][port]['tpgs'][tpg]['acls'][acl]['mapped_luns']:
            self.mapped.add((port, tpg, acl, mapped))

    def backstore(self, key):
        self.backstores.add(key)
        hba = self.state['backstores'][key]['hba']
        rest = [k for k, b in self.state['backstores'].items() if b['hba'] == hba and k not in self.backstores]
        if not rest:
            self.hbas.add(hba)

    def actions(self):
        """The teardown in safe order: TPGs disabled, mapped-LUN links and dirs, ACLs, LUN links
        and dirs, TPGs, target ports, backstores, their emptied HBA directories."""
        state = self.state
        tpgs = state['ports']
        out = []
        for port, tpg in sorted(self.tpgs):
            if tpgs[port]['tpgs'][tpg]['enabled']:
                out.append(Action('write', _tpg_path(port, tpg) + '/enable', '0', 'disable %s' % _where(port, tpg)))
        for port, tpg, acl, mapped in sorted(self.mapped):
            path = '%s/acls/%s/%s' % (_tpg_path(port, tpg), acl, mapped)
            for name in sorted(tpgs[port]['tpgs'][tpg]['acls'][acl]['mapped_luns'][mapped]['links']):
                out.append(Action('unlink', path + '/' + name, None, 'unmap LUN %s from initiator %s on %s' % (
                    _lun_number(mapped), acl, _where(port, tpg))))
        for port, tpg, acl, mapped in sorted(self.mapped):
            path = '%s/acls/%s/%s' % (_tpg_path(port, tpg), acl, mapped)
            out.append(Action('rmdir', path, None, 'remove mapped LUN %s of initiator %s on %s' % (
                _lun_number(mapped), acl, _where(port, tpg))))
        for port, tpg, acl in sorted(self.acls):
            path = '%s/acls/%s' % (_tpg_path(port, tpg), acl)
            out.append(Action('rmdir', path, None, 'remove the ACL of initiator %s from %s' % (acl, _where(port, tpg))))
        for port, tpg, lun in sorted(self.luns):
            path = '%s/lun/%s' % (_tpg_path(port, tpg), lun)
            for name, key in sorted(tpgs[port]['tpgs'][tpg]['luns'][lun]['links'].items()):
                out.append(Action('unlink', path + '/' + name, None, 'stop exporting %s as LUN %s of %s' % (
                    key, _lun_number(lun), _where(port, tpg))))
        for port, tpg, lun in sorted(self.luns):
            path = '%s/lun/%s' % (_tpg_path(port, tpg), lun)
            out.append(Action('rmdir', path, None, 'remove LUN %s of %s' % (_lun_number(lun), _where(port, tpg))))
        for port, tpg in sorted(self.tpgs):
            out.append(Action('rmdir', _tpg_path(port, tpg), None, 'remove the TPG of %s' % _where(port, tpg)))
        for port in sorted(self.ports):
            out.append(Action('rmdir', '%s/%s' % (FABRIC, port), None, 'remove target port %s' % port))
        for key in sorted(self.backstores):
            out.append(Action('rmdir', 'core/' + key, None, 'remove backstore %s' % key))
        for hba in sorted(self.hbas):
            out.append(Action('rmdir', 'core/' + hba, None, 'remove the emptied HBA directory core/%s' % hba))
        return out


def _purge(state, spec):
    """The removal of what the spec does not name (nothing of another fabric)."""
    removal = _Removal(state)
    ports = set(spec.target_ports)
    initiator_luns = {}
    for volume in spec.volumes:
        for initiator in volume.initiators:
            initiator_luns.setdefault(initiator, set()).add(volume.lun_dir)
    lun_dirs = set(v.lun_dir for v in spec.volumes)
    for port, port_state in state['ports'].items():
        if port not in ports:
            removal.port(port)
            continue
        for tpg, tpg_state in port_state['tpgs'].items():
            if tpg != TPG_NAME:
                removal.tpg(port, tpg)
                continue
            for lun in tpg_state['luns']:
                if lun not in lun_dirs:
                    removal.lun(port, tpg, lun)
            for acl, acl_state in tpg_state['acls'].items():
                if acl not in initiator_luns:
                    removal.acl(port, tpg, acl)
                    continue
                for mapped in acl_state['mapped_luns']:
                    if mapped not in initiator_luns[acl]:
                        removal.mapped.add((port, tpg, acl, mapped))
    names = set(v.name for v in spec.volumes)
    removed_luns = set('%s/lun/%s' % (_tpg_path(p, t), lun) for p, t, lun in removal.luns)
    for key, backstore in sorted(state['backstores'].items()):
        named = backstore['name'] in names and backstore['hba'].startswith(BACKSTORE_PLUGIN + '_')
        # never a backstore some LUN that stays still exports (another fabric's, say)
        if not named and not [e for e in _exports_of(state, key) if e not in removed_luns]:
            removal.backstore(key)
    for hba in state['hbas']:
        if not [b for b in state['backstores'].values() if b['hba'] == hba]:
            removal.hbas.add(hba)
    return removal.actions()


def _conflicts(state, spec):
    """Why the spec cannot be applied to state without destroying or swapping something."""
    problems = []
    by_device = {}
    for key, backstore in state['backstores'].items():
        if backstore['device']:
            by_device.setdefault(backstore['device'], []).append(key)
    placed = {}
    for volume in spec.volumes:
        keys = _iblock_backstores(state, volume.name)
        for key in sorted(by_device.get(volume.device, [])):
            if state['backstores'][key]['name'] != volume.name:
                problems.append('volume %s: device %s is already the device of backstore core/%s: remove that '
                                'backstore (or run with purge) first' % (volume.name, volume.device, key))
        if len(keys) > 1:
            problems.append('volume %s: there are %d backstores of that name (%s): remove all but one by hand'
                            % (volume.name, len(keys), ', '.join('core/' + k for k in keys)))
            continue
        if not keys:
            continue
        key = keys[0]
        placed[volume.name] = key
        backstore = state['backstores'][key]
        # a backstore that is not enabled has no device open yet: it is completed, not refused
        if backstore['enabled'] and backstore['device'] and backstore['device'] != volume.device:
            problems.append('backstore core/%s: its device is %s, not %s as volume %s says; LIO cannot change the '
                            'device of an enabled backstore: stop the export (state=absent, or stop the cluster '
                            'resource) or remove the backstore, then run again' % (
                                key, backstore['device'], volume.device, volume.name))
        elif backstore['enabled'] and not backstore['device']:
            problems.append('backstore core/%s is enabled but neither udev_path nor info names its device: '
                            'cannot tell whether it is %s; remove it by hand' % (key, volume.device))
        exports = _exports_of(state, key)
        if backstore['serial'] != volume.serial and exports:
            problems.append('backstore core/%s: its serial is %s, not %s as volume %s says, and LIO refuses a serial '
                            'change while LUNs export it (%s): stop the export (state=absent, or stop the cluster '
                            'resource), then run again' % (key, backstore['serial'], volume.serial, volume.name,
                                                           ', '.join(exports)))
    for port in spec.target_ports:
        tpg_state = state['ports'].get(port, {}).get('tpgs', {}).get(TPG_NAME)
        if tpg_state is None:
            continue
        tpg = _tpg_path(port)
        for volume in spec.volumes:
            lun_state = tpg_state['luns'].get(volume.lun_dir)
            wanted = placed.get(volume.name)
            if lun_state is not None:
                wrong = sorted(k for k in lun_state['links'].values() if k != wanted)
                if wrong:
                    problems.append('%s/lun/%s exports %s, not volume %s: remove that LUN by hand or give volume %s '
                                    'another lun' % (tpg, volume.lun_dir, ', '.join(wrong), volume.name, volume.name))
            for initiator in volume.initiators:
                mapped = tpg_state['acls'].get(initiator, {}).get('mapped_luns', {}).get(volume.lun_dir)
                if mapped is None:
                    continue
                wrong = sorted(m for m in mapped['links'].values() if m != volume.lun_dir)
                if wrong:
                    problems.append('%s/acls/%s/%s maps %s, not %s (volume %s): remove that mapped LUN by hand'
                                    % (tpg, initiator, volume.lun_dir, ', '.join(wrong), volume.lun_dir,
                                       volume.name))
        if spec.generate_node_acls and 'generate_node_acls' not in tpg_state['attrib']:
            problems.append('TPG %s has no attrib/generate_node_acls (ib_srpt has no demo mode): set '
                            'generate_node_acls to false and list the initiators' % tpg)
    return problems


def _free_hbas(state):
    """iblock_N directories that hold no backstore, then the unused numbers, lowest first."""
    used = set(b['hba'] for b in state['backstores'].values())
    empty = set(h for h in state['hbas'] if h.startswith(BACKSTORE_PLUGIN + '_') and h not in used)
    index = 0
    while True:
        hba = '%s_%d' % (BACKSTORE_PLUGIN, index)
        if hba in empty or hba not in state['hbas']:
            yield hba
        index += 1


def _backstore_actions(state, spec):
    """Create or complete the spec's backstores; returns (actions, {volume name: key})."""
    out = []
    placed = {}
    free = _free_hbas(state)
    for volume in spec.volumes:
        keys = _iblock_backstores(state, volume.name)
        if keys:
            key = keys[0]
            backstore = state['backstores'][key]
        else:
            hba = next(free)
            key = '%s/%s' % (hba, volume.name)
            backstore = dict(hba=hba, name=volume.name, device=None, serial=None, enabled=False)
            if hba not in state['hbas']:
                out.append(Action('mkdir', 'core/' + hba, None, 'create HBA directory core/%s' % hba))
            out.append(Action('mkdir', 'core/' + key, None, 'create backstore %s (core/%s)' % (volume.name, key)))
        placed[volume.name] = key
        base = 'core/' + key
        if not backstore['enabled']:
            out.append(Action('write', base + '/control', 'udev_path=%s' % volume.device,
                              'give backstore %s the device %s' % (volume.name, volume.device)))
            if backstore['device'] != volume.device:
                out.append(Action('write', base + '/udev_path', volume.device,
                                  'record %s in the udev_path of backstore %s' % (volume.device, volume.name)))
        if backstore['serial'] != volume.serial:
            out.append(Action('write', base + '/wwn/vpd_unit_serial', volume.serial,
                              'set the unit serial of backstore %s to %s' % (volume.name, volume.serial)))
        if not backstore['enabled']:
            out.append(Action('write', base + '/enable', '1', 'enable backstore %s' % volume.name))
    return out, placed


def _export_actions(state, spec, placed, reenable=()):
    """Target ports, TPGs, LUNs, ACLs and mapped LUNs, attributes, TPG enable last (also for
    the ports in reenable, even if their TPG reads enabled)."""
    out = []
    if not state['fabric']:
        out.append(Action('mkdir', FABRIC, None, 'create the srpt fabric directory'))
    enables = []
    for port in spec.target_ports:
        port_state = state['ports'].get(port)
        tpg_state = (port_state or {}).get('tpgs', {}).get(TPG_NAME)
        tpg = _tpg_path(port)
        if port_state is None:
            out.append(Action('mkdir', '%s/%s' % (FABRIC, port), None, 'create target port %s' % port))
        if tpg_state is None:
            out.append(Action('mkdir', tpg, None, 'create the TPG of target port %s' % port))
            tpg_state = dict(enabled=False, attrib={}, luns={}, acls={}, new=True)
        for volume in spec.volumes:
            path = '%s/lun/%s' % (tpg, volume.lun_dir)
            lun_state = tpg_state['luns'].get(volume.lun_dir)
            if lun_state is None:
                out.append(Action('mkdir', path, None, 'create LUN %d of target port %s' % (volume.lun, port)))
            if not (lun_state or {}).get('links'):
                out.append(Action('symlink', '%s/%s' % (path, volume.name), _link_target(placed[volume.name]),
                                  'export backstore %s as LUN %d of target port %s' % (volume.name, volume.lun, port)))
        for initiator in spec.initiators():
            acl_state = tpg_state['acls'].get(initiator)
            acl = '%s/acls/%s' % (tpg, initiator)
            if acl_state is None:
                out.append(Action('mkdir', acl, None, 'allow initiator %s on target port %s' % (initiator, port)))
                acl_state = dict(mapped_luns={})
            for volume in spec.volumes:
                if initiator not in volume.initiators:
                    continue
                mapped_state = acl_state['mapped_luns'].get(volume.lun_dir)
                path = '%s/%s' % (acl, volume.lun_dir)
                if mapped_state is None:
                    out.append(Action('mkdir', path, None, 'create mapped LUN %d of initiator %s on target port %s'
                                      % (volume.lun, initiator, port)))
                if not (mapped_state or {}).get('links'):
                    out.append(Action('symlink', '%s/%s' % (path, volume.name), '%s/lun/%s' % (tpg, volume.lun_dir),
                                      'map LUN %d (volume %s) to initiator %s on target port %s' % (
                                          volume.lun, volume.name, initiator, port)))
        want = '1' if spec.generate_node_acls else '0'
        have = tpg_state['attrib'].get('generate_node_acls')
        if (have is not None and have != want) or (tpg_state.get('new') and spec.generate_node_acls):
            out.append(Action('write', tpg + '/attrib/generate_node_acls', want,
                              'set generate_node_acls of target port %s to %s' % (port, want)))
        if port in reenable and tpg_state['enabled']:
            # writing 1 to a TPG that reads enabled changes nothing: cycle it
            enables.append(Action('write', tpg + '/enable', '0', 'disable the TPG of target port %s, to enable it '
                                  'again after another TPG of the port went' % port))
        if not tpg_state['enabled'] or port in reenable:
            enables.append(Action('write', tpg + '/enable', '1', 'enable the TPG of target port %s' % port))
    if spec.rdma_cm_port is not None:
        if not state['fabric']:
            out.append(Action('write', RDMA_CM_PORT, str(spec.rdma_cm_port),
                              'listen for RDMA/CM logins on port %d' % spec.rdma_cm_port, optional=True))
        elif state['rdma_cm_port'] is not None and state['rdma_cm_port'] != spec.rdma_cm_port:
            out.append(Action('write', RDMA_CM_PORT, str(spec.rdma_cm_port),
                              'listen for RDMA/CM logins on port %d (was %d)' % (spec.rdma_cm_port,
                                                                                 state['rdma_cm_port'])))
    return out + enables


def _tpgs_dropped(actions, spec):
    """The spec's target ports another TPG of which the actions disable or remove. ib_srpt keeps
    one enabled flag per RDMA port (srpt_drop_tpg clears it): that disables the spec's TPG too,
    though its enable attribute still reads 1."""
    ports = set()
    for action in actions:
        parts = action.path.split('/')
        if len(parts) >= 3 and parts[0] == FABRIC and parts[1] in spec.target_ports and (
                (action.op == 'rmdir' and len(parts) == 3) or parts[3:] == ['enable']):
            ports.add(parts[1])
    return ports


def plan(state, spec, purge=False):
    """The actions that make configfs (as read into state) export spec, in order: backstores
    (create, device, serial, enable), target ports and TPGs, LUNs, ACLs and mapped LUNs,
    attributes, TPG enable last. Empty when state already matches.

    Objects the spec does not name are left alone; with purge they are removed first, in safe
    order (never a backstore that another fabric still exports). Raises RefusedError when an
    existing object contradicts the spec in a way only destroying it would fix."""
    actions = _purge(state, spec) if purge else []
    after = simulate(state, actions) if actions else state
    problems = _conflicts(after, spec)
    if problems:
        raise RefusedError(problems)
    backstore_actions, placed = _backstore_actions(after, spec)
    return actions + backstore_actions + _export_actions(after, spec, placed, _tpgs_dropped(actions, spec))


def plan_stop(state, spec):
    """The teardown of the spec's export, in safe order: its TPGs disabled first, mapped-LUN
    links, ACLs, LUN links and dirs, TPGs, target ports, then its backstores (and their emptied
    HBA directories). Everything below the spec's target ports goes, and so does any other srpt
    LUN that exports one of the spec's backstores (or the backstore could not go). Empty when
    nothing of the export is left. Raises RefusedError when another fabric exports one."""
    removal = _Removal(state)
    for port in spec.target_ports:
        if port in state['ports']:
            removal.port(port)
    keys = []
    for volume in spec.volumes:
        keys.extend(_iblock_backstores(state, volume.name))
    problems = []
    for key in keys:
        for port, port_state in state['ports'].items():
            for tpg, tpg_state in port_state['tpgs'].items():
                for lun, lun_state in tpg_state['luns'].items():
                    if key in lun_state['links'].values():
                        removal.lun(port, tpg, lun)
        others = state['other_exports'].get(key)
        if others:
            problems.append('backstore core/%s is also exported by %s (not srpt): remove those LUNs first'
                            % (key, ', '.join(sorted(others))))
        removal.backstore(key)
    if problems:
        raise RefusedError(problems)
    return removal.actions()


# ------------------------------------------------------------------------------------ applying
class Configfs(object):
    """The five operations of a plan on the real configfs. Tests put an emulation in
    FILESYSTEM (a plain directory does not create or remove attribute files as configfs does)."""

    def mkdir(self, path):
        os.mkdir(path)

    def write(self, path, value):
        # one write(2) of the whole value, no newline, no O_CREAT: configfs takes an attribute
        # in one piece, and a missing attribute must fail rather than be created
        data = value.encode('utf-8')
        fd = os.open(path, os.O_WRONLY)
        try:
            written = os.write(fd, data)
        finally:
            os.close(fd)
        if written != len(data):
            raise OSError(errno.EIO, 'short write (%d of %d bytes)' % (written, len(data)))

    def symlink(self, target, path):
        os.symlink(target, path)

    def unlink(self, path):
        os.unlink(path)

    def rmdir(self, path):
        os.rmdir(path)

    def exists(self, path):
        return os.path.lexists(path)


FILESYSTEM = Configfs()


def _hint(action, number):
    """What to check when action failed with errno number (the kernel says more in dmesg)."""
    parts = action.path.split('/')
    if action.op == 'mkdir' and action.path == FABRIC:
        return 'Is ib_srpt loaded? modprobe ib_srpt'
    if action.op == 'mkdir' and len(parts) == 2 and parts[0] == FABRIC:
        return ('ib_srpt knows no RDMA port of that name: it names ports 0x + the port GID '
                '(/sys/class/infiniband/*/ports/*/gids/0 without colons)')
    if action.op == 'mkdir' and len(parts) == 2 and parts[0] == 'core':
        return 'Is target_core_iblock loaded? modprobe target_core_iblock'
    if action.op == 'write' and parts[0] == 'core' and parts[-1] == 'enable':
        return ('LIO could not open the device: does it exist, is it free (not mounted, not claimed), '
                'and is DRBD Primary on this node?')
    if action.op == 'write' and parts[-1] == 'vpd_unit_serial' and number == errno.EINVAL:
        return 'LIO refuses a serial change while LUNs export the backstore'
    if action.op == 'write' and parts[-1] == 'generate_node_acls':
        return 'ib_srpt has no demo mode: set generate_node_acls to false and list the initiators'
    if action.op == 'rmdir' and number in (errno.ENOTEMPTY, errno.EBUSY):
        return 'Something configfs-made is still inside or linked to it'
    return None


def apply(actions, root=DEFAULT_ROOT, fs=None):
    """Perform actions in order below root; return the ones performed (an optional write to an
    attribute the kernel does not have is skipped). The first failure raises ApplyError naming
    its path and the errno text; the actions before it stay done."""
    fs = fs or FILESYSTEM
    done = []
    for action in actions:
        path = os.path.join(root, action.path)
        try:
            if action.op == 'mkdir':
                fs.mkdir(path)
            elif action.op == 'write':
                if action.optional and not fs.exists(path):
                    continue
                fs.write(path, action.value)
            elif action.op == 'symlink':
                fs.symlink(os.path.join(root, action.value), path)
            elif action.op == 'unlink':
                fs.unlink(path)
            else:
                fs.rmdir(path)
        except (IOError, OSError) as exc:
            raise ApplyError(action, exc, _hint(action, getattr(exc, 'errno', None)), root)
        done.append(action)
    return done


# ------------------------------------------------------------------------------------ checking
def monitor(state, spec):
    """(status, problems): 'running' when every target port's TPG is enabled, every LUN links
    to the right backstore, every ACL maps its LUNs and every backstore is enabled with the
    spec's device and serial; 'stopped' when none of the spec's target ports or backstores
    exist; 'failed' otherwise, with the problems (sentences)."""
    keys = dict((v.name, _iblock_backstores(state, v.name)) for v in spec.volumes)
    ports = [p for p in spec.target_ports if p in state['ports']]
    if not ports and not [k for k in keys.values() if k]:
        return 'stopped', []
    problems = []
    for volume in spec.volumes:
        found = keys[volume.name]
        if not found:
            problems.append('backstore %s is missing' % volume.name)
            continue
        if len(found) > 1:
            problems.append('backstore %s exists %d times (%s)' % (volume.name, len(found), ', '.join(found)))
        backstore = state['backstores'][found[0]]
        if backstore['device'] != volume.device:
            problems.append('backstore %s has device %s, not %s' % (found[0], backstore['device'], volume.device))
        if backstore['serial'] != volume.serial:
            problems.append('backstore %s has serial %s, not %s' % (found[0], backstore['serial'], volume.serial))
        if not backstore['enabled']:
            problems.append('backstore %s is not enabled' % found[0])
    for port in spec.target_ports:
        tpg_state = state['ports'].get(port, {}).get('tpgs', {}).get(TPG_NAME)
        tpg = _tpg_path(port)
        if tpg_state is None:
            problems.append('TPG %s is missing' % tpg)
            continue
        if not tpg_state['enabled']:
            problems.append('TPG %s is not enabled' % tpg)
        for volume in spec.volumes:
            lun_state = tpg_state['luns'].get(volume.lun_dir)
            links = sorted((lun_state or {}).get('links', {}).values())
            if links != keys[volume.name][:1]:
                problems.append('%s/lun/%s links to %s, not to backstore %s' % (
                    tpg, volume.lun_dir, ', '.join(links) or 'nothing', volume.name))
            for initiator in volume.initiators:
                acl_state = tpg_state['acls'].get(initiator)
                if acl_state is None:
                    problems.append('%s has no ACL for initiator %s' % (tpg, initiator))
                    continue
                mapped = acl_state['mapped_luns'].get(volume.lun_dir)
                if sorted((mapped or {}).get('links', {}).values()) != [volume.lun_dir]:
                    problems.append('%s/acls/%s does not map %s (volume %s)' % (
                        tpg, initiator, volume.lun_dir, volume.name))
    if spec.rdma_cm_port is not None and state['rdma_cm_port'] not in (None, spec.rdma_cm_port):
        problems.append('RDMA/CM port is %s, not %d' % (state['rdma_cm_port'], spec.rdma_cm_port))
    return ('failed' if problems else 'running'), problems


def device_in_use(device):
    """Whether block device cannot be opened exclusively (EBUSY: LIO's iblock, a mount or
    another holder still claims it). A missing device, or a DRBD device that refuses any open
    as Secondary, is not in use. Any other error raises LioError."""
    try:
        fd = os.open(device, os.O_RDONLY | os.O_EXCL)
    except OSError as exc:
        if exc.errno == errno.EBUSY:
            return True
        if exc.errno in (errno.ENOENT, errno.ENXIO, errno.ENODEV, errno.EROFS, getattr(errno, 'EMEDIUMTYPE', 124)):
            return False
        raise LioError('cannot tell whether %s is in use: %s' % (device, os.strerror(exc.errno)))
    os.close(fd)
    return False


def check_environment(root=DEFAULT_ROOT, modules_dir=DEFAULT_MODULES_DIR):
    """Raise SetupError saying what to do when configfs is not mounted, target_core_mod is
    not loaded or ib_srpt is not (the srpt directory exists only once ib_srpt is loaded and
    someone made it; ib_srpt is looked up in modules_dir then)."""
    mount_point = os.path.dirname(root.rstrip('/'))
    if not os.path.isdir(root):
        if not os.path.isdir(mount_point) or not os.listdir(mount_point):
            raise SetupError('configfs is not mounted on %s: modprobe configfs; mount -t configfs none %s'
                             % (mount_point, mount_point))
        raise SetupError('%s is missing: target_core_mod is not loaded (modprobe target_core_mod)' % root)
    if not os.path.isdir(os.path.join(root, 'core')):
        raise SetupError('%s/core is missing: target_core_mod is not loaded (modprobe target_core_mod)' % root)
    if not os.path.isdir(os.path.join(root, FABRIC)) and not os.path.isdir(os.path.join(modules_dir, 'ib_srpt')):
        raise SetupError('ib_srpt is not loaded (no %s/%s, no %s/ib_srpt): modprobe ib_srpt'
                         % (root, FABRIC, modules_dir))


def describe(state):
    """The state as text, one object per line, sorted (paths relative to the root), for diffs."""
    lines = []
    for key, b in state['backstores'].items():
        lines.append('core/%s device=%s serial=%s enable=%d' % (
            key, b['device'] or '-', b['serial'] or '-', 1 if b['enabled'] else 0))
    if state['fabric']:
        lines.append('%s rdma_cm_port=%s' % (FABRIC, state['rdma_cm_port'] if state['rdma_cm_port'] is not None
                                             else '-'))
    for port, port_state in state['ports'].items():
        lines.append('%s/%s' % (FABRIC, port))
        for tpg, t in port_state['tpgs'].items():
            base = _tpg_path(port, tpg)
            extra = ''
            if 'generate_node_acls' in t['attrib']:
                extra = ' generate_node_acls=%s' % t['attrib']['generate_node_acls']
            lines.append('%s enable=%d%s' % (base, 1 if t['enabled'] else 0, extra))
            for lun, lun_state in t['luns'].items():
                lines.append('%s/lun/%s -> %s' % (base, lun, ', '.join(
                    'core/' + k for k in sorted(lun_state['links'].values())) or '(nothing)'))
            for acl, acl_state in t['acls'].items():
                lines.append('%s/acls/%s' % (base, acl))
                for mapped, mapped_state in acl_state['mapped_luns'].items():
                    lines.append('%s/acls/%s/%s -> %s' % (base, acl, mapped, ', '.join(
                        sorted(mapped_state['links'].values())) or '(nothing)'))
    for key, luns in state['other_exports'].items():
        lines.extend('%s -> core/%s' % (lun, key) for lun in luns)
    return ''.join(line + '\n' for line in sorted(lines))
