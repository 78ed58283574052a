# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark of the Ansible side: one host's slice per host, registered once or from the filter.

    source tools/env.sh && python tests/benchmarks/bench_ansible.py [--ports 10000] [--hosts 300]
        [--filter-hosts 20] [--forks 5] [--keep DIR]

Not a unit test: it prints figures and asserts nothing.  It writes an inventory of --hosts
local-connection hosts (nodes of a generated model of --ports ports, bench_fabric.make_fabric:
storage nodes first, then initiators) with the whole model in group_vars/all, and runs
ansible-playbook (forks --forks) once per variant, each a play over all hosts:

  baseline    fabric_validate once (no slices), then set_fact of a constant per host: what
              Ansible itself costs per host task
  registered  fabric_validate once with slice_hosts = the play's hosts (what site.yml does),
              then set_fact of rdma_fabric_validation['slices'][inventory_hostname] | from_json
  every       the same with every node's slice registered (no slice_hosts), the largest result
  present     every node's slice registered, then set_fact of a constant: what the registered
              result costs the other tasks of the run (compare with baseline)
  filter      no validation; set_fact of rdma_fabric | fabric_host_slice(inventory_hostname)
              (the flow before: one analysis per call), over the first --filter-hosts hosts only

For each variant: the seconds of the validate task and of the per-host task (wall clock, from a
callback), per host, and the CPU seconds of the whole ansible-playbook run (all its processes).
The machine's other jobs count in wall clock; compare the CPU figures too.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# the top of the checkout: lab/proc.py, the one way lab/ and tests/ run a program
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from bench_fabric import make_fabric  # noqa: E402
from lab import proc as lab_proc  # noqa: E402

CALLBACK = '''
from __future__ import annotations
import json, os, time
from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: task_times
type: aggregate
short_description: seconds per task into $BENCH_TIMES
description: [seconds per task]
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "task_times"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.times, self.current, self.start = {}, None, None

    def _close(self):
        if self.current is not None:
            self.times[self.current] = time.perf_counter() - self.start

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._close()
        self.current, self.start = task.get_name(), time.perf_counter()

    def v2_playbook_on_stats(self, stats):
        self._close()
        with open(os.environ["BENCH_TIMES"], "w") as handle:
            json.dump(self.times, handle)
'''

VALIDATE = {'name': 'validate', 'delegate_to': 'localhost', 'run_once': True, 'register': 'rdma_fabric_validation',
            'rdma.ha_storage.fabric_validate': {'fabric': '{{ rdma_fabric }}'}}


def _validate(**options):
    return dict(VALIDATE, **{'rdma.ha_storage.fabric_validate': dict({'fabric': '{{ rdma_fabric }}'}, **options)})


VARIANTS = {
    'baseline': ([_validate(slice_hosts=[])], '{{ inventory_hostname }}'),
    'registered': ([_validate(slice_hosts='{{ ansible_play_hosts_all }}')],
                   "{{ rdma_fabric_validation['slices'][inventory_hostname] | from_json }}"),
    'every': ([VALIDATE], "{{ rdma_fabric_validation['slices'][inventory_hostname] | from_json }}"),
    'present': ([VALIDATE], '{{ inventory_hostname }}'),
    'filter': ([], '{{ rdma_fabric | rdma.ha_storage.fabric_host_slice(inventory_hostname) }}'),
}


def run_variant(work, name, hosts, forks):
    tasks, expression = VARIANTS[name]
    play = [{'name': name, 'hosts': 'all', 'gather_facts': False,
             'tasks': tasks + [{'name': 'per host', 'ansible.builtin.set_fact': {'bench_slice': expression}}]}]
    with open(os.path.join(work, name + '.yml'), 'w') as handle:
        json.dump(play, handle)
    with open(os.path.join(work, 'hosts_%s.json' % name), 'w') as handle:
        json.dump({'all': {'hosts': dict((h, {}) for h in hosts), 'vars': {
            'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable}}}, handle)
    times = os.path.join(work, name + '.times.json')
    env = dict(os.environ, BENCH_TIMES=times, ANSIBLE_CALLBACK_PLUGINS=os.path.join(work, 'callback'),
               ANSIBLE_CALLBACKS_ENABLED='task_times', ANSIBLE_FORKS=str(forks), ANSIBLE_NOCOLOR='1')
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = lab_proc.run([os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'),
                         '-i', os.path.join(work, 'hosts_%s.json' % name), os.path.join(work, name + '.yml')],
                        cwd=work, env=env, merge=True, timeout=3600)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        print(proc.stdout[-3000:])
        raise SystemExit('variant %s failed (rc %d)' % (name, proc.returncode))
    with open(times) as handle:
        task_times = json.load(handle)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return task_times.get('validate'), task_times['per host'], wall, cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=__doc__.split('\n\n', 2)[2],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--ports', type=int, default=10000, help='ports of the model (default 10000: 5,000 nodes)')
    parser.add_argument('--hosts', type=int, default=300, help='hosts of the play (default 300)')
    parser.add_argument('--filter-hosts', type=int, default=20, help='hosts of the filter variant (default 20)')
    parser.add_argument('--forks', type=int, default=5, help='ansible forks (default 5)')
    parser.add_argument('--variants', default='baseline,registered,every,present,filter',
                        help='comma-separated variants (default all: baseline,registered,every,present,filter)')
    parser.add_argument('--keep', help='write the inventory and playbooks here and keep them (default: a temporary '
                                       'directory, removed)')
    args = parser.parse_args()
    work = args.keep or tempfile.mkdtemp(prefix='bench-ansible-')
    os.makedirs(os.path.join(work, 'group_vars', 'all'), exist_ok=True)
    os.makedirs(os.path.join(work, 'callback'), exist_ok=True)
    with open(os.path.join(work, 'callback', 'task_times.py'), 'w') as handle:
        handle.write(CALLBACK)
    fabric = make_fabric(args.ports)
    with open(os.path.join(work, 'group_vars', 'all', 'rdma_fabric.json'), 'w') as handle:
        json.dump({'rdma_fabric': fabric}, handle)
    names = [n['name'] for n in fabric['nodes']]
    storage = [n for n in names if n.startswith('stor-')]
    initiators = [n for n in names if n.startswith('init-')]
    share = max(1, args.hosts // 6)        # one host in six a storage node, like a rack of initiators per pair
    hosts = storage[:share] + initiators[:args.hosts - share]
    try:
        print('ansible-playbook, python %s, %d CPUs, %d forks; model of %d nodes, %d ports; %d hosts in the play'
              % (platform.python_version(), os.cpu_count() or 0, args.forks, len(names),
                 sum(len(n['ports']) for n in fabric['nodes']), len(hosts)))
        print('%-11s %6s %11s %15s %12s %10s %9s' % (
            'variant', 'hosts', 'validate s', 'per-host task s', 'ms per host', 'run wall s', 'run CPU s'))
        for name in [v.strip() for v in args.variants.split(',') if v.strip()]:
            chosen = hosts[:args.filter_hosts] if name == 'filter' else hosts
            validate, per_host, wall, cpu = run_variant(work, name, chosen, args.forks)
            print('%-11s %6d %11s %15.2f %12.1f %10.1f %9.1f' % (
                name, len(chosen), '-' if validate is None else '%.2f' % validate, per_host,
                1000.0 * per_host / len(chosen), wall, cpu))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
