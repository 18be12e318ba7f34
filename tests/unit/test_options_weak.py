"""Weak typing: JSON values become option values the way Packer's mapstructure decodes them."""

from __future__ import annotations

import pytest

from kiln.options.spec import Duration, QemuImgArgs
from kiln.options.weak import (
    DecodeProblem,
    convert,
    parse_go_int,
    to_bool,
    to_duration,
    to_int,
    to_int_list,
    to_qemu_img_args,
    to_str,
    to_str_list,
    to_str_list_list,
    to_str_map,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("text", "text"),
        (1024, "1024"),
        (-7, "-7"),
        (True, "1"),  # mapstructure: true → "1"
        (False, "0"),
        (None, ""),
        # Go's strconv.FormatFloat(f, 'f', -1, 64): shortest digits, never an exponent.
        (1.0, "1"),
        (1.5, "1.5"),
        (0.1, "0.1"),
        (1e23, "100000000000000000000000"),
        (1e-7, "0.0000001"),
        (-0.0, "-0"),
        (123456789.125, "123456789.125"),
    ],
)
def test_to_str_is_weak(value: object, expected: str) -> None:
    assert to_str("vm_name", value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (["a"], "'vm_name' expected a string, got a list"),
        ({"a": 1}, "'vm_name' expected a string, got an object"),
    ],
)
def test_to_str_rejects_containers(value: object, message: str) -> None:
    with pytest.raises(DecodeProblem) as err:
        to_str("vm_name", value)
    assert str(err.value) == message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1024, 1024),
        ("1024", 1024),
        ("0x10", 16),
        ("0X1f", 31),
        ("017", 15),  # a leading 0 is octal, as in Go's ParseInt(s, 0, 64)
        ("0o17", 15),
        ("0b101", 5),
        ("1_000", 1000),
        ("-12", -12),
        ("+12", 12),
        ("", 0),
        ("0", 0),
        (None, 0),
        (True, 1),
        (False, 0),
        (1024.9, 1024),  # Go truncates
        (-3.9, -3),
        (2**63 - 1, 2**63 - 1),
    ],
)
def test_to_int_is_weak(value: object, expected: int) -> None:
    assert to_int("memory", value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "abc",
            "cannot parse 'memory' as int: strconv.ParseInt: parsing \"abc\": invalid syntax "
            "(expected a whole number such as 1024)",
        ),
        (
            "1.5",
            "cannot parse 'memory' as int: strconv.ParseInt: parsing \"1.5\": invalid syntax "
            "(expected a whole number such as 1024)",
        ),
        (
            "2GB",
            "cannot parse 'memory' as int: strconv.ParseInt: parsing \"2GB\": invalid syntax "
            "(expected a whole number such as 1024)",
        ),
        (
            " 1",
            "cannot parse 'memory' as int: strconv.ParseInt: parsing \" 1\": invalid syntax "
            "(expected a whole number such as 1024)",
        ),
        (
            "99999999999999999999",
            "cannot parse 'memory' as int: strconv.ParseInt: parsing \"99999999999999999999\": "
            "value out of range (integers are 64-bit)",
        ),
        (2**63, f"'memory' expected a 64-bit integer, got {2**63}: value out of range"),
        (1e30, "'memory' expected a 64-bit integer, got 1e+30: value out of range"),
        ([1], "'memory' expected an integer, got a list"),
        ({}, "'memory' expected an integer, got an object"),
    ],
)
def test_to_int_errors(value: object, message: str) -> None:
    with pytest.raises(DecodeProblem) as err:
        to_int("memory", value)
    assert str(err.value) == message


