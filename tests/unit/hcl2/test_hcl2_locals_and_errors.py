"""Locals in dependency order, cycles, and evaluation errors that point at the culprit."""

from __future__ import annotations

import pytest

from kiln.template.hcl2.ast import Pos
from kiln.template.hcl2.diagnostics import HCLError, Sources
from kiln.template.hcl2.evaluate import EvalContext, EvalError, evaluate
from kiln.template.hcl2.functions import standard_functions
from kiln.template.hcl2.locals import evaluate_locals
from kiln.template.hcl2.parser import parse_config, parse_expression
from kiln.template.hcl2.values import Value, from_python, object_val, to_python

FUNCS = standard_functions("/")


def run_locals(text: str) -> tuple[dict[str, object], list[str]]:
    body = parse_config(text, "t.pkr.hcl")
    defs = {a.name: a for b in body.blocks for a in b.body.attributes}

    def ctx(done: dict[str, Value]) -> EvalContext:
        return EvalContext({"local": object_val(done), "var": from_python({"v": 1})}, FUNCS)

    values, diags = evaluate_locals(defs, ctx)
    return {k: to_python(v) for k, v in values.items()}, [f"{d.summary}: {d.detail}" for d in diags]


def test_locals_evaluate_in_dependency_order_across_blocks() -> None:
    values, diags = run_locals(
        "locals {\n  c = local.b * 2\n}\nlocals {\n  b = local.a + var.v\n  a = 1\n}\n"
    )
    assert diags == []
    assert values == {"a": 1, "b": 2, "c": 4}


def test_a_cycle_is_one_error_naming_its_path() -> None:
    values, diags = run_locals(
        "locals {\n  a = local.b\n  b = local.c\n  c = local.a\n  d = local.a\n  e = 1\n}\n"
    )
    assert values == {"e": 1}
    assert len(diags) == 1
    assert "local.a → local.b → local.c → local.a" in diags[0]


def test_self_reference_is_a_cycle() -> None:
    _, diags = run_locals("locals {\n  a = local.a\n}\n")
    assert diags and "local.a → local.a" in diags[0]


def test_a_failed_local_does_not_repeat_in_its_dependants() -> None:
    values, diags = run_locals('locals {\n  a = tonumber("x")\n  b = local.a\n  c = 2\n}\n')
    assert values == {"c": 2}
    assert len(diags) == 1


def eval_error(src: str) -> EvalError:
    ctx = EvalContext({"var": from_python({"s": "x", "l": [1], "disk_size": 1})}, FUNCS)
    with pytest.raises(EvalError) as info:
        evaluate(parse_expression(src, "t.pkr.hcl"), ctx)
    return info.value


@pytest.mark.parametrize(
    ("src", "summary", "col"),
    [
        ("var.nope", "Unsupported attribute", 4),
        ("vars.s", "Unknown variable", 1),
        ("upper(1, 2)", "Too many function arguments", 10),
        ("uper(var.s)", "Call to unknown function", 1),
        ('1 + "a"', "Invalid operand", 5),
        ("var.l[5]", "Invalid index", 6),
        ('"${null}x"', "Invalid template interpolation value", 4),
        ("[for x in 1 : x]", "Iteration over non-iterable value", 11),
        ("true ? 1 : [1]", "Inconsistent conditional result types", 1),
        ("null ? 1 : 2", "Null condition", 1),
        ('join(",", [[1]])', "Invalid function argument", 11),
    ],
)
def test_evaluation_errors_point_at_the_part_at_fault(src: str, summary: str, col: int) -> None:
    diag = eval_error(src).diagnostics[0]
    assert diag.summary == summary
    assert diag.subject is not None
    assert diag.subject.start == Pos(1, col)


def test_suggestions_for_misspelled_names() -> None:
    assert 'Did you mean "disk_size"' in eval_error("var.disk_sise").diagnostics[0].detail
    assert 'Did you mean "upper"' in eval_error('uper("x")').diagnostics[0].detail


def test_diagnostic_text_has_file_line_column_block_and_caret() -> None:
    sources = Sources()
    body = parse_config('source "qemu" "a" {\n  cpus = var.nope\n}\n', "t.pkr.hcl", sources)
    expr = body.blocks[0].body.attributes[0].expr
    with pytest.raises(EvalError) as info:
        evaluate(expr, EvalContext({"var": from_python({})}, FUNCS))
    text = str(HCLError(info.value.diagnostics, sources))
    assert 'on t.pkr.hcl:2:13, in source "qemu" "a":' in text
    assert "    2:   cpus = var.nope" in text
    assert text.splitlines()[4].endswith("^^^^^")
