"""The failover's phases as one host's journal saw them (a storage node's, or the initiator's), as JSON.

drill_events.py SINCE [--until UNTIL]   (epoch seconds, this host's clock)

Reads the journal (journalctl -o json) from SINCE and picks the lines that mark a phase of a
failover, each with its time (the journal's receive time, epoch seconds):
  peer_lost         Corosync or Pacemaker saw the peer leave (token lost, members left, node lost)
  fence_requested   Pacemaker asked for fencing of a node
  fence_confirmed   a fencing operation succeeded (the node is known off)
  replication_lost  DRBD lost its connection to the peer
  fence_peer        DRBD's fence-peer handler ran (crm-fence-peer: a constraint, never a second Primary)
  unfence_peer      DRBD's unfence handler ran (crm-unfence-peer, after a resync: the constraint goes)
  promoted          DRBD became Primary here
  demoted           DRBD became Secondary here
  op                a Pacemaker operation's result on this node (start/stop/promote/demote/notify of a resource)
  op_initiated      the DC's controller initiated an operation (the transition's steps, in order)
  throttle          Pacemaker's controller found the load high and throttles its actions (one at a time)
  agent_took        the export agent's own timing of its start or stop (lio_srpt: start took N s)
  split_brain       DRBD detected split brain (a drill fails on it)
On the initiator (the srp_initiator role's login service, multipathd):
  target_lost       rdma-srp-login declared a logged-in target lost (its pings missed)
  target_login      rdma-srp-login's login to a target was accepted
  login_trouble     rdma-srp-login: a login failed, waited long in the kernel, or kept failing (what
                    a takeover's late or missing login shows)
  path_up           multipathd added a path to a map, or reinstated one
On every host, from the kernel:
  srp_kernel        ib_srp's or ib_srpt's lines (REJ, failed connections, logins, routes), and hung
                    task warnings: what the kernel did when a login came late or never (at most
                    KERNEL_EVENTS of them)
Output: {"host", "since", "until", "events": [{"time", "phase", "unit", "text"}...] (oldest first),
"first": {phase: time of its first event}}. Standard library only.
"""
import argparse
import json
import re
import socket
import subprocess
import sys

PHASES = (
    ('split_brain', re.compile(r'[Ss]plit-[Bb]rain detected')),
    ('peer_lost', re.compile(r'A processor failed, forming new configuration|Members left:'
                             r'|Node \S+ state is now lost|has no active links')),
    ('fence_requested', re.compile(r'Requesting fencing \(\w+\) (of|targeting) node|wants to fence \(\w+\)'
                                   r'|Scheduling node \S+ for fencing|will be fenced')),
    ('fence_confirmed', re.compile(r'Operation .?\w+.? \[\d+\] (for host|targeting) \S+ .*(OK|returned: 0)'
                                   r'|was terminated \(\w+\) by \S+ on behalf of .*: OK')),
    ('replication_lost', re.compile(r'conn\( (Connected|WFReportParams|SyncSource|SyncTarget) -> '
                                    r'(NetworkFailure|BrokenPipe|Timeout|TearDown|Unconnected)')),
    ('unfence_peer', re.compile(r'unfence-peer')),
    ('fence_peer', re.compile(r'fence-peer')),
    ('promoted', re.compile(r'role\( Secondary -> Primary \)')),
    ('demoted', re.compile(r'role\( Primary -> Secondary \)')),
    ('op', re.compile(r'Result of (start|stop|promote|demote|notify) operation for \S+ on \S+: ')),
    ('op_initiated', re.compile(r'Initiating \w+ operation \S+')),
    ('throttle', re.compile(r'(High|Extreme) (CPU|CIB) load detected|New throttle mode')),
    ('agent_took', re.compile(r'lio_srpt: (start|stop) took [\d.]+ s')),
    ('target_lost', re.compile(r'^target \S+ \(\S+\): lost while logged in')),
    ('target_login', re.compile(r'^target \S+ \(.*\): login accepted$')),
    ('login_trouble', re.compile(r'^target \S+ (\(.*\): login failed: |\(.*\): the login has been waiting for the kernel'
                                 r'|that login took |\d+ logins failed in a row)')),
    ('path_up', re.compile(r': path added to devmap \S+|^\d+:\d+: reinstated$')),
)
MAX_EVENTS = 400
KERNEL_EVENTS = 120      # ib_srp logs a refused login three times a second: the first ones say enough
SRP_KERNEL = re.compile(r'\bib_srpt?\b|blocked for more than \d+ seconds')


def classify(message, unit=''):
    """The phase of a journal line; the unit counts too (crm-unfence-peer.sh logs its environment)."""
    for phase, pattern in PHASES:
        if pattern.search(message) or (phase.endswith('fence_peer') and pattern.search(unit)):
            return phase
    if unit == 'kernel' and SRP_KERNEL.search(message):
        return 'srp_kernel'
    return None


def events_from(lines):
    """journalctl -o json lines -> phase events, oldest first."""
    out = []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        message = entry.get('MESSAGE')
        if isinstance(message, list):   # journald stores non-UTF-8 text as a byte list
            message = bytes(message).decode('utf-8', 'replace')
        if not isinstance(message, str):
            continue
        unit = entry.get('SYSLOG_IDENTIFIER') or entry.get('_COMM') or '?'
        phase = classify(message, unit)
        if phase:
            out.append({'time': int(entry['__REALTIME_TIMESTAMP']) / 1e6, 'phase': phase, 'unit': unit,
                        'text': message.strip()[:300]})
    return out


def capped(events):
    """The events with the srp_kernel ones after the first KERNEL_EVENTS left out."""
    out, kernel = [], 0
    for event in events:
        if event['phase'] == 'srp_kernel':
            kernel += 1
            if kernel > KERNEL_EVENTS:
                continue
        out.append(event)
    return out


def summary(events):
    first = {}
    for event in events:
        first.setdefault(event['phase'], event['time'])
    return first


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('since', type=float)
    parser.add_argument('--until', type=float, default=None)
    args = parser.parse_args(argv)
    argv = ['journalctl', '-o', 'json', '--no-pager', '--since', '@%d' % int(args.since)]
    if args.until:
        argv += ['--until', '@%d' % (int(args.until) + 1)]
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False)
    if proc.returncode:
        sys.stderr.write('journalctl failed (rc %d): %s\n' % (proc.returncode, proc.stderr.strip()))
        return 1
    events = [e for e in events_from(proc.stdout.splitlines()) if e['time'] >= args.since]
    events = capped(events)
    print(json.dumps({'host': socket.gethostname(), 'since': args.since, 'until': args.until,
                      'events': events[:MAX_EVENTS], 'truncated': len(events) > MAX_EVENTS,
                      'first': summary(events)}))
    return 0


if __name__ == '__main__':
    sys.exit(main())
