"""`vagrant` → `vagrant-cloud` chains against a local Vagrant Cloud (tests/vagrant_cloud_server.py):
the requests Packer 1.6.6 makes, in its order, and what the service holds afterwards —
including uploads cut off midway, retried or given up on, and cancelled publishes."""

from __future__ import annotations

import asyncio
import gzip
import io
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kiln.engine.artifact import Artifact
from kiln.engine.options import RunOptions
from kiln.engine.result import BuildResult
from kiln.postprocessors import vagrant_cloud_api
from kiln.postprocessors.config import VAGRANT_CLOUD_URL, VagrantCloudConfig
from kiln.postprocessors.runner import run_post_processors
from kiln.postprocessors.vagrant_cloud import check_tokens, provider_from_box, verify_tls
from kiln.postprocessors.vagrant_cloud_api import CloudError, format_errors
from kiln.ui.output import Ui
from template_plans import BUILDER, plan_of
from vagrant_cloud_server import LocalCloud, Version, local_vagrant_cloud

TOKEN = "vc-token-8c1f4e0d2a"
PACKERS_CALLS = [  # what Packer 1.6.6 sent to this server for the same chain (after its
    # `GET authenticate`, which kiln makes before the build starts: see check_tokens)
    "GET box/me/tiny",
    "POST box/me/tiny/versions",
    "POST box/me/tiny/version/1.0/providers",
    "GET box/me/tiny/version/1.0/provider/libvirt/upload/direct",
    "PUT /storage/<id>",
    "PUT box/me/tiny/version/1.0/provider/libvirt/upload/direct/confirm/<id>",
    "PUT box/me/tiny/version/1.0/release",
]


@pytest.fixture
def cloud() -> Iterator[LocalCloud]:
    with local_vagrant_cloud(TOKEN) as served:
        served.state.add_box("me/tiny", Version("0.9", status="active"))
        yield served


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Packer waits 10 s between upload tries; the tests' uploads fail on purpose."""
    monkeypatch.setattr(vagrant_cloud_api, "UPLOAD_RETRY_DELAY", 0.05)


def calls(cloud: LocalCloud) -> list[str]:
    import re

    return [re.sub(r"[0-9a-f]{32}", "<id>", c) for c in cloud.state.calls()]


class Out:
    def __init__(self) -> None:
        self.buffer = io.StringIO()
        self.ui = Ui(out=self.buffer, err=self.buffer, color=False)

    @property
    def text(self) -> str:
        return self.buffer.getvalue()


def qemu_artifact(tmp_path: Path) -> Artifact:
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    disk = out / "tiny.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(disk), "1M"], check=True)
    with disk.open("ab") as f:  # some bytes beyond the cut-off point of cut uploads
        f.write(bytes(range(256)) * 4096)
    return Artifact("qemu", "qemu", Path("out"), [Path("out/tiny.qcow2")], state={
        "generated_data": {}, "diskName": "tiny.qcow2", "diskType": "qcow2",
        "diskSize": "1M", "domainType": "tcg"})  # fmt: skip


def cloud_pp(cloud: LocalCloud, **options: Any) -> dict[str, Any]:
    return {"type": "vagrant-cloud", "box_tag": "me/tiny", "version": "1.0",
            "version_description": "first", "vagrant_cloud_url": cloud.url, **options}  # fmt: skip


async def publish(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *chain: Any,
    artifact: Artifact | None = None,
    env: dict[str, str] | None = None,
) -> tuple[BuildResult, Out]:
    monkeypatch.chdir(tmp_path)
    env = {"VAGRANT_CLOUD_TOKEN": TOKEN} if env is None else env
    template = {"builders": [BUILDER], "post-processors": [list(chain)]}
    import json

    from kiln.plan import PlanOptions, make_plan
    from kiln.template.loader import parse_template

    plan = make_plan(
        parse_template(json.dumps(template), tmp_path / "t.json"),
        PlanOptions(cwd=tmp_path, env=env),
    )
    out = Out()
    out.ui.redact.add(*plan.secrets)
    result = BuildResult("qemu", artifact or qemu_artifact(tmp_path), None, [])
    done = await run_post_processors(plan.builds[0], result, out.ui, RunOptions(env=env))
    assert TOKEN not in out.text
    return done, out


