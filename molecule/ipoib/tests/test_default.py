"""What the ipoib role promises in a container: the model's IPoIB interfaces written, byte for byte,
for the backend the host runs; nothing brought up (no IPoIB in a container); nothing on a host
whose slice has no IPoIB interface."""
import pytest

HEADER = "# Managed by Ansible (role rdma.ha_storage.ipoib) from the fabric model rdma_fabric: do not edit.\n"
HOST = {"ipoib-deb12-ifupdown": 11, "ipoib-deb13-networkd": 12, "ipoib-deb12-nm": 13}


def name(host):
    return host.backend.get_hostname()


def only(host, *names):
    if name(host) not in names:
        pytest.skip("for %s only" % ", ".join(names))


def ifupdown(n):
    return HEADER + """# ifupdown creates a P_Key child <parent>.<pkey> itself (create_child) when the parent is an IPoIB netdev.

# ib0.8001: network storage, P_Key 0x8001, port mlx4_0/1, datagram mode
auto ib0.8001
iface ib0.8001 inet static
    address 10.77.1.{n}/24
    mtu 2044
    pre-up ip link set dev ib0 up
    pre-up echo datagram > /sys/class/net/ib0.8001/mode

# ib1.8002: network fast, P_Key 0x8002, port mlx4_0/2, connected mode
auto ib1.8002
iface ib1.8002 inet static
    address 10.77.2.{n}/24
    mtu 65520
    pre-up ip link set dev ib1 up
    pre-up echo connected > /sys/class/net/ib1.8002/mode

# ib0.8003: network bonded, P_Key 0x8003, port mlx4_0/1, connected mode, port of bond0
auto ib0.8003
iface ib0.8003 inet manual
    pre-up ip link set dev ib0 up
    pre-up echo connected > /sys/class/net/ib0.8003/mode
    bond-master bond0

# ib1.8003: network bonded, P_Key 0x8003, port mlx4_0/2, connected mode, port of bond0
auto ib1.8003
iface ib1.8003 inet manual
    pre-up ip link set dev ib1 up
    pre-up echo connected > /sys/class/net/ib1.8003/mode
    bond-master bond0

# bond0: network bonded, P_Key 0x8003, active-backup bond of ib0.8003 and ib1.8003
auto bond0
iface bond0 inet static
    address 10.77.3.{n}/24
    mtu 65520
    bond-slaves none
    bond-mode active-backup
    bond-fail-over-mac active
    bond-miimon 100
    bond-primary ib0.8003
""".format(n=n)


def netdev_ipoib(child, pkey, mode):
    return HEADER + "[NetDev]\nName=%s\nKind=ipoib\n\n[IPoIB]\nPartitionKey=%s\nMode=%s\n" % (child, pkey, mode)


def network_address(link, mtu, address):
    return HEADER + "[Match]\nName=%s\n\n[Link]\nMTUBytes=%d\n\n[Network]\nAddress=%s\n" % (link, mtu, address)


def networkd(n):
    return {
        "50-rdma-ha-storage-ib0.8001.netdev": netdev_ipoib("ib0.8001", "0x8001", "datagram"),
        "50-rdma-ha-storage-ib1.8002.netdev": netdev_ipoib("ib1.8002", "0x8002", "connected"),
        "50-rdma-ha-storage-ib0.8003.netdev": netdev_ipoib("ib0.8003", "0x8003", "connected"),
        "50-rdma-ha-storage-ib1.8003.netdev": netdev_ipoib("ib1.8003", "0x8003", "connected"),
        "50-rdma-ha-storage-bond0.netdev": HEADER + "[NetDev]\nName=bond0\nKind=bond\n\n[Bond]\nMode=active-backup\n"
                                                    "FailOverMACPolicy=active\nMIIMonitorSec=100ms\n",
        "50-rdma-ha-storage-ib0.8001.network": network_address("ib0.8001", 2044, "10.77.1.%d/24" % n),
        "50-rdma-ha-storage-ib1.8002.network": network_address("ib1.8002", 65520, "10.77.2.%d/24" % n),
        "50-rdma-ha-storage-bond0.network": network_address("bond0", 65520, "10.77.3.%d/24" % n),
        "50-rdma-ha-storage-ib0.8003.network": HEADER + "[Match]\nName=ib0.8003\n\n[Network]\nLinkLocalAddressing=no\n"
                                                        "Bond=bond0\nPrimarySlave=yes\n",
        "50-rdma-ha-storage-ib1.8003.network": HEADER + "[Match]\nName=ib1.8003\n\n[Network]\nLinkLocalAddressing=no\n"
                                                        "Bond=bond0\n",
        "50-rdma-ha-storage-ib0.network": HEADER + "[Match]\nName=ib0\n\n[Network]\nLinkLocalAddressing=no\n"
                                                   "IPoIB=ib0.8001\nIPoIB=ib0.8003\n",
        "50-rdma-ha-storage-ib1.network": HEADER + "[Match]\nName=ib1\n\n[Network]\nLinkLocalAddressing=no\n"
                                                   "IPoIB=ib1.8002\nIPoIB=ib1.8003\n",
    }


