# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/pacemaker_model.py: the pair's Pacemaker objects from a host slice of the example model
(tests/fixtures/fabric/example.yml, through the same slice code the roles use)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import os

import pytest
import yaml

from ansible_collections.rdma.ha_storage.plugins.filter.cluster import FilterModule
from ansible_collections.rdma.ha_storage.plugins.module_utils import pacemaker as pcmk
from ansible_collections.rdma.ha_storage.plugins.module_utils import pacemaker_model as pm
from ansible_collections.rdma.ha_storage.plugins.module_utils.fabric import slices

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'fixtures')
with open(os.path.join(FIXTURES, 'fabric', 'example.yml')) as _handle:
    _EXAMPLE = yaml.safe_load(_handle)['rdma_fabric']

REDFISH = [
    {'id': 'fence_stor_a', 'agent': 'stonith:fence_redfish',
     'instance_attrs': [{'attrs': [{'name': 'ip', 'value': '192.0.2.11'}, {'name': 'username', 'value': 'admin'},
                                   {'name': 'password', 'value': 'secret'},
                                   {'name': 'pcmk_host_list', 'value': 'stor-a'}]}]},
    {'id': 'fence_stor_b', 'agent': 'stonith:fence_ipmilan',
     'instance_attrs': {'ip': '192.0.2.12', 'pcmk_host_list': 'stor-b', 'method': 'onoff'},
     'operations': [{'action': 'monitor', 'attrs': [{'name': 'interval', 'value': '60s'}]}]},
]


def pair(cluster_manager='pacemaker'):
    fabric = copy.deepcopy(_EXAMPLE)
    for ha_pair in fabric['ha_pairs']:
        ha_pair['cluster_manager'] = cluster_manager
    name = fabric['ha_pairs'][0]['nodes'][0]
    return slices.host_slice(fabric, name)['ha_pair']


def test_a_clone_per_volume_one_export_and_its_constraints():
    ha_pair = pair()
    out = pm.pair_objects(ha_pair, REDFISH)
    volumes = [v['name'] for v in ha_pair['volumes']]
    assert volumes  # the example has volumes
    export = 'srpt_%s' % ha_pair['name']
    assert [c['id'] for c in out['clones']] == ['ms_drbd_%s' % v for v in volumes] + ['cl_fabric_%s' % ha_pair['name']]
    for clone in out['clones'][:-1]:
        assert clone['promotable'] is True
        assert clone['meta_attrs'] == {'notify': True, 'promoted-max': 1, 'promoted-node-max': 1, 'clone-max': 2,
                                       'clone-node-max': 1}
    prims = dict((p['id'], p) for p in out['primitives'])
    for vol in volumes:
        drbd = prims['drbd_%s' % vol]
        assert drbd['agent'] == 'ocf:linbit:drbd' and drbd['instance_attrs'] == {'drbd_resource': vol}
        monitors = [(o['role'], o['interval']) for o in drbd['operations'] if o['action'] == 'monitor']
        assert monitors == [('Promoted', '29s'), ('Unpromoted', '31s')]
    assert prims[export]['agent'] == 'ocf:rdma_ha_storage:lio_srpt'
    assert prims[export]['instance_attrs'] == {'config': '/etc/rdma-ha-storage/lio_srpt.json'}
    assert out['colocations'] == [dict(id='col_%s_with_%s' % (export, v), rsc=export, with_rsc='ms_drbd_%s' % v,
                                       score='INFINITY', with_rsc_role='Promoted') for v in volumes]
    assert out['orders'] == [dict(id='ord_%s_promote_then_%s' % (v, export), first='ms_drbd_%s' % v,
                                  first_action='promote', then=export, then_action='start', kind='Mandatory')
                             for v in volumes]
    assert out['crm_config'] == {'stonith-enabled': True} and out['warnings'] == []


def test_fence_devices_in_ha_cluster_shape_and_as_mappings():
    out = pm.pair_objects(pair(), REDFISH)
    fences = [p for p in out['primitives'] if p['agent'].startswith('stonith:')]
    assert fences[0]['instance_attrs'] == {'ip': '192.0.2.11', 'username': 'admin', 'password': 'secret',
                                           'pcmk_host_list': 'stor-a'}
    assert fences[1]['operations'] == [{'action': 'monitor', 'interval': '60s', 'attrs': {}}]


def test_the_objects_are_valid_options_of_the_module():
    out = pm.pair_objects(pair(), REDFISH, rsc_defaults={'resource-stickiness': 100})
    desired = pcmk.Desired(out['primitives'], out['clones'], out['colocations'], out['orders'], out['crm_config'],
                           out['rsc_defaults'], out['locations'])
    empty = pcmk.parse_config(open(os.path.join(FIXTURES, 'pacemaker', 'cib-empty.xml')).read())
    sentences = [a.sentence for a in pcmk.plan(empty, desired)]
    assert sentences[0] == 'crm_config: set stonith-enabled=true'
    assert 'primitive fence_stor_a: create' in sentences


