# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Kernel module parameters: what ``modinfo -p`` says a module has, how a value is written in a
``modprobe.d`` ``options`` line, and how it compares with what ``/sys/module/<name>/parameters``
shows for a loaded module. Nothing here knows about one particular module (srp.py and the
modprobe_options module use it).

Standard library only; no f-strings, no annotations (module_utils run on the managed nodes' Python).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

_NAME_RE = re.compile(r'^[A-Za-z0-9_]+$')
_MODULE_RE = re.compile(r'^[A-Za-z0-9_-]+$')
# a value of an options line: modprobe splits the line at white space; '#' would start a comment
_VALUE_RE = re.compile(r'^[^\s#"\']+$')
_TRUE = ('1', 'y', 'Y', 'true', 'True', 'yes', 'on')
_FALSE = ('0', 'n', 'N', 'false', 'False', 'no', 'off')


def canonical_module(name):
    """modprobe treats '-' and '_' alike; the kernel (sysfs, /proc/modules) reports '_'."""
    return name.strip().replace('-', '_')


def parse_modinfo_parameters(text):
    """Parameter names from `modinfo -p` output ('name:description (type)' per line), in order."""
    names = []
    for line in (text or '').splitlines():
        name = line.split(':', 1)[0].strip()
        if name and _NAME_RE.match(name) and name not in names:
            names.append(name)
    return names


def module_name_problem(name):
    """None when name can be a kernel module's name, else why not."""
    if not isinstance(name, str) or not _MODULE_RE.match(name):
        return '%r is not a kernel module name (letters, digits, _ and -)' % (name,)
    return None


def parameter_text(value):
    """The spelling of a value in an options line; ValueError for what modprobe cannot carry.

    bool: 1 / 0 (the kernel's bool and int parsers both take them); a list: comma-separated (array
    parameters); str and int as they are. No white space, quotes or '#' (modprobe would split or
    cut the line there)."""
    if isinstance(value, bool):
        return '1' if value else '0'
    if isinstance(value, (list, tuple)):
        if not value:
            raise ValueError('an empty list is not a value')
        return ','.join(parameter_text(item) for item in value)
    if isinstance(value, (int, float)):
        return str(value)
    if not isinstance(value, str) or not _VALUE_RE.match(value):
        raise ValueError('%r cannot be written in a modprobe.d options line (no white space, quotes, # or empty values)' % (value,))
    return value


def same_value(wanted, live):
    """Whether the wanted text (parameter_text) is what sysfs shows (live, stripped): sysfs shows
    a bool as Y / N and numbers in decimal."""
    if live is None:
        return None
    if wanted == live:
        return True
    if live in ('Y', 'N'):
        return (wanted in _TRUE and live == 'Y') or (wanted in _FALSE and live == 'N')
    try:
        return int(wanted, 0) == int(live, 0)
    except ValueError:
        return False


def options_lines(parameters):
    """'options <module> a=1 b=2' lines, modules and their parameters sorted.

    parameters: {module: {parameter: text}} (texts from parameter_text)."""
    lines = []
    for module in sorted(parameters):
        if parameters[module]:
            lines.append('options %s %s' % (module, ' '.join(
                '%s=%s' % (name, parameters[module][name]) for name in sorted(parameters[module]))))
    return lines
