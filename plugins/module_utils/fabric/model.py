# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The fabric model ``rdma_fabric``: its entities, the rules between their fields, the analysis.

With ``fields.py`` (every field of every entity, read and checked through one table per entity)
this is the single place that knows the shape of ``rdma_fabric`` (docs/fabric.md is the
authoritative schema).  :func:`analyse` parses, normalises and validates the whole model in one
pass and returns a :class:`FabricModel` with every error and warning; ``slices.py`` cuts the
per-host parts out of it and ``differences.py`` compares discovered facts with it.

Design notes
------------
* Pure Python standard library (``re``, ``ipaddress``): the module_utils is shipped to targets
  by modules such as ``fabric_validate`` and must import on a plain Python 3.8+ without netaddr.
  ``ipaddress`` is several times faster than netaddr for what is needed (parse, containment,
  overlap), which keeps validation of a 10,000-port model well under a second.
* One pass, O(n): every check uses dictionaries keyed by the unique value (GUID, address,
  minor, ...) and the network overlap check sorts once.
* Table-driven fields (``fields.py``): each entity has a table listing every field with how it
  is checked, whether it is required and its default; the parsers here read every value
  through it (``PORT.read(model, where, item, 'guid')``), so an explicit null means the default
  everywhere.  Rules between fields (a port reference needs device and port, the MTU default
  depends on the IPoIB mode, ...) are the parsers' own code.
* Validation never stops at the first problem.  Every message starts with the entity it is
  about (``node stor-b port mlx4_0/1: ...``, ``partition storage: ...``,
  ``ha_pair pair1 volume vol0: ...``, ``srp: ...``) followed by the field.
