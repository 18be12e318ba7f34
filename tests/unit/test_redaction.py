"""Secrets in every output channel, and the user's own words left alone (issue 10 §2.1,
issue 15 items 3-6).

Two things must hold at once: a secret never reaches the terminal, `-machine-readable`, the
debug log, `-dry-run` or the failure report; and a secret that happens to be a common word
(`vagrant`, `centos`, `packer`) does not rewrite the types, build names and paths the user
wrote outside secret fields. These tests run the real CLI in-process on small templates.
"""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path
from typing import Any

import pytest

from kiln.cli.main import main

ISO = {
    "iso_url": "http://example.invalid/installer.iso",
    "iso_checksum": "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
}
BUILDER: dict[str, Any] = {"type": "qemu", **ISO, "ssh_username": "root", "accelerator": "tcg",
                           "headless": True}  # fmt: skip
# Secrets with every character that quoting or a line-based format could trip over.
HOSTILE = ["pa ss'wd", 'q"uo\\te', "new\nline", "tab\there$(x)`y`"]


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A neutral environment for in-process runs: cwd is `tmp_path`, nothing is started."""
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "PACKER_LOG", "PACKER_LOG_PATH", "KILN_LOG",
                 "KILN_LOG_PATH", "XDG_CACHE_HOME"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PACKER_CACHE_DIR", str(tmp_path / "packer-cache"))
    monkeypatch.setenv("KILN_CACHE_DIR", str(tmp_path / "kiln-cache"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(
    capsys: pytest.CaptureFixture[str], template: dict[str, Any], *args: str
) -> tuple[int, str]:
    Path("t.json").write_text(json.dumps(template))
    capsys.readouterr()
    code = main([*args, "t.json"])
    out, err = capsys.readouterr()
    return code, out + err


# --- a secret that is a common word ---------------------------------------------------------

# bento-like: the password is "vagrant", and "vagrant" is also a type, a name and a path part.
COMMON_WORD = {
    "variables": {"template": "vagrant-7-x86_64", "build_directory": "builds"},
    "builders": [
        {**BUILDER, "name": "debian83-vagrant", "ssh_username": "vagrant",
         "ssh_password": "vagrant", "vm_name": "packer-{{user `template`}}",
         "output_directory": "{{user `build_directory`}}/packer-{{user `template`}}-qemu",
         "qemuargs": [["-fw_cfg", "name=opt/pw,string={{ user `template` }}"]]},
    ],
}  # fmt: skip


def test_a_common_word_secret_leaves_names_types_and_paths_alone(
    cli: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, output = run(capsys, COMMON_WORD, "build", "-dry-run")
    assert code == 0, output
    assert "<sensitive>" not in output
    assert "    debian83-vagrant: qemu-img create -f qcow2 " in output
    assert "builds/packer-vagrant-7-x86_64-qemu/packer-vagrant-7-x86_64 " in output
    assert "-fw_cfg name=opt/pw,string=vagrant-7-x86_64" in output


def test_a_common_word_secret_in_validation_errors(
    cli: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template = {
        "builders": [
            {**COMMON_WORD["builders"][0], "disk_size": "lots", "floppy_files": ["vagrant.cfg"]},
            {"type": "vagrant", "name": "vagrant"},
        ],
        "variables": COMMON_WORD["variables"],
    }
    code, output = run(capsys, template, "validate")
    assert code == 1
    assert "<sensitive>" not in output
    assert 'Error: Failed to prepare build: "debian83-vagrant"' in output
    assert "Bad Floppy disk file 'vagrant.cfg': stat vagrant.cfg: no such file" in output
    assert "builder type 'vagrant' is not supported by kiln" in output
    assert 'Error: Failed to prepare build: "vagrant"' in output


def test_a_type_that_contains_the_secret_word_stays(
    cli: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """mrlesmithjr/packer-templates: password `vagrant`, post-processor `vagrant-cloud`
    (whose box_tag is missing): the message named `(<sensitive>-cloud)` and
    `<sensitive>_cloud_url`."""
    template = {
        **COMMON_WORD,
        "post-processors": [[{"type": "vagrant"}, {"type": "vagrant-cloud", "version": "1"}]],
    }
    code, output = run(capsys, template, "validate")
    assert code == 1
    assert "<sensitive>" not in output
    assert "post-processor 1.2 (vagrant-cloud): box_tag must be set" in output
    assert "must be set if vagrant_cloud_url has not been overridden" in output  # an option name


def test_variable_names_that_contain_the_secret_word_stay(
    cli: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """upperstream/packer-templates: `"vagrant_password": "vagrant"` read by ssh_password; the
    warning about an undefined variable listed `<sensitive>_password, <sensitive>_username`."""
    template = {
        "variables": {"vagrant_username": "vagrant", "vagrant_password": "vagrant"},
        "builders": [{**BUILDER, "ssh_username": "{{user `vagrant_username`}}",
                      "ssh_password": "{{user `vagrant_password`}}",
                      "vm_name": "x{{user `qemu_display`}}"}],
    }  # fmt: skip
    code, output = run(capsys, template, "validate")
    assert code == 0, output
    assert "<sensitive>" not in output
    assert "(defined: vagrant_password, vagrant_username)" in output


def test_the_iso_name_from_the_url_stays_in_a_dry_run(
    cli: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """osuosl/packer-templates: password `debian`, ISO `.../debian-10.10.0-amd64-netinst.iso`
    checked against a SHA256SUMS file: the dry run's cache path showed
    `<cache>/<sensitive>-10.10.0-amd64-netinst.iso`."""
    builder = {**BUILDER, "ssh_username": "debian", "ssh_password": "debian",
               "iso_url": "http://example.invalid/debian-cd/debian-10.10.0-amd64-netinst.iso",
               "iso_checksum": "file:http://example.invalid/debian-cd/SHA256SUMS"}  # fmt: skip
    code, output = run(capsys, {"builders": [builder]}, "build", "-dry-run")
    assert code == 0, output
    assert "<sensitive>" not in output
    assert "<cache>/debian-10.10.0-amd64-netinst.iso,media=cdrom" in output


def test_a_secret_used_in_a_value_is_still_redacted_there(
    cli: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same word, now read from a sensitive variable into a path and into qemuargs."""
    template = {
        "variables": {"pw": "vagrant", "template": "vagrant-7"},
        "sensitive-variables": ["pw"],
        "builders": [{**BUILDER, "name": "vagrant", "ssh_password": "{{ user `pw` }}",
                      "output_directory": "out-{{ user `pw` }}",
                      "vm_name": "packer-{{ user `template` }}",
                      "qemuargs": [["-fw_cfg", "name=opt/pw,string={{ user `pw` }}"]]}],
    }  # fmt: skip
    code, output = run(capsys, template, "build", "-dry-run")
    assert code == 0, output
    assert "string=<sensitive>" in output
    assert "file=out-<sensitive>/packer-vagrant-7," in output  # the tainted path only
    assert "    vagrant: qemu-system-x86_64 " in output  # the build's name stays