BOND_UUID = "134d02ef-a909-52fe-b980-83e0c5e04352"   # to_uuid('rdma.ha_storage.ipoib bond0'): stable


def keyfile_child(child, uuid, mtu, pkey, parent, mode, address):
    return HEADER + ("[connection]\nid=rdma-ha-storage-{c}\nuuid={u}\ntype=infiniband\ninterface-name={c}\n\n"
                     "[infiniband]\nmtu={m}\np-key={p}\nparent={parent}\ntransport-mode={mode}\n\n"
                     "[ipv4]\naddress1={a}/24\nmethod=manual\n\n[ipv6]\nmethod=disabled\n").format(
        c=child, u=uuid, m=mtu, p=pkey, parent=parent, mode=mode, a=address)


def keyfile_port(child, uuid, parent):
    return HEADER + ("[connection]\nid=rdma-ha-storage-{c}\nuuid={u}\ntype=infiniband\ninterface-name={c}\n"
                     "master={b}\nslave-type=bond\n\n[infiniband]\np-key=32771\nparent={parent}\n"
                     "transport-mode=connected\n").format(c=child, u=uuid, b=BOND_UUID, parent=parent)


def networkmanager(n):
    return {
        "rdma-ha-storage-ib0.8001.nmconnection": keyfile_child("ib0.8001", "f0026554-f8ba-5c71-a786-77dbfc0ca1b1", 2044,
                                                               32769, "ib0", "datagram", "10.77.1.%d" % n),
        "rdma-ha-storage-ib1.8002.nmconnection": keyfile_child("ib1.8002", "abb5fc18-ada7-5780-9ea8-b2df07ebb244", 65520,
                                                               32770, "ib1", "connected", "10.77.2.%d" % n),
        "rdma-ha-storage-ib0.8003.nmconnection": keyfile_port("ib0.8003", "8875b01d-2c4c-5513-b725-43b41d42ed8f", "ib0"),
        "rdma-ha-storage-ib1.8003.nmconnection": keyfile_port("ib1.8003", "60f659c3-72f6-51fb-a665-c502c8c6ebc6", "ib1"),
        "rdma-ha-storage-bond0.nmconnection": HEADER + (
            "[connection]\nid=rdma-ha-storage-bond0\nuuid=%s\ntype=bond\ninterface-name=bond0\nautoconnect-slaves=1\n\n"
            "[ethernet]\nmtu=65520\n\n[bond]\nfail_over_mac=active\nmiimon=100\nmode=active-backup\nprimary=ib0.8003\n\n"
            "[ipv4]\naddress1=10.77.3.%d/24\nmethod=manual\n\n[ipv6]\nmethod=disabled\n") % (BOND_UUID, n),
    }


def managed(host, directory, prefix):
    listed = host.run("ls -A %s" % directory)
    assert listed.rc == 0
    return sorted(f for f in listed.stdout.split() if f.startswith(prefix))


def test_ifupdown_stanzas(host):
    only(host, "ipoib-deb12-ifupdown")
    f = host.file("/etc/network/interfaces.d/rdma-ha-storage-ipoib")
    assert (f.user, f.group, f.mode) == ("root", "root", 0o644)
    assert f.content_string == ifupdown(11)
    assert managed(host, "/etc/network/interfaces.d", "") == ["rdma-ha-storage-ipoib"]
    assert "source /etc/network/interfaces.d/*" in host.file("/etc/network/interfaces").content_string.splitlines()
    assert host.package("ifupdown").is_installed and host.package("ifenslave").is_installed


