"""HCL2 errors use Packer 1.6.6's summary and detail (what `packer validate` prints for the
same template), at kiln's position (file:line:col, the block, the source line and a caret).

Each expected text below was printed by Packer 1.6.6 for the same mistake; where kiln adds
to it (a position, a "Did you mean"), docs/compatibility.md says so.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SOURCE = """source "qemu" "vm" {
  iso_url      = "http://example.com/x.iso"
  iso_checksum = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
  accelerator  = "tcg"
  communicator = "none"
EXTRA
}
build {
  sources = ["source.qemu.vm"]
BUILD
}
"""


def template(extra: str = "", build: str = "", before: str = "") -> str:
    return before + SOURCE.replace("EXTRA", extra).replace("BUILD", build)


def validate(
    tmp_path: Path,
    text: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: tuple[str, ...] = (),
    expect_status: int = 1,
) -> str:
    from kiln.cli.main import main

    (tmp_path / "t.pkr.hcl").write_text(text)
    monkeypatch.chdir(tmp_path)
    for key in [k for k in os.environ if k.startswith("PKR_VAR_")]:
        monkeypatch.delenv(key)
    status = main(["validate", *args, "t.pkr.hcl"])
    out, err = capsys.readouterr()
    assert status == expect_status, out + err
    assert "Traceback" not in out + err
    return " ".join((out + err).split())  # Packer wraps its details; compare the words


def caret_line(text: str, line: int) -> str:
    """The caret under source line `line` in the (unflattened) output."""
    lines = text.splitlines()
    idx = next(i for i, s in enumerate(lines) if s.lstrip().startswith(f"{line}: "))
    return lines[idx + 1]


CASES = {
    # summary, detail and position of the diagnostic Packer prints (kiln's position)
    "unknown source argument": (
        template('  disk_sise = "10G"'),
        "Error: Unsupported argument",
        'An argument named "disk_sise" is not expected here. Did you mean "disk_size"?',
        't.pkr.hcl:6:3, in source "qemu" "vm"',
    ),
    "unknown argument in a build's source override": (
        template(build='  source "source.qemu.vm" {\n    name = "b"\n    vm_nmae = "x"\n  }'),
        "Error: Unsupported argument",
        'An argument named "vm_nmae" is not expected here. Did you mean "vm_name"?',
        "t.pkr.hcl:12:5",
    ),
    "unknown provisioner argument": (
        template(build='  provisioner "shell" {\n    inlin = ["x"]\n  }'),
        "Error: Unsupported argument",
        'An argument named "inlin" is not expected here. Did you mean "inline"?',
        't.pkr.hcl:11:5, in provisioner "shell"',
    ),
    "unknown post-processor argument": (
        template(build='  post-processor "checksum" {\n    checksum_typ = ["sha256"]\n  }'),
        "Error: Unsupported argument",
        'An argument named "checksum_typ" is not expected here. Did you mean "checksum_types"?',
        't.pkr.hcl:11:5, in post-processor "checksum"',
    ),
    "unknown nested block in a source": (
        template("  disk_block { size = 1 }"),
        "Error: Unsupported block type",
        'Blocks of type "disk_block" are not expected here.',
        "t.pkr.hcl:6:3",
    ),
    "unknown nested block in a provisioner": (
        template(build='  provisioner "shell" {\n    inline = ["x"]\n    foo {}\n  }'),
        "Error: Unsupported block type",
        'Blocks of type "foo" are not expected here.',
        "t.pkr.hcl:12:5",
    ),
    "a word for a number": (
        template('  memory = "lots"'),
        "Error: Incorrect attribute value type",
        'Inappropriate value for attribute "memory": a number is required.',
        "t.pkr.hcl:6:12",
    ),
    "a word for a bool": (
        template('  headless = "perhaps"'),
        "Error: Incorrect attribute value type",
        'Inappropriate value for attribute "headless": a bool is required.',
        "t.pkr.hcl:6:14",
    ),
    "a list for a string": (
        template('  vm_name = ["a", "b"]'),
        "Error: Incorrect attribute value type",
        'Inappropriate value for attribute "vm_name": string required.',
        "t.pkr.hcl:6:13",
    ),
    "an object for a string": (
        template("  vm_name = { a = 1 }"),
        "Error: Incorrect attribute value type",
        'Inappropriate value for attribute "vm_name": string required.',
        "t.pkr.hcl:6:13",
    ),
    "a string for a list (JSON's weak decoding would accept it)": (
        template('  boot_command = "<enter>,<wait>"'),
        "Error: Incorrect attribute value type",
        'Inappropriate value for attribute "boot_command": list of string required.',
        "t.pkr.hcl:6:18",
    ),
    "a string for a list in a provisioner": (
        template(build='  provisioner "shell" {\n    inline = "echo hi"\n  }'),
        "Error: Incorrect attribute value type",
        'Inappropriate value for attribute "inline": list of string required.',
        "t.pkr.hcl:11:14",
    ),
    "a list inside a list of strings": (
        template('  iso_urls = [["a"]]'),
        "Error: Incorrect attribute value type",
        'Inappropriate value for attribute "iso_urls": element 0: string required.',
        "t.pkr.hcl:6:14",
    ),
    "a hexadecimal string for a number": (
        template('  cpus = "0x10"'),
        "Error: Incorrect attribute value type",
        'Inappropriate value for attribute "cpus": a number is required.',
        "t.pkr.hcl:6:10",
    ),
    "a number for a list of lists": (
        template("  qemuargs = 5"),
        "Error: Incorrect attribute value type",
        'Inappropriate value for attribute "qemuargs": list of list of string required.',
        "t.pkr.hcl:6:14",
    ),
    "a word for a number in an override": (
        template(build='  source "source.qemu.vm" {\n    name = "b"\n    memory = "lots"\n  }'),
        "Error: Incorrect attribute value type",
        'Inappropriate value for attribute "memory": a number is required.',
        "t.pkr.hcl:12:14",
    ),
    "a word for a bool in a provisioner": (
        template(
            build='  provisioner "shell" {\n    inline = ["x"]\n'
            '    expect_disconnect = "maybe"\n  }'
        ),
        "Error: Incorrect attribute value type",
        'Inappropriate value for attribute "expect_disconnect": a bool is required.',
        "t.pkr.hcl:12:25",
    ),
    "a word for a number in a post-processor": (
        template(build='  post-processor "compress" {\n    compression_level = "high"\n  }'),
        "Error: Incorrect attribute value type",
        'Inappropriate value for attribute "compression_level": a number is required.',
        "t.pkr.hcl:11:25",
    ),
    "unknown top-level block": (
        'sauce "qemu" "x" {}\n',
        "Error: Unsupported block type",
        'Blocks of type "sauce" are not expected here. Did you mean "source"?',
        "t.pkr.hcl:1:1",
    ),
    "unknown argument in a variable": (
        template(before='variable "x" {\n  defualt = "a"\n}\n'),
        "Error: Unsupported argument",
        'An argument named "defualt" is not expected here. Did you mean "default"?',
        't.pkr.hcl:2:3, in variable "x"',
    ),
    "unknown block in a variable": (
        template(before='variable "a" {\n  default = 1\n  valdation { }\n}\n'),
        "Error: Unsupported block type",
        'Blocks of type "valdation" are not expected here. Did you mean "validation"?',
        't.pkr.hcl:3:3, in variable "a"',
    ),
    "unknown argument in packer": (
        template(before='packer {\n  required_versoin = ">= 1.0"\n}\n'),
        "Error: Unsupported argument",
        'An argument named "required_versoin" is not expected here. '
        'Did you mean "required_version"?',
        "t.pkr.hcl:2:3, in packer",
    ),
    "unknown block in packer": (
        template(before="packer {\n  required_plugin { }\n}\n"),
        "Error: Unsupported block type",
        'Blocks of type "required_plugin" are not expected here.',
        "t.pkr.hcl:2:3, in packer",
    ),
    "a block in locals": (
        template(before="locals {\n  a = 1\n  x { }\n}\n"),
        'Error: Unexpected "x" block',
        "Blocks are not allowed here.",
        "t.pkr.hcl:3:3, in locals",
    ),
    "variable without a name": (
        template(before="variable {\n}\n"),
        "Error: Missing name for variable",
        "All variable blocks must have 1 labels (name).",
        "t.pkr.hcl:1:1",
    ),
    "source without a name": (
        template(before='source "qemu" {\n}\n'),
        "Error: Missing name for source",
        "All source blocks must have 2 labels (type, name).",
        "t.pkr.hcl:1:1",
    ),
    "unknown provisioner type": (
        template(build='  provisioner "ansibel" {\n  }'),
        'Error: Unknown provisioner type "ansibel"',
        'did you mean "ansible"?',
        "t.pkr.hcl:10:15",
    ),
    "unknown source in a build": (
        template().replace('["source.qemu.vm"]', '["source.qemu.vn"]'),
        "Error: Unknown source qemu.vn",
        'Did you mean "qemu.vm"?',
        "t.pkr.hcl:9:14",
    ),
    "a data block": (
        template(before='data "amazon-ami" "x" {\n}\n'),
        "Error: Unsupported block type",
        'Blocks of type "data" are not expected here: kiln has no data sources',
        "t.pkr.hcl:1:1",
    ),
    "a default that does not fit its type": (
        template(
            before='variable "v" {\n  type = list(object({ a = number }))\n'
            '  default = [{ a = 1 }, { a = ["b"] }]\n}\n'
        ),
        "Error: Invalid default value for variable",
        "This default value is not compatible with the variable's type constraint "
        '(list(object({a=number}))): element 1: attribute "a": number required.',
        "t.pkr.hcl:3:13",
    ),
    "unset variable": (
        template("  vm_name = var.size", before='variable "size" {\n  type = string\n}\n'),
        'Error: Unset variable "size"',
        'The variable "size" is required',
        "t.pkr.hcl:1:1",
    ),
    "validation message that is no sentence": (
        template(
            before='variable "size" {\n  default = "a"\n  validation {\n'
            '    condition = length(var.size) > 3\n    error_message = "too short"\n'
            "  }\n}\n"
        ),
        "Error: Invalid validation error message",
        "Validation error message must be at least one full sentence starting with an "
        "uppercase letter ( if the alphabet permits it ) and ending with a period or "
        "question mark.",
        "t.pkr.hcl:5:21",
    ),
    "validation failure of a default": (
        template(
            before='variable "size" {\n  default = 3\n  validation {\n'
            "    condition = var.size > 10\n"
            '    error_message = "The size must be more than 10."\n  }\n}\n'
        ),
        "Error: Invalid value for default variable",
        "The size must be more than 10. This was checked by the validation rule at t.pkr.hcl:4:",
        "t.pkr.hcl:1:1",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_hcl_errors_use_packers_summary_and_detail(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    text, summary, detail, where = CASES[case]
    out = validate(tmp_path, text, monkeypatch, capsys)
    assert summary in out, out
    assert detail in out, out
    assert f"on {where}" in out, out
    assert "unknown configuration key" not in out, out  # JSON's wording, not HCL's
    assert "Failed to prepare build" not in out or "Unsupported" not in out, out


def test_a_typo_does_not_place_the_missing_option_error_on_another_attribute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`ssh_usernam = "root"`: the typo is one error at its name; "An ssh_username must be
    specified" is about the block, so it points at the block's header (`source "qemu" "vm"`,
    HCL's DefRange), never at the value "root" that happens to appear in its note."""
    from kiln.cli.main import main

    text = template('  communicator = "ssh"\n  ssh_usernam = "root"').replace(
        '  communicator = "none"\n', ""
    )
    (tmp_path / "t.pkr.hcl").write_text(text)
    monkeypatch.chdir(tmp_path)
    assert main(["validate", "t.pkr.hcl"]) == 1
    out, err = capsys.readouterr()
    raw = out + err
    assert raw.count("Error: Unsupported argument") == 1, raw
    assert "'\"ssh_usernam\"'" not in raw, raw
    missing = raw[raw.index("An ssh_username must be specified") - 400 :]
    block = missing[missing.rindex("Error:") :]
    assert "on t.pkr.hcl:1:1:" in block, raw
    assert '  1: source "qemu" "vm" {' in block, raw
    assert block.splitlines()[4].strip() == "^" * len('source "qemu" "vm"'), raw
    assert "6:" not in block.split("An ssh_username")[0].split("Error:")[1], raw


