"""One template with what the issue's survey of public HCL2 qemu templates found in them
(`packer { required_plugins }`, typed variables with `validation`, `locals`, `path.root`,
`templatefile`, `lookup`, `for`, conditionals, `sensitive`, unquoted labels,
`legacy_isotime`, `qemuargs`, `http_content`, `cd_content`, `efi_boot`, the build-time values
`{{ .HTTPIP }}`/`{{ .Vars }}`/`{{ .Path }}`, `error-cleanup-provisioner`, `packer.version`,
`path.cwd`, `build.ID`), loaded, planned, and its late values rendered as the steps render
them (the same `render` and the same data names as step_boot and the shell provisioner)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kiln.plan import PlanOptions, make_plan
from kiln.template.engine import render
from kiln.template.hcl2.diagnostics import HCLError
from kiln.template.hcl2.loader import load_hcl2

SURVEY = """
packer {
  required_version = ">= 1.6.0"
  required_plugins {
    qemu = {
      version = ">= 1.0.0"
      source  = "github.com/hashicorp/qemu"
    }
  }
}

variable "disks" {
  type    = list(string)
  default = ["a", "b"]
  validation {
    condition     = length(var.disks) > 0
    error_message = "At least one disk name is needed."
  }
}

variable "efi" {
  type    = bool
  default = false
}

variable "password" {
  type      = string
  default   = "s3cret-pw"
  sensitive = true
}

variable "sizes" {
  type    = map(number)
  default = { small = 1024, big = 4096 }
}

locals {
  stamp  = legacy_isotime("20060102")
  iso    = "${path.root}/x.iso"
  memory = lookup(var.sizes, "small", 512)
  names  = [for d in var.disks : upper(d) if d != "z"]
  kick   = templatefile("${path.root}/http/ks.tpl", { user = "root", disks = var.disks })
}

source qemu debian {
  iso_url          = local.iso
  iso_checksum     = "none"
  accelerator      = "tcg"
  communicator     = "ssh"
  memory           = local.memory
  efi_boot         = var.efi
  vm_name          = "deb-${join("-", local.names)}"
  output_directory = "out-${local.stamp}"
  qemuargs         = [["-smp", "2"], ["-name", "{{ .Name }}"]]
  http_content     = { "/ks.cfg" = local.kick }
  cd_content       = { "meta-data" = "instance-id: ${source.name}" }
  boot_command     = [
    "<esc><wait>",
    "linux ks=http://{{ .HTTPIP }}:{{ .HTTPPort }}/ks.cfg ${var.efi ? "efi" : "bios"}<enter>",
  ]
  ssh_username     = "root"
  ssh_password     = var.password
  shutdown_command = "echo '${var.password}' | sudo -S shutdown -P now"
}

build {
  name    = "deb"
  sources = ["source.qemu.debian"]

  provisioner "shell" {
    environment_vars = ["WHO=${source.name}"]
    execute_command  = "chmod +x {{ .Path }}; {{ .Vars }} sudo -E sh '{{ .Path }}'"
    inline           = ["echo ${packer.version} ${build.ID} ${path.cwd}"]
    only             = ["qemu.debian"]
  }

  error-cleanup-provisioner "shell-local" {
    inline = ["echo cleanup ${build.name}"]
  }
}
"""

KICKSTART = "user ${user}\n%{ for d in disks ~}\ndisk ${d}\n%{ endfor ~}\n"


@pytest.fixture
def survey(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "http").mkdir()
    (tmp_path / "http" / "ks.tpl").write_text(KICKSTART)
    (tmp_path / "x.iso").write_bytes(b"\0" * 2048)
    (tmp_path / "t.pkr.hcl").write_text(SURVEY)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def plan_of(folder: Path, template: str = "t.pkr.hcl", **cli: str) -> object:
    tpl = load_hcl2(template, cli_vars=cli, env={}, cwd=folder)
    return make_plan(tpl, PlanOptions(cwd=folder, cli_vars=cli))


def test_options_from_every_surveyed_construct(survey: Path) -> None:
    plan = plan_of(survey)
    (build,) = plan.builds  # type: ignore[attr-defined]
    c = build.config
    assert build.name == "deb.qemu.debian"
    assert c.memory == 1024
    assert c.vm_name == "deb-A-B"
    assert c.efi_boot is False
    assert re.fullmatch(r"out-\d{8}", str(c.output_directory))
    assert c.qemuargs == [["-smp", "2"], ["-name", "{{ .Name }}"]]
    assert c.http_content == {"/ks.cfg": "user root\ndisk a\ndisk b\n"}
    assert c.cd_content == {"meta-data": "instance-id: debian"}
    # path.root is the folder as Packer names it: "." for a file named without one.
    assert c.iso_url == "./x.iso"
    assert "s3cret-pw" in plan.secrets  # type: ignore[attr-defined]
    assert build.error_cleanup is not None
    assert build.error_cleanup.raw["inline"] == ["echo cleanup deb"]


def test_path_root_is_the_folder_as_given(survey: Path) -> None:
    (build,) = plan_of(survey, str(survey)).builds  # type: ignore[attr-defined]
    assert build.config.iso_url == f"{survey.as_posix()}/x.iso"


def test_build_time_values_are_rendered_by_the_steps(survey: Path) -> None:
    (build,) = plan_of(survey).builds  # type: ignore[attr-defined]
    funcs = build.functions({"ID": "build-42"})
    typed = "".join(build.config.boot_command)
    boot = {"HTTPIP": "10.0.2.2", "HTTPPort": 8123, "Name": "deb-A-B", "SSHPublicKey": ""}
    assert render(typed, boot, funcs) == (
        "<esc><wait>linux ks=http://10.0.2.2:8123/ks.cfg bios<enter>"
    )
    assert render(build.config.qemuargs[1][1], boot, funcs) == "deb-A-B"
    (shell,) = build.provisioners
    command = render(shell.config.execute_command,
                     {"Vars": "WHO='debian' ", "Path": "/tmp/script_1.sh"}, funcs)  # fmt: skip
    assert command == "chmod +x /tmp/script_1.sh; WHO='debian'  sudo -E sh '/tmp/script_1.sh'"
    assert shell.raw["environment_vars"] == ["WHO=debian"]
    (line,) = shell.raw["inline"]
    assert render(line, {}, funcs) == f"echo 1.6.6 build-42 {survey.as_posix()}"


def test_typed_variables_from_the_command_line(survey: Path) -> None:
    (build,) = plan_of(survey, efi="true", disks='["x"]').builds  # type: ignore[attr-defined]
    assert build.config.efi_boot is True
    assert build.config.vm_name == "deb-X"
    assert "ks.cfg efi<enter>" in "".join(build.config.boot_command)


def test_validation_block_refuses_with_its_message(survey: Path) -> None:
    with pytest.raises(HCLError) as info:
        plan_of(survey, disks="[]")
    text = str(info.value)
    assert "At least one disk name is needed." in text
    assert "t.pkr.hcl:" in text
