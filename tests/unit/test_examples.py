"""The examples validate and dry-run (CI runs these; the builds are end-to-end tests).

The ISOs are made at example time (guest/build.py, examples/debian12/build_iso.py); here a
placeholder with its SHA256SUMS stands in, so the templates, their variables, preseed and
boot commands are checked without a download.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from kiln.cli.main import main

REPO = Path(__file__).resolve().parents[2]
DEBIAN = REPO / "examples" / "debian12"


def placeholder_iso(directory: Path, name: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    iso = directory / name
    iso.write_bytes(b"not really an ISO\n")
    digest = hashlib.sha256(iso.read_bytes()).hexdigest()
    (directory / "SHA256SUMS").write_text(f"{digest}  {name}\n")
    return iso


@pytest.mark.parametrize(
    ("template", "iso_var", "iso_name"),
    [("examples/debian12/template.json", "iso_dir", "debian12-netboot.iso"),
     ("examples/tiny/template.json", "guest_dir", "tiny-installer.iso")],
)  # fmt: skip
def test_example_validates_and_dry_runs(
    template: str,
    iso_var: str,
    iso_name: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("KILN_CACHE_DIR", str(tmp_path / "cache"))
    iso = placeholder_iso(tmp_path / "iso", iso_name)
    args = ["-var", f"{iso_var}={iso.parent}", "-var", f"output_directory={tmp_path}/out"]
    assert main(["validate", *args, template]) == 0, capsys.readouterr().out
    assert capsys.readouterr().out.endswith("Template validated successfully.\n")
    assert main(["build", "-dry-run", "-color=false", *args, template]) == 0
    out = capsys.readouterr().out
    qemu = next(line for line in out.splitlines() if "qemu-system-x86_64" in line)
    assert f"-drive file={iso},media=cdrom" in qemu
    assert "qemu-img create -f qcow2" in out


def test_debian_boot_command_points_at_the_preseed_on_kilns_http_server() -> None:
    template = json.loads((DEBIAN / "template.json").read_text())
    (builder,) = template["builders"]
    typed = "".join(builder["boot_command"])
    assert "url=http://{{ .HTTPIP }}:{{ .HTTPPort }}/preseed.cfg" in typed
    assert "auto=true priority=critical" in typed
    assert builder["http_directory"] == "{{template_dir}}/http"
    assert (DEBIAN / "http" / "preseed.cfg").is_file()


def preseed(path: Path) -> dict[str, str]:
    """question → value of a preseed file (`owner question type value`)."""
    answers = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            _owner, question, _type, *value = line.split(None, 3)
            answers[question] = value[0] if value else ""
    return answers


@pytest.mark.parametrize(
    ("preseed_file", "template_file", "password_var"),
    [(DEBIAN / "http" / "preseed.cfg", DEBIAN / "template.json", "root_password"),
     (REPO / "tests/data/valid/http/preseed.cfg", REPO / "tests/data/valid/debian-preseed.json",
      "ssh_password")],
)  # fmt: skip
def test_preseed_answers_everything_an_unattended_install_asks(
    preseed_file: Path, template_file: Path, password_var: str
) -> None:
    answers = preseed(preseed_file)
    for question in ("debian-installer/locale", "keyboard-configuration/xkb-keymap",
                     "netcfg/choose_interface", "mirror/country", "passwd/root-login",
                     "partman-auto/method", "partman/confirm_nooverwrite",
                     "tasksel/first", "grub-installer/bootdev", "finish-install/reboot_in_progress",
                     "preseed/late_command"):  # fmt: skip
        assert question in answers, question
    assert "ssh-server" in answers["tasksel/first"]
    assert re.search(r"PermitRootLogin yes", answers["preseed/late_command"])
    password = json.loads(template_file.read_text())["variables"][password_var]
    assert answers["passwd/root-password"] == password
    assert answers["passwd/root-password-again"] == password


def test_build_iso_knows_where_the_netboot_package_keeps_kernel_and_initrd() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_iso", DEBIAN / "build_iso.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    on_iso = {dest for _pkg, _inside, dest in module.FILES}
    assert on_iso == {"install.amd/vmlinuz", "install.amd/initrd.gz", "isolinux/isolinux.bin",
                      "isolinux/ldlinux.c32"}  # fmt: skip
    assert "KERNEL /install.amd/vmlinuz" in module.ISOLINUX_CFG
    assert "console=ttyS0" in module.ISOLINUX_CFG
