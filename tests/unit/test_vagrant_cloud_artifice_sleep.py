"""Options and validate-time checks of `vagrant-cloud`, the `artifice` post-processor and
the `sleep` provisioner (the protocol itself: tests/integration/test_vagrant_cloud.py)."""

from __future__ import annotations

import asyncio
import io
import time
from pathlib import Path
from typing import Any

import pytest

from kiln.engine.artifact import Artifact
from kiln.engine.options import RunOptions
from kiln.engine.provision import run_provisioner
from kiln.engine.result import BuildResult
from kiln.options.spec import Duration
from kiln.plan import PlanOptions, ValidationFailed, make_plan
from kiln.postprocessors.artifice import ArtificeError, matching_files
from kiln.postprocessors.config import VAGRANT_CLOUD_URL, ArtificeConfig, VagrantCloudConfig
from kiln.postprocessors.runner import run_post_processors
from kiln.provisioners.config import SleepConfig
from kiln.provisioners.context import ProvisionContext, ProvisionerError
from kiln.provisioners.sleep import run_sleep
from kiln.template.loader import parse_template
from kiln.ui.output import Ui
from template_plans import BUILDER

TOKEN = "tok-3f9a77c1e2"


def plan(tmp_path: Path, env: dict[str, str] | None = None, **sections: Any) -> Any:
    import json

    text = json.dumps({"builders": [BUILDER], **sections})
    return make_plan(parse_template(text, tmp_path / "t.json"),
                     PlanOptions(cwd=tmp_path, env=env or {}))  # fmt: skip


def failure(tmp_path: Path, env: dict[str, str] | None = None, **sections: Any) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as failed:
        plan(tmp_path, env, **sections)
    return failed.value


# --- vagrant-cloud ---------------------------------------------------------------------------


def test_vagrant_cloud_every_option(tmp_path: Path) -> None:
    pp = {
        "type": "vagrant-cloud",
        "box_tag": "{{ user `org` }}/tiny",
        "version": "1.{{ user `minor` }}",
        "version_description": "built by {{ build_name }}",
        "no_release": "true",
        "access_token": TOKEN,
        "vagrant_cloud_url": "https://boxes.example.com/api/v1",
        "insecure_skip_tls_verify": True,
        "box_download_url": "https://dl.example.com/{{ .Provider }}.box",
        "no_direct_upload": 1,
    }
    p = plan(tmp_path, variables={"org": "acme", "minor": "2"}, **{"post-processors": [pp]})
    c = p.builds[0].post_processors[0][0].config
    assert isinstance(c, VagrantCloudConfig)
    assert (c.box_tag, c.version, c.version_description) == ("acme/tiny", "1.2", "built by qemu")
    assert (c.no_release, c.insecure_skip_tls_verify, c.no_direct_upload) == (True, True, True)
    assert c.access_token == TOKEN
    assert c.vagrant_cloud_url == "https://boxes.example.com/api/v1"
    assert c.box_download_url == "https://dl.example.com/{{ .Provider }}.box"  # late
    assert TOKEN in p.secrets


def test_vagrant_cloud_defaults(tmp_path: Path) -> None:
    pp = {"type": "vagrant-cloud", "box_tag": "a/b", "version": "1", "vagrant_cloud_url": ""}
    p = plan(tmp_path, {"VAGRANT_CLOUD_TOKEN": TOKEN}, **{"post-processors": [pp]})
    c = p.builds[0].post_processors[0][0].config
    assert c.vagrant_cloud_url == VAGRANT_CLOUD_URL
    assert c.access_token == TOKEN  # from the environment, as Packer's Configure does
    assert (c.no_release, c.no_direct_upload, c.insecure_skip_tls_verify) == (False,) * 3
    assert TOKEN in p.secrets  # the environment's token is a secret too


