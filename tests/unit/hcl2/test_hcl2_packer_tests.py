"""Packer 1.6.6's own HCL2 tests (hcl2template/*_test.go), ported to kiln.

Each test names the Go case it ports. Packer's harness (common_test.go `testParse`) checks
two phases: `Parser.Parse` + `Initialize` (parse diagnostics, variables, locals, the
decoded blocks) and `GetBuilds` (the builds with their provisioners and post-processors).
In kiln the first phase is `parse()` below (the loader's steps up to the locals, as
`kiln inspect` runs them) and the second is `load_hcl2` (the template model) and, on the
qemu copies with real options, `make_plan` (what `kiln validate` checks).

The fixtures are Packer's (tests/data/hcl2/packer-testdata); where a case is about HCL
rather than Packer's mock builders, a qemu copy of the fixture is used
(tests/data/hcl2/packer-testdata-qemu), as its first lines say.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from kiln.engine.plan import Plan
from kiln.plan import PlanOptions, ValidationFailed, make_plan
from kiln.template.hcl2.config import PackerConfig
from kiln.template.hcl2.diagnostics import Diagnostic, HCLError
from kiln.template.hcl2.loader import load_hcl2, open_template
from kiln.template.hcl2.types import BOOL, NUMBER, STRING, list_of, object_of, tuple_of
from kiln.template.hcl2.values import (
    Value,
    int_val,
    list_val,
    null_of,
    object_val,
    string_val,
    tuple_val,
)
from kiln.template.hcl2.variables import Variable
from kiln.template.model import TemplateFile

DATA = Path(__file__).resolve().parents[2] / "data" / "hcl2"
TESTDATA = DATA / "packer-testdata"
QEMU = DATA / "packer-testdata-qemu"


@dataclass
class Parsed:
    """What Packer's `Parse` + `Initialize` give: the config, variables, locals, diags."""

    cfg: PackerConfig | None
    variables: dict[str, Variable]
    locals: dict[str, Value]
    diags: list[Diagnostic]

    @property
    def errors(self) -> list[str]:
        return [d.summary for d in self.diags if not d.warning]

    @property
    def warnings(self) -> list[str]:
        return [d.summary for d in self.diags if d.warning]

    def value(self, name: str) -> Value | None:
        return self.variables[name].value


def parse(
    path: Path,
    *,
    var_files: Sequence[Path] = (),
    cli_vars: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
) -> Parsed:
    """kiln's loader up to the locals (the steps `load_hcl2` and `kiln inspect` take before
    the builds): Packer's `Parser.Parse` + `PackerConfig.Initialize`."""
    try:
        opened = open_template(path, var_files=var_files, cli_vars=cli_vars, env=dict(env or {}),
                               cwd=path if path.is_dir() else path.parent)  # fmt: skip
    except HCLError as err:  # a file that does not parse
        return Parsed(None, {}, {}, err.diagnostics)
    local_values, _sensitive, _unknown = opened.loader.evaluate_locals(opened.variables)
    return Parsed(opened.cfg, opened.variables, local_values, opened.diags)


def get_builds(path: Path, **kw: object) -> TemplateFile:
    """Packer's `GetBuilds`, in kiln's terms: the template model `load_hcl2` makes."""
    return load_hcl2(path, env={}, **kw)  # type: ignore[arg-type]


def plan(path: Path) -> Plan:
    """`kiln validate`'s checks (builder, provisioner and post-processor options)."""
    return make_plan(get_builds(path), PlanOptions(cwd=path.parent))


def load_errors(path: Path, **kw: object) -> list[str]:
    with pytest.raises(HCLError) as info:
        get_builds(path, **kw)
    return [d.summary for d in info.value.diagnostics if not d.warning]


# --- types.variables_test.go: TestParse_variables -------------------------------------------


