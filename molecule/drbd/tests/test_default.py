"""What the drbd role promises in a container (no DRBD kernel, no block devices)."""
import re

import pytest

# DRBD's own parser picks the dialect from the loaded module; a container has none, so the
# tests name the dialect the role rendered (in-tree DRBD 8.4) like the role does.
DUMP = "DRBD_DRIVER_VERSION_OVERRIDE=8.4.0 drbdadm -c /etc/drbd.conf dump %s"
NODES = {"drbd-stor-a": "10.20.0.11", "drbd-stor-b": "10.20.0.12"}
DISKS = {"vol0": {"drbd-stor-a": "/dev/sdb", "drbd-stor-b": "/dev/sdb"},
         "vol1": {"drbd-stor-a": "/dev/sdc", "drbd-stor-b": "/dev/sdd"}}
PORTS = {"vol0": 7789, "vol1": 7790}


def test_drbd_utils_installed(host):
    assert host.package("drbd-utils").is_installed


def test_global_common_is_private_and_complete(host):
    conf = host.file("/etc/drbd.d/global_common.conf")
    assert conf.is_file
    assert conf.user == "root" and conf.mode == 0o600
    text = conf.content_string
    for line in ("protocol C;", "cram-hmac-alg sha256;", "on-io-error detach;",
                 "fencing dont-care;", "ping-int 2;", "ping-timeout 5;", "timeout 10;",
                 "max-buffers 8000;", "sndbuf-size 0;", "rcvbuf-size 0;", "c-plan-ahead 20;",
                 "c-fill-target 1M;", "c-max-rate 400M;", "resync-rate 100M;", "al-extents 3389;"):
        assert line in text, line
    assert 'shared-secret "molecule-not-a-secret";' in text
    # no cluster manager here: no crm-fence-peer handlers
    assert "crm-fence-peer" not in text


@pytest.mark.parametrize("res", ["vol0", "vol1"])
def test_resource_file_from_the_model(host, res):
    conf = host.file("/etc/drbd.d/%s.res" % res)
    assert conf.is_file and conf.mode == 0o644
    text = conf.content_string
    assert "resource %s {" % res in text
    minor = PORTS[res] - 7789
    for node, address in NODES.items():
        block = re.search(r"on %s \{(.*?)\}" % node, text, re.S)
        assert block, node
        body = block.group(1)
        assert "device /dev/drbd%d minor %d;" % (minor, minor) in body
        assert "disk %s;" % DISKS[res][node] in body
        assert "address ipv4 %s:%d;" % (address, PORTS[res]) in body
        assert "meta-disk internal;" in body
    assert "shared-secret" not in text


@pytest.mark.parametrize("res", ["vol0", "vol1"])
def test_drbdadm_accepts_installed_config(host, res):
    cmd = host.run(DUMP, res)
    assert cmd.rc == 0, cmd.stderr
    assert "resource %s {" % res in cmd.stdout
    for node, address in NODES.items():
        assert "on %s {" % node in cmd.stdout
        assert "address          ipv4 %s:%d;" % (address, PORTS[res]) in cmd.stdout


def test_drbdadm_sees_exactly_the_model_resources(host):
    cmd = host.run("DRBD_DRIVER_VERSION_OVERRIDE=8.4.0 drbdadm -c /etc/drbd.conf sh-resources")
    assert cmd.rc == 0, cmd.stderr
    assert sorted(cmd.stdout.split()) == ["vol0", "vol1"]


def test_validation_leaves_nothing_behind(host):
    """drbd_config validates in a private temporary directory and installs through hidden
    temporary files: neither may be left over (also not after the rejected run of side_effect)."""
    assert host.run("ls -A /etc/drbd.d").stdout.split() == ["global_common.conf", "vol0.res", "vol1.res"]
    leftovers = host.run("find /tmp /var/tmp -maxdepth 1 -name 'drbd_config.*'")
    assert leftovers.rc == 0 and leftovers.stdout == ""


@pytest.mark.parametrize("res", ["vol0", "vol1"])
def test_boot_activation_enabled_not_started(host, res):
    assert host.service("drbd@%s.target" % res).is_enabled
    # the role never starts units: in a container that would fail (no kernel module) anyway
    assert not host.service("drbd@%s.service" % res).is_running


def test_no_kernel_module_handling_in_a_container(host):
    assert not host.file("/etc/modules-load.d/drbd.conf").exists
    assert not host.file("/proc/drbd").exists
