"""IP network functions (go-cty-funcs cidr): cidrhost, cidrnetmask, cidrsubnet(s)."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from kiln.template.hcl2.function import ArgError, Function, FunctionError, Param, fn
from kiln.template.hcl2.functions._util import whole
from kiln.template.hcl2.types import NUMBER, STRING
from kiln.template.hcl2.values import Value, list_val, string_val

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _network(a: Sequence[Value], i: int = 0) -> Network:
    text = a[i].as_str()
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise ArgError(i, f"invalid CIDR expression: invalid CIDR address: {text}") from None


@fn(Param("prefix", STRING), Param("hostnum", NUMBER))
def _cidrhost(a: Sequence[Value]) -> Value:
    net = _network(a)
    num = whole(a, 1, "hostnum")
    size = net.num_addresses
    if num < 0:
        num += size
    if not 0 <= num < size:
        raise FunctionError(f"prefix of {net.prefixlen} does not accommodate a host numbered "
                            f"{whole(a, 1)}")  # fmt: skip
    return string_val(str(net.network_address + num))


@fn(Param("prefix", STRING))
def _cidrnetmask(a: Sequence[Value]) -> Value:
    net = _network(a)
    if net.version != 4:
        raise FunctionError("only IPv4 networks are supported")
    return string_val(str(net.netmask))


def _subnet(net: Network, newbits: int, netnum: int) -> Network:
    new_prefix = net.prefixlen + newbits
    if newbits < 0 or new_prefix > net.max_prefixlen:
        raise FunctionError(
            f"insufficient address space to extend prefix of {net.prefixlen} by {newbits}"
        )
    if netnum < 0 or netnum >= 1 << newbits:
        raise FunctionError(
            f"prefix extension of {newbits} does not accommodate a subnet numbered {netnum}"
        )
    base = int(net.network_address) + (netnum << (net.max_prefixlen - new_prefix))
    return ipaddress.ip_network((base, new_prefix))


@fn(Param("prefix", STRING), Param("newbits", NUMBER), Param("netnum", NUMBER))
def _cidrsubnet(a: Sequence[Value]) -> Value:
    return string_val(str(_subnet(_network(a), whole(a, 1, "newbits"), whole(a, 2, "netnum"))))


@fn(Param("prefix", STRING), variadic=Param("newbits", NUMBER))
def _cidrsubnets(a: Sequence[Value]) -> Value:
    net = _network(a)
    out: list[Value] = []
    current = int(net.network_address)
    end = int(net.broadcast_address)
    for i in range(1, len(a)):
        bits = whole(a, i, "newbits")
        if bits < 1:
            raise ArgError(i, "must extend prefix by at least one bit")
        prefix = net.prefixlen + bits
        if prefix > net.max_prefixlen:
            raise ArgError(i, f"would extend prefix to {prefix} bits, which is too long for "
                           f"an IPv{net.version} address")  # fmt: skip
        block = 1 << (net.max_prefixlen - prefix)
        current = (current + block - 1) // block * block
        if current + block - 1 > end:
            raise ArgError(i, f"not enough remaining address space for a subnet with a prefix "
                           f"of {prefix} bits after {out[-1] if out else net}")  # fmt: skip
        out.append(string_val(str(ipaddress.ip_network((current, prefix)))))
        current += block
    return list_val(out, STRING)


FUNCTIONS: dict[str, Function] = {
    "cidrhost": _cidrhost,
    "cidrnetmask": _cidrnetmask,
    "cidrsubnet": _cidrsubnet,
    "cidrsubnets": _cidrsubnets,
}
