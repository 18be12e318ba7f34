"""The `vagrant` post-processor: every option, its validate-time checks, and real boxes made
from a real qcow2 (qemu-img) through the post-processor chain runner."""

from __future__ import annotations

import asyncio
import json
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest

from kiln.engine.artifact import Artifact
from kiln.engine.options import RunOptions
from kiln.engine.plan import StepPlan
from kiln.engine.result import BuildResult
from kiln.plan import ValidationFailed
from kiln.postprocessors.config import VagrantConfig
from kiln.postprocessors.context import PostContext
from kiln.postprocessors.runner import run_post_processors
from kiln.postprocessors.vagrant import run_vagrant
from kiln.postprocessors.vagrant_box import BoxError, partial_path
from kiln.ui.output import Ui
from template_plans import BUILDER, plan_of

# --- options and checks ----------------------------------------------------------------------


def pp_plan(tmp_path: Path, *pps: Any, variables: dict[str, str] | None = None) -> list[StepPlan]:
    template: dict[str, Any] = {"builders": [BUILDER], "post-processors": [list(pps)]}
    if variables:
        template["variables"] = variables
    (chain,) = plan_of(tmp_path, template).builds[0].post_processors
    return chain


def pp_errors(tmp_path: Path, *pps: Any) -> list[str]:
    with pytest.raises(ValidationFailed) as failed:
        pp_plan(tmp_path, *pps)
    return [e for _, group in failed.value.groups for e in group]


def test_defaults(tmp_path: Path) -> None:
    (step,) = pp_plan(tmp_path, "vagrant")
    assert step.config == VagrantConfig()
    assert step.config.compression_level == -1
    assert step.config.output == "packer_{{ .BuildName }}_{{.Provider}}.box"


def test_every_option(tmp_path: Path) -> None:
    (tmp_path / "vf.tpl").write_text("# custom\n")
    (step,) = pp_plan(
        tmp_path,
        {
            "type": "vagrant",
            "compression_level": "9",
            "include": ["{{ user `extra` }}", "info.json"],
            "output": "boxes/{{ .BuildName }}-{{ .Provider }}.box",
            "vagrantfile_template": "vf.tpl",
            "vagrantfile_template_generated": "true",
            "provider_override": "libvirt",
            "override": {"libvirt": {"output": "{{ .Provider }}.box", "compression_level": 1},
                         "virtualbox": {"output": "vb.box"}},
        },
        variables={"extra": "notes.txt"},
    )  # fmt: skip
    c = step.config
    assert isinstance(c, VagrantConfig)
    assert c.compression_level == 9
    assert c.include == ["notes.txt", "info.json"]
    assert c.output == "boxes/{{ .BuildName }}-{{ .Provider }}.box"  # rendered per box
    assert (c.vagrantfile_template, c.vagrantfile_template_generated) == ("vf.tpl", True)
    assert c.provider_override == "libvirt"
    assert c.override == {
        "libvirt": {"output": "{{ .Provider }}.box", "compression_level": 1},
        "virtualbox": {"output": "vb.box"},
    }


def test_compression_level_zero_means_no_compression_not_the_default(tmp_path: Path) -> None:
    (step,) = pp_plan(tmp_path, {"type": "vagrant", "compression_level": 0})
    assert step.config.compression_level == 0


@pytest.mark.parametrize("level", [10, -2])
def test_compression_level_out_of_range(tmp_path: Path, level: int) -> None:
    (error,) = pp_errors(tmp_path, {"type": "vagrant", "compression_level": level})
    assert error == (
        "post-processor 1.1 (vagrant): Invalid compression level. Expected an integer from -1 "
        f"to 9 (compression_level = {level}; 0 packs without compression)."
    )


def test_vagrantfile_template_must_exist_unless_generated(tmp_path: Path) -> None:
    (error,) = pp_errors(tmp_path, {"type": "vagrant", "vagrantfile_template": "nope.rb"})
    assert error.startswith(
        "post-processor 1.1 (vagrant): vagrantfile_template 'nope.rb' does not exist"
    )
    assert '"vagrantfile_template_generated": true' in error
    pp_plan(tmp_path, {"type": "vagrant", "vagrantfile_template": "nope.rb",
                       "vagrantfile_template_generated": True})  # fmt: skip


