#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: ipoib_config
short_description: Validate network configuration files with the network backend's own parser, then install them
version_added: 0.1.0
author:
  - rdma.ha_storage contributors (!UNKNOWN)
description:
  - Installs a set of files in one directory of a network backend (ifupdown, systemd-networkd or
    NetworkManager) B(after) the backend's own parser read the candidates without a complaint, and
    removes the files of an earlier run that are no longer wanted (O(prune)).
  - "C(ifupdown): C(ifquery --interfaces=CANDIDATE --list) and C(ifup --no-act --force
    --interfaces=CANDIDATE) of every interface it lists, on a private copy of each candidate; a
    syntax error, an unknown method or a missing required option (C(address) of C(inet static))
    fails. Values ifupdown passes on to commands (an C(mtu) that is not a number) are not checked."
  - "C(networkd): systemd-networkd itself reads the directory with the candidates, in a private
    mount and network namespace (C(unshare --mount --net)): O(directory) is an overlay whose upper
    layer on a private tmpfs holds the candidates, C(/run/systemd/netif) and C(/run/dbus) are
    private tmpfs, and the namespace has only C(lo), so nothing of the host changes. Every line
    networkd prints about a candidate (C(Unknown key), C(Failed to parse ...)) is a problem; it
    ignores such lines itself and would run with part of the configuration missing. The
    namespace needs root with C(CAP_SYS_ADMIN) (and networkd C(CAP_NET_ADMIN)); an unprivileged
    container lacks them (the task then fails saying so: O(validate=false) installs without it)."
  - "C(networkmanager): C(nmcli --offline connection modify connection.autoconnect yes) reads each
    candidate keyfile on standard input (libnm's keyfile parser and C(nm_connection_verify()):
    unknown connection types, invalid properties, bond options that do not fit the bond mode).
    C(--offline) needs NetworkManager 1.42 or later (Debian 12 has 1.42, Debian 13 1.52); the
    daemon is not involved."
  - A rejected candidate fails the task with the backend's messages; nothing is installed or removed.
  - Does not apply anything to the running system; notify a handler on a change.
attributes:
  check_mode:
    support: full
    description: Validates the candidates (that changes nothing) and reports which files would be written or removed.
  diff_mode:
    support: full
    description: Shows each installed file and its candidate.
options:
  backend:
    description: The network backend whose parser validates the files.
    type: str
    required: true
    choices: [ifupdown, networkd, networkmanager]
  directory:
    description: The directory the files go to. It must exist.
    type: path
    required: true
  files:
    description: File name (no C(/)) to complete content.
    type: dict
    required: true
  prune:
    description:
      - A file name prefix. Files of O(directory) whose name starts with it and that are not in O(files) are
        removed (the interfaces of an earlier run that left the model).
    type: str
  mode:
    description: Mode of the installed files (C(0600) for NetworkManager keyfiles, which it refuses otherwise).
    type: raw
    default: '0644'
  validate:
    description: Validate the candidates with the backend's parser before installing them.
    type: bool
    default: true
  networkd_seconds:
    description: How long systemd-networkd runs in the private namespace to read the candidates.
    type: int
    default: 3
notes:
  - "Needs, on the managed host: C(ifquery) and C(ifup) (ifupdown); C(unshare), C(mount), C(setpriv) (util-linux),
    C(timeout) (coreutils) and C(systemd-networkd) (systemd); C(nmcli) (network-manager)."
seealso:
  - module: rdma.ha_storage.multipath_config
"""

EXAMPLES = r"""
- name: Install the IPoIB interfaces for ifupdown once ifupdown accepts them
  rdma.ha_storage.ipoib_config:
    backend: ifupdown
    directory: /etc/network/interfaces.d
    files:
      rdma-ha-storage-ipoib: "{{ lookup('ansible.builtin.template', 'ifupdown.j2') }}"
  notify: Bring up the IPoIB interfaces
"""

RETURN = r"""
validated:
  description: Whether the candidates were validated.
  returned: always
  type: bool
