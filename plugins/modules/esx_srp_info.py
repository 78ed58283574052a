#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: esx_srp_info
short_description: List an ESX host's SRP HBAs and the LUNs behind them, with their paths and policies
version_added: 0.2.0
author:
  - rdma.ha_storage contributors (!UNKNOWN)
description:
  - Reads, through the vSphere API, the SRP HBAs of an ESX host (adapters whose driver is C(ib_srp),
    as in Mellanox's OFED bundle for ESXi 5.x and 6.0) and every LUN with a path through one of them, with its
    canonical name, serial, size, the storage array type plugin (SATP) and path selection policy
    (PSP) that claim it, and each path with its state.
  - The module only reads. It does not rescan; M(rdma.ha_storage.esx_srp_rescan) does.
  - ESXi 6.5 and later have no SRP initiator (their Mellanox drivers are Ethernet-only); on such a
    host the module finds no SRP HBA and says so in RV(hbas).
extends_documentation_fragment:
  - rdma.ha_storage.vmware
attributes:
  check_mode:
    support: full
    description: The module only reads, so it runs unchanged in check mode.
  diff_mode:
    support: none
    description: Nothing is changed, so there is no diff.
options:
  hbas:
    description:
      - The HBAs to report, by device name (C(vmhba32)).
      - Without it, every HBA whose driver is C(ib_srp).
    type: list
    elements: str
  vmfs:
    description:
      - Also say, per LUN, which mounted VMFS volumes it holds (RV(luns[].vmfs_volumes)) and whether ESX
        offers it for a new VMFS datastore (RV(luns[].available_for_vmfs), C(QueryAvailableDisksForVmfs),
        which leaves out disks an existing VMFS uses). The role reads them before it makes a datastore.
    type: bool
    default: false
seealso:
  - module: rdma.ha_storage.esx_path_policy
  - module: rdma.ha_storage.esx_srp_rescan
"""

EXAMPLES = r"""
- name: Read the SRP LUNs of an ESX host
  rdma.ha_storage.esx_srp_info:
    hostname: esx-1.example.net
    username: root
    password: "{{ vault_esx_root_password }}"
  delegate_to: localhost
  register: srp

- name: Every SRP LUN has a working path
  ansible.builtin.assert:
    that: srp.luns | rejectattr('active_paths') | list | length == 0
"""

RETURN = r"""
hbas:
  description: The SRP HBAs (or those named by O(hbas)).
  returned: always
  type: list
  elements: dict
  contains:
    device:
      description: 'Device name, for example C(vmhba32).'
      type: str
    driver:
      description: 'Driver, C(ib_srp) for an SRP HBA.'
      type: str
    model:
      description: 'The adapter''s model string.'
      type: str
    status:
      description: 'The adapter''s status (C(online), C(offline), C(unknown), ...).'
      type: str
    key:
      description: 'The adapter''s key in the vSphere API.'
      type: str
luns:
  description: The LUNs with a path through one of RV(hbas), sorted by canonical name.
  returned: always
  type: list
  elements: dict
  contains:
    canonical_name:
      description: 'ESX''s name of the device, C(naa.) and the LUN''s NAA identifier.'
      type: str
    id:
      description: 'The multipath logical unit''s identifier (what M(rdma.ha_storage.esx_path_policy) sets).'
      type: str
    vendor:
      description: 'SCSI vendor, C(LIO-ORG) for the pair''s LUNs.'
      type: str
    model:
      description: 'SCSI model (LIO puts the backstore''s name there).'
      type: str
    serial:
      description: 'The unit serial number (the volume''s C(lun_serial)).'
      type: str
    size_mib:
      description: 'Capacity in MiB.'
      type: int
    operational_state:
      description: 'The device''s operational state (C(ok), C(lostCommunication), ...).'
      type: list
      elements: str
    satp:
      description: 'The storage array type plugin that claimed the LUN.'
      type: str
    psp:
      description: 'The path selection policy.'
      type: str
    preferred_path:
      description: 'The preferred path of C(VMW_PSP_FIXED).'
      type: str
      returned: when the PSP is FIXED
    active_paths:
      description: 'How many paths are in state C(active).'
      type: int
    vmfs_volumes:
      description: 'The names of the mounted VMFS volumes with an extent on the LUN (with O(vmfs=true)).'
      type: list
      elements: str
      returned: when O(vmfs=true)
    available_for_vmfs:
      description:
        - 'Whether ESX offers the LUN for a new VMFS datastore (with O(vmfs=true)); V(null) when the host does
          not answer the query.'
      type: bool
      returned: when O(vmfs=true)
    paths:
      description: The paths through the SRP HBAs.
      type: list
      elements: dict
      contains:
        name:
          description: 'Runtime name, C(vmhbaN:C0:Tt:Ll).'
          type: str
        state:
          description: 'Path state (C(active), C(standby), C(dead), ...).'
          type: str
        working:
          description: 'Whether I/O goes through this path now.'
          type: bool
        hba:
          description: 'The HBA''s device name.'
          type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.rdma.ha_storage.plugins.module_utils import vmware


def build_module():
    spec = vmware.vmware_argument_spec()
    spec.update(hbas=dict(type='list', elements='str'), vmfs=dict(type='bool', default=False))
    return AnsibleModule(argument_spec=spec, supports_check_mode=True)


def report(module, host):
    hbas = vmware.srp_hbas(host, module.params['hbas'])
    return dict(changed=False, hbas=sorted(hbas.values(), key=lambda h: h['device']), luns=vmware.srp_luns(host, hbas, vmfs=module.params['vmfs']))


def main():
    module = build_module()
    vmware.run_on_host(module, lambda host: report(module, host))


if __name__ == '__main__':
    main()
