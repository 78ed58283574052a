# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The OCF agent roles/srp_target/files/lio_srpt.ocf, run as Pacemaker runs it: a subprocess
with OCF_RESKEY_* in its environment, an action argument, an exit code.

Its lib_dir holds a lio.py shim that loads the collection's real module_utils/lio.py and puts
the configfs emulation (tests/fake_configfs.py) under it, on the temporary configfs_root."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import stat
import subprocess
import sys
from xml.etree import ElementTree

import pytest

from fake_configfs import FakeConfigfs

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
AGENT = os.path.join(TOP, 'roles', 'srp_target', 'files', 'lio_srpt.ocf')
LIO = os.path.join(TOP, 'plugins', 'module_utils', 'lio.py')
TESTS = os.path.join(TOP, 'tests')

PORT = '0xfe800000000000000002c903000e8acd'
INI = '0xfe800000000000000002c903001a2b01'
TPG = 'srpt/%s/tpgt_1' % PORT

SHIM = '''# test shim: the real lio.py on the configfs emulation of tests/fake_configfs.py
import importlib.util
import os
import sys

sys.path.insert(0, %(tests)r)
from fake_configfs import FakeConfigfs

_spec = importlib.util.spec_from_file_location('_real_lio', %(lio)r)
_real = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_real)
_real.FILESYSTEM = FakeConfigfs(os.environ['OCF_RESKEY_configfs_root'])
_busy = os.environ.get('FAKE_BUSY_DEVICES', '').split()
_device_in_use = _real.device_in_use
_real.device_in_use = lambda device: device in _busy or _device_in_use(device)
globals().update(dict((k, v) for k, v in vars(_real).items() if not k.startswith('__')))
'''

OCF_SUCCESS, OCF_ERR_GENERIC, OCF_ERR_ARGS, OCF_ERR_UNIMPLEMENTED = 0, 1, 2, 3
OCF_ERR_INSTALLED, OCF_ERR_CONFIGURED, OCF_NOT_RUNNING = 5, 6, 7


class Node(object):
    """A storage node for the agent: lib dir with the shim, config file, fake configfs, devices."""

    def __init__(self, tmp_path):
        self.tmp = tmp_path
        self.lib_dir = tmp_path / 'lib'
        self.lib_dir.mkdir()
        (self.lib_dir / 'lio.py').write_text(SHIM % {'tests': TESTS, 'lio': LIO})
        self.root = str(tmp_path / 'target')
        self.fs = FakeConfigfs.create(self.root)
        self.device = str(tmp_path / 'drbd0')
        (tmp_path / 'drbd0').write_text('')
        self.config = tmp_path / 'lio_srpt.json'
        self.write_config()
        self.env = {}

    def export(self, **changes):
        data = {'volumes': [{'name': 'vol0', 'device': self.device, 'serial': '5a1e0d3f0000', 'lun': 0,
                             'initiators': [INI]}],
                'target_ports': ['ib.' + PORT[2:]], 'rdma_cm_port': 5555, 'generate_node_acls': False}
        data.update(changes)
        return data

    def write_config(self, data=None, text=None):
        self.config.write_text(text if text is not None else json.dumps(data or self.export()))

    def run(self, *args, **env):
        environ = {'PATH': os.environ.get('PATH', '/usr/bin:/bin'), 'PYTHONDONTWRITEBYTECODE': '1',
                   'OCF_ROOT': '/usr/lib/ocf', 'OCF_RESOURCE_INSTANCE': 'lio_srpt',
                   'OCF_RESKEY_config': str(self.config), 'OCF_RESKEY_lib_dir': str(self.lib_dir),
                   'OCF_RESKEY_configfs_root': self.root}
        environ.update(self.env)
        environ.update(env)
        return subprocess.run([sys.executable, AGENT] + list(args), env=environ, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, universal_newlines=True, timeout=60, check=False)


@pytest.fixture
def node(tmp_path):
    return Node(tmp_path)


def test_the_agent_is_an_executable_python3_script():
    mode = os.stat(AGENT).st_mode
    assert mode & stat.S_IXUSR and mode & stat.S_IXGRP and mode & stat.S_IXOTH
    with open(AGENT) as handle:
        assert handle.readline() == '#!/usr/bin/python3\n'


