"""-checkpoint on the command line, `kiln checkpoints`, and what `-dry-run -checkpoint` says."""

from __future__ import annotations

import asyncio
import json
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest

from kiln.builders.qemu.checkpoint_store import STATE_FILE, CheckpointStore, Manifest
from kiln.cli.args import UsageError, normalize_argv, parse_age, parse_args
from kiln.cli.build import checkpoint_mode
from kiln.cli.main import main
from kiln.engine.options import CheckpointMode, RunOptions
from template_plans import BUILDER, plan_of

BUILD_ARGS = ["-dry-run", "-checkpoint"]


@pytest.mark.parametrize(
    ("flag", "expected"),
    [("-checkpoint", "true"), ("--checkpoint", "true"), ("-checkpoint=refresh", "refresh"),
     ("-checkpoint=REFRESH", "refresh"), ("-checkpoint=1", "true"), ("-checkpoint=false", "false"),
     ("-checkpoint=0", "false")],
)  # fmt: skip
def test_checkpoint_flag_takes_a_value_only_with_equals(flag: str, expected: str) -> None:
    assert parse_args("build", [flag, "t.json"]).checkpoint == expected
    # Like a boolean, a bare -checkpoint does not swallow the template.
    assert parse_args("build", [flag, "t.json"]).template == "t.json"


def test_checkpoint_flag_rejects_other_values() -> None:
    with pytest.raises(UsageError, match='invalid value "later" for flag -checkpoint'):
        parse_args("build", ["-checkpoint=later", "t.json"])
    assert parse_args("build", ["t.json"]).checkpoint is None
    assert normalize_argv(["-checkpoint"], {"checkpoint": _flag("checkpoint")}) == [
        "--checkpoint=true"
    ]


def _flag(name: str) -> Any:
    from kiln.cli.args import BUILD_FLAGS

    return next(f for f in BUILD_FLAGS if f.name == name)


@pytest.mark.parametrize(
    ("flag", "env", "mode"),
    [
        (None, {}, CheckpointMode.OFF),
        (None, {"KILN_CHECKPOINT": "1"}, CheckpointMode.USE),
        (None, {"KILN_CHECKPOINT": "true"}, CheckpointMode.USE),
        (None, {"KILN_CHECKPOINT": "refresh"}, CheckpointMode.REFRESH),
        (None, {"KILN_CHECKPOINT": "0"}, CheckpointMode.OFF),
        ("true", {}, CheckpointMode.USE),
        ("refresh", {"KILN_CHECKPOINT": "1"}, CheckpointMode.REFRESH),
        ("false", {"KILN_CHECKPOINT": "1"}, CheckpointMode.OFF),  # the flag wins
    ],
)
def test_checkpoint_mode(flag: str | None, env: dict[str, str], mode: CheckpointMode) -> None:
    assert checkpoint_mode(flag, env) == mode


def test_bad_kiln_checkpoint_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="KILN_CHECKPOINT='maybe' is not understood"):
        checkpoint_mode(None, {"KILN_CHECKPOINT": "maybe"})


@pytest.mark.parametrize(("text", "seconds"), [("7d", 7 * 86400), ("36h", 36 * 3600),
                                               ("90m", 5400), ("1h30m", 5400)])  # fmt: skip
def test_ages(text: str, seconds: float) -> None:
    assert parse_age("older-than", text) == seconds


@pytest.mark.parametrize("text", ["7", "soon", "1w", "-1h"])
def test_bad_ages(text: str) -> None:
    with pytest.raises(UsageError, match=f'invalid value "{text}" for flag -older-than'):
        parse_age("older-than", text)


def test_max_age_needs_checkpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KILN_CHECKPOINT", raising=False)
    assert main(["build", "-checkpoint-max-age=7d", str(tmp_path / "t.json")]) == 1
    assert "-checkpoint-max-age needs -checkpoint" in capsys.readouterr().out  # Packer's stream


