#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: esx_srp_rescan
short_description: Rescan an ESX host's SRP HBAs, so that it sees the target ports that export now
version_added: 0.2.0
author:
  - rdma.ha_storage contributors (!UNKNOWN)
description:
  - Rescans the SRP HBAs of an ESX host (C(HostStorageSystem.RescanHba)), one by one, and reports
    the paths that appeared and went.
  - After a failover of the storage pair the old Primary's paths are dead at once, and the new
    Primary's appear only when ESX scans; this module is that scan.
  - Reports a change when the paths or LUNs behind the SRP HBAs differ after the rescan.
extends_documentation_fragment:
  - rdma.ha_storage.vmware
attributes:
  check_mode:
    support: partial
    description: What a rescan finds cannot be known without making it.
    details: In check mode nothing is rescanned, RV(rescanned) is empty and the task reports no change.
  diff_mode:
    support: none
    description: RV(appeared) and RV(gone) say what changed.
options:
  hbas:
    description:
      - The HBAs to rescan, by device name. Without it every HBA whose driver is C(ib_srp).
    type: list
    elements: str
seealso:
  - module: rdma.ha_storage.esx_srp_info
"""

EXAMPLES = r"""
- name: Rescan the SRP HBAs after the pair failed over
  rdma.ha_storage.esx_srp_rescan:
    hostname: esx-1.example.net
    username: root
    password: "{{ vault_esx_root_password }}"
  delegate_to: localhost
  register: rescan
"""

RETURN = r"""
rescanned:
  description: The HBAs rescanned (none in check mode).
  returned: always
  type: list
  elements: str
appeared:
  description: C(LUN path state) lines found after the rescan and not before.
  returned: always
  type: list
  elements: str
gone:
  description: C(LUN path state) lines found before the rescan and not after.
  returned: always
  type: list
  elements: str
luns:
  description: The LUNs behind the SRP HBAs after the rescan, as M(rdma.ha_storage.esx_srp_info) returns them.
  returned: always
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.rdma.ha_storage.plugins.module_utils import vmware


def build_module():
    spec = vmware.vmware_argument_spec()
    spec.update(hbas=dict(type='list', elements='str'))
    return AnsibleModule(argument_spec=spec, supports_check_mode=True)


def path_lines(luns):
    return set('%s %s %s' % (lun['canonical_name'], path['name'], path['state']) for lun in luns for path in lun['paths'])


def rescan(module, host):
    hbas = vmware.srp_hbas(host, module.params['hbas'])
    if not hbas:
        raise vmware.VmwareError('%s: no SRP HBA (no adapter with driver %s): is the Mellanox OFED bundle with '
                                 'ib_srp installed (ESXi 5.x / 6.0)?' % (host.name, ', '.join(vmware.SRP_DRIVERS)))
    before = vmware.srp_luns(host, hbas)
    done = []
    if not module.check_mode:
        storage_system = host.configManager.storageSystem
        for device in sorted(hbas):
            try:
                storage_system.RescanHba(hbaDevice=device)
            except vmware.vmodl.MethodFault as exc:
                raise vmware.VmwareError(vmware.fault_message(module.params, 'rescanning %s' % device, exc))
            done.append(device)
    after = vmware.srp_luns(host, hbas) if done else before
    appeared = sorted(path_lines(after) - path_lines(before))
    gone = sorted(path_lines(before) - path_lines(after))
    return dict(changed=bool(appeared or gone), rescanned=done, appeared=appeared, gone=gone, luns=after)


def main():
    module = build_module()
    vmware.run_on_host(module, lambda host: rescan(module, host))


if __name__ == '__main__':
    main()