def test_each_fence_device_is_kept_off_the_one_node_it_fences():
    ha_pair = pair()
    nodes = [n['name'] for n in ha_pair['nodes']]
    devices = [dict(id='fence_%s' % n, agent='stonith:fence_redfish', instance_attrs={'pcmk_host_list': n})
               for n in nodes]
    # a device for both nodes (a PDU), one for a host outside the pair, one without a host list: no location
    devices += [dict(id='fence_pdu', agent='stonith:fence_apc', instance_attrs={'pcmk_host_list': ','.join(nodes)}),
                dict(id='fence_other', agent='stonith:fence_ipmilan', instance_attrs={'pcmk_host_list': 'elsewhere'}),
                dict(id='fence_dynamic', agent='stonith:fence_ipmilan', instance_attrs={})]
    out = pm.pair_objects(ha_pair, devices, fabric_monitor=False)
    assert out['locations'] == [dict(id='loc_fence_%s_avoids_%s' % (n, n), rsc='fence_%s' % n, node=n,
                                     score='-INFINITY') for n in nodes]
    assert pm.pair_objects(ha_pair, [], allow_no_fencing=True, fabric_monitor=False)['locations'] == []


def test_the_fabric_monitor_runs_everywhere_and_keeps_the_promotion_off_a_cut_off_node():
    ha_pair = pair()
    name = ha_pair['name']
    out = pm.pair_objects(ha_pair, REDFISH)
    ports = sorted(set('%s:%s' % (p['device'], p['port']) for n in ha_pair['nodes'] for p in n['ports']))
    assert ports  # the example's storage nodes have ports
    prims = dict((p['id'], p) for p in out['primitives'])
    assert prims['fabric_%s' % name]['agent'] == 'ocf:rdma_ha_storage:rdma_fabric'
    assert prims['fabric_%s' % name]['instance_attrs'] == {'ports': ' '.join(ports), 'name': 'rdma_fabric_active_ports'}
    assert [(o['action'], o['interval']) for o in prims['fabric_%s' % name]['operations']][0] == ('monitor', '5s')
    assert out['clones'][-1] == dict(id='cl_fabric_%s' % name, resource='fabric_%s' % name, promotable=False,
                                     meta_attrs={})
    rules = [loc for loc in out['locations'] if 'rule' in loc]
    assert rules == [dict(id='loc_srpt_%s_needs_fabric' % name, rsc='srpt_%s' % name,
                          rule=dict(score='-9500', boolean_op='and', expressions=[dict(
                              attribute='rdma_fabric_active_ports', operation='lt', value='1', type='number')]))]
    off = pm.pair_objects(ha_pair, REDFISH, fabric_monitor=False)
    assert 'fabric_%s' % name not in [p['id'] for p in off['primitives']]
    assert not [loc for loc in off['locations'] if 'rule' in loc]


def test_a_pair_without_fabric_ports_cannot_have_the_monitor():
    ha_pair = pair()
    for node in ha_pair['nodes']:
        node['ports'] = []
    with pytest.raises(pm.ModelError, match='ha pair %s: its nodes have no fabric ports' % ha_pair['name']):
        pm.pair_objects(ha_pair, REDFISH)
    assert pm.pair_objects(ha_pair, REDFISH, fabric_monitor=False)


def test_no_fencing_is_an_error_naming_the_pair():
    ha_pair = pair()
    with pytest.raises(pm.ModelError, match="ha pair %s: no fencing is declared" % ha_pair['name']):
        pm.pair_objects(ha_pair, [])


def test_no_fencing_allowed_explicitly_says_so_loudly():
    out = pm.pair_objects(pair(), [], allow_no_fencing=True)
    assert out['crm_config'] == {'stonith-enabled': False}
    assert 'WITHOUT FENCING' in out['warnings'][0]


def test_fence_devices_with_stonith_disabled_are_contradictory():
    with pytest.raises(pm.ModelError, match='stonith-enabled=false'):
        pm.pair_objects(pair(), REDFISH, crm_config={'stonith-enabled': 'false'})


@pytest.mark.parametrize('devices,message', [
    ([{'id': 'f', 'agent': 'ocf:heartbeat:Dummy'}], 'is not a stonith agent'),
    ([{'agent': 'stonith:fence_redfish'}], 'needs id and agent'),
    ([{'id': 'f', 'agent': 'stonith:fence_redfish', 'instance_attrs': [{'ip': 'x'}]}], 'is not {name, value}'),
])
def test_bad_fence_devices(devices, message):
    with pytest.raises(pm.ModelError, match=message):
        pm.pair_objects(pair(), devices)


