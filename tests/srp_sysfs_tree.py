# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ib_srp as sysfs and modinfo show it, for the unit tests of module_utils/srp.py and
srp_initiator_params (tests/conftest.py puts tests/ on sys.path)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.rdma.ha_storage.plugins.module_utils import srp

# `modinfo -p ib_srp` as it prints the parameters of ib_srp.c (Linux 6.x): written from the
# module_param / MODULE_PARM_DESC lines of drivers/infiniband/ulp/srp/ib_srp.c, not captured on a host.
MODINFO = (
    "srp_sg_tablesize:Deprecated name for cmd_sg_entries (uint)\n"
    "cmd_sg_entries:Default number of gather/scatter entries in the SRP command (default is 12, max 255) (uint)\n"
    "indirect_sg_entries:Default max number of gather/scatter entries (default is 12, max is 2048) (uint)\n"
    "allow_ext_sg:Default behavior when there are more than cmd_sg_entries S/G entries after mapping; fails the"
    " request when false (default false) (bool)\n"
    "topspin_workarounds:Enable workarounds for Topspin/Cisco SRP target bugs if != 0 (int)\n"
    "register_always:Use memory registration even for contiguous memory regions (bool)\n"
    "never_register:Never register memory (bool)\n"
    "reconnect_delay:Time between successive reconnect attempts\n"
    "fast_io_fail_tmo:Number of seconds between the observation of a transport layer error and failing all I/O."
    " \"off\" means that this functionality is disabled.\n"
    "dev_loss_tmo:Maximum number of seconds that the SRP transport should insulate transport layer errors. After"
    " this time has been exceeded the SCSI host is removed. Should be between 1 and 600 if fast_io_fail_tmo has"
    " not been set. \"off\" means that this functionality is disabled.\n"
    "use_imm_data:Whether or not to request permission to use immediate data during SRP login. (bool)\n"
    "max_imm_data:Maximum immediate data size. (uint)\n"
    "ch_count:Number of RDMA channels to use for communication with an SRP target. Using more than one channel"
    " improves performance if the HCA supports multiple completion vectors. The default value is the minimum of"
    " four times the number of online CPU sockets and the number of completion vectors supported by the HCA. (uint)\n"
)


def make_tree(root, hosts=(), ports=(), disks=(), params=None):
    """A sysfs tree: SCSI hosts {number: proc_name}, remote ports (name, state, rd, fio, dl),
    scsi devices (name, type, timeout), ib_srp parameters."""
    for number, proc_name in dict(hosts).items():
        host = root / 'sys' / 'class' / 'scsi_host' / ('host%d' % number)
        host.mkdir(parents=True)
        (host / 'proc_name').write_text(proc_name + '\n')
    for name, state, rd, fio, dl in ports:
        port = root / 'sys' / 'class' / 'srp_remote_ports' / name
        port.mkdir(parents=True)
        for attr, value in (('state', state), ('reconnect_delay', rd), ('fast_io_fail_tmo', fio), ('dev_loss_tmo', dl)):
            (port / attr).write_text('%s\n' % value)
    for name, kind, timeout in disks:
        dev = root / 'sys' / 'class' / 'scsi_device' / name / 'device'
        dev.mkdir(parents=True)
        (dev / 'type').write_text('%s\n' % kind)
        (dev / 'timeout').write_text('%s\n' % timeout)
    if params is not None:
        pdir = root / 'sys' / 'module' / 'ib_srp' / 'parameters'
        pdir.mkdir(parents=True)
        for name, value in params.items():
            (pdir / name).write_text('%s\n' % value)
    return srp.SrpSysfs(str(root))