# --- kiln checkpoints ------------------------------------------------------------------


def _save(
    root: Path,
    key: str,
    *,
    created: float,
    template: str = "/t.json",
    inputs: dict[str, str] | None = None,
) -> None:
    store = CheckpointStore(root)
    draft = store.draft(key)
    for name, data in ((STATE_FILE, b"state"), ("disk-0.qcow2", b"disk")):
        (draft.path / name).write_bytes(data)
        store.add_file(draft, name)
    manifest = Manifest(key=key, template=template, build="qemu", created=created,
                        qemu_version="QEMU emulator version 7.2.22 (Debian)",
                        inputs=inputs or {"memory": "512", "http_directory/ks.cfg": "sha256:1",
                                          "QEMU version": "QEMU emulator version 7.2.22"},
                        files=tuple(draft.files), disks=("disk-0.qcow2",),
                        disk_format="qcow2")  # fmt: skip
    assert asyncio.run(store.publish(draft, manifest, replace=False))


def test_checkpoints_lists_and_prunes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    monkeypatch.setenv("PACKER_CACHE_DIR", str(tmp_path))
    assert main(["checkpoints"]) == 0
    assert "No checkpoints in" in capsys.readouterr().out
    root = tmp_path / "checkpoints"
    _save(root, "a" * 32, created=time.time() - 10 * 86400)
    _save(root, "b" * 32, created=time.time() - 60)
    (root / ("c" * 32)).mkdir()  # no manifest: unreadable
    assert main(["checkpoints", "list"]) == 0
    out = capsys.readouterr().out
    assert "aaaaaaaaaaaa  qemu   10 days" in out
    assert "bbbbbbbbbbbb  qemu   1 min" in out
    assert "memory 512, http_directory: 1 file, QEMU emulator version 7.2.22" in out
    assert f"Unreadable: {root / ('c' * 32)} (it has no manifest.json)" in out
    assert main(["checkpoints", "prune", "-older-than=7d"]) == 0
    out = capsys.readouterr().out
    assert "Deleted unreadable checkpoint cccccccccccc" in out
    assert "Deleted checkpoint aaaaaaaaaaaa (qemu, 10 days old" in out
    assert "Deleted 2 checkpoints (9 B); kept 1 younger." in out
    assert sorted(p.name for p in root.iterdir()) == [".locks", ".tmp", "b" * 32]
    assert main(["checkpoints", "prune"]) == 0
    assert "Deleted 1 checkpoint (9 B)." in capsys.readouterr().out


def test_checkpoints_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["checkpoints", "prnue"]) == 1
    err = capsys.readouterr().out  # usage errors go to stdout, as Packer writes them
    assert "unknown action 'prnue': use list or prune — did you mean \"prune\"?" in err
    assert "Usage: kiln checkpoints [options] [list|prune]" in err


# --- -dry-run -checkpoint --------------------------------------------------------------


def _template(tmp_path: Path, **options: Any) -> Path:
    (tmp_path / "http").mkdir(exist_ok=True)
    (tmp_path / "http" / "ks.cfg").write_text("rootpw=x\n")
    builder = {**BUILDER, "accelerator": "tcg", "http_directory": "http",
               "boot_command": ["install ks=http://{{ .HTTPIP }}:{{ .HTTPPort }}/ks.cfg<enter>"],
               **options}  # fmt: skip
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"builders": [builder]}))
    return path


