"""'Did you mean' suggestions for misspelt names."""

from __future__ import annotations

from collections.abc import Iterable


def closest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate most like `name`, if one is close enough to be a likely typo."""
    import difflib  # only when a name is wrong

    pool = list(candidates)
    matches = difflib.get_close_matches(name, pool, n=1, cutoff=0.75)
    if matches:
        return matches[0]
    lowered = {c.lower(): c for c in pool}
    return lowered.get(name.lower().replace("-", "_"))


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """`' — did you mean "x"?'` or an empty string."""
    best = closest(name, candidates)
    return f' — did you mean "{best}"?' if best else ""
