#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: rdma_facts
short_description: Gather facts about RDMA devices, ports and IPoIB interfaces from sysfs
version_added: 0.1.0
author:
  - rdma.ha_storage contributors (!UNKNOWN)
description:
  - Reads C(/sys/class/infiniband) and C(/sys/class/net) and returns the fact C(rdma_facts) with every RDMA device
    (InfiniBand HCAs, RoCE NICs, Soft-RoCE C(rxe) and C(siw) devices), its ports (GUID, GIDs, state, physical state,
    rate, link layer, LID, SM LID, P_Key table, netdevs) and the IPoIB interfaces (parent and P_Key children with
    their mode, P_Key and MTU).
  - Reads files only; needs no RDMA user-space tool and changes nothing.
  - Compare the facts with the fabric model with the P(rdma.ha_storage.fabric_differences#filter) filter.
attributes:
  check_mode:
    description: Can run in check mode and return the same facts as without it.
    support: full
  diff_mode:
    description: Returns no diff; the module changes nothing.
    support: none
  facts:
    description: Returns the fact C(rdma_facts) in C(ansible_facts).
    support: full
options:
  sysfs_root:
    description:
      - Where sysfs is mounted. Tests point it at a fixture tree (C(tests/fixtures/sysfs)); leave the default on hosts.
    type: path
    default: /sys
notes:
  - The port GUID is the interface identifier (low 64 bits) of GID index 0. For Soft-RoCE it is the modified EUI-64
    of the netdev's MAC address.
  - An IPoIB interface is tied to its RDMA port by the port GID inside its 20-byte hardware address, so no sysfs
    symbolic link is needed.
  - Files that cannot be read (for example C(gid_attrs) of InfiniBand ports, which the kernel refuses with EINVAL)
    are returned as null or left out.
seealso:
  - plugin: rdma.ha_storage.fabric_differences
    plugin_type: filter
  - module: rdma.ha_storage.fabric_validate
"""

EXAMPLES = r"""
- name: Gather RDMA facts
  rdma.ha_storage.rdma_facts:

- name: Show the GUIDs of the active ports
  ansible.builtin.debug:
    msg: "{{ ansible_facts['rdma_facts']['ports'] | selectattr('state', 'eq', 'ACTIVE') | map(attribute='guid') }}"

- name: Compare with the fabric model
  ansible.builtin.debug:
    msg: "{{ rdma_fabric | rdma.ha_storage.fabric_differences(inventory_hostname, ansible_facts['rdma_facts']) }}"
"""

RETURN = r"""
ansible_facts:
  description: Facts to add to ansible_facts.
  returned: always
  type: dict
  contains:
    rdma_facts:
      description: RDMA devices, ports and IPoIB interfaces of the host.
      returned: always
      type: dict
      contains:
        sysfs_root:
          description: The sysfs root that was read.
          type: str
          sample: /sys
        devices:
          description: RDMA devices by name.
          type: dict
          sample:
            mlx4_0:
              node_guid: "0x0002c903000e8acc"
              sys_image_guid: "0x0002c903000e8acf"
              node_type: CA
              fw_ver: 2.42.5000
              hca_type: MT4099
              board_id: MT_1090120019
              hw_rev: "1"
              node_desc: stor-a mlx4_0
              parent: null
              ports: [1, 2]
        ports:
          description: Every port of every device, in device and port order.
          type: list
          elements: dict
          contains:
            device:
              description: RDMA device name.
              type: str
              sample: mlx4_0
            port:
              description: Port number.
              type: int
              sample: 1
            name:
              description: C(device/port), the spelling the fabric model uses.
              type: str
              sample: mlx4_0/1
            guid:
              description: Port GUID (low 64 bits of GID 0), canonical form; null if GID 0 is unset.
              type: str
              sample: "0x0002c903000e8acd"
            gid:
              description: GID index 0 in sysfs spelling.
              type: str
              sample: "fe80:0000:0000:0000:0002:c903:000e:8acd"
            gids:
              description: The non-zero GIDs with their index and, on RoCE ports, type and netdev.
              type: list
              elements: dict
            state:
              description: Logical port state (C(DOWN), C(INIT), C(ARMED), C(ACTIVE), C(ACTIVE_DEFER)).
              type: str
              sample: ACTIVE
            phys_state:
              description: Physical port state (C(Polling), C(Disabled), C(LinkUp), ...).
              type: str
              sample: LinkUp
            rate:
              description: Rate in Gb/s.
              type: float
              sample: 56.0
            rate_text:
              description: The rate as sysfs prints it.
              type: str
              sample: 56 Gb/sec (4X FDR)
            link_layer:
              description: C(infiniband) or C(ethernet) (RoCE, Soft-RoCE).
              type: str
              sample: infiniband
            lid:
              description: Port LID (0 on Ethernet link layer and before the subnet manager assigned one).
              type: int
              sample: 3
            sm_lid:
              description: LID of the subnet manager.
              type: int
              sample: 1
            pkeys:
              description: Non-zero entries of the port's P_Key table (InfiniBand ports).
              type: list
              elements: str
              sample: ["0xffff", "0x8001"]
            netdevs:
              description: Netdevs of the port (IPoIB parent interfaces, or the Ethernet netdev of a RoCE port).
              type: list
              elements: str
              sample: [ib0]
        ipoib:
          description: IPoIB interfaces by name.
          type: dict
          sample:
            ib0.8001:
              device: mlx4_0
              port: 1
              guid: "0x0002c903000e8acd"
              parent: ib0
              pkey: 32769
              pkey_hex: "0x8001"
              mode: connected
              mtu: 65520
              operstate: up
              address: "80:00:02:49:fe:80:00:00:00:00:00:00:00:02:c9:03:00:0e:8a:cd"
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.rdma.ha_storage.plugins.module_utils.rdma_sysfs import RdmaSysfs


class RdmaFacts(object):
    """Module logic: check the root, gather, return facts."""

    def __init__(self, module):
        self.module = module
        self.root = module.params['sysfs_root']

    def run(self):
        if not os.path.isdir(self.root):
            self.module.fail_json(msg='sysfs_root %s is not a directory' % self.root)
        facts = RdmaSysfs(self.root).gather()
        self.module.exit_json(changed=False, ansible_facts={'rdma_facts': facts})


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            sysfs_root=dict(type='path', default='/sys'),
        ),
        supports_check_mode=True,
    )


def main():
    module = build_module()
    RdmaFacts(module).run()


if __name__ == '__main__':
    main()
