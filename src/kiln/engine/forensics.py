"""Failure forensics: what explains a failed build is kept before its work dir goes."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from kiln.engine.state import BuildState


def keep_forensics(state: BuildState[Any], names: Sequence[str]) -> Path | None:
    """Copy the files `names` of the work dir out before it is removed; where they went.

    With -on-error=abort they go into the output directory (`kiln-failure/`), else to
    `<failure_root>/<build>-<time>`.
    """
    present = [state.work_dir / f for f in names if (state.work_dir / f).exists()]
    if not present:
        return None
    if state.keep_output and state.output_dir.is_dir():
        dest = state.output_dir / "kiln-failure"
    else:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        dest = state.options.failure_root / f"{state.name}-{stamp}"
    try:
        dest.mkdir(parents=True, exist_ok=True)
        for path in present:
            shutil.copy2(path, dest / path.name)
    except OSError as err:
        state.ui.error(f"Could not keep the failure report in {dest}: {err}")
        return None
    return dest
