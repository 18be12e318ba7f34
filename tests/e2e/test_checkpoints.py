"""Install checkpoints (-checkpoint) end to end on the test guest.

One full build saves a checkpoint; the other tests build from it: a provisioner change
resumes it (no boot command, the new provisioner's effect in the image, a plain qcow2, the
guest's clock current), two rebuilds resume it at once, a corrupt copy of it is ignored
with a warning (full build), and an http_directory change misses, naming the file, then
is interrupted while it saves (nothing published). Three installs and three resumes in
all; the store of the corruption test is a copy, so the order of the tests does not matter.
A last pair boots the installed image under UEFI (OVMF, the kernel loaded by QEMU) with a
software TPM, saves and resumes it: the EFI variables and the TPM's state come back.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from build_harness import (
    KilnRun,
    image_info,
    interrupt_and_wait,
    kiln_env,
    qemu_processes_under,
    read_guest_file,
    run_kiln,
    start_kiln,
    tiny_builder,
    wait_for_output,
    write_answers,
    write_template,
)

pytestmark = pytest.mark.e2e

MARKER = "checkpointed"
FIRST = [{"type": "shell", "inline": ["echo first > /root/first.txt"]}]
MIN_AGE = 12.0  # seconds: a resumed guest's stale clock must be visibly behind


@dataclass
class Saved:
    work: Path
    env: dict[str, str]
    run: KilnRun
    key: str
    store: Path  # $PACKER_CACHE_DIR/checkpoints
    saved_at: float


def checkpoint_template(work: Path, iso: Any, provisioners: list[dict[str, Any]]) -> None:
    write_answers(work / "http", marker=MARKER)
    write_template(work / "template.json", [tiny_builder(iso)], provisioners=provisioners)


def published(store: Path) -> list[str]:
    return sorted(p.name for p in store.iterdir() if not p.name.startswith("."))


def manifest(store: Path, key: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((store / key / "manifest.json").read_text())
    return data


def guest_has(image: Path, path: str, scratch: Path) -> bool:
    try:
        read_guest_file(image, path, scratch)
    except AssertionError:
        return False
    return True


@pytest.fixture(scope="session")
def saved_checkpoint(
    tiny_iso: Any, kiln_session_cache: Path, tmp_path_factory: pytest.TempPathFactory
) -> Saved:
    """The first build with -checkpoint: installs, saves, provisions."""
    work = tmp_path_factory.mktemp("ckpt-save")
    checkpoint_template(work, tiny_iso, FIRST)
    env = kiln_env(work, kiln_session_cache)
    env["PACKER_CACHE_DIR"] = str(tmp_path_factory.mktemp("ckpt-cache"))
    run = run_kiln(["build", "-checkpoint", "template.json"], cwd=work, env=env)
    assert run.returncode == 0, run.output
    store = Path(env["PACKER_CACHE_DIR"]) / "checkpoints"
    keys = published(store)
    assert len(keys) == 1, (keys, run.output)
    return Saved(work, env, run, keys[0], store, time.time())


def rebuild(saved: Saved, work: Path, provisioners: list[dict[str, Any]], iso: Any) -> Path:
    """A template with the same install and other provisioners, in `work`."""
    checkpoint_template(work, iso, provisioners)
    wait = MIN_AGE - (time.time() - saved.saved_at)
    if wait > 0:
        time.sleep(wait)
    return work


@pytest.fixture(scope="session")
def restored(
    saved_checkpoint: Saved, tiny_iso: Any, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, KilnRun]:
    """A provisioner change, rebuilt from the checkpoint."""
    work = rebuild(
        saved_checkpoint,
        tmp_path_factory.mktemp("ckpt-restore"),
        [
            {"type": "shell", "inline": ["echo second > /root/second.txt",
                                         "echo GUEST_EPOCH=$(date +%s)"]},
            {"type": "shell-local", "inline": ["echo HOST_EPOCH=$(date +%s)"]},
        ],
        tiny_iso,
    )  # fmt: skip
    run = run_kiln(["build", "-checkpoint", "template.json"], cwd=work, env=saved_checkpoint.env)
    assert run.returncode == 0, run.output
    return work, run


def test_first_build_saves_a_checkpoint(saved_checkpoint: Saved, tmp_path: Path) -> None:
    out = saved_checkpoint.run.output
    assert "No checkpoint of this build yet" in out
    assert "Typing the boot command" in out
    assert "Saving checkpoint" in out and "Machine paused" in out
    assert re.search(r"Checkpoint [0-9a-f]{12} saved \(", out), out
    m = manifest(saved_checkpoint.store, saved_checkpoint.key)
    assert m["key"] == saved_checkpoint.key
    assert m["template"] == str(saved_checkpoint.work / "template.json")
    assert m["inputs"]["http_directory/ks.cfg"].startswith("sha256:")
    assert {f["name"] for f in m["files"]} == {"state.bin", "disk-0.qcow2", "ssh_key"}
    assert not list((saved_checkpoint.store / ".tmp").iterdir())
    image = saved_checkpoint.work / "out" / "tiny.qcow2"
    assert read_guest_file(image, "/root/first.txt", tmp_path) == "first\n"
    listing = run_kiln(["checkpoints"], cwd=saved_checkpoint.work, env=saved_checkpoint.env)
    assert saved_checkpoint.key[:12] in listing.output
    assert "http_directory: 1 file" in listing.output


def test_provisioner_change_resumes_the_installed_machine(
    restored: tuple[Path, KilnRun], tmp_path: Path
) -> None:
    work, run = restored
    out = run.output
    assert re.search(r"Resuming from checkpoint [0-9a-f]{12}… saved \d", out), out
    assert "Typing the boot command" not in out
    assert "GET /ks.cfg" not in out  # no install: nobody asked for the answers
    image = work / "out" / "tiny.qcow2"
    assert read_guest_file(image, "/root/second.txt", tmp_path) == "second\n"
    assert read_guest_file(image, "/etc/kiln-marker", tmp_path) == f"{MARKER}\n"
    # The checkpoint is the machine before any provisioner ran.
    assert not guest_has(image, "/root/first.txt", tmp_path)
    info = image_info(image)
    assert info["format"] == "qcow2"
    assert "backing-filename" not in info and "snapshots" not in info


def test_resumed_guest_clock_is_the_hosts(restored: tuple[Path, KilnRun]) -> None:
    out = restored[1].output
    behind = re.search(r"Set the guest's clock to the host's \(it was (\d+(?:\.\d)?) (s|min)", out)
    assert behind, out
    assert float(behind.group(1)) * (60 if behind.group(2) == "min" else 1) >= MIN_AGE - 1
    guest = int(re.findall(r"GUEST_EPOCH=(\d+)", out)[-1])
    host = int(re.findall(r"HOST_EPOCH=(\d+)", out)[-1])
    assert abs(host - guest) <= 2, out


def test_two_rebuilds_resume_one_checkpoint_at_once(
    saved_checkpoint: Saved, tiny_iso: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    procs = []
    works = []
    for name in ("a", "b"):
        work = rebuild(
            saved_checkpoint,
            tmp_path_factory.mktemp(f"ckpt-twin-{name}"),
            [{"type": "shell", "inline": [f"echo {name} > /root/twin.txt"]}],
            tiny_iso,
        )
        works.append(work)
        procs.append(start_kiln(["build", "-checkpoint", "template.json"], cwd=work,
                                env=saved_checkpoint.env))  # fmt: skip
    outputs = [p.communicate(timeout=600)[0] for p in procs]
    for proc, out, work, name in zip(procs, outputs, works, ("a", "b"), strict=True):
        assert proc.returncode == 0, out
        assert "Resuming from checkpoint" in out, out
        scratch = tmp_path_factory.mktemp(f"ckpt-twin-read-{name}")
        assert read_guest_file(work / "out" / "tiny.qcow2", "/root/twin.txt", scratch) == (
            f"{name}\n"
        )
    assert published(saved_checkpoint.store) == [saved_checkpoint.key]


def test_corrupt_checkpoint_warns_and_builds_from_scratch(
    saved_checkpoint: Saved, tiny_iso: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    cache = tmp_path_factory.mktemp("ckpt-corrupt-cache")
    store = cache / "checkpoints"
    shutil.copytree(saved_checkpoint.store, store)
    state = store / saved_checkpoint.key / "state.bin"
    state.chmod(0o644)
    with state.open("r+b") as f:
        f.seek(state.stat().st_size // 2)
        f.write(b"\xde\xad\xbe\xef" * 16)
    old = manifest(store, saved_checkpoint.key)
    work = tmp_path_factory.mktemp("ckpt-corrupt")
    checkpoint_template(work, tiny_iso, FIRST)
    env = {**saved_checkpoint.env, "PACKER_CACHE_DIR": str(cache)}
    run = run_kiln(["build", "-checkpoint", "template.json"], cwd=work, env=env)
    assert run.returncode == 0, run.output
    assert re.search(r"Checkpoint [0-9a-f]{12} \(.*\) is unusable: state.bin does not match "
                     r"its checksum\. Ignoring it", run.output), run.output  # fmt: skip
    assert "Typing the boot command" in run.output
    assert "Resuming" not in run.output
    new = manifest(store, saved_checkpoint.key)  # replaced by the fresh save
    assert new["created"] > old["created"]


def test_http_change_misses_naming_the_file_and_sigint_while_saving_publishes_nothing(
    saved_checkpoint: Saved,
) -> None:
    work = saved_checkpoint.work
    (work / "http" / "ks.cfg").write_text((work / "http" / "ks.cfg").read_text() + "# edited\n")
    proc = start_kiln(["build", "-checkpoint", "-force", "template.json"], cwd=work,
                      env=saved_checkpoint.env)  # fmt: skip
    try:
        seen = wait_for_output(proc, "Saving checkpoint", timeout=900)
    except BaseException:
        proc.kill()
        raise
    rest = interrupt_and_wait(proc, signal.SIGINT)
    out = seen + rest
    assert re.search(r"No checkpoint for this install: http_directory/ks\.cfg changed "
                     r"\(since checkpoint [0-9a-f]{12}, saved ", out), out  # fmt: skip
    assert proc.returncode != 0, out
    assert "Cancelling builds" in out
    assert re.search(r"Checkpoint [0-9a-f]{12} saved", out) is None, out
    assert published(saved_checkpoint.store) == [saved_checkpoint.key]
    assert not list((saved_checkpoint.store / ".tmp").iterdir())
    assert qemu_processes_under(work) == []


def test_efi_variables_and_tpm_state_are_part_of_the_checkpoint(
    restored: tuple[Path, KilnRun],
    saved_checkpoint: Saved,
    tmp_path_factory: pytest.TempPathFactory,
    tiny_iso: Any,
) -> None:
    work = tmp_path_factory.mktemp("ckpt-efi")
    shutil.copy(restored[0] / "out" / "tiny.qcow2", work / "installed.qcow2")
    subprocess.run(
        ["xorriso", "-osirrox", "on", "-indev", str(tiny_iso.path),
         "-extract", "/kiln/vmlinuz", str(work / "vmlinuz"),
         "-extract", "/kiln/initrd.gz", str(work / "initrd.gz")],
        check=True, capture_output=True,
    )  # fmt: skip
    probe = "test -d /sys/firmware/efi && echo EFI=yes; cat /sys/class/tpm/tpm0/pcr-sha256/0"

    def template(marker: str) -> None:
        builder = tiny_builder(
            None, iso_url="installed.qcow2", iso_checksum="none", disk_image=True,
            efi_boot=True, vtpm=True, boot_wait="0s", http_directory=None, boot_command=None,
            qemuargs=[["-kernel", "vmlinuz"], ["-initrd", "initrd.gz"],
                      ["-append", "console=ttyS0,115200 kiln.mode=system root=LABEL=kiln-root"]],
        )  # fmt: skip
        provisioners = [{"type": "shell", "inline": [f"echo {marker}", probe]}]
        write_template(work / "template.json", [builder], provisioners=provisioners)

    env = {**saved_checkpoint.env, "PACKER_CACHE_DIR": str(work / "cache")}
    template("first")
    first = run_kiln(["build", "-checkpoint", "template.json"], cwd=work, env=env)
    assert first.returncode == 0, first.output
    assert "Saving checkpoint" in first.output and "EFI=yes" in first.output
    store = work / "cache" / "checkpoints"
    (key,) = published(store)
    assert manifest(store, key)["efivars"] == "efivars.fd"
    saved_vars = (store / key / "efivars.fd").read_bytes()
    # OVMF wrote them: they differ from the template of the firmware the build used.
    used = re.search(r"Using UEFI firmware \S+ \(descriptor (\S+)\)", first.output)
    assert used, first.output
    template_vars = json.loads(Path(used[1]).read_text())["mapping"]["nvram-template"]
    assert saved_vars != Path(template_vars["filename"]).read_bytes()
    pcr0 = re.findall(r"^\s+qemu: ([0-9A-F]{64})$", first.output, re.MULTILINE)
    assert len(pcr0) == 1 and pcr0[0] != "0" * 64, first.output

    template("second")
    second = run_kiln(["build", "-checkpoint", "-force", "template.json"], cwd=work, env=env)
    assert second.returncode == 0, second.output
    assert "Resuming from checkpoint" in second.output and "EFI=yes" in second.output
    # The TPM resumed with the firmware's measurements; a new TPM would have none.
    assert re.findall(r"^\s+qemu: ([0-9A-F]{64})$", second.output, re.MULTILINE) == pcr0
    assert (work / "out" / "efivars.fd").read_bytes() == saved_vars
