# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""fabric_differences on rdma_facts captured from a real Soft-RoCE port (tests/fixtures/rdma_facts)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import json
import os

import pytest

from ansible_collections.rdma.ha_storage.plugins.filter.fabric import FilterModule

FIXTURE = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'fixtures', 'rdma_facts', 'lab_storage_a.json')


@pytest.fixture
def captured():
    with open(FIXTURE) as f:
        return json.load(f)


def differences(data):
    return FilterModule().filters()['fabric_differences'](data['rdma_fabric'], data['host'], data['rdma_facts'])


def test_captured_lab_port_matches_the_lab_model(captured):
    assert differences(captured) == []


def test_captured_port_down_is_reported(captured):
    data = copy.deepcopy(captured)
    port = data['rdma_facts']['ports'][0]
    port.update(state='DOWN', state_num=1, phys_state='Polling', phys_state_num=2)
    assert differences(data) == ['node storage-a port rxe0/1: port is down (state DOWN, physical state Polling)']


def test_captured_guid_not_declared_is_reported(captured):
    data = copy.deepcopy(captured)
    data['rdma_fabric']['nodes'][0]['ports'][0]['guid'] = '0x505400fffe779999'
    assert data['rdma_fabric']['nodes'][0]['name'] == 'storage-a'
    found = differences(data)
    assert found and all('storage-a' in msg for msg in found)
    assert any('0x505400fffe779999' in msg for msg in found)
