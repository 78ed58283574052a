# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""modprobe_options: one modprobe.d file, names checked with modinfo -p (unknown parameter: fail;
absent module: left out), unchecked in containers, pending values of loaded modules reported and
never reloaded. modinfo is pinned, whole argv, in order; sysfs is a temporary tree."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import pytest

from ansible_collections.rdma.ha_storage.plugins.modules import modprobe_options
from module_harness import RunCommandMock, call, patch_module, run_main

# modinfo -p ib_ipoib in its format, written after ipoib_main.c and ipoib_cm.c (Linux 6.1), not captured
MODINFO_IPOIB = ('max_nonsrq_conn_qp:Max number of connected-mode QPs per interface (applied only if shared receive queue is not available) (int)\n'
                 'send_queue_size:Number of descriptors in send queue (int)\n'
                 'recv_queue_size:Number of descriptors in receive queue (int)\n')

IPOIB = {'ib_ipoib': {'send_queue_size': 1024, 'recv_queue_size': 1024}}
LINE = 'options ib_ipoib recv_queue_size=1024 send_queue_size=1024'


def modinfo(module, out='', rc=0):
    return call(['/usr/sbin/modinfo', '-p', module], rc=rc, out=out,
                err='' if rc == 0 else 'modinfo: ERROR: Module %s not found.\n' % module)


@pytest.fixture
def host(monkeypatch, tmp_path):
    root = tmp_path / 'root'
    root.mkdir()
    mock = RunCommandMock()
    warnings = []
    patch_module(monkeypatch, modprobe_options.AnsibleModule, mock)
    monkeypatch.setattr(modprobe_options.AnsibleModule, 'warn', lambda self, text: warnings.append(text))
    monkeypatch.setattr(modprobe_options.ModprobeOptions, 'OWNER', (os.getuid(), os.getgid()))
    real_init = modprobe_options.ModprobeOptions.__init__

    def init(self, module, root=None):
        real_init(self, module, root=str(tmp_path / 'root'))
    monkeypatch.setattr(modprobe_options.ModprobeOptions, '__init__', init)
    conf = tmp_path / 'modprobe.d' / 'rdma-ha-storage.conf'

    def run(check_mode=False, diff=False, **args):
        full = dict(path=str(conf), comment='RDMA layer')
        full.update(args)
        if check_mode:
            full['_ansible_check_mode'] = True
        if diff:
            full['_ansible_diff'] = True
        del warnings[:]
        res = run_main(modprobe_options, full, mock)
        res.result['warnings'] = list(warnings)
        return res
    return root, mock, conf, run


def loaded(root, module, **values):
    params = root / 'sys' / 'module' / module / 'parameters'
    params.mkdir(parents=True)
    for name, value in values.items():
        (params / name).write_text('%s\n' % value)


def test_writes_checked_parameters_with_a_header_and_is_idempotent(host):
    root, mock, conf, run = host
    mock.add(modinfo('ib_ipoib', MODINFO_IPOIB))
    res = run(parameters=IPOIB, diff=True)
    assert not res.failed and res.result['changed'] and res.result['checked']
    text = conf.read_text()
    assert text.startswith('# Managed by Ansible (rdma.ha_storage.modprobe_options)')
    assert '# RDMA layer\n' in text and text.endswith(LINE + '\n')
    assert oct(os.stat(str(conf)).st_mode & 0o777) == '0o644'
    assert res.result['diff']['after'] == text and res.result['diff']['before'] == ''
    assert res.result['parameters'] == {'ib_ipoib': {'recv_queue_size': '1024', 'send_queue_size': '1024'}}
    mock.add(modinfo('ib_ipoib', MODINFO_IPOIB))
    assert run(parameters=IPOIB).result['changed'] is False


def test_unknown_parameter_fails_naming_module_and_parameter_and_writes_nothing(host):
    root, mock, conf, run = host
    mock.add(modinfo('ib_ipoib', MODINFO_IPOIB))
    res = run(parameters={'ib_ipoib': {'send_queue_size': 512, 'sendq_size': 512}})
    assert res.failed
    assert 'module ib_ipoib' in res.result['msg'] and 'no parameter sendq_size' in res.result['msg']
    assert 'send_queue_size' in res.result['msg']  # what it has
    assert res.result['unknown'] == ['sendq_size']
    assert not conf.exists()


def test_absent_module_is_left_out_with_a_warning(host):
    root, mock, conf, run = host
    mock.add(modinfo('ib_ipoib', MODINFO_IPOIB), modinfo('mlx4_core', rc=1))
    res = run(parameters=dict(IPOIB, mlx4_core={'log_num_mgm_entry_size': -1}))
    assert not res.failed and res.result['absent_modules'] == ['mlx4_core']
    assert conf.read_text().splitlines()[-1] == LINE
    assert any('mlx4_core is not on this host' in w for w in res.result['warnings'])


def test_container_writes_unchecked(host):
    root, mock, conf, run = host
    res = run(parameters=dict(IPOIB, mlx4_core={'log_num_mgm_entry_size': -1}), check=False)
    assert not res.failed and res.result['checked'] is False and mock.calls == []
    assert conf.read_text().splitlines()[-2:] == [LINE, 'options mlx4_core log_num_mgm_entry_size=-1']


def test_no_parameters_removes_the_file(host):
    root, mock, conf, run = host
    run(parameters=IPOIB, check=False)
    assert conf.exists()
    res = run(parameters={'ib_ipoib': {}}, check=False)
    assert res.result['changed'] and not conf.exists()
    assert run(parameters={}, check=False).result['changed'] is False


def test_check_mode_writes_nothing(host):
    root, mock, conf, run = host
    res = run(parameters=IPOIB, check=False, check_mode=True, diff=True)
    assert res.result['changed'] and res.result['diff']['after'].endswith(LINE + '\n')
    assert not conf.exists()


def test_loaded_module_with_other_values_is_reported_not_reloaded(host):
    root, mock, conf, run = host
    loaded(root, 'ib_ipoib', send_queue_size=256, recv_queue_size=1024)
    mock.add(modinfo('ib_ipoib', MODINFO_IPOIB))
    res = run(parameters=IPOIB)
    assert res.result['pending'] == [{'module': 'ib_ipoib', 'parameter': 'send_queue_size', 'running': '256', 'wanted': '1024'}]
    assert any('next loaded' in w and 'nothing was reloaded' in w for w in res.result['warnings'])
    assert [c['argv'][0] for c in mock.calls] == ['/usr/sbin/modinfo']  # no modprobe -r


def test_bool_parameter_compares_with_sysfs_y_n(host):
    root, mock, conf, run = host
    loaded(root, 'ib_core', netns_mode='Y')
    res = run(parameters={'ib_core': {'netns_mode': True}}, check=False)
    assert res.result['pending'] == []


@pytest.mark.parametrize('parameters, message', [
    ({'a b': {}}, 'not a kernel module name'),
    ({'ib_ipoib': [1]}, 'expected a mapping'),
    ({'ib_ipoib': {'x y': 1}}, 'not a parameter name'),
    ({'ib_ipoib': {'send_queue_size': 'a b'}}, 'ib_ipoib.send_queue_size'),
    ({'mlx4-core': {'a': 1}, 'mlx4_core': {'b': 1}}, 'given twice'),
])
def test_bad_input_is_refused(host, parameters, message):
    root, mock, conf, run = host
    res = run(parameters=parameters, check=False)
    assert res.failed and message in res.result['msg']
