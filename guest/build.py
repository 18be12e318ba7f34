#!/usr/bin/env python3
"""Build kiln's test guest: a tiny OS installer ISO made only from Debian packages.

Runs with the standard library alone (before kiln is installed)::

    python3 guest/build.py [--out DIR] [--cache DIR] [--force]

Writes ``tiny-installer.iso`` and ``SHA256SUMS`` (GNU format) into ``--out`` (default
``build/guest`` under the repository) and prints the ISO's path on stdout; progress goes to
stderr. Packages are fetched with ``apt-get download`` and unpacked with ``dpkg -x`` into the
cache (``--cache``, ``$KILN_GUEST_CACHE`` or ``~/.cache/kiln/guest``). Finished ISOs are kept
in the cache under a key made of every resolved package version and a hash of the ``guest/``
sources: a second run only copies the ISO, and a rebuild happens only when a version or a
source changes. See ``guest/README.md`` for what the ISO contains and how it behaves.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from tinyguest.apt import Package, resolve_packages
from tinyguest.assemble import (
    GUEST_DIR,
    ISO_NAME,
    KERNEL_META,
    all_packages,
    build_iso,
    source_epoch,
)
from tinyguest.host import BuildError, log, sha256_file
from tinyguest.libs import LibResolver
from tinyguest.variants import VARIANTS, variant_packages

REPO_ROOT = GUEST_DIR.parent
SUMS_NAME = "SHA256SUMS"
# Bump when the build changes in a way the source hash cannot see.
BUILD_FORMAT = 1
KEEP_RESULTS = 3  # finished ISOs kept in the cache


def source_files() -> list[Path]:
    """Everything under guest/ that shapes the ISO (the README does not)."""
    return sorted(
        p
        for p in GUEST_DIR.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".md"
    )


def cache_key(
    records: dict[str, Package], kernel: Package, variant: str | None = None
) -> tuple[str, dict[str, object]]:
    """The result's cache key and the manifest it hashes (stored in the ISO as build.json)."""
    h = hashlib.sha256()
    for f in source_files():
        h.update(str(f.relative_to(GUEST_DIR)).encode() + b"\0")
        h.update(hashlib.sha256(f.read_bytes()).digest())
    manifest: dict[str, object] = {
        "format": BUILD_FORMAT,
        "kernel": kernel.ident,
        "packages": sorted(p.ident for p in records.values()),
        "sources": h.hexdigest(),
        "epoch": source_epoch(),
    }
    if variant:
        manifest["variant"] = variant
    key = hashlib.sha256(json.dumps(manifest, sort_keys=True).encode()).hexdigest()[:24]
    return key, manifest


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def publish(result: Path, out_dir: Path) -> Path:
    """Copy the cached ISO to `out_dir` with a GNU-style SHA256SUMS next to it."""
    out_dir.mkdir(parents=True, exist_ok=True)
    dest = out_dir / ISO_NAME
    digest = (result.parent / SUMS_NAME).read_text().split()[0]
    if not (dest.is_file() and dest.stat().st_size == result.stat().st_size
            and sha256_file(dest) == digest):  # fmt: skip
        tmp = out_dir / f".{ISO_NAME}.tmp"
        shutil.copyfile(result, tmp)
        os.replace(tmp, dest)
    (out_dir / SUMS_NAME).write_text(f"{digest}  {ISO_NAME}\n")
    return dest


def prune_results(results: Path, keep: str) -> None:
    dirs = sorted(
        (d for d in results.iterdir() if d.is_dir() and d.name != keep),
        key=lambda d: d.stat().st_mtime,
        reverse=True,
    )
    for old in dirs[KEEP_RESULTS - 1 :]:
        shutil.rmtree(old, ignore_errors=True)


def build(out_dir: Path, cache: Path, force: bool, variant: str | None = None) -> Path:
    start = time.monotonic()
    with locked(cache / "lock"):
        packages = [*all_packages(), *variant_packages(variant)]
        memo = f"resolved-{variant}.json" if variant else "resolved.json"
        records, kernel = resolve_packages(cache, packages, KERNEL_META, memo)
        key, manifest = cache_key(records, kernel, variant)
        results = cache / "results"
        result = results / key / ISO_NAME
        if result.is_file() and (result.parent / SUMS_NAME).is_file() and not force:
            log(f"up to date (key {key}); reusing {result}")
            return publish(result, out_dir)
        log(f"building guest (key {key}, kernel {kernel.ident})")
        resolver = LibResolver(records, cache / "debs", cache / "unpacked")
        results.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=results, prefix=".build-") as tmp:
            iso = build_iso(records, kernel, resolver, Path(tmp), key, manifest)
            digest = sha256_file(iso)
            (Path(tmp) / SUMS_NAME).write_text(f"{digest}  {ISO_NAME}\n")
            final = results / key
            shutil.rmtree(final, ignore_errors=True)
            final.mkdir()
            os.replace(iso, final / ISO_NAME)
            os.replace(Path(tmp) / SUMS_NAME, final / SUMS_NAME)
        prune_results(results, key)
        size = result.stat().st_size
        log(f"built {ISO_NAME}: {size / 1e6:.1f} MB in {time.monotonic() - start:.1f} s")
        return publish(result, out_dir)


def default_cache() -> Path:
    env = os.environ.get("KILN_GUEST_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "kiln" / "guest"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--out", type=Path, default=REPO_ROOT / "build" / "guest",
        help="output directory for tiny-installer.iso and SHA256SUMS (default: build/guest)",
    )  # fmt: skip
    parser.add_argument(
        "--cache", type=Path, default=None,
        help="package/result cache (default: $KILN_GUEST_CACHE or ~/.cache/kiln/guest)",
    )  # fmt: skip
    parser.add_argument("--force", action="store_true", help="rebuild even if the cache is fresh")
    parser.add_argument(
        "--variant", choices=sorted(VARIANTS), default=None,
        help="add packages for some tests (ansible: Python 3 and ansible-core); see README",
    )  # fmt: skip
    args = parser.parse_args(argv)
    cache = (args.cache or default_cache()).resolve()
    try:
        iso = build(args.out.resolve(), cache, args.force, args.variant)
    except BuildError as exc:
        print(f"guest/build.py: error: {exc}", file=sys.stderr)
        return 1
    print(iso)
    return 0


if __name__ == "__main__":
    sys.exit(main())
