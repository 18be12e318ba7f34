"""The user's own situation, met by `kiln build` as a real process: no VM is booted.

Issue 15: `-force` on the working directory (#1), a symlinked output directory (#2), a
read-only or full output file system, hostile var files and templates (#10), a port Packer
holds (#11). Each must
end with a message naming the file or key and the cause, exit code 1, no traceback, no
"internal error", and nothing of the user's deleted.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from build_harness import KilnRun, kiln_env, run_kiln, tmpfs, write_template

FAKE_ISO = "installer.iso"


def _builder(**overrides: Any) -> dict[str, Any]:
    """A qemu builder that fails, if it runs at all, before QEMU reads the (fake) ISO."""
    builder: dict[str, Any] = {
        "type": "qemu",
        "iso_url": FAKE_ISO,
        "iso_checksum": "none",
        "output_directory": "out",
        "vm_name": "disk.qcow2",
        "disk_size": "64M",
        "accelerator": "tcg",
        "headless": True,
        "boot_command": ["x"],
        "ssh_username": "root",
        "ssh_password": "pw",
    }
    builder.update(overrides)
    return builder


@pytest.fixture
def project(tmp_path: Path) -> Path:
    work = tmp_path / "project"
    (work / "http").mkdir(parents=True)
    (work / "http" / "ks.cfg").write_text("answers\n")
    (work / FAKE_ISO).write_bytes(b"\0" * 4096)
    return work


def _kiln(project: Path, *args: str) -> KilnRun:
    env = kiln_env(project.parent, project.parent / "cache")
    return run_kiln(list(args), cwd=project, env=env, timeout=300)


def _assert_user_error(run: KilnRun, *needles: str) -> None:
    assert run.returncode == 1, run.output
    for needle in needles:
        assert needle in run.output, run.output
    assert "internal error" not in run.output
    assert "Traceback" not in run.output


@contextlib.contextmanager
def _busy_port() -> Iterator[int]:
    """A port something else listens on: the HTTP step fails there, after the disk step."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


# --- #1 and #2: the output directory -------------------------------------------------


def test_force_never_deletes_the_working_directory(project: Path) -> None:
    write_template(project / "t.json", [_builder(output_directory=".", http_directory="http")])
    before = sorted(p.name for p in project.iterdir())
    run = _kiln(project, "build", "-force", "t.json")
    _assert_user_error(run, "output_directory '.' is ", "which is the working directory",
                       "-force would delete it")  # fmt: skip
    assert sorted(p.name for p in project.iterdir()) == before
    assert (project / "http" / "ks.cfg").read_text() == "answers\n"


def test_failed_build_empties_a_symlinked_output_directory(project: Path) -> None:
    """#2: the link's target gets the disk image; a failure removes it, not the link."""
    target = project.parent / "big-disk" / "images"
    target.mkdir(parents=True)
    (project / "out").symlink_to(target)
    env = kiln_env(project.parent, project.parent / "cache")
    env.update(PACKER_LOG="1", PACKER_LOG_PATH=str(project.parent / "debug.log"))
    with _busy_port() as port:
        builder = _builder(http_directory="http", http_port_min=port, http_port_max=port)
        write_template(project / "t.json", [builder])
        run = run_kiln(["build", "t.json"], cwd=project, env=env, timeout=300)
    _assert_user_error(run, f"no free port for the HTTP server between {port} and {port}",
                       "Deleting output directory")  # fmt: skip
    # The disk step ran before the HTTP step failed: the image was made in the link's target.
    assert (
        "Executing: qemu-img create -f qcow2 out/disk.qcow2"
        in (project.parent / "debug.log").read_text()
    )
    assert (project / "out").is_symlink()
    assert list(target.iterdir()) == [], "the disk image of the failed build was left behind"


def test_failed_build_leaves_an_existing_empty_directory_empty(project: Path) -> None:
    (project / "out").mkdir()
    with _busy_port() as port:
        builder = _builder(http_directory="http", http_port_min=port, http_port_max=port)
        write_template(project / "t.json", [builder])
        run = _kiln(project, "build", "t.json")
    _assert_user_error(run, "Deleting output directory")
    assert (project / "out").is_dir()
    assert list((project / "out").iterdir()) == []


# --- #10: the user's own situation ----------------------------------------------------