def test_ifupdown_reads_them_as_installed(host):
    only(host, "ipoib-deb12-ifupdown")
    listed = host.run("ifquery --list")
    assert listed.rc == 0, listed.stderr
    assert listed.stdout.split() == ["lo", "ib0.8001", "ib1.8002", "ib0.8003", "ib1.8003", "bond0"]
    bond = host.run("ifquery bond0")
    assert bond.rc == 0 and "bond-fail-over-mac: active" in bond.stdout and "bond-mode: active-backup" in bond.stdout
    dry = host.run("ifup --no-act --force ib0.8001")
    said = dry.stdout + dry.stderr
    # ifupdown's own P_Key child creation for an IPoIB parent (type 32), the role's pre-up lines, the MTU
    assert dry.rc == 0, said
    assert "echo 0x8001 > /sys/class/net/ib0/create_child" in said
    assert said.index("create_child") < said.index("echo datagram > /sys/class/net/ib0.8001/mode") \
        < said.index("ip link set dev ib0.8001 mtu 2044")


def test_networkd_files(host):
    only(host, "ipoib-deb13-networkd")
    want = networkd(12)
    assert managed(host, "/etc/systemd/network", "50-rdma-ha-storage-") == sorted(want)
    for filename, content in want.items():
        f = host.file("/etc/systemd/network/" + filename)
        assert (f.user, f.mode) == ("root", 0o644)
        assert f.content_string == content, filename


def test_networkd_runs_and_has_nothing_to_say_about_them(host):
    only(host, "ipoib-deb13-networkd")
    assert host.service("systemd-networkd").is_running
    reload = host.run("networkctl reload")
    assert reload.rc == 0, reload.stderr
    log = host.run("journalctl -u systemd-networkd --no-pager -o cat | grep rdma-ha-storage || true")
    assert log.stdout.strip() == ""


def test_networkmanager_keyfiles(host):
    only(host, "ipoib-deb12-nm")
    want = networkmanager(13)
    assert managed(host, "/etc/NetworkManager/system-connections", "rdma-ha-storage-") == sorted(want)
    for filename, content in want.items():
        f = host.file("/etc/NetworkManager/system-connections/" + filename)
        assert (f.user, f.group, f.mode) == ("root", "root", 0o600)
        assert f.content_string == content, filename


def test_networkmanager_reads_every_keyfile(host):
    only(host, "ipoib-deb12-nm")
    for filename in networkmanager(13):
        cmd = host.run("nmcli --offline connection modify connection.autoconnect yes "
                       "< /etc/NetworkManager/system-connections/%s" % filename)
        assert cmd.rc == 0, (filename, cmd.stderr)


@pytest.mark.parametrize("hostname", sorted(HOST))
def test_modules_listed_for_the_boot_not_loaded(host, hostname):
    only(host, hostname)
    conf = host.file("/etc/modules-load.d/rdma-ha-storage-ipoib.conf")
    assert [line for line in conf.content_string.splitlines() if not line.startswith("#")] == ["ib_ipoib", "bonding"]
    # nothing was brought up: no IPoIB netdev in a container
    assert host.run("ip -o link show bond0").rc != 0


def test_a_host_without_ipoib_is_left_alone(host):
    only(host, "ipoib-deb13-none")
    assert not host.file("/etc/modules-load.d/rdma-ha-storage-ipoib.conf").exists
    assert not host.package("ifupdown").is_installed
    assert managed(host, "/etc/systemd/network", "50-rdma-ha-storage-") == []


def test_validation_leaves_nothing_behind(host):
    dirs = [d for d in ("/tmp", "/etc/network", "/etc/systemd/network", "/etc/NetworkManager") if host.file(d).is_directory]
    leftovers = host.run("find %s -maxdepth 2 \\( -name 'ipoib_config.*' -o -name '.rdma-ha-storage-*' "
                         "-o -name '.50-rdma-ha-storage-*' \\)" % " ".join(dirs))
    assert leftovers.rc == 0 and leftovers.stdout == ""
