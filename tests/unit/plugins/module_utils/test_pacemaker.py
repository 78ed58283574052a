# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/pacemaker.py: parsing, comparison and plans, on CIBs recorded from Pacemaker 2.1.5
(tests/fixtures/pacemaker/README.md)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
from pathlib import Path

import pytest

from ansible_collections.rdma.ha_storage.plugins.module_utils import pacemaker as pcmk
from pacemaker_standin import STANDIN

FIXTURES = Path(__file__).resolve().parents[3] / 'fixtures' / 'pacemaker'


def fixture(name):
    return (FIXTURES / name).read_text()


def live(name):
    return pcmk.parse_config(fixture(name))


def desired(spec=None, **changes):
    spec = copy.deepcopy(spec or STANDIN)
    spec.update(changes)
    return pcmk.Desired(**spec)


def prim(spec, rid):
    return [p for p in spec['primitives'] if p['id'] == rid][0]


def sentences(actions):
    return [a.sentence for a in actions]


# ---------------------------------------------------------------------- reading
def test_parses_the_fresh_cluster():
    config = live('cib-empty.xml')
    assert config.crm_config == {'have-watchdog': 'false', 'dc-version': '2.1.5-a3f44794f94',
                                 'cluster-infrastructure': 'corosync', 'cluster-name': 'debian'}
    assert not config.primitives and not config.clones and not config.constraints and not config.rsc_defaults
    assert config.other_ids['1'] == 'node'


def test_parses_resources_clones_constraints_and_defaults():
    config = live('cib-configured.xml')
    assert sorted(config.primitives) == ['drbd_vol0', 'srpt_pair1']
    assert config.primitives['drbd_vol0'].parent == 'ms_drbd_vol0'
    assert config.primitives['drbd_vol0'].agent == 'ocf:pacemaker:Stateful'
    assert config.clones['ms_drbd_vol0'].child == 'drbd_vol0'
    assert config.clones['ms_drbd_vol0'].meta.values()['promotable'] == 'true'
    assert config.rsc_defaults == {'resource-stickiness': '100'}
    assert config.constraints['col_srpt_pair1_with_vol0'].attrs['with-rsc-role'] == 'Promoted'


def test_reads_a_whole_cib_too_and_refuses_what_is_no_cib():
    whole = '<cib epoch="1"><configuration><crm_config/><resources/><constraints/></configuration><status/></cib>'
    assert pcmk.parse_config(whole).primitives == {}
    with pytest.raises(pcmk.CibParseError):
        pcmk.parse_config('Call cib_query failed')
    with pytest.raises(pcmk.CibParseError, match='no <configuration>'):
        pcmk.parse_config('<resources/>')


# ---------------------------------------------------------------------- normalisation
@pytest.mark.parametrize('text,ms', [('10', 10000), ('10s', 10000), ('10000ms', 10000), ('1min', 60000),
                                     ('2m', 120000), ('1h', 3600000), ('0', 0), ('0s', 0), (' 29s ', 29000)])
def test_durations(text, ms):
    assert pcmk.duration_ms(text) == ms


def test_roles_and_scores():
    assert pcmk.role('Master') == pcmk.role('promoted') == 'Promoted'
    assert pcmk.role('Slave') == 'Unpromoted'
    assert pcmk.score('inf') == pcmk.score('+INFINITY') == 'INFINITY'
    assert pcmk.score('-inf') == '-INFINITY' and pcmk.score('100') == '100'


