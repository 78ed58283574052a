"""lab/hostnet.py: the lab's processes' IP sockets read from a /proc tree, and the loopback rule."""
import os

from lab import hostnet

# /proc/net/udp and tcp lines as the kernel writes them (header + entries; inode is field 10).
UDP = """  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  12: 014D4DEF:9C41 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 5001 2 0000000000000000 0
  13: 0100007F:9C42 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 5002 2 0000000000000000 0
"""
TCP = """  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:08DE 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 6001 1 0000000000000000 100 0 0 10 0
   1: 0100007F:08DE 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000     0        0 6002 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:D2F2 0F02000A:0016 01 00000000:00000000 00:00000000 00000000     0        0 6003 1 0000000000000000 20 4 30 10 -1
   3: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 6004 1 0000000000000000 100 0 0 10 0
"""
TCP6 = ("  sl  local_address                         remote_address                        st tx_queue rx_queue tr"
        " tm->when retrnsmt   uid  timeout inode\n"
        "   0: 00000000000000000000000001000000:1F91 00000000000000000000000000000000:0000 0A 00000000:00000000"
        " 00:00000000 00000000     0        0 7001 1 0000000000000000 100 0 0 10 0\n")


def make_proc(tmp_path, fds_by_pid):
    (tmp_path / "net").mkdir()
    (tmp_path / "net" / "udp").write_text(UDP)
    (tmp_path / "net" / "tcp").write_text(TCP)
    (tmp_path / "net" / "tcp6").write_text(TCP6)
    for pid, inodes in fds_by_pid.items():
        fd = tmp_path / str(pid) / "fd"
        fd.mkdir(parents=True)
        os.symlink("/dev/null", fd / "0")
        for i, inode in enumerate(inodes, start=3):
            os.symlink(f"socket:[{inode}]", fd / str(i))
        os.symlink("socket:[999]", fd / "99")  # a unix socket: in no IP table
    return tmp_path


def test_decode_addresses():
    assert hostnet.decode_address("0100007F:0016") == ("127.0.0.1", 22)
    assert hostnet.decode_address("014D4DEF:9C41") == ("239.77.77.1", 40001)
    assert hostnet.decode_address("00000000000000000000000001000000:1F91") == ("::1", 8081)


def test_loopback_sockets_pass(tmp_path):
    proc = make_proc(tmp_path, {100: [5002, 6001, 6002, 7001]})
    socks = hostnet.inet_sockets([100], proc)
    assert sorted(s.proto for s in socks) == ["tcp", "tcp", "tcp6", "udp"]
    assert hostnet.violations(socks) == []


def test_multicast_wildcard_and_foreign_peer_are_each_reported(tmp_path):
    proc = make_proc(tmp_path, {100: [5001], 200: [6003, 6004]})
    bad = hostnet.violations(hostnet.inet_sockets([100, 200], proc))
    whys = {(s.pid, s.local, why) for s, why in bad}
    assert whys == {
        (100, "239.77.77.1", "bound to 239.77.77.1, not a loopback address"),   # the old multicast netdev
        (200, "127.0.0.1", "peer 10.0.2.15 is not a loopback address"),
        (200, "0.0.0.0", "bound to 0.0.0.0, not a loopback address"),           # a wildcard listener
    }


def test_processes_without_ip_sockets_have_none(tmp_path):
    proc = make_proc(tmp_path, {300: []})
    assert hostnet.inet_sockets([300, 301], proc) == []   # 301: gone meanwhile
