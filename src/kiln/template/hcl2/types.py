"""cty's types: string, number, bool, list/set/map of a type, object and tuple, and `any`.

Values carry their type (`values.Value`), as in cty: `[1, "a"]` is a tuple, `tolist([1])`
a list, `{a = 1}` an object; conversions (`convert.py`) follow the types.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class Type:
    __slots__ = ("_hash", "attrs", "elem", "elems", "kind")

    def __init__(
        self,
        kind: str,
        elem: Type | None = None,
        attrs: Mapping[str, Type] | None = None,
        elems: Sequence[Type] | None = None,
    ) -> None:
        self.kind = kind
        self.elem = elem
        self.attrs: dict[str, Type] = dict(sorted(attrs.items())) if attrs is not None else {}
        self.elems: tuple[Type, ...] = tuple(elems) if elems is not None else ()
        self._hash = hash((kind, elem, tuple(self.attrs.items()), self.elems))

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        return (
            isinstance(other, Type)
            and self._hash == other._hash
            and self.kind == other.kind
            and self.elem == other.elem
            and self.attrs == other.attrs
            and self.elems == other.elems
        )

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self) -> tuple[object, ...]:
        """Pickled (the parse cache) as its parts: unpickling recomputes the hash (string
        hashes differ between processes) and gives back the primitive singletons."""
        return (_restore, (self.kind, self.elem, self.attrs or None, self.elems or None))

    def __repr__(self) -> str:
        return type_string(self)

    # categories
    @property
    def is_primitive(self) -> bool:
        return self.kind in ("string", "number", "bool")

    @property
    def is_collection(self) -> bool:
        return self.kind in ("list", "set", "map")

    @property
    def is_structural(self) -> bool:
        return self.kind in ("object", "tuple")

    @property
    def is_listlike(self) -> bool:
        """Holds values in order: list, tuple (and set, iterated in its own order)."""
        return self.kind in ("list", "tuple", "set")

    @property
    def is_maplike(self) -> bool:
        return self.kind in ("map", "object")

    def has_dynamic(self) -> bool:
        if self.kind == "dynamic":
            return True
        if self.elem is not None and self.elem.has_dynamic():
            return True
        return any(t.has_dynamic() for t in (*self.attrs.values(), *self.elems))


STRING = Type("string")
NUMBER = Type("number")
BOOL = Type("bool")
DYNAMIC = Type("dynamic")
_SINGLETONS = {t.kind: t for t in (STRING, NUMBER, BOOL, DYNAMIC)}


def _restore(
    kind: str, elem: Type | None, attrs: Mapping[str, Type] | None, elems: Sequence[Type] | None
) -> Type:
    if kind in _SINGLETONS:
        return _SINGLETONS[kind]
    return Type(kind, elem, attrs, elems)


def list_of(elem: Type) -> Type:
    return Type("list", elem=elem)


def set_of(elem: Type) -> Type:
    return Type("set", elem=elem)


def map_of(elem: Type) -> Type:
    return Type("map", elem=elem)


def object_of(attrs: Mapping[str, Type]) -> Type:
    return Type("object", attrs=attrs)


def tuple_of(elems: Sequence[Type]) -> Type:
    return Type("tuple", elems=elems)


EMPTY_OBJECT = object_of({})
EMPTY_TUPLE = tuple_of(())


def type_string(t: Type) -> str:
    """A type as written in a `type =` constraint: `list(string)`, `object({a=number})`."""
    if t.kind == "dynamic":
        return "any"
    if t.is_primitive:
        return t.kind
    if t.is_collection:
        assert t.elem is not None
        return f"{t.kind}({type_string(t.elem)})"
    if t.kind == "object":
        inner = ",".join(f"{k}={type_string(v)}" for k, v in t.attrs.items())
        return f"object({{{inner}}})"
    return "tuple([" + ",".join(type_string(e) for e in t.elems) + "])"


def friendly_name(t: Type) -> str:
    """How cty names a type in messages: "list of string", "object", "tuple"."""
    if t.kind == "dynamic":
        return "dynamic"
    if t.is_primitive:
        return t.kind
    if t.is_collection:
        assert t.elem is not None
        return f"{t.kind} of {friendly_name(t.elem)}"
    return t.kind
