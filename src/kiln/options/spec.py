"""How an option is declared: `option(default, help=..., ...)` on a dataclass field."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple, TypeVar, cast

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Duration:
    """A Go `time.Duration` as written in the template (`"5s"`, `"1m30s"`).

    `text` keeps the user's spelling for messages; `seconds` is what code uses.
    """

    seconds: float
    text: str

    def __bool__(self) -> bool:
        return self.seconds != 0

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class QemuImgArgs:
    """`qemu_img_args`: extra arguments for each `qemu-img` sub-command Packer runs."""

    convert: tuple[str, ...] = ()
    create: tuple[str, ...] = ()
    resize: tuple[str, ...] = ()


class OptionSpec(NamedTuple):
    """Everything about one option except its name, type and default (the field has those).

    `OptionSpec` and `OptionRow` are NamedTuples: as frozen dataclasses they cost each
    `kiln validate` ~2 ms to define."""

    help: str
    section: str
    since: str = "1.6.6"
    choices: tuple[str, ...] = ()
    # For a list option: the values each item may take.
    item_choices: tuple[str, ...] = ()
    # Packer's exact error for a value outside `choices` (else a generic message).
    choice_error: str = ""
    # The whole message instead, a template with {name}, {value} and {allowed}.
    choice_message: str = ""
    # Deprecated spellings: (alias, warning). When set, the alias wins over the option,
    # as Packer's Prepare copies it over.
    aliases: tuple[tuple[str, str], ...] = ()
    # Rendered at build time with step data (`boot_command`, `qemuargs`), not at load.
    late: bool = False
    secret: bool = False
    required: bool = False
    # How the default reads in the docs when it is computed in prepare.
    default_doc: str = ""
    # Accepted for compatibility, with no effect in kiln (documented as such).
    inert: bool = False
    # Accepted by the loader, but setting it is an error: kiln does not implement it yet.
    unsupported: bool = False
    # An explicit zero is a value, not "the default" (Packer checks whether the key was
    # set, e.g. the vagrant post-processor's `compression_level: 0`).
    keeps_zero: bool = False
    # Environment variables read, in order, when the template leaves the option empty
    # (Packer's Configure does this for e.g. vagrant-cloud's access_token).
    env: tuple[str, ...] = ()


def option(
    default: T | None = None,
    *,
    help: str,
    section: str,
    factory: Callable[[], T] | None = None,
    **kw: Any,
) -> T:
    """Declare a dataclass field as an option (typed as its default for mypy)."""
    spec = OptionSpec(help=help, section=section, **kw)
    if factory is not None:
        made: object = field(default_factory=factory, metadata={"kiln": spec})
    else:
        made = field(default=default, metadata={"kiln": spec})
    return cast(T, made)


class OptionRow(NamedTuple):
    """One option as the docs, the decoder and `kiln inspect` see it."""

    name: str
    type: Any
    default: object
    spec: OptionSpec
    owner: type


def option_specs(cls: type) -> tuple[OptionRow, ...]:
    """The options an option-set dataclass declares, in declaration order.

    Built once per class (a `kiln validate` asks ~30 times, ~4 ms when rebuilt each time):
    the rows are shared, so a caller that takes `row.default` as a value copies a list or
    dict default first (see `options.decode`)."""
    rows = _ROWS.get(cls)
    if rows is None:
        rows = _ROWS[cls] = tuple(_rows(cls))
    return rows


_ROWS: dict[type, tuple[OptionRow, ...]] = {}


def _rows(cls: type) -> Iterator[OptionRow]:
    hints = _type_hints(cls)
    for f in dataclasses.fields(cls):
        spec = f.metadata.get("kiln")
        if spec is None:
            continue
        # `option()` always gives a default or a factory.
        default = f.default if f.default_factory is dataclasses.MISSING else f.default_factory()
        typ = hints[f.name]
        if is_choice_enum(typ) and not spec.choices:  # a StrEnum's values are its choices
            spec = spec._replace(choices=tuple(m.value for m in typ))
        yield OptionRow(f.name, typ, default, spec, cls)


def is_choice_enum(typ: Any) -> bool:
    """An option typed by a StrEnum: one of fixed values, each with its own behaviour."""
    return isinstance(typ, type) and issubclass(typ, StrEnum)


_HINTS: dict[type, dict[str, Any]] = {}


def _type_hints(cls: type) -> dict[str, Any]:
    import typing

    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]
