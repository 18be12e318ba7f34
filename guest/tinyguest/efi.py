"""The ISO's UEFI half: shim and GRUB in a FAT El Torito image, and the EFI overlay initrd.

Everything comes from Debian packages, as for the BIOS half:

* The boot chain is the one Debian's own installer CDs use, so it also boots under Secure
  Boot with Microsoft's keys enrolled: `\\EFI\\BOOT\\BOOTX64.EFI` is `shimx64.efi.signed`
  (package `shim-signed`, signed by Microsoft's UEFI CA), which starts `grubx64.efi` beside
  it: `gcdx64.efi.signed` (package `grub-efi-amd64-signed`, signed by Debian; prefix
  `/boot/grub`), which verifies the (Debian-signed) kernel through shim. The FAT image is
  made with `mtools` (package `mtools`, run from its unpacked copy). On the CD, GRUB finds
  `/.disk/info`, then reads `/boot/grub/grub.cfg` (from `guest/iso/`), which loads
  `read.mod` (package `grub-efi-amd64-bin`, the same GRUB build) to emulate isolinux's
  `boot:` prompt. Under Secure Boot GRUB loads no modules: its own `grub>` command line
  takes the same input.
* The same files are what the installer copies to the installed system's ESP (it mounts the
  FAT image from the CD with a loop device), so the ISO carries them once.
* `initrd-efi.gz` is a second initramfs archive that only the ISO's GRUB loads after the main
  one: the installer's EFI tools (`mkfs.fat`, `efibootmgr` and its libraries, the `efivarfs`
  and `loop` modules) and `ahci` (q35's SATA controller holds the CD). The BIOS path never
  reads it, so it boots exactly as before.
"""

from __future__ import annotations

import gzip
import os
import tempfile
from pathlib import Path

from .host import BuildError, run
from .kmod import module_closure
from .libs import LibResolver
from .tree import Tree, write_cpio

GRUB_PACKAGE = "grub-efi-amd64-bin"
GRUB_DIR = "usr/lib/grub/x86_64-efi"
# (package, path) of each file of the FAT image's \EFI\BOOT, by the name it gets there.
BOOT_FILES: dict[str, tuple[str, str]] = {
    "BOOTX64.EFI": ("shim-signed", "usr/lib/shim/shimx64.efi.signed"),
    "grubx64.efi": ("grub-efi-amd64-signed", "usr/lib/grub/x86_64-efi-signed/gcdx64.efi.signed"),
}
# Modules Debian's monolithic image lacks, loaded by grub.cfg from /boot/grub/x86_64-efi.
GRUB_EXTRA_MODULES = ("read",)
MTOOLS = ("mtools", "usr/bin/mtools")
# Programs in the EFI overlay initrd (package -> paths inside it).
EFI_PACKAGE_FILES: dict[str, tuple[str, ...]] = {
    "dosfstools": ("sbin/mkfs.fat",),
    "efibootmgr": ("bin/efibootmgr",),
}
EFI_MODULES = ("efivarfs", "loop", "ahci")
ESP_IMAGE = "boot/grub/efi.img"  # path on the ISO (the El Torito EFI entry)
EFI_INITRD = "kiln/initrd-efi.gz"


def efi_packages() -> list[str]:
    return [GRUB_PACKAGE, MTOOLS[0], *EFI_PACKAGE_FILES, *(p for p, _ in BOOT_FILES.values())]


def grub_module_closure(moddir: Path, wanted: tuple[str, ...]) -> list[str]:
    """`wanted` and their dependencies from GRUB's moddep.lst, dependencies first."""
    deps: dict[str, list[str]] = {}
    for line in (moddir / "moddep.lst").read_text().splitlines():
        name, _, rest = line.partition(":")
        deps[name.strip()] = rest.split()
    order: list[str] = []

    def visit(name: str) -> None:
        if name in order:
            return
        if name not in deps:
            raise BuildError(f"{GRUB_PACKAGE}: GRUB module {name} not found in moddep.lst")
        for dep in deps[name]:
            visit(dep)
        order.append(name)

    for name in wanted:
        visit(name)
    return order


