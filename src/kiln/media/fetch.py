"""Fetch the ISO: try each URL in order, use the cache, verify the checksum (§6).

* A local path or ``file://`` URL is used in place (no copy); its checksum is still
  verified (hashed in a worker thread). A file that does not match is never deleted:
  it is the user's file.
* http(s): under a per-target lock (``<target>.lock``, ``flock``), a target that already
  matches the checksum is used as is; otherwise the file is downloaded to
  ``<target>.part`` while being hashed (one pass), verified, and renamed into place.
  A partial download never counts as cached; the ``.part`` file is removed on failure
  or cancellation. With checksum ``none`` the file is downloaded again every time, as
  Packer does (nothing proves a cached file is the one wanted).
* A ``checksum=`` query parameter on a URL overrides the checksum for that URL, and
  ``checksum``/``archive`` are removed from the request, as go-getter does. kiln never
  unpacks archives (go-getter does, by extension).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import os
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import httpx

from kiln import __version__
from kiln.errors import KilnError
from kiln.media.checksum import (
    CHUNK,
    Checksum,
    ChecksumError,
    StreamHasher,
    hash_file,
    resolve_checksum,
)
from kiln.media.urls import Source, parse_source
from kiln.ui.log import LOG

LOCK_POLL_SECONDS = 0.2
# Packer's HTTP getter allows 30 minutes without data before giving up.
READ_TIMEOUT_SECONDS = 30 * 60.0


class FetchError(KilnError):
    """No URL gave a usable ISO; `attempts` holds ``(url, error)`` for each one tried."""

    def __init__(self, description: str, attempts: Sequence[tuple[str, str]]) -> None:
        self.attempts = list(attempts)
        lines = "\n".join(f"  * {url}: {err}" for url, err in self.attempts)
        super().__init__(f"error downloading {description}: every URL failed:\n{lines}")


@dataclass(slots=True)
class FetchResult:
    """What `fetch_iso` produced: the file to boot, and how it got there."""

    path: Path
    url: str
    from_cache: bool
    downloaded_bytes: int
    seconds: float


class Progress(Protocol):
    """Receives download progress (a progress bar); `total` from Content-Length."""

    def start(self, name: str, total: int | None) -> None: ...
    def advance(self, nbytes: int) -> None: ...
    def finish(self) -> None: ...


class _AttemptError(Exception):
    """One URL failed; the message is what the user sees for it."""


def _ignore(_message: str) -> None:
    return None


# OS errors by errno, in the words people search for.
_ERRNO_WORDS = {
    errno.ECONNREFUSED: "connection refused",
    errno.ECONNRESET: "connection reset by peer",
    errno.EHOSTUNREACH: "no route to host",
    errno.ENETUNREACH: "network is unreachable",
    errno.ETIMEDOUT: "connection timed out",
}


def _describe(err: BaseException) -> str:
    """The root cause of a failed attempt: httpx wraps the OS error of a failed connection
    in "All connection attempts failed"; the cause ("connection refused", a name that does
    not resolve) is what the user can act on."""
    text = str(err) or type(err).__name__
    cause = root_cause(err)
    if cause is err:
        return text
    if isinstance(cause, OSError) and cause.errno in _ERRNO_WORDS:
        detail = _ERRNO_WORDS[cause.errno]
    elif isinstance(cause, socket.gaierror):
        detail = f"cannot resolve the host name ({cause.strerror or cause})"
    else:
        detail = str(cause) or type(cause).__name__
    return detail if detail.lower() in text.lower() else f"{detail} ({text})"


def root_cause(err: BaseException) -> BaseException:
    """The innermost exception of `err`'s `__cause__`/`__context__` chain."""
    seen: set[int] = set()
    while id(err) not in seen:
        seen.add(id(err))
        inner = err.__cause__ or err.__context__
        if inner is None:
            break
        err = inner
    return err


