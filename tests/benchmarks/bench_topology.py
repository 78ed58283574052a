# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark of the fabric model validator (not a unit test: it prints figures, it asserts nothing).

    source tools/env.sh && python tests/benchmarks/bench_topology.py [--sizes 1000,10000] [--repeat 5]

For each size N it generates a valid model of N HCA ports (two ports per node, one node in ten a
storage node in an HA pair with two volumes, the others initiators with IPoIB addresses) and times:
  validate   topology.analyse()              (what fabric_errors / fabric_validate run)
  broken     analyse() of the same model with every tenth GUID duplicated (error path)
  slice      topology.host_slice() for one storage node (validation included)
Times are the best of --repeat runs (wall clock, time.perf_counter); "per port" shows linearity.
Goal (issue 3): 10,000 ports validated in <= 1 s on the project machine, linear growth.
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import sys
import time

sys.path.insert(0, os.environ.get('RDMA_COLLECTIONS') or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), '..', '..', '.cache', 'collections'))

from ansible_collections.rdma.ha_storage.plugins.module_utils import topology  # noqa: E402


def make_fabric(ports):
    """A valid model with ``ports`` HCA ports (rounded up to an even number of nodes' ports)."""
    node_count = max(4, (ports + 1) // 2)
    storage = max(2, (node_count // 10) // 2 * 2)
    nodes = []
    initiators = []
    for index in range(node_count):
        kind = 'storage' if index < storage else 'initiator'
        name = '%s-%05d' % ('stor' if kind == 'storage' else 'init', index)
        base = 0x0002c90300000000 + index * 4
        node = {
            'name': name, 'kind': kind,
            'ports': [
                {'device': 'mlx5_0', 'port': 1, 'guid': '0x%016x' % (base + 1), 'link_layer': 'infiniband',
                 'rate': 100, 'netdev': 'ib0'},
                {'device': 'mlx5_0', 'port': 2, 'guid': '%016x' % (base + 2), 'link_layer': 'infiniband',
                 'rate': 100, 'netdev': 'ib1'},
            ],
            'interfaces': [
                {'network': 'storage', 'address': '10.%d.%d.%d' % ((index + 1) >> 16, ((index + 1) >> 8) & 255, (index + 1) & 255),
                 'port': 'mlx5_0/1'},
            ],
        }
        if kind == 'storage':
            node['interfaces'].append({'network': 'replication',
                                       'address': '172.16.%d.%d' % (((index + 1) >> 8) & 255, (index + 1) & 255),
                                       'netdev': 'eth2'})
        else:
            initiators.append(name)
        nodes.append(node)
    pairs = []
    per_pair = max(1, len(initiators) // max(1, storage // 2))
    for p in range(storage // 2):
        members = [nodes[2 * p]['name'], nodes[2 * p + 1]['name']]
        allowed = initiators[p * per_pair:(p + 1) * per_pair] or initiators[:1]
        pairs.append({
            'name': 'pair%05d' % p, 'nodes': members, 'replication_network': 'replication',
            'client_network': 'storage',
            'volumes': [{'name': 'vol%d' % v, 'backing_device': '/dev/sd%s' % 'bc'[v], 'drbd_minor': v,
                         'drbd_port': 7789 + v, 'lun_serial': '%08x%04x' % (p, v), 'initiators': allowed}
                        for v in range(2)],
        })
    return {
        'partitions': [{'name': 'storage', 'pkey': '0x8001', 'ipoib_mode': 'connected', 'mtu': 65520}],
        'networks': [
            {'name': 'storage', 'cidr': '10.0.0.0/8', 'transport': 'ipoib', 'partition': 'storage',
             'purpose': 'client'},
            {'name': 'replication', 'cidr': '172.16.0.0/16', 'transport': 'ethernet', 'purpose': 'replication'},
        ],
        'nodes': nodes,
        'ha_pairs': pairs,
        'srp': {'reconnect_delay': 10, 'fast_io_fail_tmo': 15, 'dev_loss_tmo': 600, 'scsi_timeout': 30},
    }


def broken(fabric):
    """Same model with every tenth node's first GUID equal to the previous node's."""
    fabric = copy.deepcopy(fabric)
    nodes = fabric['nodes']
    for index in range(10, len(nodes), 10):
        nodes[index]['ports'][0]['guid'] = nodes[index - 1]['ports'][0]['guid']
    return fabric


def best(func, repeat):
    times = []
    result = None
    for dummy in range(repeat):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return min(times), result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sizes', default='1000,10000', help='comma-separated port counts (default 1000,10000)')
    parser.add_argument('--repeat', type=int, default=5, help='runs per measurement, best is kept (default 5)')
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(',') if s.strip()]
    print('python %s on %s, %d CPUs' % (platform.python_version(), platform.machine(), os.cpu_count() or 0))
    print('%8s %6s %8s %11s %13s %11s %11s %9s' % ('ports', 'nodes', 'volumes', 'validate s', 'us/port',
                                                   'broken s', 'slice s', 'errors'))
    rows = []
    for size in sizes:
        fabric = make_fabric(size)
        ports = sum(len(n['ports']) for n in fabric['nodes'])
        volumes = sum(len(p['volumes']) for p in fabric['ha_pairs'])
        t_valid, model = best(lambda: topology.analyse(fabric), args.repeat)
        if model.errors:
            print('generated model is invalid: %s' % model.errors[:5])
            return 1
        bad = broken(fabric)
        t_broken, bad_model = best(lambda: topology.analyse(bad), args.repeat)
        host = fabric['nodes'][0]['name']
        t_slice, dummy = best(lambda: topology.host_slice(fabric, host), args.repeat)
        rows.append((ports, t_valid))
        print('%8d %6d %8d %11.4f %13.2f %11.4f %11.4f %9d' % (
            ports, len(fabric['nodes']), volumes, t_valid, 1e6 * t_valid / ports, t_broken, t_slice,
            len(bad_model.errors)))
    if len(rows) > 1:
        (p0, t0), (p1, t1) = rows[0], rows[-1]
        print('growth %d -> %d ports: x%.1f size, x%.1f time' % (p0, p1, p1 / float(p0), t1 / t0))
    return 0


if __name__ == '__main__':
    sys.exit(main())
