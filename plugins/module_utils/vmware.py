# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The vSphere API side of the ESX initiator: one connection, the SRP HBAs and their LUNs.

Used by the esx_* modules on the controller. pyVmomi is imported behind a guard (HAS_PYVMOMI,
PYVMOMI_IMPORT_ERROR): a module says "install pyvmomi" through missing_required_lib, never a
traceback. Every failure this file raises is a ``VmwareError`` whose message names the host, so a
module can hand it to fail_json as it is.

The SRP generation of ESX (5.x / 6.0 with Mellanox's OFED bundle) shows an SRP HBA as an adapter
whose driver is ``ib_srp``; the API has no SRP transport type, so the driver is what tells them
apart (``SRP_DRIVERS``). A LUN is an SRP LUN when one of its multipath entry's paths goes through
such an HBA.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import socket
import ssl

from ansible.module_utils.basic import env_fallback, missing_required_lib

try:
    from pyVim.connect import SmartConnect, Disconnect
    from pyVmomi import vim, vmodl
    HAS_PYVMOMI = True
    PYVMOMI_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - depends on the controller
    HAS_PYVMOMI = False
    PYVMOMI_IMPORT_ERROR = exc

SRP_DRIVERS = ('ib_srp',)
PATH_SELECTION_POLICIES = ('VMW_PSP_MRU', 'VMW_PSP_FIXED', 'VMW_PSP_RR')
CONNECT_TIMEOUT = 30


class VmwareError(Exception):
    """A failure of the vSphere side, said so that a user can act on it (host named)."""


def vmware_argument_spec():
    """The connection options every esx_* module takes (doc fragment rdma.ha_storage.vmware)."""
    return dict(
        hostname=dict(type='str', required=True, fallback=(env_fallback, ['VMWARE_HOST'])),
        username=dict(type='str', required=True, aliases=['admin', 'user'], fallback=(env_fallback, ['VMWARE_USER'])),
        password=dict(type='str', required=True, no_log=True, aliases=['pass', 'pwd'],
                      fallback=(env_fallback, ['VMWARE_PASSWORD'])),
        port=dict(type='int', default=443, fallback=(env_fallback, ['VMWARE_PORT'])),
        validate_certs=dict(type='bool', default=True, fallback=(env_fallback, ['VMWARE_VALIDATE_CERTS'])),
        esxi_hostname=dict(type='str'),
    )


def _where(params):
    return '%s:%s' % (params['hostname'], params['port'])


def connect(params):
    """Log in; returns the ServiceInstance. Raises VmwareError for a wrong login, a certificate
    the controller does not trust, or a host it cannot reach."""
    where = _where(params)
    # An explicit context when certificates are checked: pyVmomi skips the check for localhost,
    # 127.0.0.1 and ::1 when it is given none
    tls = dict(sslContext=ssl.create_default_context()) if params['validate_certs'] else dict(disableSslCertValidation=True)
    try:
        return SmartConnect(host=params['hostname'], port=params['port'], user=params['username'],
                            pwd=params['password'], httpConnectionTimeout=CONNECT_TIMEOUT, **tls)
    except vim.fault.InvalidLogin:
        raise VmwareError('%s: the login as %r was refused: wrong username or password' % (where, params['username']))
    except ssl.SSLCertVerificationError as exc:
        raise VmwareError('%s: its TLS certificate is not trusted (%s): add its CA to the controller\'s CA store, '
                          'or set validate_certs: false for a host whose self-signed certificate you trust'
                          % (where, exc.verify_message or exc))
    except ssl.SSLError as exc:
        raise VmwareError('%s: TLS failed (%s)' % (where, exc))
    except socket.gaierror as exc:
        raise VmwareError('%s: the name does not resolve (%s)' % (where, exc.strerror or exc))
    except (socket.timeout, OSError) as exc:
        raise VmwareError('%s: unreachable (%s): is it up, and is this the port of its API?'
                          % (where, getattr(exc, 'strerror', None) or exc))
    except vmodl.MethodFault as exc:
        raise VmwareError('%s: %s' % (where, exc.msg or type(exc).__name__))


def run_on_host(module, work):
    """The main() of an esx_* module: without pyVmomi, fail saying to install it; else log in,
    find the host, exit with ``work(host)`` (a result dict) and log out. A VmwareError fails the
    module with its message, which names the host."""
    if not HAS_PYVMOMI:
        module.fail_json(msg=missing_required_lib('pyvmomi'), exception=str(PYVMOMI_IMPORT_ERROR))
    try:
        si = connect(module.params)
        try:
            result = work(find_host(si, module.params))
        finally:
            disconnect(si)
    except VmwareError as exc:
        module.fail_json(msg=str(exc))
    except vmodl.MethodFault as exc:     # a read the API refused (NoPermission, NotAuthenticated, ...)
        module.fail_json(msg=fault_message(module.params, 'a call of the vSphere API', exc))
    except OSError as exc:               # the connection went away after the login
        module.fail_json(msg='%s: the connection failed (%s)' % (_where(module.params), getattr(exc, 'strerror', None) or exc))
    module.exit_json(**result)


def disconnect(si):
    try:
        Disconnect(si)
    except Exception:  # noqa: BLE001 - logging out is a courtesy; the session expires anyway
        pass


def find_host(si, params):
    """The HostSystem to work on: the only one (an ESX host, or a vCenter with one host), or the
    one named by esxi_hostname."""
    content = si.RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.HostSystem], True)
    try:
        hosts = list(view.view)
    finally:
        view.Destroy()
    names = sorted(h.name for h in hosts)
    wanted = params.get('esxi_hostname')
    if wanted:
        for host in hosts:
            if host.name == wanted:
                return host
        raise VmwareError('%s: esxi_hostname %r is not a host there (hosts: %s)'
                          % (_where(params), wanted, ', '.join(names) or 'none'))
    if len(hosts) != 1:
        raise VmwareError('%s: manages %d hosts (%s): say which one with esxi_hostname'
                          % (_where(params), len(hosts), ', '.join(names) or 'none'))
    return hosts[0]