@contextlib.asynccontextmanager
async def target_lock(target: Path, log: Callable[[str], None]) -> AsyncIterator[None]:
    """Hold ``<target>.lock`` exclusively; waits without blocking the event loop.

    ``flock`` locks belong to the open file, so two tasks of one process exclude each
    other just as two processes do. The lock file is left in place (as Packer does):
    deleting it would race with a process that has just opened it.
    """
    lock_path = Path(f"{target}.lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        waited = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not waited:
                    log(f"Waiting for another download of {target} to finish ({lock_path})")
                    waited = True
                await asyncio.sleep(LOCK_POLL_SECONDS)
        yield
    finally:
        os.close(fd)


async def _hash_in_thread(path: Path, kind: str) -> str:
    """Hash a file in a worker thread; cancelling stops the thread at the next chunk."""
    stop = threading.Event()
    try:
        return await asyncio.to_thread(hash_file, path, kind, stop=stop)
    finally:
        stop.set()


async def _verify(path: Path, checksum: Checksum, shown_as: str) -> None:
    if checksum.kind == "none":
        return
    got = await _hash_in_thread(path, checksum.kind)
    LOG.debug("%s: %s %s (want %s)", shown_as, checksum.kind, got, checksum.value)
    if not checksum.matches(got):
        raise _AttemptError(_mismatch(shown_as, checksum, got))


def _mismatch(what: str, checksum: Checksum, got: str) -> str:
    return (
        f"Checksums did not match for {what}.\nExpected: {checksum.value}\n"
        f"Got: {got}\n{checksum.kind}"
    )


async def _checksum_for(source: Source, checksum: Checksum, client: httpx.AsyncClient) -> Checksum:
    if not source.query_checksum:
        return checksum
    try:
        return await resolve_checksum(
            source.query_checksum, source.raw, template_dir=Path.cwd(), client=client
        )
    except ChecksumError as err:
        raise _AttemptError(str(err)) from err


async def _use_local(path: Path, checksum: Checksum) -> Path:
    if not path.is_file():
        state = "is not a regular file" if path.exists() else "no such file or directory"
        raise _AttemptError(f"stat {path}: {state}")
    try:
        await _verify(path, checksum, str(path))
    except OSError as err:
        raise _AttemptError(f"read {path}: {_describe(err)}") from err
    return path


def _new_client() -> httpx.AsyncClient:
    """A client like Packer's HTTP getter: redirects, env proxies, ~/.netrc, long reads."""
    auth: httpx.Auth | None = None
    netrc_file = os.environ.get("NETRC") or os.path.expanduser("~/.netrc")
    if os.path.isfile(netrc_file):
        with contextlib.suppress(Exception):
            auth = httpx.NetRCAuth(netrc_file)
    return httpx.AsyncClient(
        auth=auth,
        follow_redirects=True,
        trust_env=True,
        # Like Go's ProxyFromEnvironment: loopback addresses never go through a proxy.
        mounts={"all://localhost": None, "all://127.0.0.1": None, "all://[::1]": None},
        timeout=httpx.Timeout(READ_TIMEOUT_SECONDS, connect=60.0),
        headers={"User-Agent": f"kiln/{__version__}", "Accept-Encoding": "identity"},
    )


async def _download(
    client: httpx.AsyncClient,
    source: Source,
    part: Path,
    hasher: StreamHasher,
    progress: Progress | None,
) -> int:
    """Stream `source` into `part`, feeding `hasher`; returns the byte count."""
    headers = {"Accept-Encoding": "identity"}
    LOG.debug("GET %s", source.request_url)
    async with client.stream(
        "GET", source.request_url, headers=headers, follow_redirects=True
    ) as response:
        LOG.debug(
            "GET %s -> HTTP %s (Content-Length %s)%s",
            source.request_url,
            response.status_code,
            response.headers.get("content-length", "unknown"),
            f", redirected to {response.url}" if str(response.url) != source.request_url else "",
        )
        if not 200 <= response.status_code < 300:
            raise _AttemptError(f"bad response code: {response.status_code}")
        length = response.headers.get("content-length", "")
        total = int(length) if length.isdigit() else None
        if progress is not None:
            progress.start(source.name, total)
        written = 0
        reported = 0  # bytes on the wire, which Content-Length counts
        try:
            with part.open("wb") as out:
                async for chunk in response.aiter_bytes(CHUNK):
                    out.write(chunk)
                    hasher.update(chunk)
                    written += len(chunk)
                    if progress is not None:
                        progress.advance(response.num_bytes_downloaded - reported)
                    reported = response.num_bytes_downloaded
                out.flush()
                # Durable before the rename. fsync of a big file takes a while, so it runs
                # in a thread, on its own descriptor: cancelling may close `out` meanwhile.
                await asyncio.to_thread(_fsync_and_close, os.dup(out.fileno()))
        finally:
            if progress is not None:
                progress.finish()
        received = response.num_bytes_downloaded
    if total is not None and received != total:
        raise _AttemptError(f"download incomplete: got {received} of {total} bytes")
    return written


def _fsync_and_close(fd: int) -> None:
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


async def _fetch_remote(
    source: Source,
    checksum: Checksum,
    target: Path,
    *,
    client: httpx.AsyncClient,
    progress: Progress | None,
    log: Callable[[str], None],
) -> tuple[bool, int]:
    """Get `source` into `target` (or find it there); returns (from_cache, bytes)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    async with target_lock(target, log):
        if checksum.kind != "none" and target.is_file():
            got = await _hash_in_thread(target, checksum.kind)
            if checksum.matches(got):
                LOG.debug("cache hit: %s has the %s %s; no download", target, checksum.kind, got)
                return True, 0
            LOG.debug("cache: %s has %s %s, want %s", target, checksum.kind, got, checksum.value)
            log(f"Cached {target} does not match the checksum; removing it")
            target.unlink(missing_ok=True)
        else:
            LOG.debug(
                "cache miss: %s (%s)",
                target,
                "no checksum to trust a cached copy" if checksum.kind == "none" else "not there",
            )
        part = Path(f"{target}.part")
        hasher = StreamHasher(checksum.kind)
        try:
            written = await _download(client, source, part, hasher, progress)
            got = hasher.hexdigest()
            LOG.debug("downloaded %d bytes; %s %s (want %s)", written, checksum.kind, got,
                      checksum.value or "any")  # fmt: skip
            if not checksum.matches(got):
                log(f"Checksum did not match, removing {part}")
                raise _AttemptError(_mismatch(source.raw, checksum, got))
            os.replace(part, target)
            return False, written
        finally:
            part.unlink(missing_ok=True)


async def find_byte_serving_url(
    urls: Sequence[str],
    *,
    log: Callable[[str], None] = _ignore,
    client: httpx.AsyncClient | None = None,
) -> str:
    """The URL QEMU reads the ISO from with `iso_skip_cache` (Packer's `stepSetISO`).

    Each URL gets a HEAD request; one answering 2xx with ``Accept-Ranges: bytes`` can be
    handed to QEMU's curl block driver. kiln takes the *first* such URL, in the order
    given (Packer keeps the last one). None → Packer's error, with each URL's reason.
    """
    own_client = client is None
    http = client if client is not None else _new_client()
    reasons: list[tuple[str, str]] = []
    try:
        for url in urls:
            try:
                response = await http.head(url, follow_redirects=True)
            except httpx.HTTPError as err:
                reasons.append((url, _describe(err)))
                continue
            ranges = response.headers.get("accept-ranges", "")
            if 200 <= response.status_code < 300 and ranges == "bytes":
                log(f"Using {url} in place (the server supports byte ranges)")
                return url
            reasons.append((url, f"HEAD {response.status_code}, Accept-Ranges: {ranges!r}"))
    finally:
        if own_client:
            await http.aclose()
    details = "\n".join(f"  * {url}: {why}" for url, why in reasons)
    raise KilnError(
        "No byte serving support. The HTTP server must support Accept-Ranges=bytes\n"
        f"{details}\n(iso_skip_cache needs an http(s) URL whose server answers byte-range "
        "requests; remove iso_skip_cache to download the ISO instead)"
    )


def with_checksum_query(url: str, checksum: Checksum) -> str:
    """The URL as Packer's StepDownload shows it the second time: with the checksum as a
    `checksum=` query parameter (query sorted and escaped as Go's `url.Values.Encode`)."""
    if checksum.kind == "none":
        return url
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "checksum"]
    query.append(("checksum", checksum.normalized()))
    encoded = urlencode(sorted(query), quote_via=quote)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, encoded, parts.fragment))