# --- hostile secrets in every channel of a dry run ----------------------------------------


def hostile_template() -> dict[str, Any]:
    names = [f"s{i}" for i in range(len(HOSTILE))]
    return {
        "variables": dict(zip(names, HOSTILE, strict=True)),
        "sensitive-variables": names,
        "builders": [{**BUILDER, "name": "box", "ssh_password": "{{ user `s0` }}",
                      "qemuargs": [["-smbios", f"type=11,value={{{{ user `{n}` }}}}"]
                                   for n in names]}],
    }  # fmt: skip


def assert_no_secret(text: str) -> None:
    for secret in HOSTILE:
        assert secret not in text
        for part in secret.split():  # no piece of a secret survives quoting either
            if len(part) > 3:
                assert part not in text, part


def qemu_line(output: str) -> str:
    (line,) = [ln for ln in output.splitlines() if "qemu-system-x86_64" in ln]
    return line


@pytest.mark.parametrize("mode", ["human", "machine-readable"])
def test_hostile_secrets_in_a_dry_run(
    mode: str, cli: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Redaction happens before quoting: `shlex.join` first let a quote in the secret
    escape the redaction (issue 15 item 4)."""
    log = cli / "debug.log"
    monkeypatch.setenv("PACKER_LOG", "1")
    monkeypatch.setenv("PACKER_LOG_PATH", str(log))
    flags = ["-machine-readable"] if mode == "machine-readable" else []
    code, output = run(capsys, hostile_template(), "build", "-dry-run", *flags)
    assert code == 0, output
    assert_no_secret(output)
    line = qemu_line(output)
    if mode == "machine-readable":
        # Packer's ui events: no target, the human line (with its "    box: " prefix) as text
        text = line.split(",,ui,message,", 1)[1].replace("%!(PACKER_COMMA)", ",")
        command = text.split("    box: ", 1)[1]
    else:
        command = line.split("    box: ", 1)[1]
    argv = shlex.split(command)
    assert [a for a in argv if a.startswith("type=11")] == ["type=11,value=<sensitive>"] * 4
    assert_no_secret(log.read_text())
    assert log.stat().st_mode & 0o777 == 0o600


# --- -var-file values (issue 15 item 5) ---------------------------------------------------


def test_a_var_file_secret_that_fails_to_render_is_not_printed(
    cli: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (cli / "vars.json").write_text(json.dumps({"pw": "hunter2{{ oops", "other": "{{ nope }}"}))
    template = {"variables": {"pw": "", "other": ""}, "sensitive-variables": ["pw"],
                "builders": [BUILDER]}  # fmt: skip
    code, output = run(capsys, template, "validate", "-var-file=vars.json")
    assert code == 1
    assert "hunter2" not in output
    assert 'Failed to interpolate "pw": <sensitive>; error: ' in output
    assert "Failed to interpolate \"other\": '{{ nope }}'" in output  # not a secret: shown
    code, output = run(capsys, template, "validate", "-var", "pw=hunter2{{ oops")
    assert "hunter2" not in output


def test_the_debug_log_file_is_private(cli: Path, capsys: pytest.CaptureFixture[str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv("PACKER_LOG_PATH", str(cli / "kiln.log"))
    os.umask(0o022)
    run(capsys, {"builders": [BUILDER]}, "validate")
    assert (cli / "kiln.log").stat().st_mode & 0o777 == 0o600


# --- vnc_password (issue 15 item 6) ------------------------------------------------------


def test_the_vnc_line_shows_only_a_generated_password(tmp_path: Path) -> None:
    """Packer 1.6.6 prints the password it generates with the VNC address, so that you can
    watch the console; kiln does too. A vnc_password you set is yours: a secret, not shown."""
    from kiln.builders.qemu.step_qemu import vnc_note
    from template_plans import BUILDER as PLAIN
    from template_plans import plan_of

    def note(**options: object) -> str:
        build = plan_of(tmp_path, {"builders": [{**PLAIN, **options}]}).builds[0]
        return vnc_note(build.config, 5901)

    generated = note(vnc_use_password=True)
    password = plan_of(tmp_path, {"builders": [{**PLAIN, "vnc_use_password": True}]})
    assert "connect via VNC with the password: " in generated
    assert len(generated.split("password: ")[1].split()[0]) == 8
    assert "vnc://127.0.0.1:5901" in generated
    assert password.secrets == ["secret"]
    given = note(vnc_use_password=True, vnc_password="s3cr3t")
    assert "s3cr3t" not in given
    assert "connect via VNC with the password you set in vnc_password to\n" in given
    assert "connect via VNC without a password to\n" in note()


# --- what the CLI prints itself -------------------------------------------------------------


@pytest.mark.parametrize("error", ["KilnError", "RuntimeError"])
def test_errors_and_tracebacks_printed_by_the_cli_are_redacted(
    error: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import kiln.cli.main
    from kiln.errors import KilnError
    from kiln.ui.redact import Redactor, activate

    def verb(_opts: object) -> int:
        activate(Redactor(["hunter2-pw"]))
        kind = KilnError if error == "KilnError" else RuntimeError
        raise kind("could not log in with hunter2-pw")

    monkeypatch.setitem(kiln.cli.main._COMMANDS, "validate", verb)
    assert main(["validate", "-debug", "t.json"]) == 1
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err
    assert "could not log in with <sensitive>" in err
    assert "hunter2-pw" not in err
