"""cty's conversions (the "unsafe" set HCL uses) and type unification.

`convert(value, type)` is what a `variable` type constraint, a function parameter or a
`tolist()` does; `unify(types)` finds the one type that all of several values convert to,
as a conditional's two results or a tuple turned into a list need.
"""

from __future__ import annotations

from collections.abc import Sequence

from kiln.template.hcl2.numbers import Number
from kiln.template.hcl2.types import (
    BOOL,
    DYNAMIC,
    NUMBER,
    STRING,
    Type,
    friendly_name,
    list_of,
    map_of,
    object_of,
    tuple_of,
)
from kiln.template.hcl2.values import (
    FALSE,
    TRUE,
    Value,
    null_of,
    set_val,
    string_val,
)


class ConversionError(ValueError):
    """The value does not convert; `path` says where inside it ("element 0")."""

    def __init__(self, message: str, path: Sequence[str] = ()) -> None:
        self.message = message
        self.path = tuple(path)
        super().__init__(self.text)

    @property
    def text(self) -> str:
        where = ": ".join(self.path)  # cty's words: element 1: attribute "a": ...
        return f"{where}: {self.message}" if where else self.message

    def at(self, step: str) -> ConversionError:
        return ConversionError(self.message, (step, *self.path))


def mismatch(want: Type) -> str:
    return f"{friendly_name(want)} required"


def number_text(n: Number) -> str:
    return n.text()


def convert(v: Value, want: Type) -> Value:
    have = v.type
    if want.kind == "dynamic" or have == want:
        return v
    if v.v is None:
        return null_of(want)
    if want.is_primitive:
        return _to_primitive(v, want)
    if want.kind in ("list", "set"):
        if not have.is_listlike:
            raise ConversionError(mismatch(want))
        assert want.elem is not None
        items = _convert_items(v.items(), want.elem)
        elem = _elem_type(items, want.elem)
        if want.kind == "list":
            return Value(list_of(elem), tuple(items))
        return set_val(items, elem)
    if want.kind == "map":
        if not have.is_maplike:
            raise ConversionError(mismatch(want))
        assert want.elem is not None
        out: dict[str, Value] = {}
        for key, item in v.attrs().items():
            try:
                out[key] = convert(item, want.elem)
            except ConversionError as err:
                raise err.at(f'element "{key}"') from None
        elem = _elem_type(list(out.values()), want.elem)
        if elem != want.elem or want.elem.kind == "dynamic":
            out = {k: convert(x, elem) for k, x in out.items()}
        return Value(map_of(elem), out)
    if want.kind == "object":
        if not have.is_maplike:
            raise ConversionError("object required")
        attrs = v.attrs()
        result: dict[str, Value] = {}
        for name, aty in want.attrs.items():
            if name not in attrs:
                raise ConversionError(f'attribute "{name}" is required')
            try:
                result[name] = convert(attrs[name], aty)
            except ConversionError as err:
                raise err.at(f'attribute "{name}"') from None
        if have.kind == "map":
            for name in attrs:
                if name not in want.attrs:
                    raise ConversionError(f'unsupported attribute "{name}"')
        return Value(object_of({k: x.type for k, x in result.items()}), result)
    if want.kind == "tuple":
        if not have.is_listlike:
            raise ConversionError("tuple required")
        items_in = v.items()
        if len(items_in) != len(want.elems):
            raise ConversionError(f"tuple required with exactly {len(want.elems)} elements")
        conv = []
        for i, (item, ety) in enumerate(zip(items_in, want.elems, strict=True)):
            try:
                conv.append(convert(item, ety))
            except ConversionError as err:
                raise err.at(f"element {i}") from None
        return Value(tuple_of([c.type for c in conv]), tuple(conv))
    raise ConversionError(mismatch(want))  # pragma: no cover


def _convert_items(items: Sequence[Value], elem: Type) -> list[Value]:
    out = []
    for i, item in enumerate(items):
        try:
            out.append(convert(item, elem))
        except ConversionError as err:
            raise err.at(f"element {i}") from None
    return out


def _elem_type(items: list[Value], want: Type) -> Type:
    """The element type of a converted collection: `want`, or the unified one for `any`."""
    if not want.has_dynamic():
        return want
    if not items:
        return want
    unified = unify([i.type for i in items])
    if unified is None:
        raise ConversionError("all elements must have the same type")
    for i, item in enumerate(items):
        try:
            items[i] = convert(item, unified)
        except ConversionError as err:  # pragma: no cover - unify checked it
            raise err.at(f"element {i}") from None
    return unified


