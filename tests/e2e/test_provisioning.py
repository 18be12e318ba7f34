"""Provisioners and post-processors end to end on the test guest.

One full build exercises shell (inline with quoted environment variables, a script with a
custom execute_command and valid_exit_codes, a reboot with expect_disconnect), file
(directory uploads with and without a trailing slash, content, downloads of a directory
and of files), shell-local, and the manifest, checksum, compress and shell-local
post-processors. A second build, started at the same time, fails in a script and runs the
error-cleanup provisioner. Each kiln run costs ~40 s under TCG, so the checks share them.
"""

from __future__ import annotations

import hashlib
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from build_harness import (
    KilnRun,
    kiln_env,
    qemu_processes_under,
    read_guest_file,
    start_kiln,
    tiny_builder,
    write_answers,
    write_template,
)

pytestmark = pytest.mark.e2e

GREETING = 'it\'s "quoted" $HOME `uname` \\ done'
REBOOT_SCRIPT = [
    # Ignore the TERM that busybox init sends everything, so the SSH session is cut by
    # the reboot (a disconnect), not ended by a killed shell (an exit status).
    "trap '' TERM HUP",
    "date > /run/before-reboot",
    "reboot",
    "sleep 120",
]


@dataclass
class Runs:
    work: Path
    ok: KilnRun
    failing: KilnRun
    failing_dir: Path


def _finish(proc: object, started: float) -> KilnRun:
    import subprocess
    import time

    assert isinstance(proc, subprocess.Popen)
    out, _ = proc.communicate(timeout=900)
    return KilnRun(proc.returncode, out, time.monotonic() - started)


def _ok_template(work: Path, iso: object) -> None:
    write_answers(work / "http", marker="provisioning")
    tree = work / "files" / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "a.txt").write_text("A\n")
    (tree / "sub" / "b.txt").write_text("B\n")
    (work / "files" / "exit3.sh").write_text(
        '#!/bin/sh\necho "script $0 got $1 with FROM_SCRIPT=$FROM_SCRIPT" > /root/script.txt\n'
        "exit 3\n"
    )
    provisioners = [
        {
            "type": "shell",
            "inline": [
                'printf \'%s|%s|%s|%s\\n\' "$GREETING" "$PACKER_BUILD_NAME" '
                '"$PACKER_BUILDER_TYPE" "$FROM_MAP" > /root/env.txt',
                'echo "{{ build_name }} {{ build_type }} {{ build `ID` }} {{ build `User` }} '
                '{{ build `Host` }}" > /root/values.txt',
            ],
            "environment_vars": [f"GREETING={GREETING}", "FROM_MAP=overridden"],
            "env": {"FROM_MAP": "map wins"},
        },
        {
            "type": "shell",
            "script": "files/exit3.sh",
            "environment_vars": ["FROM_SCRIPT=yes"],
            "execute_command": "chmod +x {{ .Path }}; {{ .Vars }} {{ .Path }} first-arg",
            "valid_exit_codes": [0, 3],
            "remote_folder": "/root",
            "remote_file": "kiln-script.sh",
        },
        {"type": "shell", "inline": REBOOT_SCRIPT, "expect_disconnect": True},
        {
            "type": "shell",
            "inline": ["test ! -e /run/before-reboot && echo rebooted > /root/reboot.txt"],
            "start_retry_timeout": "4m",
        },
        {"type": "file", "source": "files/tree", "destination": "/root"},
        {"type": "file", "source": "files/tree/", "destination": "/root/flat"},
        {"type": "file", "content": "made by {{ build_name }}\n", "destination": "/root/c.txt"},
        {
            "type": "file",
            "direction": "download",
            "source": "/root/tree",
            "destination": "download/",
        },
        {
            "type": "file",
            "direction": "download",
            "source": "/root/flat/",
            "destination": "download/contents",
        },
        {
            "type": "file",
            "direction": "download",
            "source": "/root/env.txt",
            "destination": "download/",
        },
        {
            "type": "file",
            "direction": "download",
            "source": "/root/values.txt",
            "destination": "download/values-copy.txt",
        },
        {
            "type": "shell-local",
            "inline": ['echo "$PACKER_BUILD_NAME:$LOCAL" > local.txt'],
            "environment_vars": ["LOCAL=host side"],
        },
    ]
    post_processors = [
        {
            "type": "manifest",
            "output": "manifest.json",
            "strip_path": True,
            "custom_data": {"flavour": "{{ user `flavour` }}", "b": "<&>"},
        },
        [
            {
                "type": "checksum",
                "checksum_types": ["sha256", "md5"],
                "output": "sums/{{.BuildName}}.{{.ChecksumType}}",
            },
            {
                "type": "compress",
                "output": "dist/{{.BuildName}}.tar.gz",
                "keep_input_artifact": True,
            },
        ],
        {"type": "shell-local", "inline": ["ls dist > pp-local.txt"]},
    ]
    write_template(
        work / "template.json",
        [tiny_builder(iso)],
        variables={"flavour": "vanilla"},
        provisioners=provisioners,
        **{"post-processors": post_processors},
    )