def srp_hbas(host, devices=None):
    """{device: {'key', 'device', 'driver', 'model', 'status'}} of the SRP HBAs of ``host`` (driver
    in SRP_DRIVERS), or of ``devices`` when given (then each must exist)."""
    storage_device = host.config.storageDevice
    found = {}
    every = {}
    for hba in storage_device.hostBusAdapter or []:
        entry = {'key': hba.key, 'device': hba.device, 'driver': hba.driver, 'model': hba.model, 'status': hba.status}
        every[hba.device] = entry
        if hba.driver in SRP_DRIVERS:
            found[hba.device] = entry
    if devices:
        missing = [d for d in devices if d not in every]
        if missing:
            raise VmwareError('%s: no HBA %s (its HBAs: %s)' % (host.name, ', '.join(missing), ', '.join(sorted(every))))
        return dict((d, every[d]) for d in devices)
    return found


def _policy_dict(policy):
    out = {'psp': policy.policy}
    prefer = getattr(policy, 'prefer', None)
    if prefer:
        out['preferred_path'] = prefer
    return out


def vmfs_usage(host):
    """(volumes, available): canonical name -> names of the mounted VMFS volumes with an extent
    on it; and the set of canonical names ESX offers for a new VMFS (QueryAvailableDisksForVmfs),
    or None when the host does not answer that query."""
    volumes = {}
    fs = getattr(host.config, 'fileSystemVolume', None)
    for mount in (fs.mountInfo if fs else None) or []:
        volume = mount.volume
        for extent in getattr(volume, 'extent', None) or []:
            volumes.setdefault(extent.diskName, []).append(volume.name)
    try:
        disks = host.configManager.datastoreSystem.QueryAvailableDisksForVmfs()
    except Exception:  # pylint: disable=broad-except  # MethodNotFound, NotSupported: not known
        available = None
    else:
        available = set(disk.canonicalName for disk in disks or [])
    return volumes, available