def test_basic_variables() -> None:
    # types.variables_test.go: "basic variables"
    got = parse(TESTDATA / "variables/basic.pkr.hcl")
    assert got.diags == []
    assert got.value("image_name") == string_val("foo-image-{{user `my_secret`}}")
    assert got.value("key") == string_val("value")
    assert got.value("my_secret") == string_val("foo")
    assert got.value("image_id") == string_val("image-id-default")
    assert got.variables["image_id"].type == STRING
    assert got.value("port") == int_val(42)
    assert got.variables["port"].type == NUMBER
    zones = got.variables["availability_zone_names"]
    assert zones.value == list_val([string_val("us-west-1a")], STRING)
    assert zones.type == list_of(STRING)
    assert zones.description == "Describing is awesome ;D\n"
    secret = got.variables["super_secret_password"]
    assert secret.sensitive is True
    assert secret.value == null_of(STRING)  # `default = null` is a value, not "unset"
    assert secret.description == "Handle with care plz\n"
    assert got.locals == {"owner": string_val("Community Team"),
                          "service_name": string_val("forum")}  # fmt: skip


@pytest.mark.parametrize(
    "fixture", ["variables/duplicate_variable.pkr.hcl", "variables/duplicate_variables.pkr.hcl"]
)
def test_duplicate_variable(fixture: str) -> None:
    # types.variables_test.go: "duplicate variable", "duplicate variable in variables"
    got = parse(TESTDATA / fixture)
    assert got.errors == ["Duplicate variable"]
    assert got.value("boolean_value") == Value(BOOL, False)  # the first declaration stays
    assert "Duplicate variable" in load_errors(TESTDATA / fixture)


def test_invalid_default_type_is_one_error() -> None:
    # types.variables_test.go: "invalid default type" — the variable keeps a (DynamicVal)
    # default, so Packer reports only "Invalid default value for variable" and
    # nothing about the variable being unset.
    got = parse(TESTDATA / "variables/invalid_default.pkr.hcl")
    assert got.errors == ["Invalid default value for variable"]
    assert got.variables["broken_type"].type == list_of(STRING)


def test_unknown_key() -> None:
    # types.variables_test.go: "unknown key"
    got = parse(TESTDATA / "variables/unknown_key.pkr.hcl")
    assert got.errors == ["Unsupported argument"]
    assert got.value("broken_variable") == Value(BOOL, True)


def test_unset_used_variable() -> None:
    # types.variables_test.go: "unset used variable"
    path = TESTDATA / "variables/unset_used_string_variable.pkr.hcl"
    got = parse(path)
    assert 'Unset variable "foo"' in got.errors
    assert got.variables["foo"].type == STRING
    assert 'Unset variable "foo"' in load_errors(path)


def test_unset_unused_variable() -> None:
    # types.variables_test.go: "unset unused variable" (qemu copy: the "null" source is qemu)
    path = QEMU / "variables/unset_unused_string_variable.pkr.hcl"
    got = parse(path)
    assert got.errors == ['Unset variable "foo"']
    assert got.cfg is not None and list(got.cfg.sources) == ["qemu.null-builder"]
    assert [s.ref for s in got.cfg.builds[0].sources] == ["qemu.null-builder"]
    assert load_errors(path) == ['Unset variable "foo"']
    assert get_builds(path, cli_vars={"foo": "x"}).builders[0].name == "qemu.null-builder"


def test_locals_within_another_locals_usage_in_different_files() -> None:
    # types.variables_test.go: "locals within another locals usage in different files"
    got = parse(TESTDATA / "variables/complicated")
    assert got.diags == []
    assert got.value("name_prefix") == string_val("foo")
    foo = string_val("foo")
    assert got.locals == {
        "name_prefix": foo,
        "foo": foo,
        "bar": foo,
        "for_var": foo,
        "bar_var": tuple_val([foo, foo, foo]),
    }
    assert got.locals["bar_var"].type == tuple_of([STRING, STRING, STRING])


def test_recursive_locals() -> None:
    # types.variables_test.go: "recursive locals"
    got = parse(TESTDATA / "variables/recursive_locals.pkr.hcl")
    assert got.errors
    assert got.locals == {}
    assert load_errors(TESTDATA / "variables/recursive_locals.pkr.hcl")


def test_set_variable_from_var_file() -> None:
    # types.variables_test.go: "set variable from var-file"
    path = TESTDATA / "variables/foo-string.variable.pkr.hcl"
    assert parse(path).value("foo") == string_val("bar")
    got = parse(path, var_files=[TESTDATA / "variables/set-foo-too-wee.hcl"])
    assert got.diags == []
    assert got.value("foo") == string_val("wee")
    assert got.variables["foo"].type == STRING


