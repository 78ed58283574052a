# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""esxcli on an ESX host, run over SSH from the controller, and the parsers of what it prints.

The SATP claim rules, the reclaim of a device and the installed VIBs are not reachable through the
vSphere API (module_utils/vmware.py); esxcli on the host is the one way to them. Every command runs
as ``ssh -o BatchMode=yes -o ConnectTimeout=N [-p PORT] [-i KEY] -o StrictHostKeyChecking=X --
USER@HOST 'esxcli ...'`` through the collection's one runner (runner.py): the C locale, masking,
check mode (a state-changing call is not run) and the missing-binary message are the runner's.

Output format: esxcli's default formatter. It is the only one of which real, public samples of
``storage nmp satp rule list``, ``storage nmp device list``, ``storage core device list`` and
``software vib list`` exist to test the parsers against (tests/unit/plugins/modules/fixtures/esxcli/);
``--formatter=csv``/``xml`` would be guessed formats. The table parser takes the column boundaries from
the dashes line under each header, so empty cells and values with spaces are read right, and it
joins tables that esxcli printed as stacked column groups (a wide table cut at the terminal width).

Errors are typed (EsxcliError and subclasses, each with ``fail_kwargs()``); nothing here calls
fail_json. ssh's own failures (rc 255: login refused, host unreachable, host key changed) become one
SshError that names the host and says what to do.

Python 2.7 / 3 compatible, as every module_utils: no f-strings, no annotations.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

try:
    from shlex import quote
except ImportError:  # pragma: no cover - Python 2
    from pipes import quote

from ansible_collections.rdma.ha_storage.plugins.module_utils.runner import Runner, one_line

SSH_FAILED = 255        # ssh's own exit status: the remote command never ran (or ssh lost it)
STRICT_HOST_KEY_CHECKING = ('yes', 'accept-new', 'no')

# The columns of `esxcli storage nmp satp rule list` and the keys this file gives them
RULE_COLUMNS = (
    ('Name', 'satp'), ('Device', 'device'), ('Vendor', 'vendor'), ('Model', 'model'), ('Driver', 'driver'),
    ('Transport', 'transport'), ('Options', 'options'), ('Rule Group', 'rule_group'),
    ('Claim Options', 'claim_options'), ('Default PSP', 'psp'), ('PSP Options', 'psp_options'),
    ('Description', 'description'),
)
VIB_COLUMNS = (('Name', 'name'), ('Version', 'version'), ('Vendor', 'vendor'),
               ('Acceptance Level', 'acceptance_level'), ('Install Date', 'install_date'))


class EsxcliError(Exception):
    """A failure on the ESX side, said so that a user can act on it (the host is named)."""

    def __init__(self, msg, cmd=None, rc=None, stdout=None, stderr=None):
        super(EsxcliError, self).__init__(msg)
        self.msg = msg
        self.cmd = cmd
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr

    def fail_kwargs(self):
        kwargs = dict(msg=self.msg)
        for key in ('cmd', 'rc', 'stdout', 'stderr'):
            if getattr(self, key) is not None:
                kwargs[key] = getattr(self, key)
        return kwargs


class SshError(EsxcliError):
    """ssh itself failed (rc 255): the login was refused, the host is unreachable, its key changed."""


class EsxcliCommandError(EsxcliError):
    """esxcli ran and failed; ``output`` is what it said (its stderr, else its stdout), on one line."""

    def __init__(self, msg, output, **kwargs):
        super(EsxcliCommandError, self).__init__(msg, **kwargs)
        self.output = output


class EsxcliParseError(EsxcliError):
    """esxcli's output is not in the shape this file knows."""


def ssh_argument_spec():
    """The connection options of the esxcli-over-SSH modules."""
    return dict(
        esx_host=dict(type='str', required=True),
        esx_user=dict(type='str', default='root'),
        esx_port=dict(type='int', default=22),
        ssh_private_key_file=dict(type='path'),
        ssh_strict_host_key_checking=dict(type='str', default='yes', choices=list(STRICT_HOST_KEY_CHECKING)),
        ssh_timeout=dict(type='int', default=10),
    )


# ---------------------------------------------------------------------------------------- ssh failures
_SSH_REASONS = (
    (re.compile(r'REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed', re.I),
     'its SSH host key is not the one the controller knows (changed since, or never recorded): check the '
     'fingerprint on the host\'s console, then fix the known_hosts entry (ssh-keygen -R); '
     'ssh_strict_host_key_checking: accept-new records a key seen for the first time'),
    (re.compile(r'Permission denied|Too many authentication failures', re.I),
     'the login was refused: put the controller\'s public key into /etc/ssh/keys-%(user)s/authorized_keys on '
     'the host (ESXi reads no ~/.ssh/authorized_keys), or name the right key with ssh_private_key_file'),
    (re.compile(r'Could not resolve hostname|Name or service not known|nodename nor servname', re.I),
     'the name does not resolve'),
    (re.compile(r'Connection refused', re.I),
     'nothing listens on the port: start the host\'s SSH service (TSM-SSH) and check esx_port'),
    (re.compile(r'timed out|No route to host|Network is unreachable|Connection closed|Connection reset', re.I),
     'unreachable: is it up, and does the firewall let SSH through?'),
)


