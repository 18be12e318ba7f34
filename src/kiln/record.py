"""`Record`: dataclass behaviour without dataclass's cost at import.

CPython 3.11's `@dataclass` writes the source of each generated method (`__init__`,
`__repr__`, `__eq__`, `__setattr__`, …) and compiles it with `exec` when the class is
created: 0.3–0.7 ms a class. `kiln validate` defines about sixty classes, and that was a
third of its start-up. A `Record` subclass gets the same behaviour from methods written
once, here:

* fields are the class's annotations, base classes' first (`ClassVar`s excluded);
* `name: T = value` gives a default, `name: T = field(default_factory=list)` a fresh value
  per instance, `field(kw_only=True)` a keyword-only field, `field(repr=False)` /
  `field(compare=False)` leave it out of `repr` / equality;
* `__init__` takes fields positionally or by name, then calls `__post_init__` if defined;
* equality compares type and fields; `repr` is `Name(a=1, b='x')`;
* `class P(Record, frozen=True)` refuses assignment with `FrozenInstanceError` (use
  `object.__setattr__` in `__post_init__`, as with dataclasses) and hashes by its fields;
  other records are unhashable, as dataclasses with `eq=True` are;
* `replace(record, **changes)` is `dataclasses.replace`.

mypy sees records as dataclasses (`dataclass_transform`). The option tables stay real
dataclasses: `dataclasses.fields()` and its metadata *are* the option table.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import FrozenInstanceError
from typing import Any, ClassVar, TypeVar, dataclass_transform

_MISSING: Any = object()
R = TypeVar("R", bound="Record")


class Field:
    """One field of a record (what `field()` returns, completed when the class is made)."""

    __slots__ = ("compare", "default", "default_factory", "kw_only", "name", "repr")

    def __init__(
        self,
        default: Any = _MISSING,
        default_factory: Callable[[], Any] | Any = _MISSING,
        *,
        repr: bool = True,
        compare: bool = True,
        kw_only: bool = False,
    ) -> None:
        if default is not _MISSING and default_factory is not _MISSING:
            raise ValueError("cannot specify both default and default_factory")
        self.name = ""
        self.default = default
        self.default_factory = default_factory
        self.repr = repr
        self.compare = compare
        self.kw_only = kw_only

    @property
    def required(self) -> bool:
        return self.default is _MISSING and self.default_factory is _MISSING

    def value(self) -> Any:
        return self.default_factory() if self.default is _MISSING else self.default


def field(
    *,
    default: Any = _MISSING,
    default_factory: Callable[[], Any] | Any = _MISSING,
    repr: bool = True,
    compare: bool = True,
    kw_only: bool = False,
) -> Any:
    """Like `dataclasses.field`, for records."""
    return Field(default, default_factory, repr=repr, compare=compare, kw_only=kw_only)


def _is_classvar(annotation: object) -> bool:
    text = annotation if isinstance(annotation, str) else repr(annotation)
    return text.startswith(("ClassVar", "typing.ClassVar"))


@dataclass_transform(field_specifiers=(field, Field))
class Record:  # noqa: PLW1641 - __hash__ is set per subclass (frozen or not)
    """Base class of records; see the module docstring."""

    __slots__ = ()
    _fields_: ClassVar[tuple[Field, ...]] = ()
    _positional_: ClassVar[tuple[Field, ...]] = ()
    _keyword_: ClassVar[tuple[Field, ...]] = ()
    _frozen_: ClassVar[bool] = False

    def __init_subclass__(cls, *, frozen: bool = False, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls._fields_ and cls._frozen_ != frozen:
            raise TypeError(f"{cls.__name__}: frozen and unfrozen records cannot inherit")
        fields = {f.name: f for f in cls._fields_}
        for name, annotation in inspect.get_annotations(cls).items():
            if _is_classvar(annotation):
                continue
            value = cls.__dict__.get(name, _MISSING)
            spec = value if isinstance(value, Field) else Field(default=value)
            spec.name = name
            if spec.default is not _MISSING:
                setattr(cls, name, spec.default)
            elif name in cls.__dict__:
                delattr(cls, name)
            fields[name] = spec
        cls._fields_ = tuple(fields.values())
        cls._positional_ = tuple(f for f in cls._fields_ if not f.kw_only)
        cls._keyword_ = tuple(f for f in cls._fields_ if f.kw_only)
        seen_default = False
        for f in cls._positional_:
            if f.required and seen_default:
                raise TypeError(f"{cls.__name__}: non-default field {f.name!r} follows a default")
            seen_default = seen_default or not f.required
        cls._frozen_ = frozen
        if frozen:
            cls.__setattr__ = Record._refuse_setattr  # type: ignore[method-assign,assignment]
            cls.__delattr__ = Record._refuse_delattr  # type: ignore[method-assign,assignment]
        if cls.__dict__.get("__hash__") is None:  # a class's own __hash__ wins, as in dataclasses
            cls.__hash__ = Record._hash if frozen else None  # type: ignore[method-assign,assignment]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        cls = type(self)
        positional = cls._positional_
        if len(args) > len(positional):
            raise TypeError(
                f"{cls.__name__}() takes {len(positional)} positional arguments "
                f"but {len(args)} were given"
            )
        set_field = object.__setattr__
        for spec, value in zip(positional, args, strict=False):
            if spec.name in kwargs:
                raise TypeError(f"{cls.__name__}() got multiple values for {spec.name!r}")
            set_field(self, spec.name, value)
        for spec in (*positional[len(args) :], *cls._keyword_):
            if spec.name in kwargs:
                set_field(self, spec.name, kwargs.pop(spec.name))
            elif spec.required:
                raise TypeError(f"{cls.__name__}() missing required argument: {spec.name!r}")
            else:
                set_field(self, spec.name, spec.value())
        if kwargs:
            unexpected = next(iter(kwargs))
            raise TypeError(f"{cls.__name__}() got an unexpected keyword argument {unexpected!r}")
        post_init = getattr(self, "__post_init__", None)
        if post_init is not None:
            post_init()

    def _compared(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f.name) for f in self._fields_ if f.compare)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Record)
        return self._compared() == other._compared()

    def __repr__(self) -> str:
        shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in self._fields_ if f.repr)
        return f"{type(self).__qualname__}({shown})"

    def _hash(self) -> int:
        return hash(self._compared())

    def _refuse_setattr(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r} of {type(self).__name__}")

    def _refuse_delattr(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r} of {type(self).__name__}")


def replace(record: R, **changes: Any) -> R:
    """A copy of `record` with some fields changed (`__post_init__` runs again)."""
    values = {f.name: getattr(record, f.name) for f in record._fields_}
    unknown = set(changes) - set(values)
    if unknown:
        raise TypeError(f"{type(record).__name__} has no field {sorted(unknown)[0]!r}")
    return type(record)(**{**values, **changes})