# ---------------------------------------------------------------------- plans
def test_the_first_run_creates_each_object_once_in_order():
    actions = pcmk.plan(live('cib-empty.xml'), desired())
    assert sentences(actions) == [
        'crm_config: set no-quorum-policy=ignore', 'crm_config: set stonith-enabled=false',
        'rsc_defaults: set resource-stickiness=100',
        'clone ms_drbd_vol0: create', 'primitive srpt_pair1: create',
        'rsc_colocation col_srpt_pair1_with_vol0: create', 'rsc_order ord_vol0_promote_srpt_pair1: create']
    assert actions[0].tool == 'crm_attribute'
    assert actions[0].args == ['--type', 'crm_config', '--name', 'no-quorum-policy', '--update', 'ignore']
    assert actions[2].args == ['--type', 'rsc_defaults', '--name', 'resource-stickiness', '--update', '100']
    clone = actions[3]
    assert clone.tool == 'cibadmin' and clone.args[:4] == ['--create', '--scope', 'resources', '--xml-text']
    created = pcmk.parse_config('<configuration><resources>%s</resources></configuration>' % clone.args[4])
    assert created.primitives['drbd_vol0'].parent == 'ms_drbd_vol0'
    assert actions[5].args == ['--create', '--scope', 'constraints', '--xml-text',
                               '<rsc_colocation id="col_srpt_pair1_with_vol0" rsc="srpt_pair1" score="INFINITY" '
                               'with-rsc="ms_drbd_vol0" with-rsc-role="Promoted" />']


def test_the_recorded_result_of_the_first_run_is_a_no_op():
    # what Pacemaker stored after the module's own creates: nothing left to do
    assert pcmk.plan(live('cib-configured.xml'), desired()) == []


def test_a_changed_meta_attribute_is_one_modify_of_that_nvpair():
    spec = copy.deepcopy(STANDIN)
    prim(spec, 'srpt_pair1')['meta_attrs']['migration-threshold'] = 5
    actions = pcmk.plan(live('cib-configured.xml'), desired(spec))
    assert [(a.tool, a.args) for a in actions] == [('cibadmin', [
        '--modify', '--scope', 'resources', '--xml-text',
        '<primitive id="srpt_pair1"><meta_attributes id="srpt_pair1-meta_attributes">'
        '<nvpair id="srpt_pair1-meta_attributes-migration-threshold" name="migration-threshold" value="5" />'
        '</meta_attributes></primitive>'])]
    assert sentences(actions) == ['primitive srpt_pair1: set meta migration-threshold=5']


def test_changes_inside_a_clone_go_through_the_clone_and_keep_ids():
    spec = copy.deepcopy(STANDIN)
    spec['clones'][0]['meta_attrs']['interleave'] = True
    prim(spec, 'drbd_vol0')['operations'][0] = dict(action='monitor', interval='29000ms', role='Master',
                                                    timeout='25s')
    prim(spec, 'srpt_pair1')['operations'].pop()
    actions = pcmk.plan(live('cib-configured.xml'), desired(spec))
    assert sentences(actions) == [
        'clone ms_drbd_vol0: set meta interleave=true',
        'primitive drbd_vol0: set op monitor interval=29s role=Master timeout=25s',
        'primitive srpt_pair1: remove op start interval=0s timeout=60s']
    assert actions[0].args[4] == ('<clone id="ms_drbd_vol0"><meta_attributes id="ms_drbd_vol0-meta_attributes">'
                                  '<nvpair id="ms_drbd_vol0-meta_attributes-interleave" name="interleave" '
                                  'value="true" /></meta_attributes></clone>')
    assert actions[1].args[4] == ('<clone id="ms_drbd_vol0"><primitive id="drbd_vol0"><operations>'
                                  '<op id="drbd_vol0-monitor-interval-29s" name="monitor" interval="29s" '
                                  'role="Master" timeout="25s" /></operations></primitive></clone>')
    assert actions[2].args == ['--delete', '--xml-text', '<op id="srpt_pair1-start-interval-0s" />']
    # what Pacemaker stored after those three commands (and the earlier migration-threshold=5) is a no-op
    prim(spec, 'srpt_pair1')['meta_attrs']['migration-threshold'] = 5
    assert pcmk.plan(live('cib-after-nested-changes.xml'), desired(spec)) == []