def test_vagrant_cloud_required_options(tmp_path: Path) -> None:
    failed = failure(tmp_path, **{"post-processors": ["vagrant-cloud"]})
    assert failed.groups[0][1] == [
        "post-processor 1 (vagrant-cloud): box_tag must be set",
        "post-processor 1 (vagrant-cloud): version must be set",
        "post-processor 1 (vagrant-cloud): access_token must be set if vagrant_cloud_url has "
        "not been overridden (set access_token, or VAGRANT_CLOUD_TOKEN in the environment)",
    ]


@pytest.mark.parametrize(
    "env",
    [{"VAGRANT_CLOUD_TOKEN": TOKEN}, {"ATLAS_TOKEN": TOKEN},
     {"VAGRANT_CLOUD_TOKEN": TOKEN, "ATLAS_TOKEN": "older"}],
)  # fmt: skip
def test_vagrant_cloud_token_from_the_environment(tmp_path: Path, env: dict[str, str]) -> None:
    pp = {"type": "vagrant-cloud", "box_tag": "a/b", "version": "1"}
    p = plan(tmp_path, env, **{"post-processors": [pp]})
    assert p.builds[0].post_processors[0][0].config.access_token == TOKEN
    assert TOKEN in p.secrets


def test_vagrant_cloud_own_service_needs_no_token(tmp_path: Path) -> None:
    pp = {"type": "vagrant-cloud", "box_tag": "a/b", "version": "1",
          "vagrant_cloud_url": "http://127.0.0.1:1/api/v1"}  # fmt: skip
    p = plan(tmp_path, **{"post-processors": [pp]})
    assert p.secrets == ["secret"]  # only the builder's ssh_password


def test_vagrant_cloud_url_must_be_http(tmp_path: Path) -> None:
    pp = {"type": "vagrant-cloud", "box_tag": "a/b", "version": "1",
          "vagrant_cloud_url": "vagrantcloud.com/api/v1"}  # fmt: skip
    (error,) = failure(tmp_path, **{"post-processors": [pp]}).groups[0][1]
    assert "vagrant_cloud_url 'vagrantcloud.com/api/v1' is not an http:// or https:// URL" in error


def test_the_token_never_shows_in_validation_errors(tmp_path: Path) -> None:
    pp = {"type": "vagrant-cloud", "box_tag": "a/b", "version": "1", "access_token": TOKEN,
          "no_release": f"{TOKEN}-not-a-bool"}  # fmt: skip
    failed = failure(tmp_path, **{"post-processors": [pp]})
    assert TOKEN not in failed.format()
    assert "<sensitive>" in failed.format()


# --- artifice --------------------------------------------------------------------------------


def test_artifice_needs_files(tmp_path: Path) -> None:
    (error,) = failure(tmp_path, **{"post-processors": ["artifice"]}).groups[0][1]
    assert error == "post-processor 1 (artifice): No files specified in artifice configuration"


def test_artifice_files_option(tmp_path: Path) -> None:
    pp = {"type": "artifice", "files": ["out/{{ build_name }}.box", "out/*.json"]}
    c = plan(tmp_path, **{"post-processors": [pp]}).builds[0].post_processors[0][0].config
    assert isinstance(c, ArtificeConfig)
    assert c.files == ["out/qemu.box", "out/*.json"]


def test_matching_files_expands_globs_in_order(tmp_path: Path) -> None:
    for name in ("b.json", "a.json", "x.box"):
        (tmp_path / name).write_text(name)
    assert matching_files(["x.box", "*.json"], tmp_path) == [
        Path("x.box"), Path("a.json"), Path("b.json")]  # fmt: skip
    assert matching_files([str(tmp_path / "x.box")], Path("/")) == [tmp_path / "x.box"]
    with pytest.raises(ArtificeError, match=r"artifice: no file matches 'nope\.box', '\*\.iso'"):
        matching_files(["x.box", "nope.box", "*.iso"], tmp_path)


class Out:
    def __init__(self) -> None:
        self.buffer = io.StringIO()
        self.ui = Ui(out=self.buffer, err=self.buffer, color=False)


def builder_artifact(tmp_path: Path) -> Artifact:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "tiny.qcow2").write_bytes(b"disk")
    return Artifact("qemu", "qemu", Path("out"), [Path("out/tiny.qcow2")])


