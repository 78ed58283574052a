#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: drbd_metadata
short_description: Create DRBD metadata on a backing device, safely
version_added: 0.1.0
author:
  - rdma.ha_storage contributors (!UNKNOWN)
description:
  - Makes sure a DRBD resource's backing device carries DRBD metadata (internal meta-disk).
  - Metadata is created with C(drbdadm create-md) B(only) when none exists. Existing metadata is
    never touched; it is detected with C(drbdadm get-gi) (falling back to C(drbdadm dump-md) for
    the message), and a resource whose device is attached counts as having metadata.
  - Before creating metadata the backing device is probed with C(blkid -p) and
    C(wipefs --no-act). A filesystem, a partition table, an LVM physical volume, a RAID member
    or any other signature makes the module refuse, unless O(safe_mode=false).
  - It also reads the first 68 KiB of the device, the bytes C(drbdmeta create-md) checks. Unless
    all are zero, drbdmeta reports "Found some data" and asks for a typed confirmation. Leftovers
    there (C(wipefs) removes only the signatures of a file system, not its other blocks) make the
    module refuse too in safe mode, with the command that zeroes them.
  - A refusal names the commands that erase the device so that the next run proceeds (when
    its data is disposable), C(wipefs --all DEVICE) while signatures remain, then
    C(dd if=/dev/zero of=DEVICE bs=68K count=1 oflag=direct).
  - Any answer of C(drbdadm) that is not clearly "metadata present" or "no valid metadata" is an
    error, never a permission to create metadata.
attributes:
  check_mode:
    support: full
    description: Probes run; C(create-md) does not.
  diff_mode:
    support: full
    description: Shows the metadata state before and after.
options:
  resource:
    description: Name of the DRBD resource (as in its C(.res) file).
    type: str
    required: true
  backing_device:
    description:
      - This node's backing device of the resource (the C(disk) of its C(on) section).
      - Must exist and be a block device.
    type: path
    required: true
  safe_mode:
    description:
      - When V(true), refuse to create metadata on a device that carries any signature.
      - V(false) creates metadata anyway (C(drbdadm -- --force create-md)); with internal
        metadata this overwrites the end of the device and makes existing data part of an
        Inconsistent DRBD device. Only for devices you know to be disposable.
    type: bool
    default: true
  state:
    description: Only V(present) is supported; metadata is never removed by this module.
    type: str
    choices: [present]
    default: present
  config:
    description: DRBD configuration file (C(drbdadm -c)); default is drbdadm's own.
    type: path
notes:
  - C(drbdmeta) works on block devices only; in a container without block devices the module
    cannot be used (the rdma.ha_storage.drbd role skips it there).
seealso:
  - module: rdma.ha_storage.drbd_status
  - module: rdma.ha_storage.drbd_initial_sync
"""

EXAMPLES = r"""
- name: Create DRBD metadata for vol0 where none exists (refuses on a used disk)
  rdma.ha_storage.drbd_metadata:
    resource: vol0
    backing_device: /dev/sdb

- name: Create metadata on a disk that held a throw-away filesystem
  rdma.ha_storage.drbd_metadata:
    resource: vol0
    backing_device: /dev/sdb
    safe_mode: false
"""

RETURN = r"""
metadata_found:
  description: Whether DRBD metadata existed before the module ran.
  returned: always
  type: bool
created:
  description: Whether C(create-md) ran (or would run, in check mode).
  returned: always
  type: bool
attached:
  description: Whether the resource's backing device was attached to DRBD (metadata in use).
  returned: always
  type: bool
signatures:
  description: Foreign signatures found on the backing device (probed only when no metadata exists).
  returned: always
  type: list
  elements: str
  sample: ["ext4 (filesystem)"]
first_nonzero_offset:
  description:
    - Offset of the first non-zero byte in the first 68 KiB of the backing device (what
      C(drbdmeta create-md) checks); V(null) when all are zero.
  returned: when the module refused in safe mode
  type: int
  sample: 1024
current_uuid:
  description: Current DRBD generation identifier (hex), when metadata exists.
  returned: when metadata exists after the run (not in check mode for new metadata)
  type: str
  sample: "0000000000000004"
