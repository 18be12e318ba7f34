"""Packer's template functions and Go time layouts (isotime, strftime).

Layout outputs were checked against Packer 1.6.6's `isotime` with the same instant.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import FrozenInstanceError
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from kiln.errors import TemplateError
from kiln.template.engine import render
from kiln.template.functions import (
    FuncContext,
    clean_resource_name,
    go_lower,
    go_upper,
    packer_functions,
)
from kiln.template.gotime import RFC3339, format_go, strftime

INIT = datetime(2023, 3, 7, 8, 5, 9, 12345, tzinfo=UTC)  # a Tuesday, day 66 of the year
EVENING = datetime(2009, 11, 10, 23, 4, 5, 678900, tzinfo=UTC)  # day 314
MIDNIGHT = datetime(2021, 1, 5, 0, 7, 3, tzinfo=UTC)  # day 5, 12 AM


def make_ctx(**changes: object) -> FuncContext:
    fields: dict[str, object] = {
        "template_dir": "/srv/templates",
        "user_variables": {"disk_size": "4096", "iso_url": "http://x/y.iso", "empty": ""},
        "env_allowed": False,
        "init_time": INIT,
    }
    fields.update(changes)
    return FuncContext(**fields)  # type: ignore[arg-type]


def r(text: str, **changes: object) -> str:
    return render(text, {}, packer_functions(make_ctx(**changes)), where="builders[0].vm_name")


def fail(text: str, **changes: object) -> TemplateError:
    with pytest.raises(TemplateError) as info:
        r(text, **changes)
    assert info.value.where == "builders[0].vm_name"
    assert info.value.line >= 1
    return info.value


def test_the_function_set_is_packers() -> None:
    assert set(packer_functions(make_ctx())) == {
        "user", "env", "timestamp", "isotime", "strftime", "uuid", "pwd", "template_dir",
        "build_name", "build_type", "packer_version", "build", "split", "replace",
        "replace_all", "lower", "upper", "clean_resource_name",
        "consul_key", "vault", "aws_secretsmanager", "sed",
    }  # fmt: skip


def test_context_is_frozen_and_init_time_is_required() -> None:
    ctx = make_ctx()
    with pytest.raises(FrozenInstanceError):
        ctx.build_name = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        FuncContext("/", {}, False)  # type: ignore[call-arg]
    assert ctx.packer_version == "1.6.6"
    assert ctx.build_values is None


# ------------------------------------------------------------------ user, env


def test_user_returns_the_variable() -> None:
    assert r("{{ user `disk_size` }}M") == "4096M"
    assert r('{{ user "empty" }}') == ""
    assert r("{{ `iso_url` | user }}") == "http://x/y.iso"


def test_user_unknown_variable_renders_empty_and_is_reported() -> None:
    """Packer 1.6.6's funcGenUser returns "" for an unknown variable outside "variables"."""
    said: list[str] = []
    assert r("[{{ user `disk_sise` }}]", undefined_user=said.append) == "[]"
    (message,) = said
    assert message.startswith(
        'user variable "disk_sise" is not defined — did you mean "disk_size"?'
    )
    assert "(defined: disk_size, empty, iso_url)" in message
    assert "renders as an empty string" in message
    assert "-var 'disk_sise=...'" in message
    assert r("[{{ user `x` }}]", user_variables={}) == "[]"  # nobody to tell: still empty


def test_user_with_no_variables_at_all() -> None:
    said: list[str] = []
    r("{{ user `x` }}", user_variables={}, undefined_user=said.append)
    assert "(defined: none)" in said[0]


def test_user_unknown_variable_in_the_variables_section_is_an_error() -> None:
    err = fail("{{ user `disk_sise` }}", env_allowed=True)
    assert err.problem.startswith(
        'user variable "disk_sise" is not defined — did you mean "disk_size"?'
    )
    assert (err.line, err.col) == (1, 4)


def test_user_errors_from_a_lazy_mapping_propagate_with_position() -> None:
    class Lazy(Mapping[str, str]):
        """Resolves a variable when asked for it; here every lookup finds a cycle."""

        def __getitem__(self, key: str) -> str:
            raise TemplateError(f"variables refer to each other in a cycle: {key} → {key}")

        def __iter__(self) -> Iterator[str]:
            return iter(["a"])

        def __len__(self) -> int:
            return 1

    err = fail("ab {{ user `a` }}", user_variables=Lazy())
    assert err.problem == "variables refer to each other in a cycle: a → a"
    assert err.col == 7