def test_start_monitor_stop_monitor(node):
    assert node.run('monitor').returncode == OCF_NOT_RUNNING
    start = node.run('start')
    assert start.returncode == OCF_SUCCESS, start.stderr
    lines = start.stderr.splitlines()
    assert all(line.startswith('lio_srpt: ') for line in lines)
    assert 'lio_srpt: start: create backstore vol0 (core/iblock_0/vol0)' in lines
    assert lines[-1].startswith('lio_srpt: start took ') and lines[-1].endswith(' s')
    assert node.fs.read('core/iblock_0/vol0/wwn/vpd_unit_serial') == 'T10 VPD Unit Serial Number: 5a1e0d3f0000'
    assert node.fs.read(TPG + '/enable') == '1' and node.fs.read('srpt/discovery_auth/rdma_cm_port') == '5555'
    monitor = node.run('monitor')
    assert (monitor.returncode, monitor.stderr) == (OCF_SUCCESS, '')
    again = node.run('start')
    assert again.returncode == OCF_SUCCESS and again.stderr.splitlines()[:-1] == []
    stop = node.run('stop')
    assert stop.returncode == OCF_SUCCESS, stop.stderr
    assert stop.stderr.splitlines()[0] == 'lio_srpt: stop: disable target port ' + PORT
    assert stop.stderr.splitlines()[-1].startswith('lio_srpt: stop took ')
    assert node.fs.user_dirs() == ['srpt']
    assert node.run('monitor').returncode == OCF_NOT_RUNNING
    stop_again = node.run('stop')
    assert stop_again.returncode == OCF_SUCCESS and len(stop_again.stderr.splitlines()) == 1


def test_exportable_tells_whether_every_device_opens(node, tmp_path):
    assert node.run('exportable').returncode == OCF_SUCCESS
    missing = str(tmp_path / 'drbd9')
    node.write_config(node.export(volumes=[{'name': 'vol9', 'device': missing, 'serial': 'a9', 'lun': 0,
                                            'initiators': [INI]}]))
    out = node.run('exportable')
    assert out.returncode == OCF_ERR_GENERIC
    assert 'device %s of volume vol9 cannot be opened (No such file or directory)' % missing in out.stderr


def test_monitor_reports_a_broken_export(node):
    assert node.run('start').returncode == OCF_SUCCESS
    node.fs.write(node.fs.path(TPG + '/enable'), '0')
    monitor = node.run('monitor')
    assert monitor.returncode == OCF_ERR_GENERIC
    assert 'lio_srpt: the export is failed: TPG %s is not enabled' % TPG in monitor.stderr
    assert 'ocf-exit-reason:the export is failed: TPG' in monitor.stderr
    assert node.run('start').returncode == OCF_SUCCESS
    assert node.run('monitor').returncode == OCF_SUCCESS


def test_monitor_without_configfs_is_not_running(node, tmp_path):
    assert node.run('monitor', OCF_RESKEY_configfs_root=str(tmp_path / 'none' / 'target')).returncode == OCF_NOT_RUNNING


def test_stop_fails_while_a_device_is_held_open(node):
    assert node.run('start').returncode == OCF_SUCCESS
    stop = node.run('stop', FAKE_BUSY_DEVICES=node.device)
    assert stop.returncode == OCF_ERR_GENERIC
    assert 'device %s of volume vol0 is still held open' % node.device in stop.stderr
    assert node.fs.user_dirs() == ['srpt']      # the export itself is gone


def test_start_fails_without_the_kernel_modules(node, tmp_path):
    config = tmp_path / 'config'
    (config / 'target').mkdir(parents=True)
    start = node.run('start', OCF_RESKEY_configfs_root=str(config / 'target'))
    assert start.returncode == OCF_ERR_GENERIC
    assert 'lio_srpt: %s/core is missing: target_core_mod is not loaded' % (config / 'target') in start.stderr


def test_start_refuses_what_it_would_have_to_destroy(node):
    assert node.run('start').returncode == OCF_SUCCESS
    data = node.export()
    data['volumes'][0]['serial'] = 'cafe'
    node.write_config(data)
    start = node.run('start')
    assert start.returncode == OCF_ERR_GENERIC
    assert 'refusing to change the LIO export: backstore core/iblock_0/vol0: its serial is 5a1e0d3f0000' in start.stderr
    assert 'start took' in start.stderr.splitlines()[-1]


def test_start_fails_when_a_change_fails(node):
    node.write_config(node.export(volumes=[{'name': 'vol0', 'device': node.device + '-gone', 'serial': 'ab', 'lun': 0}]))
    start = node.run('start')
    assert start.returncode == OCF_ERR_GENERIC
    assert 'lio_srpt: write %s/core/iblock_0/vol0/enable failed: No such file or directory' % node.root in start.stderr


def test_validate_all(node):
    assert node.run('validate-all').returncode == OCF_SUCCESS


