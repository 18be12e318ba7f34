"""`kiln inspect`: what a template contains, without validating its options.

The layout and the machine-readable events (`template-variable`, `template-builder`,
`template-provisioner`) are Packer 1.6.6's; kiln also lists post-processors
(`template-post-processor`, one event per chain) and the `only`/`except` of each step.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from kiln.cli.args import parse_cli_vars
from kiln.cli.common import make_ui
from kiln.template.loader import load_template
from kiln.template.model import TemplateFile
from kiln.template.variables import parse_var_file
from kiln.ui import Ui
from kiln.ui.redact import REDACTED

NOTE = (
    "\nNote: If your build names contain user variables or template\n"
    "functions such as 'timestamp', these are processed at build time,\n"
    "and therefore only show in their raw form here."
)


def run_inspect(opts: argparse.Namespace) -> int:
    ui = make_ui(opts, dict(os.environ))
    from kiln.template.hcl2.paths import is_hcl2_path

    if is_hcl2_path(opts.template):
        from kiln.template.hcl2.inspect import inspect_text

        ui.raw(
            inspect_text(
                opts.template,
                dict(os.environ),
                var_files=[Path(p) for p in opts.var_file],
                cli_vars=parse_cli_vars(opts.var),
            )
        )
        return 0
    tpl = load_template(opts.template)
    for path in opts.var_file:  # read, as Packer does, though a JSON inspect shows defaults
        parse_var_file(Path(path))
    ui.raw("Packer Inspect: JSON mode")
    if tpl.description:
        ui.raw("Description:\n")
        ui.raw(tpl.description + "\n")
    _variables(ui, tpl)
    _builders(ui, tpl)
    _provisioners(ui, tpl)
    _post_processors(ui, tpl)
    ui.raw(NOTE)
    return 0


def _variables(ui: Ui, tpl: TemplateFile) -> None:
    """As Packer's `Core.InspectConfig`: `<No variables>`, or the required ones (if any) and
    then the optional ones under their heading, even when there are none."""
    if not tpl.variables:
        ui.raw("Variables:\n")
        ui.raw("  <No variables>")
        ui.raw("")
        return
    width = max(len(name) for name in tpl.variables)
    required = sorted(n for n, v in tpl.variables.items() if v is None)
    optional = sorted(n for n, v in tpl.variables.items() if v is not None)
    if required:
        ui.raw("Required variables:\n")
        for name in required:
            ui.machine("", "template-variable", name, "", "1")
            ui.raw(f"  {name}")
        ui.raw("")
    ui.raw("Optional variables and their defaults:\n")
    for name in optional:
        shown = REDACTED if name in tpl.sensitive_variables else str(tpl.variables[name])
        ui.machine("", "template-variable", name, shown, "0")
        ui.raw(f"  {name.ljust(width)} = {shown}")
    ui.raw("")


def _builders(ui: Ui, tpl: TemplateFile) -> None:
    ui.raw("Builders:\n")
    width = max((len(b.name) for b in tpl.builders), default=0)
    # Packer's Core.InspectConfig: sorted by name, each padded to the longest.
    for b in sorted(tpl.builders, key=lambda b: b.name):
        ui.machine("", "template-builder", b.name, b.type)
        line = f"  {b.name.ljust(width)}"
        ui.raw(line if b.name == b.type else f"{line} ({b.type})")
    ui.raw("")


def _provisioners(ui: Ui, tpl: TemplateFile) -> None:
    ui.raw("Provisioners:\n")
    if not tpl.provisioners:
        ui.raw("  <No provisioners>")
    for p in tpl.provisioners:
        ui.machine("", "template-provisioner", p.type)
        ui.raw(f"  {p.type}{_scope(p.only, p.except_)}")
    if tpl.error_cleanup_provisioner is not None:
        ecp = tpl.error_cleanup_provisioner
        ui.machine("", "template-error-cleanup-provisioner", ecp.type)
        ui.raw(f"  {ecp.type} (on error){_scope(ecp.only, ecp.except_)}")
    ui.raw("")


def _post_processors(ui: Ui, tpl: TemplateFile) -> None:
    ui.raw("Post-processors:\n")
    if not tpl.post_processors:
        ui.raw("  <No post-processors>")
    for i, chain in enumerate(tpl.post_processors, 1):
        names = " -> ".join(pp.type + _scope(pp.only, pp.except_) for pp in chain)
        ui.machine("", "template-post-processor", str(i), *(pp.type for pp in chain))
        ui.raw(f"  {i}: {names}")


def _scope(only: list[str], except_: list[str]) -> str:
    if only:
        return f" (only: {', '.join(only)})"
    if except_:
        return f" (except: {', '.join(except_)})"
    return ""
