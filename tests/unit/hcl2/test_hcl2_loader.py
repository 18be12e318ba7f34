"""Loading HCL2 templates into the template model: variables and their precedence, folders,
JSON syntax, builds, provisioners and post-processors, and the plan made from them."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiln.plan import PlanOptions, make_plan
from kiln.template.hcl2.diagnostics import HCLError
from kiln.template.hcl2.loader import load_hcl2

SOURCE = """
source "qemu" "vm" {
  iso_url      = "http://example.com/x.iso"
  iso_checksum = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
  accelerator  = "tcg"
  communicator = "none"
  vm_name      = var.name
}
"""
BUILD = 'build {\n  sources = ["source.qemu.vm"]\n}\n'


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def vm_name(
    tmp: Path,
    *,
    var_files: list[Path] | None = None,
    cli: dict[str, str] | None = None,
    env: dict[str, str] | None = None,
    template: Path | None = None,
) -> object:
    tpl = load_hcl2(template or tmp, var_files=var_files or [], cli_vars=cli or {},
                    env=env or {})  # fmt: skip
    return tpl.builders[0].config["vm_name"]


def test_variable_precedence_default_env_auto_file_var_file_cli(tmp_path: Path) -> None:
    write(tmp_path / "t.pkr.hcl", 'variable "name" {\n  default = "default"\n}\n' + SOURCE + BUILD)
    assert vm_name(tmp_path) == "default"
    assert vm_name(tmp_path, env={"PKR_VAR_name": "env"}) == "env"
    write(tmp_path / "x.auto.pkrvars.hcl", 'name = "auto"\n')
    assert vm_name(tmp_path, env={"PKR_VAR_name": "env"}) == "auto"
    vf = write(tmp_path / "my.pkrvars.hcl", 'name = "file"\n')
    assert vm_name(tmp_path, var_files=[vf]) == "file"
    jf = write(tmp_path / "my.pkrvars.json", '{"name": "json"}')
    assert vm_name(tmp_path, var_files=[vf, jf]) == "json"
    assert vm_name(tmp_path, var_files=[vf], cli={"name": "cli"}) == "cli"


def test_a_single_file_does_not_read_auto_var_files(tmp_path: Path) -> None:
    t = write(tmp_path / "t.pkr.hcl", 'variable "name" {\n  default = "d"\n}\n' + SOURCE + BUILD)
    write(tmp_path / "x.auto.pkrvars.hcl", 'name = "auto"\n')
    assert vm_name(tmp_path, template=t) == "d"


def test_folder_of_files_loads_together(tmp_path: Path) -> None:
    write(tmp_path / "variables.pkr.hcl", 'variable "name" {\n  type = string\n}\n')
    write(tmp_path / "sources.pkr.hcl", SOURCE)
    write(tmp_path / "build.pkr.hcl", BUILD)
    assert vm_name(tmp_path, cli={"name": "x"}) == "x"


def test_typed_variables_from_the_command_line_are_hcl_expressions(tmp_path: Path) -> None:
    write(tmp_path / "t.pkr.hcl",
          'variable "name" {\n  type = list(string)\n}\n'
          + SOURCE.replace("var.name", 'join("-", var.name)') + BUILD)  # fmt: skip
    assert vm_name(tmp_path, cli={"name": '["a", "b"]'}) == "a-b"
    assert vm_name(tmp_path, env={"PKR_VAR_name": '["c"]'}) == "c"


def test_required_variable_names_itself_and_how_to_set_it(tmp_path: Path) -> None:
    write(tmp_path / "t.pkr.hcl", 'variable "name" {\n  type = string\n}\n' + SOURCE + BUILD)
    with pytest.raises(HCLError) as info:
        load_hcl2(tmp_path, env={})
    text = str(info.value)
    assert 'The variable "name" is required' in text
    assert "-var 'name=VALUE'" in text and "PKR_VAR_name" in text
    assert "t.pkr.hcl:1:1" in text


def test_undeclared_cli_variable_is_an_error(tmp_path: Path) -> None:
    write(tmp_path / "t.pkr.hcl", 'variable "name" {\n  default = "d"\n}\n' + SOURCE + BUILD)
    with pytest.raises(HCLError, match='A "nmae" variable was passed in'):
        load_hcl2(tmp_path, cli_vars={"nmae": "x"}, env={})


def test_json_syntax_template(tmp_path: Path) -> None:
    write(
        tmp_path / "t.pkr.json",
        """{
  "variable": {"name": {"type": "string", "default": "from-json"}},
  "source": {"qemu": {"vm": {
    "iso_url": "http://example.com/x.iso",
    "iso_checksum": "none",
    "communicator": "none",
    "accelerator": "tcg",
    "vm_name": "${upper(var.name)}",
    "qemuargs": [["-m", "512M"]]
  }}},
  "build": {"sources": ["source.qemu.vm"],
            "provisioner": [{"shell": {"inline": ["echo ${source.name}"]}}]}
}""",
    )
    tpl = load_hcl2(tmp_path, env={})
    assert tpl.builders[0].config["vm_name"] == "FROM-JSON"
    assert tpl.builders[0].config["qemuargs"] == [["-m", "512M"]]
    assert tpl.provisioners[0].config["inline"] == ["echo vm"]


def test_json_syntax_errors_point_into_the_file(tmp_path: Path) -> None:
    write(
        tmp_path / "t.pkr.json",
        '{\n  "source": {"qemu": {"vm": {\n    "vm_name": "${nope}"\n}}},'
        ' "build": {"sources": ["source.qemu.vm"]}}',
    )
    with pytest.raises(HCLError) as info:
        load_hcl2(tmp_path, env={})
    assert "t.pkr.json:3:16" in str(info.value)


MULTI = """
source "qemu" "a" {
  iso_url      = "http://example.com/x.iso"
  iso_checksum = "none"
  accelerator  = "tcg"
  communicator = "none"
}
build {
  name    = "b"
  sources = ["source.qemu.a"]
  source "source.qemu.a" {
    name    = "second"
    vm_name = "renamed"
  }
  provisioner "shell-local" {
    inline = ["echo ${source.name} ${build.name} ${build.Host}"]
  }
  provisioner "shell-local" {
    only   = ["qemu.second"]
    inline = ["only second"]
  }
  post-processor "checksum" {
    output = "${source.name}.sum"
  }
  dynamic "post-processor" {
    for_each = ["md5"]
    labels   = ["checksum"]
    content {
      checksum_types = [post-processor.value]
      except         = ["qemu.a"]
    }
  }
}
"""


def test_builds_overrides_per_source_values_only_except_and_dynamic(tmp_path: Path) -> None:
    write(tmp_path / "t.pkr.hcl", MULTI)
    tpl = load_hcl2(tmp_path, env={})
    assert [(b.name, b.build_name) for b in tpl.builders] == [
        ("b.qemu.a", "a"),
        ("b.qemu.second", "second"),
    ]
    assert tpl.builders[1].config["vm_name"] == "renamed"
    first, second = tpl.provisioners
    assert first.only == ["b.qemu.a", "b.qemu.second"]
    assert first.config["inline"] == ["echo a b {{ build `Host` }}"]
    assert first.override == {"b.qemu.second": {"inline": ["echo second b {{ build `Host` }}"]}}
    assert second.only == ["b.qemu.second"]
    outputs = [(c[0].only, c[0].config) for c in tpl.post_processors]
    assert (["b.qemu.a"], {"output": "a.sum"}) in outputs
    assert (["b.qemu.second"], {"output": "second.sum"}) in outputs
    assert (["b.qemu.second"], {"checksum_types": ["md5"]}) in outputs


def test_plan_from_hcl_selects_builds_by_packer_names(tmp_path: Path) -> None:
    write(tmp_path / "t.pkr.hcl", MULTI)
    tpl = load_hcl2(tmp_path, env={})
    plan = make_plan(tpl, PlanOptions(only=["b.qemu.second"], cwd=tmp_path))
    assert [b.name for b in plan.builds] == ["b.qemu.second"]
    assert plan.builds[0].config.vm_name == "renamed"
    plan = make_plan(tpl, PlanOptions(except_=["*.second"], cwd=tmp_path))
    assert [b.name for b in plan.builds] == ["b.qemu.a"]
    assert plan.builds[0].config.vm_name == "packer-a"
    assert str(plan.builds[0].config.output_directory).endswith("output-a")


def test_sensitive_variables_are_secrets_of_the_plan(tmp_path: Path) -> None:
    write(tmp_path / "t.pkr.hcl",
          'variable "name" {\n  default   = "hush-hush"\n  sensitive = true\n}\n'
          + SOURCE + BUILD)  # fmt: skip
    tpl = load_hcl2(tmp_path, env={})
    plan = make_plan(tpl, PlanOptions(cwd=tmp_path))
    assert "hush-hush" in plan.secrets


def test_env_in_variable_default(tmp_path: Path) -> None:
    write(tmp_path / "t.pkr.hcl",
          'variable "name" {\n  default = env("VMNAME")\n}\n' + SOURCE + BUILD)  # fmt: skip
    assert vm_name(tmp_path, env={"VMNAME": "from-env"}) == "from-env"


def test_source_references_as_packer_reads_them(tmp_path: Path) -> None:
    """Packer 1.6.6's sourceRefFromString: `TYPE.NAME` works as well as `source.TYPE.NAME`,
    in `sources` and in a nested source block's label."""
    text = SOURCE.replace("var.name", '"v"') + (
        'build {\n  sources = ["qemu.vm"]\n}\n'
        'build {\n  name = "b2"\n  source "qemu.vm" {\n    name = "m"\n  }\n}\n'
    )
    tpl = load_hcl2(write(tmp_path / "t.pkr.hcl", text), env={})
    assert [b.name for b in tpl.builders] == ["qemu.vm", "b2.qemu.m"]


