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
import re

from ansible.module_utils.basic import AnsibleModule

ARPHRD_INFINIBAND = '32'
_STATE_RE = re.compile(r'^\s*([0-9]+)\s*:\s*(\S.*?)\s*\Z')
_RATE_RE = re.compile(r'^\s*([0-9]+(?:\.[0-9]+)?)\s*Gb/sec')
_INDEX_RE = re.compile(r'^[0-9]{1,6}\Z')   # ASCII only: str.isdigit() also accepts '²'
_ZERO_GID = '0000:0000:0000:0000:0000:0000:0000:0000'


def _gid_hex(text):
    """sysfs GID 'fe80:0000:...' -> 32 hex digits, or None."""
    if not text:
        return None
    digits = text.replace(':', '').lower()
    if len(digits) != 32 or not all(c in '0123456789abcdef' for c in digits):
        return None
    return digits


class RdmaSysfs(object):
    """Read RDMA devices and IPoIB interfaces below a sysfs root."""

    def __init__(self, root):
        self.root = root

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    @staticmethod
    def read(path):
        try:
            with open(path, 'r') as handle:
                return handle.read().strip()
        except (IOError, OSError, UnicodeDecodeError):
            return None

    @staticmethod
    def listdir(path):
        try:
            return sorted(os.listdir(path))
        except (IOError, OSError):
            return []

    @staticmethod
    def _int(text, base=10):
        if text is None:
            return None
        try:
            return int(text, base)
        except ValueError:
            return None

    @staticmethod
    def _state(text):
        """'4: ACTIVE' -> ('ACTIVE', 4)."""
        if text is None:
            return None, None
        match = _STATE_RE.match(text)
        if match:
            return match.group(2), int(match.group(1))
        return text, None

    def read_device(self, name):
        base = self.path('class', 'infiniband', name)
        node_type = self._state(self.read(os.path.join(base, 'node_type')))[0]
        device = {
            'node_guid': self._guid(self.read(os.path.join(base, 'node_guid'))),
            'sys_image_guid': self._guid(self.read(os.path.join(base, 'sys_image_guid'))),
            'node_type': node_type,
            'fw_ver': self.read(os.path.join(base, 'fw_ver')) or None,
            'hca_type': self.read(os.path.join(base, 'hca_type')),
            'board_id': self.read(os.path.join(base, 'board_id')),
            'hw_rev': self.read(os.path.join(base, 'hw_rev')),
            'node_desc': self.read(os.path.join(base, 'node_desc')),
            'parent': self.read(os.path.join(base, 'parent')),     # rxe / siw: the Ethernet netdev
        }
        ports = []
        for entry in self.listdir(os.path.join(base, 'ports')):
            if _INDEX_RE.match(entry):
                ports.append(self.read_port(name, int(entry), device))
        ports.sort(key=lambda p: p['port'])
        device['ports'] = [p['port'] for p in ports]
        return device, ports

    @staticmethod
    def _guid(text):
        if not text:
            return None
        digits = text.replace(':', '').lower()
        if len(digits) != 16 or not all(c in '0123456789abcdef' for c in digits):
            return None
        return '0x' + digits

    def read_port(self, device, number, device_facts):
        base = self.path('class', 'infiniband', device, 'ports', str(number))
        state, state_num = self._state(self.read(os.path.join(base, 'state')))
        phys, phys_num = self._state(self.read(os.path.join(base, 'phys_state')))
        rate_text = self.read(os.path.join(base, 'rate'))
        rate = None
        if rate_text:
            match = _RATE_RE.match(rate_text)
            if match:
                rate = float(match.group(1))
        link_layer = self.read(os.path.join(base, 'link_layer'))
        gids = []
        for entry in sorted((e for e in self.listdir(os.path.join(base, 'gids')) if _INDEX_RE.match(e)), key=int):
            value = self.read(os.path.join(base, 'gids', entry))
            if value is None or value == _ZERO_GID or _gid_hex(value) is None:
                continue
            gids.append({
                'index': int(entry), 'gid': value,
                'type': self.read(os.path.join(base, 'gid_attrs', 'types', entry)),
                'netdev': self.read(os.path.join(base, 'gid_attrs', 'ndevs', entry)),
            })
        gid0 = next((g for g in gids if g['index'] == 0), None)
        guid = '0x' + _gid_hex(gid0['gid'])[16:] if gid0 else None
        pkeys = []
        for entry in sorted((e for e in self.listdir(os.path.join(base, 'pkeys')) if _INDEX_RE.match(e)), key=int):
            value = self._int(self.read(os.path.join(base, 'pkeys', entry)), 16)
            if value:
                pkeys.append('0x%04x' % value)
        netdevs = []
        for gid in gids:
            if gid['netdev'] and gid['netdev'] not in netdevs:
                netdevs.append(gid['netdev'])
        if device_facts.get('parent') and device_facts['parent'] not in netdevs:
            netdevs.append(device_facts['parent'])
        return {
            'device': device, 'port': number, 'name': '%s/%d' % (device, number),
            'guid': guid, 'gid': gid0['gid'] if gid0 else None, 'gids': gids,
            'state': state, 'state_num': state_num, 'phys_state': phys, 'phys_state_num': phys_num,
            'rate': rate, 'rate_text': rate_text,
            'link_layer': link_layer.lower() if link_layer else None,
            'lid': self._int(self.read(os.path.join(base, 'lid')), 16),
            'sm_lid': self._int(self.read(os.path.join(base, 'sm_lid')), 16),
            'sm_sl': self._int(self.read(os.path.join(base, 'sm_sl'))),
            'lid_mask_count': self._int(self.read(os.path.join(base, 'lid_mask_count'))),
            'cap_mask': self.read(os.path.join(base, 'cap_mask')),
            'pkeys': pkeys,
            'netdevs': netdevs,
        }

    def read_ipoib(self):
        result = {}
        base = self.path('class', 'net')
        for name in self.listdir(base):
            if self.read(os.path.join(base, name, 'type')) != ARPHRD_INFINIBAND:
                continue
            address = self.read(os.path.join(base, name, 'address'))
            octets = address.split(':') if address else []
            gid = ''.join(octets[4:20]).lower() if len(octets) == 20 else None
            pkey = self._int(self.read(os.path.join(base, name, 'pkey')), 16)
            result[name] = {
                'address': address,
                'gid': ':'.join(gid[i:i + 4] for i in range(0, 32, 4)) if gid else None,
                'guid': '0x' + gid[16:] if gid else None,
                'device': None, 'port': None,
                'parent': self.read(os.path.join(base, name, 'parent')),
                'pkey': pkey,
                'pkey_hex': '0x%04x' % pkey if pkey is not None else None,
                'mode': self.read(os.path.join(base, name, 'mode')),
                'mtu': self._int(self.read(os.path.join(base, name, 'mtu'))),
                'operstate': self.read(os.path.join(base, name, 'operstate')),
                'carrier': self._int(self.read(os.path.join(base, name, 'carrier'))),
            }
        return result

    def gather(self):
        devices = {}
        ports = []
        for name in self.listdir(self.path('class', 'infiniband')):
            device, device_ports = self.read_device(name)
            devices[name] = device
            ports.extend(device_ports)
        ipoib = self.read_ipoib()
        by_gid = dict((p['gid'], p) for p in ports if p['gid'])
        for ifname in sorted(ipoib):
            info = ipoib[ifname]
            port = by_gid.get(info['gid'])
            if port is None:
                continue
            info['device'], info['port'] = port['device'], port['port']
            if not info['parent'] and ifname not in port['netdevs']:
                port['netdevs'].append(ifname)
        return {'sysfs_root': self.root, 'devices': devices, 'ports': ports, 'ipoib': ipoib}


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
