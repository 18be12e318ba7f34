"""`iso_checksum`: parse, validate and normalise it, read checksum files, hash files.

Packer resolves the checksum at validate time through go-getter (`GetChecksum` against
the *first* ISO URL) and stores it normalised as ``<type>:<lowercase hex>``. The error
texts below are go-getter's and Packer's, suffixed with `` in "<value>"`` as Packer does
(packer-plugin-sdk/multistep/commonsteps/iso_config.go, Packer v1.6.6).

Deliberate differences from go-getter v2.2.2 (each fixes a bug; all listed in
docs/compatibility.md):

* The last line of a checksum file is read even without a trailing newline (go-getter's
  read loop drops it; Packer's docs promise GNU/BSD files, which may lack one).
* File names with spaces are understood in GNU (``hex  my file.iso``) and BSD
  (``SHA256 (my file.iso) = hex``) lines; go-getter splits on whitespace, so such a GNU
  line matched *any* ISO and such a BSD line was ignored.
* Exact file-name matches win over the loose rules (a line without a file name, and
  go-getter's "the listed path appears in the ISO URL" rule), wherever they are in the
  file. The loose path rule matches whole path components only: ``netboot/mini.iso`` no
  longer matches ``…/hwe-netboot/mini.iso``.
* A digest whose length does not fit its type (``sha1:`` + 64 hex digits) is rejected
  at validate time; Packer accepts it and the download then always fails. BSD lines
  whose digest does not fit their tag are skipped.
* coreutils' escaped names (a line starting with ``\\``) are unescaped.
* A relative checksum-file path that is not in the working directory is also looked
  for in the template's directory (Packer looks in the working directory only).
* Only http(s), ``file://`` URLs and paths are read (go-getter also does git, s3, …).
"""

from __future__ import annotations

import os
import posixpath
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import httpx

from kiln.errors import KilnError
from kiln.media.urls import parse_source, url_path

# Digest size in bytes of each supported type (go-getter infers the type from it).
DIGEST_BYTES: dict[str, int] = {"md5": 16, "sha1": 20, "sha256": 32, "sha512": 64}
LEGACY_TYPES = ("none", "md5", "sha1", "sha256", "sha512")
CHUNK = 1 << 20
# A checksum file larger than this is not a checksum file.
MAX_SUMFILE_BYTES = 16 << 20


@dataclass(frozen=True, slots=True)
class Checksum:
    """A resolved checksum: `kind` is "none" or a hash name, `value` lowercase hex."""

    kind: str
    value: str

    def normalized(self) -> str:
        """The form Packer stores: ``sha256:abcd…``, or ``none``."""
        return "none" if self.kind == "none" else f"{self.kind}:{self.value}"

    def matches(self, hexdigest: str) -> bool:
        """Whether a computed digest is this checksum (always true for `none`)."""
        return self.kind == "none" or hexdigest.lower() == self.value


NO_CHECKSUM = Checksum("none", "")
# Packer's words, then the forms iso_checksum accepts.
CHECKSUM_MISSING = (
    "A checksum must be specified\n"
    '  iso_checksum takes "sha256:<hex>" (or md5:, sha1:, sha512:), a bare hex digest, '
    '"file:<path or URL of a SHA256SUMS-style file>", or "none" to skip the check'
)


class ChecksumError(KilnError):
    """`iso_checksum` cannot be used; `problems` holds one Packer-style message each."""

    def __init__(self, *problems: str) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(problems))


# --- Go-compatible message helpers --------------------------------------------------

_GO_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_GO_ESCAPES["\v"] = "\\v"


def go_quote(text: str) -> str:
    """`text` quoted like Go's ``%q`` (strconv.Quote), as Packer prints values."""
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch in _GO_ESCAPES:
            out.append(_GO_ESCAPES[ch])
        elif ch.isprintable():
            out.append(ch)
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def _go_rune(byte: int) -> str:
    """A byte as Go's ``%#U`` prints it: ``U+007A 'z'`` (no quote part if unprintable)."""
    ch = chr(byte)
    return f"U+{byte:04X} '{ch}'" if ch.isprintable() else f"U+{byte:04X}"


_HEX = frozenset(b"0123456789abcdefABCDEF")


