"""HCL2 option values are typed as Packer's HCL2 specs type them (cty's conversions), not
with the weak typing of JSON templates; mismatches are worded as Packer 1.6.6 words them
(each text below is what `packer validate` printed for the same attribute)."""

from __future__ import annotations

import pytest

from kiln.options.hcltypes import hcl_value
from kiln.options.spec import Duration, QemuImgArgs
from kiln.options.weak import DecodeProblem


@pytest.mark.parametrize(
    ("typ", "value", "expected"),
    [
        (str, "x", "x"),
        (str, 5, 5),  # the weak decoding formats numbers as cty does
        (str, True, "true"),  # cty: "true" (JSON's weak decoding: "1")
        (int, "2", 2),
        (int, "1e3", 1000),
        (int, 2.0, 2),
        (bool, "false", False),
        (bool, True, True),
        (list[str], ["a", 1, False], ["a", 1, "false"]),
        (list[list[str]], [["-m", 512]], [["-m", 512]]),
        (dict[str, str], {"a": 1}, {"a": 1}),
        (Duration, "5s", "5s"),
        (int, None, None),
        (QemuImgArgs, {"convert": ["-o"]}, {"convert": ["-o"]}),  # decoded as in JSON
    ],
)
def test_values_cty_converts(typ: object, value: object, expected: object) -> None:
    assert hcl_value("k", typ, value) == expected


@pytest.mark.parametrize(
    ("typ", "value", "message"),
    [
        (list[str], "x", 'Inappropriate value for attribute "k": list of string required.'),
        (list[str], "a,b", 'Inappropriate value for attribute "k": list of string required.'),
        (list[str], [["a"]], 'Inappropriate value for attribute "k": element 0: string required.'),
        (list[list[str]], [["-m", ["x"]]],
         'Inappropriate value for attribute "k": element 0: element 1: string required.'),
        (list[list[str]], 5, 'Inappropriate value for attribute "k": list of list of string '
         "required."),
        (int, "lots", 'Inappropriate value for attribute "k": a number is required.'),
        (int, "0x10", 'Inappropriate value for attribute "k": a number is required.'),
        (int, " 2", 'Inappropriate value for attribute "k": a number is required.'),
        (int, True, 'Inappropriate value for attribute "k": number required.'),
        (int, 1.5, 'Inappropriate value for attribute "k": a whole number is required.'),
        (bool, "perhaps", 'Inappropriate value for attribute "k": a bool is required.'),
        (bool, 1, 'Inappropriate value for attribute "k": bool required.'),
        (str, ["a"], 'Inappropriate value for attribute "k": string required.'),
        (str, {"a": 1}, 'Inappropriate value for attribute "k": string required.'),
        (dict[str, str], "x", 'Inappropriate value for attribute "k": map of string required.'),
        (dict[str, str], {"a": ["x"]},
         'Inappropriate value for attribute "k": element "a": string required.'),
    ],
)  # fmt: skip
def test_mismatches_use_packers_words(typ: object, value: object, message: str) -> None:
    with pytest.raises(DecodeProblem) as info:
        hcl_value("k", typ, value)
    assert str(info.value) == message


def test_hcl_typed_converts_the_options_a_table_declares() -> None:
    """What a provisioner decodes again at run time: `true` for a string stays "true" (the
    weak decoding would make it "1"); a value that does not convert, and a key the table
    does not know, stay as they are for the decoding to report."""
    from kiln.options.hcltypes import hcl_typed
    from kiln.provisioners.config import ShellConfig

    raw = {"inline": [True, 2], "expect_disconnect": "true", "nope": 1, "environment_vars": "x"}
    assert hcl_typed(raw, [ShellConfig]) == {
        "inline": ["true", 2],
        "expect_disconnect": True,
        "nope": 1,
        "environment_vars": "x",
    }
