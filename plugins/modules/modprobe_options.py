#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: modprobe_options
short_description: Kernel module parameters of several modules in one modprobe.d file, checked against the installed modules
version_added: 0.1.0
author:
  - rdma.ha_storage contributors (!UNKNOWN)
description:
  - Writes one C(modprobe.d) file holding exactly the given parameters, one C(options <module> ...)
    line per module (modules and parameters sorted), after a comment header. With no parameter
    at all the file is removed.
  - With O(check=true) every module is looked up with C(modinfo -p <module>) first. A module the
    host does not have (no C(.ko) for the running kernel, not built in) is left out of the file with
    a warning (RV(absent_modules)); a parameter the module does not have fails the task, naming the
    module, the parameter and the kernel release, before anything is written.
  - With O(check=false) (a container, which has no kernel modules of its own) every parameter is
    written unchecked and the result says so (RV(checked=false)).
  - "For a module that is loaded, each parameter's value in C(/sys/module/<module>/parameters/) is
    compared with the wanted one. A different value is reported (RV(pending)) and warned about: it
    takes effect the next time the module is loaded (a reboot, or C(modprobe -r) when nothing uses
    the module). The module never unloads or reloads anything."
attributes:
  check_mode:
    support: full
    description: Runs C(modinfo) and reads sysfs; reports what it would write; writes nothing.
  diff_mode:
    support: full
    description: Shows the file before and after.
