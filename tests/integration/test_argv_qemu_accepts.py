"""Real QEMU accepts every golden argv (tests/data/golden/<case>.txt).

Each case's QEMU command line is started paused (`-S`) under TCG with the files it names
created (empty qcow2/raw disks via qemu-img, zero-filled CD, floppy and firmware files),
over kiln's own QMP channel (a socketpair end passed as the `fd=` of `-chardev
socket,id=kiln-qmp`). QEMU has accepted the whole command line once QMP answers
`query-status` with "prelaunch": that only happens after every device is created.

What is changed before starting, and why (none of it is argv syntax kiln generates):
`$KILN_WORK` and `/kiln-cache` point into a temp dir; `accel=kvm` becomes `accel=tcg`
(KVM guests hang on this host); VNC listens on a unix socket and port forwards on port 0
(no collisions with parallel tests); a window display (`gtk`, `sdl`) becomes `none` (no
X server here); a bridge netdev becomes user networking (no bridge on this host).
"""

from __future__ import annotations

import itertools
import json
import re
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from golden_plugin import golden_cases, golden_qemu_argv

CASES = golden_cases()
GUARD_TIMEOUT = 120  # seconds; only against a hang, never a measure of speed
_HOSTFWD = re.compile(r"hostfwd=tcp:([^:,]*):\d+-")
_WINDOW_DISPLAYS = ("gtk", "sdl")


def runnable_argv(argv: list[str], root: Path, qmp_fd: int) -> list[str]:
    out: list[str] = []
    prev = ""
    for arg in argv:
        value = arg.replace("$KILN_WORK", str(root / "work"))
        value = value.replace("/kiln-cache/", f"{root / 'cache'}/")
        if prev == "-machine":
            value = value.replace("accel=kvm", "accel=tcg")
        elif prev == "-vnc":
            _, _, options = value.partition(",")
            value = f"unix:{root / 'vnc.sock'}" + (f",{options}" if options else "")
        elif prev == "-netdev":
            value = _HOSTFWD.sub(r"hostfwd=tcp:\1:0-", value)
            if value.startswith("bridge,"):
                value = "user,id=user.0"
        elif prev == "-display" and value.split(",")[0] in _WINDOW_DISPLAYS:
            value = "none"
        elif prev == "-chardev" and value.startswith("socket,id=kiln-qmp,"):
            value = re.sub(r"fd=\d+", f"fd={qmp_fd}", value)
        out.append(value)
        prev = arg
    return [*out, "-S"]


def _options(value: str) -> dict[str, str]:
    """A QEMU option list as QEMU reads it: split at single commas, `,,` is one comma."""
    parts = [p.replace("\0", ",") for p in value.replace(",,", "\0").split(",")]
    pairs = (part.partition("=") for part in parts)
    return {key: val for key, _, val in pairs}


