"""'Did you mean' suggestions for misspelt names: the one implementation.

Option keys, types and flags use the defaults (a close match, or the same name in another
case or with `-` for `_`, shown in double quotes). Template expressions — Go's world — use
`cutoff=GO_CUTOFF, fold_case=False` and Go's quoting (`go_did_you_mean` in
kiln.template.evaluate).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

CUTOFF = 0.75
GO_CUTOFF = 0.6  # template names (functions, variables, fields) are short: a looser match


def closest(
    name: str, candidates: Iterable[str], *, cutoff: float = CUTOFF, fold_case: bool = True
) -> str | None:
    """The candidate most like `name`, if one is close enough to be a likely typo."""
    import difflib  # only when a name is wrong

    pool = list(candidates)
    matches = difflib.get_close_matches(name, pool, n=1, cutoff=cutoff)
    if matches:
        return matches[0]
    if not fold_case:
        return None
    lowered = {c.lower(): c for c in pool}
    return lowered.get(name.lower().replace("-", "_"))


def _double_quoted(text: str) -> str:
    return f'"{text}"'


def did_you_mean(
    name: str,
    candidates: Iterable[str],
    *,
    cutoff: float = CUTOFF,
    fold_case: bool = True,
    quote: Callable[[str], str] = _double_quoted,
) -> str:
    """`' — did you mean "x"?'` or an empty string."""
    best = closest(name, candidates, cutoff=cutoff, fold_case=fold_case)
    return f" — did you mean {quote(best)}?" if best else ""
