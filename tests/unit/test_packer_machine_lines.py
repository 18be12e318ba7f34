"""kiln's machine-readable lines against Packer 1.6.6's (tests/data/packer166), no VM needed:
the version lines, validate's warnings and errors, the closing summary of a build."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from kiln import __version__
from kiln.cli.main import main
from kiln.engine.artifact import Artifact
from kiln.engine.multi import summary
from kiln.engine.result import BuildResult
from kiln.ui.output import Ui
from packer_streams import CAPTURES, compare, human_lines, machine_rows


def capture(name: str) -> str:
    return (CAPTURES / name).read_text()


@pytest.mark.parametrize(
    ("argv", "name"),
    [(["version", "-machine-readable"], "version-machine-readable.txt"),
     (["-machine-readable", "version"], "global-flag-version-machine-readable.txt")],
)  # fmt: skip
def test_version_lines(argv: list[str], name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 0
    kiln = machine_rows(capsys.readouterr().out)
    packer = machine_rows(capture(name))
    version = __version__.partition("-")[0]
    assert [r.split(",")[1] for r in kiln] == [r.split(",")[1] for r in packer]
    assert kiln == [r.replace("1.6.6", version).replace("Packer v", "kiln v") for r in packer]


def test_validate_warning_is_packers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "warning.json").write_text(capture("warning.json"))
    (tmp_path / "x.iso").write_bytes(b"")  # kiln checks at validate time that a local ISO exists
    monkeypatch.chdir(tmp_path)
    assert main(["validate", "-machine-readable", "warning.json"]) == 0
    kiln = machine_rows(capsys.readouterr().out)
    packer = machine_rows(capture("validate-warning-machine-readable.txt"))
    assert kiln == [*packer, ",ui,say,Template validated successfully."]


def test_validate_error_has_packers_shape(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(CAPTURES)
    assert main(["validate", "-machine-readable", "unknown-key.json"]) == 1
    kiln = machine_rows(capsys.readouterr().out)
    (packer,) = machine_rows(capture("validate-error-machine-readable.txt"))
    # kiln reports every problem at once (Packer stops after the unknown key) and suggests
    # the fix; the event and its first lines are Packer's.
    kiln_errors = [r for r in kiln if r.startswith(",ui,error,")]
    assert len(kiln_errors) == 1
    head = packer.split("\\n\\n")[0] + "\\n\\n"
    assert kiln_errors[0].startswith(head)
    assert "\t* unknown configuration key: '\"disk_sise\"'" in kiln_errors[0]


def test_build_summary_is_packers(tmp_path: Path) -> None:
    """The closing lines of the captured build, from kiln's summary of the same artifact."""
    packer = machine_rows(
        capture("tiny-build-machine-readable.txt"), out_dirs=["/tmp/fh-cap/out-mr"]
    )
    tail = packer[packer.index(",ui,say,\\n==> Wait completed after <duration>") :]
    out = io.StringIO()
    art = Artifact("qemu", "transcend.qemu", tmp_path, [tmp_path / "tiny.qcow2"])
    summary(
        Ui(out=out, machine_readable=True),
        [BuildResult("qemu", art, None, [], artifacts=[art])],
        119,
    )
    kiln = machine_rows(out.getvalue(), out_dirs=[str(tmp_path)])
    assert compare(tail, kiln) == []
    assert kiln == tail


def test_normalised_captures_compare_equal_to_themselves() -> None:
    """The comparison itself: a capture matches itself, and a dropped or added line is found."""
    rows = machine_rows(capture("tiny-build-machine-readable.txt"))
    assert compare(rows, rows) == []
    assert compare(rows, rows[1:])[0].startswith("Packer's line not found")
    assert compare(rows, [*rows, ",ui,say,==> qemu: surprise"])[0].startswith("kiln line that")
    human = human_lines(capture("tiny-build-timestamp-ui.txt"))
    assert human[0] == "<T>: ==> qemu: Retrieving ISO"