def test_provider_override_must_be_a_packer_provider(tmp_path: Path) -> None:
    (error,) = pp_errors(tmp_path, {"type": "vagrant", "provider_override": "libvrit"})
    assert error == (
        "post-processor 1.1 (vagrant): The given provider_override libvrit is not valid. Please "
        "choose from one of aws, azure, digitalocean, docker, google, hyperv, libvirt, lxc, "
        'parallels, scaleway, virtualbox, vmware — did you mean "libvirt"?'
    )


def test_provider_override_other_than_libvirt_is_refused(tmp_path: Path) -> None:
    (error,) = pp_errors(tmp_path, {"type": "vagrant", "provider_override": "virtualbox"})
    assert "kiln makes Vagrant boxes for the libvirt provider only" in error


def test_override_entries_are_checked_like_the_options(tmp_path: Path) -> None:
    errors = pp_errors(
        tmp_path,
        {"type": "vagrant", "override": {
            "libvirt": {"compresion_level": 1, "include": {"a": 1}},
            "virtualbox": {"compression_level": 12, "provider_override": "aws"},
        }},
    )  # fmt: skip
    assert any("override.libvirt: unknown configuration key: '\"compresion_level\"'" in e
               and 'did you mean "compression_level"' in e for e in errors)  # fmt: skip
    assert any("override.libvirt: 'include' expected a list of strings" in e for e in errors)
    assert any("override.virtualbox: 'provider_override' cannot be set per provider" in e
               for e in errors)  # fmt: skip
    assert any("override.virtualbox: Invalid compression level" in e for e in errors)


def test_override_must_map_providers_to_objects(tmp_path: Path) -> None:
    (error,) = pp_errors(tmp_path, {"type": "vagrant", "override": {"libvirt": "fast"}})
    assert "'override.libvirt' expected an object of options, got a string" in error


def test_only_and_except_select_the_builds(tmp_path: Path) -> None:
    builders = [{**BUILDER, "name": "a"}, {**BUILDER, "name": "b", "output_directory": "o2"}]
    plan = plan_of(tmp_path, {"builders": builders, "post-processors": [
        {"type": "vagrant", "only": ["a"]}, {"type": "vagrant", "except": ["a"],
                                             "output": "b.box"}]})  # fmt: skip
    by_name = {b.name: b.post_processors for b in plan.builds}
    assert [[s.type for s in c] for c in by_name["a"]] == [["vagrant"]]
    assert by_name["b"][0][0].raw["output"] == "b.box"


# --- boxes from a real qcow2 -----------------------------------------------------------------


def qcow2(path: Path, size: str = "1M") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(path), size], check=True)
    return path


def qemu_artifact(tmp_path: Path, **state: str) -> Artifact:
    """The qemu builder's artifact as kiln's compact step makes it."""
    out = tmp_path / "out"
    disk = qcow2(out / "tiny.qcow2")
    (out / "efivars.fd").write_bytes(b"vars")
    return Artifact(
        "qemu",
        "qemu",
        Path("out"),
        [Path("out/efivars.fd"), Path("out/tiny.qcow2")],
        state={
            "generated_data": {"Host": "127.0.0.1", "User": "root"},
            "diskName": "tiny.qcow2",
            "diskPaths": [str(disk)],
            "diskType": "qcow2",
            "diskSize": "1536M",
            "domainType": "tcg",
            **state,
        },
    )


class Out:
    def __init__(self) -> None:
        import io

        self.buffer = io.StringIO()
        self.ui = Ui(out=self.buffer, err=self.buffer, color=False)

    @property
    def text(self) -> str:
        return self.buffer.getvalue()


def box_files(box: Path) -> dict[str, bytes]:
    with tarfile.open(box, "r:*") as tar:
        result = {}
        for member in tar:
            f = tar.extractfile(member)
            assert f is not None
            result[member.name] = f.read()
        return result


