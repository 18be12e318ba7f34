"""`kiln.media.cache`: cache directory and Packer's cache file names
(packer-plugin-sdk/multistep/commonsteps/step_download.go, Packer v1.6.6)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from kiln.errors import KilnError
from kiln.media.cache import cache_dir, cache_key, cache_target, go_ext
from kiln.media.checksum import NO_CHECKSUM, Checksum, parse_checksum
from kiln.media.urls import go_url_string, parse_source, url_path

# A 4096-byte test ISO whose sha256 is FAKE; the keys below were observed with Debian's
# packer 1.6.6 (the names of the `<key>.iso.lock` files it left in PACKER_CACHE_DIR).
FAKE = "dc5337fc49ac265abd06611d73a5b64d2336d5aa7602649ceb7c5ebc6586adb1"
OBSERVED_SHA256_KEY = "8f31572a1744badd3e465e2d9d028837e6fa8741"
OBSERVED_NONE_KEY = "f767eed40e0d10986e3bb017582d47180dc2c280"  # ./fake.iso
OBSERVED_NONE_SPACE_KEY = "6cf76f74982fc69fc005e3b019a61d70765d9090"  # ./my fake.iso


def sha1(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


# --- cache_dir ----------------------------------------------------------------------


def test_packer_cache_dir_wins() -> None:
    env = {"PACKER_CACHE_DIR": "/var/cache/isos", "XDG_CACHE_HOME": "/x", "HOME": "/h"}
    assert cache_dir(env) == Path("/var/cache/isos")


def test_relative_packer_cache_dir_is_made_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert cache_dir({"PACKER_CACHE_DIR": "packer_cache"}) == tmp_path / "packer_cache"


def test_xdg_then_home() -> None:
    assert cache_dir({"XDG_CACHE_HOME": "/xdg", "HOME": "/h"}) == Path("/xdg/packer")
    assert cache_dir({"PACKER_CACHE_DIR": "", "XDG_CACHE_HOME": "", "HOME": "/h"}) == Path(
        "/h/.cache/packer"
    )


def test_home_from_the_system_when_unset() -> None:
    assert cache_dir({}) == Path(os.path.expanduser("~")) / ".cache" / "packer"


# --- keys ---------------------------------------------------------------------------


def test_reference_example_key_is_sha1_of_normalised_checksum() -> None:
    checksum = parse_checksum(f"sha256:{FAKE}")
    assert cache_key(checksum, "./fake.iso") == sha1(f"sha256:{FAKE}")
    assert cache_key(checksum, "./fake.iso") == OBSERVED_SHA256_KEY


def test_key_ignores_the_url_and_the_checksum_spelling() -> None:
    upper = parse_checksum(f"SHA256:{FAKE.upper()}")
    bare = parse_checksum(FAKE)
    for url in ("http://a/x.iso", "https://mirror.example/pub/other.iso", "./fake.iso"):
        assert cache_key(upper, url) == OBSERVED_SHA256_KEY
        assert cache_key(bare, url) == OBSERVED_SHA256_KEY


def test_none_key_is_sha1_of_the_url_as_go_writes_it() -> None:
    assert cache_key(NO_CHECKSUM, "./fake.iso") == sha1("./fake.iso") == OBSERVED_NONE_KEY
    assert cache_key(NO_CHECKSUM, "./my fake.iso") == OBSERVED_NONE_SPACE_KEY
    assert cache_key(NO_CHECKSUM, "http://a/b.iso") == sha1("http://a/b.iso")


def test_url_checksum_parameter_wins() -> None:
    url = f"http://a/b.iso?checksum=md5:{'0' * 32}"
    assert cache_key(Checksum("sha256", FAKE), url) == sha1(f"md5:{'0' * 32}")
    url_none = "http://a/b.iso?checksum=none"
    assert cache_key(Checksum("sha256", FAKE), url_none) == sha1(url_none)


@pytest.mark.parametrize(
    ("raw", "go"),
    [
        ("./fake.iso", "./fake.iso"),
        ("./my fake.iso", "./my%20fake.iso"),
        ("./my%20fake.iso", "./my%20fake.iso"),
        ("http://h:8080/a b/c.iso?x=1 2", "http://h:8080/a%20b/c.iso?x=1 2"),
        ("file:///srv/ü.iso", "file:///srv/%C3%BC.iso"),
        ("https://h/path/(x)!.iso", "https://h/path/(x)!.iso"),
        ("http://h", "http://h"),
    ],
)
def test_go_url_string(raw: str, go: str) -> None:
    assert go_url_string(raw) == go


# --- cache_target -------------------------------------------------------------------


def test_default_target_is_in_the_cache(tmp_path: Path) -> None:
    checksum = Checksum("sha256", FAKE)
    target = cache_target(
        checksum, ["./fake.iso"], target_path=None, target_extension="iso", cache_root=tmp_path
    )
    assert target == tmp_path / f"{OBSERVED_SHA256_KEY}.iso"
    # iso_target_extension is lower-cased (observed: IMG → .img)
    target = cache_target(
        checksum, ["./fake.iso"], target_path="", target_extension="IMG", cache_root=tmp_path
    )
    assert target == tmp_path / f"{OBSERVED_SHA256_KEY}.img"
    target = cache_target(
        checksum, ["./fake.iso"], target_path=None, target_extension="", cache_root=tmp_path
    )
    assert target == tmp_path / OBSERVED_SHA256_KEY


def test_target_path_without_extension_is_a_directory(tmp_path: Path) -> None:
    checksum = Checksum("sha256", FAKE)
    for given in ("isos", "isos/"):
        target = cache_target(
            checksum, ["u.iso"], target_path=given, target_extension="img", cache_root=tmp_path
        )
        assert target == Path(f"isos/{OBSERVED_SHA256_KEY}.img")
    target = cache_target(
        checksum, ["u.iso"], target_path="/abs/dir.d/", target_extension="", cache_root=tmp_path
    )
    assert target == Path(f"/abs/dir.d/{OBSERVED_SHA256_KEY}.iso")


def test_target_path_with_extension_is_used_exactly(tmp_path: Path) -> None:
    checksum = Checksum("sha256", FAKE)
    target = cache_target(
        checksum,
        ["u.iso"],
        target_path="out/installer.ISO",
        target_extension="img",
        cache_root=tmp_path,
    )
    assert target == Path("out/installer.ISO")


def test_mirrors_share_one_target(tmp_path: Path) -> None:
    checksum = Checksum("sha256", FAKE)
    one = cache_target(
        checksum, ["http://a/x.iso"], target_path=None, target_extension="iso", cache_root=tmp_path
    )
    two = cache_target(
        checksum,
        ["http://b/y.iso", "http://a/x.iso"],
        target_path=None,
        target_extension="iso",
        cache_root=tmp_path,
    )
    assert one == two


def test_no_urls_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(KilnError, match="iso_url or iso_urls"):
        cache_target(NO_CHECKSUM, [], target_path=None, target_extension="iso", cache_root=tmp_path)


@pytest.mark.parametrize(
    ("path", "ext"),
    [("a/b.iso", ".iso"), ("a.d/b", ""), ("a/", ""), ("x.", "."), (".hidden", ".hidden"), ("", "")],
)
def test_go_ext(path: str, ext: str) -> None:
    assert go_ext(path) == ext


# --- urls ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "kind", "path", "request_url"),
    [
        ("./x.iso", "local", "x.iso", "./x.iso"),
        ("/srv/x.iso", "local", "/srv/x.iso", "/srv/x.iso"),
        ("file:///srv/x%20y.iso", "local", "/srv/x y.iso", "file:///srv/x%20y.iso"),
        ("file://./rel.iso", "local", "rel.iso", "file://./rel.iso"),
        ("file://localhost/srv/x.iso", "local", "/srv/x.iso", "file://localhost/srv/x.iso"),
        ("http://h/x.iso", "http", None, "http://h/x.iso"),
        ("HTTPS://h/x.iso?checksum=none&archive=false&k=v", "http", None, "https://h/x.iso?k=v"),
        ("http://h/x.iso?a=1%202#frag", "http", None, "http://h/x.iso?a=1%202"),
        ("ftp://h/x.iso", "unsupported", None, "ftp://h/x.iso"),
    ],
)
def test_parse_source(raw: str, kind: str, path: str | None, request_url: str) -> None:
    source = parse_source(raw)
    assert source.kind == kind
    assert (str(source.path) if source.path else None) == path
    assert source.request_url == request_url
    assert source.name == url_path(raw).rsplit("/", 1)[-1]


def test_source_query_checksum() -> None:
    assert parse_source(f"http://h/x.iso?checksum=sha1:{'a' * 40}").query_checksum == (
        f"sha1:{'a' * 40}"
    )
    assert parse_source("http://h/x.iso").query_checksum is None


def test_dry_run_shows_the_iso_the_download_would_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """iso_urls listing a local copy first (that may not be there) then a mirror: a dry run
    shows the ISO the build would use, not the missing local file (the download step skips
    it too); a local copy that exists is used in place."""
    import asyncio

    from kiln.builders.qemu.driver import QemuRecorder

    monkeypatch.chdir(tmp_path)
    recorder = QemuRecorder(lambda message: None)
    urls = ["iso/install73.iso", "https://cdn.example.org/install73.iso"]
    target = tmp_path / "cache" / "key.iso"

    def fetch(urls: list[str]) -> str:
        where, _ = asyncio.run(
            recorder.fetch_iso(urls, None, target, progress=None, log=lambda m: None)  # type: ignore[arg-type]
        )
        return where

    assert fetch(urls) == str(target)
    (tmp_path / "iso").mkdir()
    (tmp_path / "iso" / "install73.iso").write_bytes(b"\0")
    assert fetch(urls) == str(tmp_path / "iso" / "install73.iso")
    assert fetch(["missing.iso"]) == str(tmp_path / "missing.iso")  # the build fails there
