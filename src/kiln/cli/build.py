"""`kiln build`: validate, then run every selected build (or print the plan with -dry-run)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Mapping
from pathlib import Path

from kiln.cli.args import UsageError, parse_age
from kiln.cli.common import failure_text, load, make_ui, plan_options, print_warnings
from kiln.engine.on_error import OnError
from kiln.engine.options import CheckpointMode, RunOptions
from kiln.engine.plan import Plan
from kiln.errors import KilnError
from kiln.plan import ValidationFailed, make_plan
from kiln.ui import Ui
from kiln.ui.redact import active


def _state_home(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "kiln"


def _kiln_cache(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(env.get("KILN_CACHE_DIR") or Path(base) / "kiln")


async def _ask(build: str, error: str) -> str:
    """-on-error=ask: Packer's prompt, on stdout as Packer's `Ui.Ask` writes it."""
    from kiln.ui.terminal import read_line  # a build only

    if not sys.stdin.isatty():
        return "c"
    redact = active()
    sys.stdout.write(
        f"\n==> {redact(build)}: Step failed: {redact(error)}\n"
        f"==> {build}: [c] Clean up and exit, [a] abort without cleanup, or [r] retry step "
        "(build may fail even if retry succeeds)? "
    )
    sys.stdout.flush()
    while True:
        answer = (await read_line(sys.stdin)).strip().lower()[:1]
        if answer in ("c", "a", "r"):
            return answer
        if answer == "":
            return "c"
        sys.stdout.write("[c] Clean up and exit, [a] abort without cleanup, or [r] retry step? ")


def checkpoint_mode(flag: str | None, env: Mapping[str, str]) -> CheckpointMode:
    """`-checkpoint[=refresh|false]`, else `KILN_CHECKPOINT` (1/true/refresh/0/false)."""
    value = flag
    if value is None:
        value = env.get("KILN_CHECKPOINT", "").strip().lower()
        if value in ("", "0", "f", "false", "off"):
            return CheckpointMode.OFF
        if value in ("1", "t", "true", "on"):
            value = "true"
        elif value != "refresh":
            raise UsageError(
                f"KILN_CHECKPOINT={value!r} is not understood: use 1 (use or save "
                "checkpoints), refresh, or 0"
            )
    if value == "refresh":
        return CheckpointMode.REFRESH
    return CheckpointMode.USE if value == "true" else CheckpointMode.OFF


def run_build(opts: argparse.Namespace, env: Mapping[str, str]) -> int:
    checkpoint = checkpoint_mode(opts.checkpoint, env)
    max_age = None
    if opts.checkpoint_max_age is not None:
        max_age = parse_age("checkpoint-max-age", opts.checkpoint_max_age)
        if checkpoint == CheckpointMode.OFF:
            raise UsageError("-checkpoint-max-age needs -checkpoint (or KILN_CHECKPOINT=1)")
    ui = make_ui(opts, env)
    tpl = load(opts, env)
    try:
        plan = make_plan(tpl, plan_options(opts, env))
    except ValidationFailed as failed:
        print_warnings(ui, failed.warnings)
        ui.error(failure_text(tpl, failed))
        return 1
    ui.redact.update(plan.redactor)
    print_warnings(ui, plan.warnings)
    options = RunOptions(
        on_error=OnError(opts.on_error),
        force=opts.force,
        debug=opts.debug,
        dry_run=opts.dry_run,
        cache_dir=_kiln_cache(env),
        failure_root=Path(env.get("KILN_FAILURE_DIR") or _state_home(env) / "failures"),
        env=dict(env),
        ask=_ask,
        checkpoint=checkpoint,
        checkpoint_max_age=max_age,
    )
    if opts.dry_run:
        return asyncio.run(_dry_run(plan, ui, options))
    if _uses_vagrant_cloud(plan):
        from kiln.postprocessors.vagrant_cloud import check_tokens

        groups = asyncio.run(check_tokens(plan, env))
        if groups:
            ui.error(ValidationFailed(groups, [], plan.redactor).format())
            return 1
    # -debug pauses after every step, so builds run one at a time (as in Packer).
    parallel = 1 if (opts.debug or not opts.parallel) else opts.parallel_builds
    from kiln.engine.multi import run_builds
    from kiln.postprocessors.runner import run_post_processors

    results = asyncio.run(
        run_builds(plan, ui, options, parallel=parallel, post_process=run_post_processors)
    )
    return 0 if all(r.error is None for r in results) else 1


def _uses_vagrant_cloud(plan: Plan) -> bool:
    return any(
        step.type == "vagrant-cloud"
        for build in plan.builds
        for chain in build.post_processors
        for step in chain
    )


async def _dry_run(plan: Plan, ui: Ui, options: RunOptions) -> int:
    from kiln.builders.qemu.dryrun import dry_run_commands

    for build in plan.builds:
        try:
            commands = await dry_run_commands(build, ui, options)
        except KilnError as err:
            ui.error(str(err), build.name)
            return 1
        for argv in commands:
            ui.message(ui.redact.argv(argv), build.name)  # each argument, before quoting
    return 0
