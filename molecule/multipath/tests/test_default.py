"""What the multipath role promises in a container (no device-mapper, no SRP paths)."""
import re

import pytest

# lio_wwid: "3" + "6001405" + the first 25 hex digits of the serial, zero-padded
MAPS = {"pair1-vol0": "360014055a1e0d3f00000000000000000", "vol1": "360014055a1e0d3f00010000000000000",
        "pair2-vol0": "360014055a1e0d3f01000000000000000"}


def conf_lines(host):
    conf = host.file("/etc/multipath.conf")
    assert conf.user == "root" and conf.mode == 0o644
    return [line.strip() for line in conf.content_string.splitlines() if line.strip() and not line.strip().startswith("#")]


def dump(host):
    """multipath -t: the configuration multipath reads; its stderr must be empty (it exits 0 anyway)."""
    cmd = host.run("multipath -t")
    assert cmd.rc == 0 and cmd.stderr == "", cmd.stderr
    return cmd.stdout


def test_multipath_tools_installed(host):
    assert host.package("multipath-tools").is_installed


def test_initiator_configuration_from_the_model(host):
    if host.backend.get_hostname() != "mp-init-a":
        pytest.skip("initiator only")
    lines = conf_lines(host)
    for line in ("user_friendly_names no", "find_multipaths greedy", "polling_interval 1", "checker_timeout 5",
                 'wwid ".*"', 'vendor "LIO-ORG"', 'product ".*"', "path_grouping_policy failover", "path_checker tur",
                 "detect_prio no", "prio const", "failback manual", "no_path_retry queue"):
        assert line in lines, line
    for alias, wwid in MAPS.items():
        assert 'wwid "^%s$"' % wwid in lines
        assert lines[lines.index("wwid %s" % wwid) + 1] == "alias %s" % alias
    assert not [line for line in lines if "fast_io_fail" in line or "dev_loss" in line]


def test_initiator_configuration_as_multipath_reads_it(host):
    if host.backend.get_hostname() != "mp-init-a":
        pytest.skip("initiator only")
    text = dump(host)
    assert re.search(r'find_multipaths "greedy"', text)
    # our LIO-ORG entry (merged with the built-in one), with the values the role set
    devices = re.findall(r"\tdevice \{\n(.*?)\n\t\}", text, re.S)
    lio = [d for d in devices if 'vendor "LIO-ORG"' in d and 'no_path_retry "queue"' in d]
    assert lio, "no LIO-ORG device with no_path_retry queue in multipath -t"
    for value in ('path_grouping_policy "failover"', 'path_checker "tur"', 'prio "const"', 'detect_prio "no"'):
        assert value in lio[0], value
    for alias, wwid in MAPS.items():
        assert re.search(r'wwid "%s"\n\t\talias "%s"' % (wwid, alias), text), alias


def test_storage_node_blacklists_drbd_only(host):
    if host.backend.get_hostname() != "mp-stor-b":
        pytest.skip("storage node only")
    assert conf_lines(host) == ["defaults {", "user_friendly_names no", "}", "blacklist {", 'devnode "^drbd[0-9]+"', "}"]
    assert re.search(r'blacklist \{\n(.*\n)*?\tdevnode "\^drbd\[0-9\]\+"', dump(host))


def test_dm_multipath_listed_for_the_boot(host):
    conf = host.file("/etc/modules-load.d/rdma-ha-storage-multipath.conf")
    assert [line for line in conf.content_string.splitlines() if not line.startswith("#")] == ["dm_multipath"]


def test_multipathd_not_started_in_a_container(host):
    assert not host.service("multipathd.service").is_running


def test_validation_leaves_nothing_behind(host):
    assert host.run("ls -A /etc").stdout.count("multipath.conf") == 1
    leftovers = host.run("find /tmp /etc -maxdepth 1 -name 'multipath_config.*' -o -maxdepth 1 -name '.multipath.conf.*'")
    assert leftovers.rc == 0 and leftovers.stdout == ""
