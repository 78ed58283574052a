#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: drbd_config
short_description: Validate DRBD configuration files with drbdadm, then install them atomically
version_added: 0.1.0
author:
  - rdma.ha_storage contributors (!UNKNOWN)
description:
  - Installs DRBD configuration files (typically C(global_common.conf) and one C(<resource>.res)
    per resource) into O(config_dir), but only after C(drbdadm) has accepted the configuration
    that will result from installing them.
  - "Validation: the module copies into a private temporary directory (mode 0700, removed
    afterwards, also on failure) the files of O(files) and every other C(*.res) and C(*.conf) file
    already in O(config_dir), writes a C(drbd.conf) that includes C(global_common.conf) and
    C(*.res) there (as Debian's C(/etc/drbd.conf) does for C(/etc/drbd.d)), and runs
    C(drbdadm -c <tmp>/drbd.conf dump <resource>) for every resource of O(resources). So
    validation sees exactly what drbdadm will read once the files are installed, other
    resource files of the directory included."
  - When drbdadm rejects any resource the module fails, naming the resources and showing
    drbdadm's messages (shared secrets masked), and installs B(nothing).
  - "Installation: each file whose content, mode or owner differs from the installed one is
    written to a hidden temporary file in O(config_dir) with its final mode and owner
    C(root:root) and renamed over the target (atomic per file). All temporary files are
    written before the first rename, so a failure while writing installs nothing."
  - The module never removes files from O(config_dir). Files there that it did not install
    (for example the resource file of a volume that is no longer declared) are returned in
    RV(unmanaged); they are part of the validation because drbdadm reads them too.
  - The module does not apply the configuration to running resources; run C(drbdadm adjust)
    for that (the rdma.ha_storage.drbd role does it in a handler).
attributes:
  check_mode:
    support: full
    description: Validation runs in check mode too (it only writes to a private temporary
      directory); nothing is installed and C(changed) tells what would change.
  diff_mode:
    support: full
    description: One entry per changed file content and one per changed mode or owner. Shared
      secrets are masked in both the before and the after text.
options:
  files:
    description:
      - The files to install into O(config_dir), usually rendered on the controller with
        C(lookup('ansible.builtin.template', ...)).
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - Plain file name in O(config_dir), ending in C(.res) or C(.conf) (drbdadm reads nothing
            else). No C(/), no C(..), not starting with C(.).
        type: str
        required: true
      content:
        description: The complete text of the file.
        type: str
        required: true
      mode:
        description:
          - Octal mode of the installed file as a string, for example V('0600') for a file carrying
            the shared secret. An integer is taken as the numeric mode (YAML 1.1 reads an unquoted
            V(0644) as V(420), which is the right mode).
        type: raw
        default: '0644'
  resources:
    description:
      - Resources that must be accepted by C(drbdadm dump).
      - Default is the name of every C(*.res) file in O(files) without its suffix (the
        convention that C(vol0.res) holds resource C(vol0)).
      - When the list is empty the whole configuration is parsed once with C(drbdadm dump all).
    type: list
    elements: str
  config_dir:
    description:
      - Directory drbdadm reads the files from (Debian's C(/etc/drbd.conf) includes
        C(drbd.d/global_common.conf) and C(drbd.d/*.res)). Created with mode 0755 when missing.
    type: path
    default: /etc/drbd.d
  secret:
    description:
      - The shared secret that O(files) may carry. It is masked (C(********)) in everything the
        module returns, also in drbdadm's messages. Any C(shared-secret) value in configuration
        text and drbdadm output is masked as well, known or not (for example the previous secret
        in a diff).
    type: str
  driver_version:
    description:
      - DRBD kernel module version drbdadm should assume while validating, exported as
        C(DRBD_DRIVER_VERSION_OVERRIDE). drbdadm picks its parser (8.4 or 9 dialect) from the
        loaded kernel module; set this where none is loaded (containers), for example V(8.4.0)
        or V(9.0.0).
    type: str
notes:
  - The module runs C(drbdadm) with C(LC_ALL=C) so that its messages are not translated.
  - drbdadm's C(dump) output contains the shared secret; it is discarded unless validation
    fails, and then returned masked.
  - C(drbdadm dump) checks that this host is named in an C(on) section of each resource (its
    C(uname -n)); validation therefore fails on a host the resource is not meant for.
  - Without C(drbdadm) the module fails, except in check mode, where it warns, skips the
    validation and still reports what would change (a check-mode run of a role usually comes
    before drbd-utils is installed).
requirements:
  - drbd-utils (C(drbdadm)) on the managed host.
seealso:
  - module: rdma.ha_storage.drbd_status
  - module: rdma.ha_storage.drbd_metadata
"""

EXAMPLES = r"""
- name: Validate and install the DRBD configuration of two resources
  rdma.ha_storage.drbd_config:
    files:
      - name: global_common.conf
        content: "{{ lookup('ansible.builtin.template', 'global_common.conf.j2') }}"
        mode: '0600'
      - name: vol0.res
        content: "{{ lookup('ansible.builtin.template', 'vol0.res.j2') }}"
      - name: vol1.res
        content: "{{ lookup('ansible.builtin.template', 'vol1.res.j2') }}"
    secret: "{{ drbd_shared_secret }}"
  register: drbd_config
  notify: Adjust the DRBD resources

- name: Validate with drbdadm's 8.4 parser in a container without a DRBD kernel module
  rdma.ha_storage.drbd_config:
    files:
      - name: r0.res
        content: "{{ lookup('ansible.builtin.file', 'r0.res') }}"
    driver_version: 8.4.0

- name: Say which files in /etc/drbd.d are not managed here
  ansible.builtin.debug:
    msg: "Not managed by this play (left in place): {{ drbd_config.unmanaged | join(', ') }}"
  when: drbd_config.unmanaged | length > 0
"""

RETURN = r"""
changed_files:
  description: Names of the files that were installed (in check mode, that would be installed)
    because their content, mode or owner differed.
  returned: always
  type: list
  elements: str
  sample: [global_common.conf, vol1.res]
unmanaged:
  description: C(*.res) and C(*.conf) files in O(config_dir) that are not among O(files). They are
    left alone, and were part of the validation.
  returned: always
  type: list
  elements: str
  sample: [vol9.res]
validated:
  description: Resources that C(drbdadm dump) accepted (empty when O(resources) was empty and the
    whole configuration was parsed with C(drbdadm dump all)).
  returned: always
  type: list
  elements: str
  sample: [vol0, vol1]
config_dir:
  description: The configuration directory.
  returned: always
  type: str
  sample: /etc/drbd.d
rc:
  description: Exit code of the first C(drbdadm dump) that failed.
  returned: failure
  type: int
  sample: 10
stderr:
  description: drbdadm's messages of the first failed validation, shared secrets masked, files
    named by their paths in O(config_dir) (the validation copy is removed).
  returned: failure
  type: str
  sample: "/etc/drbd.d/global_common.conf:52: Parse error: 'an option keyword' expected, but got 'no-such-option'"
stdout:
  description: drbdadm's output of the first failed validation, shared secrets masked, files
    named by their paths in O(config_dir).
  returned: failure
  type: str
failures:
  description: Per rejected resource, C(resource), C(rc) and C(stderr) (masked, paths shown as
    installed).
  returned: failure
  type: list
  elements: dict
"""

import os
import re
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native, to_text
from ansible_collections.rdma.ha_storage.plugins.module_utils.drbd import (
    DrbdCli, file_name_error, list_config_files, mask_config, write_validation_tree)
from ansible_collections.rdma.ha_storage.plugins.module_utils.files import (
    fsync_dir, parse_mode, read_installed, remove_quietly, stage_file)
from ansible_collections.rdma.ha_storage.plugins.module_utils.runner import MissingBinaryError, exit_with

_VERSION_RE = re.compile(r'^\d+\.\d+(\.\d+)?$')
_BAD_RESOURCE_RE = re.compile(r'^-|\s|/')


class DrbdConfig(object):
    # owner of installed files (root:root); tests running without root replace it
    OWNER = (0, 0)

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.config_dir = os.path.normpath(self.params['config_dir'])
        self.secret = self.params['secret'] or None
        environ = {}
        if self.params['driver_version']:
            environ['DRBD_DRIVER_VERSION_OVERRIDE'] = self.params['driver_version']
        # drbdadm is told the validation copy per call (-c <tmp>/drbd.conf dump RES)
        self.cli = DrbdCli(module, environ=environ, secret=self.secret)

    # ---------------------------------------------------------------- helpers
    def mask(self, text):
        return mask_config(text, self.secret)

    def fail(self, msg, **kwargs):
        self.module.fail_json(msg=self.mask(msg), **kwargs)

    def check_params(self):
        files = []
        seen = {}
        for index, item in enumerate(self.params['files']):
            field = 'files[%d]' % index
            name = item['name']
            error = file_name_error(name)
            if error:
                self.fail('%s.name: %s' % (field, error))
            if name in seen:
                self.fail('%s.name: %r is also the name of files[%d]' % (field, name, seen[name]))
            seen[name] = index
            try:
                mode = parse_mode(item['mode'])
            except ValueError as exc:
                self.fail('%s.mode (%s): %s' % (field, name, to_native(exc)))
            files.append({'name': name, 'content': to_bytes(item['content'], errors='surrogate_or_strict'), 'mode': mode})
        if not files:
            self.fail('files: at least one file to install is required')

        resources = self.params['resources']
        if resources is None:
            resources = [f['name'][:-len('.res')] for f in files if f['name'].endswith('.res')]
        for index, res in enumerate(resources):
            if not res or _BAD_RESOURCE_RE.search(res):
                self.fail('resources[%d]: %r is not a DRBD resource name' % (index, res))

        version = self.params['driver_version']
        if version and not _VERSION_RE.match(version):
            self.fail("driver_version: %r is not a DRBD version such as '8.4.11' or '9.2.12'" % version)
        return files, resources

    # ---------------------------------------------------------------- steps
    def validate(self, files, unmanaged, resources):
        """Run drbdadm on a private copy of the resulting directory; fail (masked) on rejection."""
        tree = dict((f['name'], f['content']) for f in files)
        for name in unmanaged:
            path = os.path.join(self.config_dir, name)
            try:
                with open(path, 'rb') as handle:
                    tree[name] = handle.read()
            except (IOError, OSError) as exc:
                self.fail('cannot read %s (included in the validation): %s' % (path, to_native(exc)))

        tmpdir = tempfile.mkdtemp(prefix='drbd_config.')
        try:
            try:
                conf, copy_dir = write_validation_tree(tmpdir, tree)
            except (IOError, OSError) as exc:
                self.fail('cannot write the validation copy in %s: %s' % (tmpdir, to_native(exc)))
            failures = []
            first = None

            def shown(text):
                # masked, and naming the files as they will be installed (the copy is gone)
                return self.mask(text or '').replace(copy_dir + os.sep, self.config_dir + os.sep)

            for res in resources or ['all']:
                dump = self.cli.adm('-c', conf, 'dump', res, ok_rcs=None)
                if dump.rc != 0:
                    failures.append({'resource': res, 'rc': dump.rc, 'stderr': shown(dump.stderr)})
                    if first is None:
                        first = (dump.rc, shown(dump.stdout), shown(dump.stderr))
            if failures:
                details = '; '.join('%s: rc %d: %s' % (f['resource'], f['rc'], ' '.join(f['stderr'].split()) or '(no message)')
                                    for f in failures)
                self.fail('drbdadm rejected the configuration for resource%s %s (nothing was installed in %s): %s' % (
                    's' if len(failures) > 1 else '', ', '.join(f['resource'] for f in failures), self.config_dir, details),
                    rc=first[0], stdout=first[1], stderr=first[2], failures=failures,
                    unmanaged=unmanaged, changed_files=[], validated=[])
        finally:
            shutil.rmtree(tmpdir, ignore_errors=True)
        return list(resources)

    def compare(self, files):
        """Return the files to write and the diff entries."""
        changes = []
        diff = []
        for item in files:
            path = os.path.join(self.config_dir, item['name'])
            try:
                installed = read_installed(path)
            except (IOError, OSError) as exc:
                self.fail('cannot read the installed %s: %s' % (path, to_native(exc)))
            want_attrs = 'mode %04o, owner %d:%d\n' % ((item['mode'],) + self.OWNER)
            if installed is None:
                changes.append(item)
                diff.append({'before_header': '%s (absent)' % path, 'after_header': path,
                             'before': '', 'after': self.mask(to_text(item['content'], errors='surrogate_or_replace'))})
                continue
            have_attrs = 'mode %04o, owner %d:%d\n' % (installed['mode'], installed['uid'], installed['gid'])
            content_changed = installed['content'] != item['content']
            attrs_changed = have_attrs != want_attrs
            if not (content_changed or attrs_changed):
                continue
            changes.append(item)
            if content_changed:
                diff.append({'before_header': path, 'after_header': path,
                             'before': self.mask(to_text(installed['content'], errors='surrogate_or_replace')),
                             'after': self.mask(to_text(item['content'], errors='surrogate_or_replace'))})
            if attrs_changed:
                diff.append({'before_header': '%s (attributes)' % path, 'after_header': '%s (attributes)' % path,
                             'before': have_attrs, 'after': want_attrs})
        return changes, diff

    def install(self, changes):
        if not os.path.isdir(self.config_dir):
            try:
                os.makedirs(self.config_dir, 0o755)
                os.chmod(self.config_dir, 0o755)
            except OSError as exc:
                self.fail('cannot create %s: %s' % (self.config_dir, to_native(exc)))
        staged = []
        try:
            for item in changes:
                path = os.path.join(self.config_dir, item['name'])
                tmp = stage_file(self.config_dir, item['name'], item['content'], item['mode'], *self.OWNER)
                staged.append((tmp, path))
                self.selinux_context(tmp, path)
        except (IOError, OSError) as exc:
            for tmp, dummy in staged:
                remove_quietly(tmp)
            self.fail('cannot write %s into %s (nothing was installed): %s' % (item['name'], self.config_dir, to_native(exc)))
        done = []
        for index, (tmp, path) in enumerate(staged):
            try:
                os.rename(tmp, path)
            except OSError as exc:
                for left, dummy in staged[index:]:
                    remove_quietly(left)
                self.fail('cannot install %s: %s (installed before the error: %s)' % (
                    path, to_native(exc), ', '.join(done) or 'nothing'))
            done.append(os.path.basename(path))
        fsync_dir(self.config_dir)

    def selinux_context(self, tmp, path):
        if not self.module.selinux_enabled():
            return
        if os.path.exists(path):
            context = self.module.selinux_context(path)
        else:
            context = self.module.selinux_default_context(path)
        self.module.set_context_if_different(tmp, context, False)

    # ---------------------------------------------------------------- main
    def run(self):
        files, resources = self.check_params()
        can_validate = self.cli.drbdadm.available()
        if not can_validate and not self.module.check_mode:
            raise MissingBinaryError(self.cli.drbdadm.binary, self.cli.drbdadm.package)
        if os.path.exists(self.config_dir) and not os.path.isdir(self.config_dir):
            self.fail('config_dir: %s exists and is not a directory' % self.config_dir)
        try:
            present = list_config_files(self.config_dir)
        except OSError as exc:
            self.fail('config_dir: cannot list %s: %s' % (self.config_dir, to_native(exc)))
        managed = set(f['name'] for f in files)
        unmanaged = [name for name in present if name not in managed]

        if can_validate:
            validated = self.validate(files, unmanaged, resources)
        else:
            # a check-mode run before drbd-utils is installed (the real run installs it first)
            self.module.warn('drbdadm not found on this host (drbd-utils not installed yet?): '
                             'the configuration was not validated in this check-mode run')
            validated = []
        changes, diff = self.compare(files)
        if changes and not self.module.check_mode:
            self.install(changes)

        result = dict(
            changed=bool(changes),
            changed_files=[f['name'] for f in changes],
            unmanaged=unmanaged,
            validated=validated,
            config_dir=self.config_dir,
        )
        if self.module._diff:
            result['diff'] = diff
        return result


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            files=dict(type='list', elements='dict', required=True, options=dict(
                name=dict(type='str', required=True),
                content=dict(type='str', required=True),
                mode=dict(type='raw', default='0644'),
            )),
            resources=dict(type='list', elements='str'),
            config_dir=dict(type='path', default='/etc/drbd.d'),
            secret=dict(type='str', no_log=True),
            driver_version=dict(type='str'),
        ),
        supports_check_mode=True,
    )


def main():
    module = build_module()
    task = DrbdConfig(module)
    exit_with(module, task.run, task.mask)


if __name__ == '__main__':
    main()
