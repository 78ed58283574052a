#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: esx_path_policy
short_description: Set the path selection policy of an ESX host's SRP LUNs
version_added: 0.2.0
author:
  - rdma.ha_storage contributors (!UNKNOWN)
description:
  - Sets the path selection policy (PSP) of SRP LUNs on an ESX host through the vSphere API
    (C(HostStorageSystem.SetMultipathLunPolicy)), only where it differs.
  - The PSP decides which of a LUN's paths carries I/O. The storage array type plugin (SATP), which
    decides how a path failure is handled, is chosen by claim rules, not here.
  - For the storage pair, whose standby exports nothing, V(VMW_PSP_MRU) stays on the path that
    works and never moves back by itself; V(VMW_PSP_FIXED) moves back to its preferred path
    when that path returns.
extends_documentation_fragment:
  - rdma.ha_storage.vmware
attributes:
  check_mode:
    support: full
    description: In check mode the LUNs that would change are reported, and nothing is set.
  diff_mode:
    support: full
    description: Each LUN's policy before and after, one line per LUN.
options:
  policy:
    description:
      - The path selection policy to set. The host must offer it (C(QueryPathSelectionPolicyOptions)).
    type: str
    required: true
    choices: [VMW_PSP_MRU, VMW_PSP_FIXED, VMW_PSP_RR]
  preferred_path:
    description:
      - With O(policy=VMW_PSP_FIXED) and exactly one LUN in O(luns), the runtime name of the
        preferred path (C(vmhba32:C0:T0:L0)). Without it ESX picks the first working path.
    type: str
  luns:
    description:
      - The LUNs, each by canonical name (C(naa.6001405...)), NAA identifier, or unit serial
        (the volume's C(lun_serial)). Every one must be an SRP LUN of the host.
      - Without it, every LUN behind the SRP HBAs.
    type: list
    elements: str
  hbas:
    description:
      - The SRP HBAs whose LUNs are meant, by device name. Without it every HBA whose driver is C(ib_srp).
    type: list
    elements: str
seealso:
  - module: rdma.ha_storage.esx_srp_info
"""

EXAMPLES = r"""
- name: Most Recently Used on every SRP LUN (active/standby pair)
  rdma.ha_storage.esx_path_policy:
    hostname: esx-1.example.net
    username: root
    password: "{{ vault_esx_root_password }}"
    policy: VMW_PSP_MRU
  delegate_to: localhost

- name: Round robin on one volume, by its serial
  rdma.ha_storage.esx_path_policy:
    hostname: vcenter.example.net
    esxi_hostname: esx-1.example.net
    username: administrator@vsphere.local
    password: "{{ vault_vcenter_password }}"
    luns: [5a1e0d3f0000]
    policy: VMW_PSP_RR
  delegate_to: localhost
"""

RETURN = r"""
changed_luns:
  description: Canonical names of the LUNs whose policy was (in check mode, would be) set.
  returned: always
  type: list
  elements: str
luns:
  description: The selected LUNs as M(rdma.ha_storage.esx_srp_info) returns them, read after the change (in check mode, before).
  returned: always
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.rdma.ha_storage.plugins.module_utils import vmware


def build_module():
    spec = vmware.vmware_argument_spec()
    spec.update(
        policy=dict(type='str', required=True, choices=list(vmware.PATH_SELECTION_POLICIES)),
        preferred_path=dict(type='str'),
        luns=dict(type='list', elements='str'),
        hbas=dict(type='list', elements='str'),
    )
    return AnsibleModule(argument_spec=spec, supports_check_mode=True)


def describe(lun):
    text = '%s (serial %s): %s' % (lun['canonical_name'], lun['serial'], lun['psp'])
    if lun.get('preferred_path'):
        text += ', preferred path %s' % lun['preferred_path']
    return text


class PathPolicy(object):
    def __init__(self, module):
        self.module = module
        self.params = module.params

    def wanted(self, lun):
        """The LUN's entry as it should be."""
        want = dict(lun)
        want['psp'] = self.params['policy']
        want.pop('preferred_path', None)
        if self.params['policy'] == 'VMW_PSP_FIXED':
            want['preferred_path'] = self.params['preferred_path'] or lun.get('preferred_path')
        return want

    def run(self, host):
        params = self.params
        hbas = vmware.srp_hbas(host, params['hbas'])
        luns = vmware.select_luns(host, vmware.srp_luns(host, hbas), params['luns'])
        if params['preferred_path']:
            if params['policy'] != 'VMW_PSP_FIXED' or len(luns) != 1:
                raise vmware.VmwareError('%s: preferred_path needs policy VMW_PSP_FIXED and exactly one LUN in luns '
                                         '(%d selected)' % (host.name, len(luns)))
            names = [p['name'] for p in luns[0]['paths']]
            if params['preferred_path'] not in names:
                raise vmware.VmwareError('%s: preferred_path %s is not a path of %s (its paths: %s)' % (
                    host.name, params['preferred_path'], luns[0]['canonical_name'], ', '.join(names)))
        storage_system = host.configManager.storageSystem
        offered = vmware.path_selection_policies(storage_system)
        if params['policy'] not in offered:
            raise vmware.VmwareError('%s: does not offer the path selection policy %s (it offers: %s)'
                                     % (host.name, params['policy'], ', '.join(offered)))
        changes = [(lun, self.wanted(lun)) for lun in luns if describe(lun) != describe(self.wanted(lun))]
        diff = {'before': ''.join(describe(old) + '\n' for old, new in changes),
                'after': ''.join(describe(new) + '\n' for old, new in changes)}
        if changes and not self.module.check_mode:
            for old, new in changes:
                try:
                    storage_system.SetMultipathLunPolicy(
                        lunId=old['id'], policy=vmware.lun_policy(new['psp'], new.get('preferred_path')))
                except vmware.vmodl.MethodFault as exc:
                    raise vmware.VmwareError(vmware.fault_message(
                        params, 'setting %s on %s' % (new['psp'], old['canonical_name']), exc))
            luns = vmware.select_luns(host, vmware.srp_luns(host, hbas), [lun['canonical_name'] for lun in luns])
            wrong = [lun['canonical_name'] for lun in luns if lun['psp'] != params['policy']]
            if wrong:
                raise vmware.VmwareError('%s: the policy of %s still is not %s after it was set'
                                         % (host.name, ', '.join(wrong), params['policy']))
        return dict(changed=bool(changes), changed_luns=[old['canonical_name'] for old, new in changes],
                    luns=luns, diff=diff)


def main():
    module = build_module()
    vmware.run_on_host(module, PathPolicy(module).run)


if __name__ == '__main__':
    main()
