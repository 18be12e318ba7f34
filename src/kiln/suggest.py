"""'Did you mean' suggestions for misspelt names: the one implementation.

Option keys, types and flags use the defaults (a close match, or the same name in another
case or with `-` for `_`, shown in double quotes). Template expressions — Go's world — use
`cutoff=GO_CUTOFF, fold_case=False` and Go's quoting (`go_did_you_mean` in
kiln.template.evaluate). `name_suggestion` is Packer's own rule (an edit distance below 3),
for the texts where kiln repeats Packer's words: the HTTP server's 404 for `http_content`.
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


_SUGGEST_DISTANCE = 3  # Packer's didyoumean: a candidate closer than this
_SUGGEST_MAX_LENGTH = 256  # longer paths get no suggestion (the work grows with length²)


def _close(a: str, b: str) -> bool:
    """Whether the edit distance of `a` and `b` is below `_SUGGEST_DISTANCE`.

    Strings whose lengths differ by that much are never close; otherwise only the band of
    the table within that distance of the diagonal is computed, and the work stops as
    soon as no cell of a row is within it.
    """
    limit = _SUGGEST_DISTANCE
    if abs(len(a) - len(b)) >= limit:
        return False
    far = limit  # any distance >= limit counts as "too far"
    previous = [min(j, far) for j in range(len(b) + 1)]
    for i, ca in enumerate(a, 1):
        lo, hi = max(1, i - limit), min(len(b), i + limit)
        current = [far] * (len(b) + 1)
        current[0] = min(i, far)
        for j in range(lo, hi + 1):
            cost = previous[j - 1] + (ca != b[j - 1])
            current[j] = min(previous[j] + 1, current[j - 1] + 1, cost, far)
        if min(current[max(0, lo - 1) : hi + 1]) >= limit:
            return False
        previous = current
    return previous[-1] < limit


def name_suggestion(given: str, candidates: list[str]) -> str:
    """The first candidate within edit distance 2 (Packer's ``didyoumean.NameSuggestion``).

    Bounded, as the HTTP server runs it on the build's event loop for every 404: a path longer than
    `_SUGGEST_MAX_LENGTH` gets none (Packer computes it whatever the length).
    """
    if len(given) > _SUGGEST_MAX_LENGTH:
        return ""
    return next((c for c in candidates if _close(given, c)), "")