@pytest.mark.parametrize('changes, words', [
    ({'volumes': [{'name': 'vol0', 'device': 'drbd0', 'serial': 'ab', 'lun': 0}]}, "device 'drbd0' must be an absolute"),
    ({'volumes': [{'name': 'vol0', 'device': '/dev/drbd0', 'serial': 'a' * 254, 'lun': 0}]}, 'must be 1-253 printable'),
    ({'volumes': [{'name': 'vol0', 'device': '/dev/drbd0', 'serial': 'ab', 'lun': 'zero'}]}, "lun 'zero' must be an integer"),
    ({'volumes': [{'name': 'v0', 'device': '/dev/drbd0', 'serial': 'ab', 'lun': 0},
                  {'name': 'v1', 'device': '/dev/drbd1', 'serial': 'cd', 'lun': 0}]}, 'lun 0 is also the lun of volume v0'),
    ({'volumes': [{'name': 'a b', 'device': '/dev/drbd0', 'serial': 'ab', 'lun': 0}]}, "name 'a b' must be"),
    ({'target_ports': ['0002:c903:000e:8acd']}, 'is a GUID-form name'),
    ({'target_ports': ['tgt1']}, "target_ports[0] 'tgt1' is not an SRP port name"),
    ({'rdma_cm_port': 'x'}, "rdma_cm_port 'x' must be"),
    ({'colour': 'red'}, 'unknown key colour'),
])
def test_validate_all_refuses_a_bad_config(node, changes, words):
    node.write_config(node.export(**changes))
    validate = node.run('validate-all')
    assert validate.returncode == OCF_ERR_CONFIGURED
    assert validate.stderr.startswith('lio_srpt: %s: invalid LIO export: ' % node.config) and words in validate.stderr


def test_a_config_that_is_not_json_is_a_configuration_error(node):
    node.write_config(text='{"volumes": [')
    validate = node.run('validate-all')
    assert validate.returncode == OCF_ERR_CONFIGURED and 'is not JSON' in validate.stderr
    node.write_config(text='[1, 2]')
    assert node.run('validate-all').returncode == OCF_ERR_CONFIGURED


def test_a_missing_config_or_library_is_an_installation_error(node, tmp_path):
    missing = node.run('monitor', OCF_RESKEY_config=str(tmp_path / 'absent.json'))
    assert missing.returncode == OCF_ERR_INSTALLED
    assert 'lio_srpt: cannot read %s: No such file or directory' % (tmp_path / 'absent.json') in missing.stderr
    no_lib = node.run('validate-all', OCF_RESKEY_lib_dir=str(tmp_path / 'nolib'))
    assert no_lib.returncode == OCF_ERR_INSTALLED
    assert '%s is missing' % (tmp_path / 'nolib' / 'lio.py') in no_lib.stderr
    (tmp_path / 'broken').mkdir()
    (tmp_path / 'broken' / 'lio.py').write_text('this is not python\n')
    assert node.run('start', OCF_RESKEY_lib_dir=str(tmp_path / 'broken')).returncode == OCF_ERR_INSTALLED


def test_meta_data_is_ocf_1_1_xml(node, tmp_path):
    out = node.run('meta-data', OCF_RESKEY_lib_dir=str(tmp_path / 'nolib'))
    assert out.returncode == OCF_SUCCESS and out.stderr == ''
    agent = ElementTree.fromstring(out.stdout.encode())
    assert agent.tag == 'resource-agent' and agent.get('name') == 'lio_srpt'
    assert agent.findtext('version') == '1.1'
    assert agent.find('shortdesc').get('lang') == 'en' and agent.findtext('longdesc').strip()
    params = dict((p.get('name'), p.find('content').get('default')) for p in agent.find('parameters'))
    assert params == {'config': '/etc/rdma-ha-storage/lio_srpt.json', 'lib_dir': '/usr/lib/ocf/lib/rdma_ha_storage',
                      'configfs_root': '/sys/kernel/config/target'}
    actions = dict((a.get('name'), a.attrib) for a in agent.find('actions'))
    assert sorted(actions) == ['meta-data', 'monitor', 'start', 'stop', 'validate-all']
    assert actions['monitor']['interval'] == '10s' and actions['monitor']['timeout'] == '20s'
    assert all(a['timeout'].endswith('s') for a in actions.values())


def test_usage_unknown_actions_and_no_action(node):
    usage = node.run('usage')
    assert usage.returncode == OCF_SUCCESS and usage.stdout.startswith('usage: lio_srpt {start|stop|monitor')
    unknown = node.run('promote')
    assert unknown.returncode == OCF_ERR_UNIMPLEMENTED
    assert unknown.stderr.startswith('lio_srpt: action promote is not implemented\n')
    assert node.run().returncode == OCF_ERR_ARGS
