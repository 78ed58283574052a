# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Pacemaker objects of one HA pair, from the host's slice of the fabric model.

Pure: ``pair_objects()`` returns the options of the ``rdma.ha_storage.pacemaker_cib`` module
(primitives, clones, colocations, orders, locations, crm_config, rsc_defaults) for the slice's
``ha_pair``:

* per volume, a promotable clone ``ms_drbd_<volume>`` of ``drbd_<volume>`` (``ocf:linbit:drbd``,
  ``drbd_resource=<volume>``: the drbd role names each DRBD resource after its volume), with
  ``notify=true promoted-max=1 promoted-node-max=1 clone-max=2 clone-node-max=1``, a monitor per
  role (two different intervals: Pacemaker needs them unique) and the drbd agent's timeouts;
  with ``drbd_notify`` false, ``notify=false`` and the agent's ``ignore_missing_notifications=true``
  instead (see ``DRBD_NOTIFY_NOTE``);
* one export ``srpt_<pair>`` (``ocf:rdma_ha_storage:lio_srpt``: the srp_target role's agent exports
  every volume of the pair from one JSON file, so it is one resource), colocated with the promoted
  instance of every volume's clone and ordered after every promotion;
* the stonith devices given (ha_cluster-shaped: ``id``, ``agent: stonith:fence_redfish``,
  ``instance_attrs``, ``meta_attrs``, ``operations``), and ``stonith-enabled=true``;
* each device whose ``pcmk_host_list`` names one node of the pair kept off that node
  (``loc_<device>_avoids_<node>``, ``-INFINITY``): a node cannot fence itself, and a device
  already running on the survivor is used at once when its target dies, instead of being
  recovered there first (measured in the lab: 9 s of a 25-31 s fencing).

