"""`${...}` references: parsing, rendering, the `$${` escape and unknown values."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

from mlops_decl.config.expressions import (
    UNKNOWN,
    Ref,
    RefSyntaxError,
    contains_unknown,
    has_refs,
    iter_refs,
    parse_ref,
    render,
    strip_unknown,
    unknown_mask,
)

VALUES: dict[str, Any] = {
    "var.n": 3,
    "var.f": 0.25,
    "var.flag": True,
    "var.off": False,
    "var.s": "text",
    "var.items": ["a", "b"],
    "var.m": {"b": 2, "a": 1},
    "var.nothing": None,
    "dataset.d": "d-id",
    "dataset.d.version": "abc123",
    "endpoint.e.url": UNKNOWN,
}


def lookup(ref: Ref) -> Any:
    return VALUES[str(ref)]


def test_parse_ref() -> None:
    assert parse_ref("var.x") == Ref("var", "x")
    assert parse_ref("dataset.d") == Ref("dataset", "d")
    ref = parse_ref("endpoint.e.url")
    assert ref == Ref("endpoint", "e", ("url",))
    assert ref.address == "endpoint.e" and str(ref) == "endpoint.e.url"
    assert parse_ref("model.my-model.latest_version").name == "my-model"


@pytest.mark.parametrize("text", ["dataset", "", "dataset.", ".x", "a..b", "a.b c", "1x.y", "a.b[0]"])
def test_malformed_refs(text: str) -> None:
    with pytest.raises(RefSyntaxError):
        parse_ref(text)


@pytest.mark.parametrize(
    ("ref", "value"),
    [
        ("var.n", 3),
        ("var.f", 0.25),
        ("var.flag", True),
        ("var.items", ["a", "b"]),
        ("var.m", {"b": 2, "a": 1}),
        ("var.nothing", None),
        ("dataset.d", "d-id"),
    ],
)
def test_whole_string_reference_keeps_its_type(ref: str, value: Any) -> None:
    assert render("${" + ref + "}", lookup) == value
    assert render("${ " + ref + " }", lookup) == value  # spaces inside the braces


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("n=${var.n}", "n=3"),
        ("${var.n}${var.n}", "33"),
        ("f=${var.f}", "f=0.25"),
        ("${var.flag}/${var.off}", "true/false"),
        ("[${var.nothing}]", "[]"),
        ("s3://bucket/${dataset.d}/${dataset.d.version}.csv", "s3://bucket/d-id/abc123.csv"),
        ("m=${var.m}", 'm={"a": 1, "b": 2}'),
        ("l=${var.items}", 'l=["a", "b"]'),
        ("no references", "no references"),
    ],
)
def test_embedded_references_are_formatted_in(template: str, expected: str) -> None:
    assert render(template, lookup) == expected


def test_render_walks_nested_values() -> None:
    body = {"a": ["${var.n}", {"b": "x-${var.s}"}], "c": 1, "d": None}
    assert render(body, lookup) == {"a": [3, {"b": "x-text"}], "c": 1, "d": None}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("$${var.n}", "${var.n}"),
        ("cost: $${var.n} is ${var.n}", "cost: ${var.n} is 3"),
        ("literal $${not a ref}", "literal ${not a ref}"),
        ("a $ sign and $${", "a $ sign and ${"),
    ],
)
def test_dollar_dollar_escape_writes_a_literal(template: str, expected: str) -> None:
    assert render(template, lookup) == expected


def test_escaped_references_are_not_references() -> None:
    assert not has_refs("$${var.n}")
    assert list(iter_refs({"a": "$${var.n}"})) == []
    assert has_refs("x ${var.n}")


def test_iter_refs_yields_paths() -> None:
    body = {"a": "${var.n}", "b": [{"c": "x ${dataset.d} ${var.s}"}], "d": 3}
    assert list(iter_refs(body)) == [
        ("var.n", ("a",)),
        ("dataset.d", ("b", 0, "c")),
        ("var.s", ("b", 0, "c")),
    ]


def test_unknown_whole_string_stays_unknown() -> None:
    assert render("${endpoint.e.url}", lookup) is UNKNOWN


def test_unknown_inside_a_longer_string_makes_it_unknown() -> None:
    assert render("url=${endpoint.e.url}/predict", lookup) is UNKNOWN
    assert render("${var.n}-${endpoint.e.url}", lookup) is UNKNOWN


def test_unknown_propagates_through_structures() -> None:
    out = render({"a": {"b": ["${endpoint.e.url}", "${var.n}"]}, "c": "${var.s}"}, lookup)
    assert out == {"a": {"b": [UNKNOWN, 3]}, "c": "text"}
    assert contains_unknown(out)
    assert not contains_unknown(render({"c": "${var.s}"}, lookup))
    assert unknown_mask(out) == {"a": {"b": [True, False]}}
    assert strip_unknown(out) == {"a": {"b": [None, 3]}, "c": "text"}
    assert strip_unknown(out, "?") == {"a": {"b": ["?", 3]}, "c": "text"}


def test_unknown_embedding_a_structure_with_an_unknown() -> None:
    VALUES_WITH = {**VALUES, "var.partial": {"x": UNKNOWN}}
    assert render("v=${var.partial}", lambda r: VALUES_WITH[str(r)]) is UNKNOWN


def test_unknown_is_a_singleton_that_survives_pickling() -> None:
    assert pickle.loads(pickle.dumps(UNKNOWN)) is UNKNOWN
    assert pickle.loads(pickle.dumps({"a": [UNKNOWN]}))["a"][0] is UNKNOWN
    assert repr(UNKNOWN) == "(known after apply)"
    assert type(UNKNOWN)() is UNKNOWN