@pytest.mark.parametrize("text", ["_1", "1_", "1__0", "0x", "08", "--1", "1e3", "١٢"])
def test_parse_go_int_rejects_what_go_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_go_int(text)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (False, False),
        ("true", True),
        ("True", True),
        ("TRUE", True),
        ("t", True),
        ("T", True),
        ("1", True),
        ("false", False),
        ("False", False),
        ("FALSE", False),
        ("f", False),
        ("F", False),
        ("0", False),
        ("", False),
        (1, True),
        (0, False),
        (2.5, True),
        (0.0, False),
        (None, False),
    ],
)
def test_to_bool_is_weak(value: object, expected: bool) -> None:
    assert to_bool("headless", value) is expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "yes",
            "cannot parse 'headless' as bool: strconv.ParseBool: parsing \"yes\": invalid "
            "syntax (expected true or false)",
        ),
        (
            "tRuE",
            "cannot parse 'headless' as bool: strconv.ParseBool: parsing \"tRuE\": invalid "
            "syntax (expected true or false)",
        ),
        ([True], "'headless' expected a boolean, got a list"),
    ],
)
def test_to_bool_errors(value: object, message: str) -> None:
    with pytest.raises(DecodeProblem) as err:
        to_bool("headless", value)
    assert str(err.value) == message


@pytest.mark.parametrize(
    ("value", "seconds", "text"),
    [
        ("5s", 5.0, "5s"),
        ("1m30s", 90.0, "1m30s"),
        ("300ms", 0.3, "300ms"),
        ("1h2m3.5s", 3723.5, "1h2m3.5s"),
        ("-1s", -1.0, "-1s"),
        ("0", 0.0, "0"),
        ("", 0.0, "0s"),
        (0, 0.0, "0"),
        (None, 0.0, "0s"),
        ("1.5us", 0.0000015, "1.5us"),
    ],
)
def test_to_duration_reads_go_durations(value: object, seconds: float, text: str) -> None:
    parsed = to_duration("boot_wait", value)
    assert parsed == Duration(pytest.approx(seconds), text)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "abc",
            "error decoding 'boot_wait': time: invalid duration \"abc\" "
            '(expected a duration such as "5s" or "1m30s")',
        ),
        (
            "5",
            "error decoding 'boot_wait': time: missing unit in duration \"5\" "
            '(expected a duration such as "5s" or "1m30s")',
        ),
        (
            "5 s",
            'error decoding \'boot_wait\': time: unknown unit " s" in duration "5 s" '
            '(expected a duration such as "5s" or "1m30s")',
        ),
        # kiln refuses a bare number (Packer would read 5 as five nanoseconds).
        (
            5,
            "error decoding 'boot_wait': the number 5 has no unit: write a duration string "
            'such as "5s" or "1m30s"',
        ),
        (
            1.5,
            "error decoding 'boot_wait': the number 1.5 has no unit: write a duration string "
            'such as "1.5s" or "1m30s"',
        ),
        (True, "'boot_wait' expected a duration string such as \"5s\", got a boolean"),
        (["5s"], "'boot_wait' expected a duration string such as \"5s\", got a list"),
    ],
)
def test_to_duration_errors(value: object, message: str) -> None:
    with pytest.raises(DecodeProblem) as err:
        to_duration("boot_wait", value)
    assert str(err.value) == message


def test_duration_is_false_only_when_zero() -> None:
    assert not Duration(0.0, "0s")
    assert Duration(-1.0, "-1s")
    assert str(Duration(90.0, "1m30s")) == "1m30s"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (["a", "b"], ["a", "b"]),
        ("a", ["a"]),  # a single value becomes a list
        # A string is split on commas: mapstructure's StringToSliceHookFunc(","), one of
        # the decode hooks of Packer's config.Decode (packer-plugin-sdk/template/config).
        ("a.txt,b.txt", ["a.txt", "b.txt"]),
        ("echo a, echo b,", ["echo a", " echo b", ""]),
        ("", []),
        (["a,b", "c"], ["a,b", "c"]),  # items of a real list are kept whole
        (5, ["5"]),
        ([1, True, None, 1.5], ["1", "1", "", "1.5"]),
        ({}, []),  # an empty object is an empty list (mapstructure's weak rule)
        ([], []),
        (None, []),
    ],
)
def test_to_str_list_is_weak(value: object, expected: list[str]) -> None:
    assert to_str_list("floppy_files", value) == expected


