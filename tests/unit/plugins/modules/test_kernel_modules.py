# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kernel_modules: load only what is missing, write the boot list, check mode, modprobe lies."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import pytest

from ansible_collections.rdma.ha_storage.plugins.modules import kernel_modules
from module_harness import patch_module, run_main

RELEASE = os.uname()[2]


class FakeKernel(object):
    """A root tree with /proc/modules, /sys/module and modules.builtin; modprobe adds to it."""

    def __init__(self, root, loaded=(), builtin=(), fake_install=()):
        self.root = root
        self.loaded = list(loaded)
        self.fake_install = set(fake_install)   # modprobe returns 0 without loading (install /bin/true)
        self.calls = []
        (root / 'proc').mkdir()
        (root / 'sys' / 'module').mkdir(parents=True)
        moddir = root / 'lib' / 'modules' / RELEASE
        moddir.mkdir(parents=True)
        (moddir / 'modules.builtin').write_text(''.join('kernel/drivers/%s.ko\n' % b for b in builtin))
        self.sync()

    def sync(self):
        (self.root / 'proc' / 'modules').write_text(
            ''.join('%s 16384 0 - Live 0x0000000000000000\n' % m for m in self.loaded))

    def run(self, cmd, data=None):
        self.calls.append(cmd)
        assert os.path.basename(cmd[0]) == 'modprobe' and cmd[1] == '--'
        name = cmd[2].replace('-', '_')
        if name == 'no_such_module':
            return 1, '', "modprobe: FATAL: Module no_such_module not found in directory /lib/modules/%s\n" % RELEASE
        if name not in self.fake_install:
            self.loaded.append(name)
            self.sync()
        return 0, '', ''


@pytest.fixture
def kernel(monkeypatch, tmp_path):
    def make(**kwargs):
        root = tmp_path / 'root'
        root.mkdir()
        fake = FakeKernel(root, **kwargs)
        patch_module(monkeypatch, kernel_modules.AnsibleModule, fake.run)
        real_init = kernel_modules.KernelModules.__init__

        def init(self, module, root=None):
            real_init(self, module, root=str(fake.root))
        monkeypatch.setattr(kernel_modules.KernelModules, '__init__', init)
        return fake
    return make


def run(args, check_mode=False, diff=False):
    args = dict(args)
    if check_mode:
        args['_ansible_check_mode'] = True
    if diff:
        args['_ansible_diff'] = True
    exc = run_main(kernel_modules, args)
    return exc


def test_loads_only_missing_modules_and_writes_the_boot_list(kernel, tmp_path):
    fake = kernel(loaded=['ib_uverbs'], builtin=['infiniband/core/ib_umad'])
    conf = tmp_path / 'modules-load.d' / 'rdma.conf'
    out = run({'names': ['ib_umad', 'ib_uverbs', 'rdma-ucm'], 'persistent_file': str(conf),
               'comment': 'RDMA layer'}, diff=True)
    assert not out.failed
    assert out.result['changed'] is True
    assert out.result['loaded'] == ['rdma-ucm']
    assert out.result['present'] == ['ib_umad', 'ib_uverbs']
    assert fake.calls == [['/usr/sbin/modprobe', '--', 'rdma-ucm']]
    text = conf.read_text()
    assert text.splitlines()[1:] == ['# RDMA layer', 'ib_umad', 'ib_uverbs', 'rdma-ucm']
    assert oct(conf.stat().st_mode & 0o777) == '0o644'
    assert [d['before_header'] for d in out.result['diff']] == ['kernel modules loaded', str(conf)]
    assert out.result['diff'][1]['before'] == '' and out.result['diff'][1]['after'] == text


def test_second_run_changes_nothing(kernel, tmp_path):
    fake = kernel()
    conf = tmp_path / 'm.conf'
    args = {'names': ['drbd'], 'persistent_file': str(conf)}
    assert run(args).result['changed'] is True
    second = run(args)
    assert second.result['changed'] is False
    assert second.result['loaded'] == [] and second.result['present'] == ['drbd']
    assert len(fake.calls) == 1


def test_check_mode_loads_and_writes_nothing(kernel, tmp_path):
    fake = kernel()
    conf = tmp_path / 'm.conf'
    out = run({'names': ['drbd'], 'persistent_file': str(conf)}, check_mode=True)
    assert out.result['changed'] is True and out.result['loaded'] == ['drbd']
    assert out.result['persistent_changed'] is True
    assert fake.calls == [] and not conf.exists()


def test_load_false_only_manages_the_file(kernel, tmp_path):
    fake = kernel()
    conf = tmp_path / 'm.conf'
    conf.write_text('old\n')
    out = run({'names': ['drbd'], 'load': False, 'persistent_file': str(conf)})
    assert out.result['changed'] is True and out.result['loaded'] == []
    assert fake.calls == [] and conf.read_text().endswith('\ndrbd\n')


def test_a_module_listed_in_sys_module_counts_as_present(kernel, tmp_path):
    fake = kernel()
    (fake.root / 'sys' / 'module' / 'configfs').mkdir()
    out = run({'names': ['configfs']})
    assert out.result['changed'] is False and fake.calls == []


def test_modprobe_failure_names_the_module_with_its_output(kernel):
    kernel()
    out = run({'names': ['no_such_module']})
    assert out.failed
    assert out.result['msg'].startswith('modprobe no_such_module failed: modprobe: FATAL: Module no_such_module not found')
    assert out.result['rc'] == 1 and out.result['name'] == 'no_such_module'


def test_modprobe_that_loads_nothing_is_an_error(kernel):
    kernel(fake_install=['ib_srp'])
    out = run({'names': ['ib_srp']})
    assert out.failed
    assert 'ib_srp is not loaded' in out.result['msg'] and 'install ib_srp /bin/true' in out.result['msg']


@pytest.mark.parametrize('bad', ['', 'two words', '../x', 'a/b'])
def test_bad_names_are_rejected_with_their_index(kernel, bad):
    fake = kernel()
    out = run({'names': ['drbd', bad]})
    assert out.failed and out.result['msg'].startswith('names[1]: ')
    assert fake.calls == []


def test_duplicate_spellings_are_loaded_once(kernel, tmp_path):
    fake = kernel()
    conf = tmp_path / 'm.conf'
    out = run({'names': ['rdma_ucm', 'rdma-ucm'], 'persistent_file': str(conf)})
    assert out.result['loaded'] == ['rdma_ucm'] and len(fake.calls) == 1
    assert conf.read_text().splitlines()[-1] == 'rdma_ucm'
