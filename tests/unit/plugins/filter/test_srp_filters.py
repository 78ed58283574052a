# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The srp_login_targets filter (plugins/filter/fabric.py): a thin wrapper of module_utils/srp.login_targets (tested there)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest
import yaml

from ansible.errors import AnsibleFilterError
from ansible_collections.rdma.ha_storage.plugins.filter import fabric
from ansible_collections.rdma.ha_storage.plugins.module_utils.fabric.slices import host_slice
from helpers import TOP

EXAMPLE = yaml.safe_load((TOP / 'tests' / 'fixtures' / 'fabric' / 'example.yml').read_text())['rdma_fabric']


def test_filter_is_registered_and_converts_the_port():
    flt = fabric.FilterModule().filters()['srp_login_targets']
    got = flt(host_slice(EXAMPLE, 'init-1'), rdma_cm_port='5556')
    assert [t['dest'] for t in got['targets']] == ['10.10.0.11:5556', '10.10.0.12:5556']


@pytest.mark.parametrize('value,args,message', [
    ({'node': {}}, {}, 'expects a host slice'),
    ('text', {}, 'expects a host slice'),
    (None, {'target_guids': {'stor-a': 'zz'}}, 'target_guids: guid'),
])
def test_filter_errors_name_the_filter(value, args, message):
    flt = fabric.FilterModule().filters()['srp_login_targets']
    with pytest.raises(AnsibleFilterError) as info:
        flt(host_slice(EXAMPLE, 'init-1') if value is None else value, **args)
    assert info.value.message.startswith('srp_login_targets: ') and message in info.value.message
