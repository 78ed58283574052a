# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/lio.py: the LIO SRP export on a configfs emulation (tests/fake_configfs.py).

plan -> apply -> plan is empty; what the spec does not name stays unless purge; refusals;
monitor; stop order; names; the environment checks."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import json
import os

import pytest

from ansible_collections.rdma.ha_storage.plugins.module_utils import lio
from fake_configfs import FakeConfigfs, captured_entries

PORT = '0xfe800000000000000002c903000e8acd'
PORT_B = '0xfe800000000000000002c903000e8ace'
INI_1 = '0xfe800000000000000002c903001a2b01'
INI_2 = '0xfe80000000000000248a070300a1b2c1'
TPG = 'srpt/%s/tpgt_1' % PORT


class Lab(object):
    """A fake configfs root, two block 'devices' (plain files) and the usual spec."""

    def __init__(self, tmp_path, **kwargs):
        self.tmp = tmp_path
        self.root = str(tmp_path / 'target')
        self.fs = FakeConfigfs.create(self.root, **kwargs)
        self.devices = []
        for name in ('drbd0', 'drbd1', 'drbd2'):
            (tmp_path / name).write_text('')
            self.devices.append(str(tmp_path / name))

    def spec_dict(self, **changes):
        data = {
            'volumes': [
                {'name': 'vol0', 'device': self.devices[0], 'serial': '5a1e0d3f0000', 'lun': 0,
                 'initiators': [INI_1, INI_2]},
                {'name': 'vol1', 'device': self.devices[1], 'serial': '5a1e0d3f0001', 'lun': 1,
                 'initiators': [INI_2]},
            ],
            'target_ports': ['ib.' + PORT[2:]],
            'rdma_cm_port': 5555,
        }
        data.update(changes)
        return data

    def spec(self, **changes):
        return lio.spec_from_dict(self.spec_dict(**changes))

    def state(self):
        return lio.read_state(self.root)

    def apply(self, actions):
        return lio.apply(actions, self.root, self.fs)

    def up(self, spec=None):
        """Export spec (default: the usual one); return the actions it took."""
        spec = spec or self.spec()
        actions = lio.plan(self.state(), spec)
        self.apply(actions)
        return actions

    def path(self, rel):
        return os.path.join(self.root, rel)


@pytest.fixture
def lab(tmp_path):
    return Lab(tmp_path)


def ops(actions):
    return [(a.op, a.path) for a in actions]


# ------------------------------------------------------------------------------ names and spec
@pytest.mark.parametrize('spelling', [
    'ib.fe800000000000000002c903000e8acd', '0xfe800000000000000002c903000e8acd',
    'fe800000000000000002c903000e8acd', '0XFE800000000000000002C903000E8ACD', ' IB.FE800000000000000002C903000E8ACD ',
    'fe80:0000:0000:0000:0002:c903:000e:8acd', 'fe80:0:0:0:2:c903:e:8acd',
])
def test_port_names_are_normalised_to_the_configfs_spelling(spelling):
    assert lio.port_name(spelling) == PORT


def test_a_guid_form_name_is_refused_with_the_gid_form():
    with pytest.raises(lio.SpecError) as info:
        lio.port_name('0002:c903:000e:8acd')
    assert 'GUID-form' in info.value.msg and '0xfe800000000000000002c903000e8acd' in info.value.msg


@pytest.mark.parametrize('bad', ['', 'ib.fe80', '0x' + 'g' * 32, 'iqn.2003-01.org.linux-iscsi:x', 17])
def test_other_port_names_are_refused(bad):
    with pytest.raises(lio.SpecError):
        lio.port_name(bad)


def test_spec_normalises_ports_and_initiators(lab):
    spec = lab.spec(volumes=[{'name': 'vol0', 'device': '/dev/drbd0', 'serial': 5, 'lun': '3',
                              'initiators': ['ib.' + INI_1[2:], INI_1.upper().replace('0X', '0x')]}])
    assert spec.target_ports == [PORT]
    assert spec.volumes[0].initiators == [INI_1]
    assert (spec.volumes[0].serial, spec.volumes[0].lun) == ('5', 3)
    assert spec.generate_node_acls is False and spec.rdma_cm_port == 5555
    assert lio.spec_from_dict(spec.as_dict()).as_dict() == spec.as_dict()


def test_spec_lists_every_problem(lab):
    data = lab.spec_dict(target_ports=['0002:c903:000e:8acd', PORT, PORT], rdma_cm_port=0, colour='red',
                         volumes=[{'name': '-x', 'device': 'dev/sdb', 'serial': 's' * 254, 'lun': -1},
                                  {'name': 'vol1', 'device': '/dev/sdc', 'serial': 'a b', 'lun': 1, 'size': 3},
                                  {'name': 'vol2', 'device': '/dev/sdc', 'serial': 'ok', 'lun': 1,
                                   'initiators': ['nope']}])
    with pytest.raises(lio.SpecError) as info:
        lio.spec_from_dict(data)
    problems = info.value.problems
    expected = ['unknown key colour', "volumes[0]: name '-x'", "volumes[0]: device 'dev/sdb'",
                'volumes[0]: serial', 'volumes[0]: lun -1', 'volume vol1: unknown key size', 'volume vol1: serial',
                "volume vol2: initiators[0] 'nope'", 'target_ports[0]', 'target_ports[2]: ', 'rdma_cm_port 0']
    for start in expected:
        assert [p for p in problems if p.startswith(start)], (start, problems)
    assert info.value.msg.startswith('invalid LIO export: ')