def test_provisioner_variable_decoding() -> None:
    # types.variables_test.go: "provisioner variable decoding" (qemu copy: "null" is qemu)
    path = QEMU / "variables/provisioner_variable_decoding.pkr.hcl"
    got = parse(path)
    assert got.diags == []
    assert got.value("max_retries") == string_val("1")
    assert got.value("max_retries_int") == int_val(1)
    tpl = get_builds(path)
    assert [b.name for b in tpl.builders] == ["qemu.null-builder"]
    assert [(p.type, p.max_retries) for p in tpl.provisioners] == [("shell", 1), ("shell", "1")]
    steps = plan(path).builds[0].provisioners
    assert [(s.type, s.max_retries) for s in steps] == [("shell", 1), ("shell", 1)]


def test_valid_validation_block() -> None:
    # types.variables_test.go: "valid validation block"
    got = parse(TESTDATA / "variables/validation/valid.pkr.hcl")
    assert got.diags == []
    assert got.value("image_id") == string_val("ami-something-something")
    assert len(got.variables["image_id"].validations) == 1


def test_valid_validation_block_invalid_default() -> None:
    # types.variables_test.go: "valid validation block - invalid default"
    got = parse(TESTDATA / "variables/validation/invalid_default.pkr.hcl")
    assert got.errors == ["Invalid value for default variable"]
    assert 'The image_id value must be a valid AMI id, starting with "ami-".' in (
        got.diags[0].detail
    )
    assert got.value("image_id") == string_val("potato")


def test_validation_of_a_value_from_an_auto_var_file() -> None:
    # fixture variables/validation/valid_map (no Go case at v1.6.6; `packer validate` of the
    # folder fails: "The image_metadata.something.foo field must start with "bar".")
    got = parse(TESTDATA / "variables/validation/valid_map")
    assert got.errors == ["Invalid value for varfile variable"]
    assert 'must start with "bar"' in got.diags[0].detail


def test_unknown_variable_from_var_file_is_a_warning() -> None:
    # types.variables_test.go: "unknown variable from var-file" (parseWantDiags true,
    # HasErrors false).
    # Packer 1.6.6: Warning: Undefined variable, `packer validate` exits 0.
    got = parse(
        TESTDATA / "variables/empty.pkr.hcl", var_files=[TESTDATA / "variables/set-foo-too-wee.hcl"]
    )
    assert got.errors == []
    assert got.warnings == ["Undefined variable"]


# --- types.variables_test.go: TestVariables_collectVariableValues ---------------------------


def collect(
    tmp: Path,
    decl: str,
    *,
    env: Mapping[str, str] | None = None,
    files: Sequence[str] = (),
    argv: Mapping[str, str] | None = None,
) -> Parsed:
    """A template declaring `decl`, with Go's `hclFiles` as var files, in order."""
    (tmp / "t.pkr.hcl").write_text(decl)
    paths = []
    for i, text in enumerate(files):
        p = tmp / f"test_file_{i}.pkrvars.hcl"
        p.write_text(text)
        paths.append(p)
    return parse(tmp / "t.pkr.hcl", var_files=paths, cli_vars=argv, env=env)


STRING_DECL = 'variable "used_string" {\n  type = string\n  default = "default_value"\n}\n'


def test_collect_string(tmp_path: Path) -> None:
    # types.variables_test.go: "string" (default < env < var files in order < -var)
    env = {"PKR_VAR_used_string": "env_value"}
    files = ['used_string="xy"', 'used_string="varfile_value"']

    def value(**kw: object) -> Value | None:
        got = collect(tmp_path, STRING_DECL, **kw)  # type: ignore[arg-type]
        assert got.diags == []
        return got.value("used_string")

    assert value() == string_val("default_value")
    assert value(env=env) == string_val("env_value")
    assert value(env=env, files=files[:1]) == string_val("xy")
    assert value(env=env, files=files) == string_val("varfile_value")
    assert value(env=env, files=files, argv={"used_string": "cmd_value"}) == string_val("cmd_value")


