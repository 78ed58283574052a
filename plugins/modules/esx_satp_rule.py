#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: esx_satp_rule
short_description: The SATP claim rule for the storage pair's LUNs on an ESX host, its reclaim and the SRP driver VIBs
version_added: 0.2.0
author:
  - rdma.ha_storage contributors (!UNKNOWN)
description:
  - Makes sure an ESX host has an NMP SATP claim rule for the LUNs that LIO exports (SCSI vendor
    C(LIO-ORG)), or has not the one this module added, with C(esxcli storage nmp satp rule add/remove)
    run over SSH. Claim rules are not reachable through the vSphere API.
  - Without such a rule ESX claims an SRP LUN with C(VMW_SATP_LOCAL), which does no multipathing
    (quantum/esos issue 112).
  - A rule applies to devices claimed after it is added. O(reclaim) reclaims devices that are already
    there (C(esxcli storage core claiming reclaim)).
  - Before adding the rule it checks that the host has the driver VIBs of ESX's SRP initiator
    (O(required_vibs)), and fails naming the host and the missing VIBs when it has not.
  - "Runs on the controller (C(delegate_to: localhost)) with the OpenSSH client; the host needs its
    SSH service (TSM-SSH) running and the controller's key in C(/etc/ssh/keys-<user>/authorized_keys)."
  - Idempotent. A rule is added only when no rule for the vendor (and model) gives the wanted SATP and
    PSP. It removes or replaces only a C(user) rule for the vendor and model whose description is
    O(description), that is, one this module added; a system rule or another user's rule for the vendor
    that asks for something else makes it fail and say so. It never touches the rules of other vendors.
notes:
  - "Which SATP and PSP for the storage pair: V(VMW_SATP_ALUA) with V(VMW_PSP_MRU) and claim option
    V(tpgs_on), the defaults. LIO reports implicit ALUA (TPGS) in its INQUIRY data, so the ALUA SATP
    claims its LUNs and follows the target port group states; this is the pair Ceph's ESX
    documentation gives for LIO's iSCSI gateway. The standby exports nothing, so a LUN has one live path
    at a time, through the Primary's port: after a failover that path is dead and the new Primary's
    path appears after a rescan. MRU stays on the path that works and never moves back by itself.
    V(VMW_PSP_FIXED), the PSP ESX picks without a rule (with V(VMW_SATP_DEFAULT_AA)), moves back to its
    preferred path when that path returns, which for this pair is the old Primary's port: back only
    once that node is Primary again, and a pointless switch otherwise. V(VMW_PSP_RR) would spread I/O
    over paths of which only one works (ESOS warns against round robin with implicit ALUA)."
  - "V(tpgs_off) (claim LUNs that do not report TPGS) only makes sense with a non-ALUA SATP such as
    V(VMW_SATP_DEFAULT_AA); the ALUA SATP does not claim a LUN without TPGS."
  - "Reclaiming a device unclaims its paths and claims them again; ESX refuses when the device is in
    use (a mounted VMFS datastore, a running VM's disk, I/O in flight). Such a device is returned in
    RV(not_reclaimed) with what to do, and the module warns; it does not fail. A reboot of the host (in
    maintenance mode) claims every device under the new rule."
  - The VIB check runs with O(state=present) only. Mellanox's OFED bundle for ESXi 5.x/6.0
    (MLNX-OFED-ESX-1.8.2.x) carries the VIBs of the defaults; its 2.x bundles and the native drivers of
    ESXi 6.5 and later have no C(scsi-ib-srp), so no SRP initiator.
  - Check mode runs the reads (rule list, VIB list, device lists) and none of the changes.
  - The esxcli output is read in esxcli's default format. Tested against public samples of that
    output only (docs/esx-claim-rules.md), not against a real ESX host.
attributes:
  check_mode:
    support: full
    description: The rule that would be added or removed and the devices that would be reclaimed are reported; no esxcli add, remove or reclaim runs.
  diff_mode:
    support: full
    description: The vendor's rules before and after, one line each.
options:
  satp:
    description:
      - The storage array type plugin the rule gives the vendor's LUNs. esxcli refuses a name the host does not know.
    type: str
    default: VMW_SATP_ALUA
  psp:
    description:
      - The rule's path selection policy (the PSP of the LUNs it claims).
    type: str
    default: VMW_PSP_MRU
  vendor:
    description:
      - The SCSI vendor the rule matches (LIO reports V(LIO-ORG)).
    type: str
    default: LIO-ORG
  model:
    description:
      - The SCSI model the rule matches, when it should not take every model of O(vendor).
    type: str
  claim_options:
    description:
      - The rule's claim options, for example V(tpgs_on) (claim only LUNs that report ALUA target port
        groups) or V(tpgs_off). An empty string for none.
    type: str
    default: tpgs_on
  psp_options:
    description:
      - The PSP options of the rule (for example V(iops=1) with V(VMW_PSP_RR)).
    type: str
  description:
    description:
      - The rule's description. It is how the module knows a rule as its own, the only kind it removes or replaces.
    type: str
    default: rdma.ha_storage LIO SRP pair
  state:
    description:
      - V(present) adds the rule where it is missing; V(absent) removes the rule this module added.
    type: str
    choices: [present, absent]
    default: present
  reclaim:
    description:
      - Devices to reclaim once the rule is there, so that the rule's SATP claims them.
      - V(true) for every device whose SCSI vendor (and model) the rule matches and whose SATP is not
        O(satp); a list of device names (C(naa.6001405...)) for those only (each one whose SATP is
        already O(satp) is left alone); V(false) for none.
      - Ignored with O(state=absent).
    type: raw
    default: false
  required_vibs:
    description:
      - The VIBs the host must have (by name, C(esxcli software vib list)) before the rule is added.
      - The default are the VIBs of ESX's SRP initiator in Mellanox's OFED bundle for ESXi 5.x/6.0, that is
        C(scsi-ib-srp) (ib_srp) and the InfiniBand and ConnectX-3 drivers under it. An empty list skips the check.
    type: list
    elements: str
    default: [scsi-ib-srp, net-ib-core, net-ib-cm, net-ib-sa, net-ib-mad, net-mlx4-core, net-mlx4-ib]
  esx_host:
    description:
      - The ESX host's name or address, for SSH.
    type: str
    required: true
  esx_user:
    description:
      - The user to log in as.
    type: str
    default: root
  esx_port:
    description:
      - The SSH port.
    type: int
    default: 22
  ssh_private_key_file:
    description:
      - The private key to log in with; without it, ssh's own (agent, C(~/.ssh/id_*)). There is no password login (C(BatchMode=yes)).
    type: path
  ssh_strict_host_key_checking:
    description:
      - ssh's C(StrictHostKeyChecking). V(yes) needs the host's key in known_hosts; V(accept-new) records
        a key seen for the first time and refuses a changed one; V(no) accepts any key (a lab only).
    type: str
    choices: ['yes', 'accept-new', 'no']
    default: 'yes'
  ssh_timeout:
    description:
      - ssh's C(ConnectTimeout), in seconds.
    type: int
    default: 10
