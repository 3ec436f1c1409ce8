"""`mlops-decl fmt`: canonical layout, comments kept, idempotent, never changes the meaning."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from mlops_decl.cli.commands.fmt import format_text
from mlops_decl.diagnostics import DiagnosticError, Source

MESSY = """\
# yaml-language-server: $schema=../schemas/resources.schema.json
# the team's datasets
resources:
    dataset:   # raw files
        tx: {uri: data/tx.csv,   format: csv}   # flow style stays flow
        labels:
           uri: "data/labels.csv"     # quotes are kept
           format: 'csv'
    feature_group:
      customer:
        source: ${dataset.tx}
        entity:
        - customer_id
        features:
            - {name: tenure, dtype: int}
            # a comment between items
            - name: plan
              dtype: string
        online: yes
    model:
      churn: {description: "A description long enough to go well past one hundred characters, which must not be folded"}
    registry_policy:
      gates_for_churn:
        model: ${model.churn}
        gates:
          - {type: metric_threshold, metric: auc, min: 0.70}
          - type: manual_approval
            approvers: 2
    monitor:
      drift:
        baseline: "${dataset.tx}"
        features: [tenure, plan]
        threshold: 1e-1
        schedule: '@hourly'
        description: |
          Checks drift
            every hour.
"""


def _load(text: str) -> object:
    return yaml.safe_load(text)


def test_keeps_every_comment() -> None:
    out = format_text(MESSY, "ml.yaml")
    for line in MESSY.splitlines():
        if "#" in line and "${" not in line:
            comment = line[line.index("#") :].strip()
            assert comment in out, comment


def test_canonical_layout() -> None:
    out = format_text(MESSY, "ml.yaml")
    assert "\n  dataset:" in out and "\n    tx: {uri: data/tx.csv, format: csv}" in out
    assert "\n      entity:\n        - customer_id\n" in out  # sequences indented under their key
    assert '"data/labels.csv"' in out and "'csv'" in out  # quoting as written
    assert max(len(line) for line in out.splitlines()) > 100  # long lines are not folded


def test_is_idempotent() -> None:
    once = format_text(MESSY, "ml.yaml")
    assert format_text(once, "ml.yaml") == once


@pytest.mark.parametrize(
    "text",
    [
        MESSY,
        "a: &x {b: 1}\nc: *x\n",
        "n: 0.10\ne: 1e3\no: 0o17\nh: 0x1f\nb: yes\nnull_: ~\nd: 2024-01-01\ns: '010'\n",
        "multi: this is\n  folded text\nlit: |\n  keep\n   this\n",
        "k: 'it''s'\nq: \"tab\\there\"\n",
        "empty_map: {}\nempty_list: []\nnested: [[1, 2], {a: [3]}]\n",
    ],
)
def test_never_changes_the_meaning(text: str) -> None:
    out = format_text(text, "f.yaml")
    assert _load(out) == _load(text)
    assert format_text(out, "f.yaml") == out


def test_examples_keep_their_meaning() -> None:
    examples = Path(__file__).resolve().parents[1] / "examples"
    for path in sorted(examples.rglob("*.yaml")):
        if any(part.startswith(".") for part in path.relative_to(examples).parts):
            continue
        text = path.read_text()
        out = format_text(text, path.name)
        assert _load(out) == _load(text), path
        assert format_text(out, path.name) == out, path


def test_comment_only_and_empty_files() -> None:
    assert format_text("# only a comment\n", "f.yaml") == "# only a comment\n"
    assert format_text("", "f.yaml") == ""


def test_syntax_error_is_a_positioned_diagnostic() -> None:
    with pytest.raises(DiagnosticError) as info:
        format_text("a:\n  b: {c: 1\n  d: 2\n", "f.yaml")
    (diag,) = info.value.diagnostics
    assert diag.source == Source("f.yaml", 2, 6)


def test_check_then_format(project: Path, run_cli) -> None:
    messy = project / "extra.yaml"
    messy.write_text("resources:\n    model:\n        m:   {description: x}   # keep me\n")
    before = messy.read_text()
    rc, out, err = run_cli(["fmt", "--check"], project)
    assert rc == 1, err
    assert out.splitlines() == ["extra.yaml"]  # the quickstart itself is already formatted
    assert messy.read_text() == before  # --check writes nothing

    rc, out, err = run_cli(["fmt"], project)
    assert rc == 0, err
    assert out.splitlines() == ["extra.yaml"]
    after = messy.read_text()
    # two-space indentation; a trailing comment keeps its column (ruamel's rule)
    assert re.fullmatch(r"resources:\n  model:\n    m: \{description: x\} +# keep me\n", after), after
    assert _load(messy.read_text()) == _load(before)

    rc, out, err = run_cli(["fmt", "--check"], project)
    assert (rc, out) == (0, ""), err
    rc, out, _ = run_cli(["fmt"], project)
    assert (rc, out) == (0, "")


def test_diff_and_explicit_paths(project: Path, run_cli) -> None:
    (project / "sub").mkdir()
    target = project / "sub" / "x.yaml"
    target.write_text("a:\n    b: 1\n")
    (project / "prod.vars.yaml").write_text("replicas:    2\n")
    rc, out, err = run_cli(["fmt", "-check", "-diff", "sub"], project)
    assert rc == 1, err
    assert "-    b: 1\n+  b: 1" in out
    rc, out, err = run_cli(["fmt", "prod.vars.yaml"], project)
    assert (rc, out.strip()) == (0, "prod.vars.yaml"), err
    assert (project / "prod.vars.yaml").read_text() == "replicas: 2\n"


def test_errors_exit_1_without_touching_files(project: Path, run_cli) -> None:
    bad = project / "bad.yaml"
    bad.write_text("a:\n\tb: 1\n")
    other = project / "other.yaml"
    other.write_text("x:    1\n")
    rc, out, err = run_cli(["fmt"], project)
    assert rc == 1
    assert "Traceback" not in err
    assert [line for line in err.splitlines() if line.startswith("Error:")] == [
        "Error: bad.yaml:2:1: YAML syntax error: a tab character; YAML indents with spaces only"
    ]
    assert bad.read_text() == "a:\n\tb: 1\n"
    assert other.read_text() == "x: 1\n"  # the good file is still formatted

    rc, _, err = run_cli(["fmt", "missing.yaml"], project)
    assert rc == 1 and "missing.yaml: no such file or directory" in err and "Traceback" not in err
