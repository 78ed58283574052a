#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: drbd_resource
short_description: Bring DRBD resources up, or apply their configuration to the running ones
version_added: 0.1.0
author:
  - rdma.ha_storage contributors (!UNKNOWN)
description:
  - Runs C(drbdadm up) for each resource of O(resources) that is not up on this node, and with
    O(state=adjusted) C(drbdadm adjust) for each one that is up, so that it runs the
    configuration of its files (options, addresses and disks are changed in place, also on a
    Primary).
  - Whether a resource is up is read as M(rdma.ha_storage.drbd_status) reads it (C(/proc/drbd)
    with DRBD 8.4, C(drbdadm sh-resources)/C(sh-minor) for the names; C(drbdsetup status --json)
    with DRBD 9).
  - The module never takes a resource down, never disconnects, demotes or promotes one.
  - Every resource is handled even when an earlier one fails; the module then fails naming each
    failed resource with the rc and the words of C(drbdadm), the shared secret masked
    (C(drbdadm) prints the failing C(drbdsetup ... --shared-secret=...) command line).
attributes:
  check_mode:
    support: full
    description: The state is read and RV(commands) lists what would run; nothing runs.
  diff_mode:
    support: none
    description: The commands change running resources, not files; there is no diff.
options:
  resources:
    description: Names of the DRBD resources (as in their C(.res) files).
    type: list
    elements: str
    required: true
  state:
    description:
      - V(up) brings up the resources that are not up and leaves running ones alone.
      - V(adjusted) also runs C(drbdadm adjust) for every resource that is up. C(adjust) is
        reported as a change whenever it ran (it says nothing when there was nothing to change).
    type: str
    choices: [up, adjusted]
    default: up
  config:
    description: DRBD configuration file (C(drbdadm -c)); default is drbdadm's own.
    type: path
  secret:
    description:
      - The shared secret of the resources' configuration. It is masked (C(********)) in
        everything the module returns. Any C(shared-secret) value in drbdadm's messages is masked
        as well, known or not.
    type: str
notes:
  - The DRBD kernel module must be loaded (C(/proc/drbd)); the module fails otherwise.
  - C(drbdadm up) needs the resource's metadata, so run M(rdma.ha_storage.drbd_metadata) first.
requirements:
  - drbd-utils (C(drbdadm), C(drbdsetup)) on the managed host.
seealso:
  - module: rdma.ha_storage.drbd_config
  - module: rdma.ha_storage.drbd_metadata
  - module: rdma.ha_storage.drbd_status
"""

EXAMPLES = r"""
- name: Bring up vol0 and vol1 where they are not up
  rdma.ha_storage.drbd_resource:
    resources: [vol0, vol1]
    secret: "{{ drbd_shared_secret }}"

- name: Apply a changed configuration to the running resources (handler of drbd_config)
  rdma.ha_storage.drbd_resource:
    resources: [vol0, vol1]
    state: adjusted
    secret: "{{ drbd_shared_secret }}"
"""

RETURN = r"""
brought_up:
  description: Resources that C(drbdadm up) brought up (in check mode, would bring up).
  returned: always
  type: list
  elements: str
  sample: [vol1]
adjusted:
  description: Resources that C(drbdadm adjust) ran for (in check mode, would run for).
  returned: always
  type: list
  elements: str
  sample: [vol0]
already_up:
  description: Resources of O(resources) that were up when the module started.
  returned: always
  type: list
  elements: str
  sample: [vol0]
commands:
  description: The commands that ran (in check mode, that would run), in order, secret masked.
  returned: always
  type: list
  elements: str
  sample: ["/usr/sbin/drbdadm up vol1", "/usr/sbin/drbdadm adjust vol0"]
failures:
  description: Per failed resource, C(resource), C(action) (C(up) or C(adjust)), C(cmd), C(rc),
    C(stdout) and C(stderr) (secret masked).
  returned: failure
  type: list
  elements: dict
rc:
  description: Exit code of the first command that failed.
  returned: failure
  type: int
  sample: 10
stderr:
  description: What the first failed command printed on stderr, secret masked.
  returned: failure
  type: str
stdout:
  description: What the first failed command printed on stdout, secret masked.
  returned: failure
  type: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.rdma.ha_storage.plugins.module_utils.drbd import DrbdCli, collect_status
from ansible_collections.rdma.ha_storage.plugins.module_utils.runner import (
    CommandError, command_line, exit_with, one_line)


def plan(resources, up, state):
    """[(resource, action)] for the resources in order, without repetitions: 'up' for one that is
    not up, 'adjust' for one that is (state 'adjusted' only)."""
    actions = []
    seen = set()
    for name in resources:
        if name in seen:
            continue
        seen.add(name)
        if name not in up:
            actions.append((name, 'up'))
        elif state == 'adjusted':
            actions.append((name, 'adjust'))
    return actions


class DrbdResource(object):
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.cli = DrbdCli(module, config=self.params['config'], secret=self.params['secret'] or None)

    def run(self):
        for index, name in enumerate(self.params['resources']):
            if not name or name.startswith('-') or any(c.isspace() or c == '/' for c in name):
                self.module.fail_json(msg='resources[%d]: %r is not a DRBD resource name' % (index, name))
        loaded, dummy, dummy, dummy, status = collect_status(self.cli)
        if not loaded:
            self.module.fail_json(msg='the DRBD kernel module is not loaded (no /proc/drbd): cannot bring up or adjust %s'
                                  % ', '.join(self.params['resources']))
        result = dict(changed=False, brought_up=[], adjusted=[], commands=[],
                      already_up=[name for name in self.params['resources'] if name in status])
        failures = []
        for name, action in plan(self.params['resources'], status, self.params['state']):
            try:
                done = self.cli.adm(action, name, changes=True)
            except CommandError as exc:
                result['commands'].append(command_line(exc.cmd))
                failures.append(dict(resource=name, action=action, cmd=exc.cmd, rc=exc.rc, stdout=exc.stdout,
                                     stderr=exc.stderr))
                continue
            result['commands'].append(done.command_line)
            result['brought_up' if action == 'up' else 'adjusted'].append(name)
            result['changed'] = True
        if failures:
            first = failures[0]
            self.module.fail_json(
                msg='; '.join('drbdadm %s %s failed (rc %s): %s' % (
                    f['action'], f['resource'], f['rc'], one_line(f['stderr']) or one_line(f['stdout']) or '(no message)')
                    for f in failures),
                failures=failures, cmd=first['cmd'], rc=first['rc'], stdout=first['stdout'], stderr=first['stderr'],
                **result)
        return result


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            resources=dict(type='list', elements='str', required=True),
            state=dict(type='str', default='up', choices=['up', 'adjusted']),
            config=dict(type='path'),
            secret=dict(type='str', no_log=True),
        ),
        supports_check_mode=True,
    )


def main():
    module = build_module()
    exit_with(module, DrbdResource(module).run)


if __name__ == '__main__':
    main()
