#!/usr/bin/env python3
"""`kiln validate` against `packer validate` on the HCL2 example (examples/tiny/template.pkr.hcl).

    bench/hcl2_validate.py              9 rounds, alternating kiln and Packer
    bench/hcl2_validate.py --rounds 21
    bench/hcl2_validate.py --label after   writes hcl2-validate-<date>-after.json

Both validate the same file with the same -var (a scratch guest folder with a stand-in ISO
and its SHA256SUMS, since the checksum file is read at validate time). kiln runs twice per
round: as a user runs it again and again (its parse cache warm: the template is not parsed
again) and with its parse cache emptied before the run (lark imported, the file parsed; lark's
own table cache stays warm, as after any first run). Prints the median and the spread of
each, the CPU time (user + system) and the load average around the rounds, and writes
bench/results/hcl2-validate-<date>.json. Wall-clock times depend on the machine's load:
compare the CPU medians on a busy machine. kiln runs byte-compiled (a first, untimed run
compiles).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = "examples/tiny/template.pkr.hcl"


def timed(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall-clock and CPU (user + system) seconds of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.monotonic()
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False, env=env)
    elapsed = time.monotonic() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{proc.stdout}{proc.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument(
        "--label", default="", help="suffix of the results file (e.g. before, after)"
    )
    args = parser.parse_args()
    packer = shutil.which("packer")
    if packer is None:
        raise SystemExit("packer is not on PATH")
    with tempfile.TemporaryDirectory(prefix="kiln-bench-hcl2-") as scratch:
        guest = Path(scratch)
        iso = guest / "tiny-installer.iso"
        iso.write_bytes(b"stand-in ISO\n")
        digest = hashlib.sha256(iso.read_bytes()).hexdigest()
        (guest / "SHA256SUMS").write_text(f"{digest}  tiny-installer.iso\n")
        var = ["-var", f"guest_dir={guest}"]
        kiln = [str(ROOT / ".venv" / "bin" / "kiln"), "validate", *var, TEMPLATE]
        pk = [packer, "validate", *var, TEMPLATE]
        # As bench/run: byte-compiled modules (PYTHONDONTWRITEBYTECODE=1 would otherwise
        # recompile every module on every run), and the parser tables' cache warm.
        subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-m", "compileall", "-q",
                        "src/kiln"], cwd=ROOT, check=True)  # fmt: skip
        cache_home = guest / "cache"
        env = {**os.environ, "XDG_CACHE_HOME": str(cache_home)}
        parse_cache = cache_home / "kiln" / "hcl2-ast"
        timed(kiln, env)
        timed(pk)
        runs = {"kiln": (kiln, False), "kiln-no-parse-cache": (kiln, True), "packer": (pk, False)}
        times: dict[str, list[float]] = {name: [] for name in runs}
        cpu: dict[str, list[float]] = {name: [] for name in runs}
        load_before = os.getloadavg()
        for _ in range(args.rounds):
            for name, (argv, cold) in runs.items():
                if cold:
                    shutil.rmtree(parse_cache, ignore_errors=True)
                wall, used = timed(argv, env)
                times[name].append(wall)
                cpu[name].append(used)
        load_after = os.getloadavg()
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "template": TEMPLATE,
        "rounds": args.rounds,
        "cpus": os.cpu_count(),
        "loadavg_1_5_15_before": [round(x, 2) for x in load_before],
        "loadavg_1_5_15_after": [round(x, 2) for x in load_after],
        **{
            name: {
                "median_s": round(statistics.median(t), 4),
                "min_s": round(min(t), 4),
                "max_s": round(max(t), 4),
                "cpu_median_s": round(statistics.median(cpu[name]), 4),
            }
            for name, t in times.items()
        },
    }
    suffix = f"-{args.label}" if args.label else ""
    out = ROOT / "bench" / "results" / f"hcl2-validate-{result['date'][:10]}{suffix}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"load average (1, 5, 15 min): before {load_before[0]:.2f} {load_before[1]:.2f} "
          f"{load_before[2]:.2f}, after {load_after[0]:.2f} {load_after[1]:.2f} "
          f"{load_after[2]:.2f} on {os.cpu_count()} CPUs")  # fmt: skip
    for name in runs:
        r = result[name]
        print(f"{name:19} validate: median {r['median_s']:.3f} s (min {r['min_s']:.3f}, "
              f"max {r['max_s']:.3f}); CPU median {r['cpu_median_s']:.3f} s")  # fmt: skip
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
