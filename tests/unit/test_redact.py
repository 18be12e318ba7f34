"""kiln.ui.redact.Redactor, kiln.template.taint and the failure report's redacted copy:
the pure logic behind "secrets never shown, the user's own words never rewritten"."""

from __future__ import annotations

import os
import random
import shlex
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiln.engine.forensics import keep_forensics
from kiln.engine.options import RunOptions
from kiln.engine.state import BuildState
from kiln.ui.build import BuildUi
from kiln.ui.output import Ui
from kiln.ui.redact import REDACTED, Redactor
from template_plans import BUILDER, plan_of

HOSTILE = ["pa ss'wd", 'q"uo\\te', "new\nline", "tab\there$(x)`y`", "'", "--"]


def bento() -> Redactor:
    """The password is "vagrant"; the user wrote these names and paths in the clear."""
    r = Redactor(["vagrant"])
    r.add_clean("packer-vagrant-7-x86_64", "debian83-vagrant")
    r.add_names("vagrant", "shell")
    return r


# --- Redactor ---------------------------------------------------------------------------


def test_without_knowledge_every_occurrence_goes() -> None:
    r = Redactor(["hunter2"])
    assert r("pw hunter2 and hunter2x") == f"pw {REDACTED} and {REDACTED}x"
    assert r.data("hunter2") == REDACTED
    assert r("nothing here") == "nothing here"


def test_a_secret_inside_a_longer_clean_string_stays() -> None:
    r = bento()
    text = "disk at builds/packer-vagrant-7-x86_64/x for debian83-vagrant"
    assert r(text) == text
    assert r.data(text) == text
    assert r("vagrant-box and packer-vagrant") == f"{REDACTED}-box and packer-{REDACTED}"


def test_a_name_equal_to_the_secret_stays_whole_in_messages_only() -> None:
    r = bento()
    message = "post-processor type 'vagrant' is not supported (vagrant)"
    assert r(message) == message
    assert r.data("password: vagrant") == f"password: {REDACTED}"  # data: no telling
    assert r("vagrants and vagrant_x") == f"{REDACTED}s and {REDACTED}_x"  # not whole tokens


def test_a_tainted_string_is_redacted_whatever_else_is_known() -> None:
    r = bento()
    r.add_tainted("https://u:vagrant@host/x.iso")
    assert r("Downloading https://u:vagrant@host/x.iso ('vagrant')") == (
        f"Downloading https://u:{REDACTED}@host/x.iso ('vagrant')"
    )


def test_a_secret_of_several_lines_is_redacted_line_by_line_too() -> None:
    """A guest printing the secret prints it as several lines, each redacted on its own."""
    r = Redactor(["first line\nsecond-line"])
    assert r.data("x first line\nsecond-line y") == f"x {REDACTED} y"
    assert [r.data(line) for line in ("say [first line", "second-line]")] == [
        f"say [{REDACTED}",
        f"{REDACTED}]",
    ]


def test_longer_secrets_win_overlaps() -> None:
    r = Redactor(["abcd", "abcdef"])
    assert r("xabcdefx abcd") == f"x{REDACTED}x {REDACTED}"


def test_short_secrets_only_as_whole_words() -> None:
    r = Redactor(["pw", "x"])
    assert r("qemu-system-x86_64 -pw pw") == f"qemu-system-x86_64 -pw {REDACTED}"
    assert r("pw=x") == f"{REDACTED}={REDACTED}"


@pytest.mark.parametrize("secret", HOSTILE)
def test_argv_is_redacted_before_quoting(secret: str) -> None:
    """shlex.join then redact let a quote inside a secret escape (issue 15 item 4)."""
    r = Redactor([secret])
    argv = ["qemu", "-smbios", f"type=11,value={secret}", secret, "plain arg"]
    line = r.argv(argv)
    assert shlex.split(line) == ["qemu", "-smbios", f"type=11,value={REDACTED}", REDACTED,
                                 "plain arg"]  # fmt: skip
    if len(secret) >= 4:
        assert secret not in line


def test_update_learns_everything() -> None:
    r = Redactor()
    r.update(bento())
    assert r.secrets == ["vagrant"]
    assert r("debian83-vagrant 'vagrant'") == "debian83-vagrant 'vagrant'"


@given(st.lists(st.sampled_from(["vagrant", "packer-vagrant-7-x86_64", "x", "\n", "vag", "ra"]),
                max_size=300), st.integers(min_value=1, max_value=50))  # fmt: skip
def test_streaming_gives_what_the_whole_text_gives(pieces: list[str], size: int) -> None:
    r = bento()
    r.add_tainted("vag\nvagrant")
    text = "".join(pieces)
    chunks = [text[i : i + size] for i in range(0, len(text), size)]
    assert "".join(r.data_stream(chunks)) == r.data(text)


