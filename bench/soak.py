#!/usr/bin/env python3
"""Soak: the example built again and again, in a row and side by side, looking for leaks.

    bench/soak.py                       20 builds in a row, then 4 at once (≈ 40 min on 2 cores)
    bench/soak.py --serial 5 --parallel 2

The builds are examples/tiny/template.json with its ISO and checksum file served over HTTP
from this machine, so every build goes through the shared download cache: all of them use
one PACKER_CACHE_DIR (ISO cache, its lock, the port locks) and one TMPDIR.

* In a row: one Python process runs `kiln build` (kiln.cli.main) 20 times, so what one build
  leaves behind in the process shows: open file descriptors, threads, child processes are
  counted before and after each build (the next build starts once the soak has looked).
* Side by side: 4 `kiln build` processes start together.

After each build and at the end: no qemu-system process of the soak, an empty TMPDIR (kiln's
work directories), no port lock file left, every port a build reported (HTTP, SSH forward,
VNC) free again. The figures go to bench/results/soak-<time>.json; failures are listed.
Not a test (it takes long and the machine's load decides the times): run it by hand.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = Path(sys.executable)  # the interpreter that runs the soak runs kiln
TEMPLATE = ROOT / "examples" / "tiny" / "template.json"
GUEST = ROOT / "build" / "guest"
PORTS = (
    re.compile(r"Starting HTTP server on port (\d+)"),
    re.compile(r"Found port for communicator \(SSH, WinRM, etc\): (\d+)"),
    re.compile(r"vnc://127\.0\.0\.1:(\d+)"),
)

# One kiln process, `count` builds in a row; a JSON line per build on stdout.
SERIAL_DRIVER = """
import contextlib, io, json, os, sys, threading, time
from kiln.cli.main import main

def parent(pid):
    try:
        return open(f"/proc/{pid}/stat").read().rsplit(") ", 1)[1].split()[1]
    except OSError:
        return None

def census():
    children = [p for p in os.listdir("/proc") if p.isdigit() and parent(p) == str(os.getpid())]
    return {"fds": len(os.listdir("/proc/self/fd")), "threads": threading.active_count(),
            "children": len(children)}

count, prefix, rest = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
for i in range(count):
    sys.stdin.readline()  # the soak has looked at what the last build left: go on
    before = census()
    began = time.monotonic()
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
        code = main(["build", "-var", f"output_directory={prefix}-{i}", *rest])
    seconds = time.monotonic() - began
    print(json.dumps({"build": i, "code": code, "seconds": seconds, "before": before,
                      "after": census(), "output": captured.getvalue()}), flush=True)
"""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return None


@contextlib.contextmanager
def serve(directory: Path) -> Any:
    handler = functools.partial(QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def qemu_of(root: Path, only: int | None = None) -> list[str]:
    """qemu-system processes of the soak (their command lines name its directory)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        if only is not None and int(pid) != only:
            continue
        with contextlib.suppress(OSError):
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            if "qemu-system" in cmd and str(root) in cmd:
                found.append(f"{pid}: {cmd[:120]}")
    return found


def busy_ports(output: str, root: Path, driver: int | None = None) -> list[str]:
    """Ports a build reported that a process of the soak still listens on (the machine is
    shared: another user's QEMU may have taken a port since, which is no leak)."""
    held = []
    for pattern in PORTS:
        for port in sorted({int(p) for p in pattern.findall(output)}):
            listing = subprocess.run(["ss", "-Hltnp", f"sport = :{port}"], capture_output=True,
                                     text=True, check=False).stdout  # fmt: skip
            for pid in map(int, re.findall(r"pid=(\d+)", listing)):
                if pid == driver or qemu_of(root, only=pid) or _in_soak(pid, root):
                    held.append(f"{port} (pid {pid})")
    return held


def _in_soak(pid: int, root: Path) -> bool:
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        environ = Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace")
    except OSError:
        return False
    return str(root) in cmd or str(root) in environ