def _failing_template(work: Path, iso: object) -> None:
    write_answers(work / "http", marker="failing")
    (work / "fail.sh").write_text("#!/bin/sh\necho about to fail\nexit 7\n")
    write_template(
        work / "template.json",
        [tiny_builder(iso)],
        provisioners=[{"type": "shell", "script": "fail.sh"}],
        **{
            "error-cleanup-provisioner": {
                "type": "shell-local",
                "inline": ['echo "cleanup for $PACKER_BUILD_NAME" > cleanup.txt'],
            }
        },
    )


@pytest.fixture(scope="module")
def runs(tiny_iso, kiln_session_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Runs:
    import time

    work = tmp_path_factory.mktemp("provisioning")
    failing_dir = tmp_path_factory.mktemp("provisioning-failing")
    _ok_template(work, tiny_iso)
    _failing_template(failing_dir, tiny_iso)
    started = time.monotonic()
    ok = start_kiln(["build", "template.json"], cwd=work, env=kiln_env(work, kiln_session_cache))
    failing = start_kiln(
        ["build", "-on-error=run-cleanup-provisioner", "template.json"],
        cwd=failing_dir,
        env=kiln_env(failing_dir, kiln_session_cache),
    )
    failing_run = _finish(failing, started)
    ok_run = _finish(ok, started)
    assert ok_run.returncode == 0, ok_run.output
    return Runs(work, ok_run, failing_run, failing_dir)


def test_provisioner_output_is_packer_shaped(runs: Runs) -> None:
    out = runs.ok.output
    for line in (
        "==> qemu: Provisioning with shell script: <inline script>",
        "==> qemu: Provisioning with shell script: files/exit3.sh",
        "==> qemu: Uploading files/tree => /root",
        "==> qemu: Uploading files/tree/ => /root/flat",
        "==> qemu: Uploading content => /root/c.txt",
        "==> qemu: Downloading /root/tree => download/",
        "==> qemu: Downloading /root/env.txt => download/env.txt",
        "==> qemu: Running local shell script: ",
        "==> qemu: Running post-processor: manifest",
        "==> qemu: Running post-processor: checksum",
        "==> qemu: Running post-processor: compress",
        "==> qemu (compress): Tarring dist/qemu.tar.gz with pgzip",
        "==> qemu (compress): Archive dist/qemu.tar.gz completed",
        "--> qemu: VM files in directory: out",
        "--> qemu: compressed artifacts in: dist/qemu.tar.gz",
        "Build 'qemu' finished after ",
    ):
        assert line in out, f"missing {line!r} in:\n{out}"
    assert "kiln-e2e-pw" not in out


def test_shell_environment_and_build_values(runs: Runs, tmp_path: Path) -> None:
    image = runs.work / "out" / "tiny.qcow2"

    def cat(path: str) -> str:
        return read_guest_file(image, path, tmp_path)

    assert cat("/root/env.txt") == f"{GREETING}|qemu|qemu|map wins\n"
    assert cat("/root/values.txt") == "qemu qemu ERR_ID_NOT_IMPLEMENTED_BY_BUILDER root 127.0.0.1\n"
    assert (
        cat("/root/script.txt")
        == "script /root/kiln-script.sh got first-arg with FROM_SCRIPT=yes\n"
    )
    assert cat("/root/reboot.txt") == "rebooted\n"
    assert cat("/root/tree/a.txt") == "A\n"
    assert cat("/root/tree/sub/b.txt") == "B\n"
    assert cat("/root/flat/a.txt") == "A\n"
    assert cat("/root/flat/sub/b.txt") == "B\n"
    assert cat("/root/c.txt") == "made by qemu\n"
    with pytest.raises(AssertionError):
        cat("/root/kiln-script.sh")  # cleaned up after it ran


def test_downloaded_files_are_exact(runs: Runs) -> None:
    root = runs.work / "download"
    tree = {
        p.relative_to(root).as_posix(): (p.read_text() if p.is_file() else None)
        for p in sorted(root.rglob("*"))
    }
    assert tree == {
        "tree": None,
        "tree/a.txt": "A\n",
        "tree/sub": None,
        "tree/sub/b.txt": "B\n",
        "contents": None,
        "contents/a.txt": "A\n",
        "contents/sub": None,
        "contents/sub/b.txt": "B\n",
        "env.txt": f"{GREETING}|qemu|qemu|map wins\n",
        "values-copy.txt": "qemu qemu ERR_ID_NOT_IMPLEMENTED_BY_BUILDER root 127.0.0.1\n",
    }
    assert (runs.work / "local.txt").read_text() == "qemu:host side\n"


def test_manifest_is_exact(runs: Runs) -> None:
    text = (runs.work / "manifest.json").read_text()
    manifest = json.loads(text)
    (build,) = manifest["builds"]
    size = (runs.work / "out" / "tiny.qcow2").stat().st_size
    assert isinstance(build["build_time"], int) and build["build_time"] > 1_700_000_000
    assert build == {
        "name": "qemu",
        "builder_type": "qemu",
        "build_time": build["build_time"],
        "files": [{"name": "tiny.qcow2", "size": size}],
        "artifact_id": "VM",
        "packer_run_uuid": manifest["last_run_uuid"],
        "custom_data": {"b": "<&>", "flavour": "vanilla"},
    }
    assert list(build) == [
        "name",
        "builder_type",
        "build_time",
        "files",
        "artifact_id",
        "packer_run_uuid",
        "custom_data",
    ]
    # Go's encoding/json: two-space indent, HTML characters escaped, no final newline.
    assert '"b": "\\u003c\\u0026\\u003e"' in text
    assert text == json.dumps(manifest, indent=2).replace("<", "\\u003c").replace(
        ">", "\\u003e"
    ).replace("&", "\\u0026")


def test_checksum_files_are_exact(runs: Runs) -> None:
    data = (runs.work / "out" / "tiny.qcow2").read_bytes()
    sums = runs.work / "sums"
    assert (sums / "qemu.sha256").read_text() == f"{hashlib.sha256(data).hexdigest()}\ttiny.qcow2\n"
    assert (sums / "qemu.md5").read_text() == f"{hashlib.md5(data).hexdigest()}\ttiny.qcow2\n"


def test_compress_packs_the_checksum_artifact(runs: Runs) -> None:
    with tarfile.open(runs.work / "dist" / "qemu.tar.gz", "r:gz") as tar:
        assert tar.getnames() == ["tiny.qcow2", "qemu.sha256", "qemu.md5"]
        member = tar.extractfile("qemu.sha256")
        assert member is not None
        assert member.read() == (runs.work / "sums" / "qemu.sha256").read_bytes()
    assert (runs.work / "pp-local.txt").read_text() == "qemu.tar.gz\n"
    # keep_input_artifact kept the checksum artifact (which includes the image).
    assert (runs.work / "out" / "tiny.qcow2").exists()


def test_failing_script_names_itself_and_runs_the_cleanup_provisioner(runs: Runs) -> None:
    run = runs.failing
    assert run.returncode == 1, run.output
    assert "about to fail" in run.output
    assert (
        "provisioner 1 (shell): Script exited with non-zero exit status: 7. Allowed exit "
        "codes are: [0] (script: fail.sh)" in run.output
    )
    assert "Provisioning step had errors: Running the cleanup provisioner, if present..." in (
        run.output
    )
    assert (runs.failing_dir / "cleanup.txt").read_text() == "cleanup for qemu\n"
    assert "--> qemu: provisioner 1 (shell): Script exited with non-zero exit status: 7" in (
        run.output
    )
    assert "Traceback" not in run.output
    assert qemu_processes_under(runs.failing_dir) == []
    assert not (runs.failing_dir / "out").exists()
    assert list((runs.failing_dir / "tmp").iterdir()) == []
