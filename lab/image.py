"""The lab's VM image: Debian bookworm by debootstrap, Debian's kernel, a busybox initrd, and a
local APT repository holding the packages the roles install (lab/packages.txt), installed too
with the services they enable left disabled (see preinstall()).

Cached under .cache/lab/image/<key>/ and rebuilt only when the recipe changes; the key hashes
the recipe below, lab/packages.txt, the files baked into the image (lab/guest/) and the kernel
version apt offers for linux-image-amd64.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import lzma
import os
import re
import shutil
import time
from pathlib import Path

from lab import config, proc

RELEASE = "bookworm"
# Bump when the build steps below change in a way that changes the image.
RECIPE_VERSION = 6
# Installed in the image: what Ansible, ssh and the lab itself need (iproute2's `rdma` brings up
# Soft-RoCE until a role for the RDMA layer exists, kmod loads modules, ping checks the fabric).
# ca-certificates as in the project's container base images (tools/images.sh): configuring it
# under TCG takes ~50 s, which a role would otherwise pay whenever something recommends it.
BASE_PACKAGES = ("systemd", "systemd-sysv", "udev", "openssh-server", "python3", "python3-apt",
                 "ca-certificates", "iproute2", "kmod", "iputils-ping", "procps", "less")
KERNEL_PACKAGE = "linux-image-amd64"
# What the busybox initrd loads (with their dependencies from modules.dep): the root disk, and the
# NICs (so eth0-2 exist when systemd starts instead of after udev's coldplug).
INITRD_MODULES = ("virtio_pci", "virtio_blk", "ext4", "crc32c_generic", "virtio_net")
IMAGE_SIZE = "4G"    # sparse; ~1.3 GB used; the rest is room for what the roles install
# Units that cost boot time under TCG and do nothing useful in the lab (the apt timers would also
# take the dpkg lock while a role installs). A role that needs one of them must unmask it.
MASKED_UNITS = ("e2scrub_reap.service", "e2scrub_all.timer", "fstrim.timer", "apt-daily.timer",
                "apt-daily-upgrade.timer", "getty@tty1.service", "serial-getty@ttyS0.service",
                "srp_daemon.service", "rtslib-fb-targetctl.service", "systemd-timesyncd.service",
                "getty-static.service", "sys-kernel-debug.mount", "sys-kernel-tracing.mount")
# Docs, man pages and locales are not installed, and dpkg does not fsync each file (both make
# package installs at converge time much faster under TCG; a lab VM is thrown away, not repaired).
DPKG_NODOC = """force-unsafe-io
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
"""
REPO_IN_GUEST = "/var/lib/rdma-lab/repo"
LAB_DIR = config.LAB_DIR
GUEST_DIR = LAB_DIR / "guest"
PACKAGES_FILE = LAB_DIR / "packages.txt"


class ImageError(RuntimeError):
    pass


def log(msg: str) -> None:
    print(f"[lab image] {msg}", flush=True)


def parse_packages(text: str) -> dict[str, list[str]]:
    """lab/packages.txt -> {group: [package, ...]} (comments after '#', '[group]' headers)."""
    groups: dict[str, list[str]] = {}
    current = "default"
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.fullmatch(r"\[([A-Za-z0-9_.-]+)\]", line)
        if m:
            current = m.group(1)
            groups.setdefault(current, [])
            continue
        if not re.fullmatch(r"[a-z0-9][a-z0-9+.-]+", line):
            raise ImageError(f"{PACKAGES_FILE}:{n}: not a Debian package name: {line!r}")
        groups.setdefault(current, [])
        if line not in groups[current]:
            groups[current].append(line)
    return groups


def all_packages(groups: dict[str, list[str]]) -> list[str]:
    seen: list[str] = []
    for pkgs in groups.values():
        seen.extend(p for p in pkgs if p not in seen)
    return seen


def debian_mirror() -> str:
    """The Debian mirror this machine's apt uses (deb822 sources, then sources.list)."""
    cands: list[str] = []
    d = Path("/etc/apt/sources.list.d")
    for f in sorted(d.glob("*.sources")) if d.is_dir() else []:
        for line in f.read_text(errors="replace").splitlines():
            if line.startswith("URIs:"):
                cands += line.split()[1:]
    legacy = Path("/etc/apt/sources.list")
    if legacy.is_file():
        for line in legacy.read_text(errors="replace").splitlines():
            m = re.match(r"^deb\s+(\[[^]]*\]\s+)?(https?://\S+)", line)
            if m:
                cands.append(m.group(2))
    for uri in cands:
        if re.search(r"/debian/?$", uri):
            return uri.rstrip("/")
    return "http://deb.debian.org/debian"


