# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The fabric model (``rdma_fabric``): parse, normalise, validate, slice.

This file is the single place that knows the shape of ``rdma_fabric`` (see
docs/topology.md, the authoritative schema).  Filters and modules of the
collection are thin wrappers around the functions here.

Design notes
------------
* Pure Python standard library (``re``, ``ipaddress``): this module_utils is
  shipped to targets by modules such as ``fabric_validate`` and must import on
  a plain Python 3.8+ without netaddr.  ``ipaddress`` is also several times
  faster than netaddr for the only things needed here (parse, containment,
  overlap), which keeps validation of a 10,000-port model well under a second.
* One pass, O(n): every check uses dictionaries keyed by the unique value
  (GUID, address, minor, ...) and the network overlap check sorts once
  (O(n log n) in the number of networks).
* Validation never stops at the first problem: :func:`analyse` returns all
  errors and warnings.  Every message starts with the entity it is about
  (``node stor-b port mlx4_0/1: ...``, ``partition storage: ...``,
  ``ha_pair pair1 volume vol0: ...``, ``srp: ...``) followed by the field.
* Single-value helpers (:func:`canonical_guid`, :func:`normalize_pkey`, ...)
  raise :class:`TopologyError` (a ``ValueError``) with a readable message; the
  filter plugins turn it into ``AnsibleFilterError``.
