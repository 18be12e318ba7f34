"""`load_template` / `parse_template`: the JSON shape of a template and every error path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kiln.errors import KilnError
from kiln.template.loader import load_template, parse_template

QEMU = {"type": "qemu"}


def parse(data: object, path: Path = Path("t.json")) -> object:
    return parse_template(json.dumps(data), path)


def problems(data: object) -> list[str]:
    """The `* ...` lines of the error `parse` raises."""
    with pytest.raises(KilnError) as err:
        parse(data)
    text = str(err.value)
    assert text.startswith("Failed to parse template: ")
    return [line.removeprefix("\t* ") for line in text.splitlines()[1:]]


def test_a_full_template(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text(
        json.dumps(
            {
                "_comment": "ignored",
                "description": "Debian 12",
                "min_packer_version": "1.6.0",
                "variables": {"pw": "x", "req": None, "n": 2, "f": 1.0, "b": True, "c": False},
                "sensitive-variables": ["pw"],
                "builders": [{"type": "qemu", "name": "deb", "memory": 1024}, QEMU],
                "provisioners": [
                    {
                        "type": "shell",
                        "inline": ["ls"],
                        "only": ["deb"],
                        "override": {"deb": {"inline": ["pwd"]}},
                        "pause_before": "5s",
                        "max_retries": 2,
                        "timeout": "1m",
                    },
                    {"type": "file", "except": "qemu", "source": "a", "destination": "b"},
                ],
                "post-processors": ["manifest", [{"type": "checksum", "name": "sums"}]],
                "error-cleanup-provisioner": {"type": "shell-local", "inline": ["echo"]},
            }
        )
    )
    tpl = load_template(path)
    assert tpl.path == path
    assert tpl.template_dir == tmp_path.resolve()
    assert (tpl.description, tpl.min_packer_version) == ("Debian 12", "1.6.0")
    assert tpl.variables == {"pw": "x", "req": None, "n": "2", "f": "1", "b": "true", "c": "false"}
    assert tpl.sensitive_variables == ["pw"]
    assert [(b.index, b.type, b.name, b.config) for b in tpl.builders] == [
        (1, "qemu", "deb", {"memory": 1024}),
        (2, "qemu", "qemu", {}),
    ]
    shell, file = tpl.provisioners
    assert (shell.index, shell.type, shell.config, shell.only, shell.override) == (
        1,
        "shell",
        {"inline": ["ls"]},
        ["deb"],
        {"deb": {"inline": ["pwd"]}},
    )
    assert (shell.pause_before, shell.max_retries, shell.timeout) == ("5s", 2, "1m")
    assert shell.where == "provisioner 1"
    assert (file.except_, file.config) == (["qemu"], {"source": "a", "destination": "b"})
    (manifest,), (checksum,) = tpl.post_processors
    assert (manifest.type, manifest.where, manifest.config) == ("manifest", "post-processor 1", {})
    assert (checksum.type, checksum.name, checksum.where) == (
        "checksum",
        "sums",
        "post-processor 2.1",
    )
    cleanup = tpl.error_cleanup_provisioner
    assert cleanup is not None
    assert (cleanup.index, cleanup.where) == (0, "error-cleanup-provisioner")


def test_minimal_template() -> None:
    tpl = parse({"builders": [QEMU]})
    assert tpl.provisioners == []  # type: ignore[attr-defined]
    assert tpl.post_processors == []  # type: ignore[attr-defined]
    assert tpl.error_cleanup_provisioner is None  # type: ignore[attr-defined]


def test_hcl2_templates_go_to_the_hcl2_loader(tmp_path: Path) -> None:
    (tmp_path / "debian.pkr.hcl").write_text(
        'source "qemu" "debian" {\n  iso_url = "x.iso"\n}\n'
        'build {\n  sources = ["source.qemu.debian"]\n}\n'
    )
    tpl = load_template(tmp_path / "debian.pkr.hcl")
    assert [(b.name, b.build_name) for b in tpl.builders] == [("qemu.debian", "debian")]
    assert tpl.builders[0].config == {"iso_url": "x.iso"}
    with pytest.raises(KilnError, match="no such file"):
        load_template(tmp_path / "vars.hcl")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(KilnError) as err:
        load_template(tmp_path / "nope.json")
    assert str(err.value) == (
        f"Failed to parse template: open {tmp_path / 'nope.json'}: no such file or directory"
    )


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(KilnError) as err:
        load_template(tmp_path)
    assert str(err.value) == (  # a folder is an HCL2 template, as in Packer
        f"Failed to parse template: {tmp_path} holds no *.pkr.hcl or *.pkr.json file"
    )


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_bytes(b'{"description": "\xff"}')
    with pytest.raises(KilnError) as err:
        load_template(path)
    assert str(err.value).startswith(f"Failed to parse template: cannot read {path}: ")
    assert "utf-8" in str(err.value)


def test_json_syntax_error_points_at_the_spot() -> None:
    text = '{\n  "builders": [\n    {"type": "qemu",}\n  ]\n}\n'
    with pytest.raises(KilnError) as err:
        parse_template(text, Path("t.json"))
    assert str(err.value) == (
        "Failed to parse template: Error parsing JSON: Expecting property name enclosed in "
        "double quotes\n"
        "At line 3, column 21 (offset 38):\n"
        "    1: {\n"
        '    2:   "builders": [\n'
        '    3:     {"type": "qemu",}\n'
        "                           ^"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Expecting value"),
        ('{"a": NaN}', "invalid JSON value NaN"),
        ('{"a": Infinity}', "invalid JSON value Infinity"),
        ('{"a": 1e400}', "number 1e400 is out of range for a 64-bit float"),
        ('{"a": ' + "9" * 500 + "}", "a number with 500 digits is out of range"),
        ("[" * 100000 + "]" * 100000, "the JSON is nested too deeply"),
        ('{"a": 1} x', "Extra data"),
    ],
)
def test_json_errors(text: str, message: str) -> None:
    with pytest.raises(KilnError) as err:
        parse_template(text, Path("t.json"))
    assert str(err.value).startswith("Failed to parse template: Error parsing JSON: ")
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("data", "kind"),
    [([QEMU], "a list"), ("x", "a string"), (5, "a number"), (None, "null"), (True, "a boolean")],
)
def test_top_level_must_be_an_object(data: object, kind: str) -> None:
    with pytest.raises(KilnError) as err:
        parse(data)
    assert str(err.value) == (
        "Failed to parse template: the top level of t.json must be a JSON object "
        f'(with a "builders" list), not {kind}'
    )


@pytest.mark.parametrize(
    ("data", "messages"),
    [
        ({"builder": [QEMU]}, [
            "Unknown root level key in template: 'builder' — did you mean \"builders\"?",
            "at least one builder must be defined",
        ]),
        ({"builders": [QEMU], "provisoners": []}, [
            "Unknown root level key in template: 'provisoners' — did you mean \"provisioners\"?",
        ]),
        ({"builders": [QEMU], "push": {}}, [
            "'push' is no longer supported by Packer, nor by kiln: remove it",
        ]),
        ({"builders": [QEMU], "description": 5, "min_packer_version": ["1"]}, [
            "'description' must be a string, got a number",
            "'min_packer_version' must be a string, got a list",
        ]),
        ({"builders": [QEMU], "variables": ["a"]}, [
            "'variables' must be an object of name → default value, got a list",
        ]),
        ({"builders": [QEMU], "variables": {"a": ["x"], "b": {}}}, [
            "variables: 'a' must have a string default (or null for a required variable), got "
            "a list",
            "variables: 'b' must have a string default (or null for a required variable), got "
            "an object",
        ]),
        ({"builders": [QEMU], "sensitive-variables": [1]}, [
            "'sensitive-variables' must be a list of strings, got a list holding a number",
        ]),
        ({"builders": [QEMU], "variables": {"password": ""}, "sensitive-variables": ["pasword"]}, [
            "sensitive-variables: 'pasword' is not declared in \"variables\" — did you mean "
            "\"password\"?",
        ]),
        ({}, ["at least one builder must be defined"]),
        ({"builders": []}, ["at least one builder must be defined"]),
        ({"builders": QEMU}, ["'builders' must be a list of objects, got an object"]),
        ({"builders": ["qemu"]}, ["builder 1: must be an object, got a string"]),
        ({"builders": [{"memory": 1}]}, ["builder 1: missing 'type'"]),
        ({"builders": [{"type": ""}]}, ["builder 1: missing 'type'"]),
        ({"builders": [{"type": "qemu", "name": 5}]}, [
            "builder 1: 'name' must be a non-empty string",
        ]),
        ({"builders": [QEMU, QEMU]}, ["builder 2: builder with name 'qemu' already exists"]),
        ({"builders": [{"type": "qemu", "name": "a"}, {"type": "virtualbox-iso", "name": "a"}]}, [
            "builder 2: builder with name 'a' already exists",
        ]),
        ({"builders": [QEMU], "provisioners": {"type": "shell"}}, [
            "'provisioners' must be a list of objects, got an object",
        ]),
        ({"builders": [QEMU], "provisioners": ["shell"]}, [
            "provisioner 1: must be an object, got a string",
        ]),
        ({"builders": [QEMU], "provisioners": [{"inline": ["x"]}]}, [
            "provisioner 1: Provisioner missing 'type'",
        ]),
        ({"builders": [QEMU], "provisioners": [{"type": "shell", "only": ["a"],
                                                 "except": ["b"]}]}, [
            "provisioner 1: only one of 'only' or 'except' may be specified",
        ]),
        ({"builders": [QEMU], "provisioners": [{"type": "shell", "only": [1]}]}, [
            "provisioner 1: 'only' must be a list of strings, got a list holding a number",
        ]),
        ({"builders": [QEMU], "provisioners": [{"type": "shell", "override": ["x"]}]}, [
            "provisioner 1: 'override' must map builder names to objects of options, got a list",
        ]),
        ({"builders": [QEMU], "provisioners": [{"type": "shell", "override": {"qemu": 1}}]}, [
            "provisioner 1: 'override' must map builder names to objects of options, got an "
            "object",
        ]),
        ({"builders": [QEMU], "post-processors": 5}, [
            "'post-processors' must be a list, got a number",
        ]),
        ({"builders": [QEMU], "post-processors": [""]}, ["post-processor 1: missing 'type'"]),
        ({"builders": [QEMU], "post-processors": [5]}, [
            "post-processor 1: must be a type name or an object, got a number",
        ]),
        ({"builders": [QEMU], "post-processors": [[{"name": "x"}]]}, [
            "post-processor 1.1: missing 'type'",
        ]),
        ({"builders": [QEMU], "post-processors": [{"type": "manifest", "only": ["a"],
                                                    "except": ["b"]}]}, [
            "post-processor 1: only one of 'only' or 'except' may be specified",
        ]),
        ({"builders": [QEMU], "error-cleanup-provisioner": ["x"]}, [
            'error-cleanup-provisioner must be an object with a "type"',
        ]),
        ({"builders": [QEMU], "error-cleanup-provisioner": {}}, [
            "error-cleanup-provisioner: Provisioner missing 'type'",
        ]),
    ],
)  # fmt: skip
def test_shape_errors(data: object, messages: list[str]) -> None:
    assert problems(data) == messages


def test_all_problems_are_reported_together() -> None:
    with pytest.raises(KilnError) as err:
        parse({"builderz": [], "builders": [QEMU, {"name": "x"}], "provisioners": [{}]})
    assert str(err.value).splitlines()[0] == "Failed to parse template: 3 errors occurred:"


def test_root_comments_may_be_any_json() -> None:
    tpl = parse({"_expect": ["a", "b"], "_n": 1, "builders": [QEMU]})
    assert [b.name for b in tpl.builders] == ["qemu"]  # type: ignore[attr-defined]


def test_single_strings_are_lists() -> None:
    tpl = parse(
        {
            "builders": [QEMU],
            "sensitive-variables": "pw",
            "variables": {"pw": "x"},
            "provisioners": [{"type": "shell", "only": "qemu"}],
            "post-processors": {"type": "manifest", "except": "qemu"},
        }
    )
    assert tpl.sensitive_variables == ["pw"]  # type: ignore[attr-defined]
    assert tpl.provisioners[0].only == ["qemu"]  # type: ignore[attr-defined]
    assert tpl.post_processors[0][0].except_ == ["qemu"]  # type: ignore[attr-defined]


def test_post_processor_keep_input_artifact_and_name_are_common_keys() -> None:
    tpl = parse(
        {
            "builders": [QEMU],
            "post-processors": [{"type": "compress", "keep_input_artifact": True, "name": "z",
                                 "output": "x.tgz"}],
        }
    )  # fmt: skip
    (pp,) = tpl.post_processors[0]  # type: ignore[attr-defined]
    assert (pp.keep_input_artifact, pp.name, pp.config) == (True, "z", {"output": "x.tgz"})


# --- duplicate keys (issue 10 §2.3) ------------------------------------------------------

DUPLICATES = """\
{
  "variables": {"a": "1"},
  "builders": [
    {
      "type": "qemu",
      "qemuargs": [["-m", "1024"]],
      "disk_size": "2G",
      "qemuargs": [["-smp", "2"]],
      "http_content": {"/a": "x", "/b": {"deep": 1, "deep": 2}},
      "qemuargs": []
    }
  ],
  "provisioners": [[{"k": 1, "k": 2}]],
  "variables": {"b": "2"}
}
"""


def test_duplicate_keys_are_refused_at_every_level_with_both_lines() -> None:
    """Packer's checkForDuplicateFields (packer-plugin-sdk/template/parse.go) walks every
    object and list; the last value would otherwise silently replace the first."""
    with pytest.raises(KilnError) as err:
        parse_template(DUPLICATES, Path("t.json"))
    assert str(err.value) == (
        "Failed to parse template: 5 errors occurred:\n"
        "\t* template has duplicate field: qemuargs (builders[0], lines 6 and 8)\n"
        '\t* template has duplicate field: deep (builders[0].http_content["/b"], both on line 9)\n'
        "\t* template has duplicate field: qemuargs (builders[0], lines 6 and 10)\n"
        "\t* template has duplicate field: k (provisioners[0][0], both on line 13)\n"
        "\t* template has duplicate field: variables (lines 2 and 14)"
    )


def test_same_key_in_different_objects_is_fine() -> None:
    text = '{"builders": [{"type": "qemu", "name": "a"}, {"type": "qemu", "name": "b"}]}'
    tpl = parse_template(text, Path("t.json"))
    assert [b.name for b in tpl.builders] == ["a", "b"]


def test_duplicate_keys_with_escapes_are_the_same_key() -> None:
    text = '{"builders": [{"type": "qemu", "na\\u006de": "a", "name": "b"}]}'
    with pytest.raises(KilnError) as err:
        parse_template(text, Path("t.json"))
    assert "template has duplicate field: name (builders[0], both on line 1)" in str(err.value)
