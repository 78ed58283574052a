#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: rdma_link
short_description: Create software RDMA devices (Soft-RoCE rxe, Soft-iWARP siw) on Ethernet interfaces
version_added: 0.1.0
author:
  - rdma.ha_storage contributors (!UNKNOWN)
description:
  - Makes sure every device in O(links) exists, created with C(rdma link add <name> type <type> netdev <netdev>)
    when it does not, in one task for the whole set.
  - A device of that name that already exists must be the same kind (C(rxe) is a C(CA), C(siw) an C(RNIC) in
    C(/sys/class/infiniband/<name>/node_type)) and run on the same netdev; otherwise the module fails and says
    how to remove it. It never deletes or re-creates a device, because every RDMA user of the device (an SRP
    export, an SRP login) would lose it.
  - After creating devices it waits up to O(wait) seconds for their port to become C(ACTIVE) (an Ethernet
    interface without carrier keeps it C(DOWN)); it does not fail on a port that stays down but reports it,
    and the fabric check that follows names what is wrong.
  - The kernel loads C(rdma_rxe) / C(siw) on the first C(rdma link add) of their type. Debian 12's kernel (6.1)
    builds C(rdma_rxe) but not C(siw) (measured on 6.1, C(modprobe siw) finds no module, and C(rdma link add)
    answers only C(Invalid argument)); the module's error says so.
  - Not persistent by itself. The role C(rdma.ha_storage.rdma_core) writes a systemd unit that creates the same
    devices at boot.
attributes:
  check_mode:
    support: full
    description: Reports the devices that would be created; creates none.
  diff_mode:
    support: full
    description: Shows the software RDMA devices before and after, one C(name type netdev) line each.
options:
  links:
    description: The software RDMA devices.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The RDMA device name, for example C(rxe0).
        type: str
        required: true
      type:
        description: C(rxe) (Soft-RoCE, RoCE v2 over UDP port 4791) or C(siw) (Soft-iWARP, over TCP).
        type: str
        required: true
        choices: [rxe, siw]
      netdev:
        description: The Ethernet interface the device runs on, for example C(eth1). It must exist.
        type: str
        required: true
  wait:
    description: Seconds to wait for the port of each created device to become C(ACTIVE); V(0) does not wait.
    type: int
    default: 10
notes:
  - Requires the C(rdma) tool of iproute2 (package C(iproute2)).
seealso:
  - name: rdma-link(8)
    description: The C(rdma link) command.
    link: https://man7.org/linux/man-pages/man8/rdma-link.8.html
  - module: rdma.ha_storage.rdma_facts
"""

EXAMPLES = r"""
- name: Soft-RoCE on the fabric interface
  rdma.ha_storage.rdma_link:
    links:
      - {name: rxe0, type: rxe, netdev: eth1}
"""

RETURN = r"""
created:
  description: Devices this run created (or would create, in check mode).
  returned: always
  type: list
  elements: str
  sample: [rxe0]
links:
  description: Every RDMA link after the run as C(rdma link show) lists it (hardware ports too).
  returned: always
  type: list
  elements: dict
  sample: [{name: rxe0, port: 1, state: ACTIVE, physical_state: LINK_UP, netdev: eth1}]
