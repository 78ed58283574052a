# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""File helpers of the rdma.ha_storage modules: nothing here knows about DRBD.

Staging a file next to its target (so that a rename replaces it atomically), private files
(0600, created exclusively), reading what is installed, octal modes. Pure standard library.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import os
import re
import tempfile

_MODE_RE = re.compile(r'^0?[0-7]{3}$|^[0-7]{4}$')


def parse_mode(value):
    """'0644' / '644' (octal string) or an int (YAML 1.1 reads 0644 as 420) -> int.

    Raises ValueError for anything else (symbolic modes are not accepted: the mode is set on a
    new file, there is no previous mode to apply u+x to).
    """
    if isinstance(value, bool):
        raise ValueError('%r is not an octal mode' % (value,))
    if isinstance(value, int):
        if 0 <= value <= 0o7777:
            return value
        raise ValueError('%r is out of range for a file mode' % (value,))
    text = str(value).strip()
    if text.startswith('0o'):
        text = text[2:]
    if not _MODE_RE.match(text):
        raise ValueError("%r is not an octal mode such as '0644'" % (value,))
    return int(text, 8)


def read_file(path):
    """The text of a file, or None when it cannot be read (absent, a directory, no permission)."""
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def read_installed(path):
    """{'content': bytes, 'mode': int, 'uid': int, 'gid': int} of a file, or None when absent."""
    try:
        st = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return None
        raise
    with open(path, 'rb') as handle:
        content = handle.read()
    return {'content': content, 'mode': st.st_mode & 0o7777, 'uid': st.st_uid, 'gid': st.st_gid}


def write_private_file(path, content):
    """Create path (it must not exist) with mode 0600 and write content (bytes or text) into it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, 'wb' if isinstance(content, bytes) else 'w') as handle:
        handle.write(content)


def stage_file(directory, name, content, mode, uid, gid):
    """Write content into a hidden temporary file in directory (same file system as the
    target, so a rename replaces the target atomically), with its final mode and owner, synced
    to disk. Returns the temporary path; the caller renames it into place or removes it.

    The file is created 0600 by mkstemp and only then given its mode: a file carrying a secret
    is never readable by others, not even for a moment. Its name starts with '.' and ends in
    '.tmp' (tools that read a directory by suffix, drbdadm for one, never read a left-over one).
    """
    fd, tmp = tempfile.mkstemp(prefix='.%s.' % name, suffix='.tmp', dir=directory)
    try:
        with os.fdopen(fd, 'wb') as handle:
            handle.write(content)
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            if (uid, gid) != (-1, -1):
                os.fchown(handle.fileno(), uid, gid)
            os.fsync(handle.fileno())
    except Exception:
        remove_quietly(tmp)
        raise
    return tmp


class InstallError(Exception):
    """install_file failed: ``step`` is 'write' (staging the new content) or 'install' (the rename)."""

    def __init__(self, step, reason):
        super(InstallError, self).__init__('cannot %s: %s' % (step, reason))
        self.step = step
        self.reason = reason


def install_file(path, content, mode, uid, gid):
    """Replace path with content (bytes) atomically: its directory made if missing (0755), the
    content staged beside it (stage_file), renamed over it, the directory synced. Raises
    InstallError; nothing is left behind on failure."""
    directory = os.path.dirname(path) or '.'
    try:
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o755)
        tmp = stage_file(directory, os.path.basename(path), content, mode, uid, gid)
    except (IOError, OSError) as exc:
        raise InstallError('write', exc)
    try:
        os.rename(tmp, path)
    except OSError as exc:
        remove_quietly(tmp)
        raise InstallError('install', exc)
    fsync_dir(directory)


def remove_quietly(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def fsync_dir(directory):
    """Make renames in directory durable (best effort)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
