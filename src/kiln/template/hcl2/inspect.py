"""`kiln inspect` of an HCL2 template, printed as Packer 1.6.6's "HCL2 mode" prints it.

Packer (`command/inspect.go`, `hcl2template/types.packer_config.go` at v1.6.6) parses the
template, sets the variables it can (defaults, `PKR_VAR_*`, var files, `-var`), ignores every
other problem, and prints each variable and local as Go's `%q` of its value formatted by
`hcl2template/repl.FormatResult`; a value it cannot know (an unset variable, a local that
uses one) is `<unknown>`, and a sensitive value's text is `<sensitive>`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from kiln.golang.strconv import format_float, quote
from kiln.template.hcl2 import ast
from kiln.template.hcl2.diagnostics import HCLError
from kiln.template.hcl2.evaluate import EvalContext, EvalError, evaluate
from kiln.template.hcl2.loader import open_template
from kiln.template.hcl2.types import STRING
from kiln.template.hcl2.values import Value, to_python

UNKNOWN = "<unknown>"
SENSITIVE = "<sensitive>"


def inspect_text(
    path: str | Path,
    env: Mapping[str, str] | None = None,
    *,
    var_files: Sequence[Path] = (),
    cli_vars: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> str:
    """The whole inspect output; `HCLError` only for a template that does not parse or
    whose blocks do not decode. As Packer: "we ignore init diags to allow unknown
    variables" (the variables' and locals' problems are not reported)."""
    opened = open_template(path, var_files=var_files, cli_vars=cli_vars, env=env, cwd=cwd)
    if opened.config_errors:
        raise HCLError(opened.config_errors, opened.sources)
    cfg, variables = opened.cfg, opened.variables
    local_values, sensitive_locals, unknown_locals = opened.loader.evaluate_locals(variables)

    out = ["Packer Inspect: HCL2 mode\n", "> input-variables:\n"]
    for name in sorted(variables):
        var = variables[name]
        out.append(f"var.{name}: {quote(printable(var.value, sensitive=var.sensitive))}")
    out.append("\n> local-variables:\n")
    for name in sorted({*local_values, *unknown_locals}):
        value = None if name in unknown_locals else local_values[name]
        out.append(f"local.{name}: {quote(printable(value, sensitive=name in sensitive_locals))}")
    out.append("")
    out.append("> builds:")
    for i, build in enumerate(cfg.builds):
        out.append(f"\n  > {build.name or f'<unnamed build {i}>'}:")
        if build.description:
            out.append(f"\n  > Description: {build.description}")
        out.append("\n    sources:")
        if not build.sources:
            out.append("\n      <no source>")
        out += [f"\n      {ref.type}.{ref.name}" for ref in build.sources]
        out.append("\n    provisioners:\n")
        provisioners = [b for b in build.provisioners if b.type != "dynamic"]
        out += [f"      {_component(b)}" for b in provisioners] or ["      <no provisioner>"]
        out.append("\n    post-processors:")
        if not build.post_processors:
            out.append("\n      <no post-processor>")
        for j, chain in enumerate(build.post_processors):
            out.append(f"\n      {j}:")
            out += [f"        {_component(b)}" for b in chain]
    return "\n".join(out) + "\n"


def _component(block: ast.Block) -> str:
    """`TYPE`, or `TYPE.NAME` when the block sets `name` (Packer decodes it without
    variables, so only a constant counts)."""
    for attr in block.body.attributes:
        if attr.name == "name":
            try:
                name = evaluate(attr.expr, EvalContext({}, {}))
            except EvalError:
                break
            if name.type == STRING and name.v:
                return f"{block.labels[0]}.{name.v}"
    return block.labels[0]


def printable(value: Value | None, *, sensitive: bool = False) -> str:
    """Packer's `PrintableCtyValue`: `<unknown>`, or `repl.FormatResult` of the Go value."""
    if value is None:
        return UNKNOWN
    data = to_python(value)
    if sensitive:
        data = _masked(data)
    return format_result(data)


def _masked(data: object) -> object:
    if isinstance(data, list):
        return [_masked(x) for x in data]
    if isinstance(data, dict):
        return {k: _masked(v) for k, v in data.items()}
    return None if data is None else SENSITIVE


def format_result(value: object, nested: bool = False) -> str:
    """`repl.FormatResult` (Packer 1.6.6): strings bare at the top and quoted inside
    lists and maps, `%g` floats, lists and maps over indented lines, map keys sorted."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return quote(value) if nested else value
    if isinstance(value, int):
        return str(value) if -(2**63) <= value < 2**63 else format_float(float(value), "g")
    if isinstance(value, float):
        return format_float(value, "g")
    if isinstance(value, list):
        inner = "".join(_indent(format_result(v, True)) + ",\n" for v in value)
        return "[" + ("\n" if value else "") + inner + "]"
    if isinstance(value, dict):
        lines = "".join(
            _indent(f"{format_result(k, True)} = {format_result(value[k], True)}") + "\n"
            for k in sorted(value)
        )
        return "{" + ("\n" if value else "") + lines + "}"
    return "<unknown-type>"


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())