def box_bytes(tmp_path: Path) -> bytes:
    return (tmp_path / "tiny.box").read_bytes()


VAGRANT = {"type": "vagrant", "output": "tiny.box"}


async def test_publish_speaks_packers_protocol(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cloud: LocalCloud
) -> None:
    result, out = await publish(tmp_path, monkeypatch, VAGRANT, cloud_pp(cloud))
    assert result.error is None, out.text
    assert calls(cloud) == PACKERS_CALLS
    requests = cloud.state.requests
    api = [r for r in requests if r.path.startswith("/api/v1/")]
    assert {r.authorization for r in api} == {f"Bearer {TOKEN}"}
    assert {r.content_type for r in api} == {"application/json"}
    (upload,) = [r for r in requests if r.path.startswith("/storage/")]
    assert upload.authorization == ""  # a pre-signed URL: the token must not go there
    assert upload.body == len(box_bytes(tmp_path)) and not upload.chunked
    assert requests[1].body == {"version": {"version": "1.0", "description": "first"}}
    assert requests[2].body == {"provider": {"name": "libvirt"}}
    version = cloud.state.boxes["me/tiny"]["1.0"]
    assert (version.status, version.description) == ("active", "first")
    assert version.providers["libvirt"].data == box_bytes(tmp_path)
    assert [str(a) for a in result.artifacts] == [
        "'libvirt' provider box: tiny.box",
        "'libvirt': me/tiny",
    ]  # the box is kept (vagrant-cloud keeps its input by default)
    for line in (
        "==> qemu: Running post-processor: vagrant-cloud",
        "==> qemu (vagrant-cloud): Verifying box is accessible: me/tiny",
        "    qemu (vagrant-cloud): Box accessible and matches tag",
        "==> qemu (vagrant-cloud): Creating version: 1.0",
        "==> qemu (vagrant-cloud): Creating provider: libvirt",
        "==> qemu (vagrant-cloud): Preparing upload of box: ",
        "==> qemu (vagrant-cloud): Uploading box: ",
        "    qemu (vagrant-cloud): Uploading box",
        "    qemu (vagrant-cloud): Box successfully uploaded",
        "==> qemu (vagrant-cloud): Confirming direct box upload completion",
        "==> qemu (vagrant-cloud): Releasing version: 1.0",
        "    qemu (vagrant-cloud): Version successfully released and available",
    ):
        assert line in out.text


async def test_keep_input_artifact_false_deletes_the_box_after_publishing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cloud: LocalCloud
) -> None:
    result, out = await publish(
        tmp_path, monkeypatch, VAGRANT, cloud_pp(cloud, keep_input_artifact=False)
    )
    assert result.error is None, out.text
    assert not (tmp_path / "tiny.box").exists()
    assert [str(a) for a in result.artifacts] == ["'libvirt': me/tiny"]
    assert cloud.state.boxes["me/tiny"]["1.0"].providers["libvirt"].data


async def test_an_existing_version_is_reused_and_no_release_leaves_it_unreleased(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cloud: LocalCloud
) -> None:
    cloud.state.boxes["me/tiny"]["1.0"] = Version("1.0")
    result, out = await publish(tmp_path, monkeypatch, VAGRANT, cloud_pp(cloud, no_release=True))
    assert result.error is None, out.text
    assert "    qemu (vagrant-cloud): Version exists, skipping creation" in out.text
    assert "    qemu (vagrant-cloud): Not releasing version due to configuration" in out.text
    assert "POST box/me/tiny/versions" not in calls(cloud)
    assert not any("release" in c for c in calls(cloud))
    version = cloud.state.boxes["me/tiny"]["1.0"]
    assert version.status == "unreleased" and version.providers["libvirt"].data


async def test_no_direct_upload_goes_through_the_api_with_the_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cloud: LocalCloud
) -> None:
    result, out = await publish(
        tmp_path, monkeypatch, VAGRANT, cloud_pp(cloud, no_direct_upload=True)
    )
    assert result.error is None, out.text
    assert calls(cloud) == [
        "GET box/me/tiny",
        "POST box/me/tiny/versions",
        "POST box/me/tiny/version/1.0/providers",
        "GET box/me/tiny/version/1.0/provider/libvirt/upload",
        "PUT upload/<id>",
        "PUT box/me/tiny/version/1.0/release",
    ]
    assert cloud.state.requests[4].authorization == f"Bearer {TOKEN}"
    assert cloud.state.boxes["me/tiny"]["1.0"].providers["libvirt"].data == box_bytes(tmp_path)


