#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: srp_initiator_params
short_description: ib_srp module parameters at boot and in the running kernel, without disturbing SRP disks in use
version_added: 0.1.0
author:
  - rdma.ha_storage contributors (!UNKNOWN)
description:
  - Writes the ib_srp parameters into a C(modprobe.d) file (C(options ib_srp ...)), so that ib_srp
    loads with them at boot and on the next C(modprobe).
  - Only parameters the installed ib_srp has are written, as C(modinfo -p ib_srp) lists them. When
    C(modinfo) cannot tell (no ib_srp for the running kernel, as in a container), every parameter
    is written unchecked and the result says so (RV(checked=false)); the kernel ignores an unknown
    module option with a log message.
  - With O(live=true) and ib_srp loaded, the running kernel is brought to the same values without
    reloading ib_srp while it is in use. The timers (C(reconnect_delay), C(fast_io_fail_tmo),
    C(dev_loss_tmo)) are written to C(/sys/module/ib_srp/parameters/) (the defaults of target
    ports logged in afterwards) and to every SRP remote port that is not lost
    (C(/sys/class/srp_remote_ports/*/)), in an order the kernel's C(srp_tmo_valid()) accepts at
    every step. The command timeout of every SRP disk is set to O(scsi_timeout).
  - C(ch_count) and C(cmd_sg_entries) can only change when ib_srp is loaded. The module reloads
    ib_srp (C(modprobe -r ib_srp), C(modprobe ib_srp)) only when no SRP target port is logged in
    (no SCSI host of ib_srp exists) and O(reload=when_unused); otherwise the change waits for the
    next load (a reboot) and the module warns (RV(pending_reload)).
attributes:
  check_mode:
    support: full
    description: Reads everything (modinfo, sysfs) and reports what it would write or reload; changes nothing.
  diff_mode:
    support: full
    description: Shows the modprobe.d file and every sysfs value that changes.
options:
  reconnect_delay:
    description: Seconds between reconnect attempts of a failed SRP path, or C(off).
    type: raw
    required: true
  fast_io_fail_tmo:
    description: Seconds after a transport error before I/O on the path fails, or C(off).
    type: raw
    required: true
  dev_loss_tmo:
    description: Seconds after a transport error before the SRP SCSI host is removed, or C(off).
    type: raw
    required: true
  ch_count:
    description: RDMA channels per target port (load time). V(0) leaves the kernel's default and writes nothing.
    type: int
    default: 0
  cmd_sg_entries:
    description: Scatter/gather entries in an SRP command, 1 to 255 (load time). V(0) leaves the kernel's default (12).
    type: int
    default: 0
  scsi_timeout:
    description:
      - SCSI command timeout in seconds for the SRP disks that exist now (C(/sys/class/scsi_device/*/device/timeout)).
      - Omit it to leave the disks alone (new disks get theirs from a udev rule).
    type: int
  modprobe_file:
    description: The C(modprobe.d) file that carries the parameters; it is rewritten to hold exactly them.
    type: path
    default: /etc/modprobe.d/rdma-ha-storage-srp.conf
  live:
    description: Also apply the values to the running kernel when ib_srp is loaded. V(false) in a container.
    type: bool
    default: true
  reload:
    description:
      - What to do when a load-time parameter of the loaded ib_srp differs.
      - V(when_unused) reloads ib_srp if no SRP target port is logged in; V(never) only reports it.
    type: str
    default: when_unused
    choices: [when_unused, never]
notes:
  - The timers must satisfy the kernel's rules (not all off, reconnect_delay not 0, fast_io_fail_tmo
    at most 600 and below dev_loss_tmo, dev_loss_tmo at most 600 when fast_io_fail_tmo is off);
    rdma.ha_storage.fabric_validate checks the model's C(srp) section by the same rules.
  - C(tl_retry_count) is not a module parameter of ib_srp but an option of each login
    (C(add_target)); the srp_initiator role passes it to its login service.
seealso:
  - module: rdma.ha_storage.kernel_modules
"""

EXAMPLES = r"""
- name: ib_srp timers from the model, applied to live SRP paths too
  rdma.ha_storage.srp_initiator_params:
    reconnect_delay: 10
    fast_io_fail_tmo: 15
    dev_loss_tmo: 600
    scsi_timeout: 30

