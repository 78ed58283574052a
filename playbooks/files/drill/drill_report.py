"""A failover drill's preflight and report, as JSON (run on the controller by playbooks/failover_drill.yml).

drill_report.py preflight < STATES
  STATES: {"volume", "initiator", "nodes": {node: {"role", "disk", "connection",
  "fence_constraints"}}, "paths": running SRP paths of the initiator under the volume's map}.
  Prints {"problems": [...], "primary": the Primary or null}: what keeps the pair from a drill.

drill_report.py report [--dir DIR] < DRILL
  The phases on the controller's clock, the writes, the verdict. DRILL is what the playbook gathered, as JSON:
  kind ("power_cut" | "replication_cut" | "fabric_cut"), pair, volume, initiator, nodes (the pair's two nodes),
  cut {"node", "method", "time" (controller epoch), "netdev"}, primary_before, serving (the node
  that serves the volume after the drill), clocks {host: {"offset", "error"}} (clock_probe.py),
  writer_log (writer.py's log, text), check (check_writes.py on the serving node),
  events {host: drill_events.py output}, restore {"time", "settled_time"} (controller epoch).
The report adds:
  phases   seconds after the cut, on the controller's clock (each host's offset subtracted):
           peer_lost, fence_requested, fence_confirmed, promoted, export_started (on the node
           that took over), target_lost, target_login (of that node's target), path_up (on the
           initiator), last_ack_before_cut, first_ack_after_cut; io_pause (the writer's
           longest wait from its last write before the cut on), io_resumed (that wait's end: the
           first write acknowledged on the new path after a power cut); resynced (restore -> both UpToDate, no fence constraint);
           after a fabric cut also demoted (the cut node's demotion: the switchover)
  problems what makes the drill fail: lost or corrupted writes, I/O errors, split brain, two
           Primaries, the wrong node serving
  passed   no problem
With --dir, the report is also written to DIR/drill-<kind>-<UTC time>.json (its path in "file").
Standard library only.
"""
import argparse
import datetime
import json
import os
import sys


def on_controller(t, host, clocks):
    """A time read on `host` -> the controller's clock."""
    return None if t is None else t - (clocks.get(host) or {}).get('offset', 0.0)


def acks(log_text):
    """writer.py's log -> [(seq, wall)] of the acknowledged writes."""
    out = []
    for line in log_text.splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[0].isdigit() and parts[3] == 'ok':
            out.append((int(parts[0]), float(parts[2])))
    return out


def first(events, phase, host, clocks, after, match=None):
    for event in events.get(host, {}).get('events', []):
        t = on_controller(event['time'], host, clocks)
        if event['phase'] == phase and t >= after and (match is None or match in event['text']):
            return t
    return None


def phases(drill):
    clocks, events, cut = drill.get('clocks') or {}, drill.get('events') or {}, drill['cut']
    t_cut = cut['time']
    survivor = [n for n in drill['nodes'] if n != cut['node']][0]
    taker = drill.get('serving') or survivor
    out = {}
    for phase in ('peer_lost', 'fence_requested', 'fence_confirmed', 'replication_lost', 'fence_peer'):
        out[phase] = first(events, phase, survivor, clocks, t_cut)
    if drill['kind'] == 'replication_cut':   # the cut node's own view of the lost link
        for phase in ('replication_lost', 'fence_peer'):
            out['%s_on_%s' % (phase, cut['node'])] = first(events, phase, cut['node'], clocks, t_cut)
    if drill['kind'] == 'fabric_cut':   # a switchover: the cut node demotes before its peer promotes
        out['demoted'] = first(events, 'demoted', cut['node'], clocks, t_cut)
    out['promoted'] = first(events, 'promoted', taker, clocks, t_cut)
    out['export_started'] = first(events, 'op', taker, clocks, t_cut,
                                  'start operation for srpt_%s on %s: ok' % (drill['pair'], taker))
    # the initiator's side (its journal, when it was read): the cut node's target declared lost,
    # the login to the node that serves now, the first path (re)instated in a map after the cut
    initiator = drill['initiator']
    out['target_lost'] = first(events, 'target_lost', initiator, clocks, t_cut, 'target %s ' % cut['node'])
    out['target_login'] = first(events, 'target_login', initiator, clocks, t_cut, 'target %s ' % taker)
    out['path_up'] = first(events, 'path_up', initiator, clocks, t_cut)
    written = [on_controller(w, initiator, clocks) for _seq, w in acks(drill.get('writer_log', ''))]
    before = [w for w in written if w < t_cut]
    after = [w for w in written if w >= t_cut]
    out['last_ack_before_cut'] = before[-1] if before else None
    out['first_ack_after_cut'] = after[0] if after else None
    relative = {k: (None if v is None else round(v - t_cut, 2)) for k, v in out.items()}
    # the writer's longest wait from its last write before the cut on (after a replication cut the
    # writes go on for the seconds DRBD takes to notice, then pause for the fence-peer handler)
    # The pause's end is the first write acknowledged on the new path after a power cut (a write in
    # flight at the cut can still be acknowledged by the old Primary within milliseconds of it).
    since = [w for w in written if before and w >= before[-1]]
    pause = max(zip(since, since[1:]), key=lambda gap: gap[1] - gap[0]) if before and after else None
    relative['io_pause'] = round(pause[1] - pause[0], 2) if pause else None
    relative['io_resumed'] = round(pause[1] - t_cut, 2) if pause else None
    restore = drill.get('restore') or {}
    relative['resynced'] = (round(restore['settled_time'] - restore['time'], 1)
                            if restore.get('time') and restore.get('settled_time') else None)
    return relative, survivor, written


