"""What the srp_initiator role promises in a container (no RDMA, no kernel of its own)."""
import json

import pytest

LOGINS = {
    # storage node -> (GUID, client address); one login per node, through the initiator's rxe0 port 1
    "stor-a": ("505400fffe770111", "10.77.1.11"),
    "stor-b": ("505400fffe770112", "10.77.1.12"),
}
VOLUMES = {"srp-init-a": ["vol0", "vol1"], "srp-init-b": ["vol0"]}
PROGRAM = "/usr/local/sbin/rdma-srp-login"
CONFIG = "/etc/rdma-ha-storage/srp-login.json"


def login_string(node):
    guid, address = LOGINS[node]
    return "id_ext=%s,ioc_guid=%s,initiator_ext=fe80000000000000,dest=%s:5555,tl_retry_count=6" % (guid, guid, address)


@pytest.mark.parametrize("package", ["srptools", "sg3-utils", "iproute2"])
def test_packages(host, package):
    assert host.package(package).is_installed


def test_ib_srp_parameters_from_the_model(host):
    conf = host.file("/etc/modprobe.d/rdma-ha-storage-srp.conf")
    assert conf.user == "root" and conf.mode == 0o644
    # no ib_srp for the container's kernel: every parameter is written (unchecked); the defaults of
    # ch_count and cmd_sg_entries (0) write nothing
    assert conf.content_string.splitlines()[-1] == "options ib_srp reconnect_delay=5 fast_io_fail_tmo=5 dev_loss_tmo=60"


def test_modules_listed_for_the_boot_not_loaded(host):
    conf = host.file("/etc/modules-load.d/rdma-ha-storage-srp.conf")
    assert [line for line in conf.content_string.splitlines() if not line.startswith("#")] == [
        "rdma_cm", "ib_cm", "scsi_transport_srp", "ib_srp", "sg"]


def test_udev_rule(host):
    rule = host.file("/etc/udev/rules.d/60-rdma-ha-storage-srp.rules")
    lines = [line for line in rule.content_string.splitlines() if line and not line.startswith("#")]
    assert lines == ['ACTION!="remove", SUBSYSTEM=="scsi", ENV{DEVTYPE}=="scsi_device", ATTR{type}=="0", '
                     'TEST=="../../srp_host", ATTR{timeout}="15"']
    # udevadm verify exists from systemd 253 (Debian 13); Debian 12's 252 has none
    if host.run("udevadm verify --help").rc == 0:
        check = host.run("udevadm verify --resolve-names=never %s", rule.path)
        assert check.rc == 0, check.stdout + check.stderr


def test_login_configuration_from_the_model(host):
    conf = host.file(CONFIG)
    assert conf.user == "root" and conf.mode == 0o644
    data = json.loads(conf.content_string)
    assert data["version"] == 1 and data["interval"] == 1.0 and data["failover_interval"] == 0.25
    assert data["login_timeout"] == 15.0
    assert data["ping"] == {"method": "auto", "interval": 0.25, "timeout": 0.3, "misses": 2}
    assert data["on_loss"] == {"block_route": True, "reset_host": True, "route_table": 4791, "rule_priority": 4791}
    name = host.backend.get_hostname()
    assert [(t["name"], t["srp_host"], t["volumes"]) for t in data["targets"]] == [
        ("stor-a", "/sys/class/infiniband_srp/srp-rxe0-1", VOLUMES[name]),
        ("stor-b", "/sys/class/infiniband_srp/srp-rxe0-1", VOLUMES[name])]


def test_the_service_accepts_its_configuration(host):
    prog = host.file(PROGRAM)
    assert prog.mode == 0o755 and prog.user == "root"
    assert prog.content_string.startswith("#!/usr/bin/python3\n# -*- coding: utf-8 -*-\n")
    check = host.run("%s --check-config %s", PROGRAM, CONFIG)
    assert check.rc == 0, check.stderr
    assert check.stdout.splitlines() == [
        "%s: %s > /sys/class/infiniband_srp/srp-rxe0-1/add_target" % (node, login_string(node)) for node in ("stor-a", "stor-b")]


def test_once_says_that_nothing_is_logged_in(host):
    # no storage node answers here, so --once logs in to nothing and says so (exit 1)
    once = host.run("%s --once --config %s", PROGRAM, CONFIG)
    assert once.rc == 1, once.stdout + once.stderr
    assert once.stdout.splitlines()[-1] == "logged in: none; not logged in: stor-a, stor-b"


def test_unit_installed_not_enabled_in_a_container(host):
    unit = host.file("/etc/systemd/system/rdma-srp-login.service")
    assert unit.mode == 0o644
    assert "ExecStart=%s --config %s" % (PROGRAM, CONFIG) in unit.content_string
    check = host.run("systemd-analyze verify /etc/systemd/system/rdma-srp-login.service")
    assert check.rc == 0, check.stderr
    service = host.service("rdma-srp-login.service")
    assert not service.is_enabled and not service.is_running


def test_srp_daemon_disabled(host):
    assert not host.service("srp_daemon.service").is_enabled
    assert not host.service("srp_daemon.service").is_running