def srp_luns(host, hbas, vmfs=False):
    """The LUNs with a path through one of ``hbas`` (srp_hbas()), sorted by canonical name: each a
    dict of canonical_name, id (the multipath logical unit's, as SetMultipathLunPolicy takes it),
    vendor, model, serial, size_mib, operational_state, satp, psp, preferred_path (FIXED only),
    paths (name, state, working, hba) and active_paths; with vmfs, also vmfs_volumes and
    available_for_vmfs (vmfs_usage())."""
    volumes, available = vmfs_usage(host) if vmfs else ({}, None)
    storage_device = host.config.storageDevice
    by_key = dict((h['key'], h['device']) for h in hbas.values())
    scsi = dict((lun.key, lun) for lun in storage_device.scsiLun or [])
    out = []
    multipath = storage_device.multipathInfo
    for unit in (multipath.lun if multipath else None) or []:
        paths = [p for p in unit.path or [] if p.adapter in by_key]
        if not paths:
            continue
        lun = scsi.get(unit.lun)
        capacity = getattr(lun, 'capacity', None)
        entry = {
            'canonical_name': lun.canonicalName if lun else None,
            'id': unit.id,
            'vendor': (lun.vendor or '').strip() if lun else None,
            'model': (lun.model or '').strip() if lun else None,
            'serial': lun.serialNumber if lun else None,
            'size_mib': capacity.block * capacity.blockSize // (1024 * 1024) if capacity else None,
            'operational_state': list(lun.operationalState or []) if lun else [],
            'satp': unit.storageArrayTypePolicy.policy if unit.storageArrayTypePolicy else None,
            'paths': [{'name': p.name, 'state': p.pathState, 'working': bool(p.isWorkingPath),
                       'hba': by_key[p.adapter]} for p in paths],
        }
        entry.update(_policy_dict(unit.policy))
        entry['active_paths'] = sum(1 for p in entry['paths'] if p['state'] == 'active')
        if vmfs:
            name = entry['canonical_name']
            entry['vmfs_volumes'] = sorted(volumes.get(name, []))
            entry['available_for_vmfs'] = None if available is None else name in available
        out.append(entry)
    return sorted(out, key=lambda e: e['canonical_name'] or e['id'])


def select_luns(host, luns, wanted):
    """The LUNs named in ``wanted`` (canonical name, naa id without the prefix, or serial); every
    name must match one LUN. ``wanted`` empty: all."""
    if not wanted:
        return list(luns)
    chosen, missing = [], []
    for name in wanted:
        match = [lun for lun in luns if name in (lun['canonical_name'], lun['serial'])
                 or (lun['canonical_name'] or '').lower() == 'naa.' + name.lower()]
        if match:
            chosen.extend(m for m in match if m not in chosen)
        else:
            missing.append(name)
    if missing:
        raise VmwareError('%s: no SRP LUN %s (its SRP LUNs: %s)' % (
            host.name, ', '.join(missing), ', '.join('%s (serial %s)' % (lun['canonical_name'], lun['serial']) for lun in luns)
            or 'none: rescan the SRP HBAs, and check the target exports the volume to this host'))
    return chosen


def path_selection_policies(storage_system):
    """The PSP names the host offers."""
    return [option.policy.key for option in storage_system.QueryPathSelectionPolicyOptions()]


def lun_policy(psp, preferred_path=None):
    """The vim policy object SetMultipathLunPolicy takes."""
    if psp == 'VMW_PSP_FIXED' and preferred_path:
        return vim.host.MultipathInfo.FixedLogicalUnitPolicy(policy=psp, prefer=preferred_path)
    return vim.host.MultipathInfo.LogicalUnitPolicy(policy=psp)


def fault_message(params, what, exc):
    """A vSphere fault raised by a call, said with the host, what was being done and the fault's name."""
    name = type(exc).__name__.rsplit('.', 1)[-1]
    text = getattr(exc, 'msg', None) or name
    return '%s: %s failed: %s%s' % (_where(params), what, text, '' if text == name else ' (%s)' % name)
