"""User variables: defaults, -var-file, -var, interpolation between variables, every error."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kiln.errors import KilnError, MultiError
from kiln.template.loader import parse_template
from kiln.template.variables import VariableInputs, parse_var_file, resolve_variables

INIT = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


def resolve(
    variables: dict[str, object],
    *,
    cli: Mapping[str, str] | None = None,
    files: tuple[Path, ...] = (),
    env: Mapping[str, str] | None = None,
    warn: list[str] | None = None,
    path: Path = Path("/work/templates/t.json"),
) -> dict[str, str]:
    text = json.dumps({"variables": variables, "builders": [{"type": "qemu"}]})
    tpl = parse_template(text, path)
    sink: list[str] = [] if warn is None else warn
    return resolve_variables(
        tpl,
        VariableInputs(var_files=files, cli_vars=cli),
        env=env or {},
        init_time=INIT,
        warn=sink.append,
    )


def problems(variables: dict[str, object], **kw: object) -> list[str]:
    with pytest.raises(MultiError) as err:
        resolve(variables, **kw)  # type: ignore[arg-type]
    return err.value.errors


def test_defaults() -> None:
    assert resolve({"a": "x", "b": "", "n": 5}) == {"a": "x", "b": "", "n": "5"}


def test_precedence_default_then_var_file_then_cli(tmp_path: Path) -> None:
    first = tmp_path / "first.json"
    first.write_text(json.dumps({"a": "file1", "b": "file1", "c": "file1"}))
    second = tmp_path / "second.json"
    second.write_text(json.dumps({"b": "file2"}))
    got = resolve(
        {"a": "default", "b": "default", "c": "default", "d": "default"},
        files=(first, second),
        cli={"c": "cli"},
    )
    assert got == {"a": "file1", "b": "file2", "c": "cli", "d": "default"}


def test_var_file_values_may_be_numbers_and_booleans(tmp_path: Path) -> None:
    path = tmp_path / "vars.json"
    path.write_text(json.dumps({"cpus": 2, "headless": True, "ratio": 1.5, "off": False}))
    assert parse_var_file(path) == {"cpus": "2", "headless": "true", "ratio": "1.5", "off": "false"}


def test_var_file_null_is_an_empty_string(tmp_path: Path) -> None:
    # kubernetes-sigs/image-builder's packer/config/cni.json holds `"kubernetes_cni_deb_version":
    # null`; Packer 1.6.6 decodes the file into a map[string]string, so null stores "" and
    # overrides the variable's default (checked with packer 1.6.6 itself).
    path = tmp_path / "vars.json"
    path.write_text('{"kubernetes_cni_deb_version": null, "b": "x"}')
    assert parse_var_file(path) == {"kubernetes_cni_deb_version": "", "b": "x"}
    got = resolve({"kubernetes_cni_deb_version": "1.2.3"}, files=(path,))
    assert got["kubernetes_cni_deb_version"] == ""


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "-var-file {path}: no such file"),
        ("{", "-var-file {path}: invalid JSON at line 1, column 2: Expecting property name "
              "enclosed in double quotes"),
        ("[]", "-var-file {path}: must contain a JSON object of variable → value"),
        ('{"a": ["x"]}', "-var-file {path}: variable 'a' must be a string, not ['x']"),
        (b"\xff", "-var-file {path}: cannot read it: "),
    ],
)  # fmt: skip
def test_var_file_errors(tmp_path: Path, content: str | bytes | None, message: str) -> None:
    path = tmp_path / "vars.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(KilnError) as err:
        parse_var_file(path)
    assert str(err.value).startswith(message.format(path=path))


def test_var_file_that_is_a_directory(tmp_path: Path) -> None:
    with pytest.raises(KilnError, match="cannot read it"):
        parse_var_file(tmp_path)


def test_an_undeclared_cli_variable_warns_and_is_set() -> None:
    warnings: list[str] = []
    assert resolve({"mirror": "x"}, cli={"miror": "y"}, warn=warnings) == {
        "mirror": "x",
        "miror": "y",
    }
    assert warnings == [
        "variable 'miror' is set with -var but not declared in the template's \"variables\" "
        '— did you mean "mirror"?'
    ]


def test_required_variables() -> None:
    assert problems({"password": None, "user": None}) == [
        "required variable not set: password (set it with -var 'password=…' or in a -var-file)",
        "required variable not set: user (set it with -var 'user=…' or in a -var-file)",
    ]
    assert resolve({"password": None}, cli={"password": "s3cret"}) == {"password": "s3cret"}


def test_variables_refer_to_each_other_in_any_order() -> None:
    got = resolve(
        {
            "url": "http://{{ user `host` }}:{{ user `port` }}/",
            "host": "{{ user `domain` }}",
            "domain": "example.com",
            "port": "8080",
        }
    )
    assert got["url"] == "http://example.com:8080/"


def test_env_is_allowed_in_variables() -> None:
    assert resolve({"home": "{{ env `HOME` }}", "none": "{{ env `UNSET` }}"},
                   env={"HOME": "/root"}) == {"home": "/root", "none": ""}  # fmt: skip


def test_functions_in_variables() -> None:
    got = resolve(
        {
            "ts": "{{ timestamp }}",
            "year": '{{ isotime "2006" }}',
            "dir": "{{ template_dir }}",
            "up": "{{ upper `abc` }}",
        }
    )
    assert got == {"ts": "1704164645", "year": "2024", "dir": "/work/templates", "up": "ABC"}


def test_build_fields_stay_raw_for_later() -> None:
    got = resolve({"url": "http://{{ .HTTPIP }}:{{.HTTPPort}}/{{ user `f` }}", "f": "ks.cfg"})
    assert got["url"] == "http://{{ .HTTPIP }}:{{.HTTPPort}}/ks.cfg"


def test_cycles_are_errors() -> None:
    assert problems({"a": "{{ user `b` }}", "b": "{{ user `a` }}"}) == [
        "Failed to interpolate \"a\": '{{ user `b` }}'; error: template: variables.b:1:4: "
        "variables refer to each other in a cycle: a → b → a",
        "Failed to interpolate \"b\": '{{ user `a` }}'; error: template: variables.a:1:4: "
        "variables refer to each other in a cycle: b → a → b",
    ]
    assert problems({"a": "{{ user `a` }}"}) == [
        "Failed to interpolate \"a\": '{{ user `a` }}'; error: template: variables.a:1:4: "
        "variables refer to each other in a cycle: a → a"
    ]


def test_undefined_and_required_references() -> None:
    assert problems({"a": "{{ user `nope` }}"}) == [
        "Failed to interpolate \"a\": '{{ user `nope` }}'; error: template: variables.a:1:4: "
        'user variable "nope" is not defined (defined: a); declare it in the "variables" '
        "section or pass -var 'nope=...'"
    ]
    assert problems({"pw": None, "b": "{{ user `pw` }}"}) == [
        "required variable not set: pw (set it with -var 'pw=…' or in a -var-file)",
        "Failed to interpolate \"b\": '{{ user `pw` }}'; error: template: variables.b:1:4: "
        "variable not set: pw: Please make sure that the variable you're referencing has been "
        "defined; Packer treats all variables used to interpolate other user variables as "
        "required",
    ]


def test_an_undefined_reference_is_forgiven_once_another_variable_reads_one(
    tmp_path: Path,
) -> None:
    """Packer 1.6.6's renderVarsRecursively (packer/core.go) reports a failed variable only
    when its last pass changed nothing; a variable whose value reads `user` is re-rendered
    (and "changed") on every pass, so then the failure is dropped silently. The variable is
    left unset ("") when it was a default, and unrendered when a -var-file or -var gave it.
    kubernetes-sigs/image-builder's ansible-args.json relies on it (`custom_role_names`).
    Checked against packer 1.6.6: {"a": "A-{{user `zzz`}}", "b": "B-{{user `c`}}", "c": "C"}
    validates and builds with a = "", b = "B-C"."""
    warnings: list[str] = []
    got = resolve({"a": "A-{{user `zzz`}}", "b": "B-{{user `c`}}", "c": "C"}, warn=warnings)
    assert got == {"a": "", "b": "B-C", "c": "C"}
    assert warnings == [
        'variable "a" could not be rendered: user variable "zzz" is not defined (defined: a, '
        "b, c); Packer 1.6.6 leaves it empty here without a word (another variable reads a "
        "user variable): declare \"zzz\" or pass -var 'zzz=...'"
    ]
    # From a -var-file the value stays as written; a variable reading it sees that text.
    path = tmp_path / "vars.json"
    path.write_text(json.dumps({"a": "A-{{user `zzz`}}"}))
    warnings.clear()
    got = resolve({"a": "", "b": "B-{{user `c`}}", "c": "C", "d": "{{user `a`}}"},
                  files=(path,), warn=warnings)  # fmt: skip
    assert got["a"] == "A-{{user `zzz`}}" and got["d"] == "A-{{user `zzz`}}"
    assert [w.split(":")[0] for w in warnings] == ['variable "a" could not be rendered']
    assert "leaves it unrendered" in warnings[0]


def test_an_undefined_reference_alone_is_an_error_as_in_packer() -> None:
    # No other variable reads `user`: Packer's last pass changes nothing and it fails.
    assert len(problems({"a": "A-{{user `zzz`}}", "c": "C"})) == 1
    # A cycle stays an error whatever else the template holds (kiln names it).
    messages = problems({"a": "{{user `b`}}", "b": "{{user `a`}}", "c": "{{user `d`}}",
                         "d": "D"})  # fmt: skip
    assert messages and all("cycle" in m for m in messages)


def test_template_syntax_errors_in_a_variable() -> None:
    assert problems({"a": "{{ user"}) == [
        "Failed to interpolate \"a\": '{{ user'; error: template: variables.a:1:1: unclosed action"
    ]


def test_build_name_is_not_available_in_variables() -> None:
    (message,) = problems({"d": "{{ build_name }}"})
    assert "build_name is only available inside a build" in message