async def test_box_download_url_registers_a_url_instead_of_uploading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cloud: LocalCloud
) -> None:
    url = "https://downloads.example.com/{{ .Provider }}/{{ split `a` }}.box"
    pp = cloud_pp(cloud, box_download_url=url)
    monkeypatch.chdir(tmp_path)
    result, out = await publish(tmp_path, monkeypatch, VAGRANT, {**pp, "version": "1.0"})
    assert result.error is not None and "box_download_url" in result.error, result.error
    cloud.state.requests.clear()
    pp["box_download_url"] = "https://downloads.example.com/{{ .Provider }}.box"
    result, out = await publish(tmp_path, monkeypatch, VAGRANT, pp)
    assert result.error is None, out.text
    assert calls(cloud) == [
        "GET box/me/tiny",
        "POST box/me/tiny/versions",
        "POST box/me/tiny/version/1.0/providers",
        "PUT box/me/tiny/version/1.0/release",
    ]
    provider = cloud.state.boxes["me/tiny"]["1.0"].providers["libvirt"]
    assert provider.url == "https://downloads.example.com/libvirt.box"
    assert provider.data is None


async def test_an_upload_cut_off_midway_is_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cloud: LocalCloud
) -> None:
    cloud.state.cut_uploads = 1
    result, out = await publish(tmp_path, monkeypatch, VAGRANT, cloud_pp(cloud))
    assert result.error is None, out.text
    assert calls(cloud).count("PUT /storage/<id>") == 2
    assert "    qemu (vagrant-cloud): Error uploading box! Will retry in 0.05 seconds. Error: " in (
        out.text
    )
    version = cloud.state.boxes["me/tiny"]["1.0"]
    assert version.status == "active"
    assert version.providers["libvirt"].data == box_bytes(tmp_path)


async def test_an_upload_that_keeps_failing_leaves_no_trace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cloud: LocalCloud
) -> None:
    cloud.state.cut_uploads = 3
    result, out = await publish(tmp_path, monkeypatch, VAGRANT, cloud_pp(cloud))
    assert result.error is not None
    assert "Post-processor failed: retry count exhausted. Last err: Error: " in result.error
    assert calls(cloud)[-5:] == [
        "PUT /storage/<id>",
        "PUT /storage/<id>",
        "PUT /storage/<id>",
        "DELETE box/me/tiny/version/1.0/provider/libvirt",
        "DELETE box/me/tiny/version/1.0",
    ]
    # Packer leaves an empty, unreleased 1.0 behind; kiln removes what it created.
    assert list(cloud.state.boxes["me/tiny"]) == ["0.9"]
    assert "Error uploading box! Giving up after 3 tries." in out.text
    for line in ("==> qemu (vagrant-cloud): Cleaning up provider",
                 "    qemu (vagrant-cloud): Deleting provider: libvirt",
                 "==> qemu (vagrant-cloud): Cleaning up version",
                 "    qemu (vagrant-cloud): Deleting version: 1.0"):  # fmt: skip
        assert line in out.text
    assert (tmp_path / "tiny.box").exists()  # the box itself is still there to retry with


async def test_a_version_that_existed_before_is_never_deleted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cloud: LocalCloud
) -> None:
    cloud.state.boxes["me/tiny"]["1.0"] = Version("1.0", "kept")
    cloud.state.upload_status = [500, 500, 500]
    result, out = await publish(tmp_path, monkeypatch, VAGRANT, cloud_pp(cloud))
    assert result.error is not None
    assert "retry count exhausted. Last err: bad HTTP status: 500" in result.error
    assert "Error uploading box! Will retry in 0.05 seconds. Status: 500" in out.text
    assert calls(cloud)[-1] == "DELETE box/me/tiny/version/1.0/provider/libvirt"
    assert cloud.state.boxes["me/tiny"]["1.0"].providers == {}
    assert cloud.state.boxes["me/tiny"]["1.0"].description == "kept"