def kernel_candidate() -> str:
    """The version of linux-image-amd64 in <release>/main as this machine's apt lists know it.

    The image takes its kernel from <release> main (not -security/-updates); 'unknown' if apt here
    cannot say (the key then changes only with the rest of the recipe)."""
    # no apt-cache, a timeout or a failure: no output, so "unknown"
    out = proc.run(["apt-cache", "madison", KERNEL_PACKAGE], timeout=60).stdout
    for line in out.splitlines():
        cols = [c.strip() for c in line.split("|")]
        if len(cols) == 3 and f" {RELEASE}/main " in f" {cols[2]} ":
            return cols[1]
    return "unknown"


def recipe(kernel_version: str | None = None) -> dict:
    """Everything the image is made of; its hash is the cache key."""
    guest = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(GUEST_DIR.iterdir())
             if p.is_file()}
    return {
        "recipe_version": RECIPE_VERSION,
        "release": RELEASE,
        "base_packages": list(BASE_PACKAGES),
        "kernel_package": KERNEL_PACKAGE,
        "kernel_version": kernel_version if kernel_version is not None else kernel_candidate(),
        "initrd_modules": list(INITRD_MODULES),
        "image_size": IMAGE_SIZE,
        "masked_units": list(MASKED_UNITS),
        "dpkg_nodoc": DPKG_NODOC,
        "packages": parse_packages(PACKAGES_FILE.read_text()),
        "guest_files": guest,
    }


def cache_key(rec: dict) -> str:
    return hashlib.sha256(json.dumps(rec, sort_keys=True).encode()).hexdigest()[:16]


def image_paths(key: str) -> dict[str, Path]:
    d = config.IMAGE_DIR / key
    return {"dir": d, "rootfs": d / "rootfs.raw", "kernel": d / "vmlinuz", "initrd": d / "initrd.img",
            "recipe": d / "recipe.json", "done": d / "BUILT"}


def current_image() -> dict[str, Path] | None:
    """The image for the current recipe if it is built, else None."""
    p = image_paths(cache_key(recipe()))
    return p if p["done"].is_file() else None


def run(cmd: list[str], logf, timeout: int = 1800, env: dict | None = None) -> None:
    """One build step, its output into the build log; ImageError unless it exits 0."""
    logf.write(f"\n$ {' '.join(cmd)}\n")
    r = proc.run(cmd, timeout=timeout, log=logf, env=env)
    if r.returncode in (proc.TIMEOUT_RC, proc.NOT_STARTED_RC) and r.stderr.strip():
        raise ImageError(f"{' '.join(cmd[:4])}...: {r.stderr.strip()}")
    if r.returncode != 0:
        raise ImageError(f"{' '.join(cmd[:4])}... failed (rc {r.returncode}); see {logf.name}")


def module_closure(moddir: Path, wanted: tuple[str, ...]) -> list[str]:
    """Module files (relative to moddir) for `wanted` and their dependencies, dependencies first."""
    deps: dict[str, list[str]] = {}
    by_name: dict[str, str] = {}
    for line in (moddir / "modules.dep").read_text().splitlines():
        path, _sep, rest = line.partition(":")
        deps[path] = rest.split()
        name = re.sub(r"\.ko(\.[a-z]+)?$", "", os.path.basename(path)).replace("-", "_")
        by_name[name] = path
    order: list[str] = []

    def visit(path: str) -> None:
        if path in order:
            return
        for d in reversed(deps.get(path, [])):
            visit(d)
        order.append(path)

    for w in wanted:
        if w in by_name:
            visit(by_name[w])
    # modules.dep lists dependencies nearest first; visiting them reversed gives a load order in
    # which each module comes after what it needs.
    return order


