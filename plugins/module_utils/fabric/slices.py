# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Host slices: the normalised part of a valid model one host needs (docs/fabric.md, "Host slice").

:func:`host_slices` cuts every host's slice out of one analysis in time linear in the size of
the slices: each part shared by several hosts (a node's ports with their GIDs and WWNs, a pair's
members, the initiators of a pair, the target entry of a volume, which initiators may reach which
volume) is computed once and copied into each slice that shows it.  No host's slice scans the
model: the volumes an initiator may reach come from one index built in one pass.
:func:`host_slice` is one host's slice (the filter ``fabric_host_slice``), computed the same way.

Every slice is made of its own dicts and lists (nothing is shared between or inside slices), so
a caller may change one without touching another, and YAML dumps show no aliases.
"""

from __future__ import annotations

from ansible_collections.rdma.ha_storage.plugins.module_utils.fabric.errors import FabricError, show
from ansible_collections.rdma.ha_storage.plugins.module_utils.fabric.fields import INITIATOR_KINDS
from ansible_collections.rdma.ha_storage.plugins.module_utils.fabric.ids import gid_string
from ansible_collections.rdma.ha_storage.plugins.module_utils.fabric.model import analyse, gc_paused, require_valid

__all__ = ['host_slice', 'host_slices', 'Slicer']


def _copy_ports(ports):
    return [dict(p) for p in ports]


def _copy_interface(iface):
    """An interface as slices show it; its bond (name, mode, ports' P_Key children) and an esx node's
    uplinks (vmnics) copied too."""
    copy = dict(iface)
    bond = iface['bond']
    if bond is not None:
        copy['bond'] = dict(bond, ports=[dict(p) for p in bond['ports']])
    if iface['vmnics'] is not None:
        copy['vmnics'] = list(iface['vmnics'])
    return copy


class Slicer(object):
    """Slices of one valid model; the shared parts are built on first use and kept."""

    def __init__(self, model):
        require_valid(model)
        self.model = model
        self.ext = model.srp['initiator_ext']
        self._ports = {}          # node -> [port dict]              (copied into each slice)
        self._members = {}        # pair -> [member dict]            (ha_pair.nodes)
        self._initiators = {}     # pair -> {initiator: entry}       (slice 'initiators' of its nodes)
        self._target_nodes = {}   # pair -> [target node dict]       (targets[].nodes)
        self._exports = None      # initiator -> [(pair, volume)]    (one pass over every volume)

    # --- shared parts ---------------------------------------------------------------------
    def ports(self, name):
        """The ports of node ``name`` as slices show them (GID, target WWN, initiator port id)."""
        ports = self._ports.get(name)
        if ports is None:
            ext = int(self.ext, 16)
            ports = []
            for port in self.model.nodes[name]['ports']:
                guid = port['_guid']
                prefix = int(port['subnet_prefix'], 16)
                ports.append({
                    'device': port['device'], 'port': port['port'], 'name': port['ref'], 'guid': port['guid'],
                    'link_layer': port['link_layer'], 'rate': port['rate'], 'netdev': port['netdev'],
                    'subnet_prefix': port['subnet_prefix'],
                    'soft': port['soft'],
                    'vmnic': port['vmnic'],
                    'gid': gid_string((prefix << 64) | guid),
                    'srpt_wwn': 'ib.%016x%016x' % (prefix, guid),
                    'srp_port_id': '0x%016x%016x' % (ext, guid),
                })
            self._ports[name] = ports
        return ports

    def _pair_members(self, pair):
        members = self._members.get(pair['name'])
        if members is None:
            repl, client = pair['replication_network'], pair['client_network']
            members = []
            for member in pair['nodes']:
                ifaces = self.model.nodes[member]['_ifaces']
                members.append({
                    'name': member, 'hostname': self.model.nodes[member]['hostname'],
                    'replication_address': ifaces[repl]['address'], 'replication_netdev': ifaces[repl]['netdev'],
                    'client_address': ifaces[client]['address'], 'client_netdev': ifaces[client]['netdev'],
                })
            self._members[pair['name']] = members
        return [dict(m, ports=_copy_ports(self.ports(m['name']))) for m in members]

    def _pair_initiators(self, pair):
        initiators = self._initiators.get(pair['name'])
        if initiators is None:
            client = pair['client_network']
            initiators = {}
            for vol in pair['volumes']:
                for ini in vol['initiators']:
                    if ini not in initiators:
                        other = self.model.nodes[ini]
                        client_iface = other['_ifaces'].get(client)
                        initiators[ini] = {
                            'kind': other['kind'], 'hostname': other['hostname'],
                            'client_address': client_iface['address'] if client_iface else None,
                        }
            self._initiators[pair['name']] = initiators
        return dict((ini, {'kind': e['kind'], 'hostname': e['hostname'], 'ports': _copy_ports(self.ports(ini)),
                           'client_address': e['client_address']})
                    for ini, e in initiators.items())

    def _pair_target_nodes(self, pair):
        nodes = self._target_nodes.get(pair['name'])
        if nodes is None:
            client = pair['client_network']
            nodes = [{'name': member, 'hostname': self.model.nodes[member]['hostname'],
                      'client_address': self.model.nodes[member]['_ifaces'][client]['address']}
                     for member in pair['nodes']]
            self._target_nodes[pair['name']] = nodes
        return [dict(n, ports=_copy_ports(self.ports(n['name']))) for n in nodes]

    def exports(self, host):
        """(pair, volume) of every volume ``host`` may reach, in model order (pairs, then volumes)."""
        if self._exports is None:
            self._exports = {}
            for pname in self.model.pair_order:
                pair = self.model.pairs[pname]
                for vol in pair['volumes']:
                    for ini in vol['initiators']:
                        self._exports.setdefault(ini, []).append((pair, vol))
        return self._exports.get(host, ())

    # --- one host ---------------------------------------------------------------------------
    def slice(self, host):
        """The slice of node ``host`` (raises :class:`FabricError` for a name that is not a node)."""
        model = self.model
        if not isinstance(host, str) or host not in model.nodes:
            raise FabricError('host %s is not a node of rdma_fabric (nodes: %s)' % (
                show(host), ', '.join(model.node_order[:20]) + (', ...' if len(model.node_order) > 20 else '')))
        node = model.nodes[host]
        result = {
            'node': {
                'name': node['name'], 'hostname': node['hostname'], 'kind': node['kind'],
                'ports': _copy_ports(self.ports(host)),
                'interfaces': [_copy_interface(i) for i in node['interfaces']],
                # what rdma_core creates: `rdma link add <name> type <type> netdev <netdev>`
                'soft_devices': [{'name': p['device'], 'type': p['soft'], 'netdev': p['netdev']}
                                 for p in node['ports'] if p['soft']],
            },
            'ha_pair': None,
            'initiators': {},
            'targets': [],
            'srp': dict(model.srp),
        }
        pair_name = model.pair_of_node.get(host)
        if pair_name is not None:
            pair = model.pairs[pair_name]
            result['initiators'] = self._pair_initiators(pair)
            result['ha_pair'] = {
                'name': pair['name'], 'initial_primary': pair['initial_primary'],
                'is_initial_primary': pair['initial_primary'] == host,
                'cluster_manager': pair['cluster_manager'],
                'peer': [n for n in pair['nodes'] if n != host][0],
                'replication_network': pair['replication_network'], 'client_network': pair['client_network'],
                'nodes': self._pair_members(pair),
                'volumes': [{
                    'name': vol['name'], 'drbd_minor': vol['drbd_minor'], 'drbd_port': vol['drbd_port'],
                    'drbd_device': '/dev/drbd%d' % vol['drbd_minor'],
                    'backing_device': vol['backing_devices'][host], 'backing_devices': dict(vol['backing_devices']),
                    'lun_serial': vol['lun_serial'], 'wwid': vol['wwid'], 'lun': vol['lun'],
                    'initiators': list(vol['initiators']),
                } for vol in pair['volumes']],
            }
        if node['kind'] in INITIATOR_KINDS:
            result['targets'] = [{
                'pair': pair['name'], 'volume': vol['name'], 'lun_serial': vol['lun_serial'], 'wwid': vol['wwid'],
                'lun': vol['lun'],
                'client_network': pair['client_network'], 'initial_primary': pair['initial_primary'],
                'nodes': self._pair_target_nodes(pair),
            } for pair, vol in self.exports(host)]
        return result


def host_slice(fabric, host, model=None):
    """The normalised part of the model one host needs; ``model``: the analysis of ``fabric`` if done."""
    with gc_paused():
        if model is None:
            model = analyse(fabric)
        return Slicer(model).slice(host)


def host_slices(model, hosts=None):
    """``{host: slice}`` for every node of a valid model (or the nodes named in ``hosts``), in node order.

    One pass: linear in the total size of the slices.  Raises :class:`FabricError` for an invalid
    model or a host that is not a node.
    """
    slicer = Slicer(model)
    names = model.node_order if hosts is None else hosts
    with gc_paused():
        return dict((name, slicer.slice(name)) for name in names)
