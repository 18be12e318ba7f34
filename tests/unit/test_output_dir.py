"""What `-force` may delete, and what a failed build removes (kiln.engine.output_dir).

Issue 15 #1: `-force` with `output_directory: "."` deleted the working directory (the
template, the ISO, the answer files). #2: a symlinked output directory kept the disk image
of a failed build in the link's target.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from test_options_qemu import BASE

from kiln.engine.output_dir import OutputDir, force_hazard
from kiln.plan import PlanOptions, ValidationFailed, make_plan
from kiln.template.loader import parse_template


def _force_errors(cwd: Path, builder: dict[str, Any], template_dir: Path | None = None) -> str:
    where = (template_dir or cwd) / "template.json"
    tpl = parse_template(json.dumps({"builders": [{**BASE, **builder}]}), where)
    with pytest.raises(ValidationFailed) as failed:
        make_plan(tpl, PlanOptions(cwd=cwd, env={}, force=True))
    return str(failed.value)


@pytest.mark.parametrize(
    ("output", "what"),
    [
        (".", "which is the working directory"),
        ("./", "which is the working directory"),
        ("{cwd}", "which is the working directory"),
        ("..", "which contains the working directory"),
        ("/", "which is the root directory"),
        ("~", "which is your home directory"),
    ],
)
def test_force_refuses_directories_the_user_keeps_things_in(
    tmp_path: Path, output: str, what: str
) -> None:
    cwd = tmp_path / "project"
    cwd.mkdir()
    (cwd / "template.json").write_text("{}")
    message = _force_errors(cwd, {"output_directory": output.format(cwd=cwd)})
    assert f"output_directory '{output.format(cwd=cwd)}' is " in message
    assert what in message
    assert "-force would delete it and everything in it" in message
    assert (cwd / "template.json").exists()


def test_force_refuses_the_templates_directory(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    message = _force_errors(
        tmp_path, {"output_directory": "templates"}, template_dir=tmp_path / "templates"
    )
    assert "which is the template's directory" in message


@pytest.mark.parametrize(
    ("builder", "label"),
    [
        ({"http_directory": "out/http"}, "http_directory 'out/http'"),
        ({"http_directory": "out"}, "http_directory 'out'"),
        ({"iso_url": "out/x.iso"}, "iso_url 'out/x.iso'"),
        ({"iso_url": "file://{cwd}/out/x.iso"}, "iso_url 'file://{cwd}/out/x.iso'"),
        ({"floppy_files": ["out/ks.cfg"]}, "floppy_files 'out/ks.cfg'"),
    ],
)
def test_force_refuses_an_output_directory_holding_an_input(
    tmp_path: Path, builder: dict[str, Any], label: str
) -> None:
    (tmp_path / "out" / "http").mkdir(parents=True)
    (tmp_path / "out" / "x.iso").write_text("")
    (tmp_path / "out" / "ks.cfg").write_text("")
    filled = {k: json.loads(json.dumps(v).replace("{cwd}", str(tmp_path)))
              for k, v in builder.items()}  # fmt: skip
    message = _force_errors(tmp_path, {"output_directory": "out", **filled})
    assert f"is or contains {label.format(cwd=tmp_path)}, an input of this build" in message


def test_force_refuses_a_symlinked_output_directory(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "keep").write_text("")
    (tmp_path / "out").symlink_to(tmp_path / "elsewhere")
    message = _force_errors(tmp_path, {"output_directory": "out"})
    assert "output_directory 'out' is a symbolic link" in message


def test_force_accepts_an_output_directory_of_its_own(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "old.qcow2").write_text("")
    tpl = parse_template(
        json.dumps({"builders": [{**BASE, "output_directory": "out"}]}), tmp_path / "t.json"
    )
    make_plan(tpl, PlanOptions(cwd=tmp_path, env={}, force=True))


def test_force_hazard_compares_real_paths(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "alias").symlink_to(tmp_path / "a")
    # 'alias/..' names tmp_path through the link; a textual check would see 'alias'.
    problem = force_hazard(
        tmp_path / "a" / "b" / ".." / "..", protected={"the working directory": tmp_path}
    )
    assert problem is not None and "is the working directory" in problem
    # A sibling whose name starts the same is not inside.
    (tmp_path / "a-out").mkdir()
    assert force_hazard(tmp_path / "a-out", protected={"x": tmp_path / "a"}) is None


# --- what a failure removes ------------------------------------------------------------


def test_a_created_directory_goes_with_the_parents_kiln_created(tmp_path: Path) -> None:
    made = OutputDir.make(tmp_path / "new" / "deep" / "out")
    (made.path / "disk.qcow2").write_text("")
    made.remove()
    assert list(tmp_path.iterdir()) == []


def test_a_parent_shared_with_another_build_stays(tmp_path: Path) -> None:
    made = OutputDir.make(tmp_path / "builds" / "a")
    (tmp_path / "builds" / "b").mkdir()
    made.remove()
    assert [p.name for p in (tmp_path / "builds").iterdir()] == ["b"]


def test_an_existing_empty_directory_stays_empty(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    made = OutputDir.make(tmp_path / "out")
    (made.path / "disk.qcow2").write_text("")
    (made.path / "sub").mkdir()
    made.remove()
    assert (tmp_path / "out").is_dir()
    assert list((tmp_path / "out").iterdir()) == []


def test_a_symlinked_empty_directory_is_emptied_through_the_link(tmp_path: Path) -> None:
    """#2: the disk image written through the link is removed; link and target stay."""
    (tmp_path / "big-disk").mkdir()
    (tmp_path / "out").symlink_to(tmp_path / "big-disk")
    made = OutputDir.make(tmp_path / "out")
    (made.path / "disk.qcow2").write_text("image")
    made.remove()
    assert (tmp_path / "out").is_symlink()
    assert os.listdir(tmp_path / "big-disk") == []