def build_initrd(rootfs: Path, kver: str, out: Path, work: Path, logf) -> None:
    moddir = rootfs / "lib/modules" / kver
    ird = work / "initrd"
    shutil.rmtree(ird, ignore_errors=True)
    (ird / "bin").mkdir(parents=True)
    (ird / "lib/modules").mkdir(parents=True)
    shutil.copy2("/bin/busybox", ird / "bin/busybox")
    os.symlink("busybox", ird / "bin/sh")  # /init's interpreter
    shutil.copy2(GUEST_DIR / "init", ird / "init")
    os.chmod(ird / "init", 0o755)
    names = []
    for rel in module_closure(moddir, INITRD_MODULES):
        src = moddir / rel
        name = os.path.basename(rel)
        data = src.read_bytes()
        if name.endswith(".xz"):
            data, name = lzma.decompress(data), name[:-3]
        elif name.endswith(".zst"):
            raise ImageError(f"zstd-compressed module {rel}: busybox insmod cannot load it")
        (ird / "lib/modules" / name).write_bytes(data)
        names.append(name)
    (ird / "modules.order").write_text("\n".join(names) + "\n")
    logf.write(f"initrd modules: {names}\n")
    files = proc.run(["find", ".", "-mindepth", "1"], cwd=ird, text=False, timeout=300, check=True).stdout
    cpio = proc.run(["cpio", "--quiet", "-o", "-H", "newc", "-R", "0:0"], cwd=ird, input=files, text=False,
                    timeout=300, check=True).stdout
    with gzip.open(out, "wb", compresslevel=6) as f:
        f.write(cpio)
    shutil.rmtree(ird, ignore_errors=True)


def unit_links(rootfs: Path) -> set[str]:
    """The symlinks under the image's /etc/systemd/system (what `systemctl enable` creates), relative."""
    unitdir = rootfs / "etc/systemd/system"
    return {str(p.relative_to(unitdir)) for p in unitdir.rglob("*") if p.is_symlink()}


def links_to_units(links: set[str]) -> list[str]:
    """Unit names of enablement symlinks ('multi-user.target.wants/corosync.service' -> corosync.service)."""
    return sorted({Path(link).name for link in links})


def preinstall(rootfs: Path, packages: list[str], logf, env: dict) -> list[str]:
    """Install `packages` in the chroot without starting anything, then remove the enablement
    symlinks the installation created (`systemctl disable` removes the same ones). Returns the
    units so disabled.

    The roles' packages are installed here although the roles install them: under TCG their
    installs took 6 of site.yml's 11.6 min (2026-12-02: cluster 142 s, multipath 86 s, srp_target
    51 s, rdma_core 43 s); natively, here, 12 s. The roles' apt tasks then find them installed; their
    install path is proven in the Molecule containers (containers prove packaging, the lab
    behaviour). fence-agents came first: its cloud SDKs took 17 min 51 s under TCG. The boot stays
    that of an image without them: what their installation enables (corosync, pacemaker, logd,
    multipathd and its socket) is disabled again, and the roles enable and start what they use
    after writing its configuration (Debian's corosync would otherwise start at boot as a one-node
    cluster "debian").
    """
    policy = rootfs / "usr/sbin/policy-rc.d"
    # invoke-rc.d outside a running systemd would run the packages' init scripts on the build host
    policy.write_text("#!/bin/sh\n# rdma-lab image build: start nothing in the chroot\nexit 101\n")
    policy.chmod(0o755)
    before = unit_links(rootfs)
    try:
        run(["chroot", str(rootfs), "apt-get", "-q", "-y", "--no-install-recommends", "install", *packages],
            logf, env=env)
    finally:
        policy.unlink()
    created = unit_links(rootfs) - before
    for link in created:
        (rootfs / "etc/systemd/system" / link).unlink()
    return links_to_units(created)


def write_repo_index(repo: Path, logf) -> int:
    """Packages(.gz) + an unsigned Release for a flat repository (`deb [trusted=yes] file:REPO ./`)."""
    r = proc.run(["dpkg-scanpackages", "-m", "."], cwd=repo, text=False, timeout=600)
    if r.returncode != 0:
        raise ImageError(f"dpkg-scanpackages failed: {r.stderr.decode(errors='replace')}")
    logf.write(r.stderr.decode(errors="replace"))
    (repo / "Packages").write_bytes(r.stdout)
    with gzip.open(repo / "Packages.gz", "wb") as f:
        f.write(r.stdout)
    lines = ["Origin: rdma-lab", "Label: rdma-lab local packages", f"Suite: {RELEASE}",
             f"Codename: {RELEASE}", f"Date: {time.strftime('%a, %d %b %Y %H:%M:%S +0000', time.gmtime())}",
             "Architectures: amd64 all", "SHA256:"]
    for name in ("Packages", "Packages.gz"):
        data = (repo / name).read_bytes()
        lines.append(f" {hashlib.sha256(data).hexdigest()} {len(data)} {name}")
    (repo / "Release").write_text("\n".join(lines) + "\n")
    return r.stdout.count(b"\nPackage: ") + (1 if r.stdout.startswith(b"Package: ") else 0)