def ssh_failure_message(where, user, stderr):
    """The one line said of an ssh failure (rc 255): the host, why, and what to do."""
    said = one_line(stderr, limit=300)
    for pattern, advice in _SSH_REASONS:
        if pattern.search(stderr or ''):
            return '%s: ssh as %s failed: %s (ssh said: %s)' % (where, user, advice % dict(user=user), said)
    return '%s: ssh as %s failed (rc %d)%s' % (where, user, SSH_FAILED, ': ' + said if said else '')


# ---------------------------------------------------------------------------------------- parsers
_DASHES = re.compile(r'^\s*-+(\s+-+)*\s*$')


def _indent(line):
    return len(line) - len(line.lstrip())


def _column_starts(header, dashes):
    """Where each column starts: at each run of dashes. A dashes line indented more than its header
    (seen in published samples) is taken as shifted by that much, and the first column starts at
    the margin."""
    shift = _indent(dashes) - _indent(header)
    starts = [max(0, m.start() - max(shift, 0)) for m in re.finditer(r'-+', dashes)]
    if starts:
        starts[0] = 0
    return starts


def _cells(line, starts):
    ends = starts[1:] + [None]
    return [line[start:end].strip() if start < len(line) else '' for start, end in zip(starts, ends)]


def parse_table(text):
    """The rows of an esxcli table (default formatter) as dicts keyed by the header's column names.

    Each table is a header line, a line of dashes (one run per column) and rows up to a blank line or
    the next header. Several tables one after the other with the same number of rows are column
    groups of one table (esxcli cuts a wide table so): their rows are joined by position.
    Empty output (no table) gives []."""
    lines = (text or '').replace('\r\n', '\n').split('\n')
    groups = []
    index = 0
    while index < len(lines):
        if index + 1 < len(lines) and lines[index].strip() and _DASHES.match(lines[index + 1]):
            starts = _column_starts(lines[index], lines[index + 1])
            names = _cells(lines[index], starts)
            rows = []
            index += 2
            while index < len(lines) and lines[index].strip():
                if index + 1 < len(lines) and _DASHES.match(lines[index + 1]):
                    break       # the next group's header
                rows.append(_cells(lines[index], starts))
                index += 1
            groups.append((names, rows))
        else:
            if lines[index].strip() and not groups:
                raise ValueError('a line before the table header: %r' % lines[index])
            index += 1
    if not groups:
        return []
    counts = set(len(rows) for names, rows in groups)
    if len(counts) != 1:
        raise ValueError('column groups with different numbers of rows: %s'
                         % ', '.join(str(len(rows)) for names, rows in groups))
    out = []
    for number in range(counts.pop()):
        row = {}
        for names, rows in groups:
            row.update(zip(names, rows[number]))
        out.append(row)
    return out


def parse_blocks(text):
    """The records of esxcli's list-of-structures output (``storage nmp device list``,
    ``storage core device list``): a line at the margin names a record, the indented
    ``Key: Value`` lines under it are its fields. Returns [(name, {key: value})] in order."""
    records = []
    for line in (text or '').replace('\r\n', '\n').split('\n'):
        if not line.strip():
            continue
        if not line[0].isspace():
            records.append((line.strip(), {}))
            continue
        if not records:
            raise ValueError('a field before the first record: %r' % line)
        key, sep, value = line.strip().partition(':')
        if not sep:
            raise ValueError('not a "Key: Value" line: %r' % line)
        records[-1][1][key.strip()] = value.strip()
    return records


def _rename(rows, columns, what):
    out = []
    for row in rows:
        missing = [name for name, key in columns if name not in row]
        if missing:
            raise ValueError('%s: no column %s (columns: %s)' % (what, ', '.join(missing), ', '.join(sorted(row))))
        out.append(dict((key, row[name]) for name, key in columns))
    return out


def parse_satp_rules(text):
    """`esxcli storage nmp satp rule list`: a list of rules, each a dict of satp, device, vendor,
    model, driver, transport, options, rule_group (system / user), claim_options, psp (the rule's
    default PSP, '' for the SATP's own), psp_options, description."""
    return _rename(parse_table(text), RULE_COLUMNS, 'satp rule list')


def parse_vibs(text):
    """`esxcli software vib list`: a list of dicts of name, version, vendor, acceptance_level, install_date."""
    return _rename(parse_table(text), VIB_COLUMNS, 'software vib list')


def parse_nmp_devices(text):
    """`esxcli storage nmp device list`: {device: {'satp', 'psp', 'display_name', 'working_paths'}}."""
    out = {}
    for name, fields in parse_blocks(text):
        if 'Storage Array Type' not in fields:
            raise ValueError('nmp device list: %s has no "Storage Array Type"' % name)
        out[name] = {
            'display_name': fields.get('Device Display Name', ''),
            'satp': fields['Storage Array Type'],
            'psp': fields.get('Path Selection Policy', ''),
            'working_paths': [p.strip() for p in fields.get('Working Paths', '').split(',') if p.strip()],
        }
    return out


