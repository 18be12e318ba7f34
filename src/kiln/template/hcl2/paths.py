"""Which templates are HCL2 — decided before anything of HCL2 is imported, so that
`kiln validate` of a JSON template loads none of it."""

from __future__ import annotations

from pathlib import Path


def is_hcl2_path(path: str | Path) -> bool:
    """A folder, or a `.pkr.hcl`/`.pkr.json`/`.hcl` file (Packer 1.6.6's rule)."""
    p = Path(path)
    name = p.name
    return p.is_dir() or name.endswith((".pkr.hcl", ".pkr.json")) or p.suffix == ".hcl"
