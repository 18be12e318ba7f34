"""What goes into the guest, and assembling it: the initramfs and the bootable ISO."""

from __future__ import annotations

import gzip
import json
import os
import re
from pathlib import Path

from .apt import Package
from .efi import EFI_INITRD, ESP_IMAGE, add_efi_files, build_efi_overlay, efi_packages
from .host import BuildError, run
from .kmod import module_closure
from .libs import LibResolver
from .tree import Tree, write_cpio, write_tree
from .variants import extra_tar

GUEST_DIR = Path(__file__).resolve().parent.parent
ROOTFS_DIR = GUEST_DIR / "rootfs"  # copied into the initramfs as is
ISO_DIR = GUEST_DIR / "iso"  # isolinux.cfg, boot.msg, grub.cfg
ISO_NAME = "tiny-installer.iso"
VOLUME_ID = "KILN_TINY"
KERNEL_META = "linux-image-amd64"
# 2024-01-01T00:00:00Z: file times inside the ISO and the initramfs (SOURCE_DATE_EPOCH wins).
DEFAULT_EPOCH = 1704067200

# Debian package -> the files we take from it (paths inside the package).
PACKAGE_FILES: dict[str, tuple[str, ...]] = {
    "busybox-static": ("bin/busybox",),
    "dropbear-bin": ("usr/sbin/dropbear", "usr/bin/dropbearkey"),
    "openssh-client": ("usr/bin/scp",),
    "openssh-sftp-server": ("usr/lib/openssh/sftp-server",),
    "e2fsprogs": ("sbin/mke2fs", "etc/mke2fs.conf"),
    "fdisk": ("sbin/sfdisk",),
    "extlinux": ("usr/bin/extlinux",),
    "syslinux-common": ("usr/lib/syslinux/mbr/mbr.bin",),
}
# Files that go on the ISO itself, next to the kernel.
ISOLINUX_BIN = ("isolinux", "usr/lib/ISOLINUX/isolinux.bin")
LDLINUX_C32 = ("syslinux-common", "usr/lib/syslinux/modules/bios/ldlinux.c32")

# Kernel modules, loaded at boot in this order (after their dependencies).
BOOT_MODULES: tuple[str, ...] = (
    # disks and CD-ROMs for every disk_interface / cdrom_interface QEMU offers on `pc`
    "virtio_pci",
    "virtio_blk",
    "virtio_scsi",
    "ata_piix",
    "ata_generic",
    "sym53c8xx",
    "sd_mod",
    "sr_mod",
    # file systems (crc32c first: ext4 asks the crypto API for it by name)
    "crc32c_generic",
    "ext4",
    "isofs",
    "vfat",
    "nls_cp437",
    "nls_iso8859_1",
    "nls_utf8",
    "nls_ascii",
    # NICs
    "virtio_net",
    "e1000",
    "8139cp",
    "8139too",
    # ACPI power button -> evdev -> busybox acpid
    "button",
    "evdev",
)
# Loaded only when the installer reads answers from a floppy (probing the FDC costs time).
FLOPPY_MODULES: tuple[str, ...] = ("floppy",)

# Overlay files whose mode is not the default 0644/0755.
MODE_OVERRIDES = {"etc/shadow": 0o600}


def all_packages() -> list[str]:
    """Every Debian package the build takes files from (the kernel aside)."""
    return sorted({*PACKAGE_FILES, ISOLINUX_BIN[0], LDLINUX_C32[0], *efi_packages()})


def source_epoch() -> int:
    value = os.environ.get("SOURCE_DATE_EPOCH", "")
    return int(value) if value.isdigit() else DEFAULT_EPOCH


def add_rootfs_overlay(tree: Tree) -> None:
    """guest/rootfs/* as is; files that start with '#!' become executable."""
    for path in sorted(ROOTFS_DIR.rglob("*")):
        rel = str(path.relative_to(ROOTFS_DIR))
        if path.is_dir():
            tree.dir(rel)
        elif path.is_file():
            data = path.read_bytes()
            mode = 0o755 if data.startswith(b"#!") else 0o644
            tree.file(rel, data, MODE_OVERRIDES.get(rel, mode))


