"""YAML parsing keeps where every value came from, and bad input is a positioned diagnostic."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_decl.config.yaml_source import parse_yaml, read_yaml_file
from mlops_decl.diagnostics import DiagnosticError, Source

DOC = """\
a:
  b: [1, {c: x}]
  d:
    - e: 2
      f: 2024-01-01
  g: 0x10
  h: ~
  j: 1.5
  k: "7"
"""


def _error(text: str, file: str = "f.yaml") -> tuple[Source, str, str]:
    with pytest.raises(DiagnosticError) as info:
        parse_yaml(text, file)
    (diag,) = info.value.diagnostics
    assert diag.source is not None
    return diag.source, diag.summary, diag.hint or ""


def test_values_keep_their_yaml_types() -> None:
    data, _ = parse_yaml(DOC, "f.yaml")
    assert data == {
        "a": {
            "b": [1, {"c": "x"}],
            "d": [{"e": 2, "f": "2024-01-01"}],  # dates stay text; the models decide
            "g": 16,
            "h": None,
            "j": 1.5,
            "k": "7",
        }
    }


def test_value_and_key_positions() -> None:
    _, pos = parse_yaml(DOC, "f.yaml")
    assert pos.source(("a", "b")) == Source("f.yaml", 2, 6)
    assert pos.source(("a", "b"), key=True) == Source("f.yaml", 2, 3)
    assert pos.source(("a", "b", 1)) == Source("f.yaml", 2, 10)
    assert pos.source(("a", "b", 1, "c")) == Source("f.yaml", 2, 14)
    assert pos.source(("a", "b", 1, "c"), key=True) == Source("f.yaml", 2, 11)
    assert pos.source(("a", "d", 0, "f")) == Source("f.yaml", 5, 10)
    assert pos.source(("a", "d", 0, "f"), key=True) == Source("f.yaml", 5, 7)
    # a list item has no key: its key position is the item's own
    assert pos.source(("a", "d", 0), key=True) == Source("f.yaml", 4, 7)


def test_unknown_path_falls_back_to_nearest_ancestor() -> None:
    _, pos = parse_yaml(DOC, "f.yaml")
    assert pos.source(("a", "d", 0, "missing", "deeper")) == Source("f.yaml", 4, 7)
    assert pos.source(("a", "nope"), key=True) == Source("f.yaml", 1, 1)
    assert pos.source(("elsewhere",)) == Source("f.yaml", 1, 1)


def test_empty_and_comment_only_documents_are_none() -> None:
    assert parse_yaml("", "f.yaml")[0] is None
    assert parse_yaml("# nothing\n", "f.yaml")[0] is None


def test_duplicate_key_points_at_the_second_and_names_the_first() -> None:
    src, summary, hint = _error("x: 1\ny:\n  a: 1\n  b: 2\n  a: 3\n")
    assert src == Source("f.yaml", 5, 3)
    assert "duplicate key `a`" in summary and "line 3" in summary
    assert hint


def test_duplicate_key_in_flow_mapping() -> None:
    src, summary, _ = _error("x: {a: 1, a: 2}\n")
    assert src == Source("f.yaml", 1, 11)
    assert "duplicate key `a`" in summary


def test_same_key_in_different_mappings_is_fine() -> None:
    data, _ = parse_yaml("x: {a: 1}\ny: {a: 2}\n", "f.yaml")
    assert data == {"x": {"a": 1}, "y": {"a": 2}}


def _nested_lists(depth: int) -> str:
    return "v: " + "[" * depth + "]" * depth + "\n"


def test_depth_limit() -> None:
    assert parse_yaml(_nested_lists(60), "f.yaml")[0] is not None
    src, summary, hint = _error(_nested_lists(80))
    assert "deeper than 64" in summary
    assert src.file == "f.yaml" and src.line == 1
    assert "flatten" in hint


def _pyyaml_limits_depth() -> bool:
    import yaml

    try:
        list(yaml.parse("[" * 5000 + "]" * 5000, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))
    except yaml.YAMLError:
        return True
    return False


@pytest.mark.parametrize("depth", [1_000, 200_000])
def test_depth_limit_same_position_on_both_paths(depth: int) -> None:
    """Very deep input is refused before libyaml's recursive composer (which would crash)."""
    for text, column in [
        (_nested_lists(depth), 68),
        ("- " * depth + "x\n", 131),
        ("v: " + "{a: " * depth + "}" * depth + "\n", 260),
    ]:
        src, summary, _ = _error(text)
        assert "deeper than 64" in summary
        assert src.line == 1
        if not _pyyaml_limits_depth():  # PyYAML >= 6.0.4 stops first, at the end of the openers
            assert src.column == column


def test_alias_expansion_is_bounded() -> None:
    lines = ['a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, 9):
        prev = chr(ord("a") + i - 1)
        cur = chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 10) + "]")
    _, summary, hint = _error("\n".join(lines) + "\n")
    assert "alias" in summary and "anchors" in hint


