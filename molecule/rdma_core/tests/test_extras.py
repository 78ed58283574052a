"""rdma_core's memlock limits, modprobe.d parameters, OpenSM and vendor repository rendering on
the containers (molecule.yml: deb12 is a storage node with an InfiniBand port and opensm priority
5, deb13 an initiator with a RoCE port only; side_effect.yml renders the vendor files)."""
import pytest

INFINIBAND_HOSTS = {"rdma-core-deb12"}
HEADER = "# Managed by Ansible (rdma.ha_storage.rdma_core): local changes are overwritten."


def content_lines(text):
    return [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]


def test_limits_file(host):
    conf = host.file("/etc/security/limits.d/rdma-ha-storage.conf")
    assert conf.is_file and conf.mode == 0o644 and conf.user == "root"
    assert conf.content_string.startswith(HEADER)
    assert [ln.split() for ln in content_lines(conf.content_string)] == [
        [domain, kind, "memlock", "unlimited"] for domain in ("*", "root", "@rdma") for kind in ("soft", "hard")]


def test_systemd_memlock_drop_in(host):
    conf = host.file("/etc/systemd/system.conf.d/rdma-ha-storage-memlock.conf")
    assert conf.is_file and conf.mode == 0o644
    assert content_lines(conf.content_string) == ["[Manager]", "DefaultLimitMEMLOCK=infinity"]
    # the manager was re-executed: it reports the new default
    assert host.check_output("systemctl show --property=DefaultLimitMEMLOCK") == "DefaultLimitMEMLOCK=infinity"


def test_modprobe_file_by_node_kind(host):
    conf = host.file("/etc/modprobe.d/rdma-ha-storage.conf")
    assert conf.is_file and conf.mode == 0o644
    text = conf.content_string
    assert text.startswith("# Managed by Ansible (rdma.ha_storage.modprobe_options)")
    if host.backend.host in INFINIBAND_HOSTS:  # kind storage
        assert "node kind storage" in text
        assert content_lines(text) == ["options ib_ipoib recv_queue_size=1024 send_queue_size=1024",
                                       "options mlx4_core log_num_mgm_entry_size=-1"]
    else:
        assert "node kind initiator" in text
        assert content_lines(text) == ["options ib_ipoib send_queue_size=512"]


def test_modprobe_file_is_read_by_modprobe(host):
    # modprobe parses the configuration (no module is loaded: the container has none)
    out = host.check_output("modprobe --showconfig | grep '^options ib_ipoib'")
    assert "send_queue_size=" in out


def test_opensm_on_the_infiniband_host_only(host):
    infiniband = host.backend.host in INFINIBAND_HOSTS
    assert host.package("opensm").is_installed == infiniband
    if not infiniband:
        assert not host.file("/etc/opensm/opensm.conf").exists
        return
    ports = host.file("/etc/default/opensm").content_string
    assert ports.startswith(HEADER)
    assert content_lines(ports) == ['PORTS="0x248a070300a1b2c1"']
    assert "# mlx5_0/1: 0x248a070300a1b2c1" in ports
    assert content_lines(host.file("/etc/opensm/opensm.conf").content_string) == [
        "sm_priority 5", "routing_engine minhop"]
    service = host.service("opensm")
    assert service.is_enabled
    # not started in a container: no /sys/class/infiniband_mad (the unit's condition)
    assert not host.file("/sys/class/infiniband_mad/abi_version").exists


def test_vendor_repository_rendering(host):
    sources = host.file("/root/rdma-vendor-test/sources.list.d/rdma-ha-storage-vendor.sources")
    assert sources.is_file and sources.mode == 0o644
    assert content_lines(sources.content_string) == [
        "Types: deb",
        "URIs: https://mirror.example/doca/2.9.0/debian12.5/x86_64/",
        "Suites: ./",
        "Signed-By: /root/rdma-vendor-test/keyrings/rdma-ha-storage-vendor.asc",
    ]
    key = host.file("/root/rdma-vendor-test/keyrings/rdma-ha-storage-vendor.asc").content_string
    assert key.startswith("-----BEGIN PGP PUBLIC KEY BLOCK-----\n") and key.endswith("-----END PGP PUBLIC KEY BLOCK-----\n")


@pytest.mark.parametrize("path", ["/etc/apt/sources.list.d/rdma-ha-storage-vendor.sources",
                                  "/etc/apt/keyrings/rdma-ha-storage-vendor.asc"])
def test_no_vendor_repository_for_apt(host, path):
    assert not host.file(path).exists
