"""Functions newer than Packer 1.6.6 (or whose result is not fixed), checked against cty's
and Packer's own sources and tests at the version that added them."""

from __future__ import annotations

import base64
import gzip
import re
from datetime import UTC, datetime
from pathlib import Path

import bcrypt
import pytest

from kiln.template.hcl2.diagnostics import HCLError
from kiln.template.hcl2.evaluate import EvalContext, EvalError, evaluate
from kiln.template.hcl2.functions import standard_functions
from kiln.template.hcl2.parser import parse_expression
from kiln.template.hcl2.values import to_python

NOW = datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC)


def ev(expr: str, base: Path | str = "/") -> object:
    ctx = EvalContext({}, standard_functions(base, now=NOW))
    return to_python(evaluate(parse_expression(expr, "t.pkr.hcl"), ctx))


def err(expr: str, base: Path | str = "/") -> str:
    with pytest.raises((EvalError, HCLError)) as info:
        ev(expr, base)
    return str(info.value)


@pytest.mark.parametrize(
    ("expr", "want"),
    [
        ('startswith("hello world", "hello")', True),
        ('startswith("hello world", "world")', False),
        ('endswith("hello world", "world")', True),
        ('endswith("hello world", "hello")', False),
        ('strcontains("hello world", "wor")', True),
        ('strcontains("hello world", "wod")', False),
        ("sum([10, 13, 6, 4.5])", 33.5),
        ("sum(toset([1, 2]))", 3),
        ("alltrue([true, true])", True),
        ("alltrue([])", True),
        ('alltrue(["true", false])', False),
        ("anytrue([false, true])", True),
        ("anytrue([])", False),
        ("tostring(1.5)", "1.5"),
        ("tostring(true)", "true"),
        ("tostring(null)", None),
        ('tonumber("12.5")', 12.5),
        ('tobool("false")', False),
        ('tolist(["a", 1])', ["a", "1"]),
        ('toset(["b", "a", "b"])', ["a", "b"]),
        ('tomap({a = 1, b = "x"})', {"a": "1", "b": "x"}),
        ('legacy_isotime("2006-01-02 15:04")', "2021-03-04 05:06"),
        ("legacy_isotime()", "2021-03-04T05:06:07Z"),
        ('legacy_strftime("%Y-%m-%d %H:%M")', "2021-03-04 05:06"),
        ("timestamp()", "2021-03-04T05:06:07Z"),
        ('cidrsubnets("10.1.0.0/16", 4, 4, 8, 4)',
         ["10.1.0.0/20", "10.1.16.0/20", "10.1.32.0/24", "10.1.48.0/20"]),
        ('cidrsubnets("fd00:fd12:3456:7890::/56", 16, 16)',
         ["fd00:fd12:3456:7800::/72", "fd00:fd12:3456:7800:100::/72"]),
        ('abspath("/a/../b")', "/b"),
        ('pathexpand("~/x")', str(Path.home() / "x")),
    ],
)  # fmt: skip
def test_value(expr: str, want: object) -> None:
    assert ev(expr) == want


def test_tonumber_of_garbage_names_the_problem() -> None:
    assert "a number is required" in err('tonumber("twelve")')


def test_uuidv4_is_a_random_version_4_uuid() -> None:
    a, b = ev("uuidv4()"), ev("uuidv4()")
    assert isinstance(a, str)
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", a)
    assert a != b


def test_bcrypt_hash_verifies_with_go_prefix_and_cost() -> None:
    hashed = ev('bcrypt("secret", 5)')
    assert isinstance(hashed, str)
    assert hashed.startswith("$2a$05$")
    assert bcrypt.checkpw(b"secret", hashed.encode())
    assert "outside allowed range" in err('bcrypt("x", 3)')


def test_base64gzip_round_trips() -> None:
    out = ev('base64gzip("hello")')
    assert isinstance(out, str)
    assert gzip.decompress(base64.b64decode(out)) == b"hello"


def test_filebase64_and_file_relative_to_the_template(tmp_path: Path) -> None:
    (tmp_path / "bin").write_bytes(b"\x00\xff")
    (tmp_path / "t.txt").write_text("hi ${x}\n")
    assert ev('filebase64("bin")', tmp_path) == "AP8="
    assert ev('file("t.txt")', tmp_path) == "hi ${x}\n"
    assert "not valid UTF-8" in err('file("bin")', tmp_path)


def test_templatefile_renders_with_vars_and_functions(tmp_path: Path) -> None:
    (tmp_path / "ks.cfg.tpl").write_text(
        "user ${upper(name)}\n%{ for d in disks ~}\ndisk ${d}\n%{ endfor ~}\nend\n"
    )
    out = ev('templatefile("ks.cfg.tpl", {name = "root", disks = ["sda", "sdb"]})', tmp_path)
    assert out == "user ROOT\ndisk sda\ndisk sdb\nend\n"


def test_templatefile_names_a_missing_variable(tmp_path: Path) -> None:
    (tmp_path / "t.tpl").write_text("a\n${nope}\n")
    message = err('templatefile("t.tpl", {})', tmp_path)
    assert 'vars map does not contain key "nope"' in message
    assert "t.tpl:2:3" in message


def test_templatefile_cannot_recurse(tmp_path: Path) -> None:
    (tmp_path / "t.tpl").write_text('${templatefile("t.tpl", {})}')
    assert 'no function named "templatefile"' in err('templatefile("t.tpl", {})', tmp_path)


def test_fileset_globs_relative_paths(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.sh").write_text("")
    (tmp_path / "a" / "b").mkdir()
    (tmp_path / "a" / "b" / "y.sh").write_text("")
    (tmp_path / "z.txt").write_text("")
    assert ev('fileset(".", "**/*.sh")', tmp_path) == ["a/b/y.sh", "a/x.sh"]
    assert ev('fileset(".", "a/*.sh")', tmp_path) == ["a/x.sh"]
    assert ev('fileset(".", "*.{txt,md}")', tmp_path) == ["z.txt"]


def test_env_is_refused_outside_variable_defaults_with_a_hint() -> None:
    message = err('env("HOME")')
    assert "variable's default" in message


def test_every_function_is_exercised_by_a_test() -> None:
    here = Path(__file__).resolve().parent
    data = here.parents[1] / "data" / "hcl2" / "expressions.txt"
    text = data.read_text() + "".join(p.read_text() for p in here.glob("test_*.py"))
    names = set(standard_functions("/"))
    missing = sorted(n for n in names if not re.search(rf"\b{n}\(", text))
    assert missing == []


def test_textencodebase64_and_back() -> None:
    assert ev('textencodebase64("Hello World", "UTF-16LE")') == "SABlAGwAbABvACAAVwBvAHIAbABkAA=="
    assert ev('textdecodebase64("SABlAGwAbABvACAAVwBvAHIAbABkAA==", "UTF-16LE")') == "Hello World"
    assert "not a supported IANA encoding" in err('textencodebase64("x", "nope")')


def test_rsadecrypt_decrypts_pkcs1v15() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    cipher = base64.b64encode(key.public_key().encrypt(b"secret", padding.PKCS1v15())).decode()
    assert ev(f'rsadecrypt("{cipher}", <<EOF\n{pem}EOF\n)') == "secret"
    assert "illegal base64" in err('rsadecrypt("!!", "x")')
