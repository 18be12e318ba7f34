#!/usr/bin/env python3
"""The test guest under plain QEMU (TCG): BIOS against UEFI, or one ISO against another.

    bench/guest_boot.py --rounds 3                 # build/guest/tiny-installer.iso: bios, efi
    bench/guest_boot.py --run old-bios=/tmp/old.iso:bios \\
        --run new-bios=build/guest/tiny-installer.iso:bios --rounds 5

Each run boots an ISO on a fresh qcow2 disk (virtio disk and NIC, 512 MiB), types the boot
command on the serial port as soon as the `boot:` prompt appears, lets the installer fetch its
answers over HTTP, and waits for an SSH banner from the installed system. Then the disk (and,
under UEFI, the VM's own copy of the variable store) boots again without the ISO, to SSH.
Runs are interleaved (every `--run` once per round) so load changes hit all alike.
Times are seconds from QEMU's start. Results go to bench/results/<UTC time>-guest-boot.json.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import select
import shutil
import signal
import socket
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
OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"
MARKS = {
    "prompt": b"boot: ",
    "kernel": b"Linux version",
    "installed": b"kiln-installer: done",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def ssh_banner(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.settimeout(1)
            return s.recv(4).startswith(b"SSH-")
    except OSError:
        return False


class Answers:
    """ks.cfg over HTTP on a free port (the guest reaches it at 10.0.2.2)."""

    def __init__(self, directory: Path) -> None:
        (directory / "ks.cfg").write_text("rootpw=bench\nhostname=bench\n")

        class Quiet(http.server.SimpleHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

        handler = functools.partial(Quiet, directory=str(directory))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def boot(
    argv: list[str], port: int, typed: str | None, timeout: float, log: Path | None = None
) -> dict[str, float]:
    """Start QEMU; type `typed` at the prompt; return when SSH answers (marks in seconds).
    With `log`, the serial output goes there, each line stamped with its arrival time."""
    began = time.monotonic()
    proc = subprocess.Popen(
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    assert proc.stdin is not None and proc.stdout is not None
    os.set_blocking(proc.stdout.fileno(), False)
    seen = b""
    marks: dict[str, float] = {}
    next_probe = 0.0
    try:
        while time.monotonic() - began < timeout:
            ready, _, _ = select.select([proc.stdout], [], [], 0.05)
            if ready:
                chunk = proc.stdout.read() or b""
                seen += chunk
                if log is not None and chunk:
                    stamp = f"{time.monotonic() - began:7.2f} ".encode()
                    with log.open("ab") as f:
                        f.write(b"".join(stamp + line + b"\n" for line in chunk.splitlines()))
            now = time.monotonic() - began
            for name, needle in MARKS.items():
                if name not in marks and needle in seen:
                    marks[name] = now
            if typed is not None and "prompt" in marks and "typed" not in marks:
                for ch in typed:
                    proc.stdin.write(ch.encode())
                    proc.stdin.flush()
                    time.sleep(0.02)
                marks["typed"] = time.monotonic() - began
            if now >= next_probe and (typed is None or "installed" in marks):
                next_probe = now + 0.25
                if ssh_banner(port):
                    marks["ssh"] = time.monotonic() - began
                    return marks
            if proc.poll() is not None:
                break
        tail = seen[-2000:].decode(errors="replace")
        raise RuntimeError(f"no SSH after {time.monotonic() - began:.0f} s; serial tail:\n{tail}")
    finally:
        proc.kill()
        proc.wait()


def one_run(
    iso: Path, firmware: str, work: Path, answers: Answers, logs: Path | None = None
) -> dict[str, Any]:
    disk = work / "disk.qcow2"
    subprocess.run(["qemu-img", "create", "-f", "qcow2", str(disk), "256M"], check=True,
                   capture_output=True)  # fmt: skip
    port = free_port()
    drive = f"file={disk},if=virtio,cache=writeback,discard=ignore,format=qcow2"
    base = ["qemu-system-x86_64", "-machine", "pc,accel=tcg", "-m", "512", "-display", "none",
            "-serial", "stdio", "-netdev", f"user,id=n,hostfwd=tcp:127.0.0.1:{port}-:22",
            "-device", "virtio-net,netdev=n", "-drive", drive]  # fmt: skip
    if firmware == "efi":
        vars_fd = work / "efivars.fd"
        shutil.copyfile(OVMF_VARS, vars_fd)
        base += ["-drive", f"file={OVMF_CODE},if=pflash,unit=0,format=raw,readonly=on",
                 "-drive", f"file={vars_fd},if=pflash,unit=1,format=raw"]  # fmt: skip
        install = [*base, "-drive", f"file={iso},media=cdrom"]
    else:
        install = [*base, "-boot", "once=d", "-drive", f"file={iso},media=cdrom"]
    typed = f"install ks=http://10.0.2.2:{answers.port}/ks.cfg\r"
    stem = f"{iso.stem}-{firmware}-{time.strftime('%H%M%S')}"
    first = boot(install, port, typed, 300, logs / f"{stem}-install.log" if logs else None)
    second = boot(base, port, None, 300, logs / f"{stem}-reboot.log" if logs else None)
    disk.unlink()
    return {"install": first, "reboot": second}


def summary(runs: list[dict[str, Any]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for phase in ("install", "reboot"):
        for mark in ("prompt", "kernel", "installed", "ssh"):
            values = [r[phase][mark] for r in runs if mark in r[phase]]
            if values:
                out[f"{phase}.{mark}"] = round(statistics.median(values), 2)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--run", action="append", help="NAME=ISO:FIRMWARE (bios or efi), repeatable")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--serial-logs", type=Path, help="keep time-stamped serial logs here")
    args = ap.parse_args()
    default_iso = ROOT / "build" / "guest" / "tiny-installer.iso"
    specs = args.run or [f"bios={default_iso}:bios", f"efi={default_iso}:efi"]
    runs: dict[str, tuple[Path, str]] = {}
    for spec in specs:
        name, _, rest = spec.partition("=")
        iso, _, firmware = rest.rpartition(":")
        if firmware not in ("bios", "efi") or not Path(iso).is_file():
            ap.error(f"--run {spec}: expected NAME=ISO:bios or NAME=ISO:efi, with ISO a file")
        runs[name] = (Path(iso).resolve(), firmware)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # so QEMU is stopped on the way out
    results: dict[str, list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(prefix="kiln-guest-boot-") as tmp:
        answers = Answers(Path(tmp))
        for rnd in range(args.rounds):
            for name, (iso, firmware) in runs.items():
                if args.serial_logs:
                    args.serial_logs.mkdir(parents=True, exist_ok=True)
                run = one_run(iso, firmware, Path(tmp), answers, args.serial_logs)
                results.setdefault(name, []).append(run)
                print(f"round {rnd + 1} {name}: {json.dumps(run)}", file=sys.stderr)
        answers.server.shutdown()
    isos = {name: str(iso) for name, (iso, _) in runs.items()}
    table = {key: summary(runs) for key, runs in results.items()}
    out = ROOT / "bench" / "results" / f"{datetime.now(UTC):%Y%m%d-%H%M%S}-guest-boot.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"isos": isos, "runs": results, "medians": table}, indent=1))
    print(f"{'run':<16} " + " ".join(f"{c:>16}" for c in next(iter(table.values()))))
    for key, row in table.items():
        print(f"{key:<16} " + " ".join(f"{v:>16.2f}" for v in row.values()))
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