def test_small_aliases_still_work() -> None:
    data, _ = parse_yaml("a: &x {b: 1}\nc: *x\n", "f.yaml")
    assert data == {"a": {"b": 1}, "c": {"b": 1}}


def test_merge_keys_are_refused() -> None:
    src, summary, _ = _error("base: &b {x: 1}\nother:\n  <<: *b\n  y: 2\n")
    assert src == Source("f.yaml", 3, 3)
    assert "plain string" in summary


def test_non_string_keys_are_refused() -> None:
    src, summary, _ = _error("? [a, b]\n: 1\n")
    assert src.line == 1 and "plain string" in summary


@pytest.mark.parametrize(
    ("text", "at", "says"),
    [
        ("a:\n\tb: 1\n", (2, 1), "tab character"),
        ("a:\n  b: 1\n  \tc: 1\n", (3, 3), "tab character"),
        ("a: {b: 1\nc: 2\n", (1, 4), "`{` is not closed"),
        ("a: [1, 2\nc: 2\n", (1, 4), "`[` is not closed"),
        ("a: {\n  b: c\n  d: e\n}\n", (3, 4), "did not find expected ',' or '}'"),
        ("a: 'abc\nb: 1\n", (1, 4), "quoted string is never closed"),
        ('a: "abc\nb: 1\n', (1, 4), "quoted string is never closed"),
        ("a: b: c\n", (1, 5), "mapping values are not allowed"),
        ("a: 1\n---\nb: 2\n", (2, 1), "second YAML document"),
        ("a:\n  - x\n  y: 1\n", (3, 3), "YAML syntax error"),
        ("a: @x\n", (1, 4), "YAML syntax error"),
    ],
)
def test_syntax_errors_are_positioned(text: str, at: tuple[int, int], says: str) -> None:
    src, summary, hint = _error(text)
    assert (src.line, src.column) == at, summary
    assert says in summary
    assert hint


@pytest.mark.parametrize(
    ("text", "at", "quoted"),
    [
        ("e: {model: ${model.m}, v: 1}\n", (1, 12), '"${model.m}"'),
        ("e: [a, ${model.m}]\n", (1, 8), '"${model.m}"'),
        ("e: {uri: data/${var.name}.csv}\n", (1, 10), '"data/${var.name}'),
        ('e: ["${a.b}", ${c.d}]\n', (1, 15), '"${c.d}"'),
    ],
)
def test_unquoted_reference_in_flow_style(text: str, at: tuple[int, int], quoted: str) -> None:
    src, summary, hint = _error(text)
    assert (src.line, src.column) == at
    assert "must be quoted" in summary
    assert quoted in hint


def test_references_outside_flow_style_need_no_quotes() -> None:
    assert parse_yaml("e: ${x.y}\nf: a-${x.y}\n", "f.yaml")[0] == {"e": "${x.y}", "f": "a-${x.y}"}


def test_non_utf8_reports_line_and_character_column(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_bytes("a: 1\nb: \u00e9t\u00e9 ".encode() + b"\xff\n")
    with pytest.raises(DiagnosticError) as info:
        read_yaml_file(path, "f.yaml")
    (diag,) = info.value.diagnostics
    # "b: été " is 7 characters (9 bytes): the bad byte is the 8th character of line 2
    assert diag.source == Source("f.yaml", 2, 8)
    assert "UTF-8" in diag.summary and "0xff" in diag.summary


def test_byte_order_mark_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_bytes(b"\xef\xbb\xbfa: 1\n")
    data, pos = read_yaml_file(path, "f.yaml")
    assert data == {"a": 1}
    assert pos.source(("a",), key=True) == Source("f.yaml", 1, 1)


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(DiagnosticError) as info:
        read_yaml_file(tmp_path / "missing.yaml", "missing.yaml")
    assert "cannot read missing.yaml" in info.value.diagnostics[0].summary


def test_large_block_style_files_are_not_parsed_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    """Block nesting is bounded by the lines' leads, so a big block-style file (10,000 lines)
    needs no event walk before composing; deep flow nesting still gets one (tests above)."""
    import yaml

    from mlops_decl.config import yaml_source

    text = "resources:\n  dataset:\n" + "".join(
        f"    d{i}:\n      uri: data/d{i}.csv\n      description: after ${{dataset.d{i - 1}.version}}\n"
        for i in range(1, 5000)
    )
    walked = []
    parse = yaml.parse
    monkeypatch.setattr(yaml_source.yaml, "parse", lambda *a, **k: walked.append(1) or parse(*a, **k))
    data, _ = yaml_source.parse_yaml(text, "big.yaml")
    assert len(data["resources"]["dataset"]) == 4999 and walked == []
    _error(_nested_lists(6000))
    assert walked == [1]
