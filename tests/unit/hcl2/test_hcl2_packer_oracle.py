"""Every expression of tests/data/hcl2/expressions.txt gives what Packer 1.6.6 gave.

expressions.expected holds `jsonencode(EXPR)` as `packer console` printed it (recorded by
tests/data/hcl2/regenerate.py); an "ERR ..." entry means Packer refused the expression, and
kiln must refuse it too.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kiln.template.hcl2.diagnostics import HCLError
from kiln.template.hcl2.evaluate import EvalContext, EvalError, evaluate
from kiln.template.hcl2.functions import standard_functions
from kiln.template.hcl2.parser import parse_expression

DATA = Path(__file__).resolve().parents[2] / "data" / "hcl2"
CASES = [json.loads(line) for line in (DATA / "expressions.expected").read_text().splitlines()]

# Packer 1.6.6 lacks these functions (they came in later Packer releases) or silently
# dropped the local; the values are cty's, checked by hand against its sources and tests.
UNVERIFIED_BY_PACKER_166 = {
    'regex("[a-z]+", "53453453.345345aaabbbccc23454")': '"aaabbbccc"',
    'regex("(\\\\d\\\\d\\\\d\\\\d)-(\\\\d\\\\d)-(\\\\d\\\\d)", "2019-02-01")': '["2019","02","01"]',
    'regex("^(?:(?P<scheme>[^:/?#]+):)?(?://(?P<authority>[^/?#]*))?", '
    '"https://terraform.io/docs/")': '{"authority":"terraform.io","scheme":"https"}',
    'regexall("[a-z]+", "1234abcd5678efgh9")': '["abcd","efgh"]',
    'regexall("[a-z]+", "1234")': "[]",
    "coalescelist([], [])": "[]",
    'index(["a", "b"], "b")': "1",
    'index(["a"], "z")': "ERR",
}


def kiln_value(expr: str) -> str:
    ctx = EvalContext({}, standard_functions(DATA))
    try:
        value = evaluate(parse_expression(f"jsonencode(\n{expr}\n)", "t.pkr.hcl"), ctx)
        return value.as_str()
    except (EvalError, HCLError) as err:
        return "ERR " + str(err)
    except Exception as err:  # jsonencode itself can fail (infinity)
        return "ERR " + str(err)


@pytest.mark.parametrize("case", CASES, ids=[c["expr"][:60] for c in CASES])
def test_same_value_as_packer(case: dict[str, str]) -> None:
    expr, want = case["expr"], case["packer"]
    want = UNVERIFIED_BY_PACKER_166.get(expr, want)
    got = kiln_value(expr)
    if want.startswith("ERR"):
        assert got.startswith("ERR"), f"Packer refused {expr!r} ({want}); kiln gave {got}"
    else:
        assert got == want
