"""Hypothesis fuzzing of the HCL2 parser, evaluator and loader: whatever the input, the answer
is a value or an HCL diagnostic — never a traceback, never a hang.

The budget is fixed: `max_examples` per test (KILN_FUZZ_EXAMPLES, 300 by default), a
per-example deadline (hypothesis reports a slow example), and a pytest timeout per test that
stops a real hang (hypothesis cannot interrupt one)."""

from __future__ import annotations

import os
from pathlib import Path
from tempfile import TemporaryDirectory

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiln.errors import KilnError
from kiln.plan import PlanOptions, make_plan
from kiln.template.hcl2.diagnostics import HCLError, Sources, format_diagnostic
from kiln.template.hcl2.evaluate import EvalContext, EvalError, evaluate
from kiln.template.hcl2.functions import standard_functions
from kiln.template.hcl2.loader import load_hcl2
from kiln.template.hcl2.parser import parse_config, parse_expression
from kiln.template.hcl2.values import from_python

CTX = EvalContext(
    {"var": from_python({"l": [1, 2], "s": "x", "m": {"k": "v"}}), "local": from_python({})},
    standard_functions("/nonexistent"),
)

TOKENS = [
    "a", "var", ".", "l", "s", "m", "k", "[", "]", "(", ")", "{", "}", "=", "==", "!=", "+",
    "-", "*", "/", "%", "<", ">=", "&&", "||", "!", "?", ":", ",", "...", "=>", "for", "in",
    "if", "0", "1", "2.5", "1e3", '"', "${", "%{", "~}", "}", "endif", "endfor", "else",
    "\n", " ", "#c\n", "/*c*/", "<<EOF\n", "EOF\n", "<<-X\n", "X\n", "true", "null", "*",
    "[*]", ".*", "upper", "length", "format", '"%d"', "tolist", "merge", "range", "\\",
    "\\n", "\\u00e9", "$${", "%%{", "ü", "\t", "\r\n", "'", "@", "source", "qemu", "x",
]  # fmt: skip

token_text = st.lists(st.sampled_from(TOKENS), max_size=40).map("".join)
any_text = st.text(max_size=200)
# KILN_FUZZ_EXAMPLES=20000 searches longer (as tests/unit/test_input_fuzz.py); the default
# keeps ./dev test quick.
EXAMPLES = int(os.environ.get("KILN_FUZZ_EXAMPLES", "300"))
FAST = settings(max_examples=EXAMPLES, deadline=3000, suppress_health_check=[HealthCheck.too_slow])
# Every test here together stays within a few seconds; a hang fails the test at this bound
# (scaled with a longer search).
pytestmark = pytest.mark.timeout(max(120, EXAMPLES // 2))


def _check_config(text: str) -> None:
    sources = Sources()
    try:
        parse_config(text, "f.pkr.hcl", sources)
    except HCLError as err:
        assert err.diagnostics
        for d in err.diagnostics:
            assert d.subject is not None and d.subject.start.line >= 1
            format_diagnostic(d, sources)


def _check_expression(text: str) -> None:
    try:
        expr = parse_expression(text, "f.pkr.hcl")
    except HCLError:
        return
    try:
        evaluate(expr, CTX)
    except EvalError as err:
        assert err.diagnostics


@FAST
@given(token_text)
def test_parser_never_crashes_on_token_soup(text: str) -> None:
    _check_config(text)


@FAST
@given(any_text)
def test_parser_never_crashes_on_arbitrary_text(text: str) -> None:
    _check_config(text)


@FAST
@given(token_text)
def test_evaluator_never_crashes_on_token_soup(text: str) -> None:
    _check_expression(text)


ATOMS = st.sampled_from(
    ["1", "2.5", '"a"', "true", "null", "var.l", "var.s", "var.m", "[]", "{}", "-1", "1e30",
     "1/3", '"${var.s}"', "var.l[0]", "var.m.k"]
)  # fmt: skip
FUNCS = [n for n in standard_functions("/") if n not in ("bcrypt", "uuidv4", "timestamp")]


def _expr(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(children, st.sampled_from(["+", "-", "*", "/", "%", "==", "<", "&&"]),
                  children).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(children, children, children).map(lambda t: f"({t[0]} ? {t[1]} : {t[2]})"),
        st.lists(children, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
        st.lists(children, max_size=3).map(
            lambda xs: "{" + ", ".join(f"k{i} = {x}" for i, x in enumerate(xs)) + "}"
        ),
        st.tuples(st.sampled_from(FUNCS), st.lists(children, max_size=3)).map(
            lambda t: f"{t[0]}({', '.join(t[1])})"
        ),
        children.map(lambda c: f"[for x in {c} : x]"),
        children.map(lambda c: f'"pre ${{{c}}} post"'),
        children.map(lambda c: f"{c}[*]"),
        children.map(lambda c: f"try({c}, 0)"),
    )  # fmt: skip


well_formed = st.recursive(ATOMS, _expr, max_leaves=12)


@FAST
@given(well_formed)
def test_evaluator_never_crashes_on_well_formed_expressions(text: str) -> None:
    _check_expression(text)


TEMPLATE = """
variable "v" {
  default = %s
}
locals {
  l = %s
}
source "qemu" "vm" {
  iso_url      = "x.iso"
  iso_checksum = "none"
  communicator = "none"
  vm_name      = %s
}
build {
  sources = ["source.qemu.vm"]
  provisioner "shell-local" {
    inline = [%s]
  }
}
"""
EXPRS = st.one_of(well_formed, token_text, st.sampled_from(["var.v", "local.l", "source.name"]))
LOADER = settings(
    max_examples=max(1, EXAMPLES // 3), deadline=5000, suppress_health_check=[HealthCheck.too_slow]
)


@LOADER
@given(st.tuples(EXPRS, EXPRS, EXPRS, EXPRS))
def test_loader_never_crashes_on_fuzzed_attributes(exprs: tuple[str, str, str, str]) -> None:
    """A whole template (variable default, local, source option, provisioner) loaded and
    planned: a template, or errors pointing into the file — never a traceback."""
    with TemporaryDirectory(prefix="kiln-hcl2-fuzz-") as scratch:
        folder = Path(scratch)
        (folder / "t.pkr.hcl").write_text(TEMPLATE % exprs)
        try:
            tpl = load_hcl2(folder, env={}, cwd=folder)
            make_plan(tpl, PlanOptions(cwd=folder, env={}))
        except HCLError as err:
            assert err.diagnostics
            for d in err.diagnostics:
                if d.subject is not None:
                    assert d.subject.filename.endswith("t.pkr.hcl")
        except KilnError as err:
            assert str(err)
