"""Fuzzing every parser that reads outside input (issue 15's reliability campaign).

Templates and the template engine have their own fuzz tests (test_loader_fuzz.py,
test_template_fuzz.py); here: var files, JSON within bounds, checksum files and inline
checksums, boot commands, HTTP requests (head, target, Range, paths on a real directory
tree, http_content), the did-you-mean, log escaping and the output line splitter. Each
property is "a result or the parser's own error, never another exception" (which would
reach the user as "internal error"), plus what the result must satisfy.

The budget is fixed (`FUZZ`: 200 examples a property, ~15 s in all), so `./dev test` stays
quick; `KILN_FUZZ_EXAMPLES=20000` searches longer.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiln.boot.grammar import BootCommandError, parse_boot_command, validate_boot_command
from kiln.errors import KilnError
from kiln.media.checksum import (
    DIGEST_BYTES,
    parse_checksum,
    parse_checksum_file,
    pick_checksum_entry,
    resolve_checksum,
)
from kiln.net.http_server import _HttpError, _read_request, _split_target
from kiln.net.http_sites import (
    ContentSite,
    DirectorySite,
    RangeNotSatisfiableError,
    Request,
    byte_range,
    printable,
)
from kiln.proc import LinePump
from kiln.suggest import _close
from kiln.template.jsonfile import JsonLimitError, loads
from kiln.template.variables import parse_var_file

FUZZ = settings(
    max_examples=int(os.environ.get("KILN_FUZZ_EXAMPLES", "200")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="kiln-fuzz-") as name:
        yield Path(name)


# --- JSON and var files -----------------------------------------------------------------

JSON_BITS = ['{', '}', '[', ']', ',', ':', '"a"', '"', '1', '-', '9' * 450, '1e400', 'true',
             'null', 'NaN', ' ', '\\', '\\u0000', '"\\ud800"', '0.5', 'é']  # fmt: skip
json_soup = st.lists(st.sampled_from(JSON_BITS), max_size=60).map("".join)


@FUZZ
@given(text=st.one_of(st.text(max_size=200), json_soup))
def test_json_loads_within_bounds_or_says_why(text: str) -> None:
    with contextlib.suppress(json.JSONDecodeError, JsonLimitError):
        loads(text)


@FUZZ
@given(data=st.one_of(st.binary(max_size=300), json_soup.map(str.encode)))
def test_var_files_give_strings_or_a_message(scratch: Path, data: bytes) -> None:
    path = scratch / "vars.json"
    path.write_bytes(data)
    try:
        values = parse_var_file(path)
    except KilnError as err:
        assert str(err).startswith(f"-var-file {path}:")
        return
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in values.items())


# --- checksums --------------------------------------------------------------------------

HEX = st.text(alphabet="0123456789abcdefABCDEF", max_size=130)
SUM_BITS = ["SHA256 (", "MD5 (", ") = ", "  ", " *", "\\", "\n", "\r\n", "# x", "-----",
            "tiny.iso", "./tiny.iso", "dir/tiny.iso", " ", "\t", "=", "(", ")"]  # fmt: skip
sum_lines = st.lists(st.one_of(HEX, st.sampled_from(SUM_BITS)), max_size=30).map("".join)


@FUZZ
@given(text=st.one_of(st.text(max_size=300), sum_lines), iso=st.text(max_size=30),
       sumfile=st.text(max_size=30))  # fmt: skip
def test_checksum_files_parse_to_well_formed_entries(text: str, iso: str, sumfile: str) -> None:
    entries = parse_checksum_file(text)
    for kind, digest, _name in entries:
        assert digest == digest.lower() and len(digest) % 2 == 0
        assert all(c in "0123456789abcdef" for c in digest)
        if kind is not None:
            assert len(digest) == DIGEST_BYTES[kind] * 2
    iso_path, sum_path = iso.replace("\0", ""), sumfile.replace("\0", "")
    picked = pick_checksum_entry(entries, iso_path or "x.iso", sum_path or "SUMS")
    assert picked is None or (picked.kind, picked.value) in {(k, d) for k, d, _ in entries}


@FUZZ
@given(data=st.one_of(st.binary(max_size=400), sum_lines.map(str.encode)))
def test_a_checksum_file_of_any_bytes_resolves_or_says_why(scratch: Path, data: bytes) -> None:
    (scratch / "SUMS").write_bytes(data)
    with contextlib.suppress(KilnError):
        asyncio.run(resolve_checksum("file:SUMS", "tiny.iso", template_dir=scratch))


@FUZZ
@given(value=st.one_of(st.text(max_size=80), st.builds("{}:{}".format,
       st.sampled_from(["md5", "sha1", "sha256", "sha512", "file", "x", ""]), HEX)))  # fmt: skip
def test_inline_checksums(value: str) -> None:
    try:
        checksum = parse_checksum(value)
    except KilnError:
        return
    assert checksum.kind in (*DIGEST_BYTES, "none")


# --- boot commands ----------------------------------------------------------------------

BOOT_BITS = ["<", ">", "/", "wait", "Wait", "5", "0", "-1", "ms", "s", "m", "h", "enter",
             "leftCtrl", "On", "Off", "esc", "f12", "spacebar", "bs", "del", "<wait>", "<enter>",
             "<leftAltOn>", "x", " ", "é", "\n", "1.5", "10000000000000000000000h"]  # fmt: skip


@FUZZ
@given(text=st.one_of(st.text(max_size=100), st.lists(st.sampled_from(BOOT_BITS),
                                                      max_size=40).map("".join)))  # fmt: skip
def test_boot_commands_parse_or_say_why(text: str) -> None:
    problems = validate_boot_command(text)
    try:
        actions = parse_boot_command(text)
    except BootCommandError:
        assert problems
        return
    assert not problems
    assert isinstance(actions, list)


# --- HTTP requests ----------------------------------------------------------------------

HTTP_BITS = ["GET", "HEAD", "POST", " ", "/", "/ks.cfg", "//", "..", "%2e", "%2f", "%00",
             "%", "?", "#", "http://h/", "HTTP/1.1", "HTTP/1.0", "HTTP/2", "\r\n", "\n",
             "Host: x", "Range: bytes=", "0-", "-5", "9" * 30, ":", "\t", "\x1b[2J", "\x00",
             "Connection: close", "Transfer-Encoding: chunked", "é"]  # fmt: skip
http_soup = st.lists(st.sampled_from(HTTP_BITS), max_size=40).map("".join)


async def _parse(data: bytes) -> Request | None:
    reader = asyncio.StreamReader(limit=64 * 1024)
    reader.feed_data(data)
    reader.feed_eof()
    return await _read_request(reader)


@FUZZ
@given(data=st.one_of(st.binary(max_size=300), http_soup.map(lambda s: s.encode("utf-8"))))
def test_request_heads_parse_or_get_an_http_error(data: bytes) -> None:
    try:
        request = asyncio.run(_parse(data))
    except _HttpError as err:
        assert 400 <= err.status < 600
        return
    if request is not None:
        assert request.method and request.target
        assert not any(c < " " or c == "\x7f" for c in request.target)
        try:
            _split_target(request.target)
        except _HttpError as err:
            assert err.status == 400


@FUZZ
@given(header=st.one_of(st.text(max_size=40), http_soup), size=st.integers(0, 10**12))
def test_ranges_stay_inside_the_file(header: str, size: int) -> None:
    try:
        span = byte_range(header, size)
    except RangeNotSatisfiableError:
        return
    if span is not None:
        first, last = span
        assert 0 <= first <= last < size


@pytest.fixture(scope="module")
def served_tree(scratch: Path) -> Path:
    """A directory to serve, beside a secret; links inside and out."""
    (scratch / "secret.txt").write_text("secret")
    root = scratch / "http"
    (root / "sub").mkdir(parents=True)
    (root / "ks.cfg").write_text("ks")
    (root / "sub" / "a.txt").write_text("a")
    (root / "out").symlink_to(scratch)
    (root / "in").symlink_to("ks.cfg")
    return root


PATH_BITS = ["/", "ks.cfg", "sub", "a.txt", "out", "in", "secret.txt", "..", ".", "%2e",
             "%2E%2E", "%2f", "%5c", "\\", "%00", "%", "%zz", "%c3%a9", "é", "//",
             "?x=1"]  # fmt: skip


@FUZZ
@given(path=st.one_of(st.text(max_size=40), st.lists(st.sampled_from(PATH_BITS),
                                                     max_size=12).map("".join)))  # fmt: skip
def test_no_path_serves_anything_outside_the_directory(served_tree: Path, path: str) -> None:
    raw = "/" + path.lstrip("/")
    raw = raw.encode("utf-8").decode("latin-1")
    site = DirectorySite(served_tree)
    response = site.respond(Request("GET", raw, "HTTP/1.1", {}), raw.partition("?")[0], "")
    try:
        if response.file is not None:
            served = os.path.realpath(f"/proc/self/fd/{response.file.fileno()}")
            assert served.startswith(os.path.realpath(served_tree) + "/"), served
        assert b"secret" not in response.body
        location = dict(response.headers).get("Location", "")
        assert not location.startswith(("/", "\\")) and "://" not in location
    finally:
        if response.file is not None:
            response.file.close()


@FUZZ
@given(path=st.text(max_size=300), keys=st.lists(st.text(max_size=12), max_size=8))
def test_content_site_answers_any_path(path: str, keys: list[str]) -> None:
    site = ContentSite({"/" + k: k for k in keys})
    raw = ("/" + path).encode("utf-8").decode("latin-1")
    response = site.respond(Request("GET", raw, "HTTP/1.1", {}), raw, "")
    assert response.status in (200, 404)


def _levenshtein(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


@FUZZ
@given(a=st.text(alphabet="abc/.", max_size=12), b=st.text(alphabet="abc/.", max_size=12))
def test_the_bounded_did_you_mean_agrees_with_the_edit_distance(a: str, b: str) -> None:
    assert _close(a, b) == (_levenshtein(a, b) < 3)


@FUZZ
@given(text=st.text())
def test_log_escaping_leaves_only_printable_ascii(text: str) -> None:
    shown = printable(text)
    assert shown.isascii() and shown.isprintable()
    if text.isascii() and text.isprintable() and "\\" not in text:
        assert shown == text


# --- output lines -----------------------------------------------------------------------


@FUZZ
@given(data=st.binary(max_size=2000), cuts=st.lists(st.integers(0, 2000), max_size=20))
def test_lines_do_not_depend_on_how_the_stream_is_cut(data: bytes, cuts: list[int]) -> None:
    lines: list[str] = []
    pump = LinePump(lines.append)
    edges = sorted({0, len(data), *(c for c in cuts if c <= len(data))})
    for start, end in itertools.pairwise(edges):
        pump.feed(data[start:end])
    pump.flush()
    expected = data.split(b"\n")
    if expected[-1] == b"":
        expected.pop()
    assert lines == [line.decode("utf-8", "replace") for line in expected]