async def test_a_failed_release_removes_the_unreleased_upload(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cloud: LocalCloud
) -> None:
    cloud.state.fail[("PUT", "/release")] = (500, ["release is down"])
    result, _out = await publish(tmp_path, monkeypatch, VAGRANT, cloud_pp(cloud))
    assert result.error is not None
    assert "Post-processor failed: Error releasing version: release is down" in result.error
    assert list(cloud.state.boxes["me/tiny"]) == ["0.9"]


async def test_a_released_version_is_fine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cloud: LocalCloud
) -> None:
    cloud.state.boxes["me/tiny"]["1.0"] = Version("1.0", status="active")
    result, out = await publish(tmp_path, monkeypatch, VAGRANT, cloud_pp(cloud))
    assert result.error is None, out.text
    assert "    qemu (vagrant-cloud): Not releasing version, already released" in out.text


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda s: s.boxes.clear(), "Error retrieving box: Resource not found!"),
        (lambda s: s.fail.__setitem__(("POST", "/versions"), (422, [{"version": "is bad"}])),
         "Error creating version: version is bad"),
        (lambda s: s.fail.__setitem__(("POST", "/providers"), (500, [])),
         "Error creating provider: HTTP 500 Internal Server Error"),
        (lambda s: s.fail.__setitem__(("GET", "/upload/direct"), (403, ["no uploads"])),
         "Error preparing upload: no uploads"),
    ],
)  # fmt: skip
async def test_api_errors_name_the_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cloud: LocalCloud, setup: Any, message: str
) -> None:
    setup(cloud.state)
    result, _ = await publish(tmp_path, monkeypatch, VAGRANT, cloud_pp(cloud))
    assert result.error is not None and f"Post-processor failed: {message}" in result.error
    assert "1.0" not in cloud.state.boxes.get("me/tiny", {})


async def test_cancelling_during_the_upload_cleans_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cloud: LocalCloud
) -> None:
    monkeypatch.chdir(tmp_path)
    cloud.state.stall_uploads.set()
    plan_task = asyncio.ensure_future(publish(tmp_path, monkeypatch, VAGRANT, cloud_pp(cloud)))
    for _ in range(200):
        if cloud.state.upload_started.is_set():
            break
        await asyncio.sleep(0.05)
    assert cloud.state.upload_started.is_set()
    plan_task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await plan_task
    cloud.state.stall_uploads.clear()
    assert calls(cloud)[-2:] == [
        "DELETE box/me/tiny/version/1.0/provider/libvirt",
        "DELETE box/me/tiny/version/1.0",
    ]
    assert list(cloud.state.boxes["me/tiny"]) == ["0.9"]


async def test_a_wrong_input_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cloud: LocalCloud
) -> None:
    result, _ = await publish(tmp_path, monkeypatch, cloud_pp(cloud))
    assert result.error is not None
    assert (
        "Unknown artifact type: this post-processor requires an input artifact from the "
        "artifice post-processor, vagrant post-processor, or vagrant builder: transcend.qemu"
    ) in result.error
    (tmp_path / "notes.txt").write_text("x")
    result, _ = await publish(
        tmp_path, monkeypatch, {"type": "artifice", "files": ["notes.txt"]}, cloud_pp(cloud)
    )
    assert result.error is not None
    assert "Vagrant box with .box suffix is required as first artifact file: [notes.txt]" in (
        result.error
    )
    assert cloud.state.requests == []


@pytest.mark.parametrize("compressed", [True, False])
async def test_artifice_boxes_name_their_provider_in_metadata(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cloud: LocalCloud, compressed: bool
) -> None:
    box = tmp_path / "made.box"
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        data = b'{"provider": "libvirt"}'
        info = tarfile.TarInfo("metadata.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    box.write_bytes(gzip.compress(raw.getvalue()) if compressed else raw.getvalue())
    assert provider_from_box(box) == "libvirt"
    result, out = await publish(
        tmp_path, monkeypatch, {"type": "artifice", "files": ["made.box"]}, cloud_pp(cloud)
    )
    assert result.error is None, out.text
    assert cloud.state.boxes["me/tiny"]["1.0"].providers["libvirt"].data == box.read_bytes()


def test_a_box_without_a_provider_is_refused(tmp_path: Path) -> None:
    box = tmp_path / "x.box"
    with tarfile.open(box, "w:gz") as tar:
        info = tarfile.TarInfo("Vagrantfile")
        tar.addfile(info, io.BytesIO(b""))
    with pytest.raises(CloudError, match="Provider info was not found in box"):
        provider_from_box(box)
    box.write_bytes(b"not a tar")
    with pytest.raises(CloudError, match="error getting provider name: reading"):
        provider_from_box(box)


async def test_atlas_token_works_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cloud: LocalCloud
) -> None:
    result, out = await publish(
        tmp_path, monkeypatch, VAGRANT, cloud_pp(cloud), env={"ATLAS_TOKEN": TOKEN}
    )
    assert result.error is None, out.text
    assert "Warning: Using Vagrant Cloud token found in ATLAS_TOKEN" in out.text