def test_collect_quoted_string(tmp_path: Path) -> None:
    # types.variables_test.go: "quoted string" (the quotes of env and -var values stay)
    decl = 'variable "quoted_string" {\n  type = string\n  default = "\\"default_value\\""\n}\n'
    env = {"PKR_VAR_quoted_string": '"env_value"'}
    files = ['quoted_string="\\"xy\\""', 'quoted_string="\\"varfile_value\\""']
    assert collect(tmp_path, decl).value("quoted_string") == string_val('"default_value"')
    assert collect(tmp_path, decl, env=env).value("quoted_string") == string_val('"env_value"')
    assert collect(tmp_path, decl, env=env, files=files).value("quoted_string") == string_val(
        '"varfile_value"'
    )
    got = collect(tmp_path, decl, env=env, files=files, argv={"quoted_string": '"cmd_value"'})
    assert got.diags == []
    assert got.value("quoted_string") == string_val('"cmd_value"')


def strings(*items: str) -> Value:
    return list_val([string_val(s) for s in items], STRING)


def test_collect_array_of_strings(tmp_path: Path) -> None:
    # types.variables_test.go: "array of strings"
    decl = 'variable "used_strings" {\n  type = list(string)\n  default = ["default_value_1"]\n}\n'
    env = {"PKR_VAR_used_strings": '["env_value_1", "env_value_2"]'}
    files = ['used_strings=["xy"]', 'used_strings=["varfile_value_1"]']
    assert collect(tmp_path, decl).value("used_strings") == strings("default_value_1")
    assert collect(tmp_path, decl, env=env).value("used_strings") == strings(
        "env_value_1", "env_value_2"
    )
    assert collect(tmp_path, decl, env=env, files=files[:1]).value("used_strings") == strings("xy")
    assert collect(tmp_path, decl, env=env, files=files).value("used_strings") == strings(
        "varfile_value_1"
    )
    got = collect(tmp_path, decl, env=env, files=files, argv={"used_strings": '["cmd_value_1"]'})
    assert got.diags == []
    assert got.value("used_strings") == strings("cmd_value_1")


def test_collect_bool(tmp_path: Path) -> None:
    # types.variables_test.go: "bool" (a var file's "false" converts to the bool)
    decl = 'variable "enabled" {\n  type = bool\n  default = false\n}\n'
    env = {"PKR_VAR_enabled": "true"}
    assert collect(tmp_path, decl, env=env).value("enabled") == Value(BOOL, True)
    got = collect(tmp_path, decl, env=env, files=['enabled="false"'])
    assert got.diags == []
    assert got.value("enabled") == Value(BOOL, False)
    got = collect(tmp_path, decl, env=env, files=['enabled="false"'], argv={"enabled": "true"})
    assert got.value("enabled") == Value(BOOL, True)


def test_collect_invalid_env_var(tmp_path: Path) -> None:
    # types.variables_test.go: "invalid env var" — Go's `PKR_VAR_used_string` without "=" is
    # ignored. An environment mapping cannot hold a name without a value; the nearest kiln
    # case: PKR_VAR_ entries that name no variable, and other variables, are ignored.
    env = {"PKR_VAR_": "x", "PKR_VAR_used_string_": "x", "used_string": "x"}
    got = collect(tmp_path, STRING_DECL, env=env)
    assert got.diags == []
    assert got.value("used_string") == string_val("default_value")


def test_collect_undefined_but_set_value_pkrvar_file(tmp_path: Path) -> None:
    # types.variables_test.go: "undefined but set value - pkrvar file - normal mode" (a
    # warning). "- strict mode" (an error) has no kiln equivalent: kiln, as `packer validate`
    # 1.6.6, never sets ValidationOptions.Strict.
    got = collect(tmp_path, "", files=['undefined_string="value"'])
    assert got.errors == []
    assert got.warnings == ["Undefined variable"]
    assert got.variables == {}


def test_collect_undefined_but_set_value_env(tmp_path: Path) -> None:
    # types.variables_test.go: "undefined but set value - env"
    got = collect(tmp_path, "", env={"PKR_VAR_undefined_string": "value"})
    assert got.diags == []
    assert got.variables == {}


def test_collect_undefined_but_set_value_argv(tmp_path: Path) -> None:
    # types.variables_test.go: "undefined but set value - argv"
    got = collect(tmp_path, "", argv={"undefined_string": "value"})
    assert got.errors == ["Undefined -var variable"]


