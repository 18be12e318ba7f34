"""The cache of parsed `.pkr.hcl` files: a hit gives the same tree without parsing, and
anything odd (another text, a corrupt file, a syntax error) parses afresh."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from kiln.template.hcl2 import parsecache, parser
from kiln.template.hcl2.diagnostics import HCLError, Sources
from kiln.template.hcl2.loader import load_hcl2
from kiln.template.hcl2.types import NUMBER, STRING, list_of, object_of

TEMPLATE = """
source "qemu" "vm" {
  iso_url      = "x.iso"
  iso_checksum = "none"
  communicator = "none"
  disk_size    = var.size
}
variable "size" {
  default = "1G"
}
build {
  sources = ["source.qemu.vm"]
}
"""


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "kiln" / "hcl2-ast"


def _no_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("parsed although the tree was cached")

    monkeypatch.setattr(parser, "parse_config", refuse)


def test_a_second_load_reads_the_tree_from_the_cache(
    cache_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "t.pkr.hcl").write_text(TEMPLATE)
    first = load_hcl2(tmp_path, env={}, cwd=tmp_path)
    assert len(list(cache_home.glob("*.pickle"))) == 1
    _no_parsing(monkeypatch)
    second = load_hcl2(tmp_path, env={}, cwd=tmp_path)
    assert second.builders[0].config == first.builders[0].config
    # Errors found after a hit still point into the file, with its line and the block.
    with pytest.raises(HCLError) as info:
        load_hcl2(tmp_path, cli_vars={"nope": "1"}, env={}, cwd=tmp_path)
    assert "nope" in str(info.value)
    sources = Sources()
    parsecache.parse_config_cached(TEMPLATE, str(tmp_path / "t.pkr.hcl"), sources)
    assert sources.texts[str(tmp_path / "t.pkr.hcl")] == TEMPLATE
    assert str(tmp_path / "t.pkr.hcl") in sources.bodies


def test_another_text_or_a_corrupt_entry_is_parsed_again(cache_home: Path) -> None:
    sources = Sources()
    a = parsecache.parse_config_cached(TEMPLATE, "t.pkr.hcl", sources)
    b = parsecache.parse_config_cached(TEMPLATE + "\n# changed\n", "t.pkr.hcl", sources)
    assert a.blocks == b.blocks and a.range != b.range  # the file grew by two lines
    assert len(list(cache_home.glob("*.pickle"))) == 2
    for entry in cache_home.glob("*.pickle"):
        entry.write_bytes(b"not a pickle")
    assert parsecache.parse_config_cached(TEMPLATE, "t.pkr.hcl", Sources()) == a


def test_syntax_errors_are_never_cached(cache_home: Path) -> None:
    for _ in range(2):
        with pytest.raises(HCLError) as info:
            parsecache.parse_config_cached('a = "unclosed\n', "bad.pkr.hcl", Sources())
        assert "bad.pkr.hcl:1:" in str(info.value)
    assert not list(cache_home.glob("*.pickle"))


def test_the_cache_keeps_the_newest_entries(
    cache_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parsecache, "KEEP", 3)
    for i in range(5):
        parsecache.parse_config_cached(f"a = {i}\n", "t.pkr.hcl", Sources())
    assert len(list(cache_home.glob("*.pickle"))) == 3


def test_an_unwritable_cache_is_no_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    body = parsecache.parse_config_cached("a = 1\n", "t.pkr.hcl", Sources())
    assert [a.name for a in body.attributes] == ["a"]


def test_cached_values_keep_their_types_across_processes(tmp_path: Path) -> None:
    """String hashes differ between processes: a tree pickled by one kiln and read by the
    next must still hold numbers, bools and objects of the very types the evaluator knows."""
    (tmp_path / "x.iso").write_bytes(b"\0" * 2048)
    (tmp_path / "t.pkr.hcl").write_text(
        'source "qemu" "vm" {\n  iso_url = "x.iso"\n  iso_checksum = "none"\n'
        '  communicator = "none"\n  memory = 512\n  headless = true\n'
        '  qemuargs = [["-smp", "2"]]\n  http_content = { "/a" = "b" }\n}\n'
        'build {\n  sources = ["source.qemu.vm"]\n}\n'
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    for seed in ("1", "2", "3"):
        run = subprocess.run(
            [sys.executable, "-m", "kiln", "validate", "t.pkr.hcl"],
            cwd=tmp_path, env={**env, "PYTHONHASHSEED": seed},
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert run.returncode == 0, run.stdout + run.stderr
    assert len(list((tmp_path / "cache" / "kiln" / "hcl2-ast").glob("*.pickle"))) == 1


def test_primitive_types_unpickle_to_the_singletons() -> None:
    assert pickle.loads(pickle.dumps(NUMBER)) is NUMBER
    obj = object_of({"a": NUMBER, "b": list_of(STRING)})
    again = pickle.loads(pickle.dumps(obj))
    assert again == obj and hash(again) == hash(obj)
