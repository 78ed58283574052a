"""How far each host's clock is from the controller's, measured over one ssh session per host.

clock_probe.py < {"host": ["ssh", "-p", "2270", ..., "root@127.0.0.1"], ...}   (run on the controller)

For each host, opens one ssh session running a small echo loop on the host, then asks it for its
time ROUNDS times; the sample with the shortest round trip gives the offset: host time - the
midpoint of the controller's send and receive times. The drill's phases come from several hosts'
clocks (the writer's log, the storage nodes' journals, the controller's cut): the report subtracts
these offsets. Prints JSON {host: {"offset": s, "error": s (half the round trip)} or {"error_text": ...}}.
Standard library only.
"""
import json
import shlex
import subprocess
import sys
import time

ROUNDS = 7
REMOTE = ("import sys, time\n"
          "for line in sys.stdin:\n"
          "    sys.stdout.write(repr(time.time()) + '\\n'); sys.stdout.flush()\n")


def probe(argv, rounds=ROUNDS, timeout=60):
    proc = subprocess.Popen(list(argv) + ['python3', '-u', '-c', shlex.quote(REMOTE)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            universal_newlines=True, bufsize=1)
    best = None
    try:
        deadline = time.time() + timeout
        for _round in range(rounds + 1):   # the first answer also pays for the interpreter's start
            t0 = time.time()
            proc.stdin.write('t\n')
            proc.stdin.flush()
            line = proc.stdout.readline()
            t1 = time.time()
            if not line:
                raise RuntimeError('no answer: %s' % proc.stderr.read().strip()[:300])
            sample = (t1 - t0, float(line) - (t0 + t1) / 2)
            if best is None or sample[0] < best[0]:
                best = sample
            if t1 > deadline:
                break
    finally:
        proc.stdin.close()
        proc.kill()
        proc.wait()
    return {'offset': round(best[1], 4), 'error': round(best[0] / 2, 4)}


def main():
    hosts = json.load(sys.stdin)
    out = {}
    for host, argv in sorted(hosts.items()):
        try:
            out[host] = probe(argv)
        except (OSError, RuntimeError, ValueError) as error:
            out[host] = {'error_text': str(error)}
    print(json.dumps(out))
    return 0 if all('offset' in v for v in out.values()) else 1


if __name__ == '__main__':
    sys.exit(main())
