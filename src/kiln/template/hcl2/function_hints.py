"""What kiln says of a function it does not have: Packer's functions that reach outside
services, and `env()` outside a variable's default."""

from __future__ import annotations

# Functions of Packer's table that reach outside services; kiln does not offer them.
UNSUPPORTED = {
    "aws_secretsmanager": "it reads AWS Secrets Manager",
    "aws_secretsmanager_raw": "it reads AWS Secrets Manager",
    "consul_key": "it reads from Consul",
    "vault": "it reads from HashiCorp Vault",
}


def unknown_function_hint(name: str) -> str:
    if name in UNSUPPORTED:
        return (
            f" Packer offers {name}() but kiln does not, because {UNSUPPORTED[name]}; pass "
            "the value in a variable instead (-var, -var-file or PKR_VAR_…)."
        )
    if name == "env":
        return (
            " As in Packer, env() can only be used in a variable's default value: declare a "
            'variable with `default = env("NAME")` and use var.NAME here.'
        )
    return ""
