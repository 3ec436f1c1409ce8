"""The static check before any provider call (workspace.check_workspace): bodies that read a
variable are resolved with the variables' values and checked again; an escaped `$${...}` is
checked as the literal it becomes. (Bodies with neither passed the first check already, which
tests/test_kinds_compiled.py shows is enough.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_decl.diagnostics import DiagnosticError
from mlops_decl.workspace import load_workspace

PROJECT = """\
project: t
variables:
  n: {type: string, default: many}
resources:
  model:
    m: {}
  endpoint:
    e:
      model: ${model.m}
      replicas: REPLICAS
"""


def _load(tmp_path: Path, replicas: str) -> list[str]:
    (tmp_path / "mlops.yaml").write_text(PROJECT.replace("REPLICAS", replicas))
    try:
        load_workspace(tmp_path, env={})
    except DiagnosticError as exc:
        return [f"{d.source.line if d.source else '?'}: {d.summary}" for d in exc.diagnostics]
    return []


@pytest.mark.parametrize(
    ("replicas", "wanted"),
    [
        ("2", []),
        ('"${var.n}"', ["10: endpoint.e: replicas: expected a whole number, got 'many'"]),
        ('"$${var.n}"', ["10: endpoint.e: replicas: expected a whole number, got '${var.n}'"]),
        ('"${model.m.latest_version}"', []),  # known at apply: checked then
    ],
)
def test_values_known_before_apply_are_checked(tmp_path: Path, replicas: str, wanted: list[str]) -> None:
    assert _load(tmp_path, replicas) == wanted
