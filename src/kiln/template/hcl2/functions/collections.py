"""Collection functions (cty's stdlib collection and set functions, Packer's `length`)."""

from __future__ import annotations

from collections.abc import Sequence

from kiln.template.hcl2.convert import ConversionError, convert, unify
from kiln.template.hcl2.equality import equals
from kiln.template.hcl2.function import ArgError, Function, FunctionError, Param, fn
from kiln.template.hcl2.functions._util import graphemes, whole
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
    set_of,
)
from kiln.template.hcl2.values import (
    FALSE,
    TRUE,
    Value,
    bool_val,
    int_val,
    list_val,
    map_val,
    number_val,
    object_val,
    set_key,
    set_val,
    string_val,
    tuple_val,
)

ANY = Param("list", DYNAMIC)
LISTLIKE = ("list", "tuple", "set")


def _seq(v: Value, index: int, what: str = "a list, tuple or set") -> tuple[Value, ...]:
    if v.type.kind not in LISTLIKE:
        raise ArgError(index, f"{what} is required, not {friendly_name(v.type)}")
    return v.items()


def _same_kind_result(source: Value, items: Sequence[Value]) -> Value:
    """A list stays a list (of its element type), a tuple or set becomes a tuple."""
    if source.type.kind == "list":
        elem = source.type.elem or DYNAMIC
        return Value(list_of(elem), tuple(items))
    return tuple_val(items)


def _as_list(items: Sequence[Value], index: int = 0) -> Value:
    """A list of `items`, their types unified (cty `ListVal` after conversion)."""
    if not items:
        return list_val([], DYNAMIC)
    t = unify([i.type for i in items])
    if t is None:
        raise ArgError(index, "all elements must have the same type")
    return list_val([convert(i, t) for i in items], t)


@fn(Param("value", DYNAMIC))
def _length(a: Sequence[Value]) -> Value:
    v = a[0]
    if v.type == STRING:
        return int_val(len(graphemes(v.as_str())))
    if v.type.kind in ("list", "tuple", "set", "map", "object"):
        return int_val(len(v.v))
    raise ArgError(0, "argument must be a string, a collection type, or a structural type")


@fn(variadic=Param("seqs", DYNAMIC))
def _concat(a: Sequence[Value]) -> Value:
    if not a:
        raise FunctionError("at least one argument is required")
    items: list[Value] = []
    all_lists = True
    for i, seq in enumerate(a):
        if seq.type.kind not in ("list", "tuple"):
            raise ArgError(
                i, f"all arguments must be lists or tuples; got {friendly_name(seq.type)}"
            )
        all_lists = all_lists and seq.type.kind == "list"
        items.extend(seq.items())
    if all_lists:
        elem = unify([s.type.elem or DYNAMIC for s in a])
        if elem is not None:
            return list_val([convert(i, elem) for i in items], elem)
        raise FunctionError("all arguments must have the same element type")
    return tuple_val(items)


@fn(Param("list", DYNAMIC), Param("value", DYNAMIC, allow_null=True))
def _contains(a: Sequence[Value]) -> Value:
    items = _seq(a[0], 0)
    return bool_val(any(equals(i, a[1]) for i in items))


@fn(Param("list", DYNAMIC), Param("value", DYNAMIC))
def _index(a: Sequence[Value]) -> Value:
    if a[0].type.kind not in ("list", "tuple"):
        raise ArgError(0, "argument must be a list or tuple")
    for i, item in enumerate(a[0].items()):
        if equals(item, a[1]):
            return int_val(i)
    raise FunctionError("item not found")


@fn(Param("list", list_of(DYNAMIC)))
def _distinct(a: Sequence[Value]) -> Value:
    seen: set[object] = set()
    out = []
    for item in a[0].items():
        key = set_key(item)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return Value(a[0].type, tuple(out))


@fn(Param("list", DYNAMIC), Param("index", NUMBER))
def _element(a: Sequence[Value]) -> Value:
    if a[0].type.kind not in ("list", "tuple"):
        raise ArgError(0, "cannot read elements from " + friendly_name(a[0].type))
    items = a[0].items()
    i = whole(a, 1, "index")
    if i < 0:
        raise ArgError(1, "cannot use element function with a negative index")
    if not items:
        raise FunctionError("cannot use element function with an empty list")
    return items[i % len(items)]