async def fetch_iso(
    urls: Sequence[str],
    checksum: Checksum,
    target: Path,
    *,
    progress: Progress | None = None,
    log: Callable[[str], None] = _ignore,
    client: httpx.AsyncClient | None = None,
) -> FetchResult:
    """Get the ISO from the first URL that works; see the module docstring.

    `target` comes from `cache_target`. `log` receives Packer's messages (``Trying
    <url>``, ``Download failed <err>``, ``<url> => <path>``). Raises `FetchError` listing
    every URL's error when none works. Cancellation leaves no ``.part`` file behind.
    """
    own_client = client is None
    http = client if client is not None else _new_client()
    attempts: list[tuple[str, str]] = []
    try:
        for url in urls:
            log(f"Trying {url}")
            began = time.monotonic()
            source = parse_source(url)
            try:
                wanted = await _checksum_for(source, checksum, http)
                shown = with_checksum_query(url, wanted)
                log(f"Trying {shown}")
                if source.kind == "local" and source.path is not None:
                    LOG.debug("%s is a local file: used in place, not cached", url)
                    path = await _use_local(Path(os.path.abspath(source.path)), wanted)
                    log(f"{shown} => {path}")
                    return FetchResult(path, url, False, 0, time.monotonic() - began)
                if source.kind != "http":
                    raise _AttemptError(
                        f"unsupported URL scheme {source.scheme!r}: kiln downloads http(s) "
                        "URLs and uses local paths and file:// URLs in place"
                    )
                cached, written = await _fetch_remote(
                    source, wanted, target, client=http, progress=progress, log=log
                )
            except (_AttemptError, httpx.HTTPError, OSError) as err:
                message = _describe(err)
                LOG.debug("%s failed: %s", url, message)
                log(f"Download failed {message}")
                attempts.append((url, message))
                continue
            log(f"{shown} => {target}")
            return FetchResult(target, url, cached, written, time.monotonic() - began)
    finally:
        if own_client:
            await http.aclose()
    raise FetchError("ISO", attempts)
