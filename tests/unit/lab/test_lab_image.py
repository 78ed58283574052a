"""lab/image.py: package list, cache key, initrd module order, local repository index."""
import json
import shutil

import pytest

from lab import image, proc


def test_parse_packages_groups_and_comments():
    text = "# header\n\n[drbd]   # role\ndrbd-utils\n[srp_target]\ntargetcli-fb  # why\ndbus\n[cluster]\ndbus\npacemaker\n"
    groups = image.parse_packages(text)
    assert groups == {"drbd": ["drbd-utils"], "srp_target": ["targetcli-fb", "dbus"], "cluster": ["dbus", "pacemaker"]}
    assert image.all_packages(groups) == ["drbd-utils", "targetcli-fb", "dbus", "pacemaker"]


def test_parse_packages_rejects_garbage_with_the_line_number():
    with pytest.raises(image.ImageError, match=r"packages.txt:2: .*rm -rf"):
        image.parse_packages("[x]\nrm -rf /\n")


def test_the_shipped_package_list_covers_what_the_roles_need():
    groups = image.parse_packages(image.PACKAGES_FILE.read_text())
    pkgs = set(image.all_packages(groups))
    for p in ("drbd-utils", "rdma-core", "ibverbs-providers", "ibverbs-utils", "rdmacm-utils", "targetcli-fb",
              "python3-rtslib-fb", "srptools", "multipath-tools", "sg3-utils", "lsscsi", "fio", "pacemaker",
              "corosync", "crmsh", "resource-agents", "dbus"):
        assert p in pkgs, p
    # nothing a role installs is baked into the image
    assert not pkgs & set(image.BASE_PACKAGES)


def test_cache_key_is_stable_and_follows_the_recipe(tmp_path, monkeypatch):
    pk = tmp_path / "packages.txt"
    pk.write_text("[drbd]\ndrbd-utils\n")
    monkeypatch.setattr(image, "PACKAGES_FILE", pk)
    k1 = image.cache_key(image.recipe("6.1.1-1"))
    assert k1 == image.cache_key(image.recipe("6.1.1-1"))
    assert len(k1) == 16
    assert image.cache_key(image.recipe("6.1.2-1")) != k1          # kernel version
    pk.write_text("[drbd]\ndrbd-utils\nfio\n")
    k2 = image.cache_key(image.recipe("6.1.1-1"))
    assert k2 != k1                                                # package list
    pk.write_text("# a comment only changes nothing\n[drbd]\ndrbd-utils\nfio\n")
    assert image.cache_key(image.recipe("6.1.1-1")) == k2
    guest = tmp_path / "guest"
    shutil.copytree(image.GUEST_DIR, guest)
    monkeypatch.setattr(image, "GUEST_DIR", guest)
    assert image.cache_key(image.recipe("6.1.1-1")) == k2
    (guest / "rdma-lab-boot").write_text("#!/bin/sh\necho changed\n")
    assert image.cache_key(image.recipe("6.1.1-1")) != k2          # files baked into the image


def test_module_closure_loads_dependencies_first(tmp_path):
    (tmp_path / "modules.dep").write_text(
        "kernel/fs/ext4/ext4.ko.xz: kernel/fs/mbcache.ko.xz kernel/fs/jbd2/jbd2.ko.xz kernel/lib/crc16.ko.xz\n"
        "kernel/fs/mbcache.ko.xz:\n"
        "kernel/fs/jbd2/jbd2.ko.xz:\n"
        "kernel/lib/crc16.ko.xz:\n"
        "kernel/drivers/block/virtio_blk.ko.xz:\n"
        "kernel/drivers/virtio/virtio_pci.ko.xz: kernel/drivers/virtio/virtio_pci_modern_dev.ko.xz\n"
        "kernel/drivers/virtio/virtio_pci_modern_dev.ko.xz:\n"
        "kernel/unrelated/foo.ko.xz:\n")
    order = image.module_closure(tmp_path, ("virtio_pci", "virtio_blk", "ext4", "not_there"))
    names = [p.rsplit("/", 1)[1] for p in order]
    assert names.index("virtio_pci_modern_dev.ko.xz") < names.index("virtio_pci.ko.xz")
    for dep in ("mbcache.ko.xz", "jbd2.ko.xz", "crc16.ko.xz"):
        assert names.index(dep) < names.index("ext4.ko.xz")
    assert "foo.ko.xz" not in names and len(names) == len(set(names)) == 7


