# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kernel_modules: load only what is missing, write the boot list, check mode, modprobe lies.

Every modprobe is pinned: whole argv, environment, in order."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import pytest

from ansible_collections.rdma.ha_storage.plugins.modules import kernel_modules
from module_harness import RunCommandMock, call, patch_module, run_main

RELEASE = os.uname()[2]
MODPROBE = '/usr/sbin/modprobe'


class FakeKernel(object):
    """A root tree with /proc/modules, /sys/module and modules.builtin; modprobe adds to it."""

    def __init__(self, root, loaded=(), builtin=()):
        self.root = root
        self.loaded = list(loaded)
        self.mock = RunCommandMock()
        (root / 'proc').mkdir()
        (root / 'sys' / 'module').mkdir(parents=True)
        moddir = root / 'lib' / 'modules' / RELEASE
        moddir.mkdir(parents=True)
        (moddir / 'modules.builtin').write_text(''.join('kernel/drivers/%s.ko\n' % b for b in builtin))
        self.sync()

    def sync(self):
        (self.root / 'proc' / 'modules').write_text(
            ''.join('%s 16384 0 - Live 0x0000000000000000\n' % m for m in self.loaded))

    def load(self, name):
        self.loaded.append(name.replace('-', '_'))
        self.sync()

    def expect_modprobe(self, name, loads=True, rc=0, err=''):
        """The next command is `modprobe -- name`; it loads the module unless loads is False (an
        `install NAME /bin/true` rule) or it fails (rc)."""
        effect = (lambda: self.load(name)) if loads and rc == 0 else None
        self.mock.add(call([MODPROBE, '--', name], rc=rc, err=err, effect=effect))

    @property
    def calls(self):
        return self.mock.argvs()


# the FakeKernel of the running test: run() asserts that every modprobe it expects ran
FAKE = []


@pytest.fixture
def kernel(monkeypatch, tmp_path):
    def make(**kwargs):
        root = tmp_path / 'root'
        root.mkdir()
        fake = FakeKernel(root, **kwargs)
        patch_module(monkeypatch, kernel_modules.AnsibleModule, fake.mock)
        real_init = kernel_modules.KernelModules.__init__

        def init(self, module, root=None):
            real_init(self, module, root=str(fake.root))
        monkeypatch.setattr(kernel_modules.KernelModules, '__init__', init)
        FAKE[:] = [fake.mock]
        return fake
    return make


def run(args, check_mode=False, diff=False):
    args = dict(args)
    if check_mode:
        args['_ansible_check_mode'] = True
    if diff:
        args['_ansible_diff'] = True
    exc = run_main(kernel_modules, args, FAKE[0] if FAKE else None)
    return exc


def test_loads_only_missing_modules_and_writes_the_boot_list(kernel, tmp_path):
    fake = kernel(loaded=['ib_uverbs'], builtin=['infiniband/core/ib_umad'])
    fake.expect_modprobe('rdma-ucm')
    conf = tmp_path / 'modules-load.d' / 'rdma.conf'
    out = run({'names': ['ib_umad', 'ib_uverbs', 'rdma-ucm'], 'persistent_file': str(conf),
               'comment': 'RDMA layer'}, diff=True)
    assert not out.failed
    assert out.result['changed'] is True
    assert out.result['loaded'] == ['rdma-ucm']
    assert out.result['present'] == ['ib_umad', 'ib_uverbs']
    assert fake.calls == [[MODPROBE, '--', 'rdma-ucm']]
    assert fake.mock.calls[0]['environ'] == {'LC_ALL': 'C', 'LANG': 'C', 'LANGUAGE': 'C'}
    text = conf.read_text()
    assert text.splitlines()[1:] == ['# RDMA layer', 'ib_umad', 'ib_uverbs', 'rdma-ucm']
    assert oct(conf.stat().st_mode & 0o777) == '0o644'
    assert [d['before_header'] for d in out.result['diff']] == ['kernel modules loaded', str(conf)]
    assert out.result['diff'][1]['before'] == '' and out.result['diff'][1]['after'] == text


def test_second_run_changes_nothing(kernel, tmp_path):
    fake = kernel()
    fake.expect_modprobe('drbd')
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
    fake = kernel()
    fake.expect_modprobe('no_such_module', rc=1,
                         err='modprobe: FATAL: Module no_such_module not found in directory /lib/modules/%s\n' % RELEASE)
    out = run({'names': ['no_such_module']})
    assert out.failed
    assert out.result['msg'].startswith('modprobe no_such_module failed: modprobe: FATAL: Module no_such_module not found')
    assert out.result['rc'] == 1 and out.result['name'] == 'no_such_module'
    assert out.result['cmd'] == [MODPROBE, '--', 'no_such_module']


def test_modprobe_that_loads_nothing_is_an_error(kernel):
    fake = kernel()
    fake.expect_modprobe('ib_srp', loads=False)
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
    fake.expect_modprobe('rdma_ucm')
    conf = tmp_path / 'm.conf'
    out = run({'names': ['rdma_ucm', 'rdma-ucm'], 'persistent_file': str(conf)})
    assert out.result['loaded'] == ['rdma_ucm'] and len(fake.calls) == 1
    assert conf.read_text().splitlines()[-1] == 'rdma_ucm'


def test_missing_modprobe_names_the_package(kernel, monkeypatch):
    fake = kernel()
    patch_module(monkeypatch, kernel_modules.AnsibleModule, fake.mock, missing=('modprobe',))
    out = run({'names': ['drbd']})
    assert out.failed and out.result == {'msg': 'modprobe not found on this host: install kmod'}
    assert fake.calls == []


def test_missing_modprobe_does_not_matter_in_check_mode(kernel, monkeypatch):
    fake = kernel()
    patch_module(monkeypatch, kernel_modules.AnsibleModule, fake.mock, missing=('modprobe',))
    out = run({'names': ['drbd']}, check_mode=True)
    assert not out.failed and out.result['loaded'] == ['drbd']
