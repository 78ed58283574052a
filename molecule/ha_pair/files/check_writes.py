"""Check that every acknowledged write of writer.py is on DEVICE (read on the storage node).

check_writes.py DEVICE BLOCKS < LOG   -> JSON: acknowledged (writes), missing (blocks whose
content is not the last acknowledged write to them, nor a later unacknowledged one), errors, and
longest_pause (seconds between two consecutive acknowledged writes: the failover as the writer
saw it, measured on the initiator's monotonic clock).
"""
import json
import sys

BLOCK = 4096


def main():
    device, blocks = sys.argv[1], int(sys.argv[2])
    acked, errors, times = {}, [], []
    last = -1
    for line in sys.stdin:
        parts = line.split()
        if len(parts) >= 3 and parts[0].isdigit():
            seq = int(parts[0])
            if parts[2] == 'ok':
                acked[seq % blocks] = max(acked.get(seq % blocks, -1), seq)
                last = max(last, seq)
                times.append(float(parts[1]))
            else:
                errors.append(line.strip())
    missing = []
    with open(device, 'rb', buffering=0) as handle:
        for slot, seq in sorted(acked.items()):
            handle.seek(slot * BLOCK)
            head = handle.read(BLOCK).split(b'\n', 1)[0].decode('ascii', 'replace')
            found = int(head[4:]) if head.startswith('seq ') and head[4:].isdigit() else None
            # a later write to the slot may have reached the disk without its acknowledgement
            if found is None or found < seq or (found - seq) % blocks:
                missing.append({'slot': slot, 'acknowledged': seq, 'found': head})
    # the longest pause between two acknowledged writes: the failover as the writer saw it
    gaps = sorted((b - a, i) for i, (a, b) in enumerate(zip(times, times[1:])))
    gap = {'seconds': round(gaps[-1][0], 3), 'after_seq': gaps[-1][1]} if gaps else None
    print(json.dumps({'acknowledged': last + 1, 'slots': len(acked), 'missing': missing, 'errors': errors,
                      'longest_pause': gap}))


if __name__ == '__main__':
    main()
