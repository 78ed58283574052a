# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""srp_initiator_params: the modprobe.d file (only parameters ib_srp has), live timers in a valid
order, SRP disk timeouts, and a reload of ib_srp only while no SRP target port is logged in.

sysfs is a temporary tree (tests/unit/plugins/module_utils/test_srp.py builds it); modinfo and
modprobe are pinned, whole argv and environment, in order."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import pytest

from ansible_collections.rdma.ha_storage.plugins.modules import srp_initiator_params
from module_harness import RunCommandMock, call, patch_module, run_main
from srp_sysfs_tree import MODINFO, make_tree

MODINFO_CMD = ['/usr/sbin/modinfo', '-p', 'ib_srp']
TIMERS = {'reconnect_delay': 10, 'fast_io_fail_tmo': 15, 'dev_loss_tmo': 600}


@pytest.fixture
def host(monkeypatch, tmp_path):
    """Patch the module onto a sysfs tree below tmp_path/root; returns (root, mock, conf, run);
    run's result carries the module's warnings as result['warnings']."""
    root = tmp_path / 'root'
    root.mkdir()
    mock = RunCommandMock()
    warnings = []
    patch_module(monkeypatch, srp_initiator_params.AnsibleModule, mock)
    monkeypatch.setattr(srp_initiator_params.AnsibleModule, 'warn', lambda self, text: warnings.append(text))
    monkeypatch.setattr(srp_initiator_params.SrpInitiatorParams, 'OWNER', (os.getuid(), os.getgid()))
    real_init = srp_initiator_params.SrpInitiatorParams.__init__

    def init(self, module, root=None):
        real_init(self, module, root=str(tmp_path / 'root'))
    monkeypatch.setattr(srp_initiator_params.SrpInitiatorParams, '__init__', init)
    conf = tmp_path / 'modprobe.d' / 'rdma-ha-storage-srp.conf'

    def run(check_mode=False, diff=False, **args):
        full = dict(TIMERS, modprobe_file=str(conf))
        full.update(args)
        if check_mode:
            full['_ansible_check_mode'] = True
        if diff:
            full['_ansible_diff'] = True
        del warnings[:]
        res = run_main(srp_initiator_params, full, mock)
        res.result['warnings'] = list(warnings)
        return res
    return root, mock, conf, run


def modinfo(mock, text=MODINFO, rc=0, err=''):
    mock.add(call(MODINFO_CMD, rc=rc, out=text, err=err))


def test_container_writes_every_parameter_unchecked(host):
    root, mock, conf, run = host
    modinfo(mock, text='', rc=1, err='modinfo: ERROR: Module ib_srp not found.\n')
    res = run(ch_count=2, live=False)
    assert not res.failed and res.result['changed'] and res.result['file_changed']
    assert res.result['checked'] is False and res.result['loaded'] is False
    assert conf.read_text().splitlines()[-1] == 'options ib_srp reconnect_delay=10 fast_io_fail_tmo=15 dev_loss_tmo=600 ch_count=2'
    assert any('without checking' in w for w in res.result['warnings'])
    # idempotent
    modinfo(mock, text='', rc=1)
    assert run(ch_count=2, live=False).result['changed'] is False


def test_only_parameters_the_installed_ib_srp_has(host):
    root, mock, conf, run = host
    modinfo(mock, text=MODINFO.replace('ch_count:', 'something_else:'))
    res = run(reconnect_delay='off', fast_io_fail_tmo=5, dev_loss_tmo=-1, ch_count=4, cmd_sg_entries=32)
    assert res.result['checked'] is True and res.result['unsupported'] == ['ch_count']
    assert res.result['parameters'] == {'reconnect_delay': 'off', 'fast_io_fail_tmo': '5', 'dev_loss_tmo': 'off',
                                        'cmd_sg_entries': '32'}
    assert 'options ib_srp reconnect_delay=off fast_io_fail_tmo=5 dev_loss_tmo=off cmd_sg_entries=32\n' in conf.read_text()
    assert any('no parameter ch_count' in w for w in res.result['warnings'])


def test_check_mode_and_diff_write_nothing(host):
    root, mock, conf, run = host
    modinfo(mock)
    res = run(check_mode=True, diff=True)
    assert res.result['changed'] and not conf.exists()
    assert res.result['diff'][0]['before_header'].endswith('(absent)')
    assert 'dev_loss_tmo=600' in res.result['diff'][0]['after']