@pytest.mark.parametrize(
    ("decl", "where", "summary"),
    [
        # types.variables_test.go: "value not corresponding to type - env"
        ("list(string)", {"env": {"PKR_VAR_used_string": '"string"'}},
         "Invalid value for variable"),
        # types.variables_test.go: "value not corresponding to type - cfg file"
        ("bool", {"files": ['used_string=["string"]']}, "Invalid value for variable"),
        # types.variables_test.go: "value not corresponding to type - argv"
        ("bool", {"argv": {"used_string": '["true"]'}},
         "Invalid argument value for -var variable"),
    ],
)  # fmt: skip
def test_collect_value_not_corresponding_to_type(
    tmp_path: Path, decl: str, where: dict[str, object], summary: str
) -> None:
    text = f'variable "used_string" {{\n  type = {decl}\n}}\n'
    got = collect(tmp_path, text, **where)  # type: ignore[arg-type]
    assert summary in got.errors


def test_collect_defining_a_variable_block_in_a_variables_file_is_invalid(tmp_path: Path) -> None:
    # types.variables_test.go: "defining a variable block in a variables file is invalid "
    got = collect(tmp_path, "", files=['variable "something" {}'])
    assert got.errors
    assert got.variables == {}


# --- types.source_test.go: TestParse_source -------------------------------------------------


def test_two_basic_sources() -> None:
    # types.source_test.go: "two basic sources" (verbatim, then a qemu copy with real options)
    got = parse(TESTDATA / "sources/basic.pkr.hcl")
    assert got.diags == []
    assert got.cfg is not None and list(got.cfg.sources) == ["virtualbox-iso.ubuntu-1204"]
    assert got.cfg.builds == []
    qemu = parse(QEMU / "sources/basic.pkr.hcl")
    assert qemu.diags == []
    assert qemu.cfg is not None and list(qemu.cfg.sources) == ["qemu.ubuntu-1204"]


@pytest.mark.parametrize(
    ("fixture", "summary"),
    [
        # types.source_test.go: "untyped source"
        ("sources/untyped.pkr.hcl", "Missing type for source"),
        # types.source_test.go: "unnamed source"
        ("sources/unnamed.pkr.hcl", "Missing name for source"),
        # types.source_test.go: "duplicate source"
        ("sources/duplicate.pkr.hcl", "Duplicate source block"),
    ],
)
def test_source_errors(fixture: str, summary: str) -> None:
    got = parse(TESTDATA / fixture)
    assert got.errors == [summary]
    assert summary in load_errors(TESTDATA / fixture)


def test_duplicate_source_keeps_the_first() -> None:
    # types.source_test.go: "duplicate source" (Sources holds the one block)
    got = parse(TESTDATA / "sources/duplicate.pkr.hcl")
    assert got.cfg is not None and list(got.cfg.sources) == ["virtualbox-iso.ubuntu-1204"]


# --- types.build_test.go: TestParse_build ---------------------------------------------------


UNKNOWN_SOURCES = [
    "Unknown source amazon-ebs.ubuntu-1604",
    "Unknown source virtualbox-iso.ubuntu-1204",
]


def test_basic_build_no_src() -> None:
    # types.build_test.go: "basic build no src" — parses; its builds fail (no source blocks)
    got = parse(TESTDATA / "build/basic.pkr.hcl")
    assert got.diags == []
    assert got.cfg is not None
    (build,) = got.cfg.builds
    assert [s.ref for s in build.sources] == ["amazon-ebs.ubuntu-1604",
                                              "virtualbox-iso.ubuntu-1204"]  # fmt: skip
    assert [(p.type, p.labels) for p in build.provisioners] == [
        ("provisioner", ("shell",)), ("provisioner", ("file",))
    ]  # fmt: skip
    assert [[p.labels for p in chain] for chain in build.post_processors] == [[("amazon-import",)]]
    assert load_errors(TESTDATA / "build/basic.pkr.hcl") == UNKNOWN_SOURCES


@pytest.mark.parametrize(
    ("fixture", "summary"),
    [
        # types.build_test.go: "untyped provisioner"
        ("build/provisioner_untyped.pkr.hcl", "Unsupported block type"),
        # types.build_test.go: "untyped post-processor"
        ("build/post-processor_untyped.pkr.hcl", "Unsupported block type"),
        # types.build_test.go: "invalid source"
        ("build/invalid_source_reference.pkr.hcl", "Invalid source reference"),
    ],
)
def test_build_parse_errors(fixture: str, summary: str) -> None:
    got = parse(TESTDATA / fixture)
    assert summary in got.errors
    assert summary in load_errors(TESTDATA / fixture)