"""

import json
import os
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.rdma.ha_storage.plugins.module_utils.files import read_file
from ansible_collections.rdma.ha_storage.plugins.module_utils.runner import CommandError, Runner, exit_with

# node_type in sysfs ("1: CA", "4: RNIC") of each software device type
NODE_TYPES = {'rxe': 'CA', 'siw': 'RNIC'}
# the kernel module of each type, loaded by the kernel on the first `rdma link add`
KERNEL_MODULES = {'rxe': 'rdma_rxe', 'siw': 'siw'}


def parse_links(text):
    """``rdma -j link show`` -> [{name, port, state, physical_state, netdev}]."""
    try:
        data = json.loads(text or '[]')
    except ValueError:
        return None
    if not isinstance(data, list):
        return None
    links = []
    for entry in data:
        if isinstance(entry, dict) and entry.get('ifname'):
            links.append(dict(name=entry['ifname'], port=entry.get('port'), state=entry.get('state'),
                              physical_state=entry.get('physical_state'), netdev=entry.get('netdev')))
    return links


def node_type(text):
    """sysfs node_type ("1: CA") -> "CA"."""
    return (text or '').strip().split(' ')[-1].upper() or None


def describe(links):
    return ''.join('%s %s %s\n' % (link['name'], link['type'], link['netdev']) for link in links)


class RdmaLinks(object):
    def __init__(self, module, sysfs='/sys'):
        self.module = module
        self.sysfs = sysfs
        self.rdma = Runner(module, 'rdma', package='iproute2', opt_dirs=['/sbin', '/usr/sbin'])
        self.links = []
        seen = set()
        for index, link in enumerate(module.params['links']):
            for key in ('name', 'netdev'):
                value = link[key]
                if not value or any(c in value for c in ' \t\n/'):
                    module.fail_json(msg='links[%d]: %s %r is not a device name' % (index, key, value))
            if link['name'] in seen:
                module.fail_json(msg='links[%d]: device %s is listed twice' % (index, link['name']))
            seen.add(link['name'])
            self.links.append(link)

    def current(self):
        result = self.rdma.run(['-j', 'link', 'show'])
        links = parse_links(result.stdout)
        if links is None:
            raise CommandError.from_result(result, 'rdma -j link show: output is not the JSON list expected')
        return links

    def kind(self, name):
        return node_type(read_file(os.path.join(self.sysfs, 'class', 'infiniband', name, 'node_type')))

    def netdev_exists(self, name):
        return os.path.exists(os.path.join(self.sysfs, 'class', 'net', name))

    def netdevs(self):
        path = os.path.join(self.sysfs, 'class', 'net')
        return sorted(os.listdir(path)) if os.path.isdir(path) else []

    def wait_active(self, names, links):
        deadline = time.time() + max(0, self.module.params['wait'])
        while True:
            pending = [link for link in links if link['name'] in names and str(link['state']).upper() != 'ACTIVE']
            if not pending or time.time() >= deadline:
                return links
            time.sleep(0.5)
            links = self.current()

    def add(self, link):
        try:
            self.rdma.run(['link', 'add', link['name'], 'type', link['type'], 'netdev', link['netdev']], changes=True)
        except CommandError as exc:
            driver = KERNEL_MODULES[link['type']]
            if not os.path.isdir(os.path.join(self.sysfs, 'module', driver)):
                # the kernel could not load the type's driver: rdma says only "Invalid argument"
                exc.msg += ('; kernel module %s is not loaded and the kernel did not load it: this kernel may not '
                            'have it (the Debian 12 kernel, 6.1, builds rdma_rxe but not siw); try "modprobe %s"'
                            % (driver, driver))
            raise

    def run(self):
        before = self.current()
        by_name = dict((link['name'], link) for link in before)
        have = []
        missing = []
        for link in self.links:
            found = by_name.get(link['name'])
            if found is None:
                missing.append(link)
                continue
            kind = self.kind(link['name'])
            if found.get('netdev') != link['netdev'] or kind != NODE_TYPES[link['type']]:
                self.module.fail_json(
                    msg='RDMA device %s exists as a %s on netdev %s, the model says %s (%s) on %s. It is not '
                        'changed here: remove it with "rdma link delete %s" (its RDMA users lose it) if it '
                        'must go, or fix the model' % (
                            link['name'], kind or 'device', found.get('netdev') or 'none', link['type'],
                            NODE_TYPES[link['type']], link['netdev'], link['name']))
            have.append(link)
        for link in missing:
            if not self.netdev_exists(link['netdev']):
                self.module.fail_json(msg='RDMA device %s: netdev %s does not exist on this host (it has: %s)' % (
                    link['name'], link['netdev'], ', '.join(self.netdevs()) or 'no network interfaces'))
        result = dict(changed=bool(missing), created=[link['name'] for link in missing])
        if self.module._diff:
            result['diff'] = dict(before_header='software RDMA devices', after_header='software RDMA devices',
                                  before=describe(have), after=describe(self.links))
        links = before
        if missing and not self.module.check_mode:
            for link in missing:
                self.add(link)
            links = self.wait_active(set(result['created']), self.current())
        result['links'] = links
        return result


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            links=dict(type='list', elements='dict', required=True, options=dict(
                name=dict(type='str', required=True),
                type=dict(type='str', required=True, choices=['rxe', 'siw']),
                netdev=dict(type='str', required=True),
            )),
            wait=dict(type='int', default=10),
        ),
        supports_check_mode=True,
    )


def main():
    module = build_module()
    exit_with(module, RdmaLinks(module).run)


if __name__ == '__main__':
    main()
