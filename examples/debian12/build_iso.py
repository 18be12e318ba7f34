#!/usr/bin/env python3
"""Build the Debian 12 example's boot ISO from Debian's netboot installer package.

Runs with the standard library alone (before kiln is installed)::

    python3 examples/debian12/build_iso.py [--out DIR] [--cache DIR]

Downloads `debian-installer-12-netboot-amd64` (the installer's kernel and initrd),
`isolinux` and `syslinux-common` with `apt-get download` — the same way `guest/build.py`
builds the test guest — and writes ``debian12-netboot.iso`` and ``SHA256SUMS`` into
``--out`` (default ``build/debian12``). The ISO holds only the installer's kernel and
initrd behind an ``isolinux`` prompt: the template's `boot_command` types the kernel
arguments (the preseed URL on kiln's HTTP server), and the installer fetches everything
else from the Debian mirror the preseed names. Packages are cached in ``--cache``
(default ``$XDG_CACHE_HOME/kiln/debian12`` or ``~/.cache/kiln/debian12``); the ISO is
rebuilt only when a package version changes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
sys.path.insert(0, str(REPO_ROOT / "guest"))

from tinyguest.apt import apt_download, apt_show, apt_update, unpack  # noqa: E402
from tinyguest.host import BuildError, run, sha256_file  # noqa: E402

ISO_NAME = "debian12-netboot.iso"
SUMS_NAME = "SHA256SUMS"
VOLUME_ID = "KILN_DEBIAN12"
NETBOOT = "debian-installer-12-netboot-amd64"
IMAGES = "usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64"
# (package, path inside it, path on the ISO)
FILES = (
    (NETBOOT, f"{IMAGES}/linux", "install.amd/vmlinuz"),
    (NETBOOT, f"{IMAGES}/initrd.gz", "install.amd/initrd.gz"),
    ("isolinux", "usr/lib/ISOLINUX/isolinux.bin", "isolinux/isolinux.bin"),
    ("syslinux-common", "usr/lib/syslinux/modules/bios/ldlinux.c32", "isolinux/ldlinux.c32"),
)
# A prompt that waits for the boot command: what is typed after `install` is appended to
# the kernel's command line (console on the serial port too, so kiln's serial log and
# status line show the installer's progress).
ISOLINUX_CFG = """\
SERIAL 0 115200
PROMPT 1
TIMEOUT 0
DEFAULT install

LABEL install
  KERNEL /install.amd/vmlinuz
  APPEND initrd=/install.amd/initrd.gz console=tty0 console=ttyS0,115200n8
"""


def log(msg: str) -> None:
    print(f"build_iso.py: {msg}", file=sys.stderr, flush=True)


def build(out_dir: Path, cache: Path) -> Path:
    names = sorted({pkg for pkg, _, _ in FILES})
    records = apt_show(names)
    if set(names) - set(records):
        apt_update()
        records = apt_show(names)
    missing = sorted(set(names) - set(records))
    if missing:
        raise BuildError(
            f"apt-cache knows no candidate for {', '.join(missing)}; "
            "Debian 12 'bookworm' main is expected in /etc/apt/sources.list"
        )
    pkgs = [records[n] for n in names]
    key = "-".join(f"{p.name}={p.version}" for p in pkgs).replace(":", "%3a")
    result = cache / "results" / key
    if not (result / ISO_NAME).is_file():
        apt_download(pkgs, cache / "debs")
        roots = {p.name: unpack(p, cache / "debs", cache / "unpacked") for p in pkgs}
        (cache / "results").mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=cache / "results", prefix=".build-") as tmp:
            stage = Path(tmp) / "iso-root"
            for pkg, inside, on_iso in FILES:
                (stage / on_iso).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(roots[pkg] / inside, stage / on_iso)
            (stage / "isolinux" / "isolinux.cfg").write_text(ISOLINUX_CFG)
            iso = Path(tmp) / ISO_NAME
            run(["xorriso", "-as", "mkisofs", "-quiet", "-o", str(iso), "-V", VOLUME_ID,
                 "-R", "-J", "-b", "isolinux/isolinux.bin", "-c", "isolinux/boot.cat",
                 "-no-emul-boot", "-boot-load-size", "4", "-boot-info-table",
                 str(stage)])  # fmt: skip
            shutil.rmtree(result, ignore_errors=True)
            result.mkdir(parents=True)
            os.replace(iso, result / ISO_NAME)
        log(f"built {ISO_NAME} from {', '.join(p.ident for p in pkgs)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    dest = out_dir / ISO_NAME
    shutil.copyfile(result / ISO_NAME, dest)
    (out_dir / SUMS_NAME).write_text(f"{sha256_file(dest)}  {ISO_NAME}\n")
    return dest


def default_cache() -> Path:
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "kiln" / "debian12"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "build" / "debian12",
                        help="where debian12-netboot.iso and SHA256SUMS go (default: "
                        "build/debian12)")  # fmt: skip
    parser.add_argument("--cache", type=Path, default=None,
                        help="package cache (default: ~/.cache/kiln/debian12)")  # fmt: skip
    args = parser.parse_args(argv)
    try:
        iso = build(args.out.resolve(), (args.cache or default_cache()).resolve())
    except BuildError as exc:
        print(f"build_iso.py: error: {exc}", file=sys.stderr)
        return 1
    print(iso)
    return 0


if __name__ == "__main__":
    sys.exit(main())
