"""Decode a template's raw JSON object into option-set dataclasses, collecting every error."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from kiln.options.hcltypes import hcl_value
from kiln.options.spec import Duration, QemuImgArgs, option_specs
from kiln.options.weak import DecodeProblem, convert
from kiln.suggest import did_you_mean

T = TypeVar("T")

# Every (option set, option name) that some decode has seen set explicitly. The test suite
# checks at the end that every option row was exercised (see tests/conftest.py).
EXERCISED: set[tuple[str, str]] = set()


class DecodeResult:
    """The decoded option sets plus everything that went wrong or deserves a warning.

    (A plain class: as a dataclass it cost each `kiln validate` ~0.5 ms to define.)"""

    __slots__ = ("errors", "explicit", "sections", "warnings")

    def __init__(self, sections: dict[type, Any]) -> None:
        self.sections = sections
        self.errors: list[str] = []
        self.warnings: list[str] = []
        # Canonical names of the options the template set (after alias resolution).
        self.explicit: set[str] = set()

    def get(self, cls: type[T]) -> T:
        value: T = self.sections[cls]
        return value


def decode_sections(
    raw: Mapping[str, object],
    classes: Sequence[type],
    *,
    reserved: Sequence[str] = (),
    hcl: bool = False,
) -> DecodeResult:
    """Decode `raw` into one instance of each class in `classes`.

    A key belongs to the first class that declares it (or one of its deprecated aliases).
    Keys starting with `_` are comments. `reserved` keys (e.g. `type`, `name`) are handled by
    the caller and skipped here. Unknown keys are errors with a suggestion. `hcl`: the values
    come from an HCL2 block, typed first as Packer's HCL2 specs type them (`hcltypes`).

    An explicit zero value (`""`, `0`, `"0s"`, `[]`) of an option whose default is not zero
    becomes the default: Packer's Go structs cannot tell it from an unset key, and every
    `Prepare` fills such fields with the default (`"vnc_port_min": 0` means 5900). Booleans
    are exempt (an explicit `false` is meaningful), and so are options marked `keeps_zero`.
    """
    owners: dict[str, tuple[type, str, str | None]] = {}
    types: dict[tuple[type, str], Any] = {}
    defaults: dict[tuple[type, str], object] = {}
    keeps_zero: set[tuple[type, str]] = set()
    for cls in classes:
        for row in option_specs(cls):
            owners.setdefault(row.name, (cls, row.name, None))
            types[(cls, row.name)] = row.type
            defaults[(cls, row.name)] = row.default
            if row.spec.keeps_zero:
                keeps_zero.add((cls, row.name))
            for alias, warning in row.spec.aliases:
                owners.setdefault(alias, (cls, row.name, warning))

    values: dict[type, dict[str, object]] = {cls: {} for cls in classes}
    result = DecodeResult(sections={})
    alias_set: set[str] = set()
    for key, value in raw.items():
        if key.startswith("_") or key in reserved:
            continue
        if key not in owners:
            known = [*owners, *reserved]
            result.errors.append(
                f"unknown configuration key: '\"{key}\"'{did_you_mean(key, known)}"
            )
            continue
        cls, name, alias_warning = owners[key]
        if alias_warning is None and name in alias_set:
            continue  # the deprecated alias was set too, and it wins (as in Packer)
        try:
            typed = hcl_value(key, types[(cls, name)], value) if hcl else value
            decoded = convert(key, types[(cls, name)], typed)
        except DecodeProblem as problem:
            result.errors.append(str(problem))
            continue
        if alias_warning is not None:
            if _is_zero(decoded):
                continue  # Packer copies a deprecated alias over only when it is non-zero
            result.warnings.append(alias_warning)
            alias_set.add(name)
        default = defaults[(cls, name)]
        if (
            _is_zero(decoded)
            and not isinstance(default, bool)
            and not _is_zero(default)
            and (cls, name) not in keeps_zero
        ):
            # Go cannot tell an explicit zero from unset: Prepare defaults it. (A copy: the
            # option rows, and so their list and dict defaults, are shared.)
            decoded = copy.copy(default) if isinstance(default, list | dict) else default
        values[cls][name] = decoded
        result.explicit.add(name)
        EXERCISED.add((cls.__name__, name))
    for cls in classes:
        result.sections[cls] = cls(**values[cls])
    return result


def apply_env_defaults(obj: T, env: Mapping[str, str]) -> T:
    """`obj` with each empty option that names environment variables (`env=`) taken from
    the first of them that is set."""
    changes: dict[str, object] = {}
    for row in option_specs(type(obj)):
        if row.spec.env and _is_zero(getattr(obj, row.name)):
            for name in row.spec.env:
                if env.get(name):
                    changes[row.name] = env[name]
                    break
    return replace(obj, **changes) if changes else obj


def _is_zero(value: object) -> bool:
    """Go's zero value of the option's type: "", 0, 0s, empty list/map/qemu_img_args."""
    if isinstance(value, Duration):
        return value.seconds == 0
    if isinstance(value, QemuImgArgs):
        return value == QemuImgArgs()
    return value in ("", 0, [], {}) and not isinstance(value, bool)


def replace(obj: T, **changes: Any) -> T:
    """`dataclasses.replace`, typed."""
    return dataclasses.replace(obj, **changes)  # type: ignore[type-var]
