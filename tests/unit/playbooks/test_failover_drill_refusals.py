# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/failover_drill.yml refuses a plan the model does not support, naming the variable,
before it touches a host (ansible-playbook on local-connection hosts; the plan play runs on the
controller only)."""

from __future__ import annotations

import copy
import os

import pytest
import yaml

from test_analysed_once import TOP, _EXAMPLE, playbook

DRILL = os.path.join(TOP, 'playbooks', 'failover_drill.yml')
HOSTS = ('stor-a', 'stor-b', 'init-1')


def fabric(manager='pacemaker'):
    f = copy.deepcopy(_EXAMPLE)
    f['ha_pairs'][0]['cluster_manager'] = manager
    return f


def drill(tmp_path, f, extra=None, hosts=HOSTS):
    """Run the drill with `extra` as localhost's host_vars (where a user's inventory would set them)."""
    (tmp_path / 'host_vars').mkdir(exist_ok=True)
    (tmp_path / 'host_vars' / 'localhost.yml').write_text(yaml.safe_dump(dict(extra or {})))
    return playbook(tmp_path, f, hosts, [{'import_playbook': DRILL}], name='drill.yml', tags=None)


@pytest.mark.parametrize('manager, extra, hosts, message', [
    ('pacemaker', {'drill_kind': 'cable_cut'}, HOSTS,
     'drill_kind is cable_cut (one of power_cut, replication_cut, fabric_cut)'),
    ('pacemaker', {'drill_kind': 'fabric_cut'}, HOSTS, "drill_kind fabric_cut needs the lab's controls"),
    ('pacemaker', {'drill_pair': 'pair9'}, HOSTS, 'drill_pair: no HA pair named pair9 in rdma_fabric.ha_pairs (known: pair1)'),
    ('none', {}, HOSTS, 'ha pair pair1: cluster_manager is none; the drill tests the cluster'),
    ('pacemaker', {'drill_volume': 'vol7'}, HOSTS, 'drill_volume: ha pair pair1 has no volume vol7'),
    ('pacemaker', {'drill_initiator': 'init-9'}, HOSTS,
     'drill_initiator: init-9 is not a host of this inventory (volume vol0 is exported to init-1, init-2, esx-1, esx-2)'),
    ('pacemaker', {}, ['stor-a', 'init-1'], 'its nodes stor-a, stor-b must both be hosts of this inventory'),
])
def test_the_plan_is_refused_by_name(tmp_path, manager, extra, hosts, message):
    rc, out = drill(tmp_path, fabric(manager), extra, hosts)
    assert rc != 0
    assert message in ' '.join(out.split()), out
    assert 'PLAY [Put the drill' not in out or 'no hosts matched' in out


def test_a_volume_without_an_initiator_in_the_inventory_is_named(tmp_path):
    rc, out = drill(tmp_path, fabric(), {}, ['stor-a', 'stor-b'])
    assert rc != 0
    assert 'drill_volume: ha pair pair1 has no volume (none with an initiator in this inventory)' in ' '.join(out.split()), out
