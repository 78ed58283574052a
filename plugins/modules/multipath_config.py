#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: multipath_config
short_description: Validate a multipath.conf with multipath itself, then install it atomically
version_added: 0.1.0
author:
  - rdma.ha_storage contributors (!UNKNOWN)
description:
  - Has C(multipath -t) read the candidate configuration B(before) it is installed, and installs it
    (a temporary file next to O(path), renamed over it) only when multipath printed no complaint.
  - C(multipath) reads its configuration from a fixed path (C(/etc/multipath.conf), compiled in)
    and exits 0 even when it rejects keywords or values; it only says so on standard error
    (for example C(/etc/multipath.conf line 3, invalid keyword in the defaults section) and the keyword). So the module
    runs it in a private mount namespace (C(unshare --mount)) where the directory of O(path) is an
    overlay whose upper layer, on a private tmpfs, holds the candidate; there multipath reads exactly
    what it will read after the installation (the files of its C(config_dir) included), under the
    installed name, while nothing changes for the rest of the system. Every line multipath prints
    on standard error is a problem, unless it matches O(ignore_messages).
  - A rejected candidate fails the task with multipath's messages (RV(messages), and the whole
    standard error as C(stderr)); nothing is installed.
  - Does not reload multipathd; notify a handler on a change (C(multipathd reconfigure)).
attributes:
  check_mode:
    support: full
    description: Validates the candidate (that changes nothing) and reports whether it would be installed.
  diff_mode:
    support: full
    description: Shows the installed file and the candidate.
options:
  content:
    description: The complete configuration to install.
    type: str
    required: true
  path:
    description: The configuration file multipath reads. Its directory must exist.
    type: path
    default: /etc/multipath.conf
  validate:
    description:
      - Validate the candidate with C(multipath -t) before installing it.
      - The private mount namespace needs root with C(CAP_SYS_ADMIN); an unprivileged container
        lacks it (the task then fails saying so). V(false) installs without validation.
    type: bool
    default: true
  ignore_messages:
    description: Regular expressions (Python C(re.search)) of standard error lines of multipath that are not problems.
    type: list
    elements: str
    default: []
notes:
  - Needs C(multipath) (Debian package multipath-tools), C(unshare) and C(mount) (util-linux) and the
    overlay and tmpfs file systems on the managed host.
seealso:
  - module: rdma.ha_storage.kernel_modules
"""

EXAMPLES = r"""
- name: Install the multipath configuration once multipath accepts it
  rdma.ha_storage.multipath_config:
    content: "{{ lookup('ansible.builtin.template', 'multipath.conf.j2') }}"
  notify: Reconfigure multipathd
"""

RETURN = r"""
validated:
  description:
    - Whether the candidate was validated (false with O(validate=false), and in a check-mode run on a host
      without multipath, which warns).
  returned: always
  type: bool
messages:
  description: What multipath printed on standard error about the candidate (timestamps removed), ignored lines included.
  returned: always
  type: list
  elements: str
  sample: ["/etc/multipath.conf line 4, invalid value for find_multipaths: \"bogus\""]
path:
  description: The configuration file.
  returned: always
  type: str
"""

import os
import re
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native, to_text
from ansible_collections.rdma.ha_storage.plugins.module_utils.files import (
    fsync_dir, read_installed, remove_quietly, stage_file)
from ansible_collections.rdma.ha_storage.plugins.module_utils.runner import CommandError, Runner, exit_with

# Runs inside `unshare --mount --propagation private`: $1 a private empty directory, $2 the
# directory of the configuration file, $3 its name, $4 multipath; the candidate on stdin.
# Nothing of this is seen outside the namespace, and it ends with the namespace.
VALIDATE_SCRIPT = '\n'.join([
    'set -e',
    'mount -t tmpfs -o mode=0700 multipath_config "$1"',
    'mkdir "$1/upper" "$1/work"',
    'mount -t overlay -o "lowerdir=$2,upperdir=$1/upper,workdir=$1/work" multipath_config "$2"',
    'cat > "$2/$3"',
    'exec "$4" -t >/dev/null',
])
_TIMESTAMP_RE = re.compile(r'^\s*[0-9]+\.[0-9]+ \| ')
# characters that the overlay mount options cannot carry in lowerdir
_BAD_DIR_RE = re.compile(r'[,:\\\s]')


def multipath_messages(stderr):
    """multipath's standard error as lines without their '12819.737306 | ' timestamps."""
    return [_TIMESTAMP_RE.sub('', line).rstrip() for line in (stderr or '').splitlines() if line.strip()]


