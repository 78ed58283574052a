# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""fabric_validate: the documented example passes, a broken model fails listing every problem,
warnings are returned separately, check mode gives the same answer; random input never tracebacks."""

from __future__ import annotations

import copy
import json
import os
from unittest import mock

import pytest
import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from ansible_collections.rdma.ha_storage.plugins.module_utils.fabric.slices import host_slice
from ansible_collections.rdma.ha_storage.plugins.modules import fabric_validate
from module_harness import module_args

EXAMPLE = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'fixtures', 'fabric', 'example.yml')
with open(EXAMPLE) as _handle:
    _EXAMPLE = yaml.safe_load(_handle)['rdma_fabric']


def run(capsys, args, warned=None):
    """Run the module like Ansible does; the messages given to module.warn() go to ``warned``.

    (Whether Ansible then puts them in the result's ``warnings`` depends on process-global state
    that other tests in this process change, so the test looks at the calls.)"""
    def spy(self, warning, **kwargs):
        if warned is not None:
            warned.append(warning)

    with module_args(args), mock.patch.object(fabric_validate.AnsibleModule, 'warn', spy):
        with pytest.raises(SystemExit) as exc:
            fabric_validate.main()
    return json.loads(capsys.readouterr().out), exc.value.code


@pytest.fixture
def fabric():
    return copy.deepcopy(_EXAMPLE)


def test_example_is_valid(capsys, fabric):
    result, rc = run(capsys, {'fabric': fabric})
    assert rc == 0
    assert (result['valid'], result['changed'], result['errors'], result['fabric_warnings']) == (True, False, [], [])
    assert 'warnings' not in result
    assert result['summary']['counts'] == {'partitions': 1, 'networks': 2, 'nodes': 6, 'ports': 11, 'interfaces': 6,
                                           'ha_pairs': 1, 'volumes': 2}
    assert result['summary']['partitions'] == [{'name': 'storage', 'pkey': 0x8001, 'pkey_hex': '0x8001',
                                                'ipoib_mode': 'connected', 'mtu': 65520}]
    assert result['summary']['nodes'] == {'storage': ['stor-a', 'stor-b'], 'initiator': ['init-1', 'init-2'],
                                          'esx': ['esx-1', 'esx-2']}


def test_every_nodes_slice_is_returned_as_json_text(capsys, fabric):
    result, rc = run(capsys, {'fabric': fabric})
    assert rc == 0
    assert list(result['slices']) == ['stor-a', 'stor-b', 'init-1', 'init-2', 'esx-1', 'esx-2']
    for name, text in result['slices'].items():
        assert json.loads(text) == host_slice(fabric, name)


def test_slices_of_the_play_hosts_only(capsys, fabric):
    # hosts of the play that are not nodes are left out (the play's own check names them); duplicates once
    result, rc = run(capsys, {'fabric': fabric, 'slice_hosts': ['init-2', 'not-a-node', 'stor-a', 'init-2']})
    assert rc == 0 and list(result['slices']) == ['init-2', 'stor-a']
    result, rc = run(capsys, {'fabric': fabric, 'slice_hosts': []})
    assert rc == 0 and result['slices'] == {}


def test_no_slices_of_an_invalid_model(capsys, fabric):
    fabric['srp']['reconnect_delay'] = 0
    result, rc = run(capsys, {'fabric': fabric})
    assert rc == 1 and result['slices'] == {}
    fabric['srp']['reconnect_delay'] = 10
    fabric['nodes'][0]['colour'] = 'blue'
    result, rc = run(capsys, {'fabric': fabric, 'warnings_as_errors': True})
    assert rc == 1 and result['slices'] == {}


def test_invalid_model_fails_listing_every_problem(capsys, fabric):
    fabric['nodes'][1]['ports'][0]['guid'] = '0002:c903:000e:8acd'
    fabric['srp']['fast_io_fail_tmo'] = 700
    result, rc = run(capsys, {'fabric': fabric})
    assert rc == 1 and result['failed'] is True and result['valid'] is False
    assert result['errors'] == [
        'node stor-b port mlx4_0/1: guid 0x0002c903000e8acd is also used by stor-a',
        'srp: fast_io_fail_tmo 700 must be below dev_loss_tmo 600',
        'srp: fast_io_fail_tmo 700 must not exceed 600 s (SCSI_DEVICE_BLOCK_MAX_TIMEOUT)',
        'srp: fast_io_fail_tmo 700 must be below scsi_timeout 30 (the SCSI command timeout), or I/O on a dead path '
        'waits for the command timeout first',
    ]
    assert result['msg'].startswith('rdma_fabric has 4 problems: node stor-b port mlx4_0/1: guid 0x0002c903000e8acd '
                                    'is also used by stor-a; srp: fast_io_fail_tmo 700')


def test_warnings_are_module_warnings(capsys, fabric):
    fabric['nodes'][0]['colour'] = 'blue'
    warned = []
    result, rc = run(capsys, {'fabric': fabric}, warned)
    expected = "node stor-a: unknown field 'colour' ignored (known: hostname, interfaces, kind, name, ports)"
    assert rc == 0 and result['valid'] is True
    assert result['fabric_warnings'] == [expected]
    assert warned == [expected]


def test_pkey_that_looks_like_hex_is_a_module_warning(capsys, fabric):
    fabric['partitions'][0]['pkey'] = 8001
    warned = []
    result, rc = run(capsys, {'fabric': fabric}, warned)
    assert rc == 0 and result['valid'] is True
    assert result['summary']['partitions'][0]['pkey_hex'] == '0x9f41'
    assert warned == result['fabric_warnings'] == [
        'partition storage: pkey 8001 is read as decimal 8001 = 0x1f41 (full member 0x9f41); if you meant hex write '
        '"0x8001" (or "0x1f41" to keep this value without the warning)']


def test_null_initial_primary_is_the_first_node(capsys, fabric):
    fabric['ha_pairs'][0]['initial_primary'] = None
    result, rc = run(capsys, {'fabric': fabric})
    assert rc == 0 and result['fabric_warnings'] == []
    assert result['summary']['ha_pairs'][0]['initial_primary'] == 'stor-a'


def test_warnings_as_errors(capsys, fabric):
    fabric['nodes'][0]['colour'] = 'blue'
    result, rc = run(capsys, {'fabric': fabric, 'warnings_as_errors': True})
    assert rc == 1 and result['valid'] is False and result['errors'] == []
    assert result['msg'] == "rdma_fabric has 1 problem: node stor-a: unknown field 'colour' ignored (known: hostname, " \
        "interfaces, kind, name, ports)"


def test_check_mode_same_answer(capsys, fabric):
    fabric['partitions'][0]['mtu'] = 70000
    normal, rc1 = run(capsys, {'fabric': fabric})
    checked, rc2 = run(capsys, {'fabric': fabric, '_ansible_check_mode': True})
    assert rc1 == rc2 == 1
    assert normal['errors'] == checked['errors'] == [
        'partition storage: mtu 70000 is too large for ipoib_mode connected (at most 65520)']


def test_many_problems_message_is_bounded(capsys, fabric):
    for index in range(80):
        fabric['nodes'].append({'name': 'x%d' % index, 'kind': 'initiator',
                                'ports': [{'device': 'mlx4_0', 'port': 1, 'guid': '0x0002c903000e8acd'}]})
    result, rc = run(capsys, {'fabric': fabric})
    assert rc == 1 and len(result['errors']) == 80
    assert result['msg'].endswith('; ... and 30 more (see errors)')


_json = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-2 ** 70, max_value=2 ** 70) | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20)


# capsys is read out after every run, so sharing it between examples is safe
@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from(['partitions', 'networks', 'nodes', 'ha_pairs', 'srp', 'other']), _json,
                       max_size=5))
def test_random_models_exit_or_fail_cleanly(capsys, model):
    result, rc = run(capsys, {'fabric': model})
    assert rc in (0, 1)
    assert isinstance(result['errors'], list) and all(isinstance(e, str) for e in result['errors'])
    assert (rc == 1) == bool(result['errors'])
