"""The SCSI disks an initiator reaches over SRP, and the multipath maps over them, as JSON.

Run on the initiator (ansible.builtin.script). Standard library only. For each SCSI disk whose
host is an ib_srp host: its block name, vendor, model, unit serial (VPD page 0x80), WWID, LUN,
the SRP host's target (dgid / id_ext), and the dm-multipath map holding it.

srp_disks.py [--wait-map MAP --timeout SECONDS]: first wait (polling once a second, at most
SECONDS) until a running disk is under the map MAP: right after a converge a path can still be
logging in or reconnecting. The state is printed either way; the caller judges it.
"""
import argparse
import glob
import json
import os
import time


def read(path, default=None):
    try:
        with open(path, 'rb') as handle:
            return handle.read()
    except OSError:
        return default


def text(path):
    data = read(path)
    return None if data is None else data.decode('ascii', 'replace').strip()


def vpd_serial(dev):
    page = read('/sys/block/%s/device/vpd_pg80' % dev)
    if not page or len(page) < 4:
        return None
    length = (page[2] << 8) | page[3]
    return page[4:4 + length].decode('ascii', 'replace').strip().rstrip('\x00')


def srp_hosts():
    hosts = {}
    for host in glob.glob('/sys/class/scsi_host/host*'):
        if text(host + '/proc_name') != 'ib_srp':
            continue
        hosts[os.path.basename(host)] = {'dgid': text(host + '/dgid'), 'id_ext': text(host + '/id_ext'),
                                         'state': text(host + '/state')}
    return hosts


def collect():
    hosts = srp_hosts()
    disks = []
    for dev in sorted(os.listdir('/sys/block')):
        device = '/sys/block/%s/device' % dev
        if not os.path.exists(device):
            continue
        hctl = os.path.basename(os.path.realpath(device))
        host = 'host' + hctl.split(':')[0]
        if host not in hosts:
            continue
        holders = os.listdir('/sys/block/%s/holders' % dev) if os.path.isdir('/sys/block/%s/holders' % dev) else []
        maps = [text('/sys/block/%s/dm/name' % h) for h in holders]
        disks.append({'name': dev, 'hctl': hctl, 'lun': int(hctl.split(':')[3]), 'host': host,
                      'target_dgid': hosts[host]['dgid'], 'vendor': text(device + '/vendor'),
                      'model': text(device + '/model'), 'serial': vpd_serial(dev), 'wwid': text(device + '/wwid'),
                      'state': text(device + '/state'), 'timeout': text(device + '/timeout'), 'maps': maps})
    return {'srp_hosts': hosts, 'disks': disks}


def running_under(state, name):
    return [d for d in state['disks'] if d['maps'] == [name] and d['state'] == 'running']


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--wait-map', default=None)
    parser.add_argument('--timeout', type=float, default=0.0)
    args = parser.parse_args(argv)
    deadline = time.monotonic() + args.timeout
    state = collect()
    while args.wait_map and not running_under(state, args.wait_map) and time.monotonic() < deadline:
        time.sleep(1.0)
        state = collect()
    print(json.dumps(state, sort_keys=True))


if __name__ == '__main__':
    main()