def _flatten_items(v: Value, out: list[Value]) -> None:
    for item in v.items():
        if not item.is_null and item.type.kind in LISTLIKE:
            _flatten_items(item, out)
        else:
            out.append(item)


@fn(Param("list", DYNAMIC))
def _flatten(a: Sequence[Value]) -> Value:
    _seq(a[0], 0, "can only flatten lists, sets and tuples; a list")
    out: list[Value] = []
    _flatten_items(a[0], out)
    return tuple_val(out)


@fn(Param("inputMap", DYNAMIC), Param("key", STRING), Param("default", DYNAMIC, allow_null=True))
def _lookup(a: Sequence[Value]) -> Value:
    """As in every Packer version, the default is required (Terraform's is optional)."""
    m, key = a[0], a[1].as_str()
    if m.type.kind not in ("map", "object"):
        raise ArgError(0, "the first argument must be a map or an object")
    attrs = m.attrs()
    if key in attrs:
        found = attrs[key]
        if len(a) == 3 and m.type.kind == "object":
            t = unify([found.type, a[2].type]) if not a[2].is_null else found.type
            if t is not None:
                return convert(found, t)
        return found
    if len(a) == 3:
        default = a[2]
        if m.type.kind == "map" and m.type.elem is not None and not default.is_null:
            try:
                return convert(default, m.type.elem)
            except ConversionError:
                return default
        return default
    raise FunctionError(f"lookup failed to find '{key}'")


@fn(variadic=Param("maps", DYNAMIC, allow_null=True))
def _merge(a: Sequence[Value]) -> Value:
    out: dict[str, Value] = {}
    all_maps = True
    for i, m in enumerate(a):
        if m.is_null:
            continue
        if m.type.kind not in ("map", "object"):
            raise ArgError(i, f"arguments must be maps or objects, got {friendly_name(m.type)}")
        all_maps = all_maps and m.type.kind == "map"
        out.update(m.attrs())
    if all_maps and a:
        elem = unify([m.type.elem or DYNAMIC for m in a if not m.is_null]) if out else DYNAMIC
        if elem is not None:
            return map_val({k: convert(v, elem) for k, v in out.items()}, elem)
    return object_val(out)


@fn(Param("inputMap", DYNAMIC))
def _keys(a: Sequence[Value]) -> Value:
    m = a[0]
    if m.type.kind not in ("map", "object"):
        raise ArgError(0, "must have map or object type")
    names = [string_val(k) for k in m.attrs()]
    if m.type.kind == "map":
        return list_val(names, STRING)
    return tuple_val(names)


@fn(Param("mapping", DYNAMIC))
def _values(a: Sequence[Value]) -> Value:
    m = a[0]
    if m.type.kind not in ("map", "object"):
        raise ArgError(0, "must have map or object type")
    vals = list(m.attrs().values())
    if m.type.kind == "map":
        return list_val(vals, m.type.elem or DYNAMIC)
    return tuple_val(vals)


@fn(Param("keys", list_of(STRING)), Param("values", DYNAMIC))
def _zipmap(a: Sequence[Value]) -> Value:
    keys = [k.as_str() for k in a[0].items()]
    if a[1].type.kind not in ("list", "tuple"):
        raise ArgError(1, "values must be a list or tuple")
    values = a[1].items()
    if len(keys) != len(values):
        raise FunctionError(
            f"number of keys ({len(keys)}) does not match number of values ({len(values)})"
        )
    pairs = dict(zip(keys, values, strict=True))
    if a[1].type.kind == "list":
        return map_val(pairs, a[1].type.elem or DYNAMIC)
    return object_val(pairs)


@fn(variadic=Param("vals", DYNAMIC, allow_null=True))
def _coalesce(a: Sequence[Value]) -> Value:
    types = [v.type for v in a if not v.is_null]
    t = unify(types) if types else DYNAMIC
    if t is None:
        raise FunctionError("all arguments must have the same type")
    for v in a:
        if v.is_null:
            continue
        conv = convert(v, t)
        if conv.type == STRING and conv.as_str() == "":
            continue
        return conv
    raise FunctionError("no non-null, non-empty-string arguments")