def test_env_works_in_the_variables_section(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KILN_TEST_VALUE", "from-env")
    monkeypatch.delenv("KILN_TEST_UNSET", raising=False)
    assert r("{{ env `KILN_TEST_VALUE` }}", env_allowed=True) == "from-env"
    assert r("[{{ env `KILN_TEST_UNSET` }}]", env_allowed=True) == "[]"


def test_env_outside_the_variables_section_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", "/root")
    err = fail("{{ env `HOME` }}")
    assert err.problem.startswith('env can only be used in the "variables" section')
    assert "{{env `HOME`}}" in err.problem
    assert str(err).startswith("template: builders[0].vm_name:1:4: env can only be used")


# ------------------------------------------------------------------ time


def test_timestamp_is_unix_seconds_of_init_time() -> None:
    assert r("{{ timestamp }}") == "1678176309"
    assert r("{{ timestamp }}") == r("{{ timestamp }}")


def test_isotime_without_layout_is_rfc3339_utc() -> None:
    assert r("{{ isotime }}") == "2023-03-07T08:05:09Z"


def test_time_functions_use_utc_whatever_the_zone_of_init_time() -> None:
    local = INIT.astimezone(timezone(timedelta(hours=-5)))
    assert r("{{ isotime }}", init_time=local) == "2023-03-07T08:05:09Z"
    assert r("{{ timestamp }}", init_time=local) == "1678176309"
    naive = INIT.replace(tzinfo=None)  # taken to be UTC
    assert r('{{ isotime "15:04 MST" }}', init_time=naive) == "08:05 UTC"
    assert r("{{ timestamp }}", init_time=naive) == "1678176309"


@pytest.mark.parametrize(
    ("layout", "want"),
    [
        ("2006-01-02", "2023-03-07"),
        ("20060102150405", "20230307080509"),
        ("Jan 2 15:04:05 2006", "Mar 7 08:05:09 2023"),
        ("Monday", "Tuesday"),
        ("Mon Jan _2 15:04:05 MST 2006", "Tue Mar  7 08:05:09 UTC 2006"[:-4] + "2023"),
        ("3:04PM", "8:05AM"),
        ("2006-01-02T15:04:05.000Z07:00", "2023-03-07T08:05:09.012Z"),
        ("06.01.02-15.04.05", "23.03.07-08.05.09"),
    ],
)
def test_isotime_layouts(layout: str, want: str) -> None:
    assert r(f'{{{{ isotime "{layout}" }}}}') == want


def test_isotime_errors() -> None:
    err = fail('{{ isotime "a" "b" }}')
    assert err.problem == "isotime takes at most 1 layout, got 2: [a b]"
    assert fail("{{ isotime 5 }}").problem == "expected string; found 5"


@pytest.mark.parametrize(
    ("t", "layout", "want"),
    [
        # every std token, one at a time
        (EVENING, "January|Jan|1|01", "November|Nov|11|11"),
        (INIT, "January|Jan|1|01", "March|Mar|3|03"),
        (EVENING, "Monday|Mon", "Tuesday|Tue"),
        (INIT, "2|02|_2", "7|07| 7"),
        (EVENING, "2|02|_2", "10|10|10"),
        (MIDNIGHT, "002|__2", "005|  5"),
        (EVENING, "002|__2", "314|314"),
        (INIT, "002|__2", "066| 66"),
        (EVENING, "2006|06", "2009|09"),
        (EVENING, "15|3|03|PM|pm", "23|11|11|PM|pm"),
        (MIDNIGHT, "15|3|03|PM|pm", "00|12|12|AM|am"),
        (INIT, "4|04|5|05", "5|05|9|09"),
        (EVENING, "4|04|5|05", "4|04|5|05"),
        (EVENING, ".0|.000|.000000|.000000000", ".6|.678|.678900|.678900000"),
        (EVENING, ".9|.999|.999999|.999999999", ".6|.678|.6789|.6789"),
        (EVENING, ",000|,999", ",678|,678"),
        (MIDNIGHT, ".000|.999|x.9x", ".000||xx"),  # .9s drop zeros
        (EVENING, "05.000000000000", "05.678900000"),  # more than 9 digits: 9
        (EVENING, ".0001", ".0011"),  # zeros then a digit: not a fraction; "01" is the month
        (EVENING, "MST|Z07:00|Z0700|Z07|Z070000|Z07:00:00", "UTC|Z|Z|Z|Z|Z"),
        (EVENING, "-07:00|-0700|-07|-070000|-07:00:00", "+00:00|+0000|+00|+000000|+00:00:00"),
        # literal text and near misses
        (EVENING, "Janet Mond MSTx JanUary", "Janet Mond UTCx NovUary"),
        (EVENING, "_2006", "_2009"),
        (EVENING, "yyyy-mm-dd T 1a2b3c", "yyyy-mm-dd T 11a10b11c"),
        (EVENING, "", ""),
        (EVENING, RFC3339, "2009-11-10T23:04:05Z"),
        (MIDNIGHT, "Mon Jan 2 15:04:05 -0700 MST 2006", "Tue Jan 5 00:07:03 +0000 UTC 2021"),
    ],
)
def test_go_layout_tokens(t: datetime, layout: str, want: str) -> None:
    assert format_go(t, layout) == want


@pytest.mark.parametrize(
    ("tz", "layout", "want"),
    [
        (
            timezone(timedelta(hours=-7)),
            "-0700|-07:00|-07|Z07:00|Z0700|Z07|MST",
            "-0700|-07:00|-07|-07:00|-0700|-07|-0700",
        ),
        (timezone(timedelta(hours=5, minutes=30)), "-0700|Z07:00|MST", "+0530|+05:30|+0530"),
        (
            timezone(timedelta(hours=1, seconds=15)),
            "-070000|-07:00:00|Z070000",
            "+010015|+01:00:15|+010015",
        ),
        (ZoneInfo("America/New_York"), "15:04 MST -0700", "18:04 EST -0500"),
        (ZoneInfo("Europe/Paris"), "15:04 MST Z07:00", "00:04 CET +01:00"),
    ],
)
def test_go_layout_zones(tz: timezone | ZoneInfo, layout: str, want: str) -> None:
    assert format_go(EVENING.astimezone(tz), layout) == want


@pytest.mark.parametrize(
    ("fmt", "want"),
    [
        ("%Y-%m-%d %H:%M:%S", "2009-11-10 23:04:05"),
        ("%a %A %b %B", "Tue Tuesday Nov November"),
        ("%I %p %y", "11 PM 09"),
        ("%Z %z %L", "UTC +0000 .678"),
        ("100%% %j %q", "100% %j %q"),  # unknown conversions are kept
        ("trailing %", "trailing %"),
        ("%", "%"),
        ("%%%Y", "%2009"),
        ("no conversions", "no conversions"),
    ],
)
def test_strftime_formats(fmt: str, want: str) -> None:
    assert strftime(fmt, EVENING) == want


def test_strftime_function_uses_init_time() -> None:
    assert r('{{ strftime "%Y%m%d-%H%M" }}') == "20230307-0805"


# ------------------------------------------------------------------ uuid, pwd, dirs, build info


def test_uuid_is_packers_time_ordered_uuid_and_new_each_call() -> None:
    before = int(time.time())
    first, second = r("{{ uuid }} {{ uuid }}").split()
    after = int(time.time())
    pattern = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
    assert pattern.fullmatch(first) and pattern.fullmatch(second)
    assert first != second
    assert before <= int(first[:8], 16) <= after


def test_pwd_is_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert r("{{ pwd }}") == os.getcwd() == str(tmp_path)


def test_template_dir() -> None:
    assert r("{{ template_dir }}/http") == "/srv/templates/http"
    err = fail("{{ template_dir }}", template_dir="")
    assert err.problem == "template_dir is not available: the template was not read from a file"


def test_build_name_type_and_version() -> None:
    assert (
        r("{{ build_name }}/{{ build_type }}", build_name="debian", build_type="qemu")
        == "debian/qemu"
    )
    assert r("{{ packer_version }}") == "1.6.6"
    assert r("{{ packer_version }}", packer_version="1.7.0") == "1.7.0"
    assert fail("{{ build_name }}").problem.startswith(
        "build_name is only available inside a build"
    )
    assert fail("{{ build_type }}").problem.startswith(
        "build_type is only available inside a build"
    )


def test_build_values() -> None:
    values = {"Host": "127.0.0.1", "Port": "2222", "User": "root"}
    assert r('{{ build "Host" }}:{{ build `Port` }}', build_values=values) == "127.0.0.1:2222"
    err = fail('{{ build "Hots" }}', build_values=values)
    assert err.problem == (
        'build variable "Hots" is not available — did you mean "Host"? '
        "(available: Host, Port, User)"
    )
    err = fail('{{ build "Host" }}')
    assert err.problem.startswith("build can only be used in provisioners and post-processors")


# ------------------------------------------------------------------ strings


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ('{{ split "a-b-c" "-" 0 }}', "a"),
        ('{{ split "a-b-c" "-" 2 }}', "c"),
        ('{{ split "a--b" "-" 1 }}', ""),
        ('{{ split "abc" "" 1 }}', "b"),
        ('{{ split "no-sep" "," 0 }}', "no-sep"),
        ('{{ split "é-ü" "-" 1 }}', "ü"),
        ('{{ replace "a" "b" 1 "aaa" }}', "baa"),
        ('{{ replace "a" "b" 2 "aaa" }}', "bba"),
        ('{{ replace "a" "b" -1 "aaa" }}', "bbb"),
        ('{{ replace "a" "b" -5 "aaa" }}', "bbb"),
        ('{{ replace "a" "b" 0 "aaa" }}', "aaa"),
        ('{{ replace "a" "b" 9223372036854775807 "aaa" }}', "bbb"),
        ('{{ replace "" "-" -1 "abc" }}', "-a-b-c-"),
        ('{{ replace "" "-" 2 "abc" }}', "-a-bc"),
        ('{{ "aaa" | replace "a" "b" 1 }}', "baa"),
        ('{{ replace_all "a" "b" "aaa" }}', "bbb"),
        ('{{ replace_all "-" "" "a-b-c" }}', "abc"),
        ('{{ "x.y.z" | replace_all "." "/" }}', "x/y/z"),
        ('{{ lower "ÀBC İ" }}', "àbc i"),
        ('{{ upper "àbc ß ǆ" }}', "ÀBC ß Ǆ"),
        ('{{ "MiXeD" | lower }}', "mixed"),
        ('{{ clean_resource_name "Ab C" }}', "ab-c"),
        ('{{ isotime "2006-01-02 15:04" | clean_resource_name }}', "2023-03-07-08-05"),
    ],
)
def test_string_functions(text: str, want: str) -> None:
    assert r(text) == want


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            '{{ split "a-b-c" "-" 5 }}',
            'split: part 5 of "a-b-c" split on "-" does not exist: there are 3 parts, '
            "numbered from 0",
        ),
        ('{{ split "a-b" "-" -1 }}', 'split: part -1 of "a-b" split on "-" does not exist'),
        ('{{ split "a-b-c" "-" }}', "wrong number of args for split: want 3 got 2"),
        ('{{ split "a-b-c" "-" "1" }}', 'expected integer; found "1"'),
        ('{{ replace "a" "b" "aaa" }}', "wrong number of args for replace: want 4 got 3"),
        ('{{ replace "a" "b" "1" "aaa" }}', 'expected integer; found "1"'),
        ('{{ replace_all "a" "b" }}', "wrong number of args for replace_all: want 3 got 2"),
        ("{{ upper 5 }}", "expected string; found 5"),
        ('{{ lower "a" "b" }}', "wrong number of args for lower: want 1 got 2"),
        ("{{ user }}", "wrong number of args for user: want 1 got 0"),
        ("{{ timestamp 1 }}", "wrong number of args for timestamp: want 0 got 1"),
    ],
)
def test_string_function_errors(text: str, problem: str) -> None:
    assert fail(text).problem.startswith(problem)