def test_spec_refuses_duplicates_between_volumes(lab):
    data = lab.spec_dict()
    data['volumes'][1].update(device=lab.devices[0], lun=0, serial='5a1e0d3f0000')
    with pytest.raises(lio.SpecError) as info:
        lio.spec_from_dict(data)
    assert sorted(p.split(': ')[1].split(' ')[0] for p in info.value.problems) == ['device', 'lun', 'serial']


def test_serial_of_253_characters_is_the_longest(lab):
    data = lab.spec_dict()
    data['volumes'][0]['serial'] = 'a' * 253
    assert lio.spec_from_dict(data).volumes[0].serial == 'a' * 253
    data['volumes'][0]['serial'] = 'a' * 254
    with pytest.raises(lio.SpecError):
        lio.spec_from_dict(data)


@pytest.mark.parametrize('changes', [{'target_ports': []}, {'target_ports': None}, {'generate_node_acls': 'yes'},
                                     {'volumes': 'vol0'}])
def test_spec_shapes(lab, changes):
    with pytest.raises(lio.SpecError):
        lab.spec(**changes)


# ------------------------------------------------------------------------------ plan and apply
def test_plan_in_order_then_apply_then_nothing_left(lab):
    before = lab.state()
    actions = lio.plan(before, lab.spec())
    kinds = []
    for action in actions:
        parts = action.path.split('/')
        if parts[0] == 'core':
            kinds.append('backstore')
        elif action.path == lio.RDMA_CM_PORT:
            kinds.append('attribute')
        elif parts[-1] == 'enable':
            kinds.append('enable')
        elif 'acls' in parts:
            kinds.append('acl')
        elif 'lun' in parts:
            kinds.append('lun')
        else:
            kinds.append('port')
    order = ['backstore', 'port', 'lun', 'acl', 'attribute', 'enable']
    assert [order.index(k) for k in kinds] == sorted(order.index(k) for k in kinds)
    assert set(kinds) == set(order)
    assert ops(actions)[:6] == [('mkdir', 'core/iblock_0'), ('mkdir', 'core/iblock_0/vol0'),
                                ('write', 'core/iblock_0/vol0/control'), ('write', 'core/iblock_0/vol0/udev_path'),
                                ('write', 'core/iblock_0/vol0/wwn/vpd_unit_serial'),
                                ('write', 'core/iblock_0/vol0/enable')]
    assert actions[2].value == 'udev_path=' + lab.devices[0]
    assert actions[-1] == lio.Action('write', TPG + '/enable', '1', 'enable the TPG of target port ' + PORT)
    simulated = lio.simulate(before, actions)
    assert lab.apply(actions) == actions
    after = lab.state()
    assert lio.plan(after, lab.spec()) == []
    assert lio.describe(simulated) == lio.describe(after)
    assert lio.monitor(after, lab.spec()) == ('running', [])


def test_read_state_picture(lab):
    lab.up()
    state = lab.state()
    assert state['backstores'] == {
        'iblock_0/vol0': {'hba': 'iblock_0', 'name': 'vol0', 'device': lab.devices[0], 'serial': '5a1e0d3f0000',
                          'enabled': True},
        'iblock_1/vol1': {'hba': 'iblock_1', 'name': 'vol1', 'device': lab.devices[1], 'serial': '5a1e0d3f0001',
                          'enabled': True}}
    assert state['hbas'] == ['iblock_0', 'iblock_1'] and state['rdma_cm_port'] == 5555
    tpg = state['ports'][PORT]['tpgs']['tpgt_1']
    assert tpg['enabled'] is True and tpg['attrib']['srp_sq_size'] == '4096'
    assert tpg['luns'] == {'lun_0': {'links': {'vol0': 'iblock_0/vol0'}}, 'lun_1': {'links': {'vol1': 'iblock_1/vol1'}}}
    assert tpg['acls'] == {
        INI_1: {'mapped_luns': {'lun_0': {'links': {'vol0': 'lun_0'}}}},
        INI_2: {'mapped_luns': {'lun_0': {'links': {'vol0': 'lun_0'}}, 'lun_1': {'links': {'vol1': 'lun_1'}}}}}
    assert state['other_exports'] == {}
    assert lio.simulate(state, []) == state


def test_describe_is_sorted_one_object_a_line(lab):
    lab.up()
    text = lio.describe(lab.state())
    lines = text.splitlines()
    assert lines == sorted(lines) and text.endswith('\n')
    assert lines[0] == 'core/iblock_0/vol0 device=%s serial=5a1e0d3f0000 enable=1' % lab.devices[0]
    assert 'srpt rdma_cm_port=5555' in lines and TPG + ' enable=1' in lines
    assert TPG + '/lun/lun_1 -> core/iblock_1/vol1' in lines
    assert TPG + '/acls/%s/lun_1 -> lun_1' % INI_2 in lines
    assert lio.describe(lio.read_state(str(lab.tmp / 'nothing'))) == ''


