"""The Go text/template engine: syntax, evaluation, Go builtins, error messages.

Expected outputs and error texts were checked against Packer 1.6.6 (`packer console`)
where Packer defines them; kiln's messages add names, positions and hints.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pytest

from kiln.errors import KilnError, TemplateError
from kiln.template.engine import Template, parse, render
from kiln.template.parser import MAX_DEPTH

DATA: dict[str, object] = {
    "HTTPIP": "10.0.2.2",
    "HTTPPort": 8080,
    "Name": "packer-vm",
    "Empty": "",
    "Zero": 0,
    "Yes": True,
    "No": False,
    "Nil": None,
    "Pi": 3.5,
    "List": ["a", "b", "c"],
    "Nums": [3, 1, 2],
    "NoItems": [],
    "Map": {"b": 2, "a": 1},
    "NoMap": {},
    "Nested": {"Inner": {"Deep": "found"}, "Word": "w"},
}


def upper(s: str) -> str:
    return s.upper()


def join(sep: str, *parts: str) -> str:
    return sep.join(parts)


def repeat(s: str, n: int) -> str:
    return s * n


def half(x: float) -> float:
    return x / 2


def flag(b: bool) -> str:
    return "on" if b else "off"


def listing() -> list[object]:
    return ["x", 1, True]


FUNCS: dict[str, Callable[..., object]] = {
    "upper": upper,
    "join": join,
    "repeat": repeat,
    "half": half,
    "flag": flag,
    "listing": listing,
    "anything": lambda *a: len(a),
}


def r(text: str, data: Mapping[str, object] | None = None, **funcs: Callable[..., object]) -> str:
    return render(text, DATA if data is None else data, {**FUNCS, **funcs}, where="key")


def fail(text: str, data: Mapping[str, object] | None = None) -> TemplateError:
    with pytest.raises(TemplateError) as info:
        r(text, data)
    return info.value


# ------------------------------------------------------------------ text


@pytest.mark.parametrize(
    "text", ["", "plain", "{ {", "}}", "a } } b", "{x}", "{ { .X } }", "100%", "é\n\t"]
)
def test_text_without_actions_renders_to_itself(text: str) -> None:
    assert r(text) == text
    assert parse(text).render({}, {}) == text


def test_plain_text_is_returned_without_copying() -> None:
    text = "no actions here " * 10
    assert render(text, {}, {}) is text


def test_text_around_actions_is_kept() -> None:
    assert r("http://{{ .HTTPIP }}:{{ .HTTPPort }}/ks.cfg\n") == "http://10.0.2.2:8080/ks.cfg\n"


def test_a_template_is_parsed_once_and_rendered_many_times() -> None:
    tmpl = parse("{{ .A }}-{{ .B }}")
    assert tmpl.render({"A": 1, "B": 2}, {}) == "1-2"
    assert tmpl.render({"A": "x", "B": "y"}, {}) == "x-y"
    assert tmpl.source == "{{ .A }}-{{ .B }}"
    assert isinstance(tmpl, Template)


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("{{/* a comment */}}", ""),
        ("a{{/* c */}}b", "ab"),
        ("a {{- /* c */ -}} b", "ab"),
        ("a {{- /* c */}} b", "a b"),
        ("a {{/* c */ -}} b", "a b"),
        ("{{/* multi\nline }} {{ */}}x", "x"),
        ("{{/**/}}", ""),
    ],
)
def test_comments(text: str, want: str) -> None:
    assert r(text) == want


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("a  {{- 3 -}}  b", "a3b"),
        ("a \n\t {{- 3 }} b", "a3 b"),
        ("a {{ 3 -}} \n\t b", "a 3b"),
        ("{{ 5 }}{{- 6 -}}{{ 7 }}", "567"),
        ("{{-3}}", "-3"),  # no space after '-': a negative number, not a trim marker
        ("{{3 -}}   x", "3x"),
        ("x   {{- 3 }}", "x3"),
        ("a {{- 1 }} b {{- 2 }} c", "a1 b2 c"),
        ('{{ "x" -}}\n\n  {{- "y" }}', "xy"),
        ("a\r\n{{- 1 -}}\r\nb", "a1b"),
        ("{{ 1 }}  {{ 2 }}", "1  2"),
    ],
)
def test_trim_markers(text: str, want: str) -> None:
    assert r(text) == want


# ------------------------------------------------------------------ fields and data


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("{{ .Name }}", "packer-vm"),
        ("{{.HTTPPort}}", "8080"),
        ("{{ .Nested.Inner.Deep }}", "found"),
        ("{{ $.Nested.Word }}", "w"),
        ("{{ with .Nested }}{{ .Word }}{{ end }}", "w"),
        ("{{ with .Nested }}{{ $.Name }}{{ end }}", "packer-vm"),
        ("{{ (.Nested).Inner.Deep }}", "found"),
        ('{{ (index .Nested "Inner").Deep }}', "found"),
    ],
)
def test_fields(text: str, want: str) -> None:
    assert r(text) == want


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("{{ .Yes }}/{{ .No }}", "true/false"),
        ("{{ .Zero }}", "0"),
        ("{{ .Pi }}", "3.5"),
        ("{{ .List }}", "[a b c]"),
        ("{{ .Map }}", "map[a:1 b:2]"),
        ("{{ .NoItems }}{{ .NoMap }}", "[]map[]"),
        ("{{ .Nil }}", "<no value>"),
        ("{{ .Nested }}", "map[Inner:map[Deep:found] Word:w]"),
        ("{{ listing }}", "[x 1 true]"),
        ('{{ index .Map "zz" }}', "<no value>"),
        ("{{ print .Nil }}", "<nil>"),
        ("{{ .Tuple }}", "[1 <nil> x]"),
        ("{{ .Big }}", "1e+21"),
        ("{{ .Small }}", "1e-07"),
        ("{{ .Whole }}", "100000"),
    ],
)
def test_values_print_as_go_prints_them(text: str, want: str) -> None:
    data = {**DATA, "Tuple": (1, None, "x"), "Big": 1e21, "Small": 1e-7, "Whole": 100000.0}
    assert r(text, data) == want


def test_missing_field_names_it_and_lists_what_exists() -> None:
    err = fail("{{ .HTTPPrt }}")
    assert err.problem.startswith('field "HTTPPrt" is not defined — did you mean "HTTPPort"?')
    assert "available: Empty, HTTPIP, HTTPPort, List" in err.problem
    assert (err.where, err.line, err.col) == ("key", 1, 4)
    assert str(err).startswith("template: key:1:4: field")


def test_missing_field_without_any_fields() -> None:
    err = fail("{{ .X }}", {})
    assert err.problem == 'field "X" is not defined (no fields are available here)'


def test_missing_nested_field() -> None:
    err = fail("{{ .Nested.Inner.Dep }}")
    assert 'field "Dep" is not defined — did you mean "Deep"? (available: Deep)' in err.problem


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{{ .Name.X }}", "can't evaluate field X in type string"),
        ("{{ .Nil.X }}", "can't evaluate field X: the value is nil (<no value>)"),
        ("{{ .Name 1 }}", "Name is not a method but has arguments"),
        ("{{ 1 | .Name }}", "Name is not a method but has arguments"),
        ("{{ (print 1).Foo }}", "can't evaluate field Foo in type string"),
    ],
)
def test_field_errors(text: str, problem: str) -> None:
    assert fail(text).problem == problem


# ------------------------------------------------------------------ literals


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ('{{ "a\\tb\\n" }}', "a\tb\n"),
        ('{{ "q\\"q\\\\" }}', 'q"q\\'),
        ('{{ "\\x41\\u00e9\\101\\U0001F600" }}', "AéA😀"),
        ('{{ "\\xc3\\xa9" }}', "é"),  # \x escapes are bytes, as in Go
        ('{{ "\\a\\b\\f\\r\\v" }}', "\a\b\f\r\v"),
        ('{{ `raw \\n {{ }} "` }}', 'raw \\n {{ }} "'),
        ("{{ `a\r\nb` }}", "a\nb"),  # Go drops CR from raw strings
        ('{{ "}}" }}', "}}"),
        ("{{ 42 }}", "42"),
        ("{{ -7 }}", "-7"),
        ("{{ +7 }}", "7"),
        ("{{ 0x1F }}{{ 0X_1f }}", "3131"),
        ("{{ 017 }} {{ 0o17 }} {{ 0b101 }} {{ 1_000 }}", "15 15 5 1000"),
        ("{{ 1.5 }} {{ .5 }} {{ 1e3 }} {{ 3.0 }} {{ 0x1p-2 }}", "1.5 0.5 1000 3 0.25"),
        ("{{ 'a' }} {{ '\\n' }} {{ '\\x41' }} {{ '\\u00e9' }} {{ 'é' }}", "97 10 65 233 233"),
        ("{{ true }} {{ false }}", "true false"),
        ("{{ 9223372036854775807 }}", "9223372036854775807"),
    ],
)
def test_literals(text: str, want: str) -> None:
    assert r(text) == want


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{{ "\\q" }}', "invalid escape \\q"),
        ('{{ "\\400" }}', "invalid octal escape \\400"),
        ('{{ "\\uD800" }}', "not a Unicode code point"),
        ('{{ "\\x4" }}', "want 2 hex digits"),
        ("{{ '\\\"' }}", 'invalid escape \\"'),
        ("{{ 'ab' }}", "malformed character constant: 'ab'"),
        ("{{ '' }}", "empty character constant"),
        ("{{ 99999999999999999999 }}", 'integer overflow: "99999999999999999999"'),
        ("{{ 1e400 }}", 'illegal number syntax: "1e400"'),
        ("{{ 08 }}", 'illegal number syntax: "08"'),
        ("{{ 3- }}", 'bad number syntax: "3-"'),
        ("{{ 1x }}", 'bad number syntax: "1x"'),
        ("{{ 1i }}", "complex number 1i is not supported"),
        ("{{ nil }}", "nil is not a command"),
        ('{{ "abc }}', "unterminated quoted string"),
        ("{{ 'a }}", "unterminated character constant"),
        ("{{ `abc }}", "unterminated raw quoted string"),
    ],
)
def test_literal_errors(text: str, problem: str) -> None:
    err = fail(text)
    assert problem in err.problem
    assert (err.line, err.col) == (1, 4)


# ------------------------------------------------------------------ calls and pipelines


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("{{ upper .Name }}", "PACKER-VM"),
        ("{{ .Name | upper }}", "PACKER-VM"),
        ('{{ join "," "a" "b" }}', "a,b"),
        ('{{ "b" | join "," "a" }}', "a,b"),  # the piped value is the LAST argument
        ('{{ "x" | repeat "ab" }}', None),
        ('{{ repeat "ab" 3 }}', "ababab"),
        ('{{ "a" | printf "%s-%s" "b" }}', "b-a"),
        ("{{ print 1 2 | print }}", "1 2"),
        ("{{ print 1 | print 2 }}", "21"),
        ('{{ "a" | upper | printf "<%s>" }}', "<A>"),
        ('{{ printf "%s" ("x" | upper) }}', "X"),
        ('{{ printf ("%d") 3 }}', "3"),
        ("{{ upper (upper (upper .Name)) }}", "PACKER-VM"),
        ("{{ half 3.0 }} {{ half 3 }}", "1.5 1.5"),  # constants adapt to the parameter type
        ("{{ flag true }}{{ flag .No }}", "onoff"),
        ("{{ anything }}{{ anything 1 nil . }}", "03"),
        ('{{ "a" | }}', "a"),  # Go accepts a trailing pipe
        ("{{ upper listing | len }}", None),
    ],
)
def test_calls_and_pipelines(text: str, want: str | None) -> None:
    if want is None:
        with pytest.raises(TemplateError):
            r(text)
    else:
        assert r(text) == want


def test_functions_given_override_go_builtins() -> None:
    assert r("{{ len 1 }}", len=lambda x: "mine") == "mine"


@pytest.mark.parametrize(
    ("text", "problem", "col"),
    [
        ("{{ join }}", "wrong number of args for join: want at least 1 got 0", 4),
        ('{{ repeat "a" }}', "wrong number of args for repeat: want 2 got 1", 4),
        ('{{ repeat "a" 1 2 }}', "wrong number of args for repeat: want 2 got 3", 4),
        ('{{ 2 | repeat "a" 1 }}', "wrong number of args for repeat: want 2 got 3", 8),
        ('{{ repeat "a" "1" }}', 'expected integer; found "1"', 15),
        ("{{ repeat 1 1 }}", "expected string; found 1", 11),
        ("{{ repeat .Name 1.5 }}", "expected integer; found 1.5", 17),
        ('{{ half "x" }}', 'expected float; found "x"', 9),
        ("{{ flag 1 }}", "expected bool; found 1", 9),
        ("{{ repeat .HTTPPort 1 }}", "wrong type for value; expected string; got int (8080)", 11),
        (
            '{{ repeat "a" .Name }}',
            "wrong type for value; expected int; got string (packer-vm)",
            15,
        ),
        ('{{ "a" | repeat "b" }}', "wrong type for value; expected int; got string (a)", 10),
        ("{{ upper .Nil }}", "invalid value; expected string", 10),
        ("{{ upper nil }}", "cannot assign nil to string", 10),
        ("{{ half .HTTPPort }}", "wrong type for value; expected float64; got int (8080)", 9),
        ("{{ upper .List }}", "wrong type for value; expected string; got []interface {}", 10),
    ],
)
def test_argument_errors(text: str, problem: str, col: int) -> None:
    err = fail(text)
    assert err.problem.startswith(problem)
    assert (err.line, err.col) == (1, col)


def test_unknown_function_suggests_the_closest_name() -> None:
    err = fail('{{ uper "x" }}')
    assert err.problem == 'function "uper" not defined — did you mean "upper"?'
    assert (err.line, err.col) == (1, 4)


def test_unknown_function_is_reported_even_in_a_branch_not_taken() -> None:
    # Go checks function names when it parses, before anything runs.
    err = fail("{{ if false }}{{ nosuchfunc }}{{ end }}")
    assert err.problem == 'function "nosuchfunc" not defined'
    assert err.col == 18


def test_unknown_function_without_a_close_match() -> None:
    assert fail("{{ zzzzzz }}").problem == 'function "zzzzzz" not defined'


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{{ (print 1) 2 }}", "can't give argument to non-function (print 1)"),
        ("{{ $x := 3 }}{{ $x 4 }}", "can't give argument to non-function $x"),
        ("{{ true 4 }}", "can't give argument to non-function true"),
        ('{{ 1 | "b" }}', "non executable command in pipeline stage 2"),
        ("{{ print | 1 }}", "non executable command in pipeline stage 2"),
    ],
)
def test_non_function_errors(text: str, problem: str) -> None:
    assert fail(text).problem.startswith(problem)


def test_errors_raised_by_functions_name_the_function() -> None:
    def boom(s: str) -> str:
        raise ValueError(f"cannot use {s}")

    def refuse() -> str:
        raise KilnError("not today")

    with pytest.raises(TemplateError) as info:
        r('x{{ boom "it" }}', boom=boom)
    assert info.value.problem == "error calling boom: cannot use it"
    assert info.value.col == 5
    with pytest.raises(TemplateError) as info:
        r("{{ refuse }}", refuse=refuse)
    assert str(info.value) == "template: key:1:4: error calling refuse: not today"


def test_template_errors_raised_by_functions_keep_their_class_and_get_a_position() -> None:
    class UndefinedError(TemplateError):
        pass

    def missing() -> str:
        raise UndefinedError("no such thing")

    with pytest.raises(UndefinedError) as info:
        r("ab\n  {{ missing }}", missing=missing)
    assert str(info.value) == "template: key:2:6: no such thing"
    assert (info.value.where, info.value.line, info.value.col) == ("key", 2, 6)


# ------------------------------------------------------------------ control structures


@pytest.mark.parametrize(
    ("value", "truthy"),
    [
        (True, True),
        (False, False),
        (0, False),
        (1, True),
        (-1, True),
        (0.0, False),
        (0.5, True),
        ("", False),
        ("0", True),
        ("false", True),
        ([], False),
        ([0], True),
        ({}, False),
        ({"a": 1}, True),
        (None, False),
        ((), False),
    ],
)
def test_truth_follows_go(value: object, truthy: bool) -> None:
    assert r("{{ if .V }}T{{ else }}F{{ end }}", {"V": value}) == ("T" if truthy else "F")
    assert r("{{ not .V }}", {"V": value}) == ("false" if truthy else "true")


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("{{ if .Yes }}y{{ end }}", "y"),
        ("{{ if .No }}y{{ end }}", ""),
        ("{{ if .No }}a{{ else }}b{{ end }}", "b"),
        ("{{ if 0 }}a{{ else if 1 }}b{{ else }}c{{ end }}", "b"),
        ("{{ if 0 }}a{{ else if 0 }}b{{ else }}c{{ end }}", "c"),
        ("{{ if 0 }}a{{ else if 0 }}b{{ else if 1 }}c{{ end }}", "c"),
        ("{{ if .Yes }}{{ if .No }}a{{ else }}b{{ end }}{{ end }}", "b"),
        ("{{ if and .Yes .Name }}both{{ end }}", "both"),
        ('{{ if eq .Name "packer-vm" }}same{{ end }}', "same"),
        ("{{ with .Name }}[{{ . }}]{{ end }}", "[packer-vm]"),
        ("{{ with .Empty }}x{{ else }}empty{{ end }}", "empty"),
        ("{{ with .Empty }}x{{ else }}{{ .Name }}{{ end }}", "packer-vm"),
        ("{{ with $x := .Name }}{{ $x }}{{ end }}", "packer-vm"),
        ("{{ range .List }}<{{ . }}>{{ end }}", "<a><b><c>"),
        ("{{ range $i, $e := .List }}{{ $i }}={{ $e }};{{ end }}", "0=a;1=b;2=c;"),
        ("{{ range $e := .List }}{{ $e }}{{ end }}", "abc"),
        ("{{ range .Map }}{{ . }}{{ end }}", "12"),
        ("{{ range $k, $v := .Map }}{{ $k }}{{ $v }}{{ end }}", "a1b2"),
        ("{{ range .NoItems }}x{{ else }}none{{ end }}", "none"),
        ("{{ range .NoMap }}x{{ else }}none{{ end }}", "none"),
        ("{{ range .Nil }}x{{ else }}none{{ end }}", "none"),
        ('{{ range .List }}{{ if eq . "b" }}{{ break }}{{ end }}{{ . }}{{ end }}', "a"),
        ('{{ range .List }}{{ if eq . "b" }}{{ continue }}{{ end }}{{ . }}{{ end }}', "ac"),
        ('{{ range .List }}{{ range .  | len | slice "xyz" 0 | print }}{{ end }}{{ end }}', None),
        ("{{ range .Nested }}{{ . }};{{ end }}", "map[Deep:found];w;"),
        ("{{ range $i, $_ := .Nums }}{{ $i }}{{ end }}", "012"),
    ],
)
def test_control_structures(text: str, want: str | None) -> None:
    if want is None:
        with pytest.raises(TemplateError):
            r(text)
    else:
        assert r(text) == want


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{{ range .Name }}x{{ end }}", "range can't iterate over packer-vm"),
        ("{{ range 5 }}x{{ end }}", "range can't iterate over 5"),
    ],
)
def test_range_errors(text: str, problem: str) -> None:
    assert fail(text).problem == problem


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("{{ $x := 5 }}{{ $x }}", "5"),
        ("{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }}", "2"),
        ("{{ $x := 1 }}{{ if true }}{{ $x := 2 }}{{ $x }}{{ end }}{{ $x }}", "21"),
        ("{{ $ }}", "map[A:1 L:[p q]]"),
        ("{{ $.A }}", "1"),
        ("{{ $x := .A }}{{ with 7 }}{{ $x }}{{ . }}{{ end }}", "17"),
        ("{{ if $y := 1 }}{{ $y }}{{ else }}{{ $y }}{{ end }}", "1"),
        ("{{ range $i, $e := .L }}{{ $i }}{{ end }}{{ $x := 9 }}{{ $x }}", "019"),
        ("{{ $x := 0 }}{{ range $x = .L }}{{ end }}{{ $x }}", "q"),
        ("{{ $i := 0 }}{{ $e := 0 }}{{ range $i, $e = .L }}{{ end }}{{ $i }}{{ $e }}", "1q"),
    ],
)
def test_variables(text: str, want: str) -> None:
    assert r(text, {"A": 1, "L": ["p", "q"]}) == want


def test_variables_do_not_leak_out_of_their_block() -> None:
    err = fail("{{ if $y := 1 }}{{ $y }}{{ end }}{{ $y }}")
    assert err.problem == 'undefined variable "$y"'
    assert err.col == 37


# ------------------------------------------------------------------ Go builtins


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("{{ and 1 0 2 }}", "0"),
        ("{{ and 1 2 }}", "2"),
        ('{{ or 0 "" "x" }}', "x"),
        ('{{ or 0 "" }}', ""),
        ("{{ and 1 }}", "1"),
        ("{{ 0 | and 1 }}", "0"),
        ("{{ 5 | or 0 }}", "5"),
        ("{{ and 0 (index 1 2) }}", "0"),  # short-circuit: the error is never reached
        ("{{ or 1 (index 1 2) }}", "1"),
        ('{{ not 0 }}{{ not "a" }}', "truefalse"),
        ('{{ len "é" }} {{ len .List }} {{ len .Map }} {{ len "" }}', "2 3 2 0"),
        ('{{ index .List 1 }} {{ index .Map "b" }} {{ index "abc" 1 }}', "b 2 98"),
        ('{{ index .Nested "Inner" "Deep" }}', "found"),
        ("{{ index .List }}", "[a b c]"),
        ('{{ slice "abcdef" 1 3 }}|{{ slice "abc" 1 }}|{{ slice "abc" }}', "bc|bc|abc"),
        ("{{ slice .List 1 }}|{{ slice .List 0 2 3 }}", "[b c]|[a b]"),
        ('{{ print 1 2 "a" "b" 3 }}', "1 2ab3"),
        ('{{ print 1.0 1 "x" 2.5 true false }}', "1 1x2.5 true false"),
        ("{{ print }}", ""),
        ('{{ println 1 "a" }}x', "1 a\nx"),
        ("{{ println }}", "\n"),
        ('{{ urlquery "a b&c=d/é~_.-" }}', "a+b%26c%3Dd%2F%C3%A9~_.-"),
        ('{{ urlquery 1 2 "x" }}', "1+2x"),
        ("{{ .Name | urlquery }}", "packer-vm"),
        ('{{ html "a\'b\\"c<>&\\x00" }}', "a&#39;b&#34;c&lt;&gt;&amp;\ufffd"),
        ('{{ html "a" 1 2 }}', "a1 2"),
        (
            '{{ js "a\'b\\"c<>&=\\\\ é\\u0001\\u2028" }}',
            "a\\'b\\\"c\\u003C\\u003E\\u0026\\u003D\\\\ é\\u0001\\u2028",
        ),
        ('{{ js 1 "a" }}', "1a"),
    ],
)
def test_builtins(text: str, want: str) -> None:
    assert r(text) == want


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("{{ eq 1 1 }}{{ eq 1 2 }}", "truefalse"),
        ("{{ eq 1 2 1 }}{{ eq 1 2 3 }}", "truefalse"),
        ('{{ eq "a" "a" }}{{ eq .Name "packer-vm" }}', "truetrue"),
        ("{{ eq true true }}{{ eq 1.5 1.5 }}", "truetrue"),
        ("{{ eq .Nil .Nil }}{{ eq .Nil 1 }}{{ eq 1 .Nil }}", "truefalsefalse"),
        ('{{ ne 1 2 }}{{ ne "a" "a" }}', "truefalse"),
        ('{{ lt 1 2 }}{{ lt 2 1 }}{{ lt 1.5 2.5 }}{{ lt "a" "b" }}', "truefalsetruetrue"),
        ("{{ le 2 2 }}{{ le 3 2 }}", "truefalse"),
        ('{{ gt "b" "a" }}{{ gt 1 1 }}', "truefalse"),
        ("{{ ge 1 2 }}{{ ge 2 2 }}", "falsetrue"),
    ],
)
def test_comparisons(text: str, want: str) -> None:
    assert r(text) == want


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{{ eq 1 1.0 }}", "error calling eq: incompatible types for comparison: int and float64"),
        ('{{ eq "a" 1 }}', "error calling eq: incompatible types for comparison: string and int"),
        ("{{ eq 1 }}", "error calling eq: missing argument for comparison"),
        ("{{ eq .List .List }}", "error calling eq: non-comparable type []interface {}"),
        ("{{ lt true false }}", "error calling lt: invalid type for comparison: bool"),
        ('{{ lt 1 "a" }}', "error calling lt: incompatible types for comparison: int and string"),
        ("{{ ge .Nil 1 }}", "error calling ge: invalid type for comparison: <nil>"),
        ("{{ len 3 }}", "error calling len: len of type int"),
        ("{{ len .Nil }}", "error calling len: len of nil pointer"),
        ("{{ index 1 2 }}", "error calling index: can't index item of type int"),
        ('{{ index "abc" 5 }}', "error calling index: index out of range: 5"),
        ("{{ index .List -1 }}", "error calling index: index out of range: -1"),
        ('{{ index .List "a" }}', "error calling index: cannot index slice/array with type string"),
        ("{{ index .Map 1 }}", "error calling index: value has type int; should be string"),
        ("{{ index .Nil 1 }}", "error calling index: index of untyped nil"),
        ('{{ slice "abc" 2 1 }}', "error calling slice: invalid slice index: 2 > 1"),
        ('{{ slice "abc" 1 2 3 }}', "error calling slice: cannot 3-index slice a string"),
        ("{{ slice .List 0 1 2 3 }}", "error calling slice: too many slice indexes: 4"),
        ("{{ slice .List 4 }}", "error calling slice: index out of range: 4"),
        ("{{ slice 5 1 }}", "error calling slice: can't slice item of type int"),
        ("{{ slice .Nil }}", "error calling slice: slice of untyped nil"),
        ("{{ not }}", "wrong number of args for not: want 1 got 0"),
        ("{{ len }}", "wrong number of args for len: want 1 got 0"),
        ("{{ and }}", "wrong number of args for and: want at least 1 got 0"),
        ("{{ ne 1 }}", "wrong number of args for ne: want 2 got 1"),
        ("{{ printf 5 }}", "expected string; found 5"),
    ],
)
def test_builtin_errors(text: str, problem: str) -> None:
    err = fail(text)
    assert err.problem == problem
    assert err.line == 1


@pytest.mark.parametrize(
    ("fmt", "args", "want"),
    [
        ('"%s|%d|%v|%t"', '"a" 5 1.5 true', "a|5|1.5|true"),
        ('"%q"', '"a\\"b\\n"', '"a\\"b\\n"'),
        ('"%q"', "97", "'a'"),
        ('"%#q"', '"abc"', "`abc`"),
        ('"%+q"', '"é"', '"\\u00e9"'),
        ('"%5.1q"', '"abc"', '  "a"'),
        (
            '"%x|%X|%x|%o|%b|%c|%U|%#U"',
            '255 "hi" -255 8 5 65 233 233',
            "ff|6869|-ff|10|101|A|U+00E9|U+00E9 'é'",
        ),
        (
            '"%#x|%#o|%#08x|% x|%.3x"',
            '255 8 255 "abc" "abcdef"',
            "0xff|010|0x000000ff|61 62 63|616263",
        ),
        ('"%05s|%-5d|%+d|%08d|% d|% d"', '"ab" 3 4 -42 5 -5', "000ab|3    |+4|-0000042| 5|-5"),
        ('"%.0d|%5.0d|%.3d"', "0 0 7", "|     |007"),
        (
            '"%.2f|%8.3f|%e|%g|%G"',
            "3.14159 2.5 123456.789 0.000012 1e100",
            "3.14|   2.500|1.234568e+05|1.2e-05|1E+100",
        ),
        (
            '"%e %E %.0e %.0f %.1f %f"',
            "0.0 1.5 15.0 2.5 0.25 1e20",
            "0.000000e+00 1.500000E+00 2e+01 2 0.2 100000000000000000000.000000",
        ),
        (
            '"%g %g %g %G %.3g %.10g %g"',
            "100000.0 1000000.0 0.0001 0.00001 1.0 0.1 -0.0",
            "100000 1e+06 0.0001 1E-05 1 0.1 -0",
        ),
        (
            '"%6.2f|%-8.3f|%+f|% f|%08.2f|%6.2v"',
            "3.14159 2.0 1.0 1.0 -1.5 3.14159",
            "  3.14|2.000   |+1.000000| 1.000000|-0001.50|   3.1",
        ),
        ('"%x|%x|%x|%b"', "1.5 0.0 -2.0 1.5", "0x1.8p+00|0x0p+00|-0x1p+01|6755399441055744p-52"),
        # zero and subnormals: Go's unnormalised mantissa over 2**-1074
        ('"%b|%b|%b"', "0.0 5e-324 -0.0", "0p-1074|1p-1074|-0p-1074"),
        ('"%v %v %v"', "1.0 1e21 1234567.0", "1 1e+21 1.234567e+06"),
        ('"%5t|%-7v|%T|%T|%T"', 'true nil 1 "s" 1.5', " true|<nil>  |int|string|float64"),
        ('"%#v|%+v|%.3s|%.1q"', '"a" 1 "héllo" "héllo"', '"a"|1|hél|"h"'),
        ('"%v|%s|%d"', ".List .List .Nums", "[a b c]|[a b c]|[3 1 2]"),
        # Go applies the verb to keys and values alike.
        ('"%v|%d"', ".Map .Map", "map[a:1 b:2]|map[%!d(string=a):1 %!d(string=b):2]"),
        ('"%3c|%q"', '65 "é\\x01"', '  A|"é\\x01"'),
        ('"%*d|%-*d|%.*f"', "5 3 4 7 2 3.14159", "    3|7   |3.14"),
        ('"%[2]d %[1]d"', "1 2", "2 1"),
        ('"%%%d%%|%5%"', "5", "%5%|%"),
    ],
)
def test_printf(fmt: str, args: str, want: str) -> None:
    assert r(f"{{{{ printf {fmt} {args} }}}}") == want


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ('{{ printf "%d %s" 1 }}', "1 %!s(MISSING)"),
        ('{{ printf "%s" }}', "%!s(MISSING)"),
        ('{{ printf "%d" "x" }}', "%!d(string=x)"),
        ('{{ printf "%d %d" true 1.5 }}', "%!d(bool=true) %!d(float64=1.5)"),
        ("{{ printf \"%s %v\" 'a' 'a' }}", "%!s(int=97) 97"),
        ('{{ printf "%s" 1 2 }}', "%!s(int=1)%!(EXTRA int=2)"),
        ('{{ printf "%t %t" true 1 }}', "true %!t(int=1)"),
        ('{{ printf "%z" 1 }}', "%!z(int=1)"),
        ('{{ printf "%s" nil }}', "%!s(<nil>)"),
        ('{{ printf "abc%" }}', "abc%!(NOVERB)"),
        ('{{ printf "%!" 1 }}', "%!!(int=1)"),
        ('{{ printf "%[3]d %d" 1 2 }}', "%!d(BADINDEX) 1"),
        ('{{ printf "%[0]d" 1 }}', "%!d(BADINDEX)"),
        ('{{ printf "%*d" "x" 7 }}', "%!(BADWIDTH)7"),
        ('{{ printf "%.*d" -1 7 }}', "%!(BADPREC)7"),
        ('{{ printf "%9999999999d" 1 }}', "%!(NOVERB)%!(EXTRA int=1)"),
        ('{{ printf "%.9999999f" 1.5 }}', "%!(NOVERB)%!(EXTRA float64=1.5)"),
        ('{{ printf "%d" .Nil }}', "%!d(<nil>)"),
    ],
)
def test_printf_mismatches_are_marked_as_go_marks_them(text: str, want: str) -> None:
    assert r(text) == want


# ------------------------------------------------------------------ syntax errors


@pytest.mark.parametrize(
    ("text", "problem", "line", "col"),
    [
        ("{{ }}", "missing value for command", 1, 4),
        ("{{}}", "missing value for command", 1, 3),
        ("{{ user", "unclosed action", 1, 1),
        ("a\nb {{ .X", "unclosed action", 2, 3),
        ("{{ user } }}", 'unexpected "}" in operand', 1, 9),
        ("{{ 1) }}", 'unexpected ")" in command', 1, 5),
        ("{{ (1 }}", "unclosed left paren", 1, 7),
        ("{{ ( ) }}", "missing value for parenthesized pipeline", 1, 6),
        ("{{ 1.2.3 }}", 'unexpected ".3" in operand', 1, 7),
        ('{{ "a".Foo }}', 'unexpected . after term "\\"a\\""', 1, 7),
        ("{{ x@y }}", "bad character U+0040 '@'", 1, 5),
        ("{{ .X! }}", "bad character U+0021 '!'", 1, 6),
        ("{{ a : b }}", "expected :=", 1, 6),
        ("{{ \x01 }}", "unrecognized character in action: U+0001", 1, 4),
        ("{{ print 1, 2 }}", 'unexpected "," in operand', 1, 11),
        ("{{ print 1 else }}", "unexpected <else> in operand", 1, 12),
        ("{{ end }}", "unexpected {{end}}", 1, 4),
        ("{{ else }}", "unexpected {{else}}", 1, 4),
        ("{{ end 1 }}", 'unexpected "1" in end', 1, 8),
        ("{{ if 1 }}x", "unexpected EOF: {{if}} has no matching {{end}}", 1, 4),
        ("{{ range .L }}x{{ else }}", "unexpected EOF: {{range}} has no matching {{end}}", 1, 4),
        ("{{ if }}x{{ end }}", "missing value for if", 1, 7),
        ("{{ with }}x{{ end }}", "missing value for with", 1, 9),
        ("{{ if 1 }}{{ else with 2 }}{{ end }}", "unexpected <with> in else", 1, 19),
        ("{{ with 1 }}{{ else if 2 }}{{ end }}", "{{else if}} is only allowed in {{if}}", 1, 16),
        ("{{ range 1 }}{{ else }}{{ else }}{{ end }}", "expected end; found {{else}}", 1, 27),
        ("{{ break }}", "{{break}} outside {{range}}", 1, 4),
        ("{{ continue }}", "{{continue}} outside {{range}}", 1, 4),
        ("{{ range .L }}{{ break 1 }}{{ end }}", 'unexpected "1" in {{break}}', 1, 24),
        ('{{ define "x" }}{{ end }}', "{{define}} is not supported by kiln", 1, 4),
        ('{{ template "x" }}', "{{template}} is not supported by kiln", 1, 4),
        ('{{ block "x" . }}{{ end }}', "{{block}} is not supported by kiln", 1, 4),
        ("{{ $y }}", 'undefined variable "$y"', 1, 4),
        ("{{ $x = 1 }}", 'undefined variable "$x"', 1, 4),
        ("{{ $a, $b := 1 }}", "too many declarations in command", 1, 6),
        ("{{ range $a, 1 }}{{ end }}", "range can only initialize variables", 1, 12),
        ("{{/* c */ }}", "comment ends before closing delimiter", 1, 1),
        ("{{/* c ", "unclosed comment", 1, 1),
        ("x {{-/* c */}}", 'illegal number syntax: "-"', 1, 5),
        ("{{ | print }}", 'unexpected "|" in command', 1, 4),
        ("{{ print (print (1) }}", "unclosed left paren", 1, 21),
    ],
)
def test_syntax_errors(text: str, problem: str, line: int, col: int) -> None:
    with pytest.raises(TemplateError) as info:
        parse(text, where="builders[0].boot_command[1]")
    err = info.value
    assert err.problem.startswith(problem), err.problem
    assert (err.where, err.line, err.col) == ("builders[0].boot_command[1]", line, col)
    assert str(err).startswith(f"template: builders[0].boot_command[1]:{line}:{col}: ")


def test_lexer_errors_come_in_source_order() -> None:
    # The first problem met while reading is the one reported, as in Go.
    assert fail('{{ 1) }}{{ "x').problem == 'unexpected ")" in command'


def test_render_names_the_key_even_for_cached_templates() -> None:
    text = "{{ .Missing }}"
    with pytest.raises(TemplateError) as first:
        render(text, {}, {}, where="a")
    with pytest.raises(TemplateError) as second:
        render(text, {}, {}, where="b")
    assert str(first.value).startswith("template: a:1:4: ")
    assert str(second.value).startswith("template: b:1:4: ")


def test_error_without_key_still_shows_the_position() -> None:
    with pytest.raises(TemplateError) as info:
        render("{{ zzzz }}", {}, {})
    assert str(info.value) == 'template: :1:4: function "zzzz" not defined'


def test_positions_count_lines_and_characters() -> None:
    err = fail("line one\nélan {{ .A }}\n  {{ .Nope }}", {"A": 1})
    assert (err.line, err.col) == (3, 6)


# ------------------------------------------------------------------ introspection


def test_fields_and_functions_are_listed() -> None:
    tmpl = parse(
        '{{ .HTTPIP }}:{{ .HTTPPort | printf "%d" }} {{ user `x` }} '
        "{{ if .Cond.Deep }}{{ build_name }}{{ end }}{{ $.Other }}{{ (index .M 1).F }}"
    )
    # F is read from a function result, not from the data: not listed.
    assert tmpl.fields() == {"HTTPIP", "HTTPPort", "Cond", "Other", "M"}
    assert tmpl.functions() == {"printf", "user", "build_name", "index"}


def test_fields_and_functions_of_plain_text_are_empty() -> None:
    tmpl = parse("nothing")
    assert tmpl.fields() == set()
    assert tmpl.functions() == set()
    assert tmpl.render({}, {}) == "nothing"


# ------------------------------------------------------------------ limits


def test_nesting_up_to_the_limit_works() -> None:
    depth = MAX_DEPTH - 1
    text = "{{ " + "(print " * depth + "1" + ")" * depth + " }}"
    assert r(text) == "1"
    blocks = "{{ if 1 }}" * depth + "x" + "{{ end }}" * depth
    assert r(blocks) == "x"


def test_nesting_beyond_the_limit_is_an_error_not_a_crash() -> None:
    depth = MAX_DEPTH + 1
    err = fail("{{ " + "(" * depth + "1" + ")" * depth + " }}")
    assert "nests too deeply" in err.problem
    err = fail("{{ with 1 }}" * depth + "{{ end }}" * depth)
    assert "nests too deeply" in err.problem


def test_absurdly_nested_data_is_an_error_not_a_crash() -> None:
    deep: list[object] = []
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(TemplateError) as info:
        render("{{ .Deep }}", {"Deep": deep}, {}, where="k")
    assert str(info.value) == "template: k: a value nests too deeply to evaluate or print"


def test_long_inputs_need_no_recursion() -> None:
    many_actions = "{{ .A }}," * 20_000
    assert r(many_actions, {"A": 1}) == "1," * 20_000
    long_pipe = "{{ 1" + " | print" * 5_000 + " }}"
    assert r(long_pipe) == "1"
    long_chain = "{{ if 0 }}" + "{{ else if 0 }}" * 3_000 + "{{ else }}last{{ end }}"
    assert r(long_chain) == "last"
    long_text = "x" * 1_000_000 + "{{ 1 }}"
    assert r(long_text) == "x" * 1_000_000 + "1"
