#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: kernel_modules
short_description: Load a set of kernel modules now and at boot, in one step
version_added: 0.1.0
author:
  - rdma.ha_storage contributors (!UNKNOWN)
description:
  - Makes sure every kernel module in O(names) is loaded (C(modprobe), only for modules that are
    neither loaded nor built into the kernel) and, with O(persistent_file), that a
    C(modules-load.d) file lists exactly these modules so that C(systemd-modules-load) loads them
    at boot.
  - One task for the whole set of a layer instead of one C(community.general.modprobe) call per
    module, which matters where every module execution is expensive.
  - After a successful C(modprobe) the module checks that the kernel module is really there; an
    C(install) rule in C(/etc/modprobe.d) that makes C(modprobe) succeed without loading anything
    (C(install drbd /bin/true), a common way to disable a module) is reported as an error.
  - Modules are never unloaded.
attributes:
  check_mode:
    support: full
    description: Reports what would be loaded and written; loads and writes nothing.
  diff_mode:
    support: full
    description: Shows the persistent file and the set of modules loaded before and after.
options:
  names:
    description:
      - Kernel module names. C(-) and C(_) are equivalent, as for C(modprobe).
    type: list
    elements: str
    required: true
  load:
    description:
      - Load the modules now. V(false) only manages O(persistent_file), e.g. in a container that
        shares its host's kernel.
    type: bool
    default: true
  persistent_file:
    description:
      - A C(modules-load.d) file (for example C(/etc/modules-load.d/rdma.conf)) that is written to
        list exactly O(names), one per line, after a comment header. Omit it to load the modules
        now only.
    type: path
  comment:
    description: A line saying who needs these modules, written into the header of O(persistent_file).
    type: str
    default: ""
notes:
  - Built-in modules are recognised from C(/lib/modules/<release>/modules.builtin), loaded ones
    from C(/proc/modules) and C(/sys/module).
seealso:
  - module: community.general.modprobe
"""

EXAMPLES = r"""
- name: Load the RDMA user-space access modules now and at boot
  rdma.ha_storage.kernel_modules:
    names: [ib_umad, ib_uverbs, rdma_ucm]
    persistent_file: /etc/modules-load.d/rdma-ha-storage.conf
    comment: RDMA layer (role rdma.ha_storage.rdma_core)

- name: Only write the boot-time list (no kernel to touch in a container)
  rdma.ha_storage.kernel_modules:
    names: [drbd]
    load: false
    persistent_file: /etc/modules-load.d/drbd.conf
"""

RETURN = r"""
loaded:
  description: Modules this run loaded (or would load, in check mode).
  returned: always
  type: list
  elements: str
  sample: [rdma_ucm]
present:
  description: Modules that were already loaded or are built into the kernel.
  returned: always
  type: list
  elements: str
  sample: [ib_umad, ib_uverbs]
persistent_changed:
  description: Whether O(persistent_file) was (or would be) written.
  returned: always
  type: bool
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.rdma.ha_storage.plugins.module_utils.files import read_file
from ansible_collections.rdma.ha_storage.plugins.module_utils.runner import CommandError, Runner, exit_with

HEADER = '# Managed by Ansible (rdma.ha_storage.kernel_modules): local changes are overwritten.\n'


def canonical(name):
    """modprobe treats '-' and '_' alike; the kernel reports '_'."""
    return name.strip().replace('-', '_')


def loaded_modules(proc_modules_text):
    return set(line.split(' ', 1)[0] for line in (proc_modules_text or '').splitlines() if line.strip())


def builtin_modules(modules_builtin_text):
    names = set()
    for line in (modules_builtin_text or '').splitlines():
        base = os.path.basename(line.strip())
        if base.endswith('.ko'):
            names.add(canonical(base[:-3]))
    return names


def persistent_content(names, comment):
    lines = [HEADER]
    if comment:
        lines.append('# %s\n' % comment.replace('\n', ' '))
    lines.extend('%s\n' % name for name in names)
    return ''.join(lines)


class KernelModules(object):
    def __init__(self, module, root='/'):
        self.module = module
        self.params = module.params
        self.root = root
        self.modprobe_cli = Runner(module, 'modprobe', package='kmod', opt_dirs=['/sbin', '/usr/sbin'])
        self.names = []
        for index, name in enumerate(self.params['names']):
            if not isinstance(name, str) or not name.strip() or any(c in name for c in ' \t\n/'):
                module.fail_json(msg='names[%d]: %r is not a kernel module name' % (index, name))
            if canonical(name) not in [canonical(n) for n in self.names]:
                self.names.append(name.strip())

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def present(self):
        """Canonical names of the modules that are loaded or built in."""
        have = loaded_modules(read_file(self.path('proc', 'modules')))
        have |= builtin_modules(read_file(self.path('lib', 'modules', os.uname()[2], 'modules.builtin')))
        return have

    def is_present(self, name, have):
        return canonical(name) in have or os.path.isdir(self.path('sys', 'module', canonical(name)))

    def modprobe(self, name):
        try:
            loaded = self.modprobe_cli.run(['--', name], changes=True)
        except CommandError as exc:
            self.module.fail_json(name=name, **dict(exc.fail_kwargs(), msg='modprobe %s failed: %s' % (
                name, (exc.stderr or exc.stdout).strip())))
        if loaded.skipped:  # check mode
            return
        if not self.is_present(name, self.present()):
            self.module.fail_json(msg='modprobe %s succeeded but %s is not loaded: look for an '
                                      '"install %s /bin/true"-style rule in /etc/modprobe.d' % (name, canonical(name), canonical(name)),
                                  name=name, **loaded.as_dict())

    def write_file(self, path, content):
        directory = os.path.dirname(path) or '.'
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o755)
        fd, tmp = tempfile.mkstemp(prefix='.kernel_modules.', dir=directory)
        try:
            with os.fdopen(fd, 'w') as handle:
                handle.write(content)
            os.chmod(tmp, 0o644)
            self.module.atomic_move(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def run(self):
        result = dict(changed=False, loaded=[], present=[], persistent_changed=False)
        diff = []
        have = self.present()
        missing = [name for name in self.names if not self.is_present(name, have)]
        result['present'] = [name for name in self.names if name not in missing]
        if self.params['load'] and missing:
            result['changed'] = True
            result['loaded'] = missing
            diff.append(dict(before_header='kernel modules loaded', after_header='kernel modules loaded',
                             before=''.join('%s\n' % n for n in result['present']),
                             after=''.join('%s\n' % n for n in self.names)))
            for name in missing:
                self.modprobe(name)
        path = self.params['persistent_file']
        if path:
            want = persistent_content(self.names, self.params['comment'])
            before = read_file(path)
            if before != want:
                result['changed'] = result['persistent_changed'] = True
                diff.append(dict(before_header=path, after_header=path, before=before or '', after=want))
                if not self.module.check_mode:
                    try:
                        self.write_file(path, want)
                    except (IOError, OSError) as exc:
                        self.module.fail_json(msg='persistent_file %s: cannot write: %s' % (path, exc))
        if self.module._diff and diff:
            result['diff'] = diff
        return result


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            names=dict(type='list', elements='str', required=True),
            load=dict(type='bool', default=True),
            persistent_file=dict(type='path'),
            comment=dict(type='str', default=''),
        ),
        supports_check_mode=True,
    )


def main():
    module = build_module()
    exit_with(module, KernelModules(module).run)


if __name__ == '__main__':
    main()