def go_hex_problem(text: str) -> str | None:
    """The error Go's ``hex.DecodeString`` reports for `text`, or None if it decodes.

    Bytes are checked in pairs, so the first bad byte is reported before an odd length.
    """
    data = text.encode("utf-8", "surrogateescape")
    for i in range(0, len(data) - 1, 2):
        for byte in data[i : i + 2]:
            if byte not in _HEX:
                return f"encoding/hex: invalid byte: {_go_rune(byte)}"
    if len(data) % 2:
        if data[-1] not in _HEX:
            return f"encoding/hex: invalid byte: {_go_rune(data[-1])}"
        return "encoding/hex: odd length hex string"
    return None


def _kind_for_length(hexvalue: str) -> str | None:
    size = len(hexvalue) // 2
    return next((k for k, n in DIGEST_BYTES.items() if n == size), None)


# --- inline forms -------------------------------------------------------------------


def _parse_inline(value: str) -> tuple[Checksum | None, list[str]]:
    """Parse bare hex or ``type:hex`` (not ``none``, not ``file:``) into a checksum."""
    quoted = go_quote(value)
    ctype, sep, digest = value.partition(":")
    if not sep:
        digest = value
    problem = go_hex_problem(digest)
    if problem:
        return None, [f"invalid checksum: {problem} in {quoted}"]
    if not sep:
        kind = _kind_for_length(digest)
        if kind is None:
            return None, [f"Unknown type for checksum {digest} in {quoted}"]
    else:
        kind = ctype.lower()
        if kind not in DIGEST_BYTES:
            return None, [f"unsupported checksum type: {ctype} in {quoted}"]
        want = DIGEST_BYTES[kind] * 2
        if len(digest) != want:
            # kiln only: Packer accepts this and then fails every download.
            return None, [
                f"checksum length does not match its type: {kind} needs {want} hex "
                f"digits, got {len(digest)} in {quoted}"
            ]
    return Checksum(kind, digest.lower()), []


def _iso_ending(value: str) -> list[str]:
    if value.lower().endswith(".iso"):
        return ["Error parsing checksum: .iso is not a valid checksum ending"]
    return []


def normalize_legacy(
    iso_checksum: str, iso_checksum_type: str | None, iso_checksum_url: str | None
) -> str:
    """Turn the seed's three keys into one modern `iso_checksum` value.

    * ``iso_checksum_type: none`` → ``none`` (the seed: "none" skips checksumming, even if
      a checksum or URL is also given).
    * a type and a checksum → ``type:checksum`` (lower-cased type).
    * a checksum without a type → the checksum as is (modern: type from its length).
    * no checksum, ``iso_checksum_url: U`` → ``file:U``. When both a checksum and a URL are
      given, **the checksum wins** and the URL is ignored, as the seed documents ("This
      will be ignored if `iso_checksum` is non empty"; Packer ≤ 1.5 did the same, while
      `packer fix` prefers the URL).
    * nothing → "" (then "A checksum must be specified").
    """
    ctype = (iso_checksum_type or "").strip().lower()
    if ctype == "none":
        return "none"
    if iso_checksum:
        if ctype and not iso_checksum.lower().startswith(ctype + ":"):
            return f"{ctype}:{iso_checksum}"
        return iso_checksum
    if iso_checksum_url:
        return "file:" + iso_checksum_url
    return ""


def checksum_syntax_errors(
    value: str, *, legacy_type: str | None = None, legacy_url: str | None = None
) -> list[str]:
    """Validate-time errors for an `iso_checksum` value, without touching the network.

    `file:` values are not checked here: that needs the file (see `resolve_checksum`).
    Passing `legacy_type`/`legacy_url` (the seed's `iso_checksum_type` and
    `iso_checksum_url`) validates the type and checks the combined value.
    """
    if legacy_type is not None or legacy_url is not None:
        if legacy_type and legacy_type.strip().lower() not in LEGACY_TYPES:
            return [
                f"Unsupported checksum type: {legacy_type}. iso_checksum_type must be one "
                f"of {', '.join(LEGACY_TYPES)} (or leave it out and write the type into "
                f'iso_checksum, e.g. "sha256:<hex>")'
            ]
        value = normalize_legacy(value, legacy_type, legacy_url)
    if value == "":
        return [CHECKSUM_MISSING]
    if value == "none":
        return []
    ctype, sep, _ = value.partition(":")
    if sep and ctype == "file":
        return []
    parsed, problems = _parse_inline(value)
    if parsed is None:
        return problems + _iso_ending(value)
    return []


