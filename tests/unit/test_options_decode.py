"""`decode_sections`: keys to option sets, unknown keys, comments, aliases, Go zero values."""

# ruff: noqa: RUF009  (`option(...)` declares a dataclass field, as in the real tables)
from __future__ import annotations

from dataclasses import dataclass

import pytest

from kiln.options.decode import EXERCISED, decode_sections, replace
from kiln.options.spec import Duration, option, option_specs
from kiln.suggest import closest, did_you_mean

WARN_OLD = "old_port is deprecated; use port"


@dataclass
class Net:
    port: int = option(2222, section="net", help="A port.", aliases=(("old_port", WARN_OLD),))
    name: str = option("default-name", section="net", help="A name.")
    wait: Duration = option(Duration(10.0, "10s"), section="net", help="A wait.")
    tags: list[str] = option(section="net", factory=lambda: ["a"], help="Tags.")
    enabled: bool = option(False, section="net", help="A switch.")
    count: int = option(0, section="net", help="Zero by default.")


@dataclass
class Disk:
    size: str = option("40960M", section="disk", help="A size.")


def test_keys_go_to_the_set_that_declares_them() -> None:
    result = decode_sections({"port": "8080", "size": "10G"}, [Net, Disk])
    assert result.errors == []
    assert result.get(Net).port == 8080
    assert result.get(Disk).size == "10G"
    assert result.explicit == {"port", "size"}


def test_unset_options_keep_their_defaults() -> None:
    net = decode_sections({}, [Net]).get(Net)
    assert (net.port, net.name, net.wait, net.tags, net.enabled, net.count) == (
        2222,
        "default-name",
        Duration(10.0, "10s"),
        ["a"],
        False,
        0,
    )


def test_unknown_keys_are_errors_with_a_suggestion() -> None:
    result = decode_sections({"prot": 1, "zzz_unrelated": 2}, [Net, Disk])
    assert result.errors == [
        'unknown configuration key: \'"prot"\' — did you mean "port"?',
        "unknown configuration key: '\"zzz_unrelated\"'",
    ]


def test_reserved_keys_are_suggested_but_not_decoded() -> None:
    result = decode_sections({"type": "qemu", "nmae": "x"}, [Net], reserved=("type", "name"))
    assert result.errors == ['unknown configuration key: \'"nmae"\' — did you mean "name"?']


def test_underscore_keys_are_comments() -> None:
    result = decode_sections({"_comment": ["anything"], "_": 1}, [Net])
    assert result.errors == []
    assert result.explicit == set()


def test_every_bad_value_is_reported() -> None:
    result = decode_sections({"port": "x", "wait": "5", "tags": {"a": 1}}, [Net])
    assert len(result.errors) == 3
    assert result.errors[0].startswith("cannot parse 'port' as int")
    assert result.errors[1].startswith("error decoding 'wait': time: missing unit")
    assert result.errors[2] == "'tags' expected a list of strings, got an object"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"port": 0}, 2222),
        ({"port": ""}, 2222),
        ({"name": ""}, "default-name"),
        ({"wait": "0s"}, Duration(10.0, "10s")),
        ({"tags": []}, ["a"]),
        ({"tags": None}, ["a"]),
    ],
)
def test_an_explicit_zero_means_the_default(raw: dict[str, object], expected: object) -> None:
    (key,) = raw
    assert getattr(decode_sections(raw, [Net]).get(Net), key) == expected


def test_booleans_and_zero_defaults_keep_explicit_zeros() -> None:
    net = decode_sections({"enabled": False, "count": 0}, [Net]).get(Net)
    assert net.enabled is False
    assert net.count == 0


def test_a_deprecated_alias_warns_and_wins_whatever_the_key_order() -> None:
    for raw in ({"port": 1, "old_port": 2}, {"old_port": 2, "port": 1}):
        result = decode_sections(raw, [Net])
        assert result.get(Net).port == 2
        assert result.warnings == [WARN_OLD]
        assert result.explicit == {"port"}


def test_a_zero_alias_is_ignored_like_packer() -> None:
    result = decode_sections({"port": 1, "old_port": 0}, [Net])
    assert result.get(Net).port == 1
    assert result.warnings == []


def test_a_bad_alias_value_is_an_error_naming_the_alias() -> None:
    result = decode_sections({"old_port": "x", "port": 5}, [Net])
    assert result.get(Net).port == 5
    assert result.warnings == []
    assert result.errors[0].startswith("cannot parse 'old_port' as int")


def test_decoding_records_exercised_options() -> None:
    decode_sections({"size": "1G"}, [Disk])
    assert ("Disk", "size") in EXERCISED


def test_option_specs_lists_rows_in_declaration_order() -> None:
    rows = list(option_specs(Net))
    assert [r.name for r in rows] == ["port", "name", "wait", "tags", "enabled", "count"]
    assert rows[0].spec.aliases == (("old_port", WARN_OLD),)
    assert rows[3].default == ["a"]
    assert rows[0].owner is Net


def test_replace_is_dataclasses_replace() -> None:
    net = Net()
    assert replace(net, port=1).port == 1
    assert net.port == 2222


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("disk_sise", "disk_size"),
        ("ssh_usrname", "ssh_username"),
        ("Disk_Size", "disk_size"),
        ("disk-size", "disk_size"),
        ("completely_different", None),
    ],
)
def test_closest(name: str, expected: str | None) -> None:
    assert closest(name, ["disk_size", "ssh_username", "memory"]) == expected


def test_did_you_mean_text() -> None:
    assert did_you_mean("memroy", ["memory"]) == ' — did you mean "memory"?'
    assert did_you_mean("x", []) == ""


def test_plain_dataclass_fields_are_not_options() -> None:
    @dataclass
    class Mixed:
        size: str = option("1G", section="disk", help="A size.")
        internal: int = 0

    assert [r.name for r in option_specs(Mixed)] == ["size"]
    result = decode_sections({"internal": 5}, [Mixed])
    assert result.errors == ["unknown configuration key: '\"internal\"'"]


def test_an_explicit_zero_takes_a_fresh_copy_of_a_list_default() -> None:
    from kiln.provisioners.config import ShellConfig

    first = decode_sections({"valid_exit_codes": []}, [ShellConfig]).get(ShellConfig)
    second = decode_sections({"valid_exit_codes": []}, [ShellConfig]).get(ShellConfig)
    assert first.valid_exit_codes == second.valid_exit_codes == [0]
    first.valid_exit_codes.append(7)  # one config's list is its own
    assert second.valid_exit_codes == [0]
    row = next(r for r in option_specs(ShellConfig) if r.name == "valid_exit_codes")
    assert row.default == [0]


def test_option_rows_are_built_once_per_class() -> None:
    from kiln.provisioners.config import ShellConfig

    assert option_specs(ShellConfig) is option_specs(ShellConfig)
