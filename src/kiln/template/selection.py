"""Which builds `-only`/`-except` keep: Packer's rule, shared by the planner and the HCL2
loader (which leaves the sources of builds it will not make unevaluated)."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence


def matches(name: str, patterns: Sequence[str]) -> bool:
    """Does a glob of `patterns` match `name`?"""
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


def is_selected(name: str, only: Sequence[str], except_: Sequence[str]) -> bool:
    """Is the build kept: named by `-only` (when given) and not by `-except`?"""
    return (not only or matches(name, only)) and not matches(name, except_)
