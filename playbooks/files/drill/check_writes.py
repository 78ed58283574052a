"""Check that every write writer.py logged as acknowledged is on DEVICE, intact.

check_writes.py DEVICE BLOCKS < LOG   (run on the node that serves the volume now)

Reads the device with O_DIRECT (a buffered read can answer from a stale page cache).

Prints JSON:
  acknowledged  writes logged "ok"; slots: slots they cover
  lost          slots whose block is older than their last acknowledged write (or was never written)
  corrupted     slots whose block fails its SHA-256, or holds a write of another slot, or a write
                the writer never issued
  errors        the log's error lines (I/O errors the writer saw)
  longest_pause the longest time between two consecutive acknowledged writes (monotonic clock of
                the writer's host), with the wall times around it: the failover as the writer saw it
A block newer than the last acknowledged write of its slot is fine when the writer issued it: a
write in flight at the cut may reach the disk without its acknowledgement reaching the writer.
Exit code 0 when nothing is lost or corrupted, 1 otherwise, 2 on bad input. Standard library only.
"""
import hashlib
import json
import mmap
import os
import re
import sys

BLOCK = 4096
DIGEST = 64
HEAD = re.compile(rb'seq (\d+) wall (\d+\.\d+)\n')


def parse_log(lines):
    """The writer's log -> acknowledged writes [(seq, monotonic, wall)], error lines, the highest seq issued."""
    acks, errors, highest = [], [], -1
    for line in lines:
        parts = line.split()
        if len(parts) >= 4 and parts[0].isdigit():
            seq = int(parts[0])
            highest = max(highest, seq)
            if parts[3] == 'ok':
                acks.append((seq, float(parts[1]), float(parts[2])))
            else:
                errors.append(line.strip())
    return acks, errors, highest


def read_block(fd, buf, slot):
    """The slot's block as the device holds it: O_DIRECT, since a buffered read of a DRBD device can
    answer from a page cache that in-kernel writers (LIO's iblock backstore) bypass. Seen in the lab:
    an earlier check's cached block, when the device held the new write."""
    count = os.preadv(fd, [buf], slot * BLOCK)
    return bytes(buf[:count])


def judge(block, slot, expected, blocks, highest):
    """None when the block holds the slot's last acknowledged write or a later one the writer issued;
    else ('lost' | 'corrupted', what was found)."""
    if len(block) != BLOCK:
        return 'lost', 'short read (%d bytes)' % len(block)
    body, digest = block[:BLOCK - DIGEST], block[BLOCK - DIGEST:]
    match = HEAD.match(body)
    if not match:
        return ('lost', 'never written') if not block.strip(b'\0') else ('corrupted', repr(body[:40]))
    if hashlib.sha256(body).hexdigest().encode() != digest:
        return 'corrupted', 'checksum mismatch in write %s' % match.group(1).decode()
    found = int(match.group(1))
    if found % blocks != slot:
        return 'corrupted', 'write %d (of slot %d) in slot %d' % (found, found % blocks, slot)
    if found < expected:
        return 'lost', 'write %d (an older one)' % found
    if found > highest + 1:
        return 'corrupted', 'write %d, never issued (the last issued was %d)' % (found, highest + 1)
    return None


def check(device, blocks, lines):
    acks, errors, highest = parse_log(lines)
    last = {}
    for seq, _mono, _wall in acks:
        last[seq % blocks] = max(last.get(seq % blocks, -1), seq)
    lost, corrupted = [], []
    fd = os.open(device, os.O_RDONLY | os.O_DIRECT)
    buf = mmap.mmap(-1, BLOCK)   # page aligned, as O_DIRECT needs
    try:
        for slot, seq in sorted(last.items()):
            verdict = judge(read_block(fd, buf, slot), slot, seq, blocks, highest)
            if verdict:
                (lost if verdict[0] == 'lost' else corrupted).append(
                    {'slot': slot, 'acknowledged': seq, 'found': verdict[1]})
    finally:
        os.close(fd)
    pause = None
    for (_s1, m1, w1), (s2, m2, w2) in zip(acks, acks[1:]):
        if pause is None or m2 - m1 > pause['seconds']:
            pause = {'seconds': round(m2 - m1, 3), 'before_seq': s2, 'from_wall': w1, 'to_wall': w2}
    return {'acknowledged': len(acks), 'slots': len(last), 'lost': lost, 'corrupted': corrupted,
            'errors': errors, 'longest_pause': pause,
            'first_wall': acks[0][2] if acks else None, 'last_wall': acks[-1][2] if acks else None}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2 or not argv[1].isdigit() or int(argv[1]) < 1:
        sys.stderr.write('usage: check_writes.py DEVICE BLOCKS < LOG\n')
        return 2
    result = check(argv[0], int(argv[1]), sys.stdin)
    print(json.dumps(result))
    return 1 if result['lost'] or result['corrupted'] else 0


if __name__ == '__main__':
    sys.exit(main())
