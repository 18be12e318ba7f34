"""What an HCL2 template adds to the template model: where each option was written (for
messages that point into the file) and the values of sensitive variables."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from kiln.template.hcl2.ast import Range
from kiln.template.hcl2.diagnostics import Sources


@dataclass
class Scope:
    """One builder, provisioner or post-processor: its block and its attributes."""

    header: Range  # the block's type and labels (HCL's DefRange)
    context: str  # `source "qemu" "debian"`, `provisioner "shell"`
    names: dict[str, Range] = field(default_factory=dict)  # option → where its name is
    values: dict[str, Range] = field(default_factory=dict)  # option → where its value is
    blocks: set[str] = field(default_factory=set)  # options written as nested blocks
    type_label: Range | None = None  # `"shell"` of provisioner "shell"


@dataclass
class Hcl2Info:
    sources: Sources
    files: list[Path] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)
    builders: dict[str, Scope] = field(default_factory=dict)  # by build name
    steps: dict[str, Scope] = field(default_factory=dict)  # "provisioner 2", "post-processor 1.1"
    variables: dict[str, str] = field(default_factory=dict)  # name → shown value (inspect)
    locals: dict[str, str] = field(default_factory=dict)
    build_blocks: list[tuple[str, list[str]]] = field(default_factory=list)  # inspect
    # Warning diagnostics of loading (an undeclared variable in a variable file, a plugin
    # kiln does not provide), formatted without their "Warning:" (the UI prints that).
    warnings: list[str] = field(default_factory=list)