def test_equal_spellings_are_no_change():
    spec = copy.deepcopy(STANDIN)
    prim(spec, 'drbd_vol0')['operations'] = [
        dict(action='monitor', interval='29000ms', role='Master', timeout='20000ms'),
        dict(action='monitor', interval='31', role='Slave', timeout='20')]
    spec['colocations'][0]['score'] = '+INFINITY'
    assert pcmk.plan(live('cib-configured.xml'), desired(spec)) == []


CRMSH = dict(primitives=[dict(id='p_crm', agent='ocf:heartbeat:Dummy', instance_attrs={'state': '/run/p_crm.state'},
                              meta_attrs={'migration-threshold': 2},
                              operations=[dict(action='monitor', interval='15s', timeout='20s')])],
             clones=[], colocations=[], orders=[])


def test_objects_crmsh_made_are_kept_with_their_ids_and_foreign_meta():
    config = live('cib-crmsh-primitive.xml')
    assert pcmk.plan(config, desired(CRMSH)) == []  # target-role=Stopped is an operator's: left alone
    spec = copy.deepcopy(CRMSH)
    spec['primitives'][0]['operations'][0]['timeout'] = '30s'
    spec['primitives'][0]['meta_attrs']['migration-threshold'] = 4
    actions = pcmk.plan(config, desired(spec))
    assert [a.args[4] for a in actions] == [
        '<primitive id="p_crm"><meta_attributes id="p_crm-meta_attributes"><nvpair '
        'id="p_crm-meta_attributes-migration-threshold" name="migration-threshold" value="4" /></meta_attributes>'
        '</primitive>',
        '<primitive id="p_crm"><operations><op id="p_crm-monitor-15s" name="monitor" interval="15s" timeout="30s" />'
        '</operations></primitive>']


def test_instance_attributes_are_exact_and_an_op_losing_an_attribute_is_replaced_alone():
    spec = copy.deepcopy(CRMSH)
    spec['primitives'][0]['instance_attrs'] = {'fake': 'x'}
    spec['primitives'][0]['operations'] = [dict(action='monitor', interval='15s')]
    actions = pcmk.plan(live('cib-crmsh-primitive.xml'), desired(spec))
    assert sentences(actions) == ['primitive p_crm: set params fake=x', 'primitive p_crm: remove params state',
                                  'primitive p_crm: replace op monitor interval=15s']
    assert actions[1].args == ['--delete', '--xml-text', '<nvpair id="p_crm-instance_attributes-state" />']
    assert actions[2].args == ['--replace', '--scope', 'resources', '--xml-text',
                               '<op id="p_crm-monitor-15s" name="monitor" interval="15s" />']


def test_a_new_instance_set_is_added_by_modify():
    spec = copy.deepcopy(STANDIN)
    prim(spec, 'drbd_vol0')['instance_attrs'] = {'drbd_resource': 'vol0'}
    actions = pcmk.plan(live('cib-configured.xml'), desired(spec))
    assert [a.args for a in actions] == [[
        '--modify', '--scope', 'resources', '--xml-text',
        '<clone id="ms_drbd_vol0"><primitive id="drbd_vol0"><instance_attributes id="drbd_vol0-instance_attributes">'
        '<nvpair id="drbd_vol0-instance_attributes-drbd_resource" name="drbd_resource" value="vol0" />'
        '</instance_attributes></primitive></clone>']]


def test_a_changed_constraint_is_replaced_alone():
    spec = copy.deepcopy(STANDIN)
    spec['orders'][0]['kind'] = 'Optional'
    actions = pcmk.plan(live('cib-configured.xml'), desired(spec))
    assert [a.args[:3] for a in actions] == [['--replace', '--scope', 'constraints']]
    assert 'kind="Optional"' in actions[0].args[4]


def test_a_changed_property_is_set_with_crm_attribute():
    actions = pcmk.plan(live('cib-configured.xml'), desired(crm_config={'stonith-enabled': True}))
    assert [(a.tool, a.args) for a in actions] == [
        ('crm_attribute', ['--type', 'crm_config', '--name', 'stonith-enabled', '--update', 'true'])]


