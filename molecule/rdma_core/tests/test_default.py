"""What the rdma_core role promises on a container (no RDMA kernel there)."""
import pytest

PACKAGES = ["rdma-core", "ibverbs-providers", "ibverbs-utils", "rdmacm-utils"]
# molecule.yml models rdma-core-deb12 with an InfiniBand port and rdma-core-deb13 with RoCE only.
INFINIBAND_HOSTS = {"rdma-core-deb12"}


@pytest.mark.parametrize("name", PACKAGES)
def test_package_installed(host, name):
    assert host.package(name).is_installed


def test_diagnostics_only_on_infiniband_hosts(host):
    infiniband = host.backend.host in INFINIBAND_HOSTS
    assert host.package("infiniband-diags").is_installed == infiniband
    # Perl comes with the diagnostics only.
    assert host.package("perl").is_installed == infiniband


def test_modules_load_file(host):
    conf = host.file("/etc/modules-load.d/rdma-ha-storage.conf")
    assert conf.is_file
    assert conf.mode == 0o644
    lines = [ln for ln in conf.content_string.splitlines() if ln and not ln.startswith("#")]
    assert lines == ["ib_umad", "ib_uverbs", "rdma_ucm"]


@pytest.mark.parametrize("provider", ["rxe", "mlx4", "mlx5", "siw"])
def test_verbs_provider_present(host, provider):
    # Without the user-space provider, ibv_devices lists nothing although the kernel driver is up
    # (seen in the lab with Soft-RoCE): the rxe provider must be there for the lab's RoCE fabric.
    libdir = host.check_output("dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu")
    found = host.run("ls /usr/lib/%s/libibverbs/lib%s-rdmav*.so", libdir, provider)
    assert found.rc == 0, found.stderr


def test_verbs_tools_installed(host):
    for tool in ("ibv_devices", "ibv_devinfo", "rping", "rdma"):
        assert host.exists(tool), tool


def test_soft_device_boot_unit_only_where_the_model_has_soft_devices(host):
    unit = host.file("/etc/systemd/system/rdma-ha-storage-links.service")
    if host.backend.host in INFINIBAND_HOSTS:
        assert not unit.exists
        return
    assert unit.mode == 0o644
    body = [ln for ln in unit.content_string.splitlines() if ln and not ln.startswith("#")]
    assert body == [
        "[Unit]",
        "Description=Software RDMA devices rxe0 (rdma.ha_storage)",
        "Documentation=man:rdma-link(8)",
        "Requires=sys-subsystem-net-devices-eth1.device",
        "After=sys-subsystem-net-devices-eth1.device",
        "After=systemd-modules-load.service network.target",
        "Before=rdma-ha-storage-srpt.service rdma-srp-login.service drbd.service pacemaker.service",
        "[Service]",
        "Type=oneshot",
        "RemainAfterExit=yes",
        "ExecStart=/bin/sh -c 'rdma link show rxe0/1 >/dev/null 2>&1 || exec rdma link add rxe0 type rxe netdev eth1'",
        "[Install]",
        "WantedBy=multi-user.target",
    ]
    assert host.service("rdma-ha-storage-links.service").is_enabled
    # --man=no: no man pages in the container
    verify = host.run("systemd-analyze verify --man=no /etc/systemd/system/rdma-ha-storage-links.service")
    assert verify.rc == 0, verify.stderr
