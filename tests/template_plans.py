"""Plans made from small in-memory templates, for tests of what runs on a plan."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kiln.engine.plan import BuildPlan, Plan
from kiln.plan import PlanOptions, make_plan
from kiln.template.loader import parse_template

# The least a qemu builder needs to validate (the ISO is never fetched).
BUILDER: dict[str, Any] = {
    "type": "qemu",
    "iso_url": "http://example.com/x.iso",
    "iso_checksum": "none",
    "ssh_username": "root",
    "ssh_password": "secret",
}


def plan_of(tmp_path: Path, template: dict[str, Any]) -> Plan:
    """The plan of `template`, as if read from `tmp_path/t.json` (no environment)."""
    text = json.dumps(template)
    return make_plan(parse_template(text, tmp_path / "t.json"), PlanOptions(cwd=tmp_path, env={}))


def build_of(tmp_path: Path, sections: dict[str, Any] | None = None) -> BuildPlan:
    """The one build of a template with `BUILDER` and `sections` (provisioners, …)."""
    return plan_of(tmp_path, {"builders": [BUILDER], **(sections or {})}).builds[0]
