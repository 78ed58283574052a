# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one way the rdma.ha_storage modules run a command.

One ``Runner`` per tool (drbdadm, blkid, modprobe, ...), built on AnsibleModule.run_command:

* the binary is looked up once per runner (``get_bin_path``); a missing one is a
  ``MissingBinaryError`` that names the binary and the package to install;
* every call runs with a C locale (``LC_ALL=C``, ``LANG=C``, ``LANGUAGE=C``), so that the
  parsers beside the runners read untranslated output;
* the runner's secrets are replaced by ``********`` in everything it hands back: the command,
  its stdout and stderr, in results and in errors alike;
* a return code the caller did not declare fine (default: 0 only) raises ``CommandError``;
* a call the caller marks as changing state (``changes=True``) is not run in check mode; its
  result says ``skipped``.

Nothing here calls fail_json: a module catches ``RunnerError`` and fails with
``module.fail_json(**error.fail_kwargs())`` (msg, cmd, rc, stdout, stderr).

Module utilities must stay importable on the Python versions of managed hosts: no f-strings,
no dataclasses, no type annotations.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import shlex

MASK = '********'

# The environment of every call. The C locale wins over any variable a caller adds.
C_LOCALE = {'LC_ALL': 'C', 'LANG': 'C', 'LANGUAGE': 'C'}


class RunnerError(Exception):
    """Base of the runner's errors; ``fail_kwargs()`` gives the arguments for fail_json."""

    def __init__(self, msg):
        super(RunnerError, self).__init__(msg)
        self.msg = msg

    def fail_kwargs(self):
        return dict(msg=self.msg)


class MissingBinaryError(RunnerError):
    """The tool is not installed on the managed host."""

    def __init__(self, binary, package=None):
        self.binary = binary
        self.package = package or binary
        super(MissingBinaryError, self).__init__(
            '%s not found on this host: install %s' % (binary, self.package))


class CommandError(RunnerError):
    """A command failed (or its output could not be used). Every field is already masked."""

    def __init__(self, msg, cmd, rc, stdout, stderr):
        super(CommandError, self).__init__(msg)
        self.cmd = list(cmd or [])
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr

    @classmethod
    def from_result(cls, result, msg):
        """An error about a result (for example output that does not parse)."""
        return cls(msg, result.cmd, result.rc, result.stdout, result.stderr)

    def fail_kwargs(self):
        return dict(msg=self.msg, cmd=self.cmd, rc=self.rc, stdout=self.stdout, stderr=self.stderr)


class CommandResult(object):
    """What a call gave: cmd (the argv, masked), rc, stdout and stderr (masked), skipped.

    A call skipped in check mode has rc 0, empty output and skipped True.
    """

    def __init__(self, cmd, rc, stdout, stderr, skipped=False):
        self.cmd = cmd
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.skipped = skipped

    @property
    def command_line(self):
        """The masked command as one shell-quoted line, for messages and module results."""
        return command_line(self.cmd)

    def as_dict(self):
        """cmd, rc, stdout and stderr, as fail_json and module results carry them."""
        return dict(cmd=self.cmd, rc=self.rc, stdout=self.stdout, stderr=self.stderr)

    def __repr__(self):
        return 'CommandResult(%r, rc=%r, skipped=%r)' % (self.cmd, self.rc, self.skipped)


def command_line(argv):
    """argv as one shell-quoted line."""
    return ' '.join(shlex.quote(str(arg)) for arg in argv)


def one_line(text, limit=600):
    """text on one line (whitespace runs folded), the end kept when it is longer than limit."""
    words = ' '.join((text or '').split())
    return words if len(words) <= limit else '...' + words[-limit:]