options:
  parameters:
    description:
      - "C({module: {parameter: value}}). A value is a string, an integer, a bool (written 1 or 0) or a
        list (written comma-separated, for array parameters); no white space, quotes or C(#)."
      - A module with an empty mapping writes no line.
    type: dict
    required: true
  path:
    description: The C(modprobe.d) file; it is rewritten to hold exactly O(parameters).
    type: path
    default: /etc/modprobe.d/rdma-ha-storage.conf
  comment:
    description: A line saying who needs these parameters, written into the header.
    type: str
    default: ""
  check:
    description: Look the modules and their parameters up with C(modinfo -p). V(false) writes them unchecked.
    type: bool
    default: true
notes:
  - The kernel reads C(modprobe.d) options when C(modprobe) loads the module; a module loaded from the
    initramfs reads the copy there (C(update-initramfs -u) on Debian, C(dracut -f) on RHEL).
seealso:
  - module: rdma.ha_storage.kernel_modules
  - module: rdma.ha_storage.srp_initiator_params
"""

EXAMPLES = r"""
- name: Larger IPoIB rings (the file only; they apply when ib_ipoib is next loaded)
  rdma.ha_storage.modprobe_options:
    parameters:
      ib_ipoib: {send_queue_size: 1024, recv_queue_size: 1024}
    comment: RDMA layer (role rdma.ha_storage.rdma_core)

- name: In a container (no modules to look up)
  rdma.ha_storage.modprobe_options:
    parameters: {mlx4_core: {log_num_mgm_entry_size: -1}}
    check: false
"""

RETURN = r"""
parameters:
  description: "What the file holds, C({module: {parameter: text}})."
  returned: always
  type: dict
  sample: {ib_ipoib: {recv_queue_size: "1024", send_queue_size: "1024"}}
checked:
  description: Whether the modules and parameters were looked up with C(modinfo -p).
  returned: always
  type: bool
absent_modules:
  description: Modules of O(parameters) the host does not have (left out of the file).
  returned: always
  type: list
  elements: str
file_changed:
  description: Whether O(path) was (or would be) written or removed.
  returned: always
  type: bool
pending:
  description: Parameters of loaded modules whose running value differs; they take effect when the module is next loaded.
  returned: always
  type: list
  elements: dict
  sample: [{module: ib_ipoib, parameter: send_queue_size, running: "256", wanted: "1024"}]
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native
from ansible_collections.rdma.ha_storage.plugins.module_utils.files import InstallError, install_file, read_file
from ansible_collections.rdma.ha_storage.plugins.module_utils.kmod import (
    canonical_module, module_name_problem, options_lines, parameter_text, parse_modinfo_parameters, same_value)
from ansible_collections.rdma.ha_storage.plugins.module_utils.runner import Runner, exit_with

HEADER = '# Managed by Ansible (rdma.ha_storage.modprobe_options): local changes are overwritten.\n'


class ModprobeOptions(object):
    # owner of the file; tests running without root replace it
    OWNER = (0, 0)

    def __init__(self, module, root='/'):
        self.module = module
        self.params = module.params
        self.root = root
        self.modinfo = Runner(module, 'modinfo', package='kmod', opt_dirs=['/sbin', '/usr/sbin'])

    def fail(self, msg, **kwargs):
        self.module.fail_json(msg=msg, **kwargs)

    def wanted(self):
        """{canonical module: {parameter: text}}, every name and value checked."""
        wanted = {}
        for module, values in sorted((self.params['parameters'] or {}).items()):
            problem = module_name_problem(module)
            if problem:
                self.fail('parameters: %s' % problem)
            if values is None:
                values = {}
            if not isinstance(values, dict):
                self.fail('parameters.%s: expected a mapping {parameter: value}, got %s' % (module, type(values).__name__))
            name = canonical_module(module)
            if name in wanted:
                self.fail('parameters: module %s is given twice (- and _ are the same to modprobe)' % name)
            texts = {}
            for parameter, value in values.items():
                if module_name_problem(parameter) or '-' in parameter:
                    self.fail('parameters.%s: %r is not a parameter name' % (module, parameter))
                try:
                    texts[parameter] = parameter_text(value)
                except ValueError as exc:
                    self.fail('parameters.%s.%s: %s' % (module, parameter, to_native(exc)))
            wanted[name] = texts
        return wanted

    def known(self, module):
        """The parameter names `modinfo -p` lists, or None when the host has no such module."""
        result = self.modinfo.run(['-p', module], ok_rcs=None)
        if result.rc != 0:
            return None
        return parse_modinfo_parameters(result.stdout)

    def validate(self, wanted):
        absent = []
        for module in sorted(wanted):
            if not wanted[module]:
                continue
            names = self.known(module)
            if names is None:
                absent.append(module)
                continue
            unknown = sorted(set(wanted[module]) - set(names))
            if unknown:
                self.fail('module %s of kernel %s has no parameter %s (modinfo -p %s lists: %s)' % (
                    module, os.uname()[2], ', '.join(unknown), module, ', '.join(sorted(names)) or 'none'),
                    module=module, unknown=unknown)
        return absent

    def live_value(self, module, parameter):
        return read_file(os.path.join(self.root, 'sys', 'module', module, 'parameters', parameter))

    def pending(self, wanted):
        pending = []
        for module in sorted(wanted):
            if not os.path.isdir(os.path.join(self.root, 'sys', 'module', module)):
                continue
            for parameter in sorted(wanted[module]):
                running = self.live_value(module, parameter)
                if running is None:
                    continue  # not readable in sysfs (mode 0): nothing to compare with
                running = running.strip()
                if not same_value(wanted[module][parameter], running):
                    pending.append(dict(module=module, parameter=parameter, running=running,
                                        wanted=wanted[module][parameter]))
        return pending

    def content(self, wanted):
        lines = options_lines(wanted)
        if not lines:
            return None
        head = HEADER
        if self.params['comment']:
            head += '# %s\n' % self.params['comment'].replace('\n', ' ')
        return head + ''.join('%s\n' % line for line in lines)

    def install(self, path, content):
        try:
            install_file(path, to_bytes(content), 0o644, *self.OWNER)
        except InstallError as exc:
            self.fail('path %s: cannot %s: %s' % (path, exc.step, to_native(exc.reason)))

    def run(self):
        wanted = self.wanted()
        absent = []
        if self.params['check']:
            absent = self.validate(wanted)
            for module in absent:
                self.module.warn('module %s is not on this host (modinfo -p %s found nothing for kernel %s): its '
                                 'parameters are left out of %s' % (module, module, os.uname()[2], self.params['path']))
                del wanted[module]
        path = self.params['path']
        content = self.content(wanted)
        before = read_file(path)
        changed = before != content
        if changed and not self.module.check_mode:
            if content is None:
                try:
                    os.unlink(path)
                except OSError as exc:
                    self.fail('path %s: cannot remove: %s' % (path, to_native(exc)))
            else:
                self.install(path, content)
        pending = self.pending(wanted)
        for item in pending:
            self.module.warn('%(module)s is loaded with %(parameter)s=%(running)s, not %(wanted)s: the new value takes effect '
                             'when %(module)s is next loaded (reboot, or modprobe -r %(module)s && modprobe %(module)s '
                             'while nothing uses it); nothing was reloaded' % item)
        result = dict(changed=changed, parameters=dict((m, v) for m, v in wanted.items() if v),
                      checked=bool(self.params['check']), absent_modules=absent, file_changed=changed, pending=pending)
        if self.module._diff and changed:
            result['diff'] = dict(before_header=path if before is not None else '%s (absent)' % path,
                                  after_header=path if content is not None else '%s (absent)' % path,
                                  before=before or '', after=content or '')
        return result


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            parameters=dict(type='dict', required=True),
            path=dict(type='path', default='/etc/modprobe.d/rdma-ha-storage.conf'),
            comment=dict(type='str', default=''),
            check=dict(type='bool', default=True),
        ),
        supports_check_mode=True,
    )


def main():
    module = build_module()
    exit_with(module, ModprobeOptions(module).run)


if __name__ == '__main__':
    main()