def _to_primitive(v: Value, want: Type) -> Value:
    have = v.type
    if want == STRING:
        if have == NUMBER:
            return string_val(v.as_number().text())
        if have == BOOL:
            return string_val("true" if v.v else "false")
        raise ConversionError(mismatch(want))
    if have != STRING:
        raise ConversionError(mismatch(want))
    s = v.as_str()
    if want == NUMBER:
        try:
            return Value(NUMBER, Number.parse(s))
        except (ValueError, ZeroDivisionError):
            raise ConversionError("a number is required") from None
    if s in ("true", "1"):
        return TRUE
    if s in ("false", "0"):
        return FALSE
    if s.lower() in ("true", "false"):
        raise ConversionError(
            f'a bool is required; to convert from string, use lowercase "{s.lower()}"'
        )
    raise ConversionError("a bool is required")


# --- type-level ------------------------------------------------------------------------------


def conversion_exists(have: Type, want: Type) -> bool:
    if have == want or want.kind == "dynamic" or have.kind == "dynamic":
        return True
    if want.is_primitive:
        if not have.is_primitive:
            return False
        return STRING in (want, have)
    if want.kind in ("list", "set"):
        assert want.elem is not None
        if have.kind == "tuple":
            return all(conversion_exists(e, want.elem) for e in have.elems)
        if have.kind in ("list", "set"):
            assert have.elem is not None
            return conversion_exists(have.elem, want.elem)
        return False
    if want.kind == "map":
        assert want.elem is not None
        if have.kind == "object":
            return all(conversion_exists(a, want.elem) for a in have.attrs.values())
        if have.kind == "map":
            assert have.elem is not None
            return conversion_exists(have.elem, want.elem)
        return False
    if want.kind == "object":
        if have.kind == "object":
            return all(
                n in have.attrs and conversion_exists(have.attrs[n], t)
                for n, t in want.attrs.items()
            )
        if have.kind == "map":
            assert have.elem is not None
            return all(conversion_exists(have.elem, t) for t in want.attrs.values())
        return False
    if want.kind == "tuple":
        if have.kind == "tuple":
            return len(have.elems) == len(want.elems) and all(
                conversion_exists(a, b) for a, b in zip(have.elems, want.elems, strict=True)
            )
        if have.kind == "list":
            assert have.elem is not None
            return all(conversion_exists(have.elem, e) for e in want.elems)
        return False
    return False


def _preference(t: Type) -> tuple[int, int]:
    order = {"string": 0, "number": 1, "bool": 2, "list": 3, "set": 4, "map": 5,
             "object": 6, "tuple": 7, "dynamic": 9}  # fmt: skip
    return (1 if t.kind == "dynamic" else 0, order[t.kind])


def unify(types: Sequence[Type]) -> Type | None:
    """cty's `UnifyUnsafe`: the single type all of `types` convert to, or None."""
    if not types:
        return None
    kinds = [t.kind for t in types]
    dyn = kinds.count("dynamic")
    for kind, fn in (("map", _unify_maps), ("object", _unify_objects), ("tuple", _unify_tuples)):
        count = kinds.count(kind)
        if count and count + dyn == len(types):
            return DYNAMIC if dyn else fn(types)
    if "object" in kinds and "tuple" in kinds:
        return None
    for want in sorted(dict.fromkeys(types), key=_preference):
        if all(conversion_exists(t, want) for t in types):
            return want
    return None


def _unify_maps(types: Sequence[Type]) -> Type | None:
    elem = unify([t.elem for t in types if t.elem is not None])
    return None if elem is None else map_of(elem)


def _unify_objects(types: Sequence[Type]) -> Type | None:
    first = types[0].attrs
    if any(set(t.attrs) != set(first) for t in types[1:]):
        return _unify_objects_to_map(types)
    attrs: dict[str, Type] = {}
    for name in first:
        u = unify([t.attrs[name] for t in types])
        if u is None:
            return None
        attrs[name] = u
    return object_of(attrs)


def _unify_objects_to_map(types: Sequence[Type]) -> Type | None:
    atys = [a for t in types for a in t.attrs.values()]
    if not atys:
        return map_of(DYNAMIC)
    elem = unify(atys)
    return None if elem is None else map_of(elem)


def _unify_tuples(types: Sequence[Type]) -> Type | None:
    first = types[0].elems
    if any(len(t.elems) != len(first) for t in types[1:]):
        return _unify_tuples_to_list(types)
    elems = []
    for i in range(len(first)):
        u = unify([t.elems[i] for t in types])
        if u is None:
            return None
        elems.append(u)
    return tuple_of(elems)


def _unify_tuples_to_list(types: Sequence[Type]) -> Type | None:
    """cty 1.4's `unifyTupleTypesToList`: tuples of different lengths unify to a list of
    all their elements' unified type (`c ? ["a", "b"] : ["a"]` is a list(string))."""
    elem = unify([e for t in types for e in t.elems])
    return None if elem is None else list_of(elem)


def ensure_type(value: Value, want: Type, what: str) -> Value:
    """Convert, with the message prefixed by what is being converted."""
    try:
        return convert(value, want)
    except ConversionError as err:
        raise ConversionError(f"{what}: {err.text}") from None


__all__ = ["ConversionError", "conversion_exists", "convert", "ensure_type", "unify"]