def test_debian_mirror_is_an_http_debian_url():
    m = image.debian_mirror()
    assert m.startswith(("http://", "https://")) and m.rstrip("/").endswith("/debian")


@pytest.mark.skipif(not shutil.which("dpkg-deb") or not shutil.which("dpkg-scanpackages"), reason="needs dpkg-dev")
def test_write_repo_index_makes_a_flat_repository(tmp_path):
    pkg = tmp_path / "src"
    (pkg / "DEBIAN").mkdir(parents=True)
    (pkg / "DEBIAN" / "control").write_text("Package: rdma-lab-dummy\nVersion: 1.0\nArchitecture: all\n"
                                            "Maintainer: lab <lab@example.invalid>\nDescription: test\n")
    repo = tmp_path / "repo"
    repo.mkdir()
    proc.run(["dpkg-deb", "-b", str(pkg), str(repo / "rdma-lab-dummy_1.0_all.deb")], timeout=120, check=True)
    with open(tmp_path / "log", "w") as logf:
        n = image.write_repo_index(repo, logf)
    assert n == 1
    packages = (repo / "Packages").read_text()
    assert "Package: rdma-lab-dummy" in packages and "Filename: ./rdma-lab-dummy_1.0_all.deb" in packages
    release = (repo / "Release").read_text()
    assert "SHA256:" in release and " Packages.gz" in release


def test_recipe_is_json_serialisable():
    json.dumps(image.recipe("x"))


def test_preinstall_starts_nothing_and_disables_what_the_packages_enabled(tmp_path, monkeypatch):
    rootfs = tmp_path / "rootfs"
    unitdir = rootfs / "etc/systemd/system"
    (unitdir / "multi-user.target.wants").mkdir(parents=True)
    (rootfs / "usr/sbin").mkdir(parents=True)
    (unitdir / "multi-user.target.wants/ssh.service").symlink_to("/lib/systemd/system/ssh.service")
    seen = {}

    def fake_run(cmd, logf, timeout=1800, env=None):
        # what apt-get install of corosync and multipath-tools leaves behind
        seen["cmd"] = cmd
        seen["policy"] = (rootfs / "usr/sbin/policy-rc.d").read_text()
        (unitdir / "multi-user.target.wants/corosync.service").symlink_to("/lib/systemd/system/corosync.service")
        (unitdir / "sockets.target.wants").mkdir()
        (unitdir / "sockets.target.wants/multipathd.socket").symlink_to("/lib/systemd/system/multipathd.socket")
        (unitdir / "multipath-tools.service").symlink_to("/lib/systemd/system/multipathd.service")

    monkeypatch.setattr(image, "run", fake_run)
    disabled = image.preinstall(rootfs, ["corosync", "multipath-tools"], None, {})
    assert seen["cmd"][:2] == ["chroot", str(rootfs)] and seen["cmd"][-2:] == ["corosync", "multipath-tools"]
    assert "exit 101" in seen["policy"]                          # invoke-rc.d starts nothing
    assert not (rootfs / "usr/sbin/policy-rc.d").exists()        # and the image keeps no policy
    assert disabled == ["corosync.service", "multipath-tools.service", "multipathd.socket"]
    assert image.unit_links(rootfs) == {"multi-user.target.wants/ssh.service"}   # what was enabled before stays


def test_preinstall_removes_its_policy_when_apt_fails(tmp_path, monkeypatch):
    rootfs = tmp_path / "rootfs"
    (rootfs / "etc/systemd/system").mkdir(parents=True)
    (rootfs / "usr/sbin").mkdir(parents=True)

    def failing_run(cmd, logf, timeout=1800, env=None):
        raise image.ImageError("apt-get install... failed (rc 100)")

    monkeypatch.setattr(image, "run", failing_run)
    with pytest.raises(image.ImageError):
        image.preinstall(rootfs, ["pacemaker"], None, {})
    assert not (rootfs / "usr/sbin/policy-rc.d").exists()