def test_an_existing_backstore_is_found_in_any_iblock_n(lab):
    # resource-agents #1256: the serial went to the wrong iblock_N; here vol0 lives in iblock_5
    lab.fs.mkdir(lab.path('core/iblock_0'))
    lab.fs.mkdir(lab.path('core/iblock_5'))
    lab.fs.mkdir(lab.path('core/iblock_5/vol0'))
    lab.fs.write(lab.path('core/iblock_5/vol0/control'), 'udev_path=' + lab.devices[0])
    lab.fs.write(lab.path('core/iblock_5/vol0/enable'), '1')
    actions = lio.plan(lab.state(), lab.spec())
    assert ('write', 'core/iblock_5/vol0/wwn/vpd_unit_serial') in ops(actions)
    assert ('mkdir', 'core/iblock_0') not in ops(actions)      # empty: reused for vol1
    assert ('mkdir', 'core/iblock_0/vol1') in ops(actions)
    assert [a for a in actions if a.op == 'symlink'][0].value == 'core/iblock_5/vol0'
    lab.apply(actions)
    assert lab.fs.read('core/iblock_5/vol0/wwn/vpd_unit_serial') == 'T10 VPD Unit Serial Number: 5a1e0d3f0000'
    assert lio.plan(lab.state(), lab.spec()) == []


def test_new_backstores_take_the_lowest_free_hba_numbers(lab):
    lab.fs.mkdir(lab.path('core/iblock_1'))
    lab.fs.mkdir(lab.path('core/iblock_1/other'))
    lab.fs.mkdir(lab.path('core/fileio_0'))
    lab.fs.mkdir(lab.path('core/fileio_0/file'))
    state = lab.state()
    actions = lio.plan(state, lab.spec())
    made = [a.path for a in actions if a.op == 'mkdir' and a.path.startswith('core/')]
    assert made == ['core/iblock_0', 'core/iblock_0/vol0', 'core/iblock_2', 'core/iblock_2/vol1']


def test_a_partial_start_is_completed(lab):
    # resource-agents #637: a start that stopped half-way must not make the next one fail
    actions = lio.plan(lab.state(), lab.spec())
    lab.apply(actions[:4])      # backstore made, device given, neither serial nor enable
    state = lab.state()
    assert state['backstores']['iblock_0/vol0']['enabled'] is False
    assert lio.monitor(state, lab.spec())[0] == 'failed'
    rest = lio.plan(state, lab.spec())
    assert ops(rest)[:3] == [('write', 'core/iblock_0/vol0/control'), ('write', 'core/iblock_0/vol0/wwn/vpd_unit_serial'),
                             ('write', 'core/iblock_0/vol0/enable')]
    lab.apply(rest)
    assert lio.plan(lab.state(), lab.spec()) == []


def test_a_serial_is_changed_while_nothing_exports_the_backstore(lab):
    lab.up(lab.spec(target_ports=[PORT], volumes=[dict(lab.spec_dict()['volumes'][0], serial='old')]))
    lab.apply(lio.plan_stop(lab.state(), lab.spec()))
    lab.fs.mkdir(lab.path('core/iblock_0'))
    lab.fs.mkdir(lab.path('core/iblock_0/vol0'))
    lab.fs.write(lab.path('core/iblock_0/vol0/control'), 'udev_path=' + lab.devices[0])
    lab.fs.write(lab.path('core/iblock_0/vol0/wwn/vpd_unit_serial'), 'old')
    lab.fs.write(lab.path('core/iblock_0/vol0/enable'), '1')
    actions = lio.plan(lab.state(), lab.spec())
    assert lio.Action('write', 'core/iblock_0/vol0/wwn/vpd_unit_serial', '5a1e0d3f0000') in [
        lio.Action(a.op, a.path, a.value) for a in actions]
    lab.apply(actions)
    assert lio.monitor(lab.state(), lab.spec()) == ('running', [])


def test_the_rdma_cm_port_is_changed_or_left(lab):
    lab.up()
    actions = lio.plan(lab.state(), lab.spec(rdma_cm_port=5556))
    assert ops(actions) == [('write', lio.RDMA_CM_PORT)] and actions[0].value == '5556'
    assert 'was 5555' in actions[0].sentence
    assert lio.plan(lab.state(), lab.spec(rdma_cm_port=None)) == []


def test_a_kernel_without_rdma_cm_port_is_no_error(tmp_path):
    lab = Lab(tmp_path, fabric=False, rdma_cm_port=False)
    actions = lio.plan(lab.state(), lab.spec())
    assert ('write', lio.RDMA_CM_PORT) in ops(actions)
    done = lab.apply(actions)
    assert ('write', lio.RDMA_CM_PORT) not in ops(done) and len(done) == len(actions) - 1
    assert lab.state()['rdma_cm_port'] is None
    assert lio.plan(lab.state(), lab.spec()) == []
    assert lio.monitor(lab.state(), lab.spec()) == ('running', [])


def test_generate_node_acls_is_written_only_where_the_tpg_has_it(lab):
    lab.up()
    with pytest.raises(lio.RefusedError) as info:
        lio.plan(lab.state(), lab.spec(generate_node_acls=True))
    assert 'no attrib/generate_node_acls' in info.value.msg and 'set generate_node_acls to false' in info.value.msg
    # a fabric with demo mode (the attribute exists)
    with open(lab.path(TPG + '/attrib/generate_node_acls'), 'w') as handle:
        handle.write('0\n')
    assert lio.plan(lab.state(), lab.spec()) == []
    actions = lio.plan(lab.state(), lab.spec(generate_node_acls=True))
    assert [(a.path, a.value) for a in actions] == [(TPG + '/attrib/generate_node_acls', '1')]


