"""Helpers for end-to-end tests that run `kiln build` on the test guest.

kiln runs as a real subprocess (real signals, real exit codes, real output); the resulting
image is inspected without booting it: `qemu-img info` for format and size, and `debugfs`
on the root partition for the files provisioners wrote.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import signal
import struct
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT_PASSWORD = "kiln-e2e-pw"


@dataclass
class KilnRun:
    returncode: int
    output: str  # stdout and stderr, interleaved as the user sees them
    seconds: float


def kiln_env(tmp: Path, session_cache: Path) -> dict[str, str]:
    """An environment that keeps every kiln side effect inside test directories."""
    env = dict(os.environ)
    env.update(
        {
            "PACKER_CACHE_DIR": str(session_cache / "packer"),
            "KILN_CACHE_DIR": str(session_cache / "kiln"),
            "KILN_FAILURE_DIR": str(tmp / "failures"),
            "TMPDIR": str(tmp / "tmp"),
        }
    )
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    (tmp / "tmp").mkdir(parents=True, exist_ok=True)
    return env


def kiln_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "kiln", *args]


def run_kiln(args: list[str], *, cwd: Path, env: dict[str, str], timeout: float = 600) -> KilnRun:
    started = time.monotonic()
    proc = subprocess.run(
        kiln_argv(*args),
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
    )
    return KilnRun(proc.returncode, proc.stdout, time.monotonic() - started)


def start_kiln(args: list[str], *, cwd: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        kiln_argv(*args),
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for_output(proc: subprocess.Popen[str], needle: str, timeout: float) -> str:
    """Read kiln's output until `needle` appears; return what was read."""
    assert proc.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    os.set_blocking(proc.stdout.fileno(), False)
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line:
            seen.append(line)
            if needle in line:
                return "".join(seen)
            continue
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    raise AssertionError(f"{needle!r} did not appear within {timeout}s; output:\n{''.join(seen)}")


def interrupt_and_wait(proc: subprocess.Popen[str], sig: int = signal.SIGINT) -> str:
    proc.send_signal(sig)
    assert proc.stdout is not None
    os.set_blocking(proc.stdout.fileno(), True)
    rest, _ = proc.communicate(timeout=120)
    return rest


def write_answers(directory: Path, *, marker: str, after: str = "reboot", extra: str = "") -> Path:
    """ks.cfg for the test guest; `extra` adds lines (e.g. "efi_boot_entry=no\n")."""
    directory.mkdir(parents=True, exist_ok=True)
    ks = directory / "ks.cfg"
    ks.write_text(
        f"rootpw={ROOT_PASSWORD}\nhostname=kiln-e2e\nmarker={marker}\nafter={after}\n{extra}"
    )
    return ks


def tiny_builder(iso: Any, **overrides: Any) -> dict[str, Any]:
    """A qemu builder for the test guest, answers over HTTP; override anything."""
    builder: dict[str, Any] = {
        "type": "qemu",
        "iso_url": str(iso.path) if iso is not None else None,
        "iso_checksum": iso.checksum if iso is not None else None,
        "output_directory": "out",
        "vm_name": "tiny.qcow2",
        "disk_size": "256M",
        "accelerator": "tcg",
        "headless": True,
        "http_directory": "http",
        "boot_wait": "1s",
        "boot_key_interval": "20ms",
        "boot_command": ["install ks=http://{{ .HTTPIP }}:{{ .HTTPPort }}/ks.cfg<enter>"],
        "ssh_username": "root",
        "ssh_password": ROOT_PASSWORD,
        "ssh_timeout": "4m",
        "shutdown_command": "poweroff",
    }
    builder.update(overrides)
    return {k: v for k, v in builder.items() if v is not None}


def write_template(path: Path, builders: list[dict[str, Any]], **rest: Any) -> Path:
    path.write_text(json.dumps({"builders": builders, **rest}, indent=2))
    return path