@pytest.mark.parametrize("kind", ["provisioner", "post-processor"])
def test_inexistent_provisioner_and_post_processor(kind: str) -> None:
    # types.build_test.go: "inexistent provisioner", "inexistent post-processor" (qemu copy:
    # the build gets a qemu source, so only the "inexistant" type is wrong)
    path = QEMU / f"build/{kind}_inexistent.pkr.hcl"
    with pytest.raises((HCLError, ValidationFailed)) as info:
        plan(path)
    assert "inexistant" in str(info.value)


def test_named_build() -> None:
    # types.build_test.go: "named build"
    got = parse(TESTDATA / "build/named.pkr.hcl")
    assert got.diags == []
    assert got.cfg is not None
    (build,) = got.cfg.builds
    assert build.name == "somebuild"
    assert [s.ref for s in build.sources] == ["amazon-ebs.ubuntu-1604",
                                              "virtualbox-iso.ubuntu-1204"]  # fmt: skip
    assert load_errors(TESTDATA / "build/named.pkr.hcl") == UNKNOWN_SOURCES


def test_post_processor_with_only_and_except() -> None:
    # types.build_test.go: "post-processor with only and except" (qemu copy)
    path = QEMU / "build/post-processor_onlyexcept.pkr.hcl"
    got = parse(path)
    assert got.diags == []
    assert got.cfg is not None
    (build,) = got.cfg.builds
    assert [(s.ref, s.rename) for s in build.sources] == [
        ("qemu.ubuntu-1204", ""), ("qemu.ubuntu-1604", "aws-ubuntu-16.04")
    ]  # fmt: skip
    builds = plan(path).builds
    assert [b.name for b in builds] == ["qemu.ubuntu-1204", "qemu.aws-ubuntu-16.04"]
    assert [[s.type for s in chain] for chain in builds[0].post_processors] == [
        ["checksum"], ["manifest"]
    ]  # fmt: skip
    assert [[s.type for s in chain] for chain in builds[1].post_processors] == [
        ["manifest"], ["checksum"]
    ]  # fmt: skip


def test_provisioner_with_only_and_except() -> None:
    # types.build_test.go: "provisioner with only and except" (qemu copy)
    path = QEMU / "build/provisioner_onlyexcept.pkr.hcl"
    assert parse(path).diags == []
    builds = plan(path).builds
    assert [b.name for b in builds] == ["qemu.ubuntu-1204", "qemu.aws-ubuntu-16.04"]
    assert [(s.type, s.raw.get("inline"), s.raw.get("content"))
            for s in builds[0].provisioners] == [("shell", ["echo 1"], None),
                                                 ("file", None, "4")]  # fmt: skip
    assert [(s.type, s.raw.get("inline"), s.raw.get("content"))
            for s in builds[1].provisioners] == [("file", None, "2"),
                                                 ("shell", ["echo 3"], None)]  # fmt: skip


def test_provisioner_pause_before_and_max_retries() -> None:
    # fixture build/provisioner_paused_before_retry.pkr.hcl (its Go case came after v1.6.6:
    # "provisioner with pause_before and max_retries"; qemu copy)
    path = QEMU / "build/provisioner_paused_before_retry.pkr.hcl"
    (step,) = plan(path).builds[0].provisioners
    assert (step.pause_before.seconds, step.max_retries) == (10.0, 5)


def test_provisioner_timeout() -> None:
    # fixture build/provisioner_timeout.pkr.hcl (its Go case came after v1.6.6; qemu copy)
    (step,) = plan(QEMU / "build/provisioner_timeout.pkr.hcl").builds[0].provisioners
    assert step.timeout.seconds == 10.0


def test_unknown_top_level_block_type() -> None:
    # fixture unknown/block_type.pkr.hcl (no Go case; `packer validate`: "Unsupported block
    # type ... Blocks of type "potato" are not expected here.")
    got = parse(TESTDATA / "unknown/block_type.pkr.hcl")
    assert got.errors == ["Unsupported block type"]


# --- types.packer_config_test.go: TestParser_complete, TestParser_ValidateFilterOption ------

