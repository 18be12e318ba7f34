#!/usr/bin/env python3
"""How fast can kiln type a boot command, and how fast can it type it *reliably*?

    keyboard.py --throughput       keys/s each driver pushes into a real QEMU (interval 0)
    keyboard.py --reliability      for each driver and key interval, boot the test guest 20
                                   times, type a long kernel argument at the isolinux prompt
                                   and check that the kernel received it intact
                                   (--intervals 5,2,1 --drivers qmp: just those)

The reliability probe types `rescue kiln.probe=<random text with shifted characters>`;
the kernel prints its command line on the serial console, where the probe is compared.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import socket
import string
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from qemu.qmp import QMPClient  # noqa: E402

from kiln.boot.drivers import QmpKeyboard, VncKeyboard  # noqa: E402
from kiln.boot.grammar import parse_boot_command  # noqa: E402
from kiln.boot.typist import type_actions  # noqa: E402

ISO = ROOT / "build" / "guest" / "tiny-installer.iso"
PROBE_LENGTH = 120
PROBE_CHARS = string.ascii_letters + string.digits + "-_.:+@%^~"


def free_port(lo: int = 5900, hi: int = 5999) -> int:
    for port in random.sample(range(lo, hi), hi - lo):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise SystemExit("no free VNC port")


async def start_qemu(workdir: Path, iso: Path | None) -> tuple[asyncio.subprocess.Process,
                                                             QMPClient, int, Path]:  # fmt: skip
    vnc = free_port()
    serial = workdir / "serial.log"
    sock = workdir / "qmp.sock"
    argv = ["qemu-system-x86_64", "-machine", "pc,accel=tcg", "-m", "256", "-display", "none",
            "-vnc", f"127.0.0.1:{vnc - 5900}", "-qmp", f"unix:{sock},server=on,wait=off",
            "-serial", f"file:{serial}", "-nodefaults", "-vga", "std"]  # fmt: skip
    if iso is not None:
        argv += ["-cdrom", str(iso), "-boot", "d"]
    proc = await asyncio.create_subprocess_exec(*argv, stdin=asyncio.subprocess.DEVNULL)
    for _ in range(200):
        if sock.exists():
            break
        await asyncio.sleep(0.05)
    qmp = QMPClient("bench")
    await qmp.connect(str(sock))
    return proc, qmp, vnc, serial


async def stop(proc: asyncio.subprocess.Process, qmp: QMPClient) -> None:
    with contextlib.suppress(Exception):
        await qmp.execute("quit")
    with contextlib.suppress(Exception):
        await qmp.disconnect()
    if proc.returncode is None:
        proc.kill()
    await proc.wait()


async def throughput() -> dict[str, float]:
    results: dict[str, float] = {}
    text = ("abcdefghij" * 100)[:1000]
    actions = parse_boot_command(text)
    with tempfile.TemporaryDirectory() as tmp:
        proc, qmp, vnc, _ = await start_qemu(Path(tmp), None)
        try:
            async with await VncKeyboard.connect("127.0.0.1", vnc) as kb:
                t = time.monotonic()
                await type_actions(kb, actions, interval=0)
                results["VNC"] = len(actions) / (time.monotonic() - t)
            for batch in (1, 16):
                qkb = QmpKeyboard(qmp, batch=batch)
                t = time.monotonic()
                await type_actions(qkb, actions, interval=0)
                results[f"QMP (batch {batch})"] = len(actions) / (time.monotonic() - t)
        finally:
            await stop(proc, qmp)
    return results


async def wait_serial(path: Path, needle: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = path.read_text(errors="replace") if path.exists() else ""
        if needle in text:
            return text
        await asyncio.sleep(0.05)
    raise TimeoutError(needle)


async def one_probe(driver: str, interval: float) -> bool:
    probe = "".join(random.choice(PROBE_CHARS) for _ in range(PROBE_LENGTH))
    with tempfile.TemporaryDirectory() as tmp:
        proc, qmp, vnc, serial = await start_qemu(Path(tmp), ISO)
        try:
            await wait_serial(serial, "boot:", 60)
            actions = parse_boot_command(f"rescue kiln.probe={probe}<enter>")
            if driver == "vnc":
                async with await VncKeyboard.connect("127.0.0.1", vnc) as kb:
                    await type_actions(kb, actions, interval=interval)
            else:
                await type_actions(QmpKeyboard(qmp), actions, interval=interval)
            try:
                text = await wait_serial(serial, "Command line:", 60)
            except TimeoutError:
                print(f"  no kernel command line; serial tail: {serial.read_text()[-300:]!r}",
                      file=sys.stderr)  # fmt: skip
                return False
            line = text[text.index("Command line:") :].splitlines()[0]
            ok = f"kiln.probe={probe}" in line.split()
            if not ok:
                print(f"  typed:    rescue kiln.probe={probe}\n  received: {line}",
                      file=sys.stderr)  # fmt: skip
            return ok
        finally:
            await stop(proc, qmp)


async def reliability(
    runs: int, intervals: list[float], drivers: list[str]
) -> dict[str, dict[str, int]]:
    results: dict[str, dict[str, int]] = {}
    for driver in drivers:
        results[driver] = {}
        for interval in intervals:
            ok = 0
            for _ in range(runs):
                ok += await one_probe(driver, interval)
            results[driver][f"{interval * 1000:g}ms"] = ok
            print(f"{driver} {interval * 1000:g} ms: {ok}/{runs}", file=sys.stderr, flush=True)
            if ok < runs:
                break  # shorter intervals will not do better
    return results


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--throughput", action="store_true")
    ap.add_argument("--reliability", action="store_true")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--intervals", default="100,50,20,10,5,2,1,0",
                    help="key intervals in ms, slowest first")  # fmt: skip
    ap.add_argument("--drivers", default="vnc,qmp", help="which keyboards to probe")
    args = ap.parse_args()
    if args.throughput:
        print(json.dumps(asyncio.run(throughput())))
    if args.reliability:
        if not ISO.exists():
            raise SystemExit(f"{ISO} is missing: run guest/build.py --out build/guest")
        intervals = [float(ms) / 1000 for ms in args.intervals.split(",")]
        drivers = args.drivers.split(",")
        print(json.dumps(asyncio.run(reliability(args.runs, intervals, drivers)), indent=2))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("LANG", "C.UTF-8")
    raise SystemExit(main())
