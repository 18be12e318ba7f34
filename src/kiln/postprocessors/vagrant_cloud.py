"""The `vagrant-cloud` post-processor: publish the box a `vagrant` (or `artifice`)
post-processor made, and the token check before any build starts.

Packer's post-processor/vagrant-cloud (v1.6.6), `PostProcess`: the input must come from
the vagrant post-processor (provider: the artifact's id) or artifice (provider: read from
the box's metadata.json); its first file must end in `.box`. The token is
`access_token`, else `VAGRANT_CLOUD_TOKEN`, else `ATLAS_TOKEN` (with a warning); it is a
secret (kiln.plan redacts it everywhere). The API steps are in `vagrant_cloud_api`. The
input is kept by default (Packer returns keep=true, forceOverride=false).

Packer checks the token (`GET authenticate`) when it configures the post-processor, so a
bad token stops `packer build` before any VM starts; `kiln build` does the same with
`check_tokens`, but `kiln validate` stays offline.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from kiln.engine.artifact import Artifact
from kiln.engine.plan import Plan, StepPlan
from kiln.postprocessors.config import VAGRANT_CLOUD_URL, VagrantCloudConfig
from kiln.postprocessors.context import PostContext, PostResult
from kiln.postprocessors.vagrant_cloud_api import (
    CloudError,
    Publish,
    Publisher,
    VagrantCloudClient,
)
from kiln.postprocessors.vagrant_prepare import resolve_token
from kiln.template.engine import render
from kiln.ui.progress import DownloadProgress

BUILDER_ID = "pearkes.post-processor.vagrant-cloud"
# Packer's `builtins`: the inputs this post-processor accepts.
INPUTS = {
    "mitchellh.post-processor.vagrant": "vagrant",
    "packer.post-processor.artifice": "artifice",
    "vagrant": "vagrant",
}


def verify_tls(config: VagrantCloudConfig) -> bool:
    """Packer skips TLS verification only when asked and only off the public service."""
    return not (config.insecure_skip_tls_verify and config.vagrant_cloud_url != VAGRANT_CLOUD_URL)


def provider_from_builder_name(name: str) -> str:
    """Packer's providerFromBuilderName: the artifact id as Vagrant Cloud names it."""
    return {"vmware": "vmware_desktop"}.get(name, name)


def provider_from_box(box: Path) -> str:
    """The `provider` of the box's metadata.json (gzipped or plain tar)."""
    import tarfile  # for a build only: `kiln validate` loads this module

    try:
        with tarfile.open(box, "r:*") as tar:
            for member in tar:
                if member.name != "metadata.json":
                    continue
                f = tar.extractfile(member)
                data = json.loads(f.read()) if f is not None else {}
                provider = data.get("provider") if isinstance(data, dict) else None
                if not provider:
                    raise CloudError(
                        "Error: Could not determine Vagrant provider from box metadata.json file"
                    )
                return str(provider)
    except (OSError, tarfile.TarError, ValueError) as err:
        raise CloudError(f"error getting provider name: reading {box}: {err}") from None
    raise CloudError(f"Error: Provider info was not found in box: {box}")


class _Reporter:
    """`vagrant_cloud_api.Reporter` on a post-processor's output."""

    def __init__(self, ctx: PostContext) -> None:
        self.ctx = ctx
        self.bar = DownloadProgress(ctx.ui, ctx.target)

    def say(self, message: str) -> None:
        self.ctx.say(message)

    def message(self, message: str) -> None:
        self.ctx.message(message)

    def error(self, message: str) -> None:
        self.ctx.error(message)

    def progress_start(self, name: str, total: int) -> None:
        self.bar.start(name, total)

    def progress_advance(self, nbytes: int) -> None:
        self.bar.advance(nbytes)

    def progress_finish(self) -> None:
        self.bar.finish()


async def run_vagrant_cloud(
    config: VagrantCloudConfig, artifact: Artifact, ctx: PostContext
) -> PostResult:
    source = INPUTS.get(artifact.builder_id)
    if source is None:
        raise CloudError(
            "Unknown artifact type: this post-processor requires an input artifact from the "
            "artifice post-processor, vagrant post-processor, or vagrant builder: "
            f"{artifact.builder_id} (put vagrant-cloud after vagrant in the same chain)"
        )
    files = [str(f) for f in artifact.files]
    if not files or not files[0].endswith(".box"):
        raise CloudError(
            "Unknown files in artifact, Vagrant box with .box suffix is required as first "
            f"artifact file: [{' '.join(files)}]"
        )
    token, from_atlas = resolve_token(config, ctx.env)
    if from_atlas:
        ctx.message(
            "Warning: Using Vagrant Cloud token found in ATLAS_TOKEN. Please make sure it is "
            "correct, or set VAGRANT_CLOUD_TOKEN"
        )
    box = ctx.resolve(files[0])
    if source == "artifice":
        provider = provider_from_box(box)
    else:
        provider = provider_from_builder_name(artifact.id)
    data: dict[str, object] = dict(ctx.build_values)
    data.update(ArtifactId=artifact.id, Provider=provider)
    download_url = render(config.box_download_url, data, ctx.functions(), where="box_download_url")
    job = Publish(
        tag=config.box_tag,
        version=config.version,
        description=config.version_description,
        provider=provider,
        box_path=box,
        download_url=download_url,
        no_release=config.no_release,
        no_direct_upload=config.no_direct_upload,
    )
    async with VagrantCloudClient(
        config.vagrant_cloud_url, token, verify=verify_tls(config)
    ) as client:
        await Publisher(client, job, _Reporter(ctx)).run()
    produced = Artifact(
        build_name=artifact.build_name,
        builder_type=artifact.builder_type,
        output_dir=Path("."),
        files=[],
        builder_id=BUILDER_ID,
        id="",
        description=f"'{provider}': {config.box_tag}",
    )
    return PostResult(produced, keep_input=True)


def _cloud_steps(plan: Plan) -> list[tuple[str, StepPlan, VagrantCloudConfig]]:
    return [
        (build.name, step, step.config)
        for build in plan.builds
        for chain in build.post_processors
        for step in chain
        if isinstance(step.config, VagrantCloudConfig)
    ]


def _grouped(problems: list[tuple[str, str]]) -> list[tuple[str, list[str]]]:
    groups: dict[str, list[str]] = {}
    for build, message in problems:
        groups.setdefault(f'Error: Failed to prepare build: "{build}"', []).append(message)
    return list(groups.items())


async def check_tokens(plan: Plan, env: Mapping[str, str]) -> list[tuple[str, list[str]]]:
    """What `kiln build` checks before any VM starts: Packer's `GET authenticate`, once per
    (URL, token). Error groups as validation prints them (none when all is well)."""
    seen: dict[tuple[str, str, bool], str] = {}
    problems: list[tuple[str, str]] = []
    for build, step, config in _cloud_steps(plan):
        token, _ = resolve_token(config, env)
        key = (config.vagrant_cloud_url, token, verify_tls(config))
        if key not in seen:
            seen[key] = ""
            async with VagrantCloudClient(key[0], token, verify=key[2]) as client:
                try:
                    await client.validate_authentication()
                except CloudError as err:
                    seen[key] = str(err)
        if seen[key]:
            problems.append((build, f"{step.where} ({step.type}): {seen[key]}"))
    return _grouped(problems)
