"""The HTTP server that hands `http_directory` / `http_content` to the guest installer.

A small asyncio HTTP/1.1 server (GET and HEAD, keep-alive, pipelining, single byte ranges) that
runs in kiln's event loop on the socket `reserve_port(..., keep_listening=True)` returned. This
module speaks the protocol and owns the connections; `kiln.net.http_sites` decides what a path
serves and what it refuses (403). Protocol-level answers:

* 400 -- a malformed request, or a target that is neither ``/path`` nor ``http://host/path``,
  or one with raw control characters (a raw NUL byte included);
* 405 -- methods other than GET and HEAD (Go's FileServer answers every method);
* 414 / 431 / 505 -- request line or headers too long, too many headers, not HTTP/1.x.

Files are streamed with ``sendfile`` in 1 MiB chunks, never read whole.

The guest is the only client that matters: 10 s for a request head (and between two
requests on a kept-alive connection), 60 s for a client to take each piece of a response,
and caps on connections that close idle ones first (`HttpServer._make_room`), so that
silent connections cannot starve the guest. What a
client sent reaches the terminal and the logs escaped (`printable`).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import socket
import stat
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import formatdate
from http import HTTPStatus
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

from kiln.errors import KilnError, describe_os_error
from kiln.net.http_sites import (
    ContentSite,
    DirectorySite,
    Request,
    Response,
    error_response,
    printable,
)
from kiln.net.ports import ReservedPort

__all__ = ["HttpRequestLog", "HttpServer"]

logger = logging.getLogger(__name__)

_MAX_LINE = 64 * 1024  # longest request line or header line accepted
_MAX_HEADERS = 100
# The guest is the only legitimate client, and it asks for a few files: connections are
# capped and idle ones closed quickly, so that other programs cannot starve it.
_HEAD_TIMEOUT = 10.0  # seconds for a whole request head (also the idle time between two)
_SEND_STALL = 60.0  # seconds a client may take to accept the next piece of a response
_MAX_PER_CLIENT = 32  # past this many from one address, its connections idle for...
_IDLE_GRACE = 1.0  # ...this many seconds are closed, oldest first
_MAX_CONNECTIONS = 256  # in all: past it, the oldest idle one of the busiest address goes
# accept() errors that pass (out of files or memory): wait this long and try again.
_ACCEPT_LATER = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
_ACCEPT_RETRY = 0.5
_LINGER_TIMEOUT = 2.0  # seconds to wait for a client to stop sending before closing
_LINGER_BYTES = 1024 * 1024  # request bytes drained at most while closing
_CHUNK = 1024 * 1024  # bytes per sendfile call
_CONTENT_CONFLICT = (
    "http_content cannot be used in conjunction with http_dir. Consider using the file "
    "function to load file in memory and serve them with http_content: "
    "https://www.packer.io/docs/templates/hcl_templates/functions/file/file"
)


@dataclass(frozen=True, slots=True)
class HttpRequestLog:
    """One answered request.

    `method` and `path` are as the client sent them (percent-encoding and query kept),
    with every character outside printable ASCII escaped as ``\\xNN`` (`printable`): they
    reach the operator's terminal and the access log. `size` counts the body bytes
    actually sent (0 for HEAD); `client` is ``ip:port``.
    """

    method: str
    path: str
    status: int
    size: int
    client: str


class _HttpError(Exception):
    """A request that cannot be parsed; answered with `status`, then the connection closes."""

    def __init__(self, status: int, *, method: str = "", target: str = "") -> None:
        super().__init__(status)
        self.status = status
        self.method = method
        self.target = target


# --- reading requests ---------------------------------------------------------------------


async def _read_line(reader: asyncio.StreamReader, too_long: int) -> str | None:
    """One CRLF- or LF-terminated line without its terminator; None at end of stream."""
    try:
        raw = await reader.readline()
    except ValueError as err:  # longer than the StreamReader limit
        raise _HttpError(too_long) from err
    if not raw.endswith(b"\n"):
        return None
    return raw.decode("latin-1").rstrip("\r\n")


async def _read_request(reader: asyncio.StreamReader) -> Request | None:
    """The next request head; None when the client closed the connection between requests."""
    line: str | None = ""
    for _ in range(4):  # RFC 9112 §2.2: ignore empty lines before the request line
        line = await _read_line(reader, HTTPStatus.REQUEST_URI_TOO_LONG)
        if line != "":
            break
    if not line:
        return None
    parts = line.split(" ")
    if len(parts) != 3 or not parts[0] or not parts[1]:
        raise _HttpError(HTTPStatus.BAD_REQUEST, target=line[:200])
    method, target, version = parts
    if any(c < " " or c == "\x7f" for c in target):  # raw NUL, CR, TAB...: never a valid URL
        raise _HttpError(HTTPStatus.BAD_REQUEST, method=method, target=target)
    if version not in ("HTTP/1.0", "HTTP/1.1"):
        status = (
            HTTPStatus.HTTP_VERSION_NOT_SUPPORTED
            if version.startswith("HTTP/")
            else HTTPStatus.BAD_REQUEST
        )
        raise _HttpError(status, method=method, target=target)
    headers: dict[str, str] = {}
    for _ in range(_MAX_HEADERS + 1):
        line = await _read_line(reader, HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE)
        if line is None:
            return None
        if line == "":
            return Request(method, target, version, headers)
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip() or line[0] in " \t":
            raise _HttpError(HTTPStatus.BAD_REQUEST, method=method, target=target)
        key = name.lower()
        value = value.strip(" \t")
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    raise _HttpError(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, method=method, target=target)


def _keep_alive(request: Request) -> bool:
    tokens = {t.strip().lower() for t in request.headers.get("connection", "").split(",")}
    has_body = "transfer-encoding" in request.headers or request.headers.get(
        "content-length", "0"
    ).strip() not in ("", "0")
    if has_body:  # bodies are never read: close rather than parse them
        return False
    if request.version == "HTTP/1.1":
        return "close" not in tokens
    return "keep-alive" in tokens


def _split_target(target: str) -> tuple[str, str]:
    """(raw path, raw query) of an origin-form or absolute-form request target."""
    if target.startswith("/"):
        path, _, query = target.partition("?")
    elif "://" in target:
        try:
            parts = urlsplit(target)
        except ValueError as err:
            raise _HttpError(HTTPStatus.BAD_REQUEST) from err
        if parts.scheme.lower() not in ("http", "https"):
            raise _HttpError(HTTPStatus.BAD_REQUEST)
        path, query = parts.path or "/", parts.query
        if not path.startswith("/"):
            raise _HttpError(HTTPStatus.BAD_REQUEST)
    else:
        raise _HttpError(HTTPStatus.BAD_REQUEST)
    return path.partition("#")[0], query


# --- the server ---------------------------------------------------------------------------


def _peer_address(writer: asyncio.StreamWriter) -> str:
    peer = writer.get_extra_info("peername")
    return str(peer[0]) if isinstance(peer, tuple) and peer else str(peer)


def _peer(writer: asyncio.StreamWriter) -> str:
    peer = writer.get_extra_info("peername")
    if isinstance(peer, tuple) and len(peer) >= 2:
        host, port = peer[0], peer[1]
        return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"
    return str(peer)


async def _send(
    writer: asyncio.StreamWriter, response: Response, *, head_only: bool, connection: str
) -> None:
    """Write `response`, counting body bytes in `response.sent` as they go out."""
    lines = [
        f"HTTP/1.1 {response.status} {HTTPStatus(response.status).phrase}",
        f"Date: {formatdate(usegmt=True)}",
        *(f"{name}: {value}" for name, value in response.headers),
        f"Content-Length: {response.content_length}",
    ]
    if connection:
        lines.append(f"Connection: {connection}")
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace"))
    if head_only:
        async with asyncio.timeout(_SEND_STALL):
            await writer.drain()
        return
    if response.file is None:
        writer.write(response.body)
        async with asyncio.timeout(_SEND_STALL):
            await writer.drain()
        response.sent = len(response.body)
        return
    loop = asyncio.get_running_loop()
    while response.sent < response.length:
        if writer.transport.is_closing():  # loop.sendfile would raise RuntimeError
            raise ConnectionResetError("the client closed the connection")
        count = min(_CHUNK, response.length - response.sent)
        async with asyncio.timeout(_SEND_STALL):  # a client that stopped reading
            done = await loop.sendfile(
                writer.transport, response.file, response.offset + response.sent, count
            )
        if done == 0:  # the file shrank while we sent it
            return
        response.sent += done


async def _close_gently(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Close a connection without losing the last response.

    Closing a socket with unread request bytes makes the kernel send a reset, which can destroy
    the response (e.g. a 414 to an oversized request) before the client reads it. So: send FIN,
    read and drop what the client still sends (bounded), then close.
    """
    if not writer.transport.is_closing():
        with contextlib.suppress(Exception):
            writer.write_eof()
            async with asyncio.timeout(_LINGER_TIMEOUT):
                drained = 0
                while drained < _LINGER_BYTES:
                    chunk = await reader.read(65536)
                    if not chunk:
                        break
                    drained += len(chunk)
    writer.close()
    with contextlib.suppress(Exception):
        await writer.wait_closed()