def _key_of(tmp_path: Path, env: dict[str, str]) -> tuple[str, dict[str, str]]:
    """The key and inputs the lookup step computes for `t.json`, as a dry run would."""
    from kiln.builders.qemu.builder import qemu_steps
    from kiln.builders.qemu.driver import QemuRecorder
    from kiln.builders.qemu.state import QemuState
    from kiln.engine.driver import WORK_PLACEHOLDER
    from kiln.ui import Ui
    from kiln.ui.build import BuildUi

    text = (tmp_path / "t.json").read_text()
    build = plan_of(tmp_path, json.loads(text)).builds[0]
    options = RunOptions(dry_run=True, env=env, checkpoint=CheckpointMode.USE,
                         cache_dir=tmp_path / "kiln")  # fmt: skip
    ui = BuildUi(Ui(color=False), build.name, progress=False)
    state = QemuState(build, ui, options, WORK_PLACEHOLDER, tmp_path / "out",
                      driver=QemuRecorder(ui.warn))  # fmt: skip

    async def lookup() -> tuple[str, dict[str, str]]:
        async with AsyncExitStack() as stack:
            for name, step in qemu_steps(checkpoint=True)[:2]:
                assert name in ("iso", "checkpoint lookup")
                await stack.enter_async_context(step(state))
            assert state.checkpoint is not None
            return state.checkpoint.key, state.checkpoint.inputs

    return asyncio.run(lookup())


def test_dry_run_says_whether_a_checkpoint_would_be_used(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("PACKER_CACHE_DIR", str(cache))
    monkeypatch.setenv("KILN_CACHE_DIR", str(tmp_path / "kiln"))
    monkeypatch.chdir(tmp_path)
    template = _template(tmp_path)
    assert main(["build", *BUILD_ARGS, str(template)]) == 0
    out = capsys.readouterr().out
    assert "No checkpoint of this build yet: would install from scratch and save" in out
    assert "-device vmgenid,guid=auto" in out and "-incoming" not in out

    key, inputs = _key_of(tmp_path, {"PACKER_CACHE_DIR": str(cache)})
    _save(cache / "checkpoints", key, created=1.0, template=str(template), inputs=inputs)
    assert main(["build", *BUILD_ARGS, str(template)]) == 0
    out = capsys.readouterr().out
    assert f"Would resume checkpoint {key[:12]} of this install (saved " in out
    disk = cache / "checkpoints" / key / "disk-0.qcow2"
    assert f"cp --sparse=always --reflink=auto {disk} output-qemu/packer-qemu" in out
    assert "qemu-img create" not in out
    assert "-device vmgenid,guid=auto -incoming defer" in out

    assert main(["build", *BUILD_ARGS, "-checkpoint-max-age=1h", str(template)]) == 0
    assert "older than -checkpoint-max-age (1 h): would install from scratch" in (
        capsys.readouterr().out
    )

    (tmp_path / "http" / "ks.cfg").write_text("rootpw=y\n")
    assert main(["build", *BUILD_ARGS, str(template)]) == 0
    out = capsys.readouterr().out
    expected = "No checkpoint for this install: http_directory/ks.cfg changed (since checkpoint"
    assert f"{expected} {key[:12]}, saved " in out


def test_dry_run_without_checkpoint_is_unchanged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PACKER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("KILN_CHECKPOINT", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["build", "-dry-run", str(_template(tmp_path))]) == 0
    out = capsys.readouterr().out
    assert "checkpoint" not in out.lower() and "vmgenid" not in out
    assert not (tmp_path / "cache" / "checkpoints").exists()


@pytest.mark.parametrize(
    ("options", "reason"),
    [({"communicator": "none"}, 'communicator is "none"'),
     ({"net_bridge": "br0"}, "net_bridge is set"),
     ({"qemuargs": [["-drive", "file=x"]]}, "qemuargs sets -drive")],
)  # fmt: skip
def test_builds_that_cannot_have_a_checkpoint_say_why(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    options: dict[str, Any],
    reason: str,
) -> None:
    monkeypatch.setenv("PACKER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    main(["build", *BUILD_ARGS, str(_template(tmp_path, **options))])
    captured = capsys.readouterr()
    assert f"-checkpoint: {reason}" in captured.out + captured.err
    assert "neither uses nor saves a checkpoint" in captured.out + captured.err
    assert "vmgenid" not in captured.out
