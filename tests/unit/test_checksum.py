"""`kiln.media.checksum`: every `iso_checksum` form, Packer's error texts, checksum files."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiln.errors import KilnError
from kiln.media.checksum import (
    CHECKSUM_MISSING,
    NO_CHECKSUM,
    Checksum,
    ChecksumError,
    StreamHasher,
    checksum_syntax_errors,
    go_hex_problem,
    go_quote,
    hash_file,
    normalize_legacy,
    parse_checksum,
    parse_checksum_file,
    pick_checksum_entry,
    resolve_checksum,
)

MD5 = hashlib.md5(b"kiln").hexdigest()
SHA1 = hashlib.sha1(b"kiln").hexdigest()
SHA256 = hashlib.sha256(b"kiln").hexdigest()
SHA512 = hashlib.sha512(b"kiln").hexdigest()


# --- inline forms -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kind", "digest"),
    [
        (MD5, "md5", MD5),
        (SHA1, "sha1", SHA1),
        (SHA256, "sha256", SHA256),
        (SHA512, "sha512", SHA512),
        (SHA256.upper(), "sha256", SHA256),
        (f"md5:{MD5}", "md5", MD5),
        (f"sha1:{SHA1}", "sha1", SHA1),
        (f"sha256:{SHA256}", "sha256", SHA256),
        (f"sha512:{SHA512}", "sha512", SHA512),
        (f"SHA256:{SHA256.upper()}", "sha256", SHA256),
        (f"Md5:{MD5}", "md5", MD5),
    ],
)
def test_inline_forms_are_normalised(value: str, kind: str, digest: str) -> None:
    checksum = parse_checksum(value)
    assert checksum == Checksum(kind, digest)
    assert checksum.normalized() == f"{kind}:{digest}"
    assert checksum_syntax_errors(value) == []


def test_none_is_no_checksum() -> None:
    assert parse_checksum("none") is NO_CHECKSUM
    assert NO_CHECKSUM.normalized() == "none"
    assert NO_CHECKSUM.matches("anything")
    assert checksum_syntax_errors("none") == []


def test_matches_compares_lowercase_hex() -> None:
    checksum = Checksum("sha256", SHA256)
    assert checksum.matches(SHA256.upper())
    assert not checksum.matches(SHA1)


@pytest.mark.parametrize(
    ("value", "errors"),
    [
        ("", [CHECKSUM_MISSING]),
        (
            "zzzz",
            ["invalid checksum: encoding/hex: invalid byte: U+007A 'z' in \"zzzz\""],
        ),
        ("abcd", ['Unknown type for checksum abcd in "abcd"']),
        ("sha3:abcd", ['unsupported checksum type: sha3 in "sha3:abcd"']),
        ("FILE:abcd", ['unsupported checksum type: FILE in "FILE:abcd"']),
        # go-getter decodes the hex before it looks at the type.
        (
            "sha3:zz",
            ["invalid checksum: encoding/hex: invalid byte: U+007A 'z' in \"sha3:zz\""],
        ),
        ("abc", ['invalid checksum: encoding/hex: odd length hex string in "abc"']),
        # A bad byte is reported before the odd length (Go checks pairs, then the tail).
        ("abz", ["invalid checksum: encoding/hex: invalid byte: U+007A 'z' in \"abz\""]),
        ("a z", ["invalid checksum: encoding/hex: invalid byte: U+0020 ' ' in \"a z\""]),
        # Non-ASCII bytes are reported one byte at a time, like Go's rune(byte).
        ("é0", ["invalid checksum: encoding/hex: invalid byte: U+00C3 'Ã' in \"é0\""]),
        ("a\x01", ['invalid checksum: encoding/hex: invalid byte: U+0001 in "a\\x01"']),
        (
            "ubuntu.iso",
            [
                "invalid checksum: encoding/hex: invalid byte: U+0075 'u' in \"ubuntu.iso\"",
                "Error parsing checksum: .iso is not a valid checksum ending",
            ],
        ),
        (
            "NONE",
            ["invalid checksum: encoding/hex: invalid byte: U+004E 'N' in \"NONE\""],
        ),
        (
            f"sha1:{SHA256}",
            [
                "checksum length does not match its type: sha1 needs 40 hex digits, "
                f'got 64 in "sha1:{SHA256}"'
            ],
        ),
        (
            "sha256:",
            [
                "checksum length does not match its type: sha256 needs 64 hex digits, "
                'got 0 in "sha256:"'
            ],
        ),
    ],
)
def test_inline_errors_use_packer_texts(value: str, errors: list[str]) -> None:
    assert checksum_syntax_errors(value) == errors
    with pytest.raises(ChecksumError) as caught:
        parse_checksum(value)
    assert caught.value.problems == errors
    assert str(caught.value) == "\n".join(errors)
    assert isinstance(caught.value, KilnError)


def test_file_form_is_not_checked_without_the_file() -> None:
    assert checksum_syntax_errors("file:./SHA256SUMS") == []
    assert checksum_syntax_errors("file:http://example.invalid/SUMS.iso") == []


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("plain", '"plain"'),
        ('say "hi"', '"say \\"hi\\""'),
        ("back\\slash", '"back\\\\slash"'),
        ("tab\tnl\n", '"tab\\tnl\\n"'),
        ("bell\a\x7f", '"bell\\a\\x7f"'),
        ("ünï", '"ünï"'),
        ("\u200b", '"\\u200b"'),
        ("\U000e0001", '"\\U000e0001"'),
    ],
)
def test_go_quote_matches_strconv_quote(text: str, quoted: str) -> None:
    assert go_quote(text) == quoted


@given(st.text(alphabet="0123456789abcdefABCDEFxyz :", max_size=20))
def test_go_hex_problem_agrees_with_a_hex_parser(text: str) -> None:
    valid = re.fullmatch(r"(?:[0-9a-fA-F]{2})*", text) is not None
    assert (go_hex_problem(text) is None) == valid


@given(st.sampled_from([16, 20, 32, 64]).flatmap(lambda n: st.binary(min_size=n, max_size=n)))
def test_bare_digest_round_trips(raw: bytes) -> None:
    checksum = parse_checksum(raw.hex().upper())
    assert checksum.value == raw.hex()
    assert parse_checksum(checksum.normalized()) == checksum


# --- legacy (seed) form -------------------------------------------------------------


@pytest.mark.parametrize(
    ("checksum", "ctype", "url", "expected"),
    [
        (MD5, "md5", None, f"md5:{MD5}"),
        (MD5, "MD5", None, f"md5:{MD5}"),
        (f"md5:{MD5}", "md5", None, f"md5:{MD5}"),
        (SHA256, None, None, SHA256),
        ("", "sha256", "http://x/SHA256SUMS", "file:http://x/SHA256SUMS"),
        ("", None, "./SUMS", "file:./SUMS"),
        # the seed: iso_checksum wins, iso_checksum_url "will be ignored"
        (MD5, "md5", "http://x/SUMS", f"md5:{MD5}"),
        ("", "none", None, "none"),
        (MD5, "none", "http://x/SUMS", "none"),
        ("", "sha1", None, ""),
        ("", None, None, ""),
    ],
)
def test_normalize_legacy(checksum: str, ctype: str | None, url: str | None, expected: str) -> None:
    assert normalize_legacy(checksum, ctype, url) == expected


def test_legacy_type_is_validated_by_name() -> None:
    errors = checksum_syntax_errors(MD5, legacy_type="sha3")
    assert len(errors) == 1
    assert errors[0].startswith("Unsupported checksum type: sha3. iso_checksum_type must be one")
    assert "none, md5, sha1, sha256, sha512" in errors[0]


def test_legacy_forms_validate_the_combined_value() -> None:
    assert checksum_syntax_errors(MD5, legacy_type="MD5") == []
    assert checksum_syntax_errors("junk", legacy_type="none") == []
    assert checksum_syntax_errors("", legacy_type="sha256", legacy_url="./SUMS") == []
    assert checksum_syntax_errors("", legacy_type="sha256", legacy_url="") == [CHECKSUM_MISSING]
    assert checksum_syntax_errors("zz", legacy_type="md5") == [
        "invalid checksum: encoding/hex: invalid byte: U+007A 'z' in \"md5:zz\""
    ]


# --- checksum files -----------------------------------------------------------------

A = "a" * 64
B = "b" * 64
C = "c" * 64


def test_parse_gnu_bsd_comments_and_marks() -> None:
    text = (
        "-----BEGIN PGP SIGNED MESSAGE-----\n"
        "Hash: SHA256\n"
        "\n"
        "# a comment\n"
        f"{A}  plain.iso\n"
        f"{B} *binary.iso\n"
        f"{C} ?portable.iso\n"
        f"SHA256 (bsd.iso) = {A.upper()}\n"
        f"MD5 (old.iso) = {MD5}\n"
        f"SHA384 (unsupported.iso) = {'d' * 96}\n"
        f"SHA256 (short.iso) = {MD5}\n"
        f"{'e' * 48}  odd-length-type.iso\n"
        "not a checksum line at all\n"
        "/base64+armour\n"
        "-----END PGP SIGNATURE-----"
    )
    assert parse_checksum_file(text) == [
        ("sha256", A, "plain.iso"),
        ("sha256", B, "binary.iso"),
        ("sha256", C, "portable.iso"),
        ("sha256", A, "bsd.iso"),
        ("md5", MD5, "old.iso"),
        (None, "e" * 48, "odd-length-type.iso"),
    ]


def test_last_line_without_newline_is_read() -> None:
    # go-getter drops it (its loop stops at EOF); Packer's docs promise it is read.
    assert parse_checksum_file(f"{A}  one.iso\n{B}  last.iso") == [
        ("sha256", A, "one.iso"),
        ("sha256", B, "last.iso"),
    ]


def test_crlf_lone_hex_spaces_and_escapes() -> None:
    text = f"{A}\r\n{B}  my file.iso\r\nSHA256 (other file.iso) = {C}\r\n\\{A}  back\\\\slash\n"
    assert parse_checksum_file(text) == [
        ("sha256", A, ""),
        ("sha256", B, "my file.iso"),
        ("sha256", C, "other file.iso"),
        ("sha256", A, "back\\slash"),
    ]


def entries(text: str) -> list[tuple[str | None, str, str]]:
    return parse_checksum_file(text)


@pytest.mark.parametrize(
    ("text", "iso_path", "sumfile", "expected"),
    [
        # basename of the first ISO URL
        (f"{A}  other.iso\n{B}  x.iso\n", "/pub/x.iso", "/pub/SHA256SUMS", B),
        (f"{A}  other.iso\n{B} *x.iso\n", "/pub/x.iso", "/pub/SHA256SUMS", B),
        (f"SHA256 (x.iso) = {C}\n", "/pub/x.iso", "/pub/SHA256SUMS", C),
        # ./name and a path relative to the checksum file's directory
        (f"{A}  ./x.iso\n", "/pub/x.iso", "/pub/SHA256SUMS", A),
        (f"{A}  ./sub/x.iso\n{B}  x.iso\n", "/pub/sub/x.iso", "/pub/SUMS", A),
        (f"{A}  sub/x.iso\n", "/pub/sub/x.iso", "/pub/SUMS", A),
        # local relative paths (relative to the working directory)
        (f"{A}  ./fake.iso\n", "./fake.iso", "./SHA256SUMS", A),
        (f"{A}  fake.iso\n", "fake.iso", "SHA256SUMS", A),
        # a lone hash applies to any file
        (f"{A}\n", "/pub/x.iso", "/pub/x.iso.sha256", A),
        # go-getter's loose rule: the listed path is a trailing part of the ISO path
        (f"{A}  ./netboot/mini.iso\n", "/ubuntu/main/netboot/mini.iso", "/ubuntu/SUMS", A),
    ],
)
def test_pick_entry(text: str, iso_path: str, sumfile: str, expected: str) -> None:
    picked = pick_checksum_entry(entries(text), iso_path, sumfile)
    assert picked == Checksum("sha256", expected)


def test_pick_entry_absolute_path(tmp_path: Path) -> None:
    iso = tmp_path / "x.iso"
    text = f"{A}  {iso}\n"
    assert pick_checksum_entry(entries(text), str(iso), "/elsewhere/SUMS") == Checksum("sha256", A)


def test_pick_entry_prefers_exact_names_and_whole_components() -> None:
    # go-getter returns the first loose match: ./netboot/mini.iso is a substring of
    # .../hwe-netboot/mini.iso, so it picked the wrong line.
    text = f"{A}  ./netboot/mini.iso\n{B}  ./hwe-netboot/mini.iso\n"
    picked = pick_checksum_entry(entries(text), "/u/hwe-netboot/mini.iso", "/u/SUMS")
    assert picked == Checksum("sha256", B)
    text = f"{A}  mini.iso.gz\n"
    assert pick_checksum_entry(entries(text), "/u/mini.iso", "/u/SUMS") is None


def test_pick_entry_missing_and_unknown_lengths() -> None:
    assert pick_checksum_entry(entries(f"{A}  other.iso\n"), "/x.iso", "/SUMS") is None
    assert pick_checksum_entry(entries(f"{'e' * 48}  x.iso\n"), "/x.iso", "/SUMS") is None
    assert pick_checksum_entry([], "/x.iso", "/SUMS") is None


# --- resolve_checksum with local files ----------------------------------------------


async def test_resolve_inline_forms(tmp_path: Path) -> None:
    got = await resolve_checksum(SHA256.upper(), "http://x/a.iso", template_dir=tmp_path)
    assert got == Checksum("sha256", SHA256)
    assert await resolve_checksum("none", "a.iso", template_dir=tmp_path) is NO_CHECKSUM
    with pytest.raises(ChecksumError, match='Unknown type for checksum abcd in "abcd"'):
        await resolve_checksum("abcd", "a.iso", template_dir=tmp_path)


@pytest.mark.parametrize("form", ["file:./SHA256SUMS", "file:SHA256SUMS", "file://./SHA256SUMS"])
async def test_resolve_relative_file_from_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, form: str
) -> None:
    (tmp_path / "SHA256SUMS").write_text(f"{A}  other.iso\n{B}  fake.iso")
    monkeypatch.chdir(tmp_path)
    got = await resolve_checksum(form, "./fake.iso", template_dir=Path("/nonexistent"))
    assert got.normalized() == f"sha256:{B}"


async def test_resolve_absolute_path_and_file_url(tmp_path: Path) -> None:
    sums = tmp_path / "sums" / "SHA1SUMS"
    sums.parent.mkdir()
    sums.write_text(f"SHA1 (disk.iso) = {SHA1}\n")
    for form in (f"file:{sums}", f"file:file://{sums}", f"file:file://localhost{sums}"):
        got = await resolve_checksum(form, "http://mirror/disk.iso", template_dir=tmp_path)
        assert got == Checksum("sha1", SHA1)


async def test_resolve_falls_back_to_template_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    template_dir = tmp_path / "tpl"
    template_dir.mkdir()
    (template_dir / "SUMS").write_text(f"{MD5}  a.iso\n")
    monkeypatch.chdir(tmp_path)
    got = await resolve_checksum("file:SUMS", "a.iso", template_dir=template_dir)
    assert got == Checksum("md5", MD5)


async def test_resolve_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ChecksumError) as caught:
        await resolve_checksum("file:./missing.sum", "a.iso", template_dir=tmp_path)
    assert caught.value.problems == [
        "Error downloading checksum file: open missing.sum: no such file or directory "
        'in "file:./missing.sum"'
    ]
    (tmp_path / "noentry.sum").write_text(f"{A}  other.iso\n")
    with pytest.raises(ChecksumError) as caught:
        await resolve_checksum("file:./noentry.sum", "a.iso", template_dir=tmp_path)
    assert caught.value.problems == ['no checksum found in: ./noentry.sum in "file:./noentry.sum"']
    with pytest.raises(ChecksumError) as caught:
        await resolve_checksum("file:./missing.iso", "a.iso", template_dir=tmp_path)
    assert caught.value.problems[1:] == [
        "Error parsing checksum: .iso is not a valid checksum ending"
    ]
    with pytest.raises(ChecksumError, match="unsupported URL scheme 'ftp'"):
        await resolve_checksum("file:ftp://x/SUMS", "a.iso", template_dir=tmp_path)


async def test_resolve_uses_the_first_url(tmp_path: Path) -> None:
    (tmp_path / "SUMS").write_text(f"{A}  fake.iso\n")
    with pytest.raises(ChecksumError, match="no checksum found"):
        await resolve_checksum(
            f"file:{tmp_path / 'SUMS'}", "http://m/missing.iso", template_dir=tmp_path
        )


# --- hashing ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["md5", "sha1", "sha256", "sha512"])
def test_hash_file_and_stream_hasher(tmp_path: Path, kind: str) -> None:
    data = bytes(range(256)) * 9000  # > 2 chunks of 1 MiB
    path = tmp_path / "blob"
    path.write_bytes(data)
    expected = hashlib.new(kind, data).hexdigest()
    assert hash_file(path, kind) == expected
    hasher = StreamHasher(kind)
    for i in range(0, len(data), 1000):
        hasher.update(data[i : i + 1000])
    assert hasher.hexdigest() == expected


def test_none_hashes_nothing(tmp_path: Path) -> None:
    assert hash_file(tmp_path / "does-not-need-to-exist", "none") == ""
    hasher = StreamHasher("none")
    hasher.update(b"x")
    assert hasher.hexdigest() == ""
