# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Tests about the managed host; each is documented in the YAML file of the same name next to
this one (ansible-doc -t test rdma.ha_storage.<name>)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

# virtualization_type values of ansible.builtin.setup that mean "a container: no kernel of its
# own" (no modules to load, no DRBD, configfs or RDMA devices to manage).
CONTAINER_TYPES = frozenset(('docker', 'podman', 'container', 'containerd', 'lxc', 'openvz',
                             'systemd-nspawn', 'wsl'))


def container(facts):
    """Whether the facts (ansible_facts, with the virtual subset) describe a container guest."""
    if not isinstance(facts, dict):
        raise AnsibleFilterError('container: expects ansible_facts (a mapping), got %s' % type(facts).__name__)
    if 'virtualization_role' not in facts or 'virtualization_type' not in facts:
        raise AnsibleFilterError('container: ansible_facts lack virtualization_role/virtualization_type; '
                                 'gather the "virtual" subset first (ansible.builtin.setup: gather_subset: [min, virtual])')
    return facts['virtualization_role'] == 'guest' and facts['virtualization_type'] in CONTAINER_TYPES


class TestModule(object):
    def tests(self):
        return {'container': container}
