"""The SSH communicator against a real OpenSSH server started by these tests.

Needs root (sshd, a throwaway user) and the Debian package openssh-server. The sshd
listens on 127.0.0.1 only and allows only the throwaway user, whose files live under
/tmp; everything is removed at the end of the session.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import asyncssh
import pytest

from kiln.communicator.base import Communicator, RemoteCommandResult, run_capture
from kiln.communicator.paths import (
    TransferError,
    check_record_name,
    download_dir_target,
    merge_tree,
    remote_path,
    shell_quote,
    split_remote_dir,
    split_remote_file,
    upload_dir_target,
)
from kiln.communicator.scp import explain_exit, parse_record
from kiln.communicator.ssh import SshCommunicator, env_prefix
from kiln.communicator.ssh_connect import backoff_delays, keepalive_options
from kiln.communicator.ssh_errors import (
    CommandDisconnected,
    SshAuthError,
    SshCommandTimeoutError,
    SshConnectionError,
    SshError,
    SshKeyError,
    SshSettingsError,
    SshTimeoutError,
    SshTransferError,
    SshWaitCancelledError,
)
from kiln.communicator.ssh_settings import SshSettings
from kiln.errors import KilnError

pytestmark = pytest.mark.timeout(120)

SSHD = "/usr/sbin/sshd"
SFTP_SERVER = "/usr/lib/openssh/sftp-server"
METHODS = ["scp", "sftp"]


# --------------------------------------------------------------------------------------
# A real sshd and a throwaway user
# --------------------------------------------------------------------------------------


@dataclass
class SshdEnv:
    """Keys, user and scratch space shared by every sshd of the session."""

    root: Path
    user: str
    password: str
    home: Path
    uid: int
    gid: int
    host_key: Path
    client_key: Path
    authorized_keys: Path

    def config(self, name: str, extra: tuple[str, ...] = (), *, sftp: bool = True) -> Path:
        lines = [
            "ListenAddress 127.0.0.1",
            f"HostKey {self.host_key}",
            "PidFile none",
            f"AllowUsers {self.user}",
            "PermitRootLogin no",
            "PasswordAuthentication yes",
            "KbdInteractiveAuthentication no",
            "UsePAM no",
            f"AuthorizedKeysFile {self.authorized_keys}",
            "StrictModes no",
            "MaxStartups 50",
            "LogLevel VERBOSE",
            *([f"Subsystem sftp {SFTP_SERVER}"] if sftp else []),
            *extra,
        ]
        path = self.root / f"sshd_config.{name}"
        path.write_text("\n".join(lines) + "\n")
        return path

    def give(self, path: Path) -> Path:
        """Hand `path` (recursively) to the test user."""
        for dirpath, dirnames, filenames in os.walk(path):
            os.chown(dirpath, self.uid, self.gid)
            for name in dirnames + filenames:
                os.chown(os.path.join(dirpath, name), self.uid, self.gid, follow_symlinks=False)
        return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Sshd:
    """One sshd process on `port`, stopped by `stop()`."""

    config: Path
    port: int = field(default_factory=free_port)
    log: Path | None = None
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Sshd:
        self.log = self.config.with_suffix(f".{self.port}.log")
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [SSHD, "-D", "-e", "-f", str(self.config), "-p", str(self.port)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        deadline = time.monotonic() + 10
        while not port_open(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"sshd did not start: {self.log.read_text()}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="session")
def sshd_env() -> Iterator[SshdEnv]:
    if os.geteuid() != 0:
        pytest.fail("these tests start sshd and create a user: run them as root")
    if not Path(SSHD).exists():
        pytest.fail("sshd is missing: apt-get install -y openssh-server")
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    root = Path(os.path.realpath("/tmp")) / f"kiln-sshd-{secrets.token_hex(4)}"
    root.mkdir(mode=0o755)
    user = f"kt{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(12)
    home = root / "home"
    try:
        subprocess.run(
            ["useradd", "--no-create-home", "--home-dir", str(home), "--shell", "/bin/sh", user],
            check=True,
        )
        subprocess.run(["chpasswd"], input=f"{user}:{password}".encode(), check=True)
        uid, gid = int(_id(user, "-u")), int(_id(user, "-g"))
        home.mkdir(mode=0o755)
        os.chown(home, uid, gid)
        host = asyncssh.generate_private_key("ssh-ed25519")
        client = asyncssh.generate_private_key("ssh-ed25519")
        host_key = root / "host_key"
        client_key = root / "client_key"
        for key, path in ((host, host_key), (client, client_key)):
            path.write_bytes(key.export_private_key("openssh"))
            path.chmod(0o600)
        authorized_keys = root / "authorized_keys"
        authorized_keys.write_bytes(client.export_public_key("openssh"))
        authorized_keys.chmod(0o644)
        yield SshdEnv(root, user, password, home, uid, gid, host_key, client_key, authorized_keys)
    finally:
        subprocess.run(["userdel", "--force", user], check=False, capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def _id(user: str, flag: str) -> str:
    return subprocess.run(["id", flag, user], check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="session")
def sshd(sshd_env: SshdEnv) -> Iterator[Sshd]:
    server = Sshd(sshd_env.config("main")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def crippled_sshd(sshd_env: SshdEnv) -> Iterator[Sshd]:
    """An sshd whose sessions find no `scp` on PATH and that offers no SFTP subsystem."""
    config = sshd_env.config("crippled", ("SetEnv PATH=/nonexistent",), sftp=False)
    server = Sshd(config).start()
    yield server
    server.stop()


def settings_for(env: SshdEnv, port: int, **overrides: object) -> SshSettings:
    base = SshSettings(
        host="127.0.0.1",
        port=port,
        username=env.user,
        private_key_file=env.client_key,
        timeout=30.0,
    )
    return replace(base, **overrides)


class LogLines:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, line: str) -> None:
        self.lines.append(line)

    def count(self, needle: str) -> int:
        return sum(needle in line for line in self.lines)


@pytest.fixture
def remote_dir(sshd_env: SshdEnv) -> Iterator[Path]:
    """A fresh directory in the test user's home, owned by that user."""
    path = sshd_env.home / f"t-{secrets.token_hex(4)}"
    path.mkdir()
    sshd_env.give(path)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(params=METHODS)
