"""Two `qemu` builders in one template: parallel builds, -only, one shared ISO download.

The ISO is served over HTTP (a fresh cache) and both builds start together, so the
"downloaded once" rule is tested for real: the server must see exactly one GET. The
virtio build moves files over SFTP, the ide one over SCP.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest

from build_harness import (
    KilnRun,
    kiln_env,
    qemu_processes_under,
    run_kiln,
    tiny_builder,
    write_answers,
    write_template,
)
from guest_fixtures import serve_directory

pytestmark = pytest.mark.e2e


def _template(work: Path, iso: object, iso_url: str) -> None:
    write_answers(work / "http", marker="multi")
    builders = [
        tiny_builder(
            iso,
            name="virtio",
            iso_url=iso_url,
            output_directory="out-virtio",
            ssh_file_transfer_method="sftp",
        ),
        tiny_builder(
            iso,
            name="ide",
            iso_url=iso_url,
            output_directory="out-ide",
            disk_interface="ide",
            net_device="e1000",
        ),
    ]
    write_template(
        work / "template.json",
        builders,
        provisioners=[
            {"type": "shell", "inline": ['echo "{{ build_name }}" > /root/name.txt']},
            {
                "type": "file",
                "direction": "download",
                "source": "/root/name.txt",
                "destination": "names/{{ build_name }}.txt",
            },
        ],
        **{
            "post-processors": [
                {"type": "manifest", "output": "manifest.json", "strip_path": True},
                {
                    "type": "compress",
                    "output": "{{.BuildName}}.zip",
                    "only": ["ide"],
                    "keep_input_artifact": True,
                },
            ]
        },
    )


def _per_build(output: str, pattern: str) -> dict[str, str]:
    return dict(re.findall(rf"==> (virtio|ide): {pattern}", output))


@pytest.fixture(scope="module")
def pair(tiny_iso, kiln_session_cache: Path, tmp_path_factory: pytest.TempPathFactory):
    work = tmp_path_factory.mktemp("multi")
    served_dir = work / "iso"
    served_dir.mkdir()
    (served_dir / tiny_iso.path.name).symlink_to(tiny_iso.path)
    env = kiln_env(work, kiln_session_cache)
    env["PACKER_CACHE_DIR"] = str(work / "fresh-cache")  # nothing cached: a real download
    with serve_directory(served_dir) as served:
        _template(work, tiny_iso, served.host_url(tiny_iso.path.name))
        run = run_kiln(["build", "template.json"], cwd=work, env=env)
        requests = list(served.requests)
    return work, run, requests


def test_both_builds_succeed_in_parallel(pair: tuple[Path, KilnRun, list[str]]) -> None:
    _work, run, _ = pair
    assert run.returncode == 0, run.output
    out = run.output
    print(f"\npair of builds in one kiln run: {run.seconds:.1f}s")
    assert "Build 'virtio' finished after " in out and "Build 'ide' finished after " in out
    # Both VMs ran at the same time: each started before either build finished.
    first_done = min(out.index("Build 'virtio' finished"), out.index("Build 'ide' finished"))
    assert out.index("==> virtio: Starting VM, booting from CD-ROM") < first_done
    assert out.index("==> ide: Starting VM, booting from CD-ROM") < first_done
    for line in (
        "--> virtio: VM files in directory: out-virtio",
        "--> ide: VM files in directory: out-ide",
        "--> ide: compressed artifacts in: ide.zip",
    ):
        assert line in out
    assert "--> virtio: compressed" not in out


def test_builds_never_share_ports_or_directories(pair: tuple[Path, KilnRun, list[str]]) -> None:
    work, run, _ = pair
    http = _per_build(run.output, r"Starting HTTP server on port (\d+)")
    ssh = _per_build(run.output, r"Found port for communicator \(SSH, WinRM, etc\): (\d+)")
    vnc = _per_build(run.output, r"Connecting to VM via VNC \(([\d.:]+)\)")
    for found in (http, ssh, vnc):
        assert set(found) == {"virtio", "ide"}, run.output
        assert found["virtio"] != found["ide"]
    assert (work / "out-virtio" / "tiny.qcow2").is_file()
    assert (work / "out-ide" / "tiny.qcow2").is_file()
    assert (work / "names" / "virtio.txt").read_text() == "virtio\n"
    assert (work / "names" / "ide.txt").read_text() == "ide\n"
    with zipfile.ZipFile(work / "ide.zip") as z:
        assert z.namelist() == ["out-ide/tiny.qcow2"]
    assert qemu_processes_under(work) == []


def test_manifest_collects_both_builds(pair: tuple[Path, KilnRun, list[str]]) -> None:
    work, _, _ = pair
    manifest = json.loads((work / "manifest.json").read_text())
    assert sorted(b["name"] for b in manifest["builds"]) == ["ide", "virtio"]
    assert {b["packer_run_uuid"] for b in manifest["builds"]} == {manifest["last_run_uuid"]}
    assert all(b["files"][0]["name"] == "tiny.qcow2" for b in manifest["builds"])


def test_the_shared_iso_is_downloaded_once(pair: tuple[Path, KilnRun, list[str]], tiny_iso) -> None:
    _, run, requests = pair
    gets = [r for r in requests if r.startswith(f'"GET /{tiny_iso.path.name} ')]
    assert len(gets) == 1, requests
    assert run.returncode == 0


def test_only_selects_one_build_with_a_glob(
    tiny_iso, kiln_session_cache: Path, tmp_path: Path
) -> None:
    _template(tmp_path, tiny_iso, str(tiny_iso.path))
    run = run_kiln(
        ["build", "-only=vir*", "template.json"],
        cwd=tmp_path,
        env=kiln_env(tmp_path, kiln_session_cache),
    )
    assert run.returncode == 0, run.output
    print(f"\nthe virtio build alone: {run.seconds:.1f}s")
    assert "==> virtio: Connected to SSH!" in run.output
    assert "==> ide:" not in run.output
    assert not (tmp_path / "out-ide").exists()
    assert (tmp_path / "names" / "virtio.txt").read_text() == "virtio\n"
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert [b["name"] for b in manifest["builds"]] == ["virtio"]
