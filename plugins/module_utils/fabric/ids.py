# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Identifiers of the fabric: GUIDs, GIDs, LIO/SRP port names (WWNs), P_Keys and IPoIB interface
names, Soft-RoCE GUIDs from MACs, LUN WWIDs.

Single-value functions: each takes a value in any common spelling and returns its normal form,
or raises :class:`FabricError` naming the value and the rule.  The filters of the same names are
thin wrappers; the model (``model.py``) uses them for its fields.  Standard library only.
"""

from __future__ import annotations

import ipaddress
import re

from ansible_collections.rdma.ha_storage.plugins.module_utils.fabric.errors import (
    FabricError, is_int, show, type_name)

__all__ = [
    'canonical_guid', 'guid_int', 'gid_int', 'gid_string', 'prefix_int', 'srpt_wwn', 'srp_port_id',
    'mac_to_guid', 'lio_wwid', 'has_hex_digit', 'normalize_pkey', 'pkey_interface', 'ipoib_max_mtu', 'is_netdev_name',
]

IPOIB_MAX_MTU = {'datagram': 4092, 'connected': 65520}   # 4096-byte IB MTU minus the 4-byte IPoIB header
PKEY_FULL_MEMBER = 0x8000
PKEY_DEFAULT = 0xFFFF                                    # default partition: carried by the parent netdev
IFNAMSIZ = 16                                            # netdev names are at most 15 characters
DEFAULT_SUBNET_PREFIX = 0xFE80000000000000               # link-local GID prefix (IB default, always on RoCE)
LIO_NAA_PREFIX = '36001405'                              # "3" (NAA page 0x83) + NAA 6 + LIO's company id 0x001405
LIO_NAA_HEX_DIGITS = 25                                  # hex digits of vpd_unit_serial that make the NAA id

_HEX_RE = re.compile(r'^[0-9a-f]+\Z')
_DIGITS_RE = re.compile(r'^[0-9]+\Z')
_NETDEV_RE = re.compile(r'^[^\s/:]{1,15}\Z')
_HEXDIGITS = frozenset('0123456789abcdefABCDEF')


def _hex_body(text, digits):
    """Parse exactly ``digits`` hex digits (optionally 0x-prefixed) or return None."""
    if text.startswith('0x'):
        text = text[2:]
    if len(text) == digits and _HEX_RE.match(text):
        return int(text, 16)
    return None


def is_netdev_name(value):
    """Whether ``value`` can be a network interface name (1-15 characters, no "/", ":" or spaces)."""
    return isinstance(value, str) and bool(_NETDEV_RE.match(value)) and value not in ('.', '..')


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
    if is_int(value):
        if 0 <= value < 2 ** 64:
            return int(value)
        raise FabricError('guid %s is out of range (a GUID is 64 bits)' % show(value))
    if not isinstance(value, str):
        raise FabricError('guid must be a string or an integer, got %s' % type_name(value))
    parsed = _parse_guid_text(value.strip().lower())
    if parsed is None:
        raise FabricError(
            'guid %s is not a GUID (expected e.g. 0x0002c903000e8acd, 0002:c903:000e:8acd or 00:02:c9:03:00:0e:8a:cd)'
            % show(value))
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
    if is_int(value):
        if 0 <= value < 2 ** 128:
            return int(value)
        raise FabricError('gid %s is out of range (a GID is 128 bits)' % show(value))
    if not isinstance(value, str):
        raise FabricError('gid must be a string or an integer, got %s' % type_name(value))
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
    raise FabricError('gid %s is not a GID (expected e.g. fe80:0000:0000:0000:0002:c903:000e:8acd, '
                      'fe80::2:c903:e:8acd, 0xfe800000000000000002c903000e8acd or ib.fe80...)' % show(value))


def gid_string(gid):
    """128-bit int -> the sysfs spelling ``fe80:0000:0000:0000:0002:c903:000e:8acd``."""
    text = '%032x' % gid
    return ':'.join(text[i:i + 4] for i in range(0, 32, 4))


def _guid_or_gid(value):
    """Return ('guid', int) or ('gid', int) for a GUID or GID spelling."""
    if is_int(value):
        if 0 <= value < 2 ** 64:
            return 'guid', int(value)
        if 0 <= value < 2 ** 128:
            return 'gid', int(value)
        raise FabricError('%s is neither a GUID (64 bits) nor a GID (128 bits)' % show(value))
    if not isinstance(value, str):
        raise FabricError('expected a GUID or GID string, got %s' % type_name(value))
    text = value.strip().lower()
    guid = _parse_guid_text(text)
    if guid is not None:
        return 'guid', guid
    try:
        return 'gid', gid_int(text)
    except FabricError:
        raise FabricError('%s is neither a GUID (e.g. 0x0002c903000e8acd) nor a GID '
                          '(e.g. fe80::2:c903:e:8acd)' % show(value))


def prefix_int(value, what='subnet_prefix'):
    """A 64-bit GID prefix / SRP id extension -> int (16 hex digits, 0x optional, or 4 colon groups)."""
    if is_int(value):
        if 0 <= value < 2 ** 64:
            return int(value)
        raise FabricError('%s %s is out of range (64 bits)' % (what, show(value)))
    if isinstance(value, str):
        text = value.strip().lower()
        parsed = _hex_body(text, 16)
        if parsed is None:
            parsed = _parse_guid_text(text) if ':' in text else None
        if parsed is not None:
            return parsed
    raise FabricError('%s %s is not 16 hex digits (e.g. fe80000000000000)' % (what, show(value)))


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
        gid = (prefix_int(subnet_prefix) << 64) | number
    else:
        gid = number
    if form == 'rtslib':
        return 'ib.%032x' % gid
    if form == 'configfs':
        return '0x%032x' % gid
    if form == 'guid':
        text = '%016x' % (gid & (2 ** 64 - 1))
        return ':'.join(text[i:i + 4] for i in range(0, 16, 4))
    raise FabricError("form %s is not one of 'rtslib', 'configfs', 'guid'" % show(form))


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
        ext = DEFAULT_SUBNET_PREFIX if initiator_ext is None else prefix_int(initiator_ext, 'initiator_ext')
    else:
        guid = number & (2 ** 64 - 1)
        ext = (number >> 64) if initiator_ext is None else prefix_int(initiator_ext, 'initiator_ext')
    if form == 'configfs':
        return '0x%016x%016x' % (ext, guid)
    if form == 'rtslib':
        return 'ib.%016x%016x' % (ext, guid)
    raise FabricError("form %s is not one of 'configfs', 'rtslib'" % show(form))


def mac_to_guid(value):
    """Ethernet MAC -> EUI-64 GUID as Soft-RoCE (rxe) derives it (52:54:00:12:34:56 -> 0x505400fffe123456).

    Flip the universal/local bit of the first octet and insert ff:fe in the middle; colons or
    dashes, any case.  This is the one copy of the rule: the lab (lab/config.py) imports it.
    """
    if not isinstance(value, str):
        raise FabricError('mac must be a string, got %s' % type_name(value))
    text = value.strip().lower()
    parts = re.split(r'[:-]', text)
    if len(parts) != 6 or not all(len(p) == 2 and _HEX_RE.match(p) for p in parts):
        raise FabricError('mac %s is not a MAC address (e.g. 52:54:00:12:34:56)' % show(value))
    octets = [int(p, 16) for p in parts]
    octets[0] ^= 0x02
    eui = octets[:3] + [0xFF, 0xFE] + octets[3:]
    return '0x' + ''.join('%02x' % o for o in eui)


def lio_wwid(serial):
    """The SCSI WWID (``/dev/disk/by-id/scsi-<wwid>``, multipath WWID) LIO derives from a unit serial.

    LIO builds an NAA 6 designator from its company id (0x001405 by default) and the first 25
    hex digits of vpd_unit_serial, skipping non-hex characters (spc_gen_naa_6h_vendor_specific).
    """
    if is_int(serial):
        serial = str(serial)
    if not isinstance(serial, str):
        raise FabricError('lun_serial must be a string, got %s' % type_name(serial))
    digits = ''.join(c for c in serial if c in _HEXDIGITS).lower()[:LIO_NAA_HEX_DIGITS]
    return LIO_NAA_PREFIX + digits.ljust(LIO_NAA_HEX_DIGITS, '0')


def has_hex_digit(text):
    """Whether a LUN serial has at least one hex digit (LIO derives the WWID from them)."""
    return any(c in _HEXDIGITS for c in text)


# ---------------------------------------------------------------------------------------------
# P_Keys and IPoIB
# ---------------------------------------------------------------------------------------------
def normalize_pkey(value):
    """P_Key (int, ``"0x8001"``, ``"0x0001"`` or a decimal string) -> int with the full-membership bit set."""
    number = None
    if is_int(value):
        number = int(value)
    elif isinstance(value, str):
        text = value.strip().lower()
        if text.startswith('0x') and 3 <= len(text) <= 6 and _HEX_RE.match(text[2:]):
            number = int(text[2:], 16)
        elif _DIGITS_RE.match(text) and len(text) <= 5:   # str.isdigit() accepts '²'
            number = int(text)
        else:
            raise FabricError('pkey %s is not a P_Key (expected an integer or a hex string such as "0x8001")'
                              % show(value))
    else:
        raise FabricError('pkey must be an integer or a string such as "0x8001", got %s' % type_name(value))
    if number < 0 or number > 0xFFFF:
        raise FabricError('pkey %s does not fit 16 bits (15-bit P_Key plus the membership bit)' % show(value))
    if number & 0x7FFF == 0:
        raise FabricError('pkey 0x%04x is invalid (0x0000 and 0x8000 are reserved: the low 15 bits must not be 0)'
                          % number)
    return number | PKEY_FULL_MEMBER


def pkey_interface(parent, pkey):
    """Name of the IPoIB P_Key child interface: ``ib0`` + 0x8001 -> ``ib0.8001``.

    The default partition (0xffff / 0x7fff) is carried by the parent itself, so the parent name is returned.
    """
    if not is_netdev_name(parent):
        raise FabricError('parent interface %s is not a network interface name' % show(parent))
    number = normalize_pkey(pkey)
    if number == PKEY_DEFAULT:
        return parent
    name = '%s.%04x' % (parent, number)
    if len(name) >= IFNAMSIZ:
        raise FabricError('P_Key child interface name %s is longer than %d characters; use a shorter parent name'
                          % (name, IFNAMSIZ - 1))
    return name


def ipoib_max_mtu(mode):
    """Largest IPoIB MTU for a mode: datagram 4092, connected 65520."""
    if isinstance(mode, str) and mode.strip().lower() in IPOIB_MAX_MTU:
        return IPOIB_MAX_MTU[mode.strip().lower()]
    raise FabricError("ipoib mode %s is not one of 'datagram', 'connected'" % show(mode))
