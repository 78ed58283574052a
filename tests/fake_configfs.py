# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A configfs emulation on a plain directory, for the tests of module_utils/lio.py, the module
lio_srpt and the OCF agent (tests/conftest.py puts tests/ on sys.path: `import fake_configfs`).

FakeConfigfs has the five operations lio.apply() uses (lio.FILESYSTEM is replaced by one) and
behaves as the kernel does where the order of a plan matters: mkdir creates an object's default
attributes and groups, rmdir removes them but refuses while anything user-made is inside,
attributes cannot be created, a LUN links only an enabled backstore, a serial cannot change
while a LUN exports the backstore, a device cannot be enabled twice. Files hold what the kernel
shows when read (vpd_unit_serial with its "T10 VPD Unit Serial Number:" prefix, info with the
udev path, links relative to the configfs mount), and a relative link target is resolved against
the current directory as configfs does. Standard library only: the OCF agent's tests load it in
a subprocess.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import os
import re
import shutil

ROOT_DIRS = ('core', 'core/alua', 'core/alua/lu_gps', 'core/alua/lu_gps/default_lu_gp')

# (pattern of a user-made directory, its default files {relative path: content}, its default dirs)
KINDS = [
    ('hba', r'^core/[a-z][a-z_]*_[0-9]+$', {'hba_info': 'HBA Index: 1 plugin: iblock version: v5.0\n',
                                            'hba_mode': '0\n'}, []),
    ('backstore', r'^core/[a-z][a-z_]*_[0-9]+/[^/]+$',
     {'control': '', 'enable': '0\n', 'udev_path': '', 'alias': '',
      'info': 'Status: DEACTIVATED  Max Queue Depth: 0  SectorSize: 512  HwMaxSectors: 1024\n'
              '        iBlock device: None  readonly: 0\n        Major: 0 Minor: 0\n',
      'wwn/vpd_unit_serial': 'T10 VPD Unit Serial Number: \n', 'attrib/block_size': '512\n'},
     ['alua', 'attrib', 'pr', 'statistics', 'wwn']),
    ('fabric', r'^srpt$', {'version': 'v4.0\n', 'discovery_auth/rdma_cm_port': '0\n'}, ['discovery_auth']),
    ('port', r'^srpt/(?!discovery_auth$)[^/]+$', {'version': '\n', 'param/cmd_completion_affinity': '-1\n'},
     ['fabric_statistics', 'param']),
    ('tpg', r'^srpt/[^/]+/(?!fabric_statistics$|param$)[^/]+$',
     {'enable': '0\n', 'rtpi': '1\n', 'attrib/srp_max_rdma_size': '65536\n', 'attrib/srp_max_rsp_size': '256\n',
      'attrib/srp_sq_size': '4096\n', 'attrib/use_srq': '0\n'},
     ['acls', 'attrib', 'auth', 'lun', 'np', 'param']),
    ('lun', r'^srpt/[^/]+/[^/]+/lun/lun_[0-9]+$', {'alua_tg_pt_gp': '', 'alua_tg_pt_offline': '0\n'},
     ['statistics']),
    ('acl', r'^srpt/[^/]+/[^/]+/acls/[^/]+$', {'cmdsn_depth': '64\n', 'tag': '\n', 'info': ''},
     ['attrib', 'auth', 'fabric_statistics', 'param']),
    ('mapped_lun', r'^srpt/[^/]+/[^/]+/acls/[^/]+/lun_[0-9]+$', {'write_protect': '0\n'}, ['statistics']),
]


def _error(number, path):
    return OSError(number, os.strerror(number), path)