def test_a_pair_the_cluster_does_not_manage_is_refused():
    with pytest.raises(pm.ModelError, match='cluster_manager is none, not pacemaker'):
        pm.pair_objects(pair('none'), REDFISH)
    with pytest.raises(pm.ModelError, match='in no HA pair'):
        pm.pair_objects(None, REDFISH)


def test_timings_and_stand_in_agents_keep_the_structure():
    real = pm.pair_objects(pair(), [], allow_no_fencing=True)
    stand_in = pm.pair_objects(pair(), [], allow_no_fencing=True, drbd_agent='ocf:pacemaker:Stateful',
                               export_agent='ocf:heartbeat:Dummy', timings={'export_monitor_interval': '5s'})
    assert stand_in['clones'] == real['clones'] and stand_in['colocations'] == real['colocations']
    assert stand_in['orders'] == real['orders']
    assert [p['id'] for p in stand_in['primitives']] == [p['id'] for p in real['primitives']]
    with pytest.raises(pm.ModelError, match='unknown timings: nope'):
        pm.pair_objects(pair(), REDFISH, timings={'nope': 1})
    with pytest.raises(pm.ModelError, match='different intervals'):
        pm.pair_objects(pair(), REDFISH, timings={'drbd_monitor_unpromoted_interval': '29s'})


def test_without_notifications_the_clones_say_so_and_the_drbd_agent_is_told():
    out = pm.pair_objects(pair(), REDFISH, drbd_notify=False)
    drbd_clones = [c for c in out['clones'] if c['promotable']]
    assert drbd_clones and all(c['meta_attrs']['notify'] is False for c in drbd_clones)
    for prim in (p for p in out['primitives'] if p['agent'] == 'ocf:linbit:drbd'):
        assert prim['instance_attrs'] == {'drbd_resource': prim['id'][len('drbd_'):], 'ignore_missing_notifications': True}
    # a stand-in agent is not given the drbd agent's parameter; the structure stays the same
    stand_in = pm.pair_objects(pair(), REDFISH, drbd_notify=False, drbd_agent='ocf:pacemaker:Stateful')
    assert all('ignore_missing_notifications' not in p['instance_attrs'] for p in stand_in['primitives'])
    assert [c['meta_attrs'] for c in stand_in['clones']] == [c['meta_attrs'] for c in out['clones']]
    assert FilterModule().filters()['cluster_cib'](pair(), REDFISH, drbd_notify=False)['clones'] == out['clones']


def test_the_filter_wraps_errors():
    from ansible.errors import AnsibleFilterError
    cluster_cib = FilterModule().filters()['cluster_cib']
    assert cluster_cib(pair(), REDFISH)['crm_config'] == {'stonith-enabled': True}
    with pytest.raises(AnsibleFilterError, match='cluster_cib: ha pair .*: no fencing is declared'):
        cluster_cib(pair())


def test_the_translation_is_a_no_op_on_the_cib_the_role_made():
    # cib-role-pair1.xml: the CIB the cluster role built in molecule/cluster (after its verify), from that
    # scenario's model with the stand-in agents; the translation of the same slice must find nothing to do
    top = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..')
    with open(os.path.join(top, 'molecule', 'cluster', 'molecule.yml')) as handle:
        scenario = yaml.safe_load(handle)['provisioner']['inventory']['group_vars']['all']
    ha_pair = slices.host_slice(scenario['rdma_fabric'], 'cluster-stor-a')['ha_pair']
    out = pm.pair_objects(ha_pair, [], allow_no_fencing=scenario['cluster_allow_no_fencing'],
                          drbd_agent=scenario['cluster_drbd_agent'], export_agent=scenario['cluster_export_agent'],
                          rsc_defaults={'resource-stickiness': 100}, fabric_monitor=scenario['cluster_fabric_monitor'])
    desired = pcmk.Desired(out['primitives'], out['clones'], out['colocations'], out['orders'], out['crm_config'],
                           out['rsc_defaults'], out['locations'])
    with open(os.path.join(FIXTURES, 'pacemaker', 'cib-role-pair1.xml')) as handle:
        live = pcmk.parse_config(handle.read())
    assert pcmk.plan(live, desired) == []
    assert sorted(live.clones) == ['ms_drbd_vol0', 'ms_drbd_vol1']
    # the verify's meta change (migration-threshold=5) is not the translation's: left alone
    assert live.primitives['srpt_pair1'].meta.values() == {'migration-threshold': '5'}
