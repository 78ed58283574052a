# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ipoib_config: the backend's own parser reads the candidates before anything is installed; a
rejected candidate installs and removes nothing. The commands are pinned; the answers are what
ifupdown 0.8.41, systemd-networkd 252 and nmcli 1.42.4 printed in Debian 12 containers."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import stat

import pytest

from ansible_collections.rdma.ha_storage.plugins.modules import ipoib_config
from module_harness import RunCommandMock, call, patch_module, run_main

IFUPDOWN = 'auto ib0.8001\niface ib0.8001 inet static\n    address 10.1.0.1/24\n    mtu 2044\n'
NETDEV = '[NetDev]\nName=ib0.8001\nKind=ipoib\n\n[IPoIB]\nPartitionKey=0x8001\nMode=datagram\n'
KEYFILE = '[connection]\nid=ipoib-ib0.8001\ntype=infiniband\ninterface-name=ib0.8001\n'
NETWORKD_OUT = 'Unable to load sysctl monitor BPF program, ignoring: Operation not permitted.\n'
NETWORKD_BAD = ('/etc/systemd/network/50-rdma-ha-storage-ib0.8001.netdev:7: Failed to parse IPoIB mode, ignoring: '
                'datagramm\n/etc/systemd/network/10-other.network:3: Unknown key \'X\' in section [Network], ignoring.\n'
                'Enumeration completed\n')


@pytest.fixture
def task(monkeypatch, tmp_path):
    conf = tmp_path / 'conf'
    conf.mkdir()
    mock = RunCommandMock()
    patch_module(monkeypatch, ipoib_config.AnsibleModule, mock)
    monkeypatch.setattr(ipoib_config.IpoibConfig, 'OWNER', (os.getuid(), os.getgid()))
    made = []

    def private_dir():
        path = tmp_path / ('private%d' % len(made))
        path.mkdir()
        made.append(path)
        return str(path)
    monkeypatch.setattr(ipoib_config.IpoibConfig, 'private_dir', staticmethod(private_dir))

    def run(backend, files, check_mode=False, diff=False, **args):
        full = dict(backend=backend, directory=str(conf), files=files)
        full.update(args)
        if check_mode:
            full['_ansible_check_mode'] = True
        if diff:
            full['_ansible_diff'] = True
        return run_main(ipoib_config, full, mock)
    return conf, tmp_path, mock, run


def ifupdown_calls(tmp_path, name, listed='lo\nib0.8001\n', rc=0, err='', private='private0'):
    candidate = str(tmp_path / private / name)
    return [call(['/usr/sbin/ifquery', '--interfaces=%s' % candidate, '--list'], out=listed),
            call(['/usr/sbin/ifup', '--no-act', '--force', '--interfaces=%s' % candidate, 'ib0.8001'], rc=rc, err=err)]


def test_ifupdown_candidate_is_validated_installed_then_idempotent(task):
    conf, tmp_path, mock, run = task
    mock.add(*ifupdown_calls(tmp_path, 'rdma-ha-storage-ipoib'))
    res = run('ifupdown', {'rdma-ha-storage-ipoib': IFUPDOWN}, diff=True)
    assert not res.failed and res.result['changed'] and res.result['validated']
    assert res.result['written'] == ['rdma-ha-storage-ipoib'] and res.result['removed'] == []
    installed = conf / 'rdma-ha-storage-ipoib'
    assert installed.read_text() == IFUPDOWN and stat.S_IMODE(installed.stat().st_mode) == 0o644
    assert res.result['diff'][0]['before_header'].endswith('(absent)') and res.result['diff'][0]['after'] == IFUPDOWN
    assert not (tmp_path / 'private0').exists()
    # the second run stages its candidate in a new private directory
    mock.add(*ifupdown_calls(tmp_path, 'rdma-ha-storage-ipoib', private='private1'))
    res = run('ifupdown', {'rdma-ha-storage-ipoib': IFUPDOWN})
    assert res.result['changed'] is False and res.result['written'] == []


def test_ifupdown_rejection_names_the_file_and_installs_nothing(task):
    conf, tmp_path, mock, run = task
    mock.add(*ifupdown_calls(tmp_path, 'rdma-ha-storage-ipoib', rc=1,
                             err='ifup: missing required variable: address\n'
                                 'ifup: missing required configuration variables for interface ib0.8001/inet\n'))
    res = run('ifupdown', {'rdma-ha-storage-ipoib': 'auto ib0.8001\niface ib0.8001 inet static\n'})
    assert res.failed and os.listdir(str(conf)) == []
    assert res.result['msg'] == ('ifupdown rejected the configuration (nothing was installed in %s): ifup: missing '
                                 'required variable: address; ifup: missing required configuration variables for '
                                 'interface ib0.8001/inet' % conf)


def test_ifupdown_syntax_error(task):
    conf, tmp_path, mock, run = task
    candidate = str(tmp_path / 'private0' / 'f')
    mock.add(call(['/usr/sbin/ifquery', '--interfaces=%s' % candidate, '--list'], rc=1,
                  err='ifquery: %s:1: unknown or no method and no inherits keyword specified\n'
                      'ifquery: couldn\'t read interfaces file "%s"\n' % (candidate, candidate)))
    res = run('ifupdown', {'f': 'iface x inet statik\n'})
    assert res.failed
    assert res.result['problems'] == ['ifquery: f:1: unknown or no method and no inherits keyword specified',
                                      'ifquery: couldn\'t read interfaces file "f"']