@pytest.mark.parametrize(
    ("name", "want"),
    [
        ("packer-image", "packer-image"),  # already valid: unchanged
        ("Packer Image 1.2", "packer-image-1-2"),
        ("a_b.c:d", "a-b-c-d"),
        ("ABC", "abc"),
        ("-abc", "-abc"),
        ("héllo", "h--llo"),  # Go replaces each byte of a non-ASCII character
        ("", ""),
        ("2023-03-07T08:05:09Z", "2023-03-07t08-05-09z"),
    ],
)
def test_clean_resource_name(name: str, want: str) -> None:
    assert clean_resource_name(name) == want


def test_case_mapping_is_one_character_to_one() -> None:
    assert go_upper("ß ﬀ ᾳ") == "ß ﬀ ᾼ"
    assert go_lower("İ ǅ Σ") == "i ǆ σ"


# ------------------------------------------------------------------ unsupported


@pytest.mark.parametrize(
    ("text", "name", "hint"),
    [
        ('{{ vault "secret/x" "key" }}', "vault", "pass it with -var-file"),
        ('{{ consul_key "a/b" }}', "consul_key", "-var"),
        ('{{ aws_secretsmanager "name" }}', "aws_secretsmanager", "-var-file"),
        ('{{ aws_secretsmanager "name" "key" }}', "aws_secretsmanager", "-var-file"),
        ('{{ sed "s/a/b/" "abc" }}', "sed", "use replace or replace_all"),
        ("{{ vault }}", "vault", "vault kv get"),
    ],
)
def test_unsupported_functions_say_so(text: str, name: str, hint: str) -> None:
    err = fail(text, env_allowed=True)
    assert err.problem.startswith(f'function "{name}" is not supported by kiln: ')
    assert hint in err.problem
    assert (err.line, err.col) == (1, 4)
