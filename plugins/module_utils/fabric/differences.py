# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Discovered facts (``rdma_facts``) against the model: what sysfs shows that the model does not say.

The comparison reads only the host's own part of the model (its ports and interfaces as its
host slice shows them), so it can run on a slice the play already has
(:func:`slice_differences`) as well as on the whole model (:func:`differences`).
"""

from __future__ import annotations

from ansible_collections.rdma.ha_storage.plugins.module_utils.fabric.errors import (
    FabricError, is_int, show, type_name)
from ansible_collections.rdma.ha_storage.plugins.module_utils.fabric.ids import guid_int
from ansible_collections.rdma.ha_storage.plugins.module_utils.fabric.model import analyse, require_valid
from ansible_collections.rdma.ha_storage.plugins.module_utils.fabric.slices import Slicer

__all__ = ['differences', 'slice_differences']


def differences(fabric, host, facts, model=None):
    """Differences between the model's ports of ``host`` and its discovered ``rdma_facts``.

    Returns a list of messages ``node <host> port <dev>/<n>: ...`` (empty when the host matches):
    declared GUID missing, GUID on another device/port, port not ACTIVE / LinkUp, rate below the
    declared rate, link layer or netdev different from the model, P_Key of an IPoIB interface
    missing from the port's table.
    """
    if model is None:
        model = analyse(fabric)
    require_valid(model)
    if not isinstance(host, str) or host not in model.nodes:
        raise FabricError('host %s is not a node of rdma_fabric' % show(host))
    node = model.nodes[host]
    return _compare(host, Slicer(model).ports(host), node['interfaces'], facts)


def slice_differences(host_slice, facts, soft=None):
    """:func:`differences` of the host whose slice (``fabric_host_slice``, ``fabric_validate``'s slices) is given.

    soft: None compares every port; False only the hardware ports (those the host has before any
    role runs), True only the soft devices (``soft: rxe|siw``, which exist once rdma_core created
    them). The P_Key checks of IPoIB interfaces follow the ports compared.
    """
    if not isinstance(host_slice, dict) or not isinstance(host_slice.get('node'), dict):
        raise FabricError('host slice must be the mapping returned by rdma.ha_storage.fabric_host_slice, got %s'
                          % type_name(host_slice))
    if soft is not None and not isinstance(soft, bool):
        raise FabricError('soft must be true, false or omitted, got %s' % show(soft))
    node = host_slice['node']
    ports = node['ports']
    interfaces = node['interfaces']
    if soft is not None:
        ports = [p for p in ports if bool(p.get('soft')) == soft]
        names = set(p['name'] for p in ports)
        interfaces = [i for i in interfaces if i.get('port') is None or i['port'] in names]
    return _compare(node['name'], ports, interfaces, facts)


def _facts_ports(facts):
    if not isinstance(facts, dict):
        raise FabricError('rdma_facts must be the mapping returned by rdma.ha_storage.rdma_facts, got %s'
                          % type_name(facts))
    if 'rdma_facts' in facts and isinstance(facts['rdma_facts'], dict) and 'ports' not in facts:
        facts = facts['rdma_facts']
    found = facts.get('ports')
    if not isinstance(found, (list, tuple)):
        raise FabricError('rdma_facts has no list "ports"; pass the facts returned by rdma.ha_storage.rdma_facts')
    return found


def _compare(host, ports, interfaces, facts):
    """``ports``: the node's ports as slices show them (``name`` is ``device/port``); ``interfaces`` likewise."""
    found = _facts_ports(facts)
    by_guid = {}
    by_ref = {}
    for entry in found:
        if not isinstance(entry, dict):
            continue
        try:
            by_guid[guid_int(entry.get('guid'))] = entry
        except FabricError:
            pass
        ref = '%s/%s' % (entry.get('device'), entry.get('port'))
        by_ref[ref] = entry
    result = []
    for port in ports:
        where = 'node %s port %s' % (host, port['name'])
        entry = by_guid.get(int(port['guid'], 16))
        if entry is None:
            at_ref = by_ref.get(port['name'])
            if at_ref is not None:
                result.append('%s: declared guid %s not found on the host; %s has guid %s'
                              % (where, port['guid'], port['name'], at_ref.get('guid')))
            else:
                seen = ', '.join('%s/%s=%s' % (e.get('device'), e.get('port'), e.get('guid'))
                                 for e in found if isinstance(e, dict)) or 'no RDMA ports'
                result.append('%s: declared guid %s not found on the host (found: %s)' % (where, port['guid'], seen))
            continue
        ref = '%s/%s' % (entry.get('device'), entry.get('port'))
        if ref != port['name']:
            result.append('%s: guid %s is on %s, the model says %s' % (where, port['guid'], ref, port['name']))
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
    by_name = dict((p['name'], p) for p in ports)
    for iface in interfaces:
        if iface['transport'] != 'ipoib' or iface['pkey'] is None:
            continue
        bond = iface.get('bond')
        refs = [iface['port']] if iface['port'] is not None else [p['port'] for p in bond['ports']] if bond else []
        for ref in refs:
            _compare_pkey(result, host, iface, by_name[ref], by_guid)
    return result


def _compare_pkey(result, host, iface, port, by_guid):
    """The partition's P_Key of an IPoIB interface in the P_Key table of one of its ports."""
    entry = by_guid.get(int(port['guid'], 16))
    table = entry.get('pkeys') if entry is not None else None
    if not isinstance(table, (list, tuple)) or not table:
        return
    values = set()
    for text in table:
        try:
            values.add(int(text) if is_int(text) else int(str(text)[:8], 16))
        except ValueError:
            continue
    where = 'node %s interface %s' % (host, iface['network'])
    if iface['pkey'] in values:
        return
    if iface['pkey'] & 0x7FFF in values:
        result.append('%s: port %s is only a limited member of partition %s (P_Key 0x%04x in its table); '
                      'limited members cannot talk to each other' % (where, port['name'], iface['partition'],
                                                                     iface['pkey'] & 0x7FFF))
    else:
        listed = ', '.join(str(t) for t in table)
        result.append('%s: P_Key %s of partition %s is not in the P_Key table of port %s (found: %s); the subnet '
                      'manager must add the port to the partition'
                      % (where, iface['pkey_hex'], iface['partition'], port['name'], listed))


def _num(value):
    return ('%g' % value) if isinstance(value, float) else str(value)