# ---------------------------------------------------------------------- refusals
def test_refuses_another_agent():
    spec = copy.deepcopy(STANDIN)
    prim(spec, 'srpt_pair1')['agent'] = 'ocf:rdma_ha_storage:lio_srpt'
    with pytest.raises(pcmk.ConflictError, match='primitive srpt_pair1: the CIB has it as ocf:heartbeat:Dummy'):
        pcmk.plan(live('cib-configured.xml'), desired(spec))


def test_refuses_to_move_a_primitive_into_another_clone():
    spec = copy.deepcopy(STANDIN)
    spec['clones'][0]['id'] = 'ms_other'
    spec['colocations'][0]['with_rsc'] = spec['orders'][0]['first'] = 'ms_other'
    with pytest.raises(pcmk.ConflictError, match='primitive drbd_vol0: the CIB has it in clone ms_drbd_vol0, '
                                                 'wanted in clone ms_other'):
        pcmk.plan(live('cib-configured.xml'), desired(spec))


def test_refuses_an_id_another_kind_of_object_holds():
    spec = copy.deepcopy(CRMSH)
    spec['primitives'][0]['id'] = 'p_crm-meta_attributes'
    with pytest.raises(pcmk.ConflictError, match='taken in the CIB by a meta_attributes'):
        pcmk.plan(live('cib-crmsh-primitive.xml'), desired(spec))
    spec = dict(CRMSH, colocations=[dict(id='p_crm', rsc='p_crm', with_rsc='p_crm')])
    with pytest.raises(pcmk.ConfigError, match='the id is also used by primitive'):
        desired(spec)


@pytest.mark.parametrize('change,message', [
    (dict(clones=[dict(id='c', resource='nope')]), 'clone c: resource nope is not one of the primitives'),
    (dict(orders=[dict(id='o', first='drbd_vol0', then='srpt_pair1')]),
     'rsc_order o: first drbd_vol0 is inside clone ms_drbd_vol0: name the clone'),
    (dict(colocations=[dict(id='1bad', rsc='srpt_pair1', with_rsc='ms_drbd_vol0')]), 'is not a valid XML id'),
    (dict(primitives=[dict(id='x', agent='ocf:Dummy')]), 'agent ocf:Dummy is not ocf:PROVIDER:TYPE'),
])
def test_inconsistent_options_are_refused_before_reading_the_cib(change, message):
    spec = copy.deepcopy(STANDIN)
    if 'primitives' in change:
        spec.update(clones=[], colocations=[], orders=[])
    spec.update(change)
    with pytest.raises(pcmk.ConfigError, match=message):
        pcmk.Desired(**spec)


# ---------------------------------------------------------------------- purge
def test_purge_deletes_unnamed_constraints_before_resources_and_never_locations():
    config = live('cib-configured.xml')
    spec = dict(crm_config={}, rsc_defaults={}, primitives=[], clones=[], colocations=[], orders=[])
    actions = pcmk.plan(config, desired(spec), purge=True)
    assert sentences(actions) == [
        'rsc_colocation col_srpt_pair1_with_vol0: delete (purge)', 'rsc_order ord_vol0_promote_srpt_pair1: delete (purge)',
        'clone ms_drbd_vol0: delete (purge; Pacemaker stops it)',
        'primitive srpt_pair1: delete (purge; Pacemaker stops it)']
    assert actions[2].args == ['--delete', '--xml-text', '<clone id="ms_drbd_vol0" />']
    assert pcmk.plan(config, desired(spec)) == []