def test_read_only_output_file_system(project: Path) -> None:
    with tmpfs(project.parent / "ro", "ro", "size=1m") as ro:
        write_template(project / "t.json", [_builder(output_directory=str(ro / "out"))])
        run = _kiln(project, "build", "t.json")
    _assert_user_error(run, f"'{ro / 'out'}'", "Read-only file system")


def test_disk_full_while_copying_disk_image(project: Path) -> None:
    source = project / "source.qcow2"
    subprocess.run(["qemu-img", "create", "-f", "qcow2", str(source), "64M"], check=True,
                   capture_output=True)  # fmt: skip
    with source.open("ab") as f:  # make the file bigger than the file system it is copied to
        f.write(os.urandom(3 * 1024 * 1024))
    with tmpfs(project.parent / "small", "size=1m") as small:
        builder = _builder(iso_url="source.qcow2", disk_image=True, format="qcow2",
                           output_directory=str(small / "out"), skip_resize_disk=True)  # fmt: skip
        write_template(project / "t.json", [builder])
        run = _kiln(project, "build", "t.json")
        assert not (small / "out").exists()
    _assert_user_error(run, "No space left on device", str(small / "out" / "disk.qcow2"))


def test_nul_in_vm_name_is_a_validation_error(project: Path) -> None:
    write_template(project / "t.json", [_builder(vm_name="disk\u0000.qcow2")])
    for verb in ("validate", "build"):
        run = _kiln(project, verb, "t.json")
        _assert_user_error(run, "vm_name", "NUL")
    assert not (project / "out").exists()


def _var_template(project: Path) -> Path:
    template = {"variables": {"name": "disk"},
                "builders": [_builder(vm_name="{{user `name`}}")]}  # fmt: skip
    path = project / "t.json"
    path.write_text(json.dumps(template))
    return path


@pytest.mark.parametrize(
    ("content", "needles"),
    [
        ('{"name": ' + "[" * 10_000 + "]" * 10_000 + "}", ["nested too deeply"]),
        ('{"name": ' + "9" * 5000 + "}", ["5000 digits"]),
        ('{"a": 1, "b": ' + '{"x":' * 10_000 + "1" + "}" * 10_000 + "}", ["nested too deeply"]),
    ],
    ids=["deep-list", "5000-digits", "deep-object"],
)
def test_hostile_var_files(project: Path, content: str, needles: list[str]) -> None:
    _var_template(project)
    (project / "vars.json").write_text(content)
    run = _kiln(project, "validate", "-var-file=vars.json", "t.json")
    _assert_user_error(run, "-var-file vars.json", *needles)


def test_var_file_that_never_ends(project: Path) -> None:
    _var_template(project)
    run = _kiln(project, "validate", "-var-file=/dev/zero", "t.json")
    _assert_user_error(run, "-var-file /dev/zero", "larger than")


def test_billion_laughs_through_user_variables(project: Path) -> None:
    variables = {"a0": "x" * 10}
    for i in range(1, 11):
        variables[f"a{i}"] = "".join(f"{{{{user `a{i - 1}`}}}}" for _ in range(10))
    template = {"variables": variables, "builders": [_builder(vm_name="{{user `a10`}}")]}
    (project / "t.json").write_text(json.dumps(template))
    run = _kiln(project, "validate", "t.json")
    _assert_user_error(run, "variables.a", "longer than")


# --- #11: ports Packer holds -------------------------------------------------------------


def test_a_port_packer_holds_is_skipped(project: Path) -> None:
    """Packer 1.6.6 flocks `$PACKER_CACHE_DIR/port/<n>` (packer-plugin-sdk
    net/configure_port.go, through gofrs/flock); util-linux `flock` takes the same lock."""
    env = kiln_env(project.parent, project.parent / "cache")
    lock_dir = Path(env["PACKER_CACHE_DIR"]) / "port"
    lock_dir.mkdir(parents=True)
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    holder = subprocess.Popen(["flock", str(lock_dir / str(port)), "sleep", "120"])
    try:
        for _ in range(100):  # until the lock is taken
            if subprocess.run(["flock", "-n", str(lock_dir / str(port)), "true"],
                              check=False).returncode != 0:  # fmt: skip
                break
        builder = _builder(http_directory="http", http_port_min=port, http_port_max=port)
        write_template(project / "t.json", [builder])
        run = run_kiln(["build", "t.json"], cwd=project, env=env, timeout=300)
    finally:
        holder.kill()
        holder.wait()
    _assert_user_error(run, f"no free port for the HTTP server between {port} and {port}",
                       "1 held by other kiln or Packer builds")  # fmt: skip
