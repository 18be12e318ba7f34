"""`kiln inspect`: what a template contains, without validating its options."""

from __future__ import annotations

import argparse
import os

from kiln.cli.common import make_ui
from kiln.template.loader import load_template
from kiln.ui.redact import REDACTED


def run_inspect(opts: argparse.Namespace) -> int:
    ui = make_ui(opts, dict(os.environ))
    tpl = load_template(opts.template)
    ui.raw("kiln inspect: JSON template")
    if tpl.description:
        ui.raw(f"Description:\n\n{tpl.description}\n")
    required = [n for n, v in tpl.variables.items() if v is None]
    optional = {n: v for n, v in tpl.variables.items() if v is not None}
    if required:
        ui.raw("Required variables:\n")
        for name in sorted(required):
            ui.machine("", "template-variable", name, "", "1")
            ui.raw(f"  {name}")
        ui.raw("")
    if optional:
        ui.raw("Optional variables and their defaults:\n")
        width = max(len(n) for n in optional)
        for name in sorted(optional):
            value = REDACTED if name in tpl.sensitive_variables else str(optional[name])
            ui.machine("", "template-variable", name, value, "0")
            ui.raw(f"  {name.ljust(width)} = {value}")
        ui.raw("")
    ui.raw("Builders:\n")
    for b in tpl.builders:
        ui.machine("", "template-builder", b.name, b.type)
        ui.raw(f"  {b.name} ({b.type})")
    ui.raw("")
    ui.raw("Provisioners:\n")
    if not tpl.provisioners:
        ui.raw("  <No provisioners>")
    for p in tpl.provisioners:
        ui.machine("", "template-provisioner", p.type)
        ui.raw(f"  {p.type}{_scope(p.only, p.except_)}")
    ui.raw("")
    ui.raw("Post-processors:\n")
    if not tpl.post_processors:
        ui.raw("  <No post-processors>")
    for i, chain in enumerate(tpl.post_processors, 1):
        names = " -> ".join(pp.type + _scope(pp.only, pp.except_) for pp in chain)
        ui.machine("", "template-post-processor", names)
        ui.raw(f"  {i}: {names}")
    ui.raw(
        "\nNote: If your build names contain user variables or template\n"
        "functions such as 'timestamp', these are processed at build time,\n"
        "and therefore only show in their raw form here."
    )
    return 0


def _scope(only: list[str], except_: list[str]) -> str:
    if only:
        return f" (only: {', '.join(only)})"
    if except_:
        return f" (except: {', '.join(except_)})"
    return ""