def test_to_str_list_errors_name_the_item() -> None:
    with pytest.raises(DecodeProblem) as err:
        to_str_list("floppy_files", ["a", ["b"]])
    assert str(err.value) == "'floppy_files[1]' expected a string, got a list"
    with pytest.raises(DecodeProblem) as err:
        to_str_list("floppy_files", {"a": "b"})
    assert str(err.value) == "'floppy_files' expected a list of strings, got an object"


def test_to_int_list() -> None:
    assert to_int_list("valid_exit_codes", [0, "1", "0x2"]) == [0, 1, 2]
    assert to_int_list("valid_exit_codes", "7") == [7]
    assert to_int_list("valid_exit_codes", "0,2,0x10") == [0, 2, 16]
    assert to_int_list("valid_exit_codes", "") == []
    assert to_int_list("valid_exit_codes", None) == []
    with pytest.raises(DecodeProblem, match=r"'valid_exit_codes\[1\]'"):
        to_int_list("valid_exit_codes", [0, "x"])


def test_to_str_list_list() -> None:
    assert to_str_list_list("qemuargs", [["-m", 1024], "-usb"]) == [["-m", "1024"], ["-usb"]]
    assert to_str_list_list("qemuargs", ["-m,1024"]) == [["-m", "1024"]]  # split, as Packer
    assert to_str_list_list("qemuargs", None) == []
    with pytest.raises(DecodeProblem) as err:
        to_str_list_list("qemuargs", "-m 1024")
    assert str(err.value) == (
        '\'qemuargs\' expected a list of lists of strings, e.g. [["-m", "1024M"]], got a string'
    )
    with pytest.raises(DecodeProblem, match=r"'qemuargs\[0\]\[0\]' expected a string"):
        to_str_list_list("qemuargs", [[{"a": 1}]])


def test_to_str_map() -> None:
    assert to_str_map("http_content", {"/a": "x", "/b": 2}) == {"/a": "x", "/b": "2"}
    assert to_str_map("http_content", []) == {}  # empty list → empty map
    assert to_str_map("http_content", None) == {}
    with pytest.raises(DecodeProblem) as err:
        to_str_map("http_content", ["a"])
    assert str(err.value) == "'http_content' expected an object of strings, got a list"
    with pytest.raises(DecodeProblem, match=r"'http_content\./a' expected a string"):
        to_str_map("http_content", {"/a": ["x"]})


def test_to_qemu_img_args() -> None:
    assert to_qemu_img_args("qemu_img_args", {"convert": "-c", "resize": ["--shrink"]}) == (
        QemuImgArgs(convert=("-c",), resize=("--shrink",))
    )
    assert to_qemu_img_args("qemu_img_args", None) == QemuImgArgs()
    assert to_qemu_img_args("qemu_img_args", []) == QemuImgArgs()
    with pytest.raises(DecodeProblem) as err:
        to_qemu_img_args("qemu_img_args", {"convrt": ["-c"], "bogus": 1})
    assert str(err.value) == (
        "'qemu_img_args' has unknown key(s) 'bogus', 'convrt'; allowed: convert, create, resize"
    )
    with pytest.raises(DecodeProblem) as err:
        to_qemu_img_args("qemu_img_args", ["-c"])
    assert str(err.value) == (
        "'qemu_img_args' expected an object with 'convert', 'create' and/or 'resize' lists, "
        "got a list"
    )


def test_convert_dispatches_on_the_declared_type() -> None:
    assert convert("x", str, 1) == "1"
    assert convert("x", int, "2") == 2
    assert convert("x", bool, "t") is True
    assert convert("x", Duration, "1s") == Duration(1.0, "1s")
    assert convert("x", list[str], "a") == ["a"]
    assert convert("x", list[int], "3") == [3]
    assert convert("x", list[list[str]], [["a"]]) == [["a"]]
    assert convert("x", dict[str, str], {"k": 1}) == {"k": "1"}
    assert convert("x", QemuImgArgs, {}) == QemuImgArgs()
    with pytest.raises(TypeError, match="undecodable type"):
        convert("x", float, 1.0)


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
def test_to_int_rejects_non_finite_floats(value: float) -> None:
    with pytest.raises(DecodeProblem, match="'memory' expected an integer, got"):
        to_int("memory", value)
