"""The option-exercise check (virt-manager's test_checkprops idea).

`kiln.options.decode` records every (option set, option) that a decode saw set explicitly in
`EXERCISED`. When the whole unit suite has run, every row of every option table must be in
it: a new option needs a test that sets it. `tests/conftest.py` calls `check()` from its
`pytest_sessionfinish` hook.

When it runs: always with `KILN_CHECK_OPTIONS=1`, never with `KILN_CHECK_OPTIONS=0`, and
otherwise automatically when the session collected every `tests/unit/test_*.py` file with
no `-k`/`-m`/`--lf`/`--deselect` narrowing, and every test passed (a partial or failing run
says nothing about coverage).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kiln.cli.docs import option_sets
from kiln.options.decode import EXERCISED
from kiln.options.spec import option_specs

UNIT_DIR = Path(__file__).resolve().parent / "unit"


def all_rows() -> list[tuple[str, str]]:
    """(option set, option) of every row of every table, in table order."""
    rows: list[tuple[str, str]] = []
    for classes in option_sets().values():
        for cls in classes:
            rows.extend((cls.__name__, row.name) for row in option_specs(cls))
    return list(dict.fromkeys(rows))


def never_exercised() -> list[str]:
    return [f"{owner}.{name}" for owner, name in all_rows() if (owner, name) not in EXERCISED]


def _whole_unit_suite(session: pytest.Session) -> bool:
    opt = session.config.option
    if opt.keyword or opt.markexpr or getattr(opt, "lf", False):
        return False
    if getattr(opt, "deselect", None):
        return False
    collected = {Path(str(item.path)).resolve() for item in session.items}
    wanted = set(UNIT_DIR.glob("test_*.py"))
    return wanted <= collected


def should_check(session: pytest.Session, exitstatus: int) -> bool:
    forced = os.environ.get("KILN_CHECK_OPTIONS", "")
    if forced in ("0", "1"):
        return forced == "1"
    return exitstatus == pytest.ExitCode.OK and _whole_unit_suite(session)


def check(session: pytest.Session, exitstatus: int) -> None:
    """Fail the session, listing every option row no test set."""
    if not should_check(session, exitstatus):
        return
    missing = never_exercised()
    if not missing:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    lines = [
        f"option-exercise check: {len(missing)} option(s) are never set by any test "
        "(add a test that sets each; see tests/option_coverage.py):",
        *(f"  {name}" for name in missing),
    ]
    if reporter is not None:
        reporter.ensure_newline()
        reporter.write_sep("=", "option-exercise check failed", red=True)
        for line in lines:
            reporter.write_line(line)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