def test_a_new_tpg_with_generate_node_acls_fails_with_advice(lab):
    actions = lio.plan(lab.state(), lab.spec(generate_node_acls=True))
    with pytest.raises(lio.ApplyError) as info:
        lab.apply(actions)
    assert info.value.action.path == TPG + '/attrib/generate_node_acls'
    assert 'No such file or directory' in info.value.msg and 'ib_srpt has no demo mode' in info.value.msg


# ------------------------------------------------------------------------------ foreign objects and purge
def foreign(lab):
    """Objects the usual spec does not name: a backstore, a target port, an ACL, a LUN, a mapped LUN."""
    lab.up()
    lab.up(lio.spec_from_dict({'volumes': [{'name': 'other', 'device': lab.devices[2], 'serial': 'beef', 'lun': 0,
                                            'initiators': [INI_1]}], 'target_ports': [PORT_B]}))
    for rel in ('lun/lun_7', 'acls/' + '0x' + 'ab' * 16, 'acls/%s/lun_1' % INI_1):
        lab.fs.mkdir(lab.path(TPG + '/' + rel))
    lab.fs.symlink(lab.path(TPG + '/lun/lun_1'), lab.path(TPG + '/acls/%s/lun_1/x' % INI_1))
    lab.fs.mkdir(lab.path('core/fileio_0'))
    lab.fs.mkdir(lab.path('core/fileio_0/scratch'))


def test_without_purge_what_the_spec_does_not_name_stays(lab):
    foreign(lab)
    state = lab.state()
    assert lio.plan(state, lab.spec()) == []
    assert lio.monitor(state, lab.spec()) == ('running', [])
    assert set(state['backstores']) == {'iblock_0/vol0', 'iblock_1/vol1', 'iblock_2/other', 'fileio_0/scratch'}
    assert set(state['ports']) == {PORT, PORT_B}


def test_purge_removes_it_in_safe_order(lab):
    foreign(lab)
    state = lab.state()
    actions = lio.plan(state, lab.spec(), purge=True)
    b_tpg = 'srpt/%s/tpgt_1' % PORT_B
    assert ops(actions) == [
        ('write', b_tpg + '/enable'),
        ('unlink', TPG + '/acls/%s/lun_1/x' % INI_1),
        ('unlink', b_tpg + '/acls/%s/lun_0/other' % INI_1),
        ('rmdir', TPG + '/acls/%s/lun_1' % INI_1),
        ('rmdir', b_tpg + '/acls/%s/lun_0' % INI_1),
        ('rmdir', TPG + '/acls/0x' + 'ab' * 16),
        ('rmdir', b_tpg + '/acls/' + INI_1),
        ('unlink', b_tpg + '/lun/lun_0/other'),
        ('rmdir', TPG + '/lun/lun_7'),
        ('rmdir', b_tpg + '/lun/lun_0'),
        ('rmdir', b_tpg),
        ('rmdir', 'srpt/' + PORT_B),
        ('rmdir', 'core/fileio_0/scratch'),
        ('rmdir', 'core/iblock_2/other'),
        ('rmdir', 'core/fileio_0'),
        ('rmdir', 'core/iblock_2'),
    ]
    assert actions[0].value == '0'
    lab.apply(actions)
    after = lab.state()
    assert set(after['backstores']) == {'iblock_0/vol0', 'iblock_1/vol1'} and set(after['ports']) == {PORT}
    assert lio.plan(after, lab.spec(), purge=True) == []
    assert lio.monitor(after, lab.spec()) == ('running', [])


def test_purging_another_tpg_of_a_spec_port_enables_the_spec_tpg_again(lab):
    # ib_srpt has one enabled flag per RDMA port: dropping the other TPG clears it for ours
    lab.up()
    other = 'srpt/%s/%s' % (PORT, PORT)      # blktests' name for a TPG
    lab.fs.mkdir(lab.path(other))
    lab.fs.write(lab.path(other + '/enable'), '1')
    actions = lio.plan(lab.state(), lab.spec(), purge=True)
    assert ops(actions) == [('write', other + '/enable'), ('rmdir', other), ('write', TPG + '/enable'),
                            ('write', TPG + '/enable')]
    assert [a.value for a in actions] == ['0', None, '0', '1']
    lab.apply(actions)
    assert lio.plan(lab.state(), lab.spec(), purge=True) == []


def test_purge_frees_a_device_held_by_a_foreign_backstore(lab):
    lab.up(lio.spec_from_dict({'volumes': [{'name': 'old', 'device': lab.devices[0], 'serial': 'beef', 'lun': 0}],
                               'target_ports': [PORT_B]}))
    with pytest.raises(lio.RefusedError) as info:
        lio.plan(lab.state(), lab.spec())
    assert 'volume vol0: device %s is already the device of backstore core/iblock_0/old' % lab.devices[0] in info.value.msg
    actions = lio.plan(lab.state(), lab.spec(), purge=True)
    assert ops(actions).index(('rmdir', 'core/iblock_0/old')) < ops(actions).index(('mkdir', 'core/iblock_0/vol0'))
    lab.apply(actions)
    assert lio.monitor(lab.state(), lab.spec()) == ('running', [])


