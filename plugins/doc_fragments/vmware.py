# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    # The connection options of the esx_* modules (module_utils/vmware.py vmware_argument_spec()).
    # Names, aliases and environment variables are community.vmware's, so that its users' inventories fit.
    DOCUMENTATION = r"""
options:
  hostname:
    description:
      - The ESX host, or the vCenter Server that manages it, by name or address.
      - If not given, the environment variable E(VMWARE_HOST) is used.
    type: str
    required: true
  username:
    description:
      - The user to log in as.
      - If not given, the environment variable E(VMWARE_USER) is used.
    type: str
    required: true
    aliases: [admin, user]
  password:
    description:
      - The user's password.
      - If not given, the environment variable E(VMWARE_PASSWORD) is used.
    type: str
    required: true
    aliases: [pass, pwd]
  port:
    description:
      - The HTTPS port of the host's or vCenter's API.
      - If not given, the environment variable E(VMWARE_PORT) is used.
    type: int
    default: 443
  validate_certs:
    description:
      - Check the server's TLS certificate against the controller's CA store.
      - Set V(false) only for a host whose self-signed certificate you trust (a fresh ESX host has one).
      - If not given, the environment variable E(VMWARE_VALIDATE_CERTS) is used.
    type: bool
    default: true
  esxi_hostname:
    description:
      - The ESX host to work on, by its name in vCenter.
      - Not needed when O(hostname) is the ESX host itself, or a vCenter with one host.
    type: str
requirements:
  - "pyVmomi (PyPI C(pyvmomi)) on the host the module runs on (usually the controller, with C(delegate_to: localhost))"
notes:
  - "These modules talk to the vSphere API; run them on the controller (C(delegate_to: localhost)), not on the ESX host."
  - Tested against the project's ESX simulator (tests/esxsim, built on govmomi's), not against a real ESX host.
"""
