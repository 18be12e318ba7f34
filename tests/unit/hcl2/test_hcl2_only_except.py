"""`kiln build -dry-run -only/-except` on an HCL2 template: builds are named as Packer 1.6.6
names them (`TYPE.NAME`, or `BUILD.TYPE.NAME` in a named build block; CoreBuild.Name) and the
patterns are globs, as in Packer's hcl2template convertFilterOption."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kiln.cli.main import main

TEMPLATE = """
source "qemu" "a" {
  iso_url      = "x.iso"
  iso_checksum = "none"
  accelerator  = "tcg"
  communicator = "none"
}
source qemu b {
  iso_url      = "x.iso"
  iso_checksum = "none"
  accelerator  = "tcg"
  communicator = "none"
}
build {
  name    = "deb"
  sources = ["source.qemu.a", "source.qemu.b"]
}
build {
  sources = ["source.qemu.b"]
}
"""
QEMU_LINE = re.compile(r"^    (\S+): qemu-system-x86_64 ", re.MULTILINE)


@pytest.fixture
def template(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.iso").write_bytes(b"\0" * 2048)
    path = tmp_path / "t.pkr.hcl"
    path.write_text(TEMPLATE)
    return path


@pytest.mark.parametrize(
    ("flags", "builds"),
    [
        ([], ["deb.qemu.a", "deb.qemu.b", "qemu.b"]),
        (["-only=deb.qemu.a"], ["deb.qemu.a"]),
        (["-only=qemu.b"], ["qemu.b"]),
        (["-only=deb.qemu.b,qemu.b"], ["deb.qemu.b", "qemu.b"]),
        (["-only=*.qemu.b"], ["deb.qemu.b"]),
        (["-only=*qemu.b"], ["deb.qemu.b", "qemu.b"]),
        (["-except=deb.*"], ["qemu.b"]),
        (["-except=qemu.b"], ["deb.qemu.a", "deb.qemu.b"]),
    ],
)
def test_dry_run_builds_selected_by_packer_names(
    template: Path, capsys: pytest.CaptureFixture[str], flags: list[str], builds: list[str]
) -> None:
    status = main(["build", "-dry-run", *flags, str(template)])
    out, err = capsys.readouterr()
    assert status == 0, err
    assert sorted(QEMU_LINE.findall(out)) == builds


def test_a_pattern_matching_no_build_names_the_builds(
    template: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", "-only=deb.qemu.x", str(template)]) == 1
    captured = capsys.readouterr()
    err = captured.out + captured.err
    assert "-only=deb.qemu.x: no build matches it" in err
    assert "deb.qemu.a, deb.qemu.b, qemu.b" in err
    assert 'did you mean "deb.qemu.b"?' in err


@pytest.mark.parametrize(
    ("flags", "status"),
    [([], 1), (["-only=qemu.good"], 0), (["-except=qemu.bad"], 0), (["-only=qemu.bad"], 1)],
)
def test_a_source_left_out_is_not_evaluated(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    flags: list[str],
    status: int,
) -> None:
    """Packer 1.6.6 decodes only the sources of the builds -only/-except keep, so a broken
    source (an arm64 one naming an undeclared variable, say) does not stop the others."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.iso").write_bytes(b"\0" * 2048)
    good = (
        TEMPLATE.split("build {", maxsplit=1)[0]
        .split("source qemu b", maxsplit=1)[0]
        .replace('"a"', '"good"')
    )
    bad = good.replace('"good"', '"bad"').replace('communicator = "none"', "vm_name = var.typo")
    path = tmp_path / "t.pkr.hcl"
    path.write_text(
        good + bad + 'build {\n  sources = ["source.qemu.good", "source.qemu.bad"]\n}\n'
    )
    assert main(["validate", *flags, str(path)]) == status
    out = capsys.readouterr().out
    assert ('no input variable named "typo"' in out) == (status == 1)