def networkd_call(tmp_path, conf, out=NETWORKD_OUT, rc=124):
    return call(['/usr/sbin/unshare', '--mount', '--net', '--propagation', 'private', '--', '/bin/sh', '-c',
                 ipoib_config.NETWORKD_SCRIPT, 'ipoib_config', str(tmp_path / 'private1'), str(conf),
                 str(tmp_path / 'private0'), '/usr/sbin/timeout', '3', '/usr/sbin/setpriv',
                 '/usr/sbin/systemd-networkd'], rc=rc, err=out)


def test_networkd_reads_the_candidates_in_a_private_namespace(task):
    conf, tmp_path, mock, run = task
    mock.add(networkd_call(tmp_path, conf))
    res = run('networkd', {'50-rdma-ha-storage-ib0.8001.netdev': NETDEV})
    assert not res.failed and (conf / '50-rdma-ha-storage-ib0.8001.netdev').read_text() == NETDEV
    assert res.result['messages'] == []


def test_networkd_complaints_about_our_files_reject_them(task):
    conf, tmp_path, mock, run = task
    mock.add(networkd_call(tmp_path, conf, out=NETWORKD_BAD.replace('/etc/systemd/network', str(conf))))
    res = run('networkd', {'50-rdma-ha-storage-ib0.8001.netdev': NETDEV.replace('datagram', 'datagramm')})
    assert res.failed and os.listdir(str(conf)) == []
    # only the line about the candidate, not the one about another file
    assert res.result['problems'] == ['%s/50-rdma-ha-storage-ib0.8001.netdev:7: Failed to parse IPoIB mode, '
                                      'ignoring: datagramm' % conf]


def test_networkd_that_cannot_run_is_an_error_that_says_why(task):
    conf, tmp_path, mock, run = task
    mock.add(networkd_call(tmp_path, conf, out='Failed to drop privileges: Operation not permitted\n', rc=1))
    res = run('networkd', {'a.netdev': NETDEV})
    assert res.failed and 'systemd-networkd did not run in a private mount and network namespace (rc 1)' \
        in res.result['msg']
    assert 'Failed to drop privileges' in res.result['msg'] and 'validate=false' in res.result['msg']


def test_networkmanager_keyfiles_are_read_by_nmcli_offline_and_installed_0600(task):
    conf, tmp_path, mock, run = task
    nmcli = ['/usr/sbin/nmcli', '--offline', 'connection', 'modify', 'connection.autoconnect', 'yes']
    mock.add(call(nmcli, data=KEYFILE, out=KEYFILE))
    res = run('networkmanager', {'ipoib-ib0.8001.nmconnection': KEYFILE}, mode='0600')
    assert not res.failed
    assert stat.S_IMODE((conf / 'ipoib-ib0.8001.nmconnection').stat().st_mode) == 0o600
    mock.add(call(nmcli, data='x', rc=1, err="Error: Error writing connection: bond.options: 'primary' option is "
                                             "only valid for 'mode=active-backup'\n"))
    res = run('networkmanager', {'bond0.nmconnection': 'x'}, mode='0600')
    assert res.failed and not (conf / 'bond0.nmconnection').exists()
    assert res.result['problems'] == ["bond0.nmconnection: Error: Error writing connection: bond.options: 'primary' "
                                      "option is only valid for 'mode=active-backup'"]


def test_prune_removes_stale_files_of_the_prefix_only(task):
    conf, tmp_path, mock, run = task
    (conf / 'ipoib-old.nmconnection').write_text('old')
    (conf / 'other.nmconnection').write_text('other')
    res = run('networkmanager', {'ipoib-ib0.8001.nmconnection': KEYFILE}, mode='0600', prune='ipoib-', validate=False,
              check_mode=True, diff=True)
    assert res.result['changed'] and res.result['removed'] == ['ipoib-old.nmconnection']
    assert (conf / 'ipoib-old.nmconnection').exists() and not (conf / 'ipoib-ib0.8001.nmconnection').exists()
    assert res.result['diff'][1] == {'before_header': str(conf / 'ipoib-old.nmconnection'),
                                     'after_header': '%s (absent)' % (conf / 'ipoib-old.nmconnection'),
                                     'before': 'old', 'after': ''}
    res = run('networkmanager', {'ipoib-ib0.8001.nmconnection': KEYFILE}, mode='0600', prune='ipoib-', validate=False)
    assert sorted(os.listdir(str(conf))) == ['ipoib-ib0.8001.nmconnection', 'other.nmconnection']
    res = run('networkmanager', {'ipoib-ib0.8001.nmconnection': KEYFILE}, mode='0600', prune='ipoib-', validate=False)
    assert res.result['changed'] is False


def test_a_mode_change_is_a_change(task):
    conf, tmp_path, mock, run = task
    (conf / 'f').write_text(KEYFILE)
    os.chmod(str(conf / 'f'), 0o644)
    res = run('networkmanager', {'f': KEYFILE}, mode='0600', validate=False)
    assert res.result['written'] == ['f'] and stat.S_IMODE((conf / 'f').stat().st_mode) == 0o600


@pytest.mark.parametrize('args,message', [
    ({'files': {'a/b': 'x'}}, "files: 'a/b' is not a file name"),
    ({'prune': '../'}, "prune: '../' is not a file name prefix"),
    ({'mode': 'u+x'}, 'mode: '),
])
def test_bad_parameters(task, args, message):
    conf, tmp_path, mock, run = task
    full = dict(files={'f': 'x'}, validate=False)
    full.update(args)
    res = run('ifupdown', **full)
    assert res.failed and res.result['msg'].startswith(message)


def test_missing_directory(task):
    conf, tmp_path, mock, run = task
    res = run('ifupdown', {'f': 'x'}, directory=str(tmp_path / 'nope'))
    assert res.failed and res.result['msg'] == 'directory: %s does not exist' % (tmp_path / 'nope')
