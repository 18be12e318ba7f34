"""docs/hcl2.md's function table says what the library holds, every function it calls
supported is exercised by a checked test (an expression of tests/data/hcl2/expressions.txt,
whose values Packer printed, or a unit test of tests/unit/hcl2), and each difference from
Packer it lists is in docs/compatibility.md too."""

from __future__ import annotations

import re
from pathlib import Path

from kiln.template.hcl2.functions import UNSUPPORTED, standard_functions

ROOT = Path(__file__).resolve().parents[3]
# Evaluated by the evaluator itself (their arguments are expressions), or only in a
# variable's default.
SPECIAL = {"try", "can", "convert", "env"}
_ROW = re.compile(r"^\| [^|]+ \| `([a-z0-9_]+)` \| [^|]+ \| ([^|]+) \|", re.MULTILINE)


def documented() -> dict[str, str]:
    text = (ROOT / "docs" / "hcl2.md").read_text()
    return {name: status.strip() for name, status in _ROW.findall(text)}


def test_the_table_lists_exactly_the_library() -> None:
    table = documented()
    supported = {n for n, s in table.items() if s == "supported"}
    assert supported == set(standard_functions("/")) | SPECIAL
    for name, why in UNSUPPORTED.items():
        assert table[name] == f"not supported: {why}"
    assert {n for n, s in table.items() if s == "not yet"}.isdisjoint(standard_functions("/"))


def test_every_supported_function_has_a_checked_test() -> None:
    corpus = (ROOT / "tests" / "data" / "hcl2" / "expressions.txt").read_text()
    here = Path(__file__)
    corpus += "".join(p.read_text() for p in here.parent.glob("test_*.py") if p != here)
    untested = sorted(
        name
        for name, status in documented().items()
        if status == "supported" and not re.search(rf"\b{name}\(", corpus)
    )
    assert untested == []


def _words(text: str) -> str:
    return " ".join(text.replace("(", " ").replace(")", " ").split())


def test_each_difference_is_also_in_compatibility_md() -> None:
    hcl2 = (ROOT / "docs" / "hcl2.md").read_text()
    section = hcl2.split("## Differences from Packer 1.6.6", 1)[1].split("\n## ", 1)[0]
    bullets = [b for b in section.split("\n- ")[1:] if b.strip()]
    assert len(bullets) >= 10
    compat = _words((ROOT / "docs" / "compatibility.md").read_text())
    missing = [b[:60] for b in bullets if _words(b)[:40] not in compat]
    assert missing == []
