"""Packer's template functions (packer-plugin-sdk `template/interpolate/funcs.go`, v1.6.6).

`packer_functions(ctx)` gives the functions for one interpolation context. Argument
order follows Packer: `split STRING SEP N`, `replace OLD NEW N STRING`, `replace_all OLD
NEW STRING` (so the string can be piped in: `{{ .Name | replace_all "-" "_" }}`). The
annotations are the argument types the engine checks, as Go's would.

`user` with an undefined variable renders "" outside the variables section, as Packer's
does, and tells `FuncContext.undefined_user` (the plan makes it a warning); inside the
variables section it is an error, as in Packer. The Consul, Vault and AWS Secrets Manager
functions are refused with an explanation.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from kiln.errors import TemplateError
from kiln.golang.fmt import format_value
from kiln.golang.strconv import quote
from kiln.template.evaluate import go_did_you_mean
from kiln.template.gotime import RFC3339, format_go, strftime, to_utc
from kiln.template.limits import check_size

Func = Callable[..., object]


@dataclass(frozen=True, slots=True)
class FuncContext:
    """What the functions of one interpolation may see.

    `init_time` is keyword-only and required: it is fixed for the whole run, so every
    `timestamp`/`isotime` in a build agrees (Packer's InitTime)."""

    template_dir: str  # absolute directory of the template file ("" if none)
    user_variables: Mapping[str, str]  # resolved user variables (may be partial)
    env_allowed: bool  # `env` works only inside the "variables" section (Packer)
    build_name: str = ""  # "" outside a build
    build_type: str = ""  # "qemu" inside a build
    packer_version: str = "1.6.6"
    init_time: datetime = field(kw_only=True)
    build_values: Mapping[str, str] | None = None  # `{{ build "Host" }}`; None: not available
    # Told about `user` with an undefined variable (outside "variables"), which renders "".
    undefined_user: Callable[[str], None] | None = None


def _listing(names: list[str]) -> str:
    return ", ".join(names[:40]) + (", ..." if len(names) > 40 else "") if names else "none"


def _simple_lower(ch: str) -> str:
    low = ch.lower()
    return low[0] if low else ch  # only "İ" expands ("i" + dot above); its simple form is "i"


def _simple_upper(ch: str) -> str:
    up = ch.upper()
    if len(up) == 1:
        return up
    title = ch.title()  # "ᾳ" → "ΑΙ" in full, but simply "ᾼ"; "ß" has no simple uppercase
    return title if len(title) == 1 else ch


def go_lower(s: str) -> str:
    """strings.ToLower: Unicode simple case mapping, one character to one ("İ" → "i")."""
    return "".join(_simple_lower(ch) for ch in s)


def go_upper(s: str) -> str:
    """strings.ToUpper: Unicode simple case mapping, one character to one ("ß" stays)."""
    return "".join(_simple_upper(ch) for ch in s)


def _go_split(s: str, sep: str) -> list[str]:
    """strings.Split: an empty separator splits into characters."""
    return list(s) if sep == "" else s.split(sep)


def _go_replace(s: str, old: str, new: str, n: int) -> str:
    """strings.Replace: n < 0 replaces all (refused when the result would be too long)."""
    found = len(s) + 1 if old == "" else s.count(old)
    count = found if n < 0 else min(n, found)
    check_size(len(s) + count * (len(new) - len(old)))
    if n < 0 or n > len(s) + 1:
        return s.replace(old, new)
    return s.replace(old, new, n)


_VALID_RESOURCE_NAME = re.compile(r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?")


def clean_resource_name(s: str) -> str:
    """Packer's clean_resource_name (googlecompute/yandex builders): a valid name is kept;
    otherwise lowercase it and turn every byte that is not a-z or 0-9 into "-"."""
    if _VALID_RESOURCE_NAME.fullmatch(s):
        return s
    out: list[str] = []
    for ch in go_lower(s):
        if "a" <= ch <= "z" or "0" <= ch <= "9":
            out.append(ch)
        else:
            out.append("-" * len(ch.encode("utf-8", "surrogatepass")))  # Go works on bytes
    return "".join(out)


def time_ordered_uuid() -> str:
    """Packer's uuid: the Unix time in the first 8 hex digits, then 96 random bits."""
    unix = int(time.time()) & 0xFFFFFFFF
    b = os.urandom(12).hex()
    return f"{unix:08x}-{b[0:4]}-{b[4:8]}-{b[8:12]}-{b[12:24]}"


def _unsupported(name: str, hint: str) -> Func:
    def refuse(*args: object) -> str:
        raise TemplateError(f"function {quote(name)} is not supported by kiln: {hint}")

    return refuse


_UNSUPPORTED = {
    "consul_key": "read the value outside kiln and pass it with -var or -var-file",
    "vault": "read the secret outside kiln (e.g. `vault kv get`) and pass it with -var-file",
    "aws_secretsmanager": "read the secret outside kiln and pass it with -var-file",
    "sed": "it is deprecated in Packer; use replace or replace_all",
}


_IN_BUILD_ONLY = "is only available inside a build (builders, provisioners, post-processors)"


def packer_functions(ctx: FuncContext) -> dict[str, Func]:
    """Packer's template functions bound to `ctx`."""
    init_utc = to_utc(ctx.init_time)

    def user(name: str) -> str:
        value = ctx.user_variables.get(name)
        if value is not None:
            return value
        names = sorted(ctx.user_variables)
        missing = (
            f"user variable {quote(name)} is not defined{go_did_you_mean(name, names)} "
            f"(defined: {_listing(names)})"
        )
        fix = f"declare it in the \"variables\" section or pass -var '{name}=...'"
        if ctx.env_allowed:  # interpolating the variables themselves: Packer fails too
            raise TemplateError(f"{missing}; {fix}")
        if ctx.undefined_user is not None:
            ctx.undefined_user(f"{missing}; it renders as an empty string, as in Packer: {fix}")
        return ""

    def env(name: str) -> str:
        if not ctx.env_allowed:
            raise TemplateError(
                'env can only be used in the "variables" section: declare a variable '
                f'such as "my_var": "{{{{env `{name}`}}}}" there and use {{{{user `my_var`}}}} here'
            )
        return os.environ.get(name, "")

    def timestamp() -> str:
        return str(int(init_utc.timestamp()))

    def isotime(*layout: str) -> str:
        if len(layout) > 1:
            given = format_value(list(layout))
            raise TemplateError(f"isotime takes at most 1 layout, got {len(layout)}: {given}")
        return format_go(init_utc, layout[0] if layout else RFC3339)

    def strftime_(fmt: str) -> str:
        return strftime(fmt, init_utc)

    def uuid() -> str:
        return time_ordered_uuid()

    def pwd() -> str:
        return os.getcwd()

    def template_dir() -> str:
        if not ctx.template_dir:
            raise TemplateError(
                "template_dir is not available: the template was not read from a file"
            )
        return ctx.template_dir

    def build_name() -> str:
        if not ctx.build_name:
            raise TemplateError(f"build_name {_IN_BUILD_ONLY}")
        return ctx.build_name

    def build_type() -> str:
        if not ctx.build_type:
            raise TemplateError(f"build_type {_IN_BUILD_ONLY}")
        return ctx.build_type

    def packer_version() -> str:
        return ctx.packer_version

    def build(name: str) -> str:
        values = ctx.build_values
        if values is None:
            raise TemplateError(
                "build can only be used in provisioners and post-processors, "
                "once the machine is running"
            )
        value = values.get(name)
        if value is None:
            names = sorted(values)
            raise TemplateError(
                f"build variable {quote(name)} is not available{go_did_you_mean(name, names)} "
                f"(available: {_listing(names)})"
            )
        return value

    def split(s: str, sep: str, n: int) -> str:
        parts = _go_split(s, sep)
        if not 0 <= n < len(parts):
            raise TemplateError(
                f"split: part {n} of {quote(s)} split on {quote(sep)} does not exist: "
                f"there are {len(parts)} parts, numbered from 0"
            )
        return parts[n]

    def replace(old: str, new: str, n: int, s: str) -> str:
        return _go_replace(s, old, new, n)

    def replace_all(old: str, new: str, s: str) -> str:
        return _go_replace(s, old, new, -1)

    def lower(s: str) -> str:
        return go_lower(s)

    def upper(s: str) -> str:
        return go_upper(s)

    def clean_resource_name_(s: str) -> str:
        return clean_resource_name(s)

    funcs: dict[str, Func] = {
        "user": user,
        "env": env,
        "timestamp": timestamp,
        "isotime": isotime,
        "strftime": strftime_,
        "uuid": uuid,
        "pwd": pwd,
        "template_dir": template_dir,
        "build_name": build_name,
        "build_type": build_type,
        "packer_version": packer_version,
        "build": build,
        "split": split,
        "replace": replace,
        "replace_all": replace_all,
        "lower": lower,
        "upper": upper,
        "clean_resource_name": clean_resource_name_,
    }
    for name, hint in _UNSUPPORTED.items():
        funcs[name] = _unsupported(name, hint)
    return funcs
