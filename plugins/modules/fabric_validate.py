#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: fabric_validate
short_description: Validate the fabric model rdma_fabric before anything changes
version_added: 0.1.0
author:
  - rdma.ha_storage contributors (!UNKNOWN)
description:
  - "Parses, normalises and validates the whole fabric model (the C(rdma_fabric) variable, see the collection's
    C(docs/fabric.md)) in one pass and fails listing B(every) problem, each naming the node, partition, network,
    pair or volume and the field, for example
    C(node stor-b port mlx4_0/1: guid 0x0002c903000e8acd is also used by stor-a)."
  - Warnings (things that work but are probably not meant, such as unknown fields or a storage node in no pair) are
    emitted as module warnings and returned in RV(fabric_warnings); they fail the task only with
    O(warnings_as_errors=true).
  - "Meant to run once on the controller, before any deployment, with C(delegate_to: localhost) and C(run_once: true)."
  - "Returns the host slice of every node (or of the nodes in O(slice_hosts)) in RV(slices), cut from the same
    analysis: the part of the model each host needs, what the P(rdma.ha_storage.fabric_host_slice#filter) filter
    gives, as JSON text. Registered by a C(run_once) task, the result is given to every host of the play (one
    object, shared), so the roles of the collection read
    C(rdma_fabric_validation['slices'][inventory_hostname] | from_json) instead of analysing the whole model again
    for each host. The slices belong to the C(rdma_fabric) this task was given: register them in the same playbook
    run that uses them, from the one C(rdma_fabric) every host sees (see C(docs/fabric.md),
    section \"Analysed once per run\")."
  - Changes nothing; the same rules are available as the P(rdma.ha_storage.fabric_errors#filter) filter.
attributes:
  check_mode:
    description: Can run in check mode and return the same result as without it.
    support: full
  diff_mode:
    description: Returns no diff; the module changes nothing.
    support: none
options:
  fabric:
    description:
      - The whole model, normally C("{{ rdma_fabric }}").
    type: dict
    required: true
  warnings_as_errors:
    description:
      - Fail when the model has warnings, even without errors.
    type: bool
    default: false
  slice_hosts:
    description:
      - The hosts whose slices RV(slices) returns, normally C("{{ ansible_play_hosts_all }}") (the hosts of the play,
        so that a run with C(--limit) does not carry the slices of the whole fabric).
      - Names that are not nodes of the model are left out, so C(inventory_hostname in rdma_fabric_validation['slices'])
        tells whether a host of the play is a node.
      - By default (unset) every node of the model. An empty list returns no slice (validation only).
    type: list
    elements: str
seealso:
  - plugin: rdma.ha_storage.fabric_errors
    plugin_type: filter
  - plugin: rdma.ha_storage.fabric_host_slice
    plugin_type: filter
  - module: rdma.ha_storage.rdma_facts
notes:
  - The model is checked by pure Python (standard library only, C(ipaddress) for networks), so the module needs no
    extra package wherever it runs.
  - Analysis and every slice take time linear in the size of the model and of the slices (about a second for
    5,000 nodes, see C(tests/benchmarks/bench_fabric.py)). The result is as large as all the slices together (about
    30 MB for 5,000 nodes and 10,000 ports); it is printed in full only with C(-v).
  - Each slice is JSON text rather than a mapping so that the registered result is a few thousand strings, not
    millions of small objects on the controller, which every later task of every host would pay for (Python's
    garbage collector walks them in each forked worker; with 5,000 slices as mappings a task took 3 times as long
    per host).
"""

EXAMPLES = r"""
- name: Validate the fabric model on the controller
  rdma.ha_storage.fabric_validate:
    fabric: "{{ rdma_fabric }}"
  delegate_to: localhost
  run_once: true

- name: Validate, treat warnings as errors, and keep the slices of the play's hosts for the roles
  rdma.ha_storage.fabric_validate:
    fabric: "{{ rdma_fabric }}"
    warnings_as_errors: true
    slice_hosts: "{{ ansible_play_hosts_all }}"
  delegate_to: localhost
  run_once: true
  register: rdma_fabric_validation

- name: Use this host's slice (the filter analyses the model again only without the registered result)
  ansible.builtin.set_fact:
    my_slice: >-
      {{ rdma_fabric_validation['slices'][inventory_hostname] | from_json
         if rdma_fabric_validation['slices'][inventory_hostname] is defined
         else rdma_fabric | rdma.ha_storage.fabric_host_slice(inventory_hostname) }}
"""

RETURN = r"""
valid:
  description: Whether the model has no errors (and no warnings with O(warnings_as_errors=true)).
  returned: always
  type: bool
  sample: true
errors:
  description: Every problem found, one string each; empty when the model is valid.
  returned: always
  type: list
  elements: str
  sample: ["node stor-b port mlx4_0/1: guid 0x0002c903000e8acd is also used by stor-a"]
fabric_warnings:
  description: Warnings, one string each (also emitted as module warnings).
  returned: always
  type: list
  elements: str
  sample: ["node stor-c: storage node is not in any ha_pair"]
summary:
  description: Normalised summary of the model (entities with normalised values, and counts).
  returned: always
  type: dict
  contains:
    partitions:
      description: Partitions with P_Key (integer with the full-membership bit and hex), IPoIB mode and MTU.
      type: list
      elements: dict
    networks:
      description: Networks with normalised CIDR, transport, purpose, partition and MTU.
      type: list
      elements: dict
    nodes:
      description: Node names by kind (storage, initiator, esx).
      type: dict
    ha_pairs:
      description: Pairs with nodes, initial primary, networks and volume names.
      type: list
      elements: dict
    srp:
      description: SRP timers after normalisation (disabled timers as C(off)).
      type: dict
    counts:
      description: Numbers of partitions, networks, nodes, ports, interfaces, ha_pairs and volumes.
      type: dict
  sample:
    counts: {partitions: 1, networks: 2, nodes: 6, ports: 11, interfaces: 6, ha_pairs: 1, volumes: 2}
slices:
  description:
    - The host slice of every node (or of every node named in O(slice_hosts)), by node name, as JSON text; parsed
      (C(from_json)), each is what P(rdma.ha_storage.fabric_host_slice#filter) returns for that host (keys C(node),
      C(ha_pair), C(initiators), C(targets), C(srp), see C(docs/fabric.md), section "Host slice").
    - Empty when the model is invalid (the task fails then) or O(slice_hosts) is empty.
  returned: always
  type: dict
  sample:
    esx-9: '{"node":{"name":"esx-9","hostname":"esx-9","kind":"esx","ports":[],"interfaces":[]},"ha_pair":null,
      "initiators":{},"targets":[],"srp":{"reconnect_delay":10,"fast_io_fail_tmo":15,"dev_loss_tmo":600,
      "scsi_timeout":30,"initiator_ext":"fe80000000000000"}}'
"""

import json

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.rdma.ha_storage.plugins.module_utils.fabric.model import analyse, summary
from ansible_collections.rdma.ha_storage.plugins.module_utils.fabric.slices import host_slices


class FabricValidator(object):
    """Validate the model and build the module result."""

    def __init__(self, module):
        self.module = module
        self.fabric = module.params['fabric']
        self.strict = module.params['warnings_as_errors']
        self.slice_hosts = module.params['slice_hosts']

    def slices(self, model):
        """JSON text of the slices of the requested hosts that are nodes (every node by default) of a valid model."""
        hosts = None
        if self.slice_hosts is not None:
            hosts = [h for h in dict.fromkeys(self.slice_hosts) if h in model.nodes]
        return dict((host, json.dumps(part, separators=(',', ':'))) for host, part in host_slices(model, hosts).items())

    def run(self):
        model = analyse(self.fabric)
        for warning in model.warnings:
            self.module.warn(warning)
        valid = not model.errors and not (self.strict and model.warnings)
        result = {
            'changed': False,
            'valid': valid,
            'errors': list(model.errors),
            'fabric_warnings': list(model.warnings),
            'summary': summary(model),
            'slices': self.slices(model) if valid else {},
        }
        if not valid:
            problems = list(model.errors) + (list(model.warnings) if self.strict else [])
            shown = problems[:50]
            more = len(problems) - len(shown)
            msg = 'rdma_fabric has %d problem%s: %s%s' % (
                len(problems), '' if len(problems) == 1 else 's', '; '.join(shown),
                '; ... and %d more (see errors)' % more if more else '')
            self.module.fail_json(msg=msg, **result)
        self.module.exit_json(**result)


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            fabric=dict(type='dict', required=True),
            warnings_as_errors=dict(type='bool', default=False),
            slice_hosts=dict(type='list', elements='str'),
        ),
        supports_check_mode=True,
    )


def main():
    module = build_module()
    FabricValidator(module).run()


if __name__ == '__main__':
    main()