def test_dynamic_source_blocks_in_a_build(tmp_path: Path) -> None:
    """`dynamic "source"` expands into nested source blocks (Packer expands every dynamic
    block of the file before decoding it); the content sees the iterator."""
    text = (
        SOURCE.replace("var.name", '"v"')
        + """
locals {
  flavours = { a = { name = "a" }, b = { name = "b" } }
}
build {
  dynamic "source" {
    for_each = local.flavours
    labels   = ["source.qemu.vm"]
    content {
      name    = source.value.name
      vm_name = "${source.key}.qcow2"
    }
  }
}
"""
    )
    tpl = load_hcl2(write(tmp_path / "t.pkr.hcl", text), env={})
    assert [(b.name, b.config["vm_name"]) for b in tpl.builders] == [
        ("qemu.a", "a.qcow2"),
        ("qemu.b", "b.qcow2"),
    ]


def test_only_and_except_naming_no_source_match_nothing_with_a_warning(tmp_path: Path) -> None:
    """Packer 1.6.6's OnlyExcept.Skip compares names exactly and says nothing: `only`
    naming no source of the build skips the step, `except` naming none skips nothing.
    kiln does the same and warns (tylert/packer-build writes only = ["qemu", "vbox"]); the
    names of the build's other builders' sources are known names, without a warning."""
    text = (
        SOURCE.replace("var.name", '"v"')
        + """
source "virtualbox-iso" "vb" {
}
build {
  sources = ["source.qemu.vm", "source.virtualbox-iso.vb"]
  provisioner "shell" {
    only   = ["qemu", "vbox"]
    inline = ["never"]
  }
  provisioner "shell" {
    only   = ["qemu.vm", "virtualbox-iso.vb"]
    inline = ["runs"]
  }
  provisioner "shell" {
    except = ["qemu"]
    inline = ["runs too"]
  }
  provisioner "shell" {
    only   = []
    inline = ["and this"]
  }
}
"""
    )
    tpl = load_hcl2(write(tmp_path / "t.pkr.hcl", text), env={}, only=["qemu.vm"])
    assert [(p.config["inline"], p.only) for p in tpl.provisioners] == [
        (["runs"], ["qemu.vm", "virtualbox-iso.vb"]),
        (["runs too"], ["qemu.vm", "virtualbox-iso.vb"]),
        (["and this"], ["qemu.vm", "virtualbox-iso.vb"]),
    ]
    assert tpl.hcl2 is not None
    warned = [w for w in tpl.hcl2.warnings if "matches nothing" in w]
    assert [w.splitlines()[0] for w in warned] == [
        "Unknown source in only",
        "Unknown source in only",
        "Unknown source in except",
    ]