NESTED = {
    "string": "string", "int": 42, "int64": 43, "bool": True, "trilean": True,
    "duration": "10s", "map_string_string": {"a": "b", "c": "d"},
    "slice_string": ["a", "b", "c"], "slice_slice_string": [["a", "b"], ["c", "d"]],
}  # fmt: skip
TAGS = [
    {"key": "first_tag_key", "value": "first_tag_value"},
    {"key": "Component", "value": "user-service"},
    {"key": "Environment", "value": "production"},
]


def test_working_build_variables_and_locals() -> None:
    # types.packer_config_test.go: "working build" (parse: variables and locals)
    got = parse(TESTDATA / "complete")
    assert got.diags == []
    assert got.value("foo") == string_val("value")
    assert got.value("image_id") == string_val("image-id-default")
    assert got.value("port") == int_val(42)
    assert got.value("availability_zone_names") == strings("A", "B", "C")
    assert got.locals["feefoo"] == string_val("value_image-id-default")
    assert got.locals["standard_tags"] == object_val(
        {"Component": string_val("user-service"), "Environment": string_val("production")}
    )
    ids = [object_val({"id": string_val(c)}) for c in "abc"]
    assert got.locals["abc_map"] == tuple_val(ids)
    assert got.locals["abc_map"].type == tuple_of([object_of({"id": STRING})] * 3)
    assert got.cfg is not None
    (build,) = got.cfg.builds
    assert [(s.ref, s.override is not None) for s in build.sources] == [
        ("virtualbox-iso.ubuntu-1204", False), ("amazon-ebs.ubuntu-1604", True)
    ]  # fmt: skip
    assert [[b.labels[0] for b in chain] for chain in build.post_processors] == [
        ["amazon-import"], ["amazon-import"], ["amazon-import"] * 2, ["amazon-import"] * 2
    ]  # fmt: skip


def test_working_build_builds() -> None:
    # types.packer_config_test.go: "working build" (GetBuilds; qemu copy of the sources, the
    # mock options kept: the template model before any option table, as Packer's mocks)
    tpl = get_builds(QEMU / "complete")
    assert [b.name for b in tpl.builders] == ["qemu.ubuntu-1204", "qemu.ubuntu-1604"]
    assert tpl.builders[0].config == {**NESTED, "nested": [NESTED],
                                      "nested_slice": [NESTED, NESTED]}  # fmt: skip
    assert tpl.builders[1].config == {"int": 42, "string": "setting from build section"}
    assert [(p.type, p.only) for p in tpl.provisioners] == [
        ("shell", ["qemu.ubuntu-1204", "qemu.ubuntu-1604"]),
        ("file", ["qemu.ubuntu-1204", "qemu.ubuntu-1604"]),
    ]
    shell, file = (p.config for p in tpl.provisioners)
    assert shell["slice_string"] == ["a", "b", "c"]  # [for s in var.… : lower(s)]
    assert file["slice_string"] == ["a", "b", "c"]  # local.abc_map[*].id
    assert shell["nested_slice"] == [{"tag": TAGS}] == file["nested_slice"]  # dynamic "tag"
    assert [shell[k] for k in ("int", "int64", "bool", "duration")] == [42, 43, "true", "10s"]
    chains = [[(p.type, p.name, p.keep_input_artifact) for p in c] for c in tpl.post_processors]
    assert chains == [
        [("amazon-import", "something", True)],
        [("amazon-import", "", None)],
        [("amazon-import", "first-nested-post-processor", None),
         ("amazon-import", "second-nested-post-processor", None)],
        [("amazon-import", "third-nested-post-processor", None),
         ("amazon-import", "fourth-nested-post-processor", None)],
    ]  # fmt: skip


@pytest.mark.parametrize(("pattern", "error"), [("*1204*", False), ("foo[]bar", True)])
def test_validate_filter_option(tmp_path: Path, pattern: str, error: bool) -> None:
    # types.packer_config_test.go: TestParser_ValidateFilterOption "*foo*", "foo[]bar": a
    # glob is accepted, a malformed one is an error. ("*foo*" becomes "*1204*": in kiln a
    # pattern matching no build is an error, a documented difference.)
    path = QEMU / "build/provisioner_timeout.pkr.hcl"
    tpl = get_builds(path)
    opts = PlanOptions(only=[pattern, "qemu.*"], cwd=tmp_path)
    if error:
        with pytest.raises(ValidationFailed) as info:
            make_plan(tpl, opts)
        assert pattern in str(info.value)
    else:
        assert [b.name for b in make_plan(tpl, opts).builds] == ["qemu.ubuntu-1204"]


