"""The ISO's UEFI half: GRUB's EFI image in a FAT El Torito image, and the EFI overlay initrd.

Everything comes from Debian packages, as for the BIOS half:

* `grub-efi-amd64-bin`'s monolithic `gcdx64.efi` (the image Debian's own installer CDs boot,
  with prefix `/boot/grub`) is the EFI boot loader, in a FAT image made with `mtools`
  (package `mtools`, run from its unpacked copy). On the CD it finds `/.disk/info`, then
  reads `/boot/grub/grub.cfg` (from `guest/iso/`), which loads `read.mod` to emulate
  isolinux's `boot:` prompt.
* The same image is what the installer copies to the installed system's ESP (it mounts the
  FAT image from the CD with a loop device), so the ISO carries GRUB once.
* `initrd-efi.gz` is a second initramfs archive that only the ISO's GRUB loads after the main
  one: the installer's EFI tools (`mkfs.fat`, `efibootmgr` and its libraries, the `efivarfs`
  and `loop` modules). The BIOS path never reads it, so it boots exactly as before.
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
GRUB_CD_IMAGE = f"{GRUB_DIR}/monolithic/gcdx64.efi"
# Modules Debian's monolithic image lacks, loaded by grub.cfg from /boot/grub/x86_64-efi.
GRUB_EXTRA_MODULES = ("read",)
MTOOLS = ("mtools", "usr/bin/mtools")
# Programs in the EFI overlay initrd (package -> paths inside it).
EFI_PACKAGE_FILES: dict[str, tuple[str, ...]] = {
    "dosfstools": ("sbin/mkfs.fat",),
    "efibootmgr": ("bin/efibootmgr",),
}
EFI_MODULES = ("efivarfs", "loop")
ESP_IMAGE = "boot/grub/efi.img"  # path on the ISO (the El Torito EFI entry)
EFI_INITRD = "kiln/initrd-efi.gz"


def efi_packages() -> list[str]:
    return [GRUB_PACKAGE, MTOOLS[0], *EFI_PACKAGE_FILES]


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


def make_esp_image(loader: bytes, mtools: Path, work: Path, epoch: int) -> bytes:
    """A FAT image holding `loader` as /EFI/BOOT/BOOTX64.EFI (whole MiB, 256 KiB spare)."""
    mib = -(-(len(loader) + (256 << 10)) // (1 << 20))
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "SOURCE_DATE_EPOCH": str(epoch),
        "MTOOLSRC": "/dev/null",
        "MTOOLS_SKIP_CHECK": "1",
    }
    with tempfile.TemporaryDirectory(dir=work, prefix="esp-") as tmp:
        img = Path(tmp) / "efi.img"
        src = Path(tmp) / "BOOTX64.EFI"
        src.write_bytes(loader)
        os.utime(src, (epoch, epoch))

        def mtool(*args: str) -> None:
            run([str(mtools), "-c", *args], env=env)

        # 64 heads x 32 sectors: one cylinder per MiB; -N: a fixed serial (reproducible).
        mtool("mformat", "-i", str(img), "-C", "-T", str(mib * 2048), "-h", "64", "-s", "32",
              "-N", "4b494c4e", "-v", "KILN_EFI", "::")  # fmt: skip
        mtool("mmd", "-i", str(img), "::/EFI", "::/EFI/BOOT")
        mtool("mcopy", "-m", "-i", str(img), str(src), "::/EFI/BOOT/BOOTX64.EFI")
        return img.read_bytes()


def add_efi_files(iso: Tree, resolver: LibResolver, work: Path, epoch: int) -> None:
    """GRUB's EFI image (as the El Torito FAT image), its extra modules and /.disk/info."""
    groot = resolver.package_root(GRUB_PACKAGE)
    loader = (groot / GRUB_CD_IMAGE).read_bytes()
    mtools = resolver.package_root(MTOOLS[0]) / MTOOLS[1]
    iso.file(ESP_IMAGE, make_esp_image(loader, mtools, work, epoch))
    for name in grub_module_closure(groot / GRUB_DIR, GRUB_EXTRA_MODULES):
        iso.file(
            f"boot/grub/x86_64-efi/{name}.mod", (groot / GRUB_DIR / f"{name}.mod").read_bytes()
        )
    # gcdx64.efi finds the CD by this file (as on Debian's own installer CDs).
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
