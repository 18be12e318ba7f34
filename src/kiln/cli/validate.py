"""`kiln validate`: every check that needs no VM, all errors at once."""

from __future__ import annotations

import argparse
import shutil
from collections.abc import Mapping

from kiln.cli.common import failure_text, load, make_ui, plan_options, print_warnings
from kiln.plan import ValidationFailed, make_plan


def run_validate(opts: argparse.Namespace, env: Mapping[str, str]) -> int:
    ui = make_ui(opts, env)
    tpl = load(opts, env, syntax_only=opts.syntax_only)
    if opts.syntax_only:
        ui.raw("Syntax-only check passed. Everything looks okay.")
        return 0
    try:
        plan = make_plan(tpl, plan_options(opts, env))
    except ValidationFailed as failed:
        print_warnings(ui, failed.warnings)
        ui.error(failure_text(tpl, failed))
        return 1
    ui.redact.update(plan.redactor)
    warnings = list(plan.warnings)
    for build in plan.builds:
        for binary in (build.config.qemu_binary, "qemu-img"):
            if shutil.which(binary) is None:
                warnings.append(
                    (build.name, f"{binary} was not found on PATH: `kiln build` needs it "
                     "(apt-get install qemu-system-x86 qemu-utils)")
                )  # fmt: skip
    print_warnings(ui, warnings)
    ui.raw("Template validated successfully.")
    return 0
