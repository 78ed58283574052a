"""A verifying writer for failover drills: every write the device acknowledged is logged.

writer.py DEVICE LOG [--blocks N] [--seconds S] [--stop-file F]

Writes 4 KiB blocks with O_DIRECT | O_DSYNC, sequence number n to slot n % N (offset slot * 4096).
Each block carries its sequence number and its write time, a pattern derived from both, and the
SHA-256 of all that in its last 64 bytes, so that check_writes.py tells a block that was never
written (lost) from one that holds garbage (corrupted). After pwritev returned (acknowledged: on
stable storage of the target, with DRBD protocol C on both nodes) it appends
"<seq> <monotonic> <wall> ok" to LOG (truncated first); CLOCK_MONOTONIC for pauses, wall time to
set the writes against the other hosts' events. An I/O error is logged as
"<seq> <monotonic> <wall> error <errno> <text>" and ends the run with exit code 1: a drill counts
every error the application would have seen. Standard library only (Python 3.6+).
"""
import argparse
import hashlib
import mmap
import os
import sys
import time

BLOCK = 4096
DIGEST = 64   # hex SHA-256 at the end of the block


def block_for(seq, wall):
    """The block of write `seq`: header line, pattern, SHA-256 (hex) of everything before it."""
    head = ('seq %d wall %.6f\n' % (seq, wall)).encode()
    fill = ('%016x' % (seq * 2654435761 % (1 << 64))).encode()
    body = (head + fill * (BLOCK // len(fill)))[:BLOCK - DIGEST]
    return body + hashlib.sha256(body).hexdigest().encode()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('device')
    parser.add_argument('log')
    parser.add_argument('--blocks', type=int, default=256, help='slots written round robin (default 256: 1 MiB)')
    parser.add_argument('--seconds', type=float, default=600, help='stop after this long (default 600)')
    parser.add_argument('--stop-file', default=None, help='stop once this file exists (removed at start)')
    args = parser.parse_args()
    if args.stop_file and os.path.exists(args.stop_file):
        os.unlink(args.stop_file)   # left by an earlier run
    fd = os.open(args.device, os.O_WRONLY | os.O_DIRECT | os.O_DSYNC)
    buf = mmap.mmap(-1, BLOCK)   # page aligned, as O_DIRECT needs
    end = time.monotonic() + args.seconds
    seq = 0
    with open(args.log, 'w', buffering=1) as log:
        log.write('start %f %f blocks %d device %s\n' % (time.monotonic(), time.time(), args.blocks, args.device))
        while time.monotonic() < end and not (args.stop_file and os.path.exists(args.stop_file)):
            buf.seek(0)
            buf.write(block_for(seq, time.time()))
            try:
                os.pwritev(fd, [buf], (seq % args.blocks) * BLOCK)
            except OSError as error:
                log.write('%d %f %f error %d %s\n' % (seq, time.monotonic(), time.time(), error.errno,
                                                      error.strerror))
                return 1
            log.write('%d %f %f ok\n' % (seq, time.monotonic(), time.time()))
            seq += 1
        log.write('end %f %f writes %d\n' % (time.monotonic(), time.time(), seq))
    return 0


if __name__ == '__main__':
    sys.exit(main())