def leftovers(root: Path, env: dict[str, str]) -> dict[str, Any]:
    tmp = Path(env["TMPDIR"])
    locks = Path(env["PACKER_CACHE_DIR"]) / "port"
    return {
        "qemu": qemu_of(root),
        "tmp": sorted(p.name for p in tmp.iterdir()),
        "port_locks": sorted(p.name for p in locks.iterdir()) if locks.is_dir() else [],
    }


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--serial", type=int, default=20)
    parser.add_argument("--parallel", type=int, default=4)
    opts = parser.parse_args()
    if not (GUEST / "tiny-installer.iso").exists():
        subprocess.run([PYTHON, "guest/build.py", "--out", str(GUEST)], cwd=ROOT, check=True)
    root = Path(tempfile.mkdtemp(prefix="kiln-soak-"))
    env = dict(os.environ)
    env.update(PACKER_CACHE_DIR=str(root / "cache"), KILN_CACHE_DIR=str(root / "kiln-cache"),
               KILN_FAILURE_DIR=str(root / "failures"), TMPDIR=str(root / "tmp"))  # fmt: skip
    (root / "tmp").mkdir()
    result: dict[str, Any] = {"started": datetime.now(UTC).isoformat(), "load_start": load(),
                              "serial": [], "parallel": [], "problems": []}  # fmt: skip
    with serve(GUEST) as url:
        common = ["-var", f"guest_dir={url}", str(TEMPLATE)]
        # --- in a row, one process ---------------------------------------------------------
        if opts.serial:
            driver = subprocess.Popen(
                [PYTHON, "-c", SERIAL_DRIVER, str(opts.serial), f"{root}/serial", *common],
                cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            )  # fmt: skip
            assert driver.stdin is not None and driver.stdout is not None
            driver.stdin.write("\n")  # the first build
            driver.stdin.flush()
            for line in driver.stdout:
                build = json.loads(line)
                output = build.pop("output")
                build["load"] = load()
                build["leftovers"] = leftovers(root, env)
                build["busy_ports"] = busy_ports(output, root, driver.pid)
                result["serial"].append(build)
                shutil.rmtree(root / f"serial-{build['build']}", ignore_errors=True)
                verdict = "ok" if build["code"] == 0 else "FAILED"
                print(f"serial {build['build'] + 1}/{opts.serial}: {verdict} in "
                      f"{build['seconds']:.1f}s, fds {build['before']['fds']}→"
                      f"{build['after']['fds']}, threads {build['after']['threads']}, "
                      f"load {build['load']}", flush=True)  # fmt: skip
                if build["code"] != 0:
                    result["problems"].append(f"serial build {build['build']}: {output[-2000:]}")
                with contextlib.suppress(BrokenPipeError):
                    driver.stdin.write("\n")  # checked: the next build may start
                    driver.stdin.flush()
            if driver.wait() != 0 or len(result["serial"]) != opts.serial:
                result["problems"].append(f"the serial driver ended with {driver.returncode} "
                                          f"after {len(result['serial'])} builds")  # fmt: skip
        # --- side by side, separate processes ----------------------------------------------
        if opts.parallel:
            began = time.monotonic()
            procs = [
                subprocess.Popen(
                    [
                        PYTHON,
                        "-m",
                        "kiln",
                        "build",
                        "-var",
                        f"output_directory={root}/parallel-{i}",
                        *common,
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
                for i in range(opts.parallel)
            ]
            for i, proc in enumerate(procs):
                output, _ = proc.communicate()
                seconds = time.monotonic() - began
                entry = {"build": i, "code": proc.returncode, "seconds": seconds,
                         "busy_ports": busy_ports(output, root)}  # fmt: skip
                result["parallel"].append(entry)
                print(f"parallel {i + 1}/{opts.parallel}: "
                      f"{'ok' if proc.returncode == 0 else 'FAILED'} after {seconds:.1f}s",
                      flush=True)  # fmt: skip
                if proc.returncode != 0:
                    result["problems"].append(f"parallel build {i}: {output[-2000:]}")
            result["parallel_leftovers"] = leftovers(root, env)
    result["load_end"] = load()
    serial = result["serial"]
    steady = serial[1:] or serial
    summary = {
        "serial_ok": sum(b["code"] == 0 for b in serial),
        "serial_median_s": statistics.median(b["seconds"] for b in serial) if serial else None,
        "fd_growth_after_first": (steady[-1]["after"]["fds"] - steady[0]["before"]["fds"])
        if serial
        else None,
        "max_threads_after": max((b["after"]["threads"] for b in serial), default=None),
        "max_children_after": max((b["after"]["children"] for b in serial), default=None),
        "parallel_ok": sum(b["code"] == 0 for b in result["parallel"]),
        "parallel_wall_s": max((b["seconds"] for b in result["parallel"]), default=None),
        "leaks": [b["leftovers"] for b in serial if any(b["leftovers"].values())]
        + ([result["parallel_leftovers"]] if any(result.get("parallel_leftovers", {}).values())
           else [])
        + [b["busy_ports"] for b in [*serial, *result["parallel"]] if b["busy_ports"]],
    }  # fmt: skip
    result["summary"] = summary
    out = ROOT / "bench" / "results" / f"soak-{datetime.now(UTC):%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(summary, indent=2))
    print(f"results: {out.relative_to(ROOT)}; load {result['load_start']} → {result['load_end']}")
    shutil.rmtree(root, ignore_errors=True)
    failed = summary["serial_ok"] != len(serial) or summary["parallel_ok"] != len(
        result["parallel"]
    )
    return 1 if failed or summary["leaks"] or result["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