def build(force: bool = False) -> dict[str, Path]:
    """Build the image for the current recipe unless it is cached. Returns its paths."""
    rec = recipe()
    key = cache_key(rec)
    paths = image_paths(key)
    if paths["done"].is_file() and not force:
        log(f"cached image {key} (kernel {json.loads(paths['recipe'].read_text()).get('kernel_installed')})")
        prune(keep=key)
        return paths
    if os.geteuid() != 0:
        raise ImageError("building the image needs root (debootstrap, chroot)")
    t0 = time.monotonic()
    d = paths["dir"]
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    config.DEB_CACHE.mkdir(parents=True, exist_ok=True)
    rootfs = d / "rootfs"
    logpath = d / "build.log"
    mirror = debian_mirror()
    log(f"building image {key} (log {logpath})")
    with open(logpath, "w") as logf:
        log(f"debootstrap {RELEASE} from {mirror}")
        run(["debootstrap", "--variant=minbase", f"--cache-dir={config.DEB_CACHE}",
             f"--include={','.join(BASE_PACKAGES)}", RELEASE, str(rootfs), mirror], logf)
        t1 = time.monotonic()
        shutil.copy2("/etc/resolv.conf", rootfs / "etc/resolv.conf")
        (rootfs / "etc/apt/sources.list").write_text(f"deb {mirror} {RELEASE} main\n")
        (rootfs / "etc/dpkg/dpkg.cfg.d/rdma-lab-nodoc").write_text(DPKG_NODOC)
        chroot = ["chroot", str(rootfs)]
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive", LC_ALL="C",
                   PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        run(chroot + ["apt-get", "-q", "update"], logf, env=env)
        # The kernel: downloaded, unpacked (no postinst: no initramfs-tools run), modules indexed.
        kdir = "/var/lib/rdma-lab/kernel"
        (rootfs / kdir.lstrip("/") / "partial").mkdir(parents=True)
        run(chroot + ["apt-get", "-q", "-y", "--download-only", "--no-install-recommends",
                      f"-o=Dir::Cache::archives={kdir}", "install", KERNEL_PACKAGE], logf, env=env)
        debs = sorted((rootfs / kdir.lstrip("/")).glob("linux-image-[0-9]*.deb"))
        if not debs:
            raise ImageError("apt downloaded no linux-image-<version> package")
        # Unpacked over the merged-/usr tree: keep /lib a symlink to usr/lib (dpkg-deb -x would not).
        run(["sh", "-c", 'dpkg-deb --fsys-tarfile "$1" | tar -x --keep-directory-symlink -C "$2"', "unpack",
             str(debs[-1]), str(rootfs)], logf)
        kvers = sorted(p.name for p in (rootfs / "lib/modules").iterdir())
        kver = kvers[-1]
        shutil.rmtree(rootfs / kdir.lstrip("/"))
        run(chroot + ["depmod", kver], logf, env=env)
        log(f"kernel {kver}")
        # The local APT repository: the roles' packages and their dependencies, downloaded per
        # group and all together (so any subset a role installs resolves inside the repo).
        groups = rec["packages"]
        repo = rootfs / REPO_IN_GUEST.lstrip("/")
        (repo / "partial").mkdir(parents=True)
        for group, pkgs in list(groups.items()) + [("all", all_packages(groups))]:
            run(chroot + ["apt-get", "-q", "-y", "--download-only", f"-o=Dir::Cache::archives={REPO_IN_GUEST}",
                          "install"] + pkgs, logf, env=env)
        shutil.rmtree(repo / "partial")
        (repo / "lock").unlink(missing_ok=True)
        npk = write_repo_index(repo, logf)
        size = sum(p.stat().st_size for p in repo.glob("*.deb"))
        log(f"local apt repository: {npk} packages, {size / 1e6:.0f} MB")
        t2 = time.monotonic()
        # Guest configuration.
        run(chroot + ["apt-get", "clean"], logf, env=env)
        shutil.rmtree(rootfs / "var/lib/apt/lists", ignore_errors=True)
        (rootfs / "var/lib/apt/lists/partial").mkdir(parents=True)
        (rootfs / "etc/apt/sources.list").write_text(
            "# rdma-lab: the VM's only package source, a local repository built with the image\n"
            f"deb [trusted=yes] file:{REPO_IN_GUEST} ./\n")
        # apt's lists from the local repository: a role's `update_cache` with `cache_valid_time` may
        # skip the update on a fresh-looking cache, and must still find the packages.
        run(chroot + ["apt-get", "-q", "update"], logf, env=env)
        disabled = preinstall(rootfs, all_packages(groups), logf, env)
        log(f"roles' packages installed; the units they enabled left disabled: {', '.join(disabled) or 'none'}")
        run(chroot + ["apt-get", "clean"], logf, env=env)
        (rootfs / "etc/resolv.conf").write_text("# rdma-lab VMs have no DNS\n")
        (rootfs / "etc/fstab").write_text("/dev/vda / ext4 rw,noatime,errors=remount-ro 0 0\n")
        (rootfs / "etc/hostname").write_text("rdma-lab\n")
        (rootfs / "etc/machine-id").write_text("")
        (rootfs / "var/lib/dbus").mkdir(parents=True, exist_ok=True)
        shutil.copy2(GUEST_DIR / "rdma-lab-boot", rootfs / "usr/local/sbin/rdma-lab-boot")
        os.chmod(rootfs / "usr/local/sbin/rdma-lab-boot", 0o755)
        # The bytecode cache of zip imports (Ansible's modules): see lab/guest/sitecustomize.py.
        shutil.copy2(GUEST_DIR / "sitecustomize.py", rootfs / "etc/python3.11/sitecustomize.py")
        unitdir = rootfs / "etc/systemd/system"
        shutil.copy2(GUEST_DIR / "rdma-lab-boot.service", unitdir / "rdma-lab-boot.service")
        (unitdir / "sysinit.target.wants").mkdir(exist_ok=True)
        os.symlink("../rdma-lab-boot.service", unitdir / "sysinit.target.wants/rdma-lab-boot.service")
        for unit in MASKED_UNITS:
            p = unitdir / unit
            if p.exists() or p.is_symlink():
                p.unlink()
            os.symlink("/dev/null", p)
        (rootfs / "etc/ssh/sshd_config.d").mkdir(parents=True, exist_ok=True)
        (rootfs / "etc/ssh/sshd_config.d/rdma-lab.conf").write_text(
            "PermitRootLogin prohibit-password\nPasswordAuthentication no\nUseDNS no\nMaxStartups 30:50:100\n")
        (rootfs / "root/.ssh").mkdir(mode=0o700, exist_ok=True)
        (rootfs / "etc/rdma-lab-release").write_text(json.dumps({"key": key, "kernel": kver}) + "\n")
        # Kernel and initrd for QEMU's direct kernel boot.
        shutil.copy2(rootfs / "boot" / f"vmlinuz-{kver}", paths["kernel"])
        build_initrd(rootfs, kver, paths["initrd"], d, logf)
        run(["mkfs.ext4", "-q", "-F", "-L", "rdma-lab", "-E", "root_owner=0:0", "-d", str(rootfs),
             str(paths["rootfs"]), IMAGE_SIZE], logf)
        used = int(proc.run(["du", "-sb", str(rootfs)], timeout=600, check=True).stdout.split()[0])
        shutil.rmtree(rootfs)
        t3 = time.monotonic()
    rec["kernel_installed"] = kver
    rec["built"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    rec["build_seconds"] = {"debootstrap": round(t1 - t0, 1), "kernel_and_repo": round(t2 - t1, 1),
                            "configure_initrd_mkfs": round(t3 - t2, 1), "total": round(t3 - t0, 1)}
    rec["rootfs_bytes"] = used
    paths["recipe"].write_text(json.dumps(rec, indent=1, sort_keys=True) + "\n")
    paths["done"].write_text(key + "\n")
    prune(keep=key)
    log(f"image {key} built in {t3 - t0:.0f} s ({used / 1e6:.0f} MB in the root filesystem)")
    return paths


def prune(keep: str) -> None:
    """Remove images of older recipes (GBs of sparse files) unless a running lab uses them."""
    for other in config.IMAGE_DIR.iterdir():
        if other.is_dir() and other.name != keep and not _in_use(other):
            shutil.rmtree(other, ignore_errors=True)


def _in_use(image_dir: Path) -> bool:
    """True if a running lab's overlays are based on this image."""
    state = config.RUN_DIR / "state.json"
    try:
        return json.loads(state.read_text()).get("image_key") == image_dir.name
    except (OSError, ValueError):
        return False
