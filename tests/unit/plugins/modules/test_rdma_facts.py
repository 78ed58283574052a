# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""rdma_facts on the hand-built sysfs tree tests/fixtures/sysfs (see its README), on broken
copies of it, and on this machine's /sys when it has RDMA devices."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from ansible_collections.rdma.ha_storage.plugins.modules import rdma_facts
from module_harness import module_args

SYSFS = os.path.normpath(os.path.join(os.path.dirname(__file__), '..', '..', '..', 'fixtures', 'sysfs'))


def run(capsys, args):
    """Run the module like Ansible does; return (result, rc)."""
    with module_args(args):
        with pytest.raises(SystemExit) as exc:
            rdma_facts.main()
    return json.loads(capsys.readouterr().out), exc.value.code


@pytest.fixture
def facts(capsys):
    result, rc = run(capsys, {'sysfs_root': SYSFS})
    assert rc == 0 and result['changed'] is False
    return result['ansible_facts']['rdma_facts']


def port(facts, name):
    return next(p for p in facts['ports'] if p['name'] == name)


def test_devices(facts):
    assert sorted(facts['devices']) == ['mlx4_0', 'rxe0']
    mlx = facts['devices']['mlx4_0']
    assert (mlx['node_guid'], mlx['sys_image_guid'], mlx['node_type'], mlx['fw_ver'], mlx['hca_type'], mlx['ports']) \
        == ('0x0002c903000e8acc', '0x0002c903000e8acf', 'CA', '2.42.5000', 'MT4099', [1, 2])
    rxe = facts['devices']['rxe0']
    assert (rxe['node_guid'], rxe['parent'], rxe['fw_ver'], rxe['hca_type']) == ('0x505400fffe123456', 'eth1', None, None)


def test_ports_in_order(facts):
    assert [p['name'] for p in facts['ports']] == ['mlx4_0/1', 'mlx4_0/2', 'rxe0/1']


def test_active_infiniband_port(facts):
    p = port(facts, 'mlx4_0/1')
    assert p['guid'] == '0x0002c903000e8acd'
    assert p['gid'] == 'fe80:0000:0000:0000:0002:c903:000e:8acd'
    assert (p['state'], p['state_num'], p['phys_state'], p['phys_state_num']) == ('ACTIVE', 4, 'LinkUp', 5)
    assert (p['rate'], p['rate_text'], p['link_layer']) == (56.0, '56 Gb/sec (4X FDR)', 'infiniband')
    assert (p['lid'], p['sm_lid'], p['sm_sl']) == (3, 1, 0)
    assert p['pkeys'] == ['0xffff', '0x8001']
    assert p['netdevs'] == ['ib0']                     # the parent only, not the P_Key child
    assert [g['index'] for g in p['gids']] == [0]      # zero GIDs left out


def test_down_infiniband_port(facts):
    p = port(facts, 'mlx4_0/2')
    assert (p['state'], p['phys_state'], p['rate'], p['lid'], p['guid']) == ('DOWN', 'Polling', 10.0, 0,
                                                                             '0x0002c903000e8ace')
    assert p['netdevs'] == ['ib1']


def test_soft_roce_port(facts):
    p = port(facts, 'rxe0/1')
    assert (p['guid'], p['link_layer'], p['state'], p['rate'], p['lid']) == \
        ('0x505400fffe123456', 'ethernet', 'ACTIVE', 10.0, 0)
    assert [(g['index'], g['type'], g['netdev']) for g in p['gids']] == [
        (0, 'IB/RoCE v1', 'eth1'), (1, 'RoCE v2', 'eth1'), (2, 'IB/RoCE v1', 'eth1'), (3, 'RoCE v2', 'eth1')]
    assert p['gids'][2]['gid'] == '0000:0000:0000:0000:0000:ffff:0a4d:0001'
    assert p['netdevs'] == ['eth1']


def test_ipoib_interfaces(facts):
    assert sorted(facts['ipoib']) == ['ib0', 'ib0.8001', 'ib1']          # eth1 and lo are not IPoIB
    child = facts['ipoib']['ib0.8001']
    assert (child['parent'], child['pkey'], child['pkey_hex'], child['mode'], child['mtu'], child['device'],
            child['port'], child['guid']) == ('ib0', 0x8001, '0x8001', 'connected', 65520, 'mlx4_0', 1,
                                              '0x0002c903000e8acd')
    parent = facts['ipoib']['ib0']
    assert (parent['parent'], parent['pkey'], parent['mode'], parent['mtu']) == (None, 0xffff, 'datagram', 2044)
    assert (facts['ipoib']['ib1']['port'], facts['ipoib']['ib1']['operstate'], facts['ipoib']['ib1']['carrier']) == \
        (2, 'down', None)


def test_check_mode_gives_the_same_facts(capsys, facts):
    result, rc = run(capsys, {'sysfs_root': SYSFS, '_ansible_check_mode': True})
    assert rc == 0 and result['ansible_facts']['rdma_facts'] == facts


def test_missing_root_fails(capsys, tmp_path):
    result, rc = run(capsys, {'sysfs_root': str(tmp_path / 'nowhere')})
    assert rc == 1 and result['failed'] is True
    assert result['msg'] == 'sysfs_root %s is not a directory' % (tmp_path / 'nowhere')


def test_host_without_rdma(capsys, tmp_path):
    (tmp_path / 'class' / 'net' / 'eth0').mkdir(parents=True)
    (tmp_path / 'class' / 'net' / 'eth0' / 'type').write_text('1\n')
    result, rc = run(capsys, {'sysfs_root': str(tmp_path)})
    assert rc == 0
    assert result['ansible_facts']['rdma_facts'] == {'sysfs_root': str(tmp_path), 'devices': {}, 'ports': [],
                                                     'ipoib': {}}


def test_garbage_values_do_not_break_the_module(capsys, tmp_path):
    root = tmp_path / 'sys'
    shutil.copytree(SYSFS, str(root))
    base = root / 'class' / 'infiniband' / 'mlx4_0' / 'ports' / '1'
    (base / 'state').write_text('ACTIVE\n')
    (base / 'rate').write_text('unknown\n')
    (base / 'lid').write_text('zz\n')
    (base / 'gids' / '0').write_text('not a gid\n')
    (base / 'pkeys' / '1').write_bytes(b'\xff\xfe')
    (root / 'class' / 'net' / 'ib0' / 'address').write_text('80:00\n')
    (root / 'class' / 'infiniband' / 'mlx4_0' / 'ports' / 'notaport').mkdir()
    result, rc = run(capsys, {'sysfs_root': str(root)})
    assert rc == 0
    facts = result['ansible_facts']['rdma_facts']
    p = port(facts, 'mlx4_0/1')
    assert (p['state'], p['state_num'], p['rate'], p['lid']) == ('ACTIVE', None, None, None)
    assert (p['guid'], p['gid']) == (None, None)
    assert p['pkeys'] == ['0xffff']
    assert facts['ipoib']['ib0']['guid'] is None and facts['ipoib']['ib0']['port'] is None


@pytest.mark.skipif(not os.path.isdir('/sys/class/infiniband') or not os.listdir('/sys/class/infiniband'),
                    reason='this machine has no RDMA device (load rdma_rxe and add an rxe link to run it)')
def test_live_sysfs(capsys):
    result, rc = run(capsys, {})
    assert rc == 0
    facts = result['ansible_facts']['rdma_facts']
    assert facts['ports']
    for p in facts['ports']:
        assert p['state'] and p['link_layer'] in ('infiniband', 'ethernet')
        assert p['guid'] is None or p['guid'].startswith('0x')
