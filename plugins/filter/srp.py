# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Filters of the SRP initiator; each is documented in the YAML file of the same name next to
this one (ansible-doc -t filter rdma.ha_storage.<name>)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.rdma.ha_storage.plugins.module_utils import srp
from ansible_collections.rdma.ha_storage.plugins.module_utils.fabric.errors import FabricError


def srp_login_targets(host_slice, rdma_cm_port=5555, target_guids=None, options=None):
    try:
        return srp.login_targets(host_slice, rdma_cm_port=int(rdma_cm_port), target_guids=target_guids, options=options)
    except FabricError as exc:
        raise AnsibleFilterError('srp_login_targets: target_guids: %s' % exc)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise AnsibleFilterError('srp_login_targets: expects a host slice of rdma.ha_storage.fabric_host_slice '
                                 '(or of fabric_validate): %s %s' % (type(exc).__name__, exc))


class FilterModule(object):
    """rdma.ha_storage SRP initiator filters."""

    def filters(self):
        return {'srp_login_targets': srp_login_targets}
