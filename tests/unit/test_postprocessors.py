# ruff: noqa: RUF043  (messages matched as regular expressions)
"""Post-processors: archive formats, Go-shaped JSON, manifest/checksum/compress on real
files, and the chain rules (keep_input_artifact, forced keeps, failures)."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import lzma
import tarfile
import threading
import zipfile
from pathlib import Path
from typing import Any

import lz4.frame  # type: ignore[import-untyped]
import pytest

from kiln.engine.artifact import Artifact
from kiln.engine.options import RunOptions
from kiln.engine.plan import BuildPlan, StepPlan
from kiln.engine.result import BuildResult
from kiln.engine.run_id import RUN_UUID
from kiln.postprocessors.archive import (
    BGZF_EOF,
    ArchiveError,
    ArchiveFormat,
    Cancelled,
    detect_format,
    effective_level,
    write_archive,
)
from kiln.postprocessors.checksum import run_checksum
from kiln.postprocessors.compress import run_compress
from kiln.postprocessors.config import ChecksumConfig, CompressConfig, ManifestConfig
from kiln.postprocessors.context import PostContext, PostResult
from kiln.postprocessors.gojson import marshal_indent, sorted_map
from kiln.postprocessors.manifest import (
    ManifestError,
    manifest_entry,
    manifest_lock,
    run_manifest,
    update_manifest,
)
from kiln.postprocessors.runner import (
    keep_decision,
    multi_error,
    run_post_processors,
    step_label,
)
from kiln.postprocessors.shell_local import run_shell_local_pp
from kiln.postprocessors.table import POST_PROCESSORS
from kiln.provisioners.config import ShellLocalConfig
from kiln.ui import Ui
from template_plans import build_of


def make_build(tmp_path: Path, post_processors: object = None) -> BuildPlan:
    return build_of(
        tmp_path, {} if post_processors is None else {"post-processors": post_processors}
    )


class Out:
    def __init__(self) -> None:
        import io

        self.out = io.StringIO()
        self.ui = Ui(out=self.out, err=self.out, color=False)

    @property
    def text(self) -> str:
        return self.out.getvalue()


def ctx_for(
    tmp_path: Path, step_type: str = "manifest", raw: dict[str, Any] | None = None, **kw: Any
) -> PostContext:
    step = StepPlan(type=step_type, where="post-processor 1", raw=raw or {}, config=None)
    return PostContext(make_build(tmp_path), Out().ui, step, cwd=tmp_path, **kw)


def builder_artifact(tmp_path: Path, *names: str) -> Artifact:
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    files = []
    for name in names or ("disk.qcow2",):
        (out / name).write_bytes(name.encode() * 100)
        files.append(out / name)
    return Artifact("qemu", "qemu", out, files)


# --- archive formats -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("output", "forced", "expected"),
    [
        ("packer_{{.BuildName}}_{{.BuilderType}}", "", ("tar", "pgzip")),
        ("out/image.tar.gz", "", ("tar", "pgzip")),
        ("image.tgz", "", ("tar", "pgzip")),
        ("image.gz", "", ("", "pgzip")),
        ("image.zip", "", ("zip", "")),
        ("image.tar", "", ("tar", "")),
        ("image.tar.lz4", "", ("tar", "lz4")),
        ("image.lz4", "", ("", "lz4")),
        ("image.tar.xz", "", ("tar", "xz")),
        ("image.xz", "", ("", "xz")),
        ("image.bgzf", "", ("", "bgzf")),
        ("image.tar.bgzf", "", ("tar", "bgzf")),
        ("image.bz2", "", ("tar", "pgzip")),  # unknown: Packer's tar.gz, name unchanged
        ("IMAGE.ZIP", "", ("tar", "pgzip")),  # Packer's pattern is lower-case only
        ("image.zip.gz", "", ("", "pgzip")),
        ("image", "zip", ("zip", "")),
        ("image.gz", "tar.xz", ("tar", "xz")),
        ("./dist/{{.BuildName}}.qcow2.gz", "", ("", "pgzip")),
    ],
)
def test_detect_format(output: str, forced: str, expected: tuple[str, str]) -> None:
    assert detect_format(output, forced) == ArchiveFormat(*expected)


def test_compression_string() -> None:
    assert ArchiveFormat("tar", "").compression == "no compression"
    assert ArchiveFormat("tar", "xz").compression == "xz"


@pytest.mark.parametrize(("level", "expected"), [(1, 1), (9, 9), (12, 9), (0, 6), (-1, 6)])
def test_effective_level(level: int, expected: int) -> None:
    assert effective_level(level) == expected


def test_effective_level_below_minus_one() -> None:
    with pytest.raises(
        ArchiveError,
        match=r"Invalid compression level. Expected an integer "
        r"from -1 to 9 \(got -2\)",
    ):
        effective_level(-2)


def _files(tmp_path: Path) -> list[Path]:
    (tmp_path / "src").mkdir()
    a = tmp_path / "src" / "a.img"
    b = tmp_path / "src" / "b.txt"
    a.write_bytes(bytes(range(256)) * 1000)
    b.write_text("bee\n")
    return [a, b]


@pytest.mark.parametrize("algorithm", ["pgzip", "lz4", "xz", "bgzf", ""])
def test_tar_archives_round_trip(tmp_path: Path, algorithm: str) -> None:
    files = _files(tmp_path)
    target = tmp_path / "out.archive"
    write_archive(files, target, ArchiveFormat("tar", algorithm), 6, threading.Event())
    raw = target.read_bytes()
    plain = {
        "pgzip": gzip.decompress,
        "lz4": lz4.frame.decompress,
        "xz": lzma.decompress,
        "bgzf": gzip.decompress,  # BGZF is a series of gzip members
        "": lambda d: d,
    }[algorithm](raw)
    import io

    with tarfile.open(fileobj=io.BytesIO(plain)) as tar:
        assert tar.getnames() == ["a.img", "b.txt"]
        member = tar.extractfile("a.img")
        assert member is not None and member.read() == files[0].read_bytes()


def test_bgzf_blocks_are_bounded_and_end_with_the_eof_marker(tmp_path: Path) -> None:
    src = tmp_path / "big"
    src.write_bytes(bytes(range(256)) * 1024)  # 256 KiB: several blocks
    target = tmp_path / "big.bgzf"
    write_archive([src], target, ArchiveFormat("", "bgzf"), 6, threading.Event())
    raw = target.read_bytes()
    assert raw.endswith(BGZF_EOF)
    offset, blocks = 0, 0
    while offset < len(raw):
        assert raw[offset : offset + 4] == b"\x1f\x8b\x08\x04"
        assert raw[offset + 12 : offset + 14] == b"BC"
        size = int.from_bytes(raw[offset + 16 : offset + 18], "little") + 1
        offset += size
        blocks += 1
    assert offset == len(raw) and blocks == 6  # 5 data blocks + EOF
    assert gzip.decompress(raw) == src.read_bytes()


def test_zip_entries_are_the_paths_as_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _files(tmp_path)
    rel = [Path("src/a.img"), Path("src/b.txt")]
    write_archive(rel, tmp_path / "x.zip", ArchiveFormat("zip", ""), 6, threading.Event())
    with zipfile.ZipFile(tmp_path / "x.zip") as z:
        assert z.namelist() == ["src/a.img", "src/b.txt"]
        assert z.read("src/b.txt") == b"bee\n"


def test_single_file_compression(tmp_path: Path) -> None:
    files = _files(tmp_path)
    write_archive(files[1:], tmp_path / "b.gz", ArchiveFormat("", "pgzip"), 9, threading.Event())
    data = (tmp_path / "b.gz").read_bytes()
    assert gzip.decompress(data) == b"bee\n"
    assert data[4:8] == b"\0\0\0\0"  # no timestamp, like Go's gzip writer
    write_archive(files[1:], tmp_path / "b.xz", ArchiveFormat("", "xz"), 6, threading.Event())
    assert lzma.decompress((tmp_path / "b.xz").read_bytes()) == b"bee\n"


def test_single_file_formats_refuse_several_files(tmp_path: Path) -> None:
    files = _files(tmp_path)
    with pytest.raises(
        ArchiveError,
        match=r"Can only have 1 input file when not using tar/zip\. "
        r"Found 2 files: \[.*a\.img .*b\.txt\]",
    ):
        write_archive(files, tmp_path / "x.gz", ArchiveFormat("", "pgzip"), 6, threading.Event())
    assert not (tmp_path / "x.gz").exists()


def test_a_stopped_write_leaves_nothing(tmp_path: Path) -> None:
    files = _files(tmp_path)
    stop = threading.Event()
    stop.set()
    for fmt in (ArchiveFormat("tar", "pgzip"), ArchiveFormat("zip", ""), ArchiveFormat("", "xz")):
        with pytest.raises(Cancelled):
            write_archive(files[:1], tmp_path / "x", fmt, 6, stop)
        assert not (tmp_path / "x").exists()


async def test_run_compress(tmp_path: Path) -> None:
    ctx = ctx_for(tmp_path, "compress")
    art = builder_artifact(tmp_path, "disk.qcow2", "efivars.fd")
    config = CompressConfig(
        output="dist/{{.BuildName}}-{{.BuilderType}}.tar.gz", compression_level=0
    )
    result = await run_compress(config, art, ctx)
    assert result.artifact.files == [Path("dist/qemu-qemu.tar.gz")]
    assert str(result.artifact) == "compressed artifacts in: dist/qemu-qemu.tar.gz"
    assert (result.keep_input, result.force_keep) == (False, False)
    with tarfile.open(tmp_path / "dist" / "qemu-qemu.tar.gz") as tar:
        assert tar.getnames() == ["disk.qcow2", "efivars.fd"]


async def test_run_compress_unwritable_directory(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    ctx = ctx_for(tmp_path, "compress")
    with pytest.raises(ArchiveError, match="Unable to create dir for archive file/x.zip"):
        await run_compress(CompressConfig(output="file/x.zip"), builder_artifact(tmp_path), ctx)


# --- Go JSON ---------------------------------------------------------------------------------


def test_marshal_indent_is_go_shaped() -> None:
    value = {"b": [1, {"x": "<a&b>"}], "a": "é\u2028", "e": [], "n": None}
    assert marshal_indent(value) == (
        '{\n  "b": [\n    1,\n    {\n      "x": "\\u003ca\\u0026b\\u003e"\n    }\n  ],\n'
        '  "a": "é\\u2028",\n  "e": [],\n  "n": null\n}'
    )
    assert sorted_map({"b": "1", "a": "2"}) == {"a": "2", "b": "1"}
    assert sorted_map(None) is None


# --- manifest --------------------------------------------------------------------------------


def test_manifest_entry_shapes(tmp_path: Path) -> None:
    art = builder_artifact(tmp_path)
    ctx = ctx_for(tmp_path, raw={"custom_data": {}})
    entry = manifest_entry(
        ManifestConfig(strip_path=True, strip_time=True, custom_data={"z": "1", "a": "2"}), art, ctx
    )
    assert entry == {
        "name": "qemu",
        "builder_type": "qemu",
        "files": [{"name": "disk.qcow2", "size": 1000}],
        "artifact_id": "VM",
        "packer_run_uuid": RUN_UUID,
        "custom_data": {"a": "2", "z": "1"},
    }
    assert list(entry["custom_data"]) == ["a", "z"]  # type: ignore[call-overload]
    plain = manifest_entry(ManifestConfig(), art, ctx_for(tmp_path))
    assert list(plain) == [
        "name",
        "builder_type",
        "build_time",
        "files",
        "artifact_id",
        "packer_run_uuid",
        "custom_data",
    ]
    assert plain["custom_data"] is None
    assert plain["files"] == [{"name": str(art.files[0]), "size": 1000}]
    empty = Artifact("qemu", "qemu", tmp_path, [tmp_path / "missing"])
    assert manifest_entry(ManifestConfig(), empty, ctx_for(tmp_path))["files"] == [
        {"name": str(tmp_path / "missing"), "size": 0}
    ]


def test_update_manifest_appends_and_force_starts_afresh(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    update_manifest(path, {"name": "a"}, force=False)
    update_manifest(path, {"name": "b"}, force=True)  # same run: -force keeps this run's
    assert json.loads(path.read_text()) == {
        "builds": [{"name": "a"}, {"name": "b"}],
        "last_run_uuid": RUN_UUID,
    }
    path.write_text(json.dumps({"builds": [{"name": "old"}], "last_run_uuid": "other"}))
    update_manifest(path, {"name": "c"}, force=False)
    assert [b["name"] for b in json.loads(path.read_text())["builds"]] == ["old", "c"]
    path.write_text(json.dumps({"builds": [{"name": "old"}], "last_run_uuid": "other"}))
    update_manifest(path, {"name": "d"}, force=True)  # another run's manifest: replaced
    assert [b["name"] for b in json.loads(path.read_text())["builds"]] == ["d"]
    assert not path.read_text().endswith("\n")
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "Unable to parse content from .*m.json: Expecting property name"),
        ("[1]", 'not a Packer manifest .an object with a "builds" list'),
        ('{"builds": 3}', "not a Packer manifest"),
    ],
)
def test_update_manifest_refuses_a_foreign_file(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "m.json"
    path.write_text(content)
    with pytest.raises(ManifestError, match=message):
        update_manifest(path, {"name": "a"}, force=False)
    assert path.read_text() == content


def test_update_manifest_unreadable_and_unwritable(tmp_path: Path) -> None:
    (tmp_path / "dir.json").mkdir()
    with pytest.raises(ManifestError, match="Unable to open .*dir.json for reading: Is a dir"):
        update_manifest(tmp_path / "dir.json", {}, force=False)
    with pytest.raises(ManifestError, match="Unable to write .*x.json: No such file"):
        update_manifest(tmp_path / "missing" / "x.json", {}, force=False)


def test_manifest_lock_is_exclusive_and_released(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import kiln.postprocessors.manifest as manifest

    path = tmp_path / "m.json"
    with manifest_lock(path):
        assert Path(f"{path}.lock").exists()
        monkeypatch.setattr(manifest, "LOCK_ATTEMPTS", 2)
        monkeypatch.setattr(manifest, "LOCK_DELAY", 0.0)
        with pytest.raises(ManifestError, match="was not released within"), manifest_lock(path):
            pass
    assert not Path(f"{path}.lock").exists()


async def test_run_manifest_writes_and_keeps_its_input(tmp_path: Path) -> None:
    art = builder_artifact(tmp_path)
    ctx = ctx_for(tmp_path)
    result = await run_manifest(ManifestConfig(output="sub/m.json", strip_time=True), art, ctx)
    assert result == PostResult(art, keep_input=True, force_keep=True)
    (build,) = json.loads((tmp_path / "sub" / "m.json").read_text())["builds"]
    assert "build_time" not in build


# --- checksum --------------------------------------------------------------------------------


async def test_run_checksum_appends_base_names(tmp_path: Path) -> None:
    art = builder_artifact(tmp_path, "a.img", "b.img")
    ctx = ctx_for(tmp_path, "checksum")
    config = ChecksumConfig(
        checksum_types=["sha256", "md5"],
        output="sums/{{.BuildName}}_{{.BuilderType}}.{{.ChecksumType}}",
    )
    result = await run_checksum(config, art, ctx)
    sha = [hashlib.sha256(f.read_bytes()).hexdigest() for f in art.files]
    assert (tmp_path / "sums" / "qemu_qemu.sha256").read_text() == (
        f"{sha[0]}\ta.img\n{sha[1]}\tb.img\n"
    )
    assert result.artifact.files == [
        *art.files,
        Path("sums/qemu_qemu.sha256"),
        Path("sums/qemu_qemu.md5"),
    ]
    assert (result.keep_input, result.force_keep) == (True, True)
    assert str(result.artifact).startswith("Created artifact from files: ")
    again = await run_checksum(config, art, ctx)  # appended; not listed as new
    assert again.artifact.files == art.files
    assert len((tmp_path / "sums" / "qemu_qemu.md5").read_text().splitlines()) == 4


async def test_run_checksum_unreadable_input(tmp_path: Path) -> None:
    art = Artifact("qemu", "qemu", tmp_path, [tmp_path / "gone.img"])
    with pytest.raises(Exception, match="unable to open file .*gone.img: No such file"):
        await run_checksum(
            ChecksumConfig(output="x.{{.ChecksumType}}"), art, ctx_for(tmp_path, "checksum")
        )


# --- shell-local post-processor -------------------------------------------------------------


async def test_shell_local_post_processor_keeps_the_artifact(tmp_path: Path) -> None:
    art = builder_artifact(tmp_path)
    ctx = ctx_for(tmp_path, "shell-local")
    config = ShellLocalConfig(inline=['echo "$PACKER_BUILD_NAME" > pp.txt'])
    result = await run_shell_local_pp(config, art, ctx)
    assert result == PostResult(art, keep_input=True, force_keep=True)
    assert (tmp_path / "pp.txt").read_text() == "qemu\n"
    # The old string form of execute_command runs through `sh -c`.
    old = ShellLocalConfig(inline=["true"], execute_command=["echo old > old.txt"])
    await run_shell_local_pp(old, art, ctx)
    assert (tmp_path / "old.txt").read_text() == "old\n"


# --- chains ----------------------------------------------------------------------------------


def test_keep_decision() -> None:
    default_keep = PostResult(Artifact("x", "y", Path(), []), keep_input=True)
    forced = PostResult(Artifact("x", "y", Path(), []), keep_input=True, force_keep=True)
    discard = PostResult(Artifact("x", "y", Path(), []), keep_input=False)
    assert keep_decision(default_keep, None) is True
    assert keep_decision(default_keep, False) is False
    assert keep_decision(forced, False) is True
    assert keep_decision(discard, None) is False
    assert keep_decision(discard, True) is True


def test_step_label_and_multi_error() -> None:
    step = StepPlan(type="compress", where="post-processor 1", raw={}, config=None)
    assert step_label(step) == "compress"
    step.name = "zip-it"  # type: ignore[attr-defined]
    assert step_label(step) == "zip-it (type compress)"
    assert multi_error(["a", "b"]) == "2 error(s) occurred:\n\n* a\n* b"


@pytest.fixture
def fake_pps(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """manifest: passes through (forced keep); checksum: new file, keeps input by default;
    compress: new file, discards input by default; shell-local: fails."""
    calls: list[str] = []

    def made(name: str, art: Artifact, bid: str) -> Artifact:
        path = tmp_path / f"{name}-{len(calls)}"
        path.write_text(name)
        return Artifact(
            art.build_name,
            art.builder_type,
            tmp_path,
            [path],
            builder_id=bid,
            id="",
            description=f"{name} of {art}",
        )

    async def manifest(config: Any, art: Artifact, ctx: PostContext) -> PostResult:
        calls.append("manifest")
        return PostResult(art, keep_input=True, force_keep=True)

    async def checksum(config: Any, art: Artifact, ctx: PostContext) -> PostResult:
        calls.append("checksum")
        return PostResult(made("sum", art, "sum"), keep_input=True)

    async def compress(config: Any, art: Artifact, ctx: PostContext) -> PostResult:
        calls.append("compress")
        return PostResult(made("zip", art, "zip"), keep_input=False)

    async def failing(config: Any, art: Artifact, ctx: PostContext) -> PostResult:
        calls.append("fail")
        raise ArchiveError("boom")

    for name, fn in (
        ("manifest", manifest),
        ("checksum", checksum),
        ("compress", compress),
        ("shell-local", failing),
    ):
        monkeypatch.setitem(
            POST_PROCESSORS, name, dataclasses.replace(POST_PROCESSORS[name], run=fn)
        )
    return calls


async def _run(tmp_path: Path, post_processors: object) -> tuple[BuildResult, Artifact, Out]:
    (tmp_path / "post.sh").write_text("")
    build = make_build(tmp_path, post_processors)
    art = builder_artifact(tmp_path)
    out = Out()
    result = BuildResult("qemu", art, None, [])
    return await run_post_processors(build, result, out.ui, RunOptions()), art, out


def _described(result: BuildResult) -> list[str]:
    return [str(a) for a in result.artifacts]


async def test_no_post_processors_leave_the_builder_artifact(tmp_path: Path) -> None:
    result, art, _ = await _run(tmp_path, None)
    assert result.artifacts == [art] and result.error is None


async def test_compress_alone_discards_the_image(tmp_path: Path, fake_pps: list[str]) -> None:
    result, art, out = await _run(tmp_path, ["compress"])
    assert _described(result) == [f"zip of {art}"]
    assert not art.output_dir.exists()
    assert "==> qemu: Running post-processor: compress" in out.text


async def test_keep_input_artifact_keeps_the_image(tmp_path: Path, fake_pps: list[str]) -> None:
    result, art, _ = await _run(tmp_path, [{"type": "compress", "keep_input_artifact": True}])
    assert _described(result) == [str(art), f"zip of {art}"]
    assert art.output_dir.exists()


async def test_forced_keep_beats_the_user(tmp_path: Path, fake_pps: list[str]) -> None:
    result, art, _ = await _run(tmp_path, [{"type": "manifest", "keep_input_artifact": False}])
    assert result.artifacts == [art]  # listed once (Packer lists it twice)
    assert art.output_dir.exists()


async def test_chain_destroys_intermediate_artifacts(tmp_path: Path, fake_pps: list[str]) -> None:
    result, art, _ = await _run(tmp_path, [["checksum", "compress"]])
    # checksum (first) keeps the image; compress discards the checksum artifact.
    assert _described(result) == [str(art), f"zip of sum of {art}"]
    assert not (tmp_path / "sum-1").exists()
    result2, art2, _ = await _run(
        tmp_path, [["checksum", {"type": "compress", "keep_input_artifact": True}]]
    )
    assert _described(result2) == [str(art2), f"sum of {art2}", f"zip of sum of {art2}"]


async def test_several_chains_start_from_the_image(tmp_path: Path, fake_pps: list[str]) -> None:
    result, art, _ = await _run(tmp_path, ["compress", "manifest"])
    assert fake_pps == ["compress", "manifest"]
    assert _described(result) == [str(art), f"zip of {art}"]


async def test_a_failing_first_post_processor_keeps_the_image(
    tmp_path: Path, fake_pps: list[str]
) -> None:
    result, art, _out = await _run(
        tmp_path, [{"type": "shell-local", "script": "post.sh"}, "compress"]
    )
    assert result.error == "1 error(s) occurred:\n\n* Post-processor failed: boom"
    assert art.output_dir.exists()
    assert _described(result) == [str(art), f"zip of {art}"]


async def test_a_failing_later_post_processor_ends_its_chain(
    tmp_path: Path, fake_pps: list[str]
) -> None:
    result, art, _ = await _run(
        tmp_path, [["compress", {"type": "shell-local", "script": "post.sh"}, "checksum"]]
    )
    assert fake_pps == ["compress", "fail"]
    assert result.error is not None and "Post-processor failed: boom" in result.error
    assert result.artifacts == []
    assert not art.output_dir.exists()


async def test_render_errors_fail_the_post_processor(tmp_path: Path, fake_pps: list[str]) -> None:
    build = make_build(tmp_path, [{"type": "manifest", "custom_data": {"k": "{{ build `Host` }}"}}])
    art = builder_artifact(tmp_path)
    result = await run_post_processors(
        build, BuildResult("qemu", art, None, []), Out().ui, RunOptions()
    )
    assert result.error is not None and 'build variable "Host" is not available' in result.error
    art.state["generated_data"] = {"Host": "127.0.0.1"}
    result = await run_post_processors(
        build, BuildResult("qemu", art, None, []), Out().ui, RunOptions()
    )
    assert result.error is None


def test_extra_post_processor_checks() -> None:
    from kiln.postprocessors.checks import extra_post_processor_checks

    assert extra_post_processor_checks(CompressConfig(compression_level=12)) == []
    assert extra_post_processor_checks(CompressConfig(compression_level=-5)) == [
        "Invalid compression level. Expected an integer from -1 to 9 (got -5)."
    ]
    assert extra_post_processor_checks(ShellLocalConfig(inline=["x"], only_on=["beos"]))[0] == (
        "Invalid OS specified in only_on: 'beos'\nSupported OS names: darwin, freebsd, linux, "
        "openbsd, solaris, windows"
    )
    assert extra_post_processor_checks(ManifestConfig()) == []


@pytest.mark.parametrize(
    ("output", "fmt", "bad"),
    [("out.tar.bz2", "", True), ("out.zst", "", True), ("out", "bz2", True),
     ("out.tar.gz", "", False), ("out.tar.lz4", "", False), ("image.box", "", False)],
)  # fmt: skip
def test_compress_refuses_formats_it_cannot_write(output: str, fmt: str, bad: bool) -> None:
    from kiln.postprocessors.checks import check_compress
    from kiln.postprocessors.config import CompressConfig

    problems = check_compress(CompressConfig(output=output, format=fmt), Path())
    assert bool(problems) is bad
    if bad:
        assert (
            "cannot write: Packer would write a gzip-compressed tar under that name" in problems[0]
        )