def test_streaming_a_big_text(monkeypatch: pytest.MonkeyPatch) -> None:
    import kiln.ui.redact

    monkeypatch.setattr(kiln.ui.redact, "_CHUNK", 64)  # many windows on a small text
    r = bento()
    rng = random.Random(7)
    text = "".join(rng.choice(["vagrant", "packer-vagrant-7-x86_64", "ab ", "\n"])
                   for _ in range(5000))  # fmt: skip
    for size in (1, 13, 4096):
        chunks = [text[i : i + size] for i in range(0, len(text), size)]
        assert "".join(r.data_stream(chunks)) == r.data(text)


# --- what the plan learns (kiln.template.taint) -------------------------------------------


def test_the_plan_tells_tainted_values_from_clean_ones(tmp_path: Path) -> None:
    plan = plan_of(
        tmp_path,
        {
            "variables": {"pw": "centos", "base": "centos-7", "url": "http://u:{{user `pw`}}@h/",
                          "login": "root-centos"},
            "sensitive-variables": ["pw"],
            "builders": [{**BUILDER, "name": "centos-7-box", "ssh_password": "{{user `login`}}",
                          "vm_name": "packer-{{user `base`}}",
                          "output_directory": "out-{{user `pw`}}",
                          "iso_url": "{{ user `url` }}x.iso"}],
        },
    )  # fmt: skip
    r = plan.redactor
    # The sensitive variable, and the variable a password option reads, are secrets.
    assert sorted(r.secrets) == ["centos", "root-centos"]
    # The user's own names and paths stay...
    assert r("==> centos-7-box: packer-centos-7") == "==> centos-7-box: packer-centos-7"
    # ...what was rendered from a secret does not, nor a variable that read one.
    assert r("out-centos and http://u:centos@h/x.iso") == (
        f"out-{REDACTED} and http://u:{REDACTED}@h/x.iso"
    )


def test_free_text_never_exempts_a_secret(tmp_path: Path) -> None:
    plan = plan_of(
        tmp_path,
        {"builders": [{**BUILDER, "ssh_password": "vagrant"}],
         "provisioners": [{"type": "shell", "environment_vars": ["PASSWORD=vagrant"],
                           "inline": ["echo vagrant | passwd --stdin vagrant"]}]},
    )  # fmt: skip
    r = plan.redactor
    assert r.data("PASSWORD=vagrant") == f"PASSWORD={REDACTED}"
    assert "vagrant" not in r.data("echo vagrant | passwd --stdin vagrant")


# --- the failure report -------------------------------------------------------------------


def test_the_failure_report_is_private_and_redacted(tmp_path: Path) -> None:
    """qemu-argv.txt, qemu-stderr.log and http-access.log were kept in clear, 0644 in a
    0755 directory (issue 15 item 3); so was the -on-error=abort copy."""
    os.umask(0o022)
    work = tmp_path / "work"
    work.mkdir()
    secret = "pa ss'wd\nx"
    (work / "serial.log").write_bytes(b"login: root\npassword " + secret.encode() + b"\xff\xfe\n")
    (work / "http-access.log").write_text(f"10.0.2.15 GET /ks.cfg?pw={secret} 200 9\n")
    (work / "screenshot.png").write_bytes(b"\x89PNG" + secret.encode())
    redactor = Redactor([secret])
    ui = Ui(redactor=redactor)
    plan = plan_of(tmp_path, {"builders": [BUILDER]}).builds[0]
    for abort in (False, True):
        options = RunOptions(failure_root=tmp_path / "state" / "failures")
        state: BuildState[object] = BuildState(plan, BuildUi(ui, "qemu"), options, work,
                                               tmp_path / "out")  # fmt: skip
        if abort:
            state.keep_output = True
            state.output_dir.mkdir()
        report = keep_forensics(state, ["serial.log", "http-access.log", "screenshot.png"])
        assert report is not None
        assert report == (tmp_path / "out" / "kiln-failure" if abort else report)
        assert report.stat().st_mode & 0o777 == 0o700
        assert (tmp_path / "state").stat().st_mode & 0o777 == 0o700
        for path in report.iterdir():
            assert path.stat().st_mode & 0o777 == 0o600, path
        assert (report / "serial.log").read_bytes() == (
            b"login: root\npassword " + REDACTED.encode() + b"\xff\xfe\n"
        )
        assert (report / "http-access.log").read_text() == (
            f"10.0.2.15 GET /ks.cfg?pw={REDACTED} 200 9\n"
        )
        # A screenshot is an image: copied as it is (it cannot be redacted).
        assert (report / "screenshot.png").read_bytes() == (work / "screenshot.png").read_bytes()
