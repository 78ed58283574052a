#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: pacemaker_cib
short_description: Bring Pacemaker's configuration (CIB) to the given resources, constraints and properties, object by object
version_added: 0.1.0
author:
  - rdma.ha_storage contributors (!UNKNOWN)
description:
  - Reads the live configuration (C(cibadmin --query --scope configuration)), compares it by id with the
    objects the options give (primitives, stonith devices, promotable clones, colocation, order and
    location constraints, C(crm_config) and C(rsc_defaults) properties) and applies only the difference, one command
    per changed object.
  - A missing resource or constraint is created (C(cibadmin --create)). Changed or new instance attributes,
    meta attributes and operations of an existing resource are one C(cibadmin --modify) carrying only those
    nvpairs or ops (the ids already in the CIB are kept); an extra instance attribute or operation is deleted
    by its id; an operation that must lose an attribute is replaced alone. A resource is never re-created and
    never replaced as a whole, so a running resource is not restarted or moved by this module. Pacemaker itself
    restarts (or reloads) a resource whose instance attributes change, as it always does for a new parameter.
  - Meta attributes the options do not name (C(target-role), C(is-managed), ...) are left alone; they are
    an operator's state.
  - A changed constraint is replaced (a constraint has no running state). Properties are set with
    C(crm_attribute --type crm_config|rsc_defaults --update).
  - The module refuses, changing nothing, when an object in the CIB contradicts the options in a way only
    re-creating it would fix (another agent, a primitive to move into or out of a clone, an id taken by
    another kind of object). The message names the object.
  - Objects the options do not name are left alone unless O(purge=true). Location constraints the options do
    not name (C(cli-ban-*), C(cli-prefer-*) of C(crm_resource --move), DRBD's C(drbd-fence-by-handler-*)) are
    never touched, purge or not.
attributes:
  check_mode:
    support: full
    description: Reads the CIB and reports the plan; changes nothing.
  diff_mode:
    support: full
    description: Shows the managed objects before and after, one block per object.
options:
  primitives:
    description: Primitive resources, and stonith devices (agent C(stonith:TYPE)).
    type: list
    elements: dict
    default: []
    suboptions:
      id:
        description: The resource id.
        type: str
        required: true
      agent:
        description: The agent, C(ocf:PROVIDER:TYPE) (C(ocf:linbit:drbd)), C(stonith:TYPE) (C(stonith:fence_redfish)), C(systemd:UNIT), ...
        type: str
        required: true
      instance_attrs:
        description: The agent's parameters (instance attributes), name to value. Exactly these are set; others are removed.
        type: dict
        default: {}
      meta_attrs:
        description: Meta attributes, name to value. These are set; others are left alone.
        type: dict
        default: {}
      operations:
        description: Operations. Exactly these are in the CIB afterwards; they are matched by O(primitives[].operations[].action) and interval.
        type: list
        elements: dict
        default: []
        suboptions:
          action:
            description: The operation (C(monitor), C(start), C(stop), C(promote), C(demote), C(notify), ...).
            type: str
            required: true
          interval:
            description: Its interval, as Pacemaker reads it (C(10s), C(500ms), C(1min)); C(0s) for a one-off operation.
            type: str
            default: 0s
          role:
            description: The role a monitor runs in, C(Promoted) or C(Unpromoted) (C(Master)/C(Slave) are taken as those).
            type: str
          timeout:
            description: Its timeout (C(20s)).
            type: str
          attrs:
            description: Further op attributes (C(on-fail), C(start-delay), ...), name to value.
            type: dict
            default: {}
  clones:
    description: Clones of some of O(primitives).
    type: list
    elements: dict
    default: []
    suboptions:
      id:
        description: The clone's id.
        type: str
        required: true
      resource:
        description: The id of the primitive it clones (one of O(primitives)).
        type: str
        required: true
      promotable:
        description: A promotable clone (meta attribute C(promotable=true)).
        type: bool
        default: false
      meta_attrs:
        description: Meta attributes (C(notify), C(promoted-max), C(clone-max), ...), name to value. These are set; others are left alone.
        type: dict
        default: {}
  colocations:
    description: Colocation constraints between two resources (clones by the clone's id).
    type: list
    elements: dict
    default: []
    suboptions:
      id:
        description: The constraint's id.
        type: str
        required: true
      rsc:
        description: The resource placed.
        type: str
        required: true
      with_rsc:
        description: The resource it is placed with.
        type: str
        required: true
      score:
        description: The score.
        type: str
        default: INFINITY
      rsc_role:
        description: The role of O(colocations[].rsc) it applies to.
        type: str
      with_rsc_role:
        description: The role of O(colocations[].with_rsc) it applies to (C(Promoted) for a promotable clone's promoted instance).
        type: str
  orders:
    description: Order constraints.
    type: list
    elements: dict
    default: []
    suboptions:
      id:
        description: The constraint's id.
        type: str
        required: true
      first:
        description: The resource whose action comes first.
        type: str
        required: true
      first_action:
        description: Its action (C(promote) for a promotable clone).
        type: str
        default: start
      then:
        description: The resource whose action follows.
        type: str
        required: true
      then_action:
        description: Its action.
        type: str
        default: start
      kind:
        description: C(Mandatory), C(Optional) or C(Serialize).
        type: str
        default: Mandatory
  locations:
    description:
      - Location constraints of one resource, on one node with a score, such as a fence device kept off the node it
        fences (O(locations[].score=-INFINITY)); or by a rule on node attributes, such as the SRP export kept off a
        node whose fabric ports are down.
      - A rule-based location is compared by its score, boolean operation and expressions (not by the ids of
        the rule and expressions); a changed one is replaced whole.
    type: list
    elements: dict
    default: []
    suboptions:
      id:
        description: The constraint's id.
        type: str
        required: true
      rsc:
        description: The resource placed (a clone by the clone's id).
        type: str
        required: true
      role:
        description:
          - The role it applies to (C(Promoted) for a promotable clone's promoted instance); unset, every role.
        type: str
      node:
        description: The node's name. Exactly one of O(locations[].node) and O(locations[].rule).
        type: str
      score:
        description:
          - The score on O(locations[].node) (C(-INFINITY) never runs O(locations[].rsc) there). Default C(INFINITY).
          - Not with O(locations[].rule), whose score is O(locations[].rule.score).
        type: str
      rule:
        description: The score applies on every node where this rule of node attributes holds.
        type: dict
        suboptions:
          score:
            description: The score added on the nodes where the rule holds (negative keeps the resource or role away).
            type: str
            required: true
          boolean_op:
            description: How the expressions combine.
            type: str
            choices: [and, or]
            default: and
          expressions:
            description: Node-attribute expressions (C(attribute operation value)).
            type: list
            elements: dict
            required: true
            suboptions:
              attribute:
                description: The node attribute, such as one a resource agent sets with C(attrd_updater).
                type: str
                required: true
              operation:
                description: The comparison. An attribute a node does not have makes C(lt), C(gt), C(eq) ... false.
                type: str
                required: true
                choices: [lt, gt, lte, gte, eq, ne, defined, not_defined]
              value:
                description: The value compared with (not with C(defined), C(not_defined)).
                type: str
              type:
                description: How the values compare (C(number) for counts).
                type: str
                choices: [string, number, version]
  crm_config:
    description: Cluster properties (C(cib-bootstrap-options)), name to value, such as C(stonith-enabled). Others are left alone.
    type: dict
    default: {}
  rsc_defaults:
    description: Resource defaults, name to value, such as C(resource-stickiness). Others are left alone.
    type: dict
    default: {}
  purge:
    description:
      - Also delete every primitive, clone, colocation and order constraint of the CIB the options do not
        name (Pacemaker stops a deleted resource). Location constraints (C(crm resource move/ban)'s, DRBD's
        fence handler's) and groups are kept.
    type: bool
    default: false
  cib_file:
    description:
      - Work on this CIB file (C(CIB_file) of the Pacemaker tools, an offline CIB) instead of the running
        cluster; for tests and for preparing a CIB.
    type: path
notes:
  - Needs C(cibadmin) and C(crm_attribute) (Debian package C(pacemaker-cli-utils)) and, without O(cib_file), a
    running cluster on the host. Run it on one node of the cluster (C(run_once)); the CIB is the cluster's.
seealso:
  - module: rdma.ha_storage.lio_srpt
"""

EXAMPLES = r"""
- name: A promotable DRBD clone, the SRP export with it and after its promotion
  rdma.ha_storage.pacemaker_cib:
    crm_config:
      stonith-enabled: true
    primitives:
      - id: drbd_vol0
        agent: ocf:linbit:drbd
        instance_attrs: {drbd_resource: vol0}
        operations:
          - {action: monitor, interval: 29s, role: Promoted, timeout: 20s}
          - {action: monitor, interval: 31s, role: Unpromoted, timeout: 20s}
      - id: srpt
        agent: ocf:rdma_ha_storage:lio_srpt
        operations:
          - {action: monitor, interval: 10s, timeout: 20s}
    clones:
      - id: ms_drbd_vol0
        resource: drbd_vol0
        promotable: true
        meta_attrs: {notify: true, promoted-max: 1, clone-max: 2}
    colocations:
      - {id: col_srpt_with_vol0, rsc: srpt, with_rsc: ms_drbd_vol0, with_rsc_role: Promoted}
    orders:
      - {id: ord_vol0_before_srpt, first: ms_drbd_vol0, first_action: promote, then: srpt}
  run_once: true
"""

RETURN = r"""
actions:
  description: What the module did (or would do, in check mode), one sentence per command, in order.
  returned: always
  type: list
  elements: str
  sample: ["primitive srpt: set meta migration-threshold=5"]
commands:
  description: The commands run (or that would run), one per action, as argument lists.
  returned: always
  type: list
  elements: list
state_before:
  description: The managed objects as the CIB had them, one line per object or attribute set.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.rdma.ha_storage.plugins.module_utils.pacemaker import (
    Desired, PacemakerError, describe, parse_config, plan)
from ansible_collections.rdma.ha_storage.plugins.module_utils.runner import CommandError, Runner, exit_with

PACKAGE = 'pacemaker-cli-utils'


class PacemakerCib(object):
    def __init__(self, module):
        self.module = module
        self.params = module.params
        environ = {'CIB_file': self.params['cib_file']} if self.params['cib_file'] else {}
        self.runners = dict((tool, Runner(module, tool, package=PACKAGE, environ=environ))
                            for tool in ('cibadmin', 'crm_attribute'))

    def desired(self):
        p = self.params
        return Desired(p['primitives'], p['clones'], p['colocations'], p['orders'], p['crm_config'],
                       p['rsc_defaults'], p['locations'])

    def query(self):
        result = self.runners['cibadmin'].run(['--query', '--scope', 'configuration'])
        return parse_config(result.stdout)

    def run(self):
        desired = self.desired()
        purge = self.params['purge']
        live = self.query()
        actions = plan(live, desired, purge=purge)
        before = describe(live, desired, purge=purge)
        result = dict(changed=bool(actions), actions=[a.sentence for a in actions],
                      commands=[[a.tool] + a.args for a in actions], state_before=before.splitlines())
        if self.module._diff:
            result['diff'] = dict(before=before, after=describe(live, desired, purge=purge, after=True),
                                  before_header='CIB (managed objects)', after_header='CIB (managed objects)')
        if not actions or self.module.check_mode:
            return result
        for action in actions:
            try:
                self.runners[action.tool].run(action.args, changes=True)
            except CommandError as exc:
                exc.msg = '%s: %s' % (action.obj, exc.msg)
                raise
        left = plan(self.query(), desired, purge=purge)
        if left:
            raise PacemakerError('the CIB still differs after the changes: %s' % '; '.join(a.sentence for a in left))
        return result


def build_module():
    nvs = dict(type='dict', default={})
    return AnsibleModule(
        argument_spec=dict(
            primitives=dict(type='list', elements='dict', default=[], options=dict(
                id=dict(type='str', required=True),
                agent=dict(type='str', required=True),
                instance_attrs=nvs,
                meta_attrs=nvs,
                operations=dict(type='list', elements='dict', default=[], options=dict(
                    action=dict(type='str', required=True),
                    interval=dict(type='str', default='0s'),
                    role=dict(type='str'),
                    timeout=dict(type='str'),
                    attrs=nvs,
                )),
            )),
            clones=dict(type='list', elements='dict', default=[], options=dict(
                id=dict(type='str', required=True),
                resource=dict(type='str', required=True),
                promotable=dict(type='bool', default=False),
                meta_attrs=nvs,
            )),
            colocations=dict(type='list', elements='dict', default=[], options=dict(
                id=dict(type='str', required=True),
                rsc=dict(type='str', required=True),
                with_rsc=dict(type='str', required=True),
                score=dict(type='str', default='INFINITY'),
                rsc_role=dict(type='str'),
                with_rsc_role=dict(type='str'),
            )),
            orders=dict(type='list', elements='dict', default=[], options=dict(
                id=dict(type='str', required=True),
                first=dict(type='str', required=True),
                first_action=dict(type='str', default='start'),
                then=dict(type='str', required=True),
                then_action=dict(type='str', default='start'),
                kind=dict(type='str', default='Mandatory'),
            )),
            locations=dict(type='list', elements='dict', default=[], options=dict(
                id=dict(type='str', required=True),
                rsc=dict(type='str', required=True),
                role=dict(type='str'),
                node=dict(type='str'),
                score=dict(type='str'),
                rule=dict(type='dict', options=dict(
                    score=dict(type='str', required=True),
                    boolean_op=dict(type='str', choices=['and', 'or'], default='and'),
                    expressions=dict(type='list', elements='dict', required=True, options=dict(
                        attribute=dict(type='str', required=True),
                        operation=dict(type='str', required=True, choices=[
                            'lt', 'gt', 'lte', 'gte', 'eq', 'ne', 'defined', 'not_defined']),
                        value=dict(type='str'),
                        type=dict(type='str', choices=['string', 'number', 'version']),
                    )),
                )),
            ), mutually_exclusive=[['node', 'rule'], ['score', 'rule']], required_one_of=[['node', 'rule']]),
            crm_config=nvs,
            rsc_defaults=nvs,
            purge=dict(type='bool', default=False),
            cib_file=dict(type='path'),
        ),
        supports_check_mode=True,
    )


def main():
    module = build_module()
    exit_with(module, PacemakerCib(module).run, errors=(PacemakerError,))


if __name__ == '__main__':
    main()
