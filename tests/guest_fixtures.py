"""Fixtures and helpers for end-to-end tests that boot kiln's test guest.

The guest is built from Debian packages by ``guest/build.py`` (see ``guest/README.md``). This
module gives tests:

* ``tiny_iso`` (session fixture): the installer ISO, built once per session into the session's
  temp dir (packages and results are cached in ``$KILN_GUEST_CACHE`` or ``~/.cache/kiln/guest``).
* ``tiny_iso_ansible`` (session fixture): the same with Python 3 and ansible-core
  (``guest/build.py --variant ansible``), built only for the tests that ask for it.
* ``serve_directory``: a threaded HTTP server for a directory (the guest reaches it at
  ``10.0.2.2:<port>`` through QEMU user networking), with an access log.
* ``QemuVM`` / ``start_qemu``: a raw ``qemu-system-x86_64`` (TCG) with a QMP socket and a serial
  log file, for tests that drive QEMU directly rather than through kiln.
* ``type_text`` / ``text_to_qcodes``: keyboard input over QMP ``send-key``.
* ``wait_for_ssh``: connect with asyncssh (password or key), retrying until the guest is up.
* ``keep_on_failure``: copy logs to ``test-artifacts/`` at the repo root when a block fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import http.server
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any

import asyncssh
import pytest
from qemu.qmp import QMPClient

REPO_ROOT = Path(__file__).resolve().parent.parent
GUEST_BUILD = REPO_ROOT / "guest" / "build.py"
ARTIFACTS_DIR = REPO_ROOT / "test-artifacts"
QEMU_BINARY = "qemu-system-x86_64"
# How the guest sees the host under QEMU user networking (slirp).
GUEST_HOST_IP = "10.0.2.2"

__all__ = [
    "ARTIFACTS_DIR",
    "GUEST_HOST_IP",
    "QemuVM",
    "ServedDirectory",
    "TinyIso",
    "build_tiny_iso",
    "free_tcp_port",
    "keep_on_failure",
    "serve_directory",
    "ssh_banner",
    "ssh_output",
    "start_qemu",
    "text_to_qcodes",
    "tiny_iso",
    "tiny_iso_ansible",
    "type_text",
    "wait_for_ssh",
]


# ---------------------------------------------------------------------------------------------
# The ISO


@dataclasses.dataclass(frozen=True)
class TinyIso:
    """The built installer ISO; ``SHA256SUMS`` (GNU format) sits next to it."""

    path: Path
    sha256: str

    @property
    def sums_file(self) -> Path:
        return self.path.parent / "SHA256SUMS"

    @property
    def checksum(self) -> str:
        """The value for a template's ``iso_checksum``."""
        return f"sha256:{self.sha256}"


def build_tiny_iso(out_dir: Path, variant: str | None = None) -> TinyIso:
    """Run ``guest/build.py --out out_dir [--variant V]`` (cache: ``$KILN_GUEST_CACHE``) and
    check its output."""
    extra = ["--variant", variant] if variant else []
    proc = subprocess.run(
        [sys.executable, str(GUEST_BUILD), "--out", str(out_dir), *extra],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        pytest.fail(f"guest/build.py failed (exit {proc.returncode}):\n{proc.stderr}")
    iso = Path(proc.stdout.strip().splitlines()[-1])
    digest, name = (out_dir / "SHA256SUMS").read_text().split()
    assert name == iso.name, f"SHA256SUMS names {name}, expected {iso.name}"
    h = hashlib.sha256()
    with iso.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    assert h.hexdigest() == digest, f"{iso} does not match its SHA256SUMS"
    return TinyIso(path=iso, sha256=digest)


@pytest.fixture(scope="session")
def tiny_iso(tmp_path_factory: pytest.TempPathFactory) -> TinyIso:
    """The test guest's installer ISO, built (or taken from the cache) once per session."""
    return build_tiny_iso(tmp_path_factory.mktemp("tiny-guest"))


@pytest.fixture(scope="session")
def tiny_iso_ansible(tmp_path_factory: pytest.TempPathFactory) -> TinyIso:
    """The test guest with Python 3 and ansible-core (``--variant ansible``), built (or taken
    from the cache) only when a test asks for it."""
    return build_tiny_iso(tmp_path_factory.mktemp("tiny-guest-ansible"), variant="ansible")


# ---------------------------------------------------------------------------------------------
# Networking helpers


def free_tcp_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


@dataclasses.dataclass
class ServedDirectory:
    """A running HTTP server for one directory."""

    directory: Path
    port: int
    requests: list[str] = dataclasses.field(default_factory=list)

    def guest_url(self, path: str) -> str:
        """The URL under which a QEMU user-networking guest reaches `path`."""
        return f"http://{GUEST_HOST_IP}:{self.port}/{path.lstrip('/')}"

    def host_url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"


@contextlib.contextmanager
def serve_directory(directory: Path) -> Iterator[ServedDirectory]:
    """Serve `directory` over HTTP on 127.0.0.1 (a free port) while the block runs.

    QEMU's user networking forwards the guest's connections to 10.0.2.2 to the host's
    loopback, so the guest fetches ``served.guest_url("ks.cfg")``. Each request line is
    appended to ``served.requests``.
    """
    served = ServedDirectory(directory=directory, port=0)

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(directory), **kwargs)

        def log_message(self, format: str, *args: Any) -> None:
            served.requests.append(format % args)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    served.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, name="serve_directory", daemon=True)
    thread.start()
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