def make_iscsi_export(lab, key):
    """An iSCSI LUN (another fabric) exporting backstore key, made as the kernel shows it."""
    lun = lab.path('iscsi/iqn.2003-01.org.linux-iscsi.x/tpgt_1/lun/lun_0')
    os.makedirs(lun)
    os.symlink('../../../../../core/' + key, os.path.join(lun, 'abc'))


def test_purge_keeps_a_backstore_another_fabric_exports(lab):
    lab.up()
    lab.fs.mkdir(lab.path('core/iblock_2'))
    lab.fs.mkdir(lab.path('core/iblock_2/iscsi_disk'))
    make_iscsi_export(lab, 'iblock_2/iscsi_disk')
    state = lab.state()
    assert state['other_exports'] == {'iblock_2/iscsi_disk': ['iscsi/iqn.2003-01.org.linux-iscsi.x/tpgt_1/lun/lun_0']}
    assert lio.plan(state, lab.spec(), purge=True) == []
    assert 'iscsi/iqn.2003-01.org.linux-iscsi.x/tpgt_1/lun/lun_0 -> core/iblock_2/iscsi_disk' in lio.describe(state)
    assert lio.simulate(state, []) == state


# ------------------------------------------------------------------------------ refusals
def test_refuses_an_enabled_backstore_on_another_device(lab):
    lab.up()
    data = lab.spec_dict()
    data['volumes'][0]['device'] = lab.devices[2]
    with pytest.raises(lio.RefusedError) as info:
        lio.plan(lab.state(), lio.spec_from_dict(data), purge=True)
    msg = info.value.msg
    assert msg.startswith('refusing to change the LIO export: backstore core/iblock_0/vol0: its device is %s, not %s'
                          % (lab.devices[0], lab.devices[2]))
    assert 'stop the export' in msg


def test_completes_a_disabled_backstore_on_another_device(lab):
    lab.fs.mkdir(lab.path('core/iblock_0'))
    lab.fs.mkdir(lab.path('core/iblock_0/vol0'))
    lab.fs.write(lab.path('core/iblock_0/vol0/control'), 'udev_path=' + lab.devices[2])
    actions = lio.plan(lab.state(), lab.spec())
    assert actions[0] == lio.Action('write', 'core/iblock_0/vol0/control', 'udev_path=' + lab.devices[0],
                                    'give backstore vol0 the device ' + lab.devices[0])
    lab.apply(actions)
    assert lio.monitor(lab.state(), lab.spec()) == ('running', [])


def test_refuses_a_serial_change_while_exported(lab):
    lab.up()
    data = lab.spec_dict()
    data['volumes'][1]['serial'] = 'cafe'
    with pytest.raises(lio.RefusedError) as info:
        lio.plan(lab.state(), lio.spec_from_dict(data))
    assert ('backstore core/iblock_1/vol1: its serial is 5a1e0d3f0001, not cafe as volume vol1 says, and LIO refuses '
            'a serial change while LUNs export it (%s/lun/lun_1)' % TPG) in info.value.msg


def test_refuses_a_lun_number_that_exports_something_else(lab):
    lab.up()
    data = lab.spec_dict()
    data['volumes'][0]['lun'], data['volumes'][1]['lun'] = 1, 0
    with pytest.raises(lio.RefusedError) as info:
        lio.plan(lab.state(), lio.spec_from_dict(data), purge=True)
    assert '%s/lun/lun_1 exports iblock_1/vol1, not volume vol0' % TPG in info.value.msg
    assert len(info.value.problems) >= 2


def test_refuses_a_mapped_lun_that_maps_another_lun(lab):
    lab.up()
    os.unlink(lab.path(TPG + '/acls/%s/lun_1/vol1' % INI_2))
    lab.fs.symlink(lab.path(TPG + '/lun/lun_0'), lab.path(TPG + '/acls/%s/lun_1/vol1' % INI_2))
    with pytest.raises(lio.RefusedError) as info:
        lio.plan(lab.state(), lab.spec())
    assert info.value.problems == ['%s/acls/%s/lun_1 maps lun_0, not lun_1 (volume vol1): remove that mapped LUN '
                                   'by hand' % (TPG, INI_2)]


def test_refuses_two_backstores_of_one_name(lab):
    for hba in ('iblock_0', 'iblock_3'):
        lab.fs.mkdir(lab.path('core/' + hba))
        lab.fs.mkdir(lab.path('core/%s/vol0' % hba))
    with pytest.raises(lio.RefusedError) as info:
        lio.plan(lab.state(), lab.spec())
    assert 'volume vol0: there are 2 backstores of that name (core/iblock_0/vol0, core/iblock_3/vol0)' in info.value.msg


# ------------------------------------------------------------------------------ monitor
def test_monitor_statuses(lab):
    spec = lab.spec()
    assert lio.monitor(lab.state(), spec) == ('stopped', [])
    assert lio.monitor(lio.read_state(str(lab.tmp / 'no-configfs')), spec) == ('stopped', [])
    lab.up()
    assert lio.monitor(lab.state(), spec) == ('running', [])
    lab.fs.write(lab.path(TPG + '/enable'), '0')
    os.unlink(lab.path(TPG + '/lun/lun_1/vol1'))
    os.unlink(lab.path(TPG + '/acls/%s/lun_0/vol0' % INI_1))
    status, problems = lio.monitor(lab.state(), spec)
    assert status == 'failed'
    assert problems == ['TPG %s is not enabled' % TPG,
                        '%s/acls/%s does not map lun_0 (volume vol0)' % (TPG, INI_1),
                        '%s/lun/lun_1 links to nothing, not to backstore vol1' % TPG]