fresh:
  description: Whether the metadata is brand new (current UUID is the just-created one).
  returned: always
  type: bool
"""

import os
import stat

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.rdma.ha_storage.plugins.module_utils.drbd import (
    DRBDMETA_PROBE_BYTES, DrbdCli, classify_signatures, collect_status, drbdmeta_words, erase_advice,
    first_nonzero_offset, is_fresh_uuid, metadata_state, parse_blkid_export, parse_gi, parse_wipefs)
from ansible_collections.rdma.ha_storage.plugins.module_utils.runner import Runner, exit_with

UTIL_LINUX = 'util-linux'


class DrbdMetadata(object):
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.resource = self.params['resource']
        self.device = self.params['backing_device']
        self.cli = DrbdCli(module, config=self.params['config'])
        self.blkid = Runner(module, 'blkid', package=UTIL_LINUX)
        self.wipefs = Runner(module, 'wipefs', package=UTIL_LINUX)

    def prefixed(self, msg):
        return 'resource %s, backing device %s: %s' % (self.resource, self.device, msg)

    def fail(self, msg, result=None, **kwargs):
        """Fail naming the resource and device; result: the CommandResult the failure is about."""
        if result is not None:
            kwargs.update(cmd=result.cmd, rc=result.rc, stdout=result.stdout, stderr=result.stderr)
        self.module.fail_json(msg=self.prefixed(msg), **kwargs)

    def check_device(self):
        try:
            mode = os.stat(self.device).st_mode
        except OSError as exc:
            self.fail('cannot stat the backing device: %s' % exc)
        if not stat.S_ISBLK(mode):
            self.fail('not a block device')

    def attached(self):
        """Whether the resource is up with a disk attached on this node (metadata in use)."""
        loaded, dummy, dummy, dummy, resources = collect_status(self.cli)
        entry = resources.get(self.resource) if loaded else None
        return bool(entry and entry.get('disk_state') not in (None, 'Diskless'))

    def current_uuid(self):
        """The current UUID from `drbdadm get-gi`, None when it does not say."""
        gi = self.cli.adm('get-gi', self.resource, ok_rcs=None)
        return parse_gi(gi.stdout) if gi.rc == 0 else None

    def probe(self):
        """Return (state, uuid) with state 'present', 'absent'; fails on anything unclear."""
        gi = self.cli.adm('get-gi', self.resource, ok_rcs=None)
        state = metadata_state(gi.rc, gi.stdout, gi.stderr)
        uuid = parse_gi(gi.stdout) if gi.rc == 0 else None
        if gi.rc == 0 and uuid is not None:
            return 'present', uuid
        last = gi
        if state == 'unknown':
            last = self.cli.adm('dump-md', self.resource, ok_rcs=None)
            state = metadata_state(last.rc, last.stdout, last.stderr)
            if state == 'present':
                return state, self.current_uuid()
        if state == 'unknown':
            self.fail('cannot tell whether DRBD metadata exists (drbdadm get-gi/dump-md gave no clear answer); '
                      'nothing was changed', result=last)
        return state, None

    def signatures(self):
        # blkid -p: 0 found something, 2 found nothing, 8 ambivalent (several signatures)
        blkid = self.blkid.run(['-p', '-o', 'export', self.device], ok_rcs=(0, 2, 8), msg='blkid -p failed')
        entries = []
        if self.wipefs.available():
            wipefs = self.wipefs.run(['--no-act', '--parsable', self.device], msg='wipefs --no-act failed')
            entries = parse_wipefs(wipefs.stdout)
        foreign, dummy = classify_signatures(blkid.rc, parse_blkid_export(blkid.stdout), entries)
        return foreign

    def leading_data(self):
        """Offset of the first non-zero byte among those drbdmeta probes, or None if all are zero."""
        try:
            with open(self.device, 'rb') as handle:
                data = handle.read(DRBDMETA_PROBE_BYTES)
        except (IOError, OSError) as exc:
            self.fail('cannot read the start of the backing device: %s' % exc)
        return first_nonzero_offset(data)

    def advice(self, signatures_left):
        return ', then '.join('`%s`' % c for c in erase_advice(self.device, signatures_left))

    def refuse(self, foreign, leading):
        """Safe mode: say what is on the device and exactly what lets the next run proceed."""
        if foreign:
            what = ('the device carries %s. If its data is disposable, erase it and run again: %s '
                    '(wipefs removes the signatures; drbdmeta also wants the first %d KiB zeroed)'
                    % (', '.join(foreign), self.advice(True), DRBDMETA_PROBE_BYTES // 1024))
        else:
            what = ('no signature is left on the device, but the first %d KiB are not all zero (byte %d is not): '
                    'leftovers of earlier data (wipefs removes only signatures), and drbdmeta create-md would '
                    'stop at "Found some data" asking for confirmation. If that data is disposable, zero them '
                    'and run again: %s' % (DRBDMETA_PROBE_BYTES // 1024, leading, self.advice(False)))
        self.fail('refusing to create DRBD metadata: %s. Or set safe_mode=false (role variable '
                  'drbd_safe_mode=false) to let DRBD overwrite the device' % what,
                  signatures=foreign, first_nonzero_offset=leading)

    def create(self, force, signatures_left):
        """drbdadm create-md (skipped in check mode); fails quoting drbdmeta."""
        if force:
            # Only without safe mode (refused before): the user said the device may be overwritten.
            created = self.cli.adm('--', '--force', 'create-md', self.resource, ok_rcs=None, changes=True)
        else:
            # No --force: should drbdmeta find something after all, it stops (without a TTY it
            # does not even wait for an answer; "no" is for a drbdmeta that would).
            created = self.cli.adm('create-md', self.resource, data='no', ok_rcs=None, changes=True)
        if created.rc != 0:
            self.fail('drbdadm create-md failed (rc %s); drbdmeta said: "%s". Nothing was written unless it says '
                      'so. If it found data, erase the device when its data is disposable (%s) and run again, or '
                      'set safe_mode=false (role variable drbd_safe_mode=false)'
                      % (created.rc, drbdmeta_words(created.stdout, created.stderr), self.advice(signatures_left)),
                      result=created)
        return created

    def run(self):
        self.check_device()
        result = dict(changed=False, created=False, attached=False, signatures=[], metadata_found=False,
                      fresh=False, current_uuid=None)
        if self.attached():
            result.update(attached=True, metadata_found=True)
            uuid = self.current_uuid()
            result.update(current_uuid='%016X' % uuid if uuid is not None else None, fresh=is_fresh_uuid(uuid))
            return result
        state, uuid = self.probe()
        if state == 'present':
            result.update(metadata_found=True, current_uuid='%016X' % uuid if uuid is not None else None,
                          fresh=is_fresh_uuid(uuid))
            return result
        foreign = self.signatures()
        leading = self.leading_data()
        result['signatures'] = foreign
        if (foreign or leading is not None) and self.params['safe_mode']:
            self.refuse(foreign, leading)
        result.update(changed=True, created=True)
        if self.module._diff:
            result['diff'] = dict(before='metadata: absent\n', after='metadata: present (drbdadm create-md)\n',
                                  before_header=self.device, after_header=self.device)
        created = self.create(bool(foreign or leading is not None), bool(foreign))
        if created.skipped:
            result['fresh'] = True
            return result
        state, uuid = self.probe()
        if state != 'present':
            self.fail('drbdadm create-md reported success but no metadata is found afterwards', result=created)
        result.update(current_uuid='%016X' % uuid if uuid is not None else None, fresh=is_fresh_uuid(uuid),
                      stdout=created.stdout, stderr=created.stderr)
        return result


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            resource=dict(type='str', required=True),
            backing_device=dict(type='path', required=True),
            safe_mode=dict(type='bool', default=True),
            state=dict(type='str', default='present', choices=['present']),
            config=dict(type='path'),
        ),
        supports_check_mode=True,
    )


def main():
    module = build_module()
    task = DrbdMetadata(module)
    exit_with(module, task.run, task.prefixed)


if __name__ == '__main__':
    main()
