#!/usr/bin/env python3
"""Packing a Vagrant box: kiln's streaming writer against `tar | gzip` on the same image.

    bench/vagrant_box.py [--source /usr/lib] [--rounds 1] [--levels 6,1] [--keep DIR]

Makes a realistic multi-GB qcow2 first: an ext4 file system filled with the files of
`--source` (real binaries and text; `mke2fs -d`, no mounting), converted to qcow2 as a
build leaves it. Then, for each round, in this order:

* `tar | gzip -6`: GNU tar of box.img + metadata.json + Vagrantfile piped into GNU gzip
  (one core), the way a shell script would make the box;
* `cp` of the image: the copy Packer 1.6.6 makes before it tars (`CopyContents` into a
  temporary directory), which kiln does not;
* kiln's `write_box` at each `--levels` level (zlib-ng on every CPU, read once, streamed).

Prints a table and writes `bench/results/vagrant-box-<UTC time>.json`. Wall-clock times:
run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from kiln.postprocessors.vagrant_box import (  # noqa: E402
    LIBVIRT_VAGRANTFILE,
    BoxEntry,
    box_vagrantfile,
    metadata_json,
    write_box,
)

MIB = 1 << 20


def du_bytes(path: Path) -> int:
    out = subprocess.run(["du", "-sb", str(path)], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[0])


def make_image(source: Path, work: Path) -> Path:
    """An ext4 file system holding `source`, as a compacted qcow2."""
    raw = work / "disk.raw"
    size = int(du_bytes(source) * 1.3) + 256 * MIB
    with raw.open("wb") as f:
        f.truncate(size)
    subprocess.run(["mke2fs", "-q", "-F", "-t", "ext4", "-d", str(source), str(raw)], check=True)
    image = work / "tiny.qcow2"
    subprocess.run(["qemu-img", "convert", "-O", "qcow2", str(raw), str(image)], check=True)
    raw.unlink()
    return image


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process and its children) of fn()."""
    before = os.times()
    start = time.monotonic()
    fn()
    wall = time.monotonic() - start
    after = os.times()
    cpu = sum(after[:4]) - sum(before[:4])
    return wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=Path("/usr/lib"))
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--levels", default="6,1")
    parser.add_argument("--keep", type=Path, help="reuse/keep the image in this directory")
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    work = args.keep or Path(tempfile.mkdtemp(prefix="kiln-bench-box-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        image = work / "tiny.qcow2"
        if not image.exists():
            print(f"making the image from {args.source} ...", flush=True)
            wall, _ = timed(partial(make_image, args.source, work))
            print(f"  {image.stat().st_size / MIB:.0f} MiB qcow2 in {wall:.0f} s", flush=True)
        size = image.stat().st_size
        meta = metadata_json({"provider": "libvirt", "format": "qcow2", "virtual_size": 8})
        vagrantfile = box_vagrantfile(LIBVIRT_VAGRANTFILE.format(driver="kvm"), "")
        stage = work / "stage"  # what `tar` packs: the image (hard link) and the two files
        stage.mkdir(exist_ok=True)
        for name, data in (("metadata.json", meta), ("Vagrantfile", vagrantfile)):
            (stage / name).write_bytes(data)
        if not (stage / "box.img").exists():
            os.link(image, stage / "box.img")
        entries = [BoxEntry("box.img", source=image), BoxEntry("metadata.json", data=meta),
                   BoxEntry("Vagrantfile", data=vagrantfile)]  # fmt: skip
        results: list[dict[str, object]] = []

        def record(name: str, wall: float, cpu: float, out: Path | None) -> None:
            made = out.stat().st_size if out is not None else size
            results.append({"variant": name, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
                            "output_bytes": made, "input_bytes": size})  # fmt: skip
            print(f"  {name:<28} {wall:7.1f} s  {size / MIB / wall:6.0f} MiB/s  "
                  f"cpu {cpu:6.1f} s  {made / MIB:7.0f} MiB", flush=True)  # fmt: skip

        for round_no in range(1, args.rounds + 1):
            print(f"round {round_no}: {size / MIB:.0f} MiB image, {os.cpu_count()} CPUs")
            out = work / "shell.box"
            shell = f"tar -cf - -C {stage} Vagrantfile box.img metadata.json | gzip -6 > {out}"
            wall, cpu = timed(partial(subprocess.run, ["sh", "-c", shell], check=True))
            record("tar | gzip -6", wall, cpu, out)
            out.unlink()
            copy = work / "copy.img"
            wall, cpu = timed(partial(shutil.copyfile, image, copy))
            record("cp (Packer's extra copy)", wall, cpu, None)
            copy.unlink()
            for level in levels:
                out = work / f"kiln-{level}.box"
                wall, cpu = timed(partial(write_box, out, entries, level))
                record(f"kiln write_box, level {level}", wall, cpu, out)
                out.unlink()
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        target = REPO / "bench" / "results" / f"vagrant-box-{stamp}.json"
        target.parent.mkdir(exist_ok=True)
        target.write_text(json.dumps({"source": str(args.source), "cpus": os.cpu_count(),
                                      "results": results}, indent=2) + "\n")  # fmt: skip
        print(f"wrote {target.relative_to(REPO)}")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
