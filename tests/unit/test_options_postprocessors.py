"""Post-processor options (manifest, checksum, compress, shell-local, keep_input_artifact)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_options_qemu import BASE

from kiln.engine.plan import StepPlan
from kiln.plan import PlanOptions, ValidationFailed, make_plan
from kiln.postprocessors.config import ChecksumConfig, CompressConfig, ManifestConfig
from kiln.provisioners.config import ShellLocalConfig
from kiln.template.loader import parse_template


def chains(tmp_path: Path, post_processors: object) -> list[list[StepPlan]]:
    text = json.dumps({"builders": [BASE], "post-processors": post_processors})
    plan = make_plan(parse_template(text, tmp_path / "t.json"), PlanOptions(cwd=tmp_path, env={}))
    return plan.builds[0].post_processors


def one(tmp_path: Path, **pp: Any) -> StepPlan:
    ((only,),) = chains(tmp_path, [pp])
    return only


def errors(tmp_path: Path, post_processors: object) -> list[str]:
    with pytest.raises(ValidationFailed) as failed:
        chains(tmp_path, post_processors)
    return [e for _, group in failed.value.groups for e in group]


def test_manifest(tmp_path: Path) -> None:
    c = one(
        tmp_path,
        type="manifest",
        output="out/manifest.json",
        strip_path=True,
        strip_time="true",
        custom_data={"version": "{{ build_name }}", "n": 1},
    ).config
    assert isinstance(c, ManifestConfig)
    assert (c.output, c.strip_path, c.strip_time) == ("out/manifest.json", True, True)
    assert c.custom_data == {"version": "qemu", "n": "1"}


def test_checksum(tmp_path: Path) -> None:
    c = one(tmp_path, type="checksum", checksum_types=["sha256", "sha512"],
            output="{{.BuildName}}.{{.ChecksumType}}").config  # fmt: skip
    assert isinstance(c, ChecksumConfig)
    assert c.checksum_types == ["sha256", "sha512"]
    assert c.output == "{{.BuildName}}.{{.ChecksumType}}"  # rendered per artifact later


def test_compress(tmp_path: Path) -> None:
    c = one(tmp_path, type="compress", output="image.tar.xz", format="tar.xz",
            compression_level="9").config  # fmt: skip
    assert isinstance(c, CompressConfig)
    assert (c.output, c.format, c.compression_level) == ("image.tar.xz", "tar.xz", 9)


def test_compression_level_zero_means_the_default(tmp_path: Path) -> None:
    assert one(tmp_path, type="compress", compression_level=0).config.compression_level == 6


def test_shell_local_post_processor(tmp_path: Path) -> None:
    c = one(tmp_path, type="shell-local", inline=["ls output-qemu"]).config
    assert isinstance(c, ShellLocalConfig)
    assert c.inline == ["ls output-qemu"]


def test_shell_local_post_processor_scripts_resolve_against_the_plan_cwd(tmp_path: Path) -> None:
    (tmp_path / "post.sh").write_text("")
    assert one(tmp_path, type="shell-local", script="post.sh").config.script == "post.sh"


def test_keep_input_artifact(tmp_path: Path) -> None:
    assert one(tmp_path, type="manifest", keep_input_artifact="true").keep_input_artifact is True
    assert one(tmp_path, type="manifest").keep_input_artifact is None


def test_forms_of_the_post_processors_list(tmp_path: Path) -> None:
    assert [[s.type for s in c] for c in chains(tmp_path, "manifest")] == [["manifest"]]
    assert [[s.type for s in c] for c in chains(tmp_path, {"type": "checksum"})] == [["checksum"]]
    nested = chains(tmp_path, ["manifest", [{"type": "compress"}, "checksum"]])
    assert [[(s.type, s.where) for s in c] for c in nested] == [
        [("manifest", "post-processor 1")],
        [("compress", "post-processor 2.1"), ("checksum", "post-processor 2.2")],
    ]


def test_only_except_on_post_processors(tmp_path: Path) -> None:
    text = json.dumps(
        {
            "builders": [{**BASE, "name": "a"}, {**BASE, "name": "b"}],
            "post-processors": [{"type": "manifest", "only": ["a"]}],
        }
    )
    plan = make_plan(parse_template(text, tmp_path / "t.json"), PlanOptions(cwd=tmp_path, env={}))
    assert {b.name: len(b.post_processors) for b in plan.builds} == {"a": 1, "b": 0}


@pytest.mark.parametrize(
    ("post_processors", "messages"),
    [
        (
            [{"type": "vagrant-import"}],
            ["post-processor 1: post-processor type 'vagrant-import' is not supported by kiln: "
             "use one of manifest, checksum, compress, shell-local, vagrant, vagrant-cloud, "
             "artifice"],
        ),
        (
            [{"type": "checksum", "checksum_types": ["crc32", "sha265"]}],
            ["post-processor 1 (checksum): Unrecognized checksum type: crc32 (allowed: md5, sha1, "
             "sha224, sha256, sha384, sha512)",
             "post-processor 1 (checksum): Unrecognized checksum type: sha265 (allowed: md5, "
             'sha1, sha224, sha256, sha384, sha512) — did you mean "sha256"?'],
        ),
        (
            [{"type": "manifest", "keep_input_artifact": "maybe"}],
            ["post-processor 1 (manifest): cannot parse 'keep_input_artifact' as bool: "
             'strconv.ParseBool: parsing "maybe": invalid syntax (expected true or false)'],
        ),
        (
            [{"type": "compress", "compresion_level": 9}],
            ["post-processor 1 (compress): unknown configuration key: '\"compresion_level\"' — "
             'did you mean "compression_level"?'],
        ),
        (
            [{"type": "shell-local"}],
            ["post-processor 1 (shell-local): Either a script file or inline script must be "
             "specified (set inline, script or scripts)."],
        ),
    ],
)  # fmt: skip
def test_errors(tmp_path: Path, post_processors: object, messages: list[str]) -> None:
    assert errors(tmp_path, post_processors) == messages


def test_post_processor_checks_of_the_post_processor_modules(tmp_path: Path) -> None:
    assert errors(tmp_path, [{"type": "compress", "compression_level": -2}]) == [
        "post-processor 1 (compress): Invalid compression level. Expected an integer from -1 "
        "to 9 (got -2)."
    ]
    assert errors(tmp_path, [{"type": "shell-local", "inline": ["x"], "only_on": ["plan9"]}]) == [
        "post-processor 1 (shell-local): Invalid OS specified in only_on: 'plan9'\nSupported OS "
        "names: darwin, freebsd, linux, openbsd, solaris, windows"
    ]