def image_info(path: Path) -> dict[str, Any]:
    out = subprocess.run(
        ["qemu-img", "info", "--output=json", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    info: dict[str, Any] = json.loads(out)
    return info


# GPT partition type of a Linux file system (the test guest's root under UEFI).
LINUX_FS_GUID = "0FC63DAF-8483-4772-8E79-3D69D8477DE4"


def root_partition_start(raw: Path) -> int:
    """First sector of the test guest's root: MBR partition 1 (BIOS install) or the GPT's
    Linux partition (UEFI install: partition 1 is the ESP)."""
    with raw.open("rb") as f:
        mbr = f.read(512)
        assert mbr[510:512] == b"\x55\xaa", "no MBR (or protective MBR) on the disk"
        if mbr[446 + 4] != 0xEE:  # not a GPT's protective MBR
            start: int = struct.unpack("<I", mbr[446 + 8 : 446 + 12])[0]
            return start
        f.seek(512)
        header = f.read(92)
        assert header[:8] == b"EFI PART", "protective MBR without a GPT header"
        entries_lba, count, size = struct.unpack("<QII", header[72:88])
        f.seek(entries_lba * 512)
        for _ in range(count):
            entry = f.read(size)
            type_guid = str(uuid.UUID(bytes_le=entry[:16])).upper()
            if type_guid == LINUX_FS_GUID:
                first: int = struct.unpack("<Q", entry[32:40])[0]
                return first
    raise AssertionError("the GPT has no Linux file system partition")


def read_guest_file(image: Path, guest_path: str, scratch: Path) -> str:
    """Read a file from the image's root (ext4) partition with debugfs, without booting."""
    raw = scratch / f"{image.name}.raw"
    fmt = image_info(image)["format"]
    if fmt == "raw":
        raw = image
    else:
        subprocess.run(["qemu-img", "convert", "-O", "raw", str(image), str(raw)], check=True)
    start_sector = root_partition_start(raw)
    proc = subprocess.run(
        ["debugfs", "-R", f"cat {guest_path}", f"{raw}?offset={start_sector * 512}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if raw != image:
        raw.unlink()
    if proc.returncode != 0 or "File not found" in proc.stderr:
        raise AssertionError(f"debugfs could not read {guest_path}: {proc.stderr}")
    return proc.stdout


def qemu_processes_under(directory: Path, program: str = "qemu-system") -> list[str]:
    """Command lines of running `program` processes (qemu-system, swtpm) that mention
    `directory`."""
    found = []
    for pid_dir in Path("/proc").iterdir():
        if not pid_dir.name.isdigit():
            continue
        try:
            cmd = (pid_dir / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        text = " ".join(part.decode(errors="replace") for part in cmd)
        if program in text and str(directory) in text:
            found.append(text)
    return found


class SteppedBuild:
    """`kiln build -debug` on a terminal: it pauses after every step until Enter, which
    gives the tests a hook at each step boundary to inject a fault (Packer's own -debug)."""

    PAUSE = re.compile(rb"Pausing after run of step '([^']*)'\. Press enter to continue\.")

    def __init__(self, args: list[str], *, cwd: Path, env: dict[str, str]) -> None:
        self.master, slave = os.openpty()
        self.proc = subprocess.Popen(
            kiln_argv("build", "-debug", *args),
            cwd=cwd,
            env=env,
            stdin=slave,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        os.close(slave)
        self.cwd = cwd
        self.output = b""
        self.pauses = 0  # pauses handled so far

    @property
    def text(self) -> str:
        return self.output.decode("utf-8", "replace")

    def _read_some(self, deadline: float) -> bool:
        """Read what kiln wrote (waiting until `deadline`); False at its end of output."""
        assert self.proc.stdout is not None
        left = deadline - time.monotonic()
        if left <= 0:
            self.kill()
            raise AssertionError(f"kiln did not get on within the time allowed:\n{self.text}")
        ready, _, _ = select.select([self.proc.stdout], [], [], min(left, 0.5))
        if not ready:
            return True
        chunk = os.read(self.proc.stdout.fileno(), 65536)
        self.output += chunk
        return bool(chunk)

    def pause_after(self, step: str, timeout: float = 300) -> None:
        """Press Enter at every pause before the one after `step`, and stay at that one."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.PAUSE.findall(self.output)
            if len(found) > self.pauses:
                self.pauses += 1
                if found[self.pauses - 1].decode() == step:
                    return
                self.resume()
            elif not self._read_some(deadline):
                raise AssertionError(f"kiln ended before step {step!r}:\n{self.text}")

    def resume(self) -> None:
        os.write(self.master, b"\n")

    def wait_for(self, text: str, timeout: float = 300) -> None:
        """Read until `text` appears (pauses are not answered meanwhile)."""
        deadline = time.monotonic() + timeout
        while text.encode() not in self.output:
            if not self._read_some(deadline):
                raise AssertionError(f"kiln ended before {text!r}:\n{self.text}")

    def finish(self, timeout: float = 300) -> int:
        """Read to the end, pressing Enter at every further pause; the exit code."""
        deadline = time.monotonic() + timeout
        while self._read_some(deadline):
            found = len(self.PAUSE.findall(self.output))
            while self.pauses < found:
                self.pauses += 1
                self.resume()
        code = self.proc.wait(timeout=60)
        os.close(self.master)
        return code

    def signal(self, signum: int) -> None:
        self.proc.send_signal(signum)

    def kill(self) -> None:
        """End kiln if it is still running (a failed test): SIGTERM so that it stops its
        QEMU, SIGKILL if it does not end; then any QEMU it left behind."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for pid in qemu_pids_under(self.cwd):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def qemu_pids_under(directory: Path) -> list[int]:
    """Pids of running qemu-system processes whose command line mentions `directory`."""
    pids = []
    for pid_dir in Path("/proc").iterdir():
        if not pid_dir.name.isdigit():
            continue
        try:
            cmd = (pid_dir / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cwd = os.readlink(pid_dir / "cwd")
        except OSError:
            continue
        if "qemu-system" in cmd and (str(directory) in cmd or cwd.startswith(str(directory))):
            pids.append(int(pid_dir.name))
    return pids


@contextlib.contextmanager
def tmpfs(where: Path, *options: str) -> Iterator[Path]:
    """A small file system of its own at `where` (a full or read-only disk on demand).

    Mounting needs root, as the CI runner has: without root the test is skipped; as root a
    mount that fails is a failure, so CI never skips these tests silently.
    """
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (the CI runner is root)")
    where.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", ",".join(options), "tmpfs",
                              str(where)], capture_output=True, text=True, check=False)  # fmt: skip
    assert mounted.returncode == 0, f"cannot mount a tmpfs: {mounted.stderr.strip()}"
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)