@pytest.mark.parametrize('args,message', [
    ({'reconnect_delay': 0}, 'reconnect_delay cannot be 0'),
    ({'fast_io_fail_tmo': 600}, 'fast_io_fail_tmo 600 must be below dev_loss_tmo 600'),
    ({'dev_loss_tmo': 'never'}, "dev_loss_tmo: 'never' is not a number of seconds or off"),
    ({'cmd_sg_entries': 256}, 'cmd_sg_entries: 256 is out of range'),
    ({'scsi_timeout': 0}, 'scsi_timeout: 0 must be 1 or more'),
])
def test_invalid_values_are_refused_before_anything_runs(host, args, message):
    root, mock, conf, run = host
    res = run(**args)
    assert res.failed and message in res.result['msg']
    assert not conf.exists()


def test_live_timers_ports_and_disks_in_an_accepted_order(host):
    root, mock, conf, run = host
    make_tree(root, hosts={5: 'ib_srp', 6: 'ib_srp', 0: 'virtio_scsi'},
              ports=[('port-5:1', 'running', 10, 15, 600), ('port-6:1', 'lost', 10, 15, 600)],
              disks=[('5:0:0:0', 0, 30), ('5:0:0:1', 0, 5), ('0:0:0:0', 0, 30)],
              params=dict(TIMERS, ch_count=0, cmd_sg_entries=12))
    modinfo(mock)
    res = run(reconnect_delay=5, fast_io_fail_tmo=5, dev_loss_tmo=60, scsi_timeout=5, diff=True)
    assert not res.failed, res.result
    params = root / 'sys' / 'module' / 'ib_srp' / 'parameters'
    port = root / 'sys' / 'class' / 'srp_remote_ports' / 'port-5:1'
    changes = [(os.path.relpath(c['path'], str(root)), c['before'], c['after']) for c in res.result['live_changes']]
    # fast_io_fail 15 -> 5 before dev_loss 600 -> 60 is not needed here, but reconnect first (model order)
    assert changes == [
        ('sys/module/ib_srp/parameters/reconnect_delay', '10', '5'),
        ('sys/module/ib_srp/parameters/fast_io_fail_tmo', '15', '5'),
        ('sys/module/ib_srp/parameters/dev_loss_tmo', '600', '60'),
        ('sys/class/srp_remote_ports/port-5:1/reconnect_delay', '10', '5'),
        ('sys/class/srp_remote_ports/port-5:1/fast_io_fail_tmo', '15', '5'),
        ('sys/class/srp_remote_ports/port-5:1/dev_loss_tmo', '600', '60'),
        ('sys/class/scsi_device/5:0:0:0/device/timeout', '30', '5'),
    ]
    assert (params / 'dev_loss_tmo').read_text() == '60' and (port / 'fast_io_fail_tmo').read_text() == '5'
    # the lost port and the disk of another driver are left alone
    assert (root / 'sys' / 'class' / 'srp_remote_ports' / 'port-6:1' / 'dev_loss_tmo').read_text() == '600\n'
    assert (root / 'sys' / 'class' / 'scsi_device' / '0:0:0:0' / 'device' / 'timeout').read_text() == '30\n'
    assert res.result['srp_hosts'] == [5, 6] and res.result['reloaded'] is False
    assert any(d['before_header'].endswith('port-5:1/dev_loss_tmo') for d in res.result['diff'])


def test_live_writes_dev_loss_first_when_fast_io_fail_grows(host):
    root, mock, conf, run = host
    make_tree(root, hosts={5: 'ib_srp'}, ports=[('port-5:1', 'running', 5, 5, 10)], params={
        'reconnect_delay': 5, 'fast_io_fail_tmo': 5, 'dev_loss_tmo': 10})
    modinfo(mock)
    res = run(reconnect_delay=5, fast_io_fail_tmo=30, dev_loss_tmo=60)
    names = [os.path.basename(c['path']) for c in res.result['live_changes']]
    assert names == ['dev_loss_tmo', 'fast_io_fail_tmo', 'dev_loss_tmo', 'fast_io_fail_tmo']