@pytest.mark.parametrize("keep", [None, False])
async def test_artifice_replaces_the_artifact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keep: bool | None
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "made.box").write_text("box")
    pp: dict[str, Any] = {"type": "artifice", "files": ["made.box"]}
    if keep is not None:
        pp["keep_input_artifact"] = keep
    build = plan(tmp_path, **{"post-processors": [pp]}).builds[0]
    out = Out()
    result = await run_post_processors(
        build, BuildResult("qemu", builder_artifact(tmp_path), None, []), out.ui, RunOptions()
    )
    assert result.error is None
    described = [str(a) for a in result.artifacts]
    text = out.buffer.getvalue()
    assert "==> qemu (artifice): Discarding files from artifact: out/tiny.qcow2" in text
    assert "==> qemu (artifice): Using these artifact files: made.box" in text
    if keep is None:  # Packer's default for artifice: keep the input
        assert described == ["VM files in directory: out", "Created artifact from files: made.box"]
        assert (tmp_path / "out").exists()
    else:
        assert described == ["Created artifact from files: made.box"]
        assert not (tmp_path / "out").exists()


async def test_artifice_artifacts_are_deleted_like_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "made.box").write_text("box")
    pps = [[{"type": "artifice", "files": ["made.box"]},
            {"type": "compress", "output": "made.tar.gz"}]]  # fmt: skip
    build = plan(tmp_path, **{"post-processors": pps}).builds[0]
    result = await run_post_processors(
        build, BuildResult("qemu", builder_artifact(tmp_path), None, []), Out().ui, RunOptions()
    )
    assert result.error is None
    assert not (tmp_path / "made.box").exists()  # compress discarded its input
    assert (tmp_path / "made.tar.gz").exists()


# --- sleep -----------------------------------------------------------------------------------


def test_sleep_duration_option(tmp_path: Path) -> None:
    p = plan(tmp_path, provisioners=[{"type": "sleep", "duration": "1m30s"}])
    c = p.builds[0].provisioners[0].config
    assert isinstance(c, SleepConfig) and c.duration == Duration(90.0, "1m30s")
    bare = plan(tmp_path, provisioners=[{"type": "sleep"}]).builds[0].provisioners[0].config
    assert bare == SleepConfig()


def test_sleep_duration_needs_a_unit(tmp_path: Path) -> None:
    (error,) = failure(tmp_path, provisioners=[{"type": "sleep", "duration": 10}]).groups[0][1]
    assert "the number 10 has no unit" in error


def _context(tmp_path: Path, said: list[str]) -> ProvisionContext:
    build = plan(tmp_path).builds[0]
    return ProvisionContext(plan=build, say=said.append, message=said.append, comm=None)


async def test_sleep_waits(tmp_path: Path) -> None:
    said: list[str] = []
    started = time.monotonic()
    await run_sleep(SleepConfig(duration=Duration(0.2, "200ms")), _context(tmp_path, said))
    assert time.monotonic() - started >= 0.2
    assert said == ["Sleeping for 200ms..."]
    said.clear()
    await run_sleep(SleepConfig(), _context(tmp_path, said))
    assert said == []


async def test_sleep_is_cut_short_by_the_provisioner_timeout(tmp_path: Path) -> None:
    p = plan(tmp_path, provisioners=[{"type": "sleep", "duration": "1h", "timeout": "100ms"}])
    said: list[str] = []
    ctx = ProvisionContext(plan=p.builds[0], say=said.append, message=said.append, comm=None)
    started = time.monotonic()
    with pytest.raises(ProvisionerError, match="did not finish within its timeout"):
        await run_provisioner(p.builds[0].provisioners[0], ctx)
    assert time.monotonic() - started < 5


async def test_sleep_is_cancellable(tmp_path: Path) -> None:
    task = asyncio.ensure_future(
        run_sleep(SleepConfig(duration=Duration(3600.0, "1h")), _context(tmp_path, []))
    )
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
