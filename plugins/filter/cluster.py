# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters of the cluster layer: a thin wrapper around plugins/module_utils/pacemaker_model.py,
documented in the YAML file of the same name next to this one."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.rdma.ha_storage.plugins.module_utils import pacemaker_model


def cluster_cib(ha_pair, fence_devices=None, allow_no_fencing=False, timings=None, crm_config=None,
                rsc_defaults=None, drbd_agent=pacemaker_model.DRBD_AGENT, export_agent=pacemaker_model.EXPORT_AGENT,
                export_config=pacemaker_model.EXPORT_CONFIG, fabric_monitor=True,
                fabric_agent=pacemaker_model.FABRIC_AGENT, drbd_notify=True):
    try:
        return pacemaker_model.pair_objects(
            ha_pair, fence_devices=fence_devices or [], allow_no_fencing=allow_no_fencing, timings=timings,
            crm_config=crm_config, rsc_defaults=rsc_defaults, drbd_agent=drbd_agent, export_agent=export_agent,
            export_config=export_config, fabric_monitor=fabric_monitor, fabric_agent=fabric_agent,
            drbd_notify=drbd_notify)
    except pacemaker_model.ModelError as exc:
        raise AnsibleFilterError('cluster_cib: %s' % exc.msg)


class FilterModule(object):
    def filters(self):
        return {'cluster_cib': cluster_cib}
