"""What the guest gets for a request path: files of `http_directory` or `http_content` values.

Packer uses Go's ``http.FileServer`` for a directory and its ``MapServer`` for ``http_content``
(packer-plugin-sdk ``multistep/commonsteps/step_http_server.go``); answers follow them: the same
404 texts, ``Did you mean "<x>"?`` suggestions, ``index.html`` and a ``<pre>`` listing for
directories, a redirect from ``/dir`` to ``/dir/``.

What the directory site refuses with 403 (kiln is stricter than Go, which cleans ``..`` away
and serves): any ``..`` segment (raw or percent-encoded, even one that would stay inside), an
encoded slash ``%2f``, a backslash (raw or ``%5c``), an encoded NUL ``%00``, a symlink whose
target resolves outside the directory, and anything that is neither a regular file nor a
directory (FIFOs, devices). Empty and ``.`` segments (``//etc/passwd``, ``/./ks.cfg``) are
dropped, so they stay inside. ``http_content`` is a pure map lookup after Go's ``path.Clean``,
so nothing there can reach the file system.
"""

from __future__ import annotations

import codecs
import errno
import html
import logging
import mimetypes
import os
import posixpath
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote, unquote_to_bytes

from kiln.suggest import name_suggestion

__all__ = [
    "ContentSite",
    "DirectorySite",
    "RangeNotSatisfiableError",
    "Request",
    "Response",
    "byte_range",
    "error_response",
    "printable",
]

logger = logging.getLogger(__name__)

_SNIFF_LEN = 512  # bytes looked at to tell text from binary (as Go's DetectContentType)


class _RefusedError(Exception):
    """A path that must not be served (see the module docstring): 403."""


class RangeNotSatisfiableError(Exception):
    """A Range header no byte of the file can satisfy: 416."""


@dataclass(slots=True)
class Request:
    """A parsed request head (the server never reads request bodies)."""

    method: str
    target: str
    version: str
    headers: dict[str, str]  # lower-case names; repeated headers joined with ", "


@dataclass(slots=True)
class Response:
    """An answer: `body` bytes, or `length` bytes of `file` from `offset` (the sender closes it)."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    file: BinaryIO | None = None  # streamed instead of `body` when set
    offset: int = 0
    length: int = 0  # bytes of `file` to send
    sent: int = 0  # body bytes written so far

    @property
    def content_length(self) -> int:
        return self.length if self.file is not None else len(self.body)


def error_response(status: int, text: str = "") -> Response:
    """A plain-text error like Go's ``http.Error``."""
    body = (text or f"{status} {HTTPStatus(status).phrase}") + "\n"
    return Response(
        status,
        [("Content-Type", "text/plain; charset=utf-8"), ("X-Content-Type-Options", "nosniff")],
        body.encode("utf-8", "replace"),
    )


def _decode(raw_path: str) -> bytes:
    return unquote_to_bytes(raw_path.encode("latin-1"))


_COMPRESSED = {"gzip": "application/gzip", "bzip2": "application/x-bzip2", "xz": "application/x-xz"}


def _content_type(name: str, head: bytes) -> str:
    """By file extension, else sniffed: UTF-8 text without NUL bytes is text/plain."""
    guessed, encoding = mimetypes.guess_type(name, strict=False)
    if encoding:
        return _COMPRESSED.get(encoding, "application/octet-stream")
    if guessed:
        if guessed.startswith("text/") and "charset" not in guessed:
            return f"{guessed}; charset=utf-8"
        return guessed
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head[:_SNIFF_LEN], final=False)
    except UnicodeDecodeError:
        return "application/octet-stream"
    return "application/octet-stream" if b"\x00" in head else "text/plain; charset=utf-8"