def build_initramfs(
    records: dict[str, Package],
    kernel: Package,
    kroot: Path,
    kver: str,
    resolver: LibResolver,
    manifest: dict[str, object],
) -> tuple[bytes, list[str]]:
    """The gzip'd cpio initramfs (tools + their libraries, modules, guest/rootfs, manifest)
    and the names of the modules it loads at boot."""
    tree = Tree()
    for d in ("proc", "sys", "dev", "run", "tmp", "mnt", "root", "var/log", "etc/dropbear"):
        tree.dir(d, 0o1777 if d == "tmp" else (0o700 if d == "root" else 0o755))
    tree.chardev("dev/console", 5, 1)
    tree.chardev("dev/null", 1, 3, 0o666)

    used = resolver.add_with_libs(
        tree, [(name, rel) for name, files in PACKAGE_FILES.items() for rel in files]
    )
    # busybox applets are linked at boot (`busybox --install -s`); /bin/sh must exist before.
    tree.symlink("bin/sh", "busybox")
    tree.symlink("sbin/mkfs.ext4", "mke2fs")
    # dropbear runs the SFTP subsystem from a path compiled into it.
    dropbear = (resolver.package_root("dropbear-bin") / "usr/sbin/dropbear").read_bytes()
    sftp_paths = re.findall(rb"(/[\w/.-]*sftp-server)\0", dropbear)
    sftp_path = sftp_paths[0].decode().lstrip("/") if sftp_paths else "usr/lib/sftp-server"
    if sftp_path != "usr/lib/openssh/sftp-server":
        tree.symlink(
            sftp_path, os.path.relpath("usr/lib/openssh/sftp-server", Path(sftp_path).parent)
        )

    moddir = kroot / "lib/modules" / kver
    boot_order, blobs, deps = module_closure(moddir, BOOT_MODULES)
    boot_names = [Path(p).name.removesuffix(".ko").replace("-", "_") for p in boot_order]
    floppy_order, fblobs, fdeps = module_closure(moddir, FLOPPY_MODULES, boot_names)
    blobs.update(fblobs)
    deps.update(fdeps)
    mroot = f"lib/modules/{kver}"
    for path, data in sorted(blobs.items()):
        tree.file(f"{mroot}/{path}", data)
    tree.file(
        f"{mroot}/modules.dep",
        "".join(f"{p}: {' '.join(deps[p])}\n" for p in sorted(deps)).encode(),
    )
    for extra in ("modules.builtin", "modules.order"):
        if (moddir / extra).is_file():
            tree.file(f"{mroot}/{extra}", (moddir / extra).read_bytes())
    tree.file("etc/kiln/modules.boot", "".join(p + "\n" for p in boot_order).encode())
    tree.file("etc/kiln/modules.floppy", "".join(p + "\n" for p in floppy_order).encode())

    add_rootfs_overlay(tree)
    tree.file(
        "etc/kiln/build.json", (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode()
    )
    idents = [kernel.ident, *sorted(records[n].ident for n in used)]
    tree.file("etc/kiln/packages", "".join(i + "\n" for i in idents).encode())
    initrd = gzip.compress(write_cpio(tree, source_epoch()), compresslevel=9, mtime=0)
    return initrd, boot_names


def build_iso(
    records: dict[str, Package],
    kernel: Package,
    resolver: LibResolver,
    work: Path,
    key: str,
    manifest: dict[str, object],
) -> Path:
    """Build `work/tiny-installer.iso` with xorriso: kernel, initramfs, isolinux (El Torito
    BIOS) and GRUB (El Torito EFI, with the EFI overlay initrd)."""
    resolver.ensure([kernel.name, *all_packages()])
    kroot = resolver.package_root(kernel.name)
    kvers = sorted(p.name for p in (kroot / "lib/modules").iterdir())
    if len(kvers) != 1:
        raise BuildError(f"{kernel.name}: expected one lib/modules/<version>, found {kvers}")
    kver = kvers[0]
    vmlinuz = kroot / "boot" / f"vmlinuz-{kver}"
    if not vmlinuz.is_file():
        raise BuildError(f"{kernel.name}: boot/vmlinuz-{kver} is missing")
    manifest = {**manifest, "kernel_release": kver, "key": key}
    initrd, loaded = build_initramfs(records, kernel, kroot, kver, resolver, manifest)
    efi_initrd, _ = build_efi_overlay(
        resolver, kroot / "lib/modules" / kver, loaded, source_epoch()
    )

    iso = Tree()
    iso.file("kiln/vmlinuz", vmlinuz.read_bytes())
    iso.file("kiln/initrd.gz", initrd)
    iso.file(EFI_INITRD, efi_initrd)
    iso.file("kiln/build.json", (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode())
    variant = manifest.get("variant")
    if isinstance(variant, str):  # unpacked onto the disk by the installer
        iso.file("kiln/extra.tar", extra_tar(resolver, records, variant, source_epoch()))
    for pkg_name, rel in (ISOLINUX_BIN, LDLINUX_C32):
        iso.file(f"isolinux/{Path(rel).name}", (resolver.package_root(pkg_name) / rel).read_bytes())
    for f in sorted(ISO_DIR.glob("*")):
        iso.file(f"boot/grub/{f.name}" if f.name == "grub.cfg"
                 else f"isolinux/{f.name}", f.read_bytes())  # fmt: skip
    add_efi_files(iso, resolver, work, source_epoch())

    stage = work / "iso-root"
    write_tree(iso, stage, source_epoch())
    out = work / ISO_NAME
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(source_epoch())}
    run(
        [
            "xorriso", "-as", "mkisofs", "-quiet", "-o", str(out), "-V", VOLUME_ID,
            "-R", "-J", "-b", "isolinux/isolinux.bin", "-c", "isolinux/boot.cat",
            "-no-emul-boot", "-boot-load-size", "4", "-boot-info-table",
            "-eltorito-alt-boot", "-e", ESP_IMAGE, "-no-emul-boot", str(stage),
        ],
        env=env,
    )  # fmt: skip
    return out
