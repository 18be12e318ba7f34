"""`kiln inspect` of HCL2 templates: Packer 1.6.6's own inspect tests, ported.

The templates and expected outputs are those of `command/inspect_test.go` (`Test_commands`)
and `command/test-fixtures/` at Packer v1.6.6, byte for byte; only the files are written
here instead of read from Packer's fixture folders.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kiln.cli.main import main

# ruff: noqa: E501 (Packer's expected outputs are kept byte for byte)
from kiln.template.hcl2.inspect import format_result

FRUIT_BUILDER = """
variable "fruit" {
    type = string
}

locals {
    fruit = var.fruit
}

source "null" "builder" {
    communicator = "none"
}

build {
    sources = [
        "source.null.builder",
    ]

    provisioner "shell-local" {
        inline = ["echo ${local.fruit} > ${local.fruit}.txt"]
    }
}
"""

FRUIT_STRING = """
variable "fruit" {
  type = string
  default = "banana"
}

variable "unknown_string" {
  type = string
}


variable "unknown_list_of_string" {
  type = list(string)
}

variable "unknown_unknown" {
}

variable "default_from_env" {
  default = env("DEFAULT_FROM_ENV")
}

variable "other_default_from_env" {
  default = env("OTHER_DEFAULT_FROM_ENV")
}
"""

AWS_BUILDS = """

build {
  name = "aws_example_builder"
  description = <<EOF
The builder of clouds !!

Use it at will.
EOF

  sources = [
      "source.amazon-ebs.example-1",

      // this one is not defined but we don't want to error there, we just
      // would like to show what sources are being referenced.
      "source.amazon-ebs.example-2",
  ]

  provisioner "shell" {
    files = [
      "bins/install-this.sh",
      "bins/install-that.sh",
      "bins/conf-this.sh",
    ]
  }

  post-processor "manifest" {
  }

  post-processor "shell-local" {
  }

  post-processors {
    post-processor "manifest" {
    }

    post-processor "shell-local" {
    }
  }
}"""

SENSITIVE_VARS = """
variable "not_sensitive" {
  default   = "I am soooo not sensitive"
}

variable "not_sensitive_unknown" {
}

variable "sensitive" {
  default   = "I am soooo sensitive"
  sensitive = true
}

variable "sensitive_array" {
  default   = ["Im supersensitive", "me too !!!!"]
  sensitive = true
}

variable "sensitive_tags" {
  default   = {
      first_key  = "this-is-mega-sensitive"
      second_key = "this-is-also-sensitive"
  }
  sensitive = true
}

variable "sensitive_unknown" {
  sensitive = true
}
"""

FRUIT_UNKNOWN = """Packer Inspect: HCL2 mode

> input-variables:

var.fruit: "<unknown>"

> local-variables:

local.fruit: "<unknown>"

> builds:

  > <unnamed build 0>:

    sources:

      null.builder

    provisioners:

      shell-local

    post-processors:

      <no post-processor>

"""

CASES = [
    (["inspect", "var-arg/fruit_builder.pkr.hcl"], {}, FRUIT_UNKNOWN),
    (
        ["inspect", "-var=fruit=banana", "var-arg/fruit_builder.pkr.hcl"],
        {},
        FRUIT_UNKNOWN.replace('"<unknown>"', '"banana"'),
    ),
    (
        ["inspect", "-var=fruit=peach", "-var=unknown_string=also_peach",
         '-var=unknown_unknown=["peach_too"]',
         '-var=unknown_list_of_string=["first_peach", "second_peach"]',
         "hcl/inspect/fruit_string.pkr.hcl"],
        {},
        """Packer Inspect: HCL2 mode

> input-variables:

var.default_from_env: ""
var.fruit: "peach"
var.other_default_from_env: ""
var.unknown_list_of_string: "[\\n  \\"first_peach\\",\\n  \\"second_peach\\",\\n]"
var.unknown_string: "also_peach"
var.unknown_unknown: "[\\"peach_too\\"]"

> local-variables:


> builds:

""",
    ),
    (
        ["inspect", "-var=fruit=peach", "-var=other_default_from_env=apple", "hcl/inspect"],
        {"DEFAULT_FROM_ENV": "cherry"},
        """Packer Inspect: HCL2 mode

> input-variables:

var.default_from_env: "cherry"
var.fruit: "peach"
var.other_default_from_env: "apple"
var.unknown_list_of_string: "<unknown>"
var.unknown_string: "<unknown>"
var.unknown_unknown: "<unknown>"

> local-variables:


> builds:

  > aws_example_builder:

  > Description: The builder of clouds !!

Use it at will.


    sources:

      amazon-ebs.example-1

      amazon-ebs.example-2

    provisioners:

      shell

    post-processors:

      0:
        manifest

      1:
        shell-local

      2:
        manifest
        shell-local

""",
    ),
    (
        ["inspect", "hcl-inspect-with-sensitive-vars"],
        {},
        """Packer Inspect: HCL2 mode

> input-variables:

var.not_sensitive: "I am soooo not sensitive"
var.not_sensitive_unknown: "<unknown>"
var.sensitive: "<sensitive>"
var.sensitive_array: "[\\n  \\"<sensitive>\\",\\n  \\"<sensitive>\\",\\n]"
var.sensitive_tags: "{\\n  \\"first_key\\" = \\"<sensitive>\\"\\n  \\"second_key\\" = \\"<sensitive>\\"\\n}"
var.sensitive_unknown: "<unknown>"

> local-variables:


> builds:

""",
    ),
]  # fmt: skip


@pytest.fixture
def fixtures(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    files = {
        "var-arg/fruit_builder.pkr.hcl": FRUIT_BUILDER,
        "hcl/inspect/fruit_string.pkr.hcl": FRUIT_STRING,
        "hcl/inspect/aws-builds.pkr.hcl": AWS_BUILDS,
        "hcl/inspect/virtualbox-builds.pkr.hcl": "",
        "hcl-inspect-with-sensitive-vars/vars.pkr.hcl": SENSITIVE_VARS,
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    monkeypatch.chdir(tmp_path)
    for name in ("DEFAULT_FROM_ENV", "OTHER_DEFAULT_FROM_ENV"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.mark.parametrize("case", CASES, ids=[" ".join(c[0][1:]) for c in CASES])
def test_packer_inspect_cases(
    case: tuple[list[str], dict[str, str], str],
    fixtures: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv, env, expected = case
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert (out, err) == (expected, "")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "null"), (True, "true"), ("a\nb", "a\nb"), (1, "1"), (1.5, "1.5"),
        (1e21, "1e+21"), ([], "[]"), ({}, "{}"), (["a", 1, None], '[\n  "a",\n  1,\n  null,\n]'),
        ({"b": [1], "a": {"x": "y"}},
         '{\n  "a" = {\n    "x" = "y"\n  }\n  "b" = [\n    1,\n  ]\n}'),
    ],
)  # fmt: skip
def test_format_result(value: object, text: str) -> None:
    """Packer's `repl.FormatResult` (hcl2template/repl/format.go at v1.6.6)."""
    assert format_result(value) == text