def test_live_in_check_mode_writes_nothing(host):
    root, mock, conf, run = host
    make_tree(root, hosts={5: 'ib_srp'}, ports=[('port-5:1', 'running', 10, 15, 600)], params=TIMERS)
    modinfo(mock)
    res = run(reconnect_delay=5, check_mode=True)
    assert res.result['changed'] and len(res.result['live_changes']) == 2
    assert (root / 'sys' / 'class' / 'srp_remote_ports' / 'port-5:1' / 'reconnect_delay').read_text() == '10\n'


def test_live_is_idempotent(host):
    root, mock, conf, run = host
    make_tree(root, hosts={5: 'ib_srp'}, ports=[('port-5:1', 'running', 'off', 15, 600)], disks=[('5:0:0:0', 0, 30)],
              params=dict(TIMERS, reconnect_delay='off'))
    modinfo(mock)
    assert run(reconnect_delay='off', scsi_timeout=30).result['changed'] is True   # the file only
    modinfo(mock)
    res = run(reconnect_delay=-1, scsi_timeout=30)
    assert res.result['changed'] is False and res.result['live_changes'] == []


def test_load_time_parameter_reloads_ib_srp_when_no_port_is_logged_in(host):
    root, mock, conf, run = host
    make_tree(root, hosts={0: 'ahci'}, params=dict(TIMERS, ch_count=0, cmd_sg_entries=12))
    modinfo(mock)
    mock.add(call(['/usr/sbin/modprobe', '-r', 'ib_srp']), call(['/usr/sbin/modprobe', 'ib_srp']))
    res = run(ch_count=2)
    assert res.result['reloaded'] is True and res.result['pending_reload'] == []
    # cmd_sg_entries at its default (0) is never compared: ib_srp reads it back as 12
    assert 'cmd_sg_entries' not in res.result['parameters']


def test_load_time_parameter_waits_while_ib_srp_is_in_use(host):
    root, mock, conf, run = host
    make_tree(root, hosts={5: 'ib_srp'}, ports=[('port-5:1', 'running', 10, 15, 600)], params=dict(TIMERS, ch_count=0))
    modinfo(mock)
    res = run(ch_count=2)     # no modprobe is expected
    assert res.result['reloaded'] is False and res.result['pending_reload'] == ['ch_count']
    assert any('in use by 1 SRP target port' in w for w in res.result['warnings'])
    assert 'ch_count=2' in conf.read_text()


def test_reload_never(host):
    root, mock, conf, run = host
    make_tree(root, params=dict(TIMERS, ch_count=0))
    modinfo(mock)
    res = run(ch_count=2, reload='never')
    assert res.result['pending_reload'] == ['ch_count'] and any('reload=never' in w for w in res.result['warnings'])


def test_a_failed_reload_says_what_modprobe_said(host):
    root, mock, conf, run = host
    make_tree(root, params=dict(TIMERS, ch_count=0))
    modinfo(mock)
    mock.add(call(['/usr/sbin/modprobe', '-r', 'ib_srp'], rc=1, err='modprobe: FATAL: Module ib_srp is in use.\n'))
    res = run(ch_count=2)
    assert res.failed and 'reloading ib_srp for ch_count failed: modprobe: FATAL: Module ib_srp is in use.' in res.result['msg']
    assert res.result['rc'] == 1


def test_a_refused_sysfs_write_fails_naming_path_and_value(host, monkeypatch):
    root, mock, conf, run = host
    make_tree(root, hosts={5: 'ib_srp'}, ports=[('port-5:1', 'running', 10, 15, 600)], params=TIMERS)
    target = root / 'sys' / 'class' / 'srp_remote_ports' / 'port-5:1' / 'reconnect_delay'
    target.unlink()
    target.mkdir()     # opening a directory for writing fails like a refused sysfs write
    (target.parent / 'reconnect_delay_value').write_text('x')
    monkeypatch.setattr(srp_initiator_params.SrpSysfs, 'remote_ports', lambda self: [{
        'name': 'port-5:1', 'host': 5, 'path': str(target.parent), 'state': 'running',
        'reconnect_delay': '10', 'fast_io_fail_tmo': '15', 'dev_loss_tmo': '600'}])
    modinfo(mock)
    res = run(reconnect_delay=5)
    assert res.failed and res.result['msg'].startswith('cannot write 5 to %s' % target)
