"""What several verbs share: making the Ui, turning flags into plan options."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from pathlib import Path

from kiln.cli.args import parse_cli_vars, split_list
from kiln.plan import HCL_DIAGNOSTIC, PlanOptions, ValidationFailed
from kiln.template.loader import load_template
from kiln.template.model import TemplateFile
from kiln.ui import Redactor, Ui
from kiln.ui.log import setup_logging
from kiln.ui.output import colors_wanted
from kiln.ui.redact import activate


def make_ui(opts: argparse.Namespace, env: Mapping[str, str]) -> Ui:
    redactor = Redactor()
    activate(redactor)  # kiln.proc's command lines and the guest's lines use it too
    setup_logging(env, redactor, force_debug=bool(getattr(opts, "debug", False)))
    _log_start(opts)
    return Ui(
        color=colors_wanted(opts.color, sys.stdout, env),
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
    for message in scopes.pop(HCL_DIAGNOSTIC, []):
        ui.warn(f"Warning: {message}\n\n")
    for scope, messages in scopes.items():
        head = f'Warning: Warning when preparing build: "{scope}"' if scope else "Warning:"
        ui.warn(head + "\n\n" + "\n\n".join(messages) + "\n\n")  # Packer's bytes


def _log_start(opts: argparse.Namespace) -> None:
    """The debug log's first lines: who is running, on what (Packer logs its version and
    arguments the same way)."""
    import logging

    from kiln.ui.log import LOG

    if not LOG.isEnabledFor(logging.DEBUG):
        return
    import platform  # only for the debug log: kiln validate's start-up stays lean
    import sys

    from kiln import __version__

    LOG.debug("kiln version %s (Packer 1.6.6 compatible), Python %s on %s", __version__,
              platform.python_version(), platform.platform())  # fmt: skip
    LOG.debug("Args: %s", sys.argv)
    template = getattr(opts, "template", None)
    if template:
        where = "stdin" if template == "-" else str(Path(template).resolve())
        LOG.debug("Template: %s", where)


def load(
    opts: argparse.Namespace, env: Mapping[str, str], *, syntax_only: bool = False
) -> TemplateFile:
    """The template named on the command line: JSON, or HCL2 (a .pkr.hcl/.pkr.json file or a
    folder), whose variables are evaluated as it loads."""
    from kiln.template.hcl2.paths import is_hcl2_path

    if not is_hcl2_path(opts.template):
        return load_template(opts.template)
    from kiln.template.hcl2.loader import load_hcl2, parse_only

    if syntax_only:
        return parse_only(opts.template)
    return load_hcl2(
        opts.template,
        var_files=[Path(p) for p in getattr(opts, "var_file", [])],
        cli_vars=parse_cli_vars(getattr(opts, "var", [])),
        env=env,
        only=split_list(getattr(opts, "only", None)),
        except_=split_list(getattr(opts, "except", None)),
    )


def failure_text(tpl: TemplateFile, failed: ValidationFailed) -> str:
    """The errors, pointed into the files for an HCL2 template."""
    if tpl.hcl2 is None:
        return failed.format()
    from kiln.template.hcl2.report import format_failure

    return format_failure(tpl.hcl2, failed.groups)