# crm resource ban's constraint, and DRBD's crm-fence-peer one (a rule: not one of the module's shape)
OPERATOR_LOCATIONS = (
    '<constraints>\n    <rsc_location id="cli-ban-srpt_pair1-on-crec-a" rsc="srpt_pair1" role="Started" '
    'node="crec-a" score="-INFINITY"/>\n    <rsc_location rsc="ms_drbd_vol0" id="drbd-fence-by-handler-vol0-ms_drbd_vol0">'
    '<rule role="Promoted" score="-INFINITY" id="drbd-fence-by-handler-vol0-rule-ms_drbd_vol0">'
    '<expression attribute="#uname" operation="ne" value="crec-b" id="drbd-fence-by-handler-vol0-expr-1"/>'
    '</rule></rsc_location>')


def test_location_constraints_the_options_do_not_name_are_kept_even_by_purge():
    text = fixture('cib-configured.xml').replace('<constraints>', OPERATOR_LOCATIONS)
    config = pcmk.parse_config(text)
    assert config.constraints['cli-ban-srpt_pair1-on-crec-a'].kind == 'rsc_location'
    assert 'drbd-fence-by-handler-vol0-ms_drbd_vol0' not in config.constraints  # role on its rule: not read
    spec = copy.deepcopy(STANDIN)
    assert pcmk.plan(config, desired(spec), purge=True) == []
    assert 'cli-ban' not in pcmk.describe(config, desired(spec), purge=True)


def test_a_named_location_is_created_once_and_its_score_spellings_are_equal():
    spec = copy.deepcopy(STANDIN)
    spec['locations'] = [dict(id='loc_srpt_pair1_avoids_crec-a', rsc='srpt_pair1', node='crec-a', score='-INFINITY')]
    actions = pcmk.plan(live('cib-configured.xml'), desired(spec))
    assert sentences(actions) == ['rsc_location loc_srpt_pair1_avoids_crec-a: create']
    assert actions[0].args == ['--create', '--scope', 'constraints', '--xml-text',
                               '<rsc_location id="loc_srpt_pair1_avoids_crec-a" node="crec-a" rsc="srpt_pair1" '
                               'score="-INFINITY" />']
    text = fixture('cib-configured.xml').replace(
        '<constraints>', '<constraints><rsc_location id="loc_srpt_pair1_avoids_crec-a" rsc="srpt_pair1" '
        'node="crec-a" score="-inf"/>')
    assert pcmk.plan(pcmk.parse_config(text), desired(spec)) == []
    moved = text.replace('node="crec-a" score="-inf"', 'node="crec-b" score="-inf"')
    assert sentences(pcmk.plan(pcmk.parse_config(moved), desired(spec))) == [
        'rsc_location loc_srpt_pair1_avoids_crec-a: replace (rsc_location loc_srpt_pair1_avoids_crec-a node=crec-a '
        'rsc=srpt_pair1 score=-INFINITY)']


FABRIC_RULE = dict(id='loc_ms_drbd_vol0_needs_fabric', rsc='ms_drbd_vol0', role='Promoted', rule=dict(
    score='-9500', boolean_op='and', expressions=[
        dict(attribute='rdma_fabric_active_ports', operation='lt', value='1', type='number')]))


def test_a_rule_location_is_created_with_its_rule_and_read_back_equal():
    spec = copy.deepcopy(STANDIN)
    spec['locations'] = [copy.deepcopy(FABRIC_RULE)]
    actions = pcmk.plan(live('cib-configured.xml'), desired(spec))
    assert sentences(actions) == ['rsc_location loc_ms_drbd_vol0_needs_fabric: create']
    xml = actions[0].args[-1]
    assert xml == ('<rsc_location id="loc_ms_drbd_vol0_needs_fabric" role="Promoted" rsc="ms_drbd_vol0">'
                   '<rule id="loc_ms_drbd_vol0_needs_fabric-rule" score="-9500" boolean-op="and">'
                   '<expression id="loc_ms_drbd_vol0_needs_fabric-rule-expr-1" attribute="rdma_fabric_active_ports" '
                   'operation="lt" value="1" type="number" /></rule></rsc_location>')
    # what cibadmin keeps (other ids, the old role name, attributes in another order) is equal
    text = fixture('cib-configured.xml').replace('<constraints>', '<constraints>' + xml.replace(
        'role="Promoted"', 'role="Master"').replace('-rule-expr-1', '-e1').replace(' />', '/>'))
    assert pcmk.plan(pcmk.parse_config(text), desired(spec)) == []
    assert 'rule: score=-9500 rdma_fabric_active_ports lt 1 (number)' in pcmk.describe(
        pcmk.parse_config(text), desired(spec))