def byte_range(header: str, size: int) -> tuple[int, int] | None:
    """The inclusive (first, last) byte of a single range, or None to ignore the header.

    Multiple ranges and malformed headers are ignored (the whole file is sent, as RFC 9110
    allows); a range that starts past the end raises `RangeNotSatisfiableError`.
    """
    unit, sep, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or not sep or "," in spec:
        return None
    first_s, dash, last_s = (s.strip() for s in spec.strip().partition("-"))
    if not dash or (first_s and not _is_digits(first_s)) or (last_s and not _is_digits(last_s)):
        return None
    if not first_s:  # suffix range: the last N bytes
        if not last_s:
            return None
        count = _int64(last_s)
        if count == 0 or size == 0:
            raise RangeNotSatisfiableError
        return max(0, size - count), size - 1
    first = _int64(first_s)
    last = _int64(last_s) if last_s else size - 1
    if last_s and last < first:
        return None
    if first >= size:
        raise RangeNotSatisfiableError
    return first, min(last, size - 1)


def _is_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


_INT64_MAX = (1 << 63) - 1


def _int64(digits: str) -> int:
    """A decimal that fits Go's int64; beyond it, the range cannot be satisfied (Go's
    `parseRange` fails on `strconv.ParseInt` and answers 416), without converting a
    5000-digit string."""
    significant = digits.lstrip("0")
    if len(significant) > 19 or (significant and int(significant) > _INT64_MAX):
        raise RangeNotSatisfiableError
    return int(significant or "0")


def _clean_path(path: str) -> str:
    """Go's ``path.Clean`` for a URL path: one leading slash, no ``.``/``..``/empty segments."""
    return posixpath.normpath("/" + path.lstrip("/"))


class ContentSite:
    """``http_content``: URL path -> file content, held in memory."""

    def __init__(self, content: Mapping[str, str]) -> None:
        self._files = {key: value.encode("utf-8") for key, value in content.items()}
        self._keys = sorted(self._files)

    def respond(self, request: Request, raw_path: str, query: str) -> Response:
        """The answer for `raw_path` (still percent-encoded, without the query)."""
        path = _clean_path(_decode(raw_path).decode("utf-8", "replace"))
        body = self._files.get(path)
        if body is None:
            text = f"{path} not found."
            if close := name_suggestion(path, self._keys):
                text += f' Did you mean "{close}"?'
            return error_response(HTTPStatus.NOT_FOUND, text)
        return Response(HTTPStatus.OK, [("Content-Type", _content_type(path, body))], body)


class DirectorySite:
    """``http_directory``: files under one directory, and nothing outside it."""

    def __init__(self, root: Path) -> None:
        self._root = os.path.realpath(root)
        self._prefix = self._root if self._root.endswith("/") else self._root + "/"

    def respond(self, request: Request, raw_path: str, query: str) -> Response:
        """The answer for `raw_path` (still percent-encoded); `query` only rides along redirects."""
        try:
            return self._respond(request, raw_path, query)
        except _RefusedError:
            return error_response(HTTPStatus.FORBIDDEN)
        except (FileNotFoundError, NotADirectoryError):
            return error_response(HTTPStatus.NOT_FOUND, "404 page not found")
        except PermissionError:
            return error_response(HTTPStatus.FORBIDDEN)
        except OSError as err:
            if err.errno == errno.ELOOP:  # O_NOFOLLOW met a symlink swapped in after realpath
                return error_response(HTTPStatus.FORBIDDEN)
            logger.warning("HTTP server: cannot serve %s: %s", printable(raw_path), err)
            return error_response(HTTPStatus.INTERNAL_SERVER_ERROR)

    def _respond(self, request: Request, raw_path: str, query: str) -> Response:
        if "%2f" in raw_path.lower():
            raise _RefusedError
        decoded = os.fsdecode(_decode(raw_path))
        if "\x00" in decoded or "\\" in decoded:
            raise _RefusedError
        parts = decoded.split("/")
        if ".." in parts:
            raise _RefusedError
        segments = [p for p in parts if p not in ("", ".")]
        wants_directory = parts[-1] in ("", ".")

        real = self._inside(os.path.join(self._root, *segments))
        fd, info = _open(real)
        if stat.S_ISREG(info.st_mode):
            if wants_directory:
                os.close(fd)
                raise NotADirectoryError(real)
            return _file_response(fd, info, real, request)
        os.close(fd)
        if not stat.S_ISDIR(info.st_mode):
            raise _RefusedError
        if not wants_directory:
            location = _directory_redirect(raw_path, query)
            body = f'<a href="{html.escape(location)}">Moved Permanently</a>.\n\n'
            return Response(
                HTTPStatus.MOVED_PERMANENTLY,
                [("Location", location), ("Content-Type", "text/html; charset=utf-8")],
                body.encode("latin-1", "replace"),
            )
        index = os.path.join(real, "index.html")
        if os.path.isfile(index):
            index = self._inside(index)
            fd, info = _open(index)
            if stat.S_ISREG(info.st_mode):
                return _file_response(fd, info, index, request)
            os.close(fd)
        return _listing(real)

    def _inside(self, path: str) -> str:
        """`path` with every symlink resolved; `_RefusedError` when that leaves the root."""
        real = os.path.realpath(path)
        if real != self._root and not real.startswith(self._prefix):
            raise _RefusedError
        return real