def test_a_failed_declaration_is_not_also_reported_as_unset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    text = template(before='variable "n" {\n  type = number\n  default = "abc"\n}\n')
    out = validate(tmp_path, text, monkeypatch, capsys)
    assert "Invalid default value for variable" in out, out
    assert "Unset variable" not in out, out


def test_an_unset_variable_is_not_also_an_unknown_reference(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    text = template("  vm_name = var.size", before='variable "size" {\n  type = string\n}\n')
    out = validate(tmp_path, text, monkeypatch, capsys)
    assert out.count("Error:") == 1, out
    assert "There is no input variable" not in out, out


def test_undeclared_cli_variable_uses_packers_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = validate(tmp_path, template(), monkeypatch, capsys, args=("-var", "nope=1"))
    assert (
        'Error: Undefined -var variable A "nope" variable was passed in the command line '
        "but was not found in known variables."
    ) in out, out


def test_undeclared_variable_in_a_var_file_is_a_warning_as_in_packer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A variable file shared between templates may set variables one of them does not
    declare: Packer warns, and so does kiln (pointing at the assignment)."""
    (tmp_path / "v.pkrvars.hcl").write_text("nope = 1\n")
    (tmp_path / "v.json").write_text('{\n  "other": 1\n}\n')
    out = validate(tmp_path, template(), monkeypatch, capsys,
                   args=("-var-file", "v.pkrvars.hcl", "-var-file", "v.json"),
                   expect_status=0)  # fmt: skip
    assert "Warning: Undefined variable" in out, out
    assert 'A "nope" variable was set but was not found in known variables.' in out, out
    assert 'A "other" variable was set but was not found in known variables.' in out, out
    assert "on v.pkrvars.hcl:1:1:" in out, out
    assert 'on v.json:2:3: 2: "other": 1' in out, out


def test_hcl_values_convert_as_cty_converts_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`vm_name = true` is the string "true" (cty), and `cpus = "2"` the number 2."""
    from kiln.cli.main import main

    text = template('  vm_name = true\n  cpus = "2"\n  format = "raw"')
    (tmp_path / "t.pkr.hcl").write_text(text)
    monkeypatch.chdir(tmp_path)
    assert main(["build", "-dry-run", "t.pkr.hcl"]) == 0
    out = capsys.readouterr().out
    assert "output-vm/true" in out, out
    assert "-smp 2 " in out, out


@pytest.mark.parametrize(
    ("args", "env", "summary", "detail"),
    [
        (("-var", "size=abc"), {}, "Error: Invalid argument value for -var variable",
         'The value for "size" given in -var size is not compatible with the variable\'s type '
         "constraint (number): a number is required."),
        (("-var", "names=[1,[2]]"), {}, "Error: Invalid argument value for -var variable",
         "(list(string)): element 1: string required."),
        ((), {"PKR_VAR_size": "abc"}, "Error: Invalid value for variable",
         'The value for "size" given in PKR_VAR_size is not compatible with the variable\'s '
         "type constraint (number): a number is required."),
    ],
)  # fmt: skip
def test_variable_values_that_do_not_fit_use_packers_summaries(
    args: tuple[str, ...],
    env: dict[str, str],
    summary: str,
    detail: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A number variable takes -var and PKR_VAR_ values as literal strings (as Packer's
    expressionFromVariableDefinition does), so `abc` is "a number is required"."""
    text = template(
        before='variable "size" {\n  type = number\n  default = 1\n}\n'
        'variable "names" {\n  type = list(string)\n  default = []\n}\n'
    )
    from kiln.cli.main import main

    (tmp_path / "t.pkr.hcl").write_text(text)
    monkeypatch.chdir(tmp_path)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert main(["validate", *args, "t.pkr.hcl"]) == 1
    out, err = capsys.readouterr()
    flat = " ".join((out + err).split())
    assert summary in flat, flat
    assert detail in flat, flat


def test_a_missing_option_error_points_at_the_block_unless_it_names_a_set_option() -> None:
    from kiln.template.hcl2.ast import Pos, Range
    from kiln.template.hcl2.diagnostics import Sources
    from kiln.template.hcl2.model import Hcl2Info, Scope
    from kiln.template.hcl2.report import diagnostics_for

    def rng(line: int, col: int, end: int) -> Range:
        return Range("t.pkr.hcl", Pos(line, col), Pos(line, end))

    sources = Sources()
    sources.add(
        "t.pkr.hcl",
        'source "qemu" "vm" {\n  ssh_usernam = "root"\n  ssh_certificate_file = "c"\n}\n',
    )
    scope = Scope(rng(1, 1, 19), 'source "qemu" "vm"')
    scope.names = {"ssh_usernam": rng(2, 3, 14), "ssh_certificate_file": rng(3, 3, 23)}
    scope.values = {"ssh_usernam": rng(2, 17, 23), "ssh_certificate_file": rng(3, 26, 29)}
    info = Hcl2Info(sources, builders={"qemu.vm": scope})
    errors = [
        "An ssh_username must be specified\n"
        '  Note: some builders used to default ssh_username to "root".',
        "ssh_private_key_file must be specified if ssh_certificate_file is specified",
    ]
    diags = diagnostics_for(info, [('Error: Failed to prepare build: "qemu.vm"', errors)])
    assert [d.subject for d in diags] == [scope.header, scope.values["ssh_certificate_file"]]


def test_sources_from_a_variable_is_refused_in_packers_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Packer 1.6.6 decodes a build's sources with no variables: "Variables not allowed".
    One error, not a second "Missing sources" about the same block."""
    text = (
        'variable "enabled" {\n  default = ["source.qemu.vm"]\n}\n'
        'source "qemu" "vm" {\n  iso_url = "x.iso"\n  iso_checksum = "none"\n'
        '  communicator = "none"\n}\nbuild {\n  sources = var.enabled\n}\n'
    )
    out = validate(tmp_path, text, monkeypatch, capsys, expect_status=1)
    assert "Error: Variables not allowed" in out, out
    assert "Missing sources" not in out, out