@fn(variadic=Param("vals", DYNAMIC))
def _coalescelist(a: Sequence[Value]) -> Value:
    if not a:
        raise FunctionError("at least one argument is required")
    for i, v in enumerate(a):
        if v.type.kind not in ("list", "tuple"):
            raise ArgError(i, "coalescelist arguments must be lists or tuples, got "
                           + friendly_name(v.type))  # fmt: skip
        if v.items():
            return v
    return a[-1]


@fn(Param("list", list_of(STRING)))
def _compact(a: Sequence[Value]) -> Value:
    items = [i for i in a[0].items() if not i.is_null and i.as_str() != ""]
    return list_val(items, STRING)


@fn(Param("list", list_of(DYNAMIC)), Param("size", NUMBER))
def _chunklist(a: Sequence[Value]) -> Value:
    size = whole(a, 1, "size")
    if size < 0:
        raise ArgError(1, "the size argument must be positive")
    items = a[0].items()
    elem = a[0].type.elem or DYNAMIC
    if size == 0:
        return list_val([a[0]], a[0].type)
    chunks = [list_val(items[i : i + size], elem) for i in range(0, len(items), size)]
    return list_val(chunks, list_of(elem))


@fn(Param("list", DYNAMIC), Param("start_index", NUMBER), Param("end_index", NUMBER))
def _slice(a: Sequence[Value]) -> Value:
    if a[0].type.kind not in ("list", "tuple"):
        raise ArgError(0, "must be a list or tuple value")
    items = a[0].items()
    start, end = whole(a, 1, "start_index"), whole(a, 2, "end_index")
    if start < 0:
        raise ArgError(1, "start index must not be less than zero")
    if end > len(items):
        raise ArgError(2, "end index must not be greater than the length of the list")
    if start > end:
        raise ArgError(1, "start index must not be greater than end index")
    return _same_kind_result(a[0], items[start:end])


@fn(Param("list", list_of(STRING)))
def _sort(a: Sequence[Value]) -> Value:
    items = a[0].items()
    if any(i.is_null for i in items):
        raise ArgError(0, "given list element is null; a null value cannot be sorted")
    # Go's sort.Strings compares bytes of UTF-8: the same order as code points.
    return list_val(sorted(items, key=lambda v: v.as_str()), STRING)


@fn(Param("list", DYNAMIC))
def _reverse(a: Sequence[Value]) -> Value:
    items = _seq(a[0], 0, "a list or tuple")
    if a[0].type.kind == "set":
        raise ArgError(0, "can only reverse list or tuple values, not " + friendly_name(a[0].type))
    return _same_kind_result(a[0], tuple(reversed(items)))


def _int_arg(v: Value) -> Number:
    return v.as_number()


@fn(variadic=Param("params", NUMBER))
def _range(a: Sequence[Value]) -> Value:
    nums = [v.as_number() for v in a]
    one = Number.from_int(1)
    zero = Number.from_int(0)
    if len(nums) == 1:
        start, limit, step = zero, nums[0], one
    elif len(nums) == 2:
        start, limit = nums
        step = one if start.compare(limit) <= 0 else one.neg_()  # counts down, as cty does
    elif len(nums) == 3:
        start, limit, step = nums
    else:
        raise FunctionError("must have one, two, or three arguments")
    if any(n.inf for n in (start, limit, step)):
        raise FunctionError("range arguments must be finite")
    if step.is_zero():
        raise ArgError(len(nums) - 1, "step must not be zero")
    down = step.sign() < 0
    if down and start.compare(limit) < 0:
        raise ArgError(0, "for a negative step, the start must be greater than or equal to the "
                       "limit")  # fmt: skip
    if not down and start.compare(limit) > 0:
        raise ArgError(0, "for a positive step, the start must be less than or equal to the limit")
    out: list[Value] = []
    cur = start
    while (cur.compare(limit) > 0) if down else (cur.compare(limit) < 0):
        if len(out) >= 1024:
            raise FunctionError(
                "more than 1024 values were generated; either decrease the difference "
                "between start and end or use a smaller step"
            )
        out.append(number_val(cur))
        cur = cur.add(step)
    return list_val(out, NUMBER)