def test_monitor_checks_backstores_against_the_spec(lab):
    lab.up()
    data = lab.spec_dict(rdma_cm_port=4000)
    data['volumes'][0]['serial'] = 'other'
    data['volumes'][1]['device'] = lab.devices[2]
    status, problems = lio.monitor(lab.state(), lio.spec_from_dict(data))
    assert status == 'failed'
    assert problems == ['backstore iblock_0/vol0 has serial 5a1e0d3f0000, not other',
                        'backstore iblock_1/vol1 has device %s, not %s' % (lab.devices[1], lab.devices[2]),
                        'RDMA/CM port is 5555, not 4000']


def test_monitor_a_half_gone_export_is_failed(lab):
    lab.up()
    lab.apply([a for a in lio.plan_stop(lab.state(), lab.spec()) if not a.path.startswith('core/')])
    status, problems = lio.monitor(lab.state(), lab.spec())
    assert status == 'failed' and problems == ['TPG %s is missing' % TPG]


# ------------------------------------------------------------------------------ stop
def test_stop_order_and_a_second_stop_is_empty(lab):
    lab.up()
    foreign_acl = TPG + '/acls/0x' + 'cd' * 16
    lab.fs.mkdir(lab.path(foreign_acl))
    actions = lio.plan_stop(lab.state(), lab.spec())
    kinds = []
    for a in actions:
        if a.op == 'write':
            kinds.append('disable')
        elif a.op == 'unlink':
            kinds.append('unmap' if '/acls/' in a.path else 'unexport')
        elif '/acls/' in a.path:
            kinds.append('mapped_lun' if os.path.basename(a.path).startswith('lun_') else 'acl')
        elif '/lun/' in a.path:
            kinds.append('lun')
        elif a.path.startswith('core/'):
            kinds.append('hba' if a.path.count('/') == 1 else 'backstore')
        else:
            kinds.append('tpg' if a.path.count('/') == 2 else 'port')
    order = ['disable', 'unmap', 'mapped_lun', 'acl', 'unexport', 'lun', 'tpg', 'port', 'backstore', 'hba']
    assert [order.index(k) for k in kinds] == sorted(order.index(k) for k in kinds) and set(kinds) == set(order)
    assert ('rmdir', foreign_acl) in ops(actions)
    assert actions[0] == lio.Action('write', TPG + '/enable', '0', 'disable target port ' + PORT)
    lab.apply(actions)
    state = lab.state()
    assert lab.fs.user_dirs() == ['srpt']
    assert lio.monitor(state, lab.spec()) == ('stopped', [])
    assert lio.plan_stop(state, lab.spec()) == []


def test_stop_leaves_other_backstores_and_ports_but_not_other_exports_of_its_own(lab):
    lab.up()
    lab.up(lio.spec_from_dict({'volumes': [{'name': 'other', 'device': lab.devices[2], 'serial': 'beef', 'lun': 0}],
                               'target_ports': [PORT_B]}))
    b_tpg = 'srpt/%s/tpgt_1' % PORT_B
    lab.fs.mkdir(lab.path(b_tpg + '/lun/lun_9'))
    lab.fs.symlink(lab.path('core/iblock_0/vol0'), lab.path(b_tpg + '/lun/lun_9/vol0'))
    actions = lio.plan_stop(lab.state(), lab.spec())
    assert ('unlink', b_tpg + '/lun/lun_9/vol0') in ops(actions) and ('rmdir', b_tpg + '/lun/lun_9') in ops(actions)
    assert not [a for a in actions if 'lun_0/other' in a.path or a.path == b_tpg]
    lab.apply(actions)
    state = lab.state()
    assert set(state['backstores']) == {'iblock_2/other'} and set(state['ports']) == {PORT_B}


def test_stop_refuses_when_another_fabric_exports_a_backstore(lab):
    lab.up()
    make_iscsi_export(lab, 'iblock_0/vol0')
    with pytest.raises(lio.RefusedError) as info:
        lio.plan_stop(lab.state(), lab.spec())
    assert 'backstore core/iblock_0/vol0 is also exported by iscsi/' in info.value.msg


# ------------------------------------------------------------------------------ errors of apply
def test_apply_names_the_path_and_the_errno_text(tmp_path):
    lab = Lab(tmp_path, fabric=False, srpt_loaded=False)
    actions = lio.plan(lab.state(), lab.spec())
    with pytest.raises(lio.ApplyError) as info:
        lab.apply(actions)
    assert info.value.errno == errno.EINVAL
    assert info.value.msg == ('mkdir %s failed: Invalid argument (while trying to create the srpt fabric directory). '
                              'Is ib_srpt loaded? modprobe ib_srpt' % lab.path('srpt'))
    assert info.value.fail_kwargs() == {'msg': info.value.msg, 'path': lab.path('srpt'), 'op': 'mkdir'}
    # the backstores before it were made
    assert lab.state()['backstores']['iblock_1/vol1']['enabled'] is True


