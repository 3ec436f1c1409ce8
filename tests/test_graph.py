"""The dependency graph: edges from references and depends_on, cycles, dot and mermaid."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_decl.config.project import load_project
from mlops_decl.diagnostics import DiagnosticError, Source
from mlops_decl.graph import Graph
from mlops_decl.workspace import graph_of

CONFIG = """\
resources:
  dataset:
    raw: {uri: raw.csv}
    labels: {uri: labels.csv}
  feature_group:
    fg:
      source: ${dataset.raw}
      entity: [id]
      features: [{name: a, dtype: int}]
  model:
    m: {description: "trained on ${dataset.raw.version} (${var.note})"}
  training_pipeline:
    t:
      inputs: ["${feature_group.fg}"]
      labels: ${dataset.labels}
      label: y
      estimator: sklearn.linear_model.LogisticRegression
      registers: ${model.m}
  endpoint:
    e:
      model: ${model.m}
      depends_on: [training_pipeline.t, "${dataset.labels}"]
"""


def _graph(tmp_path: Path, config: str = CONFIG) -> Graph:
    (tmp_path / "mlops.yaml").write_text("project: t\nvariables:\n  note: {default: x}\n")
    (tmp_path / "ml.yaml").write_text(config)
    return graph_of(load_project(tmp_path))


def test_edges_from_references_and_depends_on(tmp_path: Path) -> None:
    g = _graph(tmp_path)
    assert g.edges == [
        ("dataset.labels", "endpoint.e"),
        ("dataset.labels", "training_pipeline.t"),
        ("dataset.raw", "feature_group.fg"),
        ("dataset.raw", "model.m"),  # an attribute reference inside a longer string
        ("feature_group.fg", "training_pipeline.t"),  # a reference inside a list
        ("model.m", "endpoint.e"),
        ("model.m", "training_pipeline.t"),
        ("training_pipeline.t", "endpoint.e"),  # depends_on, bare and as ${...}
    ]
    assert g.dependencies("endpoint.e") == ["dataset.labels", "model.m", "training_pipeline.t"]
    assert g.dependents("dataset.raw") == ["feature_group.fg", "model.m"]
    assert g.dependencies("dataset.raw") == []


def test_edge_sources_point_at_the_reference(tmp_path: Path) -> None:
    g = _graph(tmp_path)
    assert g.edge_sources[("dataset.raw", "feature_group.fg")] == Source("ml.yaml", 7, 15)
    assert g.edge_sources[("training_pipeline.t", "endpoint.e")] == Source("ml.yaml", 22, 20)


def test_order_is_a_creation_order(tmp_path: Path) -> None:
    g = _graph(tmp_path)
    order = g.order()
    assert sorted(order) == g.nodes
    for a, b in g.edges:
        assert order.index(a) < order.index(b)
    assert order[0] == "dataset.labels"  # among ready nodes, alphabetical


def test_with_dependencies_and_dependents(tmp_path: Path) -> None:
    g = _graph(tmp_path)
    assert g.with_dependencies(["training_pipeline.t"]) == {
        "training_pipeline.t",
        "feature_group.fg",
        "dataset.raw",
        "dataset.labels",
        "model.m",
    }
    assert g.with_dependents(["feature_group.fg"]) == {
        "feature_group.fg",
        "training_pipeline.t",
        "endpoint.e",
    }


def test_order_agrees_with_networkx(tmp_path: Path) -> None:
    import networkx as nx

    g = _graph(tmp_path)
    reference = nx.DiGraph()
    reference.add_nodes_from(g.nodes)
    reference.add_edges_from(g.edges)
    assert list(nx.lexicographical_topological_sort(reference)) == g.order()


def test_cycle_is_reported_with_its_path(tmp_path: Path) -> None:
    config = """\
resources:
  model:
    a: {description: "${model.b.id}"}
    b: {description: "${model.c.id}"}
    c:
      depends_on: [model.a]
"""
    with pytest.raises(DiagnosticError) as info:
        _graph(tmp_path, config)
    (diag,) = info.value.diagnostics
    assert diag.summary == "dependency cycle: model.a -> model.b -> model.c -> model.a"
    assert diag.source == Source("ml.yaml", 3, 22)
    assert diag.detail is not None
    assert "model.c depends on model.a at ml.yaml:6:20" in diag.detail
    assert "break the cycle" in (diag.hint or "")


def test_self_reference(tmp_path: Path) -> None:
    with pytest.raises(DiagnosticError) as info:
        _graph(tmp_path, 'resources:\n  model:\n    a: {description: "${model.a.id}"}\n')
    (diag,) = info.value.diagnostics
    assert "refers to itself" in diag.summary and diag.source == Source("ml.yaml", 3, 22)


def test_reference_errors_are_collected(tmp_path: Path) -> None:
    config = """\
resources:
  model:
    a: {description: "${model.nope} ${var.none} ${dataset}"}
    b:
      depends_on: [model.zz]
"""
    with pytest.raises(DiagnosticError) as info:
        _graph(tmp_path, config)
    summaries = [d.summary for d in info.value.diagnostics]
    assert summaries == [
        "reference to undeclared resource `model.nope`",
        "reference to undeclared variable `var.none`",
        "`${dataset}` is not a valid reference",
        "depends_on names undeclared resource `model.zz`",
    ]


def test_did_you_mean_never_suggests_the_resource_itself(tmp_path: Path) -> None:
    config = "resources:\n  model:\n    churn:\n      depends_on: [model.chrun]\n"
    with pytest.raises(DiagnosticError) as info:
        _graph(tmp_path, config)
    assert "model.churn" not in (info.value.diagnostics[0].hint or "")


def test_did_you_mean_across_kinds(tmp_path: Path) -> None:
    config = CONFIG + "  monitor:\n    mon:\n      baseline: ${model.raw}\n"
    with pytest.raises(DiagnosticError) as info:
        _graph(tmp_path, config)
    assert info.value.diagnostics[0].hint == "did you mean `dataset.raw`?"


@pytest.mark.parametrize("fmt", ["dot", "mermaid"])
def test_graph_command(fmt: str, project: Path, run_cli) -> None:
    rc, out, err = run_cli(["graph", "--format", fmt], project)
    assert rc == 0, err
    if fmt == "dot":
        assert out.startswith("digraph")
        # dependent -> dependency, as Terraform draws it
        assert '"feature_group.customer_features" -> "dataset.customers";' in out
        assert '"endpoint.churn_api" -> "model.churn";' in out
        assert '"monitor.churn_drift" -> "endpoint.churn_api";' in out
    else:
        assert out.startswith("flowchart LR")
        ids = dict(
            reversed(line.strip().rstrip('"]').split('["')) for line in out.splitlines() if '["' in line
        )
        assert f"{ids['dataset.customers']} --> {ids['feature_group.customer_features']}" in out
        assert f"{ids['model.churn']} --> {ids['endpoint.churn_api']}" in out
    assert not (project / ".mlops").exists()


def test_graph_command_reports_a_cycle(project: Path, run_cli) -> None:
    (project / "extra.yaml").write_text(
        'resources:\n  model:\n    a: {description: "${model.b.id}"}\n    b: {description: "${model.a.id}"}\n'
    )
    rc, _, err = run_cli(["graph"], project)
    assert rc == 1
    assert "Error: extra.yaml:3:22: dependency cycle: model.a -> model.b -> model.a" in err
