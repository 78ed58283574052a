#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: lio_srpt
short_description: Export block devices as SRP LUNs with the Linux LIO target (ib_srpt), through configfs
version_added: 0.1.0
author:
  - rdma.ha_storage contributors (!UNKNOWN)
description:
  - Makes the LIO SCSI target export O(volumes) over SRP (kernel module C(ib_srpt)) on every port of
    O(target_ports), or removes that export (O(state=absent)).
  - Works on configfs directly, without C(targetcli). Each volume is an C(iblock) backstore
    C(core/iblock_N/NAME) with its device and unit serial (C(wwn/vpd_unit_serial), the same on both nodes
    of an HA pair so that initiators see one WWID), exported as LUN O(volumes[].lun) of each target
    port's TPG C(srpt/PORT/tpgt_1) (the name targetcli gives it and lists) and mapped, under the same LUN number, into the ACL of each initiator
    port of O(volumes[].initiators). The TPG is enabled last.
  - An existing backstore is found by its name in whichever C(iblock_N) it is; a new one gets the
    lowest free C(iblock_N).
  - Objects the options do not name (other backstores, target ports, LUNs, ACLs) are left alone unless
    O(purge=true).
  - The module refuses, changing nothing, when an existing object contradicts the options in a way only
    destroying it would fix, for example an enabled backstore of the same name on another device, another
    serial while LUNs export the backstore (LIO refuses that change), or a LUN number that exports
    another backstore. The message names the object, the field and the way out.
  - The same code (C(plugins/module_utils/lio.py)) runs in the OCF resource agent C(lio_srpt) of the
    rdma.ha_storage.srp_target role, which starts, stops and monitors the export under Pacemaker.
attributes:
  check_mode:
    support: full
    description: Reads configfs and reports the plan; changes nothing.
  diff_mode:
    support: full
    description: Shows the export before and after, one configfs object per line.
options:
  volumes:
    description: The exported volumes.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Backstore name (1-63 letters, digits, C(_), C(.), C(-)); the volume name of the model.
        type: str
        required: true
      device:
        description: The block device the backstore exports, such as C(/dev/drbd0).
        type: path
        required: true
      serial:
        description:
          - The unit serial (C(vpd_unit_serial)), 1-253 printable characters without spaces; LIO derives
            the LUN WWID from its first 25 hex digits.
        type: str
        required: true
      lun:
        description: LUN number in every TPG, and in every initiator's ACL (0-16383).
        type: int
        required: true
      initiators:
        description:
          - SRP initiator port ids allowed to see this LUN (one ACL each), C(0x) followed by 32 hex digits
            (C(ib.) followed by 32 hex digits, as targetcli writes them, is accepted).
        type: list
        elements: str
        default: []
  target_ports:
    description:
      - The ib_srpt target ports, named in the GID form C(0xfe80000000000000) followed by the port GUID
        (C(ib.fe80...), the targetcli spelling, is accepted and normalised). The GUID form
        (C(0002:c903:000e:8acd)) is refused, RDMA/CM logins to it are rejected.
    type: list
    elements: str
    required: true
  rdma_cm_port:
    description:
      - TCP port on which ib_srpt accepts SRP logins over RDMA/CM
        (C(srpt/discovery_auth/rdma_cm_port)). V(null) leaves it as it is.
      - An integer (1-65535) or V(null); a string of digits is taken as the integer.
      - On kernels without that attribute (the port is then an ib_srpt module parameter) it is not set.
    type: raw
    default: 5555
  generate_node_acls:
    description:
      - Write the TPG attribute C(generate_node_acls) (demo mode, any initiator may log in).
      - ib_srpt has no demo mode on current kernels (no such attribute); V(true) then fails. Keep
        V(false) and list the initiators.
    type: bool
    default: false
  state:
    description:
      - V(present) builds the export; V(absent) tears it down in safe order (TPGs disabled first, mapped
        LUNs, ACLs, LUNs, TPGs, target ports, then the backstores).
    type: str
    choices: [present, absent]
    default: present
  purge:
    description:
      - With O(state=present), remove first, in safe order, every srpt target port, TPG, LUN, ACL, mapped
        LUN and backstore the options do not name. A backstore another fabric (iSCSI, ...) exports is
        kept.
    type: bool
    default: false
  configfs_root:
    description: The LIO configfs directory; change it only for tests or an unusual configfs mount.
    type: path
    default: /sys/kernel/config/target
