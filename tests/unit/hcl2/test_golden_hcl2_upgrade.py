"""Every JSON golden template, upgraded with `kiln hcl2_upgrade`, dry-runs to the same
commands as the JSON template itself (tests/data/golden; see tests/unit/test_golden_argv.py).
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import pytest

from golden_plugin import CACHE_DIR, CASE_ENV, GOLDEN_DIR, golden_cases, run_dry_run

CASES = golden_cases()
_LINE = re.compile(r"^    ([^:]+): (.*)$")


def commands(stdout: str) -> list[str]:
    """The command lines a dry run printed, without the build name before them."""
    out = []
    for line in stdout.splitlines():
        m = _LINE.match(line)
        if m:
            argv = shlex.split(m.group(2)) if m.group(2) else []
            if argv and (argv[0] in ("cp", "qemu-img", "swtpm") or "qemu-system" in argv[0]):
                out.append(m.group(2))
    return out


def test_enough_cases() -> None:
    assert len(CASES) >= 20


@pytest.mark.parametrize("case", CASES)
def test_upgraded_template_dry_runs_the_same_commands(
    case: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    from kiln.cli.main import main

    json_run = run_dry_run(case, monkeypatch, capsys, tmp_path)
    assert json_run.status == 0, f"{case}: the JSON dry run fails, nothing to compare"
    hcl = tmp_path / f"{case}.json.pkr.hcl"
    assert main(["hcl2_upgrade", "-output-file", str(hcl), f"{case}.json"]) == 0
    capsys.readouterr()
    for name, value in CASE_ENV.get(case, {}).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PACKER_CACHE_DIR", CACHE_DIR)
    assert os.getcwd() == str(GOLDEN_DIR)
    status = main(["build", "-dry-run", str(hcl)])
    out, err = capsys.readouterr()
    assert status == 0, err
    want = commands(json_run.stdout)
    got = [c.replace(str(tmp_path), str(GOLDEN_DIR)) for c in commands(out)]
    assert want, f"{case}: the JSON dry run printed no command"
    assert got == want