async def run_chain(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *pps: Any,
    artifact: Artifact | None = None,
    variables: dict[str, str] | None = None,
) -> tuple[BuildResult, Artifact, Out]:
    monkeypatch.chdir(tmp_path)
    template: dict[str, Any] = {"builders": [BUILDER], "post-processors": list(pps)}
    if variables:
        template["variables"] = variables
    build = plan_of(tmp_path, template).builds[0]
    art = artifact or qemu_artifact(tmp_path)
    out = Out()
    result = BuildResult("qemu", art, None, [])
    return await run_post_processors(build, result, out.ui, RunOptions()), art, out


async def test_default_box(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result, _art, out = await run_chain(tmp_path, monkeypatch, "vagrant")
    assert result.error is None, out.text
    box = tmp_path / "packer_qemu_libvirt.box"
    assert [str(a) for a in result.artifacts] == ["'libvirt' provider box: packer_qemu_libvirt.box"]
    (made,) = result.artifacts
    assert (made.builder_id, made.id, made.files) == (
        "mitchellh.post-processor.vagrant", "libvirt", [Path("packer_qemu_libvirt.box")]
    )  # fmt: skip
    assert box.read_bytes()[:2] == b"\x1f\x8b"
    files = box_files(box)
    assert list(files) == ["Vagrantfile", "box.img", "metadata.json"]
    assert json.loads(files["metadata.json"]) == {
        "provider": "libvirt", "format": "qcow2", "virtual_size": 2}  # fmt: skip
    assert b'libvirt.driver = "qemu"' in files["Vagrantfile"]
    # The builder's image is gone (libvirt's default), and so is its directory.
    assert not (tmp_path / "out").exists()
    for line in (
        "==> qemu: Running post-processor: vagrant",
        "==> qemu (vagrant): Creating Vagrant box for 'libvirt' provider",
        "    qemu (vagrant): Copying from artifact: out/tiny.qcow2",
        "    qemu (vagrant): Compressing: Vagrantfile",
        "    qemu (vagrant): Compressing: box.img",
        "    qemu (vagrant): Compressing: metadata.json",
        "    qemu (vagrant): Packing packer_qemu_libvirt.box: ",
        "    qemu (vagrant): Box packer_qemu_libvirt.box: ",
    ):
        assert line in out.text
    assert not partial_path(box).exists()


async def test_box_img_is_the_disk_byte_for_byte(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    art = qemu_artifact(tmp_path)
    disk = (tmp_path / "out" / "tiny.qcow2").read_bytes()
    result, _, out = await run_chain(
        tmp_path, monkeypatch, {"type": "vagrant", "keep_input_artifact": True}, artifact=art
    )
    assert result.error is None, out.text
    assert box_files(tmp_path / "packer_qemu_libvirt.box")["box.img"] == disk
    # keep_input_artifact: the image stays and is listed first
    assert next(str(a) for a in result.artifacts) == "VM files in directory: out"
    assert (tmp_path / "out" / "tiny.qcow2").exists()


async def test_output_template_variables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result, _, out = await run_chain(
        tmp_path,
        monkeypatch,
        {"type": "vagrant",
         "output": "boxes/{{ .BuildName }}_{{ .Provider }}_{{ .ArtifactId }}_{{ .User }}_"
                   "{{ user `flavour` }}.box"},
        variables={"flavour": "vanilla"},
    )  # fmt: skip
    assert result.error is None, out.text
    assert (tmp_path / "boxes" / "qemu_libvirt_VM_root_vanilla.box").is_file()


async def test_kvm_builds_get_the_kvm_driver_and_raw_disks_their_format(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    art = qemu_artifact(tmp_path, domainType="kvm", diskType="raw", diskSize="40960M")
    result, _, out = await run_chain(tmp_path, monkeypatch, "vagrant", artifact=art)
    assert result.error is None, out.text
    files = box_files(tmp_path / "packer_qemu_libvirt.box")
    assert b'libvirt.driver = "kvm"' in files["Vagrantfile"]
    assert json.loads(files["metadata.json"]) == {
        "provider": "libvirt", "format": "raw", "virtual_size": 40}  # fmt: skip


async def test_include_files_and_an_included_metadata_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "info.json").write_text('{"author": "me"}')
    (tmp_path / "meta").mkdir()
    (tmp_path / "meta" / "metadata.json").write_text('{"provider": "libvirt", "custom": 1}')
    (tmp_path / "Vagrantfile").write_text("replaced by the generated one")
    result, _, out = await run_chain(
        tmp_path, monkeypatch,
        {"type": "vagrant", "include": ["info.json", "meta/metadata.json", "Vagrantfile"]},
    )  # fmt: skip
    assert result.error is None, out.text
    files = box_files(tmp_path / "packer_qemu_libvirt.box")
    assert list(files) == ["Vagrantfile", "box.img", "info.json", "metadata.json"]
    assert files["info.json"] == b'{"author": "me"}'
    assert files["metadata.json"] == b'{"provider": "libvirt", "custom": 1}'
    assert files["Vagrantfile"].startswith(b"\n# The contents below were provided by the Packer")
    assert "    qemu (vagrant): Copying from include: info.json" in out.text


@pytest.mark.parametrize(("make", "why"), [("dir", "it is a directory"), ("", "no such file")])
async def test_include_must_be_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make: str, why: str
) -> None:
    if make:
        (tmp_path / "extra").mkdir()
    result, _, _ = await run_chain(tmp_path, monkeypatch, {"type": "vagrant", "include": ["extra"]})
    assert result.error is not None
    assert "Post-processor failed: Error copying include file: extra" in result.error
    assert why in result.error
    assert (tmp_path / "out" / "tiny.qcow2").exists()  # a failing first step keeps the image


async def test_vagrantfile_template_is_rendered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "vf.tpl").write_text(
        'Vagrant.configure("2") do |c|\n  # build={{ .BuildName }} provider={{ .Provider }} '
        "id={{ .ArtifactId }} user={{ user `who` }}\nend\n"
    )
    result, _, out = await run_chain(
        tmp_path, monkeypatch, {"type": "vagrant", "vagrantfile_template": "vf.tpl"},
        variables={"who": "me"},
    )  # fmt: skip
    assert result.error is None, out.text
    from test_vagrant_box import PACKER_VAGRANTFILE

    files = box_files(tmp_path / "packer_qemu_libvirt.box")
    assert files["Vagrantfile"] == PACKER_VAGRANTFILE.encode()
    assert "    qemu (vagrant): Using custom Vagrantfile: vf.tpl" in out.text


