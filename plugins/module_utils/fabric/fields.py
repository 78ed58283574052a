# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The fields of the fabric model: how each is read and checked, one table per entity.

Every field of every entity of ``rdma_fabric`` is listed here (:class:`Entity` tables, in the
order of docs/fabric.md, "Schema") with its validator, whether it is required and its default.
:meth:`Entity.read` is the one "missing -> required or default; present -> check, or report the
validator's message" path, and :func:`_field` the one place that reads a mapping: an explicit
null means the default.  The tables are also each entity's known keys (others warn).  Rules
between fields (a port reference needs device and port, the MTU default depends on the IPoIB
mode, ...) are written in the entity parsers of ``model.py``.

A validator is ``check(model, key, value)``: it returns the normal form of a present value or
raises :class:`FabricError` with a message that starts with the field (``mtu 67 is out of
range (68..1000000000)``); the reader prefixes the entity (``partition storage: ``).
"""

from __future__ import annotations

import ipaddress
import re

from ansible_collections.rdma.ha_storage.plugins.module_utils.fabric.errors import FabricError, is_int, show, type_name
from ansible_collections.rdma.ha_storage.plugins.module_utils.fabric.ids import (
    DEFAULT_SUBNET_PREFIX, guid_int, has_hex_digit, is_netdev_name, normalize_pkey, prefix_int)

__all__ = [
    'Field', 'Entity', 'OneOf', 'IntIn', 'NetdevName', 'as_int', 'check_keys', 'list_of_dicts', 'entity_name',
    'TOP', 'PARTITION', 'NETWORK', 'NODE', 'PORT', 'INTERFACE', 'BOND', 'PAIR', 'VOLUME', 'SRP',
]

# ---------------------------------------------------------------------------------------------
# Constants (kernel and protocol limits the rules are built on)
# ---------------------------------------------------------------------------------------------
IPOIB_DEFAULT_MTU = {'datagram': 2044, 'connected': 65520}
MIN_MTU = 68                                             # IPv4 minimum
ETHERNET_MAX_MTU = 65535
DRBD_MAX_MINOR = (1 << 20) - 1
SCSI_DEVICE_BLOCK_MAX_TIMEOUT = 600                      # include/scsi/scsi_device.h
INT_MAX = 2 ** 31 - 1                                    # sysfs timers are parsed with kstrtoint()
LUN_SERIAL_MAX = 253                                     # INQUIRY_VPD_SERIAL_LEN - 1

KINDS = ('storage', 'initiator', 'esx')
INITIATOR_KINDS = ('initiator', 'esx')
LINK_LAYERS = ('infiniband', 'ethernet')
# Software RDMA devices the rdma_core role creates (`rdma link add <device> type <soft> netdev <netdev>`):
# Soft-RoCE (rxe, RoCE v2 over UDP) and Soft-iWARP (siw, iWARP over TCP); both have an Ethernet link layer.
SOFT_DEVICES = ('rxe', 'siw')
TRANSPORTS = ('ipoib', 'ethernet')
PURPOSES = ('client', 'replication', 'management')
IPOIB_MODES = ('datagram', 'connected')
# The one bonding mode the kernel allows over IPoIB (bond_enslave() refuses an ARPHRD_INFINIBAND
# port in any other mode), and the fail_over_mac it needs: an IPoIB hardware address holds the
# port's QPN and GID and cannot be set, so the bond takes the active port's address (1, "active").
IPOIB_BOND_MODE = 'active-backup'
IPOIB_BOND_FAIL_OVER_MAC = 'active'
# ESX (Mellanox's OFED bundle for ESXi 5.x / 6.0): IPoIB is datagram (UD) mode only, every HCA
# port's IPoIB interface is an uplink (vmnic_ib0, ...) of a vSwitch; the uplinks of one interface
# are teamed with explicit failover on that vSwitch (the first active, the others standby).
ESX_IPOIB_MODE = 'datagram'
# Who starts, promotes and demotes a pair's DRBD resources: nobody but the boot units of the
# drbd role (none), or the cluster manager (pacemaker). Every role reads it from here.
CLUSTER_MANAGERS = ('none', 'pacemaker')

SRP_DEFAULTS = {
    'reconnect_delay': 10,        # ib_srp defaults
    'fast_io_fail_tmo': 15,
    'dev_loss_tmo': 600,
    'scsi_timeout': 30,           # SCSI command timeout (sd default)
    'initiator_ext': '%016x' % DEFAULT_SUBNET_PREFIX,
    'rdma_cm_port': 5555,         # the port ib_srpt listens on for RDMA/CM logins (what blktests uses)
}
# ib_srp's SRP_MAX_LUN: an initiator scans LUNs 0 .. 511 of a target port
SRP_MAX_LUN = 511
SRP_TIMERS = ('reconnect_delay', 'fast_io_fail_tmo', 'dev_loss_tmo')

NAME_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}\Z')
_HOSTNAME_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]{0,252}\Z')
_INT_RE = re.compile(r'^[+-]?[0-9]{1,18}\Z')
_SERIAL_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._:-]*\Z')


# ---------------------------------------------------------------------------------------------
# One rule for null, one reader
# ---------------------------------------------------------------------------------------------
def _field(mapping, key, default=None):
    """The value of a field of the model; an explicit null is the same as leaving the field out.

    A bare ``key:`` in YAML gives null, and ``dict.get(key, default)`` would pass it on as None
    (a peer's DRBD file would read ``on None {``).  Every reader of this file goes through this
    one function (the entity parsers of model.py read only through :meth:`Entity.read` and
    :meth:`Entity.raw`, which also refuse a key that is not in the entity's table), so a null
    takes the documented default, and a null required field is "required".
    """
    value = mapping.get(key)
    return default if value is None else value


_TABLE_DEFAULT = object()


class Field(object):
    """One field of an entity: how it is checked, whether it is required, its default.

    ``check(model, key, value)`` returns the normal form of a present value or raises
    :class:`FabricError` with a message that starts with the field (``mtu 67 is out of range``);
    None means the raw value is returned (the entity parser checks it, with other fields).
    ``default`` is returned as it is for a missing field, so it is written in normal form.
    """

    __slots__ = ('key', 'check', 'required', 'default')

    def __init__(self, key, check=None, required=False, default=None):
        self.key = key
        self.check = check
        self.required = required
        self.default = default


class Entity(object):
    """The table of an entity's fields, in schema order; its keys are the entity's known keys."""

    def __init__(self, *fields):
        self.fields = dict((f.key, f) for f in fields)
        self.keys = frozenset(self.fields)

    def raw(self, mapping, key, default=None):
        """The value of field ``key`` as written (null: ``default``), for rules between fields."""
        return _field(mapping, self.fields[key].key, default)

    def read(self, model, where, mapping, key, default=_TABLE_DEFAULT):
        """The checked value of field ``key`` of ``mapping``, or its default; problems go to ``model``.

        Missing (or null): "<key> is required" when required (with the validator's hint, e.g.
        "(one of storage, initiator, esx)"), else the default (``default`` overrides the table's
        when it depends on another field).  Present: the validator's normal form, or None after
        reporting its message.
        """
        spec = self.fields[key]
        value = _field(mapping, key)
        if value is None:
            if spec.required:
                model.error(where, '%s is required%s' % (key, getattr(spec.check, 'hint', '')))
            return spec.default if default is _TABLE_DEFAULT else default
        if spec.check is None:
            return value
        try:
            return spec.check(model, key, value)
        except FabricError as exc:
            model.error(where, str(exc))
            return None


def as_int(value):
    """An int, or a string of decimal digits, as int; None for anything else."""
    if is_int(value):
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if _INT_RE.match(text):
            return int(text)
    return None


# --- validators: (model, key, value) -> normal form, or FabricError ---------------------------
class OneOf(object):
    """A keyword out of ``choices``, any case, surrounding spaces ignored; normal form lower case."""

    def __init__(self, choices):
        self.choices = choices
        self.hint = ' (one of %s)' % ', '.join(choices)

    def __call__(self, model, key, value):
        if isinstance(value, str) and value.strip().lower() in self.choices:
            return value.strip().lower()
        raise FabricError('%s %s is not one of %s' % (key, show(value), ', '.join(self.choices)))


class IntIn(object):
    """An integer (or a string of decimal digits) from ``low`` to ``high``."""

    def __init__(self, low, high):
        self.low, self.high = low, high

    def __call__(self, model, key, value):
        number = as_int(value)
        if number is None:
            raise FabricError('%s %s is not an integer' % (key, show(value)))
        if number < self.low or number > self.high:
            raise FabricError('%s %d is out of range (%d..%d)' % (key, number, self.low, self.high))
        return number


class NetdevName(object):
    """A network interface name; ``hint`` follows the message (ports spell the rule out)."""

    def __init__(self, hint=''):
        self.rule = hint

    def __call__(self, model, key, value):
        if not is_netdev_name(value):
            raise FabricError('%s %s is not a network interface name%s' % (key, show(value), self.rule))
        return value


def _pkey(model, key, value):
    return normalize_pkey(value)


def _prefix(model, key, value):
    return prefix_int(value, key)


def _port_guid(model, key, value):
    guid = guid_int(value)
    if guid == 0:
        raise FabricError('guid 0x0000000000000000 is not a valid port GUID')
    return guid


def _rate(model, key, value):
    rate = value
    if isinstance(rate, str):
        try:
            rate = float(rate.strip()) if len(rate) < 20 else None
        except ValueError:
            rate = None
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 < rate < 100000:
        raise FabricError('rate %s is not a positive number of Gb/s' % show(value))
    return int(rate) if rate == int(rate) else rate


def _hostname(model, key, value):
    if not isinstance(value, str) or not _HOSTNAME_RE.match(value):
        raise FabricError('hostname %s is not a host name' % show(value))
    return value


def _cidr(model, key, value):
    if not isinstance(value, str) or '/' not in value or len(value) > 64:
        raise FabricError('cidr %s is not a network in CIDR notation (e.g. 10.10.0.0/24)' % show(value))
    try:
        return ipaddress.ip_network(value.strip(), strict=True)
    except ValueError:
        pass
    try:
        loose = ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        raise FabricError('cidr %s is not a network in CIDR notation (e.g. 10.10.0.0/24)' % show(value))
    raise FabricError('cidr %s has host bits set (did you mean %s?)' % (value, loose))


def _address(model, key, value):
    if not isinstance(value, str) or len(value) > 45:
        raise FabricError('address %s is not an IP address' % show(value))
    text = value.strip()
    if '/' in text:
        raise FabricError('address %s must be given without a prefix length (the network gives it)' % text)
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        raise FabricError('address %s is not an IP address' % show(value))


def _declared_network(model, key, value):
    if not isinstance(value, str) or value not in model.networks:
        raise FabricError('%s %s is not a declared network' % (key, show(value)))
    return value


def _lun_serial(model, key, value):
    serial = str(value) if is_int(value) and value >= 0 else value
    if not isinstance(serial, str) or not _SERIAL_RE.match(serial) or len(serial) > LUN_SERIAL_MAX:
        raise FabricError('lun_serial %s is invalid (letters, digits, ".", "_", ":" and "-", at most %d '
                          'characters)' % (show(serial), LUN_SERIAL_MAX))
    if not has_hex_digit(serial):
        raise FabricError('lun_serial %s has no hex digit; LIO derives the LUN WWID from its hex digits' % serial)
    return serial


def _srp_timer(model, key, value):
    """Seconds, or "off" / a negative number (disabled: -1)."""
    if isinstance(value, str) and value.strip().lower() == 'off':
        return -1
    number = as_int(value)
    if number is None:
        raise FabricError('%s %s is not a number of seconds or "off"' % (key, show(value)))
    if number > INT_MAX or number < -INT_MAX:
        raise FabricError('%s %d is out of range (the kernel parses it as a 32-bit int)' % (key, number))
    return -1 if number < 0 else number


def _scsi_timeout(model, key, value):
    number = as_int(value)
    if number is None or not 1 <= number <= INT_MAX:
        raise FabricError('scsi_timeout %s is not a positive number of seconds' % show(value))
    return number


# ---------------------------------------------------------------------------------------------
# The tables (docs/fabric.md, "Schema")
# ---------------------------------------------------------------------------------------------
TOP = Entity(Field('partitions'), Field('networks'), Field('nodes'), Field('ha_pairs'), Field('srp'))
PARTITION = Entity(
    Field('name'),
    Field('pkey', _pkey, required=True),
    Field('ipoib_mode', OneOf(IPOIB_MODES), default='datagram'),
    Field('mtu', IntIn(MIN_MTU, 10 ** 9)),                        # default: IPOIB_DEFAULT_MTU of the mode
)
NETWORK = Entity(
    Field('name'),
    Field('cidr', _cidr, required=True),
    Field('transport', OneOf(TRANSPORTS), required=True),
    Field('partition'),                                           # required for ipoib, refused for ethernet
    Field('purpose', OneOf(PURPOSES), default='client'),
    Field('mtu', IntIn(MIN_MTU, ETHERNET_MAX_MTU)),               # ethernet only
)
NODE = Entity(
    Field('name'),
    Field('hostname', _hostname),                                 # default: the name
    Field('kind', OneOf(KINDS), required=True),
    Field('ports'),
    Field('interfaces'),
)
PORT = Entity(
    Field('device'),                                              # device and port make the reference
    Field('port'),
    Field('guid', _port_guid, required=True),
    Field('link_layer', OneOf(LINK_LAYERS), default='infiniband'),  # default 'ethernet' with soft
    Field('soft', OneOf(SOFT_DEVICES)),                            # needs netdev, Ethernet link layer
    Field('rate', _rate),
    Field('netdev', NetdevName(' (1-15 characters, no "/", ":" or spaces)')),
    Field('subnet_prefix', _prefix, default=DEFAULT_SUBNET_PREFIX),
    Field('vmnic', NetdevName(' (the ESX uplink of the port\'s IPoIB interface, e.g. vmnic_ib0)')),  # esx only
)
INTERFACE = Entity(
    Field('network'),                                             # a declared network, once per node
    Field('address', _address, required=True),
    Field('port'),                                                # a port of the node
    Field('netdev', NetdevName()),
    Field('bond'),                                                # ipoib only, instead of port
)
BOND = Entity(
    Field('name', NetdevName(' (the bond\'s netdev, e.g. bond0)'), required=True),
    Field('ports'),                                               # two or more ports of the node
)
PAIR = Entity(
    Field('name'),
    Field('nodes'),                                               # two storage nodes
    Field('initial_primary'),                                     # default: the first node
    Field('cluster_manager', OneOf(CLUSTER_MANAGERS), default='none'),
    Field('replication_network', _declared_network, required=True),
    Field('client_network', _declared_network, required=True),
    Field('volumes'),
)
VOLUME = Entity(
    Field('name'),
    Field('backing_device'),                                      # a path, or {node: path} for the pair
    Field('drbd_minor', IntIn(0, DRBD_MAX_MINOR), required=True),
    Field('drbd_port', IntIn(1, 65535), required=True),
    Field('lun_serial', _lun_serial, required=True),
    Field('lun', IntIn(0, SRP_MAX_LUN)),                          # default: the volume's position
    Field('initiators'),
)
SRP = Entity(
    Field('reconnect_delay', _srp_timer, default=SRP_DEFAULTS['reconnect_delay']),
    Field('fast_io_fail_tmo', _srp_timer, default=SRP_DEFAULTS['fast_io_fail_tmo']),
    Field('dev_loss_tmo', _srp_timer, default=SRP_DEFAULTS['dev_loss_tmo']),
    Field('scsi_timeout', _scsi_timeout, default=SRP_DEFAULTS['scsi_timeout']),
    Field('initiator_ext', _prefix, default=DEFAULT_SUBNET_PREFIX),
    Field('rdma_cm_port', IntIn(1, 65535), default=SRP_DEFAULTS['rdma_cm_port']),
)


# ---------------------------------------------------------------------------------------------
# Entities: known keys, lists, names
# ---------------------------------------------------------------------------------------------
def check_keys(model, where, data, allowed):
    for key in data:
        if key not in allowed:
            model.warn(where, 'unknown field %s ignored (known: %s)' % (show(str(key)), ', '.join(sorted(allowed))))


def list_of_dicts(model, where, data, key, required=False):
    """Return the list under ``key``, reporting a wrong type; items are checked by the caller."""
    value = _field(data, key)
    if value is None:
        if required:
            model.error(where, '%s is required' % key)
        return []
    if not isinstance(value, (list, tuple)):
        model.error(where, '%s must be a list, got %s' % (key, type_name(value)))
        return []
    return value


def entity_name(model, item, index, collection, singular, names):
    """Validate an entity's ``name``; return (name or None, where)."""
    position = '%s[%d]' % (collection, index)
    if not isinstance(item, dict):
        model.error(position, 'must be a mapping, got %s' % type_name(item))
        return None, None
    name = _field(item, 'name')
    if name is None:
        model.error(position, 'name is required')
        return None, position
    if not isinstance(name, str) or not NAME_RE.match(name):
        model.error(position, 'name %s is invalid (letters, digits, "_", "." and "-", at most 63 characters)'
                    % show(name))
        return None, position
    where = '%s %s' % (singular, name)
    if name in names:
        model.error(where, 'name is not unique (%s[%d] has the same name)' % (collection, names[name]))
        return None, where
    names[name] = index
    return str(name), where