notes:
  - The kernel modules (C(target_core_mod), C(target_core_iblock), C(ib_srpt)) must be loaded and
    configfs mounted; the module says which is missing. In check mode that is only a warning.
  - Under Pacemaker the cluster starts and stops the export (the OCF agent of the srp_target role);
    use this module there only for what the cluster does not own.
seealso:
  - module: rdma.ha_storage.kernel_modules
"""

EXAMPLES = r"""
- name: Export vol0 (DRBD device) to two initiator ports on one target port
  rdma.ha_storage.lio_srpt:
    target_ports: [ib.fe800000000000000002c903000e8acd]
    volumes:
      - name: vol0
        device: /dev/drbd0
        serial: 5a1e0d3f0000
        lun: 0
        initiators: [0xfe800000000000000002c903001a2b01, 0xfe80000000000000248a070300a1b2c1]

- name: Tear the export down
  rdma.ha_storage.lio_srpt:
    state: absent
    target_ports: [ib.fe800000000000000002c903000e8acd]
    volumes:
      - {name: vol0, device: /dev/drbd0, serial: 5a1e0d3f0000, lun: 0}
"""

RETURN = r"""
actions:
  description: What the module did (or would do, in check mode), one sentence per configfs change, in order.
  returned: always
  type: list
  elements: str
  sample: ["create backstore vol0 (core/iblock_0/vol0)", "enable backstore vol0"]
state_before:
  description: The LIO objects configfs held before the run, one per line (paths below O(configfs_root)).
  returned: always
  type: list
  elements: str
  sample: ["core/iblock_0/vol0 device=/dev/drbd0 serial=5a1e0d3f0000 enable=1", "srpt rdma_cm_port=5555"]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.rdma.ha_storage.plugins.module_utils.lio import (
    LioError, SetupError, apply, check_environment, describe, monitor, plan, plan_stop, read_state, simulate,
    spec_from_dict)
from ansible_collections.rdma.ha_storage.plugins.module_utils.runner import exit_with


class LioSrpt(object):
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.root = self.params['configfs_root']

    def spec(self):
        return spec_from_dict(dict((key, self.params[key]) for key in (
            'volumes', 'target_ports', 'rdma_cm_port', 'generate_node_acls')))

    def run(self):
        spec = self.spec()
        present = self.params['state'] == 'present'
        if present:
            try:
                check_environment(self.root)
            except SetupError as exc:
                if not self.module.check_mode:
                    raise
                # the modules may be loaded by an earlier task that check mode did not run
                self.module.warn(exc.msg)
        before = read_state(self.root)
        actions = plan(before, spec, purge=self.params['purge']) if present else plan_stop(before, spec)
        result = dict(changed=bool(actions), actions=[a.sentence for a in actions],
                      state_before=describe(before).splitlines())
        if self.module._diff:
            header = 'LIO configfs %s' % self.root
            result['diff'] = dict(before=describe(before), after=describe(simulate(before, actions)),
                                  before_header=header, after_header=header)
        if actions and not self.module.check_mode:
            apply(actions, self.root)
            status, problems = monitor(read_state(self.root), spec)
            wanted = 'running' if present else 'stopped'
            if status != wanted:
                raise LioError('the export is %s, not %s, after the changes: %s' % (
                    status, wanted, '; '.join(problems) or 'some of its objects are left'))
        return result


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            volumes=dict(type='list', elements='dict', default=[], options=dict(
                name=dict(type='str', required=True),
                device=dict(type='path', required=True),
                serial=dict(type='str', required=True),
                lun=dict(type='int', required=True),
                initiators=dict(type='list', elements='str', default=[]),
            )),
            target_ports=dict(type='list', elements='str', required=True),
            # raw: an int option with a default cannot be given null (ansible-core 2.19 converts it)
            rdma_cm_port=dict(type='raw', default=5555),
            generate_node_acls=dict(type='bool', default=False),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            purge=dict(type='bool', default=False),
            configfs_root=dict(type='path', default='/sys/kernel/config/target'),
        ),
        supports_check_mode=True,
    )


def main():
    module = build_module()
    exit_with(module, LioSrpt(module).run, errors=(LioError,))


if __name__ == '__main__':
    main()
