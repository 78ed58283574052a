# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark of the fabric model: validation, and all the model work of a site run.

    source tools/env.sh && python tests/benchmarks/bench_fabric.py [--sizes 1000,10000] [--repeat 5]

Not a unit test: it prints figures and asserts nothing (the exit status is 1 only if a generated
model is invalid).  For each size N it generates a valid model of N HCA ports (two ports per
node: N/2 nodes, one node in ten a storage node in an HA pair with two volumes, the others
initiators with IPoIB addresses, each pair exporting to its share of the initiators) and times:

  validate   fabric.model.analyse()                    what fabric_errors / fabric_validate run
  broken     analyse() with every tenth GUID duplicated (the error path)
  1 slice    fabric.slices.host_slice() of one storage node, analysis included: what ONE call of
             the filter fabric_host_slice costs
  model      the model work of a site run, as playbooks/site.yml does it now: one analysis, the
             summary and every host's slice (fabric.slices.host_slices), what fabric_validate computes
  JSON       the JSON text of the fabric_validate result that carries them: each slice as JSON text,
             then the result (json.dumps, as the module prints it; "MB" is its size)
  site run   model + JSON, measured together
  old run    what the same site run cost before, projected: hosts x 3 filter calls (group_by,
             the drbd role or rdma_core's default, ...) x "1 slice" (the filter analysed the whole
             model on every call)

  calls      Python and C function calls of the model work (counted once with sys.setprofile): the
             measure of linearity that does not depend on caches or on other jobs of the machine

Times are CPU seconds of this process (time.process_time, best of --repeat): on a shared
machine wall clock also counts other jobs.  The last lines compare the first and the last size:
x10 hosts should give about x10 time (linear); small models fit the CPU caches, so the time of
the smallest size can grow a little faster than the calls.
Goal: site run of 10,000 ports (5,000 nodes) <= 2 s, linear.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import sys
import time

sys.path.insert(0, os.environ.get('RDMA_COLLECTIONS') or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), '..', '..', '.cache', 'collections'))

from ansible_collections.rdma.ha_storage.plugins.module_utils.fabric import model as fabric_model  # noqa: E402
from ansible_collections.rdma.ha_storage.plugins.module_utils.fabric import slices as fabric_slices  # noqa: E402

FILTER_CALLS_PER_HOST = 3


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


def model_work(fabric):
    """The model work of a site run: the result fabric_validate computes (analysis, summary, every slice)."""
    model = fabric_model.analyse(fabric)
    return {'changed': False, 'valid': not model.errors, 'errors': list(model.errors),
            'fabric_warnings': list(model.warnings), 'summary': fabric_model.summary(model),
            'slices': fabric_slices.host_slices(model)}


def to_json(result):
    """The text fabric_validate prints: every slice as JSON text, in the JSON of the result."""
    result = dict(result, slices=dict((host, json.dumps(part, separators=(',', ':')))
                                      for host, part in result['slices'].items()))
    return json.dumps(result)


def site_run(fabric):
    """model_work() and the JSON text of its result."""
    return to_json(model_work(fabric))


def calls(func):
    """Number of function calls (Python and C) made by ``func()``."""
    count = [0]

    def profile(frame, event, arg):
        if event in ('call', 'c_call'):
            count[0] += 1
    sys.setprofile(profile)
    try:
        func()
    finally:
        sys.setprofile(None)
    return count[0]


def best(func, repeat):
    """(best CPU seconds, best wall seconds, result) over ``repeat`` runs."""
    cpu, wall = [], []
    result = None
    for dummy in range(repeat):
        start_cpu, start_wall = time.process_time(), time.perf_counter()
        result = func()
        cpu.append(time.process_time() - start_cpu)
        wall.append(time.perf_counter() - start_wall)
    return min(cpu), min(wall), result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=__doc__.split('\n\n', 2)[2],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--sizes', default='1000,10000', help='comma-separated port counts (default 1000,10000)')
    parser.add_argument('--repeat', type=int, default=5, help='runs per measurement, best is kept (default 5)')
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(',') if s.strip()]
    print('python %s on %s, %d CPUs; CPU seconds, best of %d (wall clock of the site run in brackets)'
          % (platform.python_version(), platform.machine(), os.cpu_count() or 0, args.repeat))
    print('%7s %6s %7s %9s %8s %8s %7s %6s %5s %18s %9s %10s' % (
        'ports', 'nodes', 'volumes', 'validate', 'broken', '1 slice', 'model', 'JSON', 'MB', 'site run', 'old run',
        'calls'))
    rows = []
    for size in sizes:
        fabric = make_fabric(size)
        ports = sum(len(n['ports']) for n in fabric['nodes'])
        hosts = len(fabric['nodes'])
        volumes = sum(len(p['volumes']) for p in fabric['ha_pairs'])
        t_valid, dummy, model = best(lambda: fabric_model.analyse(fabric), args.repeat)
        if model.errors:
            print('generated model is invalid: %s' % model.errors[:5])
            return 1
        bad = broken(fabric)
        t_broken, dummy, bad_model = best(lambda: fabric_model.analyse(bad), args.repeat)
        if not bad_model.errors:
            print('broken model has no error')
            return 1
        host = fabric['nodes'][0]['name']
        t_slice, dummy, dummy = best(lambda: fabric_slices.host_slice(fabric, host), args.repeat)
        t_model, dummy, result = best(lambda: model_work(fabric), args.repeat)
        t_json, dummy, text = best(lambda: to_json(result), args.repeat)
        t_site, w_site, dummy = best(lambda: site_run(fabric), args.repeat)
        old = hosts * FILTER_CALLS_PER_HOST * t_slice
        n_calls = calls(lambda: model_work(fabric))
        rows.append((hosts, t_model, t_json, t_site, old, n_calls))
        print('%7d %6d %7d %9.3f %8.3f %8.4f %7.3f %6.3f %5.1f %8.3f (%6.3f) %8.0fs %10d' % (
            ports, hosts, volumes, t_valid, t_broken, t_slice, t_model, t_json, len(text) / 1e6, t_site, w_site, old,
            n_calls))
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        size = last[0] / float(first[0])
        print('%d -> %d hosts (x%.1f): model x%.1f, JSON x%.1f, site run x%.1f, calls x%.2f (linear: about x%.1f)' % (
            first[0], last[0], size, last[1] / first[1], last[2] / first[2], last[3] / first[3], last[5] / first[5],
            size))
    last = rows[-1]
    print('site run of %d hosts: %.2f s CPU (goal <= 2 s); before: about %.0f min (%d filter calls)' % (
        last[0], last[3], last[4] / 60.0, last[0] * FILTER_CALLS_PER_HOST))
    return 0


if __name__ == '__main__':
    sys.exit(main())
