"""The `container` test plugin: the one rule for "this host has no kernel of its own"."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.rdma.ha_storage.plugins.test import host


@pytest.mark.parametrize("role, kind, expect", [
    ("guest", "docker", True), ("guest", "podman", True), ("guest", "lxc", True),
    ("guest", "systemd-nspawn", True), ("guest", "container", True),
    ("guest", "kvm", False),         # the lab's QEMU VMs: a kernel of their own
    ("host", "kvm", False),          # a hypervisor host
    ("host", "docker", False),       # a host that runs containers
    ("", "", False),                 # bare metal as setup reports it with nothing detected
])
def test_container(role, kind, expect):
    assert host.container({"virtualization_role": role, "virtualization_type": kind}) is expect


def test_missing_virtual_facts_say_what_to_gather():
    with pytest.raises(AnsibleFilterError, match="gather the \"virtual\" subset"):
        host.container({"os_family": "Debian"})


def test_registered_under_its_name():
    assert host.TestModule().tests() == {"container": host.container}
