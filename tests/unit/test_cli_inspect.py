"""`kiln inspect`: human and machine-readable listings of a template's parts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kiln.cli.main import main

TEMPLATE = {
    "description": "Debian 12\nminimal",
    "variables": {"pw": "hunter2", "mirror": "deb.debian.org", "iso": None},
    "sensitive-variables": ["pw"],
    "builders": [
        {"type": "qemu", "name": "deb"},
        {"type": "qemu"},
    ],
    "provisioners": [
        {"type": "shell", "inline": ["ls"], "only": ["deb"]},
        {"type": "file", "source": "a", "destination": "b"},
    ],
    "post-processors": ["manifest", [{"type": "checksum", "except": ["qemu"]}, "compress"]],
    "error-cleanup-provisioner": {"type": "shell-local", "inline": ["echo"]},
}

HUMAN = """\
Packer Inspect: JSON mode
Description:

Debian 12
minimal

Required variables:

  iso

Optional variables and their defaults:

  mirror = deb.debian.org
  pw     = <sensitive>

Builders:

  deb  (qemu)
  qemu

Provisioners:

  shell (only: deb)
  file
  shell-local (on error)

Post-processors:

  1: manifest
  2: checksum (except: qemu) -> compress

Note: If your build names contain user variables or template
functions such as 'timestamp', these are processed at build time,
and therefore only show in their raw form here.
"""


@pytest.fixture
def template(tmp_path: Path) -> Path:
    path = tmp_path / "template.json"
    path.write_text(json.dumps(TEMPLATE))
    return path


def test_inspect(template: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", str(template)]) == 0
    out, err = capsys.readouterr()
    assert (out, err) == (HUMAN, "")
    assert "hunter2" not in out


def test_inspect_machine_readable(template: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", "-machine-readable", str(template)]) == 0
    rows = [line.split(",", 1)[1] for line in capsys.readouterr().out.splitlines()]
    events = [r for r in rows if not r.startswith(",ui,")]
    assert events == [
        ",template-variable,iso,,1",
        ",template-variable,mirror,deb.debian.org,0",
        ",template-variable,pw,<sensitive>,0",
        ",template-builder,deb,qemu",
        ",template-builder,qemu,qemu",
        ",template-provisioner,shell",
        ",template-provisioner,file",
        ",template-error-cleanup-provisioner,shell-local",
        ",template-post-processor,1,manifest",
        ",template-post-processor,2,checksum,compress",
    ]
    assert ",ui,say,Description:\\n" in rows
    assert ",ui,say,Debian 12\\nminimal\\n" in rows
    assert "hunter2" not in "".join(rows)


def test_inspect_minimal_template(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "t.json"
    path.write_text('{"builders": [{"type": "qemu"}]}')
    assert main(["inspect", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Description" not in out
    assert "Required variables" not in out
    assert "Optional variables" not in out
    assert "Builders:\n\n  qemu\n\nProvisioners:\n\n  <No provisioners>\n" in out
    assert "Post-processors:\n\n  <No post-processors>\n" in out


def test_inspect_does_not_validate_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "t.json"
    path.write_text('{"builders": [{"type": "qemu", "format": "vmdk", "disk_sise": 1}]}')
    assert main(["inspect", str(path)]) == 0
    assert "  qemu\n" in capsys.readouterr().out


def test_inspect_a_broken_template(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "t.json"
    path.write_text('{"builders": [{"name": "x"}]}')
    assert main(["inspect", str(path)]) == 1
    assert capsys.readouterr().out == (
        "Failed to parse template: 1 error occurred:\n\t* builder 1: missing 'type'\n"
    )


def test_inspect_takes_var_flags(template: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Packer 1.6.6's inspect parses FlagSetVars (`-var`, `-var-file`); a JSON template's
    listing still shows the defaults, but a var file that cannot be read is an error."""
    assert main(["inspect", "-var", "mirror=elsewhere", str(template)]) == 0
    assert capsys.readouterr().out == HUMAN
    assert main(["inspect", f"-var-file={template.parent / 'nope.json'}", str(template)]) == 1
    assert "nope.json: no such file" in capsys.readouterr().out


def test_inspect_lists_builders_sorted_by_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Packer 1.6.6's Core.InspectConfig sorts the builders' names (sort.Strings)."""
    path = tmp_path / "t.json"
    builders = [{"type": "qemu", "name": n} for n in ("zeta", "Alpha", "qemu", "beta-2")]
    path.write_text(json.dumps({"builders": builders}))
    assert main(["inspect", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Builders:\n\n  Alpha  (qemu)\n  beta-2 (qemu)\n  qemu  \n  zeta   (qemu)\n" in out
    assert main(["inspect", "-machine-readable", str(path)]) == 0
    rows = [line.split(",", 1)[1] for line in capsys.readouterr().out.splitlines()]
    assert [r for r in rows if r.startswith(",template-builder,")] == [
        ",template-builder,Alpha,qemu",
        ",template-builder,beta-2,qemu",
        ",template-builder,qemu,qemu",
        ",template-builder,zeta,qemu",
    ]


@pytest.mark.parametrize(
    ("variables", "listing"),
    [
        ({}, "Variables:\n\n  <No variables>\n\n"),
        ({"a": None}, "Required variables:\n\n  a\n\nOptional variables and their defaults:\n\n\n"),
    ],
)
def test_inspect_variables_as_packer_lays_them_out(
    variables: dict[str, str | None],
    listing: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Packer 1.6.6 (packer/core.go, InspectConfig): `<No variables>`, and the optional
    heading even when every variable is required (command/inspect_test.go, unset_var.json)."""
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"variables": variables, "builders": [{"type": "qemu"}]}))
    assert main(["inspect", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Packer Inspect: JSON mode\n" + listing + "Builders:\n")