def test_a_changed_rule_replaces_the_location_whole():
    spec = copy.deepcopy(STANDIN)
    spec['locations'] = [copy.deepcopy(FABRIC_RULE)]
    xml = pcmk.plan(live('cib-configured.xml'), desired(spec))[0].args[-1]
    text = fixture('cib-configured.xml').replace('<constraints>', '<constraints>' + xml.replace('-9500', '-5000'))
    actions = pcmk.plan(pcmk.parse_config(text), desired(spec))
    assert sentences(actions) == [
        'rsc_location loc_ms_drbd_vol0_needs_fabric: replace (rsc_location loc_ms_drbd_vol0_needs_fabric '
        'role=Promoted rsc=ms_drbd_vol0 rule: score=-9500 rdma_fabric_active_ports lt 1 (number))']
    assert actions[0].args[:3] == ['--replace', '--scope', 'constraints']


@pytest.mark.parametrize('change, message', [
    (dict(node='crec-a'), 'give either node \\(and score\\) or rule'),
    (dict(score='100'), "the score of a rule-based location is the rule's"),
    (dict(rule=dict(score='-1', expressions=[])), 'the rule has no expression'),
    (dict(rule=dict(score='-1', expressions=[dict(attribute='a', operation='lt')])), 'expression on a: operation lt needs a value'),
])
def test_a_rule_location_refuses_what_does_not_fit(change, message):
    spec = copy.deepcopy(STANDIN)
    loc = copy.deepcopy(FABRIC_RULE)
    loc.update(change)
    spec['locations'] = [loc]
    with pytest.raises(pcmk.ConfigError, match='rsc_location loc_ms_drbd_vol0_needs_fabric: ' + message):
        pcmk.Desired(**spec)


def test_a_location_must_name_a_resource_of_the_options():
    spec = copy.deepcopy(STANDIN)
    spec['locations'] = [dict(id='loc_x', rsc='fence_nowhere', node='crec-a', score='-INFINITY')]
    with pytest.raises(pcmk.ConfigError, match='rsc_location loc_x: rsc fence_nowhere is not one of the resources'):
        pcmk.Desired(**spec)


# ---------------------------------------------------------------------- describe (diff)
def test_describe_before_and_after():
    spec = copy.deepcopy(STANDIN)
    prim(spec, 'srpt_pair1')['meta_attrs']['migration-threshold'] = 5
    config = live('cib-configured.xml')
    before = pcmk.describe(config, desired(spec))
    after = pcmk.describe(config, desired(spec), after=True)
    assert '  meta migration-threshold=3\n' in before and '  meta migration-threshold=5\n' in after
    assert [line for line in before.splitlines() if line not in after.splitlines()] == ['  meta migration-threshold=3']
    assert before.splitlines()[:3] == ['crm_config no-quorum-policy=ignore', 'crm_config stonith-enabled=false',
                                       'rsc_defaults resource-stickiness=100']
    assert 'primitive drbd_vol0 ocf:pacemaker:Stateful (in clone ms_drbd_vol0)' in before
    assert pcmk.describe(live('cib-empty.xml'), desired()) == ''


def test_describe_after_keeps_foreign_meta():
    after = pcmk.describe(live('cib-crmsh-primitive.xml'), desired(CRMSH), after=True)
    assert '  meta migration-threshold=2 target-role=Stopped' in after
