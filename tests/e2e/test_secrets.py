"""Secrets in a real build: nothing leaks, and nothing the user wrote is rewritten.

One build of the test guest that fails on purpose after provisioning, so that every
channel carries the secrets: the boot command puts one in the answer-file URL (the HTTP
access log, the serial console's kernel command line, boot-command.txt), qemuargs put
hostile ones on QEMU's command line (qemu-argv.txt, the debug log's `Executing:` line), and
a provisioner makes the guest print them (terminal or -machine-readable, the debug log).
One of the secrets is the word `shell`: also the provisioner's type, and part of the build's
name and output directory, which must come out whole.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from build_harness import (
    kiln_env,
    qemu_processes_under,
    run_kiln,
    tiny_builder,
    write_answers,
    write_template,
)

pytestmark = pytest.mark.e2e

TOKEN = "tok-5d1f9a"  # in a URL the guest requests
HOSTILE = 'pa ss\'wd "q" back\\slash\nnext-line'
WORD = "shell"  # a secret that is also a type and part of names and paths


def _write_template(path: Path, tiny_iso: object) -> None:
    builder = tiny_builder(
        tiny_iso,
        name="shell-box",
        output_directory="out-shell",
        boot_command=[
            "install ks=http://{{ .HTTPIP }}:{{ .HTTPPort }}/ks.cfg?t={{ user `token` }}<enter>"
        ],
        qemuargs=[["-smbios", "type=11,value={{ user `hostile` }}"],
                  ["-smbios", "type=11,value={{ user `word` }}"]],
    )  # fmt: skip
    write_template(
        path,
        [builder],
        variables={"token": TOKEN, "hostile": HOSTILE, "word": WORD},
        provisioners=[
            {
                "type": "shell",
                "environment_vars": ["H={{ user `hostile` }}", "W={{ user `word` }}"],
                "inline": ['printf "guest says [%s] [%s]\\n" "$H" "$W"', "exit 3"],
            }
        ],
        **{"sensitive-variables": ["token", "hostile", "word"]},
    )


def _assert_no_secret(text: str, where: str) -> None:
    for secret in (TOKEN, HOSTILE, *HOSTILE.split(), "back\\slash", "next-line"):
        if len(secret) > 3:
            assert secret not in text, f"{secret!r} in {where}"
    assert "[shell]" not in text, where


@pytest.mark.parametrize("mode", ["human", "machine-readable"])
def test_secrets_stay_out_of_every_channel_of_a_real_build(
    mode: str, tiny_iso: object, kiln_session_cache: Path, tmp_path: Path
) -> None:
    write_answers(tmp_path / "http", marker="secrets")
    _write_template(tmp_path / "t.json", tiny_iso)
    env = kiln_env(tmp_path, kiln_session_cache)
    env["PACKER_LOG"] = "1"
    env["PACKER_LOG_PATH"] = str(tmp_path / "kiln.log")
    flags = ["-machine-readable"] if mode == "machine-readable" else []
    run = run_kiln(["build", *flags, "t.json"], cwd=tmp_path, env=env)
    assert run.returncode == 1, run.output
    output = run.output
    # The guest printed the secrets (the hostile one over two lines): what reached the user
    # says <sensitive> instead.
    if mode == "human":
        assert (
            "    shell-box: guest says [<sensitive>\n    shell-box: <sensitive>] [<sensitive>]\n"
            in (output)
        )
    else:
        # Packer 1.6.6's machine-readable ui lines: no target, the human prefix kept
        assert ",,ui,message,    shell-box: guest says [<sensitive>\n" in output
        assert ",,ui,message,    shell-box: <sensitive>] [<sensitive>]\n" in output
    assert "Script exited with non-zero exit status: 3" in output
    _assert_no_secret(output, "the output")
    # ...and the user's own words are whole: the build's name, the provisioner's type.
    if mode == "human":
        assert "==> shell-box: Provisioning with shell script: " in output
    else:
        assert ",,ui,say,==> shell-box: Provisioning with shell script: " in output
    assert "<sensitive>-box" not in output and "out-<sensitive>" not in output

    log = (tmp_path / "kiln.log").read_text()
    assert "Executing: " in log
    _assert_no_secret(log, "the debug log")
    assert (tmp_path / "kiln.log").stat().st_mode & 0o777 == 0o600

    (report,) = (tmp_path / "failures").iterdir()
    assert report.name.startswith("shell-box-")
    assert report.stat().st_mode & 0o777 == 0o700
    files = {p.name: p for p in report.iterdir()}
    assert {"serial.log", "qemu-argv.txt", "qemu-stderr.log", "boot-command.txt",
            "http-access.log"} <= set(files)  # fmt: skip
    for name, path in files.items():
        assert path.stat().st_mode & 0o777 == 0o600, name
        if not name.startswith("screenshot"):
            _assert_no_secret(path.read_text(errors="replace"), name)
    assert "ks.cfg?t=<sensitive> 200" in files["http-access.log"].read_text()
    assert "ks.cfg?t=<sensitive><enter>" in files["boot-command.txt"].read_text()
    argv = files["qemu-argv.txt"].read_text()
    assert "'type=11,value=<sensitive>'" in argv
    assert "out-shell/tiny.qcow2" in argv
    assert qemu_processes_under(tmp_path) == []
    assert list((tmp_path / "tmp").iterdir()) == []
