# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""esx_*: what needs no vSphere host (pyVmomi missing, LUN selection). The modules' behaviour
against a host is tested against tests/esxsim (tests/integration/test_esx_simulator.py)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.rdma.ha_storage.plugins.module_utils import vmware
from ansible_collections.rdma.ha_storage.plugins.modules import esx_path_policy, esx_srp_info, esx_srp_rescan
from module_harness import RunCommandMock, patch_module, run_main

CONNECTION = {'hostname': 'esx-1.example.net', 'username': 'root', 'password': 'unit-not-a-secret'}


@pytest.mark.parametrize('module, extra', [(esx_srp_info, {}), (esx_srp_rescan, {}),
                                           (esx_path_policy, {'policy': 'VMW_PSP_MRU'})])
def test_without_pyvmomi_the_module_says_what_to_install(monkeypatch, module, extra):
    patch_module(monkeypatch, AnsibleModule, RunCommandMock())
    monkeypatch.setattr(vmware, 'HAS_PYVMOMI', False)
    monkeypatch.setattr(vmware, 'PYVMOMI_IMPORT_ERROR', ImportError("No module named 'pyVmomi'"))
    done = run_main(module, dict(CONNECTION, **extra))
    assert done.failed
    assert 'pyvmomi' in done.result['msg'] and 'Traceback' not in done.result['msg']


def test_connection_options_are_community_vmwares():
    spec = vmware.vmware_argument_spec()
    assert sorted(spec) == ['esxi_hostname', 'hostname', 'password', 'port', 'username', 'validate_certs']
    assert spec['password']['no_log'] is True
    assert spec['port']['default'] == 443 and spec['validate_certs']['default'] is True
    assert spec['hostname']['fallback'][1] == ['VMWARE_HOST']


class Host(object):
    name = 'esx-1'


LUNS = [{'canonical_name': 'naa.6001405ab10000000000000000000000', 'serial': 'labvol1'},
        {'canonical_name': 'naa.6001405ab20000000000000000000000', 'serial': 'labvol2'}]


def test_luns_are_chosen_by_canonical_name_naa_or_serial():
    assert vmware.select_luns(Host(), LUNS, None) == LUNS
    assert vmware.select_luns(Host(), LUNS, ['labvol2']) == [LUNS[1]]
    assert vmware.select_luns(Host(), LUNS, ['6001405AB10000000000000000000000', 'naa.6001405ab10000000000000000000000']) == [LUNS[0]]


def test_a_lun_that_is_not_there_is_named_with_those_that_are():
    with pytest.raises(vmware.VmwareError) as info:
        vmware.select_luns(Host(), LUNS, ['labvol1', 'labvol9'])
    assert str(info.value) == ('esx-1: no SRP LUN labvol9 (its SRP LUNs: naa.6001405ab10000000000000000000000 (serial labvol1), '
                               'naa.6001405ab20000000000000000000000 (serial labvol2))')
    with pytest.raises(vmware.VmwareError) as info:
        vmware.select_luns(Host(), [], ['labvol1'])
    assert 'none: rescan the SRP HBAs' in str(info.value)


def test_a_refused_call_is_said_with_the_host_what_was_done_and_the_fault():
    vim = pytest.importorskip('pyVmomi').vim
    params = dict(CONNECTION, port=443)
    refused = vim.fault.NoPermission(msg='Permission to perform this operation was denied.')
    assert vmware.fault_message(params, 'setting VMW_PSP_MRU on naa.x', refused) == (
        'esx-1.example.net:443: setting VMW_PSP_MRU on naa.x failed: '
        'Permission to perform this operation was denied. (NoPermission)')
    assert vmware.fault_message(params, 'rescanning vmhba32', vim.fault.NotFound()) == (
        'esx-1.example.net:443: rescanning vmhba32 failed: NotFound')
