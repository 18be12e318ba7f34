"""What a build leaves behind (Packer's `packer.Artifact`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(slots=True)
class Artifact:
    """A build's or a post-processor's output: its files, and how Packer names it."""

    build_name: str
    builder_type: str
    output_dir: Path
    files: list[Path]
    state: dict[str, Any] = field(default_factory=dict)
    builder_id: str = "transcend.qemu"
    id: str = "VM"
    description: str = ""  # how post-processors' artifacts describe themselves

    def __str__(self) -> str:
        return self.description or f"VM files in directory: {self.output_dir}"