def _set_args(a: Sequence[Value]) -> tuple[list[list[Value]], Type]:
    sets = []
    for i, s in enumerate(a):
        if s.type.kind not in LISTLIKE:
            raise ArgError(i, f"a set is required, not {friendly_name(s.type)}")
        sets.append(list(s.items()))
    elem = unify([s.type.elem if s.type.elem is not None else (unify(list(s.type.elems)) or DYNAMIC)
                  for s in a if s.v]) or DYNAMIC  # fmt: skip
    return sets, elem


@fn(Param("first_set", set_of(DYNAMIC)), variadic=Param("other_sets", set_of(DYNAMIC)))
def _setunion(a: Sequence[Value]) -> Value:
    sets, elem = _set_args(a)
    return set_val([convert(v, elem) for s in sets for v in s], elem)


@fn(Param("first_set", set_of(DYNAMIC)), variadic=Param("other_sets", set_of(DYNAMIC)))
def _setintersection(a: Sequence[Value]) -> Value:
    sets, elem = _set_args(a)
    conv = [[convert(v, elem) for v in s] for s in sets]
    keys = [{set_key(v) for v in s} for s in conv]
    common = [v for v in conv[0] if all(set_key(v) in k for k in keys[1:])]
    return set_val(common, elem)


@fn(variadic=Param("sets", DYNAMIC))
def _setproduct(a: Sequence[Value]) -> Value:
    if len(a) < 2:
        raise FunctionError("at least two arguments are required")
    lists = [list(_seq(s, i)) for i, s in enumerate(a)]
    product: list[list[Value]] = [[]]
    for items in lists:
        product = [[*p, i] for p in product for i in items]
    rows = [tuple_val(p) for p in product]
    if all(s.type.kind == "set" for s in a):
        elem = unify([r.type for r in rows]) if rows else DYNAMIC
        return set_val(rows, elem or DYNAMIC)
    if all(s.type.kind == "list" for s in a) and rows:
        return Value(list_of(rows[0].type), tuple(rows))
    return tuple_val(rows)


@fn(Param("list", list_of(BOOL)))
def _alltrue(a: Sequence[Value]) -> Value:
    return TRUE if all(i.v is True for i in a[0].items()) else FALSE


@fn(Param("list", list_of(BOOL)))
def _anytrue(a: Sequence[Value]) -> Value:
    return TRUE if any(i.v is True for i in a[0].items()) else FALSE


@fn(Param("list", DYNAMIC))
def _sum(a: Sequence[Value]) -> Value:
    items = _seq(a[0], 0, "a list, set or tuple of numbers")
    if not items:
        raise ArgError(0, "cannot sum an empty list")
    total: Number | None = None
    for item in items:
        if item.is_null:
            raise ArgError(0, "argument must be list, set, or tuple of number values")
        try:
            n = convert(item, NUMBER).as_number()
        except ConversionError:
            raise ArgError(0, "argument must be list, set, or tuple of number values") from None
        total = n if total is None else total.add(n)
    assert total is not None
    return number_val(total)


FUNCTIONS: dict[str, Function] = {
    "alltrue": _alltrue,
    "anytrue": _anytrue,
    "chunklist": _chunklist,
    "coalesce": _coalesce,
    "coalescelist": _coalescelist,
    "compact": _compact,
    "concat": _concat,
    "contains": _contains,
    "distinct": _distinct,
    "element": _element,
    "flatten": _flatten,
    "index": _index,
    "keys": _keys,
    "length": _length,
    "lookup": _lookup,
    "merge": _merge,
    "range": _range,
    "reverse": _reverse,
    "setintersection": _setintersection,
    "setproduct": _setproduct,
    "setunion": _setunion,
    "slice": _slice,
    "sort": _sort,
    "sum": _sum,
    "values": _values,
    "zipmap": _zipmap,
}
_ = (map_of, _as_list, _int_arg)