def _zero_file(path: Path, size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        with path.open("wb") as f:
            f.truncate(size)


def create_referenced_files(argv: list[str], root: Path) -> None:
    """The disks, CDs, floppy, firmware and socket directories the argv names."""
    (root / "work").mkdir(exist_ok=True)
    for switch, value in itertools.pairwise(argv):
        if switch == "-drive":
            opts = _options(value)
            path = root / opts["file"]
            if opts.get("media") == "cdrom" or opts.get("if") == "pflash":
                _zero_file(path, 1024 * 1024)
            elif not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                fmt = opts.get("format", "raw")
                subprocess.run(["qemu-img", "create", "-q", "-f", fmt, str(path), "64M"],
                               check=True, stdin=subprocess.DEVNULL)  # fmt: skip
        elif switch == "-fda":
            _zero_file(root / value, 1474560)
        elif switch == "-bios":
            _zero_file(root / value, 256 * 1024)
        elif switch == "-qmp" and value.startswith("unix:"):
            sock = _options("path=" + value.removeprefix("unix:"))["path"]
            (root / sock).parent.mkdir(parents=True, exist_ok=True)


class _Qmp:
    def __init__(self, sock: socket.socket) -> None:
        sock.settimeout(GUARD_TIMEOUT)
        self.file = sock.makefile("rwb")

    def read(self) -> dict[str, Any]:
        line = self.file.readline()
        if not line:
            raise EOFError("QEMU closed the QMP channel")
        data: dict[str, Any] = json.loads(line)
        return data

    def execute(self, command: str) -> Any:
        self.file.write(json.dumps({"execute": command}).encode() + b"\n")
        self.file.flush()
        while True:
            reply = self.read()
            if "error" in reply:
                raise AssertionError(f"QMP {command}: {reply['error']}")
            if "return" in reply:
                return reply["return"]


@pytest.fixture
def qemu_verdict(tmp_path: Path) -> Iterator[Any]:
    """`verdict(argv)`: None if QEMU starts with it (paused), else QEMU's error output."""
    procs: list[subprocess.Popen[bytes]] = []

    def verdict(argv: list[str]) -> str | None:
        ours, theirs = socket.socketpair()
        with theirs:
            runnable = runnable_argv(argv, tmp_path, theirs.fileno())
            create_referenced_files(runnable, tmp_path)
            proc = subprocess.Popen(runnable, cwd=tmp_path, pass_fds=(theirs.fileno(),),
                                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, start_new_session=True)  # fmt: skip
        procs.append(proc)
        with ours:
            qmp = _Qmp(ours)
            try:
                assert "QMP" in qmp.read()
                qmp.execute("qmp_capabilities")
                status = qmp.execute("query-status")["status"]
            except (EOFError, OSError, ValueError):
                proc.kill()
                _, stderr = proc.communicate()
                return stderr.decode(errors="replace") or "QEMU exited without a message"
            assert status == "prelaunch"
            qmp.execute("quit")
        assert proc.wait(timeout=GUARD_TIMEOUT) == 0
        return None

    yield verdict
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


@pytest.mark.parametrize("case", CASES)
def test_qemu_accepts_golden_argv(case: str, qemu_verdict: Any) -> None:
    argv = golden_qemu_argv(case)
    assert shutil.which(argv[0]), f"{argv[0]} is not installed"
    assert qemu_verdict(argv) is None


# What Packer emits for these settings, and how QEMU 7.2 refuses it: the forms kiln fixes.
PACKER_FORMS_QEMU_REJECTS = {
    "sata": (["-drive", "file=output-qemu/d1,if=sata,cache=writeback,discard=ignore,"
              "format=qcow2"], "unsupported bus type 'sata'"),
    "scsi": (["-drive", "file=output-qemu/d1,if=scsi,cache=writeback,discard=ignore,"
              "format=qcow2"], "machine type does not support if=scsi"),
    "sd": (["-drive", "file=output-qemu/d1,if=sd,format=qcow2"],
           "machine type does not support if=sd"),
    "cdrom_index_136": (["-drive", "file=output-qemu/cd.iso,if=virtio,index=0,id=cdrom0,"
                         "media=cdrom"], "(index=0) exists"),
    "virtio_scsi_device": (["-device", "virtio-scsi-device"], "No 'virtio-bus' bus found"),
    "smp_below_topology": (["-smp", "2,sockets=2,cores=2"], "Invalid CPU topology"),
}  # fmt: skip


@pytest.mark.parametrize("form", sorted(PACKER_FORMS_QEMU_REJECTS))
def test_qemu_rejects_packer_form(form: str, qemu_verdict: Any) -> None:
    """The harness sees a rejection (so the acceptance test above can fail)."""
    extra, message = PACKER_FORMS_QEMU_REJECTS[form]
    verdict = qemu_verdict(golden_qemu_argv("defaults") + extra)
    assert verdict is not None
    assert message in verdict


def test_runnable_argv_rewrites_only_host_specific_parts(tmp_path: Path) -> None:
    argv = ["qemu-system-x86_64", "-machine", "type=pc,accel=kvm", "-netdev",
            "user,id=user.0,hostfwd=tcp::2222-:22", "-vnc", "0.0.0.0:10,password=on",
            "-display", "gtk", "-drive", "file=/kiln-cache/x.iso,media=cdrom",
            "-serial", "file:$KILN_WORK/serial.log",
            "-chardev", "socket,id=kiln-qmp,fd=3"]  # fmt: skip
    assert runnable_argv(argv, tmp_path, 9) == [
        "qemu-system-x86_64", "-machine", "type=pc,accel=tcg", "-netdev",
        "user,id=user.0,hostfwd=tcp::0-:22", "-vnc", f"unix:{tmp_path}/vnc.sock,password=on",
        "-display", "none", "-drive", f"file={tmp_path}/cache/x.iso,media=cdrom",
        "-serial", f"file:{tmp_path}/work/serial.log",
        "-chardev", "socket,id=kiln-qmp,fd=9", "-S",
    ]  # fmt: skip


def test_commas_and_colons_in_names_reach_qemu_as_names(tmp_path: Path) -> None:
    """Issue 15 #12: `vm_name: "disk.qcow2,snapshot=on"` must name the disk, not add an
    option to it; an output directory `nbd:evil.example:10809` must be a directory, not a
    network block device. QEMU is asked what it made of the golden argv."""
    for case, disk in (
        ("commas_in_names", "out,put/disk.qcow2,snapshot=on"),
        ("colon_in_output_directory", "nbd:evil.example:10809/disk.qcow2"),
    ):
        root = tmp_path / case
        root.mkdir()
        ours, theirs = socket.socketpair()
        with theirs:
            argv = runnable_argv(golden_qemu_argv(case), root, theirs.fileno())
            create_referenced_files(argv, root)
            proc = subprocess.Popen(argv, cwd=root, pass_fds=(theirs.fileno(),),
                                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, start_new_session=True)  # fmt: skip
        try:
            with ours:
                qmp = _Qmp(ours)
                assert "QMP" in qmp.read()
                qmp.execute("qmp_capabilities")
                files = [b["inserted"]["file"] for b in qmp.execute("query-block")
                         if "inserted" in b and b["device"].startswith("virtio")]  # fmt: skip
                name = qmp.execute("query-name").get("name")
                qmp.execute("quit")
        finally:
            if proc.poll() is None:
                proc.kill()
            _, stderr = proc.communicate(timeout=GUARD_TIMEOUT)
        # With snapshot=on QEMU would show a temporary overlay instead of the file.
        assert files and files[0].endswith(disk), (files, stderr.decode())
        assert (root / disk).is_file()
        if case == "commas_in_names":
            assert name == "disk.qcow2,snapshot=on"