def parse_core_devices(text):
    """`esxcli storage core device list`: {device: {'vendor', 'model', 'display_name', 'multipath_plugin'}}."""
    out = {}
    for name, fields in parse_blocks(text):
        out[name] = {
            'display_name': fields.get('Display Name', ''),
            'vendor': fields.get('Vendor', ''),
            'model': fields.get('Model', ''),
            'multipath_plugin': fields.get('Multipath Plugin', ''),
        }
    return out


def rule_options(rule):
    """The esxcli options that say a vendor/model rule (add and remove take the same)."""
    args = ['--satp=%s' % rule['satp']]
    for key, option in (('vendor', '--vendor'), ('model', '--model'), ('claim_options', '--claim-option'),
                        ('psp', '--psp'), ('psp_options', '--psp-option'), ('description', '--description')):
        if rule.get(key):
            args.append('%s=%s' % (option, rule[key]))
    return args


def describe_rule(rule):
    """One line for a rule (diffs, messages)."""
    parts = ['%s vendor=%s' % (rule['satp'], rule.get('vendor') or '')]
    if rule.get('model'):
        parts.append('model=%s' % rule['model'])
    for key in ('claim_options', 'psp', 'psp_options', 'rule_group'):
        if rule.get(key):
            parts.append('%s=%s' % (key, rule[key]))
    if rule.get('description'):
        parts.append('description=%r' % rule['description'])
    return ' '.join(parts)


# ---------------------------------------------------------------------------------------- the runner
class Esxcli(object):
    """esxcli on one ESX host over SSH.

    module: the AnsibleModule (the runner's run_command, get_bin_path, check_mode).
    params: esx_host, esx_user, esx_port, ssh_private_key_file, ssh_strict_host_key_checking, ssh_timeout
    (ssh_argument_spec()).
    """

    def __init__(self, module, params):
        self.params = params
        self.where = params['esx_host']
        self.runner = Runner(module, 'ssh', package='openssh-client (the OpenSSH client, on the controller)')
        self.changes_run = []

    def ssh_options(self):
        params = self.params
        args = ['-o', 'BatchMode=yes', '-o', 'ConnectTimeout=%d' % params['ssh_timeout']]
        if params.get('esx_port') and params['esx_port'] != 22:
            args += ['-p', str(params['esx_port'])]
        if params.get('ssh_private_key_file'):
            args += ['-i', params['ssh_private_key_file']]
        args += ['-o', 'StrictHostKeyChecking=%s' % params['ssh_strict_host_key_checking']]
        return args + ['--', '%s@%s' % (params['esx_user'], params['esx_host'])]

    @staticmethod
    def remote_command(args):
        """The command line the host's shell runs: esxcli and its arguments, each quoted."""
        return ' '.join(quote(str(arg)) for arg in ['esxcli'] + list(args))

    def run(self, args, changes=False):
        """Run `esxcli args` on the host; the CommandResult. SshError or EsxcliCommandError when it fails."""
        remote = self.remote_command(args)
        result = self.runner.run(self.ssh_options() + [remote], ok_rcs=None, changes=changes)
        if changes:
            self.changes_run.append(remote)
        if result.skipped or result.rc == 0:
            return result
        fields = dict(cmd=result.cmd, rc=result.rc, stdout=result.stdout, stderr=result.stderr)
        if result.rc == SSH_FAILED:
            raise SshError(ssh_failure_message(self.where, self.params['esx_user'], result.stderr), **fields)
        said = one_line(result.stderr) or one_line(result.stdout)
        raise EsxcliCommandError('%s: %s failed (rc %s)%s' % (self.where, remote, result.rc, ': ' + said if said else ''),
                                 said, **fields)

    def _parsed(self, args, parser):
        result = self.run(args)
        try:
            return parser(result.stdout)
        except ValueError as exc:
            raise EsxcliParseError('%s: cannot read the output of %s: %s' % (self.where, self.remote_command(args), exc),
                                   cmd=result.cmd, rc=result.rc, stdout=result.stdout, stderr=result.stderr)

    # reads
    def satp_rules(self):
        return self._parsed(['storage', 'nmp', 'satp', 'rule', 'list'], parse_satp_rules)

    def nmp_devices(self):
        return self._parsed(['storage', 'nmp', 'device', 'list'], parse_nmp_devices)

    def core_devices(self):
        return self._parsed(['storage', 'core', 'device', 'list'], parse_core_devices)

    def vibs(self):
        return self._parsed(['software', 'vib', 'list'], parse_vibs)

    # changes (not run in check mode)
    def add_rule(self, rule):
        return self.run(['storage', 'nmp', 'satp', 'rule', 'add'] + rule_options(rule), changes=True)

    def remove_rule(self, rule):
        return self.run(['storage', 'nmp', 'satp', 'rule', 'remove'] + rule_options(rule), changes=True)

    def reclaim(self, device):
        return self.run(['storage', 'core', 'claiming', 'reclaim', '--device=%s' % device], changes=True)
