"""The broken-HCL corpus (tests/data/broken_hcl): each template fails `kiln validate` with
exit 1, no traceback, and a message with the file, line and column, naming the block or
attribute at fault. The last line of each file says what is expected:
`# expect: LINE:COL | text | text`."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[2] / "data" / "broken_hcl"
CASES = sorted(p.name for p in DATA.glob("*.pkr.hcl"))


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 40


def expectations(path: Path) -> list[str]:
    last = path.read_text().splitlines()[-1]
    assert last.startswith("# expect: "), f"{path.name}: no expectation line"
    return [part.strip() for part in last[len("# expect: ") :].split("|")]


@pytest.mark.parametrize("case", CASES)
def test_broken_template_is_refused_with_a_position(
    case: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from kiln.cli.main import main

    monkeypatch.chdir(DATA)
    for key in [k for k in __import__("os").environ if k.startswith("PKR_VAR_")]:
        monkeypatch.delenv(key)
    status = main(["validate", case])
    out, err = capsys.readouterr()
    text = out + err
    assert status == 1, text
    assert "Traceback" not in text and "internal error" not in text, text
    where, *words = expectations(DATA / case)
    assert f"{case}:{where}" in text, text
    for word in words:
        assert word in text, text
    assert "^" in text, text
