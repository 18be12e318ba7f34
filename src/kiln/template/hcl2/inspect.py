"""`kiln inspect` of an HCL2 template, laid out as Packer 1.6.6's "HCL2 mode" does."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from kiln.template.hcl2.config import decode
from kiln.template.hcl2.diagnostics import Diagnostic, HCLError, Sources
from kiln.template.hcl2.functions.encoding import json_encode
from kiln.template.hcl2.loader import _parse_file, template_files
from kiln.template.hcl2.variables import declare


def inspect_text(path: str | Path, env: Mapping[str, str] | None = None) -> str:
    root = Path(path)
    files, _auto = template_files(root)
    sources = Sources()
    diags: list[Diagnostic] = []
    bodies = [b for f in files if (b := _parse_file(f, sources, diags)) is not None]
    cfg = decode(bodies, diags)
    base = (root if root.is_dir() else root.parent).resolve()
    variables = declare(cfg.variables, cfg.variable_attrs, base, dict(env or os.environ), diags)
    if [d for d in diags if not d.warning]:
        raise HCLError(diags, sources)
    out = ["Packer Inspect: HCL2 mode", "", "> input-variables:", ""]
    for name, var in sorted(variables.items()):
        if var.sensitive:
            shown = "<sensitive>"
        elif var.default is None:
            shown = "<unknown> (required)"
        else:
            shown = json_encode(var.default)
        out.append(f"var.{name}: {shown!r}" if False else f"var.{name}: {shown}")
    out += ["", "> local-variables:", ""]
    for name in sorted([*cfg.locals, *cfg.local_blocks]):
        out.append(f"local.{name}: (evaluated at build time)")
    out += ["", "> builds:", ""]
    for build in cfg.builds:
        out.append(f"  > {build.name or '<unnamed build>'}:")
        if build.description:
            out.append(f"    {build.description}")
        out += ["", "    sources:", ""]
        out += [f"      {ref.type}.{ref.rename or ref.name}" for ref in build.sources] + [""]
        out += ["    provisioners:", ""]
        provs = [b for b in build.provisioners if b.type != "dynamic"]
        out += [f"      {b.labels[0]}" for b in provs] or ["      <no provisioner>"]
        out += ["", "    post-processors:", ""]
        chains = build.post_processors
        if not chains:
            out.append("      <no post-processor>")
        for i, chain in enumerate(chains):
            out.append(f"      {i}:")
            out += [f"        {b.labels[0]}" for b in chain]
        out.append("")
    return "\n".join(out)