seealso:
  - module: rdma.ha_storage.esx_path_policy
  - module: rdma.ha_storage.esx_srp_rescan
  - name: Ceph, "iSCSI initiator for VMware ESX" (LIO, ALUA and MRU)
    link: https://docs.ceph.com/en/latest/rbd/iscsi-initiator-esx/
    description: The SATP and PSP Ceph gives ESX for LIO's iSCSI gateway.
"""

EXAMPLES = r"""
- name: The LIO-ORG claim rule, and reclaim the pair's LUNs already claimed otherwise
  rdma.ha_storage.esx_satp_rule:
    esx_host: esx-1.example.net
    ssh_private_key_file: ~/.ssh/esx_ed25519
    reclaim: true
  delegate_to: localhost

- name: Remove the rule this module added
  rdma.ha_storage.esx_satp_rule:
    esx_host: esx-1.example.net
    state: absent
  delegate_to: localhost
"""

RETURN = r"""
rule:
  description: The rule as this module wants it (state present), or as it found it (state absent; null when there was none).
  returned: always
  type: dict
  sample:
    satp: VMW_SATP_ALUA
    vendor: LIO-ORG
    model: ''
    claim_options: tpgs_on
    psp: VMW_PSP_MRU
    psp_options: ''
    description: rdma.ha_storage LIO SRP pair
    rule_group: user
vendor_rules:
  description: Every rule for O(vendor) on the host, read after the change (in check mode, before).
  returned: always
  type: list
  elements: dict
added:
  description: Whether the rule was (in check mode, would be) added.
  returned: always
  type: bool
removed:
  description: The rules of this module that were (would be) removed, each a dict like RV(rule).
  returned: always
  type: list
  elements: dict
reclaimed:
  description: The devices reclaimed (in check mode, that would be), now claimed by O(satp).
  returned: always
  type: list
  elements: str