messages:
  description: What the backend said about the candidates.
  returned: always
  type: list
  elements: str
  sample: ["/etc/systemd/network/50-rdma-ha-storage-ib0.8001.netdev:8: Failed to parse IPoIB mode, ignoring: datagramm"]
written:
  description: Names of the files written (or that would be, in check mode).
  returned: always
  type: list
  elements: str
removed:
  description: Names of the files removed (O(prune)).
  returned: always
  type: list
  elements: str
"""

import os
import re
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native, to_text
from ansible_collections.rdma.ha_storage.plugins.module_utils.files import (
    fsync_dir, parse_mode, read_installed, remove_quietly, stage_file)
from ansible_collections.rdma.ha_storage.plugins.module_utils.runner import CommandError, Runner, exit_with

# Runs inside `unshare --mount --net --propagation private`: $1 a private empty directory, $2 the
# directory of the files, $3 the directory holding the candidates, $4 timeout, $5 seconds, $6
# setpriv, $7 systemd-networkd. networkd runs as systemd-network with the capabilities its unit
# gives it (as root it would ask for CAP_BPF too, which a container may not have), its runtime
# directory and the D-Bus socket directory private. Nothing of this is seen outside the
# namespace, and it ends with it.
NETWORKD_SCRIPT = '\n'.join([
    'set -e',
    'mount -t tmpfs -o mode=0755 ipoib_config "$1"',
    'mkdir "$1/upper" "$1/work" "$1/netif" "$1/dbus"',
    'cp -p "$3"/* "$1/upper/"',
    'chown systemd-network:systemd-network "$1/netif"',
    'mount -t overlay -o "lowerdir=$2,upperdir=$1/upper,workdir=$1/work" ipoib_config "$2"',
    'mkdir -p /run/systemd/netif /run/dbus',
    'mount --bind "$1/netif" /run/systemd/netif',
    'mount --bind "$1/dbus" /run/dbus',
    'export SYSTEMD_LOG_TARGET=console SYSTEMD_LOG_LEVEL=info SYSTEMD_LOG_COLOR=0',
    'caps=+net_admin,+net_bind_service,+net_broadcast,+net_raw',
    'exec "$4" "$5" "$6" --reuid=systemd-network --regid=systemd-network --init-groups --inh-caps="$caps" '
    '--ambient-caps="$caps" "$7"',
])
NETWORKD_PATHS = ['/usr/lib/systemd', '/lib/systemd']
_NAME_RE = re.compile(r'^[A-Za-z0-9_][A-Za-z0-9_.:@-]*\Z')
# characters that the overlay mount options cannot carry in lowerdir
_BAD_DIR_RE = re.compile(r'[,:\\\s]')


class IpoibConfig(object):
    # owner of the installed files; tests running without root replace it
    OWNER = (0, 0)

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.directory = os.path.normpath(self.params['directory'])
        self.backend = self.params['backend']

    def fail(self, msg, **kwargs):
        self.module.fail_json(msg=msg, directory=self.directory, **kwargs)

    @staticmethod
    def private_dir():
        """A new private (0700) temporary directory."""
        return tempfile.mkdtemp(prefix='ipoib_config.')

    def check_params(self):
        if not os.path.isdir(self.directory):
            self.fail('directory: %s does not exist' % self.directory)
        for name, content in self.params['files'].items():
            if not isinstance(name, str) or not _NAME_RE.match(name):
                self.fail('files: %r is not a file name (letters, digits, "_", ".", ":", "@", "-"; no "/")' % (name,))
            if not isinstance(content, str):
                self.fail('files: the content of %s must be a string' % name)
        if self.params['prune'] is not None and not _NAME_RE.match(self.params['prune']):
            self.fail('prune: %r is not a file name prefix' % (self.params['prune'],))
        try:
            return parse_mode(self.params['mode'])
        except ValueError as exc:
            self.fail('mode: %s' % to_native(exc))

    # ------------------------------------------------------------------ validation
    def stage_candidates(self, private):
        for name, content in self.params['files'].items():
            with open(os.path.join(private, name), 'wb') as handle:
                handle.write(to_bytes(content, errors='surrogate_or_strict'))

    def validate(self):
        """The backend's messages about the candidates; fails the task when it rejects one."""
        private = self.private_dir()
        try:
            self.stage_candidates(private)
            return getattr(self, 'validate_' + self.backend)(private)
        finally:
            shutil.rmtree(private, ignore_errors=True)

    def rejected(self, problems, **kwargs):
        self.fail('%s rejected the configuration (nothing was installed in %s): %s'
                  % (self.backend, self.directory, '; '.join(problems)), problems=problems, **kwargs)

    def validate_ifupdown(self, private):
        ifquery = Runner(self.module, 'ifquery', package='ifupdown', opt_dirs=['/sbin', '/usr/sbin'])
        ifup = Runner(self.module, 'ifup', package='ifupdown', opt_dirs=['/sbin', '/usr/sbin'])
        messages = []
        for name in sorted(self.params['files']):
            candidate = os.path.join(private, name)
            listed = ifquery.run(['--interfaces=%s' % candidate, '--list'], ok_rcs=None)
            said = [line for line in listed.stderr.splitlines() if line.strip()]
            if listed.rc != 0:
                self.rejected([line.replace(candidate, name) for line in said] or ['ifquery rc %d' % listed.rc],
                              stderr=listed.stderr, cmd=listed.cmd)
            ifaces = [i for i in listed.stdout.split() if i != 'lo']
            if not ifaces:
                continue
            result = ifup.run(['--no-act', '--force', '--interfaces=%s' % candidate] + ifaces, ok_rcs=None)
            said += [line.replace(candidate, name) for line in result.stderr.splitlines() if line.strip()]
            if result.rc != 0:
                self.rejected(said or ['ifup --no-act rc %d' % result.rc], stderr=result.stderr, cmd=result.cmd)
            messages += said
        return messages

    def validate_networkd(self, private):
        if _BAD_DIR_RE.search(self.directory):
            self.fail('directory: %s cannot be validated: it contains a comma, colon, backslash or white space, '
                      'which an overlay mount cannot take' % self.directory)
        unshare = Runner(self.module, 'unshare', package='util-linux', opt_dirs=['/usr/bin', '/bin'])
        timeout = Runner(self.module, 'timeout', package='coreutils', opt_dirs=['/usr/bin', '/bin'])
        setpriv = Runner(self.module, 'setpriv', package='util-linux', opt_dirs=['/usr/bin', '/bin'])
        networkd = Runner(self.module, 'systemd-networkd', package='systemd', opt_dirs=NETWORKD_PATHS)
        scratch = self.private_dir()
        try:
            result = unshare.run(
                ['--mount', '--net', '--propagation', 'private', '--', '/bin/sh', '-c', NETWORKD_SCRIPT, 'ipoib_config',
                 scratch, self.directory, private, timeout.path, str(self.params['networkd_seconds']), setpriv.path,
                 networkd.path],
                ok_rcs=None)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        lines = [line.rstrip() for line in (result.stdout + '\n' + result.stderr).splitlines() if line.strip()]
        # networkd reads its configuration as it starts; timeout ends it (rc 124) after networkd_seconds
        if result.rc != 124:
            raise CommandError(
                'could not validate the files of %s: systemd-networkd did not run in a private mount and network '
                'namespace (rc %d): %s. The validation needs root with CAP_SYS_ADMIN, and networkd CAP_NET_ADMIN '
                '(an unprivileged container lacks them: validate=false installs without it)'
                % (self.directory, result.rc, '; '.join(lines[-5:]) or '(no message)'),
                result.cmd, result.rc, result.stdout, result.stderr)
        ours = tuple('%s/%s:' % (self.directory, name) for name in self.params['files'])
        problems = [line for line in lines if line.startswith(ours)]
        if problems:
            self.rejected(problems, messages=lines, stderr=result.stderr, cmd=result.cmd)
        return problems

    def validate_networkmanager(self, private):
        nmcli = Runner(self.module, 'nmcli', package='network-manager', opt_dirs=['/usr/bin', '/bin'])
        problems = []
        for name in sorted(self.params['files']):
            result = nmcli.run(['--offline', 'connection', 'modify', 'connection.autoconnect', 'yes'],
                               data=self.params['files'][name], ok_rcs=None)
            if result.rc != 0:
                problems.append('%s: %s' % (name, ' '.join(result.stderr.split()) or 'nmcli rc %d' % result.rc))
        if problems:
            self.rejected(problems)
        return []

    # ------------------------------------------------------------------ installation
    def install(self, name, data, mode):
        path = os.path.join(self.directory, name)
        try:
            tmp = stage_file(self.directory, name, data, mode, *self.OWNER)
        except (IOError, OSError) as exc:
            self.fail('cannot write a temporary file in %s: %s' % (self.directory, to_native(exc)))
        try:
            if self.module.selinux_enabled():
                context = (self.module.selinux_context(path) if os.path.exists(path)
                           else self.module.selinux_default_context(path))
                self.module.set_context_if_different(tmp, context, False)
            os.rename(tmp, path)
        except OSError as exc:
            remove_quietly(tmp)
            self.fail('cannot install %s: %s' % (path, to_native(exc)))

    def stale(self):
        prefix = self.params['prune']
        if prefix is None:
            return []
        return sorted(name for name in os.listdir(self.directory)
                      if name.startswith(prefix) and name not in self.params['files']
                      and os.path.isfile(os.path.join(self.directory, name)))

    def run(self):
        mode = self.check_params()
        validated = bool(self.params['validate'])
        messages = self.validate() if validated else []
        written = []
        diffs = []
        for name in sorted(self.params['files']):
            content = self.params['files'][name]
            data = to_bytes(content, errors='surrogate_or_strict')
            path = os.path.join(self.directory, name)
            try:
                installed = read_installed(path)
            except (IOError, OSError) as exc:
                self.fail('cannot read the installed %s: %s' % (path, to_native(exc)))
            if installed is not None and installed['content'] == data \
                    and (installed['mode'], installed['uid'], installed['gid']) == (mode,) + self.OWNER:
                continue
            written.append(name)
            diffs.append(dict(before_header=path if installed else '%s (absent)' % path, after_header=path,
                              before=to_text(installed['content'], errors='surrogate_or_replace') if installed else '',
                              after=content))
        removed = self.stale()
        for name in removed:
            path = os.path.join(self.directory, name)
            diffs.append(dict(before_header=path, after_header='%s (absent)' % path,
                              before=to_text(read_installed(path)['content'], errors='surrogate_or_replace'), after=''))
        if not self.module.check_mode:
            for name in written:
                self.install(name, to_bytes(self.params['files'][name], errors='surrogate_or_strict'), mode)
            for name in removed:
                try:
                    os.unlink(os.path.join(self.directory, name))
                except OSError as exc:
                    self.fail('cannot remove %s: %s' % (os.path.join(self.directory, name), to_native(exc)))
            if written or removed:
                fsync_dir(self.directory)
        result = dict(changed=bool(written or removed), validated=validated, messages=messages, written=written,
                      removed=removed, directory=self.directory)
        if self.module._diff:
            result['diff'] = diffs
        return result


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            backend=dict(type='str', required=True, choices=['ifupdown', 'networkd', 'networkmanager']),
            directory=dict(type='path', required=True),
            files=dict(type='dict', required=True),
            prune=dict(type='str'),
            mode=dict(type='raw', default='0644'),
            validate=dict(type='bool', default=True),
            networkd_seconds=dict(type='int', default=3),
        ),
        supports_check_mode=True,
    )


def main():
    module = build_module()
    exit_with(module, IpoibConfig(module).run)


if __name__ == '__main__':
    main()
