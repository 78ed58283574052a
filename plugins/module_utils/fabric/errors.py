# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The error of the fabric model and how user values are shown in its messages."""

from __future__ import annotations

__all__ = ['FabricError', 'show', 'type_name', 'is_int']


class FabricError(ValueError):
    """A value of the fabric model is invalid (message names the value and the rule)."""


def type_name(value):
    """The YAML-ish name of a value's type: string, integer, mapping, list, null, ..."""
    if isinstance(value, bool):
        return 'boolean'
    if isinstance(value, str):
        return 'string'
    if isinstance(value, int):
        return 'integer'
    if isinstance(value, float):
        return 'float'
    if isinstance(value, dict):
        return 'mapping'
    if isinstance(value, (list, tuple)):
        return 'list'
    if value is None:
        return 'null'
    return type(value).__name__


def show(value, limit=60):
    """Short, safe rendering of a user value for messages."""
    if isinstance(value, str):
        text = value if len(value) <= limit else value[:limit] + '...'
        return "'%s'" % text
    if isinstance(value, bool) or value is None:
        return str(value).lower() if value is not None else 'null'
    if isinstance(value, (int, float)):
        text = str(value)
        return text if len(text) <= limit else text[:limit] + '...'
    return 'a %s' % type_name(value)


def is_int(value):
    """An int that is not a bool (YAML's true is not a number)."""
    return isinstance(value, int) and not isinstance(value, bool)
