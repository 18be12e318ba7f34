"""`kiln.media.fetch` against a real HTTP server on localhost, real files and real locks."""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import logging
import os
import socket
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from kiln.errors import KilnError
from kiln.media.checksum import NO_CHECKSUM, Checksum, ChecksumError, resolve_checksum
from kiln.media.fetch import FetchError, fetch_iso, find_byte_serving_url

pytestmark = pytest.mark.timeout(120)

GOOD = bytes(range(256)) * 12_000  # ~3 MiB: several 1 MiB chunks
BAD = b"\0" * len(GOOD)
GOOD_SHA256 = hashlib.sha256(GOOD).hexdigest()
GOOD_SUM = Checksum("sha256", GOOD_SHA256)


class Server:
    """A small HTTP server: files, redirects, error codes, and "gates" that stall a
    download after its first bytes until the test opens them."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.redirects: dict[str, str] = {}
        self.gates: dict[str, threading.Event] = {}
        self.gets: Counter[str] = Counter()
        self.ranged: set[str] = set()
        self.raw_paths: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                return None

            def do_HEAD(self) -> None:
                path = urlsplit(self.path).path
                if path in server.redirects:
                    self.send_response(302)
                    self.send_header("Location", server.redirects[path])
                elif path in server.files:
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(server.files[path])))
                    if path in server.ranged:
                        self.send_header("Accept-Ranges", "bytes")
                else:
                    self.send_response(404)
                self.end_headers()

            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                server.raw_paths.append(self.path)
                server.gets[path] += 1
                if path in server.redirects:
                    self.send_response(302)
                    self.send_header("Location", server.redirects[path])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data = server.files.get(path)
                if data is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                gate = server.gates.get(path)
                try:
                    for start in range(0, len(data), 1 << 16):
                        if gate is not None and start == 2 << 20:
                            self.wfile.flush()
                            gate.wait(60)
                        self.wfile.write(data[start : start + (1 << 16)])
                except (BrokenPipeError, ConnectionResetError):
                    return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}{path}"

    def close(self) -> None:
        for gate in self.gates.values():
            gate.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server()
    srv.files["/good.iso"] = GOOD
    srv.files["/dir/good.iso"] = GOOD
    srv.files["/bad.iso"] = BAD
    srv.thread.start()
    try:
        yield srv
    finally:
        srv.close()


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/good.iso"


class Recorder:
    """A `Progress` that remembers what it was told."""

    def __init__(self) -> None:
        self.starts: list[tuple[str, int | None]] = []
        self.advanced = 0
        self.finished = 0
        self.moving = asyncio.Event()

    def start(self, name: str, total: int | None) -> None:
        self.starts.append((name, total))

    def advance(self, nbytes: int) -> None:
        self.advanced += nbytes
        self.moving.set()

    def finish(self) -> None:
        self.finished += 1


def lock_is_free(target: Path) -> bool:
    fd = os.open(f"{target}.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


# --- downloads ----------------------------------------------------------------------


async def test_download_with_progress(server: Server, tmp_path: Path) -> None:
    target = tmp_path / "cache" / "key.iso"
    progress = Recorder()
    logs: list[str] = []
    result = await fetch_iso(
        [server.url("/good.iso")], GOOD_SUM, target, progress=progress, log=logs.append
    )
    assert result.path == target
    assert result.url == server.url("/good.iso")
    assert not result.from_cache
    assert result.downloaded_bytes == len(GOOD)
    assert target.read_bytes() == GOOD
    assert not Path(f"{target}.part").exists()
    assert progress.starts == [("good.iso", len(GOOD))]
    assert progress.advanced == len(GOOD)
    assert progress.finished == 1
    # Packer's StepDownload: the URL, then the URL with its checksum, then where it went.
    shown = f"{server.url('/good.iso')}?checksum=sha256%3A{GOOD_SUM.value}"
    assert logs[0] == f"Trying {server.url('/good.iso')}"
    assert logs[1] == f"Trying {shown}"
    assert logs[-1] == f"{shown} => {target}"
    assert lock_is_free(target)


async def test_cache_hit_fetches_nothing(server: Server, tmp_path: Path) -> None:
    target = tmp_path / "key.iso"
    await fetch_iso([server.url("/good.iso")], GOOD_SUM, target)
    assert server.gets["/good.iso"] == 1
    again = await fetch_iso([server.url("/good.iso")], GOOD_SUM, target)
    assert again.from_cache
    assert again.downloaded_bytes == 0
    assert again.path == target
    assert server.gets["/good.iso"] == 1


async def test_cache_hit_via_a_dead_first_mirror(server: Server, tmp_path: Path) -> None:
    # As observed with Packer: the cache is checked before any network, so the first
    # (dead) mirror "succeeds" from the cache.
    target = tmp_path / "key.iso"
    await fetch_iso([server.url("/good.iso")], GOOD_SUM, target)
    dead = closed_port_url()
    again = await fetch_iso([dead, server.url("/good.iso")], GOOD_SUM, target)
    assert again.from_cache
    assert again.url == dead


async def test_none_checksum_downloads_every_time(server: Server, tmp_path: Path) -> None:
    target = tmp_path / "key.iso"
    await fetch_iso([server.url("/good.iso")], NO_CHECKSUM, target)
    again = await fetch_iso([server.url("/good.iso")], NO_CHECKSUM, target)
    assert not again.from_cache
    assert server.gets["/good.iso"] == 2
    assert target.read_bytes() == GOOD


async def test_stale_cache_file_is_replaced(server: Server, tmp_path: Path) -> None:
    target = tmp_path / "key.iso"
    target.write_bytes(b"half a download")
    logs: list[str] = []
    result = await fetch_iso([server.url("/good.iso")], GOOD_SUM, target, log=logs.append)
    assert not result.from_cache
    assert target.read_bytes() == GOOD
    assert any("does not match the checksum" in line for line in logs)


async def test_mismatch_removes_file_and_tries_next_url(server: Server, tmp_path: Path) -> None:
    target = tmp_path / "key.iso"
    logs: list[str] = []
    bad, good = server.url("/bad.iso"), server.url("/good.iso")
    result = await fetch_iso([bad, good], GOOD_SUM, target, log=logs.append)
    assert result.url == good
    assert target.read_bytes() == GOOD
    mismatch = (
        f"Checksums did not match for {bad}.\nExpected: {GOOD_SHA256}\n"
        f"Got: {hashlib.sha256(BAD).hexdigest()}\nsha256"
    )
    assert f"Download failed {mismatch}" in logs


async def test_mismatch_only_url_fails_and_leaves_nothing(server: Server, tmp_path: Path) -> None:
    target = tmp_path / "key.iso"
    with pytest.raises(FetchError) as caught:
        await fetch_iso([server.url("/bad.iso")], GOOD_SUM, target)
    assert caught.value.attempts[0][0] == server.url("/bad.iso")
    assert "Checksums did not match" in caught.value.attempts[0][1]
    assert not target.exists()
    assert not Path(f"{target}.part").exists()


async def test_unreachable_url_then_a_working_one(server: Server, tmp_path: Path) -> None:
    target = tmp_path / "key.iso"
    logs: list[str] = []
    dead = closed_port_url()
    result = await fetch_iso([dead, server.url("/good.iso")], GOOD_SUM, target, log=logs.append)
    assert result.url == server.url("/good.iso")
    assert any(line.startswith("Download failed ") for line in logs)
    assert target.read_bytes() == GOOD


async def test_all_urls_failing_lists_each(server: Server, tmp_path: Path) -> None:
    dead = closed_port_url()
    missing = server.url("/missing.iso")
    with pytest.raises(FetchError) as caught:
        await fetch_iso([dead, missing, "ftp://example.invalid/x.iso"], GOOD_SUM, tmp_path / "k")
    urls = [url for url, _ in caught.value.attempts]
    assert urls == [dead, missing, "ftp://example.invalid/x.iso"]
    message = str(caught.value)
    assert message.startswith("error downloading ISO")
    assert f"{missing}: bad response code: 404" in message
    assert "unsupported URL scheme 'ftp'" in message
    # The root cause, not httpx's "All connection attempts failed" alone.
    assert f"{dead}: connection refused" in message


async def test_the_debug_log_tells_the_download(
    server: Server, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """PACKER_LOG's story of a download: each URL with its HTTP status, the cache decision,
    the checksum computed; then a cache hit on the second run."""
    caplog.set_level(logging.DEBUG, logger="kiln")
    target = tmp_path / "key.iso"
    missing, good = server.url("/missing.iso"), server.url("/good.iso")
    await fetch_iso([missing, good], GOOD_SUM, target)
    log = caplog.text
    assert f"cache miss: {target} (not there)" in log
    assert f"GET {missing} -> HTTP 404" in log
    assert f"{missing} failed: bad response code: 404" in log
    assert f"GET {good} -> HTTP 200 (Content-Length {len(GOOD)})" in log
    assert f"sha256 {GOOD_SUM.value} (want {GOOD_SUM.value})" in log
    caplog.clear()
    await fetch_iso([good], GOOD_SUM, target)
    assert f"cache hit: {target} has the sha256 {GOOD_SUM.value}; no download" in caplog.text


async def test_environment_proxy_is_not_used_for_loopback(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead_proxy = closed_port_url().rsplit("/", 1)[0]
    monkeypatch.setenv("HTTP_PROXY", dead_proxy)
    monkeypatch.setenv("http_proxy", dead_proxy)
    target = tmp_path / "key.iso"
    await fetch_iso([server.url("/good.iso")], GOOD_SUM, target)
    assert target.read_bytes() == GOOD


async def test_redirects_are_followed(server: Server, tmp_path: Path) -> None:
    server.redirects["/latest.iso"] = "/dir/good.iso"
    target = tmp_path / "key.iso"
    result = await fetch_iso([server.url("/latest.iso")], GOOD_SUM, target)
    assert target.read_bytes() == GOOD
    assert result.downloaded_bytes == len(GOOD)
    assert server.gets["/dir/good.iso"] == 1


async def test_url_checksum_parameter_overrides_and_is_not_sent(
    server: Server, tmp_path: Path
) -> None:
    target = tmp_path / "key.iso"
    url = server.url(f"/good.iso?checksum=sha256:{GOOD_SHA256}&x=1")
    result = await fetch_iso([url], NO_CHECKSUM, target)
    assert target.read_bytes() == GOOD
    assert result.url == url
    assert server.raw_paths == ["/good.iso?x=1"]
    with pytest.raises(FetchError, match="Checksums did not match"):
        await fetch_iso(
            [server.url(f"/bad.iso?checksum={GOOD_SHA256}")], NO_CHECKSUM, tmp_path / "b.iso"
        )


# --- locking and cancellation -------------------------------------------------------


async def test_two_concurrent_fetches_download_once(server: Server, tmp_path: Path) -> None:
    gate = server.gates.setdefault("/good.iso", threading.Event())
    target = tmp_path / "key.iso"
    progress = Recorder()
    waiting = asyncio.Event()

    def second_log(line: str) -> None:
        if line.startswith("Waiting for another download"):
            waiting.set()

    first = asyncio.create_task(
        fetch_iso([server.url("/good.iso")], GOOD_SUM, target, progress=progress)
    )
    await asyncio.wait_for(progress.moving.wait(), 30)  # first holds the lock, mid-download
    second = asyncio.create_task(
        fetch_iso([server.url("/good.iso")], GOOD_SUM, target, log=second_log)
    )
    await asyncio.wait_for(waiting.wait(), 30)
    gate.set()
    one, two = await asyncio.gather(first, second)
    assert not one.from_cache
    assert two.from_cache
    assert server.gets["/good.iso"] == 1
    assert target.read_bytes() == GOOD


async def test_lock_held_by_another_process(server: Server, tmp_path: Path) -> None:
    target = tmp_path / "key.iso"
    holder = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import fcntl, sys\n"
        "f = open(sys.argv[1], 'w')\n"
        "fcntl.flock(f, fcntl.LOCK_EX)\n"
        "print('locked', flush=True)\n"
        "sys.stdin.read()\n",
        f"{target}.lock",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None and holder.stdin is not None
        assert await holder.stdout.readline() == b"locked\n"
        waiting = asyncio.Event()

        def log(line: str) -> None:
            if line.startswith("Waiting for another download"):
                waiting.set()

        task = asyncio.create_task(fetch_iso([server.url("/good.iso")], GOOD_SUM, target, log=log))
        await asyncio.wait_for(waiting.wait(), 30)
        assert server.gets["/good.iso"] == 0
        holder.stdin.close()
        await holder.wait()
        result = await task
        assert not result.from_cache
        assert target.read_bytes() == GOOD
    finally:
        if holder.returncode is None:
            holder.kill()
            await holder.wait()


async def test_cancel_mid_download_leaves_no_partial_file(server: Server, tmp_path: Path) -> None:
    server.gates["/good.iso"] = threading.Event()
    target = tmp_path / "key.iso"
    part = Path(f"{target}.part")
    progress = Recorder()
    task = asyncio.create_task(
        fetch_iso([server.url("/good.iso")], GOOD_SUM, target, progress=progress)
    )
    await asyncio.wait_for(progress.moving.wait(), 30)
    assert part.exists()  # the download is really under way
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not part.exists()
    assert not target.exists()
    assert lock_is_free(target)
    assert progress.finished == 1


# --- local files --------------------------------------------------------------------


async def test_local_path_and_file_url_are_used_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    iso = tmp_path / "local.iso"
    iso.write_bytes(GOOD)
    target = tmp_path / "cache" / "key.iso"
    for url in (str(iso), f"file://{iso}", "./local.iso", "file://./local.iso"):
        monkeypatch.chdir(tmp_path)
        result = await fetch_iso([url], GOOD_SUM, target)
        assert result.path == iso
        assert result.url == url
        assert not result.from_cache
        assert result.downloaded_bytes == 0
    assert not target.exists()
    assert not target.parent.exists()


async def test_local_mismatch_keeps_the_users_file(tmp_path: Path) -> None:
    iso = tmp_path / "local.iso"
    iso.write_bytes(BAD)
    with pytest.raises(FetchError) as caught:
        await fetch_iso([str(iso)], GOOD_SUM, tmp_path / "key.iso")
    assert f"Checksums did not match for {iso}." in str(caught.value)
    assert iso.read_bytes() == BAD


async def test_local_none_and_missing(tmp_path: Path) -> None:
    iso = tmp_path / "local.iso"
    iso.write_bytes(b"anything")
    result = await fetch_iso([str(iso)], NO_CHECKSUM, tmp_path / "key.iso")
    assert result.path == iso
    missing = tmp_path / "missing.iso"
    with pytest.raises(FetchError, match="no such file or directory"):
        await fetch_iso([str(missing)], NO_CHECKSUM, tmp_path / "key.iso")


async def test_local_falls_back_to_http(server: Server, tmp_path: Path) -> None:
    target = tmp_path / "key.iso"
    result = await fetch_iso(
        [str(tmp_path / "missing.iso"), server.url("/good.iso")], GOOD_SUM, target
    )
    assert result.path == target


# --- checksum files over HTTP -------------------------------------------------------


async def test_checksum_file_over_http(server: Server, tmp_path: Path) -> None:
    server.files["/SHA256SUMS"] = (
        f"{'0' * 64}  other.iso\n{GOOD_SHA256} *good.iso"  # last line: no newline
    ).encode()
    server.files["/dir/SHA256SUMS"] = f"SHA256 (./good.iso) = {GOOD_SHA256}\n".encode()
    server.redirects["/latest/SUMS"] = "/SHA256SUMS"
    for sums, iso in (
        ("/SHA256SUMS", "/good.iso"),
        ("/SHA256SUMS", "/dir/good.iso"),
        ("/dir/SHA256SUMS", "/dir/good.iso"),
        ("/latest/SUMS", "/good.iso"),
    ):
        got = await resolve_checksum(
            f"file:{server.url(sums)}", server.url(iso), template_dir=tmp_path
        )
        assert got == GOOD_SUM


async def test_checksum_file_http_errors(server: Server, tmp_path: Path) -> None:
    value = f"file:{server.url('/nope/SHA256SUMS')}"
    with pytest.raises(ChecksumError) as caught:
        await resolve_checksum(value, server.url("/good.iso"), template_dir=tmp_path)
    assert caught.value.problems == [
        f'Error downloading checksum file: bad response code: 404 in "{value}"'
    ]
    server.files["/SUMS"] = f"{GOOD_SHA256}  other.iso\n".encode()
    value = f"file:{server.url('/SUMS')}"
    with pytest.raises(ChecksumError) as caught:
        await resolve_checksum(value, server.url("/good.iso"), template_dir=tmp_path)
    assert caught.value.problems == [f'no checksum found in: {server.url("/SUMS")} in "{value}"']


# --- iso_skip_cache -----------------------------------------------------------------


async def test_byte_serving_url_is_the_first_that_qualifies(server: Server) -> None:
    server.files["/ranged.iso"] = GOOD
    server.files["/also-ranged.iso"] = GOOD
    server.ranged.update({"/ranged.iso", "/also-ranged.iso"})
    server.redirects["/moved.iso"] = "/ranged.iso"
    urls = [
        closed_port_url(),
        server.url("/missing.iso"),
        server.url("/good.iso"),  # no Accept-Ranges
        server.url("/moved.iso"),  # redirect to a ranged file
        server.url("/also-ranged.iso"),
    ]
    assert await find_byte_serving_url(urls) == server.url("/moved.iso")
    assert server.gets == Counter()  # HEAD only, nothing downloaded


async def test_no_byte_serving_url(server: Server) -> None:
    with pytest.raises(KilnError) as caught:
        await find_byte_serving_url([server.url("/good.iso"), server.url("/missing.iso")])
    message = str(caught.value)
    assert message.startswith(
        "No byte serving support. The HTTP server must support Accept-Ranges=bytes"
    )
    assert f"{server.url('/good.iso')}: HEAD 200, Accept-Ranges: ''" in message
    assert f"{server.url('/missing.iso')}: HEAD 404" in message