def parse_checksum(value: str) -> Checksum:
    """An inline `iso_checksum` (``none``, bare hex, ``type:hex``) as a `Checksum`."""
    if value == "":
        raise ChecksumError(CHECKSUM_MISSING)
    if value == "none":
        return NO_CHECKSUM
    parsed, problems = _parse_inline(value)
    if parsed is None:
        raise ChecksumError(*problems, *_iso_ending(value))
    return parsed


# --- checksum files -----------------------------------------------------------------

_BSD_LINE = re.compile(r"^(\w+)\s*\((.*)\)\s*=\s*([0-9A-Fa-f]+)$")
_GNU_LINE = re.compile(r"^(\\?)([0-9A-Fa-f]+)(?:[ \t]+(.*))?$")


def _gnu_unescape(name: str) -> str:
    """Undo coreutils' escaping of names holding a newline or a backslash."""
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "r": "\r"}.get(m[1], m[1]), name)


def parse_checksum_file(text: str) -> list[tuple[str | None, str, str]]:
    """Every checksum line of a GNU or BSD checksum file as ``(kind, hex, filename)``.

    * BSD ``SHA256 (name) = hex``: kind from the tag (md5, sha1, sha256, sha512; lines with
      other tags, or a digest of the wrong length for the tag, are skipped).
    * GNU ``hex  name`` / ``hex *name`` (the ``*``/``?`` mode mark is removed): kind from
      the digest length, or None when the length fits no supported type.
    * a lone ``hex``: file name "" (it applies to any file).
    * blank lines, comments and PGP armour (lines starting ``#``, ``/``, ``-``) and
      anything else are skipped. Hex is lower-cased; the last line needs no newline.
    """
    entries: list[tuple[str | None, str, str]] = []
    for raw_line in text.splitlines():
        line = raw_line.strip()
        if not line or line[0] in "#/-":
            continue
        bsd = _BSD_LINE.match(line)
        if bsd:
            kind = bsd[1].lower()
            if len(bsd[3]) == DIGEST_BYTES.get(kind, 0) * 2:
                entries.append((kind, bsd[3].lower(), bsd[2]))
            continue
        gnu = _GNU_LINE.match(line)
        if not gnu or len(gnu[2]) % 2:
            continue
        name = (gnu[3] or "").strip()
        if name[:1] in ("*", "?"):
            name = name[1:]
        if gnu[1]:
            name = _gnu_unescape(name)
        entries.append((_kind_for_length(gnu[2]), gnu[2].lower(), name))
    return entries


def pick_checksum_entry(
    entries: Sequence[tuple[str | None, str, str]], iso_path: str, sumfile_path: str
) -> Checksum | None:
    """The checksum a checksum file gives for the ISO at `iso_path` (go-getter's rules).

    `iso_path` is the path part of the first ISO URL; `sumfile_path` the path of the
    checksum file (URL path or local path). Exact matches first: the ISO's base name,
    its path relative to the checksum file's directory (with or without ``./``), or its
    absolute path. Then, in file order, the first line without a file name or whose
    name (leading ``.``/``/`` removed) is a trailing path of `iso_path`.
    """
    usable = [(k, h, n) for k, h, n in entries if k is not None]
    absolute = os.path.abspath(iso_path)
    relative = os.path.relpath(absolute, posixpath.dirname(sumfile_path) or ".")
    exact = {posixpath.basename(iso_path), relative, "./" + relative, absolute}
    for kind, digest, name in usable:
        if name and name in exact:
            return Checksum(kind, digest)
    for kind, digest, name in usable:
        tail = name.lstrip("./")
        if not name or (tail and (iso_path == tail or iso_path.endswith("/" + tail))):
            return Checksum(kind, digest)
    return None


class _LoadError(Exception):
    """A checksum file could not be read; the message is shown after go-getter's prefix."""


