"""fastparse against lark: the same syntax tree, or fastparse gives up.

lark, with the grammar in `grammar.py`, is the reference parser. Every text here is parsed
through the public API twice — as kiln parses it (fastparse first) and with fastparse
disabled (lark only) — and the two answers must be equal: the same `ast` (ranges included), or
the same syntax error diagnostics. And fastparse itself must give up on every text lark
rejects, and must not give up on the templates users write (else it saves nothing).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_hcl2_fuzz import TOKENS, well_formed

from kiln.template.hcl2 import fastparse, parser
from kiln.template.hcl2.diagnostics import HCLError
from kiln.template.hcl2.syntree import Node
from kiln.template.hcl2.upgrade import upgrade
from kiln.template.loader import load_template

ROOT = Path(__file__).resolve().parents[3]
DATA = ROOT / "tests" / "data"
HCL_FILES = sorted([*DATA.rglob("*.hcl"), *(ROOT / "examples").rglob("*.hcl")])
GOLDEN_JSON = sorted((DATA / "golden").glob("*.json"))
EXPRESSIONS = [
    json.loads(line)["expr"]
    for line in (DATA / "hcl2" / "expressions.expected").read_text().splitlines()
]


@contextmanager
def lark_only() -> Iterator[None]:
    real = fastparse.parse

    def give_up(text: str, start: str) -> Node:
        raise fastparse.GiveUp

    fastparse.parse = give_up  # type: ignore[assignment]
    try:
        yield
    finally:
        fastparse.parse = real  # type: ignore[assignment]


def answer(parse: Callable[[str, str], object], text: str) -> object:
    """What the public parser says: the syntax tree, or the diagnostics' text."""
    try:
        return parse(text, "f.pkr.hcl")
    except HCLError as err:
        return ("error", [(d.summary, d.detail, d.subject) for d in err.diagnostics])


def same_answer(parse: Callable[[str, str], object], text: str, start: str) -> bool:
    """Checks both answers agree; returns whether fastparse handled the text itself."""
    ours = answer(parse, text)
    with lark_only():
        reference = answer(parse, text)
    assert ours == reference, text
    try:
        fastparse.parse(text if text.endswith("\n") or start != "config" else text + "\n", start)
    except fastparse.GiveUp:
        return False
    return True


def config(text: str) -> bool:
    return same_answer(parser.parse_config, text, "config")


def expression(text: str) -> bool:
    return same_answer(parser.parse_expression, text, "expr_only")


def template(text: str) -> bool:
    return same_answer(parser.parse_template, text, "heredoc_body")


@pytest.mark.parametrize("path", HCL_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_repository_hcl_files(path: Path) -> None:
    handled = config(path.read_text(encoding="utf-8"))
    if "broken" not in path.parts[-2]:
        assert handled, "fastparse gave up on a well-formed template"


@pytest.mark.parametrize("path", GOLDEN_JSON, ids=lambda p: p.stem)
def test_upgraded_golden_templates(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(path.parent)
    assert config(upgrade(load_template(path))), "fastparse gave up on hcl2_upgrade's output"


def test_expressions_checked_against_packer() -> None:
    handled = [expression(text) for text in EXPRESSIONS]
    assert sum(handled) >= 0.95 * len(handled)


@pytest.mark.parametrize(
    "text",
    [
        'a = "x${b}y%{ if c }d%{ else }e%{ endif }f%{ for k, v in m ~}${k}=${v}%{~ endfor }"\n',
        "a = <<-EOF\n    one ${x}\n      two\n    EOF\n"
        "b = <<EOF\n%{ for x in y }${x}\n%{ endfor }\nEOF\n",
        "b {\n  c = [for x in xs : x if x != 1]\n  d = {for k, v in m : k => v... if v}\n}\n",
        "e = a.b[0].c[*].d.*.e[1].0\nf = -1 + 2 * 3 / 4 % 5 - !true ? x : y\n",
        'g = { a = 1, "b" = 2\n  (c) : 3\n}\nh = f(a, b...)\ni = f(\n  a,\n  b,\n)\n',
        'source "qemu" "x" { a = 1 }\nempty {}\nlabels a "b" c {\n}\n',
        "j = 1.5e3 // comment\nk = 2 # comment\n/* block\ncomment */ l = 3\r\nm = 4\n",
        "n = [\n  1, # one\n  2\n]\no = {\n  for x in xs :\n  x => 1\n}\n",
        'p = "\\u00e9\\n\\t\\"$${x}%%{y}$ % $x"\nq = "${~ x ~}"\n',
        "r = a==b&&c!=d||e<=f&&g>=h\ns = x.for\nt = [for]\n",
    ],
)
def test_constructs(text: str) -> None:
    config(text)


def test_gives_up_on_what_lark_rejects() -> None:
    for text in ["a = \n", "a = [1 2]\n", 'a = "x\n', "a {\n b = 1 }\n", "a = 1 b = 2\n",
                 "a = ${x}\n", "for = 1\nb {\n  for = 1\n}\n", "a = {for}\n"]:  # fmt: skip
        config(text)


def test_templates() -> None:
    assert template("plain ${x} and %{ if y }z%{ endif }\n")
    template("${x}")
    template("broken ${")


EXAMPLES = int(os.environ.get("KILN_FUZZ_EXAMPLES", "300"))
FUZZ = settings(max_examples=EXAMPLES, deadline=3000, suppress_health_check=[HealthCheck.too_slow])
pytestmark = pytest.mark.timeout(max(300, EXAMPLES // 2))

token_soup = st.lists(st.sampled_from(TOKENS), max_size=40).map("".join)


@FUZZ
@given(token_soup)
def test_token_soup_as_a_file(text: str) -> None:
    config(text)


@FUZZ
@given(token_soup)
def test_token_soup_as_an_attribute(text: str) -> None:
    config(f"a = {text}\n")


@FUZZ
@given(token_soup)
def test_token_soup_as_an_expression(text: str) -> None:
    expression(text)


@FUZZ
@given(well_formed)
def test_well_formed_expressions(text: str) -> None:
    assert expression(text)
    assert config(f'b "l" {{\n  a = {text}\n}}\n')


@FUZZ
@given(st.text(max_size=120))
def test_arbitrary_text_as_a_template(text: str) -> None:
    template(text)


def test_a_well_formed_template_does_not_import_lark() -> None:
    """The point of fastparse: lark (~50 ms with its tables) is loaded only for errors."""
    code = (
        "import sys\n"
        "from kiln.template.hcl2.parser import parse_config\n"
        f"parse_config(open({str(ROOT / 'examples/tiny/template.pkr.hcl')!r}).read(), 't')\n"
        "assert 'lark' not in sys.modules, 'lark was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
