"""What several verbs share: making the Ui, turning flags into plan options."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path

from kiln.cli.args import parse_cli_vars, split_list
from kiln.plan import PlanOptions
from kiln.ui import Redactor, Ui
from kiln.ui.log import setup_logging
from kiln.ui.redact import activate


def make_ui(opts: argparse.Namespace, env: Mapping[str, str]) -> Ui:
    redactor = Redactor()
    activate(redactor)  # kiln.proc's command lines and the guest's lines use it too
    setup_logging(env, redactor, force_debug=bool(getattr(opts, "debug", False)))
    return Ui(
        color=None if opts.color else False,
        timestamps=opts.timestamp_ui,
        machine_readable=opts.machine_readable,
        redactor=redactor,
    )


def plan_options(opts: argparse.Namespace, env: Mapping[str, str]) -> PlanOptions:
    return PlanOptions(
        var_files=[Path(p) for p in opts.var_file],
        cli_vars=parse_cli_vars(opts.var),
        only=split_list(opts.only),
        except_=split_list(getattr(opts, "except")),
        force=bool(getattr(opts, "force", False)),
        env=env,
    )


def print_warnings(ui: Ui, warnings: list[tuple[str, str]]) -> None:
    """Warnings grouped by build, in Packer's words."""
    scopes: dict[str, list[str]] = {}
    for scope, message in warnings:
        scopes.setdefault(scope, []).append(message)
    for scope, messages in scopes.items():
        head = f'Warning: Warning when preparing build: "{scope}"' if scope else "Warning:"
        ui.warn(head + "\n\n" + "\n\n".join(messages) + "\n")