class MultipathConfig(object):
    # owner of the installed file; tests running without root replace it
    OWNER = (0, 0)

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.path = os.path.normpath(self.params['path'])
        self.directory = os.path.dirname(self.path)
        self.unshare = Runner(module, 'unshare', package='util-linux', opt_dirs=['/usr/bin', '/bin'])
        self.multipath = Runner(module, 'multipath', package='multipath-tools', opt_dirs=['/sbin', '/usr/sbin'])

    def fail(self, msg, **kwargs):
        self.module.fail_json(msg=msg, path=self.path, **kwargs)

    def check_params(self):
        if not os.path.isdir(self.directory):
            self.fail('path: the directory %s does not exist' % self.directory)
        if _BAD_DIR_RE.search(self.directory):
            self.fail('path: %s cannot be validated: its directory contains a comma, colon, backslash or '
                      'white space, which an overlay mount cannot take' % self.path)
        patterns = []
        for index, text in enumerate(self.params['ignore_messages']):
            try:
                patterns.append(re.compile(text))
            except re.error as exc:
                self.fail('ignore_messages[%d]: %r is not a regular expression: %s' % (index, text, to_native(exc)))
        return patterns

    def validate(self, content, patterns):
        """multipath's messages about the candidate; fails the task when any is not ignored."""
        multipath = self.multipath.path   # MissingBinaryError names multipath-tools
        private = tempfile.mkdtemp(prefix='multipath_config.')
        try:
            result = self.unshare.run(
                ['--mount', '--propagation', 'private', '--', '/bin/sh', '-c', VALIDATE_SCRIPT, 'multipath_config',
                 private, self.directory, os.path.basename(self.path), multipath],
                data=content, ok_rcs=None)
        finally:
            shutil.rmtree(private, ignore_errors=True)
        messages = multipath_messages(result.stderr)
        if result.rc != 0:
            raise CommandError(
                'could not validate %s: multipath -t in a private mount namespace failed (rc %d): %s. The validation '
                'needs root with CAP_SYS_ADMIN (an unprivileged container lacks it: validate=false installs without it)'
                % (self.path, result.rc, '; '.join(messages) or '(no message)'),
                result.cmd, result.rc, result.stdout, result.stderr)
        problems = [m for m in messages if not any(p.search(m) for p in patterns)]
        if problems:
            self.fail('multipath rejected the configuration (nothing was installed in %s): %s' % (self.path, '; '.join(problems)),
                      messages=messages, problems=problems, rc=result.rc, stderr=result.stderr, cmd=result.cmd)
        return messages

    def install(self, data):
        try:
            tmp = stage_file(self.directory, os.path.basename(self.path), data, 0o644, *self.OWNER)
        except (IOError, OSError) as exc:
            self.fail('cannot write a temporary file in %s: %s' % (self.directory, to_native(exc)))
        try:
            if self.module.selinux_enabled():
                context = (self.module.selinux_context(self.path) if os.path.exists(self.path)
                           else self.module.selinux_default_context(self.path))
                self.module.set_context_if_different(tmp, context, False)
            os.rename(tmp, self.path)
        except OSError as exc:
            remove_quietly(tmp)
            self.fail('cannot install %s: %s' % (self.path, to_native(exc)))
        fsync_dir(self.directory)

    def run(self):
        patterns = self.check_params()
        content = self.params['content']
        data = to_bytes(content, errors='surrogate_or_strict')
        messages = []
        validated = bool(self.params['validate'])
        if validated and self.module.check_mode and not self.multipath.available():
            # a check-mode run before multipath-tools is installed (the real run installs it first)
            self.module.warn('multipath not found on this host (multipath-tools not installed yet?): '
                             'the configuration was not validated in this check-mode run')
            validated = False
        elif validated:
            messages = self.validate(content, patterns)
        try:
            installed = read_installed(self.path)
        except (IOError, OSError) as exc:
            self.fail('cannot read the installed %s: %s' % (self.path, to_native(exc)))
        before = to_text(installed['content'], errors='surrogate_or_replace') if installed else ''
        attrs_ok = installed is not None and (installed['mode'], installed['uid'], installed['gid']) == (0o644,) + self.OWNER
        changed = installed is None or installed['content'] != data or not attrs_ok
        if changed and not self.module.check_mode:
            self.install(data)
        result = dict(changed=changed, validated=validated, messages=messages, path=self.path)
        if self.module._diff:
            result['diff'] = dict(before_header=self.path if installed else '%s (absent)' % self.path,
                                  after_header=self.path, before=before, after=content)
        return result


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            content=dict(type='str', required=True),
            path=dict(type='path', default='/etc/multipath.conf'),
            validate=dict(type='bool', default=True),
            ignore_messages=dict(type='list', elements='str', default=[]),
        ),
        supports_check_mode=True,
    )


def main():
    module = build_module()
    exit_with(module, MultipathConfig(module).run)


if __name__ == '__main__':
    main()