class Runner(object):
    """Runs one tool through module.run_command.

    module: the AnsibleModule (run_command, get_bin_path, check_mode).
    binary: the tool's name, looked up with get_bin_path (opt_dirs: further directories).
    package: the package that provides it, named when it is missing (default: the binary).
    prefix: arguments put before each call's own (for example ``['-c', CONFIG]``).
    environ: further environment variables for every call (the C locale still wins).
    secrets: strings replaced by ``********`` in every command, output and message handed back.
    masker: a function text -> text applied after the secrets are replaced, for secrets the
        caller does not know by value (for example every ``shared-secret`` of a DRBD configuration).
    """

    def __init__(self, module, binary, package=None, prefix=None, environ=None, secrets=None,
                 masker=None, opt_dirs=None):
        self.module = module
        self.binary = binary
        self.package = package or binary
        self.prefix = list(prefix or [])
        self.environ = dict(environ or {})
        self.secrets = [s for s in (secrets or []) if s]
        self.masker = masker
        self.opt_dirs = list(opt_dirs or [])
        self._path = None
        self._looked_up = False

    # ------------------------------------------------------------------ the binary
    def _lookup(self):
        if not self._looked_up:
            self._path = self.module.get_bin_path(self.binary, required=False, opt_dirs=self.opt_dirs)
            self._looked_up = True
        return self._path

    def available(self):
        """Whether the binary is installed (looked up once)."""
        return bool(self._lookup())

    @property
    def path(self):
        """The binary's path; MissingBinaryError when it is not installed."""
        path = self._lookup()
        if not path:
            raise MissingBinaryError(self.binary, self.package)
        return path

    # ------------------------------------------------------------------ masking
    def mask(self, text):
        """text with every secret replaced by ******** (None and '' are returned as they are)."""
        if not text:
            return text
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        if self.masker is not None:
            text = self.masker(text)
        return text

    def environment(self, environ=None):
        """The environ_update of a call: the runner's variables, the call's, then the C locale."""
        env = dict(self.environ)
        env.update(environ or {})
        env.update(C_LOCALE)
        return env

    def argv(self, args):
        """The full command (not masked): binary, prefix, args."""
        return [self.path] + self.prefix + [str(arg) for arg in args]

    # ------------------------------------------------------------------ running
    def run(self, args, ok_rcs=(0,), data=None, changes=False, msg=None, environ=None):
        """Run the tool with args; return a CommandResult.

        ok_rcs: the return codes that are not an error (None: every one is fine).
        data: text sent to the command's standard input (run_command adds a newline).
        changes: the command changes state; in check mode it is not run (result.skipped), and
            a missing binary is no error then (the result names the bare binary).
        msg: the message of the CommandError raised for another rc (default: the masked
            command, its rc and what it printed on stderr, or stdout).
        environ: further environment variables for this call.
        """
        if changes and self.module.check_mode:
            # what would run; a check-mode run may come before the tool is installed
            argv = [self._lookup() or self.binary] + self.prefix + [str(arg) for arg in args]
            return CommandResult([self.mask(arg) for arg in argv], 0, '', '', skipped=True)
        argv = self.argv(args)
        shown = [self.mask(arg) for arg in argv]
        rc, out, err = self.module.run_command(
            argv, check_rc=False, data=data, binary_data=False, environ_update=self.environment(environ),
            expand_user_and_vars=False)
        result = CommandResult(shown, rc, self.mask(out), self.mask(err))
        if ok_rcs is not None and rc not in ok_rcs:
            if msg is None:
                said = one_line(result.stderr) or one_line(result.stdout)
                msg = '%s failed (rc %s)%s' % (
                    command_line([self.binary] + shown[1:]), rc, ': ' + said if said else '')
            raise CommandError(self.mask(msg), shown, rc, result.stdout, result.stderr)
        return result


def exit_with(module, run, message=None, errors=()):
    """End a module: ``module.exit_json(**run())``, or, when run raises a RunnerError,
    ``module.fail_json`` with the error's fields (its msg passed through ``message`` first, e.g. to
    prefix the resource or mask a secret). The one place where typed errors become fail_json.

    errors: further exception classes treated the same way; they have ``fail_kwargs()`` too (the
    errors of module_utils that must not import this file, such as lio.py's LioError)."""
    caught = tuple([RunnerError] + list(errors))
    try:
        result = run()
    except caught as exc:
        kwargs = exc.fail_kwargs()
        if message is not None:
            kwargs['msg'] = message(kwargs['msg'])
        module.fail_json(**kwargs)
    module.exit_json(**result)