async def test_the_token_option_wins_over_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cloud: LocalCloud
) -> None:
    result, out = await publish(
        tmp_path, monkeypatch, VAGRANT, cloud_pp(cloud, access_token=TOKEN),
        env={"VAGRANT_CLOUD_TOKEN": "wrong"},
    )  # fmt: skip
    assert result.error is None, out.text


async def test_check_tokens_asks_once_per_service_and_token(
    cloud: LocalCloud, tmp_path: Path
) -> None:
    pps = [cloud_pp(cloud), cloud_pp(cloud, version="2.0")]
    plan = plan_of(tmp_path, {"builders": [BUILDER], "post-processors": pps})
    assert await check_tokens(plan, {"VAGRANT_CLOUD_TOKEN": TOKEN}) == []
    assert calls(cloud) == ["GET authenticate"]
    groups = await check_tokens(plan, {"VAGRANT_CLOUD_TOKEN": "bad"})
    assert groups == [('Error: Failed to prepare build: "qemu"', [
        "post-processor 1 (vagrant-cloud): Failed to verify authentication token: "
        "401 Unauthorized",
        "post-processor 2 (vagrant-cloud): Failed to verify authentication token: "
        "401 Unauthorized",
    ])]  # fmt: skip
    assert calls(cloud) == ["GET authenticate", "GET authenticate"]


async def test_check_tokens_when_the_service_is_unreachable(tmp_path: Path) -> None:
    pp = {"type": "vagrant-cloud", "box_tag": "me/tiny", "version": "1",
          "vagrant_cloud_url": "http://127.0.0.1:9/api/v1"}  # fmt: skip
    plan = plan_of(tmp_path, {"builders": [BUILDER], "post-processors": [pp]})
    ((_, (error,)),) = await check_tokens(plan, {})
    assert error.startswith(
        "post-processor 1 (vagrant-cloud): Failed to verify authentication token: ConnectError"
    )


def test_tls_verification_is_skipped_only_off_the_public_service() -> None:
    assert verify_tls(VagrantCloudConfig(insecure_skip_tls_verify=False))
    assert verify_tls(VagrantCloudConfig(insecure_skip_tls_verify=True))  # default URL
    assert not verify_tls(
        VagrantCloudConfig(insecure_skip_tls_verify=True, vagrant_cloud_url="https://x/api")
    )
    assert VagrantCloudConfig().vagrant_cloud_url == VAGRANT_CLOUD_URL


def test_format_errors_is_packers() -> None:
    assert format_errors({"errors": ["a", {"version": "is bad"}, 3]}) == "a. version is bad. 3"
    assert format_errors({"nope": 1}) == ""
    assert format_errors(None) == ""


def test_kiln_build_stops_before_any_vm_on_a_bad_token(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    cloud: LocalCloud,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import json

    from kiln.cli.main import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VAGRANT_CLOUD_TOKEN", "not-the-token-81b2")
    template = {"builders": [BUILDER], "post-processors": [[VAGRANT, cloud_pp(cloud)]]}
    (tmp_path / "t.json").write_text(json.dumps(template))
    assert main(["build", "t.json"]) == 1
    out = "".join(capsys.readouterr())
    assert 'Error: Failed to prepare build: "qemu"' in out
    assert (
        "* post-processor 1.2 (vagrant-cloud): Failed to verify authentication token: "
        "401 Unauthorized\n"
    ) in out
    assert "not-the-token-81b2" not in out
    assert "Retrieving ISO" not in out  # nothing was started
    assert calls(cloud) == ["GET authenticate"]
    assert cloud.state.requests[0].authorization == "Bearer not-the-token-81b2"
    # `kiln validate` stays offline
    assert main(["validate", "t.json"]) == 0
    assert calls(cloud) == ["GET authenticate"]
