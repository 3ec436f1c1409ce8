"""Two MLflow-based provider instances in one process: each keeps its own tracking and registry
store, and neither changes anything process-wide (MLflow's global URIs, the umask, the
environment)."""

from __future__ import annotations

import logging
import os
import shutil
import sys
import threading
import warnings
from pathlib import Path

from mlops_decl.state.local import LocalStateStore

REPO = Path(__file__).resolve().parents[2]

MLOPS = """\
project: iso
default_provider: local_a
providers:
  local_a: {type: local}
  local_b: {type: local}
"""


def _resources(side: str, instance: str) -> str:
    return f"""\
  dataset:
    customers_{side}: {{uri: data/customers.csv, provider: {instance}}}
  feature_group:
    features_{side}:
      provider: {instance}
      source: "${{dataset.customers_{side}}}"
      entity: [customer_id]
      event_time: ts
      features:
        - {{name: tenure_months, dtype: int}}
        - {{name: monthly_spend, dtype: float}}
  model:
    churn_{side}: {{provider: {instance}}}
  training_pipeline:
    train_{side}:
      provider: {instance}
      inputs: ["${{feature_group.features_{side}}}"]
      label: churned
      estimator: sklearn.linear_model.LogisticRegression
      hyperparameters: {{max_iter: {300 if side == "a" else 400}}}
      registers: "${{model.churn_{side}}}"
"""


def _project(root: Path) -> Path:
    root.mkdir(parents=True)
    shutil.copytree(REPO / "examples" / "quickstart" / "data", root / "data")
    (root / "mlops.yaml").write_text(MLOPS)
    (root / "a.yaml").write_text("resources:\n" + _resources("a", "local_a"))
    (root / "b.yaml").write_text("resources:\n" + _resources("b", "local_b"))
    return root


def _process_wide() -> dict[str, object]:
    """What a provider must leave as it found it: MLflow's global URIs, the environment, the
    umask, logger levels and handler filters, the warning filters, the standard streams."""
    import mlflow

    umask = os.umask(0o022)
    os.umask(umask)
    loggers = {
        name: (
            logging.getLogger(name).level,
            [(h, list(h.filters)) for h in logging.getLogger(name).handlers],
        )
        for name in ("mlflow", "mlflow.sklearn", "mlflow.store", "alembic", "")
    }
    return {
        "tracking_uri": mlflow.get_tracking_uri(),
        "registry_uri": mlflow.get_registry_uri(),
        "environ": dict(os.environ),
        "umask": umask,
        "loggers": loggers,
        "warnings": list(warnings.filters),
        "streams": (sys.stdout, sys.stderr),
        "sys.path": list(sys.path),
    }


def test_two_local_instances_keep_separate_mlflow_stores(tmp_path: Path, run_cli, monkeypatch) -> None:
    import mlflow
    from mlflow.tracking import MlflowClient

    from mlops_decl.runtime import Runtime
    from mlops_decl.workspace import load_workspace

    root = _project(tmp_path / "p")
    rc, out, err = run_cli(["apply", "--auto-approve"], root)
    assert rc == 0, out + err

    # What libraries do when imported is theirs, not a provider's: scikit-learn sets KMP_*
    # variables, alembic gives its logger a NullHandler.
    import alembic.util.messaging  # noqa: F401
    import sklearn  # noqa: F401

    monkeypatch.chdir(tmp_path)  # MLflow's default store is ./mlflow.db: nothing may reach it
    before = _process_wide()
    ws = load_workspace(root)
    rt = Runtime(ws, LocalStateStore(root / ".mlops" / "state.json").read(), emit=lambda m: None)
    results: dict[str, str] = {}
    failures: list[BaseException] = []

    def train(side: str) -> None:
        try:
            results[side] = rt.run(f"training_pipeline.train_{side}").run_id
        except BaseException as exc:  # reported below, in the test's thread
            failures.append(exc)

    threads = [threading.Thread(target=train, args=(side,)) for side in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, failures

    after = _process_wide()  # nothing process-wide moved
    for what, was in before.items():
        assert after[what] == was, (what, was, after[what])
    assert mlflow.active_run() is None

    for side, other in (("a", "b"), ("b", "a")):
        uri = f"sqlite:///{root / '.mlops' / f'local_{side}' / 'mlflow.db'}"
        client = MlflowClient(tracking_uri=uri, registry_uri=uri)
        names = {m.name for m in client.search_registered_models()}
        assert names == {f"churn_{side}"}, (side, names)
        (version,) = client.search_model_versions(f"name='churn_{side}'")
        run = client.get_run(version.run_id)
        assert run.info.status == "FINISHED"
        assert run.data.params["max_iter"] == ("300" if side == "a" else "400")  # this side's run
        assert run.data.tags["mlops_decl.pipeline"] == f"train_{side}"
        assert run.data.metrics, run.data.metrics
        experiments = {e.name for e in client.search_experiments()}
        assert f"iso/train_{side}" in experiments and f"iso/train_{other}" not in experiments
        artifacts = root / ".mlops" / f"local_{side}" / "mlartifacts"
        assert any(artifacts.rglob("MLmodel")), f"no model artifacts under {artifacts}"
        assert any(artifacts.rglob("eval.parquet"))
        assert results[side] == version.run_id
    for where in (root, tmp_path):
        assert not {"mlruns", "mlartifacts", "mlflow.db"} & {p.name for p in where.iterdir()}