class FakeConfigfs(object):
    """The emulation below root. srpt_loaded: whether mkdir srpt works; hca_ports: the target
    port names ib_srpt knows (None: any); rdma_cm_port: whether the fabric has that attribute."""

    def __init__(self, root, srpt_loaded=True, hca_ports=None, rdma_cm_port=True):
        self.root = str(root)
        self.srpt_loaded = srpt_loaded
        self.hca_ports = hca_ports
        self.rdma_cm_port = rdma_cm_port

    # ------------------------------------------------------------------ set-up
    @classmethod
    def create(cls, root, fabric=True, **kwargs):
        """A fresh tree: target_core_mod loaded (core/), with the srpt fabric made (fabric)."""
        fake = cls(root, **kwargs)
        for rel in ROOT_DIRS:
            os.makedirs(os.path.join(fake.root, rel))
        if fabric:
            fake.mkdir(fake.path('srpt'))
        return fake

    def path(self, rel):
        return os.path.join(self.root, rel)

    def rel(self, path):
        return os.path.relpath(path, self.root)

    def kind(self, rel):
        for kind, pattern, files, dirs in KINDS:
            if re.match(pattern, rel):
                return kind, files, dirs
        return None, {}, []

    # ------------------------------------------------------------------ the five operations
    def exists(self, path):
        return os.path.lexists(path)

    def mkdir(self, path):
        rel = self.rel(path)
        kind, files, dirs = self.kind(rel)
        if kind is None:
            raise _error(errno.EPERM, path)
        if kind == 'fabric' and not self.srpt_loaded:
            raise _error(errno.EINVAL, path)
        if kind == 'port' and self.hca_ports is not None and os.path.basename(rel) not in self.hca_ports:
            raise _error(errno.EINVAL, path)
        os.mkdir(path)
        for name in dirs:
            os.mkdir(os.path.join(path, name))
        for name, content in files.items():
            if name == 'discovery_auth/rdma_cm_port' and not self.rdma_cm_port:
                continue
            with open(os.path.join(path, name), 'w') as handle:
                handle.write(content)

    def write(self, path, value):
        rel = self.rel(path)
        if not os.path.isfile(path) or os.path.islink(path):
            raise _error(errno.ENOENT, path)
        base, name = os.path.split(rel)
        kind = self.kind(base)[0]
        if kind is None and name == 'vpd_unit_serial':
            base, kind = os.path.dirname(base), 'backstore'
        text = value
        if kind == 'backstore' and name == 'control':
            match = re.match(r'^udev_path=([^,\n]+)', value)
            if self.read(base + '/enable') == '1':
                raise _error(errno.EEXIST, path)
            if match:
                self._info(base, udev=match.group(1))
        elif kind == 'backstore' and name == 'enable':
            udev = self._udev(base)
            if value.strip() != '1':
                raise _error(errno.EINVAL, path)
            if self.read(base + '/enable') == '1':
                raise _error(errno.EEXIST, path)
            if not udev:
                raise _error(errno.EINVAL, path)
            if not os.path.exists(udev):
                raise _error(errno.ENOENT, path)
            self._info(base, status='ACTIVATED')
            text = '1\n'
        elif kind == 'backstore' and name == 'vpd_unit_serial':
            if len(value) >= 254:
                raise _error(errno.EOVERFLOW, path)
            if self.exported(base):
                raise _error(errno.EINVAL, path)
            text = 'T10 VPD Unit Serial Number: %s\n' % value.strip()
        elif kind == 'backstore' and name == 'udev_path':
            text = value.strip() + '\n'
        elif name in ('enable', 'rdma_cm_port'):
            if not value.strip().isdigit():
                raise _error(errno.EINVAL, path)
            text = '%d\n' % int(value)
        with open(path, 'w') as handle:
            handle.write(text)

    def symlink(self, target, path):
        rel = self.rel(path)
        parent = os.path.dirname(rel)
        kind = self.kind(parent)[0]
        # configfs resolves a relative target against the current directory, not the link's
        pointed = os.path.normpath(os.path.join(os.getcwd(), target))
        if kind == 'lun':
            if not os.path.isdir(pointed) or self.kind(self.rel(pointed))[0] != 'backstore':
                raise _error(errno.EINVAL, path)
            if self.read(self.rel(pointed) + '/enable') != '1':
                raise _error(errno.ENODEV, path)
            if [n for n in os.listdir(os.path.dirname(path)) if os.path.islink(os.path.join(os.path.dirname(path), n))]:
                raise _error(errno.EEXIST, path)
        elif kind == 'mapped_lun':
            if not os.path.isdir(pointed) or self.kind(self.rel(pointed))[0] != 'lun':
                raise _error(errno.EINVAL, path)
        else:
            raise _error(errno.EPERM, path)
        # read back as the kernel shows it: up to the configfs mount, then down
        mount = os.path.dirname(self.root)
        os.symlink(os.path.join(os.path.relpath(mount, os.path.dirname(path)), os.path.relpath(pointed, mount)), path)

    def unlink(self, path):
        if not os.path.islink(path):
            raise _error(errno.EPERM, path)
        os.unlink(path)

    def rmdir(self, path):
        rel = self.rel(path)
        kind, files, dirs = self.kind(rel)
        if kind is None:
            raise _error(errno.EPERM, path)
        if not os.path.isdir(path):
            raise _error(errno.ENOENT, path)
        # like configfs: a link or a user-made directory anywhere inside keeps it
        for name in os.listdir(path):
            child = os.path.join(path, name)
            if os.path.islink(child) or (os.path.isdir(child) and name not in dirs):
                raise _error(errno.ENOTEMPTY, path)
            for top, subdirs, names in os.walk(child):
                for entry in subdirs + names:
                    inner = os.path.join(top, entry)
                    if os.path.islink(inner) or (os.path.isdir(inner) and self.kind(self.rel(inner))[0]):
                        raise _error(errno.ENOTEMPTY, path)
        if kind == 'backstore' and self.exported(rel):
            raise _error(errno.EBUSY, path)
        for name in os.listdir(path):
            child = os.path.join(path, name)
            if os.path.isdir(child):
                shutil.rmtree(child)
            else:
                os.unlink(child)
        os.rmdir(path)

    # ------------------------------------------------------------------ helpers
    def read(self, rel):
        try:
            with open(self.path(rel)) as handle:
                return handle.read().strip()
        except (IOError, OSError):
            return None

    def _udev(self, backstore):
        match = re.search(r'UDEV PATH: (\S+)', self.read(backstore + '/info') or '')
        return match.group(1) if match else None

    def _info(self, backstore, udev=None, status=None):
        info = self.read(backstore + '/info') or ''
        if udev is not None:
            info = re.sub(r'  UDEV PATH: \S+', '', info)
            info = info.replace('  readonly:', '  UDEV PATH: %s  readonly:' % udev)
        if status is not None:
            info = re.sub(r'Status: \S+', 'Status: %s' % status, info)
            info = info.replace('iBlock device: None', 'iBlock device: %s' % os.path.basename(self._udev(backstore)))
        with open(self.path(backstore + '/info'), 'w') as handle:
            handle.write(info + '\n')

    def exported(self, backstore):
        """The LUN links (anywhere below the root) that point at backstore (relative path)."""
        target = self.path(backstore)
        found = []
        for top, dummy, names in os.walk(self.root):
            for name in names:
                link = os.path.join(top, name)
                if os.path.islink(link) and os.path.normpath(os.path.join(top, os.readlink(link))) == target:
                    found.append(self.rel(link))
        return found

    def user_dirs(self):
        """Every directory below the root that a mkdir made (what must be gone after a stop)."""
        made = []
        for top, dirs, dummy in os.walk(self.root):
            for name in dirs:
                rel = self.rel(os.path.join(top, name))
                if self.kind(rel)[0] is not None:
                    made.append(rel)
        return sorted(made)


def captured_entries(capture):
    """The lio.FlatTree entries of a tree captured with tests/fixtures/lio/capture.py (its JSON
    loaded): {'': dir, path: ('dir', None) | ('file', content) | ('link', target)}."""
    entries = {'': ('dir', None)}
    for path, item in capture['tree'].items():
        if item['type'] == 'dir':
            entries[path] = ('dir', None)
        elif item['type'] == 'link':
            entries[path] = ('link', item['target'])
        else:
            entries[path] = ('file', item['content'])
    return entries
