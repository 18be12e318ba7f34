"""A loaded template, JSON or HCL2: its builders, provisioners and post-processors as the
loaders (`kiln.template.loader`, `kiln.template.hcl2.loader`) hand them to `kiln.plan`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kiln.template.hcl2.model import Hcl2Info


@dataclass(slots=True)
class BuilderDef:
    """One entry of `builders`: its name (default: its type) and raw options."""

    index: int  # 1-based, as Packer numbers them in messages
    type: str
    name: str
    config: dict[str, object]
    # HCL2: `{{ build_name }}` and the defaults built on it are the source's name ("debian"),
    # while the build is shown as "qemu.debian" (Packer's hcl2template does the same).
    build_name: str = ""


@dataclass(slots=True)
class ProvisionerDef:
    index: int  # 1-based; 0 for the error-cleanup provisioner
    type: str
    config: dict[str, object]  # the type's own options (common keys removed)
    only: list[str] = field(default_factory=list)
    except_: list[str] = field(default_factory=list)
    override: dict[str, dict[str, object]] = field(default_factory=dict)
    pause_before: object = None
    max_retries: object = None
    timeout: object = None

    @property
    def where(self) -> str:
        return f"provisioner {self.index}" if self.index else "error-cleanup-provisioner"


@dataclass(slots=True)
class PostProcessorDef:
    index: int  # position of the chain (1-based)
    type: str
    config: dict[str, object]
    only: list[str] = field(default_factory=list)
    except_: list[str] = field(default_factory=list)
    keep_input_artifact: object = None
    name: str = ""
    where: str = ""


@dataclass(slots=True)
class TemplateFile:
    path: Path
    description: str = ""
    min_packer_version: str = ""
    variables: dict[str, str | None] = field(default_factory=dict)  # None = required
    sensitive_variables: list[str] = field(default_factory=list)
    builders: list[BuilderDef] = field(default_factory=list)
    provisioners: list[ProvisionerDef] = field(default_factory=list)
    post_processors: list[list[PostProcessorDef]] = field(default_factory=list)
    error_cleanup_provisioner: ProvisionerDef | None = None
    # HCL2 templates only: variables already evaluated into the options, the values of
    # sensitive variables, where each option was written (kiln.template.hcl2.loader).
    hcl2: Hcl2Info | None = None

    @property
    def template_dir(self) -> Path:
        return self.path.resolve().parent
