# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Filters of the fabric model (rdma_fabric) and of host slices.

Thin wrappers around plugins/module_utils/fabric/ (and module_utils/srp.py for srp_login_targets,
module_utils/ipoib.py for ipoib_links); each filter is documented in the YAML file
of the same name next to this one (ansible-doc -t filter rdma.ha_storage.<name>).
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.rdma.ha_storage.plugins.module_utils import ipoib, srp
from ansible_collections.rdma.ha_storage.plugins.module_utils.fabric import differences, ids, model, slices
from ansible_collections.rdma.ha_storage.plugins.module_utils.fabric.errors import FabricError


def _wrap(name, func):
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except (FabricError, ipoib.IpoibError) as exc:
            raise AnsibleFilterError('%s: %s' % (name, exc))
        except TypeError as exc:
            # wrong number of arguments in the template
            raise AnsibleFilterError('%s: %s' % (name, exc))
    wrapper.__name__ = name
    wrapper.__doc__ = func.__doc__
    return wrapper


def canonical_guid(value):
    return ids.canonical_guid(value)


def srpt_wwn(value, form='rtslib', subnet_prefix='fe80000000000000'):
    return ids.srpt_wwn(value, form=form, subnet_prefix=subnet_prefix)


def srp_port_id(value, initiator_ext=None, form='configfs'):
    return ids.srp_port_id(value, initiator_ext=initiator_ext, form=form)


def pkey_interface(parent, pkey):
    return ids.pkey_interface(parent, pkey)


def ipoib_max_mtu(mode):
    return ids.ipoib_max_mtu(mode)


def mac_to_guid(mac):
    return ids.mac_to_guid(mac)


def lio_wwid(serial):
    return ids.lio_wwid(serial)


def fabric_host_slice(fabric, host):
    return slices.host_slice(fabric, host)


def fabric_errors(fabric):
    return model.fabric_errors(fabric)


def fabric_warnings(fabric):
    return model.fabric_warnings(fabric)


def fabric_differences(fabric, host, facts):
    return differences.differences(fabric, host, facts)


def fabric_slice_differences(host_slice, facts, soft=None):
    return differences.slice_differences(host_slice, facts, soft=soft)


def srp_login_targets(host_slice, rdma_cm_port=None, target_guids=None, options=None):
    try:
        return srp.login_targets(host_slice, rdma_cm_port=None if rdma_cm_port is None else int(rdma_cm_port),
                                 target_guids=target_guids, options=options)
    except FabricError as exc:
        raise FabricError('target_guids: %s' % exc)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise FabricError('expects a host slice of rdma.ha_storage.fabric_host_slice (or of fabric_validate): %s %s'
                          % (type(exc).__name__, exc))


def ipoib_links(host_slice):
    return ipoib.ipoib_links(host_slice)


class FilterModule(object):
    """rdma.ha_storage fabric model filters."""

    def filters(self):
        funcs = (canonical_guid, srpt_wwn, srp_port_id, pkey_interface, ipoib_max_mtu, mac_to_guid, lio_wwid,
                 fabric_host_slice, fabric_errors, fabric_warnings, fabric_differences, fabric_slice_differences,
                 srp_login_targets, ipoib_links)
        return dict((f.__name__, _wrap(f.__name__, f)) for f in funcs)