def test_an_unknown_target_port_says_how_ports_are_named(tmp_path):
    lab = Lab(tmp_path, hca_ports=[PORT_B])
    with pytest.raises(lio.ApplyError) as info:
        lab.apply(lio.plan(lab.state(), lab.spec()))
    assert info.value.action.path == 'srpt/' + PORT and 'names ports 0x + the port GID' in info.value.msg


def test_a_missing_device_fails_the_enable(lab):
    data = lab.spec_dict()
    data['volumes'][0]['device'] = str(lab.tmp / 'gone')
    with pytest.raises(lio.ApplyError) as info:
        lab.apply(lio.plan(lab.state(), lio.spec_from_dict(data)))
    assert info.value.action.path == 'core/iblock_0/vol0/enable' and 'is DRBD Primary' in info.value.msg


def test_the_real_filesystem_writes_one_piece_without_creating(tmp_path):
    attribute = tmp_path / 'enable'
    attribute.write_text('')
    lio.Configfs().write(str(attribute), '1')
    assert attribute.read_text() == '1'
    with pytest.raises(OSError) as info:
        lio.Configfs().write(str(tmp_path / 'absent'), '1')
    assert info.value.errno == errno.ENOENT and not (tmp_path / 'absent').exists()


# ------------------------------------------------------------------------------ reading oddities
def test_device_from_info_and_foreign_links(lab):
    lab.up()
    # a backstore made without the udev_path attribute (blktests writes only control)
    os.unlink(lab.path('core/iblock_0/vol0/udev_path'))
    os.symlink('/elsewhere', lab.path(TPG + '/acls/%s/lun_0/stray' % INI_1))
    state = lab.state()
    assert state['backstores']['iblock_0/vol0']['device'] == lab.devices[0]
    assert state['ports'][PORT]['tpgs']['tpgt_1']['acls'][INI_1]['mapped_luns']['lun_0']['links'] == {
        'stray': '?/elsewhere', 'vol0': 'lun_0'}
    assert lio.simulate(state, []) == state


# ------------------------------------------------------------------------------ environment and devices
def test_check_environment(tmp_path):
    config = tmp_path / 'config'
    config.mkdir()
    modules = tmp_path / 'module'
    modules.mkdir()
    root = str(config / 'target')
    with pytest.raises(lio.SetupError) as info:
        lio.check_environment(root, str(modules))
    assert info.value.msg == ('configfs is not mounted on %s: modprobe configfs; mount -t configfs none %s'
                              % (config, config))
    (config / 'other').mkdir()
    with pytest.raises(lio.SetupError) as info:
        lio.check_environment(root, str(modules))
    assert 'target_core_mod is not loaded (modprobe target_core_mod)' in info.value.msg
    (config / 'target').mkdir()
    with pytest.raises(lio.SetupError) as info:
        lio.check_environment(root, str(modules))
    assert info.value.msg.startswith('%s/core is missing' % root)
    (config / 'target' / 'core').mkdir()
    with pytest.raises(lio.SetupError) as info:
        lio.check_environment(root, str(modules))
    assert info.value.msg.startswith('ib_srpt is not loaded') and info.value.msg.endswith('modprobe ib_srpt')
    (modules / 'ib_srpt').mkdir()
    lio.check_environment(root, str(modules))
    (modules / 'ib_srpt').rmdir()
    (config / 'target' / 'srpt').mkdir()
    lio.check_environment(root, str(modules))


def test_device_in_use(tmp_path, monkeypatch):
    free = tmp_path / 'free'
    free.write_text('')
    assert lio.device_in_use(str(free)) is False
    assert lio.device_in_use(str(tmp_path / 'absent')) is False
    real_open = os.open

    def busy(path, flags, *args):
        if path == str(free):
            assert flags & os.O_EXCL
            raise OSError(errno.EBUSY, os.strerror(errno.EBUSY))
        return real_open(path, flags, *args)
    monkeypatch.setattr(os, 'open', busy)
    assert lio.device_in_use(str(free)) is True

    def secondary(path, flags, *args):
        # what /dev/drbd0 answers on the DRBD Secondary (lab, kernel 6.1): nobody can hold it for LIO
        raise OSError(errno.EMEDIUMTYPE, os.strerror(errno.EMEDIUMTYPE))
    monkeypatch.setattr(os, 'open', secondary)
    assert lio.device_in_use(str(free)) is False

    def denied(path, flags, *args):
        raise OSError(errno.EACCES, os.strerror(errno.EACCES))
    monkeypatch.setattr(os, 'open', denied)
    with pytest.raises(lio.LioError) as info:
        lio.device_in_use(str(free))
    assert info.value.msg == 'cannot tell whether %s is in use: Permission denied' % free


# ------------------------------------------------------------------------------ trees captured in the lab
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'fixtures', 'lio')
LAB_PORT = '0xfe80000000000000505400fffe770111'
LAB_INI = '0xfe80000000000000505400fffe770121'
LAB_SERIAL = '2cc1fdd3-57b1-41c7-9aa5-77e7eec5458b'
LAB_TPG = 'srpt/%s/tpgt_1' % LAB_PORT
LAB_SRPT_ATTRIB = {'srp_max_rdma_size': '65536', 'srp_max_rsp_size': '256', 'srp_sq_size': '4096', 'use_srq': '0'}