not_reclaimed:
  description: The devices that could not be reclaimed, each with C(device), C(satp) (still), C(error) (esxcli's words) and C(advice).
  returned: always
  type: list
  elements: dict
vibs:
  description: The required VIBs found, each with C(name), C(version) and C(vendor).
  returned: always
  type: list
  elements: dict
commands:
  description: The esxcli commands that change the host, as run (in check mode, as they would run).
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.rdma.ha_storage.plugins.module_utils import esxcli
from ansible_collections.rdma.ha_storage.plugins.module_utils.runner import exit_with

DEFAULT_VIBS = ['scsi-ib-srp', 'net-ib-core', 'net-ib-cm', 'net-ib-sa', 'net-ib-mad', 'net-mlx4-core', 'net-mlx4-ib']
RECLAIM_ADVICE = ('ESX does not reclaim a device in use: stop or migrate the VMs on it and unmount its VMFS '
                  'datastore, then run again; or put the host in maintenance mode and reboot it, which claims '
                  'every device under the new rule')
MATCHED = ('satp', 'claim_options', 'psp', 'psp_options')


def build_module():
    spec = esxcli.ssh_argument_spec()
    spec.update(
        satp=dict(type='str', default='VMW_SATP_ALUA'),
        psp=dict(type='str', default='VMW_PSP_MRU'),
        vendor=dict(type='str', default='LIO-ORG'),
        model=dict(type='str'),
        claim_options=dict(type='str', default='tpgs_on'),
        psp_options=dict(type='str'),
        description=dict(type='str', default='rdma.ha_storage LIO SRP pair'),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        reclaim=dict(type='raw', default=False),
        required_vibs=dict(type='list', elements='str', default=DEFAULT_VIBS),
    )
    return AnsibleModule(argument_spec=spec, supports_check_mode=True)


def reclaim_choice(value):
    """reclaim as True (every device of the vendor), False, or a list of device names."""
    if isinstance(value, (list, tuple)):
        names = [str(v).strip() for v in value]
        if not all(names):
            raise ValueError('reclaim: an empty device name in %r' % (value,))
        return names
    try:
        return boolean(value, strict=True)
    except TypeError:
        raise ValueError('reclaim: %r is neither a boolean nor a list of device names' % (value,))


class SatpRule(object):
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.cli = esxcli.Esxcli(module, module.params)
        self.host = module.params['esx_host']

    def wanted(self):
        params = self.params
        return dict(satp=params['satp'], vendor=params['vendor'], model=params['model'] or '',
                    claim_options=params['claim_options'] or '', psp=params['psp'] or '',
                    psp_options=params['psp_options'] or '', description=params['description'] or '',
                    rule_group='user')

    def for_vendor(self, rule):
        return rule['vendor'] == self.params['vendor'] and rule['model'] == (self.params['model'] or '')

    def is_mine(self, rule):
        return (self.for_vendor(rule) and rule['rule_group'] == 'user'
                and rule['description'] == (self.params['description'] or ''))

    def check_vibs(self):
        wanted = self.params['required_vibs'] or []
        if not wanted:
            return []
        installed = dict((vib['name'], vib) for vib in self.cli.vibs())
        missing = [name for name in wanted if name not in installed]
        if missing:
            raise esxcli.EsxcliError(
                '%s: the VIB(s) %s are not installed, so the host has no SRP initiator (ib_srp): install '
                'Mellanox\'s OFED driver bundle for ESXi 5.x/6.0 (MLNX-OFED-ESX-1.8.2.x, the one with scsi-ib-srp) '
                'with esxcli software vib install -d <bundle.zip>, and reboot the host. ESXi 6.5 and later have no '
                'SRP initiator.' % (self.host, ', '.join(missing)))
        return [dict(name=name, version=installed[name]['version'], vendor=installed[name]['vendor']) for name in wanted]

    def plan_present(self, rules):
        """(to_remove, add) for state present; fails on a conflicting rule that is not this module's."""
        want = self.wanted()
        vendor_rules = [r for r in rules if self.for_vendor(r)]
        if any(all(r[key] == want[key] for key in MATCHED) for r in vendor_rules):
            return [], False
        others = [r for r in vendor_rules if not self.is_mine(r)]
        if others:
            raise esxcli.EsxcliError(
                '%s: %s already has a rule that is not this module\'s: %s. This module replaces only the user rules '
                'it added (description %r). Remove that rule (esxcli storage nmp satp rule remove with its options) '
                'or set satp, psp, claim_options and psp_options to match it.'
                % (self.host, self.describe_target(), '; '.join(esxcli.describe_rule(r) for r in others),
                   self.params['description']))
        return vendor_rules, True

    def describe_target(self):
        if self.params['model']:
            return 'vendor %s model %s' % (self.params['vendor'], self.params['model'])
        return 'vendor %s' % self.params['vendor']

    def reclaim(self, wanted_devices):
        """(reclaimed, not_reclaimed) for the devices reclaim names (True: every device of the vendor)."""
        satp = self.params['satp']
        nmp = self.cli.nmp_devices()
        if wanted_devices is True:
            core = self.cli.core_devices()
            candidates = sorted(name for name, dev in core.items()
                                if dev['vendor'] == self.params['vendor']
                                and (not self.params['model'] or dev['model'] == self.params['model'])
                                and name in nmp)
        else:
            unknown = [name for name in wanted_devices if name not in nmp]
            if unknown:
                raise esxcli.EsxcliError('%s: reclaim: no NMP device %s (its NMP devices: %s)'
                                         % (self.host, ', '.join(unknown), ', '.join(sorted(nmp)) or 'none'))
            candidates = list(wanted_devices)
        todo = [name for name in candidates if nmp[name]['satp'] != satp]
        reclaimed, failed = [], []
        for name in todo:
            try:
                self.cli.reclaim(name)
            except esxcli.EsxcliCommandError as exc:
                failed.append(dict(device=name, satp=nmp[name]['satp'], error=exc.output, advice=RECLAIM_ADVICE))
            else:
                reclaimed.append(name)
        if reclaimed and not self.module.check_mode:
            after = self.cli.nmp_devices()
            for name in list(reclaimed):
                now = after.get(name, {}).get('satp')
                if now != satp:
                    reclaimed.remove(name)
                    failed.append(dict(device=name, satp=now, advice=RECLAIM_ADVICE,
                                       error='reclaimed, but still claimed by %s, not %s' % (now, satp)))
        for item in failed:
            self.module.warn('%s: %s could not be reclaimed (%s; still %s): %s'
                             % (self.host, item['device'], item['error'], item['satp'], item['advice']))
        return reclaimed, failed

    def run(self):
        params = self.params
        present = params['state'] == 'present'
        try:
            wanted_devices = reclaim_choice(params['reclaim'])
        except ValueError as exc:
            raise esxcli.EsxcliError(str(exc))
        result = dict(changed=False, added=False, removed=[], reclaimed=[], not_reclaimed=[], vibs=[], commands=[])
        if present:
            result['vibs'] = self.check_vibs()
        rules = self.cli.satp_rules()
        before = [r for r in rules if self.for_vendor(r)]
        if present:
            to_remove, add = self.plan_present(rules)
            result['rule'] = self.wanted()
        else:
            to_remove, add = [r for r in before if self.is_mine(r)], False
            result['rule'] = to_remove[0] if to_remove else None
        for rule in to_remove:
            self.cli.remove_rule(rule)
        if add:
            self.cli.add_rule(self.wanted())
        result['removed'] = to_remove
        result['added'] = add
        after = [r for r in before if r not in to_remove] + ([self.wanted()] if add else [])
        if (to_remove or add) and not self.module.check_mode:
            rules = self.cli.satp_rules()
            after = [r for r in rules if self.for_vendor(r)]
            if add and not any(all(r[key] == self.wanted()[key] for key in MATCHED) for r in after):
                raise esxcli.EsxcliError('%s: the rule %s is not in the rule list after esxcli added it'
                                         % (self.host, esxcli.describe_rule(self.wanted())))
        result['vendor_rules'] = after if not self.module.check_mode else before
        if present and wanted_devices:
            result['reclaimed'], result['not_reclaimed'] = self.reclaim(wanted_devices)
        result['commands'] = list(self.cli.changes_run)
        result['changed'] = bool(to_remove or add or result['reclaimed'])
        if self.module._diff:
            result['diff'] = dict(before_header='%s SATP rules for %s' % (self.host, self.describe_target()),
                                  after_header='%s SATP rules for %s' % (self.host, self.describe_target()),
                                  before=''.join(esxcli.describe_rule(r) + '\n' for r in before),
                                  after=''.join(esxcli.describe_rule(r) + '\n' for r in after))
        return result


def main():
    module = build_module()
    exit_with(module, SatpRule(module).run, errors=(esxcli.EsxcliError,))


if __name__ == '__main__':
    main()
