# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The model analysed once per run, end to end with ansible-playbook on local-connection hosts:
site.yml's first play groups the hosts from the slices fabric_validate registered, and the roles read
their host's slice from that result when it is there and from the filter when it is not.

Only tasks tagged "always" run (--tags with an unknown tag): fact gathering (subsets min and virtual),
include_vars, the role argument checks and the slice reads; nothing on this machine changes."""

from __future__ import annotations

import copy
import os
import re
import sys

import yaml

from helpers import run

TESTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
TOP = os.path.normpath(os.path.join(TESTS, '..'))
with open(os.path.join(TESTS, 'fixtures', 'fabric', 'example.yml')) as _handle:
    _EXAMPLE = yaml.safe_load(_handle)['rdma_fabric']

ROLES_PLAY = [
    {'name': 'Roles of the collection', 'hosts': 'all', 'gather_facts': False,
     'roles': ['rdma.ha_storage.rdma_core', 'rdma.ha_storage.drbd', 'rdma.ha_storage.srp_initiator',
               'rdma.ha_storage.multipath'],
     'post_tasks': [{'name': 'Show what the roles read', 'tags': ['always'], 'ansible.builtin.debug': {
         'msg': 'RESULT {{ inventory_hostname }} kind={{ _drbd_slice.node.kind }} '
                'diagnostics={{ rdma_core_install_diagnostics | bool }} '
                'logins={{ _srp_initiator_logins.targets | map(attribute="name") | join("+") '
                'if _srp_initiator_logins is defined else "-" }} '
                'maps={{ _multipath_maps | map(attribute="alias") | join("+") if _multipath_maps is defined else "-" }} '
                'registered={{ rdma_fabric_validation is defined }}'}}]},
]
VALIDATE_PLAY = {
    'name': 'Validate once', 'hosts': 'all', 'gather_facts': False,
    'tasks': [{'name': 'Validate and cut the slices', 'rdma.ha_storage.fabric_validate': {
        'fabric': '{{ rdma_fabric }}', 'slice_hosts': '{{ ansible_play_hosts_all }}'},
        'delegate_to': 'localhost', 'run_once': True, 'register': 'rdma_fabric_validation', 'tags': ['always']}],
}


def playbook(tmp_path, fabric, hosts, plays, name='play.yml', host_vars=None, tags='no_such_tag'):
    """Run ``plays`` (or a playbook path) over ``hosts`` with ``fabric`` in group_vars/all; return (rc, output).

    ``tags``: only the tasks tagged "always" run with the default (an unknown tag); None runs all."""
    (tmp_path / 'group_vars').mkdir(exist_ok=True)
    (tmp_path / 'group_vars' / 'all.yml').write_text(yaml.safe_dump({'rdma_fabric': fabric}))
    (tmp_path / 'hosts.yml').write_text(yaml.safe_dump({'all': {
        'hosts': dict((h, (host_vars or {}).get(h, {})) for h in hosts),
        'vars': {'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable}}}))
    if isinstance(plays, list):
        path = tmp_path / name
        path.write_text(yaml.safe_dump(plays, sort_keys=False))
    else:
        path = plays
    env = dict(os.environ, ANSIBLE_NOCOLOR='1', ANSIBLE_STDOUT_CALLBACK='default',
               ANSIBLE_COLLECTIONS_PATH=os.environ.get('RDMA_COLLECTIONS') or os.path.join(TOP, '.cache', 'collections'))
    proc = run([os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', str(tmp_path / 'hosts.yml'),
                str(path)] + (['--tags', tags] if tags else []), cwd=str(tmp_path), env=env, timeout=600)
    return proc.returncode, proc.stdout


def results(out):
    return sorted(re.findall(r'"msg": "RESULT ([^"]*)"', out))


def test_site_groups_hosts_from_the_registered_slices(tmp_path):
    fabric = copy.deepcopy(_EXAMPLE)
    esx_vars = {'esx_initiator_password': 'unit-not-a-secret'}     # the esx_initiator role requires one
    rc, out = playbook(tmp_path, fabric, ['init-1', 'esx-1', 'esx-2'], os.path.join(TOP, 'playbooks', 'site.yml'),
                       host_vars={'esx-1': esx_vars, 'esx-2': esx_vars})
    assert rc == 0, out
    assert 'TASK [Validate rdma_fabric on the controller and cut every host' in out
    # init-1 joined rdma_initiator (the rdma_core play ran its always-tasks there), the ESX hosts did
    # not: they joined rdma_esx, whose play (the last) ran its always-tasks on them only
    layer = re.search(r'PLAY \[RDMA user space, soft RDMA devices, kernel modules, and the port check\](.*?)PLAY \[', out, re.S)
    assert layer and 'ok: [init-1]' in layer.group(1) and 'esx-' not in layer.group(1), out
    esx_play = out.split('PLAY [ESX hosts on the pair')[1].split('PLAY RECAP')[0]
    assert 'ok: [esx-1]' in esx_play and 'ok: [esx-2]' in esx_play and 'init-1' not in esx_play, out
    assert 'failed=0' in out and 'failed=1' not in out


def test_site_refuses_a_host_that_is_not_a_node(tmp_path):
    rc, out = playbook(tmp_path, copy.deepcopy(_EXAMPLE), ['init-1', 'stranger'],
                       os.path.join(TOP, 'playbooks', 'site.yml'))
    assert rc != 0
    assert 'host stranger: not a node of rdma_fabric.nodes' in out


def test_roles_use_the_registered_slices(tmp_path):
    # the roles' rdma_fabric is broken on purpose: only the registered slices can give these answers,
    # so the roles did not analyse the model again (the rule: the slices are the model of the run)
    fabric = copy.deepcopy(_EXAMPLE)
    init2 = next(n for n in fabric['nodes'] if n['name'] == 'init-2')
    init2['ports'][0]['link_layer'] = 'ethernet'          # RoCE only: no InfiniBand diagnostics
    init2['interfaces'] = []
    fabric['ha_pairs'][0]['volumes'][0]['initiators'].remove('init-2')
    plays = [VALIDATE_PLAY, dict(ROLES_PLAY[0], vars={'rdma_fabric': {'nodes': 'not a list'}})]
    rc, out = playbook(tmp_path, fabric, ['init-1', 'init-2', 'esx-1'], plays)
    assert rc == 0, out
    assert results(out) == ['esx-1 kind=esx diagnostics=True logins=- maps=- registered=True',
                            'init-1 kind=initiator diagnostics=True logins=stor-a+stor-b maps=vol0 registered=True',
                            'init-2 kind=initiator diagnostics=False logins= maps= registered=True']


def test_roles_on_their_own_read_the_model(tmp_path):
    fabric = copy.deepcopy(_EXAMPLE)
    rc, out = playbook(tmp_path, fabric, ['init-1', 'esx-1'], ROLES_PLAY)
    assert rc == 0, out
    assert results(out) == ['esx-1 kind=esx diagnostics=True logins=- maps=- registered=False',
                            'init-1 kind=initiator diagnostics=True logins=stor-a+stor-b maps=vol0 registered=False']
    fabric['srp']['reconnect_delay'] = 0
    rc, out = playbook(tmp_path, fabric, ['init-1'], ROLES_PLAY)
    assert rc != 0 and 'fabric_host_slice: rdma_fabric is invalid (1 problem): srp: reconnect_delay 0' in out


def test_a_skipped_validation_falls_back_to_the_filter(tmp_path):
    # a registered result without slices (here: the task was skipped) is not used
    skipped = copy.deepcopy(VALIDATE_PLAY)
    skipped['tasks'][0]['when'] = False
    rc, out = playbook(tmp_path, copy.deepcopy(_EXAMPLE), ['init-1'], [skipped, ROLES_PLAY[0]])
    assert rc == 0, out
    assert results(out) == ['init-1 kind=initiator diagnostics=True logins=stor-a+stor-b maps=vol0 registered=True']