# --- found by porting; fixed since --------------------------------------------------------

QEMU_SOURCE = """
source "qemu" "n" {
  iso_url      = "http://example.com/x.iso"
  iso_checksum = "none"
  accelerator  = "tcg"
  ssh_username = "packer"
}
"""


def test_working_build_provisioner_name(tmp_path: Path) -> None:
    # types.packer_config_test.go: "working build" — provisioner "shell" { name = "provisioner
    # that does something" } is the provisioner's PName. Packer 1.6.6 validates it; kiln:
    # unknown configuration key: '"name"'.
    (tmp_path / "t.pkr.hcl").write_text(
        QEMU_SOURCE
        + """
build {
  sources = ["source.qemu.n"]
  provisioner "shell" {
    name   = "provisioner that does something"
    inline = ["true"]
  }
}
"""
    )
    make_plan(load_hcl2(tmp_path, env={}), PlanOptions(cwd=tmp_path))


def test_a_value_of_the_wrong_type_does_not_also_make_the_variable_unset(tmp_path: Path) -> None:
    # types.variables_test.go: "value not corresponding to type - argv" (and - env, - cfg
    # file): Packer records cty.DynamicVal for the variable, so its one error is the type's;
    # kiln adds 'Unset variable "used_string"' when the variable has no default.
    (tmp_path / "t.pkr.hcl").write_text('variable "used_string" {\n  type = bool\n}\n')
    got = parse(tmp_path / "t.pkr.hcl", cli_vars={"used_string": '["true"]'})
    assert got.errors == ["Invalid argument value for -var variable"]


def test_number_from_the_command_line_is_a_literal(tmp_path: Path) -> None:
    # (no Go case; expressionFromVariableDefinition in types.variables.go) — for string,
    # number and untyped variables, -var and PKR_VAR_ values are literal strings converted to
    # the type: `-var port=1+1` is "a number is required" in Packer; kiln evaluates it to 2.
    (tmp_path / "t.pkr.hcl").write_text('variable "port" {\n  type = number\n}\n')
    got = parse(tmp_path / "t.pkr.hcl", cli_vars={"port": "1+1"})
    assert got.errors == ["Invalid argument value for -var variable"]


def test_malformed_only_glob_says_so(tmp_path: Path) -> None:
    # types.packer_config_test.go: TestParser_ValidateFilterOption "foo[]bar" — Packer:
    # "Invalid -only pattern null.n[]: could not parse range"; kiln says the pattern matches
    # no build (and suggests the build it would have matched).
    import pytest

    from kiln.plan import ValidationFailed

    tpl = get_builds(QEMU / "build/provisioner_timeout.pkr.hcl")
    with pytest.raises(ValidationFailed) as info:
        make_plan(tpl, PlanOptions(only=["qemu.ubuntu-1204[]"], cwd=tmp_path))
    assert "no build matches" not in str(info.value)


def test_untyped_variable_takes_the_type_of_its_default(tmp_path: Path) -> None:
    # types.variables_test.go: "locals within another locals usage in different files"
    # (name_prefix, declared without type, has Type cty.String) and "basic variables"
    # (`variables { key = "value" }` has Type cty.String): decodeVariableBlock/decodeVariable
    # set Type from the default. So -var / PKR_VAR_ values of such variables are HCL
    # expressions and are converted to that type.
    got = parse(TESTDATA / "variables/complicated")
    assert got.variables["name_prefix"].type == STRING
    assert parse(TESTDATA / "variables/basic.pkr.hcl").variables["key"].type == STRING
    (tmp_path / "t.pkr.hcl").write_text(
        'variables {\n  legacy = ["x"]\n}\nvariable "n" {\n  default = ["a"]\n}\n'
    )
    got = parse(tmp_path / "t.pkr.hcl", cli_vars={"legacy": '["y"]'})
    assert got.diags == []
    assert got.value("legacy").type == tuple_of([STRING])  # packer console: ["y"]
    got = parse(tmp_path / "t.pkr.hcl", cli_vars={"n": '["b", "c"]'})
    assert got.errors == ["Invalid argument value for -var variable"]  # "tuple required"