async def ssh_banner(host: str, port: int, timeout: float = 2.0) -> bool:
    """True when an SSH server answers on host:port with its version line within `timeout`.

    Under QEMU user networking the host side of a forwarded port accepts at once even while
    the guest is down, and such a connection can hang for a long time; this cheap probe lets
    `wait_for_ssh` retry quickly instead.
    """
    writer = None
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        line = await asyncio.wait_for(reader.readline(), timeout)
        return line.startswith(b"SSH-")
    except (OSError, TimeoutError):
        return False
    finally:
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


async def wait_for_ssh(
    port: int,
    *,
    username: str = "root",
    password: str | None = None,
    client_keys: Sequence[asyncssh.SSHKey] | None = None,
    host: str = "127.0.0.1",
    timeout: float = 120.0,
    alive: QemuVM | None = None,
) -> asyncssh.SSHClientConnection:
    """Connect over SSH (password and/or keys, no host-key check), retrying until it works
    or `timeout` seconds pass. With `alive`, give up at once (with the serial log's tail)
    if that QEMU exits.
    """
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if alive is not None and alive.returncode is not None:
            raise AssertionError(
                f"QEMU exited ({alive.returncode}) while waiting for SSH\n{alive.serial_tail()}"
            )
        if not await ssh_banner(host, port):
            await asyncio.sleep(0.5)
            continue
        try:
            return await asyncssh.connect(
                host,
                port,
                username=username,
                password=password,
                client_keys=client_keys,
                known_hosts=None,
                connect_timeout=60,
            )
        except (TimeoutError, OSError, asyncssh.Error) as exc:
            last = exc
            await asyncio.sleep(1)
    tail = f"\n{alive.serial_tail()}" if alive is not None else ""
    raise AssertionError(f"no SSH on {host}:{port} after {timeout:.0f} s: {last!r}{tail}")


async def ssh_output(conn: asyncssh.SSHClientConnection, command: str) -> str:
    """Run `command` in the guest; return its stdout (AssertionError with stderr if it fails)."""
    result = await conn.run(command, check=False)
    if result.exit_status != 0:
        raise AssertionError(
            f"guest command {command!r} exited {result.exit_status}: {result.stderr!r}"
        )
    return str(result.stdout)


# ---------------------------------------------------------------------------------------------
# Keyboard input over QMP

_UNSHIFTED = {
    " ": "spc",
    "\n": "ret",
    "\t": "tab",
    "-": "minus",
    "=": "equal",
    "[": "bracket_left",
    "]": "bracket_right",
    ";": "semicolon",
    "'": "apostrophe",
    "`": "grave_accent",
    "\\": "backslash",
    ",": "comma",
    ".": "dot",
    "/": "slash",
}
_SHIFTED = {
    "_": "minus",
    "+": "equal",
    "{": "bracket_left",
    "}": "bracket_right",
    ":": "semicolon",
    '"': "apostrophe",
    "~": "grave_accent",
    "|": "backslash",
    "<": "comma",
    ">": "dot",
    "?": "slash",
    "!": "1",
    "@": "2",
    "#": "3",
    "$": "4",
    "%": "5",
    "^": "6",
    "&": "7",
    "*": "8",
    "(": "9",
    ")": "0",
}


def text_to_qcodes(text: str) -> list[list[str]]:
    """One QMP ``send-key`` chord (list of qcodes) per character of `text` (US layout)."""
    chords = []
    for ch in text:
        if "a" <= ch <= "z" or "0" <= ch <= "9":
            chords.append([ch])
        elif "A" <= ch <= "Z":
            chords.append(["shift", ch.lower()])
        elif ch in _UNSHIFTED:
            chords.append([_UNSHIFTED[ch]])
        elif ch in _SHIFTED:
            chords.append(["shift", _SHIFTED[ch]])
        else:
            raise ValueError(f"no US-keyboard key types {ch!r}")
    return chords