def captured(name):
    """read_state of a tree tests/fixtures/lio/capture.py captured on storage-a (kernel 6.1)."""
    with open(os.path.join(FIXTURES, name)) as handle:
        return lio.read_tree(lio.FlatTree(captured_entries(json.load(handle))))


def lab_spec(**changes):
    """The export targetcli made in tree-targetcli-vol0.json, in targetcli's spelling."""
    data = {'volumes': [{'name': 'vol0', 'device': '/dev/drbd0', 'serial': LAB_SERIAL, 'lun': 0,
                         'initiators': ['ib.fe80000000000000505400fffe770121']}],
            'target_ports': ['ib.fe80000000000000505400fffe770111'], 'rdma_cm_port': 5555}
    data.update(changes)
    return lio.spec_from_dict(data)


def test_captured_empty_tree():
    state = captured('tree-empty.json')
    assert state == {'configfs': True, 'core': True, 'hbas': [], 'backstores': {}, 'fabric': False,
                     'rdma_cm_port': None, 'ports': {}, 'other_exports': {}}
    assert lio.monitor(state, lab_spec()) == ('stopped', [])
    actions = lio.plan(state, lab_spec())
    assert ops(actions)[:2] == [('mkdir', 'core/iblock_0'), ('mkdir', 'core/iblock_0/vol0')]
    assert ops(actions).index(('mkdir', 'srpt')) < ops(actions).index(('mkdir', 'srpt/' + LAB_PORT))
    assert [a for a in actions if a.path == lio.RDMA_CM_PORT][0].optional is True
    assert lio.plan_stop(state, lab_spec()) == []


def test_captured_targetcli_export_reads_as_the_kernel_showed_it():
    state = captured('tree-targetcli-vol0.json')
    assert state == {
        'configfs': True, 'core': True, 'hbas': ['iblock_0'],
        'backstores': {'iblock_0/vol0': {'hba': 'iblock_0', 'name': 'vol0', 'device': '/dev/drbd0',
                                         'serial': LAB_SERIAL, 'enabled': True}},
        'fabric': True, 'rdma_cm_port': 5555,
        'ports': {LAB_PORT: {'tpgs': {
            'tpgt_1': {'enabled': True, 'attrib': LAB_SRPT_ATTRIB,
                       'luns': {'lun_0': {'links': {'999a79a6a7': 'iblock_0/vol0'}}},
                       'acls': {LAB_INI: {'mapped_luns': {'lun_0': {'links': {'f12a3f0956': 'lun_0'}}}}}},
            # made by hand as blktests names it: targetcli does not see it
            LAB_PORT: {'enabled': False, 'attrib': LAB_SRPT_ATTRIB, 'luns': {}, 'acls': {}}}}},
        'other_exports': {}}
    assert 'generate_node_acls' not in state['ports'][LAB_PORT]['tpgs']['tpgt_1']['attrib']
    assert lio.simulate(state, []) == state


def test_plan_on_the_captured_export_with_its_spec_is_empty():
    state = captured('tree-targetcli-vol0.json')
    assert lio.plan(state, lab_spec()) == []
    assert lio.monitor(state, lab_spec()) == ('running', [])
    # purge: the hand-made TPG goes, and the port's flag is cycled through tpgt_1 (srpt_drop_tpg clears it)
    purge = lio.plan(state, lab_spec(), purge=True)
    assert [(a.op, a.path, a.value) for a in purge] == [
        ('rmdir', 'srpt/%s/%s' % (LAB_PORT, LAB_PORT), None), ('write', LAB_TPG + '/enable', '0'),
        ('write', LAB_TPG + '/enable', '1')]
    with pytest.raises(lio.RefusedError) as info:
        lio.plan(state, lab_spec(volumes=[{'name': 'vol0', 'device': '/dev/drbd0', 'serial': '5a1e0d3f0000',
                                           'lun': 0}]))
    assert 'LIO refuses a serial change while LUNs export it (%s/lun/lun_0)' % LAB_TPG in info.value.msg


def test_stop_of_the_captured_export():
    state = captured('tree-targetcli-vol0.json')
    actions = lio.plan_stop(state, lab_spec())
    assert [(a.op, a.path) for a in actions] == [
        ('write', LAB_TPG + '/enable'),
        ('unlink', LAB_TPG + '/acls/%s/lun_0/f12a3f0956' % LAB_INI),
        ('rmdir', LAB_TPG + '/acls/%s/lun_0' % LAB_INI),
        ('rmdir', LAB_TPG + '/acls/' + LAB_INI),
        ('unlink', LAB_TPG + '/lun/lun_0/999a79a6a7'),
        ('rmdir', LAB_TPG + '/lun/lun_0'),
        ('rmdir', 'srpt/%s/%s' % (LAB_PORT, LAB_PORT)),
        ('rmdir', LAB_TPG),
        ('rmdir', 'srpt/' + LAB_PORT),
        ('rmdir', 'core/iblock_0/vol0'),
        ('rmdir', 'core/iblock_0'),
    ]
    after = lio.simulate(state, actions)
    assert lio.describe(after) == 'srpt rdma_cm_port=5555\n'
    assert lio.monitor(after, lab_spec()) == ('stopped', [])
