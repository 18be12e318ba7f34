"""The bounds on what kiln reads and renders (issue 15 #10): a message, never a crash.

`/dev/zero` as a var file read until MemoryError; 10 000 levels of nesting or a 5000-digit
number in a var file raised RecursionError / ValueError ("internal error"); ten variables
repeating each other ten times ("billion laughs") rendered until memory ran out.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from test_options_qemu import BASE

from kiln.errors import KilnError, TemplateError
from kiln.plan import PlanOptions, ValidationFailed, make_plan
from kiln.template.engine import render
from kiln.template.functions import FuncContext, packer_functions
from kiln.template.jsonfile import MAX_BYTES, MAX_DEPTH, JsonLimitError, depth, loads
from kiln.template.limits import MAX_RENDERED
from kiln.template.loader import load_template, parse_template
from kiln.template.variables import parse_var_file


def test_depth_is_counted_without_recursion() -> None:
    assert depth(1) == 0
    assert depth({"a": [1, {"b": []}]}) == 4
    deep: object = 1
    for _ in range(50_000):
        deep = [deep]
    assert depth(deep) == MAX_DEPTH + 1  # stops counting past the bound


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[" * 10_000 + "]" * 10_000, "nested too deeply"),
        ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), "nested too deeply"),
        ("9" * 5000, "a number with 5000 digits is out of range"),
        ("-" + "9" * 401, "a number with 401 digits is out of range"),
        ("1e400", "out of range for a 64-bit float"),
        ("NaN", "invalid JSON value NaN"),
    ],
)
def test_json_beyond_a_bound(text: str, problem: str) -> None:
    with pytest.raises(JsonLimitError, match=problem):
        loads(text)


def test_json_within_the_bounds() -> None:
    assert loads("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    assert loads("9" * 400) == int("9" * 400)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('{"a": ' + "[" * 10_000 + "]" * 10_000 + "}", "nested too deeply"),
        ('{"a": ' + "9" * 5000 + "}", "a number with 5000 digits"),
    ],
)
def test_var_file_beyond_a_bound(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "vars.json"
    path.write_text(content)
    with pytest.raises(KilnError, match=f"-var-file {path}: .*{problem}"):
        parse_var_file(path)


def test_var_file_from_an_endless_device() -> None:
    with pytest.raises(KilnError, match="-var-file /dev/zero: larger than 16 MiB"):
        parse_var_file(Path("/dev/zero"))


def test_template_larger_than_the_bound(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text('{"builders": [], "_pad": "' + "x" * MAX_BYTES + '"}')
    with pytest.raises(KilnError, match="is larger than 16 MiB"):
        load_template(path)


def test_template_from_an_endless_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    """`kiln build -` reads the template from stdin (as Packer): `< /dev/zero` is an error."""
    with Path("/dev/zero").open("rb") as zeros:
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(zeros))
        with pytest.raises(KilnError, match="stdin is larger than 16 MiB"):
            load_template("-")


def _funcs() -> dict[str, Any]:
    context = FuncContext(template_dir="/", user_variables={"big": "x" * 2000},
                          env_allowed=False, init_time=datetime.now(UTC))  # fmt: skip
    return dict(packer_functions(context))


def test_rendering_stops_at_the_bound() -> None:
    text = "{{ user `big` }}" * (MAX_RENDERED // 2000 + 1)
    with pytest.raises(TemplateError, match="longer than kiln renders"):
        render(text, {}, _funcs(), where="boot_command")
    assert len(render("{{ user `big` }}" * 500, {}, _funcs())) == 1_000_000


@pytest.mark.parametrize(
    "text",
    [
        '{{ replace_all "x" (user `big`) (user `big`) }}',
        '{{ replace "" (user `big`) -1 (user `big`) }}',
    ],
)
def test_replace_refuses_a_result_beyond_the_bound(text: str) -> None:
    with pytest.raises(TemplateError, match=r"would be 4,00\d,000 characters long"):
        render(text, {}, _funcs())


def test_billion_laughs_is_an_error_naming_the_variable(tmp_path: Path) -> None:
    variables = {"a0": "x" * 10}
    for i in range(1, 11):
        variables[f"a{i}"] = f"{{{{user `a{i - 1}`}}}}" * 10
    template = {"variables": variables, "builders": [{**BASE, "vm_name": "{{user `a10`}}"}]}
    tpl = parse_template(json.dumps(template), tmp_path / "t.json")
    with pytest.raises(ValidationFailed) as failed:
        make_plan(tpl, PlanOptions(cwd=tmp_path, env={}))
    assert "variables.a6" in str(failed.value)
    assert "longer than kiln renders (1,048,576 characters)" in str(failed.value)


def test_nul_in_any_option_is_a_validation_error(tmp_path: Path) -> None:
    template = {"builders": [{**BASE, "vm_name": "a\0b", "qemuargs": [["-name", "x\0"]]}]}
    tpl = parse_template(json.dumps(template), tmp_path / "t.json")
    with pytest.raises(ValidationFailed) as failed:
        make_plan(tpl, PlanOptions(cwd=tmp_path, env={}))
    message = str(failed.value)
    assert "vm_name contains a NUL character" in message
    assert "qemuargs contains a NUL character" in message