"""

from __future__ import annotations

import contextlib
import gc
import ipaddress
import re

from ansible_collections.rdma.ha_storage.plugins.module_utils.fabric.errors import FabricError, is_int, show, type_name
from ansible_collections.rdma.ha_storage.plugins.module_utils.fabric.fields import (
    BOND, ESX_IPOIB_MODE, INITIATOR_KINDS, INTERFACE, IPOIB_BOND_FAIL_OVER_MAC, IPOIB_BOND_MODE, IPOIB_DEFAULT_MTU,
    KINDS, NAME_RE, NETWORK, NODE, PAIR, PARTITION, PORT, SRP,
    SCSI_DEVICE_BLOCK_MAX_TIMEOUT, SRP_DEFAULTS, SRP_TIMERS, TOP, VOLUME, as_int, check_keys, entity_name,
    list_of_dicts)
from ansible_collections.rdma.ha_storage.plugins.module_utils.fabric.ids import (
    DEFAULT_SUBNET_PREFIX, IPOIB_MAX_MTU, LIO_NAA_HEX_DIGITS, PKEY_DEFAULT, PKEY_FULL_MEMBER, lio_wwid, pkey_interface)

__all__ = ['FabricModel', 'analyse', 'fabric_errors', 'fabric_warnings', 'summary', 'require_valid', 'gc_paused']

_DEVICE_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\Z')
_PORT_REF_RE = re.compile(r'^([A-Za-z0-9][A-Za-z0-9_.-]{0,63})/([0-9]{1,3})\Z')
_DIGITS_RE = re.compile(r'^[0-9]+\Z')
_PATH_BAD = re.compile(r'[\s\x00]')


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


def require_valid(model):
    """Raise :class:`FabricError` listing (the first 20) problems unless the model is valid."""
    if model.errors:
        shown = model.errors[:20]
        more = len(model.errors) - len(shown)
        raise FabricError('rdma_fabric is invalid (%d problem%s): %s%s' % (
            len(model.errors), '' if len(model.errors) == 1 else 's', '; '.join(shown),
            '; ... and %d more' % more if more else ''))


# ---------------------------------------------------------------------------------------------
# Partitions
# ---------------------------------------------------------------------------------------------
def _warn_hex_lookalike(model, where, value, pkey):
    """Warn about a decimal P_Key spelled like four hex digits (``8001``: almost always a 0x8001).

    P_Keys are shown as four hex digits everywhere (sysfs, ibstat, ``ib0.8001``), so a decimal
    of four or more digits whose digits, read as hex, are another valid P_Key is ambiguous.  It
    stays decimal, as documented; shorter ones (``2``, ``100``) are taken as written, and five
    digits (``32769``) do not fit 16 bits as hex.  YAML also turns an unquoted 0x1f41 into 8001,
    so the message says how to keep the value without the warning.
    """
    text = str(value) if is_int(value) else value.strip()
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
    for index, item in enumerate(list_of_dicts(model, 'rdma_fabric', fabric, 'partitions')):
        name, where = entity_name(model, item, index, 'partitions', 'partition', names)
        if where is None:
            continue
        check_keys(model, where, item, PARTITION.keys)
        pkey = PARTITION.read(model, where, item, 'pkey')
        if pkey is not None:
            _warn_hex_lookalike(model, where, PARTITION.raw(item, 'pkey'), pkey)
            if pkey in pkeys:
                model.error(where, 'pkey 0x%04x is also used by %s' % (pkey, pkeys[pkey]))
            else:
                pkeys[pkey] = where
        mode = PARTITION.read(model, where, item, 'ipoib_mode')
        mtu = None
        if mode is not None:
            mtu = PARTITION.read(model, where, item, 'mtu', default=IPOIB_DEFAULT_MTU[mode])
            if mtu is not None and mtu > IPOIB_MAX_MTU[mode]:
                model.error(where, 'mtu %d is too large for ipoib_mode %s (at most %d)'
                            % (mtu, mode, IPOIB_MAX_MTU[mode]))
                mtu = None
        if name is not None:
            model.partitions[name] = {
                'name': name, 'pkey': pkey, 'pkey_hex': None if pkey is None else '0x%04x' % pkey,
                'ipoib_mode': mode, 'mtu': mtu,
            }


# ---------------------------------------------------------------------------------------------
# Networks
# ---------------------------------------------------------------------------------------------
def _parse_networks(model, fabric):
    names = {}
    parsed = []
    for index, item in enumerate(list_of_dicts(model, 'rdma_fabric', fabric, 'networks')):
        name, where = entity_name(model, item, index, 'networks', 'network', names)
        if where is None:
            continue
        check_keys(model, where, item, NETWORK.keys)
        net = NETWORK.read(model, where, item, 'cidr')
        transport = NETWORK.read(model, where, item, 'transport')
        purpose = NETWORK.read(model, where, item, 'purpose')
        partition = NETWORK.read(model, where, item, 'partition')
        if transport == 'ipoib':
            if partition is None:
                model.error(where, 'partition is required for transport ipoib')
            elif not isinstance(partition, str) or partition not in model.partitions:
                model.error(where, 'partition %s is not a declared partition' % show(partition))
                partition = None
        elif transport == 'ethernet' and partition is not None:
            model.error(where, 'partition is only meaningful with transport ipoib')
            partition = None
        else:
            partition = None
        mtu = None
        if NETWORK.raw(item, 'mtu') is not None:
            if transport == 'ipoib':
                model.error(where, 'mtu of an ipoib network comes from its partition; set it there')
            else:
                mtu = NETWORK.read(model, where, item, 'mtu')
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


# ---------------------------------------------------------------------------------------------
# Nodes, their ports and interfaces
# ---------------------------------------------------------------------------------------------
def _parse_port(model, node_where, node_name, kind, item, index, refs, guids):
    position = '%s ports[%d]' % (node_where, index)
    if not isinstance(item, dict):
        model.error(position, 'must be a mapping, got %s' % type_name(item))
        return None
    device = PORT.read(model, position, item, 'device')
    raw_number = PORT.read(model, position, item, 'port')
    number = as_int(raw_number)
    ref = None
    if isinstance(device, str) and _DEVICE_RE.match(device) and number is not None and 1 <= number <= 255:
        ref = '%s/%d' % (device, number)
        where = '%s port %s' % (node_where, ref)
    else:
        where = position
        if device is None:
            model.error(where, 'device is required (RDMA device name such as mlx4_0 or rxe0)')
        elif not isinstance(device, str) or not _DEVICE_RE.match(device):
            model.error(where, 'device %s is not an RDMA device name' % show(device))
        if raw_number is None:
            model.error(where, 'port is required (port number, 1 for single-port devices)')
        elif number is None or not 1 <= number <= 255:
            model.error(where, 'port %s is not a port number (1..255)' % show(raw_number))
    check_keys(model, where, item, PORT.keys)
    if ref is not None:
        if ref in refs:
            model.error(where, 'port is declared twice')
            ref = None
    guid = PORT.read(model, where, item, 'guid')
    if guid is not None:
        owner = guids.get(guid)
        if owner is not None:
            other = owner[0] if owner[0] != node_name else 'port %s of the same node' % owner[1]
            model.error(where, 'guid 0x%016x is also used by %s' % (guid, other))
        else:
            guids[guid] = (node_name, ref or position)
    soft = PORT.read(model, where, item, 'soft')
    link_layer = PORT.read(model, where, item, 'link_layer', default='ethernet' if soft else 'infiniband')
    rate = PORT.read(model, where, item, 'rate')
    netdev = PORT.read(model, where, item, 'netdev')
    if soft is not None:
        if number is not None and number != 1:
            model.error(where, 'port %s: a soft device (soft: %s) has one port, number 1' % (number, soft))
        if link_layer is not None and link_layer != 'ethernet':
            model.error(where, 'link_layer %s: a soft device (soft: %s) has an Ethernet link layer; leave link_layer '
                               'out or set it to ethernet' % (link_layer, soft))
        if netdev is None:
            model.error(where, 'netdev is required with soft: %s (the Ethernet interface the %s device runs on, '
                               'e.g. eth1)' % (soft, soft))
    prefix = PORT.read(model, where, item, 'subnet_prefix')
    if prefix is None:
        prefix = DEFAULT_SUBNET_PREFIX
    vmnic = PORT.read(model, where, item, 'vmnic')
    if vmnic is not None:
        if kind is not None and kind != 'esx':
            model.error(where, 'vmnic %s: vmnic is only for esx nodes (the ESX uplink of the port\'s IPoIB interface); '
                               'a %s node\'s IPoIB interface is on the port\'s netdev' % (vmnic, kind))
            vmnic = None
        elif link_layer is not None and link_layer != 'infiniband':
            model.error(where, 'vmnic %s: an IPoIB uplink needs link_layer infiniband, the port has %s'
                        % (vmnic, link_layer))
            vmnic = None
    port = {
        'device': device if ref else None, 'port': number if ref else None, 'ref': ref,
        'guid': None if guid is None else '0x%016x' % guid, '_guid': guid,
        'link_layer': link_layer, 'rate': rate, 'netdev': netdev, 'subnet_prefix': '%016x' % prefix,
        'soft': soft, 'vmnic': vmnic,
    }
    if ref is not None:
        refs[ref] = port
    return port


def _parse_interface(model, node_where, node, item, index, addresses):
    position = '%s interfaces[%d]' % (node_where, index)
    if not isinstance(item, dict):
        model.error(position, 'must be a mapping, got %s' % type_name(item))
        return None
    net_name = INTERFACE.read(model, position, item, 'network')
    network = model.networks.get(net_name) if isinstance(net_name, str) else None
    where = '%s interface %s' % (node_where, net_name) if isinstance(net_name, str) and NAME_RE.match(net_name) \
        else position
    check_keys(model, where, item, INTERFACE.keys)
    if net_name is None:
        model.error(where, 'network is required')
    elif network is None:
        model.error(where, 'network %s is not a declared network' % show(net_name))
    elif net_name in node['_ifaces']:
        model.error(where, 'a second address on network %s (one address per node and network)' % net_name)
        network = None
    ip = INTERFACE.read(model, where, item, 'address')
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
    # an invalid reference is not a missing one: port_ref stays the raw value
    port_ref = INTERFACE.read(model, where, item, 'port')
    port = None
    if port_ref is not None:
        if not isinstance(port_ref, str) or not _PORT_REF_RE.match(port_ref):
            model.error(where, 'port %s is not a port reference such as mlx4_0/1' % show(port_ref))
        else:
            port = node['_ports'].get(port_ref)
            if port is None:
                model.error(where, 'port %s is not a port of this node' % port_ref)
    netdev = INTERFACE.read(model, where, item, 'netdev')
    bond_raw = INTERFACE.raw(item, 'bond')
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
        'pkey': None, 'pkey_hex': None, 'ipoib_mode': None, 'parent': None, 'bond': None,
        'netmask': None if net is None else str(net.netmask),
        'vmnics': None,
    }
    if node['kind'] == 'esx' and transport == 'ipoib':
        _parse_esx_ipoib(model, where, node, entry, port_ref, port, netdev, bond_raw, partition)
    elif bond_raw is not None and transport != 'ipoib':
        if transport is not None:
            model.error(where, 'bond is only for ipoib networks (active-backup over InfiniBand ports); '
                        'bond Ethernet netdevs outside the model')
    elif bond_raw is not None:
        if partition is not None:
            entry.update({'pkey': partition['pkey'], 'pkey_hex': partition['pkey_hex'],
                          'ipoib_mode': partition['ipoib_mode']})
        if port_ref is not None:
            model.error(where, 'give either port (one HCA port) or bond (several), not both')
        bond = _parse_bond(model, where, node, bond_raw, partition)
        if bond is not None:
            if netdev is not None and netdev != bond['name']:
                model.error(where, 'netdev %s differs from the bond name %s; leave netdev out' % (netdev, bond['name']))
            entry['bond'] = bond
            entry['netdev'] = bond['name']
    elif transport == 'ipoib':
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
                except FabricError as exc:
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


def _esx_uplink(model, where, port, what):
    """The vmnic of an InfiniBand port of an esx node for an IPoIB interface (None after an error)."""
    if port['link_layer'] is not None and port['link_layer'] != 'infiniband':
        model.error(where, 'IPoIB needs an InfiniBand port but %s %s has link_layer %s'
                    % (what, port['ref'], port['link_layer']))
        return None
    if port['vmnic'] is None:
        model.error(where, '%s %s has no vmnic; an ESX IPoIB interface runs on the uplink of the HCA port: add vmnic '
                    '(the uplink name Mellanox\'s OFED bundle gives it, e.g. vmnic_ib0) to port %s'
                    % (what, port['ref'], port['ref']))
        return None
    return port['vmnic']


def _parse_esx_ipoib(model, where, node, entry, port_ref, port, netdev, bond_raw, partition):
    """An IPoIB interface of an esx node: its uplinks (``vmnics``, the first active) and the partition's rules.

    ESX names no netdev for it (the VMkernel NIC is ESX's ``vmkN``), so ``netdev`` and ``parent``
    stay null; a ``bond`` lists the HCA ports whose uplinks the vSwitch teams (explicit failover),
    without a name (there is no bond device on ESX).  Mellanox's bundle runs IPoIB in datagram
    mode only, and the collection does not set partitions on ESX yet: the default partition only.
    """
    if partition is not None:
        entry.update({'pkey': partition['pkey'], 'pkey_hex': partition['pkey_hex'],
                      'ipoib_mode': partition['ipoib_mode']})
        if partition['ipoib_mode'] is not None and partition['ipoib_mode'] != ESX_IPOIB_MODE:
            model.error(where, 'partition %s has ipoib_mode %s; ESX\'s IPoIB (Mellanox\'s OFED bundle) runs in '
                        'datagram mode only: put network %s on a partition with ipoib_mode datagram'
                        % (partition['name'], partition['ipoib_mode'], entry['network']))
        elif partition['pkey'] is not None and partition['pkey'] != PKEY_DEFAULT:
            model.error(where, 'partition %s has pkey %s; a partition other than the default (0x7fff/0xffff) is not '
                        'supported on esx nodes yet (the collection does not set P_Keys on ESX hosts; '
                        'docs/fabric.md, "ESX nodes")' % (partition['name'], partition['pkey_hex']))
        if entry['mtu'] is not None:
            entry['mtu'] = min(entry['mtu'], IPOIB_MAX_MTU[ESX_IPOIB_MODE])
    if netdev is not None:
        model.error(where, 'netdev %s: an esx node\'s IPoIB interface has no netdev (ESX names its VMkernel NIC '
                    'itself); leave netdev out' % netdev)
    if bond_raw is not None:
        if port_ref is not None:
            model.error(where, 'give either port (one HCA port) or bond (several), not both')
            return
        entry['vmnics'] = _parse_esx_bond(model, where, node, bond_raw)
        return
    if port_ref is None:
        model.error(where, 'port is required on an ipoib network (the HCA port whose vmnic is the uplink), or bond '
                    'with several ports')
    elif port is not None:
        vmnic = _esx_uplink(model, where, port, 'port')
        if vmnic is not None:
            entry['vmnics'] = [vmnic]


def _bond_ports(model, where, node, raw, example, ref_example):
    """The ports a ``bond`` lists, in order: (ports, ok), or (None, False) when the list itself is
    missing or too short. Bad, repeated and unknown references are reported and left out (ok False)."""
    refs = BOND.raw(raw, 'ports')
    if refs is None:
        model.error(where, 'bond ports is required (two or more InfiniBand ports of the node%s)' % example)
        return None, False
    if not isinstance(refs, (list, tuple)) or len(refs) < 2:
        model.error(where, 'bond ports must list two or more ports of the node, got %s' % (
            '%d' % len(refs) if isinstance(refs, (list, tuple)) else type_name(refs)))
        return None, False
    ports, seen, ok = [], set(), True
    for ref in refs:
        if not isinstance(ref, str) or not _PORT_REF_RE.match(ref):
            model.error(where, 'bond port %s is not a port reference such as %s' % (show(ref), ref_example))
            ok = False
        elif ref in seen:
            model.error(where, 'bond port %s is listed twice' % ref)
            ok = False
        elif node['_ports'].get(ref) is None:
            seen.add(ref)
            model.error(where, 'bond port %s is not a port of this node' % ref)
            ok = False
        else:
            seen.add(ref)
            ports.append(node['_ports'][ref])
    return ports, ok


def _parse_esx_bond(model, where, node, raw):
    """The ``bond`` of an esx node's IPoIB interface: the vmnics of its ports, in order (None after an error)."""
    if not isinstance(raw, dict):
        model.error(where, 'bond must be a mapping {ports: [vmhba32/1, vmhba32/2]}, got %s' % type_name(raw))
        return None
    check_keys(model, where + ' bond', raw, BOND.keys)
    ok = True
    if BOND.raw(raw, 'name') is not None:
        model.error(where, 'bond name %s: an esx node has no bond device (its vSwitch teams the ports\' uplinks); '
                    'leave name out' % show(BOND.raw(raw, 'name')))
        ok = False
    ports, refs_ok = _bond_ports(model, where, node, raw, ' with a vmnic, e.g. [vmhba32/1, vmhba32/2]', 'vmhba32/1')
    if ports is None:
        return None
    ok = ok and refs_ok
    vmnics = []
    for port in ports:
        vmnic = _esx_uplink(model, where, port, 'bond port')
        if vmnic is None:
            ok = False
        else:
            vmnics.append(vmnic)
    return vmnics if ok else None


def _check_vmnics(model, where, node):
    """A vmnic names one port of the node."""
    owners = {}
    for port in node['ports']:
        vmnic = port['vmnic']
        if vmnic is None or port['ref'] is None:
            continue
        if vmnic in owners:
            model.error('%s port %s' % (where, port['ref']),
                        'vmnic %s is also the vmnic of port %s' % (vmnic, owners[vmnic]))
        else:
            owners[vmnic] = port['ref']


def _check_uplinks(model, where, node):
    """An ESX uplink belongs to one vSwitch, so to one IPoIB interface of the node."""
    owners = {}
    for iface in node['interfaces']:
        for vmnic in iface['vmnics'] or ():
            if vmnic in owners:
                model.error('%s interface %s' % (where, iface['network']),
                            'vmnic %s is also an uplink of interface %s (an ESX uplink belongs to one vSwitch)'
                            % (vmnic, owners[vmnic]))
            else:
                owners[vmnic] = iface['network']


def _parse_bond(model, where, node, raw, partition):
    """The ``bond`` of an IPoIB interface: its name and its ports' P_Key children (None after an error).

    Every port becomes a bond port through the P_Key child of the partition on it (``ib0.8001``;
    the parent itself for the default partition): an IPoIB child can only be created on an IPoIB
    device, not on the bond, so the bond is built from the children and carries the address.
    """
    if not isinstance(raw, dict):
        model.error(where, 'bond must be a mapping {name: bond0, ports: [mlx4_0/1, mlx4_0/2]}, got %s' % type_name(raw))
        return None
    check_keys(model, where + ' bond', raw, BOND.keys)
    name = BOND.read(model, where + ' bond', raw, 'name')
    found, refs_ok = _bond_ports(model, where, node, raw, ', e.g. [mlx4_0/1, mlx4_0/2]', 'mlx4_0/1')
    if found is None:
        return None
    ok = name is not None and refs_ok
    ports = []
    for port in found:
        ref = port['ref']
        if port['link_layer'] is not None and port['link_layer'] != 'infiniband':
            model.error(where, 'bond port %s has link_layer %s; an IPoIB bond needs InfiniBand ports'
                        % (ref, port['link_layer']))
            ok = False
        elif port['netdev'] is None:
            model.error(where, 'bond port %s has no netdev; IPoIB needs the parent interface (e.g. ib0)' % ref)
            ok = False
        elif name is not None and port['netdev'] == name:
            model.error(where, 'bond name %s is the netdev of port %s' % (name, ref))
            ok = False
        elif partition is not None and partition['pkey'] is not None:
            try:
                child = pkey_interface(port['netdev'], partition['pkey'])
            except FabricError as exc:
                model.error(where, 'bond port %s: %s' % (ref, exc))
                ok = False
            else:
                ports.append({'port': ref, 'parent': port['netdev'], 'netdev': child})
    if not ok or partition is None or partition['pkey'] is None:
        return None
    return {'name': name, 'mode': IPOIB_BOND_MODE, 'fail_over_mac': IPOIB_BOND_FAIL_OVER_MAC, 'ports': ports}


def _check_netdevs(model, where, node):
    """A bond's name and its ports' P_Key children belong to that one interface of the node."""
    owners = {}
    for iface in node['interfaces']:
        label = 'interface %s' % iface['network']
        names = [(iface['netdev'], 'netdev')] if iface['netdev'] else []
        if iface['bond'] is not None:
            names += [(p['netdev'], 'bond port %s' % p['port']) for p in iface['bond']['ports']]
        for netdev, role in names:
            other = owners.get(netdev)
            if other is not None and (iface['bond'] is not None or other[2]):
                model.error('%s %s' % (where, label), '%s %s is also used by %s (%s)' % (role, netdev, other[0], other[1]))
            elif other is None:
                owners[netdev] = (label, role, iface['bond'] is not None)


def _parse_nodes(model, fabric):
    names = {}
    hostnames = {}
    guids = {}
    addresses = {}
    items = list_of_dicts(model, 'rdma_fabric', fabric, 'nodes', required=True)
    if isinstance(TOP.raw(fabric, 'nodes'), (list, tuple)) and not items:
        model.error('rdma_fabric', 'nodes is empty: declare at least the storage nodes')
    for index, item in enumerate(items):
        name, where = entity_name(model, item, index, 'nodes', 'node', names)
        if where is None:
            continue
        check_keys(model, where, item, NODE.keys)
        hostname = NODE.read(model, where, item, 'hostname', default=name)
        if hostname is not None:
            if hostname in hostnames:
                model.error(where, 'hostname %s is also used by %s' % (hostname, hostnames[hostname]))
            else:
                hostnames[hostname] = where
        kind = NODE.read(model, where, item, 'kind')
        node = {'name': name, 'hostname': hostname, 'kind': kind, 'ports': [], 'interfaces': [],
                '_ports': {}, '_ifaces': {}, '_label': name or where}
        for p_index, p_item in enumerate(list_of_dicts(model, where, item, 'ports')):
            port = _parse_port(model, where, name or where, kind, p_item, p_index, node['_ports'], guids)
            if port is not None:
                node['ports'].append(port)
        _check_vmnics(model, where, node)
        for i_index, i_item in enumerate(list_of_dicts(model, where, item, 'interfaces')):
            iface = _parse_interface(model, where, node, i_item, i_index, addresses)
            if iface is not None:
                node['interfaces'].append(iface)
        _check_netdevs(model, where, node)
        _check_uplinks(model, where, node)
        if name is not None:
            model.nodes[name] = node
            model.node_order.append(name)


# ---------------------------------------------------------------------------------------------
# HA pairs and their volumes
# ---------------------------------------------------------------------------------------------
def _parse_backing(model, where, value, pair_nodes):
    if value is None:
        model.error(where, 'backing_device is required')
        return {}
    if isinstance(value, str):
        if not value.startswith('/') or _PATH_BAD.search(value) or len(value) > 4096:
            model.error(where, 'backing_device %s is not an absolute device path' % show(value))
            return {}
        return dict((n, value) for n in pair_nodes)
    if isinstance(value, dict):
        result = {}
        for key, path in value.items():
            if key not in pair_nodes:
                model.error(where, 'backing_device names %s, which is not a node of this pair' % show(str(key)))
            elif not isinstance(path, str) or not path.startswith('/') or _PATH_BAD.search(path) or len(path) > 4096:
                model.error(where, 'backing_device of %s: %s is not an absolute device path' % (key, show(path)))
            else:
                result[key] = path
        for node in pair_nodes:
            if node not in value:
                model.error(where, 'backing_device has no entry for node %s' % node)
        return result
    model.error(where, 'backing_device must be a path or a mapping {node: path}, got %s' % type_name(value))
    return {}


def _pair_nodes(model, where, members):
    """The pair's valid storage nodes (two when the pair is complete), reporting every problem."""
    pair_nodes = []
    if members is None:
        model.error(where, 'nodes is required (exactly two storage nodes)')
    elif not isinstance(members, (list, tuple)) or len(members) != 2:
        model.error(where, 'nodes must list exactly two storage nodes, got %s' % (
            '%d' % len(members) if isinstance(members, (list, tuple)) else type_name(members)))
    elif members[0] == members[1] and isinstance(members[0], str):
        model.error(where, 'nodes names %s twice; a pair needs two different storage nodes' % members[0])
    else:
        for member in members:
            node = model.nodes.get(member) if isinstance(member, str) else None
            if node is None:
                model.error(where, 'node %s is not a declared node' % show(member))
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
    return pair_nodes


def _check_pair_networks(model, where, pair_nodes, repl, client):
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


def _parse_volume(model, vwhere, label, vname, v_item, pair_nodes, client, used):
    """One volume of a pair; ``used`` holds what must be unique (per node, per pair, and fabric-wide)."""
    check_keys(model, vwhere, v_item, VOLUME.keys)
    lun = VOLUME.read(model, vwhere, v_item, 'lun')
    if lun is None and VOLUME.raw(v_item, 'lun') is None:
        lun = used['pair_position']
    if lun is not None:
        if lun in used['pair_luns']:
            model.error(vwhere, 'lun %d is also used by %s (a LUN number is unique in a pair: both nodes '
                        'export every volume of the pair on the same target ports)' % (lun, used['pair_luns'][lun]))
        else:
            used['pair_luns'][lun] = label
    backing = _parse_backing(model, vwhere, VOLUME.raw(v_item, 'backing_device'), pair_nodes)
    minor = VOLUME.read(model, vwhere, v_item, 'drbd_minor')
    port = VOLUME.read(model, vwhere, v_item, 'drbd_port')
    for member in pair_nodes:
        per_node = used['per_node'].setdefault(member, {'minor': {}, 'port': {}, 'backing': {}})
        for key, value, text in (('minor', minor, 'drbd_minor %s'), ('port', port, 'drbd_port %s'),
                                 ('backing', backing.get(member), 'backing_device %s')):
            if value is None:
                continue
            if value in per_node[key]:
                model.error(vwhere, (text + ' on %s is also used by %s') % (value, member, per_node[key][value]))
            else:
                per_node[key][value] = label
    serial = VOLUME.read(model, vwhere, v_item, 'lun_serial')
    wwid = None
    if serial is not None:
        wwid = lio_wwid(serial)
        if serial in used['serials']:
            model.error(vwhere, 'lun_serial %s is also used by %s' % (serial, used['serials'][serial]))
        elif wwid in used['wwids']:
            model.error(vwhere, 'lun_serial %s gives the same LUN WWID %s as %s (LIO uses only the first %d '
                        'hex digits)' % (serial, wwid, used['wwids'][wwid], LIO_NAA_HEX_DIGITS))
        else:
            used['serials'][serial] = label
            used['wwids'][wwid] = label
    initiators = []
    raw = VOLUME.raw(v_item, 'initiators')
    if raw is None or (isinstance(raw, (list, tuple)) and not raw):
        model.warn(vwhere, 'initiators is empty: the volume is exported to no initiator')
    elif not isinstance(raw, (list, tuple)):
        model.error(vwhere, 'initiators must be a list of node names, got %s' % type_name(raw))
    else:
        listed = set()
        for ini in raw:
            _check_initiator(model, vwhere, ini, initiators, listed, client)
    used['exported_to'].update(initiators)
    return {
        'name': vname, 'backing_devices': backing, 'drbd_minor': minor, 'drbd_port': port,
        'lun_serial': serial, 'wwid': wwid, 'lun': lun, 'initiators': initiators,
    }


def _check_initiator(model, vwhere, ini, initiators, listed, client):
    node = model.nodes.get(ini) if isinstance(ini, str) else None
    if node is None:
        model.error(vwhere, 'initiator %s is not a declared node' % show(ini))
        return
    if ini in listed:
        model.warn(vwhere, 'initiator %s is listed twice' % ini)
        return
    listed.add(ini)
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


def _parse_pairs(model, fabric):
    names = {}
    used = {'per_node': {}, 'serials': {}, 'wwids': {}, 'exported_to': set()}
    for index, item in enumerate(list_of_dicts(model, 'rdma_fabric', fabric, 'ha_pairs')):
        name, where = entity_name(model, item, index, 'ha_pairs', 'ha_pair', names)
        if where is None:
            continue
        check_keys(model, where, item, PAIR.keys)
        members = PAIR.read(model, where, item, 'nodes')
        pair_nodes = _pair_nodes(model, where, members)
        complete = len(pair_nodes) == 2
        initial = PAIR.read(model, where, item, 'initial_primary', default=pair_nodes[0] if pair_nodes else None)
        if initial is not None and (not isinstance(initial, str)
                                    or (isinstance(members, (list, tuple)) and initial not in members)):
            model.error(where, 'initial_primary %s is not one of the pair\'s nodes' % show(initial))
            initial = None
        repl = PAIR.read(model, where, item, 'replication_network')
        client = PAIR.read(model, where, item, 'client_network')
        _check_pair_networks(model, where, pair_nodes, repl, client)
        manager = PAIR.read(model, where, item, 'cluster_manager')
        pair = {'name': name, 'nodes': pair_nodes, 'initial_primary': initial, 'cluster_manager': manager,
                'replication_network': repl, 'client_network': client, 'volumes': []}
        if complete and name is not None:
            for member in pair_nodes:
                model.pair_of_node[member] = name
        volume_names = {}
        used['pair_luns'] = {}
        for v_index, v_item in enumerate(list_of_dicts(model, where, item, 'volumes')):
            used['pair_position'] = v_index
            vname, vwhere = entity_name(model, v_item, v_index, '%s volumes' % where, '%s volume' % where,
                                        volume_names)
            if vwhere is None:
                continue
            label = '%s volume %s' % (where, vname or '#%d' % v_index)
            pair['volumes'].append(_parse_volume(model, vwhere, label, vname, v_item, pair_nodes, client, used))
        if name is not None:
            model.pairs[name] = pair
            model.pair_order.append(name)
    for node_name in model.node_order:
        node = model.nodes[node_name]
        if node['kind'] == 'storage' and node_name not in model.pair_of_node:
            model.warn('node %s' % node_name, 'storage node is not in any ha_pair')
        elif node['kind'] in INITIATOR_KINDS and node_name not in used['exported_to']:
            model.warn('node %s' % node_name, '%s node is not named by any volume\'s initiators' % node['kind'])


# ---------------------------------------------------------------------------------------------
# SRP timers
# ---------------------------------------------------------------------------------------------
def _parse_srp(model, fabric):
    raw = TOP.raw(fabric, 'srp', {})
    if not isinstance(raw, dict):
        model.error('srp', 'must be a mapping, got %s' % type_name(raw))
        return
    check_keys(model, 'srp', raw, SRP.keys)
    timers = dict((key, SRP.read(model, 'srp', raw, key)) for key in SRP_TIMERS)
    scsi = SRP.read(model, 'srp', raw, 'scsi_timeout')
    ext = SRP.read(model, 'srp', raw, 'initiator_ext')
    ext = None if ext is None else '%016x' % ext
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
    model.srp['rdma_cm_port'] = SRP.read(model, 'srp', raw, 'rdma_cm_port')


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------
@contextlib.contextmanager
def gc_paused():
    """Pause the cyclic garbage collector while a large acyclic structure is built.

    The parse and the slices allocate many small acyclic objects; the cyclic collector would
    rescan all of them on every full collection, which made 100,000-port models grow
    super-linearly (and every host's slices of 10,000 ports took twice as long).
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def analyse(fabric):
    """Parse, normalise and validate ``rdma_fabric``; return a :class:`FabricModel` (never raises)."""
    model = FabricModel()
    if not isinstance(fabric, dict):
        model.error('rdma_fabric', 'must be a mapping with partitions, networks, nodes, ha_pairs and srp, got %s'
                    % type_name(fabric))
        return model
    with gc_paused():
        check_keys(model, 'rdma_fabric', fabric, TOP.keys)
        _parse_partitions(model, fabric)
        _parse_networks(model, fabric)
        _parse_nodes(model, fabric)
        _parse_pairs(model, fabric)
        _parse_srp(model, fabric)
    return model


def fabric_errors(fabric):
    """List of problems of the model (empty when valid)."""
    return list(analyse(fabric).errors)


def fabric_warnings(fabric):
    """List of warnings of the model."""
    return list(analyse(fabric).warnings)


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
                      'cluster_manager': p['cluster_manager'], 'replication_network': p['replication_network'], 'client_network': p['client_network'],
                      'volumes': [v['name'] for v in p['volumes']]}
                     for p in (model.pairs[n] for n in model.pair_order)],
        'srp': dict(model.srp),
        'counts': {
            'partitions': len(model.partitions), 'networks': len(model.networks), 'nodes': len(model.nodes),
            'ports': ports, 'interfaces': interfaces, 'ha_pairs': len(model.pairs),
            'volumes': sum(len(p['volumes']) for p in model.pairs.values()),
        },
    }
