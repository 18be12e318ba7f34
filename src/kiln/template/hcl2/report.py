"""Validation errors of an HCL2 template, pointed into its files.

Option decoding and Packer's Prepare checks are shared with JSON templates and report plain
messages naming the option; for an HCL template each message is shown as a diagnostic at
the attribute it names (or at its block), with the source line and a caret.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from kiln.template.hcl2.ast import Range
from kiln.template.hcl2.diagnostics import Diagnostic, format_diagnostic
from kiln.template.hcl2.model import Hcl2Info, Scope

_STEP = re.compile(r"^(provisioner \d+|error-cleanup-provisioner|post-processor \d+(?:\.\d+)?)"
                   r" \([^)]*\): ")  # fmt: skip
_BUILD_HEADER = re.compile(r'^Error: Failed to prepare build: "(.*)"$')


def _locate(message: str, scope: Scope) -> Range:
    """The attribute a message is about: a quoted option name first, then a bare one."""
    names = sorted(scope.names, key=len, reverse=True)
    for name in names:
        if re.search(rf"""['"]{{1,2}}{re.escape(name)}['"]{{1,2}}""", message):
            unknown = "unknown" in message.lower() or "unsupported" in message.lower()
            return scope.names[name] if unknown else scope.values.get(name, scope.names[name])
    for name in names:
        if re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", message):
            return scope.values.get(name, scope.names[name])
    return scope.header


def diagnostics_for(
    info: Hcl2Info, groups: Sequence[tuple[str, Sequence[str]]]
) -> list[Diagnostic]:
    out = []
    for header, errors in groups:
        m = _BUILD_HEADER.match(header)
        build = m.group(1) if m else ""
        for error in errors:
            step = _STEP.match(error)
            scope: Scope | None
            if step:
                scope = info.steps.get(step.group(1))
                message = error[step.end() :]
            else:
                scope = info.builders.get(build)
                message = error
            summary = f'Failed to prepare build "{build}"' if build else "Invalid template"
            if scope is None:
                out.append(Diagnostic(summary, error, None))
                continue
            out.append(Diagnostic(summary, message, _locate(message, scope)))
    return out


def format_failure(info: Hcl2Info, groups: Sequence[tuple[str, Sequence[str]]]) -> str:
    diags = diagnostics_for(info, groups)
    return "\n\n".join(format_diagnostic(d, info.sources) for d in diags)