def make_esp_image(files: dict[str, bytes], mtools: Path, work: Path, epoch: int) -> bytes:
    """A FAT image holding `files` in /EFI/BOOT (whole MiB, 256 KiB spare)."""
    size = sum(len(data) for data in files.values())
    mib = -(-(size + (256 << 10)) // (1 << 20))
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "SOURCE_DATE_EPOCH": str(epoch),
        "MTOOLSRC": "/dev/null",
        "MTOOLS_SKIP_CHECK": "1",
    }
    with tempfile.TemporaryDirectory(dir=work, prefix="esp-") as tmp:
        img = Path(tmp) / "efi.img"

        def mtool(*args: str) -> None:
            run([str(mtools), "-c", *args], env=env)

        # 64 heads x 32 sectors: one cylinder per MiB; -N: a fixed serial (reproducible).
        mtool("mformat", "-i", str(img), "-C", "-T", str(mib * 2048), "-h", "64", "-s", "32",
              "-N", "4b494c4e", "-v", "KILN_EFI", "::")  # fmt: skip
        mtool("mmd", "-i", str(img), "::/EFI", "::/EFI/BOOT")
        for name, data in sorted(files.items()):
            src = Path(tmp) / name
            src.write_bytes(data)
            os.utime(src, (epoch, epoch))
            mtool("mcopy", "-m", "-i", str(img), str(src), f"::/EFI/BOOT/{name}")
        return img.read_bytes()


def add_efi_files(iso: Tree, resolver: LibResolver, work: Path, epoch: int) -> None:
    """shim + GRUB (as the El Torito FAT image), GRUB's extra modules and /.disk/info."""
    signed = resolver.records["grub-efi-amd64-signed"].version  # e.g. 1+2.06+13+deb12u2
    modules = resolver.records[GRUB_PACKAGE].version  # e.g. 2.06-13+deb12u2
    if signed.split("+", 1)[-1] != modules.replace("-", "+"):
        raise BuildError(
            f"grub-efi-amd64-signed {signed} and {GRUB_PACKAGE} {modules} are different GRUB "
            "builds (read.mod must match the signed GRUB); run apt-get update and retry"
        )
    files = {
        name: (resolver.package_root(pkg) / rel).read_bytes()
        for name, (pkg, rel) in BOOT_FILES.items()
    }
    mtools = resolver.package_root(MTOOLS[0]) / MTOOLS[1]
    iso.file(ESP_IMAGE, make_esp_image(files, mtools, work, epoch))
    groot = resolver.package_root(GRUB_PACKAGE)
    for name in grub_module_closure(groot / GRUB_DIR, GRUB_EXTRA_MODULES):
        iso.file(
            f"boot/grub/x86_64-efi/{name}.mod", (groot / GRUB_DIR / f"{name}.mod").read_bytes()
        )
    # GRUB finds the CD by this file (as on Debian's own installer CDs).
    iso.file(".disk/info", b"kiln tiny installer\n")


def build_efi_overlay(
    resolver: LibResolver, moddir: Path, loaded: list[str], epoch: int
) -> tuple[bytes, set[str]]:
    """The EFI overlay initrd (gzip'd cpio) and the packages it took files from.

    Run after the main initramfs with the same `resolver`: libraries already placed there are
    not added again. `loaded` are the module names the main initramfs loads.
    """
    tree = Tree()
    used = resolver.add_with_libs(
        tree, [(name, rel) for name, files in EFI_PACKAGE_FILES.items() for rel in files]
    )
    tree.symlink("sbin/mkfs.vfat", "mkfs.fat")
    order, blobs, _ = module_closure(moddir, EFI_MODULES, loaded)
    kver = moddir.name
    for path in order:
        tree.file(f"lib/modules/{kver}/{path}", blobs[path])
    tree.file("etc/kiln/modules.efi", "".join(p + "\n" for p in order).encode())
    return gzip.compress(write_cpio(tree, epoch), compresslevel=9, mtime=0), used