class HttpServer:
    """Serve `directory` or `content` on the reserved port while the context is open.

    ``async with HttpServer(...) as server:`` returns once the socket is accepting; leaving the
    context stops accepting, drops every client connection (also ones mid-transfer) and closes
    the listening socket. The port's lock is the caller's: call ``port.release()`` after.
    One use per instance. Every request is appended to `access_log` and passed to `log`.
    """

    def __init__(
        self,
        *,
        directory: Path | None,
        content: Mapping[str, str] | None,
        port: ReservedPort,
        log: Callable[[HttpRequestLog], None],
        on_stop: Callable[[str], None] | None = None,
    ) -> None:
        if directory is not None and content:
            raise KilnError(_CONTENT_CONFLICT)
        if directory is None and not content:
            raise KilnError(
                "the HTTP server has nothing to serve: set http_directory or http_content"
            )
        if port.listener is None:
            raise KilnError(
                f"port {port.port} was reserved without a listening socket: reserve the HTTP "
                "port with reserve_port(..., keep_listening=True)"
            )
        self._directory = directory
        self._content = dict(content or {})
        self._reserved = port
        self._log = log
        self.access_log: list[HttpRequestLog] = []
        self._acceptor: asyncio.Task[None] | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self._on_stop = on_stop
        # Why the server stopped accepting on its own (its socket failed); None while it serves.
        self.stopped: str | None = None
        self._site: ContentSite | DirectorySite | None = None
        self._connections: dict[asyncio.Task[object], asyncio.StreamWriter] = {}
        self._addresses: dict[asyncio.Task[object], str] = {}  # client IP of each connection
        self._idle: dict[asyncio.Task[object], float] = {}  # waiting for a request since
        self._closing = False

    @property
    def port(self) -> int:
        return self._reserved.port

    async def __aenter__(self) -> HttpServer:
        if self._directory is not None:
            try:
                if not stat.S_ISDIR(os.stat(self._directory).st_mode):
                    raise NotADirectoryError(errno.ENOTDIR, "not a directory")
            except OSError as err:
                raise KilnError(
                    f'Error finding "{self._directory}": {err.strerror or err}; '
                    "http_directory must name an existing directory"
                ) from err
            self._site = DirectorySite(self._directory)
        else:
            self._site = ContentSite(self._content)
        listener = self._reserved.listener
        if listener is None or listener.fileno() < 0:
            raise KilnError(
                f"the listening socket of port {self.port} is closed: reserve a new port"
            )
        listener.setblocking(False)
        self._acceptor = asyncio.create_task(self._accept(listener), name="http accept")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Stop accepting, drop all client connections, wait for their handlers to end."""
        if self._acceptor is None or self._closing:
            return
        self._closing = True
        self._acceptor.cancel()
        for writer in list(self._connections.values()):
            writer.transport.abort()
        handlers = [self._acceptor, *self._handlers]
        for task in handlers:
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)
        if self._reserved.listener is not None:
            self._reserved.listener.close()  # no more connections (the lock is the caller's)

    async def _accept(self, listener: socket.socket) -> None:
        """Accept connections until closed, or until the listening socket fails.

        asyncio's own server spins on a listening socket that failed (destroyed under it,
        `ss -K`): the socket stays readable and every accept() raises, a thousand logged
        tracebacks a second. Here a failed socket ends the serving, once, with a reason.
        """
        loop = asyncio.get_running_loop()
        while True:
            try:
                conn, _ = await loop.sock_accept(listener)
            except ConnectionAbortedError:
                continue  # the client gave up before we accepted
            except OSError as err:
                if err.errno in _ACCEPT_LATER:  # out of files or memory for now
                    logger.warning("HTTP server: cannot accept a connection now: %s", err)
                    await asyncio.sleep(_ACCEPT_RETRY)
                    continue
                self._stop(f"its listening socket failed ({describe_os_error(err)})")
                return
            handler = asyncio.create_task(self._connection(conn))
            self._handlers.add(handler)
            handler.add_done_callback(self._handlers.discard)

    def _stop(self, why: str) -> None:
        self.stopped = why
        message = (
            f"The HTTP server on port {self.port} stopped: {why}; the guest can no longer "
            "fetch files from it"
        )
        logger.warning("%s", message)
        if self._on_stop is not None:
            try:
                self._on_stop(message)
            except Exception:
                logger.exception("HTTP server: the on_stop callback failed")

    async def _connection(self, conn: socket.socket) -> None:
        try:
            reader, writer = await asyncio.open_connection(sock=conn, limit=_MAX_LINE)
        except OSError:
            conn.close()
            return
        await self._on_connect(reader, writer)

    async def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if self._closing or task is None:
            writer.transport.abort()
            return
        client = _peer(writer)
        address = _peer_address(writer)
        if not self._make_room(address):
            logger.debug("HTTP server: too many busy connections; refusing %s", client)
            writer.transport.abort()
            return
        self._connections[task] = writer
        self._addresses[task] = address
        try:
            await self._serve_connection(reader, writer, client)
        except OSError:
            pass  # the client went away (ConnectionError) or idled out (TimeoutError)
        except Exception:
            logger.exception("HTTP server: connection handler failed")
        finally:
            self._connections.pop(task, None)
            self._addresses.pop(task, None)
            self._idle.pop(task, None)
            await _close_gently(reader, writer)

    def _make_room(self, address: str) -> bool:
        """Keep within the caps by closing idle connections; False to refuse this one.

        Idle means waiting for a request. From one address, past `_MAX_PER_CLIENT`, its
        oldest connection idle for `_IDLE_GRACE` goes (a burst of fresh connections, as
        parallel downloads open, is let through). In all, past `_MAX_CONNECTIONS`, the
        oldest idle connection of the address holding the most goes, or, when it has none,
        the new one is refused. So a flood of silent connections replaces itself, and
        transfers in progress are never cut.
        """
        now = time.monotonic()
        mine = [t for t, a in self._addresses.items() if a == address]
        if len(mine) >= _MAX_PER_CLIENT:
            stale = [t for t in mine if now - self._idle.get(t, now) >= _IDLE_GRACE]
            if stale:
                self._drop(min(stale, key=self._idle.__getitem__))
        if len(self._addresses) < _MAX_CONNECTIONS:
            return True
        counts = Counter(self._addresses.values())
        busiest = max(counts, key=counts.__getitem__)
        idle = [t for t, a in self._addresses.items() if a == busiest and t in self._idle]
        if not idle:
            return False
        self._drop(min(idle, key=self._idle.__getitem__))
        return True

    def _drop(self, task: asyncio.Task[object]) -> None:
        logger.debug("HTTP server: too many connections; closing an idle one")
        self._idle.pop(task, None)
        self._addresses.pop(task, None)
        self._connections[task].transport.abort()

    async def _serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, client: str
    ) -> None:
        while True:
            task = asyncio.current_task()
            assert task is not None
            self._idle[task] = time.monotonic()
            try:
                async with asyncio.timeout(_HEAD_TIMEOUT):
                    request = await _read_request(reader)
                self._idle.pop(task, None)
            except _HttpError as err:
                self._idle.pop(task, None)
                await self._answer(
                    writer,
                    client,
                    err.method,
                    err.target,
                    error_response(err.status),
                    keep_alive=False,
                )
                return
            if request is None:
                return
            keep_alive = _keep_alive(request)
            if request.method not in ("GET", "HEAD"):
                response = error_response(HTTPStatus.METHOD_NOT_ALLOWED)
                response.headers.append(("Allow", "GET, HEAD"))
                keep_alive = False
            else:
                response = self._route(request)
                if response.status == HTTPStatus.BAD_REQUEST:
                    keep_alive = False
            http10 = request.version == "HTTP/1.0"
            keep_alive = await self._answer(
                writer,
                client,
                request.method,
                request.target,
                response,
                keep_alive=keep_alive,
                http10=http10,
            )
            if not keep_alive:
                return

    def _route(self, request: Request) -> Response:
        if self._site is None:  # only before __aenter__, when no connection can exist
            return error_response(HTTPStatus.SERVICE_UNAVAILABLE)
        try:
            raw_path, query = _split_target(request.target)
        except _HttpError as err:
            return error_response(err.status)
        return self._site.respond(request, raw_path, query)

    async def _answer(
        self,
        writer: asyncio.StreamWriter,
        client: str,
        method: str,
        target: str,
        response: Response,
        *,
        keep_alive: bool,
        http10: bool = False,
    ) -> bool:
        """Send `response` and log it; whether the connection can carry another request."""
        connection = "close" if not keep_alive else ("keep-alive" if http10 else "")
        try:
            await _send(writer, response, head_only=method == "HEAD", connection=connection)
        finally:
            if response.file is not None:
                response.file.close()
            entry = HttpRequestLog(printable(method), printable(target), int(response.status),
                                   response.sent, client)  # fmt: skip
            self._record(entry)
        complete = method == "HEAD" or response.sent == response.content_length
        return keep_alive and complete

    def _record(self, entry: HttpRequestLog) -> None:
        self.access_log.append(entry)
        logger.debug(
            "HTTP %s %s -> %d (%d bytes) from %s",
            entry.method,
            entry.path,
            entry.status,
            entry.size,
            entry.client,
        )
        try:
            self._log(entry)
        except Exception:
            logger.exception("HTTP server: the access-log callback failed")