* unless ``fabric_monitor`` is false, a clone ``cl_fabric_<pair>`` of ``fabric_<pair>``
  (``ocf:rdma_ha_storage:rdma_fabric``: the cluster role's agent sets the node attribute
  ``rdma_fabric_active_ports`` to the number of the node's fabric ports that are ACTIVE), and a
  location ``loc_srpt_<pair>_needs_fabric`` of the export: score ``FABRIC_DOWN_SCORE`` where that
  attribute is below 1 (the export's colocation with the promoted instances moves them too). So
  the pair moves, by a clean switchover (demote, promote: the cluster is whole, nothing is
  fenced), when the Primary's initiators can no longer reach it and the Secondary's fabric is up;
  when both fabrics are down it stays put.

A pair without fencing is refused (``ModelError`` naming the pair) unless ``allow_no_fencing`` is
set: then ``stonith-enabled=false`` and a warning that says why that is unsafe.

The agents can be replaced (``drbd_agent``, ``export_agent``) for a test bed without DRBD or LIO;
the structure (ids, clone meta, constraints) stays the same.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DRBD_AGENT = 'ocf:linbit:drbd'
EXPORT_AGENT = 'ocf:rdma_ha_storage:lio_srpt'
EXPORT_CONFIG = '/etc/rdma-ha-storage/lio_srpt.json'
FABRIC_AGENT = 'ocf:rdma_ha_storage:rdma_fabric'
FABRIC_ATTRIBUTE = 'rdma_fabric_active_ports'
# The export's penalty on a node with no ACTIVE fabric port; through the export's colocation with
# the promoted instances it moves the promotion. Below ocf:linbit:drbd's 10000 for an UpToDate
# node (Primary, or Secondary Connected), so the promoted instances' scores still count. In the
# lab (crm_simulate on the live CIB, 2026-12-03): the Primary's fabric down -> demote, promote the
# peer, move the export; both fabrics down -> nothing (equal penalties, stickiness keeps it).
FABRIC_DOWN_SCORE = '-9500'
# Why a pair may run its DRBD clones without notifications (drbd_notify=False). ocf:linbit:drbd uses
# them for two things: after a start it runs `drbdadm adjust` (a connection that did not come up by
# itself), and after a start, stop, promote or demote it recomputes its promotion score. A takeover
# pays for them: four notification rounds on the survivor (pre and post demote of the lost
# instance, pre and post promote), each one run of the agent per volume, 2-3.5 s each in a TCG guest
# (the lab, 2026-12-04), and the export starts only after the last one. Without them DRBD reconnects
# by itself (a lost connection waits in WFConnection), the monitors keep the scores current, and the
# fencing (resource-and-stonith, the fence-peer constraint) does not depend on them. drbd.ocf
# supports it (its ignore_missing_notifications: "Some setups do not benefit from notifications").

# drbd-utils scripts/drbd.ocf's advertised defaults (start 240, promote/demote/notify 90, stop 100)
TIMINGS = {
    'drbd_monitor_promoted_interval': '29s',
    'drbd_monitor_unpromoted_interval': '31s',
    'drbd_monitor_timeout': '20s',
    'drbd_start_timeout': '240s',
    'drbd_stop_timeout': '100s',
    'drbd_promote_timeout': '90s',
    'drbd_demote_timeout': '90s',
    'drbd_notify_timeout': '90s',
    'export_monitor_interval': '10s',
    'export_monitor_timeout': '20s',
    'export_start_timeout': '60s',
    'export_stop_timeout': '60s',
    'fabric_monitor_interval': '5s',
    'fabric_monitor_timeout': '20s',
}


class ModelError(Exception):
    def __init__(self, msg):
        super(ModelError, self).__init__(msg)
        self.msg = msg


def _nvs(value, what):
    """An attribute map from a dict, or from ha_cluster's shape: [{attrs: [{name, value}]}] (the
    first set only) or [{name, value}]."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, list):
        if value and isinstance(value[0], dict) and 'attrs' in value[0]:
            if len(value) > 1:
                raise ModelError('%s: only one attribute set is supported' % what)
            value = value[0]['attrs']
        out = {}
        for item in value:
            if not isinstance(item, dict) or 'name' not in item or 'value' not in item:
                raise ModelError('%s: %r is not {name, value}' % (what, item))
            out[item['name']] = item['value']
        return out
    raise ModelError('%s: %r is neither a mapping nor a list of {name, value}' % (what, value))


def _operations(ops, what):
    """Operations from {action, interval, timeout, role, attrs} or ha_cluster's {action, attrs: [{name, value}]}."""
    out = []
    for op in ops or []:
        if not isinstance(op, dict) or not op.get('action'):
            raise ModelError('%s: operation %r has no action' % (what, op))
        attrs = _nvs(op.get('attrs'), '%s operation %s' % (what, op['action']))
        entry = {'action': op['action']}
        for key in ('interval', 'timeout', 'role'):
            value = op.get(key, attrs.pop(key, None))
            if value is not None:
                entry[key] = str(value)
        entry['attrs'] = attrs
        out.append(entry)
    return out


def fence_primitives(devices, pair_name):
    """Stonith primitives from ha_cluster-shaped devices."""
    out = []
    for device in devices or []:
        what = 'ha pair %s: fence device %s' % (pair_name, device.get('id') if isinstance(device, dict) else device)
        if not isinstance(device, dict) or not device.get('id') or not device.get('agent'):
            raise ModelError('%s: needs id and agent' % what)
        if not str(device['agent']).startswith('stonith:'):
            raise ModelError('%s: agent %s is not a stonith agent (stonith:fence_redfish, stonith:fence_ipmilan, ...)'
                             % (what, device['agent']))
        out.append(dict(id=device['id'], agent=device['agent'],
                        instance_attrs=_nvs(device.get('instance_attrs'), what),
                        meta_attrs=_nvs(device.get('meta_attrs'), what),
                        operations=_operations(device.get('operations'), what)))
    return out


def fence_locations(stonith, nodes):
    """A -INFINITY location of each fence device on the one pair node its pcmk_host_list names."""
    out = []
    for device in stonith:
        targets = str(device['instance_attrs'].get('pcmk_host_list', '')).replace(',', ' ').split()
        if len(targets) == 1 and targets[0] in nodes:
            out.append(dict(id='loc_%s_avoids_%s' % (device['id'], targets[0]), rsc=device['id'], node=targets[0],
                            score='-INFINITY'))
    return out


def fabric_objects(pair_name, export_id, nodes, t, agent, primitives, clones, locations):
    """The fabric monitor clone and the export's rule on its attribute (see the file's docstring)."""
    ports = sorted(set('%s:%s' % (p['device'], p['port']) for node in nodes for p in node.get('ports') or []))
    if not ports:
        raise ModelError('ha pair %s: its nodes have no fabric ports: nothing tells the cluster whether the '
                         'initiators can reach the Primary (declare the ports, or switch the fabric monitor off)'
                         % pair_name)
    rid = 'fabric_%s' % pair_name
    primitives.append(dict(
        id=rid, agent=agent, instance_attrs={'ports': ' '.join(ports), 'name': FABRIC_ATTRIBUTE}, meta_attrs={},
        operations=[
            dict(action='monitor', interval=t['fabric_monitor_interval'], timeout=t['fabric_monitor_timeout'],
                 attrs={}),
            dict(action='start', interval='0s', timeout='20s', attrs={}),
            dict(action='stop', interval='0s', timeout='20s', attrs={}),
        ]))
    clones.append(dict(id='cl_%s' % rid, resource=rid, promotable=False, meta_attrs={}))
    # On the export, not on the clones' Promoted role: Pacemaker 2.1.5 applies a role-bound location
    # to the instance's placement too, and stops the demoted instance (crm_simulate, the lab).
    locations.append(dict(id='loc_%s_needs_fabric' % export_id, rsc=export_id, rule=dict(
        score=FABRIC_DOWN_SCORE, boolean_op='and', expressions=[
            dict(attribute=FABRIC_ATTRIBUTE, operation='lt', value='1', type='number')])))


def pair_objects(ha_pair, fence_devices=(), allow_no_fencing=False, timings=None, crm_config=None,
                 rsc_defaults=None, drbd_agent=DRBD_AGENT, export_agent=EXPORT_AGENT, export_config=EXPORT_CONFIG,
                 fabric_monitor=True, fabric_agent=FABRIC_AGENT, drbd_notify=True):
    """The pacemaker_cib options for the slice's ha_pair (see the file's docstring).

    Returns a dict: primitives, clones, colocations, orders, locations, crm_config, rsc_defaults,
    warnings."""
    if not ha_pair:
        raise ModelError('this host is in no HA pair: there is no cluster to configure')
    name = ha_pair['name']
    if ha_pair.get('cluster_manager') != 'pacemaker':
        raise ModelError('ha pair %s: cluster_manager is %s, not pacemaker: the drbd and srp_target roles start the '
                         'pair themselves; set cluster_manager: pacemaker in the model to hand it to the cluster'
                         % (name, ha_pair.get('cluster_manager')))
    volumes = ha_pair.get('volumes') or []
    if not volumes:
        raise ModelError('ha pair %s: no volumes: nothing for the cluster to run' % name)
    t = dict(TIMINGS)
    t.update(timings or {})
    unknown = sorted(set(t) - set(TIMINGS))
    if unknown:
        raise ModelError('unknown timings: %s (known: %s)' % (', '.join(unknown), ', '.join(sorted(TIMINGS))))
    if t['drbd_monitor_promoted_interval'] == t['drbd_monitor_unpromoted_interval']:
        raise ModelError('the Promoted and Unpromoted DRBD monitors need different intervals (Pacemaker matches '
                         'operations by name and interval)')
    warnings = []
    stonith = fence_primitives(fence_devices, name)
    if not stonith and not allow_no_fencing:
        raise ModelError(
            'ha pair %s: no fencing is declared (no fence device): a two-node pair without fencing can run both '
            'nodes Primary after a split (two exports of the same LUN, diverged data). Declare the pair\'s fence '
            'devices (fence_redfish, fence_ipmilan), or, on a test bed only, allow running without fencing '
            'explicitly' % name)
    properties = {'stonith-enabled': bool(stonith)}
    if not stonith:
        warnings.append('ha pair %s runs WITHOUT FENCING (stonith-enabled=false): after a split both nodes can '
                        'become Primary and export diverging data. Test beds only.' % name)
    properties.update(crm_config or {})
    if stonith and str(properties['stonith-enabled']).lower() in ('false', 'no', '0', 'off'):
        raise ModelError('ha pair %s: fence devices are declared but crm_config sets stonith-enabled=false' % name)

    export_id = 'srpt_%s' % name
    primitives = list(stonith)
    locations = fence_locations(stonith, [node['name'] for node in ha_pair.get('nodes') or []])
    clones, colocations, orders = [], [], []
    for volume in volumes:
        vol = volume['name']
        rid = 'drbd_%s' % vol
        instance = {'drbd_resource': vol}
        if not drbd_notify and drbd_agent == DRBD_AGENT:
            instance['ignore_missing_notifications'] = True
        primitives.append(dict(
            id=rid, agent=drbd_agent, instance_attrs=instance, meta_attrs={},
            operations=[
                dict(action='monitor', interval=t['drbd_monitor_promoted_interval'], role='Promoted',
                     timeout=t['drbd_monitor_timeout'], attrs={}),
                dict(action='monitor', interval=t['drbd_monitor_unpromoted_interval'], role='Unpromoted',
                     timeout=t['drbd_monitor_timeout'], attrs={}),
                dict(action='start', interval='0s', timeout=t['drbd_start_timeout'], attrs={}),
                dict(action='stop', interval='0s', timeout=t['drbd_stop_timeout'], attrs={}),
                dict(action='promote', interval='0s', timeout=t['drbd_promote_timeout'], attrs={}),
                dict(action='demote', interval='0s', timeout=t['drbd_demote_timeout'], attrs={}),
                dict(action='notify', interval='0s', timeout=t['drbd_notify_timeout'], attrs={}),
            ]))
        clone = 'ms_%s' % rid
        clones.append(dict(id=clone, resource=rid, promotable=True, meta_attrs={
            'notify': bool(drbd_notify), 'promoted-max': 1, 'promoted-node-max': 1, 'clone-max': 2, 'clone-node-max': 1}))
        colocations.append(dict(id='col_%s_with_%s' % (export_id, vol), rsc=export_id, with_rsc=clone,
                                score='INFINITY', with_rsc_role='Promoted'))
        orders.append(dict(id='ord_%s_promote_then_%s' % (vol, export_id), first=clone, first_action='promote',
                           then=export_id, then_action='start', kind='Mandatory'))
    primitives.append(dict(
        id=export_id, agent=export_agent, instance_attrs={'config': export_config}, meta_attrs={},
        operations=[
            dict(action='monitor', interval=t['export_monitor_interval'], timeout=t['export_monitor_timeout'], attrs={}),
            dict(action='start', interval='0s', timeout=t['export_start_timeout'], attrs={}),
            dict(action='stop', interval='0s', timeout=t['export_stop_timeout'], attrs={}),
        ]))
    if fabric_monitor:
        fabric_objects(name, export_id, ha_pair.get('nodes') or [], t, fabric_agent, primitives, clones, locations)
    return dict(primitives=primitives, clones=clones, colocations=colocations, orders=orders, locations=locations,
                crm_config=properties, rsc_defaults=dict(rsc_defaults or {}), warnings=warnings)