async def test_a_generated_vagrantfile_template_is_read_when_the_box_is_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    pps = [{"type": "vagrant", "vagrantfile_template": "made.rb",
            "vagrantfile_template_generated": True}]  # fmt: skip
    build = plan_of(tmp_path, {"builders": [BUILDER], "post-processors": pps}).builds[0]
    (tmp_path / "made.rb").write_text("# made during the build\n")
    out = Out()
    result = await run_post_processors(
        build, BuildResult("qemu", qemu_artifact(tmp_path), None, []), out.ui, RunOptions()
    )
    assert result.error is None, out.text
    vagrantfile = box_files(tmp_path / "packer_qemu_libvirt.box")["Vagrantfile"]
    assert vagrantfile.endswith(b"# made during the build\n\n")


async def test_a_vagrantfile_template_gone_by_then_fails_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "vf.rb").write_text("x")
    build = plan_of(tmp_path, {"builders": [BUILDER], "post-processors": [
        {"type": "vagrant", "vagrantfile_template": "vf.rb"}]}).builds[0]  # fmt: skip
    (tmp_path / "vf.rb").unlink()
    result = await run_post_processors(
        build, BuildResult("qemu", qemu_artifact(tmp_path), None, []), Out().ui, RunOptions()
    )
    assert result.error is not None
    assert "vagrantfile_template 'vf.rb': cannot read it: No such file or directory" in (
        result.error
    )


async def test_override_for_libvirt_applies_and_others_do_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, _, out = await run_chain(
        tmp_path,
        monkeypatch,
        {"type": "vagrant", "output": "general.box", "compression_level": 9,
         "override": {"libvirt": {"output": "{{ .Provider }}-{{ .BuildName }}.box",
                                  "compression_level": 0},
                      "virtualbox": {"output": "vbox.box"}}},
    )  # fmt: skip
    assert result.error is None, out.text
    assert sorted(p.name for p in tmp_path.glob("*.box")) == ["libvirt-qemu.box"]
    with tarfile.open(tmp_path / "libvirt-qemu.box", "r:") as tar:  # level 0: plain tar
        assert tar.getnames() == ["Vagrantfile", "box.img", "metadata.json"]
    assert "Packing into libvirt-qemu.box (uncompressed, streamed)" in out.text


