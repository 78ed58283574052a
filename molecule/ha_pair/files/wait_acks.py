"""Wait until writer.py's log shows MORE writes acknowledged after this started.

wait_acks.py LOG MORE [--stop FILE] [--timeout S]: exit 0 once MORE writes were acknowledged
after its own start (the log's times are CLOCK_MONOTONIC, as here), then touch FILE, which stops
the writer; 1 after the timeout. The log may not exist yet, or still be an earlier run's (an
async start of the writer takes seconds under TCG): only later acknowledgements count.
"""
import argparse
import sys
import time


def acked(log, since):
    count = 0
    try:
        with open(log) as handle:
            for line in handle:
                parts = line.split()
                if len(parts) == 3 and parts[2] == 'ok' and float(parts[1]) > since:
                    count += 1
    except OSError:
        pass
    return count


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('log')
    parser.add_argument('more', type=int)
    parser.add_argument('--stop', default=None)
    parser.add_argument('--timeout', type=float, default=120)
    args = parser.parse_args()
    start = time.monotonic()
    end = start + args.timeout
    while acked(args.log, start) < args.more:
        if time.monotonic() > end:
            sys.stderr.write('%s: fewer than %d writes acknowledged in %.0f s\n' % (args.log, args.more, args.timeout))
            return 1
        time.sleep(0.2)
    if args.stop:
        open(args.stop, 'w').close()
    return 0


if __name__ == '__main__':
    sys.exit(main())
