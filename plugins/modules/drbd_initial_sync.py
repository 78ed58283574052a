#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: drbd_initial_sync
short_description: Promote the initial primary of a brand-new DRBD pair
version_added: 0.1.0
author:
  - rdma.ha_storage contributors (!UNKNOWN)
description:
  - Run on the node chosen as initial primary. Makes it Primary of a DRBD resource whose two
    nodes carry brand-new metadata, which starts the initial full sync to the peer
    (C(drbdadm primary --force)), or, with O(skip_initial_sync=true), first declares both
    sides identical (C(drbdadm -- --clear-bitmap new-current-uuid)) and then promotes.
  - Acts B(only) when the pair is connected, both nodes are Secondary and Inconsistent, the
    local current UUID is the just-created one and the caller vouches that the peer's is too
    (O(peer_fresh)). In every other case (UpToDate data anywhere, a Primary, not connected,
    metadata that has seen a sync) nothing is done and RV(reason) says why.
attributes:
  check_mode:
    support: full
    description: All checks run; the promotion commands do not.
  diff_mode:
    support: none
    description: The promotion changes roles and disk states, not files; there is no diff.
options:
  resource:
    description: Name of the DRBD resource.
    type: str
    required: true
  peer_fresh:
    description:
      - Whether the peer's metadata is brand new, as reported on the peer by
        M(rdma.ha_storage.drbd_metadata) (RV(rdma.ha_storage.drbd_metadata#module:fresh)).
    type: bool
    required: true
  skip_initial_sync:
    description:
      - Skip the initial full sync. Only correct when both backing devices are known to hold the
        same data, typically brand-new, never-written (for example zeroed or thin) disks.
    type: bool
    default: false
  config:
    description: DRBD configuration file (C(drbdadm -c)); default is drbdadm's own.
    type: path
seealso:
  - module: rdma.ha_storage.drbd_metadata
  - module: rdma.ha_storage.drbd_status
"""

EXAMPLES = r"""
- name: Promote the initial primary of vol0 (full initial sync)
  rdma.ha_storage.drbd_initial_sync:
    resource: vol0
    peer_fresh: "{{ hostvars['stor-b'].drbd_md_results.results[0].fresh }}"
  when: inventory_hostname == 'stor-a'
"""

RETURN = r"""
promoted:
  description: Whether the node was (or in check mode would be) promoted.
  returned: always
  type: bool
method:
  description: C(full-sync) or C(clear-bitmap) when promoted, else V(null).
  returned: always
  type: str
reason:
  description: Why the promotion ran or was skipped.
  returned: always
  type: str
  sample: a node of the pair already holds UpToDate data
status:
  description: The resource's state before the module acted (see M(rdma.ha_storage.drbd_status)).
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.rdma.ha_storage.plugins.module_utils.drbd import (
    DrbdCli, collect_status, initial_sync_decision, is_fresh_uuid, parse_gi)
from ansible_collections.rdma.ha_storage.plugins.module_utils.runner import exit_with


class DrbdInitialSync(object):
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.resource = self.params['resource']
        self.cli = DrbdCli(module, config=self.params['config'])

    def run_adm(self, *args):
        """A promotion step (not run in check mode); CommandError when it fails."""
        return self.cli.adm(*args, changes=True,
                            msg='resource %s: drbdadm %s failed' % (self.resource, ' '.join(args)))

    def run(self):
        loaded, dummy, dummy, dummy, resources = collect_status(self.cli)
        if not loaded:
            self.module.fail_json(msg='resource %s: the DRBD kernel module is not loaded' % self.resource)
        status = resources.get(self.resource)
        local_fresh = False
        if status:
            gi = self.cli.adm('get-gi', self.resource, ok_rcs=None)
            local_fresh = gi.rc == 0 and is_fresh_uuid(parse_gi(gi.stdout))
        allowed, reason = initial_sync_decision(status, local_fresh, self.params['peer_fresh'])
        result = dict(changed=False, promoted=False, method=None, reason=reason, status=status)
        if not allowed:
            return result
        method = 'clear-bitmap' if self.params['skip_initial_sync'] else 'full-sync'
        result.update(changed=True, promoted=True, method=method)
        # in check mode the runner skips both (changes=True)
        if method == 'clear-bitmap':
            self.run_adm('--', '--clear-bitmap', 'new-current-uuid', self.resource)
            self.run_adm('primary', self.resource)
        else:
            self.run_adm('primary', '--force', self.resource)
        return result


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            resource=dict(type='str', required=True),
            peer_fresh=dict(type='bool', required=True),
            skip_initial_sync=dict(type='bool', default=False),
            config=dict(type='path'),
        ),
        supports_check_mode=True,
    )


def main():
    module = build_module()
    exit_with(module, DrbdInitialSync(module).run)


if __name__ == '__main__':
    main()
