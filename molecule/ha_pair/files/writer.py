"""A writer that records every write the device acknowledged, for failover drills.

writer.py DEVICE LOG [--blocks N] [--seconds S] [--stop-file F]

Writes 4 KiB blocks with O_DIRECT | O_DSYNC, block k of round r at offset k*4096 (k = seq % N),
each carrying "seq <n> time <t>" and a pattern derived from the sequence number, and appends
"<seq> <monotonic time> ok" to LOG (truncated first) after the write returned (acknowledged = on stable storage of
the target, DRBD protocol C: on both nodes). An I/O error is logged ("<seq> <time> error <errno>")
and ends the run with exit code 1. Standard library only.
"""
import argparse
import mmap
import os
import sys
import time

BLOCK = 4096


def block_for(seq):
    head = ('seq %d\n' % seq).encode()
    fill = (('%08d' % seq).encode() * (BLOCK // 8))
    return (head + fill)[:BLOCK]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('device')
    parser.add_argument('log')
    parser.add_argument('--blocks', type=int, default=256)
    parser.add_argument('--seconds', type=float, default=600)
    parser.add_argument('--stop-file', default=None)
    args = parser.parse_args()
    fd = os.open(args.device, os.O_WRONLY | os.O_DIRECT | os.O_DSYNC)
    buf = mmap.mmap(-1, BLOCK)   # page aligned, as O_DIRECT needs
    end = time.monotonic() + args.seconds
    seq = 0
    if args.stop_file and os.path.exists(args.stop_file):
        os.unlink(args.stop_file)   # left by an earlier run
    with open(args.log, 'w', buffering=1) as log:
        log.write('start %f blocks %d\n' % (time.monotonic(), args.blocks))
        while time.monotonic() < end and not (args.stop_file and os.path.exists(args.stop_file)):
            buf.seek(0)
            buf.write(block_for(seq))
            try:
                os.pwritev(fd, [buf], (seq % args.blocks) * BLOCK)
            except OSError as error:
                log.write('%d %f error %d %s\n' % (seq, time.monotonic(), error.errno, error.strerror))
                return 1
            log.write('%d %f ok\n' % (seq, time.monotonic()))
            seq += 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