async def test_provider_override_libvirt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result, _, out = await run_chain(
        tmp_path, monkeypatch, {"type": "vagrant", "provider_override": "libvirt"}
    )
    assert result.error is None, out.text
    assert (tmp_path / "packer_qemu_libvirt.box").is_file()


async def test_an_artifice_artifact_is_not_a_box_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "x.img").write_bytes(b"x")
    result, _, _ = await run_chain(
        tmp_path, monkeypatch, [{"type": "artifice", "files": ["x.img"]}, "vagrant"]
    )
    assert result.error is not None
    assert "Unknown artifact type, can't build box: packer.post-processor.artifice" in (
        result.error
    )
    result, _, _ = await run_chain(
        tmp_path, monkeypatch,
        [{"type": "artifice", "files": ["x.img"]},
         {"type": "vagrant", "provider_override": "libvirt"}],
    )  # fmt: skip
    assert result.error is not None
    assert "the libvirt provider needs the qemu builder's artifact" in result.error


async def test_an_artifact_without_the_disk_fails_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    art = qemu_artifact(tmp_path, diskName="other.qcow2")
    result, _, _ = await run_chain(tmp_path, monkeypatch, "vagrant", artifact=art)
    assert result.error is not None
    assert "the artifact has no disk named 'other.qcow2' (vm_name) to pack as box.img" in (
        result.error
    )


async def test_the_box_passes_on_to_checksum_and_manifest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hashlib

    result, _, out = await run_chain(
        tmp_path,
        monkeypatch,
        [
            {"type": "vagrant", "output": "b/{{ .Provider }}.box"},
            {"type": "checksum", "checksum_types": ["sha256"], "output": "b/sums"},
            {"type": "manifest", "output": "b/manifest.json", "strip_time": True},
        ],
    )
    assert result.error is None, out.text
    box = tmp_path / "b" / "libvirt.box"
    digest = hashlib.sha256(box.read_bytes()).hexdigest()
    assert (tmp_path / "b" / "sums").read_text() == f"{digest}\tlibvirt.box\n"
    (entry,) = json.loads((tmp_path / "b" / "manifest.json").read_text())["builds"]
    assert entry["artifact_id"] == ""  # the checksum artifact's id, as in Packer
    assert [f["name"] for f in entry["files"]] == ["b/libvirt.box", "b/sums"]
    # vagrant → manifest directly: the box's id is its provider
    result, _, _ = await run_chain(
        tmp_path, monkeypatch,
        [{"type": "vagrant", "output": "c.box"}, {"type": "manifest", "output": "m2.json"}],
        artifact=qemu_artifact(tmp_path),
    )  # fmt: skip
    (entry,) = json.loads((tmp_path / "m2.json").read_text())["builds"]
    assert (entry["artifact_id"], entry["files"][0]["name"]) == ("libvirt", "c.box")


async def test_cancelling_while_packing_leaves_no_box(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    art = qemu_artifact(tmp_path)
    big = tmp_path / "out" / "tiny.qcow2"
    with big.open("r+b") as f:  # 4 GiB of (sparse) data: packing takes far longer than 0.3 s
        f.truncate(4 << 30)
    build = plan_of(tmp_path, {"builders": [BUILDER]}).builds[0]
    step = StepPlan(type="vagrant", where="post-processor 1", raw={}, config=VagrantConfig())
    ctx = PostContext(build, Out().ui, step, cwd=tmp_path)
    task = asyncio.ensure_future(run_vagrant(VagrantConfig(), art, ctx))
    await asyncio.sleep(0.3)
    assert not task.done()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    leftovers = sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(("box", "partial")))
    assert leftovers == []


async def test_an_unwritable_output_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "file").write_text("not a directory")
    result, _, _ = await run_chain(
        tmp_path, monkeypatch, {"type": "vagrant", "output": "file/x.box"}
    )
    assert result.error is not None
    assert "Unable to create the directory of file/x.box" in result.error


def test_box_error_is_a_kiln_error() -> None:
    from kiln.errors import KilnError

    assert issubclass(BoxError, KilnError)