def _directory_redirect(raw_path: str, query: str) -> str:
    """Where `/dir` is sent: `dir/`, relative, as Go's FileServer does
    (`localRedirect(w, r, path.Base(url)+"/")`). Never the path itself, which for
    ``//evil.example`` would be a protocol-relative URL naming another host; a name with a
    colon gets ``./`` so that it cannot read as a scheme."""
    base = raw_path.rstrip("/").rpartition("/")[2]
    if ":" in base:
        base = "./" + base
    return base + "/" + (f"?{query}" if query else "")


def printable(text: str) -> str:
    """`text` from the network made safe for a terminal or a log: every character outside
    printable ASCII (escape sequences, C1 controls, raw bytes) as ``\\xNN``, and ``\\``
    as ``\\\\``, so that what the operator reads is what the client sent."""
    if text.isascii() and text.isprintable() and "\\" not in text:
        return text
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif " " <= ch <= "~":
            out.append(ch)
        elif ord(ch) <= 0xFF:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch.encode("unicode_escape").decode("ascii"))
    return "".join(out)


def _open(path: str) -> tuple[int, os.stat_result]:
    """Open without following a final symlink and without blocking on a FIFO."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOFOLLOW)
    try:
        return fd, os.fstat(fd)
    except BaseException:
        os.close(fd)
        raise


def _file_response(fd: int, info: os.stat_result, name: str, request: Request) -> Response:
    """A 200, 206 or 416 for an open regular file; the response owns `fd`."""
    file = os.fdopen(fd, "rb")
    try:
        return _file_response_for(file, info, name, request)
    except BaseException:
        file.close()
        raise


def _file_response_for(
    file: BinaryIO, info: os.stat_result, name: str, request: Request
) -> Response:
    fd = file.fileno()
    size = info.st_size
    headers = [
        ("Content-Type", _content_type(name, os.pread(fd, _SNIFF_LEN, 0))),
        ("Accept-Ranges", "bytes"),
        ("Last-Modified", formatdate(info.st_mtime, usegmt=True)),
    ]
    wanted = request.headers.get("range")
    try:
        # An If-Range validator we do not check means: send the whole file (always correct).
        span = byte_range(wanted, size) if wanted and "if-range" not in request.headers else None
    except RangeNotSatisfiableError:
        file.close()
        response = error_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
        response.headers.append(("Content-Range", f"bytes */{size}"))
        return response
    if span is None:
        return Response(HTTPStatus.OK, headers, file=file, length=size)
    first, last = span
    headers.append(("Content-Range", f"bytes {first}-{last}/{size}"))
    return Response(
        HTTPStatus.PARTIAL_CONTENT, headers, file=file, offset=first, length=last - first + 1
    )


def _listing(directory: str) -> Response:
    """Go's FileServer listing: one ``<a>`` per entry, directories with a trailing slash."""
    with os.scandir(directory) as entries:
        found = sorted((e.name, e.is_dir()) for e in entries)
    names = [name + "/" if is_dir else name for name, is_dir in found]
    lines = ["<pre>"]
    for name in names:
        href = quote(os.fsencode(name))
        text = html.escape(os.fsencode(name).decode("utf-8", "replace"))
        lines.append(f'<a href="{href}">{text}</a>')
    lines.append("</pre>\n")
    return Response(
        HTTPStatus.OK,
        [("Content-Type", "text/html; charset=utf-8")],
        "\n".join(lines).encode("utf-8"),
    )
