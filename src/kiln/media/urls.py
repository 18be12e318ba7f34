"""Where an `iso_url` (or a `file:` checksum location) points, in the terms Packer uses.

Packer hands every source to go-getter: a path or `file://` URL is a local file, `http(s)`
is downloaded, and the query parameters `checksum` and `archive` are go-getter's own (they
are removed before the request is sent). kiln reads local files and http(s) only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

# go-getter consumes these query parameters itself; the server never sees them.
GETTER_PARAMS = ("checksum", "archive")

_REMOTE_SCHEMES = ("http", "https")


@dataclass(frozen=True, slots=True)
class Source:
    """One `iso_url` entry, classified.

    `kind` is "local" (then `path` is set, relative paths are relative to the working
    directory, like Packer), "http" (then `request_url` is what is fetched), or
    "unsupported" (`scheme` says which scheme).
    """

    raw: str
    kind: str
    scheme: str
    path: Path | None
    request_url: str
    query_checksum: str | None

    @property
    def name(self) -> str:
        """The file name the URL ends in (for progress bars and checksum files)."""
        return url_path(self.raw).rstrip("/").rsplit("/", 1)[-1] or self.raw


def _file_url_path(raw: str) -> str:
    """The local path of a `file:` URL: `file:///a` → `/a`, `file://./a` → `./a`."""
    rest = raw[len("file:") :]
    rest = rest.split("?", 1)[0].split("#", 1)[0]
    if rest.startswith("//"):
        rest = rest[2:]
        if rest.startswith("localhost/"):
            rest = rest[len("localhost") :]
    return unquote(rest)


def url_scheme(raw: str) -> str:
    """The lower-cased scheme of `raw`, or "" for a plain path."""
    match = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*):", raw)
    return match.group(1).lower() if match else ""


def parse_source(raw: str) -> Source:
    """Classify one source URL or path."""
    scheme = url_scheme(raw)
    if scheme == "":
        return Source(raw, "local", "", Path(raw), raw, None)
    parts = urlsplit(raw)
    query = parse_qsl(parts.query, keep_blank_values=True)
    checksum = next((v for k, v in query if k == "checksum"), None) or None
    if scheme == "file":
        return Source(raw, "local", scheme, Path(_file_url_path(raw)), raw, checksum)
    if scheme in _REMOTE_SCHEMES:
        request = raw.split("#", 1)[0]
        if any(k in GETTER_PARAMS for k, _ in query):
            kept = [(k, v) for k, v in query if k not in GETTER_PARAMS]
            request = urlunsplit(parts._replace(query=urlencode(kept), fragment=""))
        return Source(raw, "http", scheme, None, request, checksum)
    return Source(raw, "unsupported", scheme, None, raw, checksum)


def url_path(raw: str) -> str:
    """The path part of a URL or plain path (percent-decoded), used to match checksum lines."""
    scheme = url_scheme(raw)
    if scheme == "":
        return raw
    if scheme == "file":
        return _file_url_path(raw)
    return unquote(urlsplit(raw).path)


# Characters Go's url.URL keeps unescaped in a path (shouldEscape with encodePath),
# plus those its validEncoded accepts in a raw path as given.
_GO_PATH_SAFE = "$&+,/:;=@-_.~"
_GO_VALID_RAW = re.compile(r"^(?:[A-Za-z0-9$&+,/:;=@\-_.~!'()*\[\]]|%[0-9A-Fa-f]{2})*$")


def go_url_string(raw: str) -> str:
    """`raw` as Go's `url.Parse(raw).String()` writes it (cache key of a `none` checksum).

    Go keeps a path as written when it is validly escaped, and escapes it otherwise
    (`a b.iso` → `a%20b.iso`); query and fragment stay as written. Only the path
    differs from the input in practice.
    """
    head, sep_q, query = raw.partition("?")
    fragment = ""
    if not sep_q:
        head, _, fragment = raw.partition("#")
    else:
        query, _, fragment = query.partition("#")
    scheme = url_scheme(head)
    prefix = ""
    path = head
    if scheme:
        rest = head[len(scheme) + 1 :]
        prefix = head[: len(scheme) + 1]
        if rest.startswith("//"):
            slash = rest.find("/", 2)
            authority = rest if slash < 0 else rest[:slash]
            prefix += authority
            rest = "" if slash < 0 else rest[slash:]
        path = rest
    if not _GO_VALID_RAW.match(path):
        path = quote(unquote(path), safe=_GO_PATH_SAFE)
    out = prefix + path
    if sep_q:
        out += "?" + query
    if fragment:
        out += "#" + fragment
    return out
