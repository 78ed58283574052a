# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hypothesis fuzzing of the fabric validator and the filters: every input gives a result or a clear
error (FabricError / AnsibleFilterError), never another exception; a model without errors always
yields a slice for each of its nodes, the same host by host as all at once, and the differences of a
slice are those of the whole model."""

from __future__ import annotations

import copy
import json
import os

import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from ansible.errors import AnsibleFilterError

from ansible_collections.rdma.ha_storage.plugins.filter.fabric import FilterModule
from ansible_collections.rdma.ha_storage.plugins.module_utils.fabric import ids as fabric_ids
from ansible_collections.rdma.ha_storage.plugins.module_utils.fabric import model as fabric_model
from ansible_collections.rdma.ha_storage.plugins.module_utils.fabric import slices as fabric_slices
from ansible_collections.rdma.ha_storage.plugins.module_utils.fabric.errors import FabricError
from ansible_collections.rdma.ha_storage.plugins.module_utils.rdma_sysfs import RdmaSysfs

TESTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..')
with open(os.path.join(TESTS, 'fixtures', 'fabric', 'example.yml')) as _handle:
    EXAMPLE = yaml.safe_load(_handle)['rdma_fabric']
FACTS = RdmaSysfs(os.path.join(TESTS, 'fixtures', 'sysfs')).gather()
F = FilterModule().filters()
# 200 examples keep `pytest tests/unit` fast; RDMA_FUZZ_EXAMPLES=5000 runs a deeper search
FUZZ = settings(max_examples=int(os.environ.get('RDMA_FUZZ_EXAMPLES', '200')), deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])

scalars = (st.none() | st.booleans() | st.integers(min_value=-2 ** 130, max_value=2 ** 130)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=40))
json_values = st.recursive(
    scalars, lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=10), c, max_size=4), max_leaves=15)
# values that look right to the parser, so the fuzzing reaches the deeper rules
plausible = st.one_of(
    st.integers(min_value=-2, max_value=70000),
    st.sampled_from(['off', 'OFF', '-1', '0', '0x8001', '0x0001', '0x8000', '0xffff', '32769', 'datagram', 'connected',
                     'infiniband', 'ethernet', 'ipoib', 'client', 'replication', 'storage', 'initiator', 'esx',
                     'stor-a', 'stor-b', 'init-1', 'esx-1', 'mlx4_0/1', 'mlx4_0/9', 'ib0', 'eth2', '/dev/sdb',
                     '10.10.0.11', '10.10.0.0/24', '10.10.0.0/16', '10.20.0.11', 'fd00::1', 'fd00::/64',
                     '0002:c903:000e:8acd', '00:02:c9:03:00:0e:9b:11', '0x0', '5a1e0d3f0000', 'storage-net']),
    st.from_regex(r'\A(0x)?[0-9a-fA-F]{1,18}\Z'),
    st.from_regex(r'\A([0-9a-f]{1,4}:){3}[0-9a-f]{1,5}\Z'),
    st.from_regex(r'\A10\.(10|20)\.[0-9]{1,3}\.[0-9]{1,3}(/[0-9]{1,2})?\Z'),
)


def mutate(draw, base=None):
    """Replace, delete or duplicate one value somewhere in a copy of ``base`` (default: the example)."""
    fabric = copy.deepcopy(EXAMPLE if base is None else base)
    parent, key = None, None
    current = fabric
    while isinstance(current, (dict, list)) and current and (parent is None or draw(st.integers(0, 3)) > 0):
        keys = sorted(current) if isinstance(current, dict) else list(range(len(current)))
        parent, key = current, draw(st.sampled_from(keys))
        current = current[key]
    if parent is None:
        return fabric
    action = draw(st.sampled_from(['plausible', 'plausible', 'json', 'delete', 'duplicate']))
    if action == 'delete':
        del parent[key]
    elif action == 'duplicate' and isinstance(parent, list):
        parent.append(copy.deepcopy(parent[key]))
    elif action == 'json':
        parent[key] = draw(json_values)
    else:
        parent[key] = draw(plausible)
    return fabric


def check_model(fabric):
    model = fabric_model.analyse(fabric)
    assert all(isinstance(e, str) and e for e in model.errors)
    assert all(isinstance(w, str) and w for w in model.warnings)
    assert F['fabric_errors'](fabric) == model.errors
    json.dumps(fabric_model.summary(model))
    if model.errors:
        for name in list(model.nodes)[:2]:
            try:
                F['fabric_host_slice'](fabric, name)
            except AnsibleFilterError as exc:
                assert 'rdma_fabric is invalid' in str(exc)
            else:
                raise AssertionError('slice of an invalid model')
    else:
        every = fabric_slices.host_slices(model)
        for name in model.nodes:
            host_slice = F['fabric_host_slice'](fabric, name)
            json.dumps(host_slice)
            assert every[name] == host_slice
            found = F['fabric_differences'](fabric, name, FACTS)
            assert isinstance(found, list)
            assert F['fabric_slice_differences'](host_slice, FACTS) == found
    return model


@FUZZ
@given(st.dictionaries(st.sampled_from(['partitions', 'networks', 'nodes', 'ha_pairs', 'srp', 'extra']), json_values,
                       max_size=6))
def test_random_structures(fabric):
    check_model(fabric)


@FUZZ
@given(json_values)
def test_random_top_level_value(value):
    check_model(value)


@FUZZ
@given(st.data())
def test_mutated_example(data):
    check_model(mutate(data.draw))


@FUZZ
@given(st.data())
def test_doubly_mutated_example(data):
    check_model(mutate(data.draw, mutate(data.draw)))


def _filter_result(name, *args, **kwargs):
    try:
        return F[name](*args, **kwargs)
    except AnsibleFilterError as exc:
        assert str(exc).startswith(name + ': ')
        return None


@FUZZ
@given(json_values | plausible)
def test_single_value_filters(value):
    for name in ('canonical_guid', 'srpt_wwn', 'srp_port_id', 'ipoib_max_mtu', 'mac_to_guid', 'lio_wwid'):
        result = _filter_result(name, value)
        assert result is None or isinstance(result, (str, int))
    result = _filter_result('pkey_interface', 'ib0', value)
    assert result is None or (isinstance(result, str) and len(result) <= 15)
    result = _filter_result('pkey_interface', value, 0x8001)
    assert result is None or (isinstance(result, str) and len(result) <= 15)
    assert _filter_result('srpt_wwn', '0x1', form=value, subnet_prefix=value) is None or isinstance(value, str)


@FUZZ
@given(st.integers(min_value=0, max_value=2 ** 64 - 1))
def test_guid_spellings_agree(number):
    text = '%016x' % number
    canonical = '0x' + text
    spellings = [number, canonical, canonical.upper().replace('0X', '0x'), text,
                 ':'.join(text[i:i + 4] for i in range(0, 16, 4)), '-'.join(text[i:i + 2] for i in range(0, 16, 2))]
    assert {F['canonical_guid'](s) for s in spellings} == {canonical}
    assert F['canonical_guid'](canonical) == canonical
    wwn = F['srpt_wwn'](canonical)
    assert wwn == 'ib.fe80000000000000' + text
    assert F['srpt_wwn'](wwn) == wwn                          # a GID maps to itself
    assert F['srp_port_id'](wwn) == '0x' + wwn[3:]


@FUZZ
@given(st.integers(min_value=-5, max_value=0x1ffff) | st.text(max_size=8))
def test_pkey_normalisation_is_idempotent(value):
    try:
        number = fabric_ids.normalize_pkey(value)
    except FabricError:
        return
    assert number & 0x8000 and number & 0x7fff and number <= 0xffff
    assert fabric_ids.normalize_pkey(number) == number
    assert fabric_ids.normalize_pkey('0x%04x' % number) == number


@FUZZ
@given(st.data())
def test_differences_with_random_facts(data):
    facts = copy.deepcopy(FACTS)
    choice = data.draw(st.sampled_from(['ports', 'port', 'field', 'whole']))
    if choice == 'whole':
        facts = data.draw(json_values)
    elif choice == 'ports':
        facts['ports'] = data.draw(json_values)
    elif choice == 'port':
        facts['ports'][data.draw(st.integers(0, 2))] = data.draw(json_values)
    else:
        entry = facts['ports'][data.draw(st.integers(0, 2))]
        entry[data.draw(st.sampled_from(sorted(entry)))] = data.draw(json_values | plausible)
    result = _filter_result('fabric_differences', EXAMPLE, 'stor-a', facts)
    assert result is None or all(isinstance(r, str) for r in result)