"""

from __future__ import annotations

import gc
import ipaddress
import re

__all__ = [
    'TopologyError', 'FabricModel', 'analyse', 'fabric_errors', 'fabric_warnings', 'host_slice',
    'summary', 'differences', 'canonical_guid', 'guid_int', 'gid_int', 'gid_string', 'srpt_wwn',
    'srp_port_id', 'normalize_pkey', 'pkey_interface', 'ipoib_max_mtu', 'mac_to_guid', 'lio_wwid',
]

# ---------------------------------------------------------------------------------------------
# Constants (kernel and protocol limits the rules are built on)
# ---------------------------------------------------------------------------------------------
IPOIB_MAX_MTU = {'datagram': 4092, 'connected': 65520}   # 4096-byte IB MTU minus the 4-byte IPoIB header
IPOIB_DEFAULT_MTU = {'datagram': 2044, 'connected': 65520}
MIN_MTU = 68                                             # IPv4 minimum
ETHERNET_MAX_MTU = 65535
PKEY_FULL_MEMBER = 0x8000
PKEY_DEFAULT = 0xFFFF                                    # default partition: carried by the parent netdev
IFNAMSIZ = 16                                            # netdev names are at most 15 characters
DRBD_MAX_MINOR = (1 << 20) - 1
SCSI_DEVICE_BLOCK_MAX_TIMEOUT = 600                      # include/scsi/scsi_device.h
INT_MAX = 2 ** 31 - 1                                    # sysfs timers are parsed with kstrtoint()
DEFAULT_SUBNET_PREFIX = 0xFE80000000000000               # link-local GID prefix (IB default, always on RoCE)
LIO_NAA_PREFIX = '36001405'                              # "3" (NAA page 0x83) + NAA 6 + LIO's company id 0x001405
LIO_NAA_HEX_DIGITS = 25                                  # hex digits of vpd_unit_serial that make the NAA id
LUN_SERIAL_MAX = 253                                     # INQUIRY_VPD_SERIAL_LEN - 1

KINDS = ('storage', 'initiator', 'esx')
INITIATOR_KINDS = ('initiator', 'esx')
LINK_LAYERS = ('infiniband', 'ethernet')
TRANSPORTS = ('ipoib', 'ethernet')
PURPOSES = ('client', 'replication', 'management')
IPOIB_MODES = ('datagram', 'connected')

SRP_DEFAULTS = {
    'reconnect_delay': 10,        # ib_srp defaults
    'fast_io_fail_tmo': 15,
    'dev_loss_tmo': 600,
    'scsi_timeout': 30,           # SCSI command timeout (sd default)
    'initiator_ext': '%016x' % DEFAULT_SUBNET_PREFIX,
}
SRP_TIMERS = ('reconnect_delay', 'fast_io_fail_tmo', 'dev_loss_tmo')

TOP_KEYS = frozenset(('partitions', 'networks', 'nodes', 'ha_pairs', 'srp'))
PARTITION_KEYS = frozenset(('name', 'pkey', 'ipoib_mode', 'mtu'))
NETWORK_KEYS = frozenset(('name', 'cidr', 'transport', 'partition', 'purpose', 'mtu'))
NODE_KEYS = frozenset(('name', 'hostname', 'kind', 'ports', 'interfaces'))
PORT_KEYS = frozenset(('device', 'port', 'guid', 'link_layer', 'rate', 'netdev', 'subnet_prefix'))
INTERFACE_KEYS = frozenset(('network', 'address', 'port', 'netdev'))
PAIR_KEYS = frozenset(('name', 'nodes', 'initial_primary', 'replication_network', 'client_network', 'volumes'))
VOLUME_KEYS = frozenset(('name', 'backing_device', 'drbd_minor', 'drbd_port', 'lun_serial', 'initiators'))
SRP_KEYS = frozenset(SRP_DEFAULTS)

_NAME_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}\Z')
_HOSTNAME_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]{0,252}\Z')
_DEVICE_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\Z')
_NETDEV_RE = re.compile(r'^[^\s/:]{1,15}\Z')
_PORT_REF_RE = re.compile(r'^([A-Za-z0-9][A-Za-z0-9_.-]{0,63})/([0-9]{1,3})\Z')
_INT_RE = re.compile(r'^[+-]?[0-9]{1,18}\Z')
_DIGITS_RE = re.compile(r'^[0-9]+\Z')
_HEX_RE = re.compile(r'^[0-9a-f]+\Z')
_SERIAL_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._:-]*\Z')
_HEXDIGITS = frozenset('0123456789abcdefABCDEF')
_PATH_BAD = re.compile(r'[\s\x00]')


class TopologyError(ValueError):
    """A value of the fabric model is invalid (message names the value and the rule)."""


# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------
def _show(value, limit=60):
    """Short, safe rendering of a user value for messages."""
    if isinstance(value, str):
        text = value if len(value) <= limit else value[:limit] + '...'
        return "'%s'" % text
    if isinstance(value, bool) or value is None:
        return str(value).lower() if value is not None else 'null'
    if isinstance(value, (int, float)):
        text = str(value)
        return text if len(text) <= limit else text[:limit] + '...'
    return 'a %s' % _type_name(value)


def _type_name(value):
    if isinstance(value, bool):
        return 'boolean'
    if isinstance(value, str):
        return 'string'
    if isinstance(value, int):
        return 'integer'
    if isinstance(value, float):
        return 'float'
    if isinstance(value, dict):
        return 'mapping'
    if isinstance(value, (list, tuple)):
        return 'list'
    if value is None:
        return 'null'
    return type(value).__name__


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _as_int(value):
    """An int, or a string of decimal digits, as int; None for anything else."""
    if _is_int(value):
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if _INT_RE.match(text):
            return int(text)
    return None


def _hex_body(text, digits):
    """Parse exactly ``digits`` hex digits (optionally 0x-prefixed) or return None."""
    if text.startswith('0x'):
        text = text[2:]
    if len(text) == digits and _HEX_RE.match(text):
        return int(text, 16)
    return None


# ---------------------------------------------------------------------------------------------
# GUIDs, GIDs, WWNs
# ---------------------------------------------------------------------------------------------
def _parse_guid_text(text):
    """Return the GUID int of a lower-cased, stripped string, or None if it is not a GUID spelling."""
    if text.startswith('0x'):
        body = text[2:]
        if 1 <= len(body) <= 16 and _HEX_RE.match(body):
            return int(body, 16)
        return None
    if len(text) == 16 and _HEX_RE.match(text):
        return int(text, 16)
    for sep in (':', '.'):
        parts = text.split(sep)
        if len(parts) == 4 and all(1 <= len(p) <= 4 and _HEX_RE.match(p) for p in parts):
            value = 0
            for part in parts:
                value = (value << 16) | int(part, 16)
            return value
    for sep in (':', '-'):
        parts = text.split(sep)
        if len(parts) == 8 and all(len(p) == 2 and _HEX_RE.match(p) for p in parts):
            return int(''.join(parts), 16)
    return None


def guid_int(value):
    """GUID in any common spelling -> int.

    Accepted: an integer; ``0x0002c903000e8acd`` (1 to 16 hex digits after 0x);
    ``0002c903000e8acd`` (exactly 16 hex digits); ``0002:c903:000e:8acd`` (sysfs,
    ibstat; also with dots); ``00:02:c9:03:00:0e:8a:cd`` (also with dashes).
    Case does not matter.
    """
    if _is_int(value):
        if 0 <= value < 2 ** 64:
            return int(value)
        raise TopologyError('guid %s is out of range (a GUID is 64 bits)' % _show(value))
    if not isinstance(value, str):
        raise TopologyError('guid must be a string or an integer, got %s' % _type_name(value))
    parsed = _parse_guid_text(value.strip().lower())
    if parsed is None:
        raise TopologyError(
            'guid %s is not a GUID (expected e.g. 0x0002c903000e8acd, 0002:c903:000e:8acd or 00:02:c9:03:00:0e:8a:cd)'
            % _show(value))
    return parsed


def canonical_guid(value):
    """GUID in any common spelling -> canonical ``0x`` + 16 lower-case hex digits."""
    return '0x%016x' % guid_int(value)


def gid_int(value):
    """GID -> 128-bit int.

    Accepted: an integer; ``fe80:0000:0000:0000:0002:c903:000e:8acd`` (sysfs) or any
    IPv6 spelling (``fe80::2:c903:e:8acd``); ``0xfe80...`` or bare 32 hex digits;
    the rtslib/targetcli form ``ib.fe80...``.
    """
    if _is_int(value):
        if 0 <= value < 2 ** 128:
            return int(value)
        raise TopologyError('gid %s is out of range (a GID is 128 bits)' % _show(value))
    if not isinstance(value, str):
        raise TopologyError('gid must be a string or an integer, got %s' % _type_name(value))
    text = value.strip().lower()
    if text.startswith('ib.'):
        text = text[3:]
    parsed = _hex_body(text, 32)
    if parsed is not None:
        return parsed
    if ':' in text and len(text) <= 45:
        try:
            return int(ipaddress.IPv6Address(text))
        except ValueError:
            pass
    raise TopologyError('gid %s is not a GID (expected e.g. fe80:0000:0000:0000:0002:c903:000e:8acd, '
                        'fe80::2:c903:e:8acd, 0xfe800000000000000002c903000e8acd or ib.fe80...)' % _show(value))


def gid_string(gid):
    """128-bit int -> the sysfs spelling ``fe80:0000:0000:0000:0002:c903:000e:8acd``."""
    text = '%032x' % gid
    return ':'.join(text[i:i + 4] for i in range(0, 32, 4))


def _guid_or_gid(value):
    """Return ('guid', int) or ('gid', int) for a GUID or GID spelling."""
    if _is_int(value):
        if 0 <= value < 2 ** 64:
            return 'guid', int(value)
        if 0 <= value < 2 ** 128:
            return 'gid', int(value)
        raise TopologyError('%s is neither a GUID (64 bits) nor a GID (128 bits)' % _show(value))
    if not isinstance(value, str):
        raise TopologyError('expected a GUID or GID string, got %s' % _type_name(value))
    text = value.strip().lower()
    guid = _parse_guid_text(text)
    if guid is not None:
        return 'guid', guid
    try:
        return 'gid', gid_int(text)
    except TopologyError:
        raise TopologyError('%s is neither a GUID (e.g. 0x0002c903000e8acd) nor a GID '
                            '(e.g. fe80::2:c903:e:8acd)' % _show(value))


def _prefix_int(value, what='subnet_prefix'):
    """A 64-bit GID prefix / SRP id extension -> int (16 hex digits, 0x optional, or 4 colon groups)."""
    if _is_int(value):
        if 0 <= value < 2 ** 64:
            return int(value)
        raise TopologyError('%s %s is out of range (64 bits)' % (what, _show(value)))
    if isinstance(value, str):
        text = value.strip().lower()
        parsed = _hex_body(text, 16)
        if parsed is None:
            parsed = _parse_guid_text(text) if ':' in text else None
        if parsed is not None:
            return parsed
    raise TopologyError('%s %s is not 16 hex digits (e.g. fe80000000000000)' % (what, _show(value)))


def srpt_wwn(value, form='rtslib', subnet_prefix=DEFAULT_SUBNET_PREFIX):
    """LIO ib_srpt target port name for a port given by GUID or GID.

    form ``rtslib`` (default): ``ib.fe800000000000000002c903000e8acd`` (targetcli/rtslib);
    form ``configfs``: ``0xfe800000000000000002c903000e8acd`` (directory under
    /sys/kernel/config/target/srpt/); form ``guid``: ``0002:c903:000e:8acd`` (the GUID-form
    name, native InfiniBand only: RDMA/CM logins to it are rejected).
    A GUID is combined with ``subnet_prefix`` (default fe80000000000000) into the GID.
    """
    kind, number = _guid_or_gid(value)
    if kind == 'guid':
        gid = (_prefix_int(subnet_prefix) << 64) | number
    else:
        gid = number
    if form == 'rtslib':
        return 'ib.%032x' % gid
    if form == 'configfs':
        return '0x%032x' % gid
    if form == 'guid':
        text = '%016x' % (gid & (2 ** 64 - 1))
        return ':'.join(text[i:i + 4] for i in range(0, 16, 4))
    raise TopologyError("form %s is not one of 'rtslib', 'configfs', 'guid'" % _show(form))


def srp_port_id(value, initiator_ext=None, form='configfs'):
    """SRP initiator port id (the name of a LIO srpt ACL) of an initiator port.

    The id is ``initiator_ext`` (8 bytes) followed by the port GUID, as ib_srp builds it.
    For a GUID, ``initiator_ext`` defaults to ``fe80000000000000``; for a GID it defaults to
    the GID's own prefix (so a GID maps to itself).  form ``configfs`` (default):
    ``0xfe800000000000000002c903000e8acd``; form ``rtslib``: ``ib.fe80...``.
    """
    kind, number = _guid_or_gid(value)
    if kind == 'guid':
        guid = number
        ext = DEFAULT_SUBNET_PREFIX if initiator_ext is None else _prefix_int(initiator_ext, 'initiator_ext')
    else:
        guid = number & (2 ** 64 - 1)
        ext = (number >> 64) if initiator_ext is None else _prefix_int(initiator_ext, 'initiator_ext')
    if form == 'configfs':
        return '0x%016x%016x' % (ext, guid)
    if form == 'rtslib':
        return 'ib.%016x%016x' % (ext, guid)
    raise TopologyError("form %s is not one of 'configfs', 'rtslib'" % _show(form))


def mac_to_guid(value):
    """Ethernet MAC -> EUI-64 GUID as Soft-RoCE (rxe) derives it (52:54:00:12:34:56 -> 0x505400fffe123456)."""
    if not isinstance(value, str):
        raise TopologyError('mac must be a string, got %s' % _type_name(value))
    text = value.strip().lower()
    parts = re.split(r'[:-]', text)
    if len(parts) != 6 or not all(len(p) == 2 and _HEX_RE.match(p) for p in parts):
        raise TopologyError('mac %s is not a MAC address (e.g. 52:54:00:12:34:56)' % _show(value))
    octets = [int(p, 16) for p in parts]
    octets[0] ^= 0x02
    eui = octets[:3] + [0xFF, 0xFE] + octets[3:]
    return '0x' + ''.join('%02x' % o for o in eui)


def lio_wwid(serial):
    """The SCSI WWID (``/dev/disk/by-id/scsi-<wwid>``, multipath WWID) LIO derives from a unit serial.

    LIO builds an NAA 6 designator from its company id (0x001405 by default) and the first 25
    hex digits of vpd_unit_serial, skipping non-hex characters (spc_gen_naa_6h_vendor_specific).
    """
    if _is_int(serial):
        serial = str(serial)
    if not isinstance(serial, str):
        raise TopologyError('lun_serial must be a string, got %s' % _type_name(serial))
    digits = ''.join(c for c in serial if c in _HEXDIGITS).lower()[:LIO_NAA_HEX_DIGITS]
    return LIO_NAA_PREFIX + digits.ljust(LIO_NAA_HEX_DIGITS, '0')


# ---------------------------------------------------------------------------------------------
# P_Keys and IPoIB
# ---------------------------------------------------------------------------------------------
def normalize_pkey(value):
    """P_Key (int, ``"0x8001"``, ``"0x0001"`` or a decimal string) -> int with the full-membership bit set."""
    number = None
    if _is_int(value):
        number = int(value)
    elif isinstance(value, str):
        text = value.strip().lower()
        if text.startswith('0x') and 3 <= len(text) <= 6 and _HEX_RE.match(text[2:]):
            number = int(text[2:], 16)
        elif _DIGITS_RE.match(text) and len(text) <= 5:   # str.isdigit() accepts '²'
            number = int(text)
        else:
            raise TopologyError('pkey %s is not a P_Key (expected an integer or a hex string such as "0x8001")'
                                % _show(value))
    else:
        raise TopologyError('pkey must be an integer or a string such as "0x8001", got %s' % _type_name(value))
    if number < 0 or number > 0xFFFF:
        raise TopologyError('pkey %s does not fit 16 bits (15-bit P_Key plus the membership bit)' % _show(value))
    if number & 0x7FFF == 0:
        raise TopologyError('pkey 0x%04x is invalid (0x0000 and 0x8000 are reserved: the low 15 bits must not be 0)'
                            % number)
    return number | PKEY_FULL_MEMBER


def pkey_interface(parent, pkey):
    """Name of the IPoIB P_Key child interface: ``ib0`` + 0x8001 -> ``ib0.8001``.

    The default partition (0xffff / 0x7fff) is carried by the parent itself, so the parent name is returned.
    """
    if not isinstance(parent, str) or not _NETDEV_RE.match(parent) or parent in ('.', '..'):
        raise TopologyError('parent interface %s is not a network interface name' % _show(parent))
    number = normalize_pkey(pkey)
    if number == PKEY_DEFAULT:
        return parent
    name = '%s.%04x' % (parent, number)
    if len(name) >= IFNAMSIZ:
        raise TopologyError('P_Key child interface name %s is longer than %d characters; use a shorter parent name'
                            % (name, IFNAMSIZ - 1))
    return name


def ipoib_max_mtu(mode):
    """Largest IPoIB MTU for a mode: datagram 4092, connected 65520."""
    if isinstance(mode, str) and mode.strip().lower() in IPOIB_MAX_MTU:
        return IPOIB_MAX_MTU[mode.strip().lower()]
    raise TopologyError("ipoib mode %s is not one of 'datagram', 'connected'" % _show(mode))


# ---------------------------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------------------------
class FabricModel(object):
    """Result of :func:`analyse`: normalised entities plus every problem found."""

    def __init__(self):
        self.errors = []
        self.warnings = []
        self.partitions = {}      # name -> dict
        self.networks = {}        # name -> dict
        self.nodes = {}           # name -> dict (ports, interfaces, ...)
        self.node_order = []      # names in declared order
        self.pairs = {}           # name -> dict
        self.pair_order = []
        self.pair_of_node = {}    # storage node name -> pair name
        self.srp = dict(SRP_DEFAULTS)

    @property
    def valid(self):
        return not self.errors

    def error(self, where, message):
        self.errors.append('%s: %s' % (where, message))

    def warn(self, where, message):
        self.warnings.append('%s: %s' % (where, message))


def _field(mapping, key, default=None):
    """The value of a field of the model; an explicit null is the same as leaving the field out.

    A bare ``key:`` in YAML gives null, and ``dict.get(key, default)`` would pass it on as None
    (a peer's DRBD file would read ``on None {``).  Every reader below goes through this one
    function, so a null takes the documented default, and a null required field is "required".
    """
    value = mapping.get(key)
    return default if value is None else value


def _check_keys(model, where, data, allowed):
    for key in data:
        if key not in allowed:
            model.warn(where, 'unknown field %s ignored (known: %s)' % (_show(str(key)), ', '.join(sorted(allowed))))


def _list_of_dicts(model, where, data, key, required=False):
    """Return the list under ``key``, reporting a wrong type; items are checked by the caller."""
    value = _field(data, key)
    if value is None:
        if required:
            model.error(where, '%s is required' % key)
        return []
    if not isinstance(value, (list, tuple)):
        model.error(where, '%s must be a list, got %s' % (key, _type_name(value)))
        return []
    return value


def _entity_name(model, item, index, collection, singular, names):
    """Validate an entity's ``name``; return (name or None, where)."""
    position = '%s[%d]' % (collection, index)
    if not isinstance(item, dict):
        model.error(position, 'must be a mapping, got %s' % _type_name(item))
        return None, None
    name = _field(item, 'name')
    if name is None:
        model.error(position, 'name is required')
        return None, position
    if not isinstance(name, str) or not _NAME_RE.match(name):
        model.error(position, 'name %s is invalid (letters, digits, "_", "." and "-", at most 63 characters)'
                    % _show(name))
        return None, position
    where = '%s %s' % (singular, name)
    if name in names:
        model.error(where, 'name is not unique (%s[%d] has the same name)' % (collection, names[name]))
        return None, where
    names[name] = index
    return str(name), where


def _choice(model, where, data, key, choices, default=None, required=False):
    value = _field(data, key)
    if value is None:
        if required:
            model.error(where, '%s is required (one of %s)' % (key, ', '.join(choices)))
        return default
    if isinstance(value, str) and value.strip().lower() in choices:
        return value.strip().lower()
    model.error(where, '%s %s is not one of %s' % (key, _show(value), ', '.join(choices)))
    return None


def _bounded_int(model, where, data, key, low, high, required=True, default=None):
    value = _field(data, key)
    if value is None:
        if required:
            model.error(where, '%s is required' % key)
        return default
    number = _as_int(value)
    if number is None:
        model.error(where, '%s %s is not an integer' % (key, _show(value)))
        return None
    if number < low or number > high:
        model.error(where, '%s %d is out of range (%d..%d)' % (key, number, low, high))
        return None
    return number


# --- partitions -------------------------------------------------------------------------------
def _warn_hex_lookalike(model, where, value, pkey):
    """Warn about a decimal P_Key spelled like four hex digits (``8001``: almost always a 0x8001).

    P_Keys are shown as four hex digits everywhere (sysfs, ibstat, ``ib0.8001``), so a decimal
    of four or more digits whose digits, read as hex, are another valid P_Key is ambiguous.  It
    stays decimal, as documented; shorter ones (``2``, ``100``) are taken as written, and five
    digits (``32769``) do not fit 16 bits as hex.  YAML also turns an unquoted 0x1f41 into 8001,
    so the message says how to keep the value without the warning.
    """
    text = str(value) if _is_int(value) else value.strip()
    if len(text) < 4 or not _DIGITS_RE.match(text):
        return
    as_hex = int(text, 16)
    if as_hex > 0xFFFF or as_hex & 0x7FFF == 0 or as_hex | PKEY_FULL_MEMBER == pkey:
        return
    number = int(text)
    model.warn(where, 'pkey %s is read as decimal %d = 0x%04x (full member 0x%04x); if you meant hex write "0x%04x" '
               '(or "0x%04x" to keep this value without the warning)' % (text, number, number, pkey, as_hex, number))


def _parse_partitions(model, fabric):
    names = {}
    pkeys = {}
    for index, item in enumerate(_list_of_dicts(model, 'rdma_fabric', fabric, 'partitions')):
        name, where = _entity_name(model, item, index, 'partitions', 'partition', names)
        if where is None:
            continue
        _check_keys(model, where, item, PARTITION_KEYS)
        pkey = None
        raw_pkey = _field(item, 'pkey')
        if raw_pkey is None:
            model.error(where, 'pkey is required')
        else:
            try:
                pkey = normalize_pkey(raw_pkey)
            except TopologyError as exc:
                model.error(where, str(exc))
            else:
                _warn_hex_lookalike(model, where, raw_pkey, pkey)
        if pkey is not None:
            if pkey in pkeys:
                model.error(where, 'pkey 0x%04x is also used by %s' % (pkey, pkeys[pkey]))
            else:
                pkeys[pkey] = where
        mode = _choice(model, where, item, 'ipoib_mode', IPOIB_MODES, default='datagram')
        mtu = None
        if mode is not None:
            mtu = _bounded_int(model, where, item, 'mtu', MIN_MTU, 10 ** 9, required=False,
                               default=IPOIB_DEFAULT_MTU[mode])
            if mtu is not None and mtu > IPOIB_MAX_MTU[mode]:
                model.error(where, 'mtu %d is too large for ipoib_mode %s (at most %d)'
                            % (mtu, mode, IPOIB_MAX_MTU[mode]))
                mtu = None
        if name is not None:
            model.partitions[name] = {
                'name': name, 'pkey': pkey, 'pkey_hex': None if pkey is None else '0x%04x' % pkey,
                'ipoib_mode': mode, 'mtu': mtu,
            }


# --- networks ---------------------------------------------------------------------------------
def _parse_networks(model, fabric):
    names = {}
    parsed = []
    for index, item in enumerate(_list_of_dicts(model, 'rdma_fabric', fabric, 'networks')):
        name, where = _entity_name(model, item, index, 'networks', 'network', names)
        if where is None:
            continue
        _check_keys(model, where, item, NETWORK_KEYS)
        net = None
        cidr = _field(item, 'cidr')
        if cidr is None:
            model.error(where, 'cidr is required')
        elif not isinstance(cidr, str) or '/' not in cidr or len(cidr) > 64:
            model.error(where, 'cidr %s is not a network in CIDR notation (e.g. 10.10.0.0/24)' % _show(cidr))
        else:
            try:
                net = ipaddress.ip_network(cidr.strip(), strict=True)
            except ValueError:
                try:
                    loose = ipaddress.ip_network(cidr.strip(), strict=False)
                    model.error(where, 'cidr %s has host bits set (did you mean %s?)' % (cidr, loose))
                except ValueError:
                    model.error(where, 'cidr %s is not a network in CIDR notation (e.g. 10.10.0.0/24)' % _show(cidr))
        transport = _choice(model, where, item, 'transport', TRANSPORTS, required=True)
        purpose = _choice(model, where, item, 'purpose', PURPOSES, default='client')
        partition = _field(item, 'partition')
        if transport == 'ipoib':
            if partition is None:
                model.error(where, 'partition is required for transport ipoib')
            elif not isinstance(partition, str) or partition not in model.partitions:
                model.error(where, 'partition %s is not a declared partition' % _show(partition))
                partition = None
        elif transport == 'ethernet' and partition is not None:
            model.error(where, 'partition is only meaningful with transport ipoib')
            partition = None
        else:
            partition = None
        mtu = None
        if _field(item, 'mtu') is not None:
            if transport == 'ipoib':
                model.error(where, 'mtu of an ipoib network comes from its partition; set it there')
            else:
                mtu = _bounded_int(model, where, item, 'mtu', MIN_MTU, ETHERNET_MAX_MTU)
        elif transport == 'ipoib' and partition is not None:
            mtu = model.partitions[partition]['mtu']
        entry = {
            'name': name, 'cidr': None if net is None else str(net), 'transport': transport, 'purpose': purpose,
            'partition': partition, 'mtu': mtu, 'prefixlen': None if net is None else net.prefixlen,
            '_net': net,
        }
        if net is not None:
            parsed.append((net.version, int(net.network_address), int(net.broadcast_address), where))
        if name is not None:
            model.networks[name] = entry
    # overlap: sort once per IP version, sweep keeping the widest range seen so far
    parsed.sort()
    last = {}
    for version, start, end, label in parsed:
        previous = last.get(version)
        if previous is not None and start <= previous[1]:
            model.error(label, 'cidr %s overlaps %s (%s)' % (
                _net_text(version, start, end), previous[2], _net_text(version, previous[0], previous[1])))
        if previous is None or end > previous[1]:
            last[version] = (start, end, label)


def _net_text(version, start, end):
    size = end - start + 1
    bits = 32 if version == 4 else 128
    prefix = bits - (size.bit_length() - 1)
    return str(ipaddress.ip_network((start, prefix)))


# --- nodes ------------------------------------------------------------------------------------
def _parse_port(model, node_where, node_name, item, index, refs, guids):
    position = '%s ports[%d]' % (node_where, index)
    if not isinstance(item, dict):
        model.error(position, 'must be a mapping, got %s' % _type_name(item))
        return None
    device = _field(item, 'device')
    raw_number = _field(item, 'port')
    number = _as_int(raw_number)
    ref = None
    if isinstance(device, str) and _DEVICE_RE.match(device) and number is not None and 1 <= number <= 255:
        ref = '%s/%d' % (device, number)
        where = '%s port %s' % (node_where, ref)
    else:
        where = position
        if device is None:
            model.error(where, 'device is required (RDMA device name such as mlx4_0 or rxe0)')
        elif not isinstance(device, str) or not _DEVICE_RE.match(device):
            model.error(where, 'device %s is not an RDMA device name' % _show(device))
        if raw_number is None:
            model.error(where, 'port is required (port number, 1 for single-port devices)')
        elif number is None or not 1 <= number <= 255:
            model.error(where, 'port %s is not a port number (1..255)' % _show(raw_number))
    _check_keys(model, where, item, PORT_KEYS)
    if ref is not None:
        if ref in refs:
            model.error(where, 'port is declared twice')
            ref = None
    guid = None
    raw_guid = _field(item, 'guid')
    if raw_guid is None:
        model.error(where, 'guid is required')
    else:
        try:
            guid = guid_int(raw_guid)
        except TopologyError as exc:
            model.error(where, str(exc))
        if guid == 0:
            model.error(where, 'guid 0x0000000000000000 is not a valid port GUID')
            guid = None
    if guid is not None:
        owner = guids.get(guid)
        if owner is not None:
            other = owner[0] if owner[0] != node_name else 'port %s of the same node' % owner[1]
            model.error(where, 'guid 0x%016x is also used by %s' % (guid, other))
        else:
            guids[guid] = (node_name, ref or position)
    link_layer = _choice(model, where, item, 'link_layer', LINK_LAYERS, default='infiniband')
    rate = raw_rate = _field(item, 'rate')
    if rate is not None:
        if isinstance(rate, str):
            try:
                rate = float(rate.strip()) if len(rate) < 20 else None
            except ValueError:
                rate = None
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 < rate < 100000:
            model.error(where, 'rate %s is not a positive number of Gb/s' % _show(raw_rate))
            rate = None
        elif rate == int(rate):
            rate = int(rate)
    netdev = _field(item, 'netdev')
    if netdev is not None and (not isinstance(netdev, str) or not _NETDEV_RE.match(netdev) or netdev in ('.', '..')):
        model.error(where, 'netdev %s is not a network interface name (1-15 characters, no "/", ":" or spaces)'
                    % _show(netdev))
        netdev = None
    prefix = DEFAULT_SUBNET_PREFIX
    try:
        prefix = _prefix_int(_field(item, 'subnet_prefix', DEFAULT_SUBNET_PREFIX))
    except TopologyError as exc:
        model.error(where, str(exc))
    port = {
        'device': device if ref else None, 'port': number if ref else None, 'ref': ref,
        'guid': None if guid is None else '0x%016x' % guid, '_guid': guid,
        'link_layer': link_layer, 'rate': rate, 'netdev': netdev, 'subnet_prefix': '%016x' % prefix,
    }
    if ref is not None:
        refs[ref] = port
    return port


def _parse_interface(model, node_where, node, item, index, addresses):
    position = '%s interfaces[%d]' % (node_where, index)
    if not isinstance(item, dict):
        model.error(position, 'must be a mapping, got %s' % _type_name(item))
        return None
    net_name = _field(item, 'network')
    network = model.networks.get(net_name) if isinstance(net_name, str) else None
    where = '%s interface %s' % (node_where, net_name) if isinstance(net_name, str) and _NAME_RE.match(net_name) \
        else position
    _check_keys(model, where, item, INTERFACE_KEYS)
    if net_name is None:
        model.error(where, 'network is required')
    elif network is None:
        model.error(where, 'network %s is not a declared network' % _show(net_name))
    elif net_name in node['_ifaces']:
        model.error(where, 'a second address on network %s (one address per node and network)' % net_name)
        network = None
    address = _field(item, 'address')
    ip = None
    if address is None:
        model.error(where, 'address is required')
    elif not isinstance(address, str) or len(address) > 45:
        model.error(where, 'address %s is not an IP address' % _show(address))
    else:
        text = address.strip()
        if '/' in text:
            model.error(where, 'address %s must be given without a prefix length (the network gives it)' % text)
        else:
            try:
                ip = ipaddress.ip_address(text)
            except ValueError:
                model.error(where, 'address %s is not an IP address' % _show(address))
    net = network['_net'] if network is not None else None
    if ip is not None:
        key = (ip.version, int(ip))
        owner = addresses.get(key)
        if owner is not None:
            model.error(where, 'address %s is also used by %s' % (ip, owner))
        else:
            addresses[key] = node['_label']
        if net is not None:
            if ip.version != net.version or not int(net.network_address) <= int(ip) <= int(net.broadcast_address):
                model.error(where, 'address %s is outside network %s (%s)' % (ip, net_name, net))
            elif net.num_addresses > 2 and (int(ip) == int(net.network_address)
                                            or (ip.version == 4 and int(ip) == int(net.broadcast_address))):
                model.error(where, 'address %s is the %s address of network %s (%s)' % (
                    ip, 'network' if int(ip) == int(net.network_address) else 'broadcast', net_name, net))
    port_ref = _field(item, 'port')
    port = None
    if port_ref is not None:
        if not isinstance(port_ref, str) or not _PORT_REF_RE.match(port_ref):
            model.error(where, 'port %s is not a port reference such as mlx4_0/1' % _show(port_ref))
        else:
            port = node['_ports'].get(port_ref)
            if port is None:
                model.error(where, 'port %s is not a port of this node' % port_ref)
    netdev = _field(item, 'netdev')
    if netdev is not None and (not isinstance(netdev, str) or not _NETDEV_RE.match(netdev) or netdev in ('.', '..')):
        model.error(where, 'netdev %s is not a network interface name' % _show(netdev))
        netdev = None
    transport = network['transport'] if network is not None else None
    partition = model.partitions.get(network['partition']) if network is not None and network['partition'] else None
    entry = {
        'network': net_name if network is not None else None,
        'address': None if ip is None else str(ip),
        'prefixlen': None if net is None else net.prefixlen,
        'cidr': None if net is None else str(net),
        'transport': transport,
        'purpose': network['purpose'] if network is not None else None,
        'netdev': None, 'port': port['ref'] if port is not None else None,
        'partition': partition['name'] if partition is not None else None,
        'mtu': network['mtu'] if network is not None else None,
        'pkey': None, 'pkey_hex': None, 'ipoib_mode': None, 'parent': None,
    }
    if transport == 'ipoib':
        if partition is not None:
            entry.update({'pkey': partition['pkey'], 'pkey_hex': partition['pkey_hex'],
                          'ipoib_mode': partition['ipoib_mode']})
        if port_ref is None:
            model.error(where, 'port is required on an ipoib network (the HCA port whose netdev gets the P_Key child)')
        elif port is not None:
            if port['link_layer'] is not None and port['link_layer'] != 'infiniband':
                model.error(where, 'IPoIB needs an InfiniBand port but %s has link_layer %s'
                            % (port['ref'], port['link_layer']))
            elif port['netdev'] is None:
                model.error(where, 'port %s has no netdev; IPoIB needs the parent interface (e.g. ib0)' % port['ref'])
            elif partition is not None and partition['pkey'] is not None:
                try:
                    derived = pkey_interface(port['netdev'], partition['pkey'])
                except TopologyError as exc:
                    model.error(where, str(exc))
                else:
                    if netdev is not None and netdev != derived:
                        model.error(where, 'netdev %s differs from the P_Key child %s derived from port %s and '
                                    'partition %s; leave netdev out' % (netdev, derived, port['ref'], partition['name']))
                    entry['netdev'] = derived
                    entry['parent'] = port['netdev']
    elif transport == 'ethernet':
        if port is not None:
            if port['link_layer'] is not None and port['link_layer'] != 'ethernet':
                model.error(where, 'transport ethernet but port %s has link_layer infiniband (use an ipoib network)'
                            % port['ref'])
            elif netdev is not None and port['netdev'] is not None and netdev != port['netdev']:
                model.error(where, 'netdev %s differs from the netdev %s of port %s' % (netdev, port['netdev'], port['ref']))
            netdev = netdev or port['netdev']
        if netdev is None and (port_ref is None or port is not None):
            model.error(where, 'netdev is required on an ethernet network (or a port that has a netdev)')
        entry['netdev'] = netdev
    if network is not None:
        node['_ifaces'][net_name] = entry
    return entry


def _parse_nodes(model, fabric):
    names = {}
    hostnames = {}
    guids = {}
    addresses = {}
    items = _list_of_dicts(model, 'rdma_fabric', fabric, 'nodes', required=True)
    if isinstance(_field(fabric, 'nodes'), (list, tuple)) and not items:
        model.error('rdma_fabric', 'nodes is empty: declare at least the storage nodes')
    for index, item in enumerate(items):
        name, where = _entity_name(model, item, index, 'nodes', 'node', names)
        if where is None:
            continue
        _check_keys(model, where, item, NODE_KEYS)
        hostname = _field(item, 'hostname', name)
        if hostname is not None:
            if not isinstance(hostname, str) or not _HOSTNAME_RE.match(hostname):
                model.error(where, 'hostname %s is not a host name' % _show(hostname))
                hostname = None
            elif hostname in hostnames:
                model.error(where, 'hostname %s is also used by %s' % (hostname, hostnames[hostname]))
            else:
                hostnames[hostname] = where
        kind = _choice(model, where, item, 'kind', KINDS, required=True)
        node = {'name': name, 'hostname': hostname, 'kind': kind, 'ports': [], 'interfaces': [],
                '_ports': {}, '_ifaces': {}, '_label': name or where}
        for p_index, p_item in enumerate(_list_of_dicts(model, where, item, 'ports')):
            port = _parse_port(model, where, name or where, p_item, p_index, node['_ports'], guids)
            if port is not None:
                node['ports'].append(port)
        for i_index, i_item in enumerate(_list_of_dicts(model, where, item, 'interfaces')):
            iface = _parse_interface(model, where, node, i_item, i_index, addresses)
            if iface is not None:
                node['interfaces'].append(iface)
        if name is not None:
            model.nodes[name] = node
            model.node_order.append(name)


# --- HA pairs and volumes ---------------------------------------------------------------------
def _pair_network(model, where, item, key):
    value = _field(item, key)
    if value is None:
        model.error(where, '%s is required' % key)
        return None
    if not isinstance(value, str) or value not in model.networks:
        model.error(where, '%s %s is not a declared network' % (key, _show(value)))
        return None
    return value


def _parse_backing(model, where, value, pair_nodes):
    if value is None:
        model.error(where, 'backing_device is required')
        return {}
    if isinstance(value, str):
        if not value.startswith('/') or _PATH_BAD.search(value) or len(value) > 4096:
            model.error(where, 'backing_device %s is not an absolute device path' % _show(value))
            return {}
        return dict((n, value) for n in pair_nodes)
    if isinstance(value, dict):
        result = {}
        for key, path in value.items():
            if key not in pair_nodes:
                model.error(where, 'backing_device names %s, which is not a node of this pair' % _show(str(key)))
            elif not isinstance(path, str) or not path.startswith('/') or _PATH_BAD.search(path) or len(path) > 4096:
                model.error(where, 'backing_device of %s: %s is not an absolute device path' % (key, _show(path)))
            else:
                result[key] = path
        for node in pair_nodes:
            if node not in value:
                model.error(where, 'backing_device has no entry for node %s' % node)
        return result
    model.error(where, 'backing_device must be a path or a mapping {node: path}, got %s' % _type_name(value))
    return {}


def _parse_pairs(model, fabric):
    names = {}
    per_node = {}          # node -> {'minor': {}, 'port': {}, 'backing': {}}
    serials = {}
    wwids = {}
    exported_to = set()
    for index, item in enumerate(_list_of_dicts(model, 'rdma_fabric', fabric, 'ha_pairs')):
        name, where = _entity_name(model, item, index, 'ha_pairs', 'ha_pair', names)
        if where is None:
            continue
        _check_keys(model, where, item, PAIR_KEYS)
        members = _field(item, 'nodes')
        pair_nodes = []
        if members is None:
            model.error(where, 'nodes is required (exactly two storage nodes)')
        elif not isinstance(members, (list, tuple)) or len(members) != 2:
            model.error(where, 'nodes must list exactly two storage nodes, got %s' % (
                '%d' % len(members) if isinstance(members, (list, tuple)) else _type_name(members)))
        elif members[0] == members[1] and isinstance(members[0], str):
            model.error(where, 'nodes names %s twice; a pair needs two different storage nodes' % members[0])
        else:
            for member in members:
                node = model.nodes.get(member) if isinstance(member, str) else None
                if node is None:
                    model.error(where, 'node %s is not a declared node' % _show(member))
                    continue
                if node['kind'] is not None and node['kind'] != 'storage':
                    model.error(where, 'node %s is of kind %s, not storage' % (member, node['kind']))
                    continue
                if member in model.pair_of_node:
                    model.error(where, 'node %s is already in ha_pair %s (a node belongs to one pair)'
                                % (member, model.pair_of_node[member]))
                    continue
                if not node['ports']:
                    model.error(where, 'node %s has no HCA ports to export volumes on' % member)
                pair_nodes.append(member)
        complete = len(pair_nodes) == 2
        initial = _field(item, 'initial_primary', pair_nodes[0] if pair_nodes else None)
        if initial is not None and (not isinstance(initial, str)
                                    or (isinstance(members, (list, tuple)) and initial not in members)):
            model.error(where, 'initial_primary %s is not one of the pair\'s nodes' % _show(initial))
            initial = None
        repl = _pair_network(model, where, item, 'replication_network')
        client = _pair_network(model, where, item, 'client_network')
        if repl is not None and repl == client:
            model.error(where, 'replication_network and client_network are both %s; they must be distinct networks '
                        '(one failure would cut replication and client access together, and resync competes with I/O)'
                        % repl)
        for key, net, purpose in (('replication_network', repl, 'replication'), ('client_network', client, 'client')):
            if net is None:
                continue
            if model.networks[net]['purpose'] not in (purpose, None):
                model.warn(where, '%s %s has purpose %s, expected %s' % (key, net, model.networks[net]['purpose'], purpose))
            for member in pair_nodes:
                if net not in model.nodes[member]['_ifaces']:
                    model.error(where, 'node %s has no address on %s %s' % (member, key.replace('_', ' '), net))
        if repl is not None and client is not None and repl != client:
            for member in pair_nodes:
                ifaces = model.nodes[member]['_ifaces']
                a, b = ifaces.get(repl), ifaces.get(client)
                if a and b and a['netdev'] and a['netdev'] == b['netdev']:
                    model.warn(where, 'node %s carries replication network %s and client network %s on the same '
                               'netdev %s; one link failure cuts both' % (member, repl, client, a['netdev']))
        pair = {'name': name, 'nodes': pair_nodes, 'initial_primary': initial, 'replication_network': repl,
                'client_network': client, 'volumes': []}
        if complete and name is not None:
            for member in pair_nodes:
                model.pair_of_node[member] = name
        volume_names = {}
        for v_index, v_item in enumerate(_list_of_dicts(model, where, item, 'volumes')):
            vname, vwhere = _entity_name(model, v_item, v_index, '%s volumes' % where, '%s volume' % where,
                                         volume_names)
            if vwhere is None:
                continue
            _check_keys(model, vwhere, v_item, VOLUME_KEYS)
            backing = _parse_backing(model, vwhere, _field(v_item, 'backing_device'), pair_nodes)
            minor = _bounded_int(model, vwhere, v_item, 'drbd_minor', 0, DRBD_MAX_MINOR)
            port = _bounded_int(model, vwhere, v_item, 'drbd_port', 1, 65535)
            label = '%s volume %s' % (where, vname or '#%d' % v_index)
            for member in pair_nodes:
                used = per_node.setdefault(member, {'minor': {}, 'port': {}, 'backing': {}})
                for key, value, text in (('minor', minor, 'drbd_minor %s'), ('port', port, 'drbd_port %s'),
                                         ('backing', backing.get(member), 'backing_device %s')):
                    if value is None:
                        continue
                    if value in used[key]:
                        model.error(vwhere, (text + ' on %s is also used by %s') % (value, member, used[key][value]))
                    else:
                        used[key][value] = label
            serial = _field(v_item, 'lun_serial')
            wwid = None
            if serial is None:
                model.error(vwhere, 'lun_serial is required')
            else:
                if _is_int(serial) and serial >= 0:
                    serial = str(serial)
                if not isinstance(serial, str) or not _SERIAL_RE.match(serial) or len(serial) > LUN_SERIAL_MAX:
                    model.error(vwhere, 'lun_serial %s is invalid (letters, digits, ".", "_", ":" and "-", at most %d '
                                'characters)' % (_show(serial), LUN_SERIAL_MAX))
                    serial = None
                elif not any(c in _HEXDIGITS for c in serial):
                    model.error(vwhere, 'lun_serial %s has no hex digit; LIO derives the LUN WWID from its hex digits'
                                % serial)
                    serial = None
            if serial is not None:
                wwid = lio_wwid(serial)
                if serial in serials:
                    model.error(vwhere, 'lun_serial %s is also used by %s' % (serial, serials[serial]))
                elif wwid in wwids:
                    model.error(vwhere, 'lun_serial %s gives the same LUN WWID %s as %s (LIO uses only the first %d '
                                'hex digits)' % (serial, wwid, wwids[wwid], LIO_NAA_HEX_DIGITS))
                else:
                    serials[serial] = label
                    wwids[wwid] = label
            initiators = []
            raw = _field(v_item, 'initiators')
            if raw is None or (isinstance(raw, (list, tuple)) and not raw):
                model.warn(vwhere, 'initiators is empty: the volume is exported to no initiator')
            elif not isinstance(raw, (list, tuple)):
                model.error(vwhere, 'initiators must be a list of node names, got %s' % _type_name(raw))
            else:
                for ini in raw:
                    _check_initiator(model, vwhere, ini, initiators, client)
            exported_to.update(initiators)
            pair['volumes'].append({
                'name': vname, 'backing_devices': backing, 'drbd_minor': minor, 'drbd_port': port,
                'lun_serial': serial, 'wwid': wwid, 'initiators': initiators,
            })
        if name is not None:
            model.pairs[name] = pair
            model.pair_order.append(name)
    for node_name in model.node_order:
        node = model.nodes[node_name]
        if node['kind'] == 'storage' and node_name not in model.pair_of_node:
            model.warn('node %s' % node_name, 'storage node is not in any ha_pair')
        elif node['kind'] in INITIATOR_KINDS and node_name not in exported_to:
            model.warn('node %s' % node_name, '%s node is not named by any volume\'s initiators' % node['kind'])


def _check_initiator(model, vwhere, ini, initiators, client):
    node = model.nodes.get(ini) if isinstance(ini, str) else None
    if node is None:
        model.error(vwhere, 'initiator %s is not a declared node' % _show(ini))
        return
    if ini in initiators:
        model.warn(vwhere, 'initiator %s is listed twice' % ini)
        return
    initiators.append(ini)
    if node['kind'] not in INITIATOR_KINDS:
        if node['kind'] is not None:
            model.error(vwhere, 'initiator %s is a %s node, not an initiator or esx node' % (ini, node['kind']))
        return
    if not node['ports']:
        model.error(vwhere, 'initiator %s has no HCA ports' % ini)
        return
    if client is not None and client not in node['_ifaces'] \
            and not any(p['link_layer'] == 'infiniband' for p in node['ports']):
        model.error(vwhere, 'initiator %s has only RoCE ports and no address on client network %s; SRP over '
                    'RDMA/CM needs one' % (ini, client))


# --- SRP timers -------------------------------------------------------------------------------
def _srp_timer(model, value, key):
    if isinstance(value, str) and value.strip().lower() == 'off':
        return -1
    number = _as_int(value)
    if number is None:
        model.error('srp', '%s %s is not a number of seconds or "off"' % (key, _show(value)))
        return None
    if number > INT_MAX or number < -INT_MAX:
        model.error('srp', '%s %d is out of range (the kernel parses it as a 32-bit int)' % (key, number))
        return None
    return -1 if number < 0 else number


def _parse_srp(model, fabric):
    raw = _field(fabric, 'srp', {})
    if not isinstance(raw, dict):
        model.error('srp', 'must be a mapping, got %s' % _type_name(raw))
        return
    _check_keys(model, 'srp', raw, SRP_KEYS)
    timers = {}
    for key in SRP_TIMERS:
        timers[key] = _srp_timer(model, _field(raw, key, SRP_DEFAULTS[key]), key)
    raw_scsi = _field(raw, 'scsi_timeout', SRP_DEFAULTS['scsi_timeout'])
    scsi = _as_int(raw_scsi)
    if scsi is None or not 1 <= scsi <= INT_MAX:
        model.error('srp', 'scsi_timeout %s is not a positive number of seconds' % _show(raw_scsi))
        scsi = None
    ext = _field(raw, 'initiator_ext', SRP_DEFAULTS['initiator_ext'])
    try:
        ext = '%016x' % _prefix_int(ext, 'initiator_ext')
    except TopologyError as exc:
        model.error('srp', str(exc))
        ext = None
    rd, fio, dl = timers['reconnect_delay'], timers['fast_io_fail_tmo'], timers['dev_loss_tmo']
    # the rules of srp_tmo_valid() in drivers/scsi/scsi_transport_srp.c (negative / "off" = disabled)
    if None not in (rd, fio, dl):
        if rd < 0 and fio < 0 and dl < 0:
            model.error('srp', 'reconnect_delay, fast_io_fail_tmo and dev_loss_tmo are all "off"; the kernel refuses '
                        'this (a failed path would never be reported to multipath)')
        if fio >= 0 and dl >= 0 and fio >= dl:
            model.error('srp', 'fast_io_fail_tmo %d must be below dev_loss_tmo %d' % (fio, dl))
        if fio < 0 and dl > SCSI_DEVICE_BLOCK_MAX_TIMEOUT:
            model.error('srp', 'dev_loss_tmo %d must not exceed %d s while fast_io_fail_tmo is "off" '
                        '(SCSI_DEVICE_BLOCK_MAX_TIMEOUT)' % (dl, SCSI_DEVICE_BLOCK_MAX_TIMEOUT))
    if rd == 0:
        model.error('srp', 'reconnect_delay 0 is invalid; use a positive number of seconds or "off"')
    if fio is not None and fio > SCSI_DEVICE_BLOCK_MAX_TIMEOUT:
        model.error('srp', 'fast_io_fail_tmo %d must not exceed %d s (SCSI_DEVICE_BLOCK_MAX_TIMEOUT)'
                    % (fio, SCSI_DEVICE_BLOCK_MAX_TIMEOUT))
    if fio is not None and fio >= 0 and scsi is not None and fio >= scsi:
        model.error('srp', 'fast_io_fail_tmo %d must be below scsi_timeout %d (the SCSI command timeout), or '
                    'I/O on a dead path waits for the command timeout first' % (fio, scsi))
    for key in SRP_TIMERS:
        if timers[key] is not None:
            model.srp[key] = 'off' if timers[key] < 0 else timers[key]
    model.srp['scsi_timeout'] = scsi
    model.srp['initiator_ext'] = ext


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------
def analyse(fabric):
    """Parse, normalise and validate ``rdma_fabric``; return a :class:`FabricModel` (never raises)."""
    model = FabricModel()
    if not isinstance(fabric, dict):
        model.error('rdma_fabric', 'must be a mapping with partitions, networks, nodes, ha_pairs and srp, got %s'
                    % _type_name(fabric))
        return model
    # The parse allocates many small acyclic objects; the cyclic collector would rescan all of
    # them on every full collection, which made 100,000-port models grow super-linearly.
    collecting = gc.isenabled()
    gc.disable()
    try:
        _check_keys(model, 'rdma_fabric', fabric, TOP_KEYS)
        _parse_partitions(model, fabric)
        _parse_networks(model, fabric)
        _parse_nodes(model, fabric)
        _parse_pairs(model, fabric)
        _parse_srp(model, fabric)
    finally:
        if collecting:
            gc.enable()
    return model


def fabric_errors(fabric):
    """List of problems of the model (empty when valid)."""
    return list(analyse(fabric).errors)


def fabric_warnings(fabric):
    """List of warnings of the model."""
    return list(analyse(fabric).warnings)


def _port_out(port, initiator_ext=None):
    guid = port['_guid']
    prefix = int(port['subnet_prefix'], 16)
    ext = prefix if initiator_ext is None else int(initiator_ext, 16)
    return {
        'device': port['device'], 'port': port['port'], 'name': port['ref'], 'guid': port['guid'],
        'link_layer': port['link_layer'], 'rate': port['rate'], 'netdev': port['netdev'],
        'subnet_prefix': port['subnet_prefix'],
        'gid': gid_string((prefix << 64) | guid),
        'srpt_wwn': 'ib.%016x%016x' % (prefix, guid),
        'srp_port_id': '0x%016x%016x' % (ext, guid),
    }


def _iface_out(iface):
    return dict(iface)


def _require_valid(model):
    if model.errors:
        shown = model.errors[:20]
        more = len(model.errors) - len(shown)
        raise TopologyError('rdma_fabric is invalid (%d problem%s): %s%s' % (
            len(model.errors), '' if len(model.errors) == 1 else 's', '; '.join(shown),
            '; ... and %d more' % more if more else ''))


def host_slice(fabric, host, model=None):
    """The normalised part of the model one host needs (see docs/topology.md, "Host slice")."""
    if model is None:
        model = analyse(fabric)
    _require_valid(model)
    if not isinstance(host, str) or host not in model.nodes:
        raise TopologyError('host %s is not a node of rdma_fabric (nodes: %s)' % (
            _show(host), ', '.join(model.node_order[:20]) + (', ...' if len(model.node_order) > 20 else '')))
    node = model.nodes[host]
    ext = model.srp['initiator_ext']
    result = {
        'node': {
            'name': node['name'], 'hostname': node['hostname'], 'kind': node['kind'],
            'ports': [_port_out(p, ext) for p in node['ports']],
            'interfaces': [_iface_out(i) for i in node['interfaces']],
        },
        'ha_pair': None,
        'initiators': {},
        'targets': [],
        'srp': dict(model.srp),
    }
    pair_name = model.pair_of_node.get(host)
    if pair_name is not None:
        pair = model.pairs[pair_name]
        repl, client = pair['replication_network'], pair['client_network']
        members = []
        for member in pair['nodes']:
            other = model.nodes[member]
            members.append({
                'name': member, 'hostname': other['hostname'],
                'replication_address': other['_ifaces'][repl]['address'],
                'replication_netdev': other['_ifaces'][repl]['netdev'],
                'client_address': other['_ifaces'][client]['address'],
                'client_netdev': other['_ifaces'][client]['netdev'],
                'ports': [_port_out(p, ext) for p in other['ports']],
            })
        volumes = []
        for vol in pair['volumes']:
            volumes.append({
                'name': vol['name'], 'drbd_minor': vol['drbd_minor'], 'drbd_port': vol['drbd_port'],
                'drbd_device': '/dev/drbd%d' % vol['drbd_minor'],
                'backing_device': vol['backing_devices'][host], 'backing_devices': dict(vol['backing_devices']),
                'lun_serial': vol['lun_serial'], 'wwid': vol['wwid'], 'initiators': list(vol['initiators']),
            })
            for ini in vol['initiators']:
                if ini not in result['initiators']:
                    other = model.nodes[ini]
                    client_iface = other['_ifaces'].get(client)
                    result['initiators'][ini] = {
                        'kind': other['kind'], 'hostname': other['hostname'],
                        'ports': [_port_out(p, ext) for p in other['ports']],
                        'client_address': client_iface['address'] if client_iface else None,
                    }
        result['ha_pair'] = {
            'name': pair['name'], 'initial_primary': pair['initial_primary'],
            'is_initial_primary': pair['initial_primary'] == host,
            'peer': [n for n in pair['nodes'] if n != host][0],
            'replication_network': repl, 'client_network': client,
            'nodes': members, 'volumes': volumes,
        }
    if node['kind'] in INITIATOR_KINDS:
        for pname in model.pair_order:
            pair = model.pairs[pname]
            client = pair['client_network']
            for vol in pair['volumes']:
                if host not in vol['initiators']:
                    continue
                result['targets'].append({
                    'pair': pname, 'volume': vol['name'], 'lun_serial': vol['lun_serial'], 'wwid': vol['wwid'],
                    'client_network': client, 'initial_primary': pair['initial_primary'],
                    'nodes': [{
                        'name': member, 'hostname': model.nodes[member]['hostname'],
                        'client_address': model.nodes[member]['_ifaces'][client]['address'],
                        'ports': [_port_out(p, ext) for p in model.nodes[member]['ports']],
                    } for member in pair['nodes']],
                })
    return result


def summary(model):
    """A compact normalised summary of a valid or invalid model."""
    kinds = dict((k, []) for k in KINDS)
    ports = 0
    interfaces = 0
    for name in model.node_order:
        node = model.nodes[name]
        if node['kind'] in kinds:
            kinds[node['kind']].append(name)
        ports += len(node['ports'])
        interfaces += len(node['interfaces'])
    return {
        'partitions': [dict((k, p[k]) for k in ('name', 'pkey', 'pkey_hex', 'ipoib_mode', 'mtu'))
                       for p in model.partitions.values()],
        'networks': [dict((k, n[k]) for k in ('name', 'cidr', 'transport', 'purpose', 'partition', 'mtu'))
                     for n in model.networks.values()],
        'nodes': kinds,
        'ha_pairs': [{'name': p['name'], 'nodes': list(p['nodes']), 'initial_primary': p['initial_primary'],
                      'replication_network': p['replication_network'], 'client_network': p['client_network'],
                      'volumes': [v['name'] for v in p['volumes']]}
                     for p in (model.pairs[n] for n in model.pair_order)],
        'srp': dict(model.srp),
        'counts': {
            'partitions': len(model.partitions), 'networks': len(model.networks), 'nodes': len(model.nodes),
            'ports': ports, 'interfaces': interfaces, 'ha_pairs': len(model.pairs),
            'volumes': sum(len(p['volumes']) for p in model.pairs.values()),
        },
    }


# ---------------------------------------------------------------------------------------------
# Discovered facts (rdma_facts) against the model
# ---------------------------------------------------------------------------------------------
def differences(fabric, host, facts, model=None):
    """Differences between the model's ports of ``host`` and its discovered ``rdma_facts``.

    Returns a list of messages ``node <host> port <dev>/<n>: ...`` (empty when the host matches):
    declared GUID missing, GUID on another device/port, port not ACTIVE / LinkUp, rate below the
    declared rate, link layer or netdev different from the model.
    """
    if model is None:
        model = analyse(fabric)
    _require_valid(model)
    if not isinstance(host, str) or host not in model.nodes:
        raise TopologyError('host %s is not a node of rdma_fabric' % _show(host))
    if not isinstance(facts, dict):
        raise TopologyError('rdma_facts must be the mapping returned by rdma.ha_storage.rdma_facts, got %s'
                            % _type_name(facts))
    if 'rdma_facts' in facts and isinstance(facts['rdma_facts'], dict) and 'ports' not in facts:
        facts = facts['rdma_facts']
    found = facts.get('ports')
    if not isinstance(found, (list, tuple)):
        raise TopologyError('rdma_facts has no list "ports"; pass the facts returned by rdma.ha_storage.rdma_facts')
    by_guid = {}
    by_ref = {}
    for entry in found:
        if not isinstance(entry, dict):
            continue
        try:
            by_guid[guid_int(entry.get('guid'))] = entry
        except TopologyError:
            pass
        ref = '%s/%s' % (entry.get('device'), entry.get('port'))
        by_ref[ref] = entry
    result = []
    node = model.nodes[host]
    for port in node['ports']:
        where = 'node %s port %s' % (host, port['ref'])
        entry = by_guid.get(port['_guid'])
        if entry is None:
            at_ref = by_ref.get(port['ref'])
            if at_ref is not None:
                result.append('%s: declared guid %s not found on the host; %s has guid %s'
                              % (where, port['guid'], port['ref'], at_ref.get('guid')))
            else:
                seen = ', '.join('%s/%s=%s' % (e.get('device'), e.get('port'), e.get('guid'))
                                 for e in found if isinstance(e, dict)) or 'no RDMA ports'
                result.append('%s: declared guid %s not found on the host (found: %s)' % (where, port['guid'], seen))
            continue
        ref = '%s/%s' % (entry.get('device'), entry.get('port'))
        if ref != port['ref']:
            result.append('%s: guid %s is on %s, the model says %s' % (where, port['guid'], ref, port['ref']))
        state = str(entry.get('state') or '').upper()
        phys = str(entry.get('phys_state') or '')
        down = state != 'ACTIVE' or phys.lower() != 'linkup'
        if down:
            result.append('%s: port is down (state %s, physical state %s)' % (where, state or 'unknown', phys or 'unknown'))
        rate = entry.get('rate')
        if not down and port['rate'] is not None and isinstance(rate, (int, float)) and not isinstance(rate, bool) \
                and rate < port['rate']:
            result.append('%s: rate %s Gb/s is below the declared %s Gb/s' % (where, _num(rate), _num(port['rate'])))
        layer = str(entry.get('link_layer') or '').lower()
        if port['link_layer'] and layer and layer != port['link_layer']:
            result.append('%s: link layer is %s, the model says %s' % (where, layer, port['link_layer']))
        netdevs = entry.get('netdevs') or []
        if port['netdev'] and isinstance(netdevs, (list, tuple)) and port['netdev'] not in netdevs:
            result.append('%s: netdev %s not found for this port (found: %s)'
                          % (where, port['netdev'], ', '.join(str(n) for n in netdevs) or 'none'))
    for iface in node['interfaces']:
        if iface['transport'] != 'ipoib' or iface['pkey'] is None or iface['port'] is None:
            continue
        port = node['_ports'][iface['port']]
        entry = by_guid.get(port['_guid'])
        table = entry.get('pkeys') if entry is not None else None
        if not isinstance(table, (list, tuple)) or not table:
            continue
        values = set()
        for text in table:
            try:
                values.add(int(text) if _is_int(text) else int(str(text)[:8], 16))
            except ValueError:
                continue
        where = 'node %s interface %s' % (host, iface['network'])
        if iface['pkey'] in values:
            continue
        if iface['pkey'] & 0x7FFF in values:
            result.append('%s: port %s is only a limited member of partition %s (P_Key 0x%04x in its table); '
                          'limited members cannot talk to each other' % (where, port['ref'], iface['partition'],
                                                                         iface['pkey'] & 0x7FFF))
        else:
            found = ', '.join(str(t) for t in table)
            result.append('%s: P_Key %s of partition %s is not in the P_Key table of port %s (found: %s); the subnet '
                          'manager must add the port to the partition'
                          % (where, iface['pkey_hex'], iface['partition'], port['ref'], found))
    return result


def _num(value):
    return ('%g' % value) if isinstance(value, float) else str(value)