def problems(drill, survivor, written):
    found = []
    check = drill.get('check') or {}
    if not check:
        found.append('the writes were not checked')
    for key in ('lost', 'corrupted'):
        if check.get(key):
            found.append('%d acknowledged write(s) %s on %s: %s'
                         % (len(check[key]), key, drill.get('serving'), json.dumps(check[key][:5])))
    if check.get('errors'):
        found.append('the writer saw I/O errors: %s' % '; '.join(check['errors'][:5]))
    if not [w for w in written if w >= drill['cut']['time']]:
        found.append('no write was acknowledged after the cut')
    for host, seen in sorted((drill.get('events') or {}).items()):
        for event in seen.get('events', []):
            if event['phase'] == 'split_brain':
                found.append('%s: split brain: %s' % (host, event['text']))
    promotions = {h: [e for e in s.get('events', []) if e['phase'] == 'promoted']
                  for h, s in (drill.get('events') or {}).items()}
    if drill['kind'] == 'replication_cut':
        # the Primary keeps the volume; its peer must never be promoted while the link is down
        if drill.get('serving') != drill['primary_before']:
            found.append('the volume moved to %s on a replication cut (the Primary %s should keep it)'
                         % (drill.get('serving'), drill['primary_before']))
        if promotions.get(survivor):
            found.append('two Primaries: %s was promoted while %s was Primary: %s'
                         % (survivor, drill['primary_before'], promotions[survivor][0]['text']))
    elif drill.get('serving') != survivor:
        found.append('after the %s of %s the volume is served by %s, not by its peer %s'
                     % (drill['kind'].replace('_', ' '), drill['cut']['node'], drill.get('serving'), survivor))
    if drill['kind'] == 'fabric_cut':
        # the cluster is whole: a switchover, never a fence, and the demotion before the promotion
        clocks, t_cut = drill.get('clocks') or {}, drill['cut']['time']
        demoted = first(drill.get('events') or {}, 'demoted', drill['cut']['node'], clocks, t_cut)
        promoted = first(drill.get('events') or {}, 'promoted', survivor, clocks, t_cut)
        if promoted is not None and (demoted is None or demoted > promoted):
            found.append('two Primaries: %s was promoted before %s was demoted' % (survivor, drill['cut']['node']))
        fenced = first(drill.get('events') or {}, 'fence_requested', survivor, clocks, t_cut)
        if fenced is not None:
            found.append('%s asked to fence %s after a fabric cut, though the cluster was whole'
                         % (survivor, drill['cut']['node']))
    return found


def report(drill):
    relative, survivor, written = phases(drill)
    found = problems(drill, survivor, written)
    check = drill.get('check') or {}
    return {
        'kind': drill['kind'], 'pair': drill['pair'], 'volume': drill['volume'], 'initiator': drill['initiator'],
        'cut': drill['cut'], 'primary_before': drill['primary_before'], 'serving': drill.get('serving'),
        'survivor': survivor, 'clocks': drill.get('clocks'), 'phases': relative,
        'writes': {k: check.get(k) for k in ('acknowledged', 'slots', 'longest_pause')},
        'lost': len(check.get('lost') or []), 'corrupted': len(check.get('corrupted') or []),
        'io_errors': len(check.get('errors') or []),
        'events': drill.get('events'), 'check': check, 'problems': found, 'passed': not found,
    }


def preflight(states):
    """What keeps the pair from a drill: a node down or not UpToDate/Connected, fence constraints
    left, not exactly one Primary, no path from the initiator."""
    volume, found = states['volume'], []
    for node, st in sorted(states['nodes'].items()):
        if st.get('role', 'down') == 'down':
            found.append('%s: DRBD resource %s is not up' % (node, volume))
            continue
        if st.get('disk') != 'UpToDate':
            found.append('%s: %s is %s, not UpToDate (a resync not finished, or failed)' % (node, volume, st.get('disk')))
        if st.get('connection') != 'Connected':
            found.append('%s: %s is %s, not Connected to its peer' % (node, volume, st.get('connection')))
        if st.get('fence_constraints'):
            found.append('%s: the CIB holds drbd-fence-by-handler constraints (they go when the peer has resynced)' % node)
    primaries = sorted(n for n, st in states['nodes'].items() if st.get('role') == 'Primary')
    if len(primaries) != 1:
        found.append('the pair has %d Primaries of %s (%s), not one' % (len(primaries), volume, ', '.join(primaries) or 'none'))
    if not states.get('paths'):
        found.append('%s: no running SRP path under the multipath map %s' % (states['initiator'], volume))
    return {'problems': found, 'primary': primaries[0] if len(primaries) == 1 else None}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    sub = parser.add_subparsers(dest='command')
    sub.required = True
    sub.add_parser('preflight', help='what keeps the pair from a drill')
    rep = sub.add_parser('report', help="the drill's report")
    rep.add_argument('--dir', default=None, help='also write the report here')
    args = parser.parse_args(argv)
    try:
        data = json.load(sys.stdin)
        result = preflight(data) if args.command == 'preflight' else report(data)
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as error:
        sys.stderr.write('drill_report.py %s: bad input: %s: %s\n' % (args.command, type(error).__name__, error))
        return 2
    if args.command == 'report' and args.dir:
        os.makedirs(args.dir, exist_ok=True)
        stamp = datetime.datetime.utcfromtimestamp(data['cut']['time']).strftime('%Y%m%dT%H%M%SZ')
        result['file'] = os.path.join(os.path.abspath(args.dir), 'drill-%s-%s.json' % (data['kind'], stamp))
        with open(result['file'], 'w') as handle:
            json.dump(result, handle, indent=1)
            handle.write('\n')
    print(json.dumps(result))
    return 0


if __name__ == '__main__':
    sys.exit(main())