async def _read_sumfile(
    location: str, template_dir: Path, client: httpx.AsyncClient | None
) -> tuple[str, str]:
    """The text of the checksum file at `location`, and the path to match lines against."""
    if location.startswith("//"):
        location = "file:" + location  # the documented `file://./SHA256SUMS` form
    source = parse_source(location)
    if source.kind == "http":
        return await _download_sumfile(source.request_url, client), url_path(location)
    if source.kind != "local" or source.path is None:
        raise _LoadError(
            f"unsupported URL scheme {source.scheme!r}: checksum files are read over "
            "http(s), from file:// URLs or from local paths"
        )
    path = source.path
    if not path.is_absolute() and not path.exists() and (template_dir / path).exists():
        # kiln only: Packer looks in the working directory alone.
        path = template_dir / path
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_SUMFILE_BYTES + 1)
    except OSError as err:
        raise _LoadError(f"open {path}: {(err.strerror or str(err)).lower()}") from err
    if len(data) > MAX_SUMFILE_BYTES:
        raise _LoadError(f"{path} is larger than {MAX_SUMFILE_BYTES} bytes")
    return data.decode("utf-8", "replace"), str(path)


async def _download_sumfile(url: str, client: httpx.AsyncClient | None) -> str:
    import httpx  # slow to import; only needed for remote checksum files

    own = client is None
    http = client or httpx.AsyncClient(timeout=httpx.Timeout(60.0), trust_env=True)
    try:
        async with http.stream("GET", url, follow_redirects=True) as response:
            if not 200 <= response.status_code < 300:
                raise _LoadError(f"bad response code: {response.status_code}")
            data = bytearray()
            async for chunk in response.aiter_bytes():
                data += chunk
                if len(data) > MAX_SUMFILE_BYTES:
                    raise _LoadError(f"{url} is larger than {MAX_SUMFILE_BYTES} bytes")
            return data.decode(response.encoding or "utf-8", "replace")
    except httpx.HTTPError as err:
        raise _LoadError(f"{type(err).__name__}: {err}" if str(err) == "" else str(err)) from err
    finally:
        if own:
            await http.aclose()


async def resolve_checksum(
    value: str,
    first_url: str,
    *,
    template_dir: Path,
    client: httpx.AsyncClient | None = None,
) -> Checksum:
    """Resolve an `iso_checksum` value to a `Checksum`, as Packer does at validate time.

    Forms: ``none``; bare hex (type from length); ``type:hex``; ``file:<location>`` where
    the location is an http(s) URL, a ``file://`` URL or a path. A relative path is
    relative to the working directory, like Packer; if it is not there, kiln also
    looks in `template_dir`. The checksum file's line for ``basename(first_url)`` is
    picked by `pick_checksum_entry`. Raises `ChecksumError` with Packer's messages.
    """
    ctype, sep, location = value.partition(":")
    if not (sep and ctype == "file"):
        return parse_checksum(value)
    quoted = go_quote(value)
    try:
        text, sumfile_path = await _read_sumfile(location, template_dir, client)
    except _LoadError as err:
        raise ChecksumError(
            f"Error downloading checksum file: {err} in {quoted}", *_iso_ending(value)
        ) from err
    found = pick_checksum_entry(parse_checksum_file(text), url_path(first_url), sumfile_path)
    if found is None:
        raise ChecksumError(f"no checksum found in: {location} in {quoted}", *_iso_ending(value))
    return found


# --- hashing ------------------------------------------------------------------------


class _Hash(Protocol):
    def update(self, data: bytes | bytearray | memoryview, /) -> None: ...
    def hexdigest(self) -> str: ...


class StreamHasher:
    """Hashes data fed in chunks with the checksum's algorithm (nothing for `none`)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        import hashlib  # OpenSSL's start-up costs 3 ms; `kiln validate` hashes nothing

        self._hash: _Hash | None = None if kind == "none" else hashlib.new(kind)

    def update(self, chunk: bytes | bytearray | memoryview) -> None:
        if self._hash is not None:
            self._hash.update(chunk)

    def hexdigest(self) -> str:
        return "" if self._hash is None else self._hash.hexdigest()


def hash_file(path: Path, kind: str, *, stop: threading.Event | None = None) -> str:
    """The hex digest of a file, read in 1 MiB chunks (hashlib releases the GIL).

    Meant to run in a worker thread; setting `stop` makes it return early ("").
    """
    hasher = StreamHasher(kind)
    if kind == "none":
        return ""
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    with path.open("rb", buffering=0) as handle:
        while True:
            if stop is not None and stop.is_set():
                return ""
            count = handle.readinto(buffer)
            if not count:
                break
            hasher.update(view[:count])
    return hasher.hexdigest()