async def comm(
    request: pytest.FixtureRequest, sshd_env: SshdEnv, sshd: Sshd
) -> AsyncIterator[SshCommunicator]:
    settings = settings_for(sshd_env, sshd.port, file_transfer_method=request.param)
    async with await SshCommunicator.wait_for(settings, log=LogLines()) as communicator:
        yield communicator


@pytest.fixture
async def scp_comm(sshd_env: SshdEnv, sshd: Sshd) -> AsyncIterator[SshCommunicator]:
    async with await SshCommunicator.wait_for(
        settings_for(sshd_env, sshd.port), log=LogLines()
    ) as communicator:
        yield communicator


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path under `root` (links followed) → file content, or None for directories."""
    tree: dict[str, bytes | None] = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        rel = Path(dirpath).relative_to(root)
        for name in dirnames:
            tree[(rel / name).as_posix()] = None
        for name in filenames:
            tree[(rel / name).as_posix()] = (Path(dirpath) / name).read_bytes()
    return tree


def make_tree(root: Path) -> Path:
    """A tree with nesting, an empty directory, odd names, binary data and links."""
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "empty").mkdir()
    (root / "a.txt").write_text("alpha\n")
    (root / "name with spaces & 'quotes' [x]*.txt").write_text("odd\n")
    (root / "sub" / "b.bin").write_bytes(bytes(range(256)) * 40)
    (root / "sub" / "deeper" / "c").write_text("")
    (root / "link-to-a").symlink_to("a.txt")
    (root / "link-to-sub").symlink_to("sub")
    return root


# --------------------------------------------------------------------------------------
# A TCP front that misbehaves like QEMU's slirp before the guest is up
# --------------------------------------------------------------------------------------


class FlakyFront:
    """Listens on a port; the first `bad` connections are closed at once (``"close"``)
    or held open in silence (``"hold"``); later ones are forwarded to `target_port`."""

    def __init__(self, target_port: int, mode: str, bad: int) -> None:
        self.target_port = target_port
        self.mode = mode
        self.bad = bad
        self.accepted = 0
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self._tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> FlakyFront:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        self._writers.append(writer)
        if self.accepted <= self.bad:
            if self.mode == "close":
                writer.close()
            return
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._writers.append(up_writer)
        self._tasks += [
            asyncio.ensure_future(self._pipe(reader, up_writer)),
            asyncio.ensure_future(self._pipe(up_reader, writer)),
        ]

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
            writer.write_eof()


# --------------------------------------------------------------------------------------
# Pure logic
# --------------------------------------------------------------------------------------


def test_backoff_starts_at_50ms_and_doubles_to_half_a_second() -> None:
    delays = backoff_delays()
    assert [next(delays) for _ in range(6)] == [0.05, 0.1, 0.2, 0.4, 0.5, 0.5]


@pytest.mark.parametrize(
    ("interval", "rw_timeout", "expected"),
    [
        (5.0, 0.0, (5.0, 12)),  # default: dead after 60 s of silence
        (5.0, 12.0, (5.0, 3)),
        (5.0, 3.0, (5.0, 1)),
        (0.0, 20.0, (20.0, 1)),
        (-1.0, 0.0, (0.0, 1)),  # keep-alives disabled
    ],
)
def test_keepalive_options(interval: float, rw_timeout: float, expected: tuple[float, int]) -> None:
    assert keepalive_options(interval, rw_timeout) == expected


@pytest.mark.parametrize(
    ("local", "remote", "expected"),
    [
        ("src", "/dst", "/dst/src"),
        ("src/", "/dst", "/dst"),
        ("a/b/src", "/dst/", "/dst/src"),
        ("a/b/src/", "/dst/", "/dst/"),
        (".", "/dst", "/dst"),
        ("src", "~/x", "x/src"),
        ("src/", "~", "."),
        (Path("src"), "/dst", "/dst/src"),
    ],
)
def test_upload_dir_target_follows_the_trailing_slash_rule(
    local: str | Path, remote: str, expected: str
) -> None:
    assert upload_dir_target(local, remote) == expected


@pytest.mark.parametrize(
    ("remote", "expected"),
    [("/var/log", "out/log"), ("/var/log/", "out"), ("/", "out"), ("~", "out"), ("x/.", "out")],
)
def test_download_dir_target_follows_the_trailing_slash_rule(remote: str, expected: str) -> None:
    assert download_dir_target(remote, Path("out")) == Path(expected)


def test_remote_path_rules() -> None:
    assert remote_path("~") == "."
    assert remote_path("~/") == "."
    assert remote_path("~/a/b") == "a/b"
    assert remote_path("~other/a") == "~other/a"
    assert remote_path("/abs") == "/abs"
    with pytest.raises(TransferError, match="empty"):
        remote_path("")


def test_split_remote_file_and_dir() -> None:
    assert split_remote_file("/tmp/x") == ("/tmp", "x")
    assert split_remote_file("x") == (".", "x")
    assert split_remote_file("/x") == ("/", "x")
    for bad in ("/tmp/", "/", ".", "~"):
        with pytest.raises(TransferError, match="names a directory"):
            split_remote_file(bad)
    assert split_remote_dir("/a/b/") == ("/a", "b")
    assert split_remote_dir("b") == (".", "b")
    assert split_remote_dir("/") == ("/", None)
    assert split_remote_dir(".") == (".", None)


def test_shell_quote_keeps_paths_literal() -> None:
    assert shell_quote("/tmp/a b") == "'/tmp/a b'"
    assert shell_quote("-rf") == "./-rf"
    assert shell_quote("it's") == "'it'\"'\"'s'"


@pytest.mark.parametrize("name", ["..", ".", "a/b", "a\nb", ""])
def test_record_names_that_could_escape_are_refused(name: str) -> None:
    with pytest.raises(TransferError):
        check_record_name(name)


def test_parse_record() -> None:
    assert parse_record(b"C0644 12 file name\n") == (0o644, 12, "file name")
    assert parse_record(b"D0755 0 dir\n") == (0o755, 0, "dir")
    for bad in (b"C0644 -1 x\n", b"Cxyz 1 x\n", b"C0644\n", b"C99999 1 x\n"):
        with pytest.raises(TransferError, match="malformed"):
            parse_record(bad)


def test_explain_exit_names_a_missing_scp() -> None:
    assert "no `scp`" in explain_exit(127, "sh: 1: scp: not found", "x")
    assert "sftp" in explain_exit(127, "", "x")
    assert explain_exit(1, "scp: /x: denied", "x") == (
        "the remote scp exited with status 1: scp: /x: denied"
    )
    assert explain_exit(0, "", "the remote scp sent nothing") == "the remote scp sent nothing"


def test_env_prefix_quotes_values_and_checks_names() -> None:
    assert env_prefix(None) == ""
    assert env_prefix({"A": "x y", "B_2": "it's"}) == "export A='x y' B_2='it'\"'\"'s'; "
    for bad in ("1A", "A-B", "", "A B"):
        with pytest.raises(SshError, match="invalid"):
            env_prefix({bad: "x"})


def test_settings_validation_and_secret_repr() -> None:
    settings = SshSettings("h", 22, "u", password="hunter2")
    assert "hunter2" not in repr(settings)
    assert settings.target == "u@h:22"
    assert SshSettings("::1", 2222, "u").address == "[::1]:2222"
    with pytest.raises(SshSettingsError, match=r"ssh_file_transfer_method \('ftp'\) is invalid"):
        SshSettings("h", 22, "u", file_transfer_method="ftp")
    with pytest.raises(SshSettingsError, match="ssh_username must be specified"):
        SshSettings("h", 22, "")
    with pytest.raises(SshSettingsError, match="out of range"):
        SshSettings("h", 70000, "u")
    assert issubclass(SshSettingsError, KilnError)


def test_merge_tree_merges_directories_and_replaces_files(tmp_path: Path) -> None:
    src, dst = tmp_path / "src", tmp_path / "dst"
    (src / "d").mkdir(parents=True)
    (src / "d" / "new").write_text("new")
    (src / "f").write_text("replaced")
    (dst / "d").mkdir(parents=True)
    (dst / "d" / "old").write_text("old")
    (dst / "f").write_text("original")
    merge_tree(src, dst)
    assert snapshot(dst) == {"d": None, "d/new": b"new", "d/old": b"old", "f": b"replaced"}
    assert list(src.rglob("*")) == [src / "d"]  # everything moved, directories merged


def test_merge_tree_never_swaps_files_and_directories(tmp_path: Path) -> None:
    src, dst = tmp_path / "src", tmp_path / "dst"
    (src / "d").mkdir(parents=True)
    dst.mkdir()
    (dst / "d").write_text("a file")
    with pytest.raises(TransferError, match="exists and is not a directory"):
        merge_tree(src, dst)
    (src / "d").rmdir()
    (src / "d").write_text("a file")
    (dst / "d").unlink()
    (dst / "d").mkdir()
    with pytest.raises(TransferError, match="is a directory; it cannot be replaced"):
        merge_tree(src, dst)


def test_remote_command_result() -> None:
    result = RemoteCommandResult("false", 1)
    assert not result.succeeded()
    assert result.succeeded([0, 1])


# --------------------------------------------------------------------------------------
# Waiting for SSH
# --------------------------------------------------------------------------------------


async def test_wait_for_connects_when_sshd_starts_later(sshd_env: SshdEnv) -> None:
    server = Sshd(sshd_env.config("late"))
    log = LogLines()
    waiting = asyncio.ensure_future(
        SshCommunicator.wait_for(settings_for(sshd_env, server.port), log=log)
    )
    try:
        await asyncio.sleep(1.5)
        assert not waiting.done()
        server.start()
        async with await waiting as comm:
            result = await run_capture(comm, "whoami")
        assert result.stdout == (sshd_env.user,)
        assert log.count("connection refused") >= 1
    finally:
        waiting.cancel()
        server.stop()


async def test_wait_for_times_out_on_a_closed_port(sshd_env: SshdEnv) -> None:
    settings = settings_for(sshd_env, free_port(), timeout=1.0)
    with pytest.raises(SshTimeoutError) as info:
        await SshCommunicator.wait_for(settings, log=LogLines())
    message = str(info.value)
    assert message.startswith("Timeout waiting for SSH.")
    assert "last error: connection refused" in message
    assert settings.target in message


async def test_wait_for_retries_a_port_that_closes_before_the_banner(
    sshd_env: SshdEnv, sshd: Sshd
) -> None:
    log = LogLines()
    async with FlakyFront(sshd.port, "close", bad=3) as front:
        settings = settings_for(sshd_env, front.port)
        async with await SshCommunicator.wait_for(settings, log=log) as comm:
            assert (await run_capture(comm, "echo up")).stdout == ("up",)
        assert front.accepted >= 4
    assert log.count("connection closed before the SSH banner") == 3


async def test_wait_for_is_not_blocked_by_a_port_that_never_answers(
    sshd_env: SshdEnv, sshd: Sshd
) -> None:
    # slirp holds such connections ~80 s; the later probes must get through regardless.
    async with FlakyFront(sshd.port, "hold", bad=2) as front:
        settings = settings_for(sshd_env, front.port, timeout=20.0)
        async with await SshCommunicator.wait_for(settings, log=LogLines()) as comm:
            assert (await run_capture(comm, "echo up")).stdout == ("up",)
        assert front.accepted >= 3


async def test_wrong_password_fails_after_handshake_attempts(sshd_env: SshdEnv, sshd: Sshd) -> None:
    log = LogLines()
    settings = settings_for(
        sshd_env, sshd.port, private_key_file=None, password="wrong", handshake_attempts=3
    )
    with pytest.raises(SshAuthError) as info:
        await SshCommunicator.wait_for(settings, log=log)
    message = str(info.value)
    assert "authentication failed" in message
    assert f"'{sshd_env.user}'" in message
    assert "wrong" not in message
    assert log.count("Detected authentication error") == 3


async def test_password_authentication(sshd_env: SshdEnv, sshd: Sshd) -> None:
    settings = settings_for(sshd_env, sshd.port, private_key_file=None, password=sshd_env.password)
    async with await SshCommunicator.wait_for(settings, log=LogLines()) as comm:
        assert (await run_capture(comm, "whoami")).stdout == (sshd_env.user,)


async def test_private_key_authentication(sshd_env: SshdEnv, sshd: Sshd) -> None:
    settings = settings_for(sshd_env, sshd.port)
    assert settings.password is None
    async with await SshCommunicator.wait_for(settings, log=LogLines()) as comm:
        assert (await run_capture(comm, "whoami")).stdout == (sshd_env.user,)


async def test_unusable_private_key_file(sshd_env: SshdEnv, tmp_path: Path) -> None:
    garbage = tmp_path / "key"
    garbage.write_text("not a key\n")
    for path in (garbage, tmp_path / "missing"):
        settings = settings_for(sshd_env, free_port(), private_key_file=path)
        with pytest.raises(
            SshKeyError, match=re.escape(f"ssh_private_key_file is invalid: {path}")
        ):
            await SshCommunicator.wait_for(settings, log=LogLines())


async def test_cancel_if_aborts_the_wait_at_once(sshd_env: SshdEnv) -> None:
    calls = 0

    def cancel_if() -> str | None:
        nonlocal calls
        calls += 1
        return "QEMU exited with status 1" if calls >= 3 else None

    settings = settings_for(sshd_env, free_port(), timeout=300.0)
    with pytest.raises(SshWaitCancelledError) as info:
        await SshCommunicator.wait_for(settings, log=LogLines(), cancel_if=cancel_if)
    assert info.value.reason == "QEMU exited with status 1"
    assert "QEMU exited with status 1" in str(info.value)
    assert calls == 3


async def test_cancel_if_aborts_while_a_probe_is_pending(sshd_env: SshdEnv, sshd: Sshd) -> None:
    async with FlakyFront(sshd.port, "hold", bad=1_000_000) as front:

        def cancel_if() -> str | None:
            return "QEMU exited with status 1" if front.accepted >= 1 else None

        settings = settings_for(sshd_env, front.port, timeout=300.0)
        with pytest.raises(SshWaitCancelledError):
            await SshCommunicator.wait_for(settings, log=LogLines(), cancel_if=cancel_if)


# --------------------------------------------------------------------------------------
# Running commands
# --------------------------------------------------------------------------------------


async def test_run_streams_lines_in_order(scp_comm: SshCommunicator) -> None:
    out: list[str] = []
    err: list[str] = []
    command = "for i in $(seq 1 200); do echo out $i; echo err $i >&2; done"
    status = await scp_comm.run(command, stdout=out.append, stderr=err.append)
    assert status == 0
    assert out == [f"out {i}" for i in range(1, 201)]
    assert err == [f"err {i}" for i in range(1, 201)]


async def test_run_delivers_lines_while_the_command_runs(
    scp_comm: SshCommunicator, remote_dir: Path
) -> None:
    marker = remote_dir / "go"
    lines: list[str] = []

    def on_line(line: str) -> None:
        lines.append(line)
        if line == "waiting":
            marker.touch()  # the command only goes on once we have seen this line

    command = (
        f"echo waiting; i=0; while [ ! -e {marker} ] && [ $i -lt 200 ]; "
        "do sleep 0.1; i=$((i+1)); done; "
        f"if [ -e {marker} ]; then echo released; else echo 'never released'; fi"
    )
    assert await scp_comm.run(command, stdout=on_line, stderr=on_line) == 0
    assert lines == ["waiting", "released"]


@pytest.mark.parametrize(
    ("command", "status"),
    [("true", 0), ("exit 3", 3), ("false", 1), ("kill -KILL $$", 137), ("kill -TERM $$", 143)],
)
async def test_run_returns_the_exit_status(
    scp_comm: SshCommunicator, command: str, status: int
) -> None:
    assert (await run_capture(scp_comm, command)).exit_status == status


async def test_run_keeps_a_last_line_without_newline(scp_comm: SshCommunicator) -> None:
    result = await run_capture(scp_comm, "printf 'a\\nb'; printf 'c' >&2")
    assert (result.stdout, result.stderr) == (("a", "b"), ("c",))


async def test_run_with_environment(scp_comm: SshCommunicator) -> None:
    env = {"GREETING": "hello world", "TRICKY": 'it\'s "$HOME" `x` \\n'}
    result = await run_capture(scp_comm, 'printf "%s|%s\\n" "$GREETING" "$TRICKY"', env=env)
    assert result.stdout == ('hello world|it\'s "$HOME" `x` \\n',)


async def test_run_refuses_a_bad_environment_name(scp_comm: SshCommunicator) -> None:
    with pytest.raises(SshError, match="environment variable name 'A;B' is invalid"):
        await run_capture(scp_comm, "true", env={"A;B": "x"})


async def test_run_stdin_is_empty(scp_comm: SshCommunicator) -> None:
    result = await run_capture(scp_comm, "cat; echo done")
    assert result.stdout == ("done",)


async def test_run_with_pty(sshd_env: SshdEnv, sshd: Sshd) -> None:
    settings = settings_for(sshd_env, sshd.port, pty=True)
    async with await SshCommunicator.wait_for(settings, log=LogLines()) as comm:
        result = await run_capture(comm, "[ -t 1 ] && echo tty; echo to-stderr >&2")
    assert result.stdout == ("tty", "to-stderr")
    assert result.stderr == ()


async def test_run_timeout_signals_the_command(scp_comm: SshCommunicator) -> None:
    pids: list[str] = []
    with pytest.raises(SshCommandTimeoutError, match="did not finish within 1s"):
        await scp_comm.run(
            "echo $$; exec sleep 60", stdout=pids.append, stderr=pids.append, timeout=1
        )
    pid = int(pids[0])
    for _ in range(100):
        if not Path(f"/proc/{pid}").exists():
            break
        await asyncio.sleep(0.05)
    else:
        os.kill(pid, signal.SIGKILL)
        pytest.fail("the timed-out command was still running")


async def test_disconnect_mid_command_then_reconnect(
    scp_comm: SshCommunicator, remote_dir: Path
) -> None:
    marker = remote_dir / "seen"
    out: list[str] = []

    def on_line(line: str) -> None:
        out.append(line)
        marker.touch()

    # $PPID is the sshd process serving this connection: killing it drops the connection,
    # as a reboot would. The command waits until we have seen its first line.
    command = (
        f"echo before; i=0; while [ ! -e {marker} ] && [ $i -lt 200 ]; "
        "do sleep 0.05; i=$((i+1)); done; kill $PPID; sleep 5; echo after"
    )
    with pytest.raises(CommandDisconnected, match="was lost while a command was running"):
        await scp_comm.run(command, stdout=on_line, stderr=on_line)
    assert out == ["before"]
    # The next command reconnects by itself.
    assert (await run_capture(scp_comm, "echo again")).stdout == ("again",)


async def test_frozen_server_ends_the_command_after_read_write_timeout(
    sshd_env: SshdEnv, sshd: Sshd
) -> None:
    settings = settings_for(sshd_env, sshd.port, keep_alive_interval=0.5, read_write_timeout=1.5)
    pids: list[int] = []

    def on_line(line: str) -> None:
        shell, server = (int(p) for p in line.split())
        pids.extend((shell, server))
        os.kill(server, signal.SIGSTOP)  # the sshd serving us stops answering, TCP stays up

    try:
        async with await SshCommunicator.wait_for(settings, log=LogLines()) as comm:
            with pytest.raises(CommandDisconnected, match="keepalive"):
                await comm.run("echo $$ $PPID; exec sleep 60", stdout=on_line, stderr=on_line)
    finally:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


async def test_reconnect_failure_is_a_connection_error(sshd_env: SshdEnv) -> None:
    server = Sshd(sshd_env.config("reconnect")).start()
    try:
        comm = await SshCommunicator.wait_for(settings_for(sshd_env, server.port), log=LogLines())
        with pytest.raises(CommandDisconnected):
            await run_capture(comm, "kill $PPID; sleep 5")
        server.stop()
        with pytest.raises(SshConnectionError, match="reconnecting failed: connection refused"):
            await run_capture(comm, "true")
        await comm.close()
    finally:
        server.stop()


async def test_close_is_idempotent_and_final(sshd_env: SshdEnv, sshd: Sshd) -> None:
    comm = await SshCommunicator.wait_for(settings_for(sshd_env, sshd.port), log=LogLines())
    assert isinstance(comm, Communicator)
    await comm.close()
    await comm.close()
    with pytest.raises(SshError, match="already closed"):
        await run_capture(comm, "true")


# --------------------------------------------------------------------------------------
# Transfers, over SCP and SFTP
# --------------------------------------------------------------------------------------


async def test_upload_file(comm: SshCommunicator, remote_dir: Path, tmp_path: Path) -> None:
    local = tmp_path / "script.sh"
    local.write_bytes(b"#!/bin/sh\necho hi\n" + bytes(range(256)))
    local.chmod(0o750)
    await comm.upload(local, f"{remote_dir}/script.sh")
    target = remote_dir / "script.sh"
    assert target.read_bytes() == local.read_bytes()
    assert target.stat().st_mode & 0o777 == 0o750
    assert target.stat().st_uid != 0


async def test_upload_bytes_with_and_without_mode(comm: SshCommunicator, remote_dir: Path) -> None:
    await comm.upload(b"data\n", f"{remote_dir}/plain")
    await comm.upload(b"#!/bin/sh\n", f"{remote_dir}/exe", mode=0o700)
    assert (remote_dir / "plain").read_bytes() == b"data\n"
    assert (remote_dir / "plain").stat().st_mode & 0o777 == 0o644
    assert (remote_dir / "exe").stat().st_mode & 0o777 == 0o700


async def test_upload_replaces_an_existing_file_and_sets_mode(
    comm: SshCommunicator, remote_dir: Path
) -> None:
    await comm.upload(b"first version, longer\n", f"{remote_dir}/f")
    await comm.upload(b"second\n", f"{remote_dir}/f", mode=0o600)
    assert (remote_dir / "f").read_bytes() == b"second\n"
    assert (remote_dir / "f").stat().st_mode & 0o777 == 0o600


async def test_upload_odd_names_and_home_relative(
    comm: SshCommunicator, sshd_env: SshdEnv, remote_dir: Path, tmp_path: Path
) -> None:
    name = "we ird 'q' \"dq\" $x [a]*?.txt"
    local = tmp_path / "l [b]*.txt"
    local.write_text("odd\n")
    await comm.upload(local, f"{remote_dir}/{name}")
    assert (remote_dir / name).read_text() == "odd\n"
    await comm.upload(b"home\n", f"~/{remote_dir.name}/from-home")
    assert (remote_dir / "from-home").read_text() == "home\n"
    await comm.upload(b"dash\n", f"{remote_dir}/-n")
    assert (remote_dir / "-n").read_text() == "dash\n"


async def test_large_file_round_trip(
    comm: SshCommunicator, remote_dir: Path, tmp_path: Path
) -> None:
    local = tmp_path / "big"
    local.write_bytes(os.urandom(5 * 1024 * 1024 + 123))
    await comm.upload(local, f"{remote_dir}/big")
    back = tmp_path / "back"
    await comm.download(f"{remote_dir}/big", back)
    assert back.read_bytes() == local.read_bytes()


async def test_upload_onto_a_remote_directory_fails(
    comm: SshCommunicator, remote_dir: Path
) -> None:
    (remote_dir / "d").mkdir()
    with pytest.raises(SshTransferError) as info:
        await comm.upload(b"x", f"{remote_dir}/d")
    message = str(info.value)
    assert comm.settings.target in message
    assert f"{remote_dir}/d" in message
    assert "directory" in message.lower()


async def test_upload_into_a_missing_directory_fails_without_side_effects(
    comm: SshCommunicator, remote_dir: Path
) -> None:
    with pytest.raises(SshTransferError, match="No such file"):
        await comm.upload(b"x", f"{remote_dir}/missing/f")
    assert list(remote_dir.iterdir()) == []


async def test_upload_refuses_directories_and_missing_files(
    comm: SshCommunicator, remote_dir: Path, tmp_path: Path
) -> None:
    with pytest.raises(SshTransferError, match="is a directory: upload it with upload_dir"):
        await comm.upload(tmp_path, f"{remote_dir}/x")
    with pytest.raises(SshTransferError, match="does not exist"):
        await comm.upload(tmp_path / "missing", f"{remote_dir}/x")
    with pytest.raises(SshTransferError, match="names a directory"):
        await comm.upload(b"x", f"{remote_dir}/")


@pytest.mark.parametrize("trailing_slash", [False, True])
async def test_upload_dir(
    comm: SshCommunicator, remote_dir: Path, tmp_path: Path, trailing_slash: bool
) -> None:
    src = make_tree(tmp_path / "src")
    await comm.upload_dir(f"{src}/" if trailing_slash else str(src), str(remote_dir))
    received = remote_dir if trailing_slash else remote_dir / "src"
    assert snapshot(received) == snapshot(src)
    assert not (received / "link-to-sub").is_symlink()  # links arrive as their targets


async def test_upload_dir_creates_the_target_and_merges(
    comm: SshCommunicator, remote_dir: Path, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "new").write_text("new\n")
    (src / "top").write_text("replaced\n")
    await comm.upload_dir(f"{src}/", f"{remote_dir}/created")
    assert snapshot(remote_dir / "created") == snapshot(src)
    (src / "sub" / "new").write_text("newer\n")
    (remote_dir / "created" / "sub" / "kept").write_text("kept\n")
    await comm.upload_dir(str(src), str(remote_dir))
    await comm.upload_dir(f"{src}/", f"{remote_dir}/created")
    assert (remote_dir / "created" / "sub" / "new").read_text() == "newer\n"
    assert (remote_dir / "created" / "sub" / "kept").read_text() == "kept\n"
    assert snapshot(remote_dir / "src") == snapshot(src)


async def test_upload_dir_errors(comm: SshCommunicator, remote_dir: Path, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "f").write_text("x")
    with pytest.raises(SshTransferError, match="No such file"):
        await comm.upload_dir(f"{src}/", f"{remote_dir}/missing/deeper")
    with pytest.raises(SshTransferError, match="is not a directory"):
        await comm.upload_dir(str(src / "f"), str(remote_dir))
    (src / "loop").symlink_to("..")
    with pytest.raises(SshTransferError, match="symbolic link loop"):
        await comm.upload_dir(str(src), str(remote_dir))


async def test_download_file(comm: SshCommunicator, remote_dir: Path, tmp_path: Path) -> None:
    (remote_dir / "r file").write_bytes(b"remote\x00data\n")
    dest = tmp_path / "new" / "dir" / "got"
    await comm.download(f"{remote_dir}/r file", dest)
    assert dest.read_bytes() == b"remote\x00data\n"
    dest.write_text("stale")
    await comm.download(f"{remote_dir}/r file", dest)
    assert dest.read_bytes() == b"remote\x00data\n"
    assert [p.name for p in dest.parent.iterdir()] == ["got"]


async def test_download_errors(comm: SshCommunicator, remote_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(SshTransferError) as info:
        await comm.download(f"{remote_dir}/missing", tmp_path / "x")
    message = str(info.value)
    assert f"{comm.settings.target}:{remote_dir}/missing" in message
    assert "No such file" in message
    (remote_dir / "d").mkdir()
    with pytest.raises(SshTransferError, match=r"is a directory|not a regular file"):
        await comm.download(f"{remote_dir}/d", tmp_path / "x")
    with pytest.raises(SshTransferError, match="is a directory: give the full local file path"):
        await comm.download(f"{remote_dir}/d", tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("trailing_slash", [False, True])
async def test_download_dir(
    comm: SshCommunicator, remote_dir: Path, tmp_path: Path, trailing_slash: bool
) -> None:
    tree = make_tree(remote_dir / "tree")
    dest = tmp_path / "dest"
    await comm.download_dir(f"{tree}/" if trailing_slash else str(tree), dest)
    received = dest if trailing_slash else dest / "tree"
    assert snapshot(received) == snapshot(tree)


async def test_download_dir_merges_into_an_existing_directory(
    comm: SshCommunicator, remote_dir: Path, tmp_path: Path
) -> None:
    tree = remote_dir / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "sub" / "f").write_text("remote\n")
    dest = tmp_path / "dest"
    (dest / "sub").mkdir(parents=True)
    (dest / "sub" / "f").write_text("local\n")
    (dest / "sub" / "mine").write_text("mine\n")
    await comm.download_dir(f"{tree}/", dest)
    assert snapshot(dest) == {"sub": None, "sub/f": b"remote\n", "sub/mine": b"mine\n"}


async def test_download_dir_errors(comm: SshCommunicator, remote_dir: Path, tmp_path: Path) -> None:
    (remote_dir / "file").write_text("x")
    with pytest.raises(SshTransferError, match="is a file, not a directory"):
        await comm.download_dir(f"{remote_dir}/file", tmp_path)
    with pytest.raises(SshTransferError, match="No such file"):
        await comm.download_dir(f"{remote_dir}/missing", tmp_path)
    assert list(tmp_path.iterdir()) == []


async def test_transfers_on_a_remote_without_scp_or_sftp(
    sshd_env: SshdEnv, crippled_sshd: Sshd, remote_dir: Path, tmp_path: Path
) -> None:
    (remote_dir / "f").write_text("x")
    for method, expected in (("scp", "no `scp`"), ("sftp", "SFTP is not available")):
        settings = settings_for(sshd_env, crippled_sshd.port, file_transfer_method=method)
        async with await SshCommunicator.wait_for(settings, log=LogLines()) as comm:
            with pytest.raises(SshTransferError, match=expected):
                await comm.upload(b"x", f"{remote_dir}/up")
            with pytest.raises(SshTransferError, match=expected):
                await comm.download(f"{remote_dir}/f", tmp_path / "f")
            with pytest.raises(SshTransferError, match=expected):
                await comm.download_dir(str(remote_dir), tmp_path / "d")
    assert not (remote_dir / "up").exists()
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------------------
# Measurement: sshd starts listening → wait_for returns
# --------------------------------------------------------------------------------------


async def _start_sshd_async(config: Path, port: int) -> tuple[asyncio.subprocess.Process, float]:
    """Start sshd; return it and the loop time at which it said it was listening."""
    proc = await asyncio.create_subprocess_exec(
        SSHD, "-D", "-e", "-f", str(config), "-p", str(port),
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stderr is not None
    while line := await proc.stderr.readline():
        if b"Server listening" in line:
            return proc, asyncio.get_running_loop().time()
    raise RuntimeError("sshd exited before listening")


async def _stop_async(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.terminate()
        await proc.wait()


@pytest.mark.skipif(
    not os.environ.get("KILN_MEASURE"),
    reason="a measurement (20 s), not a check: KILN_MEASURE=1 prints the figures",
)
async def test_measure_listening_to_connected(sshd_env: SshdEnv) -> None:
    config = sshd_env.config("measure")
    loop = asyncio.get_running_loop()
    late: list[float] = []
    for i in range(10):
        port = free_port()
        waiting = asyncio.ensure_future(
            SshCommunicator.wait_for(settings_for(sshd_env, port), log=LogLines())
        )
        await asyncio.sleep(0.3 * (i + 1))  # spread the start over the back-off phases
        proc, listening = await _start_sshd_async(config, port)
        try:
            comm = await waiting
            late.append(loop.time() - listening)
            assert (await run_capture(comm, "true")).exit_status == 0
            await comm.close()
        finally:
            waiting.cancel()
            await _stop_async(proc)
    warm: list[float] = []
    proc, _ = await _start_sshd_async(config, port := free_port())
    try:
        for _ in range(10):
            started = loop.time()
            comm = await SshCommunicator.wait_for(settings_for(sshd_env, port), log=LogLines())
            warm.append(loop.time() - started)
            await comm.close()
    finally:
        await _stop_async(proc)
    report = (
        f"sshd listening -> wait_for returned: median {statistics.median(late) * 1000:.0f} ms, "
        f"max {max(late) * 1000:.0f} ms (n=10); already listening: median "
        f"{statistics.median(warm) * 1000:.0f} ms"
    )
    print(report)
