# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""RDMA devices, ports and IPoIB interfaces as sysfs shows them (the module rdma_facts returns this).

Reads files only, below a sysfs root (tests point it at tests/fixtures/sysfs); standard library only.
"""

from __future__ import annotations

import os
import re

__all__ = ['RdmaSysfs']

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