- name: Write the file only (a container shares its host's kernel)
  rdma.ha_storage.srp_initiator_params:
    reconnect_delay: 5
    fast_io_fail_tmo: 5
    dev_loss_tmo: 60
    live: false
"""

RETURN = r"""
parameters:
  description: The parameters written to O(modprobe_file), in the order written.
  returned: always
  type: dict
  sample: {reconnect_delay: "10", fast_io_fail_tmo: "15", dev_loss_tmo: "600"}
checked:
  description: Whether C(modinfo -p ib_srp) told which parameters the installed ib_srp has.
  returned: always
  type: bool
unsupported:
  description: Requested parameters the installed ib_srp does not have (left out of the file).
  returned: always
  type: list
  elements: str
file_changed:
  description: Whether O(modprobe_file) was (or would be) rewritten.
  returned: always
  type: bool
loaded:
  description: Whether ib_srp is loaded.
  returned: always
  type: bool
srp_hosts:
  description: Host numbers of the SCSI hosts of ib_srp (one per logged-in target port).
  returned: always
  type: list
  elements: int
live_changes:
  description: Every sysfs value written (or that would be), in order.
  returned: always
  type: list
  elements: dict
  sample: [{path: /sys/class/srp_remote_ports/port-5:1/fast_io_fail_tmo, before: "15", after: "5"}]
reloaded:
  description: Whether ib_srp was (or would be) reloaded for a load-time parameter.
  returned: always
  type: bool
pending_reload:
  description: Load-time parameters whose new value waits for the next load of ib_srp (it is in use).
  returned: always
  type: list
  elements: str
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native
from ansible_collections.rdma.ha_storage.plugins.module_utils.files import InstallError, install_file, read_file
from ansible_collections.rdma.ha_storage.plugins.module_utils.runner import CommandError, Runner, exit_with
from ansible_collections.rdma.ha_storage.plugins.module_utils.srp import (
    LOAD_TIME, TIMERS, SrpSysfs, parse_modinfo_parameters, timer_text, timer_value, tmo_problem, write_order)

HEADER = ('# Managed by Ansible (rdma.ha_storage.srp_initiator_params): local changes are overwritten.\n'
          '# ib_srp parameters of the SRP initiator (docs: roles/srp_initiator/README.md).\n')


class SrpInitiatorParams(object):
    # owner of the modprobe.d file; tests running without root replace it
    OWNER = (0, 0)

    def __init__(self, module, root='/'):
        self.module = module
        self.params = module.params
        self.sysfs = SrpSysfs(root)
        self.modinfo = Runner(module, 'modinfo', package='kmod', opt_dirs=['/sbin', '/usr/sbin'])
        self.modprobe = Runner(module, 'modprobe', package='kmod', opt_dirs=['/sbin', '/usr/sbin'])
        self.changes = []
        self.diff = []

    def fail(self, msg, **kwargs):
        self.module.fail_json(msg=msg, **kwargs)

    # ---------------------------------------------------------------- options
    def wanted(self):
        """The timers as ints (-1 = off) and the ordered {name: text} for the file."""
        timers = {}
        for name in TIMERS:
            try:
                timers[name] = timer_value(self.params[name])
            except ValueError as exc:
                self.fail('%s: %s' % (name, to_native(exc)))
        problem = tmo_problem(*[timers[name] for name in TIMERS])
        if problem:
            self.fail('the timers are refused by the kernel\'s rules (srp_tmo_valid): %s' % problem)
        if not 0 <= self.params['ch_count'] <= 1024:
            self.fail('ch_count: %d is out of range (0 = the kernel default, else 1 to 1024)' % self.params['ch_count'])
        if not 0 <= self.params['cmd_sg_entries'] <= 255:
            self.fail('cmd_sg_entries: %d is out of range (0 = the kernel default, else 1 to 255)' % self.params['cmd_sg_entries'])
        if self.params['scsi_timeout'] is not None and self.params['scsi_timeout'] < 1:
            self.fail('scsi_timeout: %d must be 1 or more seconds' % self.params['scsi_timeout'])
        values = [(name, timer_text(timers[name])) for name in TIMERS]
        values += [(name, str(self.params[name])) for name in LOAD_TIME if self.params[name] > 0]
        return timers, values

    def supported(self):
        """Names of the installed ib_srp's parameters, or None when modinfo cannot tell."""
        if not self.modinfo.available():
            return None
        result = self.modinfo.run(['-p', 'ib_srp'], ok_rcs=None)
        if result.rc != 0:
            return None
        return parse_modinfo_parameters(result.stdout)

    # ---------------------------------------------------------------- the file
    def file_content(self, values):
        return HEADER + 'options ib_srp %s\n' % ' '.join('%s=%s' % item for item in values) if values else HEADER

    def write_file(self, content):
        path = self.params['modprobe_file']
        before = read_file(path)
        if before == content:
            return False
        self.diff.append({'before_header': path if before is not None else '%s (absent)' % path,
                          'after_header': path, 'before': before or '', 'after': content})
        if self.module.check_mode:
            return True
        try:
            install_file(path, to_bytes(content), 0o644, *self.OWNER)
        except InstallError as exc:
            self.fail('modprobe_file %s: cannot %s: %s' % (path, exc.step, to_native(exc.reason)))
        return True

    # ---------------------------------------------------------------- the running kernel
    def write_sysfs(self, path, before, after):
        self.changes.append({'path': path, 'before': before, 'after': after})
        self.diff.append({'before_header': path, 'after_header': path, 'before': '%s\n' % before, 'after': '%s\n' % after})
        if self.module.check_mode:
            return
        try:
            with open(path, 'w') as handle:
                handle.write(after)
        except (IOError, OSError) as exc:
            self.fail('cannot write %s to %s: %s' % (after, path, to_native(exc)), live_changes=self.changes)

    def apply_timers(self, where, read, path_of, timers):
        """Bring one set of the three timers (the module's defaults, or a remote port) to timers."""
        current = {}
        for name in TIMERS:
            text = read(name)
            if text is None:
                return  # not offered here (an old kernel): nothing to compare with
            try:
                current[name] = timer_value(text)
            except ValueError:
                self.fail('%s: cannot read %s (%r)' % (where, path_of(name), text))
        try:
            order = write_order(current, timers)
        except ValueError as exc:
            self.fail('%s: %s' % (where, to_native(exc)))
        for name, value in order:
            self.write_sysfs(path_of(name), timer_text(current[name]), timer_text(value))

    def reload_module(self, mismatched, hosts):
        if hosts or self.params['reload'] == 'never':
            self.module.warn('ib_srp is loaded with other %s than wanted; %s when ib_srp is next loaded (%s)' % (
                ' and '.join(mismatched), 'they take effect', 'in use by %d SRP target port%s' % (
                    len(hosts), '' if len(hosts) == 1 else 's') if hosts else 'reload=never'))
            return False
        for args in (['-r', 'ib_srp'], ['ib_srp']):
            try:
                self.modprobe.run(args, changes=True)
            except CommandError as exc:
                self.fail('reloading ib_srp for %s failed: %s' % (', '.join(mismatched), (exc.stderr or exc.stdout).strip()),
                          **dict((k, v) for k, v in exc.fail_kwargs().items() if k != 'msg'))
        return True

    def live(self, timers, values):
        sysfs = self.sysfs
        hosts = sysfs.srp_hosts()
        wanted = dict(values)
        mismatched = [name for name in LOAD_TIME if name in wanted and sysfs.parameter(name) != wanted[name]]
        reloaded = self.reload_module(mismatched, hosts) if mismatched else False
        pending = mismatched if mismatched and not reloaded else []
        # after a reload the module read its timers from the file just written; check them anyway
        if not (reloaded and self.module.check_mode):
            self.apply_timers('ib_srp module parameters', sysfs.parameter, sysfs.parameter_path, timers)
        for port in sysfs.remote_ports():
            if port['state'] == 'lost':
                continue  # being removed: its timers no longer matter and writes may fail
            self.apply_timers('SRP remote port %s' % port['name'], lambda name, port=port: port[name],
                              lambda name, port=port: os.path.join(port['path'], name), timers)
        if self.params['scsi_timeout'] is not None:
            want = str(self.params['scsi_timeout'])
            for disk in sysfs.srp_disks(hosts):
                if disk['timeout'] is not None and disk['timeout'] != want:
                    self.write_sysfs(disk['timeout_path'], disk['timeout'], want)
        return hosts, reloaded, pending

    # ---------------------------------------------------------------- main
    def run(self):
        timers, values = self.wanted()
        supported = self.supported()
        unsupported = []
        if supported is None:
            self.module.warn('modinfo -p ib_srp found no ib_srp for the running kernel (a container?): the '
                             'parameters were written to %s without checking that ib_srp has them' % self.params['modprobe_file'])
        else:
            unsupported = [name for name, dummy in values if name not in supported]
            values = [(name, text) for name, text in values if name in supported]
            if unsupported:
                self.module.warn('the installed ib_srp has no parameter %s: left out of %s' % (
                    ', '.join(unsupported), self.params['modprobe_file']))
        timers = dict((name, timers[name]) for name in TIMERS)
        file_changed = self.write_file(self.file_content(values))

        loaded = self.sysfs.module_loaded()
        hosts, reloaded, pending = [], False, []
        if self.params['live'] and loaded:
            hosts, reloaded, pending = self.live(timers, values)

        result = dict(
            changed=bool(file_changed or self.changes or reloaded),
            parameters=dict(values), checked=supported is not None, unsupported=unsupported,
            file_changed=file_changed, loaded=loaded, srp_hosts=hosts, live_changes=self.changes,
            reloaded=reloaded, pending_reload=pending,
        )
        if self.module._diff:
            result['diff'] = self.diff
        return result


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            reconnect_delay=dict(type='raw', required=True),
            fast_io_fail_tmo=dict(type='raw', required=True),
            dev_loss_tmo=dict(type='raw', required=True),
            ch_count=dict(type='int', default=0),
            cmd_sg_entries=dict(type='int', default=0),
            scsi_timeout=dict(type='int'),
            modprobe_file=dict(type='path', default='/etc/modprobe.d/rdma-ha-storage-srp.conf'),
            live=dict(type='bool', default=True),
            reload=dict(type='str', default='when_unused', choices=['when_unused', 'never']),
        ),
        supports_check_mode=True,
    )


def main():
    module = build_module()
    exit_with(module, SrpInitiatorParams(module).run)


if __name__ == '__main__':
    main()
