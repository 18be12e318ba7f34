"""Fuzzing the template engine: whatever the input, the result is a string or a
TemplateError, never another exception; and literal round trips hold."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiln.errors import TemplateError
from kiln.golang.fmt import sprintf
from kiln.golang.strconv import quote
from kiln.template.engine import parse, render
from kiln.template.functions import FuncContext, packer_functions
from kiln.template.gotime import format_go, strftime

FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

DATA: dict[str, object] = {
    "HTTPIP": "10.0.2.2",
    "HTTPPort": 8080,
    "Name": "vm",
    "List": ["a", "b"],
    "Map": {"k": "v", "n": 1},
    "Nested": {"Inner": {"Deep": 1.5}},
    "Yes": True,
    "Nil": None,
    "Empty": "",
}
CTX = FuncContext(
    template_dir="/t",
    user_variables={"a": "1", "b": "x"},
    env_allowed=True,
    build_name="b",
    build_type="qemu",
    init_time=datetime(2020, 2, 29, 13, 14, 15, 161718, tzinfo=UTC),
    build_values={"Host": "h"},
)
FUNCS = packer_functions(CTX)


def outcome(text: str) -> str | None:
    """The render result, or None for a TemplateError; anything else fails the test."""
    try:
        out = render(text, DATA, FUNCS, where="fuzz")
    except TemplateError as err:
        assert str(err).startswith("template: fuzz")
        return None
    assert isinstance(out, str)
    return out


# ------------------------------------------------------------------ arbitrary text


@FUZZ
@given(st.text())
def test_arbitrary_text_renders_or_raises_template_error(text: str) -> None:
    outcome(text)


@FUZZ
@given(st.text(alphabet=st.sampled_from(list("{}-/* .$|()\"`'\\x0123:=,ife\n"))))
def test_template_punctuation_soup_renders_or_raises_template_error(text: str) -> None:
    outcome(text)
    outcome("{{" + text + "}}")


@FUZZ
@given(st.text().filter(lambda s: "{{" not in s))
def test_text_without_actions_renders_to_itself(text: str) -> None:
    assert render(text, DATA, FUNCS) == text
    assert parse(text).render({}, {}) == text


# ------------------------------------------------------------------ grammar-built templates

_idents = st.sampled_from(
    [*sorted(FUNCS), "print", "printf", "len", "index", "slice", "eq", "lt", "and", "or",
     "not", "html", "js", "urlquery", "println", "nosuch"]
)  # fmt: skip
_fields = st.sampled_from(
    [".HTTPIP", ".HTTPPort", ".Name", ".List", ".Map", ".Nested.Inner.Deep", ".Yes", ".Nil",
     ".Missing", ".Map.k", ".", "$", "$.Name", "$x"]
)  # fmt: skip
_literals = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.text(max_size=8).map(quote),
    st.text(alphabet=st.characters(blacklist_characters="`"), max_size=8).map(lambda s: f"`{s}`"),
    st.sampled_from(["true", "false", "nil", "'a'", "'\\n'", "0x1F", "1e3", '"%d %s %v"']),
)


def _operands(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    call = st.builds(lambda f, args: " ".join([f, *args]), _idents, st.lists(children, max_size=3))
    return st.one_of(
        call.map(lambda c: f"({c})"),
        st.builds(lambda a, b: f"{a} | {b}", children, call),
        children.map(lambda c: f"({c}).X"),
    )


_operand = st.recursive(st.one_of(_literals, _fields), _operands, max_leaves=8)
_pipeline = st.builds(
    lambda decl, first, rest: decl + " | ".join([first, *rest]),
    st.sampled_from(["", "", "$x := ", "$x = ", "$i, $e := "]),
    st.one_of(_operand, st.builds(lambda f, a: f"{f} {a}", _idents, _operand)),
    st.lists(_idents, max_size=2),
)


def _action(p: str, left: str, right: str) -> str:
    return "{{" + left + p + right + "}}"


_actions = st.builds(
    _action, _pipeline, st.sampled_from([" ", "- ", ""]), st.sampled_from([" ", " -", ""])
)
_leaf = st.one_of(st.text(max_size=5), _actions, st.just("{{/* c */}}"), st.just("{{ break }}"))


def _blocks(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    body = st.lists(children, max_size=3).map("".join)
    control = st.builds(
        lambda kw, p, b, e: f"{{{{ {kw} {p} }}}}{b}{e}{{{{ end }}}}",
        st.sampled_from(["if", "range", "with"]),
        _pipeline,
        body,
        st.one_of(st.just(""), body.map(lambda b: "{{ else }}" + b)),
    )
    return st.one_of(control, body)


_templates = st.recursive(_leaf, _blocks, max_leaves=12)


@FUZZ
@given(_templates)
def test_grammar_built_templates_render_or_raise_template_error(text: str) -> None:
    first = outcome(text)
    if first is not None and "uuid" not in text and "pwd" not in text:
        assert outcome(text) == first  # rendering is deterministic


@FUZZ
@given(_templates, st.integers(0, 10_000), st.sampled_from(["", "}}", "{{", ")", "(", '"', "end"]))
def test_damaged_templates_render_or_raise_template_error(text: str, at: int, junk: str) -> None:
    i = at % (len(text) + 1)
    outcome(text[:i] + junk + text[i:])
    outcome(text[:i] + text[i + 1 :])


# ------------------------------------------------------------------ well-typed templates
# Built so that every function gets arguments of the right type and count, and fields are
# read through `$` (valid whatever dot is): these must always render, never raise.

_str_leaf = st.one_of(
    st.text(max_size=6).map(quote),
    st.sampled_from(
        ["$.Name", "$.HTTPIP", '(index $.Map "k")', '(user "b")', '(build "Host")', "timestamp",
         "build_name", "template_dir", "`raw`"]
    ),
)  # fmt: skip
_int_leaf = st.one_of(st.integers(-1000, 1000).map(str), st.just("$.HTTPPort"))
_bool_leaf = st.sampled_from(["true", "false", "$.Yes"])
_any_leaf = st.sampled_from(["$.List", "$.Map", "$.Nested", "$.Nil", "."])


def _call(fmt: str, *parts: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(*parts).map(lambda p: "(" + fmt.format(*p) + ")")


def _typed_level(
    s: st.SearchStrategy[str],
    i: st.SearchStrategy[str],
    b: st.SearchStrategy[str],
    a: st.SearchStrategy[str],
) -> tuple[st.SearchStrategy[str], ...]:
    """String, int, bool and any-typed expressions one call deeper than s, i, b, a."""
    sep = st.sampled_from(['"-"', '","', '"a"'])
    strs = st.one_of(
        s,
        _call("upper {}", s),
        _call("{} | lower", s),
        _call('printf "%s-%v|%5.2q" {} {} {}', s, a, s),
        _call("print {} {}", a, a),
        _call("println {}", a),
        _call("replace_all {} {} {}", s, s, s),
        _call("replace {} {} {} {}", s, s, i, s),
        _call("{} | replace_all {} {}", s, s, s),
        _call("html {}", a),
        _call("js {} {}", a, s),
        _call("urlquery {}", a),
        _call("isotime {}", s),
        _call("strftime {}", s),
        _call("clean_resource_name {}", s),
        _call("slice {} 0", s),
        _call("split {} {} 0", s, sep),
    )
    ints = st.one_of(i, _call("len {}", s), _call("len {}", st.sampled_from(["$.List", "$.Map"])))
    bools = st.one_of(
        b,
        _call("eq {} {} {}", s, s, s),
        _call("ne {} {}", i, i),
        _call("lt {} {}", i, i),
        _call("ge {} {}", s, s),
        _call("not {}", a),
    )
    anys = st.one_of(strs, ints, bools, a, _call("and {} {}", a, a), _call("or {} {}", a, a))
    return strs, ints, bools, anys


def _typed_expressions(depth: int) -> st.SearchStrategy[str]:
    s, i, b = _str_leaf, _int_leaf, _bool_leaf
    a = st.one_of(s, i, b, _any_leaf)
    for _ in range(depth):
        s, i, b, a = _typed_level(s, i, b, a)
    return a


# deferred: keeps the strategy repr short (the levels repeat each other)
_typed_expr = st.deferred(lambda: _typed_expressions(3))


def _typed_blocks(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    body = st.lists(children, max_size=3).map("".join)
    loop_body = st.lists(
        st.one_of(children, st.sampled_from(["{{ break }}", "{{ continue }}", "{{ $i }}{{ $e }}"])),
        max_size=3,
    ).map("".join)
    return st.one_of(
        st.tuples(_typed_expr, body, body).map(
            lambda p: (
                f"{{{{ if {p[0]} }}}}{p[1]}{{{{ else if {p[0]} }}}}"
                f"{{{{ else }}}}{p[2]}{{{{ end }}}}"
            )
        ),
        st.tuples(_typed_expr, body, body).map(
            lambda p: f"{{{{ with {p[0]} }}}}{p[1]}{{{{ else }}}}{p[2]}{{{{ end }}}}"
        ),
        st.tuples(st.sampled_from(["$.List", "$.Map", "$.Nested", "$.Nil"]), loop_body, body).map(
            lambda p: f"{{{{ range $i, $e := {p[0]} }}}}{p[1]}{{{{ else }}}}{p[2]}{{{{ end }}}}"
        ),
        body,
    )


_typed_templates = st.recursive(
    st.one_of(
        # Literal text between actions: without "{", so that two leaves side by side
        # cannot make an (ill-formed) "{{" of their own.
        st.text(alphabet=st.characters(blacklist_characters="{"), max_size=4),
        _typed_expr.map(lambda e: "{{ " + e + " }}"),
        _typed_expr.map(lambda e: "{{- " + e + " -}}"),
        _typed_expr.map(lambda e: "{{ $v := " + e + " }}{{ $v }}"),
    ),
    _typed_blocks,
    max_leaves=10,
)


@FUZZ
@given(_typed_templates)
def test_well_typed_templates_always_render(text: str) -> None:
    out = outcome(text)
    assert out is not None, text


# ------------------------------------------------------------------ literal round trips


@FUZZ
@given(st.text(alphabet=st.characters(blacklist_categories=["Cs"])))
def test_go_quoted_strings_round_trip(s: str) -> None:
    assert render("{{ " + quote(s) + " }}", {}, {}) == s
    assert render('{{ printf "%q" ' + quote(s) + " }}", {}, {}) == quote(s)


@FUZZ
@given(st.text(alphabet=st.characters(blacklist_characters="`\r", blacklist_categories=["Cs"])))
def test_raw_strings_round_trip(s: str) -> None:
    assert render("{{ `" + s + "` }}", {}, {}) == s


@FUZZ
@given(st.integers(-(2**63), 2**63 - 1))
def test_integers_round_trip(n: int) -> None:
    assert render(f"{{{{ {n} }}}}", {}, {}) == str(n)
    assert render(f'{{{{ printf "%x" {n} }}}}', {}, {}) == ("-" if n < 0 else "") + f"{abs(n):x}"


@FUZZ
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_floats_print_in_a_form_that_reads_back_exactly(x: float) -> None:
    out = render(f'{{{{ printf "%v" {x!r} }}}}', {}, {})
    assert float(out) == x
    assert math.copysign(1.0, float(out)) == math.copysign(1.0, x)


# ------------------------------------------------------------------ formatting helpers

_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(),
    st.text(max_size=10),
    st.lists(st.one_of(st.integers(), st.text(max_size=3)), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=3),
)


@FUZZ
@given(
    st.text(alphabet=st.sampled_from(list("%-+# 0123456789.*[]vdsqxXtfeEgGcoObUT!z")), max_size=20),
    st.lists(_values, max_size=4),
)
def test_printf_never_fails(fmt: str, args: list[object]) -> None:
    assert isinstance(sprintf(fmt, args), str)


@FUZZ
@given(
    st.text(max_size=40),
    st.datetimes(timezones=st.sampled_from([UTC, None])),
)
def test_time_formatting_never_fails(layout: str, t: datetime) -> None:
    assert isinstance(format_go(t, layout), str)
    assert isinstance(strftime(layout, t), str)
