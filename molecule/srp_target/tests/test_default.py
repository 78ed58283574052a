"""What the srp_target role promises in a container (no LIO, configfs or RDMA there)."""
import json
import xml.etree.ElementTree as ET

import pytest

AGENT = "/usr/lib/ocf/resource.d/rdma_ha_storage/lio_srpt"
LIB = "/usr/lib/ocf/lib/rdma_ha_storage/lio.py"
CONFIG = "/etc/rdma-ha-storage/lio_srpt.json"
ENV = "OCF_ROOT=/usr/lib/ocf OCF_RESKEY_config=%s OCF_RESKEY_lib_dir=/usr/lib/ocf/lib/rdma_ha_storage "
PORT = {"srpt-stor-a": "fe80000000000000505400fffe123401", "srpt-stor-b": "fe80000000000000505400fffe123402"}
INIT_1 = "0xfe80000000000000505400fffe123421"
ESX_1 = ["0xfe800000000000000002c9030021c0d1", "0xfe800000000000000002c9030021c0d2"]


@pytest.mark.parametrize("pkg", ["targetcli-fb", "python3-rtslib-fb", "dbus", "sg3-utils"])
def test_packages(host, pkg):
    assert host.package(pkg).is_installed


def test_agent_and_its_library_are_installed(host):
    agent = host.file(AGENT)
    assert agent.is_file and agent.mode == 0o755 and agent.user == "root"
    lib = host.file(LIB)
    assert lib.is_file and lib.mode == 0o644
    # the library is the collection's module_utils/lio.py: no Ansible import in it
    assert "import ansible" not in lib.content_string and "from ansible" not in lib.content_string


def test_export_description_comes_from_the_model(host):
    spec = json.loads(host.file(CONFIG).content_string)
    name = host.check_output("uname -n")
    assert [p.split(".", 1)[1] if p.startswith("ib.") else p[2:] for p in spec["target_ports"]] == [PORT[name]]
    assert spec["rdma_cm_port"] == 5556
    assert spec["generate_node_acls"] is False
    assert spec["volumes"] == [
        {"name": "vol0", "device": "/dev/drbd0", "serial": "5a1e0d3f0000", "lun": 0, "initiators": [INIT_1] + ESX_1},
        {"name": "vol1", "device": "/dev/drbd1", "serial": "5a1e0d3f0001", "lun": 5, "initiators": ESX_1},
    ]


def test_agent_meta_data_is_ocf_xml(host):
    out = host.run(ENV % CONFIG + AGENT + " meta-data")
    assert out.rc == 0, out.stderr
    root = ET.fromstring(out.stdout)
    assert root.tag == "resource-agent" and root.get("name") == "lio_srpt"
    actions = {a.get("name") for a in root.iter("action")}
    assert {"start", "stop", "monitor", "validate-all", "meta-data"} <= actions
    assert {p.get("name") for p in root.iter("parameter")} >= {"config", "lib_dir"}


def test_agent_validates_the_installed_description(host):
    out = host.run(ENV % CONFIG + AGENT + " validate-all")
    assert out.rc == 0, out.stderr


def test_agent_refuses_a_broken_description(host):
    host.run("mkdir -p /tmp/srpt && printf '{\"volumes\": [{\"name\": \"v\", \"device\": \"drbd0\"}]}' > /tmp/srpt/bad.json")
    out = host.run(ENV % "/tmp/srpt/bad.json" + AGENT + " validate-all")
    assert out.rc == 6, (out.rc, out.stdout, out.stderr)   # OCF_ERR_CONFIGURED
    assert "device" in out.stderr


def test_targetctl_restore_is_disabled(host):
    assert not host.service("rtslib-fb-targetctl").is_enabled


def test_boot_unit_enabled_without_a_cluster_manager(host):
    unit = host.file("/etc/systemd/system/rdma-ha-storage-srpt.service").content_string
    assert "ExecCondition=%s exportable" % AGENT in unit
    assert "ExecStart=%s start" % AGENT in unit and "ExecStop=%s stop" % AGENT in unit
    assert "After=drbd@vol0.target" in unit and "After=drbd@vol1.target" in unit
    assert host.service("rdma-ha-storage-srpt").is_enabled


def test_no_kernel_files_in_a_container(host):
    # the container shares the host's kernel: nothing is loaded or listed for boot there
    assert not host.file("/etc/modules-load.d/rdma-ha-storage-srpt.conf").exists
