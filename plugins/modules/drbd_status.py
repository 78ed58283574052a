#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: drbd_status
short_description: Read the state of DRBD resources (DRBD 8.4 and 9)
version_added: 0.1.0
author:
  - rdma.ha_storage contributors (!UNKNOWN)
description:
  - Reports, per DRBD resource, the local and peer role, the local and peer disk state, the
    connection and replication state, the progress of a running resync and the amount of
    data out of sync in KiB.
  - With the in-tree DRBD 8.4 kernel module the state is read from C(/proc/drbd) (DRBD 8.4's
    C(drbdsetup) has no JSON output); resource names are taken from the configuration with
    C(drbdadm sh-resources) and C(drbdadm sh-minor), because C(/proc/drbd) shows minors only.
  - With DRBD 9 the state is read from C(drbdsetup status --json).
  - State words are normalised to DRBD 9's vocabulary for both versions, for example 8.4's
    C(cs:WFConnection) becomes RV(resources.connection_state=Connecting) and 8.4's
    C(cs:SyncSource) becomes connection state C(Connected) with replication state C(SyncSource).
  - When the DRBD kernel module is not loaded (no C(/proc/drbd), for example in a container),
    the module does not fail; it returns RV(kernel_loaded=false) and no resources.
  - The module only reads; it never changes anything.
attributes:
  check_mode:
    support: full
    description: The module only reads state, so it runs unchanged in check mode.
  diff_mode:
    support: none
    description: Nothing is changed, so there is no diff.
options:
  resource:
    description:
      - Name of one resource to report. RV(resource) is then that resource's entry, or
        V(null) when it is not up on this node.
      - Without it every resource of the node is reported.
    type: str
  source:
    description:
      - Where to read the state. V(auto) uses C(/proc/drbd) for DRBD 8.x and
        C(drbdsetup status --json) for DRBD 9, by the version line of C(/proc/drbd).
    type: str
    choices: [auto, proc, json]
    default: auto
  config:
    description:
      - DRBD configuration file used to map 8.4 minors to resource names (C(drbdadm -c)).
      - Default is drbdadm's own (C(/etc/drbd.conf)).
    type: path
  proc_path:
    description:
      - Path of the DRBD proc file. Only worth changing for tests.
    type: path
    default: /proc/drbd
notes:
  - Check mode is supported; the module has no side effects.
seealso:
  - module: rdma.ha_storage.drbd_metadata
  - module: rdma.ha_storage.drbd_initial_sync
"""

EXAMPLES = r"""
- name: Read the state of every DRBD resource
  rdma.ha_storage.drbd_status:
  register: drbd

- name: Wait until vol0 is connected and UpToDate on both nodes
  rdma.ha_storage.drbd_status:
    resource: vol0
  register: vol0
  until: vol0.resource is not none and vol0.resource.healthy
  retries: 60
  delay: 5

- name: Show the resync progress of vol0
  ansible.builtin.debug:
    msg: "{{ vol0.resource.sync_percent }} % done, {{ vol0.resource.out_of_sync_kib }} KiB to go"
  when: vol0.resource.resyncing
"""

RETURN = r"""
kernel_loaded:
  description: Whether the DRBD kernel module is loaded (C(/proc/drbd) exists).
  returned: always
  type: bool
  sample: true
kernel_version:
  description: Version of the loaded DRBD kernel module.
  returned: always
  type: str
  sample: 8.4.11
version_family:
  description: C(8.4) or C(9) (V(null) when no module is loaded).
  returned: always
  type: str
  sample: "8.4"
source:
  description: Where the state was read, C(proc) or C(json) (V(null) when no module is loaded).
  returned: always
  type: str
  sample: proc
exists:
  description: With O(resource), whether that resource is up on this node; otherwise whether any resource is.
  returned: always
  type: bool
resource:
  description: The entry of O(resource) (same keys as an entry of RV(resources)), or V(null).
  returned: always
  type: dict
resources:
  description: Resources by name. Minors of 8.4 whose name is not in the configuration are keyed C(minor<N>).
  returned: always
  type: dict
  contains:
    name:
      description: Resource name.
      type: str
    role:
      description: Local role (C(Primary), C(Secondary), C(Unknown)).
      type: str
    peer_role:
      description: Role of the (first) peer.
      type: str
    peer:
      description: Peer's connection name (DRBD 9; V(null) with 8.4).
      type: str
    connection_state:
      description: C(Connected), C(Connecting), C(StandAlone), C(Disconnecting), ... (DRBD 9 words).
      type: str
    replication_state:
      description: C(Established), C(SyncSource), C(SyncTarget), C(Off), ... of the first volume.
      type: str
    cs:
      description: The raw 8.4 C(cs:) word (V(null) with DRBD 9).
      type: str
    disk_state:
      description: Local disk state of the first volume (C(UpToDate), C(Inconsistent), C(Diskless), ...).
      type: str
    peer_disk_state:
      description: Peer's disk state of the first volume.
      type: str
    minor:
      description: Minor of the first volume.
      type: int
    device:
      description: Device of the first volume, C(/dev/drbdN).
      type: str
    resyncing:
      description: Whether a resync runs on any volume.
      type: bool
    sync_percent:
      description: Progress in percent of a running resync of the first volume, V(null) when none runs.
      type: float
    out_of_sync_kib:
      description: Data out of sync with the peer in KiB, summed over volumes.
      type: int
    healthy:
      description: Connected, and every volume UpToDate on both sides with no resync running.
      type: bool
    suspended:
      description: Whether I/O is suspended (DRBD 9; V(null) with 8.4).
      type: bool
    volumes:
      description: Per volume, C(volume), C(minor), C(device), C(disk_state), C(peer_disk_state),
        C(replication_state), C(out_of_sync_kib), C(resyncing), C(sync_percent) and, with 8.4,
        C(sync) (C(percent), C(left_kib), C(total_kib), C(finish), C(speed_kib_s), ...).
      type: list
      elements: dict
    connections:
      description: Per peer, C(name), C(peer_node_id), C(connection_state), C(peer_role).
      type: list
      elements: dict
  sample:
    vol0:
      name: vol0
      role: Primary
      peer_role: Secondary
      connection_state: Connected
      replication_state: Established
      disk_state: UpToDate
      peer_disk_state: UpToDate
      resyncing: false
      sync_percent: null
      out_of_sync_kib: 0
      healthy: true
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.rdma.ha_storage.plugins.module_utils.drbd import DrbdCli, collect_status
from ansible_collections.rdma.ha_storage.plugins.module_utils.runner import exit_with


class DrbdStatus(object):
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.cli = DrbdCli(module, config=self.params['config'])

    def run(self):
        loaded, version, family, source, resources = collect_status(
            self.cli, proc_path=self.params['proc_path'], source=self.params['source'])
        name = self.params['resource']
        entry = resources.get(name) if name else None
        return dict(
            changed=False,
            kernel_loaded=loaded,
            kernel_version=version,
            version_family=family,
            source=source,
            resources=resources,
            resource=entry,
            exists=(entry is not None) if name else bool(resources),
        )


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            resource=dict(type='str'),
            source=dict(type='str', default='auto', choices=['auto', 'proc', 'json']),
            config=dict(type='path'),
            proc_path=dict(type='path', default='/proc/drbd'),
        ),
        supports_check_mode=True,
    )


def main():
    module = build_module()
    exit_with(module, DrbdStatus(module).run)


if __name__ == '__main__':
    main()
