"""Fuzzing the loader and the planner: whatever the template, the result is a plan or a
`KilnError` with a message, never another exception (which would reach the user as
"internal error")."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiln.cli.docs import option_sets
from kiln.errors import KilnError
from kiln.options.decode import EXERCISED
from kiln.options.spec import option_specs
from kiln.plan import PlanOptions, make_plan
from kiln.template.loader import parse_template

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

BUILDER_KEYS = sorted(
    {row.name for cls in option_sets()["qemu.md"] for row in option_specs(cls)}
    | {alias for cls in option_sets()["qemu.md"] for row in option_specs(cls)
       for alias, _ in row.spec.aliases}
)  # fmt: skip
STEP_KEYS = sorted(
    {row.name for name in ("provisioners.md", "post-processors.md")
     for cls in option_sets()[name] for row in option_specs(cls)}
)  # fmt: skip
FRAGMENTS = [
    "{{", "}}", "{{-", "-}}", " ", ".", ".HTTPIP", ".HTTPPort", ".Name", ".Foo", "user", "env",
    "`x`", "`a`", '"s"', "|", "(", ")", "printf", "upper", "timestamp", "build_name", "$x",
    ":=", "if", "else", "end", "range", "<wait", "<wait5>", "<wait-1s>", "<enter>", "s", "0x",
    "-", "1", "1.5", "G", "md5:", "sha256:", "file:", "none", "ab", "\\", "\n", "é", "\0",
    "~", "~nobody-here/", "/", "..", "*", "[",
]  # fmt: skip

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.lists(st.sampled_from(FRAGMENTS), max_size=8).map("".join)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
variables = st.dictionaries(
    st.sampled_from(["a", "b", "pw", "mem"]), st.none() | scalars, max_size=4
)


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="kiln-fuzz-") as name:
        yield Path(name)


@pytest.fixture(scope="module", autouse=True)
def keep_option_coverage_honest() -> Iterator[None]:
    """Random values set random options: that must not count as a test exercising them."""
    before = set(EXERCISED)
    yield
    EXERCISED.intersection_update(before)


def check(text: str, workdir: Path) -> None:
    try:
        tpl = parse_template(text, workdir / "template.json")
        make_plan(tpl, PlanOptions(cwd=workdir, env={"HOME": str(workdir)}))
    except KilnError as err:
        assert str(err)


@FUZZ
@given(value=json_values)
def test_any_json_value(workdir: Path, value: Any) -> None:
    check(json.dumps(value), workdir)


@FUZZ
@given(
    text=st.text(max_size=200)
    | st.lists(
        st.sampled_from(
            [
                "{",
                "}",
                "[",
                "]",
                '"builders"',
                ":",
                ",",
                '{"type": "qemu"}',
                '"x"',
                "1e400",
                "NaN",
                "-",
                "0",
                "null",
                "true",
                " ",
                "\n",
                '"\\u0000"',
                '"\\ud800"',
            ]
        ),
        max_size=30,
    ).map("".join)
)
def test_any_text(workdir: Path, text: str) -> None:  # fmt: skip
    check(text, workdir)


@FUZZ
@given(
    builder=st.dictionaries(st.sampled_from(BUILDER_KEYS), json_values, max_size=8),
    name=st.none() | st.text(max_size=5),
    vars_=variables,
)
def test_builders_with_real_keys_and_junk_values(
    workdir: Path, builder: dict[str, Any], name: str | None, vars_: dict[str, Any]
) -> None:
    entry: dict[str, Any] = {"type": "qemu", **builder}
    if name is not None:
        entry["name"] = name
    check(json.dumps({"variables": vars_, "builders": [entry]}), workdir)


@FUZZ
@given(
    builder=st.fixed_dictionaries(
        {"iso_url": st.just("x.iso"), "iso_checksum": st.just("none"),
         "ssh_username": st.just("root")},
        optional={k: json_values for k in BUILDER_KEYS
                  if k not in ("iso_url", "iso_checksum", "ssh_username")},
    )
)  # fmt: skip
def test_mostly_valid_builders(workdir: Path, builder: dict[str, Any]) -> None:
    check(json.dumps({"builders": [{"type": "qemu", **builder}]}), workdir)


@FUZZ
@given(
    kind=st.sampled_from(["shell", "file", "shell-local", "breakpoint", "nope"]),
    options=st.dictionaries(
        st.sampled_from([*STEP_KEYS, "only", "except", "override", "pause_before",
                         "max_retries", "timeout"]),
        json_values, max_size=6),
    pp_kind=st.sampled_from(["manifest", "checksum", "compress", "shell-local", "x"]),
    pp_options=st.dictionaries(st.sampled_from([*STEP_KEYS, "only", "except",
                                                "keep_input_artifact", "name"]),
                               json_values, max_size=5),
)  # fmt: skip
def test_provisioners_and_post_processors(
    workdir: Path, kind: str, options: dict[str, Any], pp_kind: str, pp_options: dict[str, Any]
) -> None:
    template = {
        "builders": [{"type": "qemu", "iso_url": "x", "iso_checksum": "none",
                      "ssh_username": "u"}],
        "provisioners": [{"type": kind, **options}],
        "post-processors": [[{"type": pp_kind, **pp_options}]],
        "error-cleanup-provisioner": {"type": kind, **options},
    }  # fmt: skip
    check(json.dumps(template), workdir)
