"""Wait until writer.py's log shows MORE writes acknowledged after this started.

wait_acks.py LOG MORE [--stop FILE] [--timeout S]

Exit 0 once MORE writes were acknowledged after its own start (the log's monotonic times are this
host's CLOCK_MONOTONIC), then create FILE when given (the writer stops on it); 1 after the timeout
or when the writer logged an I/O error (no point waiting: the drill has failed). The log may not
exist yet, or still be an earlier run's (an async start of the writer takes seconds under TCG):
only later acknowledgements count. Prints JSON: acknowledged (since the start), seconds waited.
"""
import argparse
import json
import sys
import time


def scan(log, since):
    """(writes acknowledged after `since`, the first error line or None)"""
    count, error = 0, None
    try:
        with open(log) as handle:
            for line in handle:
                parts = line.split()
                if len(parts) >= 4 and parts[0].isdigit() and float(parts[1]) > since:
                    if parts[3] == 'ok':
                        count += 1
                    elif error is None:
                        error = line.strip()
    except (OSError, ValueError):
        pass
    return count, error


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('log')
    parser.add_argument('more', type=int)
    parser.add_argument('--stop', default=None, help='create this file when done (writer.py --stop-file)')
    parser.add_argument('--timeout', type=float, default=120)
    args = parser.parse_args()
    start = time.monotonic()
    while True:
        count, error = scan(args.log, start)
        waited = round(time.monotonic() - start, 1)
        if count >= args.more:
            break
        if error or waited > args.timeout:
            sys.stderr.write('%s: %s\n' % (args.log, 'the writer saw an I/O error: %s' % error if error else
                                           'only %d of %d writes acknowledged in %.0f s' % (count, args.more, args.timeout)))
            if args.stop:
                open(args.stop, 'w').close()
            return 1
        time.sleep(0.2)
    if args.stop:
        open(args.stop, 'w').close()
    print(json.dumps({'acknowledged': count, 'seconds': waited}))
    return 0


if __name__ == '__main__':
    sys.exit(main())
