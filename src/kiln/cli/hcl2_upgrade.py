"""`kiln hcl2_upgrade TEMPLATE.json`: write TEMPLATE.json.pkr.hcl, as Packer's command does."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kiln.errors import KilnError
from kiln.template.hcl2.upgrade import upgrade
from kiln.template.loader import load_template


def run_hcl2_upgrade(opts: argparse.Namespace) -> int:
    tpl = load_template(opts.template)
    out = Path(opts.output_file or f"{opts.template}.pkr.hcl")
    try:
        out.write_text(upgrade(tpl), encoding="utf-8")
    except OSError as err:
        raise KilnError(f"hcl2_upgrade: cannot write {out}: {err.strerror or err}") from None
    sys.stdout.write(f"Successfully created {out}\n")
    return 0