async def type_text(qmp: QMPClient, text: str, hold_ms: int = 30) -> None:
    """Type `text` on the guest keyboard (QEMU queues the keys in order)."""
    for chord in text_to_qcodes(text):
        keys = [{"type": "qcode", "data": k} for k in chord]
        await qmp.execute("send-key", {"keys": keys, "hold-time": hold_ms})


# ---------------------------------------------------------------------------------------------
# Raw QEMU


@dataclasses.dataclass
class QemuVM:
    """A running QEMU (TCG) with its QMP client and serial log."""

    proc: asyncio.subprocess.Process
    qmp: QMPClient
    serial_log: Path
    stderr_log: Path
    argv: list[str]

    @property
    def returncode(self) -> int | None:
        return self.proc.returncode

    def serial_text(self) -> str:
        try:
            return self.serial_log.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def serial_tail(self, lines: int = 40) -> str:
        return "\n".join(self.serial_text().splitlines()[-lines:])

    async def wait_serial(self, needle: str, timeout: float = 120.0) -> float:
        """Wait until `needle` appears in the serial log; return the seconds waited."""
        start = time.monotonic()
        while needle not in self.serial_text():
            if self.proc.returncode is not None:
                raise AssertionError(
                    f"QEMU exited ({self.proc.returncode}) before the serial log showed "
                    f"{needle!r}\n{self.serial_tail()}"
                )
            if time.monotonic() - start > timeout:
                raise AssertionError(
                    f"{needle!r} not in the serial log after {timeout:.0f} s\n{self.serial_tail()}"
                )
            await asyncio.sleep(0.2)
        return time.monotonic() - start

    async def wait_exit(self, timeout: float = 120.0) -> int:
        """Wait for QEMU to exit by itself; return its exit code."""
        try:
            return await asyncio.wait_for(self.proc.wait(), timeout)
        except TimeoutError:
            raise AssertionError(
                f"QEMU still running {timeout:.0f} s later\n{self.serial_tail()}"
            ) from None

    async def screendump(self, path: Path) -> None:
        """Save the screen as PNG (QMP ``screendump``)."""
        await self.qmp.execute("screendump", {"filename": str(path), "format": "png"})


@contextlib.asynccontextmanager
async def start_qemu(
    workdir: Path, args: Sequence[str], memory: str = "512M"
) -> AsyncIterator[QemuVM]:
    """Start ``qemu-system-x86_64 -machine pc,accel=tcg`` with `args`; yield once QMP is up.

    The serial port goes to ``workdir/serial.log`` and stderr to ``workdir/qemu.stderr``.
    On exit the VM is stopped (QMP ``quit``, then SIGKILL) if it still runs.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    sockdir = Path(tempfile.mkdtemp(prefix="kiln-qmp-"))  # short path: sun_path is 108 bytes
    sock = sockdir / "qmp.sock"
    serial = workdir / "serial.log"
    stderr = workdir / "qemu.stderr"
    argv = [
        QEMU_BINARY,
        "-machine", "type=pc,accel=tcg",
        "-m", memory,
        "-display", "none",
        "-serial", f"file:{serial}",
        "-qmp", f"unix:{sock},server=on,wait=off",
        *args,
    ]  # fmt: skip
    with stderr.open("wb") as err:
        proc = await asyncio.create_subprocess_exec(
            *argv, stdin=subprocess.DEVNULL, stdout=err, stderr=err
        )
    qmp = QMPClient("kiln-test")
    try:
        for _ in range(100):
            if proc.returncode is not None:
                break
            if not sock.exists():
                await asyncio.sleep(0.1)
                continue
            try:
                await qmp.connect(str(sock))
                break
            except Exception:
                await asyncio.sleep(0.1)
        if not qmp.runstate or proc.returncode is not None:
            await asyncio.sleep(0.2)
            raise AssertionError(
                f"QEMU did not start: {' '.join(argv)}\n{stderr.read_text(errors='replace')}"
            )
        yield QemuVM(proc=proc, qmp=qmp, serial_log=serial, stderr_log=stderr, argv=argv)
    finally:
        if proc.returncode is None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(qmp.execute("quit"), 5)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(proc.wait(), 5)
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        with contextlib.suppress(Exception):
            await qmp.disconnect()
        shutil.rmtree(sockdir, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# Failure forensics


@contextlib.contextmanager
def keep_on_failure(name: str, *paths: Path) -> Iterator[None]:
    """If the block raises, copy `paths` to ``test-artifacts/<name>/`` and print where."""
    try:
        yield
    except BaseException:
        dest = ARTIFACTS_DIR / name
        dest.mkdir(parents=True, exist_ok=True)
        for p in paths:
            if p.is_file():
                shutil.copy2(p, dest / p.name)
        print(f"\nkept {', '.join(p.name for p in paths)} in {dest}", file=sys.stderr)
        raise