def test_a_non_qemu_source_is_an_error_only_when_its_build_is_selected(tmp_path: Path) -> None:
    """Packer's GetBuilds applies -only/-except before it starts a builder: a template
    that also builds VirtualBox images works with -only=<its qemu builds>."""
    text = SOURCE.replace("var.name", '"v"') + (
        'source "virtualbox-iso" "vb" {\n}\n'
        'build {\n  sources = ["source.qemu.vm", "source.virtualbox-iso.vb"]\n}\n'
    )
    path = write(tmp_path / "t.pkr.hcl", text)
    assert [b.name for b in load_hcl2(path, env={}, only=["qemu.vm"]).builders] == [
        "qemu.vm",
        "virtualbox-iso.vb",
    ]
    load_hcl2(path, env={}, except_=["virtualbox-iso.*"])
    with pytest.raises(HCLError, match="kiln builds with QEMU only"):
        load_hcl2(path, env={})


def test_a_newer_required_version_is_a_warning(tmp_path: Path) -> None:
    """Most templates written for Packer 1.7+ say so; kiln warns and goes on."""
    text = 'packer {\n  required_version = ">= 1.7.0"\n}\n' + SOURCE.replace("var.name", '"v"')
    tpl = load_hcl2(write(tmp_path / "t.pkr.hcl", text + BUILD), env={})
    assert tpl.hcl2 is not None
    assert [w.splitlines()[0] for w in tpl.hcl2.warnings] == ["Unsupported Packer Core version"]
    assert "requires Packer version >= 1.7.0; kiln implements Packer 1.6.6" in tpl.hcl2.warnings[0]
