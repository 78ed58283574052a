# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The IPoIB links of a host slice, in the shape the ipoib role's templates write (filter ``ipoib_links``).

Nothing is derived here: every name, P_Key, mode, MTU and address comes from the slice (the
model derived and validated them).  This only lays the slice's IPoIB interfaces out as the
netdevs a network backend configures, in an order that brings them up: a bond's ports (the P_Key
children on its HCA ports), then the bond; the HCA port netdevs they hang on (``parents``).
"""

from __future__ import annotations

__all__ = ['ipoib_links', 'IpoibError']


class IpoibError(ValueError):
    """The input is not a host slice."""


def _link(iface, name, parent, port, master=None, address=True):
    ip = iface['address'] if address else None
    return {
        'name': name,
        'kind': 'child' if parent is not None and parent != name else 'parent',
        'network': iface['network'],
        'parent': parent if parent != name else None,
        'port': port,
        'pkey': iface['pkey'], 'pkey_hex': iface['pkey_hex'], 'ipoib_mode': iface['ipoib_mode'], 'mtu': iface['mtu'],
        'address': ip, 'prefixlen': iface['prefixlen'] if ip else None,
        'family': None if ip is None else (6 if ':' in ip else 4),
        'master': master, 'bond': None,
    }


def ipoib_links(host_slice):
    """``{'links': [...], 'parents': [...], 'names': [...]}`` of the slice's IPoIB interfaces.

    links: one per netdev to configure, ``kind`` ``child`` (a P_Key child of ``parent``),
    ``parent`` (an HCA port netdev carrying the default partition itself) or ``bond``; a bond
    port has ``master`` (the bond), no address; a bond has ``bond`` (mode, fail_over_mac, ports,
    primary: the first port).  parents: the HCA port netdevs with the P_Key children on them
    and the model port they belong to.  names: every link name, in order.
    """
    try:
        interfaces = host_slice['node']['interfaces']
    except (TypeError, KeyError):
        raise IpoibError('expects a host slice (fabric_host_slice, or fabric_validate slices), got %s'
                         % type(host_slice).__name__)
    links = []
    parents = {}

    def child_of(parent, child, port):
        entry = parents.setdefault(parent, {'name': parent, 'port': port, 'children': []})
        if child != parent:
            entry['children'].append(child)

    for iface in interfaces:
        if iface.get('transport') != 'ipoib':
            continue
        bond = iface.get('bond')
        if bond is None:
            links.append(_link(iface, iface['netdev'], iface['parent'], iface['port']))
            child_of(iface['parent'], iface['netdev'], iface['port'])
            continue
        for port in bond['ports']:
            links.append(_link(iface, port['netdev'], port['parent'], port['port'], master=bond['name'], address=False))
            child_of(port['parent'], port['netdev'], port['port'])
        entry = _link(iface, bond['name'], None, None)
        names = [p['netdev'] for p in bond['ports']]
        entry.update(kind='bond', parent=None, ipoib_mode=None, bond={
            'mode': bond['mode'], 'fail_over_mac': bond['fail_over_mac'], 'ports': names, 'primary': names[0]})
        links.append(entry)
    return {'links': links, 'parents': list(parents.values()), 'names': [link['name'] for link in links]}
